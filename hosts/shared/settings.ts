/**
 * Reading a configuration: redis.conf-style files, command-line flags (`--port 6380`, like
 * redis-server) and `--help` text — shared by every host that reads one (the Node server today).
 *
 * Every setting has one name, used alike in a config file (`port 6380`), on the command line
 * (`--port 6380`) and with CONFIG GET/SET. Precedence: host defaults < config file < command line.
 *
 * The host validates nothing: the engine holds the one settings registry (Redis's types, bounds,
 * defaults and error texts), and `applySettings` hands every value to it with CONFIG SET on the
 * host's internal connection — so a bad value in a file, on the command line and in CONFIG SET gets
 * the same error. Typed values are read back from the engine (`readOptions`).
 */

import type { FsyncPolicy } from './aof.js';
import type { PersistenceSettings } from './persistence.js';

/** How a host reads configuration files (Node: fs; elsewhere: whatever holds them). */
export interface ConfigFiles {
  read(path: string): string;
  /** `name` of an `include` line, relative to the including file `from`. */
  resolve(from: string, name: string): string;
}

/** How a directive's arguments become one value: `bool` (a bare flag means yes), `list` (several joined), else one. */
export type Kind = 'int' | 'memory' | 'bool' | 'enum' | 'string' | 'save' | 'bind';

/** A setting as the host documents it: its name, the host's default and the --help line. */
export interface SettingDef {
  name: string;
  kind: Kind;
  /** The host's default (where it differs from Redis's, e.g. appendonly yes, dir ./data). */
  default: string;
  /** Placeholder in --help. */
  arg: string;
  help: string;
}

export const SETTINGS: SettingDef[] = [
  // network
  { name: 'port', kind: 'int', default: '6379', arg: '<port>',
    help: 'TCP port to listen on. 0 = any free port (the chosen port is logged).' },
  { name: 'bind', kind: 'bind', default: '127.0.0.1', arg: '<addr> [<addr> ...]',
    help: 'Addresses to listen on (IPv4/IPv6; "*" = all IPv4, "::*" = all IPv6; a leading "-" makes an address optional).' },
  { name: 'protected-mode', kind: 'bool', default: 'yes', arg: 'yes|no',
    help: 'When no requirepass is set and bind is not loopback-only, refuse clients that are not on loopback.' },
  { name: 'requirepass', kind: 'string', default: '', arg: '<password>',
    help: 'Password of the default user (AUTH <password>). Empty = no password.' },
  { name: 'maxclients', kind: 'int', default: '10000', arg: '<n>',
    help: 'Maximum number of connected clients; further connections get "-ERR max number of clients reached".' },
  { name: 'timeout', kind: 'int', default: '0', arg: '<seconds>',
    help: 'Close a client after this many idle seconds (0 = never; blocked clients are exempt).' },
  { name: 'tcp-keepalive', kind: 'int', default: '300', arg: '<seconds>',
    help: 'TCP keepalive interval for client sockets (0 = off).' },
  { name: 'tcp-backlog', kind: 'int', default: '511', arg: '<n>',
    help: 'listen() backlog.' },
  // memory and limits
  { name: 'maxmemory', kind: 'memory', default: '0', arg: '<bytes>',
    help: 'Memory limit for data (e.g. 100mb, 2gb); writes answer OOM beyond it. 0 = no limit.' },
  { name: 'maxmemory-policy', kind: 'enum', default: 'noeviction', arg: '<policy>',
    help: 'Accepted for compatibility; Rivulet never evicts (noeviction).' },
  { name: 'client-query-buffer-limit', kind: 'memory', default: '1gb', arg: '<bytes>',
    help: 'Close a client whose unparsed input exceeds this.' },
  { name: 'proto-max-bulk-len', kind: 'memory', default: '512mb', arg: '<bytes>',
    help: 'Largest bulk string a client may send.' },
  { name: 'stream-node-max-bytes', kind: 'memory', default: '4096', arg: '<bytes>',
    help: 'Stream node size limit in bytes (0 = no limit).' },
  { name: 'stream-node-max-entries', kind: 'int', default: '100', arg: '<n>',
    help: 'Stream node size limit in entries (0 = no limit).' },
  // persistence
  { name: 'dir', kind: 'string', default: './data', arg: '<path>',
    help: 'Data directory (created if missing) for the AOF and snapshots. Relative to the current directory.' },
  { name: 'appendonly', kind: 'bool', default: 'yes', arg: 'yes|no',
    help: 'Log every write to <dir>/<appendfilename> and replay it at start.' },
  { name: 'appendfsync', kind: 'enum', default: 'everysec', arg: 'always|everysec|no',
    help: 'always: fsync before replying to a write; everysec: fsync once a second; no: leave it to the OS.' },
  { name: 'appendfilename', kind: 'string', default: 'appendonly.aof', arg: '<name>',
    help: 'AOF file name inside dir.' },
  { name: 'aof-load-truncated', kind: 'bool', default: 'yes', arg: 'yes|no',
    help: 'yes: a torn last record of the AOF is cut off with a warning; no: refuse to start.' },
  { name: 'auto-aof-rewrite-percentage', kind: 'int', default: '100', arg: '<percent>',
    help: 'Rewrite the AOF when it grew by this percentage since the last rewrite (0 = never).' },
  { name: 'auto-aof-rewrite-min-size', kind: 'memory', default: '64mb', arg: '<bytes>',
    help: 'Do not rewrite automatically below this AOF size.' },
  { name: 'save', kind: 'save', default: '', arg: '"<seconds> <changes> ..."',
    help: 'Snapshot to <dir>/<dbfilename> after <seconds> if at least <changes> writes happened ("" = never).' },
  { name: 'dbfilename', kind: 'string', default: 'dump.rvs', arg: '<name>',
    help: 'Snapshot file name inside dir (SAVE, BGSAVE, save points).' },
  // process
  { name: 'loglevel', kind: 'enum', default: 'notice', arg: '<level>',
    help: 'debug, verbose, notice or warning.' },
  { name: 'logfile', kind: 'string', default: '', arg: '<path>',
    help: 'Append log lines to this file ("" = standard output).' },
  { name: 'pidfile', kind: 'string', default: '', arg: '<path>',
    help: 'Write the process id to this file while running.' },
  { name: 'databases', kind: 'int', default: '16', arg: '16',
    help: 'Number of databases (fixed: 16).' },
];

