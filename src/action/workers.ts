import * as core from '@actions/core';
import { isAbsolute, resolve } from 'node:path';
import type { ExoLoginSession } from '../core/token.js';
import {
  expandScripts,
  posixRelative,
  shardOf,
  type Logger,
  type WorkerRow,
  runWorkers,
} from '../workers/index.js';
import { withCancellation } from '../workers/signals.js';
import type { WorkerInputs } from './inputs.js';
import { Input, Output } from './names.js';

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

/** Resolves, shards and runs the scripts; returns the rows for the summary. Fails the step when a worker failed. */
export async function runWorkerPhase(inputs: WorkerInputs, session: ExoLoginSession): Promise<WorkerRow[]> {
  const workspace = process.env['GITHUB_WORKSPACE'] ?? process.cwd();
  const cwd = inputs.workingDirectory
    ? isAbsolute(inputs.workingDirectory)
      ? inputs.workingDirectory
      : resolve(workspace, inputs.workingDirectory)
    : workspace;
  const all = inputs.scripts.length > 0 ? await expandScripts(inputs.scripts, cwd, Input.Scripts) : [];
  const mine = inputs.shard ? shardOf(all, inputs.shard) : all;
  if (inputs.shard) {
    const { total } = inputs.shard;
    const plan = Array.from({ length: total }, (_, i) => ({
      shard: `${i + 1}/${total}`,
      scripts: shardOf(all, { index: i + 1, total }).map((p) => posixRelative(p, cwd)),
    }));
    core.setOutput(Output.Matrix, JSON.stringify({ include: plan }));
    core.info(`Shard ${inputs.shard.index}/${total}: ${mine.length} of ${all.length} scripts.`);
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
