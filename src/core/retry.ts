/** Jittered exponential backoff, bounded in attempts and in total time. Sleep, clock and randomness are injectable. */
export interface RetryPolicy {
  /** Total attempts, including the first. */
  maxAttempts: number;
  /** No new attempt starts, and no request waits, past this much time since the first attempt started. */
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
  /** Resolves after `ms`, or early once `signal` aborts (a clock may ignore the signal; withRetry checks it). */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
  now(): number;
  /** In [0, 1). */
  random(): number;
}

export const realClock: RetryClock = {
  sleep: (ms, signal) =>
    new Promise((resolve) => {
      if (signal?.aborted) {
        resolve();
        return;
      }
      // An aborted wait must not leave its timer behind: it would keep the process alive.
      const done = (): void => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      signal?.addEventListener('abort', done, { once: true });
    }),
  now: () => Date.now(),
  random: Math.random,
};

/** What an attempt gets besides its number. */
export interface AttemptContext {
  /** clock.now() at which the time budget ends: no request of the attempt should wait past it. */
  deadline: number;
  /** Aborted when the caller has given up (another request failed for good): abandon the attempt. */
  signal?: AbortSignal;
}

/** A request's timeout within an attempt: its own, cut to the time left in the budget (at least 1 ms). */
export function timeoutWithin(timeoutMs: number, deadline: number, now: number): number {
  return Math.max(1, Math.min(timeoutMs, deadline - now));
}

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

/**
 * Runs `operation` until it succeeds, fails for good, or the attempts or the time budget run out; then rethrows
 * the last error. Once `signal` aborts, no attempt or wait starts and the current one's error is rethrown.
 */
export async function withRetry<T>(
  operation: (attempt: number, context: AttemptContext) => Promise<T>,
  classify: (error: unknown) => Verdict,
  options: {
    policy?: RetryPolicy;
    clock?: RetryClock;
    onRetry?: (event: RetryEvent) => void;
    signal?: AbortSignal;
  } = {},
): Promise<T> {
  const policy = options.policy ?? DEFAULT_RETRY_POLICY;
  const clock = options.clock ?? realClock;
  const { signal } = options;
  const started = clock.now();
  const context: AttemptContext = { deadline: started + policy.maxElapsedMs, ...(signal && { signal }) };
  for (let attempt = 1; ; attempt++) {
    try {
      return await operation(attempt, context);
    } catch (error) {
      if (signal?.aborted) throw error;
      const verdict = classify(error);
      if (!verdict.transient || attempt >= policy.maxAttempts) throw error;
      const delayMs = backoffDelay(attempt, policy, clock.random(), verdict.retryAfterMs);
      // Give up rather than sleep to or past the budget: the caller reports the last real error.
      if (clock.now() - started + delayMs >= policy.maxElapsedMs) throw error;
      options.onRetry?.({ attempt, delayMs, error });
      await clock.sleep(delayMs, signal);
      if (signal?.aborted) throw error;
    }
  }
}

/** Retry-After as milliseconds: delta-seconds (decimals too) or an HTTP date; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | undefined, now: number): number | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  const trimmed = value.trim();
  // Exchange's admin API sends decimal seconds ("0.25"); RFC 9110 has integers only.
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.ceil(Number(trimmed) * 1000);
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** A transient verdict that waits at least as long as the server's Retry-After asks, when it asks. */
export function retryAfterVerdict(headers: Readonly<Record<string, string>>, now: number): Verdict {
  const retryAfterMs = parseRetryAfter(headers['retry-after'], now);
  return retryAfterMs === undefined ? { transient: true } : { transient: true, retryAfterMs };
}

/** HTTP statuses worth another try: throttling and server-side faults. */
export function isTransientStatus(status: number): boolean {
  return status === 408 || status === 429 || (status >= 500 && status <= 599);
}
