/**
 * rivulet-device as a user would try it: redis-cli and redis-py against it, a blocking XREADGROUP
 * woken by another client, requirepass, INFO's device lines, the command line, one owner per data
 * directory.
 */
import { describe, it, expect, afterAll } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { redisCli, findPythonWithRedis, sleep } from '../server/support.ts';
import { startDevice, cleanupDevices, runDevice, deviceTempDir, infoField } from './support.ts';

afterAll(() => cleanupDevices());

describe('rivulet-device with redis-cli', () => {
  it('answers PING, XADD, XRANGE, XINFO and INFO; shuts down cleanly', async () => {
    const dev = await startDevice();
    expect(redisCli(dev.port, ['PING'])).toBe('PONG\n');
    expect(redisCli(dev.port, ['XADD', 's', '1-1', 'temp', '21.5'])).toBe('1-1\n');
    expect(redisCli(dev.port, ['XADD', 's', '2-1', 'temp', '22'])).toBe('2-1\n');
    expect(redisCli(dev.port, ['XRANGE', 's', '-', '+'])).toBe('1-1\ntemp\n21.5\n2-1\ntemp\n22\n');
    expect(redisCli(dev.port, ['XLEN', 's'])).toBe('2\n');
    const info = redisCli(dev.port, ['INFO']);
    expect(infoField(info, 'rivulet_host')).toBe('device-posix');
    expect(Number(infoField(info, 'device_native_stack_peak'))).toBeGreaterThan(1000);
    expect(Number(infoField(info, 'device_heap_used'))).toBeGreaterThan(100_000);
    expect(infoField(info, 'aof_enabled')).toBe('1');
    expect(Number(infoField(info, 'tcp_port'))).toBe(dev.port);
    expect(await dev.stop()).toBe(0);
    expect(dev.output()).toMatch(/Rivulet is now ready to exit/);
  });

  it('wakes a blocking XREADGROUP when another client adds', async () => {
    const dev = await startDevice();
    expect(redisCli(dev.port, ['XGROUP', 'CREATE', 'jobs', 'g', '$', 'MKSTREAM'])).toBe('OK\n');
    const reader = spawn('redis-cli', ['-p', String(dev.port), 'XREADGROUP', 'GROUP', 'g', 'c1', 'BLOCK', '10000', 'STREAMS', 'jobs', '>']);
    let out = '';
    reader.stdout.on('data', (d) => (out += d));
    const done = new Promise<number | null>((r) => reader.once('exit', r));
    // the reader is parked before the write
    for (let i = 0; i < 100 && !/blocked_clients:1/.test(redisCli(dev.port, ['INFO', 'clients'])); i++) await sleep(20);
    expect(redisCli(dev.port, ['INFO', 'clients'])).toMatch(/blocked_clients:1/);
    const t0 = Date.now();
    expect(redisCli(dev.port, ['XADD', 'jobs', '5-1', 'task', 'wash'])).toBe('5-1\n');
    expect(await done).toBe(0);
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(out).toBe('jobs\n5-1\ntask\nwash\n');
    expect(redisCli(dev.port, ['XPENDING', 'jobs', 'g'])).toBe('1\n5-1\n5-1\nc1\n1\n');
    // a BLOCK timeout goes through the deadline timer
    const t1 = Date.now();
    expect(redisCli(dev.port, ['XREAD', 'BLOCK', '200', 'STREAMS', 'jobs', '$'])).toBe('\n');
    expect(Date.now() - t1).toBeGreaterThanOrEqual(190);
    expect(await dev.stop()).toBe(0);
  });

  it('asks for AUTH with --requirepass', async () => {
    const dev = await startDevice({ args: ['--requirepass', 's3cret'] });
    expect(redisCli(dev.port, ['XLEN', 's'])).toMatch(/^NOAUTH Authentication required/);
    expect(redisCli(dev.port, ['-a', 's3cret', '--no-auth-warning', 'XLEN', 's'])).toBe('0\n');
    expect(redisCli(dev.port, ['AUTH', 'wrong'])).toMatch(/^WRONGPASS invalid username-password pair/);
    expect(await dev.stop()).toBe(0);
  });

  it('serves redis-py (pipelines, XREADGROUP, XAUTOCLAIM)', async () => {
    const dev = await startDevice();
    const py = findPythonWithRedis();
    const script = `
import redis, sys
r = redis.Redis(port=int(sys.argv[1]))
p = r.pipeline()
for i in range(50): p.xadd("t", {"n": i})
ids = p.execute()
assert len(ids) == 50 and r.xlen("t") == 50
r.xgroup_create("t", "g", id="0")
got = r.xreadgroup("g", "c", {"t": ">"}, count=10)
assert len(got[0][1]) == 10
nxt, claimed, deleted = r.xautoclaim("t", "g", "c2", 0, "0-0", count=5)
assert len(claimed) == 5
print("ok", r.xinfo_stream("t")["length"])
`;
    const r = spawnSync(py, ['-c', script, String(dev.port)], { encoding: 'utf8', timeout: 30000 });
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('ok 50\n');
    expect(await dev.stop()).toBe(0);
  });

  it('refuses a data directory another live owner holds, and bad arguments', async () => {
    const dev = await startDevice();
    const second = runDevice(['--port', '0', '--dir', dev.dir]);
    expect(second.code).toBe(1);
    expect(second.out).toMatch(/is in use by pid \d+; one engine or server owns a directory at a time/);
    expect(await dev.stop()).toBe(0);
    expect(runDevice(['--appendfsync', 'sometimes']).code).toBe(2);
    expect(runDevice(['--nope']).out).toMatch(/unknown option '--nope'/);
    const help = runDevice(['--help']);
    expect(help.code).toBe(0);
    expect(help.out).toMatch(/--memory-budget <bytes>/);
    expect(runDevice(['--port', '0', '--dir', deviceTempDir(), '--memory-budget', '100000']).out).toMatch(/--memory-budget 100000 is too small/);
  });
});
