/**
 * A raw TCP RESP client for tests: returns the exact bytes of each reply, framed with `replyLength`.
 *
 *   const c = await connectRaw(port);
 *   const bytes = await c.send(['XADD', 's', '1-1', 'f', 'v']);   // "$3\r\n1-1\r\n"
 *   c.sendNoWait(['XREAD', 'BLOCK', '0', 'STREAMS', 's', '$']);  // reply claimed later ...
 *   const woken = await c.nextReply();                            // ... here
 *
 * Replies are matched to commands in order. `send` resolves with the reply of its own command;
 * `nextReply` claims the oldest reply of a `sendNoWait` / `sendBytes` command (or an unsolicited
 * frame, e.g. a RESP3 push) that nobody claimed yet.
 *
 * Also: `parseCommandLine` / `parseCommandLineBytes` / `quoteArgs` with redis-cli quoting rules.
 */
import { connect, type Socket } from 'node:net';
import { encodeCommand, replyLength } from '../../bindings/resp.ts';

export type Arg = string | Uint8Array | number | bigint;

export interface RawClient {
  /** Sends one command; resolves with the exact raw bytes of its reply. */
  send(args: ReadonlyArray<Arg>): Promise<Uint8Array>;
  /** Sends one command whose reply will be collected with `nextReply()`. */
  sendNoWait(args: ReadonlyArray<Arg>): void;
  /** Oldest unclaimed reply (of sendNoWait / sendBytes / unsolicited). */
  nextReply(timeoutMs?: number): Promise<Uint8Array>;
  /** Writes raw bytes; `replies` (default 0) = how many replies they produce, collected with nextReply. */
  sendBytes(bytes: Uint8Array | string, replies?: number): void;
  /** Number of replies already received that nobody has claimed yet. */
  readyCount(): number;
  /** Resolves when the server closes the connection. */
  closed: Promise<void>;
  close(): Promise<void>;
  socket: Socket;
}

interface Slot {
  resolve(b: Uint8Array): void;
  reject(e: Error): void;
  promise: Promise<Uint8Array>;
  settled: boolean;
  claimed: boolean; // owned by send(); otherwise nextReply() claims it
}

function makeSlot(claimed: boolean): Slot {
  let resolve!: (b: Uint8Array) => void;
  let reject!: (e: Error) => void;
  const promise = new Promise<Uint8Array>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  promise.catch(() => {}); // avoid unhandled rejections for slots nobody awaits
  const slot: Slot = {
    promise,
    settled: false,
    claimed,
    resolve: (b) => {
      slot.settled = true;
      resolve(b);
    },
    reject: (e) => {
      slot.settled = true;
      reject(e);
    },
  };
  return slot;
}

