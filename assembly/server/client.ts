// Per-connection state: protocol, selected db, MULTI queue, blocked read, buffers.
import { ByteBuffer } from "../util/buffer";
import { Args } from "../resp/args";
import { Db } from "../core/keyspace";
import { BlockedRead } from "./blocking";
import { CommandQueue } from "./command-queue";
import { account, release } from "../util/memory";
import { LoadState } from "./load-state";

export const CLIENT_OVERHEAD: i64 = 512;

export class Client {
  input: ByteBuffer = new ByteBuffer();
  output: ByteBuffer = new ByteBuffer();
  args: Args = new Args();
  inlineArena: ByteBuffer = new ByteBuffer();
  resp: i32 = 2;
  db: Db;
  inMulti: bool = false;
  multiQueue: CommandQueue = new CommandQueue();
  /** A queued command was rejected: EXEC answers EXECABORT. */
  multiFailed: bool = false;
  /** A queued command may use memory (EXEC is then rejected under OOM, as in Redis). */
  multiDenyOom: bool = false;
  blocked: BlockedRead | null = null;
  /** Waiting for the SAVE of this round (server/jobs.ts) to be written; 0 = not waiting. */
  saveRound: i32 = 0;
  closeAfterReply: bool = false;
  /** Queued on the ready list for rv_ready_next. */
  announced: bool = false;
  /** Waiting to run the input that arrived while it was blocked. */
  resumePending: bool = false;
  closed: bool = false;
  name: string = "";
  libName: string = "";
  libVer: string = "";
  createdMs: f64 = 0;
  lastCmd: string = "NULL";
  lastInteractionMs: f64 = 0;
  authenticated: bool = true;
  /** A host's own control connection: hidden from CLIENT LIST / INFO, never killed, never asked to AUTH. */
  internal: bool = false;
  /** Replays an AOF / snapshot: no effects, no OOM refusals, trim LIMITs ignored (mustObeyClient). */
  loading: bool = false;
  /** Input bookkeeping of the last rv_set_loading(conn, 1) (server/loading.ts); null before any. */
  load: LoadState | null = null;
  /** "ip:port" of the peer and of the local socket, from the host (CLIENT LIST / INFO). */
  addr: string = "";
  laddr: string = "";

  constructor(public id: i32, db: Db) {
    this.db = db;
    // Input and replies are where one connection can ask for much memory: bounded by the page budget.
    this.input.guarded = true;
    this.output.guarded = true;
    account(CLIENT_OVERHEAD);
  }

  /** Parked without a reply (a blocked read, or a SAVE the host is writing): its input waits. */
  @inline get parked(): bool { return this.blocked != null || this.saveRound != 0; }

  discardMulti(): void {
    this.multiQueue.clear();
    this.inMulti = false;
    this.multiFailed = false;
    this.multiDenyOom = false;
  }

  free(): void {
    this.discardMulti();
    this.input.free();
    this.output.free();
    this.inlineArena.free();
    release(CLIENT_OVERHEAD);
  }
}
