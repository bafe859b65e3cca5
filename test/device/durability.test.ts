/**
 * rivulet-device's files: SIGKILL under write load with appendfsync always loses no acknowledged
 * write (replies leave only after fdatasync); a torn AOF tail (an interrupted write) is cut at the
 * last complete record; a directory written by the device opens in the Node server with the same
 * data, and one written by the Node server opens on the device.
 */
import { describe, it, expect, afterAll } from 'vitest';
import { appendFileSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Redis as IORedis } from 'ioredis';
import { startRivulet, cleanupTempDirs, sleep } from '../server/support.ts';
import { startDevice, cleanupDevices, deviceTempDir } from './support.ts';

afterAll(async () => {
  await cleanupDevices();
  await cleanupTempDirs();
});

const ROUNDS = 6;

function connect(port: number): IORedis {
  return new IORedis({ port, host: '127.0.0.1', maxRetriesPerRequest: 0, enableOfflineQueue: false, retryStrategy: () => null, lazyConnect: true });
}

describe('rivulet-device durability', () => {
  it(`loses no acknowledged write in ${ROUNDS} SIGKILL rounds under appendfsync always`, async () => {
    const dir = deviceTempDir('rivulet-dev-crash-');
    const acked: string[] = [];
    let tx = 1;
    for (let round = 0; round < ROUNDS; round++) {
      const dev = await startDevice({ dir, args: ['--appendfsync', 'always'] });
      const check = connect(dev.port);
      await check.connect();
      const ids = (await check.xrange('crash', '-', '+')).map(([id]) => id);
      const present = new Set(ids);
      expect(acked.filter((id) => !present.has(id)), `round ${round}: acknowledged entries lost`).toEqual([]);
      expect(await check.xlen('crash')).toBe(ids.length);
      // transactions are all-or-nothing
      expect((await check.xrange('pb', '-', '+')).map(([id]) => id)).toEqual((await check.xrange('pa', '-', '+')).map(([id]) => id));
      if (round > 0) expect(dev.output()).toMatch(/DB loaded from append only file/);
      let stop = false;
      const conns: IORedis[] = [];
      const workers: Array<Promise<void>> = [];
      for (let w = 0; w < 3; w++) {
        const c = connect(dev.port);
        c.on('error', () => {});
        await c.connect();
        conns.push(c);
        workers.push(
          (async () => {
            for (let n = 0; !stop; n++) {
              try {
                if (w === 2) {
                  const p = c.pipeline();
                  for (let i = 0; i < 10; i++) p.xadd('crash', '*', 'pipe', String(i));
                  const res = await p.exec();
                  for (const [err, id] of res ?? []) if (!err) acked.push(id as string);
                  if (!res || res.some(([err]) => err)) return;
                } else if (w === 1 && n % 2 === 0) {
                  const id = `${tx++}-1`;
                  const res = await c.multi().xadd('pa', id, 'x', '1').xadd('pb', id, 'y', '2').exec();
                  if (!res || res.some(([err]) => err)) return;
                } else {
                  acked.push((await c.xadd('crash', '*', 'w', String(w), 'n', String(n)))!);
                }
              } catch {
                return;
              }
            }
          })(),
        );
      }
      await sleep(200 + Math.floor(Math.random() * 300));
      await dev.kill9();
      stop = true;
      await Promise.all(workers);
      for (const c of [...conns, check]) c.disconnect();
    }
    expect(acked.length).toBeGreaterThan(ROUNDS * 20);
    const dev = await startDevice({ dir });
    const c = connect(dev.port);
    await c.connect();
    const present = new Set((await c.xrange('crash', '-', '+')).map(([id]) => id));
    expect(acked.filter((id) => !present.has(id))).toEqual([]);
    c.disconnect();
    expect(await dev.stop()).toBe(0);
  }, 120_000);

  it('cuts a torn AOF tail at the last complete record', async () => {
    const dir = deviceTempDir();
    let dev = await startDevice({ dir, args: ['--appendfsync', 'always'] });
    let c = connect(dev.port);
    await c.connect();
    await c.xadd('s', '1-1', 'a', '1');
    await c.xadd('s', '2-1', 'a', '2');
    c.disconnect();
    await dev.kill9();
    const aof = join(dir, 'appendonly.aof');
    const good = statSync(aof).size;
    appendFileSync(aof, '*5\r\n$4\r\nXADD\r\n$1\r\ns\r\n$3\r\n3-1\r\n$1\r\na'); // a record cut mid-way
    dev = await startDevice({ dir });
    expect(dev.output()).toMatch(/ends with a torn record \(the last record is incomplete\)/);
    expect(dev.output()).toMatch(new RegExp(`truncating \\d+ bytes at offset ${good}`));
    expect(statSync(aof).size).toBe(good);
    c = connect(dev.port);
    await c.connect();
    expect((await c.xrange('s', '-', '+')).map(([id]) => id)).toEqual(['1-1', '2-1']);
    await c.xadd('s', '3-1', 'a', '3');
    c.disconnect();
    expect(await dev.stop()).toBe(0);
    // NUL bytes left by a crash are a torn tail too
    appendFileSync(aof, Buffer.alloc(100));
    dev = await startDevice({ dir });
    expect(dev.output()).toMatch(/ends in NUL bytes/);
    c = connect(dev.port);
    await c.connect();
    expect(await c.xlen('s')).toBe(3);
    c.disconnect();
    expect(await dev.stop()).toBe(0);
    // corruption in the middle refuses to start
    const bytes = readFileSync(aof);
    const bad = Buffer.concat([bytes.subarray(0, 20), Buffer.from('garbage!'), bytes.subarray(28)]);
    const { writeFileSync } = await import('node:fs');
    writeFileSync(aof, bad);
    await expect(startDevice({ dir })).rejects.toThrow(/exited \(1\) before listening[\s\S]*Bad file format reading the append only file/);
  }, 60_000);

  it('moves a data directory between rivulet-device and the Node server (AOF and snapshot)', async () => {
    const dir = deviceTempDir();
    let dev = await startDevice({ dir });
    let c = connect(dev.port);
    await c.connect();
    for (let i = 1; i <= 200; i++) await c.xadd('sensor', `${i}-0`, 'temp', String(20 + (i % 7)), 'node', `n${i % 3}`);
    await c.xgroup('CREATE', 'sensor', 'g', '0');
    await c.xreadgroup('GROUP', 'g', 'alice', 'COUNT', '15', 'STREAMS', 'sensor', '>');
    await c.call('BGREWRITEAOF');
    await c.xadd('sensor', '201-0', 'temp', '99');
    for (let i = 0; i < 50 && !/aof_rewrite_in_progress:0/.test((await c.info('persistence')) as string); i++) await sleep(50);
    expect(await c.call('SAVE')).toBe('OK');
    // (a consumer's seen-time is not compared: loading a snapshot's XCLAIM restates it as of the load)
    const state = async (r: IORedis) => JSON.stringify([await r.xrange('sensor', '-', '+'), await r.call('XINFO', 'STREAM', 'sensor', 'FULL')]).replace(/"seen-time",\d+/g, '"seen-time",?');
    let want = await state(c);
    c.disconnect();
    expect(await dev.stop()).toBe(0);
    expect(readFileSync(join(dir, 'appendonly.aof')).subarray(0, 40).toString('latin1')).toMatch(/RIVULET\.SNAPSHOT/);
    // the Node server reads the device's AOF, then its snapshot
    for (const args of [[], ['--appendonly', 'no']]) {
      const srv = await startRivulet({ dir, args });
      const n = connect(srv.port);
      await n.connect();
      expect(await state(n)).toBe(want);
      if (args.length === 0) {
        await n.xadd('sensor', '202-0', 'from', 'node');
        expect(await n.call('SAVE')).toBe('OK');
        want = await state(n);
      }
      n.disconnect();
      expect(await srv.stop()).toBe(0);
    }
    // and the device reads what the Node server wrote (AOF, then snapshot)
    for (const args of [[], ['--appendonly', 'no']]) {
      dev = await startDevice({ dir, args });
      c = connect(dev.port);
      await c.connect();
      expect(await state(c)).toBe(want);
      expect((await c.xrange('sensor', '202-0', '+'))[0][1]).toEqual(['from', 'node']);
      c.disconnect();
      expect(await dev.stop()).toBe(0);
    }
  }, 90_000);
});
