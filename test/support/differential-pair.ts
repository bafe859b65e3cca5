// The lifecycle both differential suites share: a reference redis-server, and a candidate that is the
// engine (or, with FUZZ_CANDIDATE=redis, a second redis-server to check the harness itself); started
// before the suite, stopped by pid after it, with an optional reply histogram (FUZZ_STATS=1).
import { afterAll, beforeAll } from 'vitest';
import { startRedis, type RedisHandle } from './redis-server.ts';

export interface Closable {
  close(): Promise<void> | void;
}

export interface Pair<R extends Closable, C extends Closable> {
  readonly ref: R;
  readonly cand: C;
}

export function useDifferentialPair<R extends Closable, C extends Closable>(options: {
  reference: (port: number) => R;
  redisCandidate: (port: number) => C;
  engineCandidate: () => Promise<C>;
  candidateIsRedis: boolean;
  stats?: Map<string, number>;
}): Pair<R, C> {
  let redis: RedisHandle | undefined;
  let redis2: RedisHandle | undefined;
  const pair = {} as { ref: R; cand: C };
  beforeAll(async () => {
    redis = await startRedis();
    pair.ref = options.reference(redis.port);
    if (options.candidateIsRedis) {
      redis2 = await startRedis();
      pair.cand = options.redisCandidate(redis2.port);
    } else {
      pair.cand = await options.engineCandidate();
    }
  }, 60_000);
  afterAll(async () => {
    if (options.stats && options.stats.size > 0) {
      const rows = [...options.stats].sort((a, b) => a[0].localeCompare(b[0]));
      console.log(rows.map(([k, n]) => `${String(n).padStart(7)}  ${k}`).join('\n'));
    }
    await pair.cand?.close();
    await pair.ref?.close();
    await redis2?.stop();
    await redis?.stop();
  });
  return pair;
}
