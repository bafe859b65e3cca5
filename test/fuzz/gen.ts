// fast-check generators of stream and consumer-group commands for differential tests.
//
// Small key / group / consumer / ID spaces so that commands collide; malformed arguments mixed in at
// a low rate. Everything is deterministic against a fresh server: entry IDs are explicit (`ms-seq`,
// or `ms-*` whose sequence does not depend on the clock), there is no BLOCK, and every time-dependent
// argument is far from any boundary (min-idle 0 or one hour; XCLAIM IDLE 0 or ~4 months; TIME in the
// far past or the future), so both servers take the same branch however long a sequence runs.
import fc from 'fast-check';

export type Cmd = string[];

export const U64_MAX = '18446744073709551615';

// ---------------------------------------------------------------------------------------------
// atoms
// ---------------------------------------------------------------------------------------------

/** Stream keys (mostly), and `k`, which holds a string when SET made it one (WRONGTYPE). */
export const key = fc.constantFrom('s', 's', 's', 's', 's', 's', 't', 't', 'k');
/** Mostly `g`; rarely names that error messages must quote as Redis does (spaces, CR/LF, bytes). */
export const group = fc.oneof(
  { arbitrary: fc.constantFrom('g', 'g', 'g', 'g', 'h'), weight: 30 },
  { arbitrary: fc.constantFrom('G', 'g h', 'g\r\nx', "g'", ''), weight: 1 },
);
/** Names whose byte order differs from their length order (radix-tree listing order). */
export const consumer = fc.oneof(
  { arbitrary: fc.constantFrom('alice', 'alice', 'bob', 'bob', 'al', 'Bob'), weight: 30 },
  { arbitrary: fc.constantFrom('a\nb', 'é', '', 'alice2'), weight: 1 },
);

const ms = fc.constantFrom('0', '1', '2', '3', '4', '5', '6', '7');
const seq = fc.constantFrom('0', '1', '2', '3');

/** An explicit `ms-seq` ID (small space, so IDs repeat); rarely at the ends of the ID space. */
export const explicitId = fc.oneof(
  { arbitrary: fc.tuple(ms, seq).map(([m, s]) => `${m}-${s}`), weight: 40 },
  { arbitrary: fc.constantFrom(`7-${U64_MAX}`, `${U64_MAX}-0`, `${U64_MAX}-${U64_MAX}`), weight: 1 },
);

export const badId = fc.constantFrom('abc', '1-', '-1', '1-x', '', '18446744073709551616', '(', '1.5');

/** Strictly parsed IDs (XDEL, XACK, XCLAIM, XGROUP CREATE, MINID): mostly valid. */
export const strictId = fc.oneof(
  { arbitrary: explicitId, weight: 12 },
  { arbitrary: ms, weight: 3 },
  { arbitrary: fc.constantFrom('0-0', `${U64_MAX}-${U64_MAX}`), weight: 1 },
  { arbitrary: badId, weight: 1 },
);

/** Range bounds (XRANGE, XPENDING, XAUTOCLAIM start): incomplete, exclusive, special. */
export const rangeId = fc.oneof(
  { arbitrary: explicitId, weight: 6 },
  { arbitrary: ms, weight: 2 },
  { arbitrary: fc.constantFrom('-', '+'), weight: 5 },
  { arbitrary: explicitId.map((x) => `(${x}`), weight: 2 },
  { arbitrary: fc.constantFrom('(0-0', `(${U64_MAX}-${U64_MAX}`, '(-', '(+'), weight: 1 },
  { arbitrary: badId, weight: 1 },
);

/** Mostly valid, sometimes not. */
const mostly = (good: fc.Arbitrary<string>, bad: fc.Arbitrary<string>) =>
  fc.oneof({ arbitrary: good, weight: 15 }, { arbitrary: bad, weight: 1 });

export const count = mostly(
  fc.constantFrom('0', '1', '1', '2', '2', '3', '10'),
  fc.constantFrom('-1', 'abc', '9223372036854775807', '-9223372036854775808', '9223372036854775808'),
);
const field = fc.constantFrom('f', 'f', 'g');
const value = fc.constantFrom('1', 'v', '', 'xyz', '12345678901234567890', 'é\u0000\xff', 'x'.repeat(70));
const fieldValues = fc.array(fc.tuple(field, value), { minLength: 1, maxLength: 2 }).map((p) => p.flat());
const entriesRead = mostly(
  fc.constantFrom('0', '1', '2', '3', '5', '-1'),
  fc.constantFrom('-2', 'x', '9223372036854775807', '9223372036854775808'),
);

