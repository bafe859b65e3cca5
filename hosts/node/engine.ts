/**
 * The engine as the server host sees it: one RawEngine (bindings/raw.ts) plus what the host needs
 * beyond the thin mirror — connection-id allocation, an internal control connection for CONFIG
 * GET/SET at start and when host-owned settings change, and the `rv_effects_enable` export that
 * RivuletExports does not declare (yet).
 */
import { readFileSync, existsSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RawEngine } from '../../bindings/raw.ts';
import { encodeCommand, decodeReply, replyLength, ReplyError, type RespValue } from '../../bindings/resp.ts';

/** Exports the host needs that bindings/abi.ts (RivuletExports) may not declare. */
export interface HostExports {
  rv_effects_enable?(on: number): void;
}

/** Where rivulet.wasm may be, relative to this module (source tree or dist/server/). */
export function findWasm(): string {
  if (process.env.RIVULET_WASM) {
    if (!existsSync(process.env.RIVULET_WASM)) throw new Error(`RIVULET_WASM=${process.env.RIVULET_WASM} does not exist`);
    return process.env.RIVULET_WASM;
  }
  const here = dirname(fileURLToPath(import.meta.url));
  const candidates = [
    resolve(here, '../rivulet.wasm'), // dist/server/cli.js → dist/rivulet.wasm
    resolve(here, '../../build/rivulet.wasm'), // hosts/node/*.ts or dist/server → build/
    resolve(here, '../../dist/rivulet.wasm'),
  ];
  // in a checkout both dist/ and build/ may exist: the newest wins
  const found = [...new Set(candidates)].filter((p) => existsSync(p)).sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs);
  if (found.length) return found[0];
  throw new Error(`rivulet.wasm not found (looked at ${candidates.join(', ')}); run npm run build`);
}

export const NEEDED_EXPORTS = [
  'rv_status',
  'rv_set_loading',
  'rv_effects_enable',
  'rv_effects_read',
  'rv_snapshot',
  'rv_snapshot_read',
  'rv_dirty',
  'rv_take_requests',
  'rv_conn_set_addr',
  'rv_set_host_info',
] as const;

/** Status bits (docs/ABI.md). */
export const ST_OUTPUT = 1;
export const ST_CLOSE = 2;
export const ST_BLOCKED = 4;
export const ST_OTHERS_READY = 8;
export const ST_SHUTDOWN = 16;
export const ST_REQUESTS = 32;

/** rv_take_requests bits. */
export const REQ_SAVE = 1;
export const REQ_BGSAVE = 2;
export const REQ_BGREWRITEAOF = 4;
export const REQ_SHUTDOWN = 8;
export const REQ_SHUTDOWN_NOSAVE = 16;
export const REQ_SHUTDOWN_SAVE = 32;
/** A host-owned setting changed by CONFIG SET (engine extension beyond docs/ABI.md). */
export const REQ_CONFIG_CHANGED = 64;

export class CommandError extends Error {}

export class EngineHost {
  readonly raw: RawEngine;
  readonly wasmPath: string;
  #nextId = 1;
  #ctl = -1;
  /** Password to AUTH the control connection with when it has to be reopened. */
  password = '';

  private constructor(raw: RawEngine, wasmPath: string) {
    this.raw = raw;
    this.wasmPath = wasmPath;
  }

  static async load(wasmPath = findWasm()): Promise<EngineHost> {
    const module = await WebAssembly.compile(readFileSync(wasmPath));
    const raw = await RawEngine.instantiate(module);
    const missing = NEEDED_EXPORTS.filter((n) => typeof (raw.exports as unknown as Record<string, unknown>)[n] !== 'function');
    if (missing.length) throw new Error(`${wasmPath} lacks the server exports ${missing.join(', ')} (docs/ABI.md); rebuild it`);
    return new EngineHost(raw, wasmPath);
  }

  /** A fresh connection id (never reused). */
  allocId(): number {
    return this.#nextId++;
  }

  /** Opens a new engine connection; returns its id. */
  open(): number {
    const id = this.allocId();
    if (this.raw.open(id) !== 0) throw new Error(`rv_open(${id}) refused the id`);
    return id;
  }

  effectsEnable(on: boolean): void {
    (this.raw.exports as unknown as HostExports).rv_effects_enable!(on ? 1 : 0);
  }

  /** Copies `text` (ASCII/UTF-8) into scratch; returns its length (truncated to the scratch size). */
  putScratch(bytes: Uint8Array): number {
    const n = Math.min(bytes.length, this.raw.scratchCap);
    this.raw.scratch().set(bytes.subarray(0, n));
    return n;
  }

