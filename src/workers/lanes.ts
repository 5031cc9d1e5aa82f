/**
 * Runs `work` for each item in order on at most `lanes` lanes at once: a lane takes the next item as soon as its
 * last one ended. `stopped` is asked before each item is taken; items never taken are never passed to `work`.
 */
export async function inLanes<T>(
  items: readonly T[],
  lanes: number,
  stopped: () => boolean,
  work: (item: T, index: number, lane: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  const lane = async (laneIndex: number): Promise<void> => {
    while (!stopped() && next < items.length) {
      const index = next++;
      await work(items[index] as T, index, laneIndex);
    }
  };
  const count = Math.min(Math.max(1, lanes), items.length);
  await Promise.all(Array.from({ length: count }, (_, i) => lane(i)));
}
