import * as core from '@actions/core';
import { resolve } from 'node:path';
import type { ExoLoginSession, ResolvedSettings } from '../core/token.js';
import {
  planWorkers,
  posixRelative,
  runWorkers,
  shardPlan,
  type Logger,
  type WorkerPlan,
  type WorkerRow,
} from '../workers/index.js';
import { withCancellation } from '../workers/signals.js';
import type { WorkerInputs } from './inputs.js';
import { Input, named, Output } from './names.js';

const actionsLogger: Logger = {
  info: (message) => core.info(message),
  warning: (message) => core.warning(message),
  error: (message, location) => core.error(message, location ?? {}),
  group: (title, lines) => {
    core.startGroup(title);
    for (const line of lines) core.info(line);
    core.endGroup();
  },
};

/** Resolves the directory and scripts, and checks them, before any request is sent. */
export async function planWorkerPhase(
  inputs: WorkerInputs,
  settings: Pick<ResolvedSettings, 'organization' | 'resources'>,
): Promise<WorkerPlan> {
  const workspace = process.env['GITHUB_WORKSPACE'] ?? process.cwd();
  return planWorkers({
    patterns: inputs.scripts,
    cwd: inputs.workingDirectory ? resolve(workspace, inputs.workingDirectory) : workspace,
    shard: inputs.shard,
    inline: inputs.run !== undefined,
    organization: settings.organization,
    exchange: settings.resources.some((r) => r.kind === 'exchange'),
    names: {
      scripts: named(Input.Scripts),
      workingDirectory: named(Input.WorkingDirectory),
      organization: named(Input.Organization),
      resources: named(Input.Resources),
    },
  });
}

/** Runs this job's share of the scripts; returns the rows for the summary. Fails the step when a worker failed. */
export async function runWorkerPhase(
  inputs: WorkerInputs,
  plan: WorkerPlan,
  session: ExoLoginSession,
): Promise<WorkerRow[]> {
  const { cwd, all, mine } = plan;
  if (inputs.shard) {
    const { index, total } = inputs.shard;
    core.setOutput(Output.Matrix, JSON.stringify({ include: shardPlan(all, total, cwd) }));
    core.info(`Shard ${index}/${total}: ${mine.length} of ${all.length} scripts.`);
  }

  return withCancellation(async (signal) => {
    const run = await runWorkers({
      workers: mine.map((script) => ({ name: posixRelative(script, cwd), script })),
      inline: inputs.run,
      maxParallel: inputs.maxParallel,
      timeoutMs: inputs.timeoutMinutes * 60_000,
      failFast: inputs.failFast,
      cwd,
      env: process.env,
      tempDir: process.env['RUNNER_TEMP'] ?? (await import('node:os')).tmpdir(),
      getTokens: (minValidUntil) => session.tokensValidUntil(minValidUntil),
      moduleVersion: inputs.moduleVersion,
      logger: actionsLogger,
      signal,
    });
    const rows = run.rows.map((row) => ({ ...row, script: posixRelative(row.script, cwd) }));
    core.setOutput(Output.Results, JSON.stringify(rows));
    const failed = rows.filter((r) => r.result !== 'success');
    if (failed.length > 0) {
      core.setFailed(
        `${failed.length} of ${rows.length} workers did not succeed: ${failed.map((r) => `${r.name} (${r.result}${r.error ? `: ${r.error}` : ''})`).join('; ')}`,
      );
    }
    return rows;
  });
}
