import { execFile, spawn, type ChildProcessByStdio } from 'node:child_process';
import type { Readable } from 'node:stream';
import { OutputTail, type DroppedOutput, type LineRedactor } from './output.js';
import { registerLastRite } from '../core/last-rites.js';
import { inCgroup, killCgroup, onPath, signalCgroup } from './cgroup.js';
import { ProcessTree, signalGroup } from './procfs.js';

export interface ProcessOutcome {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  /** The end of stdout and stderr, by line in arrival order, redacted, within the output budget. */
  lines: string[];
  /** What the budget left out, before `lines`. */
  dropped: DroppedOutput;
  /** Set when the process could not start (ENOENT, EACCES). */
  spawnError?: NodeJS.ErrnoException;
  stoppedBy?: 'timeout' | 'cancel';
}

export interface ProcessOptions {
  cwd: string;
  env: NodeJS.ProcessEnv;
  timeoutMs: number;
  signal?: AbortSignal | undefined;
  killGraceMs: number;
  maxOutputBytes: number;
  redact: LineRedactor;
  /**
   * `NAME=value` that is in `env` and unique to this worker: every process it starts inherits it, so a stop
   * finds the ones that left the group and were reparented (see markedProcesses).
   */
  marker?: string | undefined;
  /** A cgroup v2 directory the process is started in (see RunCgroup); its tree is then every process in it. */
  cgroup?: string | undefined;
}

/**
 * The life of one worker process:
 * - `running`: the leader is alive.
 * - `stopping`: a timeout or a cancellation sent SIGTERM to the tree; SIGKILL follows after the grace period.
 * - `exited`: the leader exited (on its own or stopped); what is left in its group was killed, and the pipes
 *   have LINGER_MS to close before exo-login looks for who outside the group holds them.
 * - `lingering`: leftovers outside the group were killed; the pipes are let go after the grace period, so a
 *   process nothing could find cannot hold 'close' for ever.
 * - `settled`: the outcome was delivered.
 */
type State = 'running' | 'stopping' | 'exited' | 'lingering' | 'settled';

/** How long the pipes may stay open after the leader exited before exo-login looks for who holds them. */
const LINGER_MS = 200;

/**
 * Runs one worker as the leader of its own process group, so a timeout or a cancellation can end it with
 * every child it started (pwsh spawns its own helpers; scripts start jobs). Output is buffered by line, redacted,
 * and bounded to the last `maxOutputBytes` (see OutputTail).
 */
export function runProcess(
  command: string,
  args: readonly string[],
  options: ProcessOptions,
): Promise<ProcessOutcome> {
  return new Promise((resolve) => {
    new WorkerProcess(command, args, options, resolve);
  });
}

class WorkerProcess {
  private state: State = 'running';
  private stoppedBy: ProcessOutcome['stoppedBy'];
  private spawnError: NodeJS.ErrnoException | undefined;
  /** The one timer of the current state (grace, linger, let go); the deadline runs beside it. */
  private stateTimer: NodeJS.Timeout | undefined;
  private readonly deadline: NodeJS.Timeout;
  /** Whether the group still had members when the leader exited. */
  private groupLeft = true;
  private readonly output: OutputTail;
  private readonly child: ChildProcessByStdio<null, Readable, Readable>;
  private readonly tree: ProcessTree | undefined;
  /** Kills the tree if the process ends (a signal, a crash) before this worker settled. */
  private readonly forgetLastRite: () => void;
  private readonly onAbort = (): void => {
    this.stop('cancel');
  };