const BY_NAME = new Map(SETTINGS.map((s) => [s.name, s]));

/**
 * redis.conf directives that do not apply to Rivulet: accepted with a warning, so an existing
 * redis.conf can be reused. Exact names or prefixes ending in '*'.
 */
const IGNORED = [
  'hz', 'dynamic-hz', 'supervised', 'always-show-logo', 'set-proc-title', 'proc-title-template', 'syslog-*',
  'lazyfree-*', 'replica-lazy-flush', 'aof-use-rdb-preamble', 'aof-rewrite-incremental-fsync', 'aof-timestamp-enabled',
  'appenddirname', 'no-appendfsync-on-rewrite', 'rdb-*', 'rdbcompression', 'rdbchecksum', 'stop-writes-on-bgsave-error',
  'latency-*', 'slowlog-*', 'notify-keyspace-events', 'hash-max-*', 'list-*', 'set-max-*', 'zset-max-*', 'hll-*',
  'activerehashing', 'activedefrag', 'active-defrag-*', 'client-output-buffer-limit', 'jemalloc-bg-thread', 'lua-time-limit',
  'busy-reply-threshold', 'crash-log-enabled', 'crash-memcheck-enabled', 'oom-score-adj', 'oom-score-adj-values',
  'disable-thp', 'io-threads', 'io-threads-do-reads', 'tracking-table-max-keys', 'acllog-max-len', 'locale-collate',
  'replica-*', 'repl-*', 'min-replicas-*', 'cluster-*', 'maxmemory-samples', 'maxmemory-eviction-tenacity',
  'lfu-*', 'unixsocketperm', 'daemonize', 'enable-*', 'sanitize-dump-payload', 'shutdown-timeout', 'shutdown-on-*',
  'lua-*', 'stream-node-max-*-old', 'ignore-warnings',
];

