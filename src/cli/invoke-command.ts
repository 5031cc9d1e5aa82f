/**
 * `exo-login invoke <Cmdlet> [-Name value]… [-Switch]… [--parameters JSON] [--select a,b] [--format …]`: one
 * Exchange cmdlet over the admin REST API, no PowerShell. Parameters after the cmdlet name are written as in
 * PowerShell; `--parameters` carries JSON values (hashtables, arrays, numbers) and is merged with them.
 */
import { ExoLoginError, InputError } from '../core/errors.js';
import { argument, option, quoted } from '../core/names.js';
import { breakLeadingCommand, inertJson } from '../core/workflow-commands.js';
import type { SettingsInput } from '../core/settings.js';
import type { ExoLoginSession } from '../core/token.js';
import { exchangeOnline, type CmdletRow } from '../exchange/client.js';
import { cleanText } from '../exchange/errors.js';
import { EXCHANGE_ENDPOINTS, type ExchangeEndpoint } from '../exchange/routing.js';
import { EXIT, OPTIONS, type CliArgs, type OptionSpec } from './args.js';
import { messenger, type CliIo } from './io.js';

export const INVOKE_FORMATS = ['json', 'ndjson', 'table'] as const;
export type InvokeFormat = (typeof INVOKE_FORMATS)[number];

export interface InvokeSettings {
  cmdlet: string;
  parameters: Record<string, unknown>;
  select: string[];
  format: InvokeFormat;
  endpoint: ExchangeEndpoint;
  /** The command line's settings with the endpoint's token added to the resources. */
  settings: SettingsInput;
}

/** Whether `--name` takes a value (so the word after it is not a positional argument). */
function optionTakesValue(name: string): boolean {
  const spec = (OPTIONS as Record<string, OptionSpec | undefined>)[name];
  return spec?.type === 'string';
}

/**
 * Splits `exo-login … invoke Cmdlet -A 1 -B --format json` into the argv the option parser reads (with `invoke`
 * and the cmdlet) and the PowerShell-style parameters after the cmdlet name. Other commands pass through.
 */
export function splitInvokeArgv(argv: readonly string[]): { argv: string[]; powershell: string[] } {
  const cli: string[] = [];
  const powershell: string[] = [];
  let command: string | undefined;
  let cmdlet: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    if (arg.startsWith('--')) {
      cli.push(arg);
      const name = arg.slice(2).split('=')[0] ?? '';
      if (!arg.includes('=') && optionTakesValue(name) && i + 1 < argv.length) cli.push(argv[++i] ?? '');
      continue;
    }
    // A PowerShell parameter before the cmdlet name is kept too, so the error can say the cmdlet is missing
    // (not "unknown option '-I'"); single letters stay options (-h).
    const early = command === 'invoke' && cmdlet === undefined && /^-[A-Za-z][A-Za-z0-9]/.test(arg);
    if ((cmdlet !== undefined || early) && /^-[A-Za-z]/.test(arg)) {
      powershell.push(arg);
      const next = argv[i + 1];
      if (!arg.includes(':') && next !== undefined && !/^-[A-Za-z]|^--/.test(next))
        powershell.push(argv[++i] ?? '');
      else if (!arg.includes(':')) powershell.push('\0switch');
      continue;
    }
    cli.push(arg);
    if (arg.startsWith('-')) continue;
    if (command === undefined) command = arg;
    else if (command === 'invoke' && cmdlet === undefined) cmdlet = arg;
    if (command !== 'invoke') return { argv: [...argv], powershell: [] };
  }
  return { argv: cli, powershell };
}

