import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const src = (path: string) => fileURLToPath(new URL(`./src/${path}`, import.meta.url));

export default defineConfig({
  // Tests written as an app writes them (docs/testing.md) import the package by name: the sources, as tsconfig's paths.
  resolve: {
    alias: [
      { find: /^authfetch$/, replacement: src('index.ts') },
      { find: /^authfetch\/react$/, replacement: src('react/index.ts') },
      { find: /^authfetch\/testing$/, replacement: src('testing/index.ts') },
    ],
  },
  test: {
    include: ['test/**/*.test.ts', 'test/**/*.test.tsx'],
    // Real servers and a real browser: give slow shared machines room, but keep every hang bounded.
    testTimeout: 30_000,
    hookTimeout: 60_000,
    typecheck: {
      enabled: true,
      include: ['test/types/**/*.test-d.ts'],
      tsconfig: './tsconfig.test.json',
    },
  },
});
