/**
 * A fixed memory budget on the 32-bit build (wasm3's ESP32 configuration): --memory-budget caps
 * every heap byte of the process (wasm3's runtime, the compiled engine, linear memory, the host's
 * buffers). Sensor entries are added until the engine answers OOM; then SAVE, BGREWRITEAOF and a
 * restart on the same budget: no crash, nothing acknowledged lost, the peak within the budget.
 *
 * The budget is the smallest that holds today's module fully compiled on 32-bit (~1 MB: wasm3 +
 * compiled code ~790 KB, three pages of linear memory at start) plus ~0.5 MB for data.
 */
import { describe, it, expect, afterAll } from 'vitest';
import { Redis as IORedis } from 'ioredis';
import { startDevice, cleanupDevices, deviceTempDir, infoField } from './support.ts';

afterAll(() => cleanupDevices());

const BUDGET = 1536 * 1024;

function connect(port: number): IORedis {
  return new IORedis({ port, host: '127.0.0.1', maxRetriesPerRequest: 0, enableOfflineQueue: false, retryStrategy: () => null, lazyConnect: true });
}

async function heap(c: IORedis): Promise<{ used: number; peak: number; budget: number; failures: number }> {
  const info = (await c.info('memory')) as string;
  return {
    used: Number(infoField(info, 'device_heap_used')),
    peak: Number(infoField(info, 'device_heap_peak')),
    budget: Number(infoField(info, 'device_heap_budget')),
    failures: Number(infoField(info, 'device_alloc_failures')),
  };
}

describe(`rivulet-device with --memory-budget ${BUDGET} (32-bit)`, () => {
  it('fills to OOM, saves, rewrites and restarts without a crash or a lost write', async () => {
    const dir = deviceTempDir('rivulet-dev-budget-');
    const args = ['--memory-budget', String(BUDGET), '--maxclients', '8', '--appendfsync', 'always'];
    let dev = await startDevice({ target: 'x86', dir, args });
    let c = connect(dev.port);
    await c.connect();
    let added = 0;
    let oom = '';
    for (let batch = 0; batch < 1000 && !oom; batch++) {
      const p = c.pipeline();
      for (let i = 0; i < 100; i++) p.xadd('sensor', '*', 'temp', String(20 + (i % 9) / 10), 'hum', String(40 + (i % 13)), 'dev', `node-${i % 4}`);
      for (const [err] of (await p.exec()) ?? []) {
        if (err) oom ||= (err as Error).message;
        else added++;
      }
    }
    expect(oom).toMatch(/^OOM /);
    expect(added).toBeGreaterThan(1000);
    expect(await c.xlen('sensor')).toBe(added);
    const h = await heap(c);
    expect(h.budget).toBe(BUDGET);
    expect(h.peak).toBeLessThanOrEqual(BUDGET);
    // reads still work at the limit, and so do snapshots (by cursor, within the budget)
    expect((await c.xrevrange('sensor', '+', '-', 'COUNT', 1)).length).toBe(1);
    expect(await c.call('SAVE')).toBe('OK');
    expect(await c.call('BGREWRITEAOF')).toMatch(/rewriting started/);
    for (let i = 0; i < 100 && !/aof_rewrite_in_progress:0[\s\S]*aof_rewrites:1/.test((await c.info('persistence')) as string); i++) await new Promise((r) => setTimeout(r, 50));
    expect((await c.info('persistence')) as string).toMatch(/aof_last_bgrewrite_status:ok/);
    expect((await heap(c)).peak).toBeLessThanOrEqual(BUDGET);
    c.disconnect();
    expect(await dev.stop()).toBe(0);
    expect(dev.output()).not.toMatch(/engine failed/);
    // restart from the rewritten AOF, then from the snapshot, on the same budget
    for (const extra of [[], ['--appendonly', 'no']]) {
      dev = await startDevice({ target: 'x86', dir, args: [...args, ...extra] });
      c = connect(dev.port);
      await c.connect();
      expect(await c.xlen('sensor')).toBe(added);
      expect((await heap(c)).peak).toBeLessThanOrEqual(BUDGET);
      c.disconnect();
      expect(await dev.stop()).toBe(0);
    }
  }, 120_000);
});
