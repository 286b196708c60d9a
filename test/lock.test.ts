/**
 * The lock chosen once per client (src/lib/lock.ts): the in-page lock serializes holders of one name, lets other
 * names run alongside, and a waiter whose signal aborts leaves the queue without breaking it for the others.
 * The cross-tab parts (Web Locks, the opt-in IndexedDB lease) are tested in Chromium (test/browser/tabs.test.ts).
 */
import { describe, expect, it } from 'vitest';
import { tabLock } from '../src/lib/lock.js';

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

describe('tabLock (in-page)', () => {
  it('runs holders of one name one at a time, in order', async () => {
    const lock = tabLock(false);
    const order: string[] = [];
    const first = deferred();
    const a = lock.run('n', async () => {
      order.push('a start');
      await first.promise;
      order.push('a end');
    });
    const b = lock.run('n', async () => void order.push('b'));
    await new Promise((r) => setTimeout(r, 10));
    expect(order).toEqual(['a start']);
    first.resolve();
    await Promise.all([a, b]);
    expect(order).toEqual(['a start', 'a end', 'b']);
  });

  it('does not make other names wait', async () => {
    const lock = tabLock(false);
    const held = deferred();
    const a = lock.run('one', () => held.promise);
    await expect(lock.run('two', async () => 'ran')).resolves.toBe('ran');
    held.resolve();
    await a;
  });

  it('ends the wait when the signal aborts, and the queue behind it still moves', async () => {
    const lock = tabLock(false);
    const held = deferred();
    const a = lock.run('n', () => held.promise);
    const controller = new AbortController();
    let ranB = false;
    const b = lock.run('n', async () => void (ranB = true), controller.signal);
    const c = lock.run('n', async () => 'c');
    controller.abort(new Error('gave up'));
    await expect(b).rejects.toThrow('gave up');
    held.resolve();
    await a;
    await expect(c).resolves.toBe('c');
    expect(ranB).toBe(false);
  });

  it('rejects at once with an already aborted signal', async () => {
    const lock = tabLock(false);
    const controller = new AbortController();
    controller.abort(new Error('disposed'));
    let ran = false;
    await expect(lock.run('n', async () => void (ran = true), controller.signal)).rejects.toThrow('disposed');
    expect(ran).toBe(false);
  });

  it('releases the lock when the holder throws', async () => {
    const lock = tabLock(false);
    await expect(lock.run('n', async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    await expect(lock.run('n', async () => 'next')).resolves.toBe('next');
  });
});
