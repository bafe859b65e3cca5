/** esbuild for the browser tests: page and worker scripts bundled from TypeScript sources. */
import { build, type BuildOptions } from 'esbuild';

/** Bundles `entries` (output name → source file) into `outdir`; throws with esbuild's messages. */
export async function bundle(entries: Record<string, string>, outdir: string, options: BuildOptions = {}): Promise<void> {
  await build({
    entryPoints: entries,
    outdir,
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    logLevel: 'error',
    sourcemap: 'inline',
    ...options,
  });
}
