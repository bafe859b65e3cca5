/**
 * RESP-aware normalisation of replies whose content depends on the wall clock, for comparing
 * redis-server with Rivulet byte for byte everywhere else.
 *
 *   normalizeReply(['XPENDING', 's', 'g', '-', '+', '10'], bytes)   // → string (latin1), comparable
 *
 * The reply is parsed into a RESP tree (RESP2 and RESP3 types), the fields that depend on when a
 * command ran are rewritten *by the command's reply shape* (not by pattern-matching the bytes), and
 * the tree is serialised again — so everything else, type bytes and lengths included, is compared
 * exactly. Rewritten fields:
 *
 * - XPENDING extended form: the idle time (3rd element of each item);
 * - XINFO CONSUMERS: `idle` (and `inactive`, on 7.2+ servers);
 * - XINFO STREAM [FULL]: `radix-tree-nodes` (an artefact of Redis's radix tree, → 0); with FULL the
 *   delivery times of the group PEL items (3rd element) and of the consumer PEL items (2nd), and the
 *   consumers' `seen-time` (and `active-time`);
 * - XREADGROUP … CLAIM (Redis 8.4): the idle time (3rd element) of claimed entries;
 * - EXEC: each element of the array by the command that was queued for it (see
 *   {@link normalizeSequence}, which tracks MULTI … EXEC).
 *
 * Times are not erased but classified, so gross errors still show: a duration becomes `recent`
 * (0 ≤ d ≤ 1 h) or `old` (> 1 h: set with XCLAIM IDLE / TIME); a timestamp becomes `recent` (within
 * 1 h of now), stays exact when it is a literal small value (< 1e11 ms, i.e. given to XCLAIM TIME)
 * or becomes `old`. Negative durations and anything that is not an integer stay as they are.
 */

const CRLF = '\r\n';
const td = new TextDecoder('latin1');

/** One RESP value. Bulk-like types keep their body; aggregates their items (maps: k1, v1, k2, v2, …). */
export interface RespNode {
  /** Type byte: + - : $ * % ~ > _ # , ( = ! | */
  t: string;
  /** The header line after the type byte (length, integer, simple string …). */
  head: string;
  /** Body of a bulk / verbatim / blob error (null for `$-1`). */
  body?: string | null;
  /** Items of an aggregate (null for `*-1`). Maps and attributes: 2 × head items. */
  items?: RespNode[] | null;
}

/** Parses one reply (a latin1 string of its bytes) at `pos`; returns the node and the next position. */
export function parseResp(s: string, pos = 0): { node: RespNode; next: number } {
  const t = s[pos];
  const eol = s.indexOf(CRLF, pos + 1);
  if (eol < 0) throw new Error(`normalize: incomplete RESP at ${pos}`);
  const head = s.slice(pos + 1, eol);
  let next = eol + 2;
  switch (t) {
    case '+':
    case '-':
    case ':':
    case '_':
    case '#':
    case ',':
    case '(':
      return { node: { t, head }, next };
    case '$':
    case '=':
    case '!': {
      const n = Number(head);
      if (n < 0) return { node: { t, head, body: null }, next };
      const body = s.slice(next, next + n);
      if (s.slice(next + n, next + n + 2) !== CRLF) throw new Error('normalize: bad bulk framing');
      return { node: { t, head, body }, next: next + n + 2 };
    }
    case '*':
    case '~':
    case '>':
    case '%':
    case '|': {
      const n = Number(head);
      if (n < 0) return { node: { t, head, items: null }, next };
      const count = t === '%' || t === '|' ? 2 * n : n;
      const items: RespNode[] = [];
      for (let i = 0; i < count; i++) {
        const r = parseResp(s, next);
        items.push(r.node);
        next = r.next;
      }
      if (t === '|') {
        // an attribute annotates the value that follows: keep both in one node
        const r = parseResp(s, next);
        items.push(r.node);
        next = r.next;
      }
      return { node: { t, head, items }, next };
    }
    default:
      throw new Error(`normalize: unknown RESP type ${JSON.stringify(t)} at ${pos}`);
  }
}

