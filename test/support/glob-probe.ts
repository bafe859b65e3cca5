/**
 * A test-only wasm build of the engine's glob matcher (assembly/util/glob.ts) on its own, to call it
 * directly and read its step counter (globSteps), which the engine itself does not export.
 *
 *   const probe = await globProbe();
 *   probe.match(pattern, subject, nocase)   // bytes (latin-1 strings); the key path (globMatch)
 *   probe.matchBytes(pattern, subject)      // the raw-bytes path (stringMatchLen)
 *   probe.steps()                           // steps since the previous call
 *
 * The AssemblyScript entry is compiled from a string (it is not a file under test/, which tsc
 * type-checks as TypeScript).
 */
import { dirname, join, resolve } from 'node:path';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const ENTRY = 'glob-probe-entry.ts';
const SOURCE = `
import { globMatch, stringMatchLen, globSteps } from "./assembly/util/glob";

let area: usize = 0;
let areaSize: usize = 0;

/** A scratch area of at least n bytes: the pattern, then the subject. */
export function scratch(n: i32): usize {
  if (<usize>n > areaSize) { area = heap.alloc(<usize>n); areaSize = <usize>n; }
  return area;
}

/** The subject as a key string (one code unit per byte), matched the way KEYS does. */
export function matchKey(plen: i32, slen: i32, nocase: i32): i32 {
  const key = changetype<string>(__new(<usize>slen << 1, idof<string>()));
  const s = area + <usize>plen;
  for (let i = 0; i < slen; i++) store<u16>(changetype<usize>(key) + (<usize>i << 1), <u16>load<u8>(s + <usize>i));
  return globMatch(area, plen, key, nocase != 0) ? 1 : 0;
}

export function matchBytes(plen: i32, slen: i32, nocase: i32): i32 {
  return stringMatchLen(area, plen, area + <usize>plen, slen, nocase != 0) ? 1 : 0;
}

export function steps(): u64 { return globSteps; }
`;

export interface GlobProbe {
  match(pattern: string, subject: string, nocase?: boolean): boolean;
  matchBytes(pattern: string, subject: string, nocase?: boolean): boolean;
  /** Matcher steps taken since the previous call. */
  steps(): number;
}

let compiled: Promise<WebAssembly.Module> | undefined;

async function compile(): Promise<WebAssembly.Module> {
  const { default: asc } = await import('assemblyscript/asc');
  let binary: Uint8Array | undefined;
  let log = '';
  const sink = { write: (chunk: unknown) => ((log += String(chunk)), true) };
  const { error } = await asc.main(
    [ENTRY, '--baseDir', ROOT, '--config', 'glob-probe.asconfig.json', '--outFile', 'glob-probe.wasm', '-O3', '--runtime', 'stub', '--noAssert'],
    {
      stdout: sink,
      stderr: sink,
      readFile: (name: string, baseDir: string) => {
        if (name === ENTRY) return SOURCE;
        if (name === 'glob-probe.asconfig.json') return '{}';
        try {
          return readFileSync(join(baseDir, name), 'utf8');
        } catch {
          return null;
        }
      },
      writeFile: (name: string, contents: Uint8Array | string) => {
        if (name.endsWith('.wasm') && typeof contents !== 'string') binary = contents;
      },
      listFiles: () => [],
    },
  );
  if (error || !binary) throw new Error(`glob probe build failed: ${error?.message}\n${log}`);
  return WebAssembly.compile(binary as Uint8Array<ArrayBuffer>);
}

export async function globProbe(): Promise<GlobProbe> {
  compiled ??= compile();
  const inst = await WebAssembly.instantiate(await compiled, {
    env: {
      abort: (_m: number, _f: number, line: number, col: number) => {
        throw new Error(`glob probe aborted at ${line}:${col}`);
      },
    },
  });
  const ex = inst.exports as {
    memory: WebAssembly.Memory;
    scratch(n: number): number;
    matchKey(plen: number, slen: number, nocase: number): number;
    matchBytes(plen: number, slen: number, nocase: number): number;
    steps(): bigint;
  };
  let last = 0n;
  const load = (pattern: string, subject: string): void => {
    const at = ex.scratch(pattern.length + subject.length + 1);
    const mem = new Uint8Array(ex.memory.buffer);
    for (let i = 0; i < pattern.length; i++) mem[at + i] = pattern.charCodeAt(i);
    for (let i = 0; i < subject.length; i++) mem[at + pattern.length + i] = subject.charCodeAt(i);
  };
  return {
    match(pattern, subject, nocase = false) {
      load(pattern, subject);
      return ex.matchKey(pattern.length, subject.length, nocase ? 1 : 0) === 1;
    },
    matchBytes(pattern, subject, nocase = false) {
      load(pattern, subject);
      return ex.matchBytes(pattern.length, subject.length, nocase ? 1 : 0) === 1;
    },
    steps() {
      const now = ex.steps();
      const d = Number(now - last);
      last = now;
      return d;
    },
  };
}
