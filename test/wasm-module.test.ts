// Structural checks of build/rivulet.wasm with wabt (wasm-validate, wasm-objdump): the module must
// stay within what every host runs — wasm3 v0.5.0 (pywasm3 in CI) and the ESP32 firmware's wasm3:
// no SIMD, no atomics/threads, no imported memory, no reference types; exactly one import
// (env.abort); and exactly the exports of the ABI table (assembly/abi.ts) with its signatures.
// Also the table's generated copies (scripts/gen-abi.mjs): up to date, and the C header compiles.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { arch, platform, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { generate, OUTPUTS, parseAbi, SOURCE, wasmSignature } from '../scripts/gen-abi.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const WASM = process.env.RIVULET_WASM ? resolve(process.env.RIVULET_WASM) : join(ROOT, 'build', 'rivulet.wasm');
const ABI = parseAbi(readFileSync(join(ROOT, SOURCE), 'utf8'));

function run(cmd: string, args: string[]): string {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', maxBuffer: 512 * 1024 * 1024, stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (e) {
    const err = e as { code?: string; stdout?: string; stderr?: string; message: string };
    if (err.code === 'ENOENT') throw new Error(`${cmd} not found: run scripts/ensure-deps.sh (installs wabt)`);
    throw new Error(`${cmd} ${args.join(' ')} failed:\n${err.stdout ?? ''}${err.stderr ?? err.message}`);
  }
}

/** Section lines of `wasm-objdump -x -j <section>` (the "- ..." lines). */
function sectionLines(details: string, section: string): string[] {
  const out: string[] = [];
  let inSection = false;
  for (const line of details.split('\n')) {
    const head = /^([A-Za-z]+)\[\d+\]:/.exec(line);
    if (head) {
      inSection = head[1] === section;
      continue;
    }
    if (/^\S/.test(line)) inSection = false;
    if (inSection && line.startsWith(' - ')) out.push(line.slice(3));
  }
  return out;
}

const haveWasm = existsSync(WASM);

