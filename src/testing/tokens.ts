/**
 * The test authorization server's token book: what it issued, to whom, and what it still honours. Access tokens
 * are opaque (RFC 6749 section 1.4 lets a server choose); the resource server side looks them up here, so
 * expiring or revoking one on the server takes effect at once, whatever the client believes about its expiry.
 */

/** What a sign-in grants: the claims the protected API checks. */
export interface Grant {
  /** Who signed in. */
  subject: string;
  /** The granted scopes (RFC 6749 section 3.3). */
  scopes: readonly string[];
  /** The authentication context class the sign-in met (RFC 9470), if any. */
  acr: string | undefined;
}

/** An access token as the server sees it. */
export interface IssuedAccessToken {
  grant: Grant;
  /** Server-side expiry, epoch ms. */
  expiresAt: number;
  /** Set by `expireAccessTokens()`, `revokeSession()` and refresh-token reuse. */
  revoked: boolean;
  /** Set by `expireAccessTokens()`: the answer says "expired" rather than "invalid". */
  expiredEarly: boolean;
}

/**
 * A refresh-token family (OAuth 2.0 Security BCP, RFC 9700 section 4.14.2): every rotation replaces `current`; a
 * token of the family presented again after it was rotated is a reuse, and ends the whole family.
 */
interface Family {
  grant: Grant;
  current: string;
  used: Set<string>;
  accessTokens: Set<string>;
  ended: boolean;
}

/** The outcome of a refresh_token grant. */
export type RotationResult =
  | { ok: true; accessToken: string; refreshToken: string; grant: Grant }
  | { ok: false; reason: 'unknown' | 'reused' | 'ended' };

/** 128 random bits, base64url: tokens nobody can guess, as a real server's. */
function randomToken(prefix: string): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return prefix + btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/** The issued tokens and families of one test server. */
export class TokenBook {
  readonly #access = new Map<string, IssuedAccessToken>();
  /** Refresh token (current or used) -> its family. */
  readonly #familyOf = new Map<string, Family>();

  /** Start a family for a sign-in and issue its first access and refresh tokens. */
  signIn(grant: Grant, lifetimeMs: number): { accessToken: string; refreshToken: string } {
    const refreshToken = randomToken('rt_');
    const family: Family = { grant, current: refreshToken, used: new Set(), accessTokens: new Set(), ended: false };
    this.#familyOf.set(refreshToken, family);
    return { accessToken: this.#issueAccess(family, lifetimeMs), refreshToken };
  }

  /**
   * The refresh_token grant with rotation (RFC 6749 section 6; RFC 9700 section 4.14.2): the presented token is
   * spent and a new one issued. Presenting a spent token again means it was copied: the family ends (its refresh
   * and access tokens all stop working), since the server cannot tell the legitimate client from the thief.
   */
  rotate(refreshToken: string, lifetimeMs: number): RotationResult {
    const family = this.#familyOf.get(refreshToken);
    if (!family) return { ok: false, reason: 'unknown' };
    if (family.ended) return { ok: false, reason: 'ended' };
    if (family.current !== refreshToken) {
      this.#endFamily(family);
      return { ok: false, reason: 'reused' };
    }
    family.used.add(refreshToken);
    const next = randomToken('rt_');
    family.current = next;
    this.#familyOf.set(next, family);
    return { ok: true, accessToken: this.#issueAccess(family, lifetimeMs), refreshToken: next, grant: family.grant };
  }

  /** The access token's record, or `undefined` when this server never issued it. */
  lookup(accessToken: string): IssuedAccessToken | undefined {
    return this.#access.get(accessToken);
  }

  /** Every access token issued so far stops working, as if its lifetime had run out; refresh tokens still work. */
  expireAccessTokens(): void {
    for (const token of this.#access.values()) {
      token.revoked = true;
      token.expiredEarly = true;
    }
  }

  /** Every family ends: refresh tokens are refused (`invalid_grant`) and access tokens stop working. */
  revokeAll(): void {
    for (const family of new Set(this.#familyOf.values())) this.#endFamily(family);
  }

  /** Forget everything issued. */
  clear(): void {
    this.#access.clear();
    this.#familyOf.clear();
  }

  #issueAccess(family: Family, lifetimeMs: number): string {
    const accessToken = randomToken('at_');
    this.#access.set(accessToken, { grant: family.grant, expiresAt: Date.now() + lifetimeMs, revoked: false, expiredEarly: false });
    family.accessTokens.add(accessToken);
    return accessToken;
  }

  #endFamily(family: Family): void {
    family.ended = true;
    for (const accessToken of family.accessTokens) {
      const record = this.#access.get(accessToken);
      if (record) record.revoked = true;
    }
  }
}
