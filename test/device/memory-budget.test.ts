/**
 * A fixed memory budget on the 32-bit build (wasm3's ESP32 configuration): --memory-budget caps
 * every heap byte of the process (wasm3's runtime, the compiled engine, linear memory, the host's
 * buffers). Sensor entries are added until the engine answers OOM; then a restart, SAVE,
 * BGREWRITEAOF and restarts on the same budget: no crash, nothing acknowledged lost, the peak
 * within the budget.
 *
 * The budget is the smallest that holds today's module fully compiled on 32-bit (~1 MB: wasm3 +
 * compiled code ~790 KB, three pages of linear memory at start) plus ~0.5 MB for data.
 */
import { describe, it, expect, afterAll } from 'vitest';
import { Redis as IORedis } from 'ioredis';
import { startDevice, cleanupDevices, deviceTempDir, infoField } from './support.ts';

afterAll(() => cleanupDevices());

// 2 MiB: wasm3 and the compiled engine take about 1.3 MiB of it on 32-bit; since page budgets are
// exact (no longer raised to twice the current memory), 1.5 MiB leaves only the engine's 3 static
// pages and no room for data.
const BUDGET = 2048 * 1024;

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

const ARGS = ['--memory-budget', String(BUDGET), '--maxclients', '8', '--appendfsync', 'always'];

/** Adds sensor entries in pipelines of 100 until the engine answers OOM; returns how many were added. */
async function fillToOom(c: IORedis): Promise<number> {
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
  return added;
}

describe(`rivulet-device with --memory-budget ${BUDGET} (32-bit)`, () => {
  it('fills to OOM within the budget and restarts from the AOF on the same budget', async () => {
    const dir = deviceTempDir('rivulet-dev-budget-');
    let dev = await startDevice({ target: 'x86', dir, args: ARGS });
    let c = connect(dev.port);
    await c.connect();
    const added = await fillToOom(c);
    let h = await heap(c);
    expect(h.budget).toBe(BUDGET);
    expect(h.peak).toBeLessThanOrEqual(BUDGET);
    // reads and deletes still work at the limit, and the memory they free takes writes again
    expect((await c.xrevrange('sensor', '+', '-', 'COUNT', 1)).length).toBe(1);
    expect(await c.xtrim('sensor', 'MAXLEN', added - 100)).toBe(100);
    expect(await c.xadd('sensor', '*', 'temp', '1')).toMatch(/^\d+-\d+$/);
    c.disconnect();
    await dev.kill9();
    dev = await startDevice({ target: 'x86', dir, args: ARGS });
    c = connect(dev.port);
    await c.connect();
    expect(await c.xlen('sensor')).toBe(added - 99);
    h = await heap(c);
    expect(h.peak).toBeLessThanOrEqual(BUDGET);
    c.disconnect();
    expect(await dev.stop()).toBe(0);
    expect(dev.output()).not.toMatch(/engine failed/);
  }, 120_000);

  it('saves and rewrites at the limit within the budget, then restarts from each file', async () => {
    const dir = deviceTempDir('rivulet-dev-budget-');
    let dev = await startDevice({ target: 'x86', dir, args: ARGS });
    let c = connect(dev.port);
    await c.connect();
    const added = await fillToOom(c);
    // snapshots are taken by cursor inside the page budget: no extra memory for their bytes
    expect(await c.call('SAVE')).toBe('OK');
    expect(await c.call('BGREWRITEAOF')).toMatch(/rewriting started/);
    for (let i = 0; i < 100 && !/aof_rewrite_in_progress:0[\s\S]*aof_rewrites:1/.test((await c.info('persistence')) as string); i++) await new Promise((r) => setTimeout(r, 50));
    expect((await c.info('persistence')) as string).toMatch(/aof_last_bgrewrite_status:ok/);
    expect((await heap(c)).peak).toBeLessThanOrEqual(BUDGET);
    c.disconnect();
    expect(await dev.stop()).toBe(0);
    expect(dev.output()).not.toMatch(/engine failed/);
    for (const extra of [[], ['--appendonly', 'no']]) {
      dev = await startDevice({ target: 'x86', dir, args: [...ARGS, ...extra] });
      c = connect(dev.port);
      await c.connect();
      expect(await c.xlen('sensor')).toBe(added);
      expect((await heap(c)).peak).toBeLessThanOrEqual(BUDGET);
      c.disconnect();
      expect(await dev.stop()).toBe(0);
    }
  }, 120_000);
});
