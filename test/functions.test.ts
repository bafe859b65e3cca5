// FUNCTION / FCALL: the replies of a Redis with no library loaded are in the conformance corpus
// (cases/functions.txt). What a Redis with Lua would do differently — create a library — Rivulet
// cannot: it runs no script engine. Libraries made by a real redis-server 7.0.15 (FUNCTION LOAD, then
// FUNCTION DUMP) are refused after every check Redis makes before compiling, and nothing changes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedis, type RedisHandle } from './support/redis-server.ts';
import { connectRaw, type RawClient } from './support/raw-client.ts';
import { createEngine } from '../bindings/entry.node.ts';

const latin1 = (b: Uint8Array) => Buffer.from(b).toString('latin1');

/** The bulk string of a raw `$n\r\n...\r\n` reply. */
function bulkPayload(reply: Uint8Array): Uint8Array {
  const text = latin1(reply);
  const nl = text.indexOf('\r\n');
  const n = Number(text.slice(1, nl));
  return reply.subarray(nl + 2, nl + 2 + n);
}

const LIBRARIES = {
  // long enough to be stored LZF-compressed in the payload
  compressed:
    '#!lua name=mylib\nredis.register_function("myfunc", function(keys, args) return args[1] end)\n' +
    'redis.register_function("other", function(keys, args) return 2 end)',
  // short: stored as a plain string
  plain: '#!lua name=x\nredis.register_function("f", function() return 1 end)',
};

describe('FUNCTION libraries made by redis-server 7.0.15', () => {
  let redis: RedisHandle;
  let client: RawClient;
  const payloads = new Map<string, Uint8Array>();

  beforeAll(async () => {
    redis = await startRedis();
    client = await connectRaw(redis.port);
    for (const [name, code] of Object.entries(LIBRARIES)) {
      expect(latin1(await client.send(['FUNCTION', 'FLUSH']))).toBe('+OK\r\n');
      expect(latin1(await client.send(['FUNCTION', 'LOAD', code]))).toMatch(/^\$/);
      payloads.set(name, bulkPayload(await client.send(['FUNCTION', 'DUMP'])).slice());
    }
    await client.send(['FUNCTION', 'FLUSH']);
  }, 60_000);
  afterAll(async () => {
    await client?.close();
    await redis?.stop();
  });

  for (const name of Object.keys(LIBRARIES)) {
    it(`FUNCTION RESTORE of a ${name} library payload finds no engine for it and changes nothing`, async () => {
      const engine = await createEngine();
      const conn = engine.connect();
      const payload = payloads.get(name)!;
      expect(latin1(await conn.callRaw('FUNCTION', 'RESTORE', payload))).toBe("-ERR Engine 'lua' not found\r\n");
      expect(latin1(await conn.callRaw('FUNCTION', 'RESTORE', payload, 'REPLACE'))).toBe("-ERR Engine 'lua' not found\r\n");
      // one byte changed: the checksum no longer matches
      const bad = payload.slice();
      bad[5] ^= 1;
      expect(latin1(await conn.callRaw('FUNCTION', 'RESTORE', bad))).toBe('-ERR DUMP payload version or checksum are wrong\r\n');
      expect(latin1(await conn.callRaw('FUNCTION', 'LIST'))).toBe('*0\r\n');
      expect(latin1(await conn.callRaw('FCALL', 'myfunc', '0'))).toBe('-ERR Function not found\r\n');
      engine.close();
    });
  }

  it('FUNCTION LOAD of a Lua library (valid metadata) finds no engine; the engine name is reported as given', async () => {
    const engine = await createEngine();
    const conn = engine.connect();
    expect(latin1(await conn.callRaw('FUNCTION', 'LOAD', LIBRARIES.plain))).toBe("-ERR Engine 'lua' not found\r\n");
    expect(latin1(await conn.callRaw('FUNCTION', 'LOAD', 'REPLACE', '#!LUA name=x\nreturn 1'))).toBe("-ERR Engine 'LUA' not found\r\n");
    expect(latin1(await conn.callRaw('FUNCTION', 'LIST'))).toBe('*0\r\n');
    // the dump of the engine is still the empty one, the same bytes redis-server gives with no library
    expect(latin1(await conn.callRaw('FUNCTION', 'DUMP'))).toBe(latin1(await client.send(['FUNCTION', 'DUMP'])));
    engine.close();
  });
});
