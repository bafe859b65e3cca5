/**
 * One owner per dataset across every tab and worker of an origin: a Web Lock held for as long as
 * the storage is open (`navigator.locks.request(name, { ifAvailable: true })` yields null while
 * another context holds it). Shared by the OPFS and IndexedDB storages.
 */
import { StorageLockedError, type StorageLock } from '../shared/storage.js';

export function takeWebLock(lockName: string, location: string): Promise<StorageLock> {
  const locks = (globalThis.navigator as Navigator | undefined)?.locks;
  if (!locks) return Promise.reject(new Error(`rivulet: ${location} needs the Web Locks API (navigator.locks) to have one owner at a time`));
  return new Promise<StorageLock>((resolve, reject) => {
    locks
      .request(lockName, { ifAvailable: true }, (lock) => {
        if (!lock) {
          reject(new StorageLockedError(location, 'another tab or worker of this origin'));
          return undefined;
        }
        // held until release() resolves this promise
        return new Promise<void>((release) => resolve({ release: () => release() }));
      })
      .catch(reject);
  });
}
