/**
 * The RESP TCP server: sockets ↔ the engine.
 *
 * Event loop, per Node tick:
 *   socket data   → rv_feed in ≤ scratch-cap pieces; the connection is marked for delivery; if other
 *                   connections became ready (a woken XREAD/XREADGROUP BLOCK, CLIENT KILL/UNBLOCK)
 *                   they are collected with rv_ready_next and marked too.
 *   flush (once per tick, setImmediate — after every socket read of that tick, like Redis's
 *   beforeSleep): 1. effects → AOF (write; fdatasync when appendfsync always, so a reply never
 *                    leaves before its write is durable — one fsync covers every client of the tick);
 *                 2. SAVE/BGSAVE/BGREWRITEAOF/SHUTDOWN/CONFIG requests from the engine;
 *                 3. replies → sockets (rv_read until 0, bounded by the socket's write buffer:
 *                    a client that does not read its replies is paused until 'drain');
 *                    rv_status CLOSE → the socket is ended after its output;
 *                 4. the one deadline timer is re-armed at rv_next_deadline().
 *   deadline timer → rv_tick(now), then the same flush.
 *   cron (100 ms) → everysec fsync, save points, automatic AOF rewrite, idle-client timeout, INFO.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { existsSync, mkdirSync, readdirSync, unlinkSync, writeFileSync, accessSync, constants as fsc, statSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { ServerOptions } from './config.ts';
import { parseSave } from './config.ts';
import {
  EngineHost,
  ST_BLOCKED,
  ST_CLOSE,
  ST_OTHERS_READY,
  ST_OUTPUT,
  ST_REQUESTS,
  ST_SHUTDOWN,
  REQ_SAVE,
  REQ_BGSAVE,
  REQ_BGREWRITEAOF,
  REQ_SHUTDOWN,
  REQ_SHUTDOWN_NOSAVE,
  REQ_SHUTDOWN_SAVE,
  REQ_CONFIG_CHANGED,
  CommandError,
} from './engine.ts';
import { AppendOnlyFile, fsyncDir, truncateFile, type FsyncPolicy } from './aof.ts';
import { SnapshotJob, saveSnapshotSync, type JobKind } from './snapshot.ts';
import { replayFile, CorruptFileError, type ReplayResult } from './replay.ts';
import { log, humanBytes } from './log.ts';

export const PROTECTED_MODE_ERROR =
  "-DENIED Redis is running in protected mode because protected mode is enabled and no password is set for the default user. In this mode connections are only accepted from the loopback interface. If you want to connect from external computers to Redis you may adopt one of the following solutions: 1) Just disable protected mode sending the command 'CONFIG SET protected-mode no' from the loopback interface by connecting to Redis from the same host the server is running, however MAKE SURE Redis is not publicly accessible from internet if you do so. Use CONFIG REWRITE to make this change permanent. 2) Alternatively you can just disable the protected mode by editing the Redis configuration file, and setting the protected mode option to 'no', and then restarting the server. 3) If you started the server manually just for testing, restart it with the '--protected-mode no' option. 4) Setup a an authentication password for the default user. NOTE: You only need to do one of the above things in order for the server to start accepting connections from the outside.\r\n";
export const MAX_CLIENTS_ERROR = '-ERR max number of clients reached\r\n';

/** A client whose socket write buffer holds more than this stops being read until it drains. */
const OUTPUT_HIGH_WATER = 8 << 20;
/**
 * Input is fed to the engine in pieces of at most this many bytes. rv_feed runs every complete
 * command of a piece at once, so the piece size bounds how much output one call can produce (a
 * pipeline of big XRANGEs); between pieces the replies move out of the engine.
 */
const FEED_PIECE = 1024;
const CRON_MS = 100;

/** Settings the host owns and mirrors into the engine (CONFIG GET / SET). */
const MIRRORED = [
  'appendonly',
  'appendfsync',
  'auto-aof-rewrite-percentage',
  'auto-aof-rewrite-min-size',
  'save',
  'dbfilename',
  'dir',
  'port',
  'bind',
  'protected-mode',
  'maxclients',
  'timeout',
  'tcp-keepalive',
];
/** Engine settings applied by CONFIG SET at start (requirepass last, after loading). */
const ENGINE_SETTINGS = [
  'stream-node-max-bytes',
  'stream-node-max-entries',
  'maxmemory',
  'maxmemory-policy',
  'proto-max-bulk-len',
  'client-query-buffer-limit',
];

interface Conn {
  id: number;
  sock: Socket;
  /** CLOSE seen: output is being flushed, input ignored. */
  closing: boolean;
  /** Reading paused because output is backed up. */
  paused: boolean;
  /** Engine output left behind because the socket buffer is full. */
  outPending: boolean;
  blocked: boolean;
  lastActive: number;
  /** Input not fed yet because the client's replies are backed up (see #feed). */
  stash: Buffer | null;
  /** Replies taken out of the engine between input pieces, sent by the next flush. */
  queue: Buffer[];
  queuedBytes: number;
}

function isLoopback(ip: string | undefined): boolean {
  if (!ip) return false;
  const a = ip.startsWith('::ffff:') ? ip.slice(7) : ip;
  return a.startsWith('127.') || a === '::1';
}

function formatAddr(ip: string | undefined, port: number | undefined): string {
  const a = (ip ?? '?').startsWith('::ffff:') ? ip!.slice(7) : (ip ?? '?');
  return a.includes(':') ? `[${a}]:${port}` : `${a}:${port}`;
}

