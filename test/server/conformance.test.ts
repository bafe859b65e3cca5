/**
 * The conformance corpus through the Rivulet TCP server with a raw RESP client, each case on fresh
 * state (FLUSHALL + CONFIG SET reset, new connections — RedisTarget does that), with appendfsync
 * always so every case also goes through the AOF path that waits for fsync.
 */
import { beforeAll, afterAll, expect } from 'vitest';
import { RedisTarget } from '../conformance/corpus.ts';
import { conformanceSuite } from '../conformance/suite.ts';
import { startRivulet, cleanupTempDirs, type Rivulet } from './support.ts';

let srv: Rivulet;
let target: RedisTarget;

beforeAll(async () => {
  srv = await startRivulet({ args: ['--appendfsync', 'always'] });
  target = new RedisTarget(srv.port);
});

afterAll(async () => {
  await target?.close();
  expect(await srv.stop()).toBe(0);
  await cleanupTempDirs();
});

conformanceSuite({ name: 'TCP server', target: () => target, timeoutMs: 10000 });