function isIgnored(name: string): boolean {
  return IGNORED.some((p) => (p.endsWith('*') ? name.startsWith(p.slice(0, -1)) : name === p));
}

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

/** One directive: `name arg...` from a file (with its location) or the command line. */
export interface Directive {
  name: string;
  args: string[];
  where: string;
}

/**
 * Splits a line like Redis's sdssplitargs: whitespace-separated; "double quotes" with \n \r \t \b \a
 * \\ \" \xHH escapes; 'single quotes' with \' only. Returns null on unbalanced quotes.
 */
export function splitArgs(line: string): string[] | null {
  const out: string[] = [];
  let i = 0;
  const n = line.length;
  const space = (c: string | undefined) => c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '\v' || c === '\f';
  for (;;) {
    while (i < n && space(line[i])) i++;
    if (i >= n) return out;
    let cur = '';
    let inDq = false;
    let inSq = false;
    for (;;) {
      const c = line[i];
      if (inDq) {
        if (i >= n) return null;
        if (c === '\\' && line[i + 1] === 'x' && /^[0-9a-fA-F]{2}$/.test(line.slice(i + 2, i + 4))) {
          cur += String.fromCharCode(parseInt(line.slice(i + 2, i + 4), 16));
          i += 3;
        } else if (c === '\\' && i + 1 < n) {
          i++;
          const e = line[i];
          cur += e === 'n' ? '\n' : e === 'r' ? '\r' : e === 't' ? '\t' : e === 'b' ? '\b' : e === 'a' ? '\x07' : e;
        } else if (c === '"') {
          if (i + 1 < n && !space(line[i + 1])) return null;
          i++;
          break;
        } else cur += c;
      } else if (inSq) {
        if (i >= n) return null;
        if (c === '\\' && line[i + 1] === "'") {
          i++;
          cur += "'";
        } else if (c === "'") {
          if (i + 1 < n && !space(line[i + 1])) return null;
          i++;
          break;
        } else cur += c;
      } else {
        if (i >= n || space(c)) break;
        if (c === '"') inDq = true;
        else if (c === "'") inSq = true;
        else cur += c;
      }
      i++;
    }
    out.push(cur);
  }
}

/** Reads a redis.conf-style file into directives (follows `include`). */
export function parseConfigFile(files: ConfigFiles, path: string, depth = 0): Directive[] {
  if (depth > 16) throw new ConfigError(`include nesting too deep at ${path}`);
  let text: string;
  try {
    text = files.read(path);
  } catch (e) {
    throw new ConfigError(`Fatal error, can't open config file '${path}': ${(e as Error).message}`);
  }
  return parseConfigText(files, text, path, depth);
}

export function parseConfigText(files: ConfigFiles, text: string, path = '<config>', depth = 0): Directive[] {
  const out: Directive[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (line === '' || line.startsWith('#')) continue;
    const where = `${path}:${i + 1}`;
    const args = splitArgs(line);
    if (args === null) throw configFail(where, line, 'Unbalanced quotes in configuration line');
    if (args.length === 0) continue;
    const name = args[0].toLowerCase();
    if (name === 'include') {
      if (args.length !== 2) throw configFail(where, line, 'include needs exactly one file name');
      out.push(...parseConfigFile(files, files.resolve(path, args[1]), depth + 1));
      continue;
    }
    out.push({ name, args: args.slice(1), where: `${where}: ${line}` });
  }
  return out;
}

function configFail(where: string, line: string, why: string): ConfigError {
  return new ConfigError(`*** FATAL CONFIG FILE ERROR ***\nReading the configuration file, at ${where}\n>>> '${line}'\n${why}`);
}

