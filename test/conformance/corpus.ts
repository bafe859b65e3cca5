/**
 * The Rivulet conformance corpus: command sequences with the exact reply bytes of Redis 7.0.15.
 *
 * SOURCE FILES — test/conformance/cases/*.txt (recorded from redis-server) and
 * test/conformance/cases-newer/*.txt (newer-Redis behaviour, expectations written by hand):
 *
 *   ### <case name>              starts a case; every case runs on fresh state
 *   # comment                    ignored (as are empty lines)
 *   XADD s 1-1 f v               one command, redis-cli quoting ("..." with \n \r \t \xHH \" escapes, '...')
 *   @2 XLEN s                    run on connection 2 (default 1; each case opens fresh connections)
 *   @1& XREAD BLOCK 0 STREAMS s $   send without waiting for the reply (blocking commands)
 *   @1<                          await connection 1's next pending reply and compare it
 *   ? HELLO 3                    run but do not compare the reply (clock / client-id dependent)
 *   ~ XPENDING s g - + 10        compare after masking clock-dependent integers (`maskTimes`):
 *                                wall-clock timestamps and idle times; combines with @N / @N<
 *   => $3\r\n1-1\r\n             (cases-newer only) the expected raw reply of the command above,
 *                                with the escapes of a double-quoted redis-cli string
 *
 * Before each case the runner starts from an empty server: FLUSHALL and
 * `CONFIG SET stream-node-max-entries 100 stream-node-max-bytes 4096 maxmemory 0` (not recorded),
 * and fresh connections (RESP2, db 0).
 *
 * RECORDED FORMAT — test/conformance/expected.json (UTF-8 JSON, written by scripts/record-corpus.mjs):
 *
 *   [ { "name": "<case name>", "file": "<file name, e.g. xadd.txt>",
 *       "steps": [ { "conn": 1, "mode": "sync" | "nowait" | "await",
 *                    "args": ["XADD", "s", "1-1", "f", "v"],
 *                    "compare": true,
 *                    "expect": "$3\r\n1-1\r\n" } ] } ]
 *
 * - Cases are in file-name order, then in file order. Names are unique within the corpus.
 * - `args` and `expect` are BYTE STRINGS: every character is one byte (code point 0..255, i.e.
 *   latin1). Python: `arg.encode('latin-1')`; JS: `latin1ToBytes(s)`. Arguments that are plain
 *   ASCII (almost all) read naturally.
 * - mode "sync":   send `args`, wait for the reply, compare with `expect`.
 *   mode "nowait": send `args` without reading the reply; `expect` is null. After sending, a runner
 *                  against a real network server must make sure the server processed the command
 *                  (it blocked or replied) before running the next step.
 *   mode "await":  `args` is []; read the next reply of the connection's oldest unanswered
 *                  "nowait" command, compare with `expect`.
 * - compare false: run the step but ignore the reply; `expect` is null (keeps the file stable).
 * - "mask": "time" (optional; only present on `~` steps): compare `maskTimes(expected)` with
 *   `maskTimes(reply)`. The recorder stores the masked reply, so `expect` contains the placeholders
 *   `:T` / `:I` instead of digits there (it is no longer valid RESP). Absent = no mask.
 *
 * COMPARISON: byte equality, with one allowed relaxation (`normalizeReply`): the integer after
 * `$16\r\nradix-tree-nodes\r\n` (XINFO STREAM; Redis's internal rax node count) may be ignored by
 * replacing it with 0 on both sides. Runners against redis-server compare strictly — except on
 * steps with "mask": "time", where both sides go through `maskTimes` first (every runner).
 */
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseCommandLineBytes, connectRaw, type RawClient } from '../support/raw-client.ts';
import { replyLength } from '../../bindings/resp.ts';

export type StepMode = 'sync' | 'nowait' | 'await';

export interface Step {
  conn: number;
  mode: StepMode;
  /** Byte strings (latin1: one char = one byte). */
  args: string[];
  compare: boolean;
  /** Source line (1-based); not part of expected.json. */
  line?: number;
  /** Hand-written expectation (cases-newer only), byte string. */
  expect?: string | null;
  /** `~` prefix: compare after `maskTimes`. */
  mask?: StepMask;
}

/** Reply masks a step may ask for (`~` prefix → 'time'). */
export type StepMask = 'time';

