/** Compiling `rivulet.wasm` once: shared by the entry files (each passes its own way to get bytes). */

/** What `createEngine({ wasm })` accepts: the bytes, a compiled Module, or a fetch Response (or its promise). */
export type WasmSource = BufferSource | WebAssembly.Module | Response | PromiseLike<Response>;

/**
 * Wraps an async loader so it runs once: concurrent and later callers share the same promise.
 * A failure is not cached (the next call tries again).
 */
export function once<T>(load: () => Promise<T>): () => Promise<T> {
  let pending: Promise<T> | null = null;
  return () => {
    if (pending === null) {
      pending = load();
      pending.catch(() => {
        pending = null;
      });
    }
    return pending;
  };
}

const compiled = new WeakMap<object, Promise<WebAssembly.Module>>();

/** What to do when rivulet.wasm could not be loaded from a URL (the end of every such error). */
const HOW_TO_SERVE =
  "serve the package's dist/bindings/rivulet.wasm at that URL (with a bundler that does not emit it, such as esbuild, copy it " +
  'next to the bundle; application/wasm compiles while downloading, any other type works too), or pass it yourself: ' +
  "createEngine({ wasm }) / openEngine({ wasm }) with its URL, bytes or a WebAssembly.Module — or import 'rivulet/inline', which needs no file";

/** Compiles streamed when the server says `application/wasm`, else from the whole body. */
export async function compileResponse(response: Response): Promise<WebAssembly.Module> {
  const url = response.url || 'rivulet.wasm';
  if (!response.ok) throw new Error(`rivulet: fetching ${url} failed: HTTP ${response.status}; ${HOW_TO_SERVE}`);
  const type = (response.headers.get('content-type') ?? '').split(';')[0].trim();
  try {
    if (typeof WebAssembly.compileStreaming === 'function' && type === 'application/wasm') return await WebAssembly.compileStreaming(response);
    return await WebAssembly.compile(await response.arrayBuffer());
  } catch (e) {
    throw new Error(`rivulet: ${url} is not rivulet.wasm (served as ${type || 'no content type'}: ${(e as Error).message}); ${HOW_TO_SERVE}`);
  }
}

/**
 * The URL of the running script, to find files next to it: `import.meta.url` in ES modules; in a
 * classic script or worker (an IIFE bundle, where bundlers leave `import.meta` empty) the script's
 * own URL, captured while it first runs. `meta` is the caller's `import.meta.url`.
 */
export function scriptUrl(meta: string | undefined): string {
  if (meta) return meta;
  if (classicScriptUrl) return classicScriptUrl;
  throw new Error("rivulet: this bundle has neither import.meta.url nor a script URL, so rivulet.wasm cannot be located: pass { wasm } (its URL, bytes or a Module) or import 'rivulet/inline'");
}

const classicScriptUrl: string | undefined = (() => {
  const g = globalThis as { document?: { currentScript?: { src?: string } | null }; location?: { href?: string }; importScripts?: unknown };
  if (g.document) return g.document.currentScript?.src || undefined;
  if (typeof g.importScripts === 'function') return g.location?.href; // a classic worker: its script
  return undefined;
})();

/**
 * The Module for a caller-supplied source; compiled once per source object (bytes are assumed not to
 * change after they were handed over).
 */
export function compileModule(source: WasmSource): Promise<WebAssembly.Module> {
  if (source instanceof WebAssembly.Module) return Promise.resolve(source);
  if (source === null || typeof source !== 'object') {
    return Promise.reject(new TypeError('rivulet: wasm must be bytes, a WebAssembly.Module or a Response'));
  }
  let p = compiled.get(source);
  if (!p) {
    if (source instanceof ArrayBuffer || ArrayBuffer.isView(source)) {
      p = WebAssembly.compile(source as BufferSource);
    } else if (typeof (source as PromiseLike<Response>).then === 'function') {
      p = Promise.resolve(source as PromiseLike<Response>).then(compileResponse);
    } else {
      p = compileResponse(source as Response);
    }
    compiled.set(source, p);
    p.catch(() => compiled.delete(source));
  }
  return p;
}

/** Decodes base64 (the inline build) without Node's Buffer. */
export function base64ToBytes(b64: string): Uint8Array<ArrayBuffer> {
  const bin = atob(b64);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}
