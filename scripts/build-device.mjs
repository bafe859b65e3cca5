#!/usr/bin/env node
// Builds rivulet-device, the device host's POSIX port (hosts/esp32s3-wasm3/linux over the portable
// core in hosts/esp32s3-wasm3/components/rivulet_host), with gcc into build/device/<target>/:
//
//   x86_64   the machine's gcc, wasm3's host defaults
//   x86      gcc -m32 (gcc-multilib), wasm3 in its ESP32 configuration (-DESP32 -DM3_IN_IRAM)
//   armhf    arm-linux-gnueabihf-gcc, ESP32 configuration; runs under qemu-arm (qemu-user)
//   xtensa   xtensa-lx106-elf-gcc + picolibc, compile only: the portable core and wasm3 (no port)
//
// Each target directory gets `rivulet-device` and a copy of build/rivulet.wasm beside it (the
// binary looks there). wasm3's sources come from scripts/fetch-wasm3.sh (the pinned sdist); the C
// header of the ABI from scripts/gen-abi.mjs. Objects are rebuilt only when a source or the flags
// change. `rivulet-bench` (linux/bench/bench.c) drives the engine alone, for callgrind counts.
//
//   node scripts/build-device.mjs [x86_64|x86|armhf|xtensa|all]... [--no-tail-calls] [--opt=-O2] [--quiet]
//
// `all` (the default) builds every target whose compiler is installed and says which it skipped.
// --no-tail-calls builds `<target>-notail` with -fno-optimize-sibling-calls (the Xtensa case).
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, dirname, basename, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const HOST = join(ROOT, 'hosts/esp32s3-wasm3');
const CORE = join(HOST, 'components/rivulet_host');
const args = process.argv.slice(2);
const quiet = args.includes('--quiet');
const noTail = args.includes('--no-tail-calls');
const opt = (args.find((a) => a.startsWith('--opt=')) ?? '--opt=-O2').slice(6);
const log = (m) => quiet || console.log(`build-device: ${m}`);

const TARGETS = {
  x86_64: { cc: 'gcc', flags: [], wasm3: [] },
  x86: { cc: 'gcc', flags: ['-m32'], wasm3: ['-DESP32', '-DM3_IN_IRAM'] },
  armhf: { cc: 'arm-linux-gnueabihf-gcc', flags: ['-march=armv7-a', '-mfpu=vfpv3-d16', '-mfloat-abi=hard'], wasm3: ['-DESP32', '-DM3_IN_IRAM'] },
  // compile only: the portable core and wasm3 for an Xtensa core with a small libc (ESP8266's LX106
  // with picolibc: not an ESP32-S3 build, but it catches libc and 32-bit assumptions)
  xtensa: { cc: 'xtensa-lx106-elf-gcc', flags: ['--specs=/usr/lib/xtensa-lx106-elf/picolibc.specs', '-mlongcalls'], wasm3: ['-DESP32', '-DM3_IN_IRAM'], compileOnly: true },
};

function works(t) {
  const probe = spawnSync(t.cc, [...t.flags, ...(t.compileOnly ? ['-c'] : []), '-x', 'c', '-o', '/dev/null', '-'], { input: '#include <stdio.h>\nint main(void){return 0;}\n', encoding: 'utf8' });
  return probe.status === 0;
}

const wanted = args.filter((a) => !a.startsWith('--'));
const names = wanted.length === 0 || wanted.includes('all') ? Object.keys(TARGETS) : wanted;
for (const n of names) if (!TARGETS[n]) throw new Error(`unknown target ${n} (x86_64, x86, armhf, xtensa, all)`);
const explicit = wanted.length > 0 && !wanted.includes('all');

// the engine and the ABI header
const wasm = join(ROOT, 'build/rivulet.wasm');
if (!existsSync(wasm)) throw new Error('build/rivulet.wasm is missing: run npm run build first');
const { writeGenerated } = await import('./gen-abi.mjs');
writeGenerated(ROOT);
const fetched = spawnSync('bash', [join(ROOT, 'scripts/fetch-wasm3.sh'), ...(quiet ? ['--quiet'] : [])], { encoding: 'utf8' });
if (fetched.status !== 0) throw new Error(`fetch-wasm3 failed:\n${fetched.stderr}`);
const W3 = fetched.stdout.trim();

const coreSources = readdirSync(CORE).filter((f) => f.endsWith('.c')).map((f) => join(CORE, f));
const portSources = ['port/posix_storage.c', 'port/bsd_server.c'].map((f) => join(CORE, f));
const linuxSources = readdirSync(join(HOST, 'linux')).filter((f) => f.endsWith('.c')).map((f) => join(HOST, 'linux', f));
const w3Sources = readdirSync(W3).filter((f) => f.endsWith('.c')).map((f) => join(W3, f));
const headers = [join(CORE, 'include'), join(CORE, 'port'), join(HOST, 'linux')].flatMap((d) => readdirSync(d).filter((f) => f.endsWith('.h')).map((f) => join(d, f)));
const newestHeader = Math.max(...headers.map((h) => statSync(h).mtimeMs), ...readdirSync(W3).map((f) => statSync(join(W3, f)).mtimeMs));

