// Differential fuzzing: random command sequences run against redis-server 7.0.15 (the reference)
// and against the in-process Rivulet engine; the raw reply bytes must be identical, command by
// command. Small key / field / ID spaces make commands collide; malformed arguments (bad IDs,
// wrong arity, bad numbers) are mixed in. The same property runs in RESP2 and in RESP3.
//
//   FUZZ_RUNS=n        sequences for the RESP2 property (RESP3 runs half as many); default 6000
//   FUZZ_SEED=n        replay a seed printed by a failure
//   FUZZ_CANDIDATE=redis   compare redis-server with a second redis-server (self-test of this file)
//   RIVULET_WASM=path  fuzz another build of the module
//   FUZZ_COLLECT=1     don't stop at the first mismatch: run FUZZ_RUNS sequences, group mismatches by
//                      kind (command + reply shapes), minimise one example of each, print them all
//   FUZZ_STATS=1       print a histogram of the reference replies (what the generators reach)
//
// Differences the fuzzer must not see: `XADD *` IDs (time), `radix-tree-nodes` in XINFO STREAM
// (normalised to 0: an internal rax count), blocking reads (no BLOCK is generated), and what
// Rivulet takes from newer Redis on purpose (XREAD `+`: not generated).
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { useDifferentialPair } from '../support/differential-pair.ts';
import { connectRaw, quoteArgs, type RawClient } from '../support/raw-client.ts';

type Cmd = string[];

// ---------------------------------------------------------------------------------------------
// generators
// ---------------------------------------------------------------------------------------------

const U64_MAX = '18446744073709551615';
const MAX_ID = `${U64_MAX}-${U64_MAX}`;

const key = fc.constantFrom('s', 's', 's', 't', 't', 'k');
const ms = fc.constantFrom('0', '1', '2', '3', '5');
const seq = fc.constantFrom('0', '1', '2', '3');
const explicitId = fc.oneof(
  { arbitrary: fc.tuple(ms, seq).map(([m, s]) => `${m}-${s}`), weight: 30 },
  // near the ends of the ID space: sequence overflow, exhausted streams
  { arbitrary: ms.map((m) => `${m}-${U64_MAX}`), weight: 1 },
  { arbitrary: ms.map((m) => `${m}-18446744073709551614`), weight: 1 },
  { arbitrary: seq.map((s) => `${U64_MAX}-${s}`), weight: 1 },
);
const badId = fc.constantFrom(
  'abc', '1-', '-1', '1-x', '1--1', '', '18446744073709551616', `1-${U64_MAX}0`, '0x1', '(', '((1',
  '1.5', ' 1', '+1', '01-1', '1-1-1', '-', '+', '$', '>',
);
const maxish = fc.constantFrom(MAX_ID, `${U64_MAX}`, `${U64_MAX}-0`, `5-${U64_MAX}`);
/** Arguments parsed as a strict ID (XADD, XDEL, XSETID, MINID, XREAD). */
const strictId = fc.oneof(
  { arbitrary: explicitId, weight: 10 },
  { arbitrary: ms, weight: 3 },
  { arbitrary: fc.constant('0-0'), weight: 1 },
  { arbitrary: maxish, weight: 1 },
  { arbitrary: badId, weight: 1 },
);
/** XRANGE / XREVRANGE bounds: incomplete, exclusive, special. */
const rangeId = fc.oneof(
  { arbitrary: explicitId, weight: 6 },
  { arbitrary: ms, weight: 3 },
  { arbitrary: fc.constantFrom('-', '+'), weight: 5 },
  { arbitrary: fc.oneof(explicitId, ms).map((x) => `(${x}`), weight: 3 },
  { arbitrary: fc.constantFrom(`(${MAX_ID}`, '(0-0', '(0', MAX_ID, '(-', '(+'), weight: 1 },
  { arbitrary: badId, weight: 1 },
);
const count = fc.constantFrom('-1', '0', '1', '1', '2', '2', '3', '10', 'abc', '9223372036854775808', '-9223372036854775809');
const smallNum = fc.constantFrom('0', '1', '2', '3', '5', '10', '-1', 'x', '1.5', '9223372036854775807');
const field = fc.constantFrom('f', 'f', 'g', 'h');
const value = fc.constantFrom('1', 'v', 'xyz', '', '-5', '12345678901234567890', 'a b', '007', 'é\u0000\xff', 'x'.repeat(70));
const fieldValues = fc
  .array(fc.tuple(field, value), { minLength: 1, maxLength: 3 })
  .map((pairs) => pairs.flat());

