#!/usr/bin/env node
// Packaging check: `npm pack` the repo (dist/ must be built: npm run build), install the tarball
// into a fresh project in a temp dir (offline: the package has no runtime dependencies), and use it
// the ways a user would:
//   node-esm      import 'rivulet' (node condition → reads dist/bindings/rivulet.wasm from disk)
//   slim          import 'rivulet/slim' + the bytes of 'rivulet/rivulet.wasm'
//   default       dist/bindings/entry.default.js (inline base64 wasm; no fs, no fetch)
//   browser       dist/bindings/entry.browser.js with fetch() served from disk (compileStreaming path)
//   keepalive     a pending blocked read keeps the process open; an idle engine does not
//   types         tsc over a .ts file importing 'rivulet' and 'rivulet/slim' (the `types` conditions)
// Prints one JSON object: { tarball, files, results: { name: output | { error } } }.
// Exit code 0 when every check ran (assertions live in test/packaging.test.ts).
//
// Usage: node test/packaging/run.mjs [--keep]   (--keep leaves the temp project for inspection)
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const NPM = process.platform === 'win32' ? 'npm.cmd' : 'npm';

function sh(cmd, args, cwd) {
  return execFileSync(cmd, args, {
    cwd,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    maxBuffer: 64 << 20,
    timeout: 60_000,
  });
}

/** The scripts run inside the installed project; each prints one JSON line. */
const FIXTURES = {
  'node-esm.mjs': `
    import { createEngine, Engine, ReplyError } from 'rivulet';
    const engine = await createEngine({ clock: () => 1000 });
    const conn = engine.connect();
    const id = await conn.call('XADD', 's', '*', 'temp', '23.5');
    const raw = new TextDecoder().decode(await conn.callRaw('XRANGE', 's', '-', '+'));
    let error = null;
    try { conn.call('XADD', 's', '0-0', 'a', 'b'); } catch (e) { error = e instanceof ReplyError ? e.message : String(e); }
    console.log(JSON.stringify({ isEngine: engine instanceof Engine, id, raw, xlen: conn.xlen('s'), error }));
    engine.close();
  `,
  'slim.mjs': `
    import { readFile } from 'node:fs/promises';
    import { fileURLToPath } from 'node:url';
    import { createEngine } from 'rivulet/slim';
    const wasmPath = fileURLToPath(import.meta.resolve('rivulet/rivulet.wasm'));
    let missing = null;
    try { await createEngine({}); } catch (e) { missing = e.name; }
    const engine = await createEngine({ wasm: await readFile(wasmPath), clock: () => 2000 });
    const conn = engine.connect();
    console.log(JSON.stringify({ id: conn.xadd('s', { a: 1 }), xlen: conn.xlen('s'), missing, wasmPath: wasmPath.split('node_modules/')[1] }));
    engine.close();
  `,
  'default.mjs': `
    const { createEngine } = await import(new URL('./node_modules/rivulet/dist/bindings/entry.default.js', import.meta.url));
    const engine = await createEngine({ clock: () => 3000 });
    const conn = engine.connect();
    console.log(JSON.stringify({ id: conn.xadd('s', { a: 1 }), xlen: conn.xlen('s') }));
    engine.close();
  `,
  'browser.mjs': `
    import { readFile } from 'node:fs/promises';
    const fetched = [];
    globalThis.fetch = async (url) => {
      fetched.push(String(url).split('node_modules/')[1]);
      return new Response(await readFile(new URL(url)), { headers: { 'content-type': 'application/wasm' } });
    };
    const { createEngine } = await import(new URL('./node_modules/rivulet/dist/bindings/entry.browser.js', import.meta.url));
    const [e1, e2] = await Promise.all([createEngine({ clock: () => 4000 }), createEngine()]);
    const conn = e1.connect();
    console.log(JSON.stringify({ id: conn.xadd('s', { a: 1 }), fetched }));
    e1.close();
    e2.close();
  `,
  // event-loop policy: a pending blocked read holds the process open (its timeout still fires, a
  // BLOCK 0 waits for its abort timer even though that timer is unref'd); an idle engine that was
  // never closed does not keep the process alive (the runner's timeout catches a hang)
  'keepalive.mjs': `
    import { createEngine } from 'rivulet';
    const engine = await createEngine();
    const conn = engine.connect();
    const t = Date.now();
    const timedOut = await conn.xread({ s: '$' }, { block: 200 });
    const waited = Date.now() - t >= 190;
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 300).unref();
    let aborted = null;
    try { await conn.xread({ s: '$' }, { block: 0, signal: ac.signal }); } catch (e) { aborted = e.name; }
    console.log(JSON.stringify({ timedOut, waited, aborted }));
  `,
  'check.ts': `
    import { createEngine, type Engine, type StreamEntry, ReplyError } from 'rivulet';
    import { createEngine as createSlim } from 'rivulet/slim';
    export async function main(bytes: Uint8Array<ArrayBuffer>): Promise<string | null> {
      const engine: Engine = await createEngine({ clock: () => 0, maxmemory: 1 << 20 });
      const slim: Engine = await createSlim({ wasm: bytes });
      const conn = engine.connect();
      const id: string | null = await conn.xadd('s', { a: 1 }, { maxlen: 10, approx: true });
      const entries: StreamEntry[] = await conn.xrange('s');
      const err: ReplyError | null = null;
      slim.close();
      return id ?? entries[0]?.id ?? err;
    }
  `,
  'tsconfig.json': JSON.stringify({
    compilerOptions: {
      target: 'es2022',
      module: 'nodenext',
      moduleResolution: 'nodenext',
      lib: ['es2022', 'dom'],
      types: [],
      strict: true,
      noEmit: true,
    },
    files: ['check.ts'],
  }),
};

