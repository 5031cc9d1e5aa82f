import { parseArgs, type ParseArgsConfig } from 'node:util';
import { RESOURCE_KINDS } from '../core/clouds.js';
import { ExoLoginError, InputError } from '../core/errors.js';
import { withFallback } from '../core/validate.js';
import { SOURCE_KINDS, type SourceChoice, type SourceKind } from './source.js';

export const EXIT = {
  ok: 0,
  /** Token request, worker or other runtime failure. */
  failure: 1,
  /** Bad command line or settings, or no federated token to present; nothing reached Entra. */
  usage: 2,
  /** Refused to print a token to a terminal. */
  refused: 3,
} as const;

export type Command = 'token' | 'run' | 'whoami' | 'help';
export type Format = 'raw' | 'json' | 'env';

export interface CliArgs {
  command: Command;
  helpFor: Command | undefined;
  version: boolean;
  tenantId: string;
  clientId: string;
  organization: string;
  environment: string;
  resources: string;
  audience: string;
  authorityHost: string;
  source: SourceChoice;
  format: Format;
  force: boolean;
  scripts: string[];
  maxParallel: string;
  timeoutMinutes: string;
  failFast: boolean;
  reuseSessions: boolean;
  shard: string;
  workingDirectory: string;
  moduleVersion: string;
}

const options = {
  'tenant-id': { type: 'string' },
  'client-id': { type: 'string' },
  organization: { type: 'string' },
  environment: { type: 'string' },
  resource: { type: 'string', multiple: true },
  audience: { type: 'string' },
  'authority-host': { type: 'string' },
  source: { type: 'string' },
  'token-file': { type: 'string' },
  'token-env': { type: 'string' },
  format: { type: 'string' },
  force: { type: 'boolean' },
  'max-parallel': { type: 'string' },
  'timeout-minutes': { type: 'string' },
  'fail-fast': { type: 'boolean' },
  'reuse-sessions': { type: 'boolean' },
  'no-reuse-sessions': { type: 'boolean' },
  shard: { type: 'string' },
  'working-directory': { type: 'string' },
  'module-version': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean' },
} as const satisfies ParseArgsConfig['options'];

/** Environment variables that settings fall back to when their flag is absent (the workload-identity names). */
const FALLBACK_VARIABLES = {
  tenantId: 'AZURE_TENANT_ID',
  clientId: 'AZURE_CLIENT_ID',
  organization: 'EXO_ORGANIZATION',
  // Not a workload-identity variable (there is none for the cloud): the name export-env gives it in Actions.
  environment: 'EXO_ENVIRONMENT',
  authorityHost: 'AZURE_AUTHORITY_HOST',
} as const;

const COMMANDS: readonly Command[] = ['token', 'run', 'whoami', 'help'];

/** Options each command accepts beyond the shared ones. */
const COMMAND_OPTIONS: Record<Command, readonly string[]> = {
  token: ['format', 'force'],
  whoami: ['format'],
  run: [
    'max-parallel',
    'timeout-minutes',
    'fail-fast',
    'reuse-sessions',
    'no-reuse-sessions',
    'shard',
    'working-directory',
    'module-version',
  ],
  help: [],
};
const SHARED = new Set([
  'tenant-id',
  'client-id',
  'organization',
  'environment',
  'resource',
  'audience',
  'authority-host',
  'source',
  'token-file',
  'token-env',
  'help',
  'version',
]);

