/**
 * The RESP TCP server: sockets ↔ the one host loop (bindings/loop.ts, deferred: one settle pass per
 * Node turn, so one fsync covers every client of the turn), persistence from hosts/shared over a
 * directory. What is Node's own lives here: listening, the accept policy (maxclients, protected
 * mode), socket backpressure, idle timeouts, process-level INFO lines, signals and the pidfile.
 *
 * Backpressure: a client whose socket write buffer exceeds 8 MB stops being read; output it has not
 * taken stays in the engine (the loop stalls its sink), input not fed yet waits here, until the
 * socket drains.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { unlinkSync, writeFileSync, appendFileSync, writeSync, readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { RawEngine } from '../../bindings/raw.js';
import { FeedStatus } from '../../bindings/abi.js';
import { HostLoop } from '../../bindings/loop.js';
import { ControlConnection } from '../shared/control.js';
import { Logger, type LogLevel } from '../shared/log.js';
import { Persistence, REQ_CONFIG_CHANGED, REQ_SHUTDOWN, REQ_SHUTDOWN_NOSAVE, REQ_SHUTDOWN_SAVE } from '../shared/persistence.js';
import { applySettings, persistenceSettings, readOptions, type Configuration, type ServerOptions } from '../shared/settings.js';
import { FileStorage } from './fs-storage.js';
import { findWasm } from './wasm.js';

export const PROTECTED_MODE_ERROR =
  "-DENIED Redis is running in protected mode because protected mode is enabled and no password is set for the default user. In this mode connections are only accepted from the loopback interface. If you want to connect from external computers to Redis you may adopt one of the following solutions: 1) Just disable protected mode sending the command 'CONFIG SET protected-mode no' from the loopback interface by connecting to Redis from the same host the server is running, however MAKE SURE Redis is not publicly accessible from internet if you do so. Use CONFIG REWRITE to make this change permanent. 2) Alternatively you can just disable the protected mode by editing the Redis configuration file, and setting the protected mode option to 'no', and then restarting the server. 3) If you started the server manually just for testing, restart it with the '--protected-mode no' option. 4) Setup a an authentication password for the default user. NOTE: You only need to do one of the above things in order for the server to start accepting connections from the outside.\r\n";
export const MAX_CLIENTS_ERROR = '-ERR max number of clients reached\r\n';

const OUTPUT_HIGH_WATER = 8 << 20;
/** Input goes to rv_feed in pieces this big: it bounds the output one call can produce. */
const FEED_PIECE = 1024;
const CRON_MS = 100;


interface Client {
  id: number;
  sock: Socket;
  /** The engine closed it: output is being flushed, input ignored. */
  closing: boolean;
  paused: boolean;
  lastActive: number;
  /** Input not fed yet because the client's replies are backed up. */
  stash: Buffer | null;
}

const isLoopback = (ip: string | undefined) => !!ip && /^(::ffff:)?127\.|^::1$/.test(ip);
function formatAddr(ip: string | undefined, port: number | undefined): string {
  const a = (ip ?? '?').replace(/^::ffff:/, '');
  return a.includes(':') ? `[${a}]:${port}` : `${a}:${port}`;
}

/** Redis-style log lines to stdout or the logfile. */
export function nodeLogger(level: LogLevel, file: string): Logger {
  const log = new Logger((line) => (file ? appendFileSync(file, line) : writeSync(1, line)), process.pid);
  log.level = level;
  return log;
}

export class RivuletServer {
  readonly opts: ServerOptions;
  readonly loop: HostLoop;
  readonly control: ControlConnection;
  readonly log: Logger;
  readonly version: string;
  readonly ports: number[] = [];
  readonly runId = randomBytes(20).toString('hex');
  readonly startedAt = Date.now();
  /** Resolves with the exit code once the server has shut down. */
  readonly exited: Promise<number>;
  #resolveExit!: (code: number) => void;
  #persistence: Persistence | null = null;
  #clients = new Map<number, Client>();
  #listeners: Server[] = [];
  #cron: NodeJS.Timeout | null = null;
  #shuttingDown = false;
  #build = { format: '?', hash: '?' };
  #netIn = 0;
  #netOut = 0;
  #rejected = 0;

