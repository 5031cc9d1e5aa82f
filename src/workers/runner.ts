import { randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { errorMessage, InputError } from '../core/errors.js';
import { registerLastRite } from '../core/last-rites.js';
import { field } from '../core/names.js';
import { RunCgroup } from './cgroup.js';
import { inheritedEnvironment, WORKER_ID, withTokens } from './environment.js';
import type { ExecutorFactory, WorkerExecutor, WorkerOutcome } from './executor.js';
import { inLanes } from './lanes.js';
import { annotationsOf, groupTitle, isInside, rowOf } from './outcome.js';
import { DEFAULT_MAX_OUTPUT_BYTES, droppedOutputNote, redact } from './output.js';
import { processExecutor } from './process-executor.js';
import { sessionExecutors } from './sessions/executor.js';
import { killMarked } from './procfs.js';
import { TokenGate } from './token-gate.js';
import type { RunWorkersOptions, WorkerRow, WorkerRun, WorkerSpec } from './types.js';

export { TOKEN_MARGIN_MS } from './token-gate.js';
export { WITHHELD_VARIABLES, workerEnvironment } from './environment.js';
export { DEFAULT_MAX_OUTPUT_BYTES, droppedOutputNote, formatBytes, redact } from './output.js';

/** Every lane runs each worker in its own process. */
const processExecutors: ExecutorFactory = () => processExecutor;

/**
 * Runs workers with at most `maxParallel` at once. Each worker's output is buffered and printed as one group
 * when it ends: streams of parallel workers interleaved line by line are unreadable in a CI log.
 */
export function runWorkers(options: RunWorkersOptions): Promise<WorkerRun> {
  return runWorkersWith(options, options.reuseSessions === false ? processExecutors : sessionExecutors());
}

/** runWorkers with the executors each lane runs its workers on (see WorkerExecutor). */
export async function runWorkersWith(
  options: RunWorkersOptions,
  executors: ExecutorFactory,
): Promise<WorkerRun> {
  const maxOutputBytes = options.maxOutputBytes ?? DEFAULT_MAX_OUTPUT_BYTES;
  // Less could not hold an error message and its location.
  if (!Number.isSafeInteger(maxOutputBytes) || maxOutputBytes < 1024)
    throw new InputError(
      field('maxOutputBytes'),
      `must be a whole number of bytes, at least 1024; got ${maxOutputBytes}.`,
    );
  // mkdtemp makes the directory 0700; chmod anyway in case a umask or an odd file system widened it.
  const privateDir = await mkdtemp(join(options.tempDir, 'exo-login-'));
  const runId = randomUUID();
  // Marks every process of this run's workers (see markedProcesses): random, so runs never match each other.
  const runMarker = `${WORKER_ID}=${runId}/`;
  const cgroup = RunCgroup.create(`exo-login-${runId}`);
  // Should the process end before the run does (a signal, a crash): whatever the workers left, and the directory.
  const forgetLastRite = registerLastRite(() => {
    cgroup?.end();
    killMarked(runMarker);
    rmSync(privateDir, { recursive: true, force: true });
  });
  try {
    await chmod(privateDir, 0o700);
    const workers: WorkerSpec[] = [...options.workers];
    if (options.inline !== undefined) {
      const script = join(privateDir, 'run.ps1');
      await writeFile(script, options.inline, { mode: 0o600 });
      workers.push({ name: 'run', script });
    }
    const run = { privateDir, runMarker, cgroup };
    return await new Scheduler({ ...options, maxOutputBytes }, workers, run, executors).run();
  } finally {
    await rm(privateDir, { recursive: true, force: true });
    forgetLastRite();
  }
}

/** One run: the loop that hands workers to lanes, and what it keeps between them. */
class Scheduler {
  /** undefined: never reached (skipped, or cancelled before it started). */
  private readonly rows: (WorkerRow | undefined)[];
  private readonly gate: TokenGate;
  // Read once: enumerating process.env goes through the C library for every variable, per worker it adds up.
  private readonly inherited: NodeJS.ProcessEnv;
  private readonly privateDir: string;
  /** `EXO_WORKER_ID=<run id>/`: each worker's id is this plus its number. */
  private readonly runMarker: string;
  private readonly cgroup: RunCgroup | undefined;
  private readonly stopAll = new AbortController();
  private readonly laneExecutors = new Map<number, WorkerExecutor>();
  private failed = false;

  constructor(
    private readonly options: RunWorkersOptions & { maxOutputBytes: number },
    private readonly workers: readonly WorkerSpec[],
    run: { privateDir: string; runMarker: string; cgroup: RunCgroup | undefined },
    private readonly executors: ExecutorFactory,
  ) {
    this.privateDir = run.privateDir;
    this.runMarker = run.runMarker;
    this.cgroup = run.cgroup;
    this.rows = workers.map(() => undefined);
    this.gate = new TokenGate(options.getTokens);
    this.inherited = inheritedEnvironment(options.env, options.withheldVariables);
  }

  async run(): Promise<WorkerRun> {
    const { signal } = this.options;
    const onOuterAbort = (): void => this.stopAll.abort();
    if (signal?.aborted) this.stopAll.abort();
    else signal?.addEventListener('abort', onOuterAbort, { once: true });
    try {
      await inLanes(
        this.workers,
        this.options.maxParallel,
        () => this.stopAll.signal.aborted || (this.failed && this.options.failFast),
        (worker, index, lane) => this.runGuarded(worker, index, this.executorOf(lane)),
      );
    } finally {
      signal?.removeEventListener('abort', onOuterAbort);
      await Promise.all([...this.laneExecutors.values()].map((e) => e.close().catch(() => undefined)));
      // Whatever a worker left running, even after leaving its process group and parent (a setsid'd daemon of
      // a worker that exited normally), ends with the run: no orphans.
      this.cgroup?.end();
      killMarked(this.runMarker);
    }
    const unreached = signal?.aborted ? 'cancelled' : 'skipped';
    const rows = this.workers.map((w, i) => this.rows[i] ?? this.blankRow(w, unreached));
    return { ok: rows.every((r) => r.result === 'success'), rows };
  }

  private executorOf(lane: number): WorkerExecutor {
    let executor = this.laneExecutors.get(lane);
    if (!executor) this.laneExecutors.set(lane, (executor = this.executors(lane)));
    return executor;
  }

  /** The inline script's temp file is gone when the rows are read: name it as the input it came from. */
  private scriptOf(worker: WorkerSpec): string {
    return isInside(worker.script, this.privateDir) ? worker.name : worker.script;
  }

  private blankRow(worker: WorkerSpec, result: WorkerRow['result']): WorkerRow {
    const script = this.scriptOf(worker);
    return { name: worker.name, script, result, exitCode: null, durationMs: 0, attempts: 0 };
  }

  private async runGuarded(worker: WorkerSpec, index: number, executor: WorkerExecutor): Promise<void> {
    const started = Date.now();
    let row: WorkerRow | undefined;
    try {
      row = await this.runOne(worker, index, executor, started);
    } catch (error) {
      // Whatever went wrong (a full temp disk, say) belongs to this worker's row, not to the whole run.
      const message = errorMessage(error);
      row = { ...this.blankRow(worker, 'error'), durationMs: Date.now() - started, error: message };
      this.options.logger.error(`${worker.name}: ${message}`);
    }
    this.rows[index] = row;
    if (row && row.result !== 'success') {
      this.failed = true;
      if (this.options.failFast) this.stopAll.abort();
    }
  }

  /** undefined when cancelled before it started. */
  private async runOne(
    worker: WorkerSpec,
    index: number,
    executor: WorkerExecutor,
    started: number,
  ): Promise<WorkerRow | undefined> {
    const { options } = this;
    const refusal = executor.refuse(worker);
    if (refusal !== undefined) return this.finish(worker, { kind: 'refused', error: refusal }, started);
    const gated = await this.gate.tokensFor(options.timeoutMs);
    if ('refused' in gated) return this.finish(worker, { kind: 'refused', error: gated.refused }, started);
    // Cancelled while the tokens were minted: never started, so the row stays skipped/cancelled.
    if (this.stopAll.signal.aborted) return undefined;
    const { tokens } = gated;
    const secrets = [...Object.values(tokens.tokens).map((t) => t.token), ...(options.secrets?.() ?? [])];
    const marker = `${this.runMarker}${index + 1}`;
    const outcome = await executor.execute({
      spec: worker,
      index,
      tokens,
      env: {
        ...withTokens(this.inherited, tokens, worker.name),
        [WORKER_ID]: marker.slice(WORKER_ID.length + 1),
      },
      marker,
      timeoutMs: options.timeoutMs,
      signal: this.stopAll.signal,
      killGraceMs: options.killGraceMs ?? 5_000,
      maxOutputBytes: options.maxOutputBytes,
      redact: (line, cutAtFront) => redact(line, secrets, cutAtFront),
      cwd: options.cwd,
      privateDir: this.privateDir,
      cgroup: this.cgroup?.worker(),
      moduleVersion: options.moduleVersion,
      onStart: () => options.logger.info(`▶ ${worker.name} started`),
    });
    return this.finish(worker, outcome, started);
  }

  /** The row of a worker that was refused or ended, with its group and annotations printed. */
  private finish(worker: WorkerSpec, outcome: WorkerOutcome, started: number): WorkerRow {
    const { logger } = this.options;
    const row = rowOf(outcome, {
      name: worker.name,
      script: this.scriptOf(worker),
      durationMs: Date.now() - started,
      timeoutMs: this.options.timeoutMs,
      cancelledByCaller: this.options.signal?.aborted === true,
    });
    if (outcome.kind === 'refused') {
      logger.error(`${worker.name}: ${outcome.error}`);
      return row;
    }
    const note = droppedOutputNote(outcome.dropped, this.options.maxOutputBytes);
    logger.group(groupTitle(row), note === undefined ? outcome.lines : [note, ...outcome.lines], worker.name);
    const dirs = { privateDir: this.privateDir, cwd: this.options.cwd };
    for (const a of annotationsOf(row, worker, outcome.lines, dirs)) logger.error(a.message, a.location);
    return row;
  }
}
