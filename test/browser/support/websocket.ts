/**
 * The smallest WebSocket server end the tests need (RFC 6455: the handshake, text frames either
 * way, fragments, ping, close), on a socket the static server hands over at `upgrade`. The
 * conformance driver talks to its page through it: one round trip is a fraction of a millisecond,
 * against several for a CDP `page.evaluate` on a busy machine.
 */
import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

export interface WebSocketPeer {
  send(text: string): void;
  onmessage: ((text: string) => void) | null;
  onclose: (() => void) | null;
  close(): void;
}

export function acceptWebSocket(req: IncomingMessage, socket: Duplex): WebSocketPeer {
  const key = req.headers['sec-websocket-key'];
  if (typeof key !== 'string') {
    socket.destroy();
    throw new Error('not a WebSocket upgrade');
  }
  const accept = createHash('sha1').update(key + GUID).digest('base64');
  socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`);
  (socket as { setNoDelay?: (b: boolean) => void }).setNoDelay?.(true);

  let buf: Buffer = Buffer.alloc(0);
  let fragments: Buffer[] = [];
  const peer: WebSocketPeer = {
    onmessage: null,
    onclose: null,
    send(text) {
      frame(1, Buffer.from(text, 'utf8'));
    },
    close() {
      frame(8, Buffer.alloc(0));
      socket.end();
    },
  };

  function frame(op: number, payload: Buffer): void {
    if (socket.destroyed) return;
    const n = payload.length;
    const head = n < 126 ? Buffer.alloc(2) : n < 65536 ? Buffer.alloc(4) : Buffer.alloc(10);
    head[0] = 0x80 | op;
    if (n < 126) head[1] = n;
    else if (n < 65536) {
      head[1] = 126;
      head.writeUInt16BE(n, 2);
    } else {
      head[1] = 127;
      head.writeBigUInt64BE(BigInt(n), 2);
    }
    socket.write(Buffer.concat([head, payload]));
  }

  socket.on('data', (chunk: Buffer) => {
    buf = buf.length ? Buffer.concat([buf, chunk]) : chunk;
    for (;;) {
      if (buf.length < 2) return;
      const fin = (buf[0] & 0x80) !== 0;
      const op = buf[0] & 0x0f;
      const masked = (buf[1] & 0x80) !== 0;
      let len = buf[1] & 0x7f;
      let off = 2;
      if (len === 126) {
        if (buf.length < 4) return;
        len = buf.readUInt16BE(2);
        off = 4;
      } else if (len === 127) {
        if (buf.length < 10) return;
        len = Number(buf.readBigUInt64BE(2));
        off = 10;
      }
      const maskAt = off;
      if (masked) off += 4;
      if (buf.length < off + len) return;
      const payload = Buffer.from(buf.subarray(off, off + len));
      if (masked) for (let i = 0; i < len; i++) payload[i] ^= buf[maskAt + (i & 3)];
      buf = buf.subarray(off + len);
      if (op === 8) {
        peer.close();
        return;
      }
      if (op === 9) {
        frame(10, payload);
        continue;
      }
      if (op === 10) continue;
      fragments.push(payload);
      if (!fin) continue;
      const text = Buffer.concat(fragments).toString('utf8');
      fragments = [];
      peer.onmessage?.(text);
    }
  });
  socket.on('close', () => peer.onclose?.());
  socket.on('error', () => {});
  return peer;
}
