/** Jittered exponential backoff, bounded in attempts and in total time. Sleep, clock and randomness are injectable. */
export interface RetryPolicy {
  /** Total attempts, including the first. */
  maxAttempts: number;
  /** No new attempt starts after this much time since the first one started. */
  maxElapsedMs: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  maxAttempts: 5,
  maxElapsedMs: 60_000,
  baseDelayMs: 500,
  maxDelayMs: 10_000,
};

export interface RetryClock {
  sleep(ms: number): Promise<void>;
  now(): number;
  /** In [0, 1). */
  random(): number;
}

export const realClock: RetryClock = {
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  now: () => Date.now(),
  random: Math.random,
};

/** How a failure should be treated: `retryAfterMs` is the server's request (Retry-After). */
export type Verdict = { transient: false } | { transient: true; retryAfterMs?: number };

export interface RetryEvent {
  attempt: number;
  delayMs: number;
  error: unknown;
}

/**
 * Delay before the next attempt: full jitter over an exponential cap, but never less than the server's
 * Retry-After (which may exceed maxDelayMs; the elapsed budget still bounds it).
 */
export function backoffDelay(
  attempt: number,
  policy: RetryPolicy,
  random: number,
  retryAfterMs?: number,
): number {
  const cap = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
  const jittered = Math.round(cap / 2 + (cap / 2) * random);
  return retryAfterMs === undefined ? jittered : Math.max(retryAfterMs, jittered);
}

export async function withRetry<T>(
  operation: (attempt: number) => Promise<T>,
  classify: (error: unknown) => Verdict,
  options: { policy?: RetryPolicy; clock?: RetryClock; onRetry?: (event: RetryEvent) => void } = {},
): Promise<T> {
  const policy = options.policy ?? DEFAULT_RETRY_POLICY;
  const clock = options.clock ?? realClock;
  const started = clock.now();
  for (let attempt = 1; ; attempt++) {
    try {
      return await operation(attempt);
    } catch (error) {
      const verdict = classify(error);
      if (!verdict.transient || attempt >= policy.maxAttempts) throw error;
      const delayMs = backoffDelay(attempt, policy, clock.random(), verdict.retryAfterMs);
      // Give up rather than sleep past the budget: the caller reports the last real error.
      if (clock.now() - started + delayMs > policy.maxElapsedMs) throw error;
      options.onRetry?.({ attempt, delayMs, error });
      await clock.sleep(delayMs);
    }
  }
}

/** Retry-After as milliseconds: delta-seconds or an HTTP date; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | undefined, now: number): number | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** HTTP statuses worth another try: throttling and server-side faults. */
export function isTransientStatus(status: number): boolean {
  return status === 408 || status === 429 || (status >= 500 && status <= 599);
}