export interface StartInfo {
  version: string;
}

export class RivuletServer {
  readonly opts: ServerOptions;
  readonly engine: EngineHost;
  readonly version: string;
  readonly ports: number[] = [];
  readonly runId = randomBytes(20).toString('hex');
  readonly startedAt = Date.now();
  /** Resolves with the exit code once the server has shut down. */
  readonly exited: Promise<number>;
  #resolveExit!: (code: number) => void;

  #conns = new Map<number, Conn>();
  #listeners: Server[] = [];
  #dirty = new Set<Conn>();
  #flushScheduled = false;
  #deadlineTimer: NodeJS.Timeout | null = null;
  #deadlineAt = -1;
  #cron: NodeJS.Timeout | null = null;
  #lastSecond = 0;
  #shutdown: { save: boolean | undefined; reason: string } | null = null;
  #shuttingDown = false;
  #aof: AppendOnlyFile | null = null;
  #job: SnapshotJob | null = null;
  #jobScheduled = false;
  #pendingJobs = new Set<JobKind>();
  #buildHash = '?';
  #snapshotFormat = '?';
  // stats / INFO
  #netIn = 0;
  #netOut = 0;
  #rejected = 0;
  #lastSaveTime = Math.floor(Date.now() / 1000);
  #dirtyAtSave = 0;
  #lastBgsaveOk = true;
  #lastBgsaveTry = 0;
  #lastBgsaveSecs = -1;
  #saves = 0;
  #lastRewriteOk = true;
  #lastRewriteSecs = -1;
  #rewrites = 0;
  #rewriteScheduled = false;
  // live copies of host-owned settings (CONFIG SET may change them)
  #appendonly: boolean;
  #appendfsync: FsyncPolicy;
  #save: Array<[number, number]>;
  #maxclients: number;
  #protectedMode: boolean;
  #timeout: number;
  #keepalive: number;
  #autoPerc: number;
  #autoMin: number;
  #dbfilename: string;

