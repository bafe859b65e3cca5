/**
 * Persistence of the browser host in real Chromium, with appendfsync always: every write the page
 * saw acknowledged is there after a page reload (the worker dies with the page, nothing closed),
 * after a browser restart on the same profile, and after the browser was killed (SIGKILL) in the
 * middle of writing; a torn last AOF record is cut off at load with the Redis-style warning and
 * writing goes on after it; one tab owns a dataset (a second openEngine of it rejects with
 * StorageLockedError until the first closes). OPFS and IndexedDB alike where it applies.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Page } from 'playwright-core';
import { launchChromium, type Chromium } from './support/chromium.ts';
import { startStaticServer, type StaticServer } from './support/static-server.ts';

const ROOT = resolve(import.meta.dirname, '../..');
let srv: StaticServer;
let profile: string;

beforeAll(async () => {
  srv = await startStaticServer({ mounts: { '/': resolve(import.meta.dirname, 'pages'), '/dist/': resolve(ROOT, 'dist') } });
  profile = mkdtempSync(join(tmpdir(), 'rivulet-profile-'));
});

afterAll(async () => {
  await srv?.stop();
  rmSync(profile, { recursive: true, force: true });
});

type Rv = {
  open(o: object): Promise<{ storage: string; location: string; persisted: boolean | null }>;
  write(key: string, n: number, tag: string): Promise<string[]>;
  writeForever(key: string): void;
  ids(key: string): Promise<string[]>;
  call(...args: string[]): Promise<unknown>;
  close(): Promise<void>;
  opfsAppend(name: string, file: string, text: string): Promise<{ before: number; after: number }>;
};
const rv = (page: Page) => ({
  open: (o: object) => page.evaluate((o) => (window as unknown as { rv: Rv }).rv.open(o), o),
  write: (key: string, n: number, tag: string) => page.evaluate(([k, n, t]) => (window as unknown as { rv: Rv }).rv.write(k, n, t), [key, n, tag] as const),
  ids: (key: string) => page.evaluate((k) => (window as unknown as { rv: Rv }).rv.ids(k), key),
  call: (...args: string[]) => page.evaluate((a) => (window as unknown as { rv: Rv }).rv.call(...a), args),
  close: () => page.evaluate(() => (window as unknown as { rv: Rv }).rv.close()),
  opfsAppend: (name: string, file: string, text: string) =>
    page.evaluate(([n, f, t]) => (window as unknown as { rv: Rv }).rv.opfsAppend(n, f, t), [name, file, text] as const),
  logs: () => page.evaluate(() => (window as unknown as { logs: string[] }).logs),
});

async function openPage(chrome: Chromium): Promise<Page> {
  const page = await chrome.context.newPage();
  page.on('pageerror', (e) => console.error('persist page:', e));
  await page.goto(srv.url('/persist.html'));
  await page.waitForFunction(() => (window as unknown as { ready?: boolean }).ready === true);
  return page;
}

const STORAGES = ['opfs', 'indexeddb'] as const;

describe('browser persistence (appendfsync always)', () => {
  // One profile, one browser at a time, phases in order (each builds on the data of the last).
  let chrome: Chromium;
  let page: Page;
  const written: Record<string, string[]> = {};

  beforeAll(async () => {
    chrome = await launchChromium({ userDataDir: profile });
  }, 60_000);

  afterAll(async () => {
    await chrome?.stop();
  });

  it('a page reload (the worker dies with the page, nothing closed) keeps every acknowledged write', async () => {
    for (const storage of STORAGES) {
      page = await openPage(chrome);
      expect(await rv(page).open({ name: `p-${storage}`, storage })).toMatchObject({ storage, persisted: expect.any(Boolean) });
      written[storage] = await rv(page).write('s', 50, 'before-reload');
      await page.reload();
      await page.waitForFunction(() => (window as unknown as { ready?: boolean }).ready === true);
      await rv(page).open({ name: `p-${storage}`, storage });
      expect(await rv(page).ids('s')).toEqual(written[storage]);
      written[storage].push(...(await rv(page).write('s', 20, 'before-restart')));
      await rv(page).close();
      await page.close();
    }
  }, 60_000);

  it('a browser restart on the same profile keeps the data', async () => {
    await chrome.stop();
    chrome = await launchChromium({ userDataDir: profile });
    for (const storage of STORAGES) {
      page = await openPage(chrome);
      await rv(page).open({ name: `p-${storage}`, storage });
      expect(await rv(page).ids('s')).toEqual(written[storage]);
      await rv(page).close();
      await page.close();
    }
  }, 60_000);

  it('a browser killed (SIGKILL) while writing keeps every write the page saw acknowledged', async () => {
    const acked: Record<string, string[]> = {};
    for (const storage of STORAGES) {
      const p = await openPage(chrome);
      await rv(p).open({ name: `p-${storage}`, storage });
      const list: string[] = (acked[storage] = []);
      p.on('console', (m) => {
        const t = m.text();
        if (t.startsWith('ack ')) list.push(t.slice(4));
      });
      await p.evaluate(() => (window as unknown as { rv: Rv }).rv.writeForever('w'));
    }
    const t0 = Date.now();
    while (STORAGES.some((s) => acked[s].length < 200) && Date.now() - t0 < 30_000) await new Promise((r) => setTimeout(r, 20));
    for (const s of STORAGES) expect(acked[s].length).toBeGreaterThanOrEqual(200);
    await chrome.kill();
    const seen = Object.fromEntries(STORAGES.map((s) => [s, [...acked[s]]]));
    chrome = await launchChromium({ userDataDir: profile });
    for (const storage of STORAGES) {
      page = await openPage(chrome);
      await rv(page).open({ name: `p-${storage}`, storage });
      const after = await rv(page).ids('w');
      expect(after.length).toBeGreaterThanOrEqual(seen[storage].length);
      expect(after.slice(0, seen[storage].length)).toEqual(seen[storage]);
      expect(await rv(page).ids('s')).toEqual(written[storage]);
      await rv(page).close();
      await page.close();
    }
  }, 90_000);

  it('one tab owns a dataset: a second openEngine of the same name rejects, naming the lock, until the first closes', async () => {
    for (const storage of STORAGES) {
      const a = await openPage(chrome);
      const b = await openPage(chrome);
      await rv(a).open({ name: `lock-${storage}`, storage });
      const ids = await rv(a).write('s', 3, 'owner');
      const refused = await b.evaluate(
        (o) => (window as unknown as { rv: Rv }).rv.open(o).then(() => 'opened', (e: Error) => `${e.name}: ${e.message}`),
        { name: `lock-${storage}`, storage },
      );
      expect(refused).toMatch(/^StorageLockedError: rivulet: the data directory (opfs:\/rivulet|indexeddb:rivulet:)\/?lock-.* is in use by another tab or worker of this origin/);
      await rv(a).close();
      await rv(b).open({ name: `lock-${storage}`, storage });
      expect(await rv(b).ids('s')).toEqual(ids);
      await rv(b).close();
      await a.close();
      await b.close();
    }
  }, 60_000);

  it('opfs: a torn last record is cut off at load, with the warning; writing goes on after it', async () => {
    page = await openPage(chrome);
    await rv(page).open({ name: 'torn', storage: 'opfs' });
    const ids = await rv(page).write('s', 10, 'x');
    await rv(page).close();
    // half a record: the start of an XADD whose last bulk string never arrived
    const torn = '*5\r\n$4\r\nXADD\r\n$1\r\ns\r\n$3\r\n9-9\r\n$1\r\nf\r\n$10\r\nonly';
    const { before, after } = await rv(page).opfsAppend('torn', 'appendonly.aof', torn);
    expect(after - before).toBe(torn.length);
    await rv(page).open({ name: 'torn', storage: 'opfs' });
    expect(await rv(page).ids('s')).toEqual(ids);
    const logs = (await rv(page).logs()).join('');
    expect(logs).toContain('ends with a torn record');
    expect(logs).toContain(`truncating ${torn.length} bytes at offset ${before}`);
    const more = await rv(page).write('s', 3, 'y');
    await rv(page).close();
    await rv(page).open({ name: 'torn', storage: 'opfs' });
    expect(await rv(page).ids('s')).toEqual([...ids, ...more]);
    expect((await rv(page).logs()).join('').split('ends with a torn record').length).toBe(2); // the second load found none
    await rv(page).close();
  }, 60_000);
});
