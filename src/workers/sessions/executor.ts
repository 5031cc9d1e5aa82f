import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ExoTokens } from '../../core/token.js';
import { EnvVar, tokenVariables } from '../../core/variables.js';
import { WORKER_ID } from '../environment.js';
import { TOKEN_MARGIN_MS } from '../token-gate.js';
import type { ExecutorFactory, WorkerExecutor, WorkerJob, WorkerOutcome } from '../executor.js';
import { interpreterFor } from '../interpreters.js';
import { redact, type LineRedactor } from '../output.js';
import { NO_ORGANIZATION, processExecutor, resourcesOf, startErrorMessage } from '../process-executor.js';
import { sessionHost } from './host.js';
import { canRun } from './lifecycle.js';
import { PowerShellSession, type ConnectOutcome, type ScriptOutcome } from './session.js';

/**
 * Each lane keeps one long-lived PowerShell session and runs its `.ps1` workers in it, one after another: N
 * scripts cost max-parallel connects instead of N. Other workers run as their own processes, as without sessions.
 * A session that timed out, died or failed to connect is dropped; the lane's next script gets a new one.
 */
export function sessionExecutors(): ExecutorFactory {
  let sessions = 0;
  return (lane) => new SessionLane(lane, () => ++sessions);
}

type Connected = ConnectOutcome & { reused?: true; stoppedBy?: 'timeout' | 'cancel'; failure?: string };

/**
 * The longest a connect may take, when the timeout is longer: the tokens were checked to outlive the timeout plus
 * the margin before it, and the script gets its whole timeout after it, so a connect may use half of the margin.
 */
const CONNECT_CAP_MS = TOKEN_MARGIN_MS / 2;

/** The session a lane holds, with what it was connected with. */
interface Held {
  session: PowerShellSession;
  /** 1-based, across the run: what the result rows and the summary call it. */
  number: number;
  hostFile: string;
  /** The tokens it is connected with (undefined: not connected). */
  tokens: string | undefined;
  /** Every token it was ever given, for redaction. */
  secrets: Set<string>;
  /** The current job's redaction (its tokens and any other secrets the run keeps from the log). */
  redactor: { job: LineRedactor };
}

class SessionLane implements WorkerExecutor {
  private held: Held | undefined;
  private opened = 0;

  constructor(
    private readonly lane: number,
    private readonly nextNumber: () => number,
  ) {}

  refuse(spec: WorkerJob['spec']): string | undefined {
    return processExecutor.refuse(spec);
  }

  async execute(job: WorkerJob): Promise<WorkerOutcome> {
    if (interpreterFor(job.spec.script)?.powershell !== true) return processExecutor.execute(job);
    if (!job.tokens.organization) return { kind: 'refused', error: NO_ORGANIZATION };
    job.onStart();
    const started = Date.now();
    const connect = await this.boundedConnect(job);
    // Only a connect that happened counts: a reused connection costs nothing worth reporting.
    const connectMs = connect.reused ? 0 : Math.max(1, Date.now() - started);
    const held = this.held;
    if (!held || !connect.ok) return this.connectFailed(connect, held, connectMs);
    const outcome = await held.session.run({
      script: job.spec.script,
      cwd: job.cwd,
      env: { EXO_WORKER: job.spec.name, [WORKER_ID]: markerValue(job.marker) },
      marker: job.marker,
      timeoutMs: job.timeoutMs,
      signal: job.signal,
    });
    if (outcome.sessionEnded || outcome.stoppedBy || outcome.failure) await this.drop();
    else if (!outcome.connected) held.tokens = undefined;
    return ended(outcome, { number: held.number, connectMs });
  }

  async close(): Promise<void> {
    await this.drop();
  }

  /**
   * connected(), within the job's timeout (and a minute) and its cancellation: a connect that hangs ends the
   * session, as a hung wrapper would be ended. The script then gets its whole timeout of its own.
   */
  private async boundedConnect(job: WorkerJob): Promise<Connected> {
    let stoppedBy: 'timeout' | 'cancel' | undefined;
    const stop = (reason: 'timeout' | 'cancel'): void => {
      stoppedBy ??= reason;
      this.held?.session.stop(reason);
    };
    const capped = job.timeoutMs > CONNECT_CAP_MS;
    const timer = setTimeout(
      () => {
        stop('timeout');
      },
      Math.min(job.timeoutMs, CONNECT_CAP_MS),
    );
    const onAbort = (): void => {
      stop('cancel');
    };
    if (job.signal.aborted) onAbort();
    else job.signal.addEventListener('abort', onAbort, { once: true });
    try {
      const connect = await this.connected(job, () => stoppedBy);
      if (stoppedBy === 'timeout' && capped)
        return {
          ...connect,
          ok: false,
          failure: `connecting the PowerShell session took more than ${CONNECT_CAP_MS / 1000} s; it was stopped`,
        };
      return stoppedBy ? { ...connect, ok: false, stoppedBy } : connect;
    } finally {
      clearTimeout(timer);
      job.signal.removeEventListener('abort', onAbort);
    }
  }

