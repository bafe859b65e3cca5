/**
 * The conformance corpus (test/conformance/expected.json, recorded from redis-server 7.0.15, and the
 * hand-written cases-newer/) through the Rivulet TCP server with a raw RESP client: one `it()` per
 * case, each on fresh state (FLUSHALL + CONFIG SET reset, new connections — RedisTarget does that).
 * Comparison is byte for byte except XINFO STREAM radix-tree-nodes (normalizeReply), as for the
 * in-process engine.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { loadExpected, loadNewerCases, checkCase, formatDiffs, normalizeReply, RedisTarget } from '../conformance/corpus.ts';
import { startRivulet, cleanupTempDirs, type Rivulet } from './support.ts';

let srv: Rivulet;
let target: RedisTarget;

beforeAll(async () => {
  // appendfsync always: every case also goes through the AOF path that waits for fsync
  srv = await startRivulet({ args: ['--appendfsync', 'always'] });
  target = new RedisTarget(srv.port);
});

afterAll(async () => {
  await target?.close();
  expect(await srv.stop()).toBe(0);
  await cleanupTempDirs();
});

const strict = process.env.RIVULET_STRICT_RAX === '1';

describe('conformance corpus over TCP', () => {
  for (const c of loadExpected()) {
    it(`[${c.file}] ${c.name}`, async () => {
      const diffs = await checkCase(c, target, { normalize: strict ? undefined : normalizeReply });
      expect(diffs, formatDiffs(c, diffs)).toEqual([]);
    });
  }
});

describe('newer-Redis cases over TCP', () => {
  for (const c of loadNewerCases()) {
    it(`[${c.file}] ${c.name}`, async () => {
      const diffs = await checkCase(c, target, { normalize: strict ? undefined : normalizeReply });
      expect(diffs, formatDiffs(c, diffs)).toEqual([]);
    });
  }
});
