/**
 * The package as a consumer gets it: `npm pack` the built package, install the tarball into a fresh project outside
 * the repository (with only what such a project needs: typescript, vitest, jsdom, msw, esbuild, from the local npm
 * cache), and there
 *   (a) type-check app code that narrows errors by `code` and reads event payloads, under strict settings with
 *       `moduleResolution` `bundler` and `nodenext` (test/consumer/project/src/);
 *   (b) run the app's own vitest suite in jsdom with msw 2 mocking the API and the token endpoint, the client
 *       created at module load (test/consumer/project/test/);
 *   (c) bundle the README's quick start for the browser with esbuild.
 * It also checks what the tarball ships (declarations without internals or source paths, one source map line).
 */
import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt } from '../browser/helpers.js';

const run = promisify(execFile);
const repoRoot = path.resolve(import.meta.dirname, '../..');
const projectFiles = path.join(import.meta.dirname, 'project');
/** What a consumer project installs besides the tarball, at the versions this repository uses (so the cache has them). */
const CONSUMER_TOOLS = ['typescript', 'vitest', 'jsdom', 'msw', 'esbuild'];

let tmp = '';
let app = '';

/** Run a command in the consumer project; on failure the error carries its output, so the test report shows it. */
async function inApp(command: string, args: string[], timeout = 120_000): Promise<string> {
  // The vitest running this file sets VITEST* variables; the project's own vitest must not inherit them.
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('VITEST')));
  try {
    const { stdout, stderr } = await run(command, args, { cwd: app, env: { ...env, CI: 'true', NO_COLOR: '1' }, timeout, maxBuffer: 16 << 20 });
    return stdout + stderr;
  } catch (error) {
    const { stdout = '', stderr = '' } = error as { stdout?: string; stderr?: string };
    throw new Error(`${command} ${args.join(' ')} failed in the consumer project:\n${stdout}\n${stderr}`);
  }
}

function versionOf(name: string): string {
  const require = createRequire(path.join(repoRoot, 'package.json'));
  return (require(`${name}/package.json`) as { version: string }).version;
}

beforeAll(async () => {
  await ensureBuilt();
  tmp = mkdtempSync(path.join(tmpdir(), 'authfetch-consumer-'));
  app = path.join(tmp, 'app');
  // --ignore-scripts: `prepack` would rebuild dist/ (tsup cleans it first) under the browser tests reading it in
  // parallel; ensureBuilt above built it under their lock, the same way `npm run build` does.
  const { stdout } = await run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', tmp], { cwd: repoRoot });
  const [{ filename }] = JSON.parse(stdout) as [{ filename: string }];
  cpSync(projectFiles, app, { recursive: true });
  const devDependencies = Object.fromEntries(CONSUMER_TOOLS.map((name) => [name, versionOf(name)]));
  writeFileSync(
    path.join(app, 'package.json'),
    JSON.stringify({ name: 'consumer-app', private: true, type: 'module', dependencies: { authfetch: `file:../${filename}` }, devDependencies }, null, 2),
  );
  await inApp('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error'], 180_000);
}, 240_000);

