/**
 * A static file server for the browser tests: node:http on 127.0.0.1 and a port the OS picks, each
 * URL prefix mapped to a directory (or to a handler), `.wasm` as `application/wasm`, nothing cached
 * (`Cache-Control: no-store`), optionally with the COOP/COEP headers that enable SharedArrayBuffer.
 * WebSocket upgrades go to `onUpgrade` (the conformance driver).
 *
 *   const srv = await startStaticServer({ mounts: { '/': dir, '/dist/': distDir } });
 *   srv.url('/index.html');   // http://127.0.0.1:PORT/index.html
 *   await srv.stop();
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { createReadStream, statSync } from 'node:fs';
import { extname, join, normalize, sep } from 'node:path';

export const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.map': 'application/json',
  '.wasm': 'application/wasm',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
  '.txt': 'text/plain; charset=utf-8',
};

/** Answers a request itself (return false to fall through to the mounts). */
export type Handler = (req: IncomingMessage, res: ServerResponse) => boolean | void;

export interface StaticServerOptions {
  /** URL prefix (ending in '/') → directory. The longest matching prefix wins. */
  mounts: Record<string, string>;
  /** Routes tried first, by exact path. */
  routes?: Record<string, Handler>;
  /** Send `Cross-Origin-Opener-Policy: same-origin` and `Cross-Origin-Embedder-Policy: require-corp`. */
  isolated?: boolean;
  onUpgrade?: (req: IncomingMessage, socket: Duplex, head: Buffer) => void;
}

export interface StaticServer {
  port: number;
  origin: string;
  url(path: string): string;
  /** Paths requested so far (tests check what a page fetched). */
  requests: string[];
  stop(): Promise<void>;
}

function headers(type: string, isolated: boolean | undefined): Record<string, string> {
  const h: Record<string, string> = { 'Content-Type': type, 'Cache-Control': 'no-store' };
  if (isolated) {
    h['Cross-Origin-Opener-Policy'] = 'same-origin';
    h['Cross-Origin-Embedder-Policy'] = 'require-corp';
  }
  return h;
}

export async function startStaticServer(opts: StaticServerOptions): Promise<StaticServer> {
  const prefixes = Object.keys(opts.mounts).sort((a, b) => b.length - a.length);
  const requests: string[] = [];
  const sockets = new Set<Duplex>();
  const server: Server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    requests.push(path);
    const route = opts.routes?.[path];
    if (route && route(req, res) !== false) return;
    const prefix = prefixes.find((p) => path.startsWith(p));
    if (!prefix) return notFound(res);
    const root = opts.mounts[prefix];
    let file = normalize(join(root, path.slice(prefix.length)));
    if (file !== root && !file.startsWith(root.endsWith(sep) ? root : root + sep)) return notFound(res);
    try {
      if (statSync(file).isDirectory()) file = join(file, 'index.html');
      const size = statSync(file).size;
      res.writeHead(200, { ...headers(MIME[extname(file)] ?? 'application/octet-stream', opts.isolated), 'Content-Length': String(size) });
      createReadStream(file).pipe(res);
    } catch {
      notFound(res);
    }
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  server.on('upgrade', (req, socket, head) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    if (opts.onUpgrade) opts.onUpgrade(req, socket, head);
    else socket.destroy();
  });
  await new Promise<void>((res, rej) => {
    server.once('error', rej);
    server.listen(0, '127.0.0.1', () => res());
  });
  const port = (server.address() as { port: number }).port;
  const origin = `http://127.0.0.1:${port}`;
  return {
    port,
    origin,
    requests,
    url: (p) => origin + p,
    stop: () =>
      new Promise<void>((res) => {
        for (const s of sockets) s.destroy();
        server.close(() => res());
      }),
  };
}

function notFound(res: ServerResponse): void {
  res.writeHead(404, { 'Content-Type': 'text/plain', 'Cache-Control': 'no-store' });
  res.end('not found');
}
