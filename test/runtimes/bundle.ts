/**
 * The flow's bundles for the runtimes that take one file: the built package (`dist/index.js`) with its dependencies
 * and the flow, as an app's bundler would ship them (esbuild, ESM, minified off so stack traces read).
 */
import { copyFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { build } from 'esbuild';

const here = import.meta.dirname;

/** Where the bundles are: `index.html` + `page.js` + `worker.js` for browsers, `workerd.js` for miniflare. */
export interface FlowBundles {
  dir: string;
  /** The workerd module's source (miniflare takes the script text). */
  workerdScript: string;
}

/** Bundle the page, the module worker and the workerd module into a fresh temporary directory. */
export async function bundleFlow(): Promise<FlowBundles> {
  const dir = mkdtempSync(path.join(tmpdir(), 'authfetch-runtimes-'));
  const common = { bundle: true, format: 'esm', target: 'es2022', logLevel: 'warning', absWorkingDir: here } as const;
  await build({
    ...common,
    entryPoints: { page: path.join(here, 'page-entry.mjs'), worker: path.join(here, 'worker-entry.mjs') },
    platform: 'browser',
    outdir: dir,
  });
  // workerd resolves packages by the `workerd` and `worker` export conditions, as wrangler does.
  const workerd = await build({
    ...common,
    entryPoints: [path.join(here, 'worker-entry.mjs')],
    platform: 'neutral',
    conditions: ['workerd', 'worker', 'browser'],
    mainFields: ['module', 'main'],
    write: false,
  });
  copyFileSync(path.join(here, 'page.html'), path.join(dir, 'index.html'));
  return { dir, workerdScript: workerd.outputFiles[0]?.text ?? '' };
}
