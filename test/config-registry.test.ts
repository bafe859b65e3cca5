// The engine's one registry of settings (assembly/commands/config.ts) against redis-server 7.0.15:
// CONFIG SET replies byte for byte (bad ints, out of range, bad enums and bools, memory units,
// immutable and protected settings, several pairs at once), the values CONFIG GET shows afterwards,
// the defaults, and — for the host's internal connection, which may set what Redis only takes from
// its config file — the validation texts redis-server prints when it refuses a config file.
// Also: every setting `rivulet serve` knows (hosts/shared/settings.ts) is one the engine has, with every
// value form it accepts.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RawEngine } from '../bindings/raw.ts';
import { HostRequest } from '../bindings/abi.ts';
import { decodeReply, encodeCommand } from '../bindings/resp.ts';
import { SETTINGS } from '../hosts/shared/settings.ts';
import { startRedis, type RedisHandle } from './support/redis-server.ts';
import { connectRaw, type RawClient } from './support/raw-client.ts';

const WASM = new URL('../build/rivulet.wasm', import.meta.url);
const CLIENT = 1;
const INTERNAL = 2;

/** Every setting of the engine's registry. */
const NAMES = [
  'stream-node-max-bytes', 'stream-node-max-entries', 'maxmemory', 'maxmemory-policy', 'requirepass',
  'proto-max-bulk-len', 'client-query-buffer-limit', 'databases', 'port', 'bind', 'protected-mode',
  'maxclients', 'timeout', 'tcp-keepalive', 'tcp-backlog', 'appendonly', 'appendfsync', 'appendfilename',
  'aof-load-truncated', 'auto-aof-rewrite-percentage', 'auto-aof-rewrite-min-size', 'save', 'dbfilename',
  'dir', 'loglevel', 'logfile', 'pidfile', 'daemonize', 'supervised',
];
/** Defaults that differ from redis-server's by design (docs/ABI.md, commands/config.ts). The
 *  reference server is started with --save '' --bind 127.0.0.1, like `rivulet serve`'s defaults. */
const DEFAULT_DIFFERS = new Set(['dir', 'dbfilename', 'port']);

const text = (b: Uint8Array) => Buffer.from(b).toString('latin1');

let raw: RawEngine;
let redis: RedisHandle;
let client: RawClient;

function run(conn: number, args: string[]): string {
  raw.feedBytes(conn, encodeCommand(args), Date.now());
  return text(raw.readAll(conn));
}

async function both(args: string[]): Promise<{ engine: string; redis: string }> {
  return { engine: run(CLIENT, args), redis: text(await client.send(args)) };
}

/** CONFIG GET of one name as [name, value] (or [] when unknown). */
function getPair(reply: string): string[] {
  const r = decodeReply(Buffer.from(reply, 'latin1'), 0, reply.length);
  return (r!.value as string[]).map(String);
}

beforeAll(async () => {
  raw = await RawEngine.instantiate(await WebAssembly.compile(readFileSync(WASM)));
  raw.open(CLIENT);
  raw.open(INTERNAL);
  raw.setInternal(INTERNAL);
  redis = await startRedis();
  client = await connectRaw(redis.port);
}, 30_000);

afterAll(async () => {
  await client?.close();
  await redis?.stop();
});

