import { IDBFactory, IDBObjectStore } from 'fake-indexeddb';
import { createStore, get as idbGet, set as idbSet } from 'idb-keyval';
import { describe, expect, it, vi } from 'vitest';
import { indexedDbStorage } from '../src/storage/indexeddb.js';
import { memoryStorage } from '../src/storage/memory.js';
import type { TokenSet } from '../src/types.js';
import { failGets, failPuts, fakeIdbGlobals as g, flush, useFreshIndexedDb, useHangingIndexedDb, useThrowingIndexedDb } from './helpers/fake-idb.js';

const tokens = (): TokenSet => ({
  accessToken: 'at-1',
  refreshToken: 'rt-1',
  idToken: 'id-1',
  expiresAt: 1_700_000_000_000,
  scope: 'openid profile',
  tokenType: 'Bearer',
});

// The on-disk layout is a contract with data written by earlier versions: database `${name}-tokens`,
// store `tokens`, key `tokenSet`.
const rawStore = (name = 'authfetch') => createStore(`${name}-tokens`, 'tokens');

useFreshIndexedDb();

describe('memoryStorage', () => {
  it('defaults its name and is not shared', () => {
    const storage = memoryStorage();
    expect(storage.name).toBe('authfetch');
    expect(storage.shared).toBe(false);
    expect(memoryStorage({ name: 'app' }).name).toBe('app');
  });

  it('round-trips a token set and clears it', async () => {
    const storage = memoryStorage();
    expect(await storage.get()).toBeUndefined();
    await storage.set(tokens());
    expect(await storage.get()).toEqual(tokens());
    await storage.clear();
    expect(await storage.get()).toBeUndefined();
  });

  it('stores a copy: mutating what was set or what was read changes nothing', async () => {
    const storage = memoryStorage();
    const input = tokens();
    await storage.set(input);
    input.accessToken = 'mutated-in';
    const read = await storage.get();
    expect(read?.accessToken).toBe('at-1');
    read!.accessToken = 'mutated-out';
    expect((await storage.get())?.accessToken).toBe('at-1');
  });

  it('reads an invalid value set by an untyped caller as signed out', async () => {
    const storage = memoryStorage();
    await storage.set({ accessToken: 5 } as unknown as TokenSet);
    expect(await storage.get()).toBeUndefined();
  });
});

