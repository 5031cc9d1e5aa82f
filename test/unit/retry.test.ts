import { describe, expect, it } from 'vitest';
import {
  backoffDelay,
  parseRetryAfter,
  retryAfterVerdict,
  timeoutWithin,
  withRetry,
  type RetryPolicy,
} from '../../src/core/retry.js';
import { fakeClock } from '../support/clock.js';

const policy: RetryPolicy = { maxAttempts: 4, maxElapsedMs: 30_000, baseDelayMs: 100, maxDelayMs: 1_000 };

describe('withRetry', () => {
  it('retries transient failures with growing jittered delays, then succeeds', async () => {
    const clock = fakeClock({ random: 1 });
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
    const clock = fakeClock({ random: 0 });
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

describe('withRetry: the time budget bounds each attempt', () => {
  it('tells every attempt when the budget ends, so a request timeout can be cut to the time left', async () => {
    const clock = fakeClock({ random: 0 });
    const timeouts: number[] = [];
    await expect(
      withRetry(
        (_attempt, { deadline }) => {
          // What a 15 s request timeout becomes in each attempt.
          timeouts.push(timeoutWithin(15_000, deadline, clock.now()));
          return Promise.reject(new Error('429'));
        },
        () => ({ transient: true, retryAfterMs: 12_000 }),
        { policy, clock },
      ),
    ).rejects.toThrow('429');
    // Budget 30 s: attempts start at 0, 12 and 24 s; the last may wait 6 s, not 15 s.
    expect(timeouts).toEqual([15_000, 15_000, 6_000]);
  });
  it('does not start an attempt with no time left', async () => {
    const clock = fakeClock({ random: 0 });
    let calls = 0;
    await expect(
      withRetry(
        () => Promise.reject(new Error(`429 #${++calls}`)),
        () => ({ transient: true, retryAfterMs: 15_000 }),
        { policy, clock },
      ),
    ).rejects.toThrow('429 #2');
    expect(clock.slept).toEqual([15_000]);
  });
  it('timeoutWithin keeps a request timeout inside the budget, at least 1 ms', () => {
    expect(timeoutWithin(10_000, 50_000, 20_000)).toBe(10_000);
    expect(timeoutWithin(10_000, 25_000, 20_000)).toBe(5_000);
    expect(timeoutWithin(10_000, 20_000, 20_000)).toBe(1);
  });
});

describe('withRetry: abandoned by the caller', () => {
  it('stops a wait as soon as the signal aborts and rethrows the last error, without another attempt', async () => {
    const giveUp = new AbortController();
    let calls = 0;
    const started = Date.now();
    const outcome = withRetry(
      () => Promise.reject(new Error(`503 #${++calls}`)),
      () => ({ transient: true, retryAfterMs: 20_000 }),
      { policy: { ...policy, maxElapsedMs: 60_000 }, signal: giveUp.signal },
    );
    setTimeout(() => giveUp.abort(), 50);
    await expect(outcome).rejects.toThrow('503 #1');
    expect(calls).toBe(1);
    expect(Date.now() - started).toBeLessThan(1_000);
  });
  it('passes the signal to the attempt and does not classify what it throws once aborted', async () => {
    const giveUp = new AbortController();
    const classified: unknown[] = [];
    await expect(
      withRetry(
        (_attempt, { signal }) => {
          giveUp.abort();
          expect(signal?.aborted).toBe(true);
          return Promise.reject(new Error('abandoned'));
        },
        (error) => {
          classified.push(error);
          return { transient: true };
        },
        { policy, clock: fakeClock(), signal: giveUp.signal },
      ),
    ).rejects.toThrow('abandoned');
    expect(classified).toEqual([]);
  });
  it('with a clock that ignores the signal, still starts no attempt after an aborted wait', async () => {
    const giveUp = new AbortController();
    const clock = fakeClock();
    const sleep = clock.sleep.bind(clock);
    clock.sleep = (ms) => {
      giveUp.abort();
      return sleep(ms);
    };
    let calls = 0;
    await expect(
      withRetry(
        () => Promise.reject(new Error(`reset #${++calls}`)),
        () => ({ transient: true }),
        { policy, clock, signal: giveUp.signal },
      ),
    ).rejects.toThrow('reset #1');
    expect(calls).toBe(1);
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
  it('turns a Retry-After header into a transient verdict that waits for it', () => {
    expect(retryAfterVerdict({ 'retry-after': '3' }, 0)).toEqual({ transient: true, retryAfterMs: 3_000 });
    expect(retryAfterVerdict({}, 0)).toEqual({ transient: true });
  });
});
