/**
 * `rivulet` command line and configuration: flag parsing (redis-server style), redis.conf-style
 * files, precedence, validation messages, --help / --version, the default data directory, engine
 * settings applied through CONFIG SET at start, INFO fields the host provides.
 */
import { describe, it, expect, afterAll } from 'vitest';
import { writeFileSync, existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { parseArgv, parseConfigText, applyDirectives, applySettings, defaultValues, splitArgs, loadConfiguration, SETTINGS, ConfigError } from '../../hosts/shared/settings.ts';
import { ControlConnection } from '../../hosts/shared/control.ts';
import { RawEngine } from '../../bindings/raw.ts';
import { configFiles } from '../../hosts/node/cli.ts';
import { connectRaw } from '../support/raw-client.ts';
import { startRivulet, runCli, tempDir, cleanupTempDirs, ROOT, buildServer } from './support.ts';

afterAll(() => cleanupTempDirs());

const text = (b: Uint8Array) => Buffer.from(b).toString('latin1');

const raw = await RawEngine.instantiate(await WebAssembly.compile(readFileSync(join(ROOT, 'build/rivulet.wasm'))));

describe('config parsing (unit)', () => {
  it('parses flags like redis-server', () => {
    const c = parseArgv(['serve', '--port', '6380', '--save', '', '--bind', '127.0.0.1', '::1', '--appendonly', '--maxmemory=100mb']);
    expect(c.command).toBe('serve');
    if (c.command !== 'serve') return;
    expect(c.configFile).toBe('');
    expect(c.directives.map((d) => [d.name, d.args])).toEqual([
      ['port', ['6380']],
      ['save', ['']],
      ['bind', ['127.0.0.1', '::1']],
      ['appendonly', ['yes']],
      ['maxmemory', ['100mb']],
    ]);
    const d = parseArgv(['my.conf', '--port', '1']);
    expect(d.command === 'serve' && d.configFile).toBe('my.conf');
    const e = parseArgv(['--config', 'x.conf']);
    expect(e.command === 'serve' && e.configFile).toBe('x.conf');
    expect(parseArgv(['--help']).command).toBe('help');
    expect(parseArgv(['-v']).command).toBe('version');
    expect(parseArgv(['check-aof', '--fix', 'f.aof'])).toEqual({ command: 'check-aof', fix: true, file: 'f.aof' });
    expect(() => parseArgv(['--no-such-flag', '1'])).toThrow(/Unknown option --no-such-flag/);
  });

  it('reads redis.conf syntax: comments, quotes, save lines, sizes, includes', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'inc.conf'), 'maxclients 42\n');
    const conf = [
      '# a comment',
      '',
      'port 6390',
      'requirepass "pa ss\\x41"',
      "dbfilename 'my dump.rvs'",
      'save 900 1',
      'save 300 10',
      'maxmemory 1gb',
      'stream-node-max-bytes 4kb',
      'hz 10',
      `include ${join(dir, 'inc.conf')}`,
    ].join('\n');
    const values = defaultValues();
    const ignored = applyDirectives(values, parseConfigText(configFiles, conf, join(dir, 'r.conf')), 'file');
    const text = (n: string) => values.get(n)!.value;
    expect(text('port')).toBe('6390');
    expect(text('requirepass')).toBe('pa ssA');
    expect(text('dbfilename')).toBe('my dump.rvs');
    expect(text('save')).toBe('900 1 300 10');
    expect(text('maxclients')).toBe('42');
    expect(ignored).toEqual(['hz']);
    // the engine validates and normalises (sizes in bytes), as CONFIG SET does
    const control = new ControlConnection(raw);
    applySettings((n, v) => control.configSet(n, v), values);
    expect(raw.configGet('maxmemory')).toBe(String(1 << 30));
    expect(raw.configGet('stream-node-max-bytes')).toBe('4096');
    expect(raw.configGet('save')).toBe('900 1 300 10');
    // the command line replaces (does not add to) the file's save points
    applyDirectives(values, [{ name: 'save', args: ['60', '5'], where: 'command line' }], 'cli');
    expect(text('save')).toBe('60 5');
    expect(splitArgs('a "b c" \'d\\\'e\'')).toEqual(['a', 'b c', "d'e"]);
    expect(splitArgs('"unbalanced')).toBe(null);
  });

  it('rejects bad values with the file, line and the engine\'s reason (the text CONFIG SET gives)', () => {
    const bad = (line: string) => () => {
      const values = defaultValues();
      applyDirectives(values, parseConfigText(configFiles, `port 1\n${line}\n`, 'r.conf'), 'file');
      const control = new ControlConnection(raw);
      applySettings((n, v) => control.configSet(n, v), values);
    };
    expect(bad('port notanumber')).toThrow(/FATAL CONFIG FILE ERROR[\s\S]*r\.conf:2[\s\S]*'port notanumber'[\s\S]*argument couldn't be parsed into an integer/);
    expect(bad('port 70000')).toThrow(/argument must be between 0 and 65535 inclusive/);
    expect(bad('appendfsync sometimes')).toThrow(/argument\(s\) must be one of the following: everysec, always, no/);
    expect(bad('appendonly maybe')).toThrow(/argument must be 'yes' or 'no'/);
    expect(bad('no-such-directive 1')).toThrow(/Bad directive/);
    expect(bad('save 900')).toThrow(/Invalid save parameters/);
    expect(bad('daemonize yes')).toThrow(/not supported/);
    expect(bad('proto-max-bulk-len 1k')).toThrow(/argument must be between 1048576 and/);
    expect(() => loadConfiguration({ configFile: '/nonexistent/x.conf', directives: [] }, configFiles, (p: string) => p)).toThrow(ConfigError);
  });
});

