/**
 * Proves every vector in expected.json is really Redis 7.0.15's answer: starts redis-server,
 * replays each case and compares byte for byte (no normalization). Also checks that expected.json
 * is in sync with the case sources (run `node scripts/record-corpus.mjs` after editing cases).
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { startRedis, type RedisHandle } from '../support/redis-server.ts';
import {
  loadCases,
  loadExpected,
  RedisTarget,
  checkCase,
  formatDiffs,
  type RecordedCase,
} from './corpus.ts';

const expected: RecordedCase[] = loadExpected();

describe('conformance corpus vs redis-server', () => {
  let redis: RedisHandle;
  let target: RedisTarget;

  beforeAll(async () => {
    redis = await startRedis();
    target = new RedisTarget(redis.port);
  });

  afterAll(async () => {
    await target?.close();
    await redis?.stop();
  });

  it('runs against redis-server 7.0.15', () => {
    expect(redis.version).toBe('7.0.15');
  });

  it('expected.json is in sync with cases/*.txt', () => {
    const strip = (cs: RecordedCase[]) =>
      cs.map((c) => ({
        name: c.name,
        file: c.file,
        steps: c.steps.map((s) => ({ conn: s.conn, mode: s.mode, args: s.args, compare: s.compare })),
      }));
    const fromSources = loadCases().map((c) => ({ ...c, steps: c.steps.map((s) => ({ ...s, expect: null })) }));
    expect(strip(expected)).toEqual(strip(fromSources));
  });

  for (const c of expected) {
    it(`[${c.file}] ${c.name}`, async () => {
      const diffs = await checkCase(c, target);
      expect(diffs, formatDiffs(c, diffs)).toEqual([]);
    });
  }
});
