/**
 * Persistence of the Rivulet server: AOF replay across restarts, clean exits (SIGTERM, SIGINT,
 * SHUTDOWN), torn tails (incomplete frame, MULTI without EXEC, NUL tail) truncated with a warning,
 * corrupt middles and failing commands refusing start-up with the offset, AOF rewrite (BGREWRITEAOF,
 * automatic, while writes continue), SAVE/BGSAVE snapshots, turning the AOF on at run time, and
 * `rivulet check-aof`.
 */
import { describe, it, expect, afterAll } from 'vitest';
import { appendFileSync, readFileSync, writeFileSync, statSync, existsSync, copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { Redis as IORedis } from 'ioredis';
import { startRivulet, runCli, cleanupTempDirs, tempDir, sleep, type Rivulet } from './support.ts';

afterAll(() => cleanupTempDirs());

function client(srv: Rivulet): IORedis {
  return new IORedis({ port: srv.port, host: '127.0.0.1', maxRetriesPerRequest: 0 });
}

async function withClient<T>(srv: Rivulet, fn: (r: IORedis) => Promise<T>): Promise<T> {
  const r = client(srv);
  try {
    return await fn(r);
  } finally {
    r.disconnect();
  }
}

/** A dataset with streams in two databases, groups, pending entries, deletions and a trim. */
async function populate(r: IORedis): Promise<void> {
  for (let i = 1; i <= 50; i++) await r.xadd('s1', `${i}-1`, 'n', String(i), 'blob', 'x'.repeat(i));
  await r.xdel('s1', '10-1', '11-1');
  await r.xgroup('CREATE', 's1', 'g1', '0');
  await r.xreadgroup('GROUP', 'g1', 'alice', 'COUNT', '5', 'STREAMS', 's1', '>');
  await r.xreadgroup('GROUP', 'g1', 'bob', 'COUNT', '3', 'STREAMS', 's1', '>');
  await r.xack('s1', 'g1', '2-1');
  await r.xgroup('CREATECONSUMER', 's1', 'g1', 'carol');
  await r.xadd('s2', 'MAXLEN', '10', '*', 'a', 'b');
  for (let i = 0; i < 30; i++) await r.xadd('s2', 'MAXLEN', '10', '*', 'i', String(i));
  await r.select(3);
  await r.xadd('db3', '5-5', 'k', 'v');
  await r.set('plain', 'string value');
  await r.select(0);
}

/** Everything observable about the dataset (deterministic parts). */
async function dump(r: IORedis): Promise<unknown> {
  const out: Record<string, unknown> = {};
  for (const db of [0, 3]) {
    await r.select(db);
    const keys = (await r.keys('*')).sort();
    for (const k of keys) {
      const t = await r.type(k);
      if (t !== 'stream') {
        out[`${db}:${k}`] = await r.get(k);
        continue;
      }
      const info = (await r.call('XINFO', 'STREAM', k, 'FULL')) as unknown[];
      out[`${db}:${k}`] = JSON.stringify(info, (_k, v) => (typeof v === 'number' && v > 1e12 ? 'T' : v)).replace(
        /"radix-tree-nodes",\d+/,
        '',
      );
      out[`${db}:${k}:range`] = await r.xrange(k, '-', '+');
    }
  }
  await r.select(0);
  return out;
}

describe('AOF across restarts', () => {
  it('keeps every stream, group and pending entry across SIGTERM, SIGINT and SHUTDOWN (exit 0)', async () => {
    let srv = await startRivulet();
    const dir = srv.dir;
    await withClient(srv, populate);
    const before = await withClient(srv, dump);
    expect(await srv.stop()).toBe(0);
    expect(srv.output()).toContain('Calling fsync() on the AOF file.');
    expect(srv.output()).toContain('ready to exit');

    srv = await startRivulet({ dir });
    expect(srv.output()).toMatch(/DB loaded from append only file: [\d.]+ seconds, 4 keys, 59 stream entries/);
    expect(await withClient(srv, dump)).toEqual(before);
    // SIGINT
    process.kill(srv.pid, 'SIGINT');
    expect(await srv.exited).toBe(0);

    srv = await startRivulet({ dir });
    expect(await withClient(srv, dump)).toEqual(before);
    // SHUTDOWN from a client
    await withClient(srv, async (r) => {
      await r.xadd('s1', '100-1', 'after', 'restart');
      await r.call('SHUTDOWN').catch(() => {});
    });
    expect(await srv.exited).toBe(0);
    expect(srv.output()).toContain('User requested shutdown');

    srv = await startRivulet({ dir });
    const after = (await withClient(srv, dump)) as Record<string, unknown>;
    expect((after['0:s1:range'] as unknown[]).length).toBe(49);
    expect(await srv.stop()).toBe(0);
  });

  it('truncates a torn last record with a warning and keeps what came before', async () => {
    let srv = await startRivulet();
    const dir = srv.dir;
    const aof = join(dir, 'appendonly.aof');
    await withClient(srv, async (r) => {
      for (let i = 1; i <= 10; i++) await r.xadd('s', `${i}-0`, 'f', String(i));
    });
    expect(await srv.stop()).toBe(0);
    const good = statSync(aof).size;

    // 1. an incomplete frame at EOF
    appendFileSync(aof, '*5\r\n$4\r\nXADD\r\n$1\r\ns\r\n$4\r\n11-0\r\n$1\r\nf');
    srv = await startRivulet({ dir });
    expect(srv.output()).toMatch(/torn record \(the last record is incomplete/);
    expect(srv.output()).toContain(`at offset ${good}`);
    expect(statSync(aof).size).toBe(good);
    expect(await withClient(srv, (r) => r.xlen('s'))).toBe(10);
    expect(await srv.stop()).toBe(0);

    // 2. a MULTI without EXEC at EOF (complete commands inside, never executed)
    appendFileSync(aof, '*1\r\n$5\r\nMULTI\r\n*5\r\n$4\r\nXADD\r\n$1\r\ns\r\n$4\r\n11-0\r\n$1\r\nf\r\n$1\r\nv\r\n');
    srv = await startRivulet({ dir });
    expect(srv.output()).toContain('a MULTI without EXEC at the end of the file');
    expect(statSync(aof).size).toBe(good);
    expect(await withClient(srv, (r) => r.xlen('s'))).toBe(10);
    expect(await srv.stop()).toBe(0);

    // 3. a NUL-filled tail (a crash after the file grew but before the data landed)
    appendFileSync(aof, Buffer.alloc(4096));
    srv = await startRivulet({ dir });
    expect(srv.output()).toContain('NUL bytes');
    expect(statSync(aof).size).toBe(good);
    expect(await withClient(srv, (r) => r.xlen('s'))).toBe(10);
    // appending after the truncation works and survives the next restart
    await withClient(srv, (r) => r.xadd('s', '11-0', 'f', '11'));
    expect(await srv.stop()).toBe(0);
    srv = await startRivulet({ dir });
    expect(await withClient(srv, (r) => r.xlen('s'))).toBe(11);
    expect(await srv.stop()).toBe(0);

    // 4. aof-load-truncated no: refuse instead
    appendFileSync(aof, '*2\r\n$4\r\nXL');
    const r = runCli(['serve', '--port', '0', '--dir', dir, '--aof-load-truncated', 'no']);
    expect(r.code).toBe(1);
    expect(r.out).toContain('torn record');
  });

  it('refuses to start on a corrupt middle, naming the offset; check-aof --fix repairs', async () => {
    const srv = await startRivulet();
    const dir = srv.dir;
    const aof = join(dir, 'appendonly.aof');
    await withClient(srv, async (r) => {
      for (let i = 1; i <= 5; i++) await r.xadd('s', `${i}-0`, 'f', String(i));
    });
    expect(await srv.stop()).toBe(0);
    const original = readFileSync(aof);
    // garbage in the middle: replace the '*' of the 4th command
    const text = original.toString('latin1');
    let at = -1;
    for (let k = 0, p = 0; k < 4; k++) at = p = text.indexOf('*5\r\n', p + 1);
    const bad = Buffer.from(original);
    bad[at] = 0x21; // '!'
    writeFileSync(aof, bad);
    let r = runCli(['serve', '--port', '0', '--dir', dir]);
    expect(r.code).toBe(1);
    expect(r.out).toContain(`Bad file format reading the append only file ${aof} at offset ${at}`);
    // check-aof reports, --fix truncates before the bad record
    r = runCli(['check-aof', aof]);
    expect(r.code).toBe(1);
    expect(r.out).toContain(`at offset ${at}`);
    r = runCli(['check-aof', '--fix', aof]);
    expect(r.code).toBe(0);
    expect(statSync(aof).size).toBe(at);
    const fixed = await startRivulet({ dir });
    expect(await withClient(fixed, (c) => c.xlen('s'))).toBe(3);
    expect(await fixed.stop()).toBe(0);

    // a well-formed command that fails on replay (ID not greater than the last) is corruption too
    const failing = '*5\r\n$4\r\nXADD\r\n$1\r\ns\r\n$3\r\n1-0\r\n$1\r\nf\r\n$1\r\nv\r\n';
    const before = statSync(aof).size;
    appendFileSync(aof, failing + '*3\r\n$4\r\nXDEL\r\n$1\r\ns\r\n$3\r\n1-0\r\n');
    r = runCli(['serve', '--port', '0', '--dir', dir]);
    expect(r.code).toBe(1);
    expect(r.out).toContain(`at offset ${before}`);
    expect(r.out).toContain('replaying XADD s 1-0 f v failed: ERR The ID specified in XADD is equal or smaller');
  });
});

describe('loading progress', () => {
  it('logs progress lines while loading a large file', async () => {
    let srv = await startRivulet();
    const dir = srv.dir;
    await withClient(srv, async (r) => {
      const p = r.pipeline();
      for (let i = 0; i < 100000; i++) p.xadd('prog', '*', 'f', 'y'.repeat(80));
      await p.exec();
    });
    expect(await srv.stop()).toBe(0);
    expect(statSync(join(dir, 'appendonly.aof')).size).toBeGreaterThan(8 << 20);
    srv = await startRivulet({ dir, env: { RIVULET_LOAD_PROGRESS_MS: '0' } });
    expect(srv.output()).toMatch(/Loading AOF: \d+% \([\d.]+ MB of [\d.]+ MB, \d+ commands\)/);
    expect(srv.output()).toMatch(/DB loaded from append only file: [\d.]+ seconds, 1 keys, 100000 stream entries/);
    expect(await srv.stop()).toBe(0);
  });
});

describe('AOF rewrite', () => {
  it('BGREWRITEAOF compacts to a snapshot while writes continue; restart sees everything', async () => {
    let srv = await startRivulet();
    const dir = srv.dir;
    const aof = join(dir, 'appendonly.aof');
    const r = client(srv);
    // a dataset big enough that the snapshot is written over several event-loop turns
    const pipe = r.pipeline();
    for (let i = 0; i < 60000; i++) pipe.xadd('big', '*', 'field', 'v'.repeat(100));
    await pipe.exec();
    for (let i = 0; i < 2000; i++) await r.xdel('big', (await r.xrange('big', '-', '+', 'COUNT', 1))[0][0]);
    const sizeBefore = statSync(aof).size;
    expect(await r.bgrewriteaof()).toBe('Background append only file rewriting started');
    // keep writing while the rewrite runs
    const during: string[] = [];
    for (let i = 0; i < 300; i++) during.push((await r.xadd('during', '*', 'i', String(i)))!);
    for (let k = 0; k < 200; k++) {
      const info = await r.info('persistence');
      if (info.includes('aof_rewrite_in_progress:0') && /aof_rewrites:1/.test(info)) break;
      await sleep(50);
    }
    expect(await r.info('persistence')).toMatch(/aof_rewrites:1/);
    for (let i = 0; i < 50; i++) during.push((await r.xadd('during', '*', 'i', String(300 + i)))!);
    const lenBig = await r.xlen('big');
    r.disconnect();
    const head = readFileSync(aof).subarray(0, 64).toString('latin1');
    expect(head).toMatch(/^\*3\r\n\$16\r\nRIVULET\.SNAPSHOT\r\n\$1\r\n1\r\n/);
    expect(statSync(aof).size).toBeLessThan(sizeBefore);
    expect(srv.output()).toContain('Background AOF rewrite finished successfully');
    await srv.kill9(); // no clean shutdown: the rewritten file must stand on its own
    srv = await startRivulet({ dir });
    await withClient(srv, async (c) => {
      expect(await c.xlen('big')).toBe(lenBig);
      expect((await c.xrange('during', '-', '+')).map(([id]) => id)).toEqual(during);
    });
    expect(await srv.stop()).toBe(0);
  });

  it('rewrites automatically past auto-aof-rewrite-min-size / percentage', async () => {
    const srv = await startRivulet({ args: ['--auto-aof-rewrite-min-size', '1mb', '--auto-aof-rewrite-percentage', '100'] });
    await withClient(srv, async (r) => {
      for (let round = 0; round < 10; round++) {
        const p = r.pipeline();
        for (let i = 0; i < 2000; i++) p.xadd('auto', 'MAXLEN', '100', '*', 'f', 'x'.repeat(100));
        await p.exec();
      }
      for (let k = 0; k < 100 && !/aof_rewrites:[1-9]/.test(await r.info('persistence')); k++) await sleep(50);
      expect(await r.info('persistence')).toMatch(/aof_rewrites:[1-9]/);
    });
    expect(srv.output()).toMatch(/rewriting started \(automatic, \d+% growth\)/);
    // the writes outran the once-a-second check: the next check rewrites again, and a rewritten
    // MAXLEN 100 stream is small
    const aofPath = join(srv.dir, 'appendonly.aof');
    for (let k = 0; k < 100 && statSync(aofPath).size >= 1 << 20; k++) await sleep(50);
    expect(statSync(aofPath).size).toBeLessThan(1 << 20);
    expect(await srv.stop()).toBe(0);
  });
});

describe('snapshots', () => {
  it('SAVE and BGSAVE write dump.rvs (header with format and build); appendonly no loads it', async () => {
    let srv = await startRivulet({ args: ['--appendonly', 'no'] });
    const dir = srv.dir;
    const dumpPath = join(dir, 'dump.rvs');
    let build = '';
    await withClient(srv, async (r) => {
      await populate(r);
      expect(await r.save()).toBe('OK');
      // SAVE replied only after the file was durable and in place
      expect(existsSync(dumpPath)).toBe(true);
      build = /engine_build:(\S+)/.exec(await r.info('server'))![1];
      await r.xadd('s1', '200-1', 'more', 'data');
      expect(await r.bgsave()).toBe('Background saving started');
      for (let k = 0; k < 100 && !/rdb_saves:2/.test(await r.info('persistence')); k++) await sleep(20);
      expect(await r.info('persistence')).toMatch(/rdb_saves:2/);
    });
    const head = readFileSync(dumpPath).subarray(0, 80).toString('latin1');
    expect(head.startsWith(`*3\r\n$16\r\nRIVULET.SNAPSHOT\r\n$1\r\n1\r\n$${build.length}\r\n${build}\r\n`)).toBe(true);
    const before = await withClient(srv, dump);
    expect(existsSync(join(dir, 'appendonly.aof'))).toBe(false);
    await srv.kill9();
    srv = await startRivulet({ dir, args: ['--appendonly', 'no'] });
    expect(srv.output()).toContain('DB loaded from snapshot');
    expect(await withClient(srv, dump)).toEqual(before);
    expect(await srv.stop()).toBe(0);

    // appendonly yes with only a snapshot: loads it and creates the AOF from it
    srv = await startRivulet({ dir });
    expect(srv.output()).toContain('Creating');
    expect(existsSync(join(dir, 'appendonly.aof'))).toBe(true);
    await srv.kill9();
    copyFileSync(dumpPath, join(dir, 'dump.old'));
    writeFileSync(dumpPath, ''); // the AOF alone must now carry the data
    srv = await startRivulet({ dir });
    expect(srv.output()).toContain('DB loaded from append only file');
    expect(await withClient(srv, dump)).toEqual(before);
    expect(await srv.stop()).toBe(0);
  });

  it('save points trigger a background save; SHUTDOWN SAVE / NOSAVE', async () => {
    const srv = await startRivulet({ args: ['--appendonly', 'no', '--save', '1 5'] });
    const dumpPath = join(srv.dir, 'dump.rvs');
    await withClient(srv, async (r) => {
      for (let i = 0; i < 5; i++) await r.xadd('sp', '*', 'i', String(i));
      for (let k = 0; k < 100 && !existsSync(dumpPath); k++) await sleep(50);
    });
    expect(existsSync(dumpPath)).toBe(true);
    expect(srv.output()).toContain('5 changes in 1 seconds');
    await withClient(srv, async (r) => {
      await r.xadd('sp', '*', 'last', 'one');
      await r.call('SHUTDOWN', 'SAVE').catch(() => {});
    });
    expect(await srv.exited).toBe(0);
    expect(srv.output()).toContain('Saving the final snapshot');
    const again = await startRivulet({ dir: srv.dir, args: ['--appendonly', 'no'] });
    expect(await withClient(again, (r) => r.xlen('sp'))).toBe(6);
    await withClient(again, async (r) => {
      await r.xadd('sp', '*', 'lost', 'on purpose');
      await r.call('SHUTDOWN', 'NOSAVE').catch(() => {});
    });
    expect(await again.exited).toBe(0);
    expect(again.output()).not.toContain('Saving the final snapshot');
  });

  it('CONFIG SET appendonly yes at run time creates the AOF; appendfsync changes apply', async () => {
    let srv = await startRivulet({ args: ['--appendonly', 'no'] });
    const dir = srv.dir;
    const aof = join(dir, 'appendonly.aof');
    await withClient(srv, async (r) => {
      await r.xadd('rt', '1-1', 'a', 'b');
      expect(await r.config('SET', 'appendonly', 'yes')).toBe('OK');
      await r.xadd('rt', '2-1', 'c', 'd');
      for (let k = 0; k < 100 && !existsSync(aof); k++) await sleep(20);
      await r.xadd('rt', '3-1', 'e', 'f');
      expect(await r.config('SET', 'appendfsync', 'always')).toBe('OK');
      await r.xadd('rt', '4-1', 'g', 'h');
      expect((await r.info('persistence')).includes('aof_enabled:1')).toBe(true);
    });
    expect(srv.output()).toContain('appendfsync is now always');
    await srv.kill9();
    srv = await startRivulet({ dir });
    expect(await withClient(srv, (r) => r.xrange('rt', '-', '+'))).toHaveLength(4);
    expect(await srv.stop()).toBe(0);
  });
});

describe('check-aof', () => {
  it('accepts a valid file and reports torn ones', async () => {
    const dir = tempDir();
    const f = join(dir, 'x.aof');
    writeFileSync(f, '*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n*5\r\n$4\r\nXADD\r\n$1\r\ns\r\n$3\r\n1-1\r\n$1\r\na\r\n$1\r\nb\r\n');
    let r = runCli(['check-aof', f]);
    expect(r.code).toBe(0);
    expect(r.out).toContain('AOF is valid');
    appendFileSync(f, '*2\r\n$4\r\nXLEN');
    r = runCli(['check-aof', f]);
    expect(r.code).toBe(1);
    expect(r.out).toContain('torn last record');
    r = runCli(['check-aof', '--fix', f]);
    expect(r.code).toBe(0);
    expect(runCli(['check-aof', f]).code).toBe(0);
  });
});
