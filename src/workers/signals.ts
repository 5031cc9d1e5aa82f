/**
 * Runs `work` with an AbortSignal that fires on SIGINT or SIGTERM. A cancelled GitHub run sends SIGINT, then
 * SIGTERM after a grace period: the signal lets the runner end every worker and its children before we exit.
 */
export async function withCancellation<T>(work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  const cancel = (): void => {
    controller.abort();
  };
  // `on`, not `once`: a second signal (Ctrl-C twice) would otherwise kill Node and orphan workers in their own
  // process groups, which the terminal's signal does not reach. The runner ends them; the abort is idempotent.
  process.on('SIGINT', cancel);
  process.on('SIGTERM', cancel);
  try {
    return await work(controller.signal);
  } finally {
    // Once cancelled, stay subscribed: a further signal while the results are reported would otherwise kill us
    // before the summary and outputs are written. Listeners do not keep the process alive.
    if (!controller.signal.aborted) {
      process.removeListener('SIGINT', cancel);
      process.removeListener('SIGTERM', cancel);
    }
  }
}
