import { spawn, type ChildProcess } from 'node:child_process';
import type { Writable } from 'node:stream';
import { OutputTail, type DroppedOutput, type LineRedactor } from '../output.js';
import { inCgroup, killCgroup, onPath, signalCgroup } from '../cgroup.js';
import { killMarked, signalGroup } from '../procfs.js';
import { nextState, type SessionEvent, type SessionState } from './lifecycle.js';
import {
  commandLine,
  frameMarker,
  FramePairs,
  FrameSplitter,
  helloLine,
  newNonce,
  type Command,
  type Frame,
  type Piece,
} from './protocol.js';

export interface SessionProcessOptions {
  /** pwsh, and its arguments before the host file. */
  command: string;
  args: readonly string[];
  /** The generated host (host.ts), written owner-only by the caller. */
  hostFile: string;
  cwd: string;
  /** The session's environment: the inherited one, no token, with `marker` in it. */
  env: NodeJS.ProcessEnv;
  /** `NAME=value` in `env`, unique to this session: finds its processes that left the group. */
  marker: string;
  killGraceMs: number;
  maxOutputBytes: number;
  /** A cgroup v2 directory to start the session in (see RunCgroup): its tree is then everything in it. */
  cgroup?: string | undefined;
  /** Redacts with every token this session has been given. */
  redact: LineRedactor;
}

export interface ScriptRequest {
  script: string;
  cwd: string;
  /** Variables set in the session before the script (EXO_WORKER, its marker). */
  env: Record<string, string>;
  /** `NAME=value` the script's processes inherit: what it leaves running is ended when it ends. */
  marker: string;
  timeoutMs: number;
  signal?: AbortSignal | undefined;
}

export interface ScriptOutcome {
  /** The script's exit status as a process of its own would have reported it; null when it did not finish. */
  exitCode: number | null;
  /** Output of the session before the script (connect messages), then the script's, redacted and bounded. */
  lines: string[];
  dropped: DroppedOutput;
  stoppedBy?: 'timeout' | 'cancel';
  /** The session ended while the script ran ([Environment]::Exit, a crash): its exit code or signal. */
  sessionEnded?: { exitCode: number | null; signal: NodeJS.Signals | null };
  /** Whether the session is still connected after the script (Get-ConnectionInformation). */
  connected: boolean;
  durationMs: number;
  /** The host broke the protocol and was ended. */
  failure?: string;
}

export interface ConnectOutcome {
  ok: boolean;
  /** Spawn (first connect) or request (reconnect) to the host's answer. */
  ms: number;
  /** Set when the session ended instead of answering. */
  sessionEnded?: { exitCode: number | null; signal: NodeJS.Signals | null };
  spawnError?: NodeJS.ErrnoException;
}

type Pending =
  | { kind: 'connect'; started: number; resolve: (outcome: ConnectOutcome) => void }
  | {
      kind: 'run';
      request: ScriptRequest;
      started: number;
      output: OutputTail;
      timer: NodeJS.Timeout;
      onAbort: () => void;
      resolve: (outcome: ScriptOutcome) => void;
    };

/** After the host exited, how long its pipes may stay open before exo-login ends whoever holds them. */
const LINGER_MS = 200;

/**
 * One long-lived pwsh running the session host. Its state is one of lifecycle.ts's; every command and every frame
 * goes through nextState. Output is routed per stream: before the stream's `start` frame it is the session's, up
 * to its `end` frame the script's.
 */
export class PowerShellSession {
  private state: SessionState = 'starting';
  private readonly child: ChildProcess;
  private readonly control: Writable;
  private readonly splitters: Record<'stdout' | 'stderr', FrameSplitter>;
  private readonly pairs = new FramePairs();
  /** Per stream: whose output it is now. */
  private readonly owner = {
    stdout: 'session' as 'session' | 'script',
    stderr: 'session' as 'session' | 'script',
  };
  private sessionOutput: OutputTail;
  private pending: Pending | undefined;
  private stoppedBy: 'timeout' | 'cancel' | 'protocol' | undefined;
  private killTimer: NodeJS.Timeout | undefined;
  private protocolError: string | undefined;
  private spawnError: NodeJS.ErrnoException | undefined;
  /** Resolves when the process has exited and its streams are closed. */
  readonly closed: Promise<{ exitCode: number | null; signal: NodeJS.Signals | null }>;