const limitValue = fc.constantFrom('0', '1', '1', '2', '2', '3', '-1', 'x');
const trimSpec: fc.Arbitrary<string[]> = fc
  .tuple(
    fc.constantFrom('MAXLEN', 'MAXLEN', 'maxlen', 'MINID', 'MINID'),
    fc.constantFrom('', '', '=', '~', '~', '~'),
    fc.nat(99),
    limitValue,
    fc.constantFrom('0', '1', '2', '3', '5'),
  )
  .chain(([strategy, op, r, limitN, n]) => {
    // LIMIT mostly where it is valid (with ~), rarely elsewhere (for the error)
    const withLimit = op === '~' ? r < 40 : r < 4;
    return (strategy.toUpperCase() === 'MAXLEN'
      ? fc.oneof({ arbitrary: fc.constant(n), weight: 12 }, { arbitrary: fc.constantFrom('-1', 'x', '1.0', ''), weight: 1 })
      : strictId
    ).map((threshold) => [strategy, ...(op ? [op] : []), threshold, ...(withLimit ? ['LIMIT', limitN] : [])]);
  });

const xadd: fc.Arbitrary<Cmd> = fc
  .tuple(
    key,
    fc.nat(99).map((r) => r < 12),
    fc.option(trimSpec, { nil: undefined, freq: 4 }),
    fc.oneof(
      { arbitrary: explicitId, weight: 8 },
      { arbitrary: ms.map((m) => `${m}-*`), weight: 4 },
      { arbitrary: fc.constantFrom(`${U64_MAX}-*`, '0-0', '0', MAX_ID, `${U64_MAX}-${U64_MAX.slice(0, -1)}4`), weight: 1 },
      { arbitrary: badId, weight: 1 },
    ),
    fieldValues,
    fc.boolean(),
  )
  .map(([k, nomk, trim, id, fv, nomkFirst]) => {
    const opts: string[] = [];
    if (nomk && nomkFirst) opts.push('NOMKSTREAM');
    if (trim) opts.push(...trim);
    if (nomk && !nomkFirst) opts.push('NOMKSTREAM');
    return ['XADD', k, ...opts, id, ...fv];
  });

const xtrim: fc.Arbitrary<Cmd> = fc.oneof(
  { arbitrary: fc.tuple(key, trimSpec).map(([k, t]) => ['XTRIM', k, ...t]), weight: 8 },
  {
    arbitrary: fc.tuple(key, fc.constantFrom(['LIMIT', '1'], ['FOO'], ['MAXLEN'], ['MAXLEN', '1', 'MINID', '1'], ['MAXLEN', '~', '1', 'LIMIT'], ['MAXLEN', '1', 'extra'])).map(([k, t]) => ['XTRIM', k, ...t]),
    weight: 1,
  },
);

const withCount = (c: fc.Arbitrary<Cmd>) =>
  fc.tuple(c, fc.option(count, { nil: undefined, freq: 2 })).map(([cmd, n]) => (n === undefined ? cmd : [...cmd, 'COUNT', n]));

/** [low, high] bounds: often open-ended so that ranges are not mostly empty. */
const bounds: fc.Arbitrary<[string, string]> = fc.oneof(
  { arbitrary: fc.tuple(rangeId, rangeId), weight: 3 },
  { arbitrary: fc.constant<[string, string]>(['-', '+']), weight: 2 },
  { arbitrary: rangeId.map((a): [string, string] => [a, '+']), weight: 2 },
  { arbitrary: rangeId.map((b): [string, string] => ['-', b]), weight: 2 },
);
const xrange = withCount(fc.tuple(key, bounds).map(([k, [a, b]]) => ['XRANGE', k, a, b]));
const xrevrange = withCount(fc.tuple(key, bounds).map(([k, [a, b]]) => ['XREVRANGE', k, b, a]));
const xdel = fc.tuple(key, fc.array(strictId, { minLength: 1, maxLength: 3 })).map(([k, ids]) => ['XDEL', k, ...ids]);
const xlen = key.map((k) => ['XLEN', k]);

