// After `tsup`: remove the comments that float free in the bundled declarations (dist/index.d.ts).
//
// tsup rolls every module's declarations into one file (rollup-plugin-dts). A module's header comment, which
// describes the source file and often names it (`src/dpop/key.ts`), is kept there although the file it describes
// is gone, and it then sits in front of some other declaration. A JSDoc block belongs to a declaration only when
// the declaration follows it directly (TypeScript attaches it that way), so a block followed by a blank line,
// another comment or the end of the file belongs to nothing: this removes exactly those, and fails the build if a
// source path or an `@internal` member would still ship (`stripInternal` in tsup.config.ts removes the latter).
//
//   node scripts/tidy-dts.mjs [file]     (`npm run build` runs it after tsup)
import { readFileSync, writeFileSync } from 'node:fs';

const file = process.argv[2] ?? new URL('../dist/index.d.ts', import.meta.url);
const source = readFileSync(file, 'utf8');

/** A JSDoc block, its indentation, and what follows it: a blank line, another comment, or the end of the file. */
const floating = /^[ \t]*\/\*\*(?:[^*]|\*(?!\/))*\*\/[ \t]*\n(?=[ \t]*\n|[ \t]*\/[*/]|$)/gm;
const tidied = source.replace(floating, '').replace(/\n{3,}/g, '\n\n');

const problems = [];
if (/@internal\b/.test(tidied)) problems.push('an @internal member (is stripInternal set in tsup.config.ts?)');
const path = /\bsrc\/[\w./-]+\.ts\b/.exec(tidied);
if (path) problems.push(`a comment naming the source file ${path[0]}`);
if (problems.length > 0) {
  console.error(`scripts/tidy-dts.mjs: the declarations would ship ${problems.join(' and ')}`);
  process.exit(1);
}
if (tidied !== source) writeFileSync(file, tidied);
