/** Signals after the cancelling one that it takes to restore their default action (termination). */
const SIGNALS_TO_DIE = 3;

/**
 * Runs `work` with an AbortSignal that fires on SIGINT or SIGTERM. A cancelled GitHub run sends SIGINT, then
 * SIGTERM after a grace period: the signal lets the runner end every worker and its children before we exit.
 */
export async function withCancellation<T>(work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  let afterCancel = 0;
  const unsubscribe = (): void => {
    process.removeListener('SIGINT', cancel);
    process.removeListener('SIGTERM', cancel);
  };
  const cancel = (signal: NodeJS.Signals): void => {
    if (!controller.signal.aborted) {
      controller.abort();
      return;
    }
    // The runner's SIGTERM and an impatient Ctrl-C are absorbed, but a third signal after the cancellation means
    // the caller wants us gone even if stopping workers or reporting hangs: die of the signal, as if unhandled.
    if (++afterCancel < SIGNALS_TO_DIE) return;
    unsubscribe();
    process.kill(process.pid, signal);
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
    if (!controller.signal.aborted) unsubscribe();
  }
}
