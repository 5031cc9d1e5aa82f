import { execFile, spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

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

export interface DroppedOutput {
  /** Whole lines left out. */
  lines: number;
  /** Their bytes (each counted with its newline), plus the cut-off starts of lines too long for the budget. */
  bytes: number;
}

/** Redacts one line; `cutAtFront` when its start was dropped, so it may begin with the end of a secret. */
export type LineRedactor = (line: string, cutAtFront: boolean) => string;

/**
 * A worker's output, bounded: the last lines whose UTF-8 bytes (each with its newline) fit in `maxBytes`, so a
 * runaway script cannot exhaust the action's memory, while the end, where the error is, stays. Pure: the
 * process wiring feeds it chunks. A line longer than the budget keeps its end, behind a leading '…'.
 */
export class OutputTail {
  private kept: string[] = [];
  /** kept[0 .. head) are dropped; compacted now and then rather than shifted one by one. */
  private head = 0;
  private keptBytes = 0;
  private readonly dropped: DroppedOutput = { lines: 0, bytes: 0 };
  private readonly partial = {
    stdout: { text: '', cut: false },
    stderr: { text: '', cut: false },
  };

  constructor(
    private readonly maxBytes: number,
    private readonly redact: LineRedactor,
  ) {}

  write(stream: 'stdout' | 'stderr', chunk: string): void {
    const partial = this.partial[stream];
    // Split the chunk alone: re-splitting a long unfinished line with every chunk would be quadratic.
    const parts = chunk.split('\n');
    const rest = parts.pop() ?? '';
    for (const part of parts) {
      const line = partial.text + part;
      this.push(line.endsWith('\r') ? line.slice(0, -1) : line, partial.cut);
      partial.text = '';
      partial.cut = false;
    }
    partial.text += rest;
    // A line that never ends (a progress bar, binary noise) must stay bounded too: keep about a budget of its end.
    if (partial.text.length > 2 * this.maxBytes) {
      let from = partial.text.length - this.maxBytes;
      if (isLowSurrogate(partial.text.charCodeAt(from))) from++;
      this.dropped.bytes += Buffer.byteLength(partial.text.slice(0, from));
      partial.text = partial.text.slice(from);
      partial.cut = true;
    }
  }

  /** Flushes unfinished last lines; then returns what is kept. */
  end(): { lines: string[]; dropped: DroppedOutput } {
    for (const partial of [this.partial.stdout, this.partial.stderr]) {
      if (partial.text !== '') this.push(partial.text, partial.cut);
      partial.text = '';
      partial.cut = false;
    }
    return { lines: this.kept.slice(this.head), dropped: { ...this.dropped } };
  }

  private push(raw: string, cutAtFront: boolean): void {
    // Redacted before any cut below: a cut through a whole secret would leave a piece no redaction matches.
    let line = this.redact(raw, cutAtFront);
    if (cutAtFront || Buffer.byteLength(line) + 1 > this.maxBytes) {
      const end = tailWithinBytes(line, this.maxBytes - 1 - ELLIPSIS_BYTES);
      this.dropped.bytes += Buffer.byteLength(line) - Buffer.byteLength(end);
      line = ELLIPSIS + end;
    }
    const size = Buffer.byteLength(line) + 1;
    while (this.keptBytes + size > this.maxBytes && this.head < this.kept.length) this.dropFirst();
    this.kept.push(line);
    this.keptBytes += size;
    if (this.head > 1024 && this.head * 2 > this.kept.length) {
      this.kept = this.kept.slice(this.head);
      this.head = 0;
    }
  }

  private dropFirst(): void {
    const size = Buffer.byteLength(this.kept[this.head] ?? '') + 1;
    this.head++;
    this.keptBytes -= size;
    this.dropped.lines++;
    this.dropped.bytes += size;
  }
}

const ELLIPSIS = '…';
const ELLIPSIS_BYTES = Buffer.byteLength(ELLIPSIS);

const isHighSurrogate = (code: number): boolean => code >= 0xd800 && code <= 0xdbff;
const isLowSurrogate = (code: number): boolean => code >= 0xdc00 && code <= 0xdfff;

/** The longest end of `text` whose UTF-8 encoding fits in `maxBytes`, never starting inside a character. */
export function tailWithinBytes(text: string, maxBytes: number): string {
  let bytes = 0;
  let i = text.length;
  while (i > 0) {
    const code = text.charCodeAt(i - 1);
    const pair = isLowSurrogate(code) && i >= 2 && isHighSurrogate(text.charCodeAt(i - 2));
    // A lone surrogate is encoded as U+FFFD, 3 bytes.
    const size = pair ? 4 : code < 0x80 ? 1 : code < 0x800 ? 2 : 3;
    if (bytes + size > maxBytes) break;
    bytes += size;
    i -= pair ? 2 : 1;
  }
  return text.slice(i);
}

/**
 * Runs one worker as the leader of its own process group, so a timeout or a cancellation can end it with
 * every child it started (pwsh spawns its own helpers; scripts start jobs). Output is buffered by line, redacted,
 * and bounded to the last `maxOutputBytes` (see OutputTail).
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
    maxOutputBytes: number;
    redact: LineRedactor;
    /**
     * `NAME=value` that is in `env` and unique to this worker: every process it starts inherits it, so a stop
     * finds the ones that left the group and were reparented (see markedProcesses).
     */
    marker?: string | undefined;
  },
): Promise<ProcessOutcome> {
  return new Promise((resolve) => {
    const output = new OutputTail(options.maxOutputBytes, options.redact);
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
      output.write(stream, chunk);
    };
    child.stdout.setEncoding('utf8').on('data', collect('stdout'));
    child.stderr.setEncoding('utf8').on('data', collect('stderr'));

    let killTimer: NodeJS.Timeout | undefined;
    let lingerTimer: NodeJS.Timeout | undefined;
    /**
     * Processes of this worker outside its group (setsid, daemons), with their start time: a pid is signalled
     * only while it still belongs to the process we found, never after the system gave it to another.
     */
    const escaped = new Map<number, string>();
    const remember = (pids: readonly number[]): void => {
      for (const p of pids) {
        const started = escaped.has(p) ? undefined : startTimeOf(p);
        if (started !== undefined) escaped.set(p, started); // undefined: already gone
      }
    };
    const signalEscaped = (signal: NodeJS.Signals): void => {
      for (const [p, started] of escaped) if (startTimeOf(p) === started) signalProcess(p, signal);
    };
    // Once the leader has exited its pid, and an empty group's id, may be reused: only the marker is safe then.
    const leaderGone = (): boolean => child.exitCode !== null || child.signalCode !== null;
    const killTree = (signal: NodeJS.Signals): void => {
      const pid = child.pid;
      if (pid !== undefined && !leaderGone()) remember(descendantsOf(pid));
      if (options.marker !== undefined) remember(markedProcesses(options.marker));
      if (pid !== undefined && !leaderGone()) signalGroup(pid, signal);
      signalEscaped(signal);
    };
    // Last resort, a grace period after the hard kill: a process nothing could find (or taskkill missed) may
    // still hold our pipes, and 'close' would wait for it for ever.
    const letGo = (): void => {
      clearTimeout(killTimer);
      killTimer = setTimeout(() => {
        child.stdout.destroy();
        child.stderr.destroy();
      }, options.killGraceMs);
    };
    let lingering = false;
    /** The leader exited on its own, and what it left holds the pipes: end that; the result stays the exit code's. */
    const endLeftovers = (): void => {
      lingering = true;
      killTree('SIGKILL');
      letGo();
    };
    const stop = (reason: 'timeout' | 'cancel'): void => {
      if (stoppedBy || lingering || child.pid === undefined) return;
      if (leaderGone()) {
        endLeftovers();
        return;
      }
      stoppedBy = reason;
      if (process.platform === 'win32') {
        // No process groups: taskkill walks the tree by parent id.
        execFile('taskkill', ['/pid', String(child.pid), '/T', '/F'], () => undefined);
        letGo();
        return;
      }
      killTree('SIGTERM');
      killTimer = setTimeout(() => {
        killTree('SIGKILL');
        letGo();
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

    /** Whether the group still had members when the leader exited. */
    let groupLeft = true;
    // Once the leader has exited, anything left in its group is an orphan (a background job, a helper that
    // kept our pipes open): end it now, or 'close' would wait for it until the timeout. The pipes normally close
    // with it; if they do not within a moment, a process outside the group holds them: end it by its marker.
    child.on('exit', () => {
      if (child.pid !== undefined) groupLeft = signalGroup(child.pid, 'SIGKILL');
      lingerTimer = setTimeout(endLeftovers, LINGER_MS);
    });

    let settled = false;
    child.on('error', (error: NodeJS.ErrnoException) => {
      spawnError = error;
      // A process that never started may not emit 'close'.
      if (child.pid === undefined && !settled) {
        settled = true;
        clearTimeout(timer);
        options.signal?.removeEventListener('abort', onAbort);
        resolve({ exitCode: null, signal: null, ...output.end(), spawnError: error });
      }
    });
    child.on('close', (exitCode, signal) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      // Again after the streams closed, for anything started between 'exit' and now; and a stopped worker's
      // escaped descendants, which the grace period would have killed had the leader not exited first.
      // An empty group cannot gain members, and its id may since belong to someone else: only if it was not empty.
      if (child.pid !== undefined && groupLeft) signalGroup(child.pid, 'SIGKILL');
      signalEscaped('SIGKILL');
      clearTimeout(killTimer);
      clearTimeout(lingerTimer);
      resolve({
        exitCode,
        signal,
        ...output.end(),
        ...(spawnError && { spawnError }),
        ...(stoppedBy && { stoppedBy }),
      });
    });
  });
}

/** How long the pipes may stay open after the leader exited before exo-login looks for who holds them. */
const LINGER_MS = 200;

/** The kernel's start time of `pid` (field 22 of /proc/<pid>/stat): tells a process from a later one with its pid. */
function startTimeOf(pid: number): string | undefined {
  return statFields(pid)?.[STAT_STARTTIME];
}

/** False when the group no longer exists. */
function signalGroup(pid: number, signal: NodeJS.Signals): boolean {
  if (process.platform === 'win32') return false;
  return signalProcess(-pid, signal);
}

function signalProcess(pid: number, signal: NodeJS.Signals): boolean {
  try {
    return process.kill(pid, signal);
  } catch {
    return false; // already gone
  }
}

/** Live descendants of `pid`, by parent id in /proc (Linux); empty where there is no /proc. */
function descendantsOf(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const p of procPids()) {
    const ppid = statFields(p)?.[STAT_PPID];
    if (ppid === undefined) continue; // exited while we looked
    const list = children.get(Number(ppid)) ?? [];
    list.push(p);
    children.set(Number(ppid), list);
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

/**
 * Live processes whose environment holds `entry` exactly (`NAME=value`), or an entry starting with it when it ends
 * in '/'. Environment variables survive setsid, double forks and reparenting, so this finds what the process
 * group and the parent chain lose (Jenkins tracks build processes the same way). Linux /proc; other users'
 * processes cannot be read and are skipped; empty where there is no /proc.
 */
function markedProcesses(entry: string): number[] {
  const needle = Buffer.from(`\0${entry}`);
  const prefix = entry.endsWith('/');
  const found: number[] = [];
  for (const pid of procPids()) {
    if (pid === process.pid) continue;
    let environ: Buffer;
    try {
      environ = Buffer.concat([Buffer.from([0]), readFileSync(`/proc/${pid}/environ`)]);
    } catch {
      continue; // exited, or not ours
    }
    const at = environ.indexOf(needle);
    if (at === -1) continue;
    const end = at + needle.length;
    if (prefix || end === environ.length || environ[end] === 0) found.push(pid);
  }
  return found;
}

/** SIGKILLs every process markedProcesses(entry) finds: what a run's workers left behind. */
export function killMarked(entry: string): void {
  for (const pid of markedProcesses(entry)) signalProcess(pid, 'SIGKILL');
}

/** Every process id in /proc (Linux); empty where there is none. */
function procPids(): number[] {
  try {
    return readdirSync('/proc')
      .filter((name) => /^\d+$/.test(name))
      .map(Number);
  } catch {
    return [];
  }
}

// Indexes into statFields: ppid is field 4 of /proc/<pid>/stat, starttime field 22 (fields count from 1 at pid).
const STAT_PPID = 1;
const STAT_STARTTIME = 19;

/** The fields of /proc/<pid>/stat after "pid (comm) ", from state on; undefined once the process is gone. */
function statFields(pid: number): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // comm may hold spaces and parentheses: the fields start after the last ')'.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}
