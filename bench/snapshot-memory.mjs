#!/usr/bin/env node
// Linear memory around a snapshot (device-host-findings.md, "two engine behaviours that break a
// fixed-memory device"): how many 64 KiB pages the engine has before and after writing a full snapshot
// of (a) 15,000 sensor entries without a budget and (b) a 16-page (1 MiB) budget filled to OOM.
//
//   node bench/snapshot-memory.mjs [path/to/rivulet.wasm ...]
//
// Works with builds that have rv_snapshot_begin / rv_snapshot_read(max) (snapshots by cursor) and with
// older ones that have rv_snapshot() / rv_snapshot_read() (the whole snapshot built in memory), so the
// same script measures before and after. Parts are read at 64 KiB.
import { readFileSync } from 'node:fs';

const T0 = 1_700_000_000_000;
const enc = new TextEncoder();

function command(args) {
  let s = `*${args.length}\r\n`;
  for (const a of args) s += `$${enc.encode(a).length}\r\n${a}\r\n`;
  return enc.encode(s);
}

async function engine(path) {
  let ex;
  const { instance } = await WebAssembly.instantiate(readFileSync(path), {
    env: { abort() { throw new Error('engine abort'); } },
  });
  ex = instance.exports;
  const scratch = () => new Uint8Array(ex.memory.buffer, ex.rv_scratch_ptr(), ex.rv_scratch_cap());
  const run = (conn, args, now) => {
    scratch().set(command(args));
    ex.rv_feed(conn, command(args).length, now);
    let out = '';
    for (let n = ex.rv_read(conn); n > 0; n = ex.rv_read(conn)) out += Buffer.from(scratch().subarray(0, n)).toString('latin1');
    return out;
  };
  const pages = () => ex.memory.buffer.byteLength / 65536;
  const snapshot = () => {
    let bytes = 0;
    if (ex.rv_snapshot_begin) {
      if (ex.rv_snapshot_begin() !== 0) throw new Error('rv_snapshot_begin refused');
      for (let n = ex.rv_snapshot_read(65536); n > 0; n = ex.rv_snapshot_read(65536)) bytes += n;
    } else {
      ex.rv_snapshot();
      for (let n = ex.rv_snapshot_read(); n > 0; n = ex.rv_snapshot_read()) bytes += n;
    }
    return bytes;
  };
  return { ex, run, pages, snapshot };
}

const sensor = (i) => ['XADD', 'sensor', `${T0 + 100 * i}-0`, 'temperature', (20 + (i % 100) / 10).toFixed(1), 'humidity', String(40 + (i % 50))];

async function measure(path) {
  const a = await engine(path);
  a.ex.rv_open(1);
  for (let i = 0; i < 15000; i++) a.run(1, sensor(i), T0);
  const before = a.pages();
  const bytes = a.snapshot();
  console.log(`  15,000 sensor entries, no budget: ${before} pages before the snapshot, ${a.pages()} after (snapshot ${bytes} B)`);

  const b = await engine(path);
  b.ex.rv_open(1);
  const budget = b.ex.rv_set_page_budget(16);
  let n = 0;
  while (!b.run(1, sensor(n), T0).startsWith('-OOM')) n++;
  const filled = b.pages();
  const bytesB = b.snapshot();
  console.log(`  16-page budget (${budget} in effect) filled to OOM with ${n} entries: ${filled} pages before, ${b.pages()} after (snapshot ${bytesB} B)`);
}

const paths = process.argv.length > 2 ? process.argv.slice(2) : [new URL('../build/rivulet.wasm', import.meta.url).pathname];
for (const p of paths) {
  console.log(p);
  await measure(p);
}
