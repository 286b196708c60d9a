/**
 * authfetch: resilient authenticated fetching. This file only re-exports the public API (the README's "API" section).
 */
export { createAuthClient } from './client.js';
export type { AuthClient, AuthClientOptions, AuthSession } from './client.js';

export { oauth2Refresh } from './refresh/oauth2.js';
export type { ClientAuthMethod, OAuth2RefreshOptions } from './refresh/oauth2.js';
export { sessionRefresh } from './refresh/session.js';
export type { SessionRefreshOptions } from './refresh/session.js';
export { customRefresh } from './refresh/custom.js';
export type { RefreshContext, RefreshStrategy } from './refresh/types.js';
export type { SessionStatus } from './refresh/coordinator.js';
export type { LoginRequiredMode } from './login-gate.js';

export { memoryStorage } from './storage/memory.js';
export type { MemoryStorageOptions } from './storage/memory.js';
export { indexedDbStorage } from './storage/indexeddb.js';
export type { IndexedDbStorageOptions } from './storage/indexeddb.js';
export { indexedDbLease } from './storage/lease.js';
export type { TabLock } from './lib/lock.js';

export * from './errors/public.js';

export { parseChallenges } from './challenge.js';
export type { Challenge } from './challenge.js';

export { dpop } from './dpop/key.js';
export type { DpopOptions } from './dpop/key.js';
export type { Dpop, DpopProofOptions } from './dpop/types.js';

export type { OriginRule } from './origins.js';
export type { OAuthTokenResponse } from './tokens.js';
export type {
  AuthEvents,
  AuthEventType,
  EventSource,
  Logger,
  LoginRequiredReason,
  RefreshTrigger,
  SessionEndReason,
  TokenSet,
  TokenStorage,
} from './types.js';

export { oidc } from './signin/oidc.js';
export type { OidcOptions, OidcStrategy } from './signin/oidc.js';
export type { OidcEndpoints } from './signin/metadata.js';
export type { HandleRedirectResult, IdTokenClaims, LogoutOptions, SignInOptions } from './signin/types.js';
