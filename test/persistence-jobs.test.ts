// Persistence jobs owned by the engine (docs/ABI.md, "Host loop for persistence"): SAVE waits for the
// host's rv_job_done, BGSAVE / BGREWRITEAOF answer from the engine's job state, a job asked for while
// another runs is scheduled and raised when that one is done, and INFO persistence / LASTSAVE are
// computed when asked. Driven in-process through RawEngine (the host is this file), and compared with
// redis-server 7.0.15, whose background jobs are slowed down (rdb-key-save-delay) so that "running"
// lasts as long as each step needs.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFile } from 'node:fs/promises';
import { RawEngine } from '../bindings/raw.ts';
import { FeedStatus, JobKind, JobStart, JobStatus } from '../bindings/abi.ts';
import { encodeCommand } from '../bindings/resp.ts';
import { startRedis, type RedisHandle } from './support/redis-server.ts';
import { connectRaw, type RawClient } from './support/raw-client.ts';

const wasm = await WebAssembly.compile(await readFile(new URL('../build/rivulet.wasm', import.meta.url)));
const T0 = 1_700_000_000_000;
const text = (b: Uint8Array) => Buffer.from(b).toString('latin1');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** One engine, connections 1..n, a settable clock; `run` feeds one command and returns its reply. */
async function engine(opts: { persistence?: boolean } = {}) {
  const raw = await RawEngine.instantiate(wasm);
  let now = T0;
  for (let c = 1; c <= 3; c++) raw.open(c);
  if (opts.persistence !== false) raw.persistenceEnable(true);
  const e = {
    raw,
    get now() {
      return now;
    },
    advance(ms: number) {
      now += ms;
    },
    /** Feeds; returns [status, output so far]. */
    feed(conn: number, ...args: string[]): [number, string] {
      const st = raw.feedBytes(conn, encodeCommand(args), now);
      return [st, text(raw.readAll(conn))];
    },
    run(conn: number, ...args: string[]): string {
      return e.feed(conn, ...args)[1];
    },
    info(field: string): string {
      const m = new RegExp(`\\r\\n${field}:([^\\r]*)\\r\\n`).exec(e.run(3, 'INFO', 'everything'));
      return m ? m[1] : '<none>';
    },
    ready(): number[] {
      const out: number[] = [];
      for (let id = raw.readyNext(); id >= 0; id = raw.readyNext()) out.push(id);
      return out;
    },
  };
  return e;
}

