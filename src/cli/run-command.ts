import { resolve } from 'node:path';
import { ExoLoginError } from '../core/errors.js';
import type { ExoLoginSession, ResolvedSettings } from '../core/token.js';
import { planWorkerPhase, runWorkerPhase, type WorkerPhaseSettings } from '../front/worker-phase.js';
import {
  parseMaxParallel,
  parseMinutes,
  parseModuleVersion,
  parseShard,
  type Logger,
  type WorkerPlan,
} from '../workers/index.js';
import { CLI_FIELD_NAMES, EXIT, type CliArgs } from './args.js';
import type { CliIo } from './main.js';

export type RunSettings = WorkerPhaseSettings;

/** Validates `exo-login run` flags before anything is sent. */
export function runSettings(args: CliArgs): RunSettings {
  if (args.scripts.length === 0) {
    throw new ExoLoginError(
      'exo-login run needs at least one script or glob: exo-login run [options] SCRIPT...',
      'input',
    );
  }
  const cwd = resolve(args.workingDirectory || '.');
  return {
    patterns: args.scripts,
    inline: undefined,
    cwd,
    maxParallel: parseMaxParallel(args.maxParallel, '--max-parallel'),
    timeoutMinutes: parseMinutes(args.timeoutMinutes, '--timeout-minutes'),
    shard: parseShard(args.shard, '--shard'),
    moduleVersion: parseModuleVersion(args.moduleVersion, '--module-version'),
    failFast: args.failFast,
    reuseSessions: args.reuseSessions,
  };
}

/** The scripts, the directory and the organization, checked before anything is sent. */
export function planRun(
  settings: RunSettings,
  resolved: Pick<ResolvedSettings, 'organization' | 'resources'>,
): Promise<WorkerPlan> {
  return planWorkerPhase(settings, resolved, {
    scripts: 'SCRIPT',
    workingDirectory: '--working-directory',
    organization: CLI_FIELD_NAMES.organization,
    resources: CLI_FIELD_NAMES.resources,
  });
}

export async function runScriptsCommand(
  settings: RunSettings,
  plan: WorkerPlan,
  session: ExoLoginSession,
  io: CliIo,
): Promise<number> {
  const out = (line: string): void => {
    io.stdout.write(`${line}\n`);
  };
  const err = (line: string): void => {
    io.stderr.write(`${line}\n`);
  };
  const logger: Logger = {
    info: err,
    warning: (m) => err(`warning: ${m}`),
    error: (m, at) => err(`error: ${at ? `${at.file}:${at.startLine}: ` : ''}${m}`),
    group: (title, lines) => {
      out(`── ${title}`);
      for (const line of lines) out(line);
    },
  };
  const run = await runWorkerPhase(settings, plan, session, { env: io.env, logger });
  for (const row of run.rows) {
    err(
      `${row.result.padEnd(9)} ${row.name}${row.exitCode === null ? '' : ` (exit ${row.exitCode})`} ${(row.durationMs / 1000).toFixed(1)} s${row.session ? ` [session ${row.session}${row.connectMs ? `, connected in ${(row.connectMs / 1000).toFixed(1)} s` : ''}]` : ''}${row.error ? `: ${row.error}` : ''}`,
    );
  }
  return run.ok ? EXIT.ok : EXIT.failure;
}
