/**
 * Checks of timer options at `createAuthClient`. `setTimeout` holds at most 2^31-1 ms (HTML "timer initialisation
 * steps"; Node clamps larger delays to 1 ms): a larger value, `Infinity`, `NaN` or a negative number would make a
 * timer fire at once or never, so each is refused when the client is created, with the option's name.
 */

/** The longest delay a timer can hold, in ms. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** How a timer option is given and what it may be. */
export interface TimerOptionRule {
  /** `'s'` for options given in seconds (`refreshLeeway`), else milliseconds. */
  unit?: 'ms' | 's';
  /** Whether 0 is accepted. @default false */
  allowZero?: boolean;
}

/**
 * `value` checked as a timer option called `name`, or `fallback` when it is `undefined`.
 * @throws TypeError naming the option when the value is not a number, `NaN`, negative, `Infinity`, or longer than
 *   a timer can hold (2^31-1 ms)
 * @example
 * ```ts
 * const timeout = timerOption('timeout', options.timeout, 30_000);
 * ```
 */
export function timerOption(name: string, value: unknown, fallback: number, rule: TimerOptionRule = {}): number {
  if (value === undefined) return fallback;
  const unit = rule.unit ?? 'ms';
  const max = unit === 's' ? MAX_TIMER_MS / 1000 : MAX_TIMER_MS;
  const ok =
    typeof value === 'number' &&
    Number.isFinite(value) &&
    (value > 0 || (rule.allowZero === true && value === 0)) &&
    value <= max;
  if (!ok) {
    const unitName = unit === 's' ? 'seconds' : 'ms';
    const lowest = rule.allowZero === true ? 'from 0' : 'above 0';
    throw new TypeError(`authfetch: option ${name} must be a number of ${unitName} ${lowest} up to ${max} (what a timer can hold)`);
  }
  return value;
}
