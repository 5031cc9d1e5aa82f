import type { ExoTokens } from '../core/tokens.js';
import type { DroppedOutput, LineRedactor } from './output.js';
import type { WorkerSpec } from './types.js';

/**
 * How one worker is executed, behind the scheduler (runner.ts), which owns everything around it: the order and
 * lanes, the token gate, the result row, the group, the annotations, fail-fast and cancellation. Each lane asks
 * the run's `ExecutorFactory` for its executor once, runs its workers on it one after another, and closes it when
 * the lane ends; so an executor may keep state between workers (a long-lived PowerShell session per lane).
 */
export interface WorkerExecutor {
  /**
   * Why this executor cannot run `spec` at all (an unknown extension), checked before tokens are asked for;
   * undefined when it can.
   */
  refuse(spec: WorkerSpec): string | undefined;
  /**
   * Runs one worker to its end. Call `job.onStart()` once it is about to start (it prints `▶ name started`);
   * an outcome of kind 'refused' means it never started. Must honour `job.timeoutMs` and `job.signal` (the
   * run's cancellation and fail-fast), end everything the worker started, and keep only what `job.redact` let
   * through of its output, within `job.maxOutputBytes`.
   */
  execute(job: WorkerJob): Promise<WorkerOutcome>;
  /** Ends whatever the executor keeps between workers. Called once, when its lane has no more work. */
  close(): Promise<void>;
}

export interface WorkerJob {
  spec: WorkerSpec;
  /** 0-based position of the worker in the run (wrapper files and result rows are numbered from it). */
  index: number;
  /** Tokens valid until at least the worker's timeout plus the margin (see TokenGate). */
  tokens: ExoTokens;
  /** The worker's whole environment: the parent's, minus what is withheld, plus the token variables and its id. */
  env: NodeJS.ProcessEnv;
  /** `NAME=value` in `env`, unique to this worker: finds every process it started (see markedProcesses). */
  marker: string;
  timeoutMs: number;
  signal: AbortSignal;
  killGraceMs: number;
  maxOutputBytes: number;
  redact: LineRedactor;
  cwd: string;
  /**
   * A cgroup v2 directory for this worker's processes, where Linux allows one (see RunCgroup): start them in it
   * and nothing they start can escape the run's end. undefined elsewhere.
   */
  cgroup: string | undefined;
  /** The run's owner-only directory for generated files; removed after the run. */
  privateDir: string;
  moduleVersion: string | undefined;
  onStart(): void;
}

export type WorkerOutcome =
  /** Never started (no group is printed; the row is an error). */
  | { kind: 'refused'; error: string }
  /** Started; `startError` when it could not really start (pwsh not on PATH), which is an error row too. */
  | {
      kind: 'ended';
      exitCode: number | null;
      stoppedBy?: 'timeout' | 'cancel' | undefined;
      startError?: string | undefined;
      lines: string[];
      dropped: DroppedOutput;
      /** It failed whatever its exit code (its PowerShell session died under it): the row's error. */
      failure?: string | undefined;
      /** Run in a long-lived session (sessions/executor.ts): which, and the connect time paid before it. */
      session?: WorkerSession | undefined;
    };

export interface WorkerSession {
  /** 1-based, across the run. */
  number: number;
  /** Connecting before the worker (a new session's start and connect, or a reconnect); 0 when reused. */
  connectMs: number;
}

/** Gives each lane (0 … max-parallel − 1) its executor. */
export type ExecutorFactory = (lane: number) => WorkerExecutor;
