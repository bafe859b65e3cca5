/**
 * The storage interface over a directory with Node's synchronous fs calls: appends are write(2),
 * sync is fdatasync(2), replace is rename(2) followed by an fsync of the directory, so a completed
 * replace survives a power cut. Everything is synchronous (the server and the in-process engine
 * persist before they answer), except `syncInBackground` for appendfsync everysec.
 *
 * The lock is `<dir>/rivulet.pid`, created exclusively and holding the owner's pid. A lock whose
 * pid no longer runs (the owner was killed) is taken over; a live one is an error naming it.
 */
import { accessSync, closeSync, constants as fsc, existsSync, fdatasync, fdatasyncSync, fstatSync, fsyncSync, ftruncateSync } from 'node:fs';
import { mkdirSync, openSync, readdirSync, readFileSync, readSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { StorageLockedError, type Storage, type StorageLock, type WriteHandle } from '../shared/storage.js';

export const LOCK_FILE = 'rivulet.pid';

/** fsync(2) on a directory, so a rename or a new file in it is durable. */
export function fsyncDir(dir: string): void {
  let fd = -1;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch (e) {
    // some filesystems refuse fsync on directories (EINVAL); nothing more can be done there
    if ((e as NodeJS.ErrnoException).code !== 'EINVAL') throw e;
  } finally {
    if (fd >= 0) closeSync(fd);
  }
}

/** Directories locked by this process (a second engine in the same process is refused too). */
const lockedHere = new Set<string>();

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

class FileHandle implements WriteHandle {
  size: number;
  constructor(private fd: number) {
    this.size = fstatSync(fd).size;
  }

  append(bytes: Uint8Array): void {
    let off = 0;
    while (off < bytes.length) off += writeSync(this.fd, bytes, off, bytes.length - off);
    this.size += bytes.length;
  }

  sync(): void {
    fdatasyncSync(this.fd);
  }

  syncInBackground(): Promise<void> {
    return new Promise((res, rej) => fdatasync(this.fd, (err) => (err ? rej(err) : res())));
  }

  close(): void {
    if (this.fd < 0) return;
    closeSync(this.fd);
    this.fd = -1;
  }
}

export class FileStorage implements Storage {
  readonly dir: string;
  readonly location: string;

  /** Creates the directory if missing; throws a clear error when it cannot be used. */
  constructor(dir: string) {
    this.dir = resolve(dir);
    this.location = dir;
    try {
      mkdirSync(this.dir, { recursive: true });
      accessSync(this.dir, fsc.W_OK | fsc.R_OK);
    } catch (e) {
      throw new Error(`Can't use the data directory ${dir}: ${(e as Error).message}`);
    }
  }

  path(name: string): string {
    return join(this.dir, name);
  }

  size(name: string): number {
    try {
      return statSync(this.path(name)).size;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return -1;
      throw e;
    }
  }

  read(name: string, offset: number, length: number): Uint8Array {
    const fd = openSync(this.path(name), 'r');
    try {
      const buf = Buffer.allocUnsafe(length);
      let got = 0;
      while (got < length) {
        const n = readSync(fd, buf, got, length - got, offset + got);
        if (n === 0) break;
        got += n;
      }
      return got === length ? buf : buf.subarray(0, got);
    } finally {
      closeSync(fd);
    }
  }

  openAppend(name: string): WriteHandle {
    const isNew = !existsSync(this.path(name));
    const h = new FileHandle(openSync(this.path(name), 'a'));
    if (isNew) fsyncDir(this.dir);
    return h;
  }

  create(name: string): WriteHandle {
    return new FileHandle(openSync(this.path(name), 'w'));
  }

  replace(from: string, to: string): void {
    renameSync(this.path(from), this.path(to));
    fsyncDir(this.dir);
  }

  truncate(name: string, length: number): void {
    const fd = openSync(this.path(name), 'r+');
    try {
      ftruncateSync(fd, length);
      fdatasyncSync(fd);
    } finally {
      closeSync(fd);
    }
  }

  remove(name: string): void {
    try {
      unlinkSync(this.path(name));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
  }

  list(): string[] {
    return readdirSync(this.dir);
  }

  lock(owner: string): StorageLock {
    const file = this.path(LOCK_FILE);
    if (lockedHere.has(this.dir)) throw new StorageLockedError(this.location, `this process (pid ${process.pid}: ${owner})`);
    for (let attempt = 0; ; attempt++) {
      try {
        const fd = openSync(file, 'wx');
        writeSync(fd, `${process.pid}\n${owner}\n`);
        fdatasyncSync(fd);
        closeSync(fd);
        break;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 2) throw e;
        let text = '';
        try {
          text = readFileSync(file, 'latin1');
        } catch {
          continue; // removed meanwhile: try again
        }
        const pid = Number.parseInt(text, 10);
        if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && alive(pid)) {
          throw new StorageLockedError(this.location, `pid ${pid}${text.split('\n')[1] ? ` (${text.split('\n')[1]})` : ''}`);
        }
        // a stale lock: its owner is gone (killed, crashed); take it over
        try {
          unlinkSync(file);
        } catch {
          /* raced with another taker: the next attempt decides */
        }
      }
    }
    lockedHere.add(this.dir);
    return {
      release: () => {
        lockedHere.delete(this.dir);
        try {
          const text = readFileSync(file, 'latin1');
          if (Number.parseInt(text, 10) === process.pid) unlinkSync(file);
        } catch {
          /* already gone */
        }
      },
    };
  }
}