describe('CONFIG SET / GET against redis-server', () => {
  it('has Redis defaults, except dir, dbfilename and port', async () => {
    for (const name of NAMES) {
      if (DEFAULT_DIFFERS.has(name)) continue;
      const { engine, redis: want } = await both(['CONFIG', 'GET', name]);
      if (name === 'bind') expect(getPair(want)[1]).toBe('127.0.0.1'); // as the reference server is started
      expect(engine, name).toBe(want);
    }
    expect(raw.configGet('dir')).toBe('');
    expect(raw.configGet('dbfilename')).toBe('dump.rvs');
    expect(raw.configGet('port')).toBe('6379');
  });

  // [setting, values tried one by one]; valid ones are restored afterwards on both sides
  const VALUES: Array<[string, string[]]> = [
    ['port', ['abc', '70000', '-1', '1.5', '', '0x10', '065535']],
    ['timeout', ['abc', '-1', '2147483648', '05', '+5', ' 5', '100', '2147483647', '0']],
    ['tcp-keepalive', ['x', '-1', '0', '60', '2147483647', '2147483648']],
    ['maxclients', ['0', '-1', '4294967296', '100', '10000']],
    ['auto-aof-rewrite-percentage', ['-1', '0', '2147483647', '2147483648', 'x', '50']],
    ['stream-node-max-entries', ['-1', '0', '9223372036854775807', '9223372036854775808', '1e3', '10']],
    ['maxmemory', ['64mb', '64MB', '1g', '1Gb', '10kb', '10k', '5b', '05', 'mb', '', '1.5mb', '-1', '+5', ' 5', '5 mb', '5mbb',
      '18446744073709551615', '18446744073709551616', '18446744073709551615kb', '99999999999999999999999', '0']],
    ['proto-max-bulk-len', ['1000', '1mb', '1048576', '9223372036854775807', '9223372036854775808', '1k', '512mb']],
    ['client-query-buffer-limit', ['100', '1mb', '2gb', '9223372036854775808', '1gb']],
    ['stream-node-max-bytes', ['-5', '1b', '9223372036854775807', '9223372036854775808', '18446744073709551616', '4kb', '4096']],
    ['auto-aof-rewrite-min-size', ['1x', '0', '64mb', '9223372036854775808', '67108864']],
    ['protected-mode', ['1', 'YES', 'No', 'maybe', '', 'yes']],
    ['aof-load-truncated', ['maybe', 'NO', 'yes']],
    ['appendonly', ['maybe', '1', 'true']],
    ['appendfsync', ['ALWAYS', 'x', 'always no', 'no', 'everysec']],
    ['maxmemory-policy', ['x', 'ALLKEYS-LRU', 'noeviction']],
    ['loglevel', ['foo', 'nothing', 'DEBUG', 'Warning', 'notice']],
    ['save', ['1', '3600 1 300', '3600 ', '10 5000000000', '+5 -0', ' 5 1', '5 1 ', '0 1', '1 -1', '1x 1', '1 +',
      '99999999999999999999 1', '5  1', '3600 1 300 100', '\t5 1', '']],
    ['bind', ['1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17']],
    ['requirepass', ['secret', '']],
    // immutable and protected: refused to clients whatever the value
    ['tcp-backlog', ['5', 'abc']],
    ['databases', ['4', '16']],
    ['appendfilename', ['x.aof', 'a/b']],
    ['pidfile', ['x.pid']],
    ['logfile', ['x.log']],
    ['daemonize', ['yes']],
    ['supervised', ['no']],
    ['dir', ['data']],
    ['dbfilename', ['foo.rdb', 'a/b']],
  ];

  for (const [name, values] of VALUES) {
    it(`CONFIG SET ${name}`, async () => {
      const before = await both(['CONFIG', 'GET', name]);
      for (const v of values) {
        const set = await both(['CONFIG', 'SET', name, v]);
        expect(set.engine, `CONFIG SET ${name} ${JSON.stringify(v)}`).toBe(set.redis);
        if (!DEFAULT_DIFFERS.has(name)) {
          const get = await both(['CONFIG', 'GET', name]);
          expect(get.engine, `CONFIG GET ${name} after SET ${JSON.stringify(v)}`).toBe(get.redis);
        }
      }
      // restore what each side had
      run(CLIENT, ['CONFIG', 'SET', name, getPair(before.engine)[1]]);
      await client.send(['CONFIG', 'SET', name, getPair(before.redis)[1]]);
    });
  }

  const MANY: string[][] = [
    ['foo', 'bar', 'tcp-backlog', '1'],
    ['tcp-backlog', '1', 'foo', 'bar'],
    ['TCP-BACKLOG', '1'],
    ['tcp-backlog', '1', 'tcp-backlog', '2'],
    ['timeout', '1', 'timeout', '2', 'foo', 'bar'],
    ['timeout', '1', 'TIMEOUT', '2'],
    ['timeout', 'x', 'tcp-backlog', '1'],
    ['maxmemory', '1', 'maxmemory-policy', 'x', 'timeout', 'y'],
    ['timeout', '5', 'maxmemory', 'x'],
    ['PORT', 'abc'],
    ['Timeout', '7', 'maxmemory', '10mb', 'stream-node-max-entries', '50'],
    ['timeout', '0', 'maxmemory', '0', 'stream-node-max-entries', '100'],
    ['timeout'],
    ['timeout', '1', 'maxmemory'],
    ['nosuch', 'x'],
  ];
  it('several settings in one CONFIG SET: first problem wins, atomic', async () => {
    for (const args of MANY) {
      const set = await both(['CONFIG', 'SET', ...args]);
      expect(set.engine, `CONFIG SET ${args.join(' ')}`).toBe(set.redis);
      const get = await both(['CONFIG', 'GET', 'timeout', 'maxmemory', 'stream-node-max-entries', 'tcp-backlog']);
      // several names: Redis answers in its dict's (seeded) order, so compare as maps
      const asMap = (r: string) => new Map(Object.entries(Object.fromEntries(chunk(getPair(r)))));
      expect(asMap(get.engine)).toEqual(asMap(get.redis));
    }
  });

  it('INFO shows maxmemory as Redis does, huge values included', async () => {
    const lines = (info: string) => info.split('\r\n').filter((l) => /^maxmemory(_human)?:/.test(l));
    for (const v of ['64mb', '2048gb', '3000tb', '5000pb', '18446744073709550592', '9223372036854775808', '0']) {
      await both(['CONFIG', 'SET', 'maxmemory', v]);
      const info = await both(['INFO', 'memory']);
      expect(lines(info.engine), `maxmemory ${v}`).toEqual(lines(info.redis));
      expect(lines(info.engine).length).toBe(2);
    }
  });

  it('CONFIG GET: names as typed, patterns, unknown names, repeats', async () => {
    for (const args of [['TIMEOUT'], ['nosuch'], ['timeout', 'TIMEOUT'], ['max*'], ['*-max-*'], ['appendf*'], ['save', 'sav?'], ['[tp]ort']]) {
      const get = await both(['CONFIG', 'GET', ...args]);
      const pairs = (r: string) => new Map(chunk(getPair(r)));
      if (args.some((a) => /[*?[]/.test(a))) {
        // a pattern: Redis has more settings than Rivulet; every match Rivulet gives is Redis's
        const mine = pairs(get.engine);
        const theirs = pairs(get.redis);
        expect(mine.size, args.join(' ')).toBeGreaterThan(0);
        for (const [k, v] of mine) if (!DEFAULT_DIFFERS.has(k)) expect([k, theirs.get(k)]).toEqual([k, v]);
      } else {
        expect(pairs(get.engine), args.join(' ')).toEqual(pairs(get.redis));
      }
    }
  });
});

function chunk(xs: string[]): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (let i = 0; i + 1 < xs.length; i += 2) out.push([xs[i], xs[i + 1]]);
  return out;
}

