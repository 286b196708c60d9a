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
  dts: true,
  sourcemap: true,
  clean: true,
  treeshake: true,
  target: 'es2022',
  platform: 'neutral',
  splitting: false,
  external: ['react', 'msw', 'authfetch'],
});
