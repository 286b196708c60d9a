/**
 * The server clock's reading of `Date` headers: learnt from the first response, then read at most once a second
 * (the header has one-second resolution, and reading a header on every response of a busy client is measurable);
 * the token endpoint's (the issuer's) Date wins over an API's.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ServerClock } from '../src/clock.js';

afterEach(() => {
  vi.useRealTimers();
});

describe('ServerClock', () => {
  it('wants the Date header of the first response, then at most once a second', () => {
    vi.useFakeTimers({ now: Date.parse('2026-11-28T10:00:00Z'), toFake: ['Date'] });
    const clock = new ServerClock();
    expect(clock.wantsDate()).toBe(true);
    expect(clock.wantsDate()).toBe(false);
    vi.setSystemTime(Date.parse('2026-11-28T10:00:00.999Z'));
    expect(clock.wantsDate()).toBe(false);
    vi.setSystemTime(Date.parse('2026-11-28T10:00:01Z'));
    expect(clock.wantsDate()).toBe(true);
    expect(clock.wantsDate()).toBe(false);
    // The local clock set back: read again rather than wait for the old time to come round.
    vi.setSystemTime(Date.parse('2026-11-28T09:50:00Z'));
    expect(clock.wantsDate()).toBe(true);
  });

  it('learns the offset from a Date header, and moves only on a change of more than 2 s', () => {
    vi.useFakeTimers({ now: Date.parse('2026-11-28T10:00:00Z'), toFake: ['Date'] });
    const clock = new ServerClock();
    expect(clock.known).toBe(false);
    clock.observe('Sat, 28 Nov 2026 10:10:00 GMT');
    expect(clock.known).toBe(true);
    expect(clock.offsetMs).toBe(600_000);
    clock.observe('Sat, 28 Nov 2026 10:10:01 GMT');
    expect(clock.offsetMs).toBe(600_000);
    clock.observe('Sat, 28 Nov 2026 09:55:00 GMT');
    expect(clock.offsetMs).toBe(-300_000);
    // Local time in the server's clock.
    expect(Date.now() + clock.offsetMs).toBe(Date.parse('2026-11-28T09:55:00Z'));
  });

  it("takes the issuer's Date over an API's: once the token endpoint's was seen, APIs' are not read", () => {
    vi.useFakeTimers({ now: Date.parse('2026-11-28T10:00:00Z'), toFake: ['Date'] });
    const clock = new ServerClock();
    // Tokens from login(): an API's Date is all there is.
    clock.observe('Sat, 28 Nov 2026 12:00:00 GMT');
    expect(clock.offsetMs).toBe(7_200_000);
    // The token endpoint's Date wins, even within the 2 s jitter band of nothing.
    clock.observe('Sat, 28 Nov 2026 10:00:30 GMT', true);
    expect(clock.offsetMs).toBe(30_000);
    // From then on an API's Date (two hours ahead) neither moves the offset nor is asked for.
    vi.setSystemTime(Date.parse('2026-11-28T10:00:05Z'));
    expect(clock.wantsDate()).toBe(false);
    clock.observe('Sat, 28 Nov 2026 12:00:05 GMT');
    expect(clock.offsetMs).toBe(30_000);
    // The issuer's own later Dates still move it.
    clock.observe('Sat, 28 Nov 2026 10:05:05 GMT', true);
    expect(clock.offsetMs).toBe(300_000);
  });
});