describe('persistence jobs: the host protocol (in-process)', () => {
  it('without a persistence host, SAVE / BGSAVE / BGREWRITEAOF fail as on a Redis that cannot write', async () => {
    const e = await engine({ persistence: false });
    expect(e.run(1, 'SAVE')).toBe('-ERR\r\n');
    expect(e.run(1, 'BGSAVE')).toBe('-ERR\r\n');
    expect(e.run(1, 'BGREWRITEAOF')).toBe(
      "-ERR Can't execute an AOF background rewriting. Please check the server logs for more information.\r\n",
    );
    expect(e.raw.takeRequests()).toBe(0);
    expect(e.info('rdb_saves')).toBe('2');
    expect(e.info('rdb_last_bgsave_status')).toBe('err');
    expect(e.info('aof_last_bgrewrite_status')).toBe('err');
    expect(e.info('aof_rewrites')).toBe('0');
    expect(e.info('errorstat_ERR')).toBe('count=3');
    expect(e.info('cmdstat_save')).toMatch(/calls=1,.*failed_calls=1$/);
  });

  it('SAVE parks the client without a reply until rv_job_done; its pipelined input waits; +OK then the rest', async () => {
    const e = await engine();
    expect(e.run(1, 'XADD', 's', '1-1', 'f', 'v')).toBe('$3\r\n1-1\r\n');
    expect(e.info('rdb_changes_since_last_save')).toBe('1');
    const [st, out] = e.feed(1, 'SAVE');
    expect(out).toBe('');
    expect(st & FeedStatus.BLOCKED).toBe(FeedStatus.BLOCKED);
    expect(st & FeedStatus.REQUESTS).toBe(FeedStatus.REQUESTS);
    // pipelined behind the SAVE: not run yet
    expect(e.feed(1, 'XADD', 's', '2-1', 'f', 'v')).toEqual([FeedStatus.BLOCKED | FeedStatus.REQUESTS, '']);
    expect(e.run(2, 'XLEN', 's')).toBe(':1\r\n');
    expect(e.raw.takeRequests()).toBe(JobKind.SAVE);
    e.advance(3000);
    expect(e.raw.jobDone(JobKind.SAVE, JobStatus.OK, e.now)).toBe(1);
    expect(e.ready()).toEqual([1]);
    expect(text(e.raw.readAll(1))).toBe('+OK\r\n$3\r\n2-1\r\n');
    expect(e.raw.status(1) & FeedStatus.BLOCKED).toBe(0);
    // the write after the SAVE is the one change since it
    expect(e.info('rdb_changes_since_last_save')).toBe('1');
    expect(e.info('rdb_last_save_time')).toBe(String(Math.floor((T0 + 3000) / 1000)));
    expect(e.run(1, 'LASTSAVE')).toBe(`:${Math.floor((T0 + 3000) / 1000)}\r\n`);
    expect(e.info('rdb_saves')).toBe('1');
    expect(e.raw.jobDone(JobKind.SAVE, JobStatus.OK, e.now)).toBe(-1); // none running any more
  });

  it('a failed SAVE answers -ERR, counted as a failed SAVE call; the last save is unchanged', async () => {
    const e = await engine();
    expect(e.run(1, 'LASTSAVE')).toBe(`:${Math.floor(T0 / 1000)}\r\n`);
    e.run(1, 'XADD', 's', '1-1', 'f', 'v');
    e.feed(1, 'SAVE');
    e.raw.takeRequests();
    e.advance(5000);
    expect(e.raw.jobDone(JobKind.SAVE, JobStatus.FAILED, e.now)).toBe(1);
    expect(e.ready()).toEqual([1]);
    expect(text(e.raw.readAll(1))).toBe('-ERR\r\n');
    expect(e.info('errorstat_ERR')).toBe('count=1');
    expect(e.info('total_error_replies')).toBe('1');
    expect(e.info('cmdstat_save')).toMatch(/calls=1,.*failed_calls=1$/);
    expect(e.info('rdb_changes_since_last_save')).toBe('1');
    expect(e.info('rdb_last_bgsave_status')).toBe('ok');
    expect(e.run(1, 'LASTSAVE')).toBe(`:${Math.floor(T0 / 1000)}\r\n`);
  });

  it('SAVEs before the host took the request share it; a SAVE while the host writes gets another one', async () => {
    const e = await engine();
    e.feed(1, 'SAVE');
    e.feed(2, 'SAVE');
    expect(e.raw.takeRequests()).toBe(JobKind.SAVE);
    // the host is writing: this SAVE's writes may not be in that file
    e.run(3, 'XADD', 's', '1-1', 'f', 'v');
    e.feed(3, 'SAVE');
    expect(e.raw.takeRequests()).toBe(0);
    expect(e.raw.jobDone(JobKind.SAVE, JobStatus.OK, e.now)).toBe(2);
    expect(e.ready().sort()).toEqual([1, 2]);
    expect(text(e.raw.readAll(1)) + text(e.raw.readAll(2))).toBe('+OK\r\n+OK\r\n');
    expect(text(e.raw.readAll(3))).toBe('');
    expect(e.raw.takeRequests()).toBe(JobKind.SAVE); // the next round
    expect(e.raw.jobDone(JobKind.SAVE, JobStatus.OK, e.now)).toBe(1);
    expect(e.ready()).toEqual([3]);
    expect(text(e.raw.readAll(3))).toBe('+OK\r\n');
    expect(e.info('rdb_changes_since_last_save')).toBe('0');
  });

  it('a SAVE waiter that is closed or killed is not answered; the save still completes', async () => {
    const e = await engine();
    e.feed(1, 'SAVE');
    e.feed(2, 'SAVE');
    e.raw.takeRequests();
    e.raw.close(1);
    expect(e.run(3, 'CLIENT', 'KILL', 'ID', '2')).toBe(':1\r\n');
    e.ready();
    expect(e.raw.jobDone(JobKind.SAVE, JobStatus.OK, e.now)).toBe(0);
    expect(e.ready()).toEqual([]);
  });

  it('BGSAVE / BGREWRITEAOF: started, already in progress, scheduled, raised when the running job is done', async () => {
    const e = await engine();
    expect(e.run(1, 'BGSAVE', 'x')).toBe('-ERR syntax error\r\n');
    expect(e.run(1, 'BGSAVE')).toBe('+Background saving started\r\n');
    expect(e.raw.takeRequests()).toBe(JobKind.BGSAVE);
    expect(e.run(1, 'BGSAVE')).toBe('-ERR Background save already in progress\r\n');
    expect(e.run(1, 'BGSAVE', 'SCHEDULE')).toBe('-ERR Background save already in progress\r\n');
    expect(e.run(1, 'SAVE')).toBe('-ERR Background save already in progress\r\n');
    expect(e.run(1, 'BGREWRITEAOF')).toBe('+Background append only file rewriting scheduled\r\n');
    expect(e.info('rdb_bgsave_in_progress')).toBe('1');
    expect(e.info('aof_rewrite_scheduled')).toBe('1');
    e.advance(2500);
    expect(e.info('rdb_current_bgsave_time_sec')).toBe('2');
    e.run(2, 'XADD', 's', '1-1', 'f', 'v'); // after the snapshot point: still a change after the save
    expect(e.raw.takeRequests()).toBe(0);
    expect(e.raw.jobDone(JobKind.BGSAVE, JobStatus.OK, e.now)).toBe(0);
    expect(e.raw.takeRequests()).toBe(JobKind.REWRITE);
    expect(e.info('rdb_bgsave_in_progress')).toBe('0');
    expect(e.info('rdb_last_bgsave_time_sec')).toBe('2');
    expect(e.info('rdb_changes_since_last_save')).toBe('1');
    expect(e.info('aof_rewrite_in_progress')).toBe('1');
    expect(e.info('aof_rewrite_scheduled')).toBe('0');
    expect(e.run(1, 'BGREWRITEAOF')).toBe('-ERR Background append only file rewriting already in progress\r\n');
    expect(e.run(1, 'BGSAVE')).toBe(
      "-ERR Another child process is active (AOF?): can't BGSAVE right now. Use BGSAVE SCHEDULE in order to schedule a BGSAVE whenever possible.\r\n",
    );
    expect(e.run(1, 'BGSAVE', 'SCHEDULE')).toBe('+Background saving scheduled\r\n');
    expect(e.raw.jobDone(JobKind.REWRITE, JobStatus.FAILED, e.now)).toBe(0);
    expect(e.info('aof_last_bgrewrite_status')).toBe('err');
    expect(e.raw.takeRequests()).toBe(JobKind.BGSAVE);
    expect(e.info('rdb_bgsave_in_progress')).toBe('1');
    expect(e.raw.jobDone(JobKind.BGSAVE, JobStatus.ABORTED, e.now)).toBe(0); // no status change
    expect(e.info('rdb_last_bgsave_status')).toBe('ok');
    expect(e.info('rdb_saves')).toBe('2');
    expect(e.info('aof_rewrites')).toBe('1');
    expect(e.run(1, 'CONFIG', 'RESETSTAT')).toBe('+OK\r\n');
    expect(e.info('rdb_saves')).toBe('0');
    expect(e.info('aof_rewrites')).toBe('0');
  });

  it('inside MULTI: SAVE is refused (EXECABORT); BGSAVE and BGREWRITEAOF are scheduled and start after EXEC', async () => {
    const e = await engine();
    expect(e.run(1, 'MULTI')).toBe('+OK\r\n');
    expect(e.run(1, 'SAVE')).toBe('-ERR Command not allowed inside a transaction\r\n');
    expect(e.run(1, 'EXEC')).toBe('-EXECABORT Transaction discarded because of previous errors.\r\n');
    expect(e.run(1, 'MULTI')).toBe('+OK\r\n');
    expect(e.run(1, 'BGSAVE')).toBe('+QUEUED\r\n');
    expect(e.run(1, 'BGREWRITEAOF')).toBe('+QUEUED\r\n');
    expect(e.run(1, 'EXEC')).toBe(
      '*2\r\n+Background saving scheduled\r\n+Background append only file rewriting scheduled\r\n',
    );
    // like serverCron: the rewrite first, the BGSAVE once it is done
    expect(e.raw.takeRequests()).toBe(JobKind.REWRITE);
    expect(e.raw.jobDone(JobKind.REWRITE, JobStatus.OK, e.now)).toBe(0);
    expect(e.raw.takeRequests()).toBe(JobKind.BGSAVE);
  });

  it('host-started jobs: rv_job_start answers started / busy / scheduled like the commands', async () => {
    const e = await engine();
    expect(e.raw.jobStart(64, e.now)).toBe(JobStart.BAD_KIND);
    expect(e.raw.jobStart(JobKind.BGSAVE, e.now)).toBe(JobStart.STARTED);
    expect(e.raw.takeRequests()).toBe(0); // the host starts its own job: no request
    expect(e.run(1, 'BGSAVE')).toBe('-ERR Background save already in progress\r\n');
    expect(e.raw.jobStart(JobKind.BGSAVE, e.now)).toBe(JobStart.BUSY_SAME);
    expect(e.raw.jobStart(JobKind.SAVE, e.now)).toBe(JobStart.BUSY_SAME);
    expect(e.raw.jobStart(JobKind.REWRITE, e.now)).toBe(JobStart.BUSY_OTHER);
    expect(e.raw.jobStart(JobKind.REWRITE | JobKind.SCHEDULE, e.now)).toBe(JobStart.SCHEDULED);
    expect(e.info('aof_rewrite_scheduled')).toBe('1');
    expect(e.raw.jobDone(JobKind.BGSAVE, JobStatus.OK, e.now)).toBe(0);
    expect(e.raw.takeRequests()).toBe(JobKind.REWRITE);
    expect(e.raw.jobDone(JobKind.REWRITE, JobStatus.OK, e.now)).toBe(0);
    // SHUTDOWN SAVE: a SAVE the host starts; a client's SAVE meanwhile waits for the next one
    expect(e.raw.jobStart(JobKind.SAVE, e.now)).toBe(JobStart.STARTED);
    e.feed(1, 'SAVE');
    expect(e.raw.jobDone(JobKind.SAVE, JobStatus.OK, e.now)).toBe(0);
    expect(e.raw.takeRequests()).toBe(JobKind.SAVE);
    expect(e.raw.jobDone(JobKind.SAVE, JobStatus.OK, e.now)).toBe(1);
    expect(e.ready()).toEqual([1]);
    expect(text(e.raw.readAll(1))).toBe('+OK\r\n');
  });

  it('INFO persistence is live, in Redis order, and merges the host lines (host-sent engine fields are dropped)', async () => {
    const e = await engine();
    e.run(1, 'XADD', 's', '1-1', 'f', 'v');
    e.run(1, 'XADD', 's', '2-1', 'f', 'v');
    expect(e.info('rdb_changes_since_last_save')).toBe('2');
    const host = [
      'persistence\taof_enabled:1',
      'persistence\trdb_saves:99', // engine-owned: ignored
      'persistence\taof_last_write_status:ok',
      'persistence\taof_current_size:1234',
      'persistence\taof_pending_rewrite', // placed here, filled in by the engine
    ].join('\n');
    const bytes = new TextEncoder().encode(host);
    e.raw.scratch().set(bytes);
    e.raw.setHostInfo(bytes.length);
    e.run(1, 'BGREWRITEAOF');
    e.run(1, 'BGSAVE', 'SCHEDULE');
    const section = e.run(1, 'INFO', 'persistence');
    const lines = section.split('\r\n').slice(1, -2);
    expect(lines).toEqual([
      '# Persistence',
      'loading:0',
      'rdb_changes_since_last_save:2',
      'rdb_bgsave_in_progress:0',
      `rdb_last_save_time:${Math.floor(T0 / 1000)}`,
      'rdb_last_bgsave_status:ok',
      'rdb_last_bgsave_time_sec:-1',
      'rdb_current_bgsave_time_sec:-1',
      'rdb_saves:0',
      'aof_enabled:1',
      'aof_rewrite_in_progress:1',
      'aof_rewrite_scheduled:0',
      'aof_last_rewrite_time_sec:-1',
      'aof_current_rewrite_time_sec:0',
      'aof_last_bgrewrite_status:ok',
      'aof_rewrites:1',
      'aof_last_write_status:ok',
      'aof_current_size:1234',
      'aof_pending_rewrite:0',
    ]);
  });
});

