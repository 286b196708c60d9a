/**
 * The DPoP key in IndexedDB (fake-indexeddb in Node): it persists across `dpop()` instances of one name, names keep
 * keys apart, the first key is made once under concurrency, it is read once and then used from memory, rotation
 * reaches other instances through the `authfetch:<name>:dpop` BroadcastChannel notice (Node 20 has BroadcastChannel,
 * delivered between channel objects of one process as between tabs), and an unusable
 * IndexedDB moves the key to memory with a single asynchronous `onFallback` (the client's `storageFallback`).
 * What only a browser can show (a reload, two tabs, Chromium's non-extractable keys) is in the browser tests.
 */
import { IDBDatabase, IDBObjectStore } from 'fake-indexeddb';
import { createStore, get as idbGet, set as idbSet } from 'idb-keyval';
import { calculateJwkThumbprint, EmbeddedJWK, jwtVerify, type JWK } from 'jose';
import { describe, expect, it, vi } from 'vitest';
import { createAuthClient, dpop } from '../src/index.js';
import { failGets, failPuts, fakeIdbGlobals as g, flush, useFreshIndexedDb, useHangingIndexedDb, useThrowingIndexedDb } from './helpers/fake-idb.js';

// The on-disk layout is a contract with keys written by earlier versions: database `${name}-dpop`, store `keys`,
// key `keyPair`.
const rawStore = (name = 'authfetch') => createStore(`${name}-dpop`, 'keys');

useFreshIndexedDb();

/** A proof made with the key verifies against the JWK in its own header, and that JWK is the key's. */
async function verifiedThumbprint(key: ReturnType<typeof dpop>): Promise<string> {
  const { protectedHeader } = await jwtVerify(await key.proof('GET', 'https://api.example.com/x'), EmbeddedJWK, {
    typ: 'dpop+jwt',
  });
  return calculateJwkThumbprint(protectedHeader.jwk as JWK);
}

