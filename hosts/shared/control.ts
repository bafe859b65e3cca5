/**
 * The host's own connection to the engine: an internal connection (hidden from CLIENT LIST and
 * INFO, never killed, never asked to AUTH) on which the host runs CONFIG GET / SET synchronously —
 * to apply its configuration at start and to read host-owned settings back when CONFIG SET
 * changed one. It bypasses the loop: nothing it runs produces output for anybody else.
 */
import type { RawEngine } from '../../bindings/raw.js';
import { decodeReply, encodeCommand, ReplyError, type RespValue } from '../../bindings/resp.js';

/** Connection id of the control connection (hosts allocate theirs from 0 upwards). */
export const CONTROL_CONN = 0x7ffffff2;

export class CommandError extends Error {}

export class ControlConnection {
  readonly raw: RawEngine;

  constructor(raw: RawEngine) {
    this.raw = raw;
  }

  #open(): number {
    const raw = this.raw;
    if (raw.status(CONTROL_CONN) & 2 /* CLOSE: unknown or closed */) {
      raw.close(CONTROL_CONN);
      if (raw.open(CONTROL_CONN) !== 0) throw new Error('rivulet: the control connection id is in use');
      const addr = new TextEncoder().encode('internal:0 internal:0');
      raw.scratch().set(addr);
      raw.connSetAddr(CONTROL_CONN, addr.length);
      raw.setInternal(CONTROL_CONN);
    }
    return CONTROL_CONN;
  }

  /** Runs one command; its decoded reply (an error reply is returned as a ReplyError value). */
  command(args: Array<string | Uint8Array>, options: { buffers?: boolean } = {}): RespValue {
    const id = this.#open();
    this.raw.feedBytes(id, encodeCommand(args), Date.now());
    const out = this.raw.readAll(id);
    const r = decodeReply(out, 0, out.length, options);
    if (!r) throw new Error(`rivulet: incomplete reply to internal ${String(args[0])}`);
    return r.value;
  }

  /** Like `command`, throwing CommandError on an error reply. */
  ok(...args: Array<string | Uint8Array>): RespValue {
    const v = this.command(args);
    if (v instanceof ReplyError) throw new CommandError(`${args.map(String).join(' ')}: ${v.message}`);
    return v;
  }

  /** CONFIG SET name value: null when accepted, else the engine's error text. */
  configSet(name: string, value: string): string | null {
    const v = this.command(['CONFIG', 'SET', name, value]);
    return v instanceof ReplyError ? v.message : null;
  }

  /** CONFIG GET name → value ('' when unknown). */
  configGet(name: string): string {
    const v = this.command(['CONFIG', 'GET', name]);
    if (v instanceof Map) {
      for (const [k, val] of v) if (String(k) === name) return String(val);
      return '';
    }
    if (Array.isArray(v) && v.length >= 2) return String(v[1]);
    return '';
  }

  /** The engine build: snapshot format and build hash. */
  buildInfo(): { format: string; hash: string } {
    const b = this.raw.buildInfo();
    return { format: String(b.snapshotFormat), hash: b.hash };
  }
}
