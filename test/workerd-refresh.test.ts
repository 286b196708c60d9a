/**
 * workerd before compatibility date 2024-11-11 throws on `cache: 'no-store'` in a fetch init (issue 10 item 7):
 * every refresh failed there. The package, bundled as an app would bundle it, refreshes in real workerd (miniflare)
 * on both sides of that date, against a token endpoint on 127.0.0.1.
 */
import { build } from 'esbuild';
import { Miniflare } from 'miniflare';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTokenEndpoint, tokens, type TokenEndpoint } from './helpers/token-endpoint.js';

let endpoint: TokenEndpoint;
let script: string;

beforeAll(async () => {
  endpoint = await startTokenEndpoint((request) =>
    request.form.refresh_token === 'rt-1' ? tokens('at-2', 'rt-2') : { status: 400, body: { error: 'invalid_grant' } },
  );
  const worker = `
    import { createAuthClient, oauth2Refresh } from ${JSON.stringify(new URL('../src/index.ts', import.meta.url).pathname)};
    export default {
      async fetch(request) {
        const tokenEndpoint = new URL(request.url).searchParams.get('token');
        const auth = createAuthClient({ crossTab: false, refresh: oauth2Refresh({ tokenEndpoint, clientId: 'worker' }) });
        try {
          await auth.login({ access_token: 'at-1', refresh_token: 'rt-1', expires_in: 300 });
          await auth.refresh();
          return Response.json({ accessToken: await auth.getAccessToken() });
        } catch (error) {
          return Response.json({ error: error.code ?? error.name, message: error.message });
        } finally {
          auth.dispose();
        }
      },
    };`;
  const bundled = await build({
    stdin: { contents: worker, resolveDir: process.cwd(), loader: 'js' },
    bundle: true,
    format: 'esm',
    platform: 'browser',
    write: false,
    logLevel: 'silent',
  });
  script = bundled.outputFiles[0]?.text ?? '';
});
afterAll(() => endpoint.close());

describe.each(['2024-01-01', '2024-11-11'])('workerd with compatibility date %s', (compatibilityDate) => {
  it('refreshes through oauth2Refresh', async () => {
    const mf = new Miniflare({ compatibilityDate, modules: true, script });
    try {
      const response = await mf.dispatchFetch(`http://worker.local/?token=${encodeURIComponent(endpoint.url)}`);
      expect(await response.json()).toEqual({ accessToken: 'at-2' });
    } finally {
      await mf.dispose();
    }
  });
});
