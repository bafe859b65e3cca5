// Snapshots by cursor: the dataset as it was when the snapshot began, as the RESP commands that rebuild
// it (Redis's AOF-rewrite form), produced in parts of a size the host chooses while the engine keeps
// serving commands between them. Any host writes the same bytes; docs/PERSISTENCE.md has the format.
//
//   RIVULET.SNAPSHOT <format> <build-hash>
//   SELECT <db>                                    per database that has keys, in order
//   SET <key> <value>                              a string
//   XADD <key> <id> <field> <value> …              a stream: each entry (an empty one: XADD key MAXLEN 0 0-1 x y)
//   XSETID <key> <last-id> ENTRIESADDED <n> MAXDELETEDID <id>
//   XGROUP CREATE <key> <group> <last-id> ENTRIESREAD <n>            per group, in name order
//   XNACK <key> <group> FAIL IDS 1 <id> RETRYCOUNT <n> FORCE          per entry released to the group
//   XGROUP CREATECONSUMER <key> <group> <consumer>                    per consumer, in name order, then
//   XCLAIM <key> <group> <consumer> 0 <id> TIME <ms> RETRYCOUNT <n> JUSTID FORCE   per pending entry
//
// Consistency: the snapshot is the dataset as of begin(); what writes do meanwhile to the parts it has
// not written yet is kept for it in place (core/snapview.ts), so the snapshot alone rebuilds the dataset
// as of begin, and the snapshot followed by the effects produced after begin rebuilds the current one.
// Memory: the pending output holds at most STAGE bytes plus one small piece (16 KiB, allocated at
// begin); values and field names larger than BIG are copied straight from the dataset into the host's
// buffer. So a snapshot needs no large block, however large its parts.
import { CommandWriter } from "../resp/command-writer";
import { dbs } from "./state";
import { DB_COUNT, Value, StreamValue, StringValue, TYPE_STREAM } from "../core/keyspace";
import { Stream, SNAP_ENTRIES, SNAP_GROUPS } from "../core/stream";
import { Entry } from "../core/block";
import { cmpId } from "../core/ids";
import { Group, Consumer, Nack, compareBytes, freeRetiredGroups } from "../core/groups";
import { startEpoch, endEpoch, inSnapshot, activeSnapshot } from "../core/snapview";
import { SnapshotEntries, findSnapshotEntry, clearSnapshotMarks } from "../core/snapscan";
import { fits, reserve, collectIfLow } from "../util/heap";
import { BUILD_HASH } from "../build-info";
import { SNAPSHOT_FORMAT, SnapshotStart } from "../abi";

export const SNAPSHOT_COMMAND = "RIVULET.SNAPSHOT";

/** Bulk payloads above this size are streamed from the dataset instead of buffered. */
const BIG: i32 = 4096;
/** The writer fills the pending output this far before it is moved out. */
const STAGE: i32 = 8192;
const PENDING_CAP: i32 = 16384;

// Where the writer is.
const AT_HEADER: i32 = 0;
const AT_KEY: i32 = 1;
const AT_STRING: i32 = 2;
const AT_ENTRIES: i32 = 3;
const AT_GROUP: i32 = 4;
const AT_UNOWNED: i32 = 5;
const AT_CONSUMER: i32 = 6;
const AT_DONE: i32 = 7;

// A big payload being copied out: nothing, a string value, or a part of an entry.
const PAY_NONE: i32 = 0;
const PAY_STRING: i32 = 1;
const PAY_ENTRY: i32 = 2;


class Job {
  w: CommandWriter = new CommandWriter();
  /** Every key, its value and database as of begin (keeps detached values alive until written). */
  keys: StaticArray<string>;
  values: StaticArray<Value>;
  dbOf: StaticArray<i32>;
  i: i32 = 0;
  lastDb: i32 = -1;
  at: i32 = AT_HEADER;
  // the current stream
  stream: Stream | null = null;
  wroteEntry: bool = false;
  groups: Array<Group> = new Array<Group>();
  gi: i32 = 0;
  consumers: Array<Consumer> = new Array<Consumer>();
  ci: i32 = 0;
  /** Position in the current PEL pass: the last pending entry written. */
  pelSet: bool = false;
  pelMs: u64 = 0;
  pelSeq: u64 = 0;
  /** The consumer of the current pass is created (written). */
  wroteInPass: bool = false;
  // an entry written in pieces (one of its parts is big): its ID and the next part (2k field, 2k+1 value)
  inEntry: bool = false;
  entMs: u64 = 0;
  entSeq: u64 = 0;
  entPart: i32 = 0;
  // the big payload
  pay: i32 = PAY_NONE;
  payString: StringValue | null = null;
  payOff: i32 = 0;
  payLen: i32 = 0;

