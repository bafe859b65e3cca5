/**
 * One conformance suite for every host: the recorded corpus (expected.json, Redis 7.0.15) and the
 * newer-Redis vectors, run through a {@link Target} — the in-process engine, the TCP server, and
 * next the browser worker and the C host. A host's test file only says how to reach it.
 *
 * Comparison is byte for byte except XINFO STREAM `radix-tree-nodes` (see normalizeReply); set
 * RIVULET_STRICT_RAX=1 to compare that too.
 */
import { describe, it, expect } from 'vitest';
import { loadExpected, loadNewerCases, checkCase, formatDiffs, normalizeReply, type RecordedCase, type Target } from './corpus.ts';

/** What the in-process target needs of an engine: connections with `callRaw`. */
export interface RawConn {
  callRaw(...args: Array<string | Uint8Array>): Uint8Array | Promise<Uint8Array>;
  close?(): void;
}
export interface EngineLike {
  connect(): RawConn;
  close?(): unknown;
}

/** A fresh engine per case (so one case cannot poison the next); connections opened on demand. */
export class EngineTarget implements Target {
  private engine: EngineLike | null = null;
  private conns = new Map<number, RawConn>();
  private pending = new Map<number, Promise<Uint8Array>[]>();

  constructor(private readonly create: () => Promise<EngineLike>) {}

  async reset(): Promise<void> {
    this.dispose();
    this.engine = await this.create();
  }

  open(conn: number): void {
    this.conns.set(conn, this.engine!.connect());
    this.pending.set(conn, []);
  }

  private conn(n: number): RawConn {
    const c = this.conns.get(n);
    if (!c) throw new Error(`connection @${n} not open`);
    return c;
  }

  send(conn: number, args: Array<string | Uint8Array>): Promise<Uint8Array> | Uint8Array {
    return this.conn(conn).callRaw(...args);
  }

  sendNoWait(conn: number, args: Array<string | Uint8Array>): void {
    const p = Promise.resolve(this.conn(conn).callRaw(...args));
    p.catch(() => {}); // surfaced when awaited
    this.pending.get(conn)!.push(p);
  }

  next(conn: number): Promise<Uint8Array> {
    const p = this.pending.get(conn)!.shift();
    if (!p) return Promise.reject(new Error(`no pending reply on @${conn}`));
    return p;
  }

  dispose(): void {
    for (const c of this.conns.values()) {
      try {
        c.close?.();
      } catch {
        /* ignore */
      }
    }
    this.conns.clear();
    this.pending.clear();
    try {
      void this.engine?.close?.();
    } catch {
      /* ignore */
    }
    this.engine = null;
  }
}

export interface HostUnderTest {
  /** "in-process engine", "TCP server", … */
  name: string;
  /** A target for one case; `release` after it (a shared server target resets itself per case). */
  target(): Target | Promise<Target>;
  release?(t: Target): void | Promise<void>;
  timeoutMs?: number;
}

const normalize = process.env.RIVULET_STRICT_RAX === '1' ? undefined : normalizeReply;

function cases(title: string, list: RecordedCase[], host: HostUnderTest): void {
  describe(title, () => {
    for (const c of list) {
      it(`[${c.file}] ${c.name}`, async () => {
        const target = await host.target();
        try {
          const diffs = await checkCase(c, target, { normalize, timeoutMs: host.timeoutMs ?? 5000 });
          expect(diffs, formatDiffs(c, diffs)).toEqual([]);
        } finally {
          await host.release?.(target);
        }
      });
    }
  });
}

/** Registers the whole corpus against one host. */
export function conformanceSuite(host: HostUnderTest): void {
  cases(`conformance corpus (Redis 7.0.15) vs ${host.name}`, loadExpected(), host);
  cases(`newer-Redis vectors vs ${host.name}`, loadNewerCases(), host);
}
