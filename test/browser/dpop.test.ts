/**
 * DPoP (RFC 9449) keys in Chromium, where WebCrypto and IndexedDB are real: the private key cannot be exported,
 * it survives a reload (the same thumbprint, so tokens bound to it stay usable), and tabs racing to make the first
 * key end up with one key.
 */
import { expect, it } from 'vitest';
import { decodeProtectedHeader, importJWK, jwtVerify, type JWK } from 'jose';
import { describeInBrowser, openTab, openTabs, type Tab } from './helpers.js';

describeInBrowser('DPoP keys in Chromium', (suite) => {
  const params = { storage: 'dpop', autoload: 0, idleTimeout: 0 };

  const thumbprintIn = (tab: Tab) =>
    tab.page.evaluate(() => window.demo.lib.dpop({ name: 'dpop', lockFallback: window.demo.lib.indexedDbLease() }).thumbprint());

  it('keeps the private key non-extractable', async () => {
    suite.tabs = [await openTab(suite.context, suite.server, params)];
    const outcome = await suite.tabs[0].page.evaluate(async () => {
      const { privateKey, publicKey } = await window.demo.lib.dpop({ name: 'dpop' }).keyPair();
      let exported: string;
      try {
        await crypto.subtle.exportKey('jwk', privateKey);
        exported = 'exported';
      } catch (error) {
        exported = (error as DOMException).name;
      }
      return { extractable: privateKey.extractable, exported, algorithm: privateKey.algorithm.name, publicType: publicKey.type };
    });
    expect(outcome).toEqual({ extractable: false, exported: 'InvalidAccessError', algorithm: 'ECDSA', publicType: 'public' });
  });

  it('signs proofs that verify with the public key they carry', async () => {
    suite.tabs = [await openTab(suite.context, suite.server, params)];
    const proof = await suite.tabs[0].page.evaluate(() =>
      window.demo.lib.dpop({ name: 'dpop' }).proof('GET', `${location.origin}/api/me?x=1#frag`, { accessToken: 'abc' }),
    );
    // Verified here, in Node, with the public key the proof carries (RFC 9449 section 4.3).
    const header = decodeProtectedHeader(proof);
    const { payload } = await jwtVerify(proof, await importJWK(header.jwk as JWK, 'ES256'), { typ: 'dpop+jwt' });
    const claims = { htm: payload.htm, htu: payload.htu, ath: payload.ath, hasPrivate: 'd' in (header.jwk as object) };
    expect(claims).toEqual({
      htm: 'GET',
      htu: `${suite.server.url}/api/me`, // no query, no fragment (RFC 9449 section 4.2)
      ath: 'ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0', // base64url(SHA-256('abc'))
      hasPrivate: false,
    });
  });

  it('keeps the same key across a reload', async () => {
    suite.tabs = [await openTab(suite.context, suite.server, params)];
    const before = await thumbprintIn(suite.tabs[0]);
    await suite.tabs[0].page.reload();
    await suite.tabs[0].page.waitForFunction(() => window.demo !== undefined, undefined, { timeout: 30_000 });
    expect(await thumbprintIn(suite.tabs[0])).toBe(before);
  });

  it('gives tabs racing for the first key one key', async () => {
    suite.tabs = await openTabs(suite.context, suite.server, 3, params);
    const thumbprints = await Promise.all(suite.tabs.map(thumbprintIn));
    expect(new Set(thumbprints).size).toBe(1);
    expect(thumbprints[0]).toMatch(/^[\w-]{43}$/);
  });

  it('gives tabs racing for the first key one key without Web Locks too (the IndexedDB lease)', async () => {
    await suite.context.addInitScript(() => {
      delete (Navigator.prototype as { locks?: unknown }).locks;
    });
    suite.tabs = await openTabs(suite.context, suite.server, 3, params);
    const thumbprints = await Promise.all(suite.tabs.map(thumbprintIn));
    expect(new Set(thumbprints).size).toBe(1);
  });
});