  constructor(keys: i32) {
    this.keys = new StaticArray<string>(keys);
    this.values = new StaticArray<Value>(keys);
    this.dbOf = new StaticArray<i32>(keys);
  }
}

let job: Job | null = null;
const scratchEntry = new Entry();

export function snapshotRunning(): bool { return job != null; }

/** Starts a snapshot of the dataset as it is now. */
export function beginSnapshot(): i32 {
  if (job != null) return SnapshotStart.RUNNING;
  let n = 0;
  for (let d = 0; d < DB_COUNT; d++) n += dbs[d].size;
  // The key list is the snapshot's only up-front memory: three references per key.
  if (!fits(<i64>n * 12 + PENDING_CAP + (reserve() >> 2), <i64>n * 4 + 4096, 4)) return SnapshotStart.NO_MEMORY;
  const j = new Job(n);
  j.w.buf.reserve(PENDING_CAP);
  const epoch = startEpoch();
  let at = 0;
  for (let d = 0; d < DB_COUNT; d++) {
    const db = dbs[d];
    if (db.size == 0) continue;
    const keys = db.map.keys();
    for (let k = 0; k < keys.length; k++) {
      const v = db.map.get(keys[k]);
      v.snapEpoch = epoch;
      if (v.type == TYPE_STREAM) {
        const s = changetype<StreamValue>(v).stream;
        s.snapEpoch = epoch;
        s.snapStage = SNAP_ENTRIES;
        s.snapCursorSet = false;
      }
      unchecked(j.keys[at] = keys[k]);
      unchecked(j.values[at] = v);
      unchecked(j.dbOf[at] = d);
      at++;
    }
  }
  job = j;
  return SnapshotStart.STARTED;
}

/** Gives the running snapshot up; every object kept for it goes back to normal. */
export function abortSnapshot(): void {
  const j = job;
  if (j == null) return;
  for (let i = j.i; i < j.values.length; i++) finishValue(j, j.values[i]);
  j.w.buf.free();
  job = null;
  endEpoch();
}

/**
 * Moves up to `max` bytes of the snapshot's next part to dst; 0 once it is complete (it then ends),
 * -1 when none is running.
 */
export function readSnapshot(dst: usize, max: i32): i32 {
  const j = job;
  if (j == null) return -1;
  const buf = j.w.buf;
  let n = 0;
  while (n < max) {
    if (buf.len > buf.pos) { n += buf.drainTo(dst + <usize>n, max - n); continue; }
    if (j.pay != PAY_NONE) { n += copyPayload(j, dst + <usize>n, max - n); continue; }
    if (j.at == AT_DONE) break;
    collectIfLow();
    produce(j, min(max - n, STAGE));
  }
  if (n == 0 && j.at == AT_DONE) {
    buf.free();
    job = null;
    endEpoch();
  }
  return n;
}

/** Writes the next pieces into the pending output until it holds about `want` bytes or a payload starts. */
function produce(j: Job, want: i32): void {
  const w = j.w;
  if (j.at == AT_HEADER) {
    w.begin(3); w.argAscii(SNAPSHOT_COMMAND); w.argI64(SNAPSHOT_FORMAT); w.argAscii(BUILD_HASH);
    j.at = AT_KEY;
    return;
  }
  while (j.pay == PAY_NONE && w.buf.len - w.buf.pos < want) {
    if (j.at == AT_KEY) { if (!startKey(j)) return; }
    else if (j.at == AT_STRING) writeString(j);
    else if (j.at == AT_ENTRIES) writeEntries(j, want);
    else if (j.at == AT_GROUP) writeGroupStart(j);
    else if (j.at == AT_UNOWNED || j.at == AT_CONSUMER) writePel(j, want);
    else return;
  }
}

