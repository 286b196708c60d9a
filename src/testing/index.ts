/**
 * authfetch/testing: a test authorization server and protected API in msw handlers, for an app's own tests.
 * A separate entry: an app that does not import it ships none of it. `msw` (2.x) is an optional peer dependency.
 */
export { createTestAuth } from './create-test-auth.js';
export type { TestAuth, TestAuthOptions, TestSignInOptions } from './create-test-auth.js';
export type { TestTokenResponse } from './token-endpoint.js';
export type { TestApiAnswer } from './protected-api.js';
export type { RefreshFailure, TestAuthCounts } from './state.js';
