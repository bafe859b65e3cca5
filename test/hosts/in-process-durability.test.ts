/**
 * An in-process engine is durable without the server:
 * - `createEngine({ dir, appendfsync: 'always' })` in a child process writing as fast as it can is
 *   SIGKILLed at a random moment, 8 rounds: every write whose call returned is there afterwards;
 * - a directory written in-process is served by `rivulet serve` with identical XRANGE and XINFO
 *   STREAM FULL output, and a directory written by the server opens in-process the same way;
 * - one owner per directory: a server refuses a directory an engine holds (naming its pid), an
 *   engine refuses one a server holds, a second server refuses too.
 */
import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Redis as IORedis } from 'ioredis';
import { createEngine } from '../../bindings/entry.node.ts';
import { StorageLockedError } from '../../hosts/shared/storage.ts';
import { ROOT, cleanupTempDirs, startRivulet, tempDir, sleep, CLI, buildServer } from '../server/support.ts';

afterAll(() => cleanupTempDirs());

const WASM = join(ROOT, 'build/rivulet.wasm');
const ROUNDS = 8;
const T = 1_700_000_000_000;

/** Bundles the child writer (TypeScript) once into a temp dir. */
function writerBundle(): string {
  const out = join(tempDir('rivulet-writer-'), 'writer.mjs');
  const r = spawnSync(
    process.execPath,
    [
      '-e',
      `require('esbuild').buildSync({ entryPoints: [${JSON.stringify(join(ROOT, 'test/hosts/fixtures/inproc-writer.ts'))}], outfile: ${JSON.stringify(out)}, bundle: true, format: 'esm', platform: 'node', logLevel: 'warning' })`,
    ],
    { cwd: ROOT, encoding: 'utf8' },
  );
  if (r.status !== 0) throw new Error(r.stderr);
  return out;
}

function run(script: string, args: string[]): { child: ReturnType<typeof spawn>; lines: string[]; done: Promise<number | null> } {
  const child = spawn(process.execPath, [script, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  let partial = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => {
    const parts = (partial + d.toString()).split('\n');
    partial = parts.pop()!;
    lines.push(...parts);
  });
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const done = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  void done.then(() => {
    if (partial) lines.push(partial);
    if (err) lines.push(`stderr: ${err}`);
  });
  return { child, lines, done };
}

describe('in-process durability', () => {
  it(`appendfsync always: no write whose call returned is lost across SIGKILL (${ROUNDS} rounds)`, async () => {
    const script = writerBundle();
    const dir = tempDir('rivulet-inproc-kill-');
    const acked: string[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const w = run(script, [dir, WASM, 'write']);
      const target = acked.length + 200 + Math.floor(Math.random() * 2000);
      for (let i = 0; i < 400 && acked.length + w.lines.length < target; i++) await sleep(5);
      w.child.kill('SIGKILL');
      await w.done;
      acked.push(...w.lines.filter((l) => /^\d+-\d+$/.test(l)));
      const d = run(script, [dir, WASM, 'dump']);
      expect(await d.done, d.lines.join('\n')).toBe(0);
      const present = new Set(JSON.parse(d.lines.join('')) as string[]);
      const lost = acked.filter((id) => !present.has(id));
      expect(lost, `round ${round}`).toEqual([]);
    }
    expect(acked.length).toBeGreaterThan(ROUNDS * 100);
  }, 120_000);
});

async function dumpViaServer(port: number): Promise<string[]> {
  const r = new IORedis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0 });
  await r.connect();
  const out = [
    JSON.stringify(await r.call('XRANGE', 's', '-', '+')),
    JSON.stringify(await r.call('XINFO', 'STREAM', 's', 'FULL')),
  ];
  r.disconnect();
  return out;
}

describe('one data directory, either host', () => {
  it('a directory written in-process is served by rivulet serve with identical output, and back', async () => {
    const dir = tempDir('rivulet-interop-');
    const clock = () => T;
    const a = await createEngine({ dir, clock });
    const c = a.connect();
    for (let i = 0; i < 50; i++) c.xadd('s', { i, v: `v${i}` });
    c.call('XGROUP', 'CREATE', 's', 'g', '0');
    c.call('XREADGROUP', 'GROUP', 'g', 'alice', 'COUNT', '5', 'STREAMS', 's', '>');
    c.call('XACK', 's', 'g', String((c.call('XRANGE', 's', '-', '+', 'COUNT', '1') as unknown as [[string]])[0][0]));
    c.call('XDEL', 's', String((c.call('XRANGE', 's', '-', '+') as unknown as string[][])[10][0]));
    const inProcess = [JSON.stringify(c.call('XRANGE', 's', '-', '+')), JSON.stringify(c.call('XINFO', 'STREAM', 's', 'FULL'))];
    await a.close();

    const srv = await startRivulet({ dir });
    const served = await dumpViaServer(srv.port);
    expect(served[0]).toBe(inProcess[0]);
    // XINFO FULL holds times: the server's clock is real, so compare with them masked
    const mask = (s: string) => s.replace(/"(seen-time|active-time|delivery-time)",\d+/g, '"$1",T').replace(/,(\d{13}),/g, ',T,');
    expect(mask(served[1])).toBe(mask(inProcess[1]));
    // the server appends; the engine opens what it wrote
    const r = new IORedis({ port: srv.port, host: '127.0.0.1', lazyConnect: true });
    await r.connect();
    await r.xadd('s', '*', 'from', 'server');
    const afterServer = [JSON.stringify(await r.call('XRANGE', 's', '-', '+')), JSON.stringify(await r.call('XINFO', 'STREAM', 's', 'FULL'))];
    r.disconnect();
    expect(await srv.stop()).toBe(0);
    const b = await createEngine({ dir });
    const d = b.connect();
    expect(JSON.stringify(d.call('XRANGE', 's', '-', '+'))).toBe(afterServer[0]);
    expect(mask(JSON.stringify(d.call('XINFO', 'STREAM', 's', 'FULL')))).toBe(mask(afterServer[1]));
    await b.close();
  }, 60_000);

  it('one owner per directory: server vs engine vs server, with the holder named', async () => {
    const dir = tempDir('rivulet-owner-');
    const engine = await createEngine({ dir });
    buildServer();
    const refused = spawnSync(process.execPath, [CLI, '--port', '0', '--dir', dir], { encoding: 'utf8', timeout: 20_000 });
    expect(refused.status).toBe(1);
    expect(refused.stdout + refused.stderr).toContain(`is in use by pid ${process.pid}`);
    await engine.close();
    const srv = await startRivulet({ dir });
    await expect(createEngine({ dir })).rejects.toThrow(StorageLockedError);
    await expect(createEngine({ dir })).rejects.toThrow(`in use by pid ${srv.pid}`);
    const second = spawnSync(process.execPath, [CLI, '--port', '0', '--dir', dir], { encoding: 'utf8', timeout: 20_000 });
    expect(second.status).toBe(1);
    expect(second.stdout + second.stderr).toContain(`is in use by pid ${srv.pid}`);
    expect(await srv.stop()).toBe(0);
    // a SIGKILLed owner leaves a stale lock: the next one takes it over
    const killed = await startRivulet({ dir });
    await killed.kill9();
    const next = await createEngine({ dir });
    await next.close();
  }, 60_000);
});