/** Min-idle arguments: never near the time the sequence takes to run. */
const minIdle = mostly(fc.constantFrom('0', '0', '3600000'), fc.constantFrom('-5', 'x'));

const opt = <T>(a: fc.Arbitrary<T>, freq = 2) => fc.option(a, { nil: undefined, freq });

// ---------------------------------------------------------------------------------------------
// stream commands
// ---------------------------------------------------------------------------------------------

const trimSpec: fc.Arbitrary<string[]> = fc.oneof(
  fc.tuple(fc.constantFrom('', '=', '~'), fc.constantFrom('0', '1', '2', '3', '5')).map(([op, n]) => ['MAXLEN', ...(op ? [op] : []), n]),
  fc.tuple(fc.constantFrom('', '='), strictId).map(([op, id]) => ['MINID', ...(op ? [op] : []), id]),
);

export const xadd: fc.Arbitrary<Cmd> = fc
  .tuple(
    key,
    fc.nat(99),
    opt(trimSpec, 5),
    fc.oneof(
      { arbitrary: explicitId, weight: 12 },
      { arbitrary: ms.map((m) => `${m}-*`), weight: 3 },
      { arbitrary: fc.constantFrom('0-0', 'x'), weight: 1 },
    ),
    fieldValues,
  )
  .map(([k, r, trim, id, fv]) => ['XADD', k, ...(r < 8 ? ['NOMKSTREAM'] : []), ...(trim ?? []), id, ...fv]);

const xdel = fc.tuple(key, fc.array(strictId, { minLength: 1, maxLength: 3 })).map(([k, ids]) => ['XDEL', k, ...ids]);
const xtrim = fc.tuple(key, trimSpec).map(([k, t]) => ['XTRIM', k, ...t]);
const xlen = key.map((k) => ['XLEN', k]);
const xrange = fc
  .tuple(key, rangeId, rangeId, opt(count))
  .map(([k, a, b, n]) => ['XRANGE', k, a, b, ...(n === undefined ? [] : ['COUNT', n])]);
const xsetid = fc
  .tuple(key, strictId, opt(fc.constantFrom('0', '3', '10'), 4), opt(strictId, 6))
  .map(([k, id, added, maxdel]) => [
    'XSETID', k, id,
    ...(added === undefined ? [] : ['ENTRIESADDED', added]),
    ...(maxdel === undefined ? [] : ['MAXDELETEDID', maxdel]),
  ]);
const generic: fc.Arbitrary<Cmd> = fc.oneof(
  { arbitrary: fc.uniqueArray(key, { minLength: 1, maxLength: 2 }).map((ks) => ['DEL', ...ks]), weight: 1 },
  { arbitrary: fc.constantFrom<Cmd>(['SET', 'k', 'v'], ['SET', 's', 'v']), weight: 1 },
  { arbitrary: key.map((k) => ['TYPE', k]), weight: 1 },
  { arbitrary: fc.constantFrom<Cmd>(['RENAME', 's', 't'], ['RENAME', 't', 's']), weight: 1 },
);
/**
 * FUZZ_NODE_BYTES=1 also varies stream-node-max-bytes. Off by default: redis-server 7.0.15 itself
 * crashes (listpack.c:1276 'lpValidateNext(lp, &p, lpbytes)' assertion in XDEL) on, e.g.:
 *   CONFIG SET stream-node-max-bytes 100 / XADD t MAXLEN ~ 2 0-2 f 12345678901234567890 g "" /
 *   CONFIG SET stream-node-max-bytes 1 / XADD t 1-* f <70 bytes> / XDEL t 6 2-0 7-2
 */
const NODE_BYTES = process.env.FUZZ_NODE_BYTES === '1';
const config = fc.oneof(
  fc.constantFrom('1', '2', '3', '100').map((n) => ['CONFIG', 'SET', 'stream-node-max-entries', n]),
  // sizes that hold a few entries each (not the crashing tiny ones) unless FUZZ_NODE_BYTES=1
  fc.constantFrom(...(NODE_BYTES ? ['1', '100', '200', '4096'] : ['100', '200', '500', '4096'])).map((n) => ['CONFIG', 'SET', 'stream-node-max-bytes', n]),
);

// ---------------------------------------------------------------------------------------------
// group commands
// ---------------------------------------------------------------------------------------------

const groupCreateId = fc.oneof(
  { arbitrary: fc.constantFrom('$', '0', '0-0'), weight: 5 },
  { arbitrary: explicitId, weight: 4 },
  { arbitrary: fc.constantFrom('-', '+', 'x'), weight: 1 },
);

