/**
 * Test support for rivulet-device (the device host's POSIX port): the binaries `npm test` builds
 * with scripts/build-device.mjs into build/device/<target>/, started as child processes on a port
 * the OS picks (`--port 0`, read back from the "Listening on" log line). The armhf build runs
 * under qemu-arm (qemu-user) with Debian's armhf libraries.
 *
 *   const dev = await startDevice({ target: 'x86', args: ['--appendfsync', 'always'] });
 *   ... dev.port ...
 *   await dev.stop();     // SIGTERM, resolves with the exit code
 *   await dev.kill9();
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from '../server/support.ts';

export type DeviceTarget = 'x86_64' | 'x86' | 'armhf';

export function deviceBinary(target: DeviceTarget, variant = ''): string {
  return join(ROOT, 'build/device', `${target}${variant}`, 'rivulet-device');
}

/** How to run a target's binary here: directly, or under qemu-arm with the armhf sysroot. */
function command(target: DeviceTarget, variant: string): [string, string[]] {
  const bin = deviceBinary(target, variant);
  if (!existsSync(bin)) throw new Error(`${bin} is missing: npm test builds it (node scripts/build-device.mjs ${target})`);
  if (target === 'armhf') return ['qemu-arm', ['-L', '/usr/arm-linux-gnueabihf', bin]];
  return [bin, []];
}

const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const c of live) {
    try {
      process.kill(c.pid!, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
});

const dirs: string[] = [];
export function deviceTempDir(prefix = 'rivulet-dev-'): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  dirs.push(d);
  return d;
}

export async function cleanupDevices(): Promise<void> {
  const waits: Array<Promise<unknown>> = [];
  for (const c of live) {
    if (c.exitCode !== null || c.signalCode !== null) continue;
    waits.push(new Promise((r) => c.once('exit', r)));
    try {
      process.kill(c.pid!, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
  await Promise.all(waits);
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
}

export interface Device {
  port: number;
  dir: string;
  child: ChildProcess;
  output(): string;
  exited: Promise<number | string | null>;
  stop(): Promise<number | string | null>;
  kill9(): Promise<void>;
}

export interface DeviceOptions {
  target?: DeviceTarget;
  /** Build variant suffix ("-notail"). */
  variant?: string;
  dir?: string;
  args?: string[];
  timeoutMs?: number;
}

export async function startDevice(opts: DeviceOptions = {}): Promise<Device> {
  const target = opts.target ?? 'x86_64';
  const dir = opts.dir ?? deviceTempDir();
  const [cmd, pre] = command(target, opts.variant ?? '');
  const child = spawn(cmd, [...pre, '--port', '0', '--dir', dir, ...(opts.args ?? [])], { stdio: ['ignore', 'pipe', 'pipe'] });
  live.add(child);
  let out = '';
  child.stdout!.on('data', (d) => (out += d.toString()));
  child.stderr!.on('data', (d) => (out += d.toString()));
  const exited = new Promise<number | string | null>((res) =>
    child.once('exit', (code, sig) => {
      live.delete(child);
      res(code ?? sig);
    }),
  );
  const timeoutMs = opts.timeoutMs ?? 30000;
  const port = await new Promise<number>((res, rej) => {
    const timer = setTimeout(() => rej(new Error(`rivulet-device did not start within ${timeoutMs} ms:\n${out}`)), timeoutMs);
    const check = () => {
      const m = /Listening on [^\n]*:(\d+) \(TCP\)/.exec(out);
      if (m && out.includes('Ready to accept connections')) {
        clearTimeout(timer);
        res(Number(m[1]));
      }
    };
    child.stdout!.on('data', check);
    exited.then((code) => {
      clearTimeout(timer);
      rej(new Error(`rivulet-device exited (${code}) before listening:\n${out}`));
    });
  });
  return {
    port,
    dir,
    child,
    output: () => out,
    exited,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode ?? child.signalCode;
      process.kill(child.pid!, 'SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 15000);
      const code = await exited;
      clearTimeout(t);
      return code;
    },
    async kill9() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      process.kill(child.pid!, 'SIGKILL');
      await exited;
    },
  };
}

/** Runs a device binary to completion (--help, a start-up that must fail). */
export function runDevice(args: string[], target: DeviceTarget = 'x86_64'): { code: number | null; out: string } {
  const [cmd, pre] = command(target, '');
  const r = spawnSync(cmd, [...pre, ...args], { encoding: 'utf8', timeout: 30000 });
  return { code: r.status, out: (r.stdout ?? '') + (r.stderr ?? '') };
}

/** INFO field of a device (e.g. device_native_stack_peak). */
export function infoField(info: string, field: string): string | undefined {
  return new RegExp(`^${field}:(.*)\\r?$`, 'm').exec(info)?.[1]?.trim();
}
