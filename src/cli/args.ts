import { parseArgs, type ParseArgsConfig } from 'node:util';
import { RESOURCE_KINDS } from '../core/clouds.js';
import { ExoLoginError, InputError } from '../core/errors.js';
import { option, quoted } from '../core/names.js';
import type { SettingField, SettingNames, SettingsInput } from '../core/settings.js';
import { SOURCE_KINDS, type SourceChoice, type SourceKind } from '../core/sources.js';
import { WORKER_SETTINGS } from '../workers/defaults.js';

export const EXIT = {
  ok: 0,
  /** Token request, worker or other runtime failure. */
  failure: 1,
  /** Bad command line or settings, or no federated token to present; nothing reached Entra. */
  usage: 2,
  /** Refused to print a token to a terminal. */
  refused: 3,
} as const;

export type Format = 'raw' | 'json' | 'env' | 'ndjson' | 'table';

/**
 * The one table of options: parsing, per-command checks, help and error names all come from it. `setting` ties
 * an option to the library setting it fills; `fallback` is the variable read when the flag is absent.
 */
export interface OptionSpec {
  readonly type: 'string' | 'boolean';
  readonly multiple?: boolean;
  readonly short?: string;
  /** Placeholder in help, e.g. ID; none for a boolean. */
  readonly value?: string;
  readonly help: string;
  readonly fallback?: string;
  readonly setting?: SettingField;
}

export const OPTIONS = {
  'tenant-id': {
    type: 'string',
    value: 'ID',
    help: 'tenant GUID or domain',
    fallback: 'AZURE_TENANT_ID',
    setting: 'tenantId',
  },
  'client-id': {
    type: 'string',
    value: 'ID',
    help: 'app registration / managed identity GUID',
    fallback: 'AZURE_CLIENT_ID',
    setting: 'clientId',
  },
  organization: {
    type: 'string',
    value: 'DOMAIN',
    help: '*.onmicrosoft.com domain for -Organization',
    fallback: 'EXO_ORGANIZATION',
    setting: 'organization',
  },
  environment: {
    type: 'string',
    value: 'NAME',
    help: 'cloud: O365Default (default), O365USGovGCCHigh, O365USGovDoD, O365China',
    // Not a workload-identity variable (there is none for the cloud): the name export-env gives it in Actions.
    fallback: 'EXO_ENVIRONMENT',
    setting: 'environment',
  },
  resource: {
    type: 'string',
    multiple: true,
    value: 'KIND',
    help: 'exchange | compliance | graph, repeatable; KIND=https://url overrides (default exchange)',
    setting: 'resources',
  },
  audience: {
    type: 'string',
    value: 'AUD',
    help: "federated token audience (default: the cloud's, api://AzureADTokenExchange)",
    setting: 'audience',
  },
  'authority-host': {
    type: 'string',
    value: 'HOST',
    help: 'Entra host[:port]',
    fallback: 'AZURE_AUTHORITY_HOST',
    setting: 'authorityHost',
  },
  source: {
    type: 'string',
    value: 'KIND',
    help: 'federated token source: auto (default) | github | file | env',
  },
  'token-file': {
    type: 'string',
    value: 'PATH',
    help: 'a file holding the federated token, read on each use',
  },
  'token-env': { type: 'string', value: 'NAME', help: 'an environment variable holding the federated token' },
  format: { type: 'string', value: 'FORMAT', help: 'output format' },
  force: {
    type: 'boolean',
    help: 'print even when stdout is a terminal (refused by default: terminals get recorded)',
  },
  'max-parallel': {
    type: 'string',
    value: 'N',
    help: `workers at once, ${WORKER_SETTINGS.maxParallel.min}–${WORKER_SETTINGS.maxParallel.max} (default ${WORKER_SETTINGS.maxParallel.default})`,
  },
  'timeout-minutes': {
    type: 'string',
    value: 'M',
    help: `per worker, decimals allowed (default ${WORKER_SETTINGS.timeoutMinutes.default})`,
  },
  'fail-fast': { type: 'boolean', help: 'stop after the first failure' },
  shard: { type: 'string', value: 'i/n', help: 'run only this share of the matched scripts' },
  'working-directory': {
    type: 'string',
    value: 'DIR',
    help: 'globs are relative to it; workers start in it',
  },
  'module-version': { type: 'string', value: 'V', help: 'ExchangeOnlineManagement RequiredVersion' },
  parameters: {
    type: 'string',
    value: 'JSON',
    help: 'a JSON object of parameters (hashtables, arrays, numbers), merged with the -Name values',
  },
  select: { type: 'string', value: 'A,B', help: 'only these properties ($select)' },
  endpoint: {
    type: 'string',
    value: 'E',
    help: 'exchange (default) or compliance (Security & Compliance cmdlets, with the compliance token)',
  },
  debug: { type: 'boolean', help: 'print the stack of an unexpected failure (also with RUNNER_DEBUG=1)' },
  help: { type: 'boolean', short: 'h', help: "this command's help" },
  version: { type: 'boolean', help: "print exo-login's version" },
} as const satisfies Record<string, OptionSpec>;

