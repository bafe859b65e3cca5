/**
 * Runs the recorded conformance corpus (expected.json) and the newer-Redis vectors (cases-newer/)
 * against the in-process engine. One `it()` per case.
 *
 * Comparison is byte for byte except XINFO STREAM `radix-tree-nodes` (see normalizeReply); set
 * RIVULET_STRICT_RAX=1 to compare that too.
 */
import { describe, it, expect } from 'vitest';
import {
  loadExpected,
  loadNewerCases,
  checkCase,
  formatDiffs,
  normalizeReply,
  type RecordedCase,
  type Target,
} from './corpus.ts';

// The bindings are written by another helper; imported lazily so a missing or broken entry point
// fails each case (with the import error) instead of the whole file.
const ENTRY = '../../bindings/entry.node.ts';

type RawConn = {
  callRaw(...args: Array<string | Uint8Array>): Uint8Array | Promise<Uint8Array>;
  close?(): void;
};
type Engine = { connect(): RawConn; close?(): void };
type EngineModule = { createEngine(opts?: { clock?: () => number }): Promise<Engine> | Engine };

let modPromise: Promise<EngineModule> | undefined;
function loadEngineModule(): Promise<EngineModule> {
  return (modPromise ??= import(/* @vite-ignore */ ENTRY) as Promise<EngineModule>);
}

/** A fresh engine per case (so one case cannot poison the next); connections opened on demand. */
class EngineTarget implements Target {
  private engine: Engine | null = null;
  private conns = new Map<number, RawConn>();
  private pending = new Map<number, Promise<Uint8Array>[]>();

  async reset(): Promise<void> {
    this.dispose();
    const mod = await loadEngineModule();
    this.engine = await mod.createEngine();
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
      this.engine?.close?.();
    } catch {
      /* ignore */
    }
    this.engine = null;
  }
}

const strictRax = process.env.RIVULET_STRICT_RAX === '1';
const normalize = strictRax ? undefined : normalizeReply;

function suite(title: string, cases: RecordedCase[]): void {
  describe(title, () => {
    for (const c of cases) {
      it(`[${c.file}] ${c.name}`, async () => {
        const target = new EngineTarget();
        try {
          const diffs = await checkCase(c, target, { normalize, timeoutMs: 5000 });
          expect(diffs, formatDiffs(c, diffs)).toEqual([]);
        } finally {
          target.dispose();
        }
      });
    }
  });
}

suite('conformance corpus (Redis 7.0.15) vs in-process engine', loadExpected());
suite('newer-Redis vectors vs in-process engine', loadNewerCases());
