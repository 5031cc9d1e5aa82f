import { runLastRites } from '../core/last-rites.js';

/** Signals after the cancelling one that it takes to end at once. */
const SIGNALS_TO_DIE = 3;

/** Signals that cancel the run: workers are stopped gracefully (SIGTERM, then SIGKILL after the grace period). */
const CANCELLING: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
/** Signals that end the run at once. */
const ENDING: readonly NodeJS.Signals[] = ['SIGQUIT'];

/**
 * Runs `work` with an AbortSignal that fires on SIGINT, SIGTERM or SIGHUP. A cancelled GitHub run sends SIGINT,
 * then SIGTERM after a grace period: the signal lets the runner end every worker and its children before we exit.
 * SIGQUIT, or a third signal after the cancellation, ends the process at once, but never before every worker's
 * tree is killed and the private directory removed (the last rites, see core/last-rites.ts): a process that
 * died of a signal would otherwise leave workers running with their tokens. SIGQUIT exits 131, without a core.
 */
export async function withCancellation<T>(work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  let afterCancel = 0;
  const unsubscribe = (): void => {
    for (const signal of CANCELLING) process.removeListener(signal, cancel);
    for (const signal of ENDING) process.removeListener(signal, end);
  };
  const end = (signal: NodeJS.Signals): void => {
    unsubscribe();
    runLastRites();
    // SIGQUIT's default action dumps core, and a core file would put the tokens in memory on disk: exit with
    // the shell's code for it (128 + 3) instead. The others: die of the signal, so the caller sees what ended us.
    if (signal === 'SIGQUIT') process.exit(128 + 3);
    process.kill(process.pid, signal);
  };
  const cancel = (signal: NodeJS.Signals): void => {
    if (!controller.signal.aborted) {
      controller.abort();
      return;
    }
    // The runner's SIGTERM and an impatient Ctrl-C are absorbed, but a third signal after the cancellation means
    // the caller wants us gone even if stopping workers or reporting hangs.
    if (++afterCancel >= SIGNALS_TO_DIE) end(signal);
  };
  // `on`, not `once`: a second signal (Ctrl-C twice) would otherwise kill Node and orphan workers in their own
  // process groups, which the terminal's signal does not reach. The runner ends them; the abort is idempotent.
  for (const signal of CANCELLING) process.on(signal, cancel);
  for (const signal of ENDING) process.on(signal, end);
  try {
    return await work(controller.signal);
  } finally {
    // Once cancelled, stay subscribed: a further signal while the results are reported would otherwise kill us
    // before the summary and outputs are written. Listeners do not keep the process alive.
    if (!controller.signal.aborted) unsubscribe();
  }
}
