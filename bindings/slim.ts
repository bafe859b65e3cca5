/**
 * `rivulet/slim`: the whole API without any wasm. Bring the module yourself — bytes, a compiled
 * `WebAssembly.Module` (compile once, share across engines and workers) or a fetch `Response`.
 * The path libraries built on Rivulet should depend on.
 *
 * ```ts
 * import { createEngine } from 'rivulet/slim';
 * const engine = await createEngine({ wasm: await fetch('/assets/rivulet.wasm') });
 * ```
 */
import { createEngineWith, type Engine, type EngineOptions } from './engine.js';
import type { WasmSource } from './loader.js';

export * from './api.js';

/** Instantiates an engine from the caller's wasm (`options.wasm` is required). */
export function createEngine(options: EngineOptions & { wasm: WasmSource }): Promise<Engine> {
  return createEngineWith(null, options);
}
