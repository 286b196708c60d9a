import { defineConfig } from 'tsup';

// ESM only, one entry point, declarations alongside. Dependencies stay external so that an app's bundler
// can tree-shake jose and idb-keyval away when dpop() and indexedDbStorage() are not used.
export default defineConfig({
  entry: ['src/index.ts'],
  format: ['esm'],
  dts: true,
  sourcemap: true,
  clean: true,
  treeshake: true,
  target: 'es2022',
  platform: 'neutral',
  splitting: false,
});