describe('build/rivulet.wasm structure (wabt)', () => {
  let details = '';
  let disasm = '';

  beforeAll(() => {
    if (!haveWasm) return;
    details = run('wasm-objdump', ['-x', WASM]);
    disasm = run('wasm-objdump', ['-d', WASM]);
  });

  it('exists (build it first: npm run build)', () => {
    expect(haveWasm, `${WASM} is missing`).toBe(true);
    const size = statSync(WASM).size;
    // Reported so size regressions show up in test logs.
    console.log(`[wasm-module] ${WASM.replace(ROOT + '/', '')}: ${size} bytes (${(size / 1024).toFixed(1)} KiB)`);
  });

  it.runIf(haveWasm)('validates with default features and with SIMD / reference types disabled', () => {
    run('wasm-validate', [WASM]);
    // threads (atomics) and tail calls are already off by default in wabt 1.0.32
    run('wasm-validate', ['--disable-simd', '--disable-reference-types', WASM]);
  });

  it.runIf(haveWasm)('imports exactly env.abort (i32, i32, i32, i32) -> nil, and no memory/table/global', () => {
    const imports = sectionLines(details, 'Import');
    expect(imports.length, imports.join('\n')).toBe(1);
    const m = /^func\[\d+\] sig=(\d+) <[^>]*> <- (\S+)$/.exec(imports[0]);
    expect(m, `unexpected import line: ${imports[0]}`).not.toBeNull();
    expect(m![2]).toBe('env.abort');
    const types = sectionLines(details, 'Type');
    const sig = types.find((t) => t.startsWith(`type[${m![1]}] `));
    expect(sig).toBe(`type[${m![1]}] (i32, i32, i32, i32) -> nil`);
  });

  it.runIf(haveWasm)('defines its own single memory (not imported, not shared, not 64-bit)', () => {
    const mems = sectionLines(details, 'Memory');
    expect(mems.length, mems.join('\n')).toBe(1);
    expect(mems[0]).toMatch(/^memory\[0\] pages: initial=\d+( max=\d+)?$/);
    expect(mems[0]).not.toMatch(/shared|i64/);
    const exports = sectionLines(details, 'Export');
    expect(exports, 'memory must be exported for JS hosts').toContain('memory[0] -> "memory"');
  });

  it.runIf(haveWasm)('uses no reference types (at most one funcref table, no externref anywhere)', () => {
    expect(details).not.toMatch(/externref|exnref|anyref/);
    const tables = sectionLines(details, 'Table');
    expect(tables.length).toBeLessThanOrEqual(1);
    for (const t of tables) expect(t).toMatch(/type=funcref/);
    const refOps = disasm.match(/\|\s*(ref\.(null|is_null|func|as_non_null)|table\.(get|set|grow|size|fill|copy|init)|elem\.drop)\b.*$/gm);
    expect(refOps ?? [], 'reference-type instructions').toEqual([]);
  });

  it.runIf(haveWasm)('contains no SIMD (v128) and no atomics', () => {
    const simd = disasm.match(/\|\s*(v128\.|[if](8|16|32|64)x\d+\.).*$/gm);
    expect((simd ?? []).slice(0, 10), 'SIMD instructions').toEqual([]);
    expect(details).not.toMatch(/\bv128\b/); // no v128 in types, globals or locals
    const atomics = disasm.match(/\|\s*(\S*atomic\S*).*$/gm);
    expect((atomics ?? []).slice(0, 10), 'atomic instructions').toEqual([]);
  });

  it.runIf(haveWasm)('exports exactly the functions of assembly/abi.ts, with its signatures, and memory', () => {
    expect(ABI.exports.length, 'exports in the table').toBeGreaterThanOrEqual(29);
    const types = new Map<string, string>();
    for (const t of sectionLines(details, 'Type')) {
      const m = /^type\[(\d+)\] (.*)$/.exec(t);
      if (m) types.set(m[1], m[2]);
    }
    const funcSig = new Map<string, string>();
    for (const f of [...sectionLines(details, 'Import'), ...sectionLines(details, 'Function')]) {
      const m = /^func\[(\d+)\] sig=(\d+)/.exec(f);
      if (m) funcSig.set(m[1], m[2]);
    }
    const exported = new Map<string, string>();
    const others: string[] = [];
    for (const e of sectionLines(details, 'Export')) {
      const m = /^func\[(\d+)\](?: <[^>]*>)? -> "([^"]+)"$/.exec(e);
      if (m) exported.set(m[2], types.get(funcSig.get(m[1]) ?? '') ?? '?');
      else others.push(e);
    }
    expect(others, 'non-function exports').toEqual(['memory[0] -> "memory"']);
    const want = new Map(ABI.exports.map((e) => [e.name, wasmSignature(e)]));
    const problems: string[] = [];
    for (const [name, sig] of want) {
      const got = exported.get(name);
      if (got === undefined) problems.push(`${name}: missing (the table says ${sig})`);
      else if (got !== sig) problems.push(`${name}: ${got}, the table says ${sig}`);
    }
    for (const [name, got] of exported) if (!want.has(name)) problems.push(`${name} ${got}: exported but not in ${SOURCE}`);
    expect(problems).toEqual([]);
  });
});

