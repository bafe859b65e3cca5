/**
 * Real Redis clients against the Rivulet TCP server: redis-cli (Debian redis-tools), ioredis,
 * node-redis (`redis`, RESP3 via HELLO 3 on connect) and redis-py (python3-redis), each through the
 * same scenario: XADD, XRANGE, XGROUP, XREADGROUP BLOCK woken by another connection, XACK, XPENDING,
 * XAUTOCLAIM; plus redis-benchmark XADD with a pipeline and a consistent XLEN afterwards.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { Redis as IORedis } from 'ioredis';
import { createClient } from 'redis';
import { startRivulet, redisCli, findPythonWithRedis, cleanupTempDirs, sleep, type Rivulet } from './support.ts';

let srv: Rivulet;

beforeAll(async () => {
  srv = await startRivulet();
});

afterAll(async () => {
  expect(await srv.stop()).toBe(0);
  await cleanupTempDirs();
});

describe('redis-cli', () => {
  it('runs the stream scenario', async () => {
    const cli = (...a: string[]) => redisCli(srv.port, a).trim();
    expect(cli('PING')).toBe('PONG');
    expect(cli('XADD', 'cli:s', '1-1', 'f', 'v1')).toBe('1-1');
    expect(cli('XADD', 'cli:s', '2-1', 'f', 'v2')).toBe('2-1');
    expect(cli('XLEN', 'cli:s')).toBe('2');
    expect(cli('XRANGE', 'cli:s', '-', '+')).toBe('1-1\nf\nv1\n2-1\nf\nv2');
    expect(cli('XGROUP', 'CREATE', 'cli:s', 'g', '$')).toBe('OK');

    // XREADGROUP BLOCK in one redis-cli, woken by an XADD from another
    const blocked = spawn('redis-cli', ['-p', String(srv.port), 'XREADGROUP', 'GROUP', 'g', 'alice', 'BLOCK', '10000', 'STREAMS', 'cli:s', '>']);
    let out = '';
    blocked.stdout.on('data', (d) => (out += d));
    const done = new Promise<number | null>((r) => blocked.once('exit', r));
    await waitFor(() => cli('CLIENT', 'LIST').includes('cmd=xreadgroup'));
    expect(cli('XADD', 'cli:s', '3-1', 'f', 'v3')).toBe('3-1');
    expect(await done).toBe(0);
    expect(out.trim()).toBe('cli:s\n3-1\nf\nv3');

    expect(cli('XPENDING', 'cli:s', 'g')).toBe('1\n3-1\n3-1\nalice\n1');
    expect(cli('XAUTOCLAIM', 'cli:s', 'g', 'bob', '0', '0-0', 'COUNT', '10', 'JUSTID')).toBe('0-0\n3-1');
    expect(cli('XACK', 'cli:s', 'g', '3-1')).toBe('1');
    expect(cli('XPENDING', 'cli:s', 'g')).toBe('0');
    // RESP3 through redis-cli -3
    const r3 = redisCli(srv.port, ['-3', '--no-raw', 'XINFO', 'STREAM', 'cli:s']);
    expect(r3).toContain('"length" => (integer) 3');
    // a pipe of many commands (redis-cli --pipe style raw protocol)
    let proto = '';
    for (let i = 0; i < 1000; i++) proto += `*5\r\n$4\r\nXADD\r\n$8\r\ncli:pipe\r\n$1\r\n*\r\n$1\r\nf\r\n$${String(i).length}\r\n${i}\r\n`;
    const piped = spawnSync('redis-cli', ['-p', String(srv.port), '--pipe'], { input: proto, encoding: 'utf8' });
    expect(piped.stdout).toContain('errors: 0, replies: 1000');
    expect(cli('XLEN', 'cli:pipe')).toBe('1000');
  });
});

describe('ioredis', () => {
  it('runs the stream scenario', async () => {
    const a = new IORedis({ port: srv.port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0 });
    const b = new IORedis({ port: srv.port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0 });
    await a.connect();
    await b.connect();
    try {
      const id1 = await a.xadd('io:s', '*', 'temp', '21.5');
      expect(id1).toMatch(/^\d+-\d+$/);
      await a.xadd('io:s', '*', 'temp', '22');
      expect(await a.xlen('io:s')).toBe(2);
      const range = await a.xrange('io:s', '-', '+');
      expect(range.map(([, f]) => f)).toEqual([['temp', '21.5'], ['temp', '22']]);
      expect(await a.xgroup('CREATE', 'io:s', 'workers', '$', 'MKSTREAM')).toBe('OK');

      const woken = a.xreadgroup('GROUP', 'workers', 'w1', 'COUNT', '10', 'BLOCK', '10000', 'STREAMS', 'io:s', '>');
      await sleep(50);
      const id3 = await b.xadd('io:s', '*', 'temp', '23');
      const got = (await woken) as Array<[string, Array<[string, string[]]>]>;
      expect(got).toEqual([['io:s', [[id3, ['temp', '23']]]]]);

      const summary = (await a.xpending('io:s', 'workers')) as unknown[];
      expect(summary).toEqual([1, id3, id3, [['w1', '1']]]);
      const ext = (await a.xpending('io:s', 'workers', '-', '+', 10)) as unknown[][];
      expect(ext[0][0]).toBe(id3);
      expect(ext[0][1]).toBe('w1');
      const claimed = (await b.xautoclaim('io:s', 'workers', 'w2', 0, '0-0', 'COUNT', 5)) as unknown[];
      expect(claimed[0]).toBe('0-0');
      expect(claimed[1]).toEqual([[id3, ['temp', '23']]]);
      expect(await b.xack('io:s', 'workers', id3!)).toBe(1);
      expect(((await a.xpending('io:s', 'workers')) as unknown[])[0]).toBe(0);
      // pipelining
      const p = a.pipeline();
      for (let i = 0; i < 500; i++) p.xadd('io:p', '*', 'i', String(i));
      p.xlen('io:p');
      const res = await p.exec();
      expect(res![500]).toEqual([null, 500]);
      // MULTI
      const m = await a.multi().xadd('io:m', '1-1', 'a', 'b').xlen('io:m').exec();
      expect(m).toEqual([[null, '1-1'], [null, 1]]);
    } finally {
      a.disconnect();
      b.disconnect();
    }
  });
});

describe('node-redis (RESP3)', () => {
  it('runs the stream scenario over HELLO 3', async () => {
    const a = createClient({ socket: { port: srv.port, host: '127.0.0.1', reconnectStrategy: false } });
    const b = createClient({ socket: { port: srv.port, host: '127.0.0.1', reconnectStrategy: false } });
    a.on('error', () => {});
    b.on('error', () => {});
    await a.connect();
    await b.connect();
    try {
      // the connection speaks RESP3 (node-redis 6 sends HELLO 3 on connect)
      const info = (await a.sendCommand(['CLIENT', 'INFO'])) as unknown as string;
      expect(String(info)).toContain('resp=3');
      expect(String(info)).toContain('lib-name=node-redis');
      const id1 = await a.xAdd('nr:s', '*', { f: 'v1' });
      await a.xAdd('nr:s', '*', { f: 'v2' });
      expect(await a.xLen('nr:s')).toBe(2);
      const range = (await a.xRange('nr:s', '-', '+'))!;
      expect(range.map((e) => ({ ...e.message }))).toEqual([{ f: 'v1' }, { f: 'v2' }]);
      expect(range[0].id).toBe(id1);
      expect(await a.xGroupCreate('nr:s', 'g', '$')).toBe('OK');

      const woken = a.xReadGroup('g', 'c1', { key: 'nr:s', id: '>' }, { BLOCK: 10000, COUNT: 5 });
      await sleep(50);
      const id3 = await b.xAdd('nr:s', '*', { f: 'v3' });
      const got = (await woken) as unknown;
      // RESP3: a map keyed by stream name
      const flat = JSON.stringify(got, (_k, v) => (v instanceof Map ? Object.fromEntries(v) : v));
      expect(flat).toContain(id3);
      expect(flat).toContain('v3');
      const raw3 = (await a.sendCommand(['XREADGROUP', 'GROUP', 'g', 'c1', 'STREAMS', 'nr:s', '0'])) as unknown;
      expect(raw3).toBeTruthy();

      const pending = await a.xPending('nr:s', 'g');
      expect(pending.pending).toBe(1);
      expect(pending.firstId).toBe(id3);
      const claimed = await b.xAutoClaim('nr:s', 'g', 'c2', 0, '0-0');
      expect(claimed.messages.map((m) => m?.id)).toEqual([id3]);
      expect(await b.xAck('nr:s', 'g', id3)).toBe(1);
      expect((await a.xPending('nr:s', 'g')).pending).toBe(0);
      // RESP3-only reply types: XINFO STREAM is a map
      const xinfo = (await a.sendCommand(['XINFO', 'STREAM', 'nr:s'])) as unknown;
      const obj = xinfo instanceof Map ? Object.fromEntries(xinfo) : (xinfo as Record<string, unknown>);
      expect(Number(obj.length)).toBe(3);
    } finally {
      await a.quit().catch(() => {});
      await b.quit().catch(() => {});
    }
  });
});

describe('redis-py', () => {
  it('runs the stream scenario (RESP2) and pipelines', () => {
    const py = findPythonWithRedis();
    const script = String.raw`
import json, sys, threading, time, redis
port = int(sys.argv[1])
a = redis.Redis(port=port, decode_responses=True)
b = redis.Redis(port=port, decode_responses=True)
out = {}
i1 = a.xadd('py:s', {'f': 'v1'})
a.xadd('py:s', {'f': 'v2'})
out['len'] = a.xlen('py:s')
out['range'] = [fields for _, fields in a.xrange('py:s')]
a.xgroup_create('py:s', 'g', id='$')
res = {}
def reader():
    res['got'] = a.xreadgroup('g', 'c1', {'py:s': '>'}, count=5, block=10000)
t = threading.Thread(target=reader); t.start()
time.sleep(0.1)
i3 = b.xadd('py:s', {'f': 'v3'})
t.join()
out['woken'] = res['got'] == [['py:s', [(i3, {'f': 'v3'})]]]
p = a.xpending('py:s', 'g')
out['pending'] = [p['pending'], p['min'], p['max'], p['consumers']]
out['i3'] = i3
ac = b.xautoclaim('py:s', 'g', 'c2', 0, '0-0', justid=True)
out['autoclaim'] = ac[1] if len(ac) > 1 else ac
out['ack'] = b.xack('py:s', 'g', i3)
out['pending_after'] = a.xpending('py:s', 'g')['pending']
pipe = a.pipeline(transaction=False)
for i in range(300): pipe.xadd('py:p', {'i': i})
pipe.xlen('py:p')
out['pipe_len'] = pipe.execute()[-1]
tx = a.pipeline(transaction=True)
tx.xadd('py:t', {'a': 1}, id='1-1'); tx.xlen('py:t')
out['tx'] = tx.execute()
print(json.dumps(out))
`;
    const r = spawnSync(py, ['-c', script, String(srv.port)], { encoding: 'utf8', timeout: 30000 });
    expect(r.stderr).toBe('');
    const out = JSON.parse(r.stdout);
    expect(out.len).toBe(2);
    expect(out.range).toEqual([{ f: 'v1' }, { f: 'v2' }]);
    expect(out.woken).toBe(true);
    expect(out.pending).toEqual([1, out.i3, out.i3, [{ name: 'c1', pending: 1 }]]);
    expect(out.autoclaim).toEqual([out.i3]);
    expect(out.ack).toBe(1);
    expect(out.pending_after).toBe(0);
    expect(out.pipe_len).toBe(300);
    expect(out.tx).toEqual(['1-1', 1]);
  });
  // Debian's python3-redis is 4.3.4, which has no RESP3 (protocol=3 came in redis-py 5): RESP3 is
  // covered by node-redis and redis-cli -3.
});

describe('redis-benchmark', () => {
  it('XADD with -P 16 and -P 1: every reply counted, XLEN matches', () => {
    const cli = (...a: string[]) => redisCli(srv.port, a).trim();
    for (const [key, pipe, n] of [
      ['bench:p16', '16', 20000],
      ['bench:p1', '1', 5000],
    ] as const) {
      const r = spawnSync(
        'redis-benchmark',
        ['-p', String(srv.port), '-n', String(n), '-c', '10', '-P', pipe, '-q', 'XADD', key, '*', 'f', 'v'],
        { encoding: 'utf8', timeout: 60000 },
      );
      expect(r.status).toBe(0);
      expect(r.stdout).toMatch(/requests per second/);
      expect(cli('XLEN', key)).toBe(String(n));
    }
    // the IDs are strictly increasing (XRANGE count equals XLEN, last-generated-id is the last entry)
    const last = cli('XREVRANGE', 'bench:p16', '+', '-', 'COUNT', '1').split('\n')[0];
    expect(cli('XINFO', 'STREAM', 'bench:p16')).toContain(last);
  });
});

async function waitFor(cond: () => boolean, timeoutMs = 5000): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > timeoutMs) throw new Error('condition not met in time');
    await sleep(20);
  }
}