type Job = 'bgsave' | 'rewrite';
/**
 * A step: a command; a command after which the scheduled job `starts` (Redis starts it on serverCron's
 * next run, within 100 ms; the engine when EXEC ends); or "the running background job `done` ends
 * well, and the scheduled `next` starts".
 */
type Step = string[] | { cmd: string[]; starts: Job } | { done: Job; next: Job | null };

/** One side of the comparison. */
interface Side {
  cmd(...args: string[]): Promise<string>;
  /** The scheduled job has started. */
  started(job: Job): Promise<void>;
  finishJob(done: Job, next: Job | null): Promise<void>;
  fields(): Promise<Record<string, string>>;
  close(): Promise<void>;
}

const COMPARED = [
  'rdb_changes_since_last_save',
  'rdb_bgsave_in_progress',
  'rdb_last_bgsave_status',
  'rdb_current_bgsave_time_sec',
  'rdb_saves',
  'aof_rewrite_in_progress',
  'aof_rewrite_scheduled',
  'aof_current_rewrite_time_sec',
  'aof_last_bgrewrite_status',
  'aof_rewrites',
];

/** The compared INFO persistence fields; durations only as running (≥ 0) or not (-1). */
function pick(info: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of info.split('\r\n')) {
    const [k, v] = line.split(':');
    if (COMPARED.includes(k)) out[k] = k.endsWith('_time_sec') ? (v === '-1' ? '-1' : 'running') : v;
  }
  return out;
}