/** The last line redis-server prints when it refuses `--name value` at start. */
function redisRefuses(name: string, value: string[]): string {
  const r = spawnSync('redis-server', ['--port', '0', '--save', '', `--${name}`, ...value], { encoding: 'utf8', timeout: 10_000 });
  const lines = (r.stdout + r.stderr).trim().split('\n');
  expect(r.status, `redis-server --${name} ${value.join(' ')} should refuse: ${lines.join('\n')}`).not.toBe(0);
  expect(lines.join('\n')).toContain('FATAL CONFIG FILE ERROR');
  return lines[lines.length - 1];
}

describe('the internal connection applies a config file', () => {
  const tmp = realpathSync(mkdtempSync(join(tmpdir(), 'rivulet-config-')));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it('sets immutable and protected settings to what redis-server shows for them', async () => {
    const values: Array<[string, string]> = [
      ['tcp-backlog', '100'], ['databases', '16'], ['appendfilename', 'mine.aof'], ['pidfile', join(tmp, 'r.pid')],
      ['logfile', join(tmp, 'r.log')], ['daemonize', 'NO'], ['supervised', 'NO'], ['dbfilename', 'mine.rdb'], ['dir', tmp],
    ];
    const ref = await startRedis({ args: values.flatMap(([n, v]) => [`--${n}`, v]) });
    const c = await connectRaw(ref.port);
    try {
      for (const [name, value] of values) {
        expect(run(INTERNAL, ['CONFIG', 'SET', name, value]), name).toBe('+OK\r\n');
        const want = text(await c.send(['CONFIG', 'GET', name]));
        expect(run(INTERNAL, ['CONFIG', 'GET', name]), name).toBe(want);
        expect(raw.configGet(name)).toBe(getPair(want)[1]);
        // clients still may not
        const refused = text(await c.send(['CONFIG', 'SET', name, value]));
        expect(run(CLIENT, ['CONFIG', 'SET', name, value]), name).toBe(refused);
      }
    } finally {
      await c.close();
      await ref.stop();
    }
  }, 30_000);

  it('refuses what redis-server refuses in a config file, with its text', () => {
    const cases: Array<[string, string[]]> = [
      ['tcp-backlog', ['abc']], ['tcp-backlog', ['-1']], ['databases', ['0']], ['appendfilename', ['a/b']],
      ['appendfilename', ['']], ['appendfilename', ['a\\b']], ['supervised', ['bad']], ['daemonize', ['maybe']],
      ['dbfilename', ['a/b']], ['maxclients', ['0']], ['loglevel', ['x']], ['save', ['1']], ['maxmemory', ['1.5']],
      ['bind', ['1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17']],
    ];
    for (const [name, value] of cases) {
      const why = redisRefuses(name, name === 'bind' ? value[0].split(' ') : value);
      expect(run(INTERNAL, ['CONFIG', 'SET', name, value.join(' ')]), `${name} ${value}`).toBe(
        `-ERR CONFIG SET failed (possibly related to argument '${name}') - ${why}\r\n`,
      );
    }
  }, 60_000);

  it('keeps exactly 16 databases', () => {
    expect(run(INTERNAL, ['CONFIG', 'SET', 'databases', '32'])).toBe(
      "-ERR CONFIG SET failed (possibly related to argument 'databases') - Rivulet has exactly 16 databases\r\n",
    );
    expect(raw.configGet('databases')).toBe('16');
  });
});

