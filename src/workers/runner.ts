import { randomUUID } from 'node:crypto';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { basename, isAbsolute, join, relative } from 'node:path';
import { ACTIONS_ID_TOKEN_REQUEST_TOKEN, ACTIONS_ID_TOKEN_REQUEST_URL } from '../core/assertion.js';
import { errorMessage, ExoLoginError, InputError } from '../core/errors.js';
import { field } from '../core/names.js';
import type { ExoTokens } from '../core/token.js';
import { EnvVar, tokenVariables } from '../core/variables.js';
import { findErrorLocations } from './annotations.js';
import { interpreterFor, RUNNABLE_EXTENSIONS } from './interpreters.js';
import { killMarked, runProcess, type DroppedOutput, type ProcessOutcome } from './process.js';
import type { RunWorkersOptions, WorkerRow, WorkerRun, WorkerSpec } from './types.js';
import { powershellWrapper } from './wrapper.js';

/** A worker starts only with tokens that outlive its timeout by this much. */
export const TOKEN_MARGIN_MS = 2 * 60_000;

/** Variables a worker must not inherit: they would let a script mint GitHub tokens or call the runner's APIs. */
export const WITHHELD_VARIABLES = [
  ACTIONS_ID_TOKEN_REQUEST_TOKEN,
  ACTIONS_ID_TOKEN_REQUEST_URL,
  'ACTIONS_RUNTIME_TOKEN',
];

export function workerEnvironment(
  parent: NodeJS.ProcessEnv,
  tokens: ExoTokens,
  worker: string,
): NodeJS.ProcessEnv {
  return withTokens(inheritedEnvironment(parent), tokens, worker);
}

/**
 * The parent's variables a worker may see, as a plain object. Token variables are left out too: an earlier step's
 * `export-env` may have left stale ones, and a worker must see only the tokens minted for it; so is a worker id
 * (exo-login run inside a worker gets its own).
 */
function inheritedEnvironment(parent: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(parent))
    if (!WITHHELD_VARIABLES.includes(key) && !NOT_INHERITED.has(key)) env[key] = value;
  return env;
}

/** Carries `<run id>/<worker number>` into each worker's environment, and so into every process it starts. */
const WORKER_ID = 'EXO_WORKER_ID';

const NOT_INHERITED: ReadonlySet<string> = new Set([...Object.values(EnvVar), WORKER_ID]);

function withTokens(inherited: NodeJS.ProcessEnv, tokens: ExoTokens, worker: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...inherited };
  for (const [key, value] of tokenVariables(tokens)) env[key] = value;
  env['EXO_WORKER'] = worker;
  return env;
}

/** A worker's output kept for its group when RunWorkersOptions.maxOutputBytes is not given. */
export const DEFAULT_MAX_OUTPUT_BYTES = 1024 * 1024;

/** `cutAtFront`: the line's start was dropped, so it may begin with the end of a secret; that end is masked too. */
export function redact(line: string, secrets: readonly string[], cutAtFront = false): string {
  let out = line;
  for (const secret of secrets) if (secret.length >= 8) out = out.split(secret).join('***');
  if (cutAtFront) {
    for (const secret of secrets) {
      for (let k = secret.length - 1; k >= 8; k--) {
        if (out.startsWith(secret.slice(-k))) {
          out = `***${out.slice(k)}`;
          break;
        }
      }
    }
  }
  return out;
}

/** 512 bytes, 3.2 KiB, 1 MiB. */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} ${bytes === 1 ? 'byte' : 'bytes'}`;
  const [value, unit] = bytes < 1024 * 1024 ? [bytes / 1024, 'KiB'] : [bytes / (1024 * 1024), 'MiB'];
  return `${Number(value.toFixed(1))} ${unit}`;
}

/** The first line of a group whose output was cut to the budget; undefined when nothing was left out. */
export function droppedOutputNote(dropped: DroppedOutput, maxBytes: number): string | undefined {
  if (dropped.lines === 0 && dropped.bytes === 0) return undefined;
  const what =
    dropped.lines === 0
      ? `${formatBytes(dropped.bytes)} of earlier output`
      : `${dropped.lines} earlier ${dropped.lines === 1 ? 'line' : 'lines'} (${formatBytes(dropped.bytes)})`;
  return `… ${what} not shown: exo-login keeps the last ${formatBytes(maxBytes)} of a worker's output`;
}

/**
 * Runs workers with at most `maxParallel` at once. Each worker's output is buffered and printed as one group
 * when it ends: streams of parallel workers interleaved line by line are unreadable in a CI log.
 */
