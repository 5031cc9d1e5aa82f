import {
  COMMAND_NAMES,
  GENERAL,
  OPTIONS,
  SETTINGS,
  SOURCE,
  commandSpec,
  type Command,
  type OptionName,
  type OptionSpec,
} from './args.js';

/** Help text, built from the tables in args.ts so that it lists exactly what each command accepts. */

const COLUMN = 26;

function optionLine(name: OptionName): string {
  const spec: OptionSpec = OPTIONS[name];
  const short = spec.short === undefined ? '' : `, -${spec.short}`;
  const flag = `  --${name}${short}${spec.value === undefined ? '' : ` ${spec.value}`}`;
  const fallback = spec.fallback === undefined ? '' : ` [${spec.fallback}]`;
  return `${flag.padEnd(COLUMN)}${flag.length >= COLUMN ? ' ' : ''}${spec.help}${fallback}`;
}

const lines = (names: readonly OptionName[]): string => names.map(optionLine).join('\n');

const SOURCE_ORDER = `  Default --source auto takes the first that applies: --token-file, --token-env, GitHub Actions
  (ACTIONS_ID_TOKEN_REQUEST_URL/_TOKEN, needs permissions: id-token: write), AZURE_FEDERATED_TOKEN_FILE (the
  workload-identity token file), EXO_FEDERATED_TOKEN (a token in the environment, e.g. GitLab id_tokens).`;

const EXIT_CODES = `Exit codes:
  0  success
  1  the token request, a worker or a cmdlet failed (the message says why and how to fix it)
  2  invalid command line or settings, or no federated token to present; nothing reached Entra
  3  refused to print a token to a terminal (use --force, or pipe it)`;

function settingsBlock(names: readonly OptionName[]): string {
  const settings = names.filter((n) => SETTINGS.includes(n));
  const source = names.filter((n) => SOURCE.includes(n));
  const blocks: string[] = [];
  if (settings.length > 0) {
    blocks.push(
      `Settings (flags win over the environment variables in brackets):\n${lines(settings)}\n  Requests go through HTTPS_PROXY except to NO_PROXY hosts (Node 24.5 or later).`,
    );
  }
  if (source.length > 0) blocks.push(`Federated token:\n${lines(source)}\n${SOURCE_ORDER}`);
  return blocks.join('\n\n');
}

/** `run [options] SCRIPT_OR_GLOB...`: the command, whether it takes options, and its arguments. */
function synopsis(command: Command): string {
  const spec = commandSpec(command);
  const takesOptions = spec.options.length + spec.settings.length > 0;
  const args = spec.usage.split(' ').filter((word) => /^(\[[A-Z_]+\]|[A-Z_]+(\.\.\.)?)$/.test(word));
  return [command, ...(takesOptions ? ['[options]'] : []), ...args].join(' ');
}

function overview(): string {
  const width = Math.max(...COMMAND_NAMES.map((c) => synopsis(c).length));
  const usage = COMMAND_NAMES.map(
    (c) => `  exo-login ${synopsis(c).padEnd(width)}  ${commandSpec(c).summary}`,
  );
  const shared = [...new Set(COMMAND_NAMES.flatMap((c) => commandSpec(c).settings))];
  return `exo-login: an Exchange Online access token from a federated (OIDC) token, with no stored secret.

Usage:
${usage.join('\n')}

${settingsBlock(shared)}

Other options:
${lines(GENERAL)}

${EXIT_CODES}

Examples:
  export AZURE_TENANT_ID=contoso.onmicrosoft.com AZURE_CLIENT_ID=5f0d7c9a-…
  exo-login whoami
  pwsh -c 'Connect-ExchangeOnline -AccessToken (exo-login token) -Organization contoso.onmicrosoft.com'
  eval "$(exo-login token --format env | sed 's/^/export /')"
  exo-login invoke Get-Mailbox -ResultSize Unlimited --select Alias,AuditEnabled
  exo-login run --max-parallel 4 'checks/*.ps1'
  exo-login help run`;
}

function commandHelp(command: Command): string {
  const spec = commandSpec(command);
  const parts = [`Usage: exo-login ${command} ${spec.usage}`, spec.about];
  if (spec.options.length > 0) parts.push(`Options:\n${lines(spec.options)}`);
  const settings = settingsBlock(spec.settings);
  if (settings !== '') parts.push(settings);
  parts.push(EXIT_CODES);
  return parts.join('\n\n');
}

/** `exo-login help`, `exo-login help COMMAND` and `exo-login COMMAND --help`. */
export function helpText(command: Command | undefined): string {
  return command === undefined || command === 'help' ? overview() : commandHelp(command);
}
