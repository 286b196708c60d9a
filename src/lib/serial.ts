/**
 * One queue per key, shared by every client of this page (or process): work queued under a key runs one item at a
 * time, in the order it was queued. Token storage writes go through it, so a write queued earlier (a refresh's
 * result) can never land after one queued later (a logout's clear), even though each is asynchronous.
 */
const queues = new Map<string, Promise<unknown>>();

/** Run `work` after everything queued before it under `key`; its failure does not stop the queue. */
export function serialized<T>(key: string, work: () => Promise<T>): Promise<T> {
  const previous = queues.get(key) ?? Promise.resolve();
  const mine = previous.then(work, work);
  const tail = mine.then(
    () => undefined,
    () => undefined,
  );
  queues.set(key, tail);
  // Forget the key once its queue is empty, so the map does not grow with every storage name ever used.
  void tail.then(() => {
    if (queues.get(key) === tail) queues.delete(key);
  });
  return mine;
}
