// Turns the suites' results into the comparison table (console + Markdown) and the SVG charts.
import { fmt, hbar, lines } from './svg.mjs';

const med = (s) => (s == null ? NaN : typeof s === 'number' ? s : s.median);

/** "times better than the comparator" (> 1 = Rivulet wins), for either direction of "better". */
function ratio(riv, other, better) {
  const a = med(riv), b = med(other);
  if (!Number.isFinite(a) || !Number.isFinite(b) || a <= 0 || b <= 0) return NaN;
  return better === 'higher' ? a / b : b / a;
}

function row(sec, metric, unit, better, v, goal = null, note = '') {
  const r = { sec, metric, unit, better, riv: v.riv ?? null, naive: v.naive ?? null, mock: v.mock ?? null, redis: v.redis ?? null, redisLabel: v.redisLabel ?? '', goal, note };
  r.vsNaive = ratio(r.riv, r.naive, better);
  r.vsMock = ratio(r.riv, r.mock, better);
  r.vsRedis = ratio(r.riv, r.redis, better);
  return r;
}

const goalText = (text, met) => ({ text, met });

export function buildRows(R) {
  const rows = [];
  const x = R.xadd?.res;
  if (x) {
    const g1 = x.riv_typed && x.rb_p64 ? med(x.riv_typed) >= 3e6 && med(x.riv_typed) / med(x.rb_p64) >= 5 : null;
    const base = { naive: x.naive, mock: x.mock_await };
    rows.push(row('1', 'XADD 1 call/entry, typed conn.xadd()', 'ops/s', 'higher', { riv: x.riv_typed, ...base, redis: x.rb_p64, redisLabel: 'redis-benchmark -c50 -P64' }, goalText('≥ 3M/s and ≥ 5× Redis P64', g1), 'ioredis-mock: first 10k entries (its XADD is O(n))'));
    rows.push(row('1', '  same, vs Redis redis-benchmark -P16', 'ops/s', 'higher', { riv: x.riv_typed, redis: x.rb_p16, redisLabel: 'redis-benchmark -c50 -P16' }));
    rows.push(row('1', '  same, vs Redis from Node: ioredis Promise.all×1000', 'ops/s', 'higher', { riv: x.riv_typed, redis: x.ioredis_batch, redisLabel: 'ioredis auto-pipelined' }));
    rows.push(row('1', '  same, vs Redis from Node: ioredis await each', 'ops/s', 'higher', { riv: x.riv_typed, redis: x.ioredis_await, redisLabel: 'ioredis await' }));
    rows.push(row('1', 'XADD 1 call/entry, conn.call() (decoded)', 'ops/s', 'higher', { riv: x.riv_call, ...base, redis: x.rb_p64, redisLabel: 'redis-benchmark -c50 -P64' }));
    rows.push(row('1', 'XADD 1 call/entry, conn.callRaw() (bytes)', 'ops/s', 'higher', { riv: x.riv_callraw, ...base, redis: x.rb_p64, redisLabel: 'redis-benchmark -c50 -P64' }));
    if (x.riv_xaddbatch1) rows.push(row('1', 'XADD 1 entry/call, typed fast path engine.xaddBatch(c, key, fields, [row])', 'ops/s', 'higher', { riv: x.riv_xaddbatch1, ...base, redis: x.rb_p64, redisLabel: 'redis-benchmark -c50 -P64' }, goalText('≥ 3M/s and ≥ 5× Redis P64', med(x.riv_xaddbatch1) >= 3e6 && med(x.riv_xaddbatch1) / med(x.rb_p64) >= 5), 'rv_xadd_batch, no RESP'));
    const g2 = (v) => (v ? med(v) >= 1e7 : null);
    rows.push(row('2', 'XADD batched, conn.pipeline(1000 cmds)', 'entries/s', 'higher', { riv: x.riv_pipeline, naive: x.naive, mock: x.mock_batch, redis: x.ioredis_pipeline, redisLabel: 'ioredis pipeline() 10k' }, goalText('≥ 10M/s', g2(x.riv_pipeline)), 'ioredis-mock: Promise.all×1000, first 10k'));
    rows.push(row('2', 'XADD batched, conn.pipelineRaw(1000 cmds)', 'entries/s', 'higher', { riv: x.riv_pipelineraw, naive: x.naive, redis: x.rb_p64, redisLabel: 'redis-benchmark -c50 -P64' }));
    rows.push(row('2', 'XADD batched, RawEngine feed 800 pre-encoded cmds', 'entries/s', 'higher', { riv: x.riv_rawfeed, naive: x.naive, redis: x.rb_p64, redisLabel: 'redis-benchmark -c50 -P64' }, goalText('≥ 10M/s', g2(x.riv_rawfeed)), 'RESP engine ceiling from JS (no per-command JS work)'));
    if (x.riv_xaddbatch) rows.push(row('2', 'XADD batched, typed fast path engine.xaddBatch(4000 rows)', 'entries/s', 'higher', { riv: x.riv_xaddbatch, naive: x.naive, redis: x.rb_p64, redisLabel: 'redis-benchmark -c50 -P64' }, goalText('≥ 10M/s', g2(x.riv_xaddbatch)), 'rv_xadd_batch, IDs returned as strings'));
    if (x.riv_rawbatch) rows.push(row('2', 'XADD batched, raw rv_xadd_batch frame of 3000 rows', 'entries/s', 'higher', { riv: x.riv_rawbatch, naive: x.naive, redis: x.rb_p64, redisLabel: 'redis-benchmark -c50 -P64' }, goalText('≥ 10M/s', g2(x.riv_rawbatch)), 'fast-path ceiling: pre-built frame, IDs not read'));
  }
  const g = R.range?.res;
  if (g) {
    const Q = [
      ['xrange_first_100', 'XRANGE s - + COUNT 100', true],
      ['xrevrange_last_10', 'XREVRANGE s + - COUNT 10', false],
      ['xrange_mid_100', 'XRANGE s <mid> + COUNT 100 (seek)', true],
      ['xrange_mid_10', 'XRANGE s <mid> + COUNT 10 (seek)', false],
    ];
    for (const [k, label, goal] of Q) {
      const v = g[`riv_${k}`];
      const mockV = g[`mock10k_${k}`];
      rows.push(row('3', `${label} → JS objects, 1M entries`, 'µs/call', 'lower', { riv: v, naive: g[`naive_${k}`], mock: mockV, redis: g[`redis_${k}`], redisLabel: 'ioredis → objects' }, goal ? goalText('≤ 10 µs', v ? med(v) <= 10 : null) : null, mockV ? 'ioredis-mock at 10k entries' : ''));
    }
    for (const [k, label] of [Q[0], Q[2]]) {
      rows.push(row('3', `  ${label}, engine only (callRaw bytes)`, 'µs/call', 'lower', { riv: g[`rivraw_${k}`], redis: g[`redissrv_${k}`], redisLabel: 'server usec_per_call' }, null, 'Redis: command time inside the server (commandstats)'));
    }
  }
  const c = R.groups?.res;
  if (c) {
    rows.push(row('4', 'XREADGROUP COUNT 100 + XACK, 1M entries', 'entries/s', 'higher', { riv: c.riv, naive: c.naive, mock: null, redis: c.redis, redisLabel: 'ioredis, await XACK' }, goalText('≥ 2M/s', c.riv ? med(c.riv) >= 2e6 : null), 'ioredis-mock: XGROUP/XREADGROUP/XACK unsupported'));
  }
  const m = R.memory?.res;
  if (m) {
    for (const [kind, n, lim] of [['sensor', '1M', 11], ['bus', '100k', 170]]) {
      const naive = m[`naive_${kind}_heap`];
      const mock = m[`mock_${kind}_heap`];
      const redis = m[`redis_${kind}_usedMemory`];
      const used = m[`rivulet_${kind}_usedMemory`];
      const lin = m[`rivulet_${kind}_linearMemory`];
      rows.push(row('5', `memory, ${kind} ${n}: INFO used_memory delta`, 'B/entry', 'lower', { riv: used, naive, mock, redis, redisLabel: 'used_memory delta' }, goalText(`≤ ${lim} B`, used ? med(used) <= lim : null), `naive: V8 heapUsed; ioredis-mock: heap at 10k`));
      rows.push(row('5', `memory, ${kind} ${n}: wasm linear memory delta`, 'B/entry', 'lower', { riv: lin, naive, mock, redis, redisLabel: 'used_memory delta' }, goalText(`≤ ${lim} B`, lin ? med(lin) <= lim : null), 'pages the host pays for; the allocator doubles memory when it grows, so this is 1.1–2.3× used_memory depending on where N falls'));
    }
  }
  const s = R.server?.res;
  if (s && (s.riv_p1 || s.redis_p1)) {
    for (const P of [1, 16, 64]) {
      const riv = s[`riv_p${P}`], red = s[`redis_p${P}`];
      rows.push(row('6', `server: redis-benchmark XADD -c 50 -P ${P}`, 'ops/s', 'higher', { riv, redis: red, redisLabel: 'redis-server' }, goalText('≥ 1.0× Redis', riv && red ? med(riv) / med(red) >= 1.0 : null), riv ? '' : `Rivulet server: ${R.server.params?.serverError ?? 'n/a'}`));
    }
    rows.push(row('6', '  server CPU per XADD at -P 64', 'µs/op', 'lower', { riv: s.riv_p64_cpu_us, redis: s.redis_p64_cpu_us, redisLabel: 'redis-server' }, null, 'utime+stime of the server process'));
    rows.push(row('6', '  server CPU per XADD at -P 1', 'µs/op', 'lower', { riv: s.riv_p1_cpu_us, redis: s.redis_p1_cpu_us, redisLabel: 'redis-server' }));
  }
  const sc = R.scaling?.res;
  if (sc) {
    const sizes = R.scaling.params.SIZES;
    const small = sizes[0], big = sizes[sizes.length - 1];
    for (const n of sizes) rows.push(row('7', `XADD rate at ${fmt(n)} entries (typed, 1 call/entry)`, 'ops/s', 'higher', { riv: sc[`riv_xadd_${n}`], naive: sc[`naive_xadd_${n}`] }));
    const rates = sizes.map((n) => med(sc[`riv_xadd_${n}`]) / med(sc[`riv_xadd_${small}`]));
    const worst = rates.reduce((w, r) => (Math.abs(r - 1) > Math.abs(w - 1) ? r : w), 1);
    rows.push(row('7', `  XADD rate ${fmt(big)} vs ${fmt(small)} (worst size / 10k)`, '×', 'higher', { riv: worst, naive: sizes.map((n) => med(sc[`naive_xadd_${n}`]) / med(sc[`naive_xadd_${small}`])).reduce((w, r) => (Math.abs(r - 1) > Math.abs(w - 1) ? r : w), 1) }, goalText('within ±20 %', Math.abs(worst - 1) <= 0.2)));
    for (const n of sizes) rows.push(row('7', `XRANGE seek (random ID, COUNT 1) at ${fmt(n)}`, 'µs/call', 'lower', { riv: sc[`riv_seek_${n}`], naive: sc[`naive_seek_${n}`] }));
    const seekRatio = med(sc[`riv_seek_${big}`]) / med(sc[`riv_seek_${small}`]);
    rows.push(row('7', `  seek ${fmt(big)} / seek ${fmt(small)}`, '×', 'lower', { riv: seekRatio, naive: med(sc[`naive_seek_${big}`]) / med(sc[`naive_seek_${small}`]) }, goalText('≤ 1.5×', seekRatio <= 1.5), sizes.length < 4 ? 'quick run stops at 1M; --full adds 10M' : ''));
  }
  const w = R.wasm3?.res;
  if (w) {
    rows.push(row('8', 'wasm3: XADD, 1 command per rv_feed (pywasm3)', 'ops/s', 'higher', { riv: w.xadd_single }, goalText('≥ 200k/s', med(w.xadd_single) >= 2e5), `includes Python binding cost (~${fmt(med(w.py_call_ns))} ns/call)`));
    const v8 = R.xadd?.res?.riv_rawfeed;
    rows.push(row('8', 'wasm3: XADD, 800 commands per rv_feed', 'entries/s', 'higher', { riv: w.xadd_batch }, goalText('≥ 200k/s', med(w.xadd_batch) >= 2e5), v8 ? `the interpreter-bound engine speed; V8 runs the same .wasm ${fmt(med(v8) / med(w.xadd_batch))}× faster (${fmt(med(v8))}/s)` : 'the interpreter-bound engine speed'));
    if (w.xadd_fast1) rows.push(row('8', 'wasm3: XADD fast path rv_xadd_batch, 1 row per crossing', 'ops/s', 'higher', { riv: w.xadd_fast1 }, goalText('≥ 200k/s', med(w.xadd_fast1) >= 2e5), 'no RESP; includes the Python binding cost'));
    if (w.xadd_fast) rows.push(row('8', 'wasm3: XADD fast path rv_xadd_batch, 2000 rows per crossing', 'entries/s', 'higher', { riv: w.xadd_fast }, goalText('≥ 200k/s', med(w.xadd_fast) >= 2e5)));
    const b4 = w.cap_budget4, b7 = w.cap_start_plus4;
    rows.push(row('8', `wasm3: sensor entries in 256 KiB linear memory (budget 4 pages)`, 'entries', 'higher', { riv: b4.entries_within_budget }, goalText('≥ 15,000', b4.entries_within_budget >= 15000), `engine starts at ${b4.start_pages} pages; it accepted ${b4.entries} before OOM but grew to ${b4.max_pages} pages`));
    rows.push(row('8', `wasm3: sensor entries in 256 KiB of data (budget ${b7.budget_pages} = start ${b7.start_pages} + 4 pages)`, 'entries', 'higher', { riv: b7.entries_within_budget }, goalText('≥ 15,000', b7.entries_within_budget >= 15000), `max pages seen ${b7.max_pages}`));
    rows.push(row('9', 'wasm3: parse + load + first call', 'ms', 'lower', { riv: w.instantiate_ms }));
  }
  const f = R.footprint?.res;
  if (f) {
    rows.push(row('9', 'rivulet.wasm size (gzip -9)', 'bytes', 'lower', { riv: f.wasm_gzip, mock: f.mock_closure_bytes, redis: f.redis_binary_bytes, redisLabel: 'redis-server binary' }, null, `raw ${fmt(f.wasm_bytes)} B, brotli ${fmt(f.wasm_brotli)} B, + ${fmt(f.dist_js_bytes)} B JS; ioredis-mock: installed size with ${f.mock_closure_packages} packages`));
    rows.push(row('9', 'rivulet.wasm raw size', 'bytes', 'lower', { riv: f.wasm_bytes, mock: f.mock_closure_bytes, redis: f.redis_binary_bytes, redisLabel: 'redis-server binary' }));
    rows.push(row('9', 'WebAssembly.compile (cold process)', 'ms', 'lower', { riv: f.riv_compileMs }));
    rows.push(row('9', 'instantiate (compiled module)', 'ms', 'lower', { riv: f.riv_instantiateMs }, null, `warm, same process: ${fmt(med(f.riv_warm_instantiate_ms))} ms`));
    rows.push(row('9', 'cold process: import → first reply (PING)', 'ms', 'lower', { riv: f.riv_firstReplyMs, mock: f.mock_firstReplyMs, redis: f.redis_start_ms, redisLabel: 'spawn → PONG' }));
    rows.push(row('9', 'process RSS after first reply', 'bytes', 'lower', { riv: f.riv_rss, mock: f.mock_rss, redis: f.redis_rss, redisLabel: 'idle redis-server' }, null, 'Node process incl. V8 vs native server'));
  }
  return rows.map((r, i) => [r, i]).sort((a, b) => +a[0].sec - +b[0].sec || a[1] - b[1]).map(([r]) => r);
}

