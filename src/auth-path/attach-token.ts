/**
 * Step 2 of the auth path: attach the token. The headers of one attempt: the app's own (a copy), or ky's Request's
 * own (set in place), with `Authorization` (src/auth-path/send.ts picks its value). A DPoP-bound token also needs a
 * fresh proof (RFC 9449 section 7), added by the `dpop()` object (src/auth-path/dpop-steps.ts), so an app without
 * it ships none of that code.
 */
import type { AuthRequest } from './request.js';

/** The headers of one attempt. */
export type AttemptHeaders = Headers | Record<string, string>;

/**
 * The attempt's headers: a copy of the app's, ky's Request's own (set in place instead of copying every header for
 * fetch to copy again), or a plain object when there are none (`auth.fetch(url)`); with `authorization` when given.
 */
export function withAuthorization(request: AuthRequest, authorization?: string): AttemptHeaders {
  const template = request.template;
  const given = template ? template.headers : request.init?.headers;
  if (given === undefined) return authorization ? { authorization } : {};
  // Only a Request input can be owned (src/auth-path/request.ts): `given` is then its headers.
  const own = request.ownsTemplate ? (given as Headers) : new Headers(given);
  if (authorization) own.set('authorization', authorization);
  return own;
}
