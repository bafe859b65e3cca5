/**
 * `rivulet` for browsers and bundlers (the `browser` export condition): fetches rivulet.wasm next to
 * this file and compiles it while it streams in (falls back to the whole body without a wasm MIME type).
 */
import { createEngineWith, type Engine, type EngineOptions } from './engine.js';
import { compileResponse, once } from './loader.js';

export * from './api.js';

/** The compiled rivulet.wasm of this package (fetched and compiled once per page or worker). */
export const loadModule = once(async () => compileResponse(await fetch(new URL('./rivulet.wasm', import.meta.url))));

/** Instantiates an engine (`options.wasm` overrides the packaged module). */
export function createEngine(options?: EngineOptions): Promise<Engine> {
  return createEngineWith(loadModule, options);
}
