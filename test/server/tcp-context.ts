/**
 * The TCP server as an {@link EngineContext}: one `rivulet serve` for the whole file, reached with
 * {@link RemoteConnection}. Each session starts from a reset server — the previous session's
 * connections killed (CLIENT KILL), FLUSHALL, default settings (as RedisTarget in
 * test/conformance/corpus.ts does) — and runs on the server's wall clock: `advance` sleeps.
 */
import { RemoteConnection } from '../../bindings/remote.ts';
import { RESET_COMMANDS } from '../conformance/corpus.ts';
import { untilBlockedVia, type Conn, type EngineContext, type Session } from '../engine/context.ts';
import { startRivulet, cleanupTempDirs, sleep, type Rivulet, type StartOptions } from './support.ts';

/** Real time a step of a test may take beyond the ideal on a loaded machine. */
const SLACK_MS = 250;

export interface TcpContext extends EngineContext {
  /** Stops the server (afterAll); resolves with its exit code. */
  dispose(): Promise<number | null>;
}

export function tcpContext(options: StartOptions = {}): TcpContext {
  let server: Promise<Rivulet> | null = null;
  let control: RemoteConnection | null = null;
  return {
    name: 'TCP server',
    async open(): Promise<Session> {
      const srv = await (server ??= startRivulet(options));
      control ??= await RemoteConnection.connect({ port: srv.port });
      const ctl = control;
      // the previous session's clients (and their side connections) go first, then the data
      await ctl.call('CLIENT', 'KILL', 'TYPE', 'normal', 'SKIPME', 'yes');
      for (const cmd of RESET_COMMANDS) await ctl.call(...cmd);
      const conns: RemoteConnection[] = [];
      return {
        clock: 'real',
        slack: SLACK_MS,
        async connect() {
          const c = await RemoteConnection.connect({ port: srv.port });
          conns.push(c);
          return c;
        },
        now: () => Date.now(),
        async advance(ms) {
          const until = Date.now() + ms;
          while (Date.now() < until) await sleep(until - Date.now());
        },
        untilBlocked: (conn: Conn) => untilBlockedVia(ctl, conn.id),
        settle: async () => void (await sleep(20)),
        async close() {
          await Promise.all(conns.map((c) => c.close()));
        },
      };
    },
    async dispose() {
      await control?.close();
      const srv = server && (await server);
      const code = srv ? await srv.stop() : 0;
      await cleanupTempDirs();
      return code;
    },
  };
}
