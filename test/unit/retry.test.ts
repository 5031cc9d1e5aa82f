import { describe, expect, it } from 'vitest';
import {
  backoffDelay,
  parseRetryAfter,
  withRetry,
  type RetryClock,
  type RetryPolicy,
} from '../../src/core/retry.js';

function fakeClock(random = 0.5): RetryClock & { slept: number[] } {
  let now = 1_000_000;
  const slept: number[] = [];
  return {
    slept,
    now: () => now,
    random: () => random,
    sleep: (ms) => {
      slept.push(ms);
      now += ms;
      return Promise.resolve();
    },
  };
}

const policy: RetryPolicy = { maxAttempts: 4, maxElapsedMs: 30_000, baseDelayMs: 100, maxDelayMs: 1_000 };

describe('withRetry', () => {
  it('retries transient failures with growing jittered delays, then succeeds', async () => {
    const clock = fakeClock(1);
    let calls = 0;
    const result = await withRetry(
      (attempt) => {
        calls++;
        return attempt < 3 ? Promise.reject(new Error('503')) : Promise.resolve('ok');
      },
      () => ({ transient: true }),
      { policy, clock },
    );
    expect(result).toBe('ok');
    expect(calls).toBe(3);
    expect(clock.slept).toEqual([100, 200]);
  });
  it('never retries a permanent failure', async () => {
    const clock = fakeClock();
    let calls = 0;
    await expect(
      withRetry(
        () => {
          calls++;
          return Promise.reject(new Error('AADSTS70021'));
        },
        () => ({ transient: false }),
        { policy, clock },
      ),
    ).rejects.toThrow('AADSTS70021');
    expect(calls).toBe(1);
    expect(clock.slept).toEqual([]);
  });
  it('stops after maxAttempts and rethrows the last error', async () => {
    const clock = fakeClock();
    let calls = 0;
    await expect(
      withRetry(
        () => Promise.reject(new Error(`fail ${++calls}`)),
        () => ({ transient: true }),
        { policy, clock },
      ),
    ).rejects.toThrow('fail 4');
    expect(clock.slept).toHaveLength(3);
  });
  it('honours Retry-After above the backoff cap but not past the time budget', async () => {
    const clock = fakeClock(0);
    const events: number[] = [];
    let calls = 0;
    await expect(
      withRetry(
        () => Promise.reject(new Error(`429 #${++calls}`)),
        () => ({ transient: true, retryAfterMs: 12_000 }),
        { policy, clock, onRetry: (e) => events.push(e.delayMs) },
      ),
    ).rejects.toThrow('429 #3');
    // 12 s + 12 s fit in 30 s; a third 12 s wait would not.
    expect(clock.slept).toEqual([12_000, 12_000]);
    expect(events).toEqual([12_000, 12_000]);
  });
});

describe('backoff and Retry-After parsing', () => {
  it('keeps jitter within [cap/2, cap]', () => {
    for (let attempt = 1; attempt <= 8; attempt++) {
      const cap = Math.min(1_000, 100 * 2 ** (attempt - 1));
      expect(backoffDelay(attempt, policy, 0)).toBe(cap / 2);
      expect(backoffDelay(attempt, policy, 0.999_999)).toBeLessThanOrEqual(cap);
    }
  });
  it('reads delta-seconds and HTTP dates', () => {
    const now = Date.parse('2026-11-25T10:00:00Z');
    expect(parseRetryAfter('7', now)).toBe(7_000);
    expect(parseRetryAfter('Wed, 25 Nov 2026 10:00:05 GMT', now)).toBe(5_000);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter(undefined, now)).toBeUndefined();
  });
});
