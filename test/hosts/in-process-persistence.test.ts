// createEngine({ dir }): an in-process engine that persists every write to the same AOF + snapshot
// files the server uses, replays them on open, refuses a second owner, and flushes on close.
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createEngine } from '../../bindings/entry.node.ts';
import { MemoryStorage } from '../../hosts/shared/memory-storage.ts';
import { StorageLockedError } from '../../hosts/shared/storage.ts';

const dirs: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'rivulet-inproc-'));
  dirs.push(d);
  return d;
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('createEngine({ dir })', () => {
  it('persists every write to the AOF and replays it on open', async () => {
    const dir = tempDir();
    const clock = () => 1_700_000_000_000;
    const a = await createEngine({ dir, appendfsync: 'always', clock });
    const c = a.connect();
    const ids = [c.xadd('s', { temp: 1 }), c.xadd('s', { temp: 2 })];
    c.call('XGROUP', 'CREATE', 's', 'g', '0');
    c.call('XREADGROUP', 'GROUP', 'g', 'alice', 'COUNT', '1', 'STREAMS', 's', '>');
    const before = c.callRaw('XINFO', 'STREAM', 's', 'FULL');
    // under always, the AOF holds the writes as soon as the calls returned
    const aof = readFileSync(join(dir, 'appendonly.aof'), 'latin1');
    expect(aof).toContain(ids[1]);
    await a.close();
    const b = await createEngine({ dir, clock });
    const d = b.connect();
    expect(d.xlen('s')).toBe(2);
    const show = (b: unknown) => new TextDecoder().decode(b as Uint8Array).split('\r\n');
    expect(show(d.callRaw('XINFO', 'STREAM', 's', 'FULL'))).toEqual(show(before));
    await b.close();
  });

  it('refuses a second owner of the directory, naming the holder; close releases it', async () => {
    const dir = tempDir();
    const a = await createEngine({ dir });
    await expect(createEngine({ dir })).rejects.toThrow(StorageLockedError);
    await expect(createEngine({ dir })).rejects.toThrow(/in use by this process \(pid \d+/);
    await a.close();
    const b = await createEngine({ dir });
    await b.close();
  });

  it('takes over a stale lock left by a dead process', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'rivulet.pid'), '999999999\nsomebody\n');
    const a = await createEngine({ dir });
    expect(readFileSync(join(dir, 'rivulet.pid'), 'latin1').split('\n')[0]).toBe(String(process.pid));
    await a.close();
    expect(existsSync(join(dir, 'rivulet.pid'))).toBe(false);
  });

  it('SAVE and BGREWRITEAOF in-process write the snapshot and compact the AOF', async () => {
    const dir = tempDir();
    const a = await createEngine({ dir });
    const c = a.connect();
    for (let i = 0; i < 100; i++) c.xadd('s', { i });
    c.call('XTRIM', 's', 'MAXLEN', '10');
    const saved = c.call('SAVE');
    expect(saved).toBeInstanceOf(Promise); // SAVE answers once the snapshot is on disk
    expect(await saved).toBe('OK');
    expect(existsSync(join(dir, 'dump.rvs'))).toBe(true);
    c.call('BGREWRITEAOF');
    for (let i = 0; i < 50 && !readFileSync(join(dir, 'appendonly.aof'), 'latin1').startsWith('*3\r\n$16\r\nRIVULET.SNAPSHOT'); i++) {
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(readFileSync(join(dir, 'appendonly.aof'), 'latin1').startsWith('*3\r\n$16\r\nRIVULET.SNAPSHOT')).toBe(true);
    c.xadd('s', { after: 'rewrite' });
    await a.close();
    const b = await createEngine({ dir });
    expect(b.connect().xlen('s')).toBe(11);
    await b.close();
  });
});

describe('persistence over any storage', () => {
  it('an in-memory storage holds the same AOF bytes and reloads', async () => {
    const storage = new MemoryStorage();
    const a = await createEngine({ storage, appendfsync: 'always' });
    const c = a.connect();
    c.xadd('s', { a: 1 });
    expect(storage.syncs).toBeGreaterThan(0);
    await a.close();
    expect(new TextDecoder().decode(storage.contents('appendonly.aof'))).toContain('XADD');
    const b = await createEngine({ storage });
    expect(b.connect().xlen('s')).toBe(1);
    await b.close();
  });
});