  /** True for the internal control connection's id. */
  isControl(id: number): boolean {
    return id === this.#ctl;
  }

  /** Forgets a dead control connection (e.g. CLIENT KILL hit it); the next command reopens one. */
  dropControl(): void {
    if (this.#ctl >= 0) this.raw.close(this.#ctl);
    this.#ctl = -1;
  }

  #control(): number {
    if (this.#ctl >= 0 && this.raw.status(this.#ctl) & ST_CLOSE) this.dropControl();
    if (this.#ctl < 0) {
      this.#ctl = this.open();
      this.raw.connSetAddr(this.#ctl, this.putScratch(new TextEncoder().encode('internal:0 internal:0')));
      const ex = this.raw.exports as { rv_set_internal?: (conn: number) => void };
      if (typeof ex.rv_set_internal === 'function') ex.rv_set_internal(this.#ctl);
      else if (this.password) this.#run(this.#ctl, ['AUTH', this.password]);
    }
    return this.#ctl;
  }

  /** Runs one command on connection `id`; returns the raw reply bytes (all output). */
  #run(id: number, args: Array<string | Uint8Array>): Uint8Array {
    this.raw.feedBytes(id, encodeCommand(args), Date.now());
    return this.raw.readAll(id);
  }

  /** Runs a command on the control connection and decodes its reply (errors are returned as ReplyError). */
  command(...args: Array<string | Uint8Array>): RespValue {
    const out = this.#run(this.#control(), args);
    const r = decodeReply(out, 0, out.length);
    if (!r) throw new Error(`incomplete reply to internal ${args[0]}`);
    return r.value;
  }

  /** Like `command`, throwing CommandError on an error reply. */
  commandOk(...args: Array<string | Uint8Array>): RespValue {
    const v = this.command(...args);
    if (v instanceof ReplyError) throw new CommandError(`${args.map(String).join(' ')}: ${v.message}`);
    return v;
  }

  /** CONFIG GET name → value ('' when unknown). */
  configGet(name: string): string {
    const v = this.command('CONFIG', 'GET', name);
    if (v instanceof Map) {
      for (const [k, val] of v) if (String(k) === name) return String(val);
      return '';
    }
    if (Array.isArray(v) && v.length >= 2) return String(v[1]);
    return '';
  }

  /** The engine build hash (from the snapshot header of an empty dataset: call before loading). */
  buildInfo(): { format: string; hash: string } {
    const bytes = this.raw.readSnapshot();
    const r = decodeReply(bytes, 0, bytes.length);
    if (r && Array.isArray(r.value) && r.value.length >= 3) return { format: String(r.value[1]), hash: String(r.value[2]) };
    return { format: '?', hash: '?' };
  }

  /** Runs a command on the control connection; the reply decoded with bulk strings as bytes. */
  commandBytes(...args: Array<string | Uint8Array>): RespValue {
    const out = this.#run(this.#control(), args);
    const r = decodeReply(out, 0, out.length, { buffers: true });
    if (!r) throw new Error(`incomplete reply to internal ${args[0]}`);
    if (r.value instanceof ReplyError) throw new CommandError(`${args.map(String).join(' ')}: ${r.value.message}`);
    return r.value;
  }

  /**
   * Keys in all databases, and stream entries in total (SCAN + TYPE + XLEN on the control
   * connection; entries is null when there are more than `maxKeysForEntries` keys).
   */
  datasetSummary(maxKeysForEntries = 200_000): { keys: number; entries: number | null } {
    let keys = 0;
    const perDb: number[] = [];
    for (let db = 0; db < 16; db++) {
      this.commandOk('SELECT', String(db));
      const n = Number(this.commandOk('DBSIZE'));
      perDb.push(n);
      keys += n;
    }
    let entries: number | null = keys > maxKeysForEntries ? null : 0;
    if (entries !== null) {
      for (let db = 0; db < 16; db++) {
        if (perDb[db] === 0) continue;
        this.commandOk('SELECT', String(db));
        let cursor = '0';
        do {
          const r = this.commandBytes('SCAN', cursor, 'COUNT', '1000') as RespValue[];
          cursor = Buffer.from(r[0] as Uint8Array).toString('latin1');
          for (const k of r[1] as Uint8Array[]) {
            const t = this.commandBytes('TYPE', k);
            if (t === 'stream') entries += Number(this.commandBytes('XLEN', k));
          }
        } while (cursor !== '0');
      }
    }
    this.commandOk('SELECT', '0');
    return { keys, entries };
  }
}

export { replyLength, ReplyError };