const xreadId = fc.oneof(
  { arbitrary: fc.constant('$'), weight: 2 },
  { arbitrary: explicitId, weight: 4 },
  { arbitrary: ms, weight: 2 },
  { arbitrary: fc.constantFrom('0', '0-0', MAX_ID), weight: 2 },
  // not '+': XREAD + (last entry, Redis 7.4) is a newer feature Rivulet follows on purpose
  { arbitrary: fc.constantFrom('>', '-', 'abc', '(1'), weight: 1 },
);
const xread: fc.Arbitrary<Cmd> = fc
  .tuple(
    fc.option(count, { nil: undefined, freq: 2 }),
    fc.uniqueArray(key, { minLength: 1, maxLength: 2 }),
    fc.array(xreadId, { minLength: 2, maxLength: 2 }),
    fc.constantFrom('ok', 'ok', 'ok', 'ok', 'unbalanced', 'nostreams', 'dupkey'),
  )
  .map(([n, keys, ids, shape]) => {
    const head = ['XREAD', ...(n === undefined ? [] : ['COUNT', n])];
    const ks = shape === 'dupkey' ? [keys[0], keys[0]] : keys;
    const is = ids.slice(0, ks.length);
    if (shape === 'unbalanced') return [...head, 'STREAMS', ...ks, ...is.slice(1)];
    if (shape === 'nostreams') return [...head, ...ks, ...is];
    return [...head, 'STREAMS', ...ks, ...is];
  });

const xsetid: fc.Arbitrary<Cmd> = fc
  .tuple(
    key,
    strictId,
    fc.option(fc.constantFrom('0', '1', '3', '10', '-1', 'x'), { nil: undefined }),
    fc.option(strictId, { nil: undefined }),
  )
  .map(([k, id, added, maxdel]) => [
    'XSETID', k, id,
    ...(added === undefined ? [] : ['ENTRIESADDED', added]),
    ...(maxdel === undefined ? [] : ['MAXDELETEDID', maxdel]),
  ]);

const xinfo: fc.Arbitrary<Cmd> = fc.tuple(key, fc.constantFrom(0, 0, 1, 2)).chain(([k, form]) =>
  form === 0
    ? fc.constant(['XINFO', 'STREAM', k])
    : form === 1
      ? fc.constant(['XINFO', 'STREAM', k, 'FULL'])
      : count.map((n) => ['XINFO', 'STREAM', k, 'FULL', 'COUNT', n]),
);

const generic: fc.Arbitrary<Cmd> = fc.oneof(
  fc.uniqueArray(key, { minLength: 1, maxLength: 2 }).map((ks) => ['DEL', ...ks]),
  fc.array(key, { minLength: 1, maxLength: 2 }).map((ks) => ['EXISTS', ...ks]),
  key.map((k) => ['TYPE', k]),
  fc.tuple(fc.constantFrom('k', 'k', 's'), value).map(([k, v]) => ['SET', k, v]),
  key.map((k) => ['GET', k]),
);
// FUZZ_NODE_BYTES=1 also varies stream-node-max-bytes (node splitting by listpack byte size)
const NODE_BYTES = process.env.FUZZ_NODE_BYTES === '1';
const config: fc.Arbitrary<Cmd> = fc.oneof(
  fc.constantFrom('1', '2', '3', '4', '5', '100').map((n) => ['CONFIG', 'SET', 'stream-node-max-entries', n]),
  ...(NODE_BYTES
    ? [fc.constantFrom('1', '100', '200', '500', '4096', '0').map((n) => ['CONFIG', 'SET', 'stream-node-max-bytes', n])]
    : []),
);

const JUNK = ['', 'abc', '-1', '1.5', '(', 'LIMIT', 'COUNT', '~', '=', 'MAXLEN', 'STREAMS', '99999999999999999999'];

/** A valid-looking command, sometimes broken: truncated (arity), or one argument replaced. */
const mutate = (c: fc.Arbitrary<Cmd>): fc.Arbitrary<Cmd> =>
  fc
    .tuple(c, fc.constantFrom('keep', 'keep', 'keep', 'keep', 'keep', 'keep', 'keep', 'keep', 'truncate', 'replace', 'lower'), fc.nat(), fc.constantFrom(...JUNK))
    .map(([cmd, how, r, junk]) => {
      if (how === 'truncate') return cmd.slice(0, 1 + (r % cmd.length));
      if (how === 'replace' && cmd.length > 1) {
        const out = cmd.slice();
        out[1 + (r % (cmd.length - 1))] = junk;
        return out;
      }
      if (how === 'lower') return [cmd[0].toLowerCase(), ...cmd.slice(1)];
      return cmd;
    });

