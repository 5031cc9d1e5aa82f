import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';
import { ACTIONS_ID_TOKEN_REQUEST_TOKEN, ACTIONS_ID_TOKEN_REQUEST_URL } from '../core/assertion.js';
import { errorMessage } from '../core/errors.js';
import type { ExoTokens } from '../core/token.js';
import { tokenVariables } from '../core/variables.js';
import { findErrorLocations } from './annotations.js';
import { runProcess, type ProcessOutcome } from './process.js';
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
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(parent)) if (!WITHHELD_VARIABLES.includes(key)) env[key] = value;
  for (const [key, value] of tokenVariables(tokens)) env[key] = value;
  env['EXO_WORKER'] = worker;
  return env;
}

/** How each kind of script runs. PowerShell goes through the generated wrapper; others get the EXO_* variables. */
export function interpreterFor(
  script: string,
): { command: string; args: string[]; powershell: boolean } | undefined {
  switch (extname(script).toLowerCase()) {
    case '.ps1':
      return {
        command: 'pwsh',
        args: ['-NoLogo', '-NoProfile', '-NonInteractive', '-File'],
        powershell: true,
      };
    case '.sh':
      return { command: 'bash', args: [script], powershell: false };
    case '.js':
    case '.mjs':
      return { command: process.execPath, args: [script], powershell: false };
    case '.py':
      return { command: 'python3', args: [script], powershell: false };
    default:
      return undefined;
  }
}

export function redact(line: string, secrets: readonly string[]): string {
  let out = line;
  for (const secret of secrets) if (secret.length >= 8) out = out.split(secret).join('***');
  return out;
}

/**
 * Runs workers with at most `maxParallel` at once. Each worker's output is buffered and printed as one group
 * when it ends: streams of parallel workers interleaved line by line are unreadable in a CI log.
 */
export async function runWorkers(options: RunWorkersOptions): Promise<WorkerRun> {
  const { logger } = options;
  const privateDir = await mkdtemp(join(options.tempDir, 'exo-login-'));
  await chmod(privateDir, 0o700);
  const workers: WorkerSpec[] = [...options.workers];
  if (options.inline !== undefined) {
    const script = join(privateDir, 'run.ps1');
    await writeFile(script, options.inline, { mode: 0o600 });
    workers.push({ name: 'run', script });
  }
  const rows: WorkerRow[] = workers.map((w) => ({
    name: w.name,
    script: w.script,
    result: 'skipped',
    exitCode: null,
    durationMs: 0,
    attempts: 0,
  }));
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
      await runOne(worker, row, index);
      if (row.result !== 'success') {
        failed = true;
        if (options.failFast) stopAll.abort();
      }
    }
  };

  const runOne = async (worker: WorkerSpec, row: WorkerRow, index: number): Promise<void> => {
    const started = Date.now();
    row.attempts = 1;
    const finish = (result: WorkerRow['result'], exitCode: number | null, error?: string): void => {
      row.result = result;
      row.exitCode = exitCode;
      row.durationMs = Date.now() - started;
      if (error !== undefined) row.error = error;
    };
    const plan = interpreterFor(worker.script);
    if (!plan) {
      finish('error', null, `cannot run ${basename(worker.script)}: use .ps1, .sh, .js, .mjs or .py`);
      logger.error(`${worker.name}: ${row.error ?? ''}`);
      return;
    }
    let tokens: ExoTokens;
    try {
      tokens = await options.getTokens(new Date(Date.now() + options.timeoutMs + TOKEN_MARGIN_MS));
    } catch (error) {
      finish('error', null, errorMessage(error));
      logger.error(`${worker.name}: ${errorMessage(error)}`);
      return;
    }
    const secrets = Object.values(tokens.tokens).map((t) => t.token);
    let args = plan.args;
    let wrapperFile: string | undefined;
    if (plan.powershell) {
      if (!tokens.organization) {
        finish(
          'error',
          null,
          "PowerShell workers need the organization (the tenant's *.onmicrosoft.com domain): set 'organization'.",
        );
        logger.error(`${worker.name}: ${row.error ?? ''}`);
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
        }),
        { mode: 0o600 },
      );
      args = [...plan.args, wrapperFile];
    }
    logger.info(`▶ ${worker.name} started`);
    let outcome: ProcessOutcome;
    try {
      outcome = await runProcess(plan.command, args, {
        cwd: options.cwd,
        env: workerEnvironment(options.env, tokens, worker.name),
        timeoutMs: options.timeoutMs,
        signal: stopAll.signal,
        killGraceMs: options.killGraceMs ?? 5_000,
      });
    } finally {
      if (wrapperFile) await rm(wrapperFile, { force: true });
    }
    const lines = outcome.lines.map((line) => redact(line, secrets));
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
        `exceeded ${(options.timeoutMs / 60_000).toFixed(2).replace(/\.?0+$/, '')} minutes; stopped with its child processes`,
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
    logger.group(
      `${status} ${worker.name}: ${row.result}${row.exitCode !== null ? ` (exit ${row.exitCode})` : ''} in ${(row.durationMs / 1000).toFixed(1)} s`,
      lines,
    );
    if (row.result !== 'success') {
      const locations = findErrorLocations(lines);
      for (const location of locations)
        logger.error(`${worker.name}: ${location.message}`, {
          file: location.file,
          startLine: location.line,
        });
      if (locations.length === 0)
        logger.error(`${worker.name}: ${row.error ?? `exited with code ${row.exitCode ?? 'none'}`}`);
    }
  };

  try {
    await Promise.all(Array.from({ length: Math.min(options.maxParallel, workers.length) }, lane));
  } finally {
    options.signal?.removeEventListener('abort', onOuterAbort);
    await rm(privateDir, { recursive: true, force: true });
  }
  for (const row of rows) {
    if (row.attempts === 0) row.result = options.signal?.aborted ? 'cancelled' : 'skipped';
  }
  return { ok: rows.every((r) => r.result === 'success'), rows };
}