export function runPackaging({ keep = false } = {}) {
  if (!existsSync(join(ROOT, 'dist', 'bindings', 'entry.node.js')) || !existsSync(join(ROOT, 'dist', 'bindings', 'rivulet.wasm'))) {
    throw new Error('dist/ is not built: run npm run build first');
  }
  const tmp = mkdtempSync(join(tmpdir(), 'rivulet-packaging-'));
  try {
    const packed = JSON.parse(sh(NPM, ['pack', '--json', '--pack-destination', tmp], ROOT));
    const tarball = join(tmp, packed[0].filename);
    const files = packed[0].files.map((f) => f.path).sort();

    const project = join(tmp, 'project');
    execFileSync('mkdir', ['-p', project]);
    writeFileSync(
      join(project, 'package.json'),
      JSON.stringify({ name: 'rivulet-packaging-fixture', private: true, type: 'module' }, null, 2),
    );
    sh(NPM, ['install', tarball, '--offline', '--no-audit', '--no-fund', '--ignore-scripts', '--loglevel=error'], project);
    for (const [name, text] of Object.entries(FIXTURES)) writeFileSync(join(project, name), text);

    const results = {};
    for (const name of Object.keys(FIXTURES).filter((n) => n.endsWith('.mjs'))) {
      try {
        results[name.replace(/\.mjs$/, '')] = JSON.parse(sh(process.execPath, [name], project).trim());
      } catch (e) {
        results[name.replace(/\.mjs$/, '')] = { error: String(e.stderr || e.message).slice(0, 2000) };
      }
    }
    try {
      sh(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', project], project);
      results.types = { ok: true };
    } catch (e) {
      results.types = { error: String(e.stdout || '') + String(e.stderr || e.message) };
    }
    return { tarball: packed[0].filename, files, results, ...(keep ? { project } : {}) };
  } finally {
    if (!keep) rmSync(tmp, { recursive: true, force: true });
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  console.log(JSON.stringify(runPackaging({ keep: process.argv.includes('--keep') }), null, 2));
}
