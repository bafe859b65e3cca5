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

/** Compiles streamed when the server says `application/wasm`, else from the whole body. */
export async function compileResponse(response: Response): Promise<WebAssembly.Module> {
  if (!response.ok) throw new Error(`rivulet: fetching ${response.url || 'rivulet.wasm'} failed: HTTP ${response.status}`);
  const type = response.headers.get('content-type') ?? '';
  if (typeof WebAssembly.compileStreaming === 'function' && type.split(';')[0].trim() === 'application/wasm') {
    return WebAssembly.compileStreaming(response);
  }
  return WebAssembly.compile(await response.arrayBuffer());
}

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
