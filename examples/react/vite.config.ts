/**
 * The React example app, built with Vite against the package's own build output (`dist/`, what `npm publish`
 * ships), as an app that ran `npm install authfetch` would get it.
 *
 *   npm run build && npx vite build examples/react     (the app, into examples/react/dist/)
 *   npm run demo:browser & npx vite examples/react     (development: the API and token endpoint of the example
 *                                                       server on 127.0.0.1:8787, proxied)
 */
import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

const repo = (path: string) => fileURLToPath(new URL(`../../${path}`, import.meta.url));
const api = process.env.API_ORIGIN ?? 'http://127.0.0.1:8787';

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  plugins: [react()],
  resolve: {
    alias: [
      { find: /^authfetch$/, replacement: repo('dist/index.js') },
      { find: /^authfetch\/react$/, replacement: repo('dist/react/index.js') },
    ],
  },
  build: { outDir: 'dist', emptyOutDir: true },
  server: { proxy: { '/api': api, '/oauth': api } },
});
