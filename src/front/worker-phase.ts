import { tmpdir } from 'node:os';
import type { SettingName } from '../core/names.js';
import type { ExoLoginSession } from '../core/session.js';
import type { ResolvedSettings } from '../core/settings.js';
import {
  planWorkers,
  posixRelative,
  runWorkers,
  type Logger,
  type Shard,
  type WorkerPlan,
  type WorkerRow,
} from '../workers/index.js';
import { withCancellation } from './signals.js';

/** The worker phase the action and `exo-login run` share: plan before any request, then run after the mint. */

/** Worker settings, validated, as both front ends produce them. */
export interface WorkerPhaseSettings {
  patterns: readonly string[];
  /** An inline PowerShell script (the action's `run`). */
  inline: string | undefined;
  /** Absolute: globs are relative to it and workers start in it. */
  cwd: string;
  maxParallel: number;
  timeoutMinutes: number;
  failFast: boolean;
  /** `.ps1` scripts in long-lived sessions (default true). */
  reuseSessions: boolean;
  shard: Shard | undefined;
  moduleVersion: string | undefined;
  /** Variables workers must not inherit (see RunWorkersOptions.withheldVariables). */
  withheldVariables?: readonly string[] | undefined;
}

/** How the front end names the settings a plan can fail on (`scripts` or `SCRIPT`, `organization` or `--organization`). */
export interface WorkerPhaseNames {
  scripts: SettingName;
  workingDirectory: SettingName;
  organization: SettingName;
  resources: SettingName;
}

/** The scripts, the directory and the organization, checked before anything is sent. */
export function planWorkerPhase(
  settings: WorkerPhaseSettings,
  resolved: Pick<ResolvedSettings, 'organization' | 'resources'>,
  names: WorkerPhaseNames,
): Promise<WorkerPlan> {
  return planWorkers({
    patterns: [...settings.patterns],
    cwd: settings.cwd,
    shard: settings.shard,
    inline: settings.inline !== undefined,
    organization: resolved.organization,
    exchange: resolved.resources.some((r) => r.kind === 'exchange'),
    names,
  });
}

export interface WorkerPhaseIo {
  env: NodeJS.ProcessEnv;
  logger: Logger;
  /** Secrets to redact from worker output besides the tokens (see RunWorkersOptions.secrets). */
  secrets?: () => readonly string[];
}

/**
 * Runs this job's share of the scripts with tokens from `session`, cancelled by SIGINT/SIGTERM; returns the rows
 * with scripts relative to the working directory (as the summary, the `results` output and the CLI show them).
 */
export async function runWorkerPhase(
  settings: WorkerPhaseSettings,
  plan: WorkerPlan,
  session: ExoLoginSession,
  io: WorkerPhaseIo,
): Promise<{ ok: boolean; rows: WorkerRow[] }> {
  const { cwd } = plan;
  return withCancellation(async (signal) => {
    const run = await runWorkers({
      workers: plan.mine.map((script) => ({ name: posixRelative(script, cwd), script })),
      inline: settings.inline,
      maxParallel: settings.maxParallel,
      timeoutMs: settings.timeoutMinutes * 60_000,
      failFast: settings.failFast,
      reuseSessions: settings.reuseSessions,
      cwd,
      env: io.env,
      withheldVariables: settings.withheldVariables,
      secrets: io.secrets,
      tempDir: io.env['RUNNER_TEMP'] ?? tmpdir(),
      getTokens: (minValidUntil) => session.tokensValidUntil(minValidUntil),
      moduleVersion: settings.moduleVersion,
      logger: io.logger,
      signal,
    });
    return { ok: run.ok, rows: run.rows.map((row) => ({ ...row, script: posixRelative(row.script, cwd) })) };
  });
}
