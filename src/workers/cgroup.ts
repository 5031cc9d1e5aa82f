import {
  accessSync,
  constants,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmdirSync,
  writeFileSync,
} from 'node:fs';
import { delimiter, join } from 'node:path';
import { signalProcess } from './procfs.js';

/**
 * A cgroup v2 directory per run, and one per worker inside it, where Linux lets exo-login make them: every process
 * a worker starts stays in its cgroup whatever it does to its session, process group, parent or environment
 * (`setsid env -i …`), so "whatever a worker left running is ended" holds for it. Where there is none (no cgroup
 * v2, or not writable, as on GitHub-hosted runners and most containers), the process group, the parent chain and
 * the inherited EXO_WORKER_ID remain (see procfs.ts).
 */
export class RunCgroup {
  private workers = 0;

  private constructor(readonly dir: string) {}

  /** A new cgroup for this run below exo-login's own, or undefined where Linux does not allow one. */
  static create(name: string): RunCgroup | undefined {
    if (process.platform !== 'linux') return undefined;
    const own = ownCgroupDir();
    if (own === undefined) return undefined;
    const dir = join(own, name);
    try {
      // Moving a process into a child cgroup needs write access to the common ancestor's cgroup.procs too.
      accessSync(join(own, 'cgroup.procs'), constants.W_OK);
      mkdirSync(dir);
    } catch {
      return undefined;
    }
    if (!existsSync(join(dir, 'cgroup.kill'))) {
      // Before Linux 5.14 there is no cgroup.kill, which kills a cgroup's processes without racing their forks.
      removeCgroup(dir);
      return undefined;
    }
    return new RunCgroup(dir);
  }

  /** A cgroup for the next worker; undefined if it cannot be made. */
  worker(): string | undefined {
    const dir = join(this.dir, `w${++this.workers}`);
    try {
      mkdirSync(dir);
      return dir;
    } catch {
      return undefined;
    }
  }

  /** Kills everything in the run's cgroups and removes them. Synchronous: it also runs as a last rite. */
  end(): void {
    killCgroup(this.dir);
    removeCgroup(this.dir);
  }
}

/** The directory of exo-login's own cgroup v2, from /proc/self/cgroup and the cgroup2 mount. */
function ownCgroupDir(): string | undefined {
  try {
    const path = /^0::(\/.*)$/m.exec(readFileSync('/proc/self/cgroup', 'utf8'))?.[1];
    if (path === undefined) return undefined;
    for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
      // id parent major:minor root mountpoint options … - fstype source superoptions
      const [left, right] = line.split(' - ');
      if (right?.split(' ')[0] !== 'cgroup2') continue;
      const [, , , root, mountpoint] = left?.split(' ') ?? [];
      if (root === undefined || mountpoint === undefined) continue;
      if (root === '/') return join(mountpoint, path);
      if (path === root || path.startsWith(`${root}/`)) return join(mountpoint, path.slice(root.length));
    }
  } catch {
    // No /proc, or not readable.
  }
  return undefined;
}

/** SIGKILLs every process in `dir` and the cgroups below it. */
export function killCgroup(dir: string): void {
  try {
    writeFileSync(join(dir, 'cgroup.kill'), '1');
  } catch {
    // Gone already.
  }
}

/** Sends `signal` to every process in `dir` and the cgroups below it (for SIGTERM; SIGKILL uses killCgroup). */
export function signalCgroup(dir: string, signal: NodeJS.Signals): void {
  for (const pid of cgroupPids(dir)) signalProcess(pid, signal);
}

function cgroupPids(dir: string): number[] {
  const pids: number[] = [];
  try {
    for (const line of readFileSync(join(dir, 'cgroup.procs'), 'utf8').split('\n'))
      if (line !== '') pids.push(Number(line));
    for (const entry of readdirSync(dir, { withFileTypes: true }))
      if (entry.isDirectory()) pids.push(...cgroupPids(join(dir, entry.name)));
  } catch {
    // Gone already.
  }
  return pids;
}

/**
 * Removes `dir` and the cgroups below it, deepest first. A cgroup is removable once its processes have exited,
 * which after cgroup.kill takes the kernel a moment: a few tries, then it is left (empty, and harmless).
 */
function removeCgroup(dir: string): void {
  let children: string[] = [];
  try {
    children = readdirSync(dir, { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .map((e) => join(dir, e.name));
  } catch {
    return;
  }
  for (const child of children) removeCgroup(child);
  for (let attempt = 0; attempt < 50; attempt++) {
    try {
      rmdirSync(dir);
      return;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EBUSY') return;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 2);
    }
  }
}

/**
 * Starts `command` through /bin/sh, which first moves itself into `cgroup` (writing 0 to cgroup.procs moves the
 * writer), then execs the command in its place: same pid, same process group, and nothing it starts can have
 * been forked before the move.
 */
export function inCgroup(cgroup: string, command: string, args: readonly string[]): [string, string[]] {
  return [
    '/bin/sh',
    ['-c', 'echo 0 > "$0" 2>/dev/null; exec "$@"', join(cgroup, 'cgroup.procs'), command, ...args],
  ];
}

/** Where `command` is on PATH (as execvp would find it); undefined when it is not there. */
export function onPath(command: string, env: NodeJS.ProcessEnv): string | undefined {
  if (command.includes('/')) return command;
  for (const dir of (env['PATH'] ?? '').split(delimiter)) {
    if (dir === '') continue;
    const file = join(dir, command);
    try {
      accessSync(file, constants.X_OK);
      return file;
    } catch {
      // Not here.
    }
  }
  return undefined;
}
