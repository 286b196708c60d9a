/**
 * DPoP (RFC 9449) keys in Chromium, where WebCrypto and IndexedDB are real: the private key cannot be exported,
 * it survives a reload (the same thumbprint, so tokens bound to it stay usable), and tabs racing to make the first
 * key end up with one key.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { decodeProtectedHeader, importJWK, jwtVerify, type JWK } from 'jose';
import type { Browser, BrowserContext } from 'playwright-core';
import type { ExampleServer } from '../../examples/server/index.mjs';
import { ensureBuilt, launchBrowser, openTab, openTabs, skipBrowser, startApp, type Tab } from './helpers.js';

describe.skipIf(skipBrowser)('DPoP keys in Chromium', () => {
  let browser: Browser;
  let server: ExampleServer;
  let context: BrowserContext;
  let tabs: Tab[] = [];
  const params = { storage: 'dpop', autoload: 0, idleTimeout: 0 };

  beforeAll(async () => {
    await ensureBuilt();
    [browser, server] = await Promise.all([launchBrowser(), startApp()]);
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  beforeEach(async () => {
    context = await browser.newContext();
    tabs = [];
  });

  afterEach(async (ctx) => {
    const errors = tabs.flatMap((tab) => tab.errors);
    await context?.close();
    if (ctx.task.result?.state !== 'fail') expect(errors).toEqual([]);
  });

  const thumbprintIn = (tab: Tab) => tab.page.evaluate(() => window.demo.lib.dpop({ name: 'dpop' }).thumbprint());

  it('keeps the private key non-extractable', async () => {
    tabs = [await openTab(context, server, params)];
    const outcome = await tabs[0].page.evaluate(async () => {
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
    tabs = [await openTab(context, server, params)];
    const proof = await tabs[0].page.evaluate(() =>
      window.demo.lib.dpop({ name: 'dpop' }).proof('GET', `${location.origin}/api/me?x=1#frag`, { accessToken: 'abc' }),
    );
    // Verified here, in Node, with the public key the proof carries (RFC 9449 section 4.3).
    const header = decodeProtectedHeader(proof);
    const { payload } = await jwtVerify(proof, await importJWK(header.jwk as JWK, 'ES256'), { typ: 'dpop+jwt' });
    const claims = { htm: payload.htm, htu: payload.htu, ath: payload.ath, hasPrivate: 'd' in (header.jwk as object) };
    expect(claims).toEqual({
      htm: 'GET',
      htu: `${server.url}/api/me`, // no query, no fragment (RFC 9449 section 4.2)
      ath: 'ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0', // base64url(SHA-256('abc'))
      hasPrivate: false,
    });
  });

  it('keeps the same key across a reload', async () => {
    tabs = [await openTab(context, server, params)];
    const before = await thumbprintIn(tabs[0]);
    await tabs[0].page.reload();
    await tabs[0].page.waitForFunction(() => window.demo !== undefined, undefined, { timeout: 30_000 });
    expect(await thumbprintIn(tabs[0])).toBe(before);
  });

  it('gives tabs racing for the first key one key', async () => {
    tabs = await openTabs(context, server, 3, params);
    const thumbprints = await Promise.all(tabs.map(thumbprintIn));
    expect(new Set(thumbprints).size).toBe(1);
    expect(thumbprints[0]).toMatch(/^[\w-]{43}$/);
  });

  it('gives tabs racing for the first key one key without Web Locks too (the IndexedDB lease)', async () => {
    await context.addInitScript(() => {
      delete (Navigator.prototype as { locks?: unknown }).locks;
    });
    tabs = await openTabs(context, server, 3, params);
    const thumbprints = await Promise.all(tabs.map(thumbprintIn));
    expect(new Set(thumbprints).size).toBe(1);
  });
});
