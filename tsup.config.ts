import { defineConfig } from 'tsup';

// ESM only, declarations alongside. Dependencies stay external so that an app's bundler can tree-shake jose and
// idb-keyval away when dpop() and indexedDbStorage() are not used. The subpath entry authfetch/testing is a
// file of its own, so an app that does not import it ships none of its code; its peer (msw) stays external too.
export default defineConfig({
  entry: {
    index: 'src/index.ts',
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
  external: ['msw'],
});
