/** The conformance corpus against the in-process engine (a fresh engine per case). */
import { createEngine } from '../../bindings/entry.node.ts';
import { conformanceSuite, EngineTarget } from './suite.ts';

conformanceSuite({
  name: 'in-process engine',
  target: () => new EngineTarget(() => createEngine()),
  release: (t) => (t as EngineTarget).dispose(),
});