const command: fc.Arbitrary<Cmd> = fc.oneof(
  { arbitrary: mutate(xadd), weight: 10 },
  { arbitrary: mutate(xrange), weight: 3 },
  { arbitrary: mutate(xrevrange), weight: 2 },
  { arbitrary: mutate(xdel), weight: 2 },
  { arbitrary: mutate(xtrim), weight: 2 },
  { arbitrary: mutate(xlen), weight: 1 },
  { arbitrary: mutate(xread), weight: 2 },
  { arbitrary: mutate(xsetid), weight: 1 },
  { arbitrary: mutate(xinfo), weight: 2 },
  { arbitrary: mutate(generic), weight: 2 },
  { arbitrary: config, weight: 1 },
);

const sequence = fc.array(command, { minLength: 5, maxLength: 40, size: 'max' });

// ---------------------------------------------------------------------------------------------
// targets
// ---------------------------------------------------------------------------------------------

interface Candidate {
  /** Fresh state (empty keyspace, default configs), fresh connection, given protocol. */
  reset(resp3: boolean): Promise<void>;
  call(args: Cmd): Promise<Uint8Array>;
  /**
   * The engine only: FLUSHALL, close the connection, and return used_memory over its baseline (what
   * it was before any connection existed) — 0 unless some write leaves memory accounted behind.
   */
  memoryLeftAfterFlush?(): Promise<number>;
  close(): Promise<void>;
}

const RESET: Cmd[] = [['FLUSHALL'], ['CONFIG', 'SET', 'stream-node-max-entries', '100', 'stream-node-max-bytes', '4096']];
// 'latin1' is windows-1252 in TextDecoder: still one char per byte and injective, fine for comparing
const td = new TextDecoder('latin1');

function checkOk(what: string, b: Uint8Array): void {
  const s = td.decode(b);
  if (s[0] === '-' || s[0] === '!') throw new Error(`${what} failed: ${s}`);
}

/** The reference: redis-server over one raw TCP connection; a sequence is pipelined. */
class RedisRef {
  private client: RawClient | null = null;
  constructor(readonly port: number) {}
  async reset(resp3: boolean): Promise<void> {
    if (this.client) await this.client.close();
    this.client = await connectRaw(this.port);
    for (const c of RESET) checkOk(c.join(' '), await this.client.send(c));
    if (resp3) checkOk('HELLO 3', await this.client.send(['HELLO', '3']));
  }
  run(cmds: Cmd[]): Promise<Uint8Array[]> {
    return Promise.all(cmds.map((c) => this.client!.send(c)));
  }
  call(args: Cmd): Promise<Uint8Array> {
    return this.client!.send(args);
  }
  async close(): Promise<void> {
    if (this.client) await this.client.close();
    this.client = null;
  }
}

async function engineCandidate(): Promise<Candidate> {
  const { createEngine } = await import('../../bindings/entry.node.ts');
  // RIVULET_WASM: run another build of the module (default: the package's build/rivulet.wasm)
  const wasm = process.env.RIVULET_WASM ? readFileSync(process.env.RIVULET_WASM) : undefined;
  let engine: any = await createEngine(wasm ? { wasm } : undefined);
  const baseline: number = engine.usedMemory();
  let conn: any = null;
  return {
    async reset(resp3) {
      if (conn && typeof conn.close === 'function') await conn.close();
      conn = engine.connect();
      for (const c of RESET) checkOk(c.join(' '), await conn.callRaw(...c));
      if (resp3) checkOk('HELLO 3', await conn.callRaw('HELLO', '3'));
    },
    async call(args) {
      return await conn.callRaw(...args);
    },
    async memoryLeftAfterFlush() {
      await conn.callRaw('DISCARD'); // a sequence may end inside MULTI
      checkOk('FLUSHALL', await conn.callRaw('FLUSHALL'));
      await conn.close();
      conn = null;
      return engine.usedMemory() - baseline;
    },
    async close() {
      if (conn && typeof conn.close === 'function') await conn.close();
      if (engine && typeof engine.close === 'function') await engine.close();
      engine = null;
    },
  };
}

function redisCandidate(port: number): Candidate {
  const r = new RedisRef(port);
  return { reset: (p) => r.reset(p), call: (a) => r.call(a), close: () => r.close() };
}

const XADD_SMALLER = '-ERR The ID specified in XADD is equal or smaller than the target stream top item\r\n';
const XADD_TOO_LARGE = '-ERR Elements are too large to be stored\r\n';

