// Differential property test for consumer groups: random sequences (5–40 commands) mixing stream
// commands with XGROUP CREATE / SETID / DESTROY / CREATECONSUMER / DELCONSUMER, XREADGROUP (`>`,
// history IDs, COUNT, NOACK; never BLOCK), XACK, XPENDING (summary and extended, IDLE, consumer),
// XCLAIM (IDLE, TIME, RETRYCOUNT, FORCE, JUSTID, LASTID), XAUTOCLAIM and XINFO GROUPS / CONSUMERS /
// STREAM [FULL], run against redis-server 7.0.15 (the reference) and the in-process engine (reply
// bytes through callRaw). Replies must be identical byte for byte after normalising only what
// depends on the wall clock (test/support/normalize.ts: XPENDING idle, XINFO CONSUMERS idle, XINFO
// STREAM FULL delivery / seen times, radix-tree-nodes). Both sides use explicit entry IDs only
// (test/fuzz/gen.ts). The property runs in RESP2 and, after HELLO 3, in RESP3.
//
//   FUZZ_RUNS=n           sequences for the RESP2 property (RESP3 runs half as many); default 12000
//                         (about 16 s in all on 2 cores when nothing fails)
//   FUZZ_SEED=n           replay a seed printed by a failure
//   FUZZ_COLLECT=1        don't stop at the first mismatch: run FUZZ_RUNS sequences, group mismatches
//                         by kind, minimise one example of each, print them all (then fail)
//   FUZZ_CANDIDATE=redis  compare redis-server with a second redis-server (self-test of the generators
//                         and the normaliser: must never fail)
//   FUZZ_REWIND=0         leave out the "rewind" step (XDEL of the tail, then XSETID below it), whose
//                         differences are common, to look for differences of other kinds
//   FUZZ_NODE_BYTES=1     also use tiny stream-node-max-bytes (redis-server 7.0.15 can crash: gen.ts)
//   FUZZ_STATS=1          print a histogram of the reference replies (what the generators reach)
//   RIVULET_WASM=path     fuzz another build of the module
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { useDifferentialPair } from '../support/differential-pair.ts';
import { connectRaw, quoteArgs, type RawClient } from '../support/raw-client.ts';
import { execContexts, normalizeReply, normalizeSequence } from '../support/normalize.ts';
import { groupSequence, type Cmd } from './gen.ts';

const RUNS = Number(process.env.FUZZ_RUNS ?? 12000);
const SEED = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : undefined;
const COLLECT = process.env.FUZZ_COLLECT === '1';
const CANDIDATE = process.env.FUZZ_CANDIDATE ?? 'engine';
const STATS = process.env.FUZZ_STATS === '1';
const stats = new Map<string, number>();

/** Counts a reference reply by command and reply kind (error text, empty / null, or type). */
function tally(cmd: Cmd, reply: Uint8Array): void {
  const s = td.decode(reply);
  const first = s.slice(0, s.indexOf('\r\n'));
  const kind =
    first[0] === '-' ? first.replace(/'[^']*'/g, "'…'") : /^[*%]0$|^[*$]-1$|^_$/.test(first) ? first : `${first[0]} (${s.length > 60 ? 'long' : 'short'})`;
  const name = cmd[0].toUpperCase();
  const sub = name === 'XGROUP' || name === 'XINFO' ? ` ${(cmd[1] ?? '').toUpperCase()}` : '';
  const k = `${name}${sub} ${kind}`;
  stats.set(k, (stats.get(k) ?? 0) + 1);
}

const RESET: Cmd[] = [['FLUSHALL'], ['CONFIG', 'SET', 'stream-node-max-entries', '100', 'stream-node-max-bytes', '4096']];
const td = new TextDecoder('latin1');

// ---------------------------------------------------------------------------------------------
// the two sides
// ---------------------------------------------------------------------------------------------

interface Side {
  /** Selects the protocol on a fresh connection (once per property). */
  open(resp3: boolean): Promise<void>;
  /** Empty keyspace, default configs. */
  reset(): Promise<void>;
  /** Runs the commands in order; the raw reply of each. */
  run(cmds: Cmd[]): Promise<Uint8Array[]>;
  /**
   * The engine only: FLUSHALL, close the connection (the next reset opens a new one), and return
   * used_memory over its baseline (before any connection existed): 0 unless memory leaked.
   */
  memoryLeftAfterFlush?(): Promise<number>;
  close(): Promise<void>;
}