  private constructor(opts: ServerOptions, raw: RawEngine, control: ControlConnection, version: string, log: Logger) {
    this.opts = opts;
    this.version = version;
    this.log = log;
    this.loop = new HostLoop(raw, { mode: 'deferred', feedPiece: FEED_PIECE });
    this.control = control;
    this.exited = new Promise((r) => (this.#resolveExit = r));
  }

  /**
   * Loads the engine, hands it the configuration (the engine validates every setting: a ConfigError
   * names the file and line), loads the data, starts listening. Throws with a clear message.
   */
  static async start(config: Configuration, version: string): Promise<RivuletServer> {
    const wasmPath = findWasm();
    const raw = await RawEngine.instantiate(await WebAssembly.compile(readFileSync(wasmPath)));
    const control = new ControlConnection(raw);
    // requirepass comes after loading (the loading connection must not need AUTH)
    applySettings((n, v) => control.configSet(n, v), config.values, new Set(['requirepass']));
    const opts = readOptions((n) => raw.configGet(n) ?? '', config.configFile, config.ignored);
    opts.requirepass = config.values.get('requirepass')!.value;
    const s = new RivuletServer(opts, raw, control, version, nodeLogger(opts.loglevel, opts.logfile));
    await s.#init(wasmPath);
    return s;
  }

  async #init(wasmPath: string): Promise<void> {
    const o = this.opts;
    const log = this.log;
    this.#build = this.control.buildInfo();
    log.notice(`Rivulet ${this.version} starting: pid=${process.pid}, node ${process.version}, engine build ${this.#build.hash} (snapshot format ${this.#build.format}), ${wasmPath}`);
    log.notice(o.configFile ? `Configuration loaded from ${o.configFile}` : 'No config file specified, using the defaults and command-line settings');
    for (const name of new Set(o.ignored)) log.warn(`Config directive '${name}' does not apply to Rivulet and is ignored`);
    log.notice(`Data directory: ${o.dir}`);
    this.#persistence = await Persistence.open(this.loop, {
      storage: new FileStorage(o.dir),
      settings: persistenceSettings((n) => o.values.get(n) ?? ''),
      log,
      owner: `rivulet server on port ${o.port}`,
      tag: process.pid,
      loadProgressMs: process.env.RIVULET_LOAD_PROGRESS_MS ? Number(process.env.RIVULET_LOAD_PROGRESS_MS) : undefined,
      onFatal: (msg) => this.#fatal(msg),
      onRequests: (bits) => this.#onRequests(bits),
    });
    if (o.requirepass) this.control.ok('CONFIG', 'SET', 'requirepass', o.requirepass);
    await this.#listen();
    if (o.port === 0) this.control.command(['CONFIG', 'SET', 'port', String(this.ports[0])]);
    this.loop.raw.takeRequests(); // CONFIG SET at start raised CONFIG_CHANGED: nothing to do
    if (o.pidfile) this.#guard(() => writeFileSync(o.pidfile, `${process.pid}\n`), `Failed to write the PID file ${o.pidfile}`);
    this.#refreshHostInfo();
    this.#cron = setInterval(() => this.#guard(() => this.#onCron()), CRON_MS);
    log.notice(this.#persistence.summary());
    log.notice('Ready to accept connections');
  }

