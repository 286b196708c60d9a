// @vitest-environment happy-dom
/**
 * happy-dom 21's `Response.clone()` empties the body of both copies (issue 10 item 8): `invalid_grant` was never
 * read and the session did not end. The token endpoint's answer is read once, without clone(), so under happy-dom's
 * own fetch and Response the refresh works and a rejection ends the session.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAuthClient, oauth2Refresh } from '../src/index.js';
import { startTokenEndpoint, tokens, type TokenEndpoint } from './helpers/token-endpoint.js';
import { recordEvents } from './helpers/events.js';

let endpoint: TokenEndpoint;
beforeAll(async () => {
  endpoint = await startTokenEndpoint((request) =>
    request.form.refresh_token === 'rt-good'
      ? tokens('at-2', 'rt-2')
      : { status: 400, body: { error: 'invalid_grant' } },
  );
});
afterAll(() => endpoint.close());

describe('under happy-dom', () => {
  // The premise, checked so that this file cannot pass vacuously once happy-dom fixes it (then it may go).
  it("runs on happy-dom's fetch, whose Response.clone() empties both copies", async () => {
    const response = await fetch(endpoint.url, { method: 'POST', body: new URLSearchParams({ refresh_token: 'x' }) });
    const copy = response.clone();
    expect(await copy.text()).toBe('');
    expect(await response.text()).toBe('');
  });

  it('a refresh reads the token response', async () => {
    const auth = createAuthClient({ crossTab: false, refresh: oauth2Refresh({ tokenEndpoint: endpoint.url, clientId: 'spa' }) });
    try {
      await auth.login({ access_token: 'at-1', refresh_token: 'rt-good', expires_in: 300 });
      await auth.refresh();
      expect(await auth.getAccessToken()).toBe('at-2');
    } finally {
      auth.dispose();
    }
  });

  it('invalid_grant ends the session', async () => {
    const auth = createAuthClient({ crossTab: false, refresh: oauth2Refresh({ tokenEndpoint: endpoint.url, clientId: 'spa' }) });
    const { sessionExpired: expired } = recordEvents(auth, ['sessionExpired']);
    try {
      await auth.login({ access_token: 'at-1', refresh_token: 'rt-spent', expires_in: 300 });
      await expect(auth.refresh()).rejects.toMatchObject({ code: 'ERR_SESSION_EXPIRED', reason: 'refresh-rejected' });
      expect(expired.map((event) => event.reason)).toEqual(['refresh-rejected']);
      expect(auth.session.status).toBe('expired');
    } finally {
      auth.dispose();
    }
  });
});
