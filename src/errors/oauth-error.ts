/**
 * The OAuth `error` code of an error answer (RFC 6749 sections 4.1.2.1 and 5.2), fit to keep in `oauthError`.
 */
import { serverText } from '../lib/server-text.js';

/**
 * `value` when it is an OAuth error code as RFC 6749 section 5.2 allows it (printable ASCII without `"` and `\`,
 * here at most 64 characters) and carries none of `secrets` (a server that echoes the request must not hand the
 * refresh token back into an error); else `undefined`. The `error_description` is never kept: it is free text.
 *
 * @example
 * ```ts
 * oauthErrorCode('invalid_client', [refreshToken]); // 'invalid_client'
 * oauthErrorCode('bad\r\nline');                   // undefined
 * ```
 */
export function oauthErrorCode(value: unknown, secrets: readonly (string | undefined)[] = []): string | undefined {
  return typeof value === 'string' && /^[\x20\x21\x23-\x5b\x5d-\x7e]{1,64}$/.test(value) ? serverText(value, secrets) : undefined;
}