export type OptionName = keyof typeof OPTIONS;

/** Options every command accepts: the settings to reach Entra, the token's source, and the general ones. */
export const SETTINGS: readonly OptionName[] = [
  'tenant-id',
  'client-id',
  'organization',
  'environment',
  'resource',
  'audience',
  'authority-host',
];
export const SOURCE: readonly OptionName[] = ['source', 'token-file', 'token-env'];
export const GENERAL: readonly OptionName[] = ['debug', 'help', 'version'];

/**
 * The commands: a new one is one entry here (and its handler in main.ts). `settings` lists the shared settings
 * it uses, so its help shows those and no others; `options` its own.
 */
export interface CommandSpec {
  readonly usage: string;
  readonly summary: string;
  /** What the command does, for its help: a paragraph after the usage line. */
  readonly about: string;
  readonly options: readonly OptionName[];
  readonly settings: readonly OptionName[];
  /** Values --format accepts, first the default. */
  readonly formats?: readonly Format[];
  /** Takes SCRIPT-like positional arguments. */
  readonly positionals?: boolean;
}

export const COMMANDS = {
  token: {
    usage: '[--resource KIND]... [--format raw|json|env] [--force] [settings]',
    summary: 'print an access token for piping',
    about: `Prints an access token on stdout, nothing else.

  --format raw   the token alone (default; one --resource only)
  --format json  one JSON object: accessToken, expiresOn, resource, tenantId, organization, environment, and
                 tokens (every requested resource)
  --format env   KEY=VALUE lines: EXO_ACCESS_TOKEN, IPPS_ACCESS_TOKEN, GRAPH_ACCESS_TOKEN, EXO_ORGANIZATION,
                 EXO_TENANT_ID, EXO_ENVIRONMENT, EXO_EXPIRES_ON

In GitHub Actions the token is masked (::add-mask:: on stderr) before it is printed.`,
    options: ['format', 'force'],
    settings: [...SETTINGS, ...SOURCE],
    formats: ['raw', 'json', 'env'],
  },
  whoami: {
    usage: '[--resource KIND]... [--format raw|json] [settings]',
    summary: 'print the non-secret claims (tenant, app, roles, expiry)',
    about: `Mints tokens and prints what they say, never the tokens themselves: the federated token's issuer, subject
and audience (what the Entra federated credential must match), then per resource the tenant, app, roles
(Exchange.ManageAsApp is needed) and expiry. --format json prints the same as one JSON object.`,
    options: ['format'],
    settings: [...SETTINGS, ...SOURCE],
    formats: ['raw', 'json'],
  },
  run: {
    usage: '[options] SCRIPT_OR_GLOB...',
    summary: 'run scripts in parallel, each connected to Exchange Online',
    about: `Runs scripts in parallel, each with a fresh Exchange Online session.

.ps1 scripts run as pwsh -NoLogo -NoProfile -NonInteractive -File <wrapper>; the wrapper connects with
Connect-ExchangeOnline -AccessToken $env:EXO_ACCESS_TOKEN (and Connect-IPPSSession with --resource compliance)
and disconnects afterwards. .sh, .js, .mjs and .py run with their interpreter and the EXO_* variables.`,
    options: ['max-parallel', 'timeout-minutes', 'fail-fast', 'shard', 'working-directory', 'module-version'],
    settings: [...SETTINGS, ...SOURCE],
    positionals: true,
  },
  invoke: {
    usage:
      '[settings] CMDLET [-Name value]... [-Switch]... [--parameters JSON] [--select A,B] [--format json|ndjson|table]',
    summary: 'run one Exchange cmdlet over REST, no PowerShell',
    about: `Runs one Exchange Online (or, with --endpoint compliance, Security & Compliance) cmdlet over the admin REST
API the ExchangeOnlineManagement module uses: no PowerShell, no module.

  -Name value      a parameter as in PowerShell: -Identity user@contoso.com, -ResultSize Unlimited,
                   -AuditEnabled '$false', -ForwardingSmtpAddress '$null', '-Confirm:$false'; a bare -Switch
                   is true. Values are strings (Exchange converts them) except '$true', '$false' and '$null',
                   which need single quotes in bash or zsh (unquoted, the shell turns them into nothing).
  --format json    one JSON array (the default when stdout is not a terminal)
  --format ndjson  one row per line, as pages arrive
  --format table   columns for reading (the default on a terminal)

Without -ResultSize, cmdlets stop at 1000 rows with a warning, as in PowerShell. Warnings and retries go to
stderr; a cmdlet error exits 1 with the service's message and request ids. The API host follows
--resource exchange=URL (and compliance=URL). Tokens are never printed.`,
    options: ['format', 'parameters', 'select', 'endpoint'],
    settings: [...SETTINGS, ...SOURCE],
    formats: ['json', 'ndjson', 'table'],
    positionals: true,
  },
  help: {
    usage: '[COMMAND]',
    summary: "this text, or a command's",
    about: 'Prints the overview, or with a command its usage, options and the settings it uses.',
    options: [],
    settings: [],
  },
} as const satisfies Record<string, CommandSpec>;

