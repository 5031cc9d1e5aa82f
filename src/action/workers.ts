import * as core from '@actions/core';
import { EOL } from 'node:os';
import { resolve } from 'node:path';
import { logText } from '../core/workflow-commands.js';
import type { ExoLoginSession } from '../core/session.js';
import type { ResolvedSettings } from '../core/settings.js';
import {
  planWorkerPhase as planPhase,
  runWorkerPhase as runPhase,
  type WorkerPhaseSettings,
} from '../front/worker-phase.js';
import { runnerGroup } from '../front/runner-group.js';
import { shardPlan, type Logger, type WorkerPlan, type WorkerRow } from '../workers/index.js';
import type { WorkerInputs } from './inputs.js';
import { Input, named, Output } from './names.js';

/** Every message may hold outside text (a file name): each is made one inert line (see logText). */
const actionsLogger: Logger = {
  info: (message) => core.info(logText(message)),
  warning: (message) => core.warning(logText(message)),
  error: (message, location) => core.error(logText(message), location ?? {}),
  group: (title, lines, worker) => {
    for (const line of runnerGroup(title, lines, worker)) process.stdout.write(`${line}${EOL}`);
  },
};

function phaseSettings(inputs: WorkerInputs): WorkerPhaseSettings {
  const workspace = process.env['GITHUB_WORKSPACE'] ?? process.cwd();
  return {
    ...inputs,
    patterns: inputs.scripts,
    inline: inputs.run,
    cwd: inputs.workingDirectory ? resolve(workspace, inputs.workingDirectory) : workspace,
  };
}

/** Resolves the directory and scripts, and checks them, before any request is sent. */
export function planWorkerPhase(
  inputs: WorkerInputs,
  settings: Pick<ResolvedSettings, 'organization' | 'resources'>,
): Promise<WorkerPlan> {
  return planPhase(phaseSettings(inputs), settings, {
    scripts: named(Input.Scripts),
    workingDirectory: named(Input.WorkingDirectory),
    organization: named(Input.Organization),
    resources: named(Input.Resources),
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
  const { rows } = await runPhase(phaseSettings(inputs), plan, session, {
    env: process.env,
    logger: actionsLogger,
  });
  core.setOutput(Output.Results, JSON.stringify(rows));
  const failed = rows.filter((r) => r.result !== 'success');
  if (failed.length > 0) {
    core.setFailed(
      logText(
        `${failed.length} of ${rows.length} workers did not succeed: ${failed.map((r) => `${r.name} (${r.result}${r.error ? `: ${r.error}` : ''})`).join('; ')}`,
      ),
    );
  }
  return rows;
}
