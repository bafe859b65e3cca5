/**
 * `rivulet` for browsers and bundlers (the `browser` export condition): fetches rivulet.wasm next to
 * this file — next to the bundle once bundled, next to the script in a classic (IIFE) build — and
 * compiles it while it streams in (falls back to the whole body without a wasm MIME type).
 */
import { createEngineWith, type Engine, type EngineOptions } from './engine.js';
import { compileResponse, once, scriptUrl } from './loader.js';

export * from './api.js';

/** The compiled rivulet.wasm of this package (fetched and compiled once per page or worker). */
export const loadModule = once(async () => {
  // the literal `new URL(…, import.meta.url)` form is what Vite and webpack rewrite to the emitted asset
  const url = import.meta.url ? new URL('./rivulet.wasm', import.meta.url) : new URL('./rivulet.wasm', scriptUrl(undefined));
  let res: Response;
  try {
    res = await fetch(url);
  } catch (e) {
    throw new Error(`rivulet: fetching ${url.href} failed (${(e as Error).message}); pass createEngine({ wasm }) its URL, bytes or a Module, or import 'rivulet/inline'`);
  }
  return compileResponse(res);
});

/** Instantiates an engine (`options.wasm` overrides the packaged module). */
export function createEngine(options?: EngineOptions): Promise<Engine> {
  return createEngineWith(loadModule, options);
}
