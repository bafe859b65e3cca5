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
import { parseArgv, loadOptions, helpText, ConfigError, type ConfigFiles } from '../shared/settings.js';
import { scanFile, replayFile, CorruptFileError } from '../shared/replay.js';
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

export function packageVersion(): string {
  if (typeof __RIVULET_VERSION__ === 'string') return __RIVULET_VERSION__;
  const here = dirname(fileURLToPath(import.meta.url));
  for (const p of [resolve(here, '../../package.json'), resolve(here, '../package.json')]) {
    if (!existsSync(p)) continue;
    try {
      const pkg = JSON.parse(readFileSync(p, 'utf8'));
      if (pkg.name === 'rivulet' && pkg.version) return String(pkg.version);
    } catch {
      /* ignore */
    }
  }
  return '0.0.0';
}

async function checkAof(file: string, fix: boolean): Promise<number> {
  const out = (s: string) => process.stdout.write(s + '\n');
  let validLength: number;
  let problem: string | null = null;
  const storage = new FileStorage(dirname(resolve(file)));
  const name = basename(file);
  try {
    const scan = await scanFile(storage, name);
    validLength = scan.validLength;
    if (scan.torn) problem = `torn last record: ${scan.torn} at offset ${scan.validLength} (${scan.size - scan.validLength} bytes)`;
    out(`${file}: ${scan.commands} commands, ${scan.size} bytes, RESP format ${scan.torn ? 'valid up to ' + scan.validLength : 'ok'}`);
    if (!scan.torn) {
      // replay it into a scratch engine: every command must succeed
      const raw = await RawEngine.instantiate(await WebAssembly.compile(readFileSync(findWasm())));
      try {
        await replayFile(raw, storage, name, 'file', { log: nodeLogger('warning', '') });
        out('replay: every command succeeded');
      } catch (e) {
        if (!(e instanceof CorruptFileError)) throw e;
        problem = `${e.reason} (command at offset ${e.offset})`;
        validLength = e.validLength;
      }
    }
  } catch (e) {
    if (!(e instanceof CorruptFileError)) throw e;
    problem = `${e.reason} at offset ${e.offset}`;
    validLength = e.validLength;
  }
  if (!problem) {
    out('AOF is valid');
    return 0;
  }
  out(`AOF is not valid: ${problem}`);
  if (!fix) {
    out(`'rivulet check-aof --fix ${file}' would truncate it to ${validLength} bytes`);
    return 1;
  }
  storage.truncate(name, validLength);
  out(`Successfully truncated AOF to ${validLength} bytes`);
  return 0;
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
  if (cmd.command === 'check-aof') return checkAof(cmd.file, cmd.fix);

  let opts;
  try {
    opts = loadOptions(cmd, configFiles, (p) => resolve(process.cwd(), p));
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
      nodeLogger('notice', opts.logfile).warn(`Received ${sig} during start-up, exiting now.`);
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
    nodeLogger('notice', opts.logfile).warn(`Fatal error starting Rivulet: ${(e as Error).message}`);
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