async function redisSide(port: number): Promise<Side> {
  const c: RawClient = await connectRaw(port);
  const control: RawClient = await connectRaw(port); // INFO outside the client's MULTI
  const send = async (...args: string[]) => text(await c.send(args));
  const info = async () => text(await control.send(['INFO', 'persistence']));
  const running = async (job: Job) =>
    new RegExp(job === 'bgsave' ? 'rdb_bgsave_in_progress:1' : 'aof_rewrite_in_progress:1').test(await info());
  const until = async (what: string, cond: () => Promise<boolean>) => {
    for (let i = 0; i < 1000; i++) {
      if (await cond()) return;
      await sleep(5);
    }
    throw new Error(`redis-server: ${what} did not happen`);
  };
  return {
    cmd: send,
    async started(job) {
      await until(`${job} started`, () => running(job));
    },
    async finishJob(done, next) {
      // a job scheduled by EXEC starts on serverCron's next run
      await until(`${done} running`, () => running(done));
      await until(`${done} finished`, async () => !(await running(done)));
      if (next) await until(`${next} started`, () => running(next));
    },
    async fields() {
      return pick(await info());
    },
    async close() {
      await c.close();
      await control.close();
    },
  };
}

/** The engine with this file as its host: a SAVE is written at once, background jobs when told. */
async function engineSide(): Promise<Side> {
  const e = await engine();
  let running: Job | null = null;
  const take = () => {
    const r = e.raw.takeRequests();
    if (r & JobKind.SAVE) {
      e.raw.jobDone(JobKind.SAVE, JobStatus.OK, e.now);
      e.ready();
    }
    if (r & JobKind.BGSAVE) running = 'bgsave';
    if (r & JobKind.REWRITE) running = 'rewrite';
  };
  return {
    async cmd(...args) {
      const [, out] = e.feed(1, ...args);
      take(); // a SAVE is answered once written
      return out + text(e.raw.readAll(1));
    },
    async started(job) {
      expect(running, 'the scheduled job').toBe(job);
    },
    async finishJob(done, next) {
      expect(running, 'the running job').toBe(done);
      running = null;
      e.advance(1000);
      expect(e.raw.jobDone(done === 'bgsave' ? JobKind.BGSAVE : JobKind.REWRITE, JobStatus.OK, e.now)).toBe(0);
      take();
      expect(running, 'the job started after it').toBe(next);
    },
    async fields() {
      return pick(e.run(3, 'INFO', 'persistence'));
    },
    async close() {},
  };
}