  async #listen(): Promise<void> {
    let port = this.opts.port;
    for (const spec of this.opts.bind) {
      const optional = spec.startsWith('-');
      let addr = optional ? spec.slice(1) : spec;
      const ipv6Only = addr.includes(':');
      if (addr === '*') addr = '0.0.0.0';
      else if (addr === '::*') addr = '::';
      const srv = createServer({ noDelay: true }, (sock) => this.#guard(() => this.#onConnection(sock)));
      try {
        await new Promise<void>((resolve, reject) => {
          srv.once('error', reject);
          srv.listen({ port, host: addr, ipv6Only, backlog: this.opts.tcpBacklog }, () => {
            srv.off('error', reject);
            resolve();
          });
        });
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (optional && (code === 'EADDRNOTAVAIL' || code === 'EAFNOSUPPORT')) {
          this.log.notice(`Skipping the optional bind address ${addr}: ${code}`);
          continue;
        }
        throw new Error(`Could not listen on ${addr}:${port}: ${(e as Error).message}`);
      }
      srv.on('error', (e) => this.log.warn(`listener error: ${e.message}`));
      const a = srv.address();
      if (a && typeof a === 'object') {
        port = a.port;
        this.ports.push(a.port);
        this.log.notice(`Listening on ${formatAddr(a.address, a.port)} (TCP)`);
      }
      this.#listeners.push(srv);
    }
    if (!this.#listeners.length) throw new Error('Failed listening on any bind address');
  }

  #onConnection(sock: Socket): void {
    if (this.#shuttingDown) return void sock.destroy();
    sock.on('error', () => {}); // a reset peer: 'close' follows
    const peer = formatAddr(sock.remoteAddress, sock.remotePort);
    if (this.#clients.size >= Number(this.#setting('maxclients'))) {
      this.#rejected++;
      this.log.verbose(`Error accepting a client connection: max number of clients reached (${peer})`);
      return void sock.end(MAX_CLIENTS_ERROR);
    }
    const c: Client = { id: -1, sock, closing: false, paused: false, lastActive: Date.now(), stash: null };
    c.id = this.loop.open({
      write: (bytes, owned) => {
        if (sock.destroyed) return;
        sock.write(owned ? bytes : Buffer.from(bytes));
        this.#netOut += bytes.length;
        return sock.writableLength < OUTPUT_HIGH_WATER;
      },
      settled: (st) => {
        // caught up: continue with stashed input on the next turn (it may produce more output)
        if (c.stash && !(st & FeedStatus.OUTPUT) && sock.writableLength < OUTPUT_HIGH_WATER) setImmediate(() => this.#guard(() => this.#feedStash(c)));
      },
      closed: () => this.#endClient(c),
      failed: () => sock.destroy(),
    });
    // like Redis, the client exists (and counts in INFO) before protected mode refuses it
    if (this.#setting('protected-mode') === 'yes' && !isLoopback(sock.remoteAddress) && !sock.destroyed && !this.loop.raw.authRequired()) {
      this.log.verbose(`Refusing ${peer}: protected mode`);
      this.loop.close(c.id);
      return void sock.end(PROTECTED_MODE_ERROR);
    }
    this.#clients.set(c.id, c);
    sock.setNoDelay(true);
    const keepalive = Number(this.#setting('tcp-keepalive'));
    if (keepalive > 0) sock.setKeepAlive(true, keepalive * 1000);
    const addr = new TextEncoder().encode(`${peer} ${formatAddr(sock.localAddress, sock.localPort)}`);
    this.loop.raw.scratch().set(addr);
    this.loop.raw.connSetAddr(c.id, addr.length);
    sock.on('data', (d: Buffer) => this.#guard(() => this.#onData(c, d)));
    sock.on('drain', () => this.#guard(() => this.#onDrain(c)));
    sock.on('close', () => this.#guard(() => this.#onClose(c)));
  }

  #onData(c: Client, data: Buffer): void {
    if (c.closing) return;
    this.#netIn += data.length;
    c.lastActive = Date.now();
    if (c.stash) c.stash = Buffer.concat([c.stash, data]); // still catching up: keep the order
    else this.#feed(c, data);
  }

  /** Feeds input; a client whose replies pile up keeps the rest here, with reading paused. */
  #feed(c: Client, data: Buffer): void {
    const fed = this.loop.feed(c.id, data, OUTPUT_HIGH_WATER);
    if (fed < data.length) {
      c.stash = data.subarray(fed);
      if (!c.paused) {
        c.paused = true;
        c.sock.pause();
      }
    }
  }

  #feedStash(c: Client): void {
    if (c.sock.destroyed || c.closing || !c.stash) return;
    const rest = c.stash;
    c.stash = null;
    this.#feed(c, rest);
    if (!c.stash && c.paused) {
      c.paused = false;
      c.sock.resume();
    }
  }

  #onDrain(c: Client): void {
    if (this.loop.isStalled(c.id)) this.loop.resume(c.id);
    else if (c.stash) this.#feedStash(c);
  }

  /** The socket closed. Ids are reused, so only the client that still owns its id is closed. */
  #onClose(c: Client): void {
    if (this.#clients.get(c.id) !== c) return;
    this.#clients.delete(c.id);
    this.loop.close(c.id);
  }

  #endClient(c: Client): void {
    if (this.#clients.get(c.id) === c) this.#clients.delete(c.id);
    c.closing = true;
    c.sock.end();
  }

  /** SHUTDOWN and CONFIG SET of host settings (persistence handles SAVE/BGSAVE/BGREWRITEAOF). */
  #onRequests(bits: number): void {
    if (bits & REQ_CONFIG_CHANGED) void this.#reloadHostSettings();
    if (bits & REQ_SHUTDOWN) {
      const save = bits & REQ_SHUTDOWN_SAVE ? true : bits & REQ_SHUTDOWN_NOSAVE ? false : undefined;
      setImmediate(() => void this.shutdown('User requested shutdown...', save));
    }
  }

  /** A setting's current value: the engine holds the one copy (CONFIG SET changes it there). */
  #setting(name: string): string {
    return this.loop.raw.configGet(name) ?? '';
  }