afterAll(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe('the packed package, installed into a fresh project', () => {
  it('ships declarations without @internal members or source paths, and one source map line per module', () => {
    const dist = path.join(app, 'node_modules/authfetch/dist');
    const files = readdirSync(dist, { recursive: true, encoding: 'utf8' });
    const declarations = files.filter((file) => file.endsWith('.d.ts'));
    expect(declarations).toContain('index.d.ts');
    for (const file of declarations) {
      const text = readFileSync(path.join(dist, file), 'utf8');
      expect(text, file).not.toMatch(/@internal\b/);
      expect(text, file).not.toMatch(/\bsrc\/[\w./-]+\.tsx?\b/);
      // A JSDoc block followed by a blank line or another comment documents nothing (a stray module header).
      expect(text, file).not.toMatch(/\*\/[ \t]*\n(?:[ \t]*\n|[ \t]*\/\*)/);
    }
    for (const file of files.filter((name) => name.endsWith('.js'))) {
      const code = readFileSync(path.join(dist, file), 'utf8');
      expect(code.match(/^\/\/# sourceMappingURL=/gm), file).toEqual(['//# sourceMappingURL=']);
    }
  });

  it('documents its API with examples that call only what the package exports', () => {
    const dist = path.join(app, 'node_modules/authfetch/dist');
    const declarations = readdirSync(dist, { recursive: true, encoding: 'utf8' })
      .filter((file) => file.endsWith('.d.ts'))
      .map((file) => readFileSync(path.join(dist, file), 'utf8'))
      .join('\n');
    // What the entries export (each declaration file ends in `export { a, b as c, type D }`).
    const exported = new Set(
      [...declarations.matchAll(/^export \{([^}]*)\}/gm)].flatMap((match) =>
        (match[1] ?? '').split(',').map((name) => name.trim().replace(/^type /, '').split(/\s+as\s+/).at(-1) ?? ''),
      ),
    );
    expect(exported).toContain('createAuthClient');
    // The library's own functions that the package does not export: an example that calls one cannot be copied.
    const internal = new Set<string>();
    for (const file of readdirSync(path.join(repoRoot, 'src'), { recursive: true, encoding: 'utf8' })) {
      if (!/\.tsx?$/.test(file)) continue;
      for (const [, name] of readFileSync(path.join(repoRoot, 'src', file), 'utf8').matchAll(/export (?:async )?function (\w+)/g)) {
        if (name && !exported.has(name)) internal.add(name);
      }
    }
    const examples = [...declarations.matchAll(/@example[\s\S]*?```tsx?([\s\S]*?)```/g)].map((match) => match[1] ?? '');
    expect(examples.length).toBeGreaterThan(5);
    const calls = examples.flatMap((example) => [...example.matchAll(/\b(\w+)\(/g)].map((match) => match[1] ?? ''));
    expect(calls.filter((name) => internal.has(name))).toEqual([]);
  });

  it.each(['bundler', 'nodenext'])('type-checks app code under strict settings with moduleResolution %s', async (resolution) => {
    await inApp(process.execPath, ['node_modules/typescript/bin/tsc', '-p', `tsconfig.${resolution}.json`]);
  }, 120_000);

  it("runs the app's vitest suite in jsdom with msw, the client created at module load", async () => {
    const output = await inApp(process.execPath, ['node_modules/vitest/vitest.mjs', 'run']);
    expect(output).toMatch(/Tests\s+\d+ passed/);
  }, 120_000);

  it("bundles the README's quick start for the browser with esbuild", async () => {
    const readme = readFileSync(path.join(repoRoot, 'README.md'), 'utf8');
    const quickStart = /## Quick start\s+```ts\n([\s\S]*?)```/.exec(readme)?.[1];
    expect(quickStart, 'a ```ts block right under "## Quick start"').toContain('createAuthClient');
    const prelude = readFileSync(path.join(app, 'quick-start-prelude.ts'), 'utf8');
    writeFileSync(path.join(app, 'quick-start.ts'), `${prelude}\n${quickStart}\nexport {};\n`);
    const { build } = (await import(path.join(app, 'node_modules/esbuild/lib/main.js'))) as typeof import('esbuild');
    const result = await build({
      absWorkingDir: app,
      entryPoints: ['quick-start.ts'],
      bundle: true,
      minify: true,
      format: 'esm',
      platform: 'browser',
      target: 'es2022',
      write: false,
      metafile: true,
      logLevel: 'silent',
    });
    const [output] = Object.values(result.metafile.outputs);
    const shipped = Object.entries(output?.inputs ?? {}).filter(([, { bytesInOutput }]) => bytesInOutput > 0).map(([input]) => input);
    expect(shipped).toContain('node_modules/authfetch/dist/index.js');
    // Tree-shaken from the tarball (sideEffects: false): no IndexedDB code without indexedDbStorage().
    expect(shipped.filter((input) => input.includes('idb-keyval'))).toEqual([]);
    expect(result.outputFiles[0]?.text).not.toMatch(/\bnode:/);
  }, 60_000);
});