export function connectRaw(port: number, host = '127.0.0.1'): Promise<RawClient> {
  return new Promise((resolveConn, rejectConn) => {
    const socket = connect({ port, host });
    socket.setNoDelay(true);
    let buf = new Uint8Array(0);
    const inflight: Slot[] = []; // in send order, waiting for their reply frame
    const claimable: Slot[] = []; // nowait / unsolicited slots, in order, not yet claimed
    let closedErr: Error | null = null;
    let onClosed!: () => void;
    const closed = new Promise<void>((r) => (onClosed = r));

    socket.on('data', (chunk: Buffer) => {
      const merged = new Uint8Array(buf.length + chunk.length);
      merged.set(buf, 0);
      merged.set(chunk, buf.length);
      let pos = 0;
      for (;;) {
        const n = replyLength(merged, pos, merged.length);
        if (n < 0) break;
        const frame = merged.slice(pos, pos + n);
        pos += n;
        const slot = inflight.shift();
        if (slot) {
          slot.resolve(frame);
        } else {
          const s = makeSlot(false);
          s.resolve(frame);
          claimable.push(s);
        }
      }
      buf = merged.slice(pos);
    });
    const fail = (e: Error) => {
      if (!closedErr) closedErr = e;
      for (const s of inflight.splice(0)) s.reject(closedErr);
    };
    socket.on('error', (e) => {
      fail(e);
      rejectConn(e);
    });
    socket.on('close', () => {
      fail(new Error('connection closed'));
      onClosed();
    });
    socket.on('connect', () => {
      const write = (bytes: Uint8Array) => {
        if (closedErr) throw closedErr;
        socket.write(bytes);
      };
      const client: RawClient = {
        socket,
        closed,
        send(args) {
          const slot = makeSlot(true);
          if (closedErr) return Promise.reject(closedErr);
          inflight.push(slot);
          write(encodeCommand(args));
          return slot.promise;
        },
        sendNoWait(args) {
          const slot = makeSlot(false);
          inflight.push(slot);
          claimable.push(slot);
          write(encodeCommand(args));
        },
        sendBytes(bytes, replies = 0) {
          for (let i = 0; i < replies; i++) {
            const slot = makeSlot(false);
            inflight.push(slot);
            claimable.push(slot);
          }
          write(typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : bytes);
        },
        nextReply(timeoutMs) {
          let slot = claimable.shift();
          if (!slot) {
            // nothing outstanding: wait for an unsolicited frame
            slot = makeSlot(false);
            inflight.push(slot);
          }
          if (timeoutMs === undefined) return slot.promise;
          const p = slot.promise;
          return new Promise<Uint8Array>((res, rej) => {
            const t = setTimeout(() => rej(new Error(`no reply within ${timeoutMs} ms`)), timeoutMs);
            p.then(
              (v) => (clearTimeout(t), res(v)),
              (e) => (clearTimeout(t), rej(e)),
            );
          });
        },
        readyCount() {
          let n = 0;
          for (const s of claimable) if (s.settled) n++;
          return n;
        },
        async close() {
          if (socket.destroyed) return;
          socket.end();
          socket.destroy();
          await closed;
        },
      };
      resolveConn(client);
    });
  });
}

// ---------------------------------------------------------------------------------------------
// redis-cli style quoting
// ---------------------------------------------------------------------------------------------

const te = new TextEncoder();
const tdFatal = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

function isHex(c: string): boolean {
  return /^[0-9a-fA-F]$/.test(c);
}

function isSpace(c: string): boolean {
  return c === ' ' || c === '\n' || c === '\r' || c === '\t' || c === '\v' || c === '\f';
}

/**
 * Splits a command line like redis-cli (sdssplitargs) into byte arrays:
 * - arguments are separated by whitespace;
 * - "double quotes" support \n \r \t \b \a \\ \" and \xHH (one byte); any other \c → c;
 * - 'single quotes' support only \' ;
 * - a closing quote must be followed by whitespace or the end of the line.
 * Text outside escapes is UTF-8 encoded. Throws on unbalanced quotes.
 */
