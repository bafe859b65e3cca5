// used_memory is an account of what the data and the connections hold (util/memory.ts), checked by
// maxmemory and the page budget. Whatever a write accounts must be released when the data goes:
// after FLUSHALL, with no connection open, used_memory is exactly its baseline again. A leak here is
// a false OOM later (the fuzz suites check the same invariant after every random sequence).
import { describe, it, expect } from 'vitest';
import { readFile } from 'node:fs/promises';
import { RawEngine } from '../bindings/raw.ts';
import { encodeCommand } from '../bindings/resp.ts';

const wasm = await WebAssembly.compile(await readFile(new URL('../build/rivulet.wasm', import.meta.url)));
const T0 = 1_700_000_000_000;
const text = (b: Uint8Array) => new TextDecoder().decode(b);

async function engine(): Promise<{ raw: RawEngine; run: (...args: string[]) => string; baseline: number }> {
  const raw = await RawEngine.instantiate(wasm);
  const baseline = raw.usedMemory();
  raw.open(1);
  const run = (...args: string[]) => {
    raw.feedBytes(1, encodeCommand(args), T0);
    return text(raw.readAll(1));
  };
  return { raw, run, baseline };
}

/** FLUSHALL, close the connection: what is still accounted over the baseline. */
function leftAfterFlush(e: { raw: RawEngine; run: (...args: string[]) => string; baseline: number }): number {
  expect(e.run('FLUSHALL')).toBe('+OK\r\n');
  e.raw.close(1);
  return e.raw.usedMemory() - e.baseline;
}

describe('memory accounting returns to its baseline', () => {
  it('200 rounds of 50 XADD IDMP + DEL leave nothing accounted (was ~636 KB)', async () => {
    const e = await engine();
    for (let r = 0; r < 200; r++) {
      for (let i = 0; i < 50; i++) expect(e.run('XADD', 's', 'IDMP', `p${i % 3}`, `iid${i}`, '*', 'f', 'v')).toMatch(/^\$/);
      expect(e.run('DEL', 's')).toBe(':1\r\n');
    }
    expect(leftAfterFlush(e)).toBe(0);
  });

  it('a maxmemory that fits one round of IDMP writes never answers OOM over many rounds', async () => {
    const e = await engine();
    for (let i = 0; i < 50; i++) e.run('XADD', 's', 'IDMP', 'p', `iid${i}`, '*', 'f', 'v');
    const oneRound = e.raw.usedMemory();
    e.run('DEL', 's');
    expect(e.run('CONFIG', 'SET', 'maxmemory', String(oneRound + 4096))).toBe('+OK\r\n');
    for (let r = 0; r < 100; r++) {
      for (let i = 0; i < 50; i++) expect(e.run('XADD', 's', 'IDMP', 'p', `iid${i}`, '*', 'f', 'v')).toMatch(/^\$/);
      expect(e.run('DEL', 's')).toBe(':1\r\n');
    }
    expect(e.run('CONFIG', 'SET', 'maxmemory', '0')).toBe('+OK\r\n');
    expect(leftAfterFlush(e)).toBe(0);
  });

  it('IDMPAUTO records, expired and evicted IDs, and XCFGSET (which forgets every ID)', async () => {
    const e = await engine();
    e.run('XADD', 's', '1-1', 'f', 'v');
    expect(e.run('XCFGSET', 's', 'IDMP-MAXSIZE', '5')).toBe('+OK\r\n');
    for (let i = 0; i < 40; i++) e.run('XADD', 's', 'IDMPAUTO', `p${i % 4}`, '*', 'f', `v${i}`);
    for (let i = 0; i < 40; i++) e.run('XADD', 's', 'IDMP', 'q', `iid${i}`, '*', 'f', 'v');
    expect(e.run('XCFGSET', 's', 'IDMP-DURATION', '10', 'IDMP-MAXSIZE', '20')).toBe('+OK\r\n');
    for (let i = 0; i < 40; i++) e.run('XADD', 's', 'IDMP', 'q', `iid${i}`, '*', 'f', 'v');
    // an hour later every remembered ID has expired
    e.raw.feedBytes(1, encodeCommand(['XADD', 's', 'IDMP', 'q', 'late', '*', 'f', 'v']), T0 + 3_600_000);
    expect(text(e.raw.readAll(1))).toMatch(/^\$/);
    expect(leftAfterFlush(e)).toBe(0);
  });

  it('groups with pending entries owned by consumers and by nobody (XNACK), consumers, DESTROY, DEL', async () => {
    const e = await engine();
    for (let i = 1; i <= 30; i++) e.run('XADD', 's', `${i}-1`, 'f', 'v');
    for (const g of ['g1', 'g2', 'g3']) expect(e.run('XGROUP', 'CREATE', 's', g, '0')).toBe('+OK\r\n');
    for (const g of ['g1', 'g2', 'g3']) {
      expect(e.run('XREADGROUP', 'GROUP', g, 'alice', 'COUNT', '10', 'STREAMS', 's', '>')).toMatch(/^\*1/);
      expect(e.run('XREADGROUP', 'GROUP', g, 'bob', 'COUNT', '10', 'STREAMS', 's', '>')).toMatch(/^\*1/);
      expect(e.run('XNACK', 's', g, 'SILENT', 'IDS', '3', '1-1', '2-1', '3-1')).toBe(':3\r\n');
      expect(e.run('XCLAIM', 's', g, 'carol', '0', '25-1', 'FORCE')).toMatch(/^\*1/);
    }
    expect(e.run('XGROUP', 'DELCONSUMER', 's', 'g1', 'bob')).toBe(':10\r\n');
    expect(e.run('XGROUP', 'DESTROY', 's', 'g2')).toBe(':1\r\n');
    expect(e.run('DEL', 's')).toBe(':1\r\n');
    for (let i = 1; i <= 5; i++) e.run('XADD', 't', `${i}-1`, 'f', 'v');
    e.run('XGROUP', 'CREATE', 't', 'g', '0');
    e.run('XREADGROUP', 'GROUP', 'g', 'c', 'STREAMS', 't', '>');
    e.run('XNACK', 't', 'g', 'SILENT', 'IDS', '2', '1-1', '2-1');
    expect(leftAfterFlush(e)).toBe(0);
  });

  it('strings, RENAME, MULTI queues run, discarded, and left open on a closed connection', async () => {
    const e = await engine();
    expect(e.run('SET', 'k', 'x'.repeat(1000))).toBe('+OK\r\n');
    e.run('XADD', 'a', '1-1', 'f', 'v');
    expect(e.run('RENAME', 'a', 'b')).toBe('+OK\r\n');
    for (const end of ['EXEC', 'DISCARD']) {
      e.run('MULTI');
      for (let i = 0; i < 20; i++) expect(e.run('XADD', 'b', '*', 'f', 'y'.repeat(100))).toBe('+QUEUED\r\n');
      expect(e.run(end)).toMatch(end === 'EXEC' ? /^\*20\r\n/ : /^\+OK\r\n$/);
    }
    e.raw.open(2);
    e.raw.feedBytes(2, encodeCommand(['MULTI']), T0);
    for (let i = 0; i < 20; i++) e.raw.feedBytes(2, encodeCommand(['XADD', 'b', '*', 'f', 'z'.repeat(100)]), T0);
    e.raw.close(2); // the open MULTI queue goes with the connection
    expect(leftAfterFlush(e)).toBe(0);
  });
});