export interface ServerOptions {
  port: number;
  bind: string[];
  protectedMode: boolean;
  requirepass: string;
  maxclients: number;
  timeout: number;
  tcpKeepalive: number;
  tcpBacklog: number;
  maxmemory: number;
  maxmemoryPolicy: string;
  clientQueryBufferLimit: number;
  protoMaxBulkLen: number;
  streamNodeMaxBytes: number;
  streamNodeMaxEntries: number;
  /** Absolute. */
  dir: string;
  appendonly: boolean;
  appendfsync: 'always' | 'everysec' | 'no';
  appendfilename: string;
  aofLoadTruncated: boolean;
  autoAofRewritePercentage: number;
  autoAofRewriteMinSize: number;
  /** [seconds, changes] pairs. */
  save: Array<[number, number]>;
  dbfilename: string;
  loglevel: 'debug' | 'verbose' | 'notice' | 'warning';
  logfile: string;
  pidfile: string;
  /** Absolute path of the config file, or ''. */
  configFile: string;
  /** Every setting as the engine shows it (CONFIG GET). */
  values: Map<string, string>;
  /** Directives that were accepted but ignored (for a warning at start). */
  ignored: string[];
}

/** The persistence settings from their values by name (the config, or CONFIG GET after a change). */
export function persistenceSettings(get: (name: string) => string): PersistenceSettings {
  const num = (n: string) => Number(get(n));
  return {
    appendonly: get('appendonly') === 'yes',
    appendfsync: get('appendfsync') as FsyncPolicy,
    appendfilename: get('appendfilename'),
    dbfilename: get('dbfilename'),
    save: parseSave(get('save')),
    autoAofRewritePercentage: num('auto-aof-rewrite-percentage'),
    autoAofRewriteMinSize: num('auto-aof-rewrite-min-size'),
    aofLoadTruncated: get('aof-load-truncated') === 'yes',
  };
}

export function parseSave(s: string): Array<[number, number]> {
  const parts = s.split(/\s+/).filter((x) => x !== '').map(Number);
  const out: Array<[number, number]> = [];
  for (let i = 0; i + 1 < parts.length; i += 2) out.push([parts[i], parts[i + 1]]);
  return out;
}

/** Typed options from the engine's values (after `applySettings`); `dir` is already absolute there. */
export function readOptions(get: (name: string) => string, configFile: string, ignored: string[]): ServerOptions {
  const values = new Map(SETTINGS.map((d) => [d.name, get(d.name)]));
  const v = (n: string) => values.get(n)!;
  const num = (n: string) => Number(v(n));
  const yes = (n: string) => v(n) === 'yes';
  return {
    port: num('port'),
    bind: v('bind').split(' '),
    protectedMode: yes('protected-mode'),
    requirepass: v('requirepass'),
    maxclients: num('maxclients'),
    timeout: num('timeout'),
    tcpKeepalive: num('tcp-keepalive'),
    tcpBacklog: num('tcp-backlog'),
    maxmemory: num('maxmemory'),
    maxmemoryPolicy: v('maxmemory-policy'),
    clientQueryBufferLimit: num('client-query-buffer-limit'),
    protoMaxBulkLen: num('proto-max-bulk-len'),
    streamNodeMaxBytes: num('stream-node-max-bytes'),
    streamNodeMaxEntries: num('stream-node-max-entries'),
    dir: v('dir'),
    appendonly: yes('appendonly'),
    appendfsync: v('appendfsync') as ServerOptions['appendfsync'],
    appendfilename: v('appendfilename'),
    aofLoadTruncated: yes('aof-load-truncated'),
    autoAofRewritePercentage: num('auto-aof-rewrite-percentage'),
    autoAofRewriteMinSize: num('auto-aof-rewrite-min-size'),
    save: parseSave(v('save')),
    dbfilename: v('dbfilename'),
    loglevel: v('loglevel') as ServerOptions['loglevel'],
    logfile: v('logfile'),
    pidfile: v('pidfile'),
    configFile,
    values,
    ignored,
  };
}

/** A setting's value as the configuration gives it, and the directive it came from (for errors). */
export interface ConfigValue {
  value: string;
  from: { directive: Directive; source: 'file' | 'cli' } | null;
}

/** A configuration read from defaults, a file and the command line, not yet validated. */
export interface Configuration {
  values: Map<string, ConfigValue>;
  configFile: string;
  ignored: string[];
}

export function defaultValues(): Map<string, ConfigValue> {
  return new Map(SETTINGS.map((d) => [d.name, { value: d.default, from: null }]));
}

/**
 * Applies directives onto `values` (text only; the engine validates). Arguments of `save` and
 * `bind` are joined; within one source repeated `save` lines accumulate (as in redis.conf); every
 * other setting takes its last value. Returns the ignored directive names.
 */
