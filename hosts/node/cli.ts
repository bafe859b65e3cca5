/**
 * `rivulet` command line: `rivulet [serve] [config-file] [--setting value ...]`, `rivulet check-aof
 * [--fix] <file>`, `--help`, `--version`. Exit codes: 0 after a clean shutdown (SIGTERM, SIGINT,
 * SHUTDOWN), 1 on a start-up error (bad config, corrupt AOF, port in use) or a fatal runtime error,
 * 2 on bad usage.
 */
import { readFileSync, existsSync, realpathSync } from 'node:fs';
import { basename, dirname, isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RawEngine } from '../../bindings/raw.js';
import { parseArgv, loadConfiguration, helpText, ConfigError, type ConfigFiles } from '../shared/settings.js';
import { checkAof } from '../shared/check-aof.js';
import { FileStorage } from './fs-storage.js';
import { RivuletServer, nodeLogger } from './server.js';
import { findWasm } from './wasm.js';

/** redis.conf files and their `include`s, from disk. */
export const configFiles: ConfigFiles = {
  read: (path) => readFileSync(path, 'utf8'),
  resolve: (from, name) => (isAbsolute(name) ? name : resolve(dirname(from), name)),
};

/** Set by scripts/build-server.mjs (esbuild define); absent when run from source. */
declare const __RIVULET_VERSION__: string | undefined;

/** The package version: defined by the server bundle, read from package.json when run from source. */
export function packageVersion(): string {
  if (typeof __RIVULET_VERSION__ === 'string') return __RIVULET_VERSION__;
  return String(JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')).version);
}

export async function main(argv: string[]): Promise<number> {
  const version = packageVersion();
  let cmd;
  try {
    cmd = parseArgv(argv);
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n`);
    return 2;
  }
  if (cmd.command === 'help') {
    process.stdout.write(helpText(version));
    return 0;
  }
  if (cmd.command === 'version') {
    process.stdout.write(`Rivulet server v=${version} node=${process.version}\n`);
    return 0;
  }
  if (cmd.command === 'check-aof') {
    const raw = await RawEngine.instantiate(await WebAssembly.compile(readFileSync(findWasm())));
    return checkAof(raw, new FileStorage(dirname(resolve(cmd.file))), basename(cmd.file), cmd.file, cmd.fix, (s) => process.stdout.write(s + '\n'));
  }

  let opts;
  try {
    opts = loadConfiguration(cmd, configFiles, (p) => resolve(process.cwd(), p));
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`\n${e.message}\n`);
      return 1;
    }
    throw e;
  }
  // signal handlers first: a signal that arrives while loading ends the process at once (nothing
  // was written yet); afterwards it triggers the graceful shutdown
  let server: RivuletServer | null = null;
  let signals = 0;
  const onSignal = (sig: string) => {
    signals++;
    if (!server) {
      nodeLogger('notice', opts.values.get('logfile')!.value).warn(`Received ${sig} during start-up, exiting now.`);
      process.exit(0);
    }
    if (signals > 1) {
      server.log.warn(`You insist... exiting now (${sig}).`);
      process.exit(1);
    }
    void server.shutdown(`Received ${sig} scheduling shutdown...`);
  };
  process.on('SIGTERM', () => onSignal('SIGTERM'));
  process.on('SIGINT', () => onSignal('SIGINT'));
  process.on('SIGPIPE', () => {});
  try {
    server = await RivuletServer.start(opts, version);
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`\n${e.message}\n`);
      return 1;
    }
    nodeLogger('notice', opts.values.get('logfile')!.value).warn(`Fatal error starting Rivulet: ${(e as Error).message}`);
    return 1;
  }
  return server.exited;
}

const isMain = (() => {
  try {
    return process.argv[1] !== undefined && realpathSync(resolve(process.argv[1])) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
})();

if (isMain || (globalThis as { __RIVULET_CLI__?: boolean }).__RIVULET_CLI__) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (e) => {
      process.stderr.write(`${(e as Error).stack ?? e}\n`);
      process.exit(1);
    },
  );
}
