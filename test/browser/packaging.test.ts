/**
 * The package as users get it (npm pack, unpacked into a fresh project's node_modules), built the
 * ways people build web apps and run in real Chromium: each variant answers PING, XADD and XRANGE
 * in a page, in a worker of the page's own, and (where it ships one) through `rivulet/browser`'s
 * engine worker. A bundle whose rivulet.wasm is missing or mis-served, and an engine worker that
 * is not there, fail with errors that name the URL and say what to do.
 *
 *   esm        esbuild --format=esm, rivulet.wasm copied next to the bundle, the engine worker built
 *              from 'rivulet/browser/worker' as worker.js next to it (found by import.meta.url)
 *   iife       esbuild --format=iife: classic scripts and a classic worker; the wasm is found next to
 *              the script, the engine worker is passed by URL (no import.meta.url there)
 *   nobundle   no bundler: an import map to node_modules/rivulet/dist (module workers import by path)
 *   inline     'rivulet/inline' in an IIFE page and a classic worker: no wasm file served at all
 *   slim       'rivulet/slim': the page compiles the module and posts it to a worker
 *   vite       vite build: the wasm and both workers emitted by Vite from `new URL(…, import.meta.url)`
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { copyFileSync, cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { build as esbuild, type BuildOptions } from 'esbuild';
import { launchChromium, type Chromium } from './support/chromium.ts';
import { startStaticServer, type StaticServer } from './support/static-server.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const FIXTURES = resolve(import.meta.dirname, 'fixtures');
const EXPECTED = { pong: 'PONG', id: '1-1', range: [['1-1', ['f', 'v']]] };

let proj: string;
let out: string;
let srv: StaticServer;
let chrome: Chromium;
const sizes: Record<string, number> = {};

function html(dir: string, attrs: string, script: string): void {
  writeFileSync(join(dir, 'index.html'), `<!doctype html><html ${attrs}><meta charset="utf-8">${script}</html>\n`);
}

async function bundle(name: string, entries: Record<string, string>, format: 'esm' | 'iife', wasmTo?: string): Promise<string> {
  const dir = join(out, name);
  const opts: BuildOptions = {
    absWorkingDir: proj,
    entryPoints: Object.fromEntries(Object.entries(entries).map(([k, v]) => [k, join(proj, v)])),
    outdir: dir,
    bundle: true,
    format,
    platform: 'browser',
    target: 'es2022',
    logLevel: 'silent',
  };
  await esbuild(opts);
  if (wasmTo) {
    mkdirSync(join(dir, wasmTo, '..'), { recursive: true });
    copyFileSync(join(proj, 'node_modules/rivulet/dist/bindings/rivulet.wasm'), join(dir, wasmTo));
  }
  for (const f of readdirSync(dir)) if (f.endsWith('.js')) sizes[`${name}/${f}`] = statSync(join(dir, f)).size;
  return dir;
}

beforeAll(async () => {
  proj = mkdtempSync(join(tmpdir(), 'rivulet-webapp-'));
  out = join(proj, 'out');
  const tgz = execFileSync('npm', ['pack', '--silent', '--pack-destination', proj], { cwd: ROOT, encoding: 'utf8' }).trim().split('\n').pop()!;
  mkdirSync(join(proj, 'node_modules/rivulet'), { recursive: true });
  execFileSync('tar', ['-xzf', join(proj, tgz), '-C', join(proj, 'node_modules/rivulet'), '--strip-components=1']);
  cpSync(join(FIXTURES, 'app'), join(proj, 'src'), { recursive: true });
  cpSync(join(FIXTURES, 'vite'), join(proj, 'vite'), { recursive: true });
  writeFileSync(join(proj, 'src/engine-worker.js'), "import 'rivulet/browser/worker';\n");

  const app = { page: 'src/page.js', 'user-worker': 'src/user-worker.js', worker: 'src/engine-worker.js' };
  html(await bundle('esm', app, 'esm', 'rivulet.wasm'), '', '<script type="module" src="page.js"></script>');
  html(await bundle('iife', app, 'iife', 'rivulet.wasm'), 'data-worker-type="classic" data-engine-worker="worker.js"', '<script src="page.js"></script>');
  html(await bundle('inline', { 'inline-page': 'src/inline-page.js', 'inline-worker': 'src/inline-worker.js' }, 'iife'), 'data-worker-type="classic"', '<script src="inline-page.js"></script>');
  html(await bundle('slim', { 'slim-page': 'src/slim-page.js', 'slim-worker': 'src/slim-worker.js' }, 'esm', 'assets/rivulet.wasm'), '', '<script type="module" src="slim-page.js"></script>');
  html(await bundle('missing', { 'missing-wasm-page': 'src/missing-wasm-page.js' }, 'esm'), '', '<script type="module" src="missing-wasm-page.js"></script>');

  // no bundler: the sources as they are, an import map for the page; module workers import by path
  const nb = join(out, 'nobundle');
  mkdirSync(nb, { recursive: true });
  for (const f of ['page.js', 'check.js', 'check-worker.js']) copyFileSync(join(proj, 'src', f), join(nb, f));
  writeFileSync(join(nb, 'user-worker.js'), readFileSync(join(proj, 'src/user-worker.js'), 'utf8').replace("'rivulet'", "'/node_modules/rivulet/dist/bindings/entry.browser.js'"));
  const map = { imports: { rivulet: '/node_modules/rivulet/dist/bindings/entry.browser.js', 'rivulet/browser': '/node_modules/rivulet/dist/hosts/browser/client.js' } };
  html(nb, '', `<script type="importmap">${JSON.stringify(map)}</script><script type="module" src="page.js"></script>`);

  const { build: viteBuild } = await import('vite');
  await viteBuild({
    root: join(proj, 'vite'),
    base: '/vite/',
    configFile: false,
    logLevel: 'silent',
    worker: { format: 'es' },
    build: { outDir: join(out, 'vite'), emptyOutDir: true, minify: false },
  });

  srv = await startStaticServer({
    mounts: { '/': out, '/node_modules/': join(proj, 'node_modules') },
    routes: {
      '/missing/not-wasm.wasm': (_req, res) => {
        res.writeHead(200, { 'Content-Type': 'text/html' });
        res.end('<!doctype html><title>index</title>');
      },
    },
  });
  chrome = await launchChromium();
}, 180_000);

afterAll(async () => {
  await chrome?.stop();
  await srv?.stop();
  if (proj) rmSync(proj, { recursive: true, force: true });
  if (Object.keys(sizes).length) console.log('bundle sizes (bytes):', JSON.stringify(sizes));
});

async function results(path: string): Promise<Record<string, unknown>> {
  const page = await chrome.context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  try {
    await page.goto(srv.url(path));
    await page.waitForFunction(() => (window as unknown as { results?: unknown }).results !== undefined, null, { timeout: 30_000 });
    const r = await page.evaluate(() => (window as unknown as { results: Promise<Record<string, unknown>> }).results);
    expect(errors).toEqual([]);
    return r;
  } finally {
    await page.close();
  }
}

describe('the package in Chromium, built the ways web apps are built', () => {
  it('esbuild ESM: page, own worker and the engine worker (wasm copied next to the bundle)', async () => {
    expect(await results('/esm/')).toEqual({ page: EXPECTED, worker: EXPECTED, host: EXPECTED });
    expect(srv.requests).toContain('/esm/rivulet.wasm');
    expect(srv.requests).toContain('/esm/worker.js');
  });

  it('esbuild IIFE: classic scripts and workers find rivulet.wasm next to themselves', async () => {
    expect(await results('/iife/')).toEqual({ page: EXPECTED, worker: EXPECTED, host: EXPECTED });
    expect(srv.requests).toContain('/iife/rivulet.wasm');
  });

  it('no bundler: an import map to dist/ (the engine worker is dist/hosts/browser/worker.js)', async () => {
    expect(await results('/nobundle/')).toEqual({ page: EXPECTED, worker: EXPECTED, host: EXPECTED });
    expect(srv.requests).toContain('/node_modules/rivulet/dist/hosts/browser/worker.js');
  });

  it("'rivulet/inline' needs no wasm file (IIFE page and classic worker)", async () => {
    const before = srv.requests.length;
    expect(await results('/inline/')).toEqual({ page: EXPECTED, worker: EXPECTED });
    expect(srv.requests.slice(before).filter((p) => p.endsWith('.wasm'))).toEqual([]);
  });

  it("'rivulet/slim' with a Module compiled once by the page and posted to a worker", async () => {
    expect(await results('/slim/')).toEqual({ page: EXPECTED, worker: EXPECTED });
    expect(srv.requests.filter((p) => p === '/slim/assets/rivulet.wasm')).toHaveLength(1);
  });

  it('Vite: the wasm and both workers are emitted as assets', async () => {
    expect(await results('/vite/')).toEqual({ page: EXPECTED, worker: EXPECTED, host: EXPECTED });
    expect(readdirSync(join(out, 'vite/assets')).some((f) => f.endsWith('.wasm'))).toBe(true);
  });

  it('a missing or mis-served rivulet.wasm and a missing engine worker: errors that name the URL and what to do', async () => {
    const r = (await results('/missing/')) as Record<string, string>;
    expect(r.missing).toContain(`fetching ${srv.origin}/missing/rivulet.wasm failed: HTTP 404`);
    expect(r.missing).toContain("serve the package's dist/bindings/rivulet.wasm at that URL");
    expect(r.missing).toContain('createEngine({ wasm })');
    expect(r.misserved).toContain(`${srv.origin}/missing/not-wasm.wasm is not rivulet.wasm (served as text/html`);
    expect(r.noWorker).toContain('the engine worker failed to start from nowhere.js');
    expect(r.noWorker).toContain("bundle 'rivulet/browser/worker'");
  });
});
