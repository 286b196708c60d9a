// After `tsup`: remove the comments that float free in the bundled declarations (every .d.ts under dist/).
//
// tsup rolls each entry's declarations into one file (rollup-plugin-dts). A module's header comment, which
// describes the source file and often names it (`src/dpop/key.ts`), is kept there although the file it describes
// is gone, and it then sits in front of some other declaration. A JSDoc block belongs to a declaration only when
// the declaration follows it directly (TypeScript attaches it that way), so a block followed by a blank line,
// another comment or the end of the file belongs to nothing: this removes exactly those, and fails the build if a
// source path or an `@internal` member would still ship (`stripInternal` in tsup.config.ts removes the latter).
//
//   node scripts/tidy-dts.mjs [dir]     (`npm run build` runs it after tsup; dir defaults to dist/)
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const dir = process.argv[2] ?? fileURLToPath(new URL('../dist/', import.meta.url));

/** A JSDoc block, its indentation, and what follows it: a blank line, another comment, or the end of the file. */
const floating = /^[ \t]*\/\*\*(?:[^*]|\*(?!\/))*\*\/[ \t]*\n(?=[ \t]*\n|[ \t]*\/[*/]|$)/gm;

const problems = [];
const files = readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((file) => /\.d\.[cm]?ts$/.test(file));
if (files.length === 0) problems.push(`no declarations in ${dir} (run tsup first)`);
for (const file of files) {
  const full = path.join(dir, file);
  const source = readFileSync(full, 'utf8');
  const tidied = source.replace(floating, '').replace(/\n{3,}/g, '\n\n');
  if (/@internal\b/.test(tidied)) problems.push(`${file}: an @internal member (is stripInternal set in tsup.config.ts?)`);
  const sourcePath = /\bsrc\/[\w./-]+\.tsx?\b/.exec(tidied);
  if (sourcePath) problems.push(`${file}: a comment naming the source file ${sourcePath[0]}`);
  if (tidied !== source) writeFileSync(full, tidied);
}
if (problems.length > 0) {
  console.error(`scripts/tidy-dts.mjs: the declarations would ship\n  ${problems.join('\n  ')}`);
  process.exit(1);
}
