// The counters Redis keeps about commands, checked against redis-server 7.0.15 step by step: after
// every step of a scenario both sides are asked INFO, and what changed since the previous step must
// be the same — errorstats, total_error_replies, each command's calls / rejected_calls / failed_calls
// (INFO commandstats) and rdb_changes_since_last_save (the dirty counter). The scenarios cover every
// stream and group command (the dirty audit) and every way a blocked client is answered with an error
// (a woken XREADGROUP whose group or key went away, CLIENT UNBLOCK ... ERROR / TIMEOUT), and
// what counts nothing (timeouts).
//
// Scenario syntax is the conformance corpus's (test/conformance/README.md); `$ID2` in an argument is
// the client id of connection 2. Replies are compared too (byte for byte; `~` masks idle times; `?`
// skips the reply).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseCaseFile, RedisTarget, bytesToLatin1, toWireArgs, applyMask, type Case, type Target } from './conformance/corpus.ts';
import { startRedis, type RedisHandle } from './support/redis-server.ts';

const SCENARIOS = String.raw`
### stream commands: what counts as a change
XADD s 1-1 f v
XADD s 1-1 f v
XADD s NOMKSTREAM 2-1 f v
XADD nx NOMKSTREAM 2-1 f v
XADD s 2-1 f v g w
XADD s MAXLEN 1 3-1 f v
XADD s 4-1 f v
XADD s 5-1 f v
XADD s 6 a
XLEN s
XRANGE s - +
XREVRANGE s + -
XREAD STREAMS s 0
XTRIM s MAXLEN 10
XTRIM s MAXLEN 2
XTRIM s MINID 0
XTRIM nx MAXLEN 0
XTRIM s MAXLEN x
XDEL s 1-1
XDEL s 4-1
XDEL s 4-1 5-1
XADD s 6-1 f v
XSETID s 9-0
XSETID s 9-0
XSETID s 1-0
XSETID s 10-0 ENTRIESADDED 20 MAXDELETEDID 5-0
XINFO STREAM s
XINFO STREAM s FULL
XINFO HELP
SET k v
GET k
RENAME k k2
DEL k2 s
DEL nx
XADD u 1-1 f v
UNLINK u
XADD s 1-1 f v
XADD t 1-1 f v
FLUSHDB
FLUSHALL
XADD s 1-1 f v
FLUSHALL
MULTI
XADD s 1-1 f v
XADD s 2-1 f v
EXEC

### group commands: what counts as a change
XADD s 1-1 f v
XADD s 2-1 f v
XADD s 3-1 f v
XADD s 4-1 f v
XGROUP CREATE s g 0
XGROUP CREATE s g 0
XGROUP CREATE m g $ MKSTREAM
XGROUP CREATE nx g $
XGROUP SETID s g 0
XGROUP SETID s g 0 ENTRIESREAD 1
XGROUP SETID s nog 0
XGROUP CREATECONSUMER s g c1
XGROUP CREATECONSUMER s g c1
XREADGROUP GROUP g c2 COUNT 1 STREAMS s >
XREADGROUP GROUP g c2 COUNT 1 STREAMS s >
XREADGROUP GROUP g c3 STREAMS s 0
XREADGROUP GROUP g c2 STREAMS s 0
XREADGROUP GROUP g c1 STREAMS s 0
XREADGROUP GROUP g c4 COUNT 1 STREAMS s m > >
XREADGROUP GROUP g c5 NOACK STREAMS s >
XREADGROUP GROUP g c6 STREAMS s >
XREADGROUP GROUP g c6 BLOCK 1 STREAMS s >
XREADGROUP GROUP nog c1 STREAMS s >
XREADGROUP GROUP g c7 STREAMS s m 0 >
XREADGROUP GROUP g c8 STREAMS s m > 0
XPENDING s g
~ XPENDING s g - + 10
~ XPENDING s g - + 10 c2
XINFO GROUPS s
~ XINFO CONSUMERS s g
XCLAIM s g c1 0 2-1
XCLAIM s g c1 0 2-1 JUSTID
XCLAIM s g c9 0 2-1
XCLAIM s g c1 999999999 2-1
XCLAIM s g c1 0 99-1
XCLAIM s g c10 0 99-1
XCLAIM s g c1 0 3-1 FORCE
XCLAIM s g c1 0 4-1 FORCE LASTID 9-0
XCLAIM s g c1 0 99-1 LASTID 10-0
XCLAIM s g c1 0 4-1 JUSTID LASTID 11-0
XAUTOCLAIM s g c1 0 0
XAUTOCLAIM s g c11 0 0 JUSTID
XAUTOCLAIM s g c12 9999999999 0
XDEL s 3-1
XAUTOCLAIM s g c1 0 0
XDEL s 2-1
XCLAIM s g c1 0 2-1 LASTID 12-0
XADD s 5-1 f v
XREADGROUP GROUP g c1 STREAMS s >
XDEL s 5-1
XREADGROUP GROUP g c1 STREAMS s 0
XACK s g 4-1
XACK s g 4-1
XACK s g 1-1 99-1
XGROUP DELCONSUMER s g c1
XGROUP DELCONSUMER s g c2
XGROUP DELCONSUMER s g nobody
XGROUP DESTROY s g
XGROUP DESTROY s g
XGROUP CREATE s g 0
MULTI
XREADGROUP GROUP g z BLOCK 0 STREAMS s >
XREADGROUP GROUP g z2 BLOCK 0 STREAMS s >
EXEC

### blocked XREADGROUP: consumers created when served, and not when nothing is served
XADD s 1-1 f v
XGROUP CREATE s g $
XGROUP CREATECONSUMER s g old
@2& XREADGROUP GROUP g old BLOCK 0 STREAMS s >
XADD s 2-1 f v
@2<
@2& XREADGROUP GROUP g fresh BLOCK 0 STREAMS s >
XADD s 3-1 f v
@2<
@2& XREADGROUP GROUP g quiet NOACK BLOCK 0 STREAMS s >
XADD s 4-1 f v
@2<
XREADGROUP GROUP g late BLOCK 5 STREAMS s >
~ XINFO CONSUMERS s g

### woken with NOGROUP by XGROUP DESTROY (RESP2 and RESP3)
XADD s 1-1 f v
XGROUP CREATE s g $
@2& XREADGROUP GROUP g c BLOCK 0 STREAMS s >
XGROUP DESTROY s g
@2<
@2 PING
? @3 HELLO 3
@3& XREADGROUP GROUP g c BLOCK 0 STREAMS s >
XGROUP CREATE s g $
XADD s 2-1 f v
@3<
@3& XREADGROUP GROUP g c BLOCK 0 STREAMS s >
XGROUP DESTROY s g
@3<

### woken with NOGROUP when the key is re-created in MULTI, and inside EXEC
XADD s 1-1 f v
XGROUP CREATE s g $
@2& XREADGROUP GROUP g c BLOCK 0 STREAMS s >
MULTI
DEL s
XADD s 5-1 f v
EXEC
@2<
XGROUP CREATE s g $
@2& XREADGROUP GROUP g c BLOCK 0 STREAMS s >
MULTI
XGROUP DESTROY s g
EXEC
@2<

### woken with UNBLOCKED when the key goes: DEL, another type, FLUSHALL, RENAME
XADD s 1-1 f v
XGROUP CREATE s g $
@2& XREADGROUP GROUP g c BLOCK 0 STREAMS s >
DEL s
@2<
XGROUP CREATE s g $ MKSTREAM
@2& XREADGROUP GROUP g c BLOCK 0 STREAMS s >
MULTI
DEL s
SET s x
EXEC
@2<
DEL s
XGROUP CREATE s g $ MKSTREAM
@2& XREADGROUP GROUP g c BLOCK 0 STREAMS s >
FLUSHALL
@2<
XGROUP CREATE s g $ MKSTREAM
@2& XREADGROUP GROUP g c BLOCK 0 STREAMS s >
RENAME s t
@2<
XGROUP CREATE s g $ MKSTREAM
@2& XREADGROUP GROUP g c BLOCK 0 STREAMS s >
MULTI
XADD s 2-1 f v
DEL s
SET s x
EXEC
@2<

### two streams, the group of one destroyed; XREAD readers stay blocked when the key goes
XADD s 1-1 f v
XADD t 1-1 f v
XGROUP CREATE s g $
XGROUP CREATE t g $
@2& XREADGROUP GROUP g c BLOCK 0 STREAMS s t > >
XGROUP DESTROY s g
@2<
@3& XREAD BLOCK 0 STREAMS t $
DEL t
XADD t 2-1 f v
@3<

### CLIENT UNBLOCK with ERROR and TIMEOUT, of XREAD and XREADGROUP
XADD s 1-1 f v
XGROUP CREATE s g $
@2& XREADGROUP GROUP g c BLOCK 0 STREAMS s >
CLIENT UNBLOCK $ID2 ERROR
@2<
@2& XREADGROUP GROUP g c BLOCK 0 STREAMS s >
CLIENT UNBLOCK $ID2 TIMEOUT
@2<
@2& XREADGROUP GROUP g c BLOCK 0 STREAMS s >
CLIENT UNBLOCK $ID2
@2<
@2& XREAD BLOCK 0 STREAMS s $
CLIENT UNBLOCK $ID2 ERROR
@2<
CLIENT UNBLOCK $ID2 ERROR
CLIENT UNBLOCK 999999 ERROR
CLIENT UNBLOCK $ID2 BAD
MULTI
CLIENT UNBLOCK 999999 ERROR
EXEC

### timeouts of blocked readers count no failure
XADD s 1-1 f v
XGROUP CREATE s g $
XREADGROUP GROUP g c BLOCK 5 STREAMS s >
XREAD BLOCK 5 STREAMS s $
@2& XREADGROUP GROUP g c BLOCK 20 STREAMS s >
@2<

### FUNCTION commands: what counts as a change, errors
FUNCTION FLUSH
FUNCTION FLUSH ASYNC
FUNCTION FLUSH bad
FUNCTION LIST
FUNCTION RESTORE "\n\x00]\x9b\\@\x0f\x7f\xa2\xda"
FUNCTION RESTORE x
FUNCTION DELETE x
FUNCTION LOAD x
FUNCTION KILL
FCALL f 0
FCALL_RO f 0
MULTI
FUNCTION FLUSH
FCALL f 0
EXEC

### errors inside EXEC fail the queued command, not EXEC; rejections
XADD s 5-1 f v
MULTI
PING
XADD s 1-1 f v
EXEC
MULTI
XADD s 1-1 f v
PING
EXEC
MULTI
XADD s
EXEC
XADD s
NOSUCHCOMMAND
XGROUP NOSUCH
`;

