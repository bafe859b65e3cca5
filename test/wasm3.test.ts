// Runs the conformance corpus, the OOM-under-a-page-budget, protocol-error, engine-facts and
// persistence-job checks against build/rivulet.wasm under wasm3 (pywasm3 0.5.0 = wasm3 v0.5.0, the
// interpreter family of the ESP32 firmware): test/wasm3/run_corpus.py must exit 0.
//
// Python: .venv-wasm3/bin/python when scripts/ensure-deps.sh created it, else python3 — the first
// that imports wasm3. $RIVULET_WASM3_PYTHON overrides; $RIVULET_WASM overrides the module path.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const SCRIPT = join(ROOT, 'test', 'wasm3', 'run_corpus.py');

function findPython(): { python?: string; tried: string[] } {
  const candidates = process.env.RIVULET_WASM3_PYTHON
    ? [process.env.RIVULET_WASM3_PYTHON]
    : [join(ROOT, '.venv-wasm3', 'bin', 'python'), 'python3'];
  const tried: string[] = [];
  for (const py of candidates) {
    if (py.includes('/') && !existsSync(py)) continue;
    const r = spawnSync(py, ['-c', 'import wasm3'], { encoding: 'utf8' });
    if (!r.error && r.status === 0) return { python: py, tried };
    tried.push(`${py}: ${r.error?.message ?? r.stderr.trim().split('\n').pop()}`);
  }
  return { tried };
}

function runPython(python: string, args: string[], timeoutMs: number): Promise<{ code: number | null; out: string }> {
  return new Promise((res) => {
    const child = spawn(python, args, { cwd: ROOT, env: { ...process.env, PYTHONUNBUFFERED: '1' } });
    let out = '';
    child.stdout.on('data', (d) => (out += d.toString()));
    child.stderr.on('data', (d) => (out += d.toString()));
    const timer = setTimeout(() => {
      out += `\n[wasm3.test] killed after ${timeoutMs} ms\n`;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      res({ code, out });
    });
  });
}

const TIMEOUT_MS = Number(process.env.RIVULET_WASM3_TIMEOUT_MS ?? 10 * 60 * 1000);

describe('rivulet.wasm under wasm3 (pywasm3)', () => {
  it(
    'passes the conformance corpus, the OOM, protocol-error, engine-facts and persistence-job checks',
    async () => {
      const { python, tried } = findPython();
      expect(python, `no python with pywasm3 (tried: ${tried.join('; ')}); run scripts/ensure-deps.sh`).toBeDefined();
      const t = Date.now();
      const { code, out } = await runPython(python!, [SCRIPT], TIMEOUT_MS);
      // the summary lines, always; the whole output on failure (in the assertion message)
      const summary = out
        .split('\n')
        .filter((l) => /^(wasm3|corpus|newer|oom|budget|protocol|facts|jobs):|^FAIL /.test(l))
        .slice(0, 40)
        .join('\n');
      console.log(`[wasm3] ${python} ${SCRIPT.replace(ROOT + '/', '')} (${Date.now() - t} ms)\n${summary}`);
      expect(code, `run_corpus.py exited ${code}:\n${out}`).toBe(0);
    },
    TIMEOUT_MS + 30_000,
  );
});