export interface Case {
  name: string;
  file: string;
  steps: Step[];
}

export interface RecordedStep {
  conn: number;
  mode: StepMode;
  args: string[];
  compare: boolean;
  /** Raw reply bytes as a byte string, or null (nowait steps, compare=false steps). */
  expect: string | null;
  /** Present only on masked steps: compare `maskTimes` of both sides; `expect` is stored masked. */
  mask?: StepMask;
}

export interface RecordedCase {
  name: string;
  file: string;
  steps: RecordedStep[];
}

/** What `runCase` drives: redis-server over TCP, the in-process engine, the Rivulet TCP server ... */
export interface Target {
  /** Prepare connection `conn` (called once per connection number used by the case, before its steps). */
  open(conn: number): void | Promise<void>;
  send(conn: number, args: Array<string | Uint8Array>): Promise<Uint8Array> | Uint8Array;
  sendNoWait(conn: number, args: Array<string | Uint8Array>): void;
  next(conn: number): Promise<Uint8Array>;
  /** Fresh state before a case: close connections, empty all dbs, default configs. */
  reset(): Promise<void> | void;
  /** Called right after sendNoWait: resolve once the target has processed the command. */
  settle?(conn: number): Promise<void>;
}

export const CONFORMANCE_DIR = dirname(fileURLToPath(import.meta.url));
export const CASES_DIR = join(CONFORMANCE_DIR, 'cases');
export const NEWER_CASES_DIR = join(CONFORMANCE_DIR, 'cases-newer');
export const EXPECTED_PATH = join(CONFORMANCE_DIR, 'expected.json');

/** Commands sent (unrecorded) before each case on a real server. */
export const RESET_COMMANDS: string[][] = [
  ['FLUSHALL'],
  ['CONFIG', 'SET', 'stream-node-max-entries', '100', 'stream-node-max-bytes', '4096', 'maxmemory', '0'],
];

// ---------------------------------------------------------------------------------------------
// byte strings
// ---------------------------------------------------------------------------------------------

export function bytesToLatin1(b: Uint8Array): string {
  let s = '';
  for (let i = 0; i < b.length; i += 8192) {
    s += String.fromCharCode(...b.subarray(i, i + 8192));
  }
  return s;
}

export function latin1ToBytes(s: string): Uint8Array {
  const b = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c > 255) throw new Error(`not a byte string: ${JSON.stringify(s)}`);
    b[i] = c;
  }
  return b;
}

/** Byte-string args → what encodeCommand takes: ASCII stays a string, anything else becomes bytes. */
export function toWireArgs(args: ReadonlyArray<string>): Array<string | Uint8Array> {
  return args.map((a) => (/^[\x00-\x7f]*$/.test(a) ? a : latin1ToBytes(a)));
}

/** Readable one-line form of raw reply bytes (\r \n escaped, non-printables as \xHH). */
export function showBytes(b: Uint8Array | string): string {
  const s = typeof b === 'string' ? b : bytesToLatin1(b);
  let out = '';
  for (const ch of s) {
    const c = ch.charCodeAt(0);
    if (ch === '\r') out += '\\r';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\\') out += '\\\\';
    else if (c < 32 || c >= 127) out += '\\x' + c.toString(16).padStart(2, '0');
    else out += ch;
  }
  return out;
}

