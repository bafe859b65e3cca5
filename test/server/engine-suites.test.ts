/**
 * The engine-semantics suites against the TCP server: one `rivulet serve` for the file, reset
 * between tests (tcp-context.ts), the wall clock.
 */
import { afterAll, expect } from 'vitest';
import { tcpContext } from './tcp-context.ts';
import { streamsSuite } from '../engine/streams.suite.ts';
import { blockingSuite } from '../engine/blocking.suite.ts';
import { groupsSuite } from '../engine/groups.suite.ts';

const ctx = tcpContext();
afterAll(async () => {
  expect(await ctx.dispose()).toBe(0);
});
streamsSuite(ctx);
blockingSuite(ctx);
groupsSuite(ctx);