export type Command = keyof typeof COMMANDS;
export const COMMAND_NAMES = Object.keys(COMMANDS) as Command[];

export function commandSpec(command: Command): CommandSpec {
  return COMMANDS[command];
}

/** The option as a setting name for messages: `--tenant-id (or AZURE_TENANT_ID)`. */
export function optionName(name: OptionName): ReturnType<typeof option> {
  const spec: OptionSpec = OPTIONS[name];
  return option(name, spec.fallback);
}

/** The names CLI users know each library setting by, derived from the table. */
export const CLI_SETTING_NAMES: SettingNames = Object.fromEntries(
  (Object.keys(OPTIONS) as OptionName[]).flatMap((name) => {
    const spec: OptionSpec = OPTIONS[name];
    return spec.setting === undefined ? [] : [[spec.setting, optionName(name)]];
  }),
) as Record<SettingField, ReturnType<typeof option>>;

export interface CliArgs {
  command: Command;
  helpFor: Command | undefined;
  version: boolean;
  debug: boolean;
  settings: SettingsInput;
  /** Settings whose value came from the fallback variable rather than the flag. */
  fromVariable: SettingField[];
  source: SourceChoice;
  format: Format;
  force: boolean;
  scripts: string[];
  maxParallel: string;
  timeoutMinutes: string;
  failFast: boolean;
  shard: string;
  workingDirectory: string;
  moduleVersion: string;
  /** exo-login invoke's arguments, checked by src/cli/invoke-command.ts. */
  invoke: {
    cmdlet: string;
    /** Positional arguments after the cmdlet: none are allowed. */
    extra: string[];
    parameters: string;
    select: string;
    endpoint: string;
    /** Whether --format was given (invoke's default depends on whether stdout is a terminal). */
    formatGiven: boolean;
  };
}

