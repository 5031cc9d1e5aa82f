import { tmpdir } from 'node:os';
import { resolve } from 'node:path';
import { ExoLoginError } from '../core/errors.js';
import type { ExoLoginSession } from '../core/session.js';
import type { ResolvedSettings } from '../core/settings.js';
import {
  parseCount,
  parseMinutes,
  parseModuleVersion,
  parseShard,
  posixRelative,
  planWorkers,
  runWorkers,
  type Logger,
  type Shard,
  type WorkerPlan,
} from '../workers/index.js';
import { withCancellation } from '../workers/signals.js';
import { argument } from '../core/names.js';
import { CLI_SETTING_NAMES, EXIT, optionName, type CliArgs } from './args.js';
import { cliMessage, type CliIo } from './io.js';

export interface RunSettings {
  patterns: string[];
  cwd: string;
  maxParallel: number;
  timeoutMinutes: number;
  shard: Shard | undefined;
  moduleVersion: string | undefined;
  failFast: boolean;
}

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
    cwd,
    maxParallel: parseCount(args.maxParallel, optionName('max-parallel'), 3, 1, 64),
    timeoutMinutes: parseMinutes(args.timeoutMinutes, optionName('timeout-minutes')),
    shard: parseShard(args.shard, optionName('shard')),
    moduleVersion: parseModuleVersion(args.moduleVersion, optionName('module-version')),
    failFast: args.failFast,
  };
}

/** The scripts, the directory and the organization, checked before anything is sent. */
export function planRun(
  settings: RunSettings,
  resolved: Pick<ResolvedSettings, 'organization' | 'resources'>,
): Promise<WorkerPlan> {
  return planWorkers({
    patterns: settings.patterns,
    cwd: settings.cwd,
    shard: settings.shard,
    inline: false,
    organization: resolved.organization,
    exchange: resolved.resources.some((r) => r.kind === 'exchange'),
    names: {
      scripts: argument('SCRIPT'),
      workingDirectory: optionName('working-directory'),
      organization: CLI_SETTING_NAMES.organization,
      resources: CLI_SETTING_NAMES.resources,
    },
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
  // Errors already printed, so the summary below does not print them a second time.
  const reported = new Set<string>();
  const logger: Logger = {
    info: err,
    warning: (m) => err(cliMessage(`warning: ${m}`)),
    error: (m, at) => {
      reported.add(m);
      err(cliMessage(`error: ${at ? `${at.file}:${at.startLine}: ` : ''}${m}`));
    },
    group: (title, lines) => {
      out(`── ${title}`);
      for (const line of lines) out(line);
    },
  };
  const { mine } = plan;
  return withCancellation(async (signal) => {
    const run = await runWorkers({
      workers: mine.map((script) => ({ name: posixRelative(script, settings.cwd), script })),
      maxParallel: settings.maxParallel,
      timeoutMs: settings.timeoutMinutes * 60_000,
      failFast: settings.failFast,
      cwd: settings.cwd,
      env: io.env,
      tempDir: io.env['RUNNER_TEMP'] ?? tmpdir(),
      getTokens: (minValidUntil) => session.tokensValidUntil(minValidUntil),
      moduleVersion: settings.moduleVersion,
      logger,
      signal,
    });
    for (const row of run.rows) {
      err(
        `${row.result.padEnd(9)} ${row.name}${row.exitCode === null ? '' : ` (exit ${row.exitCode})`} ${(row.durationMs / 1000).toFixed(1)} s${row.error && !reported.has(`${row.name}: ${row.error}`) ? `: ${row.error}` : ''}`,
      );
    }
    return run.ok ? EXIT.ok : EXIT.failure;
  });
}