export function applyDirectives(values: Map<string, ConfigValue>, directives: Directive[], source: 'file' | 'cli'): string[] {
  const ignored: string[] = [];
  let saveSeen = false;
  for (const d of directives) {
    const def = BY_NAME.get(d.name);
    if (!def) {
      if (isIgnored(d.name)) {
        if (d.name === 'daemonize' && d.args[0]?.toLowerCase() === 'yes') {
          throw failAt(d, source, 'daemonize yes is not supported: run rivulet under a supervisor (systemd, docker) instead');
        }
        ignored.push(d.name);
        continue;
      }
      throw failAt(d, source, 'Bad directive or wrong number of arguments');
    }
    const many = def.kind === 'save' || def.kind === 'bind';
    if (!many && d.args.length !== 1) throw failAt(d, source, 'wrong number of arguments');
    let value = many ? d.args.join(' ') : d.args[0];
    if (def.kind === 'save' && source === 'file' && saveSeen && value !== '') {
      const prev = values.get('save')!.value;
      value = prev ? `${prev} ${value}` : value;
    }
    if (def.kind === 'save') saveSeen = true;
    values.set(def.name, { value, from: { directive: d, source } });
  }
  return ignored;
}

/** What the host runs CONFIG SET with (its internal connection): returns the error text, or null. */
export type ConfigSetter = (name: string, value: string) => string | null;

/**
 * Hands every value to the engine's one settings registry, in table order; the first refusal is a
 * ConfigError naming the file and line (or the flag) and the engine's reason — the same text CONFIG
 * SET gives. `skip` names settings applied later (requirepass, after loading).
 */
