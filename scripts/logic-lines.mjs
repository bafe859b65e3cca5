#!/usr/bin/env node
// Counts logic lines of TypeScript/JavaScript files: lines that are not blank, not comments and not
// lone punctuation (`}`, `});`, `],`). Usage: node scripts/logic-lines.mjs <file|dir>... (prints
// per file and the total; --total prints only the total).
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** Logic lines of one source text. */
export function logicLines(text) {
  let n = 0;
  let inBlock = false;
  for (const raw of text.split('\n')) {
    let line = raw.trim();
    if (inBlock) {
      const end = line.indexOf('*/');
      if (end < 0) continue;
      inBlock = false;
      line = line.slice(end + 2).trim();
    }
    if (line.startsWith('/*')) {
      const end = line.indexOf('*/', 2);
      if (end < 0) {
        inBlock = true;
        continue;
      }
      line = line.slice(end + 2).trim();
    }
    if (line === '' || line.startsWith('//') || /^[\s{}()[\];,]*$/.test(line)) continue;
    n++;
  }
  return n;
}

function files(p) {
  if (!statSync(p).isDirectory()) return [p];
  return readdirSync(p).sort().flatMap((f) => files(join(p, f))).filter((f) => /\.(ts|mjs|js)$/.test(f));
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const args = process.argv.slice(2);
  const onlyTotal = args.includes('--total');
  let total = 0;
  for (const f of args.filter((a) => a !== '--total').flatMap(files)) {
    const n = logicLines(readFileSync(f, 'utf8'));
    total += n;
    if (!onlyTotal) console.log(`${String(n).padStart(5)} ${f}`);
  }
  console.log(onlyTotal ? total : `${String(total).padStart(5)} total`);
}