/** Serialises a node back to RESP (exactly the input bytes when nothing was rewritten). */
export function serializeResp(n: RespNode): string {
  let out = n.t + n.head + CRLF;
  if (n.body !== undefined && n.body !== null) out += n.body + CRLF;
  if (n.items) for (const it of n.items) out += serializeResp(it);
  return out;
}

// ---------------------------------------------------------------------------------------------
// shape helpers
// ---------------------------------------------------------------------------------------------

const HOUR = 3_600_000;
/** Timestamps below this (1973) can only be literals given to XCLAIM TIME: compared exactly. */
const LITERAL_TIME = 1e11;

function isInt(n: RespNode | undefined): n is RespNode {
  return n !== undefined && n.t === ':' && /^-?\d+$/.test(n.head);
}

function isArray(n: RespNode | undefined): n is RespNode & { items: RespNode[] } {
  return n !== undefined && (n.t === '*' || n.t === '~') && Array.isArray(n.items);
}

function text(n: RespNode | undefined): string | null {
  if (!n) return null;
  if (n.t === '$' || n.t === '=') return n.body ?? null;
  if (n.t === '+') return n.head;
  return null;
}

/** Rewrites an integer node holding a duration (ms). */
function duration(n: RespNode | undefined): void {
  if (!isInt(n)) return;
  const d = Number(n.head);
  if (d < 0) return;
  n.head = d <= HOUR ? '<duration:recent>' : '<duration:old>';
}

/** Rewrites an integer node holding a unix-ms timestamp. */
function timestamp(n: RespNode | undefined, now: number): void {
  if (!isInt(n)) return;
  const t = Number(n.head);
  if (Math.abs(t - now) <= HOUR) n.head = '<time:recent>';
  else if (t >= LITERAL_TIME) n.head = '<time:old>';
}

/**
 * The key → value pairs of a map reply: a RESP3 map, or a RESP2 flat array `[k1, v1, …]` whose
 * keys are strings. Returns [] for anything else.
 */
function mapPairs(n: RespNode | undefined): [string, RespNode][] {
  if (!n || !n.items) return [];
  if (n.t !== '%' && n.t !== '*') return [];
  if (n.items.length % 2 !== 0) return [];
  const out: [string, RespNode][] = [];
  for (let i = 0; i < n.items.length; i += 2) {
    const k = text(n.items[i]);
    if (k === null) return [];
    out.push([k, n.items[i + 1]]);
  }
  return out;
}

function field(n: RespNode | undefined, name: string): RespNode | undefined {
  for (const [k, v] of mapPairs(n)) if (k === name) return v;
  return undefined;
}

/** XREADGROUP reply: `[[key, entries], …]` (RESP2) or `{key: entries}` (RESP3); claimed entries have 4 items. */
function eachReadEntries(n: RespNode, f: (entries: RespNode) => void): void {
  if (n.t === '%' && n.items) {
    for (let i = 1; i < n.items.length; i += 2) f(n.items[i]);
  } else if (isArray(n)) {
    for (const kv of n.items) if (isArray(kv) && kv.items.length === 2) f(kv.items[1]);
  }
}

// ---------------------------------------------------------------------------------------------
// per-command normalisation
// ---------------------------------------------------------------------------------------------

