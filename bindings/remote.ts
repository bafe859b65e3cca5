/**
 * A connection to a Rivulet server (`rivulet serve`) — or any Redis — over TCP, with the same typed
 * helpers as an in-process {@link Connection} (`xadd`, `xreadgroup`, `xack`, … from
 * {@link GroupCommands}) plus `call` / `callRaw` / `pipeline`. Every call returns a Promise.
 *
 * ```ts
 * const conn = await RemoteConnection.connect({ port: 6379 });
 * await conn.xadd('s', { temp: 23.5 });
 * const next = conn.xread({ s: '$' }, { block: 0, signal });   // woken by a write, or aborted
 * await conn.close();
 * ```
 *
 * Replies are matched to commands in order (RESP has one reply per command); RESP3 push frames are
 * skipped. Error replies reject with `ReplyError` (in pipelines they are values), exactly as the
 * server sent them. Not exported from the package entries yet: it is the seam a Redis-client
 * transport builds on.
 *
 * Cancelling (`signal`): the call rejects with `AbortError` at once and the connection stays usable.
 * The server lets go of the read asynchronously: when the cancelled command is the one the server
 * is parked on, a side connection sends `CLIENT UNBLOCK <id>` (answered as a timeout, whose reply is
 * dropped); a command sent afterwards on this connection runs after that. Unlike in-process, a write
 * from another client can still reach the read before the server has let go of it (its reply is
 * dropped; a group read's entries then stay pending for that consumer), and a blocking read
 * pipelined right behind a cancelled one that was served at that same moment may be released
 * early, as a timeout: CLIENT UNBLOCK cannot name a command, only a client.
 */
import { connect as netConnect, type Socket } from 'node:net';
import { checkArgs } from './connection.js';
import { AbortError, ConnectionClosedError } from './errors.js';
import { GroupCommands } from './groups.js';
import { decodeReply, encodeCommand, replyLength, ReplyError, type CommandArg, type RespValue } from './resp.js';
import type { CallOptions } from './streams.js';

/** Where the server listens. */
export interface RemoteOptions {
  port: number;
  /** Default `127.0.0.1`. */
  host?: string;
}

/** How a request's reply is delivered (as in connection.ts). */
const DECODED = 0; // decoded; an error reply rejects
const RAW = 1; // exact RESP bytes
const DECODED_ERRORS_AS_VALUES = 2; // decoded; an error reply is the value (pipelines)

/** One command sent, waiting for its reply. */
interface Request {
  readonly kind: number;
  resolve(value: unknown): void;
  reject(err: unknown): void;
  /** Cancelled by its signal: already rejected; its reply, when it comes, is dropped. */
  aborted: boolean;
  detach?: () => void;
}

const PUSH = 62; // '>': a RESP3 push frame, not a reply

export class RemoteConnection extends GroupCommands {
  readonly #options: RemoteOptions;
  readonly #socket: Socket;
  #id = -1;
  #closed = false;
  readonly #whenClosed: Promise<void>;
  /** Requests whose replies are due, oldest first. */
  readonly #queue: Request[] = [];
  #buf = new Uint8Array(4096);
  #start = 0;
  #end = 0;
  /** Side connection for CLIENT UNBLOCK, opened on the first cancelled read. */
  #control: Promise<RemoteConnection> | null = null;
  #releasing = false;

  /** Opens a connection (and asks the server for its CLIENT ID). */
  static async connect(options: RemoteOptions): Promise<RemoteConnection> {
    const socket = await new Promise<Socket>((resolve, reject) => {
      const s = netConnect({ port: options.port, host: options.host ?? '127.0.0.1' });
      s.once('connect', () => {
        s.off('error', reject);
        resolve(s);
      });
      s.once('error', reject);
    });
    const conn = new RemoteConnection(socket, options);
    conn.#id = (await conn.call('CLIENT', 'ID')) as number;
    return conn;
  }

  private constructor(socket: Socket, options: RemoteOptions) {
    super();
    this.#options = options;
    this.#socket = socket;
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.#receive(chunk));
    socket.on('error', (e) => this.#fail(new ConnectionClosedError(`rivulet: connection lost (${e.message})`)));
    this.#whenClosed = new Promise((resolve) =>
      socket.once('close', () => {
        this.#fail(new ConnectionClosedError('rivulet: connection closed by the server'));
        resolve();
      }),
    );
  }

  /** The server's id for this connection (`CLIENT ID`). */
  get id(): number {
    return this.#id;
  }

  /** True once closed by `close()` or by the server (QUIT, CLIENT KILL, shutdown). */
  get closed(): boolean {
    return this.#closed;
  }

  /** Runs one command; its decoded reply. */
  call(...args: CommandArg[]): Promise<RespValue> {
    return this.#send([args], DECODED, undefined)[0] as Promise<RespValue>;
  }

  /** Runs one command; its reply as the exact RESP bytes. */
  callRaw(...args: CommandArg[]): Promise<Uint8Array> {
    return this.#send([args], RAW, undefined)[0] as Promise<Uint8Array>;
  }

  /** Like {@link call} with the command as an array, plus `signal`. */
  command(args: readonly CommandArg[], options?: CallOptions): Promise<RespValue> {
    return this.#send([args], DECODED, options?.signal)[0] as Promise<RespValue>;
  }

  /** Like {@link callRaw} with the command as an array, plus `signal`. */
  commandRaw(args: readonly CommandArg[], options?: CallOptions): Promise<Uint8Array> {
    return this.#send([args], RAW, options?.signal)[0] as Promise<Uint8Array>;
  }