function checkOk(what: string, b: Uint8Array): void {
  const s = td.decode(b);
  if (s[0] === '-' || s[0] === '!') throw new Error(`${what} failed: ${s}`);
}

/** redis-server over one raw TCP connection; a sequence is pipelined. */
function redisSide(port: number): Side {
  let client: RawClient | null = null;
  return {
    async open(resp3) {
      if (client) await client.close();
      client = await connectRaw(port);
      if (resp3) checkOk('HELLO 3', await client.send(['HELLO', '3']));
    },
    async reset() {
      await client!.send(['DISCARD']); // a shrunk sequence may have left a MULTI open
      const replies = await Promise.all(RESET.map((c) => client!.send(c)));
      replies.forEach((r, i) => checkOk(RESET[i].join(' '), r));
    },
    run(cmds) {
      return Promise.all(cmds.map((c) => client!.send(c)));
    },
    async close() {
      if (client) await client.close();
      client = null;
    },
  };
}

/** The in-process engine (real clock), one connection, replies as exact bytes. */
async function engineSide(): Promise<Side> {
  const { createEngine } = await import('../../bindings/entry.node.ts');
  const wasm = process.env.RIVULET_WASM ? readFileSync(process.env.RIVULET_WASM) : undefined;
  const engine = await createEngine(wasm ? { wasm } : undefined);
  const baseline = engine.usedMemory();
  let conn: ReturnType<typeof engine.connect> | null = null;
  let proto3 = false;
  const open = async (resp3: boolean) => {
    conn?.close();
    conn = engine.connect();
    proto3 = resp3;
    if (resp3) checkOk('HELLO 3', await conn.callRaw('HELLO', '3'));
  };
  return {
    open,
    async reset() {
      if (!conn) await open(proto3);
      await conn!.callRaw('DISCARD'); // a shrunk sequence may have left a MULTI open
      for (const c of RESET) checkOk(c.join(' '), await conn!.callRaw(...c));
    },
    async run(cmds) {
      const out: Uint8Array[] = [];
      for (const c of cmds) out.push(await conn!.callRaw(...c));
      return out;
    },
    async memoryLeftAfterFlush() {
      await conn!.callRaw('DISCARD'); // a sequence may end inside MULTI
      checkOk('FLUSHALL', await conn!.callRaw('FLUSHALL'));
      conn!.close();
      conn = null;
      return engine.usedMemory() - baseline;
    },
    async close() {
      conn?.close();
      engine.close();
    },
  };
}

// ---------------------------------------------------------------------------------------------
// comparing
// ---------------------------------------------------------------------------------------------

interface Mismatch {
  index: number;
  cmd: Cmd;
  /** Raw replies. */
  redis: string;
  engine: string;
  /** Normalised replies (what was compared). */
  redisNorm: string;
  engineNorm: string;
}

/** The reference failed (crashed, closed the connection): not an engine mismatch. */
class ReferenceFailure extends Error {}

async function runSequence(ref: Side, cand: Side, cmds: Cmd[]): Promise<Mismatch | null> {
  let want: Uint8Array[];
  try {
    await ref.reset();
    want = await ref.run(cmds);
  } catch (e) {
    throw new ReferenceFailure(`redis-server failed (${(e as Error).message}) on:\n${cmds.map((c) => `   ${quoteArgs(c)}`).join('\n')}`);
  }
  if (STATS) cmds.forEach((c, i) => tally(c, want[i]));
  const wantNorm = normalizeSequence(cmds, want, Date.now());
  await cand.reset();
  const got = await cand.run(cmds);
  const gotNorm = normalizeSequence(cmds, got, Date.now());
  const ctx = execContexts(cmds);
  for (let i = 0; i < cmds.length; i++) {
    const a = wantNorm[i];
    const b = gotNorm[i];
    if (a !== b && !sameAnswer([cmds[i], ...(ctx[i] ?? [])], a, b)) {
      return { index: i, cmd: cmds[i], redis: td.decode(want[i]), engine: td.decode(got[i]), redisNorm: a, engineNorm: b };
    }
  }
  // Invariant: after FLUSHALL (and with no connection open) used_memory is back at its baseline.
  if (cand.memoryLeftAfterFlush) {
    const left = await cand.memoryLeftAfterFlush();
    if (left !== 0) {
      const text = `${left} bytes of used_memory left after FLUSHALL`;
      return { index: cmds.length, cmd: ['FLUSHALL'], redis: 'used_memory back at its baseline', engine: text, redisNorm: '', engineNorm: text };
    }
  }
  return null;
}