export function applySettings(set: ConfigSetter, values: Map<string, ConfigValue>, skip: ReadonlySet<string> = new Set()): void {
  for (const [name, v] of values) {
    if (skip.has(name)) continue;
    const err = set(name, v.value);
    if (err === null) continue;
    // "ERR CONFIG SET failed (possibly related to argument 'port') - argument couldn't be parsed into an integer"
    const reason = err.replace(/^ERR CONFIG SET failed \(possibly related to argument '[^']*'\) - /, '');
    if (v.from) throw failAt(v.from.directive, v.from.source, reason);
    throw new ConfigError(`The default of ${name} (${JSON.stringify(v.value)}) was refused: ${reason}`);
  }
}

function failAt(d: Directive, source: 'file' | 'cli', why: string): ConfigError {
  if (source === 'file') {
    const [where, ...rest] = d.where.split(': ');
    return configFail(where, rest.join(': '), why);
  }
  return new ConfigError(`Invalid option --${d.name}${d.args.length ? ' ' + d.args.map(quote).join(' ') : ''}: ${why}`);
}

function quote(s: string): string {
  return /^[^\s"'\\]+$/.test(s) ? s : JSON.stringify(s);
}

export type CliCommand =
  | { command: 'serve'; configFile: string; directives: Directive[] }
  | { command: 'help' }
  | { command: 'version' }
  | { command: 'check-aof'; fix: boolean; file: string };

/**
 * Parses the command line (without `node script`):
 *   [serve] [<config-file>] [--config <file>] [--<setting> <value> ...]
 *   check-aof [--fix] <file>
 *   --help | -h,  --version | -v
 * `--name value` takes every following argument up to the next `--...` (so `--bind a b` and
 * `--save ""` work, as with redis-server); `--name=value` is accepted too. A bool flag with no
 * value means yes.
 */
export function parseArgv(argv: string[]): CliCommand {
  const args = [...argv];
  if (args.some((a) => a === '--help' || a === '-h' || a === 'help')) return { command: 'help' };
  if (args.some((a) => a === '--version' || a === '-v' || a === 'version')) return { command: 'version' };
  if (args[0] === 'check-aof') {
    const rest = args.slice(1);
    const fix = rest.includes('--fix');
    const files = rest.filter((a) => a !== '--fix');
    if (files.length !== 1) throw new ConfigError('usage: rivulet check-aof [--fix] <file>');
    return { command: 'check-aof', fix, file: files[0] };
  }
  if (args[0] === 'serve') args.shift();
  let configFile = '';
  const directives: Directive[] = [];
  let i = 0;
  if (args[0] !== undefined && !args[0].startsWith('--')) {
    configFile = args[0];
    i = 1;
  }
  while (i < args.length) {
    const a = args[i];
    if (!a.startsWith('--') || a.length < 3) throw new ConfigError(`Unexpected argument '${a}' (see rivulet --help)`);
    let name = a.slice(2);
    const vals: string[] = [];
    const eq = name.indexOf('=');
    if (eq > 0) {
      vals.push(name.slice(eq + 1));
      name = name.slice(0, eq);
    }
    i++;
    if (eq < 0) {
      while (i < args.length && !(args[i].startsWith('--') && args[i].length > 2 && /^--[a-z]/i.test(args[i]))) vals.push(args[i++]);
    }
    name = name.toLowerCase();
    if (name === 'config') {
      if (vals.length !== 1) throw new ConfigError('--config takes one file name');
      configFile = vals[0];
      continue;
    }
    const def = BY_NAME.get(name);
    if (def?.kind === 'bool' && vals.length === 0) vals.push('yes');
    if (!def && !isIgnored(name)) throw new ConfigError(`Unknown option --${name} (see rivulet --help)`);
    directives.push({ name, args: vals, where: 'command line' });
  }
  return { command: 'serve', configFile, directives };
}

/** Reads defaults, the config file and command-line directives (validated later, by the engine). */
export function loadConfiguration(cli: { configFile: string; directives: Directive[] }, files: ConfigFiles, absolute: (p: string) => string): Configuration {
  const values = defaultValues();
  const ignored: string[] = [];
  let configFile = '';
  if (cli.configFile) {
    configFile = absolute(cli.configFile);
    ignored.push(...applyDirectives(values, parseConfigFile(files, configFile), 'file'));
  }
  ignored.push(...applyDirectives(values, cli.directives, 'cli'));
  const dir = values.get('dir')!;
  dir.value = absolute(dir.value || '.');
  return { values, configFile, ignored };
}

export function settingDef(name: string): SettingDef | undefined {
  return BY_NAME.get(name);
}

export function helpText(version: string): string {
  const lines: string[] = [
    `Rivulet ${version} — a Redis Streams server (RESP2/RESP3, Redis 7.0 compatible) on the Rivulet wasm engine.`,
    '',
    'Usage:',
    '  rivulet [serve] [<config-file>] [--<setting> <value> ...]',
    '  rivulet serve --config rivulet.conf --port 6380',
    '  rivulet check-aof [--fix] <file>      check an AOF/snapshot file; --fix cuts it at the first bad record',
    '  rivulet --help | --version',
    '',
    'Every setting can be given on the command line (--port 6380), in a redis.conf-style file',
    '(a line "port 6380"; "#" starts a comment; "include <file>" reads another file), and most',
    'with CONFIG SET at run time. The command line wins over the file. Sizes accept 1k/1kb/1mb/1gb.',
    '',
    'Settings (default in brackets):',
  ];
  const width = Math.max(...SETTINGS.map((s) => s.name.length + s.arg.length)) + 6;
  for (const s of SETTINGS) {
    const head = `  --${s.name} ${s.arg}`;
    const def = s.default === '' ? '""' : s.default;
    lines.push(`${head.padEnd(width)} ${s.help} [${def}]`);
  }
  lines.push(
    '  --config <file>'.padEnd(width) + ' Read settings from this file first (same as a leading <config-file>).',
    '',
    'Files in <dir>:',
    '  appendonly.aof   the append-only file: RESP commands; after a rewrite it starts with a snapshot',
    '                   (RIVULET.SNAPSHOT <format> <build>) followed by the writes made since',
    '  dump.rvs         snapshot written by SAVE / BGSAVE / save points / SHUTDOWN SAVE (loaded when',
    '                   appendonly is no, or when no AOF exists yet)',
    '',
    'Signals: SIGTERM / SIGINT (and the SHUTDOWN command) flush and fsync the AOF, then exit 0.',
  );
  return lines.join('\n') + '\n';
}
