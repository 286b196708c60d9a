/**
 * The code in the README and in the guides compiles against the real types (as wretch tests its README snippets):
 * every ```ts and ```tsx block of `README.md` and `docs/*.md` (found by glob, so a new guide is checked without
 * being listed here) is type-checked as its own module, with `authfetch`, `authfetch/react` and `authfetch/testing`
 * resolved to `src/`. App-side names the snippets use (showSignIn, ...) are declared in one prelude, so the blocks
 * read as an app would write them.
 */
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..');
/**
 * App-side names the blocks use, declared for a block unless the block defines or imports that name itself (a
 * test block imports `render` from @testing-library/react; a guide shows its own `Dashboard`).
 */
const PRELUDE: Record<string, string> = {
  showSignIn: 'declare function showSignIn(): void;',
  hideSignIn: 'declare function hideSignIn(): void;',
  showBanner: 'declare function showBanner(text: string): void;',
  showToast: 'declare function showToast(text: string): void;',
  render: 'declare function render(value: unknown): void;',
  askUserToSignIn:
    'declare function askUserToSignIn(): Promise<{ access_token: string; expires_in: number; refresh_token: string }>;',
  redirectToStepUp: 'declare function redirectToStepUp(acrValues?: string[], maxAge?: number): void;',
  mySdk: 'declare const mySdk: { getTokenSilently(options: { signal: AbortSignal }): Promise<string> };',
  App: "declare function App(): import('react').ReactNode;",
  SignInPage: "declare function SignInPage(): import('react').ReactNode;",
  Dashboard: "declare function Dashboard(): import('react').ReactNode;",
};

/** The prelude of one block, on one line, so that line numbers in the block stay as they are in the Markdown. */
function preludeFor(code: string): string {
  const own = (name: string) =>
    new RegExp(`\\b(function|class|const|let)\\s+${name}\\b`).test(code) ||
    new RegExp(`import\\s[^;]*\\b${name}\\b[^;]*\\sfrom\\s`).test(code);
  return Object.entries(PRELUDE)
    .filter(([name]) => !own(name))
    .map(([, declaration]) => declaration)
    .join(' ');
}

/** A block that starts with this line continues the block before it (it is checked with that block prepended). */
const CONTINUED = '// continued from the block above';

interface Snippet {
  /** `README.md`, `docs/react.md`, ... */
  source: string;
  /** 1-based position of the block in its file. */
  index: number;
  language: 'ts' | 'tsx';
  code: string;
}

/** The Markdown files whose code blocks are checked: the README and every guide in docs/. */
function markdownFiles(): string[] {
  const guides = readdirSync(join(root, 'docs'))
    .filter((name) => name.endsWith('.md'))
    .sort()
    .map((name) => `docs/${name}`);
  return ['README.md', ...guides];
}

function snippetsOf(source: string): Snippet[] {
  const text = readFileSync(join(root, source), 'utf8');
  const blocks = [...text.matchAll(/```(tsx?)\n([\s\S]*?)```/g)].map((m) => ({ language: m[1] as 'ts' | 'tsx', code: m[2] ?? '' }));
  return blocks.map((block, i) => {
    const previous = blocks[i - 1];
    const code = block.code.startsWith(CONTINUED) && previous ? `${previous.code}\n${block.code}` : block.code;
    // A continued block is checked as the kind of its first part (a tsx block may continue a ts one).
    const language = block.language === 'tsx' || (code !== block.code && previous?.language === 'tsx') ? 'tsx' : 'ts';
    return { source, index: i + 1, language, code };
  });
}

describe('README', () => {
  it('has the two set-up commands near the top', () => {
    const top = readFileSync(join(root, 'README.md'), 'utf8').split('\n').slice(0, 30).join('\n');
    expect(top).toContain('npm install && npm run demo');
    expect(top).toContain('npm test');
  });

  it('links the guides (docs/README.md)', () => {
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    expect(readme).toContain('docs/README.md');
  });
});

describe('docs/README.md', () => {
  it('lists every guide in docs/', () => {
    const index = readFileSync(join(root, 'docs/README.md'), 'utf8');
    const unlisted = markdownFiles()
      .filter((file) => file.startsWith('docs/') && file !== 'docs/README.md')
      .filter((file) => !index.includes(`](${file.slice('docs/'.length)})`));
    expect(unlisted).toEqual([]);
  });
});

describe('code blocks of README.md and docs/*.md', () => {
  it('every ts and tsx block type-checks against the real API', () => {
    const snippets = markdownFiles().flatMap(snippetsOf);
    expect(snippets.filter((s) => s.source === 'README.md').length).toBeGreaterThanOrEqual(5);
    expect(new Set(snippets.map((s) => s.source)).size).toBeGreaterThanOrEqual(5);
    const dir = join(root, 'node_modules', '.readme-snippets');
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    const names = new Map<string, Snippet>();
    const files = snippets.map((snippet) => {
      const name = `${snippet.source.replace(/[/.]/g, '_')}-${String(snippet.index).padStart(2, '0')}.${snippet.language}`;
      const file = join(dir, name);
      names.set(name, snippet);
      // `export {}` makes each block a module (top-level await, no clashes between blocks).
      writeFileSync(file, `${preludeFor(snippet.code)}\n${snippet.code}\nexport {};\n`);
      return file;
    });
    const program = ts.createProgram(files, {
      strict: true,
      noEmit: true,
      target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.ESNext,
      moduleResolution: ts.ModuleResolutionKind.Bundler,
      lib: ['lib.es2022.d.ts', 'lib.dom.d.ts', 'lib.dom.iterable.d.ts'],
      jsx: ts.JsxEmit.ReactJSX,
      types: [],
      skipLibCheck: true,
      paths: {
        authfetch: [join(root, 'src/index.ts')],
        'authfetch/react': [join(root, 'src/react/index.ts')],
        'authfetch/testing': [join(root, 'src/testing/index.ts')],
      },
    });
    // The prelude is one line, then a line break.
    const preludeLines = 1;
    const diagnostics = ts.getPreEmitDiagnostics(program).map((d) => {
      const snippet = d.file ? names.get(d.file.fileName.split('/').pop() ?? '') : undefined;
      const line = d.file ? d.file.getLineAndCharacterOfPosition(d.start ?? 0).line + 1 - preludeLines : 0;
      const where = snippet ? `${snippet.source} block ${snippet.index}, line ${line}:` : (d.file?.fileName ?? '');
      return `${where} ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`;
    });
    expect(diagnostics).toEqual([]);
  });
});