const xgroup: fc.Arbitrary<Cmd> = fc.oneof(
  {
    arbitrary: fc
      .tuple(key, group, groupCreateId, fc.nat(99), opt(entriesRead, 4))
      .map(([k, g, id, r, er]) => [
        'XGROUP', 'CREATE', k, g, id,
        ...(r < 40 ? ['MKSTREAM'] : []),
        ...(er === undefined ? [] : ['ENTRIESREAD', er]),
      ]),
    weight: 6,
  },
  {
    arbitrary: fc
      .tuple(key, group, groupCreateId, opt(entriesRead))
      .map(([k, g, id, er]) => ['XGROUP', 'SETID', k, g, id, ...(er === undefined ? [] : ['ENTRIESREAD', er])]),
    weight: 3,
  },
  { arbitrary: fc.tuple(key, group).map(([k, g]) => ['XGROUP', 'DESTROY', k, g]), weight: 1 },
  { arbitrary: fc.tuple(key, group, consumer).map(([k, g, c]) => ['XGROUP', 'CREATECONSUMER', k, g, c]), weight: 2 },
  { arbitrary: fc.tuple(key, group, consumer).map(([k, g, c]) => ['XGROUP', 'DELCONSUMER', k, g, c]), weight: 2 },
);

const readId = fc.oneof(
  { arbitrary: fc.constant('>'), weight: 10 },
  { arbitrary: fc.constantFrom('0', '0-0'), weight: 4 },
  { arbitrary: explicitId, weight: 2 },
  { arbitrary: fc.constantFrom('$', 'x'), weight: 1 }, // not '+': Rivulet gives the 7.4 error on purpose
);

const xreadgroup: fc.Arbitrary<Cmd> = fc
  .tuple(
    group,
    consumer,
    opt(count),
    fc.nat(99),
    fc.oneof(
      { arbitrary: fc.constant(['s']), weight: 8 },
      { arbitrary: fc.constantFrom(['t'], ['k'], ['s', 't'], ['t', 's'], ['s', 's']), weight: 2 },
    ),
    fc.array(readId, { minLength: 2, maxLength: 2 }),
  )
  .map(([g, c, n, r, keys, ids]) => [
    'XREADGROUP', 'GROUP', g, c,
    ...(n === undefined ? [] : ['COUNT', n]),
    ...(r < 20 ? ['NOACK'] : []),
    'STREAMS', ...keys, ...ids.slice(0, keys.length),
  ]);

const xack = fc
  .tuple(key, group, fc.array(strictId, { minLength: 1, maxLength: 3 }))
  .map(([k, g, ids]) => ['XACK', k, g, ...ids]);

const xpending: fc.Arbitrary<Cmd> = fc.oneof(
  { arbitrary: fc.tuple(key, group).map(([k, g]) => ['XPENDING', k, g]), weight: 3 },
  {
    arbitrary: fc
      .tuple(key, group, opt(mostly(fc.constantFrom('0', '3600000'), fc.constantFrom('x', '-1')), 3), rangeId, rangeId, count, opt(consumer))
      .map(([k, g, idle, a, b, n, c]) => [
        'XPENDING', k, g,
        ...(idle === undefined ? [] : ['IDLE', idle]),
        a, b, n,
        ...(c === undefined ? [] : [c]),
      ]),
    weight: 4,
  },
  { arbitrary: fc.tuple(key, group).map(([k, g]) => ['XPENDING', k, g, '-', '+', '10', '-', 'extra']), weight: 1 },
);

/** XCLAIM options: IDLE / TIME far from the present, so min-idle 3600000 decides the same on both sides. */
const claimOption: fc.Arbitrary<string[]> = fc.oneof(
  { arbitrary: mostly(fc.constantFrom('0', '10000000000'), fc.constantFrom('-1', 'x')).map((v) => ['IDLE', v]), weight: 2 },
  { arbitrary: mostly(fc.constantFrom('1000', '0', '-5', '99999999999999'), fc.constant('x')).map((v) => ['TIME', v]), weight: 2 },
  { arbitrary: mostly(fc.constantFrom('0', '2', '5'), fc.constantFrom('-1', 'x')).map((v) => ['RETRYCOUNT', v]), weight: 2 },
  { arbitrary: fc.constant<Cmd>(['FORCE']), weight: 2 },
  { arbitrary: fc.constant<Cmd>(['JUSTID']), weight: 2 },
  { arbitrary: strictId.map((id) => ['LASTID', id]), weight: 1 },
  { arbitrary: fc.constantFrom<Cmd>(['FOO'], ['-']), weight: 1 },
);