describe('persistence job replies and INFO vs redis-server 7.0.15', () => {
  let redis: RedisHandle;
  beforeAll(async () => {
    // every key takes 300 ms to save: with the two keys below a background job runs ~0.6 s
    redis = await startRedis({ args: ['--rdb-key-save-delay', '300000'] });
  }, 60_000);
  afterAll(async () => {
    await redis?.stop();
  });

  it('SAVE, BGSAVE [SCHEDULE], BGREWRITEAOF and MULTI give the same replies and job state', async () => {
    const sides = [await redisSide(redis.port), await engineSide()];
    const steps: Step[] = [
      ['FLUSHALL'],
      ['XADD', 's', '1-1', 'f', 'v'],
      ['SET', 'k', 'v'],
      ['SAVE'],
      ['CONFIG', 'RESETSTAT'],
      ['XADD', 's', '2-1', 'f', 'v'],
      ['BGSAVE', 'x'],
      ['BGSAVE'],
      ['BGSAVE'],
      ['BGSAVE', 'SCHEDULE'],
      ['SAVE'],
      ['BGREWRITEAOF'],
      ['XADD', 's', '3-1', 'f', 'v'],
      { done: 'bgsave', next: 'rewrite' },
      ['BGREWRITEAOF'],
      ['BGSAVE'],
      ['BGSAVE', 'SCHEDULE'],
      { done: 'rewrite', next: 'bgsave' },
      { done: 'bgsave', next: null },
      ['MULTI'],
      ['SAVE'],
      ['EXEC'],
      ['MULTI'],
      ['BGREWRITEAOF'],
      { cmd: ['EXEC'], starts: 'rewrite' },
      { done: 'rewrite', next: null },
      ['SAVE'],
      ['XADD', 's', '4-1', 'f', 'v'],
    ];
    try {
      for (const step of steps) {
        const label = Array.isArray(step) ? step.join(' ') : 'cmd' in step ? step.cmd.join(' ') : `${step.done} finished`;
        const got: Array<{ reply: string; fields: Record<string, string> }> = [];
        for (const side of sides) {
          let reply = '';
          if (Array.isArray(step)) reply = await side.cmd(...step);
          else if ('cmd' in step) {
            reply = await side.cmd(...step.cmd);
            await side.started(step.starts);
          } else await side.finishJob(step.done, step.next);
          got.push({ reply, fields: await side.fields() });
        }
        expect(got[1].reply, `reply to ${label}`).toBe(got[0].reply);
        expect(got[1].fields, `INFO persistence after ${label}`).toEqual(got[0].fields);
      }
    } finally {
      for (const s of sides) await s.close();
    }
  }, 90_000);
});
