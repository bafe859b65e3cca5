// hosts/node stays a thin shell over the one host loop and hosts/shared: sockets, file storage and
// the CLI, under 500 logic lines (not blank, not a comment, not lone punctuation).
import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { logicLines } from '../../scripts/logic-lines.mjs';

const NODE_HOST = join(import.meta.dirname, '../../hosts/node');

describe('hosts/node', () => {
  it('is under 500 logic lines, and imports no other host-neutral logic than hosts/shared and bindings', () => {
    let total = 0;
    for (const f of readdirSync(NODE_HOST).filter((n) => n.endsWith('.ts'))) {
      const text = readFileSync(join(NODE_HOST, f), 'utf8');
      total += logicLines(text);
      for (const m of text.matchAll(/from '(\.[^']+)'/g)) expect(m[1], `${f} imports ${m[1]}`).toMatch(/^(\.\/|\.\.\/shared\/|\.\.\/\.\.\/bindings\/)/);
    }
    expect(total).toBeLessThan(500);
  });

  it('counts logic lines the way the review did', () => {
    expect(logicLines('// c\n/* a\n b */\n\nconst a = 1;\n}\n});\n  x();\n')).toBe(2);
  });
});
