/**
 * The host under test of the engine-semantics suites (test/engine/*.suite.ts). A suite is written
 * once against {@link EngineContext}; each host's test file only builds a context:
 *
 *   - in-process (test/engine/in-process-context.ts): a fresh engine per test, a manual clock;
 *   - TCP (test/server/tcp-context.ts): one `rivulet serve`, reset between tests, the wall clock;
 *   - next: a browser worker, the C host.
 *
 * Every call is awaited, so a suite holds whether a host answers synchronously (in-process) or
 * asynchronously (a socket). Times are written to hold under both clocks: `advance` moves a manual
 * clock exactly and sleeps on a real one, and {@link about} / {@link at} compare exactly under a
 * manual clock and within {@link Session.slack} under a real one.
 */
import { it } from 'vitest';
import type { GroupCommands } from '../../bindings/groups.ts';
import type { CommandArg, RespValue } from '../../bindings/resp.ts';
import type { Awaitable } from '../../bindings/streams.ts';

/** One client connection: the typed helpers plus raw calls (an in-process `Connection`, a `RemoteConnection`). */
export interface Conn extends GroupCommands {
  /** The host's id for it (`CLIENT ID`). */
  readonly id: number;
  /** True once closed by the client, or by the host (CLIENT KILL, QUIT). */
  readonly closed: boolean;
  call(...args: CommandArg[]): Awaitable<RespValue>;
  callRaw(...args: CommandArg[]): Awaitable<Uint8Array>;
  pipeline(commands: readonly (readonly CommandArg[])[]): Awaitable<RespValue[]>;
  pipelineRaw(commands: readonly (readonly CommandArg[])[]): Awaitable<Uint8Array[]>;
  close(): void | Promise<void>;
}

/** One fresh, isolated dataset on the host (empty, default settings, no other clients). */
export interface Session {
  /** `manual`: time moves only with {@link advance} (times are exact); `real`: the host's wall clock. */
  readonly clock: 'manual' | 'real';
  /** How far a real clock may run past the ideal time between two steps of a test (0 when manual). */
  readonly slack: number;
  connect(): Promise<Conn>;
  /** The host's clock now (ms since the epoch). */
  now(): number;
  /** Moves time forward by `ms` (at least), delivering BLOCK timeouts that fall due. */
  advance(ms: number): Promise<void>;
  /**
   * Resolves once `conn` is parked in a blocking command on the host (CLIENT LIST shows flag b):
   * what a test waits for before a write meant to wake it. At once in-process, where a call returns
   * only after the engine has run it.
   */
  untilBlocked(conn: Conn): Promise<void>;
  /** Lets replies in flight arrive, so that a call still pending afterwards really is waiting. */
  settle(): Promise<void>;
  /** Closes every connection of the session (and the engine, in-process). */
  close(): Promise<void>;
}

export interface EngineContext {
  /** "in-process engine", "TCP server", … */
  readonly name: string;
  open(): Promise<Session>;
}

/** A test on a fresh session, closed afterwards whatever happens. */
export function sessionTest(ctx: EngineContext, name: string, fn: (s: Session) => Promise<void>, timeoutMs?: number): void {
  it(
    name,
    async () => {
      const s = await ctx.open();
      try {
        await fn(s);
      } finally {
        await s.close();
      }
    },
    timeoutMs,
  );
}

/** A number in [lo, hi], for `toEqual` / `toMatchObject` (an asymmetric matcher). */
function within(lo: number, hi: number) {
  return {
    $$typeof: Symbol.for('jest.asymmetricMatcher'),
    asymmetricMatch: (x: unknown) => typeof x === 'number' && x >= lo && x <= hi,
    toString: () => `a number within [${lo}, ${hi}]`,
    toAsymmetricMatcher: () => `within(${lo}, ${hi})`,
  };
}

/** A duration of `ms`: exactly under a manual clock, `ms` to `ms + slack` under a real one. */
export function about(s: Session, ms: number): unknown {
  return s.clock === 'manual' ? ms : within(ms, ms + s.slack);
}

/** A point in time `t` (a value of `s.now()` taken around it): exactly, or within ± slack. */
export function at(s: Session, t: number): unknown {
  return s.clock === 'manual' ? t : within(t - s.slack, t + s.slack);
}

/**
 * Replaces the clock-dependent fields (idle and inactive times, delivery / seen / active times)
 * of a decoded reply with a marker under a real clock, so two runs can be compared; unchanged
 * under a manual clock, where they are exact.
 */
export function withoutTimes<T>(s: Session, v: T): T {
  if (s.clock === 'manual') return v;
  const TIME_KEYS = new Set(['idle', 'inactive', 'seenTime', 'activeTime', 'deliveryTime']);
  const walk = (x: unknown): unknown => {
    if (Array.isArray(x)) return x.map(walk);
    if (x instanceof Map) return new Map([...x].map(([k, y]) => [k, walk(y)]));
    if (x && typeof x === 'object' && !(x instanceof Uint8Array) && !(x instanceof Error)) {
      const out: Record<string, unknown> = {};
      for (const [k, y] of Object.entries(x)) out[k] = TIME_KEYS.has(k) && typeof y === 'number' ? '<time>' : walk(y);
      return out;
    }
    return x;
  };
  return walk(v) as T;
}

/** Tracks whether a call settled yet (without awaiting it). */
export function track<T>(p: Awaitable<T>) {
  const s = {
    done: false,
    value: undefined as T | undefined,
    error: undefined as unknown,
    /** The call itself, rejections included (awaited by the test when it expects the result). */
    promise: Promise.resolve(p),
  };
  s.promise.then(
    (v) => {
      s.done = true;
      s.value = v;
    },
    (e) => {
      s.done = true;
      s.error = e;
    },
  );
  return s;
}

/** A call as a Promise: a synchronous throw (an in-process host's) becomes a rejection. */
export function attempt<T>(f: () => Awaitable<T>): Promise<T> {
  return Promise.resolve().then(f);
}

/**
 * Polls CLIENT LIST on `control` until connection `id` is parked in a blocking command (flag b).
 * Shared by every context: the engine reports it the same way whichever host runs it.
 */
export async function untilBlockedVia(control: Conn, id: number, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const line = String(await control.call('CLIENT', 'LIST', 'ID', id));
    const flags = / flags=(\S*)/.exec(line)?.[1];
    if (flags === undefined) throw new Error(`connection ${id} is gone (CLIENT LIST: ${JSON.stringify(line)})`);
    if (flags.includes('b')) return;
    if (Date.now() > deadline) throw new Error(`connection ${id} did not block within ${timeoutMs} ms (flags=${flags})`);
    await new Promise((r) => setTimeout(r, 1));
  }
}
