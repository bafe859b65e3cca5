/**
 * Headless Chromium for the browser tests: Debian's /usr/bin/chromium (installed by
 * scripts/ensure-deps.sh; `RIVULET_CHROMIUM` overrides), started by us with a profile directory and
 * `--remote-debugging-port=0`, driven by playwright-core over CDP, and stopped by its pid.
 * Starting it ourselves gives the tests the pid (a crash is a SIGKILL of the browser's process
 * group) and a real profile on disk, so a second launch on the same directory is a browser restart
 * with OPFS and IndexedDB kept — what `launchPersistentContext` does, with the process in our hands.
 *
 *   const chrome = await launchChromium();            // temp profile, removed by stop()
 *   const page = await chrome.context.newPage();
 *   await chrome.stop();                              // Browser.close, then SIGKILL if it lingers
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext } from 'playwright-core';

export const CHROMIUM = process.env.RIVULET_CHROMIUM ?? '/usr/bin/chromium';

/** Flags for a quiet, deterministic headless browser in a container (no sandbox: we run as root). */
export const CHROMIUM_FLAGS = [
  '--headless=new',
  '--no-sandbox',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-default-apps',
  '--disable-extensions',
  '--disable-sync',
  '--disable-gpu',
  '--disable-dev-shm-usage',
  '--no-first-run',
  '--no-default-browser-check',
  '--metrics-recording-only',
  '--mute-audio',
  '--password-store=basic',
];

export interface LaunchOptions {
  /** The profile directory (kept by stop()); default a temp one that stop() removes. */
  userDataDir?: string;
  args?: string[];
  /** Give up waiting for the DevTools endpoint after this long (default 30 s). */
  timeoutMs?: number;
}

export interface Chromium {
  pid: number;
  browser: Browser;
  /** The profile's default context (its storage lives in userDataDir). */
  context: BrowserContext;
  userDataDir: string;
  /** Closes the browser (Browser.close), SIGKILLs its process group if it has not exited in 5 s. */
  stop(): Promise<void>;
  /** SIGKILL now: the browser crashes, as far as the pages and the profile can tell. */
  kill(): Promise<void>;
}

const live = new Set<ChildProcess>();
let hooked = false;

function killGroup(p: ChildProcess): void {
  if (p.exitCode !== null || p.signalCode !== null || !p.pid) return;
  try {
    process.kill(-p.pid, 'SIGKILL'); // its renderers, GPU and zygote processes too
  } catch {
    try {
      p.kill('SIGKILL');
    } catch {
      /* gone */
    }
  }
}

function exited(p: ChildProcess, ms: number): Promise<boolean> {
  if (p.exitCode !== null || p.signalCode !== null) return Promise.resolve(true);
  return new Promise((res) => {
    const t = setTimeout(() => res(false), ms);
    p.once('exit', () => {
      clearTimeout(t);
      res(true);
    });
  });
}

export async function launchChromium(opts: LaunchOptions = {}): Promise<Chromium> {
  if (!existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM}: run scripts/ensure-deps.sh (installs Debian's chromium) or set RIVULET_CHROMIUM`);
  if (!hooked) {
    hooked = true;
    process.once('exit', () => {
      for (const p of live) killGroup(p);
    });
  }
  const ownDir = opts.userDataDir === undefined;
  const userDataDir = opts.userDataDir ?? mkdtempSync(join(tmpdir(), 'rivulet-chromium-'));
  const proc = spawn(CHROMIUM, [...CHROMIUM_FLAGS, '--remote-debugging-port=0', `--user-data-dir=${userDataDir}`, ...(opts.args ?? []), 'about:blank'], {
    detached: true, // its own process group, so stop() reaches every child by one pid
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  live.add(proc);
  proc.once('exit', () => live.delete(proc));
  let endpoint: string;
  try {
    endpoint = await new Promise<string>((res, rej) => {
      let err = '';
      const t = setTimeout(() => rej(new Error(`Chromium did not start in ${opts.timeoutMs ?? 30000} ms:\n${err}`)), opts.timeoutMs ?? 30000);
      proc.stderr!.on('data', (d: Buffer) => {
        err += d.toString();
        const m = /DevTools listening on (ws:\/\/\S+)/.exec(err);
        if (m) {
          clearTimeout(t);
          res(m[1]);
        }
      });
      proc.once('exit', (code, sig) => {
        clearTimeout(t);
        rej(new Error(`Chromium exited at start (${code ?? sig}):\n${err}`));
      });
    });
  } catch (e) {
    killGroup(proc);
    if (ownDir) rmSync(userDataDir, { recursive: true, force: true });
    throw e;
  }
  proc.stderr!.resume(); // keep draining it
  const browser = await chromium.connectOverCDP(endpoint);
  const context = browser.contexts()[0];
  const cleanup = async () => {
    if (ownDir) rmSync(userDataDir, { recursive: true, force: true, maxRetries: 3 });
  };
  return {
    pid: proc.pid!,
    browser,
    context,
    userDataDir,
    async stop() {
      await Promise.race([browser.close().catch(() => {}), new Promise((r) => setTimeout(r, 5000))]);
      if (!(await exited(proc, 5000))) killGroup(proc);
      await exited(proc, 5000);
      await cleanup();
    },
    async kill() {
      killGroup(proc);
      await exited(proc, 5000);
      await browser.close().catch(() => {});
      await cleanup();
    },
  };
}
