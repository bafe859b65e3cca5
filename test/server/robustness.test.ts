/**
 * Hostile and heavy clients: garbage bytes, oversize lengths, unterminated frames, byte-by-byte
 * input, thousands of connections opening and closing, maxclients, protected mode, the query buffer
 * limit, clients that do not read their replies (backpressure), CLIENT KILL / QUIT / idle timeout.
 * After each, the server keeps serving other clients.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { connect, type Socket } from 'node:net';
import { networkInterfaces } from 'node:os';
import { readFileSync } from 'node:fs';
import { connectRaw } from '../support/raw-client.ts';
import { startRivulet, cleanupTempDirs, sleep, type Rivulet } from './support.ts';

let srv: Rivulet;

beforeAll(async () => {
  srv = await startRivulet();
});

afterAll(async () => {
  if (srv) expect(await srv.stop()).toBe(0);
  await cleanupTempDirs();
});

const text = (b: Uint8Array) => Buffer.from(b).toString('latin1');

/** Sends bytes on a fresh socket; resolves with everything received until the server closes (or timeout). */
function exchange(port: number, bytes: Buffer | string, opts: { host?: string; localAddress?: string; waitMs?: number } = {}) {
  return new Promise<{ data: string; closedByServer: boolean }>((resolve, reject) => {
    const s = connect({ port, host: opts.host ?? '127.0.0.1', localAddress: opts.localAddress });
    let data = '';
    let done = false;
    const finish = (closedByServer: boolean) => {
      if (done) return;
      done = true;
      clearTimeout(t);
      s.destroy();
      resolve({ data, closedByServer });
    };
    const t = setTimeout(() => finish(false), opts.waitMs ?? 2000);
    s.on('connect', () => s.write(bytes));
    s.on('data', (d) => (data += d.toString('latin1')));
    s.on('end', () => finish(true));
    s.on('close', () => finish(true));
    s.on('error', (e) => (done ? undefined : reject(e)));
  });
}

async function assertServing(port = srv.port): Promise<void> {
  const c = await connectRaw(port);
  expect(text(await c.send(['PING']))).toBe('+PONG\r\n');
  await c.close();
}

describe('bad input', () => {
  it('garbage bytes: protocol error, connection closed, server keeps serving', async () => {
    const r = await exchange(srv.port, Buffer.from('*1\r\n$4\r\nPING\r\n*x\r\n\x00\xff\xfe garbage'));
    expect(r.data.startsWith('+PONG\r\n-ERR Protocol error')).toBe(true);
    expect(r.closedByServer).toBe(true);
    const random = Buffer.alloc(64 * 1024);
    for (let i = 0; i < random.length; i++) random[i] = (i * 7919 + 13) & 0xff;
    random[0] = 0x2a; // '*'
    const r2 = await exchange(srv.port, random);
    expect(r2.closedByServer).toBe(true);
    await assertServing();
  });

  it('oversize bulk and multibulk lengths are refused like Redis', async () => {
    let r = await exchange(srv.port, '*1\r\n$99999999999\r\n');
    expect(r.data).toBe('-ERR Protocol error: invalid bulk length\r\n');
    expect(r.closedByServer).toBe(true);
    r = await exchange(srv.port, '*99999999999\r\n');
    expect(r.data).toBe('-ERR Protocol error: invalid multibulk length\r\n');
    expect(r.closedByServer).toBe(true);
    await assertServing();
  });

  it('unterminated frames: nothing runs, the server waits; a frame sent byte by byte works', async () => {
    const hang = connect({ port: srv.port, host: '127.0.0.1' });
    await new Promise((r) => hang.on('connect', r));
    hang.write('*5\r\n$4\r\nXADD\r\n$4\r\nhalf\r\n$3\r\n1-1\r\n$1\r\nf');
    await sleep(100);
    await assertServing();
    const c = await connectRaw(srv.port);
    expect(text(await c.send(['EXISTS', 'half']))).toBe(':0\r\n');
    hang.destroy();
    // byte by byte
    const s = connect({ port: srv.port, host: '127.0.0.1' });
    let got = '';
    s.on('data', (d) => (got += d.toString('latin1')));
    await new Promise((r) => s.on('connect', r));
    const cmd = '*5\r\n$4\r\nXADD\r\n$5\r\nbytes\r\n$3\r\n1-1\r\n$1\r\nf\r\n$1\r\nv\r\n';
    for (const ch of cmd) {
      s.write(ch);
      await sleep(1);
    }
    for (let i = 0; i < 100 && got === ''; i++) await sleep(10);
    expect(got).toBe('$3\r\n1-1\r\n');
    s.destroy();
    expect(text(await c.send(['XLEN', 'bytes']))).toBe(':1\r\n');
    await c.close();
  });

  it('thousands of connections opening and closing (some abruptly); no leak', async () => {
    const total = 3000;
    const batch = 300;
    for (let start = 0; start < total; start += batch) {
      await Promise.all(
        Array.from({ length: batch }, (_, k) =>
          new Promise<void>((resolve) => {
            const i = start + k;
            const s = connect({ port: srv.port, host: '127.0.0.1' });
            s.on('error', () => resolve());
            s.on('connect', () => {
              if (i % 3 === 0) {
                s.resetAndDestroy(); // RST without a word
                resolve();
              } else if (i % 3 === 1) {
                s.write('*1\r\n$4\r\nPING\r\n');
                s.once('data', () => {
                  s.end();
                  resolve();
                });
              } else {
                s.end('*3\r\n$4\r\nXADD\r\n$5\r\nconns\r\n'); // half a command, then FIN
                resolve();
              }
            });
          }),
        ),
      );
    }
    const c = await connectRaw(srv.port);
    let clients = 0;
    for (let i = 0; i < 100; i++) {
      const list = text(await c.send(['CLIENT', 'LIST']));
      clients = list.split('\n').filter((l) => l.startsWith('id=') && !l.includes('addr=internal')).length;
      if (clients === 1) break;
      await sleep(20);
    }
    expect(clients).toBe(1);
    expect(text(await c.send(['EXISTS', 'conns']))).toBe(':0\r\n');
    const info = text(await c.send(['INFO', 'stats']));
    expect(Number(/total_connections_received:(\d+)/.exec(info)![1])).toBeGreaterThanOrEqual(total);
    await c.close();
  }, 60_000);
});

