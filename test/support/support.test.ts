import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { parseCommandLine, parseCommandLineBytes, quoteArgs, connectRaw } from './raw-client.ts';
import { startRedis } from './redis-server.ts';

const td = new TextDecoder();
const s = (b: Uint8Array) => td.decode(b);

describe('parseCommandLine (redis-cli quoting)', () => {
  it('splits on whitespace and handles quotes', () => {
    expect(parseCommandLine('XADD s 1-1 f v')).toEqual(['XADD', 's', '1-1', 'f', 'v']);
    expect(parseCommandLine('  a   b\t c  ')).toEqual(['a', 'b', 'c']);
    expect(parseCommandLine('"a b" \'c d\' ""')).toEqual(['a b', 'c d', '']);
    expect(parseCommandLine('"\\n\\r\\t\\"\\\\\\x41\\q"')).toEqual(['\n\r\t"\\Aq']);
    expect(parseCommandLine("'it\\'s' 'a\\nb'")).toEqual(["it's", 'a\\nb']);
    expect(parseCommandLine('é "€"')).toEqual(['é', '€']);
    expect(parseCommandLine('')).toEqual([]);
  });

  it('\\xHH gives raw bytes', () => {
    expect([...parseCommandLineBytes('"\\xff\\x00"')[0]]).toEqual([0xff, 0]);
    expect(() => parseCommandLine('"\\xff"')).toThrow(/UTF-8/);
  });

  it('rejects unbalanced quotes and text glued to a closing quote', () => {
    expect(() => parseCommandLine('"abc')).toThrow();
    expect(() => parseCommandLine("'abc")).toThrow();
    expect(() => parseCommandLine('"a"b')).toThrow();
  });

  it('quoteArgs round-trips arbitrary bytes', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 20 }), { minLength: 1, maxLength: 6 }), (args) => {
        expect(parseCommandLineBytes(quoteArgs(args))).toEqual(args);
      }),
    );
    fc.assert(
      fc.property(fc.array(fc.string({ unit: 'grapheme' }), { minLength: 1, maxLength: 6 }), (args) => {
        expect(parseCommandLine(quoteArgs(args))).toEqual(args);
      }),
    );
  });
});

describe('startRedis + connectRaw', () => {
  it('fails clearly when redis-server is missing', async () => {
    await expect(startRedis({ binary: '/nonexistent/redis-server' })).rejects.toThrow(/ensure-deps\.sh/);
  });

  it('returns exact reply bytes, in order, including pipelined and blocked replies', async () => {
    const redis = await startRedis();
    try {
      const c = await connectRaw(redis.port);
      const d = await connectRaw(redis.port);
      expect(s(await c.send(['PING']))).toBe('+PONG\r\n');
      expect(s(await c.send(['XADD', 's', '1-1', 'f', 'v']))).toBe('$3\r\n1-1\r\n');
      c.sendNoWait(['XREAD', 'BLOCK', '0', 'STREAMS', 's', '$']);
      await new Promise((r) => setTimeout(r, 50));
      expect(c.readyCount()).toBe(0);
      expect(s(await d.send(['XADD', 's', '2-1', 'g', 'w']))).toBe('$3\r\n2-1\r\n');
      expect(s(await c.nextReply(2000))).toBe(
        '*1\r\n*2\r\n$1\r\ns\r\n*1\r\n*2\r\n$3\r\n2-1\r\n*2\r\n$1\r\ng\r\n$1\r\nw\r\n',
      );
      c.sendBytes('*1\r\n$4\r\nPING\r\n*2\r\n$4\r\nECHO\r\n$2\r\nhi\r\n', 2);
      expect(s(await c.nextReply())).toBe('+PONG\r\n');
      expect(s(await c.nextReply())).toBe('$2\r\nhi\r\n');
      const [a, b] = await Promise.all([c.send(['ECHO', 'x']), c.send(['ECHO', 'y'])]);
      expect([s(a), s(b)]).toEqual(['$1\r\nx\r\n', '$1\r\ny\r\n']);
      await c.close();
      await d.close();
    } finally {
      await redis.stop();
    }
    // the process is gone
    expect(() => process.kill(redis.pid, 0)).toThrow();
  });
});
