import { execFile, spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

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
      detached: process.platform !== 'win32',
      windowsHide: true,
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
    // Descendants that left the worker's process group (setsid, daemonising tools), found when it is stopped.
    const escaped = new Set<number>();
    const killTree = (pid: number, signal: NodeJS.Signals): void => {
      for (const p of descendantsOf(pid)) escaped.add(p);
      signalGroup(pid, signal);
      for (const p of escaped) signalProcess(p, signal);
    };
    const stop = (reason: 'timeout' | 'cancel'): void => {
      if (stoppedBy || child.pid === undefined) return;
      stoppedBy = reason;
      if (process.platform === 'win32') {
        // No process groups: taskkill walks the tree by parent id.
        execFile('taskkill', ['/pid', String(child.pid), '/T', '/F'], () => undefined);
        return;
      }
      killTree(child.pid, 'SIGTERM');
      killTimer = setTimeout(() => {
        if (child.pid !== undefined) killTree(child.pid, 'SIGKILL');
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
      // Again after the streams closed, for anything started between 'exit' and now; and a stopped worker's
      // escaped descendants, which the grace period would have killed had the leader not exited first.
      if (child.pid !== undefined) signalGroup(child.pid, 'SIGKILL');
      for (const p of escaped) signalProcess(p, 'SIGKILL');
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
  if (process.platform === 'win32') return;
  signalProcess(-pid, signal);
}

function signalProcess(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // Already gone.
  }
}

/** Live descendants of `pid`, by parent id in /proc (Linux); empty where there is no /proc. */
export function descendantsOf(pid: number): number[] {
  const children = new Map<number, number[]>();
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return [];
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue; // exited while we looked
    }
    // "pid (comm) state ppid …": comm may hold spaces and parentheses, so parse after the last ')'.
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    const list = children.get(ppid) ?? [];
    list.push(Number(entry));
    children.set(ppid, list);
  }
  const found: number[] = [];
  const queue = [pid];
  for (let next = queue.pop(); next !== undefined; next = queue.pop()) {
    for (const c of children.get(next) ?? []) {
      found.push(c);
      queue.push(c);
    }
  }
  return found;
}
