/** The engine-semantics suites against the in-process engine (a fresh engine per test, manual clock). */
import { inProcessContext } from './in-process-context.ts';
import { streamsSuite } from './streams.suite.ts';
import { blockingSuite } from './blocking.suite.ts';
import { groupsSuite } from './groups.suite.ts';

const ctx = inProcessContext();
streamsSuite(ctx);
blockingSuite(ctx);
groupsSuite(ctx);
