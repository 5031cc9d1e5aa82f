import type { RetryClock } from '../../src/core/retry.js';

/** A RetryClock in simulated time: sleeping moves `now` at once and records the wait. */
export function fakeClock(
  options: { random?: number; start?: number } = {},
): RetryClock & { slept: number[]; advance(ms: number): void } {
  let now = options.start ?? 1_000_000;
  const slept: number[] = [];
  return {
    slept,
    now: () => now,
    random: () => options.random ?? 0.5,
    sleep: (ms) => {
      slept.push(ms);
      now += ms;
      return Promise.resolve();
    },
    advance: (ms) => {
      now += ms;
    },
  };
}
