// No imports: scripts/docs.ts loads this file with Node's type stripping, which cannot resolve '.js' to '.ts'.

/**
 * The one table of the worker settings shared by the action's inputs and `exo-login run`'s flags (their names
 * are the same: `max-parallel` and `--max-parallel`): defaults, limits and what each means. action.yml's
 * defaults, the CLI's help and the README's generated table are checked against or built from it.
 */
const MAX_PARALLEL = { min: 1, max: 64 };
const MAX_MINUTES = 1440;
const MAX_SHARDS = 256;

export const WORKER_SETTINGS = {
  maxParallel: {
    name: 'max-parallel',
    default: 3,
    ...MAX_PARALLEL,
    accepts: `a whole number from ${MAX_PARALLEL.min} to ${MAX_PARALLEL.max}`,
    meaning: 'workers at once',
  },
  timeoutMinutes: {
    name: 'timeout-minutes',
    default: 30,
    max: MAX_MINUTES,
    accepts: `minutes, more than 0 and at most ${MAX_MINUTES} (a day), decimals allowed (0.5 = 30 s)`,
    meaning: 'time limit per worker; past it the worker is stopped with its child processes',
  },
  failFast: {
    name: 'fail-fast',
    default: false,
    accepts: 'true or false (the CLI flag takes no value)',
    meaning: 'stop starting workers and cancel running ones after the first failure',
  },
  reuseSessions: {
    name: 'reuse-sessions',
    default: true,
    accepts: 'true or false (the CLI: --reuse-sessions, --no-reuse-sessions)',
    meaning:
      '.ps1 scripts run one after another in up to max-parallel PowerShell sessions, each connected once; false: one pwsh and one connect per script',
  },
  shard: {
    name: 'shard',
    default: undefined,
    max: MAX_SHARDS,
    accepts: `i/n with 1 ≤ i ≤ n ≤ ${MAX_SHARDS}`,
    meaning: "run only this job's share of the matched scripts",
  },
  workingDirectory: {
    name: 'working-directory',
    default: undefined,
    accepts: 'a directory, relative to the workspace (the CLI: the current directory) or absolute',
    meaning: 'globs are relative to it; workers start in it',
  },
  moduleVersion: {
    name: 'module-version',
    default: undefined,
    accepts: 'a release version such as 3.7.2',
    meaning: 'ExchangeOnlineManagement RequiredVersion (default: the newest installed)',
  },
} as const;

export type WorkerSettingKey = keyof typeof WORKER_SETTINGS;

/** A setting's default as action.yml writes it ('' when there is none). */
export function defaultText(key: WorkerSettingKey): string {
  const fallback = WORKER_SETTINGS[key].default;
  return fallback === undefined ? '' : String(fallback);
}
