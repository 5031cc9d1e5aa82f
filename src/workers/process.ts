import { spawn } from 'node:child_process';

export interface ProcessOutcome {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  /** stdout and stderr lines in arrival order. */
  lines: string[];
  /** Set when the process could not start (ENOENT, EACCES). */
  spawnError?: NodeJS.ErrnoException;
  stoppedBy?: 'timeout' | 'cancel';
}

/**
 * Runs one worker as the leader of its own process group, so a timeout or a cancellation can end it with
 * every child it started (pwsh spawns its own helpers; scripts start jobs). Output is buffered by line.
 */
export function runProcess(
  command: string,
  args: readonly string[],
  options: {
    cwd: string;
    env: NodeJS.ProcessEnv;
    timeoutMs: number;
    signal?: AbortSignal | undefined;
    killGraceMs: number;
  },
): Promise<ProcessOutcome> {
  return new Promise((resolve) => {
    const lines: string[] = [];
    const partial = { stdout: '', stderr: '' };
    let stoppedBy: ProcessOutcome['stoppedBy'];
    let spawnError: NodeJS.ErrnoException | undefined;
    const child = spawn(command, [...args], {
      cwd: options.cwd,
      env: options.env,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const collect = (stream: 'stdout' | 'stderr') => (chunk: string) => {
      const text = partial[stream] + chunk;
      const parts = text.split(/\r?\n/);
      partial[stream] = parts.pop() ?? '';
      lines.push(...parts);
    };
    child.stdout.setEncoding('utf8').on('data', collect('stdout'));
    child.stderr.setEncoding('utf8').on('data', collect('stderr'));

    let killTimer: NodeJS.Timeout | undefined;
    const stop = (reason: 'timeout' | 'cancel'): void => {
      if (stoppedBy || child.pid === undefined) return;
      stoppedBy = reason;
      signalGroup(child.pid, 'SIGTERM');
      killTimer = setTimeout(() => {
        if (child.pid !== undefined) signalGroup(child.pid, 'SIGKILL');
      }, options.killGraceMs);
    };
    const timer = setTimeout(() => {
      stop('timeout');
    }, options.timeoutMs);
    const onAbort = (): void => {
      stop('cancel');
    };
    if (options.signal?.aborted) onAbort();
    else options.signal?.addEventListener('abort', onAbort, { once: true });

    // Once the leader has exited, anything left in its group is an orphan (a background job, a helper that
    // kept our pipes open): end it now, or 'close' would wait for it until the timeout.
    child.on('exit', () => {
      if (child.pid !== undefined) signalGroup(child.pid, 'SIGKILL');
    });

    let settled = false;
    child.on('error', (error: NodeJS.ErrnoException) => {
      spawnError = error;
      // A process that never started may not emit 'close'.
      if (child.pid === undefined && !settled) {
        settled = true;
        clearTimeout(timer);
        options.signal?.removeEventListener('abort', onAbort);
        resolve({ exitCode: null, signal: null, lines, spawnError: error });
      }
    });
    child.on('close', (exitCode, signal) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      // Again after the streams closed, for anything started between 'exit' and now.
      if (child.pid !== undefined) signalGroup(child.pid, 'SIGKILL');
      if (killTimer) clearTimeout(killTimer);
      for (const rest of [partial.stdout, partial.stderr]) if (rest !== '') lines.push(rest);
      resolve({
        exitCode,
        signal,
        lines,
        ...(spawnError && { spawnError }),
        ...(stoppedBy && { stoppedBy }),
      });
    });
  });
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // Already gone.
  }
}