const XADD_SMALLER = '-ERR The ID specified in XADD is equal or smaller than the target stream top item\r\n';
const XADD_TOO_LARGE = '-ERR Elements are too large to be stored\r\n';

/**
 * Replies that differ only by a known quirk of the reference (not a clock), here or inside an EXEC
 * whose queued commands (the rest of `cmds`) include such an XADD: `XADD key <ms>-*` when
 * the stream's last ID is `<ms>-18446744073709551615` — Redis 7.0.15 leaves errno unset on that path,
 * so its reply depends on a stale errno ("equal or smaller" right after a command that failed with
 * EDOM, otherwise "Elements are too large to be stored"). Both count as the same answer (as in
 * test/fuzz/differential.test.ts).
 */
function sameAnswer(cmds: readonly (readonly string[])[], a: string, b: string): boolean {
  const quirk = cmds.some((c) => c[0].toUpperCase() === 'XADD' && c.some((x) => /^\d+-\*$/.test(x)));
  if (!quirk) return false;
  // the error is a whole reply (or a whole EXEC element): compare with it spelled one way
  const canon = (r: string) => r.split(XADD_TOO_LARGE).join(XADD_SMALLER);
  return canon(a) === canon(b);
}

const esc = (s: string) => s.replace(/\r\n/g, '\\r\\n').replace(/\r/g, '\\r').replace(/\n/g, '\\n');

function report(cmds: Cmd[], m: Mismatch, resp3: boolean): string {
  const lines = cmds.slice(0, m.index + 1).map((c, i) => `${i === m.index ? '>>' : '  '} ${quoteArgs(c)}`);
  const out = [
    `shrunk sequence (redis-cli lines, fresh server${resp3 ? ', after HELLO 3' : ''}):`,
    ...(resp3 ? ['   HELLO 3'] : []),
    ...lines,
    `command: ${quoteArgs(m.cmd)}`,
    `redis:   ${esc(m.redis)}`,
    `engine:  ${esc(m.engine)}`,
  ];
  if (m.redisNorm !== m.redis || m.engineNorm !== m.engine) {
    out.push(`redis (normalised):  ${esc(m.redisNorm)}`, `engine (normalised): ${esc(m.engineNorm)}`);
  }
  return out.join('\n');
}

/** Kind of a mismatch: command (and subcommand), and the first line of each reply, numbers blurred. */
function signature(m: Mismatch): string {
  const name = m.cmd[0].toUpperCase();
  const sub = name === 'XGROUP' || name === 'XINFO' ? ` ${(m.cmd[1] ?? '').toUpperCase()}` : '';
  const blur = (r: string) => r.slice(0, Math.max(0, r.indexOf('\r\n'))).replace(/'[^']*'/g, "'…'").replace(/\d+/g, 'N');
  return `${name}${sub} | redis ${blur(m.redisNorm)} | engine ${blur(m.engineNorm)}`;
}

/**
 * Greedy delta debugging: drop commands while a mismatch of the same kind remains. Returns null when
 * the mismatch does not happen again on a replay (a nondeterministic difference).
 */
async function minimise(ref: Side, cand: Side, cmds: Cmd[], sig: string): Promise<{ cmds: Cmd[]; m: Mismatch } | null> {
  const first = await runSequence(ref, cand, cmds);
  if (!first || signature(first) !== sig) return null;
  let bestM = first;
  let best = cmds.slice(0, bestM.index + 1);
  const tryTrial = async (trial: Cmd[]): Promise<boolean> => {
    if (!trial.length) return false;
    const m = await runSequence(ref, cand, trial);
    if (!m || signature(m) !== sig) return false;
    best = trial.slice(0, m.index + 1);
    bestM = m;
    return true;
  };
  for (let changed = true; changed; ) {
    changed = false;
    for (let i = best.length - 1; i >= 0; i--) {
      if (i >= best.length) continue;
      if (await tryTrial(best.slice(0, i).concat(best.slice(i + 1)))) changed = true;
    }
  }
  return { cmds: best, m: bestM };
}

// ---------------------------------------------------------------------------------------------
// the test
// ---------------------------------------------------------------------------------------------