/** Pure: argv (without node and script) and the environment's workload-identity defaults → settings. */
export function parseCli(argv: readonly string[], env: NodeJS.ProcessEnv): CliArgs {
  let parsed;
  try {
    parsed = parseArgs({ args: [...argv], options, allowPositionals: true, strict: true });
  } catch (error) {
    throw new ExoLoginError(
      `${(error as Error).message.replace(/\. To specify.*$/s, '')}. See exo-login --help.`,
      'input',
    );
  }
  const { values, positionals } = parsed;
  const first = positionals[0];
  let command: Command;
  if (first === undefined) command = 'help';
  else if ((COMMANDS as readonly string[]).includes(first)) command = first as Command;
  else
    throw new ExoLoginError(
      `Unknown command '${first}': use token, run, whoami or help (exo-login --help).`,
      'input',
    );

  const helpFor = command === 'help' ? asCommand(positionals[1]) : values.help ? command : undefined;
  for (const name of Object.keys(values)) {
    if (!SHARED.has(name) && !COMMAND_OPTIONS[command].includes(name) && command !== 'help') {
      throw new InputError(
        `--${name}`,
        `does not apply to 'exo-login ${command}'. See exo-login ${command} --help.`,
      );
    }
  }
  if (command !== 'run' && positionals.length > 1 && command !== 'help') {
    throw new ExoLoginError(
      `Unexpected arguments after '${command}': ${positionals.slice(1).join(' ')}.`,
      'input',
    );
  }

  const source = values.source ?? 'auto';
  if (!(SOURCE_KINDS as readonly string[]).includes(source)) {
    throw new InputError('--source', `must be one of ${SOURCE_KINDS.join(', ')}; got '${source}'.`);
  }
  // Two places for the token would leave one silently ignored.
  if (values['reuse-sessions'] === true && values['no-reuse-sessions'] === true)
    throw new InputError(
      '--reuse-sessions',
      'and --no-reuse-sessions contradict each other: pass one of them.',
    );
  const tokenFile = values['token-file'];
  const tokenEnv = values['token-env'];
  if (tokenFile !== undefined && tokenEnv !== undefined) {
    throw new InputError('--token-file', 'and --token-env name two federated tokens: pass one of them.');
  }
  const conflicting =
    (source === 'github' && (tokenFile ?? tokenEnv) !== undefined) ||
    (source === 'file' && tokenEnv !== undefined) ||
    (source === 'env' && tokenFile !== undefined);
  if (conflicting) {
    throw new InputError(
      '--source',
      `${source} does not read ${tokenFile !== undefined ? '--token-file' : '--token-env'}: drop one of them.`,
    );
  }
  const format = values.format ?? 'raw';
  const formats: readonly string[] = command === 'whoami' ? ['raw', 'json'] : ['raw', 'json', 'env'];
  if (!formats.includes(format))
    throw new InputError('--format', `must be one of ${formats.join(', ')}; got '${format}'.`);
  for (const resource of values.resource ?? []) {
    const kind = resource.split('=')[0]?.trim().toLowerCase() ?? '';
    if (!(RESOURCE_KINDS as readonly string[]).includes(kind)) {
      throw new InputError(
        '--resource',
        `must be one of ${RESOURCE_KINDS.join(', ')} (or kind=https://url); got '${resource}'.`,
      );
    }
  }

  return {
    command,
    helpFor,
    version: values.version ?? false,
    tenantId: values['tenant-id'] ?? env[FALLBACK_VARIABLES.tenantId] ?? '',
    clientId: values['client-id'] ?? env[FALLBACK_VARIABLES.clientId] ?? '',
    organization: values.organization ?? env[FALLBACK_VARIABLES.organization] ?? '',
    environment: values.environment ?? env[FALLBACK_VARIABLES.environment] ?? '',
    resources: (values.resource ?? []).join(','),
    audience: values.audience ?? '',
    authorityHost: values['authority-host'] ?? env[FALLBACK_VARIABLES.authorityHost] ?? '',
    source: {
      source: source as SourceKind,
      tokenFile,
      tokenEnv,
    },
    format: format as Format,
    force: values.force ?? false,
    scripts: command === 'run' ? positionals.slice(1) : [],
    maxParallel: values['max-parallel'] ?? '',
    timeoutMinutes: values['timeout-minutes'] ?? '',
    failFast: values['fail-fast'] ?? false,
    reuseSessions: values['no-reuse-sessions'] !== true,
    shard: values.shard ?? '',
    workingDirectory: values['working-directory'] ?? '',
    moduleVersion: values['module-version'] ?? '',
  };
}

function asCommand(value: string | undefined): Command | undefined {
  return value !== undefined && (COMMANDS as readonly string[]).includes(value)
    ? (value as Command)
    : undefined;
}

/**
 * The names CLI users know each library setting by, for error messages: the flag, and the variable it falls
 * back to, since a bad or missing value may come from either.
 */
export const CLI_FIELD_NAMES = {
  tenantId: withFallback('--tenant-id', FALLBACK_VARIABLES.tenantId),
  clientId: withFallback('--client-id', FALLBACK_VARIABLES.clientId),
  environment: withFallback('--environment', FALLBACK_VARIABLES.environment),
  organization: withFallback('--organization', FALLBACK_VARIABLES.organization),
  resources: '--resource',
  audience: '--audience',
  authorityHost: withFallback('--authority-host', FALLBACK_VARIABLES.authorityHost),
};
