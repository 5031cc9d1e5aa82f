/**
 * Synchronous clean-ups that must run however the process ends: a worker's process tree and the owner-only
 * directory with the inline script would otherwise outlive an action that died of a signal or crashed. They run
 * on 'exit' (normal end, process.exit, an uncaught exception) and when a front end is about to die of a signal
 * (runLastRites, then re-raise); each runs at most once. Only what is synchronous can run then.
 */

type Rite = () => void;

const rites = new Set<Rite>();

const onExit = (): void => {
  runLastRites();
};

/** Registers `rite` until the returned function is called (when what it cleans up is gone). */
export function registerLastRite(rite: Rite): () => void {
  if (rites.size === 0) process.on('exit', onExit);
  rites.add(rite);
  return () => {
    rites.delete(rite);
    if (rites.size === 0) process.removeListener('exit', onExit);
  };
}

/** Runs and forgets every registered rite, newest first (a worker's tree before its run's directory). */
export function runLastRites(): void {
  for (const rite of [...rites].reverse()) {
    rites.delete(rite);
    try {
      rite();
    } catch {
      // One failing clean-up must not keep the others from running.
    }
  }
  process.removeListener('exit', onExit);
}