  constructor(
    command: string,
    args: readonly string[],
    private readonly options: ProcessOptions,
    private readonly resolve: (outcome: ProcessOutcome) => void,
  ) {
    this.output = new OutputTail(options.maxOutputBytes, options.redact);
    const [file, argv] = startCommand(command, args, options);
    this.child = spawn(file, argv, {
      cwd: options.cwd,
      env: options.env,
      detached: process.platform !== 'win32',
      windowsHide: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const pid = this.child.pid;
    this.tree = pid === undefined ? undefined : new ProcessTree(pid, options.marker);
    this.forgetLastRite = registerLastRite(() => this.killTree('SIGKILL'));
    this.child.stdout.setEncoding('utf8').on('data', (chunk: string) => this.output.write('stdout', chunk));
    this.child.stderr.setEncoding('utf8').on('data', (chunk: string) => this.output.write('stderr', chunk));
    this.child.on('exit', () => this.onExit());
    this.child.on('error', (error: NodeJS.ErrnoException) => this.onError(error));
    this.child.on('close', (exitCode, signal) => this.onClose(exitCode, signal));
    this.deadline = setTimeout(() => this.stop('timeout'), options.timeoutMs);
    if (options.signal?.aborted) this.onAbort();
    else options.signal?.addEventListener('abort', this.onAbort, { once: true });
  }

  private leaderGone(): boolean {
    return this.child.exitCode !== null || this.child.signalCode !== null;
  }

  private enter(state: State, timer?: { ms: number; then: () => void }): void {
    this.state = state;
    clearTimeout(this.stateTimer);
    this.stateTimer = timer && setTimeout(timer.then, timer.ms);
  }

  private killTree(signal: NodeJS.Signals): void {
    this.tree?.signal(signal, this.leaderGone());
    const { cgroup } = this.options;
    if (cgroup === undefined) return;
    if (signal === 'SIGKILL') killCgroup(cgroup);
    else signalCgroup(cgroup, signal);
  }

  /** A timeout or a cancellation. */
  private stop(reason: 'timeout' | 'cancel'): void {
    if (this.child.pid === undefined || this.stoppedBy !== undefined) return;
    // The leader is gone and what it left holds the pipes: end that; the result stays the exit code's.
    if (this.state === 'exited') {
      this.linger();
      return;
    }
    if (this.state !== 'running') return;
    this.stoppedBy = reason;
    if (process.platform === 'win32') {
      // No process groups: taskkill walks the tree by parent id.
      execFile('taskkill', ['/pid', String(this.child.pid), '/T', '/F'], () => undefined);
      this.enter('stopping', { ms: this.options.killGraceMs, then: () => this.letGo() });
      return;
    }
    this.killTree('SIGTERM');
    this.enter('stopping', {
      ms: this.options.killGraceMs,
      then: () => {
        this.killTree('SIGKILL');
        this.enter('stopping', { ms: this.options.killGraceMs, then: () => this.letGo() });
      },
    });
  }

  /**
   * Once the leader has exited, anything left in its group is an orphan (a background job, a helper that kept
   * our pipes open): end it now, or 'close' would wait for it until the timeout. The pipes normally close with
   * it; if they do not within a moment, a process outside the group holds them: end it by its marker.
   */
  private onExit(): void {
    if (this.state === 'settled') return;
    if (this.child.pid !== undefined) this.groupLeft = signalGroup(this.child.pid, 'SIGKILL');
    this.enter('exited', { ms: LINGER_MS, then: () => this.linger() });
  }

  private linger(): void {
    this.killTree('SIGKILL');
    this.enter('lingering', { ms: this.options.killGraceMs, then: () => this.letGo() });
  }

  /** Last resort: a process nothing could find (or taskkill missed) may still hold our pipes. */
  private letGo(): void {
    this.child.stdout.destroy();
    this.child.stderr.destroy();
  }

  private onError(error: NodeJS.ErrnoException): void {
    this.spawnError = error;
    // A process that never started may not emit 'close'.
    if (this.child.pid === undefined) this.settle({ exitCode: null, signal: null });
  }

  private onClose(exitCode: number | null, signal: NodeJS.Signals | null): void {
    if (this.state === 'settled') return;
    // Again after the streams closed, for anything started between 'exit' and now; and a stopped worker's
    // escaped descendants, which the grace period would have killed had the leader not exited first.
    // An empty group cannot gain members, and its id may since belong to someone else: only if it was not empty.
    if (this.child.pid !== undefined && this.groupLeft) signalGroup(this.child.pid, 'SIGKILL');
    this.tree?.signalEscaped('SIGKILL');
    this.settle({ exitCode, signal });
  }

  private settle(end: { exitCode: number | null; signal: NodeJS.Signals | null }): void {
    if (this.state === 'settled') return;
    this.enter('settled');
    this.forgetLastRite();
    clearTimeout(this.deadline);
    this.options.signal?.removeEventListener('abort', this.onAbort);
    this.resolve({
      ...end,
      ...this.output.end(),
      ...(this.spawnError && { spawnError: this.spawnError }),
      ...(this.stoppedBy && { stoppedBy: this.stoppedBy }),
    });
  }
}

/**
 * The command to spawn: in a cgroup, through the shell that moves itself there first. A command not on PATH is
 * spawned as it is, so it fails as it would have (ENOENT) rather than as the shell's exit code 127.
 */
function startCommand(command: string, args: readonly string[], options: ProcessOptions): [string, string[]] {
  if (options.cgroup === undefined || onPath(command, options.env) === undefined) return [command, [...args]];
  // The shell finds it on the same PATH, and the process keeps the argv[0] it would have had (`pwsh`, not a path).
  return inCgroup(options.cgroup, command, args);
}