const cell = (v, unit) => {
  const m = med(v);
  if (!Number.isFinite(m)) return '–';
  if (unit === 'B/entry' || unit === '×') return m.toFixed(2);
  if (unit === 'entries') return Math.round(m).toLocaleString('en');
  if (unit === 'bytes') return fmt(m) + 'B';
  return fmt(m);
};
const rcell = (r) => (Number.isFinite(r) ? (r >= 100 ? r.toFixed(0) : r >= 10 ? r.toFixed(1) : r >= 0.1 ? r.toFixed(2) : r.toPrecision(2)) + '×' : '–');
const met = (g) => (!g ? '' : g.met === null || g.met === undefined ? '?' : g.met ? 'MET' : 'MISSED');
const HEAD = ['§', 'metric', 'unit', 'Rivulet', 'naive JS', 'ioredis-mock', 'Redis', 'vs naive', 'vs mock', 'vs Redis', 'goal', 'met?'];

function cells(r) {
  return [r.sec, r.metric, r.unit, cell(r.riv, r.unit), cell(r.naive, r.unit), cell(r.mock, r.unit), cell(r.redis, r.unit) + (r.redisLabel && Number.isFinite(med(r.redis)) ? ` (${r.redisLabel})` : ''), rcell(r.vsNaive), rcell(r.vsMock), rcell(r.vsRedis), r.goal?.text ?? '', met(r.goal)];
}