/**
 * Replies that legitimately differ are mapped to one form:
 * - `radix-tree-nodes` (XINFO STREAM) is the count of internal rax nodes: not reproducible;
 * - `XADD key <ms>-*` when the last ID is `<ms>-18446744073709551615`: Redis 7.0.15 leaves errno
 *   unset on that path, so its reply depends on a stale errno — "equal or smaller" right after any
 *   command that failed with EDOM (e.g. an XADD with a too-small ID), otherwise "Elements are too
 *   large to be stored". Both count as the same answer.
 */
function normalise(cmd: Cmd, b: Uint8Array): string {
  const s = td.decode(b);
  const name = cmd[0].toUpperCase();
  if (name === 'XINFO') return s.replace(/(\$16\r\nradix-tree-nodes\r\n):\d+\r\n/g, '$1:0\r\n');
  if (name === 'XADD' && s === XADD_TOO_LARGE && cmd.some((a) => /^\d+-\*$/.test(a))) return XADD_SMALLER;
  return s;
}

interface Mismatch {
  index: number;
  cmd: Cmd;
  expected: string;
  got: string;
}

const STATS = process.env.FUZZ_STATS === '1';
const stats = new Map<string, number>();
function tally(cmd: Cmd, reply: Uint8Array): void {
  const s = td.decode(reply);
  const first = s.slice(0, s.indexOf('\r\n'));
  const kind = first[0] === '-' ? first.replace(/'[^']*'/g, "'…'") : /^[*%]0$|^[*$]-1$|^_$/.test(first) ? first : first[0];
  const k = `${cmd[0].toUpperCase()} ${kind}`;
  stats.set(k, (stats.get(k) ?? 0) + 1);
}

/** The reference server failed (crashed, closed the connection): not a Rivulet mismatch. */
class ReferenceFailure extends Error {}
let firstReferenceFailure: string | null = null;

async function runSequence(ref: RedisRef, cand: Candidate, cmds: Cmd[], resp3: boolean): Promise<Mismatch | null> {
  let want: Uint8Array[];
  try {
    await ref.reset(resp3);
    want = await ref.run(cmds);
  } catch (e) {
    const text =
      `redis-server failed (${(e as Error).message}) on this sequence${resp3 ? ' (after HELLO 3)' : ''}:\n` +
      cmds.map((c) => `   ${quoteArgs(c)}`).join('\n');
    firstReferenceFailure ??= text;
    throw new ReferenceFailure(text);
  }
  await cand.reset(resp3);
  if (STATS) cmds.forEach((c, i) => tally(c, want[i]));
  for (let i = 0; i < cmds.length; i++) {
    const got = await cand.call(cmds[i]);
    const a = normalise(cmds[i], want[i]);
    const b = normalise(cmds[i], got);
    if (a !== b) return { index: i, cmd: cmds[i], expected: a, got: b };
  }
  // Invariant: after FLUSHALL (and with no connection open) used_memory is back at its baseline.
  if (cand.memoryLeftAfterFlush) {
    const left = await cand.memoryLeftAfterFlush();
    if (left !== 0) {
      return { index: cmds.length, cmd: ['FLUSHALL'], expected: 'used_memory back at its baseline', got: `${left} bytes above it` };
    }
  }
  return null;
}

function report(cmds: Cmd[], m: Mismatch, resp3: boolean, seed: number | undefined, runs: number): string {
  const esc = (s: string) => s.replace(/\r/g, '\\r').replace(/\n/g, '\\n');
  const lines = cmds.slice(0, m.index + 1).map((c, i) => `${i === m.index ? '>>' : '  '} ${quoteArgs(c)}`);
  return [
    `differential mismatch (${resp3 ? 'RESP3' : 'RESP2'}) after ${runs} runs; replay with FUZZ_SEED=${seed}`,
    `shrunk sequence (redis-cli lines, fresh server${resp3 ? ', after HELLO 3' : ''}):`,
    ...(resp3 ? ['   HELLO 3'] : []),
    ...lines,
    `command:  ${quoteArgs(m.cmd)}`,
    `expected: ${esc(m.expected)}`,
    `got:      ${esc(m.got)}`,
  ].join('\n');
}

/** Kind of a mismatch: the command name and the first line of each reply, numbers and quotes blurred. */
function signature(m: Mismatch): string {
  const blur = (r: string) => r.slice(0, Math.max(0, r.indexOf('\r\n'))).replace(/'[^']*'/g, "'…'").replace(/\d+/g, 'N');
  return `${m.cmd[0].toUpperCase()} | expected ${blur(m.expected)} | got ${blur(m.got)}`;
}