describe('the host learns of changes and reads values', () => {
  it('a client changing a host setting raises CONFIG_CHANGED; an engine setting does not', () => {
    raw.takeRequests();
    expect(run(CLIENT, ['CONFIG', 'SET', 'stream-node-max-entries', '100'])).toBe('+OK\r\n');
    expect(raw.takeRequests() & HostRequest.CONFIG_CHANGED).toBe(0);
    for (const [name, value] of [['timeout', '0'], ['appendfsync', 'everysec'], ['save', ''], ['loglevel', 'notice'], ['requirepass', '']]) {
      expect(run(CLIENT, ['CONFIG', 'SET', name, value])).toBe('+OK\r\n');
      expect(raw.takeRequests() & HostRequest.CONFIG_CHANGED, name).toBe(HostRequest.CONFIG_CHANGED);
    }
    expect(run(CLIENT, ['CONFIG', 'SET', 'timeout', 'x'])).toMatch(/^-ERR/);
    expect(raw.takeRequests()).toBe(0);
  });

  it('rv_config_get answers what CONFIG GET shows, for every name in any case', () => {
    for (const name of NAMES) {
      const pair = getPair(run(CLIENT, ['CONFIG', 'GET', name]));
      expect(raw.configGet(name), name).toBe(pair[1]);
      expect(raw.configGet(name.toUpperCase()), name).toBe(pair[1]);
    }
    expect(raw.configGet('nosuch')).toBeNull();
    expect(raw.configGet('')).toBeNull();
    expect(raw.configGet('max*')).toBeNull();
  });
});

describe('hosts/shared/settings.ts settings all live in the engine', () => {
  it('every setting rivulet serve knows exists, and takes its default and value forms', () => {
    for (const def of SETTINGS) {
      expect(raw.configGet(def.name), `${def.name} is not an engine setting`).not.toBeNull();
      expect(run(INTERNAL, ['CONFIG', 'SET', def.name, def.default]), `${def.name} ${def.default}`).toBe('+OK\r\n');
    }
    const forms: Array<[string, string, string]> = [
      ['client-query-buffer-limit', '1gb', '1073741824'],
      ['maxmemory', '100mb', '104857600'],
      ['maxmemory', '2GB', '2147483648'],
      ['maxmemory', '0', '0'],
      ['appendonly', 'YES', 'yes'],
      ['appendfsync', 'Always', 'always'],
      ['loglevel', 'WARNING', 'warning'],
      ['save', '3600 1 300 100', '3600 1 300 100'],
      ['save', '', ''],
      ['bind', '127.0.0.1 ::1', '127.0.0.1 ::1'],
      ['bind', '* -::*', '* -::*'],
      ['dir', './data', './data'],
      ['port', '0', '0'],
      ['logfile', '', ''],
      ['pidfile', '/run/rivulet.pid', '/run/rivulet.pid'],
      ['aof-load-truncated', 'no', 'no'],
      ['tcp-backlog', '511', '511'],
      ['databases', '16', '16'],
    ];
    for (const [name, value, shown] of forms) {
      expect(run(INTERNAL, ['CONFIG', 'SET', name, value]), `${name} ${value}`).toBe('+OK\r\n');
      expect(raw.configGet(name), `${name} ${value}`).toBe(shown);
    }
    run(INTERNAL, ['CONFIG', 'SET', 'port', '6379', 'bind', '127.0.0.1', 'appendonly', 'no', 'dir', '', 'maxmemory', '0']);
  });
});