describe('limits', () => {
  it('maxclients: one more client gets "-ERR max number of clients reached" and is closed', async () => {
    const small = await startRivulet({ args: ['--maxclients', '3'] });
    const held = await Promise.all([0, 1, 2].map(() => connectRaw(small.port)));
    for (const h of held) expect(text(await h.send(['PING']))).toBe('+PONG\r\n');
    const r = await exchange(small.port, '');
    expect(r.data).toBe('-ERR max number of clients reached\r\n');
    expect(r.closedByServer).toBe(true);
    await held[0].close();
    await sleep(50);
    await assertServing(small.port);
    for (const h of held.slice(1)) await h.close();
    expect(await small.stop()).toBe(0);
  });

  it('client-query-buffer-limit: a connection whose unparsed input exceeds it is closed', async () => {
    const small = await startRivulet({ args: ['--client-query-buffer-limit', '1mb'] });
    const s = connect({ port: small.port, host: '127.0.0.1' });
    const closed = new Promise<string>((resolve) => {
      let data = '';
      s.on('data', (d) => (data += d));
      s.on('close', () => resolve(data));
      s.on('error', () => {});
    });
    await new Promise((r) => s.on('connect', r));
    s.write('*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$3000000\r\n');
    const chunk = Buffer.alloc(64 * 1024, 0x61);
    for (let i = 0; i < 24 && !s.destroyed; i++) {
      s.write(chunk);
      await sleep(5);
    }
    expect(await closed).toBe('');
    await assertServing(small.port);
    expect(await small.stop()).toBe(0);
  });

  it('a client that does not read its replies is paused; others are served; it gets everything later', async () => {
    const c = await connectRaw(srv.port);
    const big = 'x'.repeat(1000);
    for (let i = 0; i < 4; i++) {
      const p: Array<Promise<Uint8Array>> = [];
      for (let j = 0; j < 1000; j++) p.push(c.send(['XADD', 'bp', '*', 'f', big]));
      await Promise.all(p);
    }
    const rssBefore = rss(srv.pid);
    // a raw socket that writes 400 XRANGEs (≈4 MB of replies each) and does not read
    const slow = connect({ port: srv.port, host: '127.0.0.1' });
    await new Promise((r) => slow.on('connect', r));
    slow.pause();
    const req = '*4\r\n$6\r\nXRANGE\r\n$2\r\nbp\r\n$1\r\n-\r\n$1\r\n+\r\n';
    const n = 400;
    for (let i = 0; i < n; i++) slow.write(req);
    await sleep(1500);
    // other clients are served promptly meanwhile
    const t0 = Date.now();
    await assertServing();
    expect(Date.now() - t0).toBeLessThan(500);
    // the server did not buffer 1.6 GB of replies
    const grown = rss(srv.pid) - rssBefore;
    expect(grown).toBeLessThan(400 << 20);
    // now read everything: n complete replies
    let received = 0;
    const oneReply = await (async () => {
      const probe = await c.send(['XRANGE', 'bp', '-', '+']);
      return probe.length;
    })();
    await new Promise<void>((resolve) => {
      slow.on('data', (d: Buffer) => {
        received += d.length;
        if (received >= oneReply * n) resolve();
      });
      slow.resume();
    });
    expect(received).toBe(oneReply * n);
    slow.destroy();
    await c.close();
  }, 60_000);
});

