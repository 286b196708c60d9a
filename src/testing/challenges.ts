/**
 * `WWW-Authenticate` values of the test API, as a real resource server writes them: RFC 6750 section 3 for
 * Bearer tokens, RFC 9470 section 3 for step-up.
 */

/** The realm every challenge of the test API names (RFC 9110 section 11.6.1). */
export const REALM = 'test-api';

/** An RFC 9110 quoted-string: backslash and double quote escaped (section 5.6.4). */
function quoted(value: string): string {
  return `"${value.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

function challenge(params: Record<string, string | undefined>): string {
  const parts = Object.entries({ realm: REALM, ...params })
    .filter((entry): entry is [string, string] => entry[1] !== undefined)
    .map(([name, value]) => `${name}=${quoted(value)}`);
  return `Bearer ${parts.join(', ')}`;
}

/** No credentials: RFC 6750 section 3.1 says the challenge then carries no error code. */
export function missingTokenChallenge(): string {
  return challenge({});
}

/** An unknown, revoked or expired token: `invalid_token` (RFC 6750 section 3.1). */
export function invalidTokenChallenge(expired: boolean): string {
  return challenge({
    error: 'invalid_token',
    error_description: expired ? 'The access token expired' : 'The access token is invalid',
  });
}

/** A valid token without the scope the resource needs: 403 with `insufficient_scope` (RFC 6750 section 3.1). */
export function insufficientScopeChallenge(scope: string | undefined): string {
  return challenge({ error: 'insufficient_scope', scope });
}

/** A valid token from a sign-in that was not strong enough (RFC 9470 section 3). */
export function stepUpChallenge(acrValues: readonly string[]): string {
  return challenge({
    error: 'insufficient_user_authentication',
    error_description: 'A stronger sign-in is required',
    acr_values: acrValues.join(' '),
  });
}
