/**
 * `rivulet` for Node (the `node` export condition): reads rivulet.wasm from disk next to this file
 * (dist/), or from build/ when run from the source tree.
 */
import { readFile } from 'node:fs/promises';
import { createEngineWith, type Engine, type EngineOptions } from './engine.js';
import { once } from './loader.js';
import { FileStorage } from '../hosts/node/fs-storage.js';

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

export interface NodeEngineOptions extends EngineOptions {
  /**
   * A data directory (created if missing): the engine loads it at start and persists every write
   * there — the same AOF and snapshot files `rivulet serve --dir` uses, so either can open what the
   * other wrote (one owner at a time). Without it (and without `storage`) the engine is in memory.
   */
  dir?: string;
}

/** Instantiates an engine (`options.wasm` overrides the packaged module). */
export function createEngine(options: NodeEngineOptions = {}): Promise<Engine> {
  const { dir, ...rest } = options;
  return createEngineWith(loadModule, dir !== undefined && !rest.storage ? { ...rest, storage: new FileStorage(dir) } : rest);
}
