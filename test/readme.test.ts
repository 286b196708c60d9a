/**
 * The README's code blocks compile against the real types (as wretch tests its README snippets): every ```ts
 * block is type-checked as its own module, with `authfetch` resolved to `src/index.ts`. App-side names the
 * snippets use (showSignIn, ...) are declared in one prelude, so the blocks read as an app would write them.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..');
const PRELUDE = `
declare function showSignIn(): void;
declare function hideSignIn(): void;
declare function showBanner(text: string): void;
declare function showToast(text: string): void;
declare function render(value: unknown): void;
declare function askUserToSignIn(): Promise<{ access_token: string; expires_in: number; refresh_token: string }>;
declare function redirectToStepUp(acrValues?: string[], maxAge?: number): void;
declare const mySdk: { getTokenSilently(options: { signal: AbortSignal }): Promise<string> };
`;

/** A block that starts with this line continues the block before it (it is checked with that block prepended). */
const CONTINUED = '// continued from the block above';

function snippets(): string[] {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const blocks = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1] ?? '');
  return blocks.map((code, i) => (code.startsWith(CONTINUED) && i > 0 ? `${blocks[i - 1]}\n${code}` : code));
}

describe('README', () => {
  it('has the two set-up commands near the top', () => {
    const top = readFileSync(join(root, 'README.md'), 'utf8').split('\n').slice(0, 30).join('\n');
    expect(top).toContain('npm install && npm run demo');
    expect(top).toContain('npm test');
  });

  it('every ts code block type-checks against the real API', () => {
    const blocks = snippets();
    expect(blocks.length).toBeGreaterThanOrEqual(5);
    const dir = join(root, 'node_modules', '.readme-snippets');
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    const files = blocks.map((code, i) => {
      const file = join(dir, `block-${String(i + 1).padStart(2, '0')}.ts`);
      // `export {}` makes each block a module (top-level await, no clashes between blocks).
      writeFileSync(file, `${PRELUDE}\n${code}\nexport {};\n`);
      return file;
    });
    const program = ts.createProgram(files, {
      strict: true,
      noEmit: true,
      target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.ESNext,
      moduleResolution: ts.ModuleResolutionKind.Bundler,
      lib: ['lib.es2022.d.ts', 'lib.dom.d.ts', 'lib.dom.iterable.d.ts'],
      types: [],
      skipLibCheck: true,
      paths: { authfetch: [join(root, 'src/index.ts')] },
    });
    const diagnostics = ts.getPreEmitDiagnostics(program).map((d) => {
      const where = d.file ? `${d.file.fileName.split('/').pop()}:${d.file.getLineAndCharacterOfPosition(d.start ?? 0).line + 1 - PRELUDE.split('\n').length}` : '';
      return `${where} ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`;
    });
    expect(diagnostics).toEqual([]);
  });
});