describe('dpop() key in IndexedDB', () => {
  it('opens nothing until used', async () => {
    const open = vi.spyOn(g.indexedDB as IDBFactory, 'open');
    const key = dpop();
    key.rememberNonce('https://api.example.com/', 'n');
    expect(key.nonceFor('https://api.example.com/a')).toBe('n');
    await flush();
    expect(open).not.toHaveBeenCalled();
  });

  it('persists the key across instances of the same name, as a non-extractable CryptoKey', async () => {
    const first = dpop({ name: 'app' });
    const thumbprint = await first.thumbprint();

    const stored = (await idbGet('keyPair', rawStore('app'))) as { id: string; privateKey: CryptoKey; publicKey: CryptoKey };
    expect(stored.id).toEqual(expect.any(String));
    expect(stored.privateKey).toBeInstanceOf(CryptoKey);
    expect(stored.privateKey.extractable).toBe(false);
    await expect(crypto.subtle.exportKey('jwk', stored.privateKey)).rejects.toThrow();

    // A second instance (a reload, another tab) loads the same key and signs with it.
    const second = dpop({ name: 'app' });
    expect(await second.thumbprint()).toBe(thumbprint);
    expect(await verifiedThumbprint(second)).toBe(thumbprint);
    const { privateKey } = await second.keyPair();
    expect(privateKey.extractable).toBe(false);
  });

  it('keeps keys of different names apart (a database each)', async () => {
    const a = await dpop({ name: 'one' }).thumbprint();
    const b = await dpop({ name: 'two' }).thumbprint();
    expect(a).not.toBe(b);
    expect(await dpop({ name: 'one' }).thumbprint()).toBe(a);
    expect(await idbGet('keyPair', rawStore('one'))).toBeDefined();
    expect(await idbGet('keyPair', rawStore('two'))).toBeDefined();
  });

  it('makes the first key once when several instances race for it', async () => {
    const generate = vi.spyOn(crypto.subtle, 'generateKey');
    const instances = Array.from({ length: 4 }, () => dpop({ name: 'race' }));
    const thumbprints = await Promise.all(instances.flatMap((key) => [key.thumbprint(), key.proof('GET', 'https://a.example/').then(() => key.thumbprint())]));
    expect(new Set(thumbprints).size).toBe(1);
    expect(generate).toHaveBeenCalledTimes(1);
  });

  it('rotate() deletes the stored key; every instance of the name then uses the new one', async () => {
    const a = dpop({ name: 'rot' });
    const b = dpop({ name: 'rot' });
    const before = await a.thumbprint();
    expect(await b.thumbprint()).toBe(before);

    await a.rotate();
    expect(await idbGet('keyPair', rawStore('rot'))).toBeUndefined();
    // The other instance (another tab) drops its copy when the rotation notice arrives, and re-reads on next use.
    await vi.waitFor(async () => expect(await b.thumbprint()).not.toBe(before), { timeout: 5000, interval: 10 });
    const after = await b.thumbprint();
    expect(await a.thumbprint()).toBe(after);
    expect(await verifiedThumbprint(a)).toBe(after);
  });

  it('reads IndexedDB once: a burst of 20 proofs after the first load performs no IndexedDB read', async () => {
    // Every idb-keyval operation opens a transaction on the database, and its `get` is an object store get: count both.
    const transactions = vi.spyOn(IDBDatabase.prototype, 'transaction');
    const reads = vi.spyOn(IDBObjectStore.prototype, 'get');
    const key = dpop({ name: 'hot' });
    const thumbprint = await verifiedThumbprint(key);
    // The counters see the first load (they would see any later one).
    expect(reads.mock.calls.length).toBeGreaterThan(0);
    const [readsBefore, transactionsBefore] = [reads.mock.calls.length, transactions.mock.calls.length];

    const concurrent = await Promise.all(Array.from({ length: 10 }, (_, i) => key.proof('GET', `https://api.example.com/c${i}`)));
    const sequential: string[] = [];
    for (let i = 0; i < 10; i++) sequential.push(await key.proof('POST', `https://api.example.com/s${i}`, { accessToken: 't' }));
    const proofs = [...concurrent, ...sequential];
    expect(new Set(proofs).size).toBe(20); // a fresh proof each time (random jti)
    for (const proof of proofs) {
      const { protectedHeader } = await jwtVerify(proof, EmbeddedJWK, { typ: 'dpop+jwt' });
      expect(await calculateJwkThumbprint(protectedHeader.jwk as JWK)).toBe(thumbprint);
    }
    expect(reads.mock.calls.length).toBe(readsBefore);
    expect(transactions.mock.calls.length).toBe(transactionsBefore);
  });

  it('keeps using its copy until a rotation notice, then the next proof uses the key now stored', async () => {
    const key = dpop({ name: 'notice' });
    const before = await verifiedThumbprint(key);

    // Another tab stores a new key (as its key store does after a rotation): without a notice this instance does not
    // look, which is what keeps IndexedDB off the hot path.
    const replacement = await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign', 'verify']);
    const replacementThumbprint = await calculateJwkThumbprint(
      (await crypto.subtle.exportKey('jwk', replacement.publicKey)) as JWK,
    );
    await idbSet('keyPair', { id: 'other-tab-key', ...replacement }, rawStore('notice'));
    expect(await verifiedThumbprint(key)).toBe(before);

    // The plain notice that tab posts, on the channel of the name.
    const otherTab = new BroadcastChannel('authfetch:notice:dpop');
    try {
      otherTab.postMessage({ type: 'rotated', id: 'other-tab-key' });
      await vi.waitFor(async () => expect(await verifiedThumbprint(key)).toBe(replacementThumbprint), { timeout: 5000, interval: 10 });
      expect(await key.thumbprint()).toBe(replacementThumbprint);
    } finally {
      otherTab.close();
    }
  });

  it('announces a stored or deleted key with a plain notice, never key material', async () => {
    const heard: unknown[] = [];
    const listener = new BroadcastChannel('authfetch:announce:dpop');
    listener.onmessage = (event: MessageEvent<unknown>) => heard.push(event.data);
    try {
      const key = dpop({ name: 'announce' });
      await key.thumbprint(); // makes and stores the first key
      await vi.waitFor(() => expect(heard).toHaveLength(1), { timeout: 5000, interval: 10 });
      const stored = (await idbGet('keyPair', rawStore('announce'))) as { id: string };
      expect(heard[0]).toEqual({ type: 'rotated', id: stored.id });

      await key.rotate();
      await vi.waitFor(() => expect(heard).toHaveLength(2), { timeout: 5000, interval: 10 });
      expect(heard[1]).toEqual({ type: 'rotated', id: null });
    } finally {
      listener.close();
    }
  });

  it("drops its copy when the client hears another tab's login (which may have used a rotated key)", async () => {
    const key = dpop({ name: 'signin' });
    const before = await key.thumbprint();
    // Another tab rotated the key and signed in with the new one; its key notice has not arrived (none is sent here).
    const replacement = await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign', 'verify']);
    const replacementThumbprint = await calculateJwkThumbprint(
      (await crypto.subtle.exportKey('jwk', replacement.publicKey)) as JWK,
    );
    await idbSet('keyPair', { id: 'signed-in-with', ...replacement }, rawStore('signin'));
    expect(await key.thumbprint()).toBe(before);

    const here = createAuthClient({ baseUrl: 'https://api.example.com', crossTab: true, dpop: key });
    const there = createAuthClient({ baseUrl: 'https://api.example.com', crossTab: true });
    try {
      await there.login({ accessToken: 'token-from-the-other-tab', expiresAt: Date.now() + 600_000 });
      await vi.waitFor(async () => expect(await key.thumbprint()).toBe(replacementThumbprint), { timeout: 5000, interval: 10 });
    } finally {
      here.dispose();
      there.dispose();
    }
  });

  it('replaces a stored value that is not a key pair', async () => {
    await idbSet('keyPair', { id: 'x', privateKey: 'not a key' }, rawStore());
    const key = dpop();
    const onFallback = vi.fn();
    key.onFallback!(onFallback);
    const thumbprint = await verifiedThumbprint(key);
    expect(await key.thumbprint()).toBe(thumbprint);
    expect(((await idbGet('keyPair', rawStore())) as { privateKey: unknown }).privateKey).toBeInstanceOf(CryptoKey);
    await flush();
    expect(onFallback).not.toHaveBeenCalled(); // bad data is not a broken database
  });

  it("keyStorage: 'memory' never touches IndexedDB", async () => {
    const open = vi.spyOn(g.indexedDB as IDBFactory, 'open');
    const a = dpop({ keyStorage: 'memory', name: 'mem' });
    const onFallback = vi.fn();
    a.onFallback!(onFallback);
    const thumbprint = await verifiedThumbprint(a);
    await a.rotate();
    expect(await a.thumbprint()).not.toBe(thumbprint);
    expect(await dpop({ keyStorage: 'memory', name: 'mem' }).thumbprint()).not.toBe(await a.thumbprint());
    await flush();
    expect(open).not.toHaveBeenCalled();
    expect(onFallback).not.toHaveBeenCalled();
  });
});

