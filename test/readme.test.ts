// The README's in-process example and examples/in-process.mjs run as written (from the package root,
// importing 'rivulet' through package.json self-reference, as a user of the package would).
import { describe, it, expect } from 'vitest';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

function runNode(file: string) {
  return spawnSync(process.execPath, [file], { cwd: root, encoding: 'utf8', timeout: 30_000 });
}

describe('documentation examples', () => {
  it("the README's in-process snippet runs", () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    const section = readme.slice(readme.indexOf('## In-process'));
    const code = /```ts\n([\s\S]*?)```/.exec(section)![1];
    mkdirSync(new URL('../build/', import.meta.url), { recursive: true });
    const file = fileURLToPath(new URL('../build/readme-snippet.mjs', import.meta.url));
    writeFileSync(file, code);
    const r = runNode(file);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain("stream: 'sensors'");
  });

  it('examples/in-process.mjs runs', () => {
    const r = runNode(fileURLToPath(new URL('../examples/in-process.mjs', import.meta.url)));
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('cancelled read: AbortError');
  });
});