describe('rivulet CLI', () => {
  it('--help explains every setting; --version prints the version', () => {
    const h = runCli(['--help']);
    expect(h.code).toBe(0);
    for (const s of SETTINGS) expect(h.out).toContain(`--${s.name} `);
    expect(h.out).toContain('check-aof');
    expect(h.out).toContain('appendonly.aof');
    const v = runCli(['--version']);
    expect(v.code).toBe(0);
    expect(v.out).toMatch(/^Rivulet server v=\d+\.\d+\.\d+/);
    buildServer();
    spawnSync(process.execPath, [join(ROOT, 'scripts/build-server.mjs')]); // dist/server may have been emptied by a build since
    const bin = spawnSync(join(ROOT, 'bin/rivulet'), ['--version'], { encoding: 'utf8' });
    expect(bin.stdout).toBe(v.out);
  });

  it('bad config / bad flags / port in use: exit code and a clear message', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'bad.conf'), 'port 0\nappendfsync sometimes\n');
    let r = runCli([join(dir, 'bad.conf')]);
    expect(r.code).toBe(1);
    expect(r.out).toContain('FATAL CONFIG FILE ERROR');
    expect(r.out).toContain('bad.conf:2');
    r = runCli(['--port', 'x']);
    expect(r.code).toBe(1);
    expect(r.out).toContain("Invalid option --port x: argument couldn't be parsed into an integer");
    r = runCli(['stray']);
    expect(r.code).toBe(1); // 'stray' is taken as a config file that does not exist
    expect(r.out).toContain("can't open config file");
    // port in use
    const blocker = createServer();
    await new Promise<void>((res) => blocker.listen(0, '127.0.0.1', res));
    const port = (blocker.address() as { port: number }).port;
    r = runCli(['--port', String(port), '--dir', dir]);
    blocker.close();
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/Could not listen on 127\.0\.0\.1:\d+: .*EADDRINUSE/);
  });

  it('config file + flags: defaults, ./data in the current directory, engine settings via CONFIG SET', async () => {
    const cwd = tempDir();
    writeFileSync(
      join(cwd, 'rivulet.conf'),
      ['port 0', 'requirepass "hunter2"', 'maxmemory 64mb', 'stream-node-max-entries 7', 'appendfsync always', 'maxclients 50', 'tcp-backlog 128', 'loglevel verbose'].join('\n'),
    );
    const srv = await startRivulet({ rawArgs: ['serve', '--config', 'rivulet.conf', '--stream-node-max-entries', '5'], cwd, dir: cwd });
    expect(srv.output()).toContain(`Data directory: ${join(cwd, 'data')}`);
    expect(srv.output()).toContain(`Configuration loaded from ${join(cwd, 'rivulet.conf')}`);
    expect(existsSync(join(cwd, 'data', 'appendonly.aof'))).toBe(true);
    const c = await connectRaw(srv.port);
    expect(text(await c.send(['PING']))).toBe('-NOAUTH Authentication required.\r\n');
    expect(text(await c.send(['AUTH', 'hunter2']))).toBe('+OK\r\n');
    const get = async (n: string) => {
      const r = text(await c.send(['CONFIG', 'GET', n]));
      return r.split('\r\n')[4];
    };
    expect(await get('maxmemory')).toBe(String(64 << 20));
    expect(await get('stream-node-max-entries')).toBe('5');
    expect(await get('appendfsync')).toBe('always');
    expect(await get('appendonly')).toBe('yes');
    expect(await get('maxclients')).toBe('50');
    expect(await get('dir')).toBe(join(cwd, 'data'));
    expect(await get('port')).toBe(String(srv.port));
    // settings Redis makes immutable show what the server started with, and clients cannot change them
    expect(await get('tcp-backlog')).toBe('128');
    expect(await get('loglevel')).toBe('verbose');
    expect(text(await c.send(['CONFIG', 'SET', 'tcp-backlog', '5']))).toBe(
      "-ERR CONFIG SET failed (possibly related to argument 'tcp-backlog') - can't set immutable config\r\n",
    );
    // stream-node-max-entries really splits nodes: 11 entries → 3 nodes of ≤ 5
    for (let i = 1; i <= 11; i++) await c.send(['XADD', 'nodes', `${i}-1`, 'f', 'v']);
    expect(text(await c.send(['XINFO', 'STREAM', 'nodes']))).toContain('$15\r\nradix-tree-keys\r\n:3\r\n');
    // INFO carries the host's fields
    const info = text(await c.send(['INFO']));
    expect(info).toContain(`tcp_port:${srv.port}`);
    expect(info).toContain(`process_id:${srv.pid}`);
    expect(info).toContain('aof_enabled:1');
    expect(info).toContain('maxclients:50');
    expect(info).toMatch(/engine_build:\S+/);
    await c.close();
    expect(await srv.stop()).toBe(0);
  });
});
