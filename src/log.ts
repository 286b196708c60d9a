/**
 * The lifecycle log: one line per step (sign-in, refresh, replay, failure, session end). Lines are fixed strings
 * plus codes and reasons; callers never pass a token, a header or a request body.
 */
import type { Logger } from './types.js';

/** The client's log with every level present. */
export interface Log {
  debug(message: string, ...details: unknown[]): void;
  warn(message: string, ...details: unknown[]): void;
  error(message: string, ...details: unknown[]): void;
}

const noop = () => undefined;

/** Wrap the `logger` option; by default only errors are logged, to `console.error`. */
export function createLog(logger: Logger | undefined): Log {
  // console.error is looked up at each line (a test may replace it after the client was made).
  logger ||= { error: (...args) => console.error(...args) };
  // A logger that throws must not break the client either.
  const safe = (fn: ((message: string, ...details: unknown[]) => void) | undefined) =>
    fn
      ? (...args: [string, ...unknown[]]) => {
          try {
            fn.apply(logger, args);
          } catch {
            // nothing sensible to do with a failing logger
          }
        }
      : noop;
  return { debug: safe(logger.debug), warn: safe(logger.warn), error: safe(logger.error) };
}
