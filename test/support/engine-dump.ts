// Whole-dataset helpers over a RawEngine: run a command, load persisted bytes the way a host replays a
// file, and dump everything a client can observe (per db: keys, strings, XRANGE and XINFO STREAM FULL
// of every stream) as one comparable string.
import { RawEngine } from '../../bindings/raw.ts';
import { encodeCommand, decodeReply, ReplyError, type RespValue } from '../../bindings/resp.ts';

const latin1 = new TextDecoder('latin1');

/** Runs one command on `conn` and returns its decoded reply (bulk strings as latin1 text). */
export function call(raw: RawEngine, conn: number, args: ReadonlyArray<string | Uint8Array>, now: number): RespValue {
  raw.feedBytes(conn, encodeCommand(args), now);
  const out = raw.readAll(conn);
  const r = decodeReply(out, 0, out.length, { buffers: true });
  if (!r) throw new Error(`no complete reply to ${args[0]}`);
  return text(r.value);
}

function text(v: RespValue): RespValue {
  if (v instanceof Uint8Array) return latin1.decode(v);
  if (Array.isArray(v)) return v.map(text);
  return v;
}

/** Feeds `chunks` on a loading connection (rv_set_loading) at `now`; throws on the first error reply. */
export function load(raw: RawEngine, chunks: Uint8Array[], now: number, conn = 999): void {
  raw.open(conn);
  raw.setLoading(conn, true);
  let pending = new Uint8Array(0);
  for (const c of chunks) {
    for (let at = 0; at < c.length; at += raw.scratchCap) {
      raw.feedBytes(conn, c.subarray(at, Math.min(c.length, at + raw.scratchCap)), now);
      const out = raw.readAll(conn);
      const all = new Uint8Array(pending.length + out.length);
      all.set(pending);
      all.set(out, pending.length);
      let pos = 0;
      for (;;) {
        const r = decodeReply(all, pos, all.length);
        if (!r) break;
        if (r.value instanceof ReplyError) throw new Error(`loading: ${r.value.message}`);
        pos = r.next;
      }
      pending = all.slice(pos);
    }
  }
  raw.setLoading(conn, false);
  raw.close(conn);
}

/** RESP2 flat [k, v, k, v …] → object. */
function pairs(v: RespValue): Record<string, RespValue> {
  const a = v as RespValue[];
  const o: Record<string, RespValue> = {};
  for (let i = 0; i < a.length; i += 2) o[String(a[i])] = a[i + 1];
  return o;
}

/**
 * XINFO STREAM FULL without what depends on the block layout or on when the data was loaded, and
 * without pending entries whose stream entry is gone: like Redis's AOF rewrite, a snapshot restores
 * the PEL with XCLAIM … FORCE, which drops such references (docs/PERSISTENCE.md).
 */
function streamInfo(v: RespValue): Record<string, RespValue> {
  const o = pairs(v);
  delete o['radix-tree-keys'];
  delete o['radix-tree-nodes'];
  const exists = new Set((o.entries as RespValue[][]).map((e) => String(e[0])));
  const live = (pending: RespValue) => (pending as RespValue[][]).filter((p) => exists.has(String(p[0])));
  o.groups = (o.groups as RespValue[]).map((g) => {
    const go = pairs(g);
    go.pending = live(go.pending);
    go['pel-count'] = (go.pending as RespValue[]).length;
    go.consumers = (go.consumers as RespValue[]).map((c) => {
      const co = pairs(c);
      delete co['seen-time'];
      delete co['active-time'];
      co.pending = live(co.pending);
      co['pel-count'] = (co.pending as RespValue[]).length;
      return co;
    }) as unknown as RespValue;
    return go as unknown as RespValue;
  }) as unknown as RespValue;
  return o;
}