export function renderConsole(rows, info) {
  const data = rows.map(cells);
  const w = HEAD.map((h, i) => Math.max(h.length, ...data.map((d) => String(d[i]).length)));
  const line = (d) => d.map((c, i) => (i <= 2 || i === 6 || i >= 10 ? String(c).padEnd(w[i]) : String(c).padStart(w[i]))).join('  ');
  const out = [];
  out.push(`Rivulet benchmarks — ${info.mode} run, median of ${info.runs} rounds, ${info.date}`);
  out.push(`machine: ${info.cpu}, ${info.ram}, ${info.os}; Node ${info.node}; Redis ${info.redis}; ${info.python}`);
  out.push(`wasm: ${info.wasm.path} (${info.wasm.bytes} B, sha256 ${info.wasm.sha256}); git ${info.git}; load avg at start ${info.loadavg}`);
  out.push('"vs X" = how many times better Rivulet is than X on that row (> 1 Rivulet wins, < 1 it loses).');
  out.push('');
  out.push(line(HEAD));
  out.push(w.map((n) => '-'.repeat(n)).join('  '));
  let sec = null;
  for (let i = 0; i < rows.length; i++) {
    if (sec !== null && rows[i].sec !== sec) out.push('');
    sec = rows[i].sec;
    out.push(line(data[i]));
  }
  const goals = rows.filter((r) => r.goal);
  out.push('');
  out.push(`goals: ${goals.filter((r) => r.goal.met === true).length} met, ${goals.filter((r) => r.goal.met === false).length} missed, ${goals.filter((r) => r.goal.met == null).length} not measured`);
  return out.join('\n');
}

