// The data sets of perf-anchors.md, generated identically for every contender.
import { prng } from './common.mjs';

export const SENSOR_FIELDS = ['temperature', '23.5', 'humidity', '65'];
export const SENSOR_XADD = ['XADD', 's', '*', ...SENSOR_FIELDS];

/** Flat one-byte string (as a RESP parser would produce), not a slice/cons of another string. */
export const flat = (s) => Buffer.from(s, 'latin1').toString('latin1');

/** RESP multibulk bytes of one command (ASCII args). */
export function resp(args) {
  let s = `*${args.length}\r\n`;
  for (const a of args) {
    const v = String(a);
    s += `$${Buffer.byteLength(v)}\r\n${v}\r\n`;
  }
  return Buffer.from(s, 'latin1');
}

/** `count` copies of a command's RESP bytes back to back. */
export function repeatResp(args, count) {
  const one = resp(args);
  const out = Buffer.allocUnsafe(one.length * count);
  for (let i = 0; i < count; i++) one.copy(out, i * one.length);
  return out;
}

const TYPES = ['order.created', 'order.paid', 'order.shipped', 'user.signup', 'cart.updated'];

function uuid4(rnd) {
  const h = [];
  for (let i = 0; i < 16; i++) h.push((rnd() * 256) | 0);
  h[6] = (h[6] & 0x0f) | 0x40;
  h[8] = (h[8] & 0x3f) | 0x80;
  const x = h.map((b) => b.toString(16).padStart(2, '0')).join('');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
}

/**
 * "bus" entries (perf-anchors.md §1c): `id` = UUIDv4, `payload` = ~125-byte JSON event. Seeded, so the
 * same n gives the same bytes in every process. Returns field arrays ['id', uuid, 'payload', json].
 */
export function busEntries(n, seed = 1) {
  const rnd = prng(seed);
  const int = (a, b) => a + Math.floor(rnd() * (b - a + 1));
  const out = new Array(n);
  for (let i = 0; i < n; i++) {
    const p = JSON.stringify({
      type: TYPES[int(0, TYPES.length - 1)],
      orderId: int(1, 1e7),
      userId: 'u-' + String(int(0, 999999)).padStart(6, '0'),
      amount: Math.round((1 + rnd() * 998) * 100) / 100,
      currency: 'EUR',
      ts: 1712345678901 + i,
      src: 'web',
    });
    out[i] = ['id', flat(uuid4(rnd)), 'payload', flat(p)];
  }
  return out;
}

/** RESP bytes of `XADD key * <fields>` for every entry, as chunks of ≤ chunkBytes (whole commands). */
export function respChunks(key, entries, chunkBytes = 60000) {
  const chunks = [];
  let parts = [];
  let size = 0;
  for (const f of entries) {
    const b = resp(['XADD', key, '*', ...f]);
    if (size + b.length > chunkBytes && parts.length) {
      chunks.push(Buffer.concat(parts, size));
      parts = [];
      size = 0;
    }
    parts.push(b);
    size += b.length;
  }
  if (parts.length) chunks.push(Buffer.concat(parts, size));
  return chunks;
}