const CONTROL = 99;
/** Harness commands the two runners send differently (settle polling, client ids). */
const IGNORED_COMMANDS = new Set(['client|list', 'client|id']);

type Counters = Map<string, number>;

function parseStats(info: string): Counters {
  const out: Counters = new Map();
  for (const line of info.split('\r\n')) {
    let m = /^errorstat_(.+):count=(\d+)$/.exec(line);
    if (m) {
      out.set(`errorstat_${m[1]}`, Number(m[2]));
      continue;
    }
    m = /^cmdstat_(.+?):calls=(\d+),usec=\d+,usec_per_call=[\d.]+,rejected_calls=(\d+),failed_calls=(\d+)$/.exec(line);
    if (m) {
      if (IGNORED_COMMANDS.has(m[1])) continue;
      out.set(`cmdstat_${m[1]}.calls`, Number(m[2]));
      out.set(`cmdstat_${m[1]}.rejected_calls`, Number(m[3]));
      out.set(`cmdstat_${m[1]}.failed_calls`, Number(m[4]));
      continue;
    }
    m = /^(total_error_replies|rdb_changes_since_last_save):(\d+)$/.exec(line);
    if (m) out.set(m[1], Number(m[2]));
  }
  return out;
}

/** What changed from `a` to `b`, as sorted "key +n" lines (counters absent count as 0). */
function delta(a: Counters, b: Counters): string[] {
  const keys = new Set([...a.keys(), ...b.keys()]);
  const out: string[] = [];
  for (const k of keys) {
    const d = (b.get(k) ?? 0) - (a.get(k) ?? 0);
    if (d !== 0) out.push(`${k} ${d > 0 ? '+' : ''}${d}`);
  }
  return out.sort();
}

