/**
 * The `messages` option: the app's own words (another language, its own tone) for the `userMessage` of every error
 * a client hands to the app, thrown or in an event.
 */
import type { EventBus } from '../events.js';
import { isAuthFetchError, type AnyAuthFetchError, type ErrorByCode, type ErrorCode } from './guards.js';

/**
 * The text for each code, or a function of the error (narrowed to its class) that returns the text; `undefined`
 * (or a code left out) keeps the English default. Or one function for every error.
 *
 * @example
 * ```ts
 * const messages: ErrorMessages = {
 *   ERR_NETWORK: 'Keine Verbindung zum Server. Bitte prüfen Sie Ihre Internetverbindung.',
 *   ERR_FORBIDDEN: (error) => (error.requiredScope ? 'Dafür fehlt Ihnen eine Berechtigung.' : undefined),
 * };
 * ```
 */
export type ErrorMessages =
  | { readonly [C in ErrorCode]?: string | ((error: ErrorByCode[C]) => string | undefined) }
  | ((error: AnyAuthFetchError) => string | undefined);

/**
 * A function that gives an authfetch error the app's `userMessage` (in place: the same error object reaches the
 * event listeners and the caller) and returns it; anything else is returned unchanged. `undefined` without
 * `messages`, so that the client adds no step where there is nothing to replace.
 * @internal
 */
export function messageLocalizer(messages: ErrorMessages | undefined): ((error: unknown) => unknown) | undefined {
  if (!messages) return undefined;
  const done = new WeakSet<object>();
  return (error) => {
    if (isAuthFetchError(error) && !done.has(error)) {
      done.add(error);
      try {
        const entry: unknown = typeof messages === 'function' ? messages : (messages as Record<string, unknown>)[error.code];
        const text: unknown = typeof entry === 'function' ? (entry as (error: AnyAuthFetchError) => unknown)(error) : entry;
        if (typeof text === 'string' && text) (error as { userMessage: string }).userMessage = text;
      } catch {
        // The app's function failed: its default words are better than no error at all.
      }
    }
    return error;
  };
}

/** Make `bus` give every error it emits (an event that is an error, or an event's `error`) the app's words. @internal */
export function localizeEvents(bus: EventBus, localize: (error: unknown) => unknown): void {
  const emit = bus.emit.bind(bus);
  bus.emit = (type, payload) => {
    localize(payload);
    // Payloads are plain objects (or nothing): one without an `error` gives undefined, which localize passes by.
    localize((payload as { error?: unknown } | undefined)?.error);
    emit(type, payload);
  };
}

/**
 * Make the client's promise-returning members give a rejection's error the app's words. Names the client does not
 * have (a client without sign-in has no `signIn`) are skipped.
 * @internal
 */
export function localizeRejections(client: object, names: readonly string[], localize: (error: unknown) => unknown): void {
  const members = client as Record<string, unknown>;
  for (const name of names) {
    const member = members[name];
    if (typeof member === 'function') {
      members[name] = (...args: unknown[]) =>
        (member as (...args: unknown[]) => Promise<unknown>).apply(client, args).catch((error: unknown) => {
          throw localize(error);
        });
    }
  }
}
