// Unsigned LEB128, the integer encoding inside entry blocks.

/** End pointer after the last readVarint (AssemblyScript has no multi-value returns). */
export let varintEnd: usize = 0;

@inline export function readVarint(p: usize): u64 {
  let b = <u64>load<u8>(p);
  if (b < 0x80) { varintEnd = p + 1; return b; }
  let v: u64 = b & 0x7f;
  let shift: u64 = 7;
  p++;
  while (true) {
    b = <u64>load<u8>(p++);
    v |= (b & 0x7f) << shift;
    if (b < 0x80) break;
    shift += 7;
  }
  varintEnd = p;
  return v;
}

@inline export function varintSize(v: u64): u32 {
  let n: u32 = 1;
  while (v >= 0x80) { v >>= 7; n++; }
  return n;
}

@inline export function writeVarint(p: usize, v: u64): usize {
  while (v >= 0x80) { store<u8>(p++, <u8>(v | 0x80)); v >>= 7; }
  store<u8>(p++, <u8>v);
  return p;
}
