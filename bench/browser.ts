/**
 * Browser-host figures in headless Chromium (`npx vite-node bench/browser.ts`, after npm run build):
 *
 *   cold start      page navigation (and openEngine) → first reply of the engine worker (memory, OPFS),
 *                   the package loaded from dist/ without a bundler; median of runs
 *   per call        µs per XADD awaited one at a time and per XRANGE COUNT 100 (→ objects), from the page
 *                   through the worker, against the same loop on an engine inside a worker (no hop);
 *                   plus XADDs issued in one turn (one message each way)
 *   AOF to OPFS     entries/s and MB/s of AOF written in pipelined batches, appendfsync always / everysec
 *
 * Options: --runs N (default 5), --n N calls per round (default 2000). Prints one JSON object.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { launchChromium } from '../test/browser/support/chromium.ts';
import { startStaticServer } from '../test/browser/support/static-server.ts';

const arg = (name: string, def: number) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : def;
};
const RUNS = arg('--runs', 5);
const N = arg('--n', 2000);
const ROOT = resolve(import.meta.dirname, '..');
const median = (a: number[]) => [...a].sort((x, y) => x - y)[a.length >> 1];

const srv = await startStaticServer({ mounts: { '/bench/': resolve(ROOT, 'bench/browser'), '/dist/': resolve(ROOT, 'dist') } });
const profile = mkdtempSync(join(tmpdir(), 'rivulet-bench-'));
const chrome = await launchChromium({ userDataDir: profile }); // on disk, so OPFS writes reach a file system
type Bench = Record<string, (...a: unknown[]) => Promise<unknown>>;
try {
  const cold: Record<string, number[]> = { memory: [], opfs: [] };
  const open: Record<string, number[]> = { memory: [], opfs: [] };
  for (let r = 0; r < RUNS; r++) {
    for (const storage of ['memory', 'opfs']) {
      const page = await chrome.context.newPage();
      await page.goto(srv.url('/bench/page.html'));
      await page.waitForFunction(() => (window as unknown as { ready?: boolean }).ready);
      const r = (await page.evaluate((s) => (window as unknown as { bench: Bench }).bench.coldStart(s), storage)) as { sinceNavigation: number; openToFirstReply: number };
      cold[storage].push(r.sinceNavigation);
      open[storage].push(r.openToFirstReply);
      await page.close();
    }
  }
  const page = await chrome.context.newPage();
  await page.goto(srv.url('/bench/page.html'));
  await page.waitForFunction(() => (window as unknown as { ready?: boolean }).ready);
  const run = (fn: string, ...a: unknown[]) => page.evaluate(([f, a]) => (window as unknown as { bench: Bench }).bench[f as string](...(a as unknown[])), [fn, a] as const);
  const viaWorker = await run('viaWorker', N, RUNS);
  const direct = await run('direct', N, RUNS);
  const aofAlways = await run('aof', 'always', 50_000, 100);
  const aofEverysec = await run('aof', 'everysec', 50_000, 100);
  const aofAlwaysSingle = await run('aof', 'always', 2_000, 1);
  console.log(
    JSON.stringify(
      {
        chromium: await chrome.browser.version(),
        coldStartMs: {
          navigationToFirstReply: { memory: +median(cold.memory).toFixed(1), opfs: +median(cold.opfs).toFixed(1) },
          openEngineToFirstReply: { memory: +median(open.memory).toFixed(1), opfs: +median(open.opfs).toFixed(1) },
        },
        loadAverage: (await import('node:os')).loadavg().map((x) => +x.toFixed(1)),
        perCall: { pageViaWorker: viaWorker, inWorkerDirect: direct },
        aofToOpfs: { always_batch100: aofAlways, everysec_batch100: aofEverysec, always_one_at_a_time: aofAlwaysSingle },
      },
      null,
      2,
    ),
  );
} finally {
  await chrome.stop();
  await srv.stop();
  rmSync(profile, { recursive: true, force: true });
}
