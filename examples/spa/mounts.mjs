// @ts-check
/**
 * What the example server serves for the browser example app: the page itself, the package's own build output
 * (`dist/`, loaded unchanged), and the package's four dependencies. Shared by `serve.mjs` (`npm run demo:browser`),
 * the browser tests and `bench/tabs.ts`, so all three serve the same thing.
 *
 * How the page loads the package: `index.html` has an import map. `authfetch` maps to `/dist/index.js`, exactly the
 * file `npm publish` ships, and its bare imports (`ky`, `jose`, `mitt`, `idb-keyval`, `oauth4webapi`) map to `/vendor/<name>.js`.
 * Those five are pre-bundled here with esbuild into one ESM file each, as Vite pre-bundles dependencies: served
 * straight from `node_modules` they are 66 small modules that the browser discovers level by level, which made
 * every tab take most of a second to start (five tabs sharing six connections: about three seconds).
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

/** The repository root (this file is `examples/spa/mounts.mjs`). */
export const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

/** The dependencies of `dist/index.js`; each must have an entry in the import map of `index.html`. */
const DEPENDENCIES = ['ky', 'jose', 'mitt', 'idb-keyval', 'oauth4webapi'];

/**
 * Bundle each dependency into `<dir>/<name>.js` (ESM, for browsers), in a fresh temporary directory, so parallel
 * test files never read a file another one is writing. Takes well under a second.
 * @returns {Promise<string>} the directory
 */
export async function bundleDependencies() {
  const outdir = await mkdtemp(path.join(tmpdir(), 'authfetch-spa-vendor-'));
  await build({
    entryPoints: Object.fromEntries(DEPENDENCIES.map((name) => [name, name])),
    absWorkingDir: repoRoot,
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    outdir,
    logLevel: 'warning',
  });
  return outdir;
}

/**
 * The `static` option of `startExampleServer` for the example app: URL prefix to absolute directory.
 * @returns {Promise<Record<string, string>>}
 */
export async function spaStaticMounts() {
  return {
    '/': path.join(repoRoot, 'examples/spa'),
    '/dist/': path.join(repoRoot, 'dist'),
    '/vendor/': await bundleDependencies(),
  };
}