/** Moves to the next key; false when all are written. */
function startKey(j: Job): bool {
  if (j.i >= j.values.length) { j.at = AT_DONE; return false; }
  const d = j.dbOf[j.i];
  if (d != j.lastDb) {
    j.w.begin(2); j.w.argAscii("SELECT"); j.w.argI64(d);
    j.lastDb = d;
  }
  const v = j.values[j.i];
  if (v.type != TYPE_STREAM) { j.at = AT_STRING; return true; }
  j.stream = changetype<StreamValue>(v).stream;
  j.wroteEntry = false;
  j.at = AT_ENTRIES;
  return true;
}

/** The current key is written: release what was kept for it and go on. */
function nextKey(j: Job): void {
  finishValue(j, j.values[j.i]);
  j.stream = null;
  j.groups = new Array<Group>();
  j.consumers = new Array<Consumer>();
  j.i++;
  j.at = AT_KEY;
}

/** Takes a value out of the snapshot: marks cleared, retired parts freed, a detached value freed. */
function finishValue(j: Job, v: Value): void {
  v.snapEpoch = 0;
  if (v.type == TYPE_STREAM) {
    const s = changetype<StreamValue>(v).stream;
    s.snapEpoch = 0;
    s.snapStage = SNAP_ENTRIES;
    s.snapCursorSet = false;
    if (s.snapMarked) clearSnapshotMarks(s);
    s.freeRetiredBlocks();
    if (s.groups != null) {
      const gs = s.groups!.values();
      for (let g = 0; g < gs.length; g++) gs[g].dropRetired();
    }
    freeRetiredGroups(s);
  }
  if (v.detached) { v.detached = false; v.free(); }
}

function writeString(j: Job): void {
  const sv = changetype<StringValue>(j.values[j.i]);
  const w = j.w;
  const n = sv.data.length;
  w.begin(3); w.argAscii("SET"); w.argKey(j.keys[j.i]);
  if (n <= BIG) {
    w.arg(changetype<usize>(sv.data), n);
    nextKey(j);
    return;
  }
  w.bulkHeader(n);
  j.pay = PAY_STRING;
  j.payString = sv;
  j.payOff = 0;
  j.payLen = n;
}

/** Copies the big payload from where it lives; at its end, the command it belongs to goes on. */
function copyPayload(j: Job, dst: usize, room: i32): i32 {
  let src: usize = 0;
  if (j.pay == PAY_STRING) src = changetype<usize>(j.payString!.data);
  else {
    // The entry may have moved (its block grew or was retired) since the last part: find it again.
    findSnapshotEntry(j.stream!, j.entMs, j.entSeq, scratchEntry);
    src = partPtr(scratchEntry, j.entPart);
  }
  const left = j.payLen - j.payOff;
  const n = left < room ? left : room;
  memory.copy(dst, src + <usize>j.payOff, <usize>n);
  j.payOff += n;
  if (j.payOff == j.payLen) {
    j.w.crlf();
    if (j.pay == PAY_STRING) { j.payString = null; j.pay = PAY_NONE; nextKey(j); }
    else { j.pay = PAY_NONE; j.entPart++; }
  }
  return n;
}

/** Moves the entry's field cursor to part p (2k field, 2k+1 value of field k) and returns its bytes. */
function partPtr(e: Entry, p: i32): usize {
  e.startFields();
  for (let k = 0; k <= p >> 1; k++) e.nextField();
  return (p & 1) == 0 ? e.fieldPtr : e.valuePtr;
}

@inline function partLen(e: Entry, p: i32): i32 { return (p & 1) == 0 ? e.fieldLen : e.valueLen; }

/** Writes entry parts from j.entPart on; false if a big part started (the entry continues later). */
function writeEntryParts(j: Job, e: Entry): bool {
  const w = j.w;
  const parts = <i32>e.nfields * 2;
  while (j.entPart < parts) {
    partPtr(e, j.entPart);
    const p = (j.entPart & 1) == 0 ? e.fieldPtr : e.valuePtr;
    const n = partLen(e, j.entPart);
    if (n > BIG) {
      w.bulkHeader(n);
      j.pay = PAY_ENTRY;
      j.payOff = 0;
      j.payLen = n;
      return false;
    }
    w.arg(p, n);
    j.entPart++;
  }
  return true;
}