/** The in-process engine, one fresh instance per scenario. */
class EngineTarget implements Target {
  #engine: any = null;
  #conns = new Map<number, any>();
  #pending = new Map<number, Promise<Uint8Array>[]>();

  async reset(): Promise<void> {
    this.close();
    const { createEngine } = await import('../bindings/entry.node.ts');
    this.#engine = await createEngine();
  }
  open(conn: number): void {
    this.#conns.set(conn, this.#engine.connect());
    this.#pending.set(conn, []);
  }
  send(conn: number, args: Array<string | Uint8Array>): Promise<Uint8Array> {
    return Promise.resolve(this.#conns.get(conn).callRaw(...args));
  }
  sendNoWait(conn: number, args: Array<string | Uint8Array>): void {
    const p = Promise.resolve(this.#conns.get(conn).callRaw(...args));
    p.catch(() => {});
    this.#pending.get(conn)!.push(p);
  }
  next(conn: number): Promise<Uint8Array> {
    return this.#pending.get(conn)!.shift()!;
  }
  close(): void {
    this.#engine?.close();
    this.#engine = null;
    this.#conns.clear();
    this.#pending.clear();
  }
}

interface StepRecord {
  label: string;
  reply: string | null;
  changed: string[];
}

async function runScenario(c: Case, target: Target): Promise<StepRecord[]> {
  await target.reset();
  const conns = [...new Set(c.steps.map((s) => s.conn)), CONTROL].sort((a, b) => a - b);
  const ids = new Map<number, string>();
  for (const n of conns) {
    await target.open(n);
    const r = bytesToLatin1(await target.send(n, ['CLIENT', 'ID']));
    ids.set(n, r.slice(1, -2));
  }
  const stats = async () => parseStats(bytesToLatin1(await target.send(CONTROL, ['INFO', 'everything'])));
  expect(bytesToLatin1(await target.send(CONTROL, ['CONFIG', 'RESETSTAT']))).toBe('+OK\r\n');
  let before = await stats();
  const out: StepRecord[] = [];
  for (const s of c.steps) {
    const args = s.args.map((a) => a.replace(/\$ID(\d+)/g, (_, n) => ids.get(Number(n)) ?? '?'));
    let reply: string | null = null;
    if (s.mode === 'sync') reply = bytesToLatin1(await target.send(s.conn, toWireArgs(args)));
    else if (s.mode === 'nowait') {
      target.sendNoWait(s.conn, toWireArgs(args));
      await target.settle?.(s.conn);
    } else reply = bytesToLatin1(await target.next(s.conn));
    const after = await stats();
    const label = `line ${s.line}: @${s.conn}${s.mode === 'nowait' ? '&' : s.mode === 'await' ? '<' : ''} ${args.join(' ')}`;
    out.push({ label, reply: s.compare && reply !== null ? applyMask(reply, s.mask) : null, changed: delta(before, after) });
    before = after;
  }
  return out;
}

const cases = parseCaseFile(SCENARIOS, 'stats-differential');

describe('INFO errorstats / commandstats / rdb_changes_since_last_save, step by step vs redis-server 7.0.15', () => {
  let redis: RedisHandle;
  let ref: RedisTarget;
  const engine = new EngineTarget();
  beforeAll(async () => {
    redis = await startRedis();
    ref = new RedisTarget(redis.port);
  }, 60_000);
  afterAll(async () => {
    engine.close();
    await ref?.close();
    await redis?.stop();
  });

  for (const c of cases) {
    it(c.name, async () => {
      const want = await runScenario(c, ref);
      const got = await runScenario(c, engine);
      for (let i = 0; i < want.length; i++) {
        const w = want[i];
        const g = got[i];
        expect(g.reply, `reply at ${w.label}`).toBe(w.reply);
        expect(g.changed, `counters changed by ${w.label}`).toEqual(w.changed);
      }
    }, 30_000);
  }
});
