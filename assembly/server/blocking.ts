// Bookkeeping for blocked clients (XREAD/XREADGROUP BLOCK). The engine parks a client here; writes
// signal keys as ready; after the command the command layer serves waiters in FIFO order. Timeouts
// arrive from the host with the current time. Nothing here sleeps.
import { Client } from "./client";
import { StreamID } from "../core/ids";

export const BLOCK_XREAD: i32 = 1;
export const BLOCK_XREADGROUP: i32 = 2;

export class BlockedRead {
  keys: Array<string> = new Array<string>();
  /** Per key: serve entries with ID greater than this. */
  ids: Array<StreamID> = new Array<StreamID>();
  count: i64 = 0;
  /** Absolute ms; 0 = block forever. */
  deadline: f64 = 0;
  group: string = "";
  consumer: string = "";
  noack: bool = false;
  constructor(public client: Client, public kind: i32, public dbId: i32) {}
}

/** "db:key" → clients blocked on it, in blocking order. */
const waiters = new Map<string, Array<Client>>();
let readyKeys = new Array<string>();
const readySet = new Set<string>();
/** Clients with output produced outside their own feed (woken, timed out, resumed). */
const readyClients = new Array<Client>();
let readyHead = 0;
/** Clients unblocked with pending input to run. */
const resumeQueue = new Array<Client>();
export let blockedClients: i32 = 0;

@inline export function waitKey(dbId: i32, key: string): string { return String.fromCharCode(dbId) + key; }

export function park(b: BlockedRead): void {
  b.client.blocked = b;
  blockedClients++;
  for (let i = 0; i < b.keys.length; i++) {
    const wk = waitKey(b.dbId, b.keys[i]);
    let list: Array<Client>;
    if (waiters.has(wk)) list = waiters.get(wk);
    else { list = new Array<Client>(); waiters.set(wk, list); }
    // The same key twice in one XREAD parks the client once on it.
    if (list.indexOf(b.client) < 0) list.push(b.client);
  }
}

/** Removes the client from every wait list; its buffered input is queued to run. */
export function unpark(c: Client, resume: bool): void {
  const b = c.blocked;
  if (b == null) return;
  for (let i = 0; i < b.keys.length; i++) {
    const wk = waitKey(b.dbId, b.keys[i]);
    if (!waiters.has(wk)) continue;
    const list = waiters.get(wk);
    const at = list.indexOf(c);
    if (at >= 0) list.splice(at, 1);
    if (list.length == 0) waiters.delete(wk);
  }
  c.blocked = null;
  blockedClients--;
  if (resume) resumeLater(c);
}

/** A client that stops being parked: the input that arrived meanwhile is queued to run. */
export function resumeLater(c: Client): void {
  if (!c.resumePending && c.input.pos < c.input.len) {
    c.resumePending = true;
    resumeQueue.push(c);
  }
}

/** Called by every write that may serve blocked readers (signalKeyAsReady). */
export function signalKey(dbId: i32, key: string): void {
  if (waiters.size == 0) return;
  const wk = waitKey(dbId, key);
  if (!waiters.has(wk) || readySet.has(wk)) return;
  readySet.add(wk);
  readyKeys.push(wk);
}

/** Takes the current ready-key batch (FIFO of first signal). */
export function takeReadyKeys(): Array<string> {
  const r = readyKeys;
  readyKeys = new Array<string>();
  readySet.clear();
  return r;
}

export function hasReadyKeys(): bool { return readyKeys.length > 0; }

/** A snapshot of the clients waiting on a wait-key. */
export function waitersOf(wk: string): Array<Client> {
  return waiters.has(wk) ? waiters.get(wk).slice(0) : new Array<Client>();
}

export function announce(c: Client): void {
  if (c.announced || c.closed) return;
  c.announced = true;
  readyClients.push(c);
}

export function nextReady(): i32 {
  while (readyHead < readyClients.length) {
    const c = readyClients[readyHead++];
    c.announced = false;
    if (!c.closed) return c.id;
  }
  readyClients.length = 0;
  readyHead = 0;
  return -1;
}

export function hasAnnounced(): bool { return readyHead < readyClients.length; }

export function takeResume(): Client | null {
  if (resumeQueue.length == 0) return null;
  const c = resumeQueue.shift();
  c.resumePending = false;
  return c;
}

export function allBlocked(out: Array<Client>, clients: Map<i32, Client>): void {
  const vals = clients.values();
  for (let i = 0; i < vals.length; i++) if (vals[i].blocked != null) out.push(vals[i]);
}