  /** The lane's session, connected with tokens at least as fresh as the job's (a reconnect when they changed). */
  private async connected(job: WorkerJob, stopped: () => string | undefined): Promise<Connected> {
    const wanted = fingerprintOf(job.tokens);
    // A session that died while idle (killed from outside, out of memory) is replaced, not handed a script.
    if (this.held && !canRun(this.held.session.current)) await this.drop();
    const held = this.held ?? (await this.open(job));
    // Stopped while the host file was written: the session started after the stop, so end it now.
    if (stopped() !== undefined) held.session.stop('cancel');
    for (const { token } of Object.values(job.tokens.tokens)) held.secrets.add(token);
    held.redactor.job = job.redact;
    if (held.tokens === wanted) return { ok: true, ms: 0, reused: true };
    const outcome = await held.session.connect(Object.fromEntries(tokenVariables(job.tokens)));
    held.tokens = outcome.ok ? wanted : undefined;
    return outcome;
  }

  private async open(job: WorkerJob): Promise<Held> {
    const plan = interpreterFor(job.spec.script);
    const number = this.nextNumber();
    const hostFile = join(job.privateDir, `session-${this.lane + 1}-${++this.opened}.ps1`);
    const { tokens } = job;
    await writeFile(
      hostFile,
      sessionHost({
        organization: tokens.organization ?? '',
        environment: tokens.environment,
        compliance: tokens.tokens.compliance !== undefined,
        moduleVersion: job.moduleVersion,
        resources: resourcesOf(tokens),
      }),
      { mode: 0o600, flag: 'wx' },
    );
    const marker = `${WORKER_ID}=${runOf(job.marker)}/session-${number}`;
    const secrets = new Set<string>();
    const redactor = { job: job.redact };
    const session = new PowerShellSession({
      command: plan?.command ?? 'pwsh',
      args: plan?.args ?? [],
      hostFile,
      cwd: job.cwd,
      env: { ...sessionEnvironment(job.env), [WORKER_ID]: markerValue(marker) },
      marker,
      killGraceMs: job.killGraceMs,
      maxOutputBytes: job.maxOutputBytes,
      // The cgroup made for the job that opened the session: the session and all its scripts start processes in it.
      cgroup: job.cgroup,
      // Every token the session was given (an old one may still be echoed), then what the current job redacts.
      redact: (line, cutAtFront) => redactor.job(redact(line, [...secrets], cutAtFront), cutAtFront),
    });
    const held: Held = { session, number, hostFile, tokens: undefined, secrets, redactor };
    this.held = held;
    return held;
  }

  /** A session that could not connect (or start) takes its first script down with it, as a wrapper would. */
  private async connectFailed(
    connect: Connected,
    held: Held | undefined,
    connectMs: number,
  ): Promise<WorkerOutcome> {
    const lines = held?.session.takeSessionOutput() ?? [];
    const number = held?.number ?? 0;
    await this.drop();
    const session = { number, connectMs };
    if (connect.failure) return { ...base(lines), exitCode: null, failure: connect.failure, session };
    if (connect.stoppedBy) return { ...base(lines), exitCode: null, stoppedBy: connect.stoppedBy, session };
    if (connect.spawnError)
      return {
        ...base(lines),
        exitCode: null,
        startError: startErrorMessage('pwsh', connect.spawnError),
        session,
      };
    // The wrapper's codes: 3 for a missing module (the host exits with it), 1 for a failed connect.
    const exitCode = connect.sessionEnded ? (connect.sessionEnded.exitCode ?? 1) : 1;
    return { ...base(lines), exitCode, session };
  }

  private async drop(): Promise<void> {
    const held = this.held;
    this.held = undefined;
    if (!held) return;
    await held.session.quit();
    await rm(held.hostFile, { force: true });
  }
}

function base(lines: string[]): Omit<Extract<WorkerOutcome, { kind: 'ended' }>, 'exitCode'> {
  return { kind: 'ended', lines, dropped: { lines: 0, bytes: 0 } };
}

function ended(outcome: ScriptOutcome, session: { number: number; connectMs: number }): WorkerOutcome {
  const died = outcome.sessionEnded;
  const how = died?.signal ? `signal ${died.signal}` : `exit code ${died?.exitCode ?? 'none'}`;
  return {
    kind: 'ended',
    exitCode: outcome.exitCode,
    stoppedBy: outcome.stoppedBy,
    startError: outcome.failure,
    lines: outcome.lines,
    dropped: outcome.dropped,
    session,
    ...(died && {
      failure: `the PowerShell session ended while running this script (${how}): [Environment]::Exit or a crash ends the whole session; use exit N, or reuse-sessions: false`,
    }),
  };
}

/** What a session's connection is keyed by: the tokens themselves (a fresh mint means a reconnect). */
function fingerprintOf(tokens: ExoTokens): string {
  return Object.values(tokens.tokens)
    .map((t) => t.token)
    .join('\n');
}

/** The session's own environment: a job's, without its tokens or its worker's name and id. */
function sessionEnvironment(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = {};
  const left: ReadonlySet<string> = new Set([...Object.values(EnvVar), WORKER_ID, 'EXO_WORKER']);
  for (const [key, value] of Object.entries(env)) if (!left.has(key)) out[key] = value;
  return out;
}

const markerValue = (marker: string): string => marker.slice(marker.indexOf('=') + 1);
/** `<run id>` of a worker marker `EXO_WORKER_ID=<run id>/<n>`. */
const runOf = (marker: string): string => markerValue(marker).replace(/\/[^/]*$/, '');
