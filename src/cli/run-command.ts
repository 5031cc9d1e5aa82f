import { resolve } from 'node:path';
import { ExoLoginError } from '../core/errors.js';
import { argument } from '../core/names.js';
import type { ExoLoginSession } from '../core/session.js';
import type { ResolvedSettings } from '../core/settings.js';
import { DEFAULT_TOKEN_ENV } from '../core/sources.js';
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
  type WorkerRow,
} from '../workers/index.js';
import { CLI_SETTING_NAMES, EXIT, optionName, type CliArgs } from './args.js';
import { cliMessage, type CliIo } from './io.js';

export type RunSettings = WorkerPhaseSettings;

/** Validates `exo-login run` flags before anything is sent. */
export function runSettings(args: CliArgs): RunSettings {
  if (args.scripts.length === 0) {
    throw new ExoLoginError(
      "'run' needs at least one script or glob: exo-login run [options] SCRIPT_OR_GLOB... See exo-login help run.",
      'input',
    );
  }
  const cwd = resolve(args.workingDirectory || '.');
  return {
    patterns: args.scripts,
    inline: undefined,
    cwd,
    maxParallel: parseMaxParallel(args.maxParallel, optionName('max-parallel')),
    timeoutMinutes: parseMinutes(args.timeoutMinutes, optionName('timeout-minutes')),
    shard: parseShard(args.shard, optionName('shard')),
    moduleVersion: parseModuleVersion(args.moduleVersion, optionName('module-version')),
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
    scripts: argument('SCRIPT'),
    workingDirectory: optionName('working-directory'),
    organization: CLI_SETTING_NAMES.organization,
    resources: CLI_SETTING_NAMES.resources,
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
  // Errors already printed, so the summary below does not print them a second time.
  const reported = new Set<string>();
  const logger = cliLogger(out, err, io.env['GITHUB_ACTIONS'] === 'true', reported);
  const run = await runWorkerPhase(settings, plan, session, {
    env: io.env,
    logger,
    secrets: () => federatedTokens,
  });
  for (const row of run.rows) {
    const error = row.error && !reported.has(`${row.name}: ${row.error}`) ? `: ${row.error}` : '';
    err(
      logText(
        `${row.result.padEnd(9)} ${row.name}${row.exitCode === null ? '' : ` (exit ${row.exitCode})`} ${(row.durationMs / 1000).toFixed(1)} s${sessionNote(row)}${error}`,
      ),
    );
  }
  return run.ok ? EXIT.ok : EXIT.failure;
}

/**
 * Messages on stderr, worker groups on stdout, each message made one inert line (it may hold a file name).
 * Inside GitHub Actions the runner reads both streams for workflow commands: a worker's output is then kept
 * from issuing any (see isolatedOutput), masks and annotations on the same stream as the group they belong to.
 */
function cliLogger(
  out: (line: string) => void,
  err: (line: string) => void,
  inActions: boolean,
  reported: Set<string>,
): Logger {
  return {
    info: (m) => err(logText(m)),
    warning: (m) => err(logText(cliMessage(`warning: ${m}`))),
    error: (m, at) => {
      reported.add(m);
      err(logText(cliMessage(`error: ${at ? `${at.file}:${at.startLine}: ` : ''}${m}`)));
    },
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

/** ` [session 2, connected in 3.1 s]`, ` [session 2]`, or nothing for a worker that ran in no session. */
function sessionNote(row: WorkerRow): string {
  if (!row.session) return '';
  return ` [session ${row.session}${row.connectMs ? `, connected in ${(row.connectMs / 1000).toFixed(1)} s` : ''}]`;
}