const PARSE_OPTIONS = OPTIONS satisfies ParseArgsConfig['options'];
type Values = ReturnType<
  typeof parseArgs<{ options: typeof PARSE_OPTIONS; allowPositionals: true }>
>['values'];

/** Pure: argv (without node and script) and the environment's workload-identity defaults → settings. */
export function parseCli(argv: readonly string[], env: NodeJS.ProcessEnv): CliArgs {
  const { values, positionals } = parseArgv(argv);
  const command = commandOf(positionals[0]);
  const helpFor = command === 'help' ? helpTopic(positionals[1]) : values.help ? command : undefined;
  if (command !== 'help') checkOptions(command, values, positionals);
  const source = sourceChoice(values);
  const format = formatOf(command, values.format);
  for (const resource of values.resource ?? []) {
    const kind = resource.split('=')[0]?.trim().toLowerCase() ?? '';
    if (!(RESOURCE_KINDS as readonly string[]).includes(kind)) {
      throw new InputError(
        optionName('resource'),
        `must be one of ${RESOURCE_KINDS.join(', ')} (or kind=https://url); got ${quoted(resource)}.`,
      );
    }
  }
  const { settings, fromVariable } = settingsOf(values, env);
  return {
    command,
    helpFor,
    version: values.version ?? false,
    debug: values.debug ?? false,
    settings,
    fromVariable,
    source,
    format,
    force: values.force ?? false,
    scripts: command === 'run' ? positionals.slice(1) : [],
    maxParallel: values['max-parallel'] ?? '',
    timeoutMinutes: values['timeout-minutes'] ?? '',
    failFast: values['fail-fast'] ?? false,
    shard: values.shard ?? '',
    workingDirectory: values['working-directory'] ?? '',
    moduleVersion: values['module-version'] ?? '',
    invoke: {
      cmdlet: command === 'invoke' ? (positionals[1] ?? '') : '',
      extra: command === 'invoke' ? positionals.slice(2) : [],
      parameters: values.parameters ?? '',
      select: values.select ?? '',
      endpoint: values.endpoint ?? '',
      formatGiven: values.format !== undefined,
    },
  };
}

function parseArgv(argv: readonly string[]): { values: Values; positionals: string[] } {
  try {
    return parseArgs({ args: [...argv], options: PARSE_OPTIONS, allowPositionals: true, strict: true });
  } catch (error) {
    throw new ExoLoginError(
      `${parseArgsMessage(error as Error & { code?: string })} See exo-login --help.`,
      'input',
    );
  }
}

/** node:util's parse errors in our words, one sentence ending in a period. */
function parseArgsMessage(error: Error & { code?: string }): string {
  const flag = /'(-[^' ]+)/.exec(error.message)?.[1] ?? '';
  const name = flag.replace(/^-+/, '');
  if (error.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') return `Unknown option ${quoted(flag)}.`;
  if (error.code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE' && name in OPTIONS) {
    const spec: OptionSpec = OPTIONS[name as OptionName];
    return spec.type === 'boolean'
      ? `Option --${name} takes no value.`
      : `Option --${name} needs a value (${spec.value ?? 'VALUE'}); for one that starts with '-', write --${name}=VALUE.`;
  }
  return `${error.message.replace(/\. To specify.*$/s, '').replace(/[.?]?\s*$/, '')}.`;
}

function commandOf(first: string | undefined): Command {
  if (first === undefined) return 'help';
  if ((COMMAND_NAMES as readonly string[]).includes(first)) return first as Command;
  throw new ExoLoginError(
    `Unknown command ${quoted(first)}: the commands are ${COMMAND_NAMES.join(', ')}. See exo-login --help.`,
    'input',
  );
}