  /** Sends many commands in one write; their decoded replies in order, error replies as values. */
  pipeline(commands: readonly (readonly CommandArg[])[]): Promise<RespValue[]> {
    return Promise.all(this.#send(commands, DECODED_ERRORS_AS_VALUES, undefined)) as Promise<RespValue[]>;
  }

  /** {@link pipeline} with each reply as its exact RESP bytes. */
  pipelineRaw(commands: readonly (readonly CommandArg[])[]): Promise<Uint8Array[]> {
    return Promise.all(this.#send(commands, RAW, undefined)) as Promise<Uint8Array[]>;
  }

  /** Closes the connection: pending calls reject with `ConnectionClosedError`. Resolves once closed. */
  close(): Promise<void> {
    this.#fail(new ConnectionClosedError());
    this.#socket.destroy();
    const control = this.#control;
    this.#control = null;
    return Promise.all([this.#whenClosed, control?.then((c) => c.close(), () => {})]).then(() => {});
  }

  // ---------------------------------------------------------------------------------------------

  /** One Promise per command; nothing is sent when an argument is invalid or the signal aborted. */
  #send(commands: readonly (readonly CommandArg[])[], kind: number, signal: AbortSignal | undefined): Promise<unknown>[] {
    try {
      if (!Array.isArray(commands)) throw new TypeError('rivulet: pipeline() takes an array of commands');
      for (const c of commands) checkArgs(c);
      if (this.#closed) throw new ConnectionClosedError();
      if (signal?.aborted) throw new AbortError(signal.reason);
    } catch (e) {
      return [Promise.reject(e)];
    }
    const out: Promise<unknown>[] = [];
    this.#socket.cork();
    for (const args of commands) {
      out.push(
        new Promise((resolve, reject) => {
          const req: Request = { kind, resolve, reject, aborted: false };
          if (signal) {
            const onAbort = () => this.#abort(req, signal.reason);
            signal.addEventListener('abort', onAbort, { once: true });
            req.detach = () => signal.removeEventListener('abort', onAbort);
          }
          this.#queue.push(req);
        }),
      );
      this.#socket.write(encodeCommand(args));
    }
    this.#socket.uncork();
    return out;
  }

  #receive(chunk: Uint8Array): void {
    this.#append(chunk);
    const buf = this.#buf;
    let start = this.#start;
    try {
      while (start < this.#end) {
        const n = replyLength(buf, start, this.#end);
        if (n < 0) break;
        if (buf[start] !== PUSH) {
          const req = this.#queue.shift();
          if (req !== undefined && !req.aborted) this.#settle(req, buf, start, start + n);
        }
        start += n;
      }
    } catch (e) {
      // not RESP: nothing after it can be framed
      this.#fail(e);
      this.#socket.destroy();
      return;
    }
    if (start === this.#end) {
      this.#start = this.#end = 0;
      if (buf.length > 1 << 20) this.#buf = new Uint8Array(4096); // do not pin a huge reply's buffer
    } else {
      this.#start = start;
    }
    if (this.#queue[0]?.aborted) this.#release();
  }

  #append(chunk: Uint8Array): void {
    let buf = this.#buf;
    if (this.#end + chunk.length > buf.length) {
      const live = this.#end - this.#start;
      if (live + chunk.length <= buf.length >>> 1) {
        buf.copyWithin(0, this.#start, this.#end);
      } else {
        let cap = buf.length * 2;
        while (cap < live + chunk.length) cap *= 2;
        const grown = new Uint8Array(cap);
        grown.set(buf.subarray(this.#start, this.#end));
        this.#buf = buf = grown;
      }
      this.#start = 0;
      this.#end = live;
    }
    buf.set(chunk, this.#end);
    this.#end += chunk.length;
  }

  #settle(req: Request, buf: Uint8Array, start: number, end: number): void {
    req.detach?.();
    if (req.kind === RAW) return req.resolve(buf.slice(start, end));
    const value = decodeReply(buf, start, end)!.value;
    if (req.kind === DECODED && value instanceof ReplyError) req.reject(value);
    else req.resolve(value);
  }

  #abort(req: Request, reason: unknown): void {
    if (req.aborted || !this.#queue.includes(req)) return;
    req.aborted = true;
    req.reject(new AbortError(reason));
    if (this.#queue[0] === req) this.#release();
  }

  /**
   * While the oldest request is a cancelled one, asks the server (CLIENT UNBLOCK from the side
   * connection) to let go of it. 0 means it is not parked (yet, or any more: its reply is on the
   * way): try again shortly, until its reply has come.
   */
  #release(): void {
    if (this.#releasing) return;
    this.#releasing = true;
    void (async () => {
      let pause = 1;
      let released: Request | null = null;
      try {
        for (let head = this.#queue[0]; !this.#closed && head?.aborted; head = this.#queue[0]) {
          if (head !== released) {
            this.#control ??= RemoteConnection.connect(this.#options);
            const control = await this.#control;
            if ((await control.call('CLIENT', 'UNBLOCK', this.#id)) === 1) {
              released = head; // answered as a timeout: its reply is on the way
              pause = 1;
            }
          }
          if (this.#queue[0] !== head) continue;
          await new Promise((r) => setTimeout(r, pause));
          pause = Math.min(pause * 2, 50);
        }
      } catch (e) {
        // no side connection: this connection cannot be released any more
        if (!this.#closed) {
          this.#fail(new ConnectionClosedError(`rivulet: could not release a cancelled read (${String(e)})`));
          this.#socket.destroy();
        }
      } finally {
        this.#releasing = false;
      }
    })();
  }

  /** Marks the connection closed and rejects every request still waiting. */
  #fail(err: unknown): void {
    this.#closed = true;
    for (const req of this.#queue.splice(0)) {
      req.detach?.();
      if (!req.aborted) req.reject(err);
    }
  }
}
