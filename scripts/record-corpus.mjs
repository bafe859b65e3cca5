#!/usr/bin/env node
// Records the conformance corpus against a real redis-server (7.0.15) and writes
// test/conformance/expected.json.
//
//   node scripts/record-corpus.mjs              record every case, write expected.json
//   node scripts/record-corpus.mjs --check      record, compare with expected.json, write nothing
//   node scripts/record-corpus.mjs --print [--only <text>]
//                                               record (cases whose file or name contains <text>)
//                                               and print every command with its raw reply
//
// The TypeScript sources (test/conformance/corpus.ts, test/support/*.ts) are bundled on the fly
// with esbuild, so no TS runner is needed.
import { build } from 'esbuild';
import { mkdtempSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const argv = process.argv.slice(2);
const has = (f) => argv.includes(f);
const onlyIdx = argv.indexOf('--only');
const only = onlyIdx >= 0 ? argv[onlyIdx + 1] : null;
const print = has('--print');
const check = has('--check');

const bundle = await build({
  stdin: {
    contents:
      "export * from './test/conformance/corpus.ts';\n" +
      "export { startRedis } from './test/support/redis-server.ts';\n" +
      "export { quoteArgs } from './test/support/raw-client.ts';\n",
    resolveDir: root,
    loader: 'ts',
    sourcefile: 'record-entry.ts',
  },
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  write: false,
  logLevel: 'warning',
});
const tmp = mkdtempSync(join(tmpdir(), 'rivulet-record-'));
const entry = join(tmp, 'record.mjs');
// import.meta.url in the bundle must still point at test/conformance (CONFORMANCE_DIR)
const code = bundle.outputFiles[0].text.replaceAll(
  'import.meta.url',
  JSON.stringify(pathToFileURL(join(root, 'test/conformance/corpus.ts')).href),
);
writeFileSync(entry, code);
const m = await import(pathToFileURL(entry).href);
rmSync(tmp, { recursive: true, force: true });

let cases = m.loadCases();
if (only) cases = cases.filter((c) => c.file.includes(only) || c.name.includes(only));
const commands = cases.reduce((n, c) => n + c.steps.filter((s) => s.mode !== 'await').length, 0);

const redis = await m.startRedis();
let recorded;
const t0 = Date.now();
try {
  if (redis.version !== '7.0.15') {
    console.warn(`warning: redis-server is ${redis.version}, the corpus reference is 7.0.15`);
  }
  recorded = await m.recordAgainstRedis(redis.port, cases, {
    onCase(c) {
      if (!print) return;
      console.log(`### ${c.name}   [${c.file}]`);
      for (const s of c.steps) {
        const pre = (s.compare ? '' : '? ') + (s.mask ? '~ ' : '') + (s.conn !== 1 || s.mode !== 'sync' ? `@${s.conn}${s.mode === 'nowait' ? '&' : s.mode === 'await' ? '<' : ''} ` : '');
        console.log(`${pre}${m.quoteArgs(s.args.map(m.latin1ToBytes))}`);
        if (s.expect != null) console.log(`    -> ${m.showBytes(s.expect)}`);
      }
    },
  });
} finally {
  await redis.stop();
}
const secs = ((Date.now() - t0) / 1000).toFixed(1);
console.error(`recorded ${recorded.length} cases, ${commands} commands in ${secs}s (redis ${redis.version})`);

if (check) {
  const expected = JSON.parse(readFileSync(m.EXPECTED_PATH, 'utf8'));
  const a = m.formatExpected(expected);
  const b = m.formatExpected(only ? expected.filter((c) => recorded.some((r) => r.name === c.name)) : recorded);
  const got = m.formatExpected(recorded);
  if ((only ? b : a) !== got) {
    console.error('expected.json is out of date: run node scripts/record-corpus.mjs');
    process.exit(1);
  }
  console.error('expected.json is up to date');
} else if (!only && !print) {
  writeFileSync(m.EXPECTED_PATH, m.formatExpected(recorded));
  console.error(`wrote ${m.EXPECTED_PATH}`);
}