  /** CONFIG SET touched a setting the host acts on: apply what cannot just be read when needed. */
  async #reloadHostSettings(): Promise<void> {
    const get = (n: string) => this.#setting(n);
    await this.#persistence!.apply(persistenceSettings(get));
    for (const [n, v] of [['port', String(this.ports[0])], ['bind', this.opts.bind.join(' ')], ['dir', this.opts.dir]]) {
      if (get(n) !== v) this.log.warn(`CONFIG SET ${n} takes effect only after a restart (Rivulet keeps ${v})`);
    }
    this.#refreshHostInfo();
  }

  #onCron(): void {
    const now = Date.now();
    this.#persistence?.cron(now);
    this.#refreshHostInfo();
    const timeout = Number(this.#setting('timeout'));
    if (timeout > 0) {
      for (const c of this.#clients.values()) {
        if (!this.loop.isBlocked(c.id) && !c.closing && now - c.lastActive > timeout * 1000) {
          this.log.verbose(`Closing idle client ${c.id}`);
          c.closing = true;
          c.sock.destroy();
        }
      }
    }
  }

  #refreshHostInfo(): void {
    const up = Math.floor((Date.now() - this.startedAt) / 1000);
    const lines = [
      `server\trivulet_host:node`,
      `server\tengine_build:${this.#build.hash}`,
      `server\tsnapshot_format:${this.#build.format}`,
      `server\tnode_version:${process.version}`,
      `server\tprocess_id:${process.pid}`,
      `server\trun_id:${this.runId}`,
      `server\ttcp_port:${this.ports[0] ?? this.opts.port}`,
      `server\tuptime_in_seconds:${up}`,
      `server\tuptime_in_days:${Math.floor(up / 86400)}`,
      `server\texecutable:${process.argv[1] ?? ''}`,
      `server\tconfig_file:${this.opts.configFile}`,
      ...(this.#persistence?.infoLines() ?? []),
      `stats\ttotal_net_input_bytes:${this.#netIn}`,
      `stats\ttotal_net_output_bytes:${this.#netOut}`,
      `stats\trejected_connections:${this.#rejected}`,
    ];
    const raw = this.loop.raw;
    const bytes = new TextEncoder().encode(lines.join('\n') + '\n').subarray(0, raw.scratchCap);
    raw.scratch().set(bytes);
    raw.setHostInfo(bytes.length);
  }

  /** Runs `fn`; an exception there is an engine or host bug: log it, persist what we can, exit. */
  #guard(fn: () => void, what = 'Internal error'): void {
    try {
      fn();
    } catch (e) {
      this.#fatal(`${what}: ${(e as Error).stack ?? e}`);
    }
  }

  #fatal(msg: string): void {
    this.log.warn(msg);
    void this.#persistence?.close(false).catch(() => {});
    this.#removePidfile();
    this.#finish(1);
  }

  /**
   * Graceful stop: stop accepting, send pending replies, finish the AOF (write + fsync), optionally
   * save a snapshot, close every client. `save`: true = always, false = never, undefined = when save
   * points are configured (like Redis).
   */
  async shutdown(reason: string, save?: boolean): Promise<void> {
    if (this.#shuttingDown) return;
    this.#shuttingDown = true;
    this.log.warn(reason);
    for (const l of this.#listeners) l.close();
    if (this.#cron) clearInterval(this.#cron);
    try {
      this.loop.flush();
      if (this.#persistence && !(await this.#persistence.close(save)) && save === undefined && !this.#persistence.settings.appendonly) {
        this.log.warn('Error trying to save the DB, exiting anyway.');
      }
    } catch (e) {
      this.log.warn(`Error during shutdown: ${(e as Error).message}`);
    }
    // deliver what is pending, then close every client
    try {
      this.loop.flush();
    } catch {
      /* engine poisoned: just close */
    }
    const closing: Array<Promise<void>> = [];
    for (const c of this.#clients.values()) {
      closing.push(new Promise((r) => (c.sock.destroyed ? r() : c.sock.once('close', () => r()))));
      c.sock.end();
    }
    await Promise.race([Promise.all(closing), new Promise((r) => setTimeout(r, 1000))]);
    for (const c of this.#clients.values()) c.sock.destroy();
    this.#removePidfile();
    this.log.notice('Rivulet is now ready to exit, bye bye...');
    this.#finish(0);
  }

  #finish(code: number): void {
    this.#shuttingDown = true;
    for (const l of this.#listeners) l.close();
    if (this.#cron) clearInterval(this.#cron);
    this.loop.shutdown();
    this.#resolveExit(code);
  }

  #removePidfile(): void {
    if (!this.opts.pidfile) return;
    try {
      unlinkSync(this.opts.pidfile);
    } catch {
      /* gone */
    }
  }

  /** Number of connected clients (sockets). */
  get clientCount(): number {
    return this.#clients.size;
  }
}