function normalizeTree(cmd: readonly string[], root: RespNode, now: number, queued?: readonly (readonly string[])[]): void {
  const name = (cmd[0] ?? '').toUpperCase();
  const sub = (cmd[1] ?? '').toUpperCase();
  if (root.t === '-' || root.t === '!') return;

  if (name === 'EXEC') {
    // one reply per queued command, in order
    if (queued && isArray(root) && root.items.length === queued.length) {
      root.items.forEach((item, i) => normalizeTree(queued[i], item, now));
    }
    return;
  }

  if (name === 'XPENDING' && cmd.length > 3) {
    // extended form: [[id, consumer, idle, deliveries], …]
    if (isArray(root)) for (const it of root.items) if (isArray(it) && it.items.length === 4) duration(it.items[2]);
    return;
  }

  if (name === 'XINFO' && sub === 'CONSUMERS') {
    if (isArray(root)) {
      for (const c of root.items) {
        duration(field(c, 'idle'));
        duration(field(c, 'inactive'));
      }
    }
    return;
  }

  if (name === 'XINFO' && sub === 'STREAM') {
    const nodes = field(root, 'radix-tree-nodes');
    if (isInt(nodes)) nodes.head = '0';
    const groups = field(root, 'groups');
    if (!isArray(groups)) return; // the short form has a group count here
    for (const g of groups.items) {
      const pel = field(g, 'pending');
      if (isArray(pel)) for (const p of pel.items) if (isArray(p) && p.items.length === 4) timestamp(p.items[2], now);
      const consumers = field(g, 'consumers');
      if (!isArray(consumers)) continue;
      for (const c of consumers.items) {
        timestamp(field(c, 'seen-time'), now);
        timestamp(field(c, 'active-time'), now);
        const cpel = field(c, 'pending');
        if (isArray(cpel)) for (const p of cpel.items) if (isArray(p) && p.items.length === 3) timestamp(p.items[1], now);
      }
    }
    return;
  }

  if (name === 'XREADGROUP') {
    eachReadEntries(root, (entries) => {
      if (isArray(entries)) for (const e of entries.items) if (isArray(e) && e.items.length === 4) duration(e.items[2]);
    });
  }
}

/**
 * The reply of `cmd` as a latin1 string with its wall-clock-dependent fields classified (see the
 * file comment). `now` is the wall clock the reply's timestamps are judged against. For EXEC,
 * `queued` lists the commands queued since MULTI (one per element of its reply).
 */
export function normalizeReply(
  cmd: readonly string[],
  reply: Uint8Array | string,
  now = Date.now(),
  queued?: readonly (readonly string[])[],
): string {
  const s = typeof reply === 'string' ? reply : td.decode(reply);
  let parsed: { node: RespNode; next: number };
  try {
    parsed = parseResp(s, 0);
  } catch {
    return s; // not one RESP value: compare as is
  }
  if (parsed.next !== s.length) return s;
  normalizeTree(cmd, parsed.node, now, queued);
  return serializeResp(parsed.node);
}

/**
 * For each command of a sequence sent on one connection, the commands queued for it when it is an
 * EXEC (MULTI … EXEC, from the commands alone: a command refused at queue time makes EXEC an
 * EXECABORT error, which needs no normalising), else undefined.
 */
export function execContexts(cmds: readonly (readonly string[])[]): (readonly (readonly string[])[] | undefined)[] {
  const out: (readonly (readonly string[])[] | undefined)[] = [];
  let queue: (readonly string[])[] | null = null;
  for (const c of cmds) {
    const name = (c[0] ?? '').toUpperCase();
    let ctx: (readonly string[])[] | undefined;
    if (name === 'MULTI' && c.length === 1) {
      if (queue === null) queue = [];
    } else if ((name === 'EXEC' || name === 'DISCARD') && c.length === 1) {
      if (name === 'EXEC' && queue !== null) ctx = queue;
      queue = null;
    } else if (queue !== null && name !== 'WATCH' && name !== 'MULTI') {
      queue.push(c);
    }
    out.push(ctx);
  }
  return out;
}

/** {@link normalizeReply} over a whole sequence (one connection), EXEC replies included. */
export function normalizeSequence(
  cmds: readonly (readonly string[])[],
  replies: readonly (Uint8Array | string)[],
  now = Date.now(),
): string[] {
  const ctx = execContexts(cmds);
  return cmds.map((c, i) => normalizeReply(c, replies[i], now, ctx[i]));
}