/** `-Name value`, `-Name:value` and bare `-Switch` pairs as produced by splitInvokeArgv. */
export function parsePowerShellParameters(tokens: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i] ?? '';
    const colon = token.indexOf(':');
    const name = (colon === -1 ? token : token.slice(0, colon)).slice(1);
    const raw = colon === -1 ? tokens[++i] : token.slice(colon + 1);
    if (!/^[A-Za-z][A-Za-z0-9]*$/.test(name)) {
      throw new InputError(
        argument('CMDLET'),
        `parameters are written -Name value or -Switch; ${quoted(token)} is neither.`,
      );
    }
    if (colon !== -1 && raw === '') {
      // What a POSIX shell leaves of an unquoted -Confirm:$false; an empty string is written -Name ''.
      throw new InputError(
        argument('CMDLET'),
        `parameter ${quoted(token)} has no value; in bash or zsh put $ values in single quotes: '-${name}:$false'.`,
      );
    }
    if (Object.keys(out).some((k) => k.toLowerCase() === name.toLowerCase())) {
      throw new InputError(argument('CMDLET'), `parameter -${name} is given twice.`);
    }
    out[name] = raw === '\0switch' ? true : powershellValue(raw ?? '');
  }
  return out;
}

/** $true, $false and $null as PowerShell reads them; everything else is the string the shell passed. */
function powershellValue(raw: string): unknown {
  const lower = raw.toLowerCase();
  if (lower === '$true') return true;
  if (lower === '$false') return false;
  if (lower === '$null') return null;
  return raw;
}

/** Validates `exo-login invoke`'s arguments before anything is sent. */
export function invokeSettings(
  args: CliArgs,
  powershell: readonly string[],
  stdoutIsTty: boolean,
): InvokeSettings {
  const { cmdlet, extra } = args.invoke;
  if (cmdlet === '') {
    const where =
      powershell.length > 0 ? ` before its parameters (got ${quoted(powershell[0] ?? '')} first)` : '';
    throw new ExoLoginError(
      `'invoke' needs a cmdlet${where}: exo-login invoke Get-Mailbox [-Name value]... [--parameters JSON]. See exo-login help invoke.`,
      'input',
    );
  }
  if (!/^[A-Za-z]+-[A-Za-z0-9]+$/.test(cmdlet)) {
    throw new InputError(
      argument('CMDLET'),
      `must be a cmdlet name such as Get-Mailbox; got ${quoted(cmdlet)}.`,
    );
  }
  if (extra.length > 0) {
    throw new ExoLoginError(
      `Unexpected arguments after '${cmdlet}': ${extra.map((e) => quoted(e)).join(' ')}.`,
      'input',
    );
  }
  const fromPowerShell = parsePowerShellParameters(powershell);
  const fromJson = parseParametersJson(args.invoke.parameters);
  for (const name of Object.keys(fromJson)) {
    const clash = Object.keys(fromPowerShell).find((k) => k.toLowerCase() === name.toLowerCase());
    if (clash !== undefined)
      throw new InputError(option('parameters'), `and -${clash} both set ${name}: keep one.`);
  }
  const endpoint = (args.invoke.endpoint || 'exchange') as ExchangeEndpoint;
  if (!EXCHANGE_ENDPOINTS.includes(endpoint)) {
    throw new InputError(
      option('endpoint'),
      `must be ${EXCHANGE_ENDPOINTS.join(' or ')}; got ${quoted(args.invoke.endpoint)}.`,
    );
  }
  const format = (args.invoke.formatGiven ? args.format : stdoutIsTty ? 'table' : 'json') as InvokeFormat;
  const select = args.invoke.select === '' ? [] : args.invoke.select.split(',').map((s) => s.trim());
  const bad = select.find((s) => !/^[A-Za-z][A-Za-z0-9_]*$/.test(s));
  if (bad !== undefined)
    throw new InputError(option('select'), `takes property names separated by commas; got ${quoted(bad)}.`);
  return {
    cmdlet,
    parameters: { ...fromPowerShell, ...fromJson },
    select,
    format,
    endpoint,
    settings: { ...args.settings, resources: withResource(args.settings.resources, endpoint) },
  };
}

