/**
 * Requests in flight per tenant, shared by every client in the process: the service throttles a tenant as a whole
 * ("maximum number of concurrent requests per tenant"), so two clients on one tenant share one budget. Each
 * caller brings its own limit; waiters are served in arrival order.
 */
interface Waiter {
  limit: number;
  resolve: () => void;
  reject: (error: unknown) => void;
}

class TenantLimiter {
  inFlight = 0;
  private readonly queue: Waiter[] = [];

  acquire(limit: number, signal?: AbortSignal): Promise<void> {
    if (this.queue.length === 0 && this.inFlight < limit) {
      this.inFlight++;
      return Promise.resolve();
    }
    return new Promise((resolve, reject) => {
      const waiter: Waiter = { limit, resolve, reject };
      this.queue.push(waiter);
      signal?.addEventListener(
        'abort',
        () => {
          const i = this.queue.indexOf(waiter);
          if (i !== -1) this.queue.splice(i, 1);
          reject(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
        },
        { once: true },
      );
    });
  }

  release(): void {
    this.inFlight--;
    // First come, first served: the head waits even if a later waiter with a higher limit could go.
    const head = this.queue[0];
    if (head && this.inFlight < head.limit) {
      this.queue.shift();
      this.inFlight++;
      head.resolve();
    }
  }
}

const limiters = new Map<string, TenantLimiter>();

/** Runs `work` holding one of the tenant's slots. */
export async function withSlot<T>(
  tenant: string,
  limit: number,
  signal: AbortSignal | undefined,
  work: () => Promise<T>,
): Promise<T> {
  let limiter = limiters.get(tenant);
  if (!limiter) {
    limiter = new TenantLimiter();
    limiters.set(tenant, limiter);
  }
  await limiter.acquire(limit, signal);
  try {
    return await work();
  } finally {
    limiter.release();
  }
}
