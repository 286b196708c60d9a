/**
 * Compile-only checks of the sign-in types: `oidc()` is a refresh strategy, the client's sign-in members take and
 * give what the docs say, and `session.user` is the ID token's claims.
 */
import { describe, expectTypeOf, it } from 'vitest';
import {
  createAuthClient,
  oidc,
  type HandleRedirectResult,
  type IdTokenClaims,
  type LogoutOptions,
  type OidcOptions,
  type RefreshStrategy,
  type SignInOptions,
} from '../../src/index.js';

describe('sign-in types', () => {
  it('oidc() takes OidcOptions and is a RefreshStrategy', () => {
    expectTypeOf(oidc).parameter(0).toEqualTypeOf<OidcOptions>();
    expectTypeOf(oidc({ issuer: 'https://x', clientId: 'a', redirectUri: 'https://x/cb' })).toMatchTypeOf<RefreshStrategy>();
    // @ts-expect-error clientAuth is a closed union
    oidc({ issuer: 'https://x', clientId: 'a', redirectUri: 'https://x/cb', clientAuth: 'private_key_jwt' });
  });

  it('the client members', () => {
    const auth = createAuthClient();
    expectTypeOf(auth.signIn).parameter(0).toEqualTypeOf<SignInOptions | undefined>();
    expectTypeOf(auth.signIn).returns.toEqualTypeOf<Promise<void>>();
    expectTypeOf(auth.handleRedirect).returns.toEqualTypeOf<Promise<HandleRedirectResult | undefined>>();
    expectTypeOf(auth.logout).parameter(0).toEqualTypeOf<LogoutOptions | undefined>();
    expectTypeOf(auth.session.user).toEqualTypeOf<IdTokenClaims | undefined>();
    expectTypeOf<IdTokenClaims['sub']>().toEqualTypeOf<string>();
    expectTypeOf<SignInOptions['acrValues']>().toEqualTypeOf<string | string[] | undefined>();
    // @ts-expect-error popup is a boolean
    void auth.signIn({ popup: 'yes' });
  });
});