describe('dpop() falling back to memory', () => {
  it('when indexedDB.open throws: the key works in memory and onFallback fires once, asynchronously', async () => {
    const securityError = new DOMException('The operation is insecure.', 'SecurityError');
    useThrowingIndexedDb(securityError);
    const key = dpop();
    const onFallback = vi.fn();
    key.onFallback!(onFallback);
    expect(onFallback).not.toHaveBeenCalled();

    const thumbprint = await verifiedThumbprint(key);
    expect(await key.thumbprint()).toBe(thumbprint); // one key, kept
    await key.proof('POST', 'https://api.example.com/y');
    await flush();
    expect(onFallback).toHaveBeenCalledTimes(1);
    expect(onFallback).toHaveBeenCalledWith(securityError);

    // A listener subscribing afterwards hears it too, once and never synchronously.
    const late = vi.fn();
    key.onFallback!(late);
    expect(late).not.toHaveBeenCalled();
    await flush();
    expect(late).toHaveBeenCalledTimes(1);
    await key.rotate();
    expect(await key.thumbprint()).not.toBe(thumbprint);
    await flush();
    expect(onFallback).toHaveBeenCalledTimes(1);
  });

  it('when indexedDB is missing (Node, some workers)', async () => {
    g.indexedDB = undefined;
    const key = dpop();
    const onFallback = vi.fn();
    key.onFallback!(onFallback); // subscribing alone probes
    await vi.waitFor(() => expect(onFallback).toHaveBeenCalledTimes(1));
    expect((onFallback.mock.calls[0]![0] as DOMException).name).toBe('NotSupportedError');
    expect(await verifiedThumbprint(key)).toBe(await key.thumbprint());
  });

  it('when the open hangs beyond openTimeoutMs', async () => {
    const { opens } = useHangingIndexedDb();
    const key = dpop({ openTimeoutMs: 30 });
    const onFallback = vi.fn();
    key.onFallback!(onFallback);
    const started = Date.now();
    const thumbprint = await key.thumbprint();
    expect(Date.now() - started).toBeLessThan(2000);
    expect(await verifiedThumbprint(key)).toBe(thumbprint);
    await flush();
    expect(onFallback).toHaveBeenCalledTimes(1);
    expect((onFallback.mock.calls[0]![0] as DOMException).name).toBe('TimeoutError');
    expect(opens()).toBe(1); // given up for good
  });

  it('when storing the new key fails (quota), keeping that key', async () => {
    const quota = new DOMException('Quota exceeded', 'QuotaExceededError');
    failPuts(quota);
    const key = dpop();
    const onFallback = vi.fn();
    key.onFallback!(onFallback);
    const { publicKey } = await key.keyPair();
    expect(await key.keyPair()).toMatchObject({ publicKey });
    await flush();
    expect(onFallback).toHaveBeenCalledTimes(1);
    expect(onFallback).toHaveBeenCalledWith(quota);
  });

  it('when IndexedDB breaks mid-session, keeping the key it had (tokens stay bound to it)', async () => {
    const key = dpop();
    const before = await key.thumbprint();
    failGets();
    expect(await verifiedThumbprint(key)).toBe(before);
    expect(await key.thumbprint()).toBe(before);
  });

  it('the client reports it as storageFallback, asynchronously, to a listener attached after creation', async () => {
    g.indexedDB = undefined;
    const warn = vi.fn();
    const auth = createAuthClient({ baseUrl: 'https://api.example.com', dpop: dpop(), logger: { warn } });
    try {
      const events: unknown[] = [];
      auth.on('storageFallback', (event) => events.push(event));
      await vi.waitFor(() => expect(events).toHaveLength(1));
      expect((events[0] as { error: DOMException }).error.name).toBe('NotSupportedError');
      expect(warn).toHaveBeenCalledWith('authfetch: IndexedDB is unusable; the DPoP key is kept in memory');
      await flush();
      expect(events).toHaveLength(1);
    } finally {
      auth.dispose();
    }
  });
});
