/**
 * The browser-test infrastructure itself: the static server (MIME types, no caching, 404s), and
 * Chromium started, driven and stopped by pid — with the built package's browser entry answering
 * PING in a real page (no bundler: an import map to dist/).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { startStaticServer, type StaticServer } from './support/static-server.ts';
import { launchChromium, type Chromium } from './support/chromium.ts';

const ROOT = resolve(import.meta.dirname, '../..');
let srv: StaticServer;
let chrome: Chromium;
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'rivulet-infra-'));
  writeFileSync(
    join(dir, 'index.html'),
    `<!doctype html><script type="importmap">{"imports":{"rivulet":"/dist/bindings/entry.browser.js"}}</script>
     <script type="module">
       import { createEngine } from 'rivulet';
       const engine = await createEngine();
       window.result = engine.connect().call('PING');
     </script>`,
  );
  srv = await startStaticServer({ mounts: { '/': dir, '/dist/': join(ROOT, 'dist') } });
  chrome = await launchChromium();
});

afterAll(async () => {
  await chrome?.stop();
  await srv?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('browser test infrastructure', () => {
  it('serves .wasm as application/wasm, uncached, and 404s what is not there', async () => {
    const wasm = await fetch(srv.url('/dist/bindings/rivulet.wasm'));
    expect(wasm.status).toBe(200);
    expect(wasm.headers.get('content-type')).toBe('application/wasm');
    expect(wasm.headers.get('cache-control')).toBe('no-store');
    expect(new Uint8Array(await wasm.arrayBuffer()).subarray(0, 4)).toEqual(new Uint8Array([0, 0x61, 0x73, 0x6d]));
    expect((await fetch(srv.url('/dist/../package.json'))).status).toBe(404);
    expect((await fetch(srv.url('/nothing.js'))).status).toBe(404);
  });

  it('runs the engine in a headless Chromium page and stops the browser by pid', async () => {
    const page = await chrome.context.newPage();
    await page.goto(srv.url('/'));
    await page.waitForFunction(() => (window as unknown as { result?: string }).result !== undefined);
    expect(await page.evaluate(() => (window as unknown as { result: string }).result)).toBe('PONG');
    expect(srv.requests).toContain('/dist/bindings/rivulet.wasm');
    await page.close();
    const other = await launchChromium();
    const pid = other.pid;
    expect(() => process.kill(pid, 0)).not.toThrow();
    await other.stop();
    expect(() => process.kill(pid, 0)).toThrow();
  });
});