export async function runWorkers(options: RunWorkersOptions): Promise<WorkerRun> {
  const maxOutputBytes = options.maxOutputBytes ?? DEFAULT_MAX_OUTPUT_BYTES;
  // Less could not hold an error message and its location.
  if (!Number.isSafeInteger(maxOutputBytes) || maxOutputBytes < 1024)
    throw new InputError(
      field('maxOutputBytes'),
      `must be a whole number of bytes, at least 1024; got ${maxOutputBytes}.`,
    );
  // mkdtemp makes the directory 0700; chmod anyway in case a umask or an odd file system widened it.
  const privateDir = await mkdtemp(join(options.tempDir, 'exo-login-'));
  await chmod(privateDir, 0o700);
  try {
    const workers: WorkerSpec[] = [...options.workers];
    if (options.inline !== undefined) {
      const script = join(privateDir, 'run.ps1');
      await writeFile(script, options.inline, { mode: 0o600 });
      workers.push({ name: 'run', script });
    }
    return await runAll({ ...options, maxOutputBytes }, workers, privateDir);
  } finally {
    await rm(privateDir, { recursive: true, force: true });
  }
}

async function runAll(
  options: RunWorkersOptions & { maxOutputBytes: number },
  workers: WorkerSpec[],
  privateDir: string,
): Promise<WorkerRun> {
  const { logger } = options;
  const rows: WorkerRow[] = workers.map((w) => ({
    name: w.name,
    // The inline script's temp file is gone when the rows are read: name it as the input it came from.
    script: isInside(w.script, privateDir) ? w.name : w.script,
    result: 'skipped',
    exitCode: null,
    durationMs: 0,
    attempts: 0,
  }));
  // Read once: enumerating process.env goes through the C library for every variable, per worker it adds up.
  const inherited = inheritedEnvironment(options.env);
  // Marks every process of this run's workers (see markedProcesses): random, so runs never match each other.
  const runId = randomUUID();
  /** Set when tokens fresh from Entra still expire before a worker's timeout ends. */
  let tokensTooShort: string | undefined;
  const reached = new Set<number>();
  const stopAll = new AbortController();
  const onOuterAbort = (): void => {
    stopAll.abort();
  };
  if (options.signal?.aborted) stopAll.abort();
  else options.signal?.addEventListener('abort', onOuterAbort, { once: true });

  let next = 0;
  let failed = false;
  const lane = async (): Promise<void> => {
    for (;;) {
      if (stopAll.signal.aborted || (failed && options.failFast)) return;
      const index = next++;
      const worker = workers[index];
      const row = rows[index];
      if (!worker || !row) return;
      reached.add(index);
      const started = Date.now();
      try {
        await runOne(worker, row, index, started);
      } catch (error) {
        // Whatever went wrong (a full temp disk, say) belongs to this worker's row, not to the whole run.
        Object.assign(row, { result: 'error', durationMs: Date.now() - started, error: errorMessage(error) });
        logger.error(`${worker.name}: ${errorMessage(error)}`);
      }
      if (row.result === 'skipped' && row.attempts === 0) reached.delete(index);
      else if (row.result !== 'success') {
        failed = true;
        if (options.failFast) stopAll.abort();
      }
    }
  };

  const runOne = async (
    worker: WorkerSpec,
    row: WorkerRow,
    index: number,
    started: number,
  ): Promise<void> => {
    const finish = (result: WorkerRow['result'], exitCode: number | null, error?: string): void => {
      row.result = result;
      row.exitCode = exitCode;
      row.durationMs = Date.now() - started;
      if (error !== undefined) row.error = error;
    };
    const fail = (error: string): void => {
      finish('error', null, error);
      logger.error(`${worker.name}: ${error}`);
    };
    const plan = interpreterFor(worker.script);
    if (!plan) {
      fail(`cannot run ${basename(worker.script)}: use ${RUNNABLE_EXTENSIONS.join(', ')}`);
      return;
    }
    // Every worker has the same timeout: once a fresh mint fell short, more mints would only invite throttling.
    if (tokensTooShort !== undefined) {
      fail(tokensTooShort);
      return;
    }
    // Tokens that outlive the worker's timeout: Exchange Online cannot refresh them, so a session would die mid-run.
    const minValidUntil = new Date(Date.now() + options.timeoutMs + TOKEN_MARGIN_MS);
    let tokens: ExoTokens;
    try {
      tokens = await options.getTokens(minValidUntil);
    } catch (error) {
      // The session's own verdict that fresh tokens fall short: as below, later workers need not ask again.
      if (error instanceof ExoLoginError && error.code === 'token-lifetime') tokensTooShort = error.message;
      fail(errorMessage(error));
      return;
    }
    if (tokens.expiresOn.getTime() < minValidUntil.getTime()) {
      tokensTooShort = `the tokens Entra issues last until ${tokens.expiresOn.toISOString()}, less than this worker's timeout plus a ${TOKEN_MARGIN_MS / 60_000}-minute margin (until ${minValidUntil.toISOString()}): lower timeout-minutes.`;
      fail(tokensTooShort);
      return;
    }
    // Cancelled while the tokens were minted: never started, so the row stays skipped/cancelled.
    if (stopAll.signal.aborted) return;
    const secrets = Object.values(tokens.tokens).map((t) => t.token);
    let args = plan.args;
    let wrapperFile: string | undefined;
    if (plan.powershell) {
      if (!tokens.organization) {
        fail(
          "PowerShell workers need the organization (the tenant's *.onmicrosoft.com domain): set 'organization'.",
        );
        return;
      }
      wrapperFile = join(privateDir, `worker-${index + 1}.ps1`);
      await writeFile(
        wrapperFile,
        powershellWrapper({
          script: worker.script,
          organization: tokens.organization,
          environment: tokens.environment,
          compliance: tokens.tokens.compliance !== undefined,
          moduleVersion: options.moduleVersion,
          resources: {
            exchange: tokens.tokens.exchange?.resource,
            compliance: tokens.tokens.compliance?.resource,
          },
        }),
        { mode: 0o600, flag: 'wx' },
      );
      args = [...plan.args, wrapperFile];
    }
    logger.info(`▶ ${worker.name} started`);
    row.attempts = 1;
    let outcome: ProcessOutcome;
    const workerId = `${runId}/${index + 1}`;
    try {
      outcome = await runProcess(plan.command, args, {
        cwd: options.cwd,
        env: { ...withTokens(inherited, tokens, worker.name), [WORKER_ID]: workerId },
        timeoutMs: options.timeoutMs,
        signal: stopAll.signal,
        killGraceMs: options.killGraceMs ?? 5_000,
        maxOutputBytes: options.maxOutputBytes,
        redact: (line, cutAtFront) => redact(line, secrets, cutAtFront),
        marker: `${WORKER_ID}=${workerId}`,
      });
    } finally {
      if (wrapperFile) await rm(wrapperFile, { force: true });
    }
    const { lines } = outcome;
    if (outcome.spawnError) {
      const missing = outcome.spawnError.code === 'ENOENT';
      const hint =
        plan.command === 'pwsh'
          ? ' Use a runner image with PowerShell 7 (GitHub-hosted images have it) or install it.'
          : '';
      finish(
        'error',
        null,
        missing
          ? `${plan.command} not found on PATH.${hint}`
          : `cannot start ${plan.command}: ${outcome.spawnError.message}`,
      );
    } else if (outcome.stoppedBy === 'timeout') {
      finish(
        'timeout',
        outcome.exitCode,
        `exceeded ${Number((options.timeoutMs / 60_000).toPrecision(3))} minutes; stopped with its child processes`,
      );
    } else if (outcome.stoppedBy === 'cancel') {
      finish(
        'cancelled',
        outcome.exitCode,
        options.signal?.aborted ? 'the run was cancelled' : 'stopped by fail-fast',
      );
    } else {
      finish(outcome.exitCode === 0 ? 'success' : 'failure', outcome.exitCode);
    }
    const status = row.result === 'success' ? '✓' : '✗';
    const note = droppedOutputNote(outcome.dropped, options.maxOutputBytes);
    logger.group(
      `${status} ${worker.name}: ${row.result}${row.exitCode !== null ? ` (exit ${row.exitCode})` : ''} in ${(row.durationMs / 1000).toFixed(1)} s`,
      note === undefined ? lines : [note, ...lines],
    );
    if (row.result !== 'success') {
      // Where PowerShell says an error happened decides how it is annotated: a file in the repository gets a linked
      // annotation; the generated wrapper (gone, and ours) none; the inline script's temp file (gone, in no
      // repository) and files outside the working directory (a module's own) are named in the text instead.
      let annotated = 0;
      for (const location of findErrorLocations(lines)) {
        const { file, line, message } = location;
        if (isInside(file, privateDir)) {
          if (file !== worker.script) continue;
          logger.error(`${worker.name}, line ${line}: ${message}`);
        } else if (file === worker.script || isInside(file, options.cwd)) {
          logger.error(`${worker.name}: ${message}`, { file, startLine: line });
        } else {
          logger.error(`${worker.name}: ${message} (at ${file}:${line})`);
        }
        annotated++;
      }
      if (annotated === 0)
        logger.error(`${worker.name}: ${row.error ?? `exited with code ${row.exitCode ?? 'none'}`}`);
    }
  };

  try {
    await Promise.all(
      Array.from({ length: Math.min(Math.max(1, options.maxParallel), workers.length) }, lane),
    );
  } finally {
    options.signal?.removeEventListener('abort', onOuterAbort);
    // Whatever a worker left running, even after leaving its process group and parent (a setsid'd daemon of a
    // worker that exited normally), ends with the run: no orphans.
    killMarked(`${WORKER_ID}=${runId}/`);
  }
  rows.forEach((row, index) => {
    if (!reached.has(index)) row.result = options.signal?.aborted ? 'cancelled' : 'skipped';
  });
  return { ok: rows.every((r) => r.result === 'success'), rows };
}

function isInside(file: string, dir: string): boolean {
  const rel = relative(dir, file);
  return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel);
}
