/**
 * DPoP proof JWTs (RFC 9449 section 4): the only module that imports jose's signing code, reached only through
 * `dpop()`, so an app that never calls it does not ship that code (the size check, `bench/size.mjs`, proves it).
 *
 * A proof is signed with jose's `CompactSign` over the claims set as JSON (RFC 7519 section 7.1 steps 1-2), not with
 * `SignJWT`: a proof needs none of `SignJWT`'s claim builders and checks, which cost the dpop app 0.6 KiB min+gzip
 * (`npm run size`).
 */
import { CompactSign, base64url, type JWK } from 'jose';
import { randomId } from '../lib/random-id.js';

/** A key pair with what every proof needs from it, computed once per key. @internal */
export interface KeyMaterial {
  /** Changes whenever the key does (see `StoredKey.id`). */
  id: string;
  keyPair: CryptoKeyPair;
  /** The public key as the proof's `jwk` header: the required EC members only (RFC 7638 section 3.2). */
  jwk: JWK;
}

/** The public JWK of a key pair, without `key_ops`/`ext`, which have no place in a proof header. @internal */
export async function publicJwk(publicKey: CryptoKey): Promise<JWK> {
  const { kty, crv, x, y } = await crypto.subtle.exportKey('jwk', publicKey);
  return { kty, crv, x, y } as JWK;
}

/**
 * Methods fetch upper-cases itself (Fetch standard, "normalize a method"): a proof made for `'post'` must say
 * `POST`, which is what goes on the wire. Other methods are case-sensitive (RFC 9110 section 9.1) and kept as given.
 */
const NORMALIZED_METHODS = /^(?:DELETE|GET|HEAD|OPTIONS|POST|PUT)$/;

function normalizeMethod(method: string): string {
  const upper = method.toUpperCase();
  return NORMALIZED_METHODS.test(upper) ? upper : method;
}

/**
 * The `htu` claim: the target URI without query and fragment (RFC 9449 section 4.2), and without user info, which is
 * not part of the target URI either (RFC 9110 section 7.1).
 */
function targetUri(url: string): string {
  let target: URL;
  try {
    target = new URL(url);
  } catch {
    // The URL is left out of the message: its query could carry secrets.
    throw new TypeError('authfetch: a DPoP proof needs the absolute URL of the request');
  }
  target.search = target.hash = target.username = target.password = '';
  return target.href;
}

/** A string's UTF-8 bytes. */
const utf8 = (text: string) => new TextEncoder().encode(text);

/** The base64url SHA-256 of a string's UTF-8 bytes: a proof's `ath` and a key's thumbprint. */
async function sha256Base64url(text: string): Promise<string> {
  return base64url.encode(new Uint8Array(await crypto.subtle.digest('SHA-256', utf8(text))));
}

/**
 * The RFC 7638 JWK thumbprint (SHA-256) of an EC public key: the JSON of its required members `crv`, `kty`, `x`, `y`,
 * in that (lexicographic) order, without whitespace (section 3.2-3.3), hashed and base64url-encoded. The `jkt` of
 * `cnf` and of `dpop_jkt` (RFC 9449 sections 6.1 and 10). Written out here rather than taken from jose's
 * `calculateJwkThumbprint`, whose key export and per-type member tables the dpop app does not need (`npm run size`).
 * @internal
 */
export function jwkThumbprint(jwk: JWK): Promise<string> {
  const { crv, kty, x, y } = jwk;
  if (kty !== 'EC' || typeof crv !== 'string' || typeof x !== 'string' || typeof y !== 'string') {
    throw new TypeError('authfetch: a DPoP key must be an EC key with crv, x and y');
  }
  return sha256Base64url(JSON.stringify({ crv, kty, x, y }));
}

/** Sign one proof (RFC 9449 section 4.2): header `typ`, `alg`, `jwk`; claims `jti`, `htm`, `htu`, `iat`, `ath`?, `nonce`?. @internal */
export async function signProof(
  key: KeyMaterial,
  method: string,
  url: string,
  options: { accessToken?: string; nonce?: string },
): Promise<string> {
  // `jti`: 128 random bits from the CSPRNG, so it is unique in practice (RFC 9449 section 4.2). `iat`: NumericDate,
  // whole seconds (RFC 7519 section 2), as jose's `setIssuedAt()` writes it.
  const claims: Record<string, string | number> = {
    jti: randomId(),
    htm: normalizeMethod(method),
    htu: targetUri(url),
    iat: Math.floor(Date.now() / 1000),
  };
  if (options.accessToken !== undefined) claims.ath = await sha256Base64url(options.accessToken); // RFC 9449 section 4.2: the ASCII token's hash
  if (options.nonce !== undefined) claims.nonce = options.nonce;
  return new CompactSign(utf8(JSON.stringify(claims)))
    .setProtectedHeader({ typ: 'dpop+jwt', alg: 'ES256', jwk: key.jwk })
    .sign(key.keyPair.privateKey);
}
