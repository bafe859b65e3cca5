// The published shape: npm pack → install the tarball into a fresh project → import it the ways
// users do (node condition, rivulet/slim with explicit bytes, the inline-base64 default entry, the
// browser entry over fetch, and the TypeScript `types` conditions). See test/packaging/run.mjs.
import { describe, expect, it } from 'vitest';
// @ts-expect-error — plain .mjs script without declarations
import { runPackaging } from './packaging/run.mjs';

type Result = Record<string, unknown> & { error?: string };
interface Packaging {
  tarball: string;
  files: string[];
  results: Record<string, Result>;
}

describe('npm package', () => {
  const packaging: Packaging = runPackaging();
  const { results } = packaging;

  it('ships dist/ only: entries, declarations and the wasm', () => {
    expect(packaging.tarball).toBe('rivulet-0.1.0.tgz');
    for (const f of [
      'package.json',
      'dist/bindings/entry.node.js',
      'dist/bindings/entry.browser.js',
      'dist/bindings/entry.default.js',
      'dist/bindings/slim.js',
      'dist/bindings/entry.default.d.ts',
      'dist/bindings/slim.d.ts',
      'dist/bindings/rivulet.wasm',
      'dist/bindings/wasm-inline.js',
    ]) {
      expect(packaging.files).toContain(f);
    }
    expect(packaging.files.filter((f) => !f.startsWith('dist/') && !/^(package\.json|README\.md|LICENSE)$/.test(f))).toEqual([]);
  });

  it("import 'rivulet' from Node ESM (node condition, wasm read from disk)", () => {
    expect(results['node-esm']).toEqual({
      isEngine: true,
      id: '1000-0',
      raw: '*1\r\n*2\r\n$6\r\n1000-0\r\n*2\r\n$4\r\ntemp\r\n$4\r\n23.5\r\n',
      xlen: 1,
      error: 'ERR The ID specified in XADD must be greater than 0-0',
    });
  });

  it("import 'rivulet/slim' with the bytes of 'rivulet/rivulet.wasm'", () => {
    expect(results.slim).toEqual({ id: '2000-0', xlen: 1, missing: 'TypeError', wasmPath: 'rivulet/dist/bindings/rivulet.wasm' });
  });

  it('the default entry runs from its inline base64 wasm', () => {
    expect(results.default).toEqual({ id: '3000-0', xlen: 1 });
  });

  it('the browser entry fetches rivulet.wasm next to itself, once for concurrent engines', () => {
    expect(results.browser).toEqual({ id: '4000-0', fetched: ['rivulet/dist/bindings/rivulet.wasm'] });
  });

  it('a pending blocked read holds the process open; an idle, unclosed engine lets it exit', () => {
    expect(results.keepalive).toEqual({ timedOut: null, waited: true, aborted: 'AbortError' });
  });

  it('TypeScript resolves the types of rivulet and rivulet/slim', () => {
    expect(results.types).toEqual({ ok: true });
  });
});
