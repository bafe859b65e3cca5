/**
 * Crash safety: a server with `appendfsync always` under write load (plain XADDs, pipelined XADDs,
 * MULTI/EXEC pairs, a consumer group reading and acknowledging) is killed with SIGKILL at a random
 * moment, restarted on the same data directory, and checked — 12 rounds:
 *
 * - every XADD whose reply the client received is present (a reply is sent only after fdatasync);
 * - XLEN equals the number of entries XRANGE returns and IDs strictly increase;
 * - transactions are atomic: the two streams a MULTI writes hold the same IDs;
 * - the group: every entry whose XREADGROUP reply was received is pending or had an XACK sent (whose
 *   reply may have been lost in the kill); no entry whose XACK reply was received is pending;
 *   XPENDING's summary count equals its extended list.
 */
import { describe, it, expect, afterAll } from 'vitest';
import { Redis as IORedis } from 'ioredis';
import { startRivulet, cleanupTempDirs, tempDir, sleep } from './support.ts';

afterAll(() => cleanupTempDirs());

const ROUNDS = Number(process.env.CRASH_ROUNDS ?? 12);

function connect(port: number): IORedis {
  return new IORedis({
    port,
    host: '127.0.0.1',
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    autoResendUnfulfilledCommands: false,
    retryStrategy: () => null,
    lazyConnect: true,
  });
}

describe('SIGKILL under write load with appendfsync always', () => {
  it(`loses no acknowledged write in ${ROUNDS} kill/restart rounds`, async () => {
    const dir = tempDir('rivulet-crash-');
    const ackedAdds: string[] = [];
    const delivered = new Set<string>(); // XREADGROUP replies received
    const ackedByGroup = new Set<string>(); // XACK confirmed
    const ackSent = new Set<string>(); // XACK sent (its reply may have been lost in the kill)
    let txNext = 1;
    let lastSize = 0;
    for (let round = 0; round < ROUNDS; round++) {
      const srv = await startRivulet({ dir, args: ['--appendfsync', 'always'] });
      const check = connect(srv.port);
      await check.connect();
      // ---- verify what previous rounds left
      const entries = await check.xrange('crash', '-', '+');
      const ids = entries.map(([id]) => id);
      expect(await check.xlen('crash')).toBe(ids.length);
      for (let i = 1; i < ids.length; i++) expect(cmpId(ids[i - 1], ids[i])).toBeLessThan(0);
      const present = new Set(ids);
      const missing = ackedAdds.filter((id) => !present.has(id));
      expect(missing, `round ${round}: acknowledged entries lost`).toEqual([]);
      const pa = (await check.xrange('pa', '-', '+')).map(([id]) => id);
      const pb = (await check.xrange('pb', '-', '+')).map(([id]) => id);
      expect(pb).toEqual(pa);
      if (pa.length) txNext = Number(pa[pa.length - 1].split('-')[0]) + 1;
      if (round > 0) {
        const summary = (await check.xpending('crash', 'g')) as [number, ...unknown[]];
        const ext = (await check.xpending('crash', 'g', '-', '+', 1_000_000)) as Array<[string, string, number, number]>;
        expect(ext.length).toBe(summary[0]);
        const pending = new Set(ext.map(([id]) => id));
        for (const id of ackedByGroup) expect(pending.has(id), `acked ${id} is pending again`).toBe(false);
        for (const id of delivered) {
          expect(pending.has(id) || ackSent.has(id), `delivered ${id} neither pending nor acked`).toBe(true);
        }
      } else {
        await check.xgroup('CREATE', 'crash', 'g', '$', 'MKSTREAM');
      }
      if (round > 0) expect(srv.output()).toMatch(/DB loaded from append only file/);
      lastSize = ids.length;

      // ---- load
      let stop = false;
      const conns: IORedis[] = [];
      const mk = async () => {
        const c = connect(srv.port);
        c.on('error', () => {});
        await c.connect();
        conns.push(c);
        return c;
      };
      const workers: Array<Promise<void>> = [];
      for (let w = 0; w < 3; w++) {
        const c = await mk();
        workers.push(
          (async () => {
            for (let n = 0; !stop && c.status === 'ready'; n++) {
              try {
                ackedAdds.push((await c.xadd('crash', '*', 'w', String(w), 'n', String(n)))!);
              } catch {
                return;
              }
            }
          })(),
        );
      }
      {
        const c = await mk(); // pipelined writer
        workers.push(
          (async () => {
            while (!stop && c.status === 'ready') {
              const p = c.pipeline();
              for (let i = 0; i < 10; i++) p.xadd('crash', '*', 'pipe', String(i));
              try {
                const res = await p.exec();
                // on a dead connection exec() resolves with errors instead of throwing
                for (const [err, id] of res ?? []) if (!err) ackedAdds.push(id as string);
                if (!res || res.some(([err]) => err)) return;
              } catch {
                return;
              }
            }
          })(),
        );
      }
      {
        const c = await mk(); // transactions writing the same ID to two streams
        workers.push(
          (async () => {
            while (!stop && c.status === 'ready') {
              const id = `${txNext++}-1`;
              try {
                const res = await c.multi().xadd('pa', id, 'x', '1').xadd('pb', id, 'y', '2').exec();
                if (!res || res.some(([err]) => err)) return;
              } catch {
                return;
              }
            }
          })(),
        );
      }
      {
        const c = await mk(); // consumer group: read, then acknowledge
        workers.push(
          (async () => {
            while (!stop && c.status === 'ready') {
              try {
                const r = (await c.xreadgroup('GROUP', 'g', 'c1', 'COUNT', '20', 'BLOCK', '100', 'STREAMS', 'crash', '>')) as
                  | Array<[string, Array<[string, string[]]>]>
                  | null;
                const got = r ? r[0][1].map(([id]) => id) : [];
                for (const id of got) delivered.add(id);
                if (got.length) {
                  for (const id of got) ackSent.add(id);
                  const n = await c.xack('crash', 'g', ...got);
                  if (n === got.length) for (const id of got) ackedByGroup.add(id);
                }
              } catch {
                return;
              }
            }
          })(),
        );
      }
      await sleep(150 + Math.floor(Math.random() * 350));
      await srv.kill9();
      stop = true;
      await Promise.all(workers);
      for (const c of [...conns, check]) c.disconnect();
    }
    // the load really ran
    console.info(
      `crash test: ${ROUNDS} SIGKILL rounds, ${ackedAdds.length} acknowledged XADDs, ${txNext - 1} MULTI pairs tried, ` +
        `${delivered.size} group deliveries, ${ackedByGroup.size} confirmed XACKs — none lost`,
    );
    expect(ackedAdds.length).toBeGreaterThan(ROUNDS * 50);
    expect(delivered.size).toBeGreaterThan(0);
    // a final clean start checks the last round too
    const srv = await startRivulet({ dir });
    const c = connect(srv.port);
    await c.connect();
    const present = new Set((await c.xrange('crash', '-', '+')).map(([id]) => id));
    expect(ackedAdds.filter((id) => !present.has(id))).toEqual([]);
    expect(present.size).toBeGreaterThanOrEqual(lastSize);
    c.disconnect();
    expect(await srv.stop()).toBe(0);
  }, 180_000);
});

function cmpId(a: string, b: string): number {
  const [am, as] = a.split('-').map(BigInt);
  const [bm, bs] = b.split('-').map(BigInt);
  return am !== bm ? (am < bm ? -1 : 1) : as !== bs ? (as < bs ? -1 : 1) : 0;
}
