/**
 * `rivulet` for Node (the `node` export condition): reads rivulet.wasm from disk next to this file
 * (dist/), or from build/ when run from the source tree.
 */
import { readFile } from 'node:fs/promises';
import { createEngineWith, type Engine, type EngineOptions } from './engine.js';
import { once } from './loader.js';

export * from './api.js';

const candidates = [new URL('./rivulet.wasm', import.meta.url), new URL('../build/rivulet.wasm', import.meta.url)];

/** The compiled rivulet.wasm of this package (compiled once per process). */
export const loadModule = once(async () => {
  for (const url of candidates) {
    const bytes = await readFile(url).catch((e: { code?: string }) => {
      if (e.code === 'ENOENT') return null;
      throw e;
    });
    if (bytes) return WebAssembly.compile(bytes);
  }
  throw new Error(`rivulet: rivulet.wasm not found (looked at ${candidates.map(String).join(', ')}); run npm run build`);
});

/** Instantiates an engine (`options.wasm` overrides the packaged module). */
export function createEngine(options?: EngineOptions): Promise<Engine> {
  return createEngineWith(loadModule, options);
}