  constructor(private readonly options: SessionProcessOptions) {
    const nonce = newNonce();
    const marker = frameMarker(nonce);
    this.splitters = { stdout: new FrameSplitter(marker), stderr: new FrameSplitter(marker) };
    this.sessionOutput = new OutputTail(options.maxOutputBytes, options.redact);
    const found = options.cgroup === undefined ? undefined : onPath(options.command, options.env);
    const [command, args] =
      options.cgroup === undefined || found === undefined
        ? [options.command, [...options.args, options.hostFile]]
        : inCgroup(options.cgroup, found, [...options.args, options.hostFile]);
    this.child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env,
      detached: process.platform !== 'win32',
      windowsHide: true,
      stdio: ['ignore', 'pipe', 'pipe', 'pipe'],
    });
    this.control = this.child.stdio[3] as Writable;
    // A host that died closes fd 3 under us: the exit handler reports it, the write error is not news.
    this.control.on('error', () => undefined);
    this.control.write(helloLine(nonce));
    for (const stream of ['stdout', 'stderr'] as const) {
      const readable = this.child[stream];
      readable?.setEncoding('utf8').on('data', (chunk: string) => {
        this.take(stream, this.splitters[stream].push(chunk));
      });
      readable?.on('end', () => {
        this.take(stream, this.splitters[stream].end());
      });
    }
    this.closed = new Promise((resolve) => {
      this.child.on('error', (error: NodeJS.ErrnoException) => {
        this.spawnError = error;
        if (this.child.pid === undefined) this.ended(null, null, resolve);
      });
      this.child.on('exit', () => {
        this.onExit();
      });
      this.child.on('close', (exitCode, signal) => {
        this.ended(exitCode, signal, resolve);
      });
    });
  }

  get current(): SessionState {
    return this.state;
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** Connects, or reconnects with new tokens (`env`: the token variables, set in the session first). */
  connect(env: Record<string, string>): Promise<ConnectOutcome> {
    return new Promise((resolve) => {
      if (this.state !== 'starting' && !this.move('connect')) {
        resolve({ ok: false, ms: 0 });
        return;
      }
      this.pending = { kind: 'connect', started: Date.now(), resolve };
      this.send({ op: 'connect', env });
    });
  }

  /** Runs one script; the session must be ready (connected). */
  run(request: ScriptRequest): Promise<ScriptOutcome> {
    return new Promise((resolve) => {
      const output = new OutputTail(this.options.maxOutputBytes, this.options.redact);
      for (const line of this.takeSessionOutput()) output.write('stdout', `${line}\n`);
      if (!this.move('run')) {
        resolve({ exitCode: null, ...output.end(), connected: false, durationMs: 0 });
        return;
      }
      const timer = setTimeout(() => {
        this.stop('timeout');
      }, request.timeoutMs);
      const onAbort = (): void => {
        this.stop('cancel');
      };
      this.pending = { kind: 'run', request, started: Date.now(), output, timer, onAbort, resolve };
      if (request.signal?.aborted) onAbort();
      else request.signal?.addEventListener('abort', onAbort, { once: true });
      this.send({ op: 'run', script: request.script, cwd: request.cwd, env: request.env });
    });
  }

  /** What the session printed outside scripts since last asked (a failed connect's error, say). */
  takeSessionOutput(): string[] {
    const { lines } = this.sessionOutput.end();
    this.sessionOutput = new OutputTail(this.options.maxOutputBytes, this.options.redact);
    return lines;
  }

  /** Asks the host to disconnect and exit; ends it the hard way if it has not within the grace period. */
  async quit(): Promise<void> {
    if (this.move('quit')) {
      this.send({ op: 'quit' });
      this.control.end();
      const timer = setTimeout(() => {
        this.stop('cancel');
      }, this.options.killGraceMs);
      await this.closed;
      clearTimeout(timer);
    } else if (this.state !== 'ended') {
      this.stop('cancel');
      await this.closed;
    }
  }

  /** Ends the session and everything it started: SIGTERM, then SIGKILL after the grace period. */
  stop(reason: 'timeout' | 'cancel' | 'protocol'): void {
    if (this.state === 'ended' || this.state === 'stopping') return;
    this.state = 'stopping';
    this.stoppedBy ??= reason;
    this.signalAll('SIGTERM');
    this.killTimer = setTimeout(() => {
      this.signalAll('SIGKILL');
      this.letGo();
    }, this.options.killGraceMs);
  }

  private move(event: SessionEvent): boolean {
    const next = nextState(this.state, event);
    if (next === undefined) return false;
    this.state = next;
    return true;
  }

  private send(command: Command): void {
    if (this.control.writable) this.control.write(commandLine(command));
  }

  private take(stream: 'stdout' | 'stderr', pieces: Piece[]): void {
    for (const piece of pieces) {
      if (piece.kind === 'text') {
        const pending = this.pending;
        if (this.owner[stream] === 'script' && pending?.kind === 'run')
          pending.output.write(stream, piece.text);
        else this.sessionOutput.write(stream, piece.text);
      } else if (piece.kind === 'malformed') {
        this.broken(`the session host sent a frame exo-login cannot read: ${piece.text.slice(0, 80)}`);
      } else {
        this.owner[stream] = piece.frame.t === 'start' ? 'script' : 'session';
        const complete = this.pairs.add(stream, piece.frame);
        if (complete === 'mismatch')
          this.broken('the session host sent different frames on stdout and stderr');
        else if (complete) this.onFrame(complete);
      }
    }
  }

  private onFrame(frame: Frame): void {
    const pending = this.pending;
    if (frame.t === 'connected' && pending?.kind === 'connect') {
      if (!this.move(frame.ok ? 'connected' : 'connect-failed')) {
        this.broken('a connect answer out of turn');
        return;
      }
      this.pending = undefined;
      pending.resolve({ ok: frame.ok, ms: Date.now() - pending.started });
    } else if (frame.t === 'start' && pending?.kind === 'run') {
      pending.started = Date.now();
    } else if (frame.t === 'end' && pending?.kind === 'run') {
      if (!this.move(frame.connected ? 'end-connected' : 'end-disconnected')) {
        this.broken('a script end out of turn');
        return;
      }
      this.pending = undefined;
      this.settleRun(pending, { exitCode: frame.exit, connected: frame.connected });
      // What the script left running (a job, a Start-Process) ends with it, as it would with its own process.
      killMarked(pending.request.marker);
    } else {
      this.broken(`a '${frame.t}' frame out of turn`);
    }
  }

  private settleRun(
    pending: Extract<Pending, { kind: 'run' }>,
    result: Pick<ScriptOutcome, 'exitCode' | 'connected' | 'stoppedBy' | 'sessionEnded' | 'failure'>,
  ): void {
    clearTimeout(pending.timer);
    pending.request.signal?.removeEventListener('abort', pending.onAbort);
    pending.resolve({ ...result, ...pending.output.end(), durationMs: Date.now() - pending.started });
  }

  /** A host that breaks the protocol is ended: nothing more it says can be trusted. */
  private broken(message: string): void {
    this.protocolError ??= message;
    this.stop('protocol');
  }

  private signalAll(signal: NodeJS.Signals): void {
    const pid = this.child.pid;
    if (pid !== undefined && !this.leaderGone()) signalGroup(pid, signal);
    const { cgroup } = this.options;
    if (cgroup !== undefined) {
      if (signal === 'SIGKILL') killCgroup(cgroup);
      else signalCgroup(cgroup, signal);
    }
    if (signal === 'SIGKILL') {
      killMarked(this.options.marker);
      if (this.pending?.kind === 'run') killMarked(this.pending.request.marker);
    }
  }

  private leaderGone(): boolean {
    return this.child.exitCode !== null || this.child.signalCode !== null;
  }

  /** The host exited: whatever is left of it ends now; if the pipes stay open, whoever holds them is found. */
  private onExit(): void {
    const pid = this.child.pid;
    if (pid !== undefined) signalGroup(pid, 'SIGKILL');
    // Whatever is left in the session's cgroup was started by its scripts and outlived it.
    if (this.options.cgroup !== undefined) killCgroup(this.options.cgroup);
    setTimeout(() => {
      if (this.state === 'ended') return;
      killMarked(this.options.marker);
      if (this.pending?.kind === 'run') killMarked(this.pending.request.marker);
      this.letGo();
    }, LINGER_MS).unref();
  }

  /** Last resort: a process nothing could find may hold the pipes; stop waiting for them. */
  private letGo(): void {
    clearTimeout(this.killTimer);
    this.killTimer = setTimeout(() => {
      this.child.stdout?.destroy();
      this.child.stderr?.destroy();
      // What a script started inherits fd 3 too, and could hold it open.
      this.control.destroy();
    }, this.options.killGraceMs);
  }

  private ended(
    exitCode: number | null,
    signal: NodeJS.Signals | null,
    resolve: (value: { exitCode: number | null; signal: NodeJS.Signals | null }) => void,
  ): void {
    if (this.state === 'ended') return;
    this.state = 'ended';
    clearTimeout(this.killTimer);
    const pending = this.pending;
    this.pending = undefined;
    const sessionEnded = { exitCode, signal };
    if (pending?.kind === 'connect') {
      pending.resolve({
        ok: false,
        ms: Date.now() - pending.started,
        sessionEnded,
        ...(this.spawnError && { spawnError: this.spawnError }),
      });
    } else if (pending?.kind === 'run') {
      const stoppedBy = this.stoppedBy === 'protocol' ? undefined : this.stoppedBy;
      this.settleRun(pending, {
        exitCode,
        connected: false,
        ...(stoppedBy ? { stoppedBy } : { sessionEnded }),
        ...(this.protocolError !== undefined && { failure: this.protocolError }),
      });
    }
    resolve(sessionEnded);
  }

  /** Why the session is not trustworthy any more, if it broke the protocol. */
  get failure(): string | undefined {
    return this.protocolError;
  }
}