  private constructor(opts: ServerOptions, engine: EngineHost, version: string) {
    this.opts = opts;
    this.engine = engine;
    this.version = version;
    this.#appendonly = opts.appendonly;
    this.#appendfsync = opts.appendfsync;
    this.#save = opts.save;
    this.#maxclients = opts.maxclients;
    this.#protectedMode = opts.protectedMode;
    this.#timeout = opts.timeout;
    this.#keepalive = opts.tcpKeepalive;
    this.#autoPerc = opts.autoAofRewritePercentage;
    this.#autoMin = opts.autoAofRewriteMinSize;
    this.#dbfilename = opts.dbfilename;
    this.exited = new Promise((r) => (this.#resolveExit = r));
  }

  get aofPath(): string {
    return join(this.opts.dir, this.opts.appendfilename);
  }

  get dumpPath(): string {
    return join(this.opts.dir, this.#dbfilename);
  }

  /** Loads the engine and the data, starts listening. Throws (with a clear message) on failure. */
  static async start(opts: ServerOptions, version: string): Promise<RivuletServer> {
    log.level = opts.loglevel;
    log.file = opts.logfile;
    const engine = await EngineHost.load();
    const s = new RivuletServer(opts, engine, version);
    await s.#init();
    return s;
  }

  async #init(): Promise<void> {
    const o = this.opts;
    const { hash, format } = this.engine.buildInfo();
    this.#buildHash = hash;
    this.#snapshotFormat = format;
    log.notice(`Rivulet ${this.version} starting: pid=${process.pid}, node ${process.version}, engine build ${hash} (snapshot format ${format}), ${this.engine.wasmPath}`);
    log.notice(o.configFile ? `Configuration loaded from ${o.configFile}` : 'No config file specified, using the defaults and command-line settings');
    for (const name of new Set(o.ignored)) log.warn(`Config directive '${name}' does not apply to Rivulet and is ignored`);

    // data directory
    try {
      mkdirSync(o.dir, { recursive: true });
      accessSync(o.dir, fsc.W_OK | fsc.R_OK);
    } catch (e) {
      throw new Error(`Can't use the data directory ${o.dir}: ${(e as Error).message}`);
    }
    log.notice(`Data directory: ${o.dir}`);
    this.#cleanTempFiles();

    // engine settings (requirepass comes after loading: the loading connection must not need AUTH)
    for (const name of ENGINE_SETTINGS) {
      try {
        this.engine.commandOk('CONFIG', 'SET', name, o.values.get(name)!);
      } catch (e) {
        throw new Error(`Setting ${name} in the engine failed: ${(e as Error).message}`);
      }
    }
    for (const name of MIRRORED) {
      const v = this.engine.command('CONFIG', 'SET', name, o.values.get(name)!);
      if (v instanceof Error) log.verbose(`engine does not mirror ${name}: ${v.message}`);
    }

    this.#load();

    if (o.requirepass) {
      this.engine.commandOk('CONFIG', 'SET', 'requirepass', o.requirepass);
      this.engine.password = o.requirepass;
    }
    this.engine.raw.takeRequests(); // CONFIG SET of host settings raised CONFIG_CHANGED: nothing to do
    this.#dirtyAtSave = this.engine.raw.dirty();

    await this.#listen();
    this.#writePidfile();
    this.#refreshHostInfo();
    this.#cron = setInterval(() => this.#guard(() => this.#onCron()), CRON_MS);
    log.notice(
      `Persistence: appendonly ${this.#appendonly ? 'yes' : 'no'}` +
        (this.#appendonly ? `, appendfsync ${this.#appendfsync}, file ${this.aofPath}` : '') +
        `, save ${this.#save.length ? `"${this.#save.flat().join(' ')}"` : '""'}, snapshots ${this.dumpPath}`,
    );
    log.notice('Ready to accept connections');
  }

  #cleanTempFiles(): void {
    for (const f of readdirSync(this.opts.dir)) {
      if (/^temp-(rewriteaof-)?\d+\.(aof|rvs)$/.test(f)) {
        try {
          unlinkSync(join(this.opts.dir, f));
          log.notice(`Removed the leftover temp file ${f} (an interrupted save or rewrite)`);
        } catch {
          /* ignore */
        }
      }
    }
  }

  // ---------------------------------------------------------------------------------------------
  // loading
  // ---------------------------------------------------------------------------------------------

  #load(): void {
    const o = this.opts;
    const aofExists = existsSync(this.aofPath);
    const dumpExists = existsSync(this.dumpPath);
    let source: 'aof' | 'dump' | null = null;
    if (o.appendonly && aofExists) source = 'aof';
    else if (dumpExists) source = 'dump';
    if (!o.appendonly && aofExists && !dumpExists) {
      log.warn(`appendonly is no: ${this.aofPath} is not loaded (start with --appendonly yes to use it)`);
    }
    if (source) {
      const path = source === 'aof' ? this.aofPath : this.dumpPath;
      const what = source === 'aof' ? 'the append only file' : 'the snapshot';
      const size = statSync(path).size;
      log.notice(`Loading ${what} ${path} (${humanBytes(size)})...`);
      let r: ReplayResult;
      try {
        r = replayFile(this.engine, path, source === 'aof' ? 'AOF' : 'snapshot');
      } catch (e) {
        if (e instanceof CorruptFileError) {
          throw new Error(
            `Bad file format reading ${what} ${path} at offset ${e.offset}: ${e.reason}. ` +
              `Nothing after that point can be trusted, so Rivulet will not start. ` +
              `'rivulet check-aof --fix ${path}' truncates the file at the last valid record before offset ${e.offset} ` +
              `(everything after it is lost); keep a copy first.`,
          );
        }
        throw e;
      }
      if (r.torn) {
        const lost = r.size - r.validLength;
        if (source === 'dump') {
          throw new Error(`The snapshot ${path} is truncated (${r.torn}, offset ${r.validLength}); snapshots are written atomically, so the file is damaged. Move it away to start empty.`);
        }
        if (!o.aofLoadTruncated) {
          throw new Error(`The AOF ${path} ends with a torn record (${r.torn}) at offset ${r.validLength}; aof-load-truncated is no, so Rivulet will not start.`);
        }
        log.warn(`!!! Warning: the AOF ${path} ends with a torn record (${r.torn}) !!!`);
        log.warn(`AOF loaded anyway because aof-load-truncated is enabled: truncating ${lost} bytes at offset ${r.validLength}`);
        truncateFile(path, r.validLength);
      }
      const sum = this.engine.datasetSummary();
      log.notice(
        `DB loaded from ${source === 'aof' ? 'append only file' : 'snapshot'}: ${(r.ms / 1000).toFixed(3)} seconds, ` +
          `${sum.keys} keys, ${sum.entries === null ? 'many' : sum.entries} stream entries, ${r.commands} commands, ${humanBytes(r.validLength)}`,
      );
    } else {
      log.notice('No AOF or snapshot found: starting with an empty dataset');
    }
    if (o.appendonly) {
      this.#aof = new AppendOnlyFile(this.aofPath, this.#appendfsync);
      this.#aof.onFatal = (msg) => this.#fatal(msg);
      if (source !== 'aof' && this.#hasData()) {
        // AOF on but none yet (first start with a snapshot): create it from the dataset
        log.notice(`Creating ${this.aofPath} from the loaded dataset`);
        this.#aof.beginRewrite();
        const job = new SnapshotJob(this.engine, 'rewrite', this.#tmpName('rewrite'), this.aofPath);
        job.runToEnd();
        this.#aof.finishRewrite(job.fd, job.tmpPath);
        job.releaseFd();
      } else {
        this.#aof.open();
      }
      this.engine.effectsEnable(true);
    }
  }

  #hasData(): boolean {
    return this.engine.datasetSummary(0).keys > 0;
  }

  #tmpName(kind: JobKind): string {
    return join(this.opts.dir, kind === 'rewrite' ? `temp-rewriteaof-${process.pid}.aof` : `temp-${process.pid}.rvs`);
  }

  // ---------------------------------------------------------------------------------------------
  // networking
  // ---------------------------------------------------------------------------------------------

