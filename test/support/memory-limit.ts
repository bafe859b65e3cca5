// A copy of rivulet.wasm whose memory declares a maximum, so the host itself refuses growth past it
// (as wasm3's memory limit does on a device): a page budget test then fails by a trap, not silently.

function readLeb(b: Uint8Array, at: number): [number, number] {
  let v = 0, shift = 0, i = at;
  for (;;) {
    const x = b[i++];
    v += (x & 0x7f) * 2 ** shift;
    if (!(x & 0x80)) return [v, i];
    shift += 7;
  }
}

function leb(v: number): number[] {
  const out: number[] = [];
  do {
    let x = v & 0x7f;
    v = Math.floor(v / 128);
    if (v) x |= 0x80;
    out.push(x);
  } while (v);
  return out;
}

/** The module with its (single) memory's maximum set to `maxPages`. */
export function withMemoryMax(wasm: Uint8Array, maxPages: number): Uint8Array<ArrayBuffer> {
  let at = 8;
  while (at < wasm.length) {
    const id = wasm[at];
    const [size, body] = readLeb(wasm, at + 1);
    if (id === 5) {
      const [count, p] = readLeb(wasm, body);
      if (count !== 1) throw new Error('expected one memory');
      const flags = wasm[p];
      const [initial, q] = readLeb(wasm, p + 1);
      const end = flags & 1 ? readLeb(wasm, q)[1] : q;
      if (end !== body + size) throw new Error('unexpected memory section layout');
      const section = [1, 1, ...leb(initial), ...leb(maxPages)];
      return Uint8Array.from([...wasm.subarray(0, at), 5, ...leb(section.length), ...section, ...wasm.subarray(body + size)]);
    }
    at = body + size;
  }
  throw new Error('no memory section');
}
