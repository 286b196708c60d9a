/**
 * Checks of timer options at `createAuthClient`. `setTimeout` holds at most 2^31-1 ms (HTML "timer initialisation
 * steps"; Node clamps larger delays to 1 ms): a larger value, `Infinity`, `NaN` or a negative number would make a
 * timer fire at once or never, so each is refused when the client is created, with the option's name.
 */

/** The longest delay a timer can hold, in ms. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * The timer option `name` of `source` checked, or `fallback` when it is `undefined`.
 * @param name the option as messages name it (`'timeout'`, `'retry.backoffLimit'`); its last part is read from `source`
 * @param allowZero whether 0 is accepted (else the value must be above 0)
 * @param max the largest value: `MAX_TIMER_MS`, or `MAX_TIMER_MS / 1000` for an option in seconds
 * @throws TypeError naming the option when the value is not a number, `NaN`, out of range or `Infinity`
 * @example
 * ```ts
 * const timeout = timerOption(options, 'timeout', 30_000);
 * ```
 */
export function timerOption<T>(source: unknown, name: string, fallback: T, allowZero = false, max = MAX_TIMER_MS): number | T {
  const value = (source as Record<string, unknown> | undefined)?.[name.split('.').pop() as string];
  if (value === undefined) return fallback;
  // Comparisons are false for NaN, so it fails both; a string is refused before it could compare as a number.
  if (typeof value !== 'number' || !(allowZero ? value >= 0 : value > 0) || !(value <= max)) {
    throw new TypeError(`authfetch: option ${name} must be a number in ${allowZero ? '[' : '('}0, ${max}]`);
  }
  return value;
}
