import { ExoLoginError, errorMessage, errorStack, type ErrorCode } from '../core/errors.js';
import { closeIdleConnections } from '../core/http.js';
import { ExoLoginSession, type ExoTokens } from '../core/session.js';
import { resolveSettings } from '../core/settings.js';
import { createSource } from '../core/sources.js';
import { tokenVariables } from '../core/variables.js';
import { formatCommand, inertJson, logText } from '../core/workflow-commands.js';
import { CLI_SETTING_NAMES, EXIT, parseCli, type CliArgs } from './args.js';
import { helpText } from './help.js';
import { invokeSettings, runInvoke, splitInvokeArgv } from './invoke-command.js';
import { messenger, type CliIo } from './io.js';

export type { CliIo } from './io.js';

/** Failures found before anything reaches Entra: the settings or the federated token's source are wrong. */
const SETUP_ERRORS: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'input',
  'oidc-permission',
  'oidc-url',
  'token-env',
  'token-file',
  'assertion-format',
]);

/** The CLI: returns the exit code instead of exiting, so it can be embedded and tested in-process. */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  const { say } = messenger(io);
  // Known before parsing, so that a failure to parse can show its stack too.
  let debug = argv.includes('--debug') || io.env['RUNNER_DEBUG'] === '1';
  try {
    // invoke's PowerShell-style parameters (-ResultSize Unlimited) are not options: set them apart first.
    const split = splitInvokeArgv(argv);
    const args = parseCli(split.argv, io.env);
    debug ||= args.debug;
    if (args.version) {
      io.stdout.write(`${io.version()}\n`);
      return EXIT.ok;
    }
    if (args.command === 'help' || args.helpFor !== undefined) {
      io.stdout.write(`${helpText(args.helpFor)}\n`);
      return EXIT.ok;
    }
    return await runCommand(args, io, split.powershell);
  } catch (error) {
    if (debug) debugStack(error, io);
    if (error instanceof ExoLoginError) {
      say(error.message);
      return SETUP_ERRORS.has(error.code) ? EXIT.usage : EXIT.failure;
    }
    say(`failed unexpectedly: ${errorMessage(error)}${debug ? '' : ' (--debug shows where)'}`);
    return EXIT.failure;
  } finally {
    closeIdleConnections();
  }
}

async function runCommand(args: CliArgs, io: CliIo, powershell: readonly string[]): Promise<number> {
  const { say, warn } = messenger(io);
  // Refuse before any request: a token on a terminal ends up in scrollback and screen recordings.
  if (args.command === 'token' && io.stdout.isTTY && !args.force) {
    say('refusing to print a token to a terminal. Pipe it (exo-login token | …) or pass --force.');
    return EXIT.refused;
  }
  // Worker flags, scripts and directory are checked before anything is sent, like every other setting.
  const runModule = args.command === 'run' ? await import('./run-command.js') : undefined;
  const run = runModule?.runSettings(args);
  const invoke =
    args.command === 'invoke' ? invokeSettings(args, powershell, io.stdout.isTTY === true) : undefined;
  const settings = resolveSettings(invoke?.settings ?? args.settings, CLI_SETTING_NAMES, args.fromVariable);
  if (args.command === 'token' && args.format === 'raw' && settings.resources.length > 1) {
    say('--format raw prints one token; with several --resource use --format json or env.');
    return EXIT.usage;
  }
  // In GitHub Actions, mask on stderr (the runner reads workflow commands there too) so stdout stays pipeable.
  const inActions = io.env['GITHUB_ACTIONS'] === 'true';
  // Every token and federated token the session handles, redacted from worker output.
  const secrets: string[] = [];
  const session = ExoLoginSession.fromSettings(settings, {
    assertion: createSource(args.source, io.env, { onRetry: say }),
    onSecret: (secret) => {
      secrets.push(secret);
      if (inActions) io.stderr.write(`::add-mask::${secret}\n`);
    },
    onRetry: say,
  });
  const plan = run && (await runModule?.planRun(run, session.settings));
  const tokens = await session.mint();
  for (const warning of tokens.warnings) warn(warning);
  switch (args.command) {
    case 'token':
      io.stdout.write(formatTokens(tokens, args));
      return EXIT.ok;
    case 'whoami':
      io.stdout.write(formatWhoami(tokens, session, args));
      return EXIT.ok;
    case 'invoke':
      return invoke ? await runInvoke(invoke, session, io) : EXIT.usage;
    default:
      if (!run || !plan || !runModule) return EXIT.usage;
      return await runModule.runScriptsCommand(run, plan, session, io, secrets);
  }
}