const xclaim: fc.Arbitrary<Cmd> = fc
  .tuple(key, group, consumer, minIdle, fc.array(strictId, { minLength: 1, maxLength: 3 }), fc.array(claimOption, { maxLength: 3 }))
  .map(([k, g, c, mi, ids, opts]) => ['XCLAIM', k, g, c, mi, ...ids, ...opts.flat()]);

const xautoclaim: fc.Arbitrary<Cmd> = fc
  .tuple(
    key, group, consumer, mostly(fc.constant('0'), fc.constantFrom('-1', 'x')), rangeId,
    opt(mostly(fc.constantFrom('1', '1', '2', '3', '100'), fc.constantFrom('0', '-1', '576460752303423487', '576460752303423488', '1152921504606846976'))),
    fc.nat(99),
  )
  .map(([k, g, c, mi, start, n, r]) => [
    'XAUTOCLAIM', k, g, c, mi, start,
    ...(n === undefined ? [] : ['COUNT', n]),
    ...(r < 25 ? ['JUSTID'] : r < 28 ? ['BAR'] : []),
  ]);

const xinfo: fc.Arbitrary<Cmd> = fc.oneof(
  { arbitrary: key.map((k) => ['XINFO', 'GROUPS', k]), weight: 3 },
  { arbitrary: fc.tuple(key, group).map(([k, g]) => ['XINFO', 'CONSUMERS', k, g]), weight: 3 },
  { arbitrary: key.map((k) => ['XINFO', 'STREAM', k, 'FULL']), weight: 3 },
  { arbitrary: fc.tuple(key, fc.constantFrom('0', '1', '2', '-1')).map(([k, n]) => ['XINFO', 'STREAM', k, 'FULL', 'COUNT', n]), weight: 1 },
  { arbitrary: key.map((k) => ['XINFO', 'STREAM', k]), weight: 1 },
);

// ---------------------------------------------------------------------------------------------
// sequences
// ---------------------------------------------------------------------------------------------

const JUNK = ['', 'abc', '-1', '1.5', 'COUNT', 'STREAMS', 'NOACK', 'MKSTREAM', 'JUSTID', 'FORCE', 'IDLE', '>', '$', '0', '99999999999999999999'];

/** Option keywords are case-insensitive: sometimes send them in lower or mixed case. */
const KEYWORDS = new Set([
  'GROUP', 'COUNT', 'NOACK', 'STREAMS', 'MKSTREAM', 'ENTRIESREAD', 'IDLE', 'TIME', 'RETRYCOUNT', 'FORCE',
  'JUSTID', 'LASTID', 'FULL', 'CREATE', 'SETID', 'DESTROY', 'CREATECONSUMER', 'DELCONSUMER', 'GROUPS',
  'CONSUMERS', 'STREAM', 'MAXLEN', 'MINID', 'NOMKSTREAM', 'ENTRIESADDED', 'MAXDELETEDID',
]);
const recase = (w: string, how: number) =>
  !KEYWORDS.has(w) ? w : how % 2 ? w.toLowerCase() : w[0] + w.slice(1).toLowerCase();

/** A valid-looking command, sometimes broken: truncated (arity), one argument replaced, or lower-cased. */
export const mutate = (c: fc.Arbitrary<Cmd>): fc.Arbitrary<Cmd> =>
  fc
    .tuple(c, fc.nat(99), fc.nat(), fc.constantFrom(...JUNK))
    .map(([cmd, how, r, junk]) => {
      if (how < 2) return cmd.slice(0, 1 + (r % cmd.length));
      if (how < 4 && cmd.length > 1) {
        const out = cmd.slice();
        out[1 + (r % (cmd.length - 1))] = junk;
        return out;
      }
      if (how < 7) return [cmd[0].toLowerCase(), ...cmd.slice(1)];
      if (how < 12) return [cmd[0], ...cmd.slice(1).map((w) => recase(w, r))];
      return cmd;
    });

/** MULTI … EXEC around a few commands (queued replies, then the EXEC array), sometimes DISCARD. */
const transaction = (inner: fc.Arbitrary<Cmd>): fc.Arbitrary<Cmd[]> =>
  fc
    .tuple(fc.array(inner, { minLength: 1, maxLength: 4 }), fc.constantFrom('EXEC', 'EXEC', 'EXEC', 'DISCARD'))
    .map(([cmds, end]) => [['MULTI'], ...cmds, [end]]);