  async #listen(): Promise<void> {
    let port = this.opts.port;
    for (const spec of this.opts.bind) {
      const optional = spec.startsWith('-');
      let addr = optional ? spec.slice(1) : spec;
      let ipv6Only = false;
      if (addr === '*') addr = '0.0.0.0';
      else if (addr === '::*') {
        addr = '::';
        ipv6Only = true;
      } else if (addr.includes(':')) ipv6Only = true;
      const srv = createServer({ noDelay: true, pauseOnConnect: false }, (sock) => this.#guard(() => this.#onConnection(sock)));
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
          log.notice(`Skipping the optional bind address ${addr}: ${code}`);
          continue;
        }
        throw new Error(`Could not listen on ${addr}:${port}: ${(e as Error).message}`);
      }
      srv.on('error', (e) => log.warn(`listener error: ${e.message}`));
      const a = srv.address();
      if (a && typeof a === 'object') {
        port = a.port;
        this.ports.push(a.port);
        log.notice(`Listening on ${formatAddr(a.address, a.port)} (TCP)`);
      }
      this.#listeners.push(srv);
    }
    if (!this.#listeners.length) throw new Error('Failed listening on any bind address');
    // CONFIG GET port shows the real port when 0 asked for any
    if (this.opts.port === 0) this.engine.command('CONFIG', 'SET', 'port', String(port));
    this.engine.raw.takeRequests();
  }

  #onConnection(sock: Socket): void {
    if (this.#shuttingDown) {
      sock.destroy();
      return;
    }
    sock.on('error', () => {}); // a reset peer: 'close' follows
    if (this.#conns.size >= this.#maxclients) {
      this.#rejected++;
      log.verbose(`Error accepting a client connection: max number of clients reached (${formatAddr(sock.remoteAddress, sock.remotePort)})`);
      sock.end(MAX_CLIENTS_ERROR);
      return;
    }
    if (this.#protectedMode && !isLoopback(sock.remoteAddress) && !this.#passwordSet()) {
      log.verbose(`Refusing ${formatAddr(sock.remoteAddress, sock.remotePort)}: protected mode`);
      sock.end(PROTECTED_MODE_ERROR);
      return;
    }
    const raw = this.engine.raw;
    const id = this.engine.open();
    const c: Conn = { id, sock, closing: false, paused: false, outPending: false, blocked: false, lastActive: Date.now(), stash: null, queue: [], queuedBytes: 0 };
    this.#conns.set(id, c);
    sock.setNoDelay(true);
    if (this.#keepalive > 0) sock.setKeepAlive(true, this.#keepalive * 1000);
    const addr = `${formatAddr(sock.remoteAddress, sock.remotePort)} ${formatAddr(sock.localAddress, sock.localPort)}`;
    raw.connSetAddr(id, this.engine.putScratch(Buffer.from(addr, 'latin1')));
    sock.on('data', (d: Buffer) => this.#guard(() => this.#onData(c, d)));
    sock.on('drain', () => this.#guard(() => this.#onDrain(c)));
    sock.on('close', () => this.#guard(() => this.#onClose(c)));
  }

  #passwordSet(): boolean {
    // requirepass lives in the engine (CONFIG SET may change it): PING on a fresh connection tells
    // without knowing it — NOAUTH means a password is set.
    return this.engine.configGet('requirepass') !== '' || this.#pingNeedsAuth();
  }

  #pingNeedsAuth(): boolean {
    const raw = this.engine.raw;
    const id = this.engine.open();
    try {
      raw.feedBytes(id, Buffer.from('*1\r\n$4\r\nPING\r\n'), Date.now());
      const out = raw.readAll(id);
      return Buffer.from(out).toString('latin1').startsWith('-NOAUTH');
    } finally {
      raw.close(id);
    }
  }

  #onData(c: Conn, data: Buffer): void {
    if (c.closing) return;
    this.#netIn += data.length;
    if (c.stash) {
      // still catching up with earlier input (see below): keep the order
      c.stash = Buffer.concat([c.stash, data]);
      return;
    }
    this.#feed(c, data);
  }

  /**
   * Feeds input in ≤ scratch-cap pieces. A large input whose replies pile up (a client that
   * pipelines big reads without reading the replies) is not fed all at once: between pieces the
   * output produced so far is persisted-then-delivered, and once the socket's write buffer is over
   * the high-water mark the rest of the input waits in `stash` (reading paused) until it drains.
   */
  #feed(c: Conn, data: Buffer): void {
    const raw = this.engine.raw;
    const now = Date.now();
    c.lastActive = now;
    let st = 0;
    let all = 0;
    for (let off = 0; off < data.length; ) {
      if (off > 0 && st & ST_OUTPUT) {
        // replies of the previous piece move to the host (they are sent by the flush, after the AOF
        // write); when they pile up the rest of the input waits
        this.#takeOutput(c);
        if (c.queuedBytes >= OUTPUT_HIGH_WATER || c.sock.writableLength >= OUTPUT_HIGH_WATER) {
          c.stash = Buffer.from(data.subarray(off));
          this.#pause(c);
          break;
        }
      }
      const n = Math.min(FEED_PIECE, data.length - off);
      raw.scratch().set(data.subarray(off, off + n));
      st = raw.feed(c.id, n, now);
      all |= st;
      off += n;
      if (st < 0 || st & ST_CLOSE) break;
    }
    if (st < 0) {
      c.sock.destroy();
      return;
    }
    c.blocked = (st & ST_BLOCKED) !== 0;
    this.#dirty.add(c);
    if (all & ST_OTHERS_READY) this.#collectReady();
    this.#scheduleFlush();
  }

  /** Moves the connection's pending engine output into its host-side queue. */
  #takeOutput(c: Conn): void {
    const raw = this.engine.raw;
    let n: number;
    while ((n = raw.read(c.id)) > 0) {
      c.queue.push(Buffer.from(raw.scratch().subarray(0, n)));
      c.queuedBytes += n;
    }
  }

  #pause(c: Conn): void {
    if (c.paused) return;
    c.paused = true;
    c.sock.pause();
  }

  /** Output caught up: feed stashed input, then read from the socket again. */
  #resume(c: Conn): void {
    if (c.stash) {
      const rest = c.stash;
      c.stash = null;
      this.#feed(c, rest);
      if (c.stash) return; // backed up again
    }
    if (c.paused) {
      c.paused = false;
      c.sock.resume();
    }
  }

  #collectReady(): void {
    const raw = this.engine.raw;
    let id: number;
    while ((id = raw.readyNext()) >= 0) {
      const c = this.#conns.get(id);
      if (c) this.#dirty.add(c);
      else if (this.engine.isControl(id) && raw.status(id) & ST_CLOSE) this.engine.dropControl();
    }
  }

  #onDrain(c: Conn): void {
    if (c.outPending) {
      this.#dirty.add(c);
      this.#scheduleFlush();
    } else if (c.paused && !c.closing) {
      this.#resume(c);
    }
  }

  #onClose(c: Conn): void {
    if (!this.#conns.has(c.id)) return;
    this.#conns.delete(c.id);
    this.#dirty.delete(c);
    this.engine.raw.close(c.id);
    this.#scheduleFlush();
  }

  #scheduleFlush(): void {
    if (this.#flushScheduled) return;
    this.#flushScheduled = true;
    setImmediate(() => this.#guard(() => this.#flush()));
  }

  /** Effects → AOF (+fsync), engine requests, replies → sockets, deadline timer. */
  #flush(): void {
    this.#flushScheduled = false;
    this.#persist();
    const req = this.engine.raw.takeRequests();
    if (req) this.#handleRequests(req);
    for (const c of this.#dirty) this.#deliver(c);
    this.#dirty.clear();
    this.#armDeadline();
    if (this.#shutdown && !this.#shuttingDown) void this.shutdown(this.#shutdown.reason, this.#shutdown.save);
  }

  /** Moves the engine's effects to the AOF; with appendfsync always, fdatasync before returning. */
  #persist(): void {
    const aof = this.#aof;
    if (!aof) return;
    const raw = this.engine.raw;
    let n: number;
    while ((n = raw.effectsRead()) > 0) aof.append(raw.scratch().subarray(0, n));
    aof.syncIfAlways();
  }

  #deliver(c: Conn): void {
    const sock = c.sock;
    if (sock.destroyed) return;
    const raw = this.engine.raw;
    let n: number;
    sock.cork();
    if (c.queue.length) {
      for (const b of c.queue) sock.write(b);
      this.#netOut += c.queuedBytes;
      c.queue = [];
      c.queuedBytes = 0;
    }
    while (sock.writableLength < OUTPUT_HIGH_WATER && (n = raw.read(c.id)) > 0) {
      sock.write(Buffer.from(raw.scratch().subarray(0, n)));
      this.#netOut += n;
    }
    sock.uncork();
    const st = raw.status(c.id);
    c.blocked = (st & ST_BLOCKED) !== 0;
    c.outPending = (st & ST_OUTPUT) !== 0;
    if (c.outPending || sock.writableLength >= OUTPUT_HIGH_WATER) {
      this.#pause(c);
    } else if (c.paused && !c.closing && !(st & ST_CLOSE)) {
      // caught up: continue with stashed input on the next turn (it may produce more output)
      setImmediate(() => this.#guard(() => !sock.destroyed && !c.closing && !c.outPending && this.#resume(c)));
    }
    if (!c.outPending && st & ST_CLOSE && !c.closing) {
      c.closing = true;
      sock.end();
    }
  }

  #armDeadline(): void {
    const d = this.engine.raw.nextDeadline();
    if (d < 0) {
      if (this.#deadlineTimer) clearTimeout(this.#deadlineTimer);
      this.#deadlineTimer = null;
      this.#deadlineAt = -1;
      return;
    }
    if (this.#deadlineTimer && d === this.#deadlineAt) return;
    if (this.#deadlineTimer) clearTimeout(this.#deadlineTimer);
    this.#deadlineAt = d;
    this.#deadlineTimer = setTimeout(() => this.#guard(() => this.#onDeadline()), Math.max(0, d - Date.now()));
  }

  #onDeadline(): void {
    this.#deadlineTimer = null;
    this.#deadlineAt = -1;
    this.engine.raw.tick(Date.now());
    this.#collectReady();
    this.#flush();
  }

  // ---------------------------------------------------------------------------------------------
  // engine requests: SAVE / BGSAVE / BGREWRITEAOF / SHUTDOWN / CONFIG SET of host settings
  // ---------------------------------------------------------------------------------------------

  #handleRequests(req: number): void {
    if (req & REQ_CONFIG_CHANGED) this.#reloadHostSettings();
    if (req & REQ_SAVE) this.saveNow('SAVE');
    if (req & REQ_BGSAVE) this.#startJob('bgsave', 'BGSAVE');
    if (req & REQ_BGREWRITEAOF) this.#startJob('rewrite', 'BGREWRITEAOF');
    if (req & REQ_SHUTDOWN) {
      const save = req & REQ_SHUTDOWN_SAVE ? true : req & REQ_SHUTDOWN_NOSAVE ? false : undefined;
      this.#shutdown = { save, reason: 'User requested shutdown...' };
    }
  }

  /** CONFIG SET touched a host-owned setting: read them back from the engine and apply. */
  #reloadHostSettings(): void {
    const get = (n: string) => this.engine.configGet(n);
    const appendfsync = get('appendfsync') as FsyncPolicy;
    if (appendfsync && appendfsync !== this.#appendfsync) {
      this.#appendfsync = appendfsync;
      if (this.#aof) this.#aof.policy = appendfsync;
      log.notice(`appendfsync is now ${appendfsync}`);
    }
    const appendonly = get('appendonly') === 'yes';
    if (appendonly !== this.#appendonly) {
      this.#appendonly = appendonly;
      if (appendonly) this.#enableAof();
      else this.#disableAof();
    }
    const save = get('save');
    this.#save = parseSave(save);
    const num = (n: string, cur: number) => {
      const v = Number(get(n));
      return Number.isFinite(v) && get(n) !== '' ? v : cur;
    };
    this.#maxclients = num('maxclients', this.#maxclients);
    this.#timeout = num('timeout', this.#timeout);
    this.#keepalive = num('tcp-keepalive', this.#keepalive);
    this.#autoPerc = num('auto-aof-rewrite-percentage', this.#autoPerc);
    this.#autoMin = num('auto-aof-rewrite-min-size', this.#autoMin);
    const pm = get('protected-mode');
    if (pm) this.#protectedMode = pm === 'yes';
    const dbf = get('dbfilename');
    if (dbf) this.#dbfilename = dbf;
    for (const [n, v] of [['port', String(this.ports[0])], ['bind', this.opts.bind.join(' ')], ['dir', this.opts.dir]]) {
      if (get(n) !== v) log.warn(`CONFIG SET ${n} takes effect only after a restart (Rivulet keeps ${v})`);
    }
    this.#refreshHostInfo();
  }

  #enableAof(): void {
    log.notice('Turning the AOF on: writing a snapshot as its start');
    this.#aof = new AppendOnlyFile(this.aofPath, this.#appendfsync);
    this.#aof.onFatal = (msg) => this.#fatal(msg);
    this.engine.effectsEnable(true);
    // the file comes into being when the rewrite completes; until then appends go to its tail
    this.#startJob('rewrite', 'appendonly yes');
  }

  #disableAof(): void {
    log.notice('Turning the AOF off');
    if (this.#job?.kind === 'rewrite') this.#abortJob();
    this.#pendingJobs.delete('rewrite');
    this.#persist();
    this.#aof?.close();
    this.#aof = null;
    this.engine.effectsEnable(false);
    while (this.engine.raw.effectsRead() > 0);
  }

  /** SAVE (and SHUTDOWN SAVE): the snapshot is on disk and durable when this returns. */
  saveNow(why: string): boolean {
    if (this.#job) {
      // the engine has one snapshot buffer: finish the running job first
      this.#job.runToEnd();
      this.#completeJob();
    }
    const t0 = Date.now();
    try {
      const r = saveSnapshotSync(this.engine, this.#tmpName('bgsave'), this.dumpPath);
      this.#lastSaveTime = Math.floor(Date.now() / 1000);
      this.#dirtyAtSave = r.dirty;
      this.#saves++;
      this.#lastBgsaveOk = true;
      log.notice(`DB saved on disk (${why}): ${this.dumpPath}, ${humanBytes(r.bytes)} in ${Date.now() - t0} ms`);
      return true;
    } catch (e) {
      this.#lastBgsaveOk = false;
      log.warn(`Failed saving the DB (${why}): ${(e as Error).message}`);
      return false;
    } finally {
      this.#refreshHostInfo();
    }
  }

  #startJob(kind: JobKind, why: string): void {
    if (this.#shuttingDown) return;
    if (this.#job) {
      if (this.#job.kind === kind) return; // the running one will do
      this.#pendingJobs.add(kind);
      if (kind === 'rewrite') this.#rewriteScheduled = true;
      log.notice(`${why}: scheduled after the running ${this.#job.kind === 'rewrite' ? 'AOF rewrite' : 'background save'}`);
      return;
    }
    this.#persist(); // effects made before the snapshot belong to the current AOF only
    try {
      if (kind === 'rewrite') {
        this.#rewriteScheduled = false;
        this.#aof?.beginRewrite(); // (a new snapshot includes whatever an earlier tail held)
        this.#job = new SnapshotJob(this.engine, kind, this.#tmpName(kind), this.aofPath);
        log.notice(`Background append only file rewriting started (${why}), snapshot ${humanBytes(this.#job.totalBytes)}`);
      } else {
        this.#lastBgsaveTry = Date.now();
        this.#job = new SnapshotJob(this.engine, kind, this.#tmpName(kind), this.dumpPath);
        log.notice(`Background saving started (${why}), snapshot ${humanBytes(this.#job.totalBytes)}`);
      }
    } catch (e) {
      this.#aof?.abortRewrite();
      this.#job = null;
      if (kind === 'rewrite') this.#lastRewriteOk = false;
      else this.#lastBgsaveOk = false;
      log.warn(`Can't start the ${kind === 'rewrite' ? 'AOF rewrite' : 'background save'}: ${(e as Error).message}`);
      return;
    }
    this.#refreshHostInfo();
    this.#scheduleJobStep();
  }

  #scheduleJobStep(): void {
    if (this.#jobScheduled) return;
    this.#jobScheduled = true;
    setImmediate(() =>
      this.#guard(() => {
        this.#jobScheduled = false;
        const job = this.#job;
        if (!job || this.#shuttingDown) return;
        if (job.step()) this.#completeJob();
        else this.#scheduleJobStep();
      }),
    );
  }

  /** The running job wrote its whole snapshot: make it durable and put it in place. */
  #completeJob(): void {
    const job = this.#job!;
    this.#job = null;
    const secs = Math.round((Date.now() - job.startedAt) / 1000);
    try {
      if (job.kind === 'rewrite') {
        this.#persist(); // the latest effects go to the old file and the tail alike
        if (this.#aof) {
          this.#aof.finishRewrite(job.fd, job.tmpPath);
          job.releaseFd();
        } else {
          job.commit(); // BGREWRITEAOF with appendonly no: a one-off compacted file
        }
        this.#rewrites++;
        this.#lastRewriteOk = true;
        this.#lastRewriteSecs = secs;
        log.notice(`Background AOF rewrite finished successfully: ${this.aofPath} is now ${humanBytes(this.#aof?.size ?? job.written)}`);
      } else {
        job.commit();
        this.#lastSaveTime = Math.floor(Date.now() / 1000);
        this.#dirtyAtSave = job.dirtyAtStart;
        this.#saves++;
        this.#lastBgsaveOk = true;
        this.#lastBgsaveSecs = secs;
        log.notice(`Background saving terminated with success: ${this.dumpPath} (${humanBytes(job.written)})`);
      }
    } catch (e) {
      job.abort();
      if (job.kind === 'rewrite') {
        this.#lastRewriteOk = false;
        if (this.#aof && !this.#aof.isOpen) {
          // the AOF is being created (appendonly turned on): keep collecting the tail and retry
          log.warn(`Creating the AOF failed: ${(e as Error).message}; retrying in 5 seconds`);
          setTimeout(() => this.#guard(() => this.#aof && !this.#aof.isOpen && this.#startJob('rewrite', 'retry')), 5000);
          this.#refreshHostInfo();
          return;
        }
        this.#aof?.abortRewrite();
      } else this.#lastBgsaveOk = false;
      log.warn(`${job.kind === 'rewrite' ? 'AOF rewrite' : 'Background save'} failed: ${(e as Error).message}`);
    }
    this.#refreshHostInfo();
    const next = this.#pendingJobs.values().next();
    if (!next.done) {
      this.#pendingJobs.delete(next.value);
      this.#startJob(next.value, 'scheduled');
    }
  }

  #abortJob(): void {
    const job = this.#job;
    if (!job) return;
    this.#job = null;
    job.abort();
    if (job.kind === 'rewrite') this.#aof?.abortRewrite();
    log.notice(`${job.kind === 'rewrite' ? 'AOF rewrite' : 'Background save'} aborted`);
  }

  // ---------------------------------------------------------------------------------------------
  // cron
  // ---------------------------------------------------------------------------------------------

  #onCron(): void {
    const now = Date.now();
    this.#aof?.cron(now);
    this.#refreshHostInfo();
    if (now - this.#lastSecond < 1000) return;
    this.#lastSecond = now;
    // save points
    const dirty = this.engine.raw.dirty();
    if (!this.#job) {
      for (const [secs, changes] of this.#save) {
        if (
          dirty - this.#dirtyAtSave >= changes &&
          now / 1000 - this.#lastSaveTime >= secs &&
          (this.#lastBgsaveOk || now - this.#lastBgsaveTry > 5000)
        ) {
          this.#startJob('bgsave', `${changes} changes in ${secs} seconds`);
          break;
        }
      }
    }
    // automatic AOF rewrite
    const aof = this.#aof;
    if (aof?.isOpen && !this.#job && this.#autoPerc > 0 && aof.size > this.#autoMin) {
      const base = aof.baseSize || 1;
      const growth = Math.floor(((aof.size - base) * 100) / base);
      if (growth >= this.#autoPerc) this.#startJob('rewrite', `automatic, ${growth}% growth`);
    }
    // idle clients
    if (this.#timeout > 0) {
      for (const c of this.#conns.values()) {
        if (!c.blocked && !c.closing && now - c.lastActive > this.#timeout * 1000) {
          log.verbose(`Closing idle client ${c.id}`);
          c.closing = true;
          c.sock.destroy();
        }
      }
    }
  }

  #refreshHostInfo(): void {
    const aof = this.#aof;
    const job = this.#job;
    const now = Date.now();
    const up = Math.floor((now - this.startedAt) / 1000);
    const lines = [
      `server\trivulet_host:node`,
      `server\tengine_build:${this.#buildHash}`,
      `server\tsnapshot_format:${this.#snapshotFormat}`,
      `server\tnode_version:${process.version}`,
      `server\tprocess_id:${process.pid}`,
      `server\trun_id:${this.runId}`,
      `server\ttcp_port:${this.ports[0] ?? this.opts.port}`,
      `server\tuptime_in_seconds:${up}`,
      `server\tuptime_in_days:${Math.floor(up / 86400)}`,
      `server\texecutable:${process.argv[1] ?? ''}`,
      `server\tconfig_file:${this.opts.configFile}`,
      `clients\tmaxclients:${this.#maxclients}`,
      `persistence\taof_enabled:${this.#appendonly ? 1 : 0}`,
      `persistence\taof_rewrite_in_progress:${job?.kind === 'rewrite' ? 1 : 0}`,
      `persistence\taof_rewrite_scheduled:${this.#rewriteScheduled ? 1 : 0}`,
      `persistence\taof_last_rewrite_time_sec:${this.#lastRewriteSecs}`,
      `persistence\taof_current_rewrite_time_sec:${job?.kind === 'rewrite' ? Math.round((now - job.startedAt) / 1000) : -1}`,
      `persistence\taof_last_bgrewrite_status:${this.#lastRewriteOk ? 'ok' : 'err'}`,
      `persistence\taof_rewrites:${this.#rewrites}`,
      `persistence\taof_last_write_status:${aof?.lastWriteError ? 'err' : 'ok'}`,
      `persistence\trdb_changes_since_last_save:${this.engine.raw.dirty() - this.#dirtyAtSave}`,
      `persistence\trdb_bgsave_in_progress:${job?.kind === 'bgsave' ? 1 : 0}`,
      `persistence\trdb_last_save_time:${this.#lastSaveTime}`,
      `persistence\trdb_last_bgsave_status:${this.#lastBgsaveOk ? 'ok' : 'err'}`,
      `persistence\trdb_last_bgsave_time_sec:${this.#lastBgsaveSecs}`,
      `persistence\trdb_saves:${this.#saves}`,
      `stats\ttotal_net_input_bytes:${this.#netIn}`,
      `stats\ttotal_net_output_bytes:${this.#netOut}`,
      `stats\trejected_connections:${this.#rejected}`,
    ];
    if (aof) {
      lines.push(
        `persistence\taof_current_size:${aof.size}`,
        `persistence\taof_base_size:${aof.baseSize}`,
        `persistence\taof_pending_rewrite:${this.#pendingJobs.has('rewrite') ? 1 : 0}`,
        `persistence\taof_rewrite_buffer_length:${aof.rewriteTailBytes}`,
        `persistence\taof_delayed_fsync:${aof.delayedFsyncs}`,
      );
    }
    let text = lines.join('\n') + '\n';
    let bytes = Buffer.from(text, 'utf8');
    if (bytes.length > this.engine.raw.scratchCap) {
      text = text.slice(0, this.engine.raw.scratchCap / 2);
      bytes = Buffer.from(text, 'utf8');
    }
    this.engine.raw.setHostInfo(this.engine.putScratch(bytes));
  }

  // ---------------------------------------------------------------------------------------------
  // shutdown / errors
  // ---------------------------------------------------------------------------------------------

  /** Runs `fn`; an exception there is an engine or host bug: log it, persist what we can, exit. */
  #guard(fn: () => void): void {
    try {
      fn();
    } catch (e) {
      this.#fatal(`Internal error: ${(e as Error).stack ?? e}`);
    }
  }

  #fatal(msg: string): void {
    log.warn(msg);
    try {
      this.#aof?.close();
    } catch {
      /* best effort */
    }
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
    log.warn(reason);
    for (const l of this.#listeners) l.close();
    if (this.#cron) clearInterval(this.#cron);
    if (this.#deadlineTimer) clearTimeout(this.#deadlineTimer);
    try {
      if (this.#job) {
        log.notice(`There is a ${this.#job.kind === 'rewrite' ? 'AOF rewrite' : 'background save'} running: stopping it`);
        this.#abortJob();
      }
      this.#persist();
      if (this.#aof) {
        log.notice('Calling fsync() on the AOF file.');
        this.#aof.close();
      }
      const doSave = save ?? this.#save.length > 0;
      if (doSave) {
        log.notice('Saving the final snapshot before exiting.');
        if (!this.saveNow('shutdown') && save === undefined && !this.#appendonly) {
          log.warn('Error trying to save the DB, exiting anyway.');
        }
      }
    } catch (e) {
      log.warn(`Error during shutdown: ${(e as Error).message}`);
    }
    // deliver what is pending, then close every client
    const closing: Array<Promise<void>> = [];
    for (const c of this.#conns.values()) {
      try {
        for (const b of c.queue) c.sock.write(b);
        c.queue = [];
        let n: number;
        while ((n = this.engine.raw.read(c.id)) > 0) c.sock.write(Buffer.from(this.engine.raw.scratch().subarray(0, n)));
      } catch {
        /* engine poisoned: just close */
      }
      closing.push(new Promise((r) => (c.sock.destroyed ? r() : c.sock.once('close', () => r()))));
      c.sock.end();
    }
    await Promise.race([Promise.all(closing), new Promise((r) => setTimeout(r, 1000))]);
    for (const c of this.#conns.values()) c.sock.destroy();
    this.#removePidfile();
    log.notice('Rivulet is now ready to exit, bye bye...');
    this.#finish(0);
  }

  #finish(code: number): void {
    this.#shuttingDown = true;
    for (const l of this.#listeners) l.close();
    if (this.#cron) clearInterval(this.#cron);
    if (this.#deadlineTimer) clearTimeout(this.#deadlineTimer);
    this.#resolveExit(code);
  }

  #writePidfile(): void {
    if (!this.opts.pidfile) return;
    try {
      writeFileSync(this.opts.pidfile, `${process.pid}\n`);
    } catch (e) {
      log.warn(`Failed to write the PID file ${this.opts.pidfile}: ${(e as Error).message}`);
    }
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
    return this.#conns.size;
  }
}

export { CommandError, fsyncDir };