/**
 * The failure's stack and its causes', through the debug channel: in GitHub Actions a ::debug:: command (shown
 * with debug logging), elsewhere a line each, prefixed.
 */
function debugStack(error: unknown, io: CliIo): void {
  const stack = errorStack(error);
  if (io.env['GITHUB_ACTIONS'] === 'true') {
    // The toolkit's escaping for a command's message: the whole stack is one command.
    io.stderr.write(`${formatCommand('debug', {}, stack)}\n`);
    return;
  }
  for (const line of stack.split('\n')) io.stderr.write(`exo-login: debug: ${line}\n`);
}

export function formatTokens(tokens: ExoTokens, args: CliArgs): string {
  const minted = Object.values(tokens.tokens);
  const first = minted[0];
  if (!first) return '';
  switch (args.format) {
    case 'raw':
      return `${first.token}\n`;
    case 'ndjson':
    case 'table':
      return ''; // invoke's formats: `token` accepts raw, json and env only (its entry in COMMANDS)
    case 'env':
      return tokenVariables(tokens)
        .map(([name, value]) => `${name}=${value}\n`)
        .join('');
    case 'json':
      return `${JSON.stringify({
        accessToken: first.token,
        expiresOn: first.expiresOn.toISOString(),
        resource: first.resource,
        tenantId: tokens.tenantId,
        organization: tokens.organization ?? null,
        environment: tokens.environment,
        tokens: Object.fromEntries(
          minted.map((t) => [
            t.kind,
            { accessToken: t.token, expiresOn: t.expiresOn.toISOString(), resource: t.resource },
          ]),
        ),
      })}\n`;
  }
}

function formatWhoami(tokens: ExoTokens, session: ExoLoginSession, args: CliArgs): string {
  const presented = session.presentedClaims();
  const resources = Object.values(tokens.tokens).map((t) => ({
    kind: t.kind,
    audience: t.claims.audience ?? t.resource,
    tenantId: t.claims.tenantId ?? null,
    appId: t.claims.appId ?? null,
    roles: t.claims.roles,
    expiresOn: t.expiresOn.toISOString(),
  }));
  // Claims are outside text, and the runner reads stdout when this runs in a workflow step: made inert.
  if (args.format === 'json') {
    return `${inertJson({
      source: session.sourceDescription,
      federatedToken: presented,
      tenantId: tokens.tenantId,
      organization: tokens.organization ?? null,
      environment: tokens.environment,
      resources,
      warnings: tokens.warnings,
    })}\n`;
  }
  const lines = [
    `federated token: from ${session.sourceDescription}`,
    `                 issuer ${presented.issuer ?? '?'}`,
    `                 subject ${presented.subject ?? '?'}`,
    `                 audience ${presented.audience ?? '?'}`,
    `tenant:          ${tokens.tenantId}${tokens.organization ? ` (${tokens.organization})` : ''}`,
    `environment:     ${tokens.environment}`,
    ...resources.map(
      (r) =>
        `${`${r.kind}:`.padEnd(17)}app ${r.appId ?? '?'}, roles ${r.roles.join(', ') || 'none'}, expires ${r.expiresOn}`,
    ),
  ];
  return `${lines.map(logText).join('\n')}\n`;
}
