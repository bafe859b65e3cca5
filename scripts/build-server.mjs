#!/usr/bin/env node
// Builds the Node server host: hosts/node/cli.ts (and what it imports from hosts/node and bindings)
// bundled by esbuild into dist/server/cli.js (ESM, Node ≥ 18). rivulet.wasm is not embedded: the
// server reads ../bindings/rivulet.wasm next to its directory (dist/bindings/rivulet.wasm from `npm run build`), or
// build/rivulet.wasm in a checkout, or $RIVULET_WASM.
//
// Usage: node scripts/build-server.mjs [--outdir <dir>] [--copy-wasm]
//   default      dist/server/cli.js   (run after scripts/build.mjs, which empties dist/)
//   --outdir D   D/server/cli.js instead (tests use a private copy that a concurrent build cannot remove)
//   --copy-wasm  also copy the newest of build/rivulet.wasm and dist/bindings/rivulet.wasm to D/rivulet.wasm
// Run:   node dist/server/cli.js --help       or bin/rivulet --help
import { mkdirSync, existsSync, chmodSync, readFileSync, statSync, copyFileSync, renameSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const argv = process.argv.slice(2);
let outdir = join(ROOT, 'dist');
let copyWasm = false;
for (let i = 0; i < argv.length; i++) {
  if (argv[i] === '--outdir' && argv[i + 1]) outdir = resolve(argv[++i]);
  else if (argv[i] === '--copy-wasm') copyWasm = true;
  else {
    console.error(`build-server: unknown argument ${argv[i]} (usage: node scripts/build-server.mjs [--outdir <dir>] [--copy-wasm])`);
    process.exit(2);
  }
}
const OUT = join(outdir, 'server');
const t0 = Date.now();
const esbuild = await import('esbuild');
const version = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version ?? '0.0.0';
mkdirSync(OUT, { recursive: true });
await esbuild.build({
  entryPoints: [join(ROOT, 'hosts/node/cli.ts')],
  outfile: join(OUT, 'cli.js'),
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: 'node18',
  sourcemap: 'linked',
  define: { __RIVULET_VERSION__: JSON.stringify(version) },
  banner: { js: '#!/usr/bin/env node' },
  logLevel: 'warning',
});
chmodSync(join(OUT, 'cli.js'), 0o755);
const wasms = [join(ROOT, 'build/rivulet.wasm'), join(ROOT, 'dist/bindings/rivulet.wasm')]
  .filter(existsSync)
  .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs);
if (copyWasm && wasms.length) {
  const tmp = join(outdir, `rivulet.wasm.${process.pid}`);
  copyFileSync(wasms[0], tmp);
  renameSync(tmp, join(outdir, 'rivulet.wasm'));
}
console.log(
  `build-server: ${OUT.startsWith(ROOT) ? OUT.slice(ROOT.length + 1) : OUT}/cli.js v${version} (${Date.now() - t0} ms)` +
    (wasms.length ? `; rivulet.wasm: ${copyWasm ? 'copied from ' : ''}${wasms[0].slice(ROOT.length + 1)}` : '; WARNING: no rivulet.wasm yet, run npm run build'),
);
