import { defineConfig } from 'tsup';

// ESM only, declarations alongside. Dependencies stay external so that an app's bundler can tree-shake jose and
// idb-keyval away when dpop() and indexedDbStorage() are not used. The subpath entries (authfetch/react,
// authfetch/testing) are files of their own, so an app that does not import them ships none of their code; their
// peers (react, msw) stay external, and authfetch/react imports the core's types by the package's own name, so its
// declarations name the same `AuthClient` as the core's instead of a copy.
export default defineConfig({
  entry: {
    index: 'src/index.ts',
    'react/index': 'src/react/index.ts',
    'testing/index': 'src/testing/index.ts',
  },
  format: ['esm'],
  // `stripInternal`: members marked `@internal` (hooks between the library's own modules) are not public API and
  // must not appear in the shipped declarations. The module header comments that the declaration bundler leaves
  // floating are removed afterwards by scripts/tidy-dts.mjs (`npm run build`), which also fails if either ships.
  dts: { compilerOptions: { stripInternal: true } },
  sourcemap: true,
  clean: true,
  // No `treeshake: true`: it sends the output through rollup a second time, which appended a second
  // `//# sourceMappingURL` line; esbuild already drops unused code from the bundle (same sizes in `npm run size`).
  target: 'es2022',
  platform: 'neutral',
  splitting: false,
  external: ['react', 'msw', 'authfetch'],
});
