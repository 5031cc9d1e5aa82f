import { rm, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { WorkerExecutor, WorkerJob, WorkerOutcome } from './executor.js';
import { interpreterFor, RUNNABLE_EXTENSIONS } from './interpreters.js';
import { runProcess, type ProcessOutcome } from './process.js';
import { powershellWrapper } from './wrapper.js';

/** One process per worker: the script's interpreter, `.ps1` through a generated wrapper that connects first. */
export const processExecutor: WorkerExecutor = {
  refuse(spec) {
    return interpreterFor(spec.script)
      ? undefined
      : `cannot run ${basename(spec.script)}: use ${RUNNABLE_EXTENSIONS.join(', ')}`;
  },
  execute: executeProcess,
  close: () => Promise.resolve(),
};

async function executeProcess(job: WorkerJob): Promise<WorkerOutcome> {
  const plan = interpreterFor(job.spec.script);
  if (!plan) return { kind: 'refused', error: processExecutor.refuse(job.spec) ?? '' };
  let args = plan.args;
  let wrapperFile: string | undefined;
  if (plan.powershell) {
    const { tokens } = job;
    if (!tokens.organization)
      return {
        kind: 'refused',
        error:
          "PowerShell workers need the organization (the tenant's *.onmicrosoft.com domain): set 'organization'.",
      };
    wrapperFile = join(job.privateDir, `worker-${job.index + 1}.ps1`);
    await writeFile(
      wrapperFile,
      powershellWrapper({
        script: job.spec.script,
        organization: tokens.organization,
        environment: tokens.environment,
        compliance: tokens.tokens.compliance !== undefined,
        moduleVersion: job.moduleVersion,
        resources: {
          exchange: tokens.tokens.exchange?.resource,
          compliance: tokens.tokens.compliance?.resource,
        },
      }),
      { mode: 0o600, flag: 'wx' },
    );
    args = [...plan.args, wrapperFile];
  }
  job.onStart();
  let outcome: ProcessOutcome;
  try {
    outcome = await runProcess(plan.command, args, {
      cwd: job.cwd,
      env: job.env,
      timeoutMs: job.timeoutMs,
      signal: job.signal,
      killGraceMs: job.killGraceMs,
      maxOutputBytes: job.maxOutputBytes,
      redact: job.redact,
      marker: job.marker,
      cgroup: job.cgroup,
    });
  } finally {
    if (wrapperFile) await rm(wrapperFile, { force: true });
  }
  return {
    kind: 'ended',
    exitCode: outcome.exitCode,
    stoppedBy: outcome.stoppedBy,
    startError: outcome.spawnError && startErrorMessage(plan.command, outcome.spawnError),
    lines: outcome.lines,
    dropped: outcome.dropped,
  };
}

function startErrorMessage(command: string, error: NodeJS.ErrnoException): string {
  if (error.code !== 'ENOENT') return `cannot start ${command}: ${error.message}`;
  const hint =
    command === 'pwsh'
      ? ' Use a runner image with PowerShell 7 (GitHub-hosted images have it) or install it.'
      : '';
  return `${command} not found on PATH.${hint}`;
}
