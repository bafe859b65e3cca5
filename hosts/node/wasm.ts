/** Where the server finds rivulet.wasm: $RIVULET_WASM, else next to the package or checkout. */
import { existsSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export function findWasm(): string {
  if (process.env.RIVULET_WASM) {
    if (!existsSync(process.env.RIVULET_WASM)) throw new Error(`RIVULET_WASM=${process.env.RIVULET_WASM} does not exist`);
    return process.env.RIVULET_WASM;
  }
  const here = dirname(fileURLToPath(import.meta.url));
  const candidates = [
    resolve(here, '../bindings/rivulet.wasm'), // dist/server/cli.js → dist/bindings/rivulet.wasm
    resolve(here, '../rivulet.wasm'), // a private copy next to its server/ (tests)
    resolve(here, '../../build/rivulet.wasm'), // hosts/node/*.ts or dist/server → build/
    resolve(here, '../../dist/bindings/rivulet.wasm'),
  ];
  // in a checkout both dist/ and build/ may exist: the newest wins
  const found = [...new Set(candidates)].filter((p) => existsSync(p)).sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs);
  if (found.length) return found[0];
  throw new Error(`rivulet.wasm not found (looked at ${candidates.join(', ')}); run npm run build`);
}
