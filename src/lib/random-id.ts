/**
 * 128 random bits from the platform's CSPRNG as 32 hex digits: lock owners, key ids, `jti`s. Never `Math.random`:
 * these ids must be unguessable and unique across tabs. `crypto.getRandomValues` exists in insecure contexts too,
 * unlike `crypto.randomUUID`.
 */
export function randomId(): string {
  let id = '';
  // 256 + byte has three hex digits; the last two are the byte's, zero-padded.
  for (const byte of crypto.getRandomValues(new Uint8Array(16))) id += (256 + byte).toString(16).slice(1);
  return id;
}
