import { resolve } from 'node:path';
import { ExoLoginError } from '../core/errors.js';
import type { ExoLoginSession, ResolvedSettings } from '../core/token.js';
import { logText } from '../core/workflow-commands.js';
import { isolatedOutput } from '../front/runner-group.js';
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
import { DEFAULT_TOKEN_ENV } from './source.js';
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
    // A federated token in the environment would let a worker mint tokens for anything the app may reach.
    withheldVariables: [
      ...new Set([DEFAULT_TOKEN_ENV, ...(args.source.tokenEnv ? [args.source.tokenEnv] : [])]),
    ],
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
  /** Every federated token presented so far: redacted from worker output like the access tokens. */
  federatedTokens: readonly string[] = [],
): Promise<number> {
  const out = (line: string): void => {
    io.stdout.write(`${line}\n`);
  };
  const err = (line: string): void => {
    io.stderr.write(`${line}\n`);
  };
  const logger = cliLogger(out, err, io.env['GITHUB_ACTIONS'] === 'true');
  const run = await runWorkerPhase(settings, plan, session, {
    env: io.env,
    logger,
    secrets: () => federatedTokens,
  });
  for (const row of run.rows) {
    err(
      `${row.result.padEnd(9)} ${logText(row.name)}${row.exitCode === null ? '' : ` (exit ${row.exitCode})`} ${(row.durationMs / 1000).toFixed(1)} s${row.session ? ` [session ${row.session}${row.connectMs ? `, connected in ${(row.connectMs / 1000).toFixed(1)} s` : ''}]` : ''}${row.error ? `: ${logText(row.error)}` : ''}`,
    );
  }
  return run.ok ? EXIT.ok : EXIT.failure;
}

/**
 * Messages on stderr, worker groups on stdout, each message made one inert line (it may hold a file name).
 * Inside GitHub Actions the runner reads both streams for workflow commands: a worker's output is then kept
 * from issuing any (see isolatedOutput), masks and annotations on the same stream as the group they belong to.
 */
function cliLogger(out: (line: string) => void, err: (line: string) => void, inActions: boolean): Logger {
  return {
    info: (m) => err(logText(m)),
    warning: (m) => err(`warning: ${logText(m)}`),
    error: (m, at) => err(`error: ${at ? `${logText(at.file)}:${at.startLine}: ` : ''}${logText(m)}`),
    group: (title, lines, worker) => {
      if (!inActions) {
        out(`── ${logText(title)}`);
        for (const line of lines) out(line);
        return;
      }
      const { masks, body, issues } = isolatedOutput(lines, worker);
      for (const line of [...masks, `── ${logText(title)}`, ...body, ...issues]) out(line);
    },
  };
}