function run(cmd, argv) {
  return new Promise((res, rej) => {
    const p = spawn(cmd, argv, { stdio: ['ignore', 'inherit', 'pipe'] });
    let err = '';
    p.stderr.on('data', (d) => (err += d));
    p.on('exit', (code) => (code === 0 ? res(err) : rej(new Error(`${cmd} ${argv.join(' ')}\n${err}`))));
  });
}

async function parallel(jobs, n = 2) {
  const queue = [...jobs];
  await Promise.all(Array.from({ length: n }, async () => {
    while (queue.length) await queue.shift()();
  }));
}

async function build(name) {
  const t = TARGETS[name];
  const dirName = noTail ? `${name}-notail` : name;
  const out = join(ROOT, 'build/device', dirName);
  const objDir = join(out, 'obj');
  mkdirSync(objDir, { recursive: true });
  // -m32 without Debian's gcc-multilib metapackage (it conflicts with the cross compilers): the
  // kernel's asm/ headers it would link into /usr/include are linked into a private folder instead
  const sysInc = [];
  if (name === 'x86' && !existsSync('/usr/include/asm') && existsSync('/usr/include/x86_64-linux-gnu/asm')) {
    const inc = join(out, 'include');
    mkdirSync(inc, { recursive: true });
    if (!existsSync(join(inc, 'asm'))) symlinkSync('/usr/include/x86_64-linux-gnu/asm', join(inc, 'asm'));
    sysInc.push('-isystem', inc);
  }
  const common = [...t.flags, ...sysInc, opt, '-g', '-std=gnu11', '-fno-strict-aliasing', ...(noTail ? ['-fno-optimize-sibling-calls'] : [])];
  const ours = [...common, '-Wall', '-Wextra', '-Wno-unused-parameter', '-Wno-format-truncation', '-Werror', `-I${join(CORE, 'include')}`, `-I${join(CORE, 'port')}`, `-I${W3}`, `-I${join(HOST, 'linux')}`, '-D_FILE_OFFSET_BITS=64'];
  const theirs = [...common, ...t.wasm3, '-w', `-I${W3}`];
  const stamp = join(objDir, 'flags');
  const flagsKey = JSON.stringify([t.cc, ours, theirs]);
  const flagsChanged = !existsSync(stamp) || readFileSync(stamp, 'utf8') !== flagsKey;
  const jobs = [];
  const objs = [];
  const hostSources = t.compileOnly ? coreSources : [...coreSources, ...portSources, ...linuxSources];
  for (const [srcs, flags] of [[w3Sources, theirs], [hostSources, ours]]) {
    for (const src of srcs) {
      const obj = join(objDir, `${basename(dirname(src))}-${basename(src, '.c')}.o`);
      objs.push(obj);
      const stale = flagsChanged || !existsSync(obj) || statSync(obj).mtimeMs < Math.max(statSync(src).mtimeMs, newestHeader);
      if (stale) jobs.push(() => run(t.cc, [...flags, '-c', src, '-o', obj]));
    }
  }
  if (jobs.length) log(`${dirName}: compiling ${jobs.length} files (${t.cc} ${opt}${noTail ? ' -fno-optimize-sibling-calls' : ''})`);
  await parallel(jobs);
  writeFileSync(stamp, flagsKey);
  if (t.compileOnly) {
    log(`${dirName}: compiled ${objs.length} objects in ${objDir} (compile only)`);
    return;
  }
  const bin = join(out, 'rivulet-device');
  const wrap = ['malloc', 'free', 'calloc', 'realloc'].map((s) => `-Wl,--wrap=${s}`);
  await run(t.cc, [...t.flags, '-o', bin, ...objs, ...wrap, '-lm', '-lpthread']);
  // rivulet-bench: the engine alone, for instruction counts (linux/bench/bench.c)
  const benchObj = join(objDir, 'bench.o');
  await run(t.cc, [...ours, '-c', join(HOST, 'linux/bench/bench.c'), '-o', benchObj]);
  const engineObjs = objs.filter((o) => !/\/(linux|port)-[^/]+\.o$/.test(o) && !/rv_(loop|aof|replay|snapshot_job|persist)\.o$/.test(o));
  await run(t.cc, [...t.flags, '-o', join(out, 'rivulet-bench'), ...engineObjs, benchObj, '-lm']);
  copyFileSync(wasm, join(out, 'rivulet.wasm'));
  log(`${dirName}: ${bin}`);
}

for (const n of names) {
  if (!works(TARGETS[n])) {
    const msg = `${n}: no working compiler (${TARGETS[n].cc} ${TARGETS[n].flags.join(' ')}); scripts/ensure-deps.sh installs it`;
    if (explicit) throw new Error(msg);
    log(`skipping ${msg}`);
    continue;
  }
  await build(n);
}
