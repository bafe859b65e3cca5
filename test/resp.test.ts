import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import {
  encodeCommand,
  encodeCommandInto,
  encodedCommandLength,
  replyLength,
  decodeReply,
  ReplyError,
  RespProtocolError,
  type RespValue,
} from '../bindings/resp.ts';

const te = new TextEncoder();
const td = new TextDecoder();
const b = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0)); // latin1 bytes
const u = (s: string) => te.encode(s);

function dec(s: string | Uint8Array, opts?: { buffers?: boolean }): RespValue {
  const buf = typeof s === 'string' ? u(s) : s;
  const r = decodeReply(buf, 0, buf.length, opts);
  if (!r) throw new Error('incomplete');
  expect(r.next).toBe(buf.length);
  return r.value;
}

function len(s: string): number {
  const buf = u(s);
  return replyLength(buf, 0, buf.length);
}

describe('encodeCommand', () => {
  it('encodes strings, numbers, bigints and bytes', () => {
    expect(td.decode(encodeCommand(['XADD', 's', '1-1', 'f', 'v']))).toBe(
      '*5\r\n$4\r\nXADD\r\n$1\r\ns\r\n$3\r\n1-1\r\n$1\r\nf\r\n$1\r\nv\r\n',
    );
    expect(td.decode(encodeCommand(['X', 42, -7, 1.5, 18446744073709551615n]))).toBe(
      '*5\r\n$1\r\nX\r\n$2\r\n42\r\n$2\r\n-7\r\n$3\r\n1.5\r\n$20\r\n18446744073709551615\r\n',
    );
    expect(encodeCommand(['A', new Uint8Array([0, 13, 10, 255])])).toEqual(
      new Uint8Array([...b('*2\r\n$1\r\nA\r\n$4\r\n'), 0, 13, 10, 255, 13, 10]),
    );
    expect(td.decode(encodeCommand([]))).toBe('*0\r\n');
    expect(td.decode(encodeCommand(['']))).toBe('*1\r\n$0\r\n\r\n');
  });

  it('UTF-8 encodes non-ASCII (incl. astral and lone surrogates)', () => {
    for (const s of ['é', '€uro', '😀', 'a\ud800b', '\udc00', 'x'.repeat(100) + 'ü', 'ü'.repeat(70)]) {
      const bytes = te.encode(s);
      const exp = new Uint8Array([...b(`*1\r\n$${bytes.length}\r\n`), ...bytes, 13, 10]);
      expect(encodeCommand([s])).toEqual(exp);
    }
  });

  it('encodeCommandInto writes at offset and reports -1 when it does not fit', () => {
    const args = ['PING', 'hello'];
    const full = encodeCommand(args);
    const out = new Uint8Array(100).fill(7);
    expect(encodeCommandInto(args, out, 10)).toBe(full.length);
    expect(out.subarray(10, 10 + full.length)).toEqual(full);
    expect(out[9]).toBe(7);
    expect(out[10 + full.length]).toBe(7);
    for (let cap = 0; cap < full.length; cap++) {
      expect(encodeCommandInto(args, new Uint8Array(cap), 0)).toBe(-1);
      expect(encodeCommandInto(args, new Uint8Array(cap + 5), 5)).toBe(-1);
    }
    expect(encodeCommandInto(args, new Uint8Array(full.length), 0)).toBe(full.length);
  });

  it('property: size, round trip through decodeReply', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(
            fc.string({ unit: 'binary' }),
            fc.integer(),
            fc.bigInt(),
            fc.uint8Array({ maxLength: 40 }),
            fc.string({ minLength: 60, maxLength: 200 }),
          ),
          { maxLength: 12 },
        ),
        (args) => {
          const enc = encodeCommand(args);
          expect(enc.length).toBe(encodedCommandLength(args));
          expect(replyLength(enc, 0, enc.length)).toBe(enc.length);
          const r = decodeReply(enc, 0, enc.length, { buffers: true })!;
          const exp = args.map((a) =>
            a instanceof Uint8Array ? a : te.encode(typeof a === 'string' ? a : String(a)),
          );
          expect(r.value).toEqual(exp);
          for (let cut = 0; cut < enc.length; cut++) {
            expect(replyLength(enc, 0, cut)).toBe(-1);
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('replyLength', () => {
  const complete: string[] = [
    '+OK\r\n',
    '-ERR syntax error\r\n',
    ':0\r\n',
    ':-12\r\n',
    '$-1\r\n',
    '$0\r\n\r\n',
    '$5\r\nab\r\nc\r\n',
    '*-1\r\n',
    '*0\r\n',
    '*2\r\n$1\r\na\r\n*1\r\n:1\r\n',
    '_\r\n',
    ',3.14\r\n',
    ',inf\r\n',
    '#t\r\n',
    '(3492890328409238509324850943850943825024385\r\n',
    '!21\r\nSYNTAX invalid syntax\r\n',
    '=15\r\ntxt:Some string\r\n',
    '%2\r\n+first\r\n:1\r\n+second\r\n:2\r\n',
    '~3\r\n+a\r\n+b\r\n+c\r\n',
    '>2\r\n+message\r\n$2\r\nhi\r\n',
    '|1\r\n+key-popularity\r\n%2\r\n$1\r\na\r\n,0.1923\r\n$1\r\nb\r\n,0.0012\r\n*2\r\n:2039123\r\n:9543892\r\n',
    '*2\r\n|1\r\n+ttl\r\n:3600\r\n$1\r\nx\r\n$1\r\ny\r\n',
    '$?\r\n;4\r\nHell\r\n;5\r\no wor\r\n;1\r\nd\r\n;0\r\n',
    '*?\r\n:1\r\n:2\r\n.\r\n',
    '%?\r\n+a\r\n:1\r\n.\r\n',
    '*3\r\n*?\r\n*1\r\n:1\r\n.\r\n%0\r\n*2\r\n_\r\n*?\r\n.\r\n',
    '*3\r\n*?\r\n|1\r\n+k\r\n+v\r\n:5\r\n.\r\n:1\r\n:2\r\n',
  ];

  it('frames complete replies and reports -1 for every strict prefix', () => {
    for (const s of complete) {
      const buf = u(s);
      expect(replyLength(buf, 0, buf.length), s).toBe(buf.length);
      for (let cut = 0; cut < buf.length; cut++) {
        expect(replyLength(buf, 0, cut), `${JSON.stringify(s)} cut ${cut}`).toBe(-1);
      }
      // embedded in a larger buffer with trailing data and a start offset
      const big = u('xyz' + s + '+NEXT\r\n');
      expect(replyLength(big, 3, big.length)).toBe(buf.length);
    }
  });

  it('splits pipelined replies', () => {
    const buf = u('+OK\r\n:1\r\n*1\r\n$1\r\na\r\n');
    let p = 0;
    const lens: number[] = [];
    while (p < buf.length) {
      const l = replyLength(buf, p, buf.length);
      lens.push(l);
      p += l;
    }
    expect(lens).toEqual([5, 4, 11]);
  });

  it('bulk payloads may contain CRLF and are counted by length', () => {
    expect(len('$4\r\n\r\n\r\n\r\n')).toBe(10);
    expect(len('$4\r\n\r\n\r\n')).toBe(-1);
  });

  it('throws on garbage', () => {
    expect(() => len('?what\r\n')).toThrow(RespProtocolError);
    expect(() => len('$x\r\n')).toThrow(RespProtocolError);
  });

  it('deep nesting does not recurse', () => {
    const depth = 100000;
    const s = '*1\r\n'.repeat(depth) + ':1\r\n';
    expect(len(s)).toBe(s.length);
  });
});

describe('decodeReply', () => {
  it('scalars', () => {
    expect(dec('+OK\r\n')).toBe('OK');
    expect(dec(':42\r\n')).toBe(42);
    expect(dec(':-42\r\n')).toBe(-42);
    expect(dec(':9007199254740991\r\n')).toBe(9007199254740991);
    expect(dec(':-9007199254740991\r\n')).toBe(-9007199254740991);
    expect(dec(':9007199254740992\r\n')).toBe(9007199254740992n);
    expect(dec(':-9223372036854775808\r\n')).toBe(-9223372036854775808n);
    expect(dec(':000000000000000000001\r\n')).toBe(1);
    expect(dec('$-1\r\n')).toBe(null);
    expect(dec('*-1\r\n')).toBe(null);
    expect(dec('_\r\n')).toBe(null);
    expect(dec('$0\r\n\r\n')).toBe('');
    expect(dec('$6\r\nfoo\r\nb\r\n')).toBe('foo\r\nb');
    expect(dec('#t\r\n')).toBe(true);
    expect(dec('#f\r\n')).toBe(false);
    expect(dec(',1.5\r\n')).toBe(1.5);
    expect(dec(',-2\r\n')).toBe(-2);
    expect(dec(',1e3\r\n')).toBe(1000);
    expect(dec(',inf\r\n')).toBe(Infinity);
    expect(dec(',-inf\r\n')).toBe(-Infinity);
    expect(dec(',nan\r\n')).toBeNaN();
    expect(dec('(3492890328409238509324850943850943825024385\r\n')).toBe(
      3492890328409238509324850943850943825024385n,
    );
    expect(dec('(-1\r\n')).toBe(-1n);
    expect(dec('=15\r\ntxt:Some string\r\n')).toBe('Some string');
    expect(dec('$?\r\n;4\r\nHell\r\n;5\r\no wor\r\n;1\r\nd\r\n;0\r\n')).toBe('Hello word');
  });

  it('UTF-8 and BOM preserved', () => {
    const s = '\ufeffhé😀' + 'ü'.repeat(40);
    const bytes = te.encode(s);
    const buf = new Uint8Array([...b(`$${bytes.length}\r\n`), ...bytes, 13, 10]);
    expect(dec(buf)).toBe(s);
  });

  it('errors are returned as ReplyError with code', () => {
    const e = dec('-WRONGTYPE Operation against a key holding the wrong kind of value\r\n');
    expect(e).toBeInstanceOf(ReplyError);
    expect(e).toBeInstanceOf(Error);
    expect((e as ReplyError).code).toBe('WRONGTYPE');
    expect((e as ReplyError).message).toBe('WRONGTYPE Operation against a key holding the wrong kind of value');
    const e2 = dec('!21\r\nSYNTAX invalid syntax\r\n') as ReplyError;
    expect(e2).toBeInstanceOf(ReplyError);
    expect(e2.code).toBe('SYNTAX');
    expect((dec('-ERR\r\n') as ReplyError).code).toBe('ERR');
    const nested = dec('*2\r\n:1\r\n-ERR x y\r\n') as RespValue[];
    expect((nested[1] as ReplyError).message).toBe('ERR x y');
  });

  it('aggregates', () => {
    expect(dec('*0\r\n')).toEqual([]);
    expect(dec('*2\r\n$3\r\n1-1\r\n*2\r\n$1\r\nf\r\n$1\r\nv\r\n')).toEqual(['1-1', ['f', 'v']]);
    expect(dec('~2\r\n+a\r\n:1\r\n')).toEqual(['a', 1]);
    expect(dec('>2\r\n+message\r\n$2\r\nhi\r\n')).toEqual(['message', 'hi']);
    const m = dec('%2\r\n$6\r\nlength\r\n:3\r\n$11\r\nfirst-entry\r\n_\r\n') as Map<RespValue, RespValue>;
    expect(m).toBeInstanceOf(Map);
    expect([...m.entries()]).toEqual([
      ['length', 3],
      ['first-entry', null],
    ]);
    expect(dec('*?\r\n:1\r\n:2\r\n.\r\n')).toEqual([1, 2]);
    expect([...(dec('%?\r\n+a\r\n:1\r\n.\r\n') as Map<RespValue, RespValue>)]).toEqual([['a', 1]]);
  });

  it('attributes are skipped', () => {
    expect(dec('|1\r\n+ttl\r\n:3600\r\n*2\r\n:1\r\n:2\r\n')).toEqual([1, 2]);
    expect(dec('*2\r\n|1\r\n+ttl\r\n:3600\r\n$1\r\nx\r\n$1\r\ny\r\n')).toEqual(['x', 'y']);
  });

  it('buffers option', () => {
    const v = dec('*3\r\n$2\r\nab\r\n+OK\r\n=7\r\ntxt:xyz\r\n', { buffers: true }) as RespValue[];
    expect(v[0]).toEqual(b('ab'));
    expect(v[1]).toBe('OK');
    expect(v[2]).toEqual(b('xyz'));
    // copies, not views
    const src = u('$2\r\nab\r\n');
    const r = decodeReply(src, 0, src.length, { buffers: true })!;
    src[4] = 0;
    expect(r.value).toEqual(b('ab'));
    // invalid UTF-8 kept intact as bytes
    expect(dec(new Uint8Array([...b('$2\r\n'), 0xff, 0xfe, 13, 10]), { buffers: true })).toEqual(
      new Uint8Array([0xff, 0xfe]),
    );
  });

  it('returns null while incomplete, and next for pipelines', () => {
    const s = u('*2\r\n$3\r\nabc\r\n%1\r\n+k\r\n,1.5\r\n+NEXT\r\n');
    const full = s.length - 7;
    for (let cut = 0; cut < full; cut++) expect(decodeReply(s, 0, cut)).toBeNull();
    const r = decodeReply(s, 0, s.length)!;
    expect(r.next).toBe(full);
    expect(decodeReply(s, r.next, s.length)).toEqual({ value: 'NEXT', next: s.length });
  });

  it('agrees with replyLength on random well-formed replies', () => {
    const leaf = fc.oneof(
      fc.string().map((s) => `+${s.replace(/[\r\n]/g, '')}\r\n`),
      fc.string().map((s) => `-ERR ${s.replace(/[\r\n]/g, '')}\r\n`),
      fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }).map((n) => `:${n}\r\n`),
      fc.string().map((s) => `$${te.encode(s).length}\r\n${s}\r\n`),
      fc.constantFrom('$-1\r\n', '*-1\r\n', '_\r\n', '#t\r\n', '#f\r\n', ',inf\r\n', ',1.25\r\n', '(123456789012345678901234567890\r\n'),
    );
    const reply: fc.Arbitrary<string> = fc.letrec<{ r: string }>((tie) => ({
      r: fc.oneof(
        { depthSize: 'small', withCrossShrink: true },
        leaf,
        fc.array(tie('r'), { maxLength: 4 }).map((a) => `*${a.length}\r\n${a.join('')}`),
        fc.array(tie('r'), { maxLength: 4 }).map((a) => `~${a.length}\r\n${a.join('')}`),
        fc
          .array(fc.tuple(leaf, tie('r')), { maxLength: 3 })
          .map((a) => `%${a.length}\r\n${a.map(([k, v]) => k + v).join('')}`),
      ),
    })).r;
    fc.assert(
      fc.property(reply, (s) => {
        const buf = u(s);
        expect(replyLength(buf, 0, buf.length)).toBe(buf.length);
        const r = decodeReply(buf, 0, buf.length);
        expect(r).not.toBeNull();
        expect(r!.next).toBe(buf.length);
        const cut = Math.floor(buf.length / 2);
        if (cut < buf.length) {
          expect(replyLength(buf, 0, cut)).toBe(-1);
          expect(decodeReply(buf, 0, cut)).toBeNull();
        }
      }),
      { numRuns: 300 },
    );
  });

  it('throws on garbage', () => {
    expect(() => dec('?\r\n')).toThrow(RespProtocolError);
    expect(() => dec(':12a\r\n')).toThrow(RespProtocolError);
    expect(() => dec('#x\r\n')).toThrow(RespProtocolError);
  });
});
