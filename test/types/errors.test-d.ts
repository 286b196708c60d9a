/**
 * Compile-only checks of the error types (issue 10 items 3 and 9): `switch (error.code)` narrows to each class and
 * its fields, the guards narrow, and the unions are closed so that switches over them are exhaustive. vitest's
 * typecheck runs tsc over this file; nothing here executes.
 */
import { describe, expectTypeOf, it } from 'vitest';
import {
  HttpError,
  SessionExpiredError,
  isAuthFetchError,
  isHttpError,
  isSignInError,
  type AnyAuthFetchError,
  type AuthEvents,
  type ErrorCode,
  type ForbiddenError,
  type LoginRequiredReason,
  type NetworkError,
  type RateLimitError,
  type SessionEndReason,
  type SessionExpiredReason,
  type SignInError,
  type SignInErrorReason,
  type UnauthorizedError,
  type UnauthorizedReason,
  type UserAction,
} from '../../src/index.js';

function assertNever(value: never): never {
  throw new Error(`unexpected ${String(value)}`);
}

describe('AnyAuthFetchError', () => {
  it('isAuthFetchError narrows unknown to the union, and switch (error.code) narrows to the class and its fields', () => {
    const describeError = (error: unknown): string => {
      if (!isAuthFetchError(error)) return 'not ours';
      expectTypeOf(error).toEqualTypeOf<AnyAuthFetchError>();
      switch (error.code) {
        case 'ERR_HTTP':
          expectTypeOf(error.status).toEqualTypeOf<number>();
          expectTypeOf(error.body).toBeUnknown();
          return `http ${error.status}`;
        case 'ERR_UNAUTHORIZED':
          expectTypeOf(error).toEqualTypeOf<UnauthorizedError>();
          expectTypeOf(error.reason).toEqualTypeOf<UnauthorizedReason>();
          return error.challenges.map((challenge) => challenge.scheme).join();
        case 'ERR_FORBIDDEN':
          expectTypeOf(error).toEqualTypeOf<ForbiddenError>();
          expectTypeOf(error.requiredScope).toEqualTypeOf<string[] | undefined>();
          return error.requiredScope?.join(' ') ?? '';
        case 'ERR_NOT_FOUND':
          return error.url;
        case 'ERR_RATE_LIMITED':
          expectTypeOf(error).toEqualTypeOf<RateLimitError>();
          expectTypeOf(error.retryAfterMs).toEqualTypeOf<number | undefined>();
          return String(error.retryAfterMs);
        case 'ERR_SERVER':
          return String(error.status);
        case 'ERR_NETWORK':
          expectTypeOf(error).toEqualTypeOf<NetworkError>();
          return error.url ?? '';
        case 'ERR_TIMEOUT':
          expectTypeOf(error.timeout).toEqualTypeOf<number | undefined>();
          return String(error.timeout);
        case 'ERR_SESSION_EXPIRED':
          expectTypeOf(error.reason).toEqualTypeOf<SessionExpiredReason>();
          return error.reason;
        case 'ERR_TOKEN_RESPONSE':
          expectTypeOf(error.oauthError).toEqualTypeOf<string | undefined>();
          return error.oauthError ?? '';
        case 'ERR_SIGN_IN':
          expectTypeOf(error).toEqualTypeOf<SignInError>();
          expectTypeOf(error.reason).toEqualTypeOf<SignInErrorReason>();
          return error.reason;
        default:
          return assertNever(error);
      }
    };
    expectTypeOf(describeError).returns.toEqualTypeOf<string>();
  });

  it('the codes of the union are exactly ErrorCode, and the classes fit it', () => {
    expectTypeOf<AnyAuthFetchError['code']>().toEqualTypeOf<ErrorCode>();
    expectTypeOf<SessionExpiredError>().toMatchTypeOf<AnyAuthFetchError>();
    expectTypeOf<SignInError>().toMatchTypeOf<AnyAuthFetchError>();
    // A plain HttpError is in the union only with its own code.
    expectTypeOf<HttpError & { code: 'ERR_HTTP'; name: 'HttpError' }>().toMatchTypeOf<AnyAuthFetchError>();
  });

  it('the specific guards narrow', () => {
    const value: unknown = undefined;
    if (isHttpError(value)) expectTypeOf(value).toEqualTypeOf<HttpError>();
    if (isSignInError(value)) expectTypeOf(value.oauthError).toEqualTypeOf<string | undefined>();
  });

  it('constructors share one shape: (message?, options)', () => {
    expectTypeOf(SessionExpiredError).constructorParameters.toEqualTypeOf<
      [message?: string, options?: ConstructorParameters<typeof SessionExpiredError>[1]]
    >();
    expectTypeOf<ConstructorParameters<typeof HttpError>[0]>().toEqualTypeOf<string | undefined>();
  });
});

describe('closed unions: exhaustive switches compile, unknown strings do not', () => {
  it('SessionExpiredReason', () => {
    const text = (reason: SessionExpiredReason): string => {
      switch (reason) {
        case 'refresh-rejected':
        case 'idle':
        case 'no-refresh-token':
        case 'other-tab':
        case 'logout':
        case 'login-timeout':
        case 'user-changed':
          return reason;
        default:
          return assertNever(reason);
      }
    };
    expectTypeOf(text).parameter(0).not.toEqualTypeOf<string>();
    // @ts-expect-error -- not a reason
    new SessionExpiredError(undefined, { reason: 'whatever' });
  });

  it("loginRequired's reason: SessionEndReason | 'signed-out' | 'step-up'", () => {
    expectTypeOf<AuthEvents['loginRequired']['reason']>().toEqualTypeOf<LoginRequiredReason>();
    expectTypeOf<LoginRequiredReason>().toEqualTypeOf<SessionEndReason | 'signed-out' | 'step-up'>();
    const text = (reason: LoginRequiredReason): string => {
      switch (reason) {
        case 'refresh-rejected':
        case 'idle':
        case 'no-refresh-token':
        case 'other-tab':
        case 'signed-out':
        case 'step-up':
          return reason;
        default:
          return assertNever(reason);
      }
    };
    expectTypeOf(text).returns.toEqualTypeOf<string>();
    expectTypeOf<AuthEvents['loginRequired']['acrValues']>().toEqualTypeOf<string[] | undefined>();
  });

  it('UserAction, UnauthorizedReason and SignInErrorReason', () => {
    const action = (value: UserAction): number => {
      switch (value) {
        case 'sign-in':
        case 'retry':
        case 'request-access':
        case 'go-back':
        case 'check-connection':
        case 'contact-support':
        case 'none':
          return 1;
        default:
          return assertNever(value);
      }
    };
    const unauthorized = (value: UnauthorizedReason): number => {
      switch (value) {
        case 'missing-credentials':
        case 'invalid-token':
        case 'expired-token':
        case 'step-up-required':
        case 'unknown':
          return 1;
        default:
          return assertNever(value);
      }
    };
    const signIn = (value: SignInErrorReason): number => {
      switch (value) {
        case 'popup-blocked':
        case 'popup-closed':
        case 'access-denied':
        case 'invalid-state':
        case 'invalid-response':
        case 'login-required':
        case 'server-error':
          return 1;
        default:
          return assertNever(value);
      }
    };
    expectTypeOf([action, unauthorized, signIn]).items.returns.toEqualTypeOf<number>();
  });
});
