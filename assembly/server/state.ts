// Engine-wide state: databases, configuration, connections, the command clock.
// Only the command layer reads this; the stream layer receives what it needs as arguments.
import { Db, DB_COUNT } from "../core/keyspace";
import { Client } from "./client";

export class Config {
  streamNodeMaxEntries: i64 = 100;
  streamNodeMaxBytes: i64 = 4096;
  maxmemory: i64 = 0;
  maxmemoryPolicy: string = "noeviction";
  /** Hard linear-memory budget in 64 KiB pages (0 = none); set by the host. */
  pageBudget: i32 = 0;
  requirepass: string = "";
  queryBufferLimit: i64 = 1073741824;
}

// Requests for the host (rv_take_requests): HostRequest bits (abi.ts).
export let hostRequests: i32 = 0;
export function requestHost(bits: i32): void { hostRequests |= bits; }
export function takeRequests(): i32 { const r = hostRequests; hostRequests = 0; return r; }

export const config = new Config();

export const dbs = new StaticArray<Db>(DB_COUNT);
for (let i = 0; i < DB_COUNT; i++) dbs[i] = new Db(i);

export const clients = new Map<i32, Client>();

/** The time of the command being run, from the host (commandTimeSnapshot in Redis). */
export let nowMs: f64 = 0;
/** The first time the host supplied: when the engine started, as far as it can tell. */
export let startMs: f64 = 0;
export function setNow(t: f64): void {
  nowMs = t;
  if (startMs == 0) startMs = t;
}

/** EXEC is running its queue (server.in_exec): BGSAVE / BGREWRITEAOF are then only scheduled. */
export let inExec: bool = false;
export function setInExec(on: bool): void { inExec = on; }

/** Monotonic ms used for ID generation: never goes backwards within a run. */
export function commandTimeMs(): u64 { return nowMs <= 0 ? 0 : <u64>nowMs; }

export let dirty: i64 = 0;
export function addDirty(n: i64): void { dirty += n; }

export let totalCommands: i64 = 0;
export function countCommand(): void { totalCommands++; }
export function resetCommandCount(): void { totalCommands = 0; }