describe('the normaliser (test/support/normalize.ts)', () => {
  const NOW = 1_800_000_000_000;
  const bulk = (x: string) => `$${x.length}\r\n${x}\r\n`;
  const int = (n: number | string) => `:${n}\r\n`;
  const map2 = (kv: [string, string][]) => `*${kv.length * 2}\r\n${kv.map(([k, v]) => bulk(k) + v).join('')}`;
  const map3 = (kv: [string, string][]) => `%${kv.length}\r\n${kv.map(([k, v]) => bulk(k) + v).join('')}`;

  it('classifies XPENDING idle times and leaves everything else byte for byte', () => {
    const item = (idle: number) => `*4\r\n${bulk('1-0')}${bulk('c')}${int(idle)}${int(3)}`;
    const cmd = ['XPENDING', 's', 'g', '-', '+', '10'];
    expect(normalizeReply(cmd, `*2\r\n${item(5)}${item(1e10)}`, NOW)).toBe(
      `*2\r\n*4\r\n${bulk('1-0')}${bulk('c')}:<duration:recent>\r\n${int(3)}*4\r\n${bulk('1-0')}${bulk('c')}:<duration:old>\r\n${int(3)}`,
    );
    // the summary form has no time in it; errors and other commands are untouched
    const summary = `*4\r\n${int(1)}${bulk('1-0')}${bulk('1-0')}*1\r\n*2\r\n${bulk('c')}${bulk('1')}`;
    expect(normalizeReply(['XPENDING', 's', 'g'], summary, NOW)).toBe(summary);
    expect(normalizeReply(cmd, '-NOGROUP x\r\n', NOW)).toBe('-NOGROUP x\r\n');
    expect(normalizeReply(['XRANGE', 's', '-', '+'], `*1\r\n*2\r\n${bulk('1-0')}*-1\r\n`, NOW)).toBe(
      `*1\r\n*2\r\n${bulk('1-0')}*-1\r\n`,
    );
  });

  it('XINFO CONSUMERS idle, in RESP2 and RESP3', () => {
    const cmd = ['XINFO', 'CONSUMERS', 's', 'g'];
    const c2 = map2([['name', bulk('idle')], ['pending', int(7)], ['idle', int(12)]]);
    expect(normalizeReply(cmd, `*1\r\n${c2}`, NOW)).toBe(
      `*1\r\n${map2([['name', bulk('idle')], ['pending', int(7)], ['idle', ':<duration:recent>\r\n']])}`,
    );
    const c3 = map3([['name', bulk('a')], ['pending', int(0)], ['idle', int(-1)]]);
    expect(normalizeReply(cmd, `*1\r\n${c3}`, NOW)).toBe(`*1\r\n${c3}`); // negative: a bug, kept
  });

  it('XINFO STREAM [FULL]: radix-tree-nodes, delivery times and seen-time', () => {
    const full = (t: (n: number) => string, nodes: string) =>
      map3([
        ['length', int(1)],
        ['radix-tree-nodes', nodes],
        ['entries', '*0\r\n'],
        [
          'groups',
          `*1\r\n${map3([
            ['name', bulk('g')],
            ['pending', `*1\r\n*4\r\n${bulk('1-0')}${bulk('c')}${t(NOW - 3)}${int(1)}`],
            [
              'consumers',
              `*1\r\n${map3([
                ['name', bulk('c')],
                ['seen-time', t(NOW - 1e10)],
                ['pel-count', int(1)],
                ['pending', `*1\r\n*3\r\n${bulk('1-0')}${t(1000)}${int(1)}`],
              ])}`,
            ],
          ])}`,
        ],
      ]);
    const got = normalizeReply(['XINFO', 'STREAM', 's', 'FULL'], full(int, int(17)), NOW);
    const classes = ['<time:recent>', '<time:old>', '1000'];
    let k = 0;
    expect(got).toBe(full(() => `:${classes[k++]}\r\n`, int(0)));
    const short = map2([['length', int(0)], ['radix-tree-nodes', int(5)], ['groups', int(2)]]);
    expect(normalizeReply(['XINFO', 'STREAM', 's'], short, NOW)).toBe(
      map2([['length', int(0)], ['radix-tree-nodes', int(0)], ['groups', int(2)]]),
    );
  });

  it('XREADGROUP … CLAIM: the idle time of 4-element entries (RESP2 list, RESP3 map)', () => {
    const entry = (id: string, idle: string) => `*4\r\n${bulk(id)}*2\r\n${bulk('f')}${bulk('v')}${idle}${int(1)}`;
    const cmd = ['XREADGROUP', 'GROUP', 'g', 'c', 'CLAIM', '100', 'STREAMS', 's', '>'];
    const plain = `*2\r\n${bulk('9-0')}*2\r\n${bulk('f')}${bulk('v')}`;
    const r2 = (a: string, b: string) => `*1\r\n*2\r\n${bulk('s')}*3\r\n${entry('1-0', a)}${entry('2-0', b)}${plain}`;
    expect(normalizeReply(cmd, r2(int(250), int(-1)), NOW)).toBe(r2(':<duration:recent>\r\n', int(-1)));
    const r3 = (a: string) => `%1\r\n${bulk('s')}*1\r\n${entry('1-0', a)}`;
    expect(normalizeReply(cmd, r3(int(2e10)), NOW)).toBe(r3(':<duration:old>\r\n'));
  });

  it('EXEC elements by their queued commands', () => {
    const cmds = [['MULTI'], ['XLEN', 's'], ['XINFO', 'CONSUMERS', 's', 'g'], ['EXEC'], ['XINFO', 'CONSUMERS', 's', 'g']];
    const consumers = `*1\r\n${map2([['name', bulk('c')], ['pending', int(0)], ['idle', int(9)]])}`;
    const norm = `*1\r\n${map2([['name', bulk('c')], ['pending', int(0)], ['idle', ':<duration:recent>\r\n']])}`;
    const out = normalizeSequence(cmds, ['+OK\r\n', '+QUEUED\r\n', '+QUEUED\r\n', `*2\r\n${int(9)}${consumers}`, consumers], NOW);
    expect(out).toEqual(['+OK\r\n', '+QUEUED\r\n', '+QUEUED\r\n', `*2\r\n${int(9)}${norm}`, norm]);
  });
});

