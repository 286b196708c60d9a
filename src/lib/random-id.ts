/**
 * 128 random bits from the platform's CSPRNG as 32 hex digits: lock owners, key ids, `jti`s. Never `Math.random`:
 * these ids must be unguessable and unique across tabs. `crypto.getRandomValues` exists in insecure contexts too,
 * unlike `crypto.randomUUID`.
 */
export function randomId(): string {
  let id = '';
  for (const byte of crypto.getRandomValues(new Uint8Array(16))) id += (byte < 16 ? '0' : '') + byte.toString(16);
  return id;
}
