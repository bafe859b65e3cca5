// Limits that keep one connection from exhausting the engine: the client query buffer limit closes
// only that connection; a reply larger than the cap answers an error; the others carry on.
import { describe, it, expect } from 'vitest';
import { readFile } from 'node:fs/promises';
import { RawEngine } from '../bindings/raw.ts';
import { FeedStatus } from '../bindings/abi.ts';
import { encodeCommand } from '../bindings/resp.ts';

const wasm = await WebAssembly.compile(await readFile(new URL('../build/rivulet.wasm', import.meta.url)));
const T0 = 1_700_000_000_000;
const text = (b: Uint8Array) => new TextDecoder().decode(b);

describe('per-connection limits', () => {
  it('keeps the static footprint within 3 pages (192 KiB) after start-up, for small devices', async () => {
    const raw = await RawEngine.instantiate(wasm);
    raw.open(1);
    raw.feedBytes(1, encodeCommand(['PING']), T0);
    expect(raw.exports.memory.buffer.byteLength / 65536).toBeLessThanOrEqual(3);
  });

  it('closes a connection whose unparsed input passes client-query-buffer-limit', async () => {
    const raw = await RawEngine.instantiate(wasm);
    raw.open(1);
    raw.open(2);
    raw.feedBytes(1, encodeCommand(['CONFIG', 'SET', 'client-query-buffer-limit', '1mb']), T0);
    expect(text(raw.readAll(1))).toBe('+OK\r\n');
    let st = raw.feedBytes(2, new TextEncoder().encode('*3\r\n$4\r\nECHO\r\n$2000000\r\n'), T0);
    const chunk = new Uint8Array(60000).fill(120);
    for (let sent = 0; sent < 1_500_000 && !(st & FeedStatus.CLOSE); sent += chunk.length) st = raw.feedBytes(2, chunk, T0);
    expect(st & FeedStatus.CLOSE).toBe(FeedStatus.CLOSE);
    raw.feedBytes(1, encodeCommand(['PING']), T0);
    expect(text(raw.readAll(1))).toBe('+PONG\r\n');
  });

  it('answers an error instead of building a reply beyond the page budget cap', async () => {
    const raw = await RawEngine.instantiate(wasm);
    raw.open(1);
    raw.setPageBudget(Math.ceil(raw.exports.memory.buffer.byteLength / 65536) + 16);
    const big = 'v'.repeat(4000);
    for (let i = 1; i <= 200; i++) raw.feedBytes(1, encodeCommand(['XADD', 's', `${i}-1`, 'f', big]), T0), raw.readAll(1);
    raw.feedBytes(1, encodeCommand(['XRANGE', 's', '-', '+']), T0);
    expect(text(raw.readAll(1))).toMatch(/^-ERR reply exceeds the memory budget/);
    raw.feedBytes(1, encodeCommand(['XRANGE', 's', '-', '+', 'COUNT', '2']), T0);
    expect(text(raw.readAll(1))).toMatch(/^\*2\r\n/);
  });

  it('takes any page budget above the current memory exactly, and never passes it', async () => {
    const raw = await RawEngine.instantiate(wasm);
    raw.open(1);
    const start = raw.exports.memory.buffer.byteLength / 65536;
    // below twice the current size too: the grow guard makes growth exact (scripts/grow-guard.mjs)
    const budget = raw.setPageBudget(start + 1);
    expect(budget).toBe(start + 1);
    let oom = false;
    for (let i = 1; i <= 20000 && !oom; i++) {
      raw.feedBytes(1, encodeCommand(['XADD', 's', `${i}-1`, 'temperature', '23.5', 'humidity', '65']), T0);
      oom = text(raw.readAll(1)).startsWith('-OOM');
      expect(raw.exports.memory.buffer.byteLength / 65536).toBeLessThanOrEqual(budget);
    }
    expect(oom).toBe(true);
    // reads keep working at OOM
    raw.feedBytes(1, encodeCommand(['XLEN', 's']), T0);
    expect(text(raw.readAll(1))).toMatch(/^:\d+\r\n$/);
    // a budget below the current size means "no more than now"
    expect(raw.setPageBudget(1)).toBe(raw.exports.memory.buffer.byteLength / 65536);
  });

  it('reads the allocator right: INFO memory free bytes follow what is allocated and freed', async () => {
    const raw = await RawEngine.instantiate(wasm);
    raw.setPageBudget(32);
    raw.open(1);
    const info = () => {
      raw.feedBytes(1, encodeCommand(['INFO', 'memory']), T0);
      const t = text(raw.readAll(1));
      const field = (name: string) => Number(new RegExp(`${name}:(\\d+)`).exec(t)![1]);
      return { free: field('allocator_free_bytes'), largest: field('allocator_largest_free_block'), memory: field('wasm_linear_memory') };
    };
    const empty = info();
    expect(empty.memory).toBe(32 * 65536);
    expect(empty.largest).toBeLessThanOrEqual(empty.free);
    expect(empty.free).toBeGreaterThan(empty.memory / 2);
    const big = 'v'.repeat(200_000);
    raw.feedBytes(1, encodeCommand(['XADD', 's', '1-1', 'f', big]), T0);
    expect(text(raw.readAll(1))).toBe('$3\r\n1-1\r\n');
    const full = info();
    // the entry's block (and the input buffer that held the command) came out of the free blocks
    expect(empty.free - full.free).toBeGreaterThanOrEqual(400_000);
    // stream blocks are freed at once (not garbage-collected): the free blocks grow back
    raw.feedBytes(1, encodeCommand(['DEL', 's']), T0);
    expect(text(raw.readAll(1))).toBe(':1\r\n');
    const again = info();
    expect(again.free - full.free).toBeGreaterThanOrEqual(200_000);
    expect(again.largest).toBeGreaterThanOrEqual(200_000);
  });
});