/** Greedy delta-debugging: drop commands while a mismatch of the same kind remains. */
async function minimise(ref: RedisRef, cand: Candidate, cmds: Cmd[], resp3: boolean, sig: string): Promise<{ cmds: Cmd[]; m: Mismatch }> {
  let best = cmds;
  let bestM = (await runSequence(ref, cand, best, resp3))!;
  best = best.slice(0, bestM.index + 1);
  for (let changed = true; changed; ) {
    changed = false;
    for (let i = best.length - 1; i >= 0; i--) {
      const trial = best.slice(0, i).concat(best.slice(i + 1));
      if (!trial.length) continue;
      const m = await runSequence(ref, cand, trial, resp3);
      if (m && signature(m) === sig) {
        best = trial.slice(0, m.index + 1);
        bestM = m;
        changed = true;
        i = Math.min(i, best.length);
      }
    }
  }
  return { cmds: best, m: bestM };
}

async function collect(ref: RedisRef, cand: Candidate, runs: number, resp3: boolean): Promise<string[]> {
  const found = new Map<string, { cmds: Cmd[]; count: number }>();
  const samples = fc.sample(sequence, { numRuns: runs, seed: SEED });
  for (const cmds of samples) {
    let m: Mismatch | null;
    try {
      m = await runSequence(ref, cand, cmds, resp3);
    } catch (e) {
      if (e instanceof ReferenceFailure) return [...found.keys(), e.message];
      throw e;
    }
    if (!m) continue;
    const sig = signature(m);
    const f = found.get(sig);
    if (f) f.count++;
    else found.set(sig, { cmds, count: 1 });
  }
  const out: string[] = [];
  for (const [sig, { cmds, count }] of found) {
    const { cmds: small, m } = await minimise(ref, cand, cmds, resp3, sig);
    out.push(`[${count}x] ${sig}\n` + report(small, m, resp3, SEED, runs).split('\n').slice(1).join('\n'));
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// the test
// ---------------------------------------------------------------------------------------------

const RUNS = Number(process.env.FUZZ_RUNS ?? 6000);
const SEED = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : undefined;
const CANDIDATE = process.env.FUZZ_CANDIDATE ?? 'engine';
const COLLECT = process.env.FUZZ_COLLECT === '1';

describe('differential fuzz: redis-server 7.0.15 vs Rivulet', () => {
  const pair = useDifferentialPair<RedisRef, Candidate>({
    reference: (port) => new RedisRef(port),
    redisCandidate: redisCandidate,
    engineCandidate: engineCandidate,
    candidateIsRedis: CANDIDATE === 'redis',
    stats: STATS ? stats : undefined,
  });

  for (const resp3 of [false, true]) {
    const runs = resp3 ? Math.max(1, Math.ceil(RUNS / 2)) : RUNS;
    it(
      `${runs} random sequences give identical replies (${resp3 ? 'RESP3' : 'RESP2'})`,
      async () => {
        const t = Date.now();
        if (COLLECT) {
          const kinds = await collect(pair.ref, pair.cand, runs, resp3);
          const text = `${kinds.length} kinds of mismatch in ${runs} sequences (${resp3 ? 'RESP3' : 'RESP2'}, ${((Date.now() - t) / 1000).toFixed(1)} s)\n\n${kinds.join('\n\n')}`;
          console.log(text);
          expect(kinds.length, text).toBe(0);
          return;
        }
        let commands = 0;
        const prop = fc.asyncProperty(sequence, async (cmds) => {
          commands += cmds.length;
          return (await runSequence(pair.ref, pair.cand, cmds, resp3)) === null;
        });
        const result = await fc.check(prop, { numRuns: runs, seed: SEED, endOnFailure: false });
        console.log(
          `[fuzz] ${resp3 ? 'RESP3' : 'RESP2'}: ${result.numRuns} sequences, ${commands} commands (incl. shrinking), ` +
            `${((Date.now() - t) / 1000).toFixed(1)} s, seed ${result.seed}`,
        );
        if (firstReferenceFailure) expect.fail(firstReferenceFailure);
        if (result.failed) {
          if (result.counterexample) {
            const [cmds] = result.counterexample;
            const m = await runSequence(pair.ref, pair.cand, cmds, resp3);
            const text = m
              ? report(cmds, m, resp3, result.seed, result.numRuns)
              : `failure did not reproduce on replay: ${cmds.map((c) => quoteArgs(c)).join('\n')}`;
            console.log(text);
            expect.fail(text);
          }
          expect.fail(`property failed: ${String(result.errorInstance)}`);
        }
      },
      15 * 60_000,
    );
  }
});
