import type { ExoTokens } from '../core/token.js';

export interface Logger {
  info(message: string): void;
  warning(message: string): void;
  error(message: string, location?: { file: string; startLine: number }): void;
  /**
   * One worker's whole output, printed together. `lines` are the worker's own (outside text: a logger for the
   * GitHub runner must keep them from issuing commands); `worker` is its name.
   */
  group(title: string, lines: readonly string[], worker: string): void;
}

export type WorkerResult = 'success' | 'failure' | 'timeout' | 'cancelled' | 'skipped' | 'error';

export interface WorkerRow {
  name: string;
  /** The script's path; "run" for the inline script. */
  script: string;
  result: WorkerResult;
  exitCode: number | null;
  durationMs: number;
  attempts: number;
  error?: string;
  /** The PowerShell session (1-based) that ran this `.ps1` when sessions are reused. */
  session?: number;
  /** Time spent connecting that session before this script (0 when it reused the connection); not in durationMs. */
  connectMs?: number;
}

export interface WorkerRun {
  ok: boolean;
  rows: WorkerRow[];
}

export interface WorkerSpec {
  /** Display name: the script's path relative to the working directory, or "run" for the inline script. */
  name: string;
  /** Absolute path of the script (for inline PowerShell, the temp file it was written to). */
  script: string;
}

export interface RunWorkersOptions {
  workers: readonly WorkerSpec[];
  /** An inline PowerShell script (the action's `run`), written to an owner-only temp file and run like a .ps1. */
  inline?: string | undefined;
  maxParallel: number;
  /**
   * Run `.ps1` workers in up to maxParallel long-lived PowerShell sessions, each connected once, instead of one
   * process (and one connect) per script; default true. Other workers always run as their own processes.
   */
  reuseSessions?: boolean | undefined;
  timeoutMs: number;
  failFast: boolean;
  cwd: string;
  /** Parent environment; the runner removes the GitHub credentials and adds the token variables. */
  env: NodeJS.ProcessEnv;
  /**
   * Further variables of `env` that workers must not inherit, beyond the GitHub credentials and token variables
   * always left out: e.g. a variable holding the federated token, with which a worker could mint tokens itself.
   */
  withheldVariables?: readonly string[] | undefined;
  /**
   * Further secrets redacted from worker output like the tokens, read before each worker starts (the federated
   * tokens presented so far, say).
   */
  secrets?: (() => readonly string[]) | undefined;
  /** Where wrappers go (the runner's RUNNER_TEMP): a private directory is made inside it. */
  tempDir: string;
  /** Tokens valid at least until the given time; minted again when the current ones would expire sooner. */
  getTokens: (minValidUntil: Date) => Promise<ExoTokens>;
  moduleVersion?: string | undefined;
  logger: Logger;
  signal?: AbortSignal | undefined;
  /** Grace between SIGTERM and SIGKILL when a worker is stopped. */
  killGraceMs?: number;
  /**
   * Most bytes of one worker's output (UTF-8, each line with its newline) buffered for its group; default 1 MiB
   * (1048576), at least 1024. The last lines are kept, since the end holds the error, and the group starts with a
   * note of how much was left out: a runaway script cannot exhaust the action's memory.
   */
  maxOutputBytes?: number | undefined;
}