describe('the ABI table and its generated copies', () => {
  it(`every generated file is up to date with ${SOURCE} (run node scripts/gen-abi.mjs)`, () => {
    const files = generate(ROOT);
    expect([...files.keys()].sort()).toEqual(Object.values(OUTPUTS).sort());
    for (const [path, text] of files) {
      const file = join(ROOT, path);
      expect(existsSync(file), `${path} is missing`).toBe(true);
      expect(readFileSync(file, 'utf8') === text, `${path} differs from what ${SOURCE} generates`).toBe(true);
    }
  });

  it('the table is strict: no declaration without a doc, no padding in records, nothing unknown', () => {
    const ok = '// @section a A\n/** Doc. */\nexport type rv_x = (conn: i32) => void;\n';
    expect(parseAbi(ok).exports.map((e) => [e.name, wasmSignature(e)])).toEqual([['rv_x', '(i32) -> nil']]);
    expect(() => parseAbi('export const X: i32 = 1;\n')).toThrow(/doc/);
    expect(() => parseAbi('/** R. */\n@unmanaged export class R {\n  /** a */\n  a: i32;\n  /** b */\n  b: f64;\n}\n')).toThrow(/padding/);
    expect(() => parseAbi('/** R. */\n@unmanaged export class R {\n  /** a */\n  a: i32;\n}\n')).toThrow(/multiple of 8/);
    expect(() => parseAbi('/** X. */\nexport const X: i64 = 1;\n')).toThrow(/grammar/);
    expect(() => parseAbi('/** Doc. */\nexport type rv_x = () => void;\n')).toThrow(/@section/);
    expect(() => parseAbi(ok + ok.split('\n').slice(1).join('\n'))).toThrow(/twice/);
  });

  const header = join(ROOT, OUTPUTS.c);
  // A C file that uses everything the header declares, the way the device host will.
  const useIt = `#include "rivulet_abi.h"
struct rv_export { const char *name; const char *signature; };
#define RV_ROW(name, sig) { #name, sig },
static const struct rv_export exports[RV_ABI_EXPORT_COUNT] = { RV_ABI_EXPORTS(RV_ROW) };
int main(void) {
  rv_load_status_t st = { 0 };
  rv_build_info_t bi = { 0 };
  rv_dataset_stats_t ds = { 0 };
  unsigned char scratch[RV_SCRATCH_CAP];
  int status = RV_FEED_STATUS_OUTPUT | RV_FEED_STATUS_CLOSE;
  (void)scratch; (void)bi; (void)ds;
  return (int)st.in_multi + status + (int)sizeof(exports) + RV_HOST_REQUEST_CONFIG_CHANGED + RV_UNBLOCK_MODE_ERROR + RV_BATCH_RESULT_OOM;
}
`;
  function gcc(extra: string[]): { status: number | null; out: string } {
    const dir = mkdtempSync(join(tmpdir(), 'rivulet-abi-h-'));
    try {
      writeFileSync(join(dir, 'use.c'), useIt);
      const r = spawnSync('gcc', ['-fsyntax-only', '-std=c11', '-Wall', '-Wextra', '-Werror', '-pedantic', '-I', dirname(header), ...extra, join(dir, 'use.c')], { encoding: 'utf8' });
      if (r.error) throw new Error(`gcc not found (${r.error.message}): run scripts/ensure-deps.sh`);
      return { status: r.status, out: r.stdout + r.stderr };
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  it('rivulet_abi.h compiles with gcc (C11, -Wall -Wextra -pedantic -Werror) and its layout asserts hold', () => {
    const r = gcc([]);
    expect(r.out).toBe('');
    expect(r.status).toBe(0);
    // the asserts are real: a wrong offset fails to compile
    const broken = readFileSync(header, 'utf8').replace('offsetof(rv_load_status_t, commands) == 8', 'offsetof(rv_load_status_t, commands) == 12');
    expect(broken).not.toBe(readFileSync(header, 'utf8'));
    const dir = mkdtempSync(join(tmpdir(), 'rivulet-abi-h-'));
    try {
      writeFileSync(join(dir, 'rivulet_abi.h'), broken);
      writeFileSync(join(dir, 'use.c'), useIt);
      const b = spawnSync('gcc', ['-fsyntax-only', '-std=c11', '-I', dir, join(dir, 'use.c')], { encoding: 'utf8' });
      expect(b.status).not.toBe(0);
      expect(b.stderr).toContain('rv_load_status_t.commands: offset');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  // 32-bit like the ESP32-S3 and wasm32 (i386 aligns doubles in structs to 4: the table has no padding
  // so the layout is the same); needs gcc-multilib on x86-64 (scripts/ensure-deps.sh installs it).
  it.runIf(platform() === 'linux' && arch() === 'x64')('rivulet_abi.h compiles for 32-bit (gcc -m32)', () => {
    const r = gcc(['-m32']);
    expect(r.out, 'gcc -m32 failed: is gcc-multilib installed? (scripts/ensure-deps.sh)').toBe('');
    expect(r.status).toBe(0);
  });
});
