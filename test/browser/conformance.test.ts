/**
 * The conformance corpus through the browser host: a real Chromium page, the engine in its
 * dedicated worker with OPFS persistence under appendfsync always (so every write also goes
 * through the AOF and its flush before its reply), the package as built in dist/ loaded without
 * a bundler. Each case starts on fresh state the way the TCP server's run does (FLUSHALL + CONFIG
 * SET reset, new connections).
 */
import { afterAll, beforeAll } from 'vitest';
import { resolve } from 'node:path';
import { conformanceSuite } from '../conformance/suite.ts';
import { launchChromium, type Chromium } from './support/chromium.ts';
import { PageTarget } from './support/page-target.ts';
import { startStaticServer, type StaticServer } from './support/static-server.ts';
import { acceptWebSocket, type WebSocketPeer } from './support/websocket.ts';

const ROOT = resolve(import.meta.dirname, '../..');
let srv: StaticServer;
let chrome: Chromium;
let target: PageTarget;

beforeAll(async () => {
  let connected!: (p: { peer: WebSocketPeer; hello: unknown }) => void;
  const driver = new Promise<{ peer: WebSocketPeer; hello: unknown }>((r) => (connected = r));
  srv = await startStaticServer({
    mounts: { '/': resolve(import.meta.dirname, 'pages'), '/dist/': resolve(ROOT, 'dist') },
    onUpgrade: (req, socket) => {
      const peer = acceptWebSocket(req, socket);
      peer.onmessage = (text) => {
        const m = JSON.parse(text);
        if (m.hello) connected({ peer, hello: m.hello });
      };
    },
  });
  chrome = await launchChromium();
  const page = await chrome.context.newPage();
  page.on('pageerror', (e) => console.error('conformance page:', e));
  await page.goto(srv.url('/conformance.html?storage=opfs'));
  const { peer, hello } = await driver;
  if ((hello as { storage: string }).storage !== 'opfs') throw new Error(`the driver page runs on ${JSON.stringify(hello)}, not OPFS`);
  target = new PageTarget(peer);
}, 60_000);

afterAll(async () => {
  target?.peer.close();
  await chrome?.stop();
  await srv?.stop();
});

conformanceSuite({ name: 'browser worker (Chromium, OPFS, appendfsync always)', target: () => target, timeoutMs: 10000 });
