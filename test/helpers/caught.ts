/**
 * `caught(promise)`: the error a promise rejects with, for assertions on its fields. A promise that resolves fails
 * the test ("expected a rejection"), so a test written with it cannot pass by accident.
 */
export async function caught(promise: Promise<unknown>): Promise<unknown> {
  const outcome = await promise.then(
    (value: unknown) => ({ resolved: true as const, value }),
    (error: unknown) => ({ resolved: false as const, error }),
  );
  if (outcome.resolved) throw new Error('expected a rejection, got a value');
  return outcome.error;
}