describe('connection control', () => {
  it('QUIT and CLIENT KILL close the socket after the reply; a killed blocked client is released', async () => {
    let r = await exchange(srv.port, '*1\r\n$4\r\nQUIT\r\n');
    expect(r.data).toBe('+OK\r\n');
    expect(r.closedByServer).toBe(true);
    const victim = await connectRaw(srv.port);
    const id = /^:(\d+)/.exec(text(await victim.send(['CLIENT', 'ID'])))![1];
    victim.sendNoWait(['XREAD', 'BLOCK', '0', 'STREAMS', 'never', '$']);
    await sleep(50);
    const killer = await connectRaw(srv.port);
    expect(text(await killer.send(['CLIENT', 'KILL', 'ID', id]))).toBe(':1\r\n');
    await victim.closed;
    // CLIENT UNBLOCK wakes a blocked reader through rv_ready_next
    const blocked = await connectRaw(srv.port);
    const bid = /^:(\d+)/.exec(text(await blocked.send(['CLIENT', 'ID'])))![1];
    blocked.sendNoWait(['XREAD', 'BLOCK', '0', 'STREAMS', 'never', '$']);
    await sleep(50);
    expect(text(await killer.send(['CLIENT', 'UNBLOCK', bid, 'ERROR']))).toBe(':1\r\n');
    expect(text(await blocked.nextReply(2000))).toBe('-UNBLOCKED client unblocked via CLIENT UNBLOCK\r\n');
    // XREAD BLOCK with a timeout is answered by the deadline timer
    const t0 = Date.now();
    expect(text(await blocked.send(['XREAD', 'BLOCK', '150', 'STREAMS', 'never', '$']))).toBe('*-1\r\n');
    expect(Date.now() - t0).toBeGreaterThanOrEqual(140);
    expect(Date.now() - t0).toBeLessThan(1000);
    await blocked.close();
    await killer.close();
  });

  it('timeout closes idle clients but not blocked ones', async () => {
    const t = await startRivulet({ args: ['--timeout', '1'] });
    const idle = await connectRaw(t.port);
    const waiting = await connectRaw(t.port);
    waiting.sendNoWait(['XREAD', 'BLOCK', '0', 'STREAMS', 'tq', '$']);
    await idle.closed; // within ~1-2 s
    const w = await connectRaw(t.port);
    await w.send(['XADD', 'tq', '*', 'a', 'b']);
    expect(text(await waiting.nextReply(2000))).toContain('tq');
    await waiting.close();
    await w.close();
    expect(await t.stop()).toBe(0);
  });
});

describe('protected mode', () => {
  const external = Object.values(networkInterfaces())
    .flat()
    .find((a) => a && a.family === 'IPv4' && !a.internal)?.address;

  it('refuses non-loopback clients with the exact Redis message until a password is set', async () => {
    expect(external, 'this test needs a non-loopback IPv4 address on this machine').toBeTruthy();
    const open = await startRivulet({ args: ['--bind', '0.0.0.0'] });
    const denied = await exchange(open.port, '*1\r\n$4\r\nPING\r\n', { host: external });
    expect(denied.data).toBe(
      "-DENIED Redis is running in protected mode because protected mode is enabled and no password is set for the default user. In this mode connections are only accepted from the loopback interface. If you want to connect from external computers to Redis you may adopt one of the following solutions: 1) Just disable protected mode sending the command 'CONFIG SET protected-mode no' from the loopback interface by connecting to Redis from the same host the server is running, however MAKE SURE Redis is not publicly accessible from internet if you do so. Use CONFIG REWRITE to make this change permanent. 2) Alternatively you can just disable the protected mode by editing the Redis configuration file, and setting the protected mode option to 'no', and then restarting the server. 3) If you started the server manually just for testing, restart it with the '--protected-mode no' option. 4) Setup a an authentication password for the default user. NOTE: You only need to do one of the above things in order for the server to start accepting connections from the outside.\r\n",
    );
    expect(denied.closedByServer).toBe(true);
    // loopback is fine
    const local = await connectRaw(open.port);
    expect(text(await local.send(['PING']))).toBe('+PONG\r\n');
    // with a password the external client gets in (and must AUTH)
    expect(text(await local.send(['CONFIG', 'SET', 'requirepass', 's3cret']))).toBe('+OK\r\n');
    const ext = await connectRaw(open.port, external!);
    expect(text(await ext.send(['PING']))).toBe('-NOAUTH Authentication required.\r\n');
    expect(text(await ext.send(['AUTH', 's3cret']))).toBe('+OK\r\n');
    expect(text(await ext.send(['PING']))).toBe('+PONG\r\n');
    await ext.close();
    // protected-mode no lets anyone in without a password
    await local.send(['AUTH', 's3cret']);
    await local.send(['CONFIG', 'SET', 'requirepass', '']);
    expect(text(await local.send(['CONFIG', 'SET', 'protected-mode', 'no']))).toBe('+OK\r\n');
    const ext2 = await connectRaw(open.port, external!);
    expect(text(await ext2.send(['PING']))).toBe('+PONG\r\n');
    await ext2.close();
    await local.close();
    expect(await open.stop()).toBe(0);
  });

  it('binds 127.0.0.1 by default', async () => {
    expect(srv.output()).toContain('Listening on 127.0.0.1:');
    await expect(exchange(srv.port, '', { host: external })).rejects.toThrow(/ECONNREFUSED/);
  });
});

function rss(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : 0;
}

export type { Socket };