const mdEsc = (s) => String(s).replace(/\|/g, '\\|');

export function renderMarkdown(rows, info, results, charts) {
  const o = [];
  o.push(`# Rivulet benchmark results (${info.mode} run)`);
  o.push('');
  o.push(`Generated by \`npm run bench${info.mode === 'full' ? ' -- --full' : ''}\` on ${info.date} (${info.totalSeconds} s). Every figure is the **median of ${info.runs} rounds** measured in this one run; comparators ran in the same run, interleaved where possible. Absolute numbers on a shared VM are noisy: read the ratios.`);
  o.push('');
  o.push('| machine | |');
  o.push('|---|---|');
  for (const [k, v] of [['CPU', info.cpu], ['RAM', info.ram], ['OS', info.os], ['load average at start', info.loadavg], ['Node', info.node], ['Redis', info.redis], ['wasm3', info.python], ['engine', `${info.wasm.path}, ${info.wasm.bytes} bytes, sha256 ${info.wasm.sha256}`], ['git', info.git]]) o.push(`| ${k} | ${mdEsc(v)} |`);
  o.push('');
  o.push('"vs X" = how many times better Rivulet is than X on that row (> 1: Rivulet wins; < 1: it loses). For throughput that is Rivulet / X; for time and bytes, X / Rivulet.');
  o.push('');
  o.push('| ' + HEAD.join(' | ') + ' | note |');
  o.push('|' + HEAD.map((_, i) => (i >= 3 && i <= 9 ? '---:' : '---')).join('|') + '|---|');
  for (const r of rows) {
    const c = cells(r).map(mdEsc);
    if (c[11] === 'MISSED') c[11] = '**MISSED**';
    o.push('| ' + c.join(' | ') + ' | ' + mdEsc(r.note) + ' |');
  }
  o.push('');
  const goals = rows.filter((r) => r.goal);
  o.push(`Goals: **${goals.filter((r) => r.goal.met === true).length} met**, **${goals.filter((r) => r.goal.met === false).length} missed**, ${goals.filter((r) => r.goal.met == null).length} not measured.`);
  o.push('');
  for (const ch of charts) o.push(`![${ch}](${ch})`, '');
  o.push('## Spread (min – max over rounds)', '');
  o.push('| suite | figure | median | min | max | n |');
  o.push('|---|---|---:|---:|---:|---:|');
  for (const [name, r] of Object.entries(results)) {
    if (r.error) {
      o.push(`| ${name} | **failed**: ${mdEsc(r.error)} | | | | |`);
      continue;
    }
    for (const [k, v] of Object.entries(r.res ?? {})) {
      if (v && typeof v === 'object' && 'median' in v) o.push(`| ${name} | ${k} | ${fmt(v.median)} | ${fmt(v.min)} | ${fmt(v.max)} | ${v.n} |`);
    }
  }
  o.push('');
  o.push('## Parameters', '');
  for (const [name, r] of Object.entries(results)) if (r.params) o.push(`- **${name}** (${r.seconds ?? '?'} s): \`${JSON.stringify(r.params)}\``);
  o.push('');
  o.push('See bench/README.md for what each figure measures and how.');
  return o.join('\n') + '\n';
}