/** Un-escapes a `=>` expectation (double-quoted redis-cli escapes, without the quotes). */
export function unescapeExpect(text: string): string {
  const bytes = parseCommandLineBytes('"' + text.replace(/"/g, '\\"') + '"');
  if (bytes.length !== 1) throw new Error(`bad expectation: ${text}`);
  return bytesToLatin1(bytes[0]);
}

// ---------------------------------------------------------------------------------------------
// parsing
// ---------------------------------------------------------------------------------------------

export function parseCaseFile(text: string, file: string, opts: { inlineExpect?: boolean } = {}): Case[] {
  const cases: Case[] = [];
  let cur: Case | null = null;
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const lineNo = i + 1;
    const where = `${file}:${lineNo}`;
    const raw = lines[i];
    const line = raw.trim();
    if (line.startsWith('###')) {
      const name = line.slice(3).trim();
      if (!name) throw new Error(`${where}: case without a name`);
      cur = { name, file, steps: [] };
      cases.push(cur);
      continue;
    }
    if (line === '' || line.startsWith('#')) continue;
    if (line.startsWith('=>')) {
      if (!opts.inlineExpect) throw new Error(`${where}: '=>' expectations only belong in cases-newer`);
      const last = cur?.steps[cur.steps.length - 1];
      if (!last || last.mode === 'nowait') throw new Error(`${where}: '=>' must follow a sync or await step`);
      if (last.expect != null) throw new Error(`${where}: duplicate '=>'`);
      last.expect = unescapeExpect(line.slice(2).trim());
      continue;
    }
    if (!cur) throw new Error(`${where}: command before the first ### case`);
    let rest = line;
    let compare = true;
    let conn = 1;
    let mode: StepMode = 'sync';
    let mask: StepMask | undefined;
    // prefixes in any order: "? ", "~ " and "@N" / "@N&" / "@N<"
    for (;;) {
      if (rest.startsWith('? ') || rest === '?') {
        compare = false;
        rest = rest.slice(1).trimStart();
        continue;
      }
      if (rest.startsWith('~ ') || rest === '~') {
        mask = 'time';
        rest = rest.slice(1).trimStart();
        continue;
      }
      const m = /^@(\d+)([&<]?)(?=\s|$)/.exec(rest);
      if (m) {
        conn = Number(m[1]);
        if (conn < 1) throw new Error(`${where}: connection numbers start at 1`);
        mode = m[2] === '&' ? 'nowait' : m[2] === '<' ? 'await' : 'sync';
        rest = rest.slice(m[0].length).trimStart();
        continue;
      }
      break;
    }
    let args: string[];
    try {
      args = parseCommandLineBytes(rest).map(bytesToLatin1);
    } catch (e) {
      throw new Error(`${where}: ${(e as Error).message}`);
    }
    if (mode === 'await') {
      if (args.length) throw new Error(`${where}: '@N<' takes no command`);
    } else if (!args.length) {
      throw new Error(`${where}: empty command`);
    }
    if (mask && (!compare || mode === 'nowait')) {
      throw new Error(`${where}: '~' only applies to a compared reply (a sync or '@N<' step without '?')`);
    }
    const step: Step = { conn, mode, args, compare, line: lineNo };
    if (mask) step.mask = mask;
    cur.steps.push(step);
  }
  for (const c of cases) validateCase(c);
  return cases;
}

function validateCase(c: Case): void {
  const pending = new Map<number, number>();
  for (const s of c.steps) {
    const p = pending.get(s.conn) ?? 0;
    if (s.mode === 'nowait') pending.set(s.conn, p + 1);
    else if (s.mode === 'await') {
      if (p === 0) throw new Error(`${c.file}:${s.line}: '@${s.conn}<' without a pending '&' command`);
      pending.set(s.conn, p - 1);
    } else if (p > 0) {
      throw new Error(
        `${c.file}:${s.line}: sync command on connection ${s.conn} while a '&' command is pending there`,
      );
    }
  }
  for (const [conn, p] of pending) {
    if (p > 0) throw new Error(`${c.file}: case "${c.name}": ${p} unawaited '&' command(s) on @${conn}`);
  }
  if (!c.steps.length) throw new Error(`${c.file}: case "${c.name}" has no steps`);
}

function loadDir(dir: string, inlineExpect: boolean): Case[] {
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.txt'))
    .sort();
  const all: Case[] = [];
  const names = new Set<string>();
  for (const f of files) {
    for (const c of parseCaseFile(readFileSync(join(dir, f), 'utf8'), f, { inlineExpect })) {
      if (names.has(c.name)) throw new Error(`${f}: duplicate case name "${c.name}"`);
      names.add(c.name);
      all.push(c);
    }
  }
  return all;
}

/** All recorded-corpus cases (test/conformance/cases/*.txt), in file-name order. */
export function loadCases(dir = CASES_DIR): Case[] {
  return loadDir(dir, false);
}

/** Newer-Redis cases with inline expectations (test/conformance/cases-newer/*.txt). */
export function loadNewerCases(dir = NEWER_CASES_DIR): RecordedCase[] {
  return loadDir(dir, true).map((c) => ({
    name: c.name,
    file: c.file,
    steps: c.steps.map((s) => {
      if (s.mode !== 'nowait' && s.compare && s.expect == null) {
        throw new Error(`${c.file}:${s.line}: missing '=>' expectation`);
      }
      const r: RecordedStep = { conn: s.conn, mode: s.mode, args: s.args, compare: s.compare, expect: s.expect ?? null };
      if (s.mask) r.mask = s.mask;
      return r;
    }),
  }));
}

export function loadExpected(path = EXPECTED_PATH): RecordedCase[] {
  return JSON.parse(readFileSync(path, 'utf8')) as RecordedCase[];
}

/** Deterministic, diff-friendly JSON for expected.json (one step per line). */
export function formatExpected(cases: RecordedCase[]): string {
  const out: string[] = ['['];
  cases.forEach((c, ci) => {
    out.push(`  {"name": ${JSON.stringify(c.name)}, "file": ${JSON.stringify(c.file)}, "steps": [`);
    c.steps.forEach((s, si) => {
      const step =
        `{"conn": ${s.conn}, "mode": ${JSON.stringify(s.mode)}, "args": ${JSON.stringify(s.args)}, ` +
        `"compare": ${s.compare}, "expect": ${JSON.stringify(s.expect)}` +
        (s.mask ? `, "mask": ${JSON.stringify(s.mask)}}` : '}');
      out.push(`    ${step}${si < c.steps.length - 1 ? ',' : ''}`);
    });
    out.push(`  ]}${ci < cases.length - 1 ? ',' : ''}`);
  });
  out.push(']');
  return out.join('\n') + '\n';
}

// ---------------------------------------------------------------------------------------------
// running
// ---------------------------------------------------------------------------------------------

export interface StepResult {
  step: Step | RecordedStep;
  /** Reply bytes (null for nowait steps). */
  got: Uint8Array | null;
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  return new Promise<T>((res, rej) => {
    const t = setTimeout(() => rej(new Error(`timeout after ${ms} ms: ${what}`)), ms);
    p.then(
      (v) => (clearTimeout(t), res(v)),
      (e) => (clearTimeout(t), rej(e)),
    );
  });
}

export interface RunOptions {
  /** Max wait for any one reply (default 10000 ms). */
  timeoutMs?: number;
  /** Called after each step (e.g. to compare as you go). */
  onStep?(r: StepResult, index: number): void;
}

/** Runs one case on `target` (after `target.reset()`); returns one result per step. */
export async function runCase(c: Case | RecordedCase, target: Target, opts: RunOptions = {}): Promise<StepResult[]> {
  const timeoutMs = opts.timeoutMs ?? 10000;
  await target.reset();
  const conns = [...new Set(c.steps.map((s) => s.conn))].sort((a, b) => a - b);
  for (const n of conns) await target.open(n);
  const results: StepResult[] = [];
  for (let i = 0; i < c.steps.length; i++) {
    const step = c.steps[i];
    const label = `${c.name}: step ${i + 1} (@${step.conn} ${step.args.join(' ')})`;
    let got: Uint8Array | null = null;
    if (step.mode === 'sync') {
      got = await withTimeout(Promise.resolve(target.send(step.conn, toWireArgs(step.args))), timeoutMs, label);
    } else if (step.mode === 'nowait') {
      target.sendNoWait(step.conn, toWireArgs(step.args));
      if (target.settle) await withTimeout(target.settle(step.conn), timeoutMs, label);
    } else {
      got = await withTimeout(target.next(step.conn), timeoutMs, label);
    }
    const r = { step, got };
    results.push(r);
    opts.onStep?.(r, i);
  }
  return results;
}

const RAX_NODES = /(\$16\r\nradix-tree-nodes\r\n):-?\d+\r\n/g;

/**
 * The one comparison relaxation runners may apply: XINFO STREAM's `radix-tree-nodes` (Redis's internal
 * rax node count, an implementation detail) is replaced by 0 in both the expectation and the reply.
 * Everything else — including `radix-tree-keys`, the node count — is compared byte for byte.
 */
export function normalizeReply(raw: string): string {
  return raw.replace(RAX_NODES, '$1:0\r\n');
}

/*
 * TIME MASK (`~` steps, "mask": "time"). Replies that contain the server clock differ from run to
 * run; on masked steps three substitutions are applied, in this order, to both the expectation and
 * the reply (byte strings; each pattern is valid for JS and Python `re` alike):
 *
 *   T  wall-clock timestamps: every RESP integer with 13 or more digits (>= 10^12 ms, i.e. after
 *      2001-09-09) becomes `:T`. XINFO STREAM FULL `seen-time` and delivery times, 7.2 `active-time`.
 *        /(?<![^\n]):\d{13,}\r\n/  ->  ':T\r\n'
 *   I  idle values announced by a key: the integer after the bulk string `idle` or `inactive`
 *      (XINFO CONSUMERS, RESP2 flat array or RESP3 map) becomes `:I`.
 *        /((?<![^\n])\$4\r\nidle\r\n|(?<![^\n])\$8\r\ninactive\r\n):-?\d+\r\n/  ->  group 1 + ':I\r\n'
 *   I  idle values in 4-element pending items: in an array of exactly 4 elements whose first element
 *      is a bulk stream ID (`ms-seq`), whose second is a bulk string or a flat array of bulk strings,
 *      and whose 4th is an integer, the 3rd element (an integer) becomes `:I`. These are XPENDING's
 *      extended items [id, consumer, idle, delivery-count] and XREADGROUP ... CLAIM's claimed
 *      entries [id, [field, value, ...], idle, delivery-count] (8.4).
 *        /((?<![^\n])\*4\r\n\$\d+\r\n\d+-\d+\r\n(?:\$\d+\r\n[^\r\n]*\r\n|\*\d+\r\n(?:\$\d+\r\n[^\r\n]*\r\n)*)):-?\d+(?=\r\n:)/
 *          ->  group 1 + ':I'
 *
 * `(?<![^\n])` = "at the start of a RESP line" (start of the reply or right after LF).
 * The patterns assume bulk strings without CR/LF in masked replies (keep field names and values of
 * such cases plain). Every other byte — delivery counts, IDs, deterministic times such as
 * `XCLAIM ... TIME 1000` (< 10^12, kept) — is still compared exactly. Masks never need sleeps:
 * make entries "old" with `XCLAIM ... IDLE ms` / `TIME ms` instead of waiting.
 */
const MASK_TIME_T = /(?<![^\n]):\d{13,}\r\n/g;
const MASK_TIME_KEYED = /((?<![^\n])\$4\r\nidle\r\n|(?<![^\n])\$8\r\ninactive\r\n):-?\d+\r\n/g;
const MASK_TIME_ITEM =
  /((?<![^\n])\*4\r\n\$\d+\r\n\d+-\d+\r\n(?:\$\d+\r\n[^\r\n]*\r\n|\*\d+\r\n(?:\$\d+\r\n[^\r\n]*\r\n)*)):-?\d+(?=\r\n:)/g;

/** The "time" mask of `~` steps (see above). Idempotent; placeholders `:T` and `:I`. */
export function maskTimes(raw: string): string {
  return raw
    .replace(MASK_TIME_T, ':T\r\n')
    .replace(MASK_TIME_KEYED, '$1:I\r\n')
    .replace(MASK_TIME_ITEM, '$1:I');
}

/** Applies a step's mask (if any). */
export function applyMask(raw: string, mask: StepMask | undefined): string {
  return mask === 'time' ? maskTimes(raw) : raw;
}

export interface CheckOptions extends RunOptions {
  /** Applied to expectation and reply before comparing (e.g. `normalizeReply`). Default: none. */
  normalize?: (raw: string) => string;
}

/** Runs a recorded case and lists the steps whose reply differs from the expectation. */
export async function checkCase(
  c: RecordedCase,
  target: Target,
  opts: CheckOptions = {},
): Promise<Array<{ index: number; args: string[]; conn: number; expect: string; got: string }>> {
  const results = await runCase(c, target, opts);
  const norm = opts.normalize ?? ((x: string) => x);
  const diffs = [];
  for (let i = 0; i < results.length; i++) {
    const s = c.steps[i];
    if (s.mode === 'nowait' || !s.compare || s.expect == null) continue;
    const got = bytesToLatin1(results[i].got!);
    const mask = (s as RecordedStep).mask;
    if (norm(applyMask(got, mask)) !== norm(applyMask(s.expect, mask))) {
      diffs.push({ index: i, args: s.args, conn: s.conn, expect: s.expect, got });
    }
  }
  return diffs;
}

/** Human-readable report of `checkCase` differences. */
export function formatDiffs(c: RecordedCase, diffs: Awaited<ReturnType<typeof checkCase>>): string {
  return diffs
    .map(
      (d) =>
        `[${c.file}] ${c.name}, step ${d.index + 1}: @${d.conn} ${d.args.map((a) => JSON.stringify(a)).join(' ')}\n` +
        `  expected: ${showBytes(d.expect)}\n` +
        `  got:      ${showBytes(d.got)}`,
    )
    .join('\n');
}

// ---------------------------------------------------------------------------------------------
// redis-server target and recorder
// ---------------------------------------------------------------------------------------------

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A Target over TCP to a real redis-server (also usable for any RESP server with CLIENT ID/LIST). */
export class RedisTarget implements Target {
  private control: RawClient | null = null;
  private conns = new Map<number, { client: RawClient; id: string }>();
  constructor(
    readonly port: number,
    readonly host = '127.0.0.1',
  ) {}

  private async ctl(): Promise<RawClient> {
    if (!this.control) this.control = await connectRaw(this.port, this.host);
    return this.control;
  }

  async reset(): Promise<void> {
    await this.closeConns();
    const ctl = await this.ctl();
    for (const cmd of RESET_COMMANDS) {
      const r = bytesToLatin1(await ctl.send(cmd));
      if (r[0] === '-') throw new Error(`reset command ${cmd.join(' ')} failed: ${r}`);
    }
  }

  async open(conn: number): Promise<void> {
    const client = await connectRaw(this.port, this.host);
    const idReply = bytesToLatin1(await client.send(['CLIENT', 'ID']));
    const id = /^:(\d+)\r\n$/.exec(idReply)?.[1];
    if (!id) throw new Error(`CLIENT ID failed: ${idReply}`);
    this.conns.set(conn, { client, id });
  }

  private get(conn: number) {
    const c = this.conns.get(conn);
    if (!c) throw new Error(`connection @${conn} not open`);
    return c;
  }

  send(conn: number, args: Array<string | Uint8Array>): Promise<Uint8Array> {
    return this.get(conn).client.send(args);
  }

  sendNoWait(conn: number, args: Array<string | Uint8Array>): void {
    this.get(conn).client.sendNoWait(args);
  }

  next(conn: number): Promise<Uint8Array> {
    return this.get(conn).client.nextReply();
  }

  /** Waits until the connection is blocked (CLIENT LIST flags contain 'b') or its reply arrived. */
  async settle(conn: number): Promise<void> {
    const { client, id } = this.get(conn);
    const ctl = await this.ctl();
    const ready0 = client.readyCount();
    for (let i = 0; ; i++) {
      if (client.readyCount() > ready0) return;
      const list = bytesToLatin1(await ctl.send(['CLIENT', 'LIST', 'ID', id]));
      const flags = / flags=(\S*)/.exec(list)?.[1] ?? '';
      if (flags.includes('b')) return;
      if (i > 2000) throw new Error(`connection @${conn} neither blocked nor replied`);
      await sleep(1);
    }
  }

  private async closeConns(): Promise<void> {
    const all = [...this.conns.values()];
    this.conns.clear();
    await Promise.all(all.map((c) => c.client.close()));
  }

  async close(): Promise<void> {
    await this.closeConns();
    if (this.control) await this.control.close();
    this.control = null;
  }
}

/** Runs every case against the redis-server on `port`; returns the expectations (expected.json). */
export async function recordAgainstRedis(
  port: number,
  cases: Case[] = loadCases(),
  opts: { onCase?(c: RecordedCase): void } = {},
): Promise<RecordedCase[]> {
  const target = new RedisTarget(port);
  const out: RecordedCase[] = [];
  try {
    for (const c of cases) {
      const results = await runCase(c, target);
      const rc: RecordedCase = {
        name: c.name,
        file: c.file,
        steps: results.map(({ step, got }) => {
          if (got && replyLength(got, 0, got.length) !== got.length) throw new Error('framing bug');
          const mask = (step as Step).mask;
          const rs: RecordedStep = {
            conn: step.conn,
            mode: step.mode,
            args: step.args,
            compare: step.compare,
            expect: step.mode === 'nowait' || !step.compare ? null : applyMask(bytesToLatin1(got!), mask),
          };
          if (mask) rs.mask = mask;
          return rs;
        }),
      };
      opts.onCase?.(rc);
      out.push(rc);
    }
  } finally {
    await target.close();
  }
  return out;
}