describe('indexedDbStorage', () => {
  it('defaults its name, is shared, and opens nothing at construction', () => {
    const open = vi.spyOn(g.indexedDB as IDBFactory, 'open');
    const storage = indexedDbStorage();
    expect(storage.name).toBe('authfetch');
    expect(storage.shared).toBe(true);
    expect(open).not.toHaveBeenCalled();
  });

  it('can be constructed where IndexedDB does not exist (Node, SSR)', () => {
    g.indexedDB = undefined;
    expect(() => indexedDbStorage({ name: 'ssr' })).not.toThrow();
  });

  it('round-trips a token set through IndexedDB and clears it', async () => {
    const storage = indexedDbStorage();
    expect(await storage.get()).toBeUndefined();
    await storage.set(tokens());
    expect(await storage.get()).toEqual(tokens());
    // Really in the database, where other tabs read it.
    expect(await idbGet('tokenSet', rawStore())).toEqual(tokens());
    await storage.clear();
    expect(await storage.get()).toBeUndefined();
    expect(await idbGet('tokenSet', rawStore())).toBeUndefined();
  });

  it('stores a copy of plain data', async () => {
    const storage = indexedDbStorage();
    const input = tokens();
    await storage.set(input);
    input.accessToken = 'mutated-in';
    const read = await storage.get();
    read!.accessToken = 'mutated-out';
    expect((await storage.get())?.accessToken).toBe('at-1');
  });

  it('shares data between two storages with the same name, not with another name', async () => {
    const a = indexedDbStorage({ name: 'app' });
    const b = indexedDbStorage({ name: 'app' });
    const other = indexedDbStorage({ name: 'other' });
    await a.set(tokens());
    expect(await b.get()).toEqual(tokens());
    expect(await other.get()).toBeUndefined();
    await b.set({ accessToken: 'at-2' });
    expect(await a.get()).toEqual({ accessToken: 'at-2' });
    await a.clear();
    expect(await b.get()).toBeUndefined();
  });

  it.each([
    ['a string', 'not a token set'],
    ['a wrong type', { accessToken: 5 }],
    ['an empty object', {}],
    ['null', null],
    ['an older shape', { access_token: 'at', expires_in: 3600 }],
  ])('reads %s written directly into the database as signed out', async (_label, value) => {
    await idbSet('tokenSet', value, rawStore());
    const storage = indexedDbStorage();
    const onFallback = vi.fn();
    storage.onFallback!(onFallback);
    await expect(storage.get()).resolves.toBeUndefined();
    await flush();
    // A bad value is not a broken database: still shared, no fallback.
    expect(storage.shared).toBe(true);
    expect(onFallback).not.toHaveBeenCalled();
  });

  describe('fallback to memory', () => {
    it('when indexedDB is undefined: works in memory and reports once, asynchronously', async () => {
      g.indexedDB = undefined;
      const storage = indexedDbStorage();
      const onFallback = vi.fn();
      storage.onFallback!(onFallback);
      expect(onFallback).not.toHaveBeenCalled();

      await storage.set(tokens());
      expect(await storage.get()).toEqual(tokens());
      await storage.clear();
      expect(await storage.get()).toBeUndefined();
      await storage.set({ accessToken: 'again' });
      await flush();

      expect(onFallback).toHaveBeenCalledTimes(1);
      expect((onFallback.mock.calls[0]![0] as DOMException).name).toBe('NotSupportedError');
      expect(storage.shared).toBe(false);
    });

    it('subscribing alone probes, so the app learns without making a request', async () => {
      g.indexedDB = undefined;
      const storage = indexedDbStorage();
      const onFallback = vi.fn();
      storage.onFallback!(onFallback);
      await flush();
      expect(onFallback).toHaveBeenCalledTimes(1);
    });

    it('a listener subscribed after the fallback still hears it once, never synchronously', async () => {
      g.indexedDB = undefined;
      const storage = indexedDbStorage();
      await storage.set(tokens());
      const late = vi.fn();
      storage.onFallback!(late);
      expect(late).not.toHaveBeenCalled();
      await flush();
      await storage.get();
      await flush();
      expect(late).toHaveBeenCalledTimes(1);
    });

    it('an unsubscribed listener is not called, and a throwing listener does not stop the others', async () => {
      g.indexedDB = undefined;
      const storage = indexedDbStorage();
      const removed = vi.fn();
      const throwing = vi.fn(() => {
        throw new Error('app bug');
      });
      const kept = vi.fn();
      const unsubscribe = storage.onFallback!(removed);
      storage.onFallback!(throwing);
      storage.onFallback!(kept);
      unsubscribe();
      await storage.get();
      await flush();
      expect(removed).not.toHaveBeenCalled();
      expect(throwing).toHaveBeenCalledTimes(1);
      expect(kept).toHaveBeenCalledTimes(1);
    });

    it('when indexedDB.open throws synchronously (SecurityError)', async () => {
      const securityError = new DOMException('The operation is insecure.', 'SecurityError');
      useThrowingIndexedDb(securityError);
      const storage = indexedDbStorage();
      const onFallback = vi.fn();
      storage.onFallback!(onFallback);
      await expect(storage.set(tokens())).resolves.toBeUndefined();
      expect(await storage.get()).toEqual(tokens());
      await flush();
      expect(onFallback).toHaveBeenCalledTimes(1);
      expect(onFallback).toHaveBeenCalledWith(securityError);
    });

    it('when the open hangs beyond openTimeoutMs, carrying over the value being set', async () => {
      const { opens } = useHangingIndexedDb();
      const storage = indexedDbStorage({ openTimeoutMs: 20 });
      const onFallback = vi.fn();
      storage.onFallback!(onFallback); // the probe hangs first; the set waits behind it
      const started = Date.now();
      await storage.set(tokens());
      expect(Date.now() - started).toBeLessThan(1000);
      expect(await storage.get()).toEqual(tokens());
      await flush();
      expect(onFallback).toHaveBeenCalledTimes(1);
      expect((onFallback.mock.calls[0]![0] as DOMException).name).toBe('TimeoutError');
      // Given up for good: no further opens.
      await storage.clear();
      expect(opens()).toBe(1);
    });

    it('gives a hanging open 3000 ms by default', async () => {
      vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
      try {
        g.indexedDB = { open: () => ({}) };
        const storage = indexedDbStorage();
        let settled = false;
        const pending = storage.set(tokens()).then(() => {
          settled = true;
        });
        await vi.advanceTimersByTimeAsync(2999);
        expect(settled).toBe(false);
        await vi.advanceTimersByTimeAsync(1);
        await pending;
        expect(settled).toBe(true);
        expect(storage.shared).toBe(false);
      } finally {
        vi.useRealTimers();
      }
    });

    it('when a put fails (quota), keeping the value being set', async () => {
      const quota = new DOMException('Quota exceeded', 'QuotaExceededError');
      failPuts(quota);
      const storage = indexedDbStorage();
      const onFallback = vi.fn();
      storage.onFallback!(onFallback);
      await expect(storage.set(tokens())).resolves.toBeUndefined();
      expect(await storage.get()).toEqual(tokens());
      await flush();
      expect(onFallback).toHaveBeenCalledTimes(1);
      expect(onFallback).toHaveBeenCalledWith(quota);
      expect(storage.shared).toBe(false);
    });

    it('when a transaction aborts without an error, reporting an AbortError', async () => {
      vi.spyOn(IDBObjectStore.prototype, 'put').mockImplementation(function (this: IDBObjectStore) {
        this.transaction.abort();
        return {} as IDBRequest<IDBValidKey>;
      });
      const storage = indexedDbStorage();
      const onFallback = vi.fn();
      storage.onFallback!(onFallback);
      await storage.set(tokens());
      expect(await storage.get()).toEqual(tokens());
      await flush();
      expect(onFallback).toHaveBeenCalledTimes(1);
      expect(onFallback.mock.calls[0]![0]).toBeInstanceOf(DOMException);
    });

    it('when IndexedDB breaks mid-session, starting from the last known tokens (no sign-out)', async () => {
      const storage = indexedDbStorage();
      await storage.set(tokens());
      failGets();
      expect(await storage.get()).toEqual(tokens());
      expect(storage.shared).toBe(false);
    });

    it('stays in memory once it has fallen back, even if IndexedDB works again', async () => {
      g.indexedDB = undefined;
      const storage = indexedDbStorage();
      await storage.set(tokens());
      g.indexedDB = new IDBFactory();
      await storage.set({ accessToken: 'memory-only' });
      expect(await storage.get()).toEqual({ accessToken: 'memory-only' });
      expect(await idbGet('tokenSet', rawStore())).toBeUndefined();
    });

    it('falls back per instance: a healthy storage of the same name is unaffected', async () => {
      const healthy = indexedDbStorage({ name: 'app' });
      await healthy.set(tokens());
      const saved = g.indexedDB;
      g.indexedDB = undefined;
      const broken = indexedDbStorage({ name: 'app' });
      await broken.set({ accessToken: 'local' });
      g.indexedDB = saved;
      expect(await healthy.get()).toEqual(tokens());
      expect(healthy.shared).toBe(true);
    });
  });
});
