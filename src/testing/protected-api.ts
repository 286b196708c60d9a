/**
 * The test API: every path under the API origin is protected. A request without a valid Bearer token gets 401 with
 * an RFC 6750 challenge; a path a test made forbidden or step-up-only gets 403 `insufficient_scope` or 401
 * `insufficient_user_authentication` (RFC 9470); everything else reaches the app's own routes, and what they leave
 * unanswered gets 200 JSON.
 */
import { http, HttpResponse, type HttpHandler } from 'msw';
import {
  insufficientScopeChallenge,
  invalidTokenChallenge,
  missingTokenChallenge,
  stepUpChallenge,
} from './challenges.js';
import { coversPath, type TestAuthState } from './state.js';
import type { IssuedAccessToken } from './tokens.js';

/** RFC 6750 section 2.1: `Authorization: Bearer <b64token>`; the scheme is case-insensitive (RFC 9110 11.1). */
const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*)$/i;

function unauthorized(challenge: string): Response {
  return HttpResponse.json({ error: 'unauthorized' }, { status: 401, headers: { 'WWW-Authenticate': challenge } });
}

/** The valid access token of `request`, or the 401 that answers it. */
function authenticate(request: Request, state: TestAuthState): IssuedAccessToken | Response {
  const header = request.headers.get('authorization');
  const token = header === null ? undefined : BEARER.exec(header)?.[1];
  if (token === undefined) return unauthorized(header === null ? missingTokenChallenge() : invalidTokenChallenge(false));
  const record = state.book.lookup(token);
  if (!record) return unauthorized(invalidTokenChallenge(false));
  const expired = record.expiredEarly || record.expiresAt <= Date.now();
  if (record.revoked || expired) return unauthorized(invalidTokenChallenge(expired));
  return record;
}

/** The latest rule that covers `pathname`: a later `forbid()` or `requireStepUp()` of a sub-path wins. */
function ruleFor<T extends { path: string }>(rules: readonly T[], pathname: string): T | undefined {
  for (let i = rules.length - 1; i >= 0; i--) {
    const rule = rules[i] as T;
    if (coversPath(rule.path, pathname)) return rule;
  }
  return undefined;
}

/**
 * The handler that checks every request to `origin` first. It answers only to refuse: msw goes on to the next
 * handler when a resolver returns nothing, so an accepted request reaches the app's routes or the fallback.
 */
export function protectedApiGate(origin: string, state: TestAuthState): HttpHandler {
  return http.all(`${origin}/*`, ({ request }) => {
    state.counts.api++;
    const token = authenticate(request, state);
    if (token instanceof Response) return token;
    const pathname = new URL(request.url).pathname;
    // Authentication strength is checked before permissions: a stronger sign-in may come with more scopes.
    const stepUp = ruleFor(state.stepUps, pathname);
    if (stepUp && (token.grant.acr === undefined || !stepUp.acrValues.includes(token.grant.acr))) {
      return unauthorized(stepUpChallenge(stepUp.acrValues));
    }
    const forbidden = ruleFor(state.forbidden, pathname);
    if (forbidden && (forbidden.scope === undefined || !token.grant.scopes.includes(forbidden.scope))) {
      return HttpResponse.json(
        { error: 'forbidden' },
        { status: 403, headers: { 'WWW-Authenticate': insufficientScopeChallenge(forbidden.scope) } },
      );
    }
    return undefined;
  });
}

/** What the fallback answers: where the request went and for whom, so a test can tell its calls apart. */
export interface TestApiAnswer {
  ok: true;
  method: string;
  path: string;
  subject: string;
}

/** The last handler: a 200 JSON answer for any authorized request the app's routes did not answer. */
export function protectedApiFallback(origin: string, state: TestAuthState): HttpHandler {
  return http.all(`${origin}/*`, ({ request }) => {
    const token = authenticate(request, state);
    // The gate refused anything else already; this only reads who the token belongs to.
    const subject = token instanceof Response ? '' : token.grant.subject;
    const answer: TestApiAnswer = { ok: true, method: request.method, path: new URL(request.url).pathname, subject };
    return HttpResponse.json(answer);
  });
}
