import { readdirSync, readFileSync } from 'node:fs';

/**
 * Finding and signalling a worker's processes (Linux /proc; elsewhere only process groups). Pids are signalled
 * only while they still belong to the process found, never after the system may have given them to another.
 */

/**
 * A worker's process tree as seen from its leader: its group, and the processes that left the group (setsid,
 * daemons), remembered with their start time so they are found again after they were reparented.
 */
export class ProcessTree {
  private readonly escaped = new Map<number, string>();

  constructor(
    private readonly leader: number,
    /** See markedProcesses; undefined when the worker carries no marker. */
    private readonly marker: string | undefined,
  ) {}

  /**
   * Signals everything found. `leaderGone`: once the leader has exited its pid, and an empty group's id, may be
   * reused, so only the marker and the remembered processes are safe then.
   */
  signal(signal: NodeJS.Signals, leaderGone: boolean): void {
    if (!leaderGone) this.remember(descendantsOf(this.leader));
    if (this.marker !== undefined) this.remember(markedProcesses(this.marker));
    if (!leaderGone) signalGroup(this.leader, signal);
    this.signalEscaped(signal);
  }

  /** Signals only the remembered processes outside the group that are still the ones found. */
  signalEscaped(signal: NodeJS.Signals): void {
    for (const [pid, started] of this.escaped) if (startTimeOf(pid) === started) signalProcess(pid, signal);
  }

  private remember(pids: readonly number[]): void {
    for (const pid of pids) {
      const started = this.escaped.has(pid) ? undefined : startTimeOf(pid);
      if (started !== undefined) this.escaped.set(pid, started); // undefined: already gone
    }
  }
}

/** The kernel's start time of `pid` (field 22 of /proc/<pid>/stat): tells a process from a later one with its pid. */
export function startTimeOf(pid: number): string | undefined {
  return statFields(pid)?.[STAT_STARTTIME];
}

/** False when the group no longer exists. */
export function signalGroup(pid: number, signal: NodeJS.Signals): boolean {
  if (process.platform === 'win32') return false;
  return signalProcess(-pid, signal);
}

export function signalProcess(pid: number, signal: NodeJS.Signals): boolean {
  try {
    return process.kill(pid, signal);
  } catch {
    return false; // already gone
  }
}

/** Live descendants of `pid`, by parent id in /proc (Linux); empty where there is no /proc. */
export function descendantsOf(pid: number): number[] {
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
export function markedProcesses(entry: string): number[] {
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
