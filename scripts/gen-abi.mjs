#!/usr/bin/env node
// Generates every host-side copy of the ABI from its one source, assembly/abi.ts:
//   bindings/abi.gen.ts                                               TypeScript (bindings, Node host)
//   hosts/esp32s3-wasm3/components/rivulet_host/include/rivulet_abi.h C (the device host on wasm3)
//   test/wasm3/abi_constants.py                                       Python (the wasm3 test harness)
//   docs/ABI.md, between `<!-- abi:begin NAME -->` / `<!-- abi:end NAME -->` markers (prose stays)
// scripts/build.mjs runs it before compiling; test/wasm-module.test.ts regenerates in memory and
// compares with the committed files.
//
// Usage: node scripts/gen-abi.mjs [--check]
//   --check  write nothing; exit 1 naming the files that are not up to date
import { readFileSync, writeFileSync, mkdirSync, existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const SOURCE = 'assembly/abi.ts';
export const OUTPUTS = {
  ts: 'bindings/abi.gen.ts',
  c: 'hosts/esp32s3-wasm3/components/rivulet_host/include/rivulet_abi.h',
  py: 'test/wasm3/abi_constants.py',
  doc: 'docs/ABI.md',
};

// ───────────────────────────────────────────────────────────────────────── parsing assembly/abi.ts

/** Wasm value types the table may use, with their byte size and each target's spelling. */
const TYPES = {
  i32: { size: 4, ts: 'number', c: 'int32_t', py: 'I32', pyStruct: 'i', wasm3: 'i', dv: 'Int32' },
  f64: { size: 8, ts: 'number', c: 'double', py: 'F64', pyStruct: 'd', wasm3: 'F', dv: 'Float64' },
};
const RESULT_TYPES = { ...TYPES, void: { ts: 'void', c: 'void', py: null, wasm3: 'v' } };

class AbiSyntaxError extends Error {
  constructor(line, msg) {
    super(`${SOURCE}:${line}: ${msg}`);
  }
}

/** "Some text.\n\nMore" → first paragraph joined into one line; the whole text kept too. */
function docOf(lines) {
  const text = lines.join('\n');
  const para = [];
  for (const l of lines) {
    if (l.trim() === '') break;
    para.push(l.trim());
  }
  return { summary: para.join(' '), text };
}

/**
 * Parses the table. Returns { constants, enums, records, sections, exports } in source order.
 * Anything the grammar (see the head of assembly/abi.ts) does not cover is an error, so the table
 * cannot hold something the generator silently skips.
 */
export function parseAbi(source) {
  const lines = source.split('\n');
  const abi = { constants: [], enums: [], records: [], sections: [], exports: [] };
  let doc = null;
  let section = null;
  let i = 0;
  const need = (line) => {
    if (!doc) throw new AbiSyntaxError(line, 'a declaration needs a /** doc */ comment right above it');
    const d = doc;
    doc = null;
    return d;
  };
  /** Reads a /** … *\/ block starting at lines[i]; returns its lines with the decoration stripped. */
  const readDoc = () => {
    const out = [];
    let l = lines[i].trim();
    if (l.endsWith('*/') && l.length > 4) {
      out.push(l.slice(3, -2).trim());
      i++;
      return out;
    }
    out.push(l.slice(3).trim());
    for (i++; i < lines.length; i++) {
      l = lines[i].trim();
      if (l.endsWith('*/')) {
        const rest = l.slice(0, -2).replace(/^\*\s?/, '');
        if (rest.trim()) out.push(rest);
        i++;
        return out.filter((x, k) => k > 0 || x !== '');
      }
      out.push(lines[i].replace(/^\s*\*\s?/, ''));
    }
    throw new AbiSyntaxError(i, 'unterminated /** comment');
  };
  while (i < lines.length) {
    const raw = lines[i];
    const l = raw.trim();
    const at = i + 1;
    if (l === '') {
      i++;
      continue;
    }
    if (l.startsWith('/**')) {
      doc = docOf(readDoc());
      continue;
    }
    let m;
    if ((m = /^\/\/ @section ([a-z]+) (.+)$/.exec(l))) {
      section = { id: m[1], title: m[2].trim() };
      if (abi.sections.some((s) => s.id === section.id)) throw new AbiSyntaxError(at, `section ${section.id} twice`);
      abi.sections.push(section);
      i++;
      continue;
    }
    if (l.startsWith('//')) {
      if (l.startsWith('// @section')) throw new AbiSyntaxError(at, 'malformed @section line (// @section <id> <title>)');
      i++;
      continue;
    }
    if ((m = /^export const ([A-Z][A-Z0-9_]*): i32 = (-?\d+);$/.exec(l))) {
      abi.constants.push({ name: m[1], value: Number(m[2]), doc: need(at) });
      i++;
      continue;
    }
    if ((m = /^export const enum ([A-Z][A-Za-z0-9]*) \{$/.exec(l))) {
      const e = { name: m[1], doc: need(at), members: [] };
      for (i++; i < lines.length; ) {
        const t = lines[i].trim();
        if (t === '}') break;
        if (t.startsWith('/**')) {
          doc = docOf(readDoc());
          continue;
        }
        const mm = /^([A-Z][A-Z0-9_]*) = (-?\d+),$/.exec(t);
        if (!mm) throw new AbiSyntaxError(i + 1, `enum ${e.name}: expected "NAME = <integer>," or "}", got "${t}"`);
        e.members.push({ name: mm[1], value: Number(mm[2]), doc: need(i + 1) });
        i++;
      }
      if (!e.members.length) throw new AbiSyntaxError(at, `enum ${e.name} has no members`);
      abi.enums.push(e);
      i++;
      continue;
    }
    if ((m = /^@unmanaged export class ([A-Z][A-Za-z0-9]*) \{$/.exec(l))) {
      const r = { name: m[1], doc: need(at), fields: [], size: 0 };
      for (i++; i < lines.length; ) {
        const t = lines[i].trim();
        if (t === '}') break;
        if (t.startsWith('/**')) {
          doc = docOf(readDoc());
          continue;
        }
        const mm = /^([a-z][A-Za-z0-9]*): ([a-z0-9]+);$/.exec(t);
        if (!mm) throw new AbiSyntaxError(i + 1, `class ${r.name}: expected "field: type;" or "}", got "${t}"`);
        const type = TYPES[mm[2]];
        if (!type) throw new AbiSyntaxError(i + 1, `class ${r.name}: field type ${mm[2]} (use ${Object.keys(TYPES).join(' or ')})`);
        // AssemblyScript aligns each field to its size; the copies must not depend on padding rules
        // (i386 aligns f64 to 4 inside structs), so the table admits only layouts without padding.
        if (r.size % type.size !== 0) {
          throw new AbiSyntaxError(i + 1, `class ${r.name}: ${mm[1]} would need padding at offset ${r.size} (put f64 fields first)`);
        }
        r.fields.push({ name: mm[1], type: mm[2], offset: r.size, doc: need(i + 1) });
        r.size += type.size;
        i++;
      }
      if (r.size % 8 !== 0) throw new AbiSyntaxError(at, `class ${r.name}: size ${r.size} is not a multiple of 8 (add an i32 field)`);
      abi.records.push(r);
      i++;
      continue;
    }
    if ((m = /^export type (rv_[a-z0-9_]+) = \(([^)]*)\) => ([a-z0-9]+);$/.exec(l))) {
      if (!section) throw new AbiSyntaxError(at, 'an export before the first // @section line');
      const params = m[2].trim() === '' ? [] : m[2].split(',').map((p) => {
        const pm = /^\s*([a-z][A-Za-z0-9]*): ([a-z0-9]+)\s*$/.exec(p);
        if (!pm || !TYPES[pm[2]]) throw new AbiSyntaxError(at, `${m[1]}: bad parameter "${p.trim()}"`);
        return { name: pm[1], type: pm[2] };
      });
      if (!RESULT_TYPES[m[3]]) throw new AbiSyntaxError(at, `${m[1]}: bad result type ${m[3]}`);
      if (abi.exports.some((e) => e.name === m[1])) throw new AbiSyntaxError(at, `${m[1]} twice`);
      abi.exports.push({ name: m[1], params, result: m[3], section: section.id, doc: need(at) });
      i++;
      continue;
    }
    throw new AbiSyntaxError(at, `not part of the ABI grammar: "${l}"`);
  }
  if (doc) throw new AbiSyntaxError(lines.length, 'a doc comment with no declaration after it');
  return abi;
}

/** `(i32, i32, f64) -> i32`, the way wasm-objdump prints a function type (void → nil). */
export function wasmSignature(e) {
  return `(${e.params.map((p) => p.type).join(', ')}) -> ${e.result === 'void' ? 'nil' : e.result}`;
}

/** wasm3's signature string, e.g. "i(iiF)". */
function wasm3Signature(e) {
  return `${RESULT_TYPES[e.result].wasm3}(${e.params.map((p) => TYPES[p.type].wasm3).join('')})`;
}

const snake = (s) => s.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase();
const upperSnake = (s) => snake(s).toUpperCase();

// ───────────────────────────────────────────────────────────────────────── emitters

const HEAD = `Generated by scripts/gen-abi.mjs from ${SOURCE}; do not edit (change ${SOURCE}, then run the build).`;

function tsDoc(text, indent = '') {
  return `${indent}/** ${text.replace(/\*\//g, '*\\/')} */\n`;
}

export function emitTs(abi) {
  let s = `// ${HEAD}\n\n`;
  for (const c of abi.constants) s += tsDoc(c.doc.summary) + `export const ${c.name} = ${c.value};\n`;
  for (const e of abi.enums) {
    s += '\n' + tsDoc(e.doc.summary) + `export const ${e.name} = {\n`;
    for (const m of e.members) s += tsDoc(m.doc.summary, '  ') + `  ${m.name}: ${m.value},\n`;
    s += '} as const;\n';
  }
  for (const r of abi.records) {
    const constName = upperSnake(r.name);
    s += '\n' + tsDoc(r.doc.summary) + `export interface ${r.name} {\n`;
    for (const f of r.fields) s += tsDoc(`${f.doc.summary} (offset ${f.offset}, ${f.type})`, '  ') + `  ${f.name}: number;\n`;
    s += '}\n';
    s += tsDoc(`Byte size of a ${r.name} record (what follows it is described by its length fields).`);
    s += `export const ${constName}_SIZE = ${r.size};\n`;
    s += tsDoc(`Reads a ${r.name} record at byte \`at\` of \`view\` (little-endian).`);
    s += `export function read${r.name}(view: DataView, at = 0): ${r.name} {\n  return {\n`;
    for (const f of r.fields) s += `    ${f.name}: view.get${TYPES[f.type].dv}(at + ${f.offset}, true),\n`;
    s += '  };\n}\n';
  }
  s += '\n/** The exports of `rivulet.wasm`, one to one with assembly/abi.ts. Times are f64 ms since the epoch. */\n';
  s += 'export interface RivuletExports {\n  readonly memory: WebAssembly.Memory;\n';
  for (const e of abi.exports) {
    s += tsDoc(e.doc.summary, '  ');
    s += `  ${e.name}(${e.params.map((p) => `${p.name}: ${TYPES[p.type].ts}`).join(', ')}): ${RESULT_TYPES[e.result].ts};\n`;
  }
  s += '}\n\n/** Every function `rivulet.wasm` exports (all required). */\nexport const EXPORT_NAMES = [\n';
  for (const e of abi.exports) s += `  '${e.name}',\n`;
  s += '] as const;\n\n/** Wasm signature of each export, as wasm-objdump prints it. */\n';
  s += 'export const EXPORT_SIGNATURES: { readonly [name in (typeof EXPORT_NAMES)[number]]: string } = {\n';
  for (const e of abi.exports) s += `  ${e.name}: '${wasmSignature(e)}',\n`;
  s += '};\n';
  return s;
}

function cComment(text, indent = '') {
  return `${indent}/* ${text.replace(/\*\//g, '* /')} */\n`;
}

export function emitC(abi) {
  let s = `/* ${HEAD} */\n`;
  s += '/* The Rivulet wasm ABI (docs/ABI.md) for C hosts: constants, the records the engine writes into\n';
  s += ' * scratch (little-endian, as in wasm linear memory; the asserts pin their layout), and the exports\n';
  s += ' * with their wasm3 signatures. */\n';
  s += '#ifndef RIVULET_ABI_H\n#define RIVULET_ABI_H\n\n#include <stddef.h>\n#include <stdint.h>\n\n';
  s += '#if defined(__cplusplus)\n#define RV_ABI_STATIC_ASSERT(c, m) static_assert(c, m)\n#else\n#define RV_ABI_STATIC_ASSERT(c, m) _Static_assert(c, m)\n#endif\n\n';
  for (const c of abi.constants) s += cComment(c.doc.summary) + `#define RV_${c.name} ${c.value}\n`;
  for (const e of abi.enums) {
    s += '\n' + cComment(e.doc.summary) + `enum rv_${snake(e.name)} {\n`;
    for (const m of e.members) s += cComment(m.doc.summary, '  ') + `  RV_${upperSnake(e.name)}_${m.name} = ${m.value},\n`;
    s += '};\n';
  }
  for (const r of abi.records) {
    const t = `rv_${snake(r.name)}_t`;
    s += '\n/*\n' + r.doc.text.split('\n').map((x) => ` *${x ? ' ' + x : ''}`).join('\n') + '\n */\n';
    s += `typedef struct ${t} {\n`;
    for (const f of r.fields) s += cComment(`${f.offset}: ${f.doc.summary}`, '  ') + `  ${TYPES[f.type].c} ${snake(f.name)};\n`;
    s += `} ${t};\n#define RV_${upperSnake(r.name)}_SIZE ${r.size}\n`;
    s += `RV_ABI_STATIC_ASSERT(sizeof(${t}) == ${r.size}, "${t}: size");\n`;
    for (const f of r.fields) {
      s += `RV_ABI_STATIC_ASSERT(offsetof(${t}, ${snake(f.name)}) == ${f.offset}, "${t}.${snake(f.name)}: offset");\n`;
    }
  }
  s += '\n/* Every export: X(name, wasm3 signature). Prototypes (wasm i32 = int32_t, f64 = double):\n';
  for (const sec of abi.sections) {
    s += ` *\n * ${sec.title}\n`;
    for (const e of abi.exports.filter((x) => x.section === sec.id)) {
      const args = e.params.length ? e.params.map((p) => `${TYPES[p.type].c} ${p.name}`).join(', ') : 'void';
      s += ` *   ${RESULT_TYPES[e.result].c} ${e.name}(${args});\n`;
      s += ` *       ${e.doc.summary.replace(/\*\//g, '* /')}\n`;
    }
  }
  s += ' */\n#define RV_ABI_EXPORTS(X) \\\n';
  s += abi.exports.map((e) => `  X(${e.name}, "${wasm3Signature(e)}")`).join(' \\\n') + '\n';
  s += `#define RV_ABI_EXPORT_COUNT ${abi.exports.length}\n\n#endif /* RIVULET_ABI_H */\n`;
  return s;
}

function pyStr(text) {
  return JSON.stringify(text);
}

export function emitPy(abi) {
  let s = `"""${HEAD}"""\n\n`;
  s += '# wasm3 value type ids (Function.arg_types / ret_types)\nI32, I64, F32, F64 = 1, 2, 3, 4\n\n';
  for (const c of abi.constants) s += `${c.name} = ${c.value}  # ${c.doc.summary}\n`;
  for (const e of abi.enums) {
    s += `\n\nclass ${e.name}:\n    ${pyStr(e.doc.summary)}\n`;
    for (const m of e.members) s += `    ${m.name} = ${m.value}  # ${m.doc.summary}\n`;
  }
  for (const r of abi.records) {
    s += `\n\nclass ${r.name}:\n    ${pyStr(r.doc.summary)}\n`;
    s += `    SIZE = ${r.size}\n`;
    s += `    STRUCT = "<${r.fields.map((f) => TYPES[f.type].pyStruct).join('')}"  # struct.unpack_from format\n`;
    s += `    FIELDS = (${r.fields.map((f) => pyStr(f.name)).join(', ')},)\n`;
  }
  s += '\n\n# Every export: name -> (parameter names, parameter types, result types)\nEXPORTS = {\n';
  for (const e of abi.exports) {
    const names = e.params.map((p) => pyStr(p.name));
    const types = e.params.map((p) => TYPES[p.type].py);
    const tup = (xs) => (xs.length === 0 ? '()' : xs.length === 1 ? `(${xs[0]},)` : `(${xs.join(', ')})`);
    const ret = e.result === 'void' ? '()' : `(${RESULT_TYPES[e.result].py},)`;
    s += `    ${pyStr(e.name)}: (${tup(names)}, ${tup(types)}, ${ret}),\n`;
  }
  s += '}\n';
  return s;
}

const cell = (t) => t.replace(/\|/g, '\\|');

/** The generated blocks of docs/ABI.md, by marker name. */
export function docBlocks(abi) {
  const blocks = new Map();
  for (const sec of abi.sections) {
    let t = '| export | signature | meaning |\n|---|---|---|\n';
    for (const e of abi.exports.filter((x) => x.section === sec.id)) {
      t += `| \`${e.name}(${e.params.map((p) => p.name).join(', ')})\` | \`${wasmSignature(e).replace('nil', 'void')}\` | ${cell(e.doc.summary)} |\n`;
    }
    blocks.set(`exports ${sec.id}`, t);
  }
  let t = '| constant | value | meaning |\n|---|---|---|\n';
  for (const c of abi.constants) t += `| \`${c.name}\` | ${c.value} | ${cell(c.doc.summary)} |\n`;
  blocks.set('constants', t);
  for (const e of abi.enums) {
    let b = `${e.doc.summary}\n\n| value | name | meaning |\n|---|---|---|\n`;
    for (const m of e.members) b += `| ${m.value} | \`${m.name}\` | ${cell(m.doc.summary)} |\n`;
    blocks.set(`enum ${e.name}`, b);
  }
  for (const r of abi.records) {
    let b = `${r.doc.summary} ${r.size} bytes.\n\n| offset | field | type | meaning |\n|---|---|---|---|\n`;
    for (const f of r.fields) b += `| ${f.offset} | \`${f.name}\` | ${f.type} | ${cell(f.doc.summary)} |\n`;
    blocks.set(`record ${r.name}`, b);
  }
  return blocks;
}

/** docs/ABI.md with every generated block replaced; each block's markers must be there exactly once. */
export function emitDoc(abi, doc) {
  const blocks = docBlocks(abi);
  const seen = new Set();
  const out = doc.replace(/<!-- abi:begin ([^>]+?) -->\n[\s\S]*?<!-- abi:end \1 -->/g, (_, name) => {
    if (!blocks.has(name)) throw new Error(`${OUTPUTS.doc}: unknown generated block "${name}"`);
    if (seen.has(name)) throw new Error(`${OUTPUTS.doc}: block "${name}" twice`);
    seen.add(name);
    return `<!-- abi:begin ${name} -->\n${blocks.get(name)}<!-- abi:end ${name} -->`;
  });
  const missing = [...blocks.keys()].filter((n) => !seen.has(n));
  if (missing.length) {
    throw new Error(`${OUTPUTS.doc}: no place for ${missing.map((n) => `"${n}"`).join(', ')} (add <!-- abi:begin NAME --> / <!-- abi:end NAME --> markers)`);
  }
  if (/<!-- abi:(begin|end) /.test(out.replace(/<!-- abi:begin ([^>]+?) -->\n[\s\S]*?<!-- abi:end \1 -->/g, ''))) {
    throw new Error(`${OUTPUTS.doc}: an unpaired abi:begin / abi:end marker`);
  }
  return out;
}

/** Every generated file's expected content, by path relative to the repository root. */
export function generate(root = ROOT) {
  const abi = parseAbi(readFileSync(join(root, SOURCE), 'utf8'));
  return new Map([
    [OUTPUTS.ts, emitTs(abi)],
    [OUTPUTS.c, emitC(abi)],
    [OUTPUTS.py, emitPy(abi)],
    [OUTPUTS.doc, emitDoc(abi, readFileSync(join(root, OUTPUTS.doc), 'utf8'))],
  ]);
}

/** Paths whose committed content differs from what `generate` produces. */
export function stale(root = ROOT) {
  const out = [];
  for (const [path, text] of generate(root)) {
    const file = join(root, path);
    if (!existsSync(file) || readFileSync(file, 'utf8') !== text) out.push(path);
  }
  return out;
}

function main() {
  let values;
  try {
    ({ values } = parseArgs({ options: { check: { type: 'boolean', default: false } }, strict: true }));
  } catch (e) {
    console.error(`gen-abi: ${e.message} (usage: node scripts/gen-abi.mjs [--check])`);
    process.exit(2);
  }
  if (values.check) {
    const bad = stale();
    if (bad.length) {
      console.error(`gen-abi: not up to date with ${SOURCE}: ${bad.join(', ')} (run node scripts/gen-abi.mjs)`);
      process.exit(1);
    }
    return;
  }
  for (const path of writeGenerated()) console.log(`gen-abi: wrote ${path}`);
}

/** Writes every generated file whose content changed; returns their paths. */
export function writeGenerated(root = ROOT) {
  const written = [];
  for (const [path, text] of generate(root)) {
    const file = join(root, path);
    if (existsSync(file) && readFileSync(file, 'utf8') === text) continue;
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, text);
    written.push(path);
  }
  return written;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main();