/** One command of a group-heavy differential sequence. */
export const groupCommand: fc.Arbitrary<Cmd> = fc.oneof(
  { arbitrary: mutate(xadd), weight: 12 },
  { arbitrary: mutate(xdel), weight: 2 },
  { arbitrary: mutate(xtrim), weight: 1 },
  { arbitrary: xlen, weight: 1 },
  { arbitrary: mutate(xrange), weight: 1 },
  { arbitrary: mutate(xsetid), weight: 3 },
  { arbitrary: generic, weight: 1 },
  { arbitrary: config, weight: 1 },
  { arbitrary: mutate(xgroup), weight: 10 },
  { arbitrary: mutate(xreadgroup), weight: 10 },
  { arbitrary: mutate(xack), weight: 4 },
  { arbitrary: mutate(xpending), weight: 4 },
  { arbitrary: mutate(xclaim), weight: 5 },
  { arbitrary: mutate(xautoclaim), weight: 3 },
  { arbitrary: mutate(xinfo), weight: 5 },
  { arbitrary: fc.constantFrom<Cmd>(['XGROUP', 'HELP'], ['XINFO', 'HELP'], ['XGROUP', 'help'], ['XGROUP', 'FOO', 's']), weight: 1 },
);

/**
 * A usual start, so that most sequences work on a stream that has entries and a group: a few
 * entries in `s`, and `g` (and sometimes `h`) created on it. Part of the sequence (it shrinks).
 */
const prologue: fc.Arbitrary<Cmd[]> = fc
  .tuple(
    fc.uniqueArray(explicitId, { maxLength: 8 }),
    fc.constantFrom('0', '0', '$', '1-0'),
    fc.nat(99),
    consumer,
  )
  .map(([ids, from, r, c]) => [
    ...ids.sort(cmpId).map((id) => ['XADD', 's', id, 'f', 'v']),
    ['XGROUP', 'CREATE', 's', 'g', from, 'MKSTREAM'],
    ...(r < 30 ? [['XGROUP', 'CREATE', 's', 'h', '0']] : []),
    ...(r % 3 === 0 ? [['XREADGROUP', 'GROUP', 'g', c, 'COUNT', String(1 + (r % 5)), 'STREAMS', 's', '>']] : []),
  ]);

function cmpId(a: string, b: string): number {
  const [am, as] = a.split('-').map(Number);
  const [bm, bs] = b.split('-').map(Number);
  return am - bm || as - bs;
}

/**
 * The last ID moved back below a deleted tail: XADD x, XADD z, XDEL z, XSETID y (x < y < z), so the
 * next XADD lands after a tombstone with a greater ID in the same node (allowed since 7.0).
 */
const rewind: fc.Arbitrary<Cmd[]> = fc
  .uniqueArray(fc.tuple(ms, seq).map(([m, q]) => `${m}-${q}`), { minLength: 3, maxLength: 3 })
  .map((ids) => {
    const [x, y, z] = ids.sort(cmpId);
    return [['XADD', 's', x, 'f', 'v'], ['XADD', 's', z, 'f', 'v'], ['XDEL', 's', z], ['XSETID', 's', y]];
  });

/** Many entries at once (`ms-*` IDs: the sequence counts up), so that PELs grow past a handful. */
const burst: fc.Arbitrary<Cmd[]> = fc
  .tuple(fc.constantFrom('5', '6', '7'), fc.integer({ min: 5, max: 15 }), fc.boolean())
  .map(([m, n, read]) => [
    ...Array.from({ length: n }, () => ['XADD', 's', `${m}-*`, 'f', 'v']),
    ...(read ? [['XREADGROUP', 'GROUP', 'g', 'alice', 'STREAMS', 's', '>']] : []),
  ]);

/** FUZZ_REWIND=0 leaves the rewind step out (to look for differences of other kinds). */
const REWIND = process.env.FUZZ_REWIND !== '0';

/** A step: one command, or rarely a MULTI block or a rewind. */
const step: fc.Arbitrary<Cmd[]> = fc.oneof(
  { arbitrary: groupCommand.map((c) => [c]), weight: 40 },
  { arbitrary: transaction(groupCommand), weight: 1 },
  { arbitrary: burst, weight: 1 },
  ...(REWIND ? [{ arbitrary: rewind, weight: 1 }] : []),
);

/** A sequence of 5–40 commands; most start with the prologue. */
export const groupSequence: fc.Arbitrary<Cmd[]> = fc
  .tuple(fc.option(prologue, { nil: undefined, freq: 6 }), fc.array(step, { minLength: 5, maxLength: 36, size: 'max' }))
  .map(([pro, steps]) => {
    // at most 40 commands, whole steps only (a MULTI block is never cut)
    const all = [...(pro ?? [])];
    for (const s of steps) {
      if (all.length + s.length > 40) break;
      all.push(...s);
    }
    return all;
  });