describe('groups differential: redis-server 7.0.15 vs Rivulet', () => {
  const pair = useDifferentialPair<Side, Side>({
    reference: (port) => redisSide(port),
    redisCandidate: redisSide,
    engineCandidate: engineSide,
    candidateIsRedis: CANDIDATE === 'redis',
    stats: STATS ? stats : undefined,
  });

  for (const resp3 of [false, true]) {
    const proto = resp3 ? 'RESP3' : 'RESP2';
    const runs = resp3 ? Math.max(1, Math.ceil(RUNS / 2)) : RUNS;
    it(
      `${runs} random group sequences give identical replies (${proto})`,
      async () => {
        const t = Date.now();
        await pair.ref.open(resp3);
        await pair.cand.open(resp3);

        if (COLLECT) {
          const found = new Map<string, { cmds: Cmd[]; m: Mismatch; count: number }>();
          for (const cmds of fc.sample(groupSequence, { numRuns: runs, seed: SEED })) {
            const m = await runSequence(pair.ref, pair.cand, cmds);
            if (!m) continue;
            const sig = signature(m);
            const f = found.get(sig);
            if (f) f.count++;
            else found.set(sig, { cmds, m, count: 1 });
          }
          const kinds: string[] = [];
          for (const [sig, { cmds, m, count }] of found) {
            const small = await minimise(pair.ref, pair.cand, cmds, sig);
            kinds.push(
              small
                ? `[${count}x] ${sig}\n${report(small.cmds, small.m, resp3)}`
                : `[${count}x] ${sig} (did not happen again on replay: nondeterministic)\n${report(cmds, m, resp3)}`,
            );
          }
          const text = `${kinds.length} kinds of mismatch in ${runs} sequences (${proto}, ${((Date.now() - t) / 1000).toFixed(1)} s)\n\n${kinds.join('\n\n')}`;
          console.log(text);
          expect(kinds.length, text).toBe(0);
          return;
        }

        let commands = 0;
        let referenceFailure: string | null = null;
        const prop = fc.asyncProperty(groupSequence, async (cmds) => {
          commands += cmds.length;
          try {
            return (await runSequence(pair.ref, pair.cand, cmds)) === null;
          } catch (e) {
            if (e instanceof ReferenceFailure) referenceFailure ??= e.message;
            throw e;
          }
        });
        const result = await fc.check(prop, { numRuns: runs, seed: SEED, endOnFailure: false });
        console.log(
          `[groups fuzz] ${proto}: ${result.numRuns} sequences, ${commands} commands (incl. shrinking), ` +
            `${((Date.now() - t) / 1000).toFixed(1)} s, seed ${result.seed}`,
        );
        if (referenceFailure) expect.fail(referenceFailure);
        if (result.failed) {
          if (result.counterexample) {
            const [cmds] = result.counterexample;
            const m = await runSequence(pair.ref, pair.cand, cmds);
            const text = m
              ? `groups differential mismatch (${proto}) after ${result.numRuns} runs; replay with FUZZ_SEED=${result.seed}\n` +
                report(cmds, m, resp3)
              : `failure did not reproduce on replay:\n${cmds.map((c) => `   ${quoteArgs(c)}`).join('\n')}`;
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
