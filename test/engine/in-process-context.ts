/**
 * The in-process host as an {@link EngineContext}: a fresh engine per session, whose only clock is a
 * manual one starting at {@link T0}; `advance` moves it and runs `engine.tick()` (BLOCK timeouts).
 */
import { createEngine, type Connection } from '../../bindings/entry.node.ts';
import { untilBlockedVia, type Conn, type EngineContext, type Session } from './context.ts';

export const T0 = 1_700_000_000_000;

export function inProcessContext(): EngineContext {
  return {
    name: 'in-process engine',
    async open(): Promise<Session> {
      const now = { value: T0 };
      const engine = await createEngine({ clock: () => now.value });
      let control: Connection | null = null;
      return {
        clock: 'manual',
        slack: 0,
        connect: async () => engine.connect(),
        now: () => now.value,
        async advance(ms) {
          now.value += ms;
          engine.tick();
        },
        untilBlocked: (conn: Conn) => untilBlockedVia((control ??= engine.connect()), conn.id),
        settle: () => new Promise((r) => setTimeout(r, 5)),
        close: () => engine.close(),
      };
    },
  };
}