function parseParametersJson(text: string): Record<string, unknown> {
  if (text === '') return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new InputError(option('parameters'), `must be a JSON object: ${(error as Error).message}.`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new InputError(
      option('parameters'),
      'must be a JSON object of parameter names to values, e.g. {"Identity":"x"}.',
    );
  }
  // Parameter names are case-insensitive, as in PowerShell: two spellings would reach the cmdlet as one.
  const names = Object.keys(parsed);
  const twice = names.find((n, i) => names.findIndex((m) => m.toLowerCase() === n.toLowerCase()) !== i);
  if (twice !== undefined) {
    const first = names.find((m) => m.toLowerCase() === twice.toLowerCase()) ?? twice;
    throw new InputError(
      option('parameters'),
      `sets ${first} twice (${quoted(first)} and ${quoted(twice)}): keep one.`,
    );
  }
  return parsed as Record<string, unknown>;
}

/** The resources the session mints: what --resource asked for, plus the endpoint's own token. */
function withResource(resources: SettingsInput['resources'], endpoint: ExchangeEndpoint): string[] {
  const listed = (typeof resources === 'string' ? resources.split(',') : [...(resources ?? [])]).filter(
    (r) => r.trim() !== '',
  );
  if (listed.length === 0) return endpoint === 'exchange' ? [] : [endpoint];
  if (listed.some((r) => r.split('=')[0]?.trim().toLowerCase() === endpoint)) return listed;
  return [...listed, endpoint];
}

/** Runs the cmdlet; rows on stdout in the chosen format, warnings and retries on stderr. */
export async function runInvoke(
  settings: InvokeSettings,
  session: ExoLoginSession,
  io: CliIo,
): Promise<number> {
  const { say, warn } = messenger(io);
  const exo = exchangeOnline(session, { endpoint: settings.endpoint, onWarning: warn, onRetry: say });
  const call = exo.invoke(
    settings.cmdlet,
    settings.parameters,
    settings.select.length > 0 ? { select: settings.select } : {},
  );
  if (settings.format === 'ndjson') {
    for await (const row of call) io.stdout.write(`${inertJson(row)}\n`);
    return EXIT.ok;
  }
  if (settings.format === 'json') {
    // Rows kept as JSON text, not objects, until the array is complete: a failed call prints nothing on stdout.
    const texts: string[] = [];
    for await (const row of call) texts.push(inertJson(row));
    io.stdout.write(`[${texts.join(',')}]\n`);
    return EXIT.ok;
  }
  io.stdout.write(formatTable(await call.all(), settings.select));
  return EXIT.ok;
}

const MAX_COLUMNS = 6;
const MAX_WIDTH = 40;

/** A PowerShell-like table: the selected columns, or the first row's first few; server text made printable. */
export function formatTable(rows: readonly CmdletRow[], select: readonly string[]): string {
  if (rows.length === 0) return '';
  const columns = select.length > 0 ? [...select] : Object.keys(rows[0] ?? {}).slice(0, MAX_COLUMNS);
  const cells = rows.map((row) => columns.map((c) => cell(row[c])));
  // Column names are the service's keys: printed like its values.
  const headers = columns.map((c) => cell(c));
  const widths = headers.map((c, i) => Math.max(c.length, ...cells.map((r) => (r[i] ?? '').length)));
  const line = (values: readonly string[]): string =>
    values
      .map((v, i) => v.padEnd(widths[i] ?? 0))
      .join(' ')
      .trimEnd();
  return `${[line(headers), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line)].join('\n')}\n`;
}

function cell(value: unknown): string {
  const text = Array.isArray(value) ? value.map(scalar).join(', ') : scalar(value);
  // A line whose first non-blank text is :: is a workflow command in GitHub Actions (the runner trims the start,
  // so a leading space does not help); any cell may come first once the cells before it are empty.
  return breakLeadingCommand(cleanText(text, MAX_WIDTH));
}

function scalar(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return JSON.stringify(value);
}