export function parseCommandLineBytes(line: string): Uint8Array[] {
  const out: Uint8Array[] = [];
  let i = 0;
  const n = line.length;
  for (;;) {
    while (i < n && isSpace(line[i])) i++;
    if (i >= n) return out;
    const bytes: number[] = [];
    const pushText = (s: string) => {
      for (const b of te.encode(s)) bytes.push(b);
    };
    /** Pushes the whole code point at i (surrogate pairs stay together) and leaves i on its last unit. */
    const pushCodePoint = () => {
      const ch = String.fromCodePoint(line.codePointAt(i)!);
      pushText(ch);
      i += ch.length - 1;
    };
    /** A closing quote must be followed by whitespace or the end of the line. */
    const closeQuote = () => {
      if (i + 1 < n && !isSpace(line[i + 1])) throw new Error(`closing quote must be followed by a space: ${line}`);
      done = true;
    };
    let inDq = false;
    let inSq = false;
    let done = false;
    while (!done) {
      if (inDq) {
        if (i >= n) throw new Error(`unbalanced quotes in: ${line}`);
        const c = line[i];
        if (c === '\\' && line[i + 1] === 'x' && i + 3 < n + 0 && isHex(line[i + 2] ?? '') && isHex(line[i + 3] ?? '')) {
          bytes.push(parseInt(line.slice(i + 2, i + 4), 16));
          i += 3;
        } else if (c === '\\' && i + 1 < n) {
          i++;
          const e = line[i];
          const map: Record<string, number> = { n: 10, r: 13, t: 9, b: 8, a: 7 };
          if (e in map) bytes.push(map[e]);
          else pushText(e);
        } else if (c === '"') {
          closeQuote();
        } else {
          pushCodePoint();
        }
      } else if (inSq) {
        if (i >= n) throw new Error(`unbalanced quotes in: ${line}`);
        const c = line[i];
        if (c === '\\' && line[i + 1] === "'") {
          i++;
          bytes.push(39);
        } else if (c === "'") {
          closeQuote();
        } else {
          pushCodePoint();
        }
      } else {
        if (i >= n) {
          done = true;
          break;
        }
        const c = line[i];
        if (isSpace(c)) {
          done = true;
        } else if (c === '"') {
          inDq = true;
        } else if (c === "'") {
          inSq = true;
        } else {
          const cp = line.codePointAt(i)!;
          const ch = String.fromCodePoint(cp);
          pushText(ch);
          i += ch.length - 1;
        }
      }
      if (i < n) i++;
    }
    out.push(Uint8Array.from(bytes));
  }
}

/**
 * Like `parseCommandLineBytes`, returning JS strings (arguments decoded as UTF-8).
 * Throws if an argument is not valid UTF-8 (e.g. "\xff"): use parseCommandLineBytes for binary data.
 */
export function parseCommandLine(line: string): string[] {
  return parseCommandLineBytes(line).map((b) => {
    try {
      return tdFatal.decode(b);
    } catch {
      throw new Error(`argument is not valid UTF-8 (use parseCommandLineBytes): ${line}`);
    }
  });
}

function quoteOne(arg: Arg): string {
  const bytes =
    typeof arg === 'string' ? te.encode(arg) : arg instanceof Uint8Array ? arg : te.encode(String(arg));
  let plain = bytes.length > 0;
  for (const b of bytes) {
    if (b <= 32 || b >= 127 || b === 34 || b === 39 || b === 92) {
      plain = false;
      break;
    }
  }
  if (plain) return String.fromCharCode(...bytes);
  // keep valid non-ASCII UTF-8 text readable; escape everything else
  let text: string | null = null;
  try {
    text = tdFatal.decode(bytes);
  } catch {
    text = null;
  }
  let s = '"';
  if (text !== null) {
    for (const ch of text) {
      const cp = ch.codePointAt(0)!;
      if (ch === '"') s += '\\"';
      else if (ch === '\\') s += '\\\\';
      else if (ch === '\n') s += '\\n';
      else if (ch === '\r') s += '\\r';
      else if (ch === '\t') s += '\\t';
      else if (cp < 32 || cp === 127) s += '\\x' + cp.toString(16).padStart(2, '0');
      else s += ch;
    }
  } else {
    for (const b of bytes) {
      if (b === 34) s += '\\"';
      else if (b === 92) s += '\\\\';
      else if (b === 10) s += '\\n';
      else if (b === 13) s += '\\r';
      else if (b === 9) s += '\\t';
      else if (b < 32 || b >= 127) s += '\\x' + b.toString(16).padStart(2, '0');
      else s += String.fromCharCode(b);
    }
  }
  return s + '"';
}

/** Formats arguments as one redis-cli command line that `parseCommandLineBytes` reads back exactly. */
export function quoteArgs(args: ReadonlyArray<Arg>): string {
  return args.map(quoteOne).join(' ');
}
