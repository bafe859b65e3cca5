/** The engine-semantics suites against the in-process engine (a fresh engine per test, manual clock). */
import { inProcessContext } from './in-process-context.ts';
import { groupsSuite } from './groups.suite.ts';

const ctx = inProcessContext();
groupsSuite(ctx);