export function renderCharts(R, mode) {
  const charts = {};
  const p = (name) => `${mode}-${name}.svg`;
  const x = R.xadd?.res;
  if (x) {
    const items = [
      ['Rivulet conn.xadd() 1 call/entry', x.riv_typed, 'rivulet'],
      ['Rivulet conn.call() 1 call/entry', x.riv_call, 'rivulet'],
      ['Rivulet conn.callRaw() 1 call/entry', x.riv_callraw, 'rivulet'],
      ['Rivulet conn.pipeline(1000)', x.riv_pipeline, 'rivulet'],
      ['Rivulet conn.pipelineRaw(1000)', x.riv_pipelineraw, 'rivulet'],
      ['Rivulet raw rv_feed (800 cmds/feed)', x.riv_rawfeed, 'rivulet'],
      ['Rivulet xaddBatch, 1 row/call', x.riv_xaddbatch1, 'rivulet'],
      ['Rivulet xaddBatch, 4000 rows/call', x.riv_xaddbatch, 'rivulet'],
      ['Rivulet raw rv_xadd_batch (3000 rows)', x.riv_rawbatch, 'rivulet'],
      ['naive JS array of objects', x.naive, 'naive'],
      ['ioredis-mock await (first 10k)', x.mock_await, 'mock'],
      ['ioredis-mock Promise.all×1000 (10k)', x.mock_batch, 'mock'],
      ['Redis via ioredis, await each', x.ioredis_await, 'redis'],
      ['Redis via ioredis, Promise.all×1000', x.ioredis_batch, 'redis'],
      ['Redis via ioredis pipeline() 10k', x.ioredis_pipeline, 'redis'],
      ['Redis redis-benchmark -c50 -P16', x.rb_p16, 'redis'],
      ['Redis redis-benchmark -c50 -P64', x.rb_p64, 'redis'],
    ].filter((i) => i[1]);
    charts[p('xadd')] = hbar({ title: 'XADD throughput (sensor entry: temperature 23.5 humidity 65)', subtitle: 'ops/s or entries/s, median; higher is better; dashed: 3M/s goal (1 call/entry)', unit: 'ops/s', log: true, goal: { value: 3e6, label: 'goal 3M/s' }, items: items.map(([label, v, kind]) => ({ label, value: med(v), kind })) });
  }
  const g = R.range?.res;
  if (g) {
    const items = [];
    for (const [k, label] of [['xrange_first_100', 'XRANGE - + COUNT 100'], ['xrange_mid_100', 'XRANGE mid + COUNT 100'], ['xrevrange_last_10', 'XREVRANGE + - COUNT 10'], ['xrange_mid_10', 'XRANGE mid + COUNT 10']]) {
      items.push({ label: `${label}: Rivulet → objects`, value: med(g[`riv_${k}`]), kind: 'rivulet' });
      if (g[`rivraw_${k}`]) items.push({ label: `${label}: Rivulet callRaw`, value: med(g[`rivraw_${k}`]), kind: 'rivulet' });
      items.push({ label: `${label}: naive JS`, value: med(g[`naive_${k}`]), kind: 'naive' });
      if (g[`redis_${k}`]) items.push({ label: `${label}: Redis ioredis → objects`, value: med(g[`redis_${k}`]), kind: 'redis' });
      if (g[`redissrv_${k}`]) items.push({ label: `${label}: Redis server-side`, value: med(g[`redissrv_${k}`]), kind: 'redis' });
      if (g[`mock10k_${k}`]) items.push({ label: `${label}: ioredis-mock (10k)`, value: med(g[`mock10k_${k}`]), kind: 'mock' });
    }
    charts[p('range')] = hbar({ title: 'Range reads on a 1M-entry stream', subtitle: 'µs per call, median; lower is better; dashed: 10 µs goal for COUNT 100', unit: 'µs', log: true, goal: { value: 10, label: 'goal 10 µs' }, items });
  }
  const c = R.groups?.res;
  if (c) {
    charts[p('groups')] = hbar({ title: 'XREADGROUP COUNT 100 + XACK over 1M entries', subtitle: 'entries delivered and acked per second, median; dashed: 2M/s goal', unit: 'entries/s', log: true, goal: { value: 2e6, label: 'goal 2M/s' }, items: [
      { label: 'Rivulet conn.call()', value: med(c.riv), kind: 'rivulet' },
      { label: 'naive JS (cursor + pending Map)', value: med(c.naive), kind: 'naive' },
      { label: 'Redis via ioredis (await XACK)', value: med(c.redis), kind: 'redis' },
      { label: 'ioredis-mock', value: NaN, kind: 'mock', note: 'unsupported' },
    ] });
  }
  const m = R.memory?.res;
  if (m) {
    const items = [];
    for (const kind of ['sensor', 'bus']) {
      items.push({ label: `${kind}: Rivulet used_memory`, value: med(m[`rivulet_${kind}_usedMemory`]), kind: 'rivulet' });
      items.push({ label: `${kind}: Rivulet wasm linear memory`, value: med(m[`rivulet_${kind}_linearMemory`]), kind: 'rivulet' });
      items.push({ label: `${kind}: Redis used_memory`, value: med(m[`redis_${kind}_usedMemory`]), kind: 'redis' });
      items.push({ label: `${kind}: Redis MEMORY USAGE`, value: med(m[`redis_${kind}_memoryUsage`]), kind: 'redis' });
      items.push({ label: `${kind}: naive JS heap`, value: med(m[`naive_${kind}_heap`]), kind: 'naive' });
      if (kind === 'sensor') items.push({ label: 'sensor: naive JS heap, shared strings', value: med(m.naive_const_sensor_heap), kind: 'naive' });
      items.push({ label: `${kind}: ioredis-mock heap (10k)`, value: med(m[`mock_${kind}_heap`]), kind: 'mock' });
    }
    charts[p('memory')] = hbar({ title: 'Memory per entry', subtitle: `bytes/entry, median; sensor 1M entries (6 value bytes), bus 100k (${fmt(R.memory.params.busValueBytesPerEntry)} value bytes); lower is better`, unit: 'B', log: true, items });
  }
  const s = R.server?.res;
  if (s) {
    const items = [];
    for (const P of [1, 16, 64]) {
      items.push({ label: `-P ${P}: Rivulet server (Node)`, value: med(s[`riv_p${P}`]), kind: 'rivulet', note: s[`riv_p${P}`] ? '' : 'not available' });
      items.push({ label: `-P ${P}: redis-server`, value: med(s[`redis_p${P}`]), kind: 'redis' });
    }
    charts[p('server')] = hbar({ title: 'RESP server: redis-benchmark XADD, 50 clients', subtitle: 'requests/s, median; higher is better', unit: 'ops/s', items });
  }
  const sc = R.scaling?.res;
  if (sc) {
    const sizes = R.scaling.params.SIZES;
    const base = med(sc[`riv_xadd_${sizes[0]}`]);
    charts[p('scaling-xadd')] = lines({ title: 'XADD rate vs stream length', subtitle: 'typed conn.xadd(), 1 call/entry; shaded: ±20 % of the Rivulet rate at 10k', xLabel: 'entries in the stream', yLabel: 'ops/s', logY: true, yZero: false, band: { lo: base * 0.8, hi: base * 1.2, label: '±20 %' }, series: [
      { name: 'Rivulet', kind: 'rivulet', points: sizes.map((n) => [n, med(sc[`riv_xadd_${n}`])]) },
      { name: 'naive JS', kind: 'naive', points: sizes.map((n) => [n, med(sc[`naive_xadd_${n}`])]) },
    ] });
    charts[p('scaling-seek')] = lines({ title: 'XRANGE seek latency vs stream length', subtitle: 'random ID, COUNT 1; Rivulet via callRaw; lower is better', xLabel: 'entries in the stream', yLabel: 'µs per call', series: [
      { name: 'Rivulet', kind: 'rivulet', points: sizes.map((n) => [n, med(sc[`riv_seek_${n}`])]) },
      { name: 'naive JS', kind: 'naive', points: sizes.map((n) => [n, med(sc[`naive_seek_${n}`])]) },
    ] });
  }
  return charts;
}