function writeEntries(j: Job, want: i32): void {
  const s = j.stream!;
  const w = j.w;
  const key = j.keys[j.i];
  if (j.inEntry) {
    // Finish the entry whose big part was just copied out; only then does the cursor pass it.
    const e = scratchEntry;
    findSnapshotEntry(s, j.entMs, j.entSeq, e);
    if (!writeEntryParts(j, e)) return;
    j.inEntry = false;
    s.snapshotPassed(e);
  }
  const scan = new SnapshotEntries(s);
  while (w.buf.len - w.buf.pos < want) {
    if (!scan.next()) { endEntries(j, s, key); return; }
    const e = scan.entry;
    w.begin(3 + 2 * <i32>e.nfields); w.argAscii("XADD"); w.argKey(key); w.argId(e.ms, e.seq);
    j.wroteEntry = true;
    j.entPart = 0;
    if (!writeEntryParts(j, e)) { j.inEntry = true; j.entMs = e.ms; j.entSeq = e.seq; return; }
    scan.written();
  }
}


/** All entries are written: the stream's counters, then its groups. */
function endEntries(j: Job, s: Stream, key: string): void {
  const w = j.w;
  if (!j.wroteEntry) {
    // An empty stream is still a key: create it with one entry trimmed away at once.
    w.begin(7); w.argAscii("XADD"); w.argKey(key); w.argAscii("MAXLEN"); w.argAscii("0"); w.argAscii("0-1"); w.argAscii("x"); w.argAscii("y");
  }
  w.begin(7); w.argAscii("XSETID"); w.argKey(key); w.argId(s.snapLastMs, s.snapLastSeq);
  w.argAscii("ENTRIESADDED"); w.argU64(s.snapEntriesAdded);
  w.argAscii("MAXDELETEDID"); w.argId(s.snapMaxDelMs, s.snapMaxDelSeq);
  if (s.snapMarked) clearSnapshotMarks(s);
  s.freeRetiredBlocks();
  s.snapStage = SNAP_GROUPS;
  // The groups as they were: those that existed then (born before) and those destroyed since.
  const gs = new Array<Group>();
  if (s.groups != null) {
    const live = s.groups!.values();
    for (let i = 0; i < live.length; i++) if (inSnapshot(live[i].born)) gs.push(live[i]);
  }
  let rg = s.retiredGroups;
  while (rg != null) { gs.push(rg); rg = rg.retiredNext; }
  gs.sort((a: Group, b: Group): i32 => compareBytes(a.name, b.name));
  j.groups = gs;
  j.gi = 0;
  j.at = AT_GROUP;
}

function writeGroupStart(j: Job): void {
  if (j.gi >= j.groups.length) { nextKey(j); return; }
  const g = j.groups[j.gi];
  const key = j.keys[j.i];
  const w = j.w;
  w.begin(7); w.argAscii("XGROUP"); w.argAscii("CREATE"); w.argKey(key); w.argKey(g.name);
  w.argId(g.snapLastMs, g.snapLastSeq); w.argAscii("ENTRIESREAD"); w.argI64(g.snapEntriesRead);
  // The consumers as they were.
  const cs = new Array<Consumer>();
  const live = g.consumers.values();
  for (let i = 0; i < live.length; i++) if (inSnapshot(live[i].born)) cs.push(live[i]);
  let rc = g.retiredConsumers;
  while (rc != null) { cs.push(rc); rc = rc.retiredNext; }
  cs.sort((a: Consumer, b: Consumer): i32 => compareBytes(a.name, b.name));
  j.consumers = cs;
  j.ci = 0;
  j.pelSet = false;
  j.wroteInPass = false;
  j.at = AT_UNOWNED;
}

/**
 * The group's pending entries as they were, in ID order after the pass position, whose owner then was
 * `owner` (null: released to the group). From the live PEL (records that existed then) and the records
 * removed since. When no record of the snapshot changed owner or was removed (Group.movedEpoch), the
 * consumer's own PEL holds exactly its records and is walked instead of the group's.
 */