/** Everything a client can read, per database (connection `conn` must exist; it ends on db 0). */
export function dump(raw: RawEngine, conn: number, now: number): string {
  const out: Record<string, unknown> = {};
  for (let db = 0; db < 16; db++) {
    call(raw, conn, ['SELECT', String(db)], now);
    const keys = (call(raw, conn, ['KEYS', '*'], now) as string[]).slice().sort();
    if (keys.length === 0) continue;
    const d: Record<string, unknown> = {};
    for (const k of keys) {
      const type = call(raw, conn, ['TYPE', k], now);
      if (type === 'string') d[k] = { string: call(raw, conn, ['GET', k], now) };
      else d[k] = {
        entries: call(raw, conn, ['XRANGE', k, '-', '+'], now),
        info: streamInfo(call(raw, conn, ['XINFO', 'STREAM', k, 'FULL', 'COUNT', '0'], now)),
      };
    }
    out[`db${db}`] = d;
  }
  call(raw, conn, ['SELECT', '0'], now);
  return JSON.stringify(out);
}

/** Drains pending effects into `into`. */
export function drainEffects(raw: RawEngine, into: Uint8Array[]): void {
  for (let n = raw.effectsRead(); n > 0; n = raw.effectsRead()) into.push(raw.scratch().slice(0, n));
}

export function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.length; }
  return out;
}

/**
 * The same observations as `dump`, read in pages of `page` entries (XRANGE … COUNT, XPENDING … COUNT,
 * XINFO STREAM / GROUPS / CONSUMERS) so that no single reply is large: for engines under a small
 * page budget, where a reply of everything is refused. Pending entries whose stream entry is gone are
 * left out (see `streamInfo`); idle times are exact (`now` is the same for engines compared).
 */
export function dumpPaged(raw: RawEngine, conn: number, now: number, page = 100): string {
  const out: Record<string, unknown> = {};
  for (let db = 0; db < 16; db++) {
    call(raw, conn, ['SELECT', String(db)], now);
    const keys = (call(raw, conn, ['KEYS', '*'], now) as string[]).slice().sort();
    if (keys.length === 0) continue;
    const d: Record<string, unknown> = {};
    for (const k of keys) {
      const type = call(raw, conn, ['TYPE', k], now);
      if (type === 'string') { d[k] = { string: call(raw, conn, ['GET', k], now) }; continue; }
      const entries: RespValue[][] = [];
      for (let start = '-'; ;) {
        const got = call(raw, conn, ['XRANGE', k, start, '+', 'COUNT', String(page)], now) as RespValue[][];
        if (!Array.isArray(got)) throw new Error(`XRANGE ${k}: ${String(got)}`);
        entries.push(...got);
        if (got.length < page) break;
        start = `(${String(got[got.length - 1][0])}`;
      }
      const exists = new Set(entries.map((e) => String(e[0])));
      const info = pairs(call(raw, conn, ['XINFO', 'STREAM', k], now));
      delete info['radix-tree-keys'];
      delete info['radix-tree-nodes'];
      const groups = (call(raw, conn, ['XINFO', 'GROUPS', k], now) as RespValue[]).map((g) => {
        const go = pairs(g);
        const name = String(go.name);
        const pending: RespValue[][] = [];
        for (let start = '-'; ;) {
          const got = call(raw, conn, ['XPENDING', k, name, start, '+', String(page)], now) as RespValue[][];
          if (!Array.isArray(got)) throw new Error(`XPENDING ${k} ${name}: ${String(got)}`);
          pending.push(...got);
          if (got.length < page) break;
          start = `(${String(got[got.length - 1][0])}`;
        }
        const live = pending.filter((p) => exists.has(String(p[0])));
        go.pending = live.length;
        const consumers = (call(raw, conn, ['XINFO', 'CONSUMERS', k, name], now) as RespValue[]).map((c) => {
          const co = pairs(c);
          delete co.idle;
          delete co.inactive;
          co.pending = live.filter((p) => String(p[1]) === String(co.name)).length;
          return co;
        });
        return { ...go, entries: live, consumers };
      });
      d[k] = { entries, info, groups };
    }
    out[`db${db}`] = d;
  }
  call(raw, conn, ['SELECT', '0'], now);
  return JSON.stringify(out);
}
