/**
 * The server clock's reading of `Date` headers: learnt from the first response, then read at most once a second
 * (the header has one-second resolution, and reading a header on every response of a busy client is measurable).
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
    expect(clock.serverNow()).toBe(Date.parse('2026-11-28T09:55:00Z'));
  });
});
