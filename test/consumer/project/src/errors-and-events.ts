/**
 * What an app writes against the published types, compiled with `tsc --noEmit` under strict settings for
 * `moduleResolution: bundler` and `nodenext`: errors narrowed by `switch (error.code)` to their own fields,
 * event payloads read with their literal unions, and `switch`es that are exhaustive (a `never` default).
 */
import {
  isAuthFetchError,
  isForbiddenError,
  type AnyAuthFetchError,
  type AuthClient,
  type AuthEvents,
  type EventSource,
  type RefreshTrigger,
  type SessionEndReason,
  type TokenSet,
  type UserAction,
} from 'authfetch';
import { auth } from './api.js';

/** One line for the UI per failure, reading the fields only the narrowed class has. */
export function describeFailure(error: unknown): string {
  if (!isAuthFetchError(error)) return 'Something went wrong.';
  const action: UserAction = error.action;
  switch (error.code) {
    case 'ERR_FORBIDDEN':
      return `${error.userMessage} (needs ${error.requiredScope?.join(' ') ?? 'access'}; ${action})`;
    case 'ERR_RATE_LIMITED':
      return `${error.userMessage} (again in ${error.retryAfterMs ?? 1000} ms)`;
    case 'ERR_UNAUTHORIZED':
      return `${error.reason}: ${error.challenges.map((challenge) => challenge.scheme).join(', ')}`;
    case 'ERR_NOT_FOUND':
    case 'ERR_SERVER':
    case 'ERR_HTTP':
      return `${error.method} ${error.url}: ${error.status} ${error.statusText}`;
    case 'ERR_SESSION_EXPIRED':
      return `session over (${error.reason})`;
    case 'ERR_TOKEN_RESPONSE':
      return `token endpoint: ${error.oauthError ?? 'unusable answer'}`;
    case 'ERR_SIGN_IN':
      return `sign-in failed: ${error.reason}`;
    case 'ERR_NETWORK':
    case 'ERR_TIMEOUT':
      return error.userMessage;
    default: {
      const unhandled: never = error;
      return unhandled;
    }
  }
}

/** The union names every concrete class, so a helper can take "any authfetch error" without casts. */
export function statusOf(error: AnyAuthFetchError): number | undefined {
  return 'status' in error ? error.status : undefined;
}

/** What the UI shows for each way a session ends: every reason has a branch, and a new one would not compile. */
export function sessionEndText(reason: SessionEndReason): string {
  switch (reason) {
    case 'refresh-rejected':
      return 'Please sign in again.';
    case 'idle':
      return 'Signed out after a while without activity.';
    case 'no-refresh-token':
      return 'Please sign in to continue.';
    case 'other-tab':
      return 'Signed out in another tab.';
    default: {
      const unhandled: never = reason;
      return unhandled;
    }
  }
}

type LoginRequiredReason = AuthEvents['loginRequired']['reason'];

/** `loginRequired.reason` is a closed union too: a session end, `signed-out` or `step-up`. */
export function loginPrompt(reason: LoginRequiredReason): string {
  switch (reason) {
    case 'signed-out':
      return 'Sign in to continue.';
    case 'step-up':
      return 'Confirm it is you to continue.';
    case 'refresh-rejected':
    case 'idle':
    case 'no-refresh-token':
    case 'other-tab':
      return sessionEndText(reason);
    default: {
      const unhandled: never = reason;
      return unhandled;
    }
  }
}

/** Subscribe the UI to every event, reading each payload by its type. Returns one function that unsubscribes all. */
export function wireUi(client: AuthClient, show: (text: string) => void): () => void {
  const off = [
    client.on('login', ({ source, expiresAt }) => {
      const from: EventSource = source;
      show(`signed in (${from}) until ${expiresAt === undefined ? 'unknown' : new Date(expiresAt).toISOString()}`);
    }),
    client.on('refresh', ({ trigger, source }) => {
      const why: RefreshTrigger = trigger;
      show(`token renewed (${why}, ${source})`);
    }),
    client.on('refreshError', ({ error }) => show(describeFailure(error))),
    client.on('sessionWarning', ({ remainingMs }) => show(`signing out in ${Math.round(remainingMs / 1000)} s`)),
    client.on('sessionExpired', ({ reason, error }) => show(sessionEndText(reason) + (error ? ` ${error.code}` : ''))),
    client.on('loginRequired', ({ reason, pending }) => show(`${loginPrompt(reason)} (${pending} waiting)`)),
    client.on('logout', ({ source }) => show(`signed out (${source})`)),
    client.on('unauthorized', (error) => show(error.reason)),
    client.on('forbidden', (error) => show(error.requiredScope?.join(' ') ?? error.userMessage)),
    client.on('stepUp', ({ acrValues, maxAge, error }) => show(`${acrValues?.join(' ')} ${maxAge ?? ''} ${error.reason}`)),
    client.on('storageFallback', ({ error }) => show(error instanceof Error ? error.name : 'storage unusable')),
  ];
  return () => off.forEach((unsubscribe) => unsubscribe());
}

/** The guards narrow too, and a `TokenSet` is plain data. */
export async function signInAndLoad(tokens: TokenSet): Promise<string> {
  await auth.login(tokens);
  try {
    const me = await auth.http.get('me').json<{ name: string }>();
    return me.name;
  } catch (error) {
    if (isForbiddenError(error)) return error.requiredScope?.join(' ') ?? '';
    throw error;
  }
}