class PelPass {
  private i: i32;
  private r: Nack | null;
  private usesOwn: bool;
  private pelOf: Group;
  private c: Consumer | null;
  constructor(j: Job, g: Group, owner: Consumer | null) {
    this.pelOf = g;
    this.c = owner;
    const useOwn = owner != null && !movedNow(g);
    this.usesOwn = useOwn;
    const pel = useOwn ? owner!.pel : g.pel;
    if (j.pelSet) {
      this.i = pel.lowerBound(j.pelMs, j.pelSeq);
      if (this.i < pel.slots) {
        const n = pel.at(this.i);
        if (n != null && n.ms == j.pelMs && n.seq == j.pelSeq) this.i++;
      }
    } else this.i = 0;
    let r: Nack | null = useOwn ? null : g.retiredHead;
    while (r != null && j.pelSet && cmpId(r.ms, r.seq, j.pelMs, j.pelSeq) <= 0) r = r.nextT;
    this.r = r;
  }

  private matches(n: Nack): bool { return n.snapConsumer === this.c; }

  next(): Nack | null {
    const pel = this.usesOwn ? this.c!.pel : this.pelOf.pel;
    // next live candidate
    let live: Nack | null = null;
    while (this.i < pel.slots) {
      const n = pel.at(this.i);
      if (n != null && inSnapshot(n.born) && (this.usesOwn || this.matches(n))) { live = n; break; }
      this.i++;
    }
    let ret = this.r;
    while (ret != null && !this.matches(ret)) ret = ret.nextT;
    this.r = ret;
    if (live == null && ret == null) return null;
    if (ret == null || (live != null && cmpId(live.ms, live.seq, ret.ms, ret.seq) < 0)) { this.i++; return live; }
    this.r = ret.nextT;
    return ret;
  }
}

@inline function movedNow(g: Group): bool { return g.movedEpoch == activeSnapshot; }

function writePel(j: Job, want: i32): void {
  const g = j.groups[j.gi];
  const key = j.keys[j.i];
  const w = j.w;
  const owner: Consumer | null = j.at == AT_UNOWNED ? null : j.consumers[j.ci];
  if (owner != null && !j.wroteInPass) {
    // Created first: a consumer stays even when its pending entries lost their stream entries
    // (XCLAIM drops those, and creates no consumer for them).
    w.begin(5); w.argAscii("XGROUP"); w.argAscii("CREATECONSUMER"); w.argKey(key); w.argKey(g.name); w.argKey(owner.name);
    j.wroteInPass = true;
  }
  const pass = new PelPass(j, g, owner);
  while (w.buf.len - w.buf.pos < want) {
    const n = pass.next();
    if (n == null) { endPass(j, g, owner); return; }
    if (owner == null) {
      w.begin(10); w.argAscii("XNACK"); w.argKey(key); w.argKey(g.name); w.argAscii("FAIL");
      w.argAscii("IDS"); w.argAscii("1"); w.argId(n.ms, n.seq);
      w.argAscii("RETRYCOUNT"); w.argU64(n.snapCount); w.argAscii("FORCE");
    } else {
      w.begin(12); w.argAscii("XCLAIM"); w.argKey(key); w.argKey(g.name); w.argKey(owner.name); w.argAscii("0");
      w.argId(n.ms, n.seq); w.argAscii("TIME"); w.argI64(<i64>n.snapTime);
      w.argAscii("RETRYCOUNT"); w.argU64(n.snapCount); w.argAscii("JUSTID"); w.argAscii("FORCE");
    }
    j.pelSet = true;
    j.pelMs = n.ms;
    j.pelSeq = n.seq;
  }
}

/** A PEL pass is done: the next consumer, or the next group. */
function endPass(j: Job, g: Group, owner: Consumer | null): void {
  if (owner != null) j.ci++;
  j.pelSet = false;
  j.wroteInPass = false;
  if (j.ci < j.consumers.length) { j.at = AT_CONSUMER; return; }
  // The group is written: what was kept for it goes.
  g.writtenEpoch = activeSnapshot;
  g.dropRetired();
  j.gi++;
  j.at = AT_GROUP;
}
