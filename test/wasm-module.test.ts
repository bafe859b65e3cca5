// Structural checks of build/rivulet.wasm with wabt (wasm-validate, wasm-objdump): the module must
// stay within what every host runs — wasm3 v0.5.0 (pywasm3 in CI) and the ESP32 firmware's wasm3:
// no SIMD, no atomics/threads, no imported memory, no reference types; exactly one import
// (env.abort); and every export documented in docs/ABI.md with its documented signature.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const WASM = process.env.RIVULET_WASM ? resolve(process.env.RIVULET_WASM) : join(ROOT, 'build', 'rivulet.wasm');
const ABI_DOC = join(ROOT, 'docs', 'ABI.md');

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

/** `name -> "(i32, f64) -> i32"` style signatures from the ABI table of docs/ABI.md. */
function abiSignatures(): Map<string, string> {
  const doc = readFileSync(ABI_DOC, 'utf8');
  const sigs = new Map<string, string>();
  for (const line of doc.split('\n')) {
    const m = /^\|\s*`(rv_[a-z_0-9]+)\([^`]*\)`\s*\|\s*`\(([^`]*)\)\s*->\s*([a-z0-9]+)`\s*\|/.exec(line);
    if (!m) continue;
    const params = m[2].split(',').map((s) => s.trim()).filter(Boolean);
    const ret = m[3] === 'void' ? 'nil' : m[3];
    sigs.set(m[1], `(${params.join(', ')}) -> ${ret}`);
  }
  return sigs;
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

  it.runIf(haveWasm)('exports every function of docs/ABI.md with the documented signature', () => {
    const abi = abiSignatures();
    expect(abi.size, 'ABI table parsed from docs/ABI.md').toBeGreaterThanOrEqual(12);
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
    for (const e of sectionLines(details, 'Export')) {
      const m = /^func\[(\d+)\](?: <[^>]*>)? -> "([^"]+)"$/.exec(e);
      if (m) exported.set(m[2], types.get(funcSig.get(m[1]) ?? '') ?? '?');
    }
    const problems: string[] = [];
    for (const [name, want] of abi) {
      const got = exported.get(name);
      if (got === undefined) problems.push(`${name}: missing (want ${want})`);
      else if (got !== want) problems.push(`${name}: ${got}, want ${want}`);
    }
    expect(problems).toEqual([]);
  });
});
