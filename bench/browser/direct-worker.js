// The same per-call loop inside a worker, on an engine in that worker (no page round trip).
import { createEngine } from '/dist/bindings/entry.browser.js';

const median = (a) => [...a].sort((x, y) => x - y)[a.length >> 1];
const fields = { sensor: 'temp-1', value: '23.5', unit: 'C' };

onmessage = async (e) => {
  const { n, rounds } = e.data;
  const engine = await createEngine();
  const conn = engine.connect();
  const xadd = [], xrange = [];
  for (let r = 0; r < rounds; r++) {
    conn.call('DEL', 's');
    let t = performance.now();
    for (let i = 0; i < n; i++) await conn.xadd('s', fields);
    xadd.push(((performance.now() - t) * 1000) / n);
    for (let i = 0; i < n; i++) conn.xadd('s', fields);
    t = performance.now();
    for (let i = 0; i < n / 10; i++) await conn.xrange('s', '-', '+', { count: 100 });
    xrange.push(((performance.now() - t) * 1000) / (n / 10));
  }
  await engine.close();
  postMessage({ xaddUs: median(xadd), xrange100Us: median(xrange) });
};