function helpTopic(topic: string | undefined): Command | undefined {
  if (topic === undefined) return undefined;
  if ((COMMAND_NAMES as readonly string[]).includes(topic)) return topic as Command;
  throw new ExoLoginError(
    `No help for ${quoted(topic)}: the commands are ${COMMAND_NAMES.join(', ')}. See exo-login --help.`,
    'input',
  );
}

function checkOptions(command: Command, values: Values, positionals: readonly string[]): void {
  const spec = commandSpec(command);
  const allowed = new Set<string>([...spec.settings, ...spec.options, ...GENERAL]);
  for (const name of Object.keys(values)) {
    if (!allowed.has(name)) {
      throw new InputError(
        option(name),
        `does not apply to 'exo-login ${command}'. See exo-login ${command} --help.`,
      );
    }
  }
  if (spec.positionals !== true && positionals.length > 1) {
    throw new ExoLoginError(
      `Unexpected arguments after '${command}': ${positionals
        .slice(1)
        .map((p) => quoted(p))
        .join(' ')}.`,
      'input',
    );
  }
}

function sourceChoice(values: Values): SourceChoice {
  const source = values.source ?? 'auto';
  if (!(SOURCE_KINDS as readonly string[]).includes(source)) {
    throw new InputError(
      optionName('source'),
      `must be one of ${SOURCE_KINDS.join(', ')}; got ${quoted(source)}.`,
    );
  }
  // Two places for the token would leave one silently ignored.
  const tokenFile = values['token-file'];
  const tokenEnv = values['token-env'];
  if (tokenFile !== undefined && tokenEnv !== undefined) {
    throw new InputError(
      optionName('token-file'),
      'and --token-env name two federated tokens: pass one of them.',
    );
  }
  const conflicting =
    (source === 'github' && (tokenFile ?? tokenEnv) !== undefined) ||
    (source === 'file' && tokenEnv !== undefined) ||
    (source === 'env' && tokenFile !== undefined);
  if (conflicting) {
    throw new InputError(
      optionName('source'),
      `${source} does not read ${tokenFile !== undefined ? '--token-file' : '--token-env'}: drop one of them.`,
    );
  }
  return { source: source as SourceKind, tokenFile, tokenEnv };
}

function formatOf(command: Command, value: string | undefined): Format {
  const spec: CommandSpec = commandSpec(command);
  const formats = spec.formats ?? ['raw'];
  const format = value ?? formats[0] ?? 'raw';
  if (!(formats as readonly string[]).includes(format))
    throw new InputError(
      optionName('format'),
      `must be one of ${formats.join(', ')}; got ${quoted(format)}.`,
    );
  return format as Format;
}

/** The settings from their flags, else from their fallback variables, and which came from a variable. */
function settingsOf(
  values: Values,
  env: NodeJS.ProcessEnv,
): { settings: SettingsInput; fromVariable: SettingField[] } {
  const fromVariable: SettingField[] = [];
  const read = (
    name: 'tenant-id' | 'client-id' | 'organization' | 'environment' | 'audience' | 'authority-host',
  ): string => {
    const spec: OptionSpec = OPTIONS[name];
    const flag = values[name];
    if (typeof flag === 'string') return flag;
    const fallback = spec.fallback === undefined ? undefined : env[spec.fallback];
    if (fallback !== undefined && fallback.trim() !== '' && spec.setting) fromVariable.push(spec.setting);
    return fallback ?? '';
  };
  const settings: SettingsInput = {
    tenantId: read('tenant-id'),
    clientId: read('client-id'),
    organization: read('organization'),
    environment: read('environment'),
    resources: values.resource ?? [],
    audience: read('audience'),
    authorityHost: read('authority-host'),
  };
  return { settings, fromVariable };
}
