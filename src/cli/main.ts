import { ExoLoginError, errorMessage } from '../core/errors.js';
import { closeIdleConnections } from '../core/http.js';
import { ExoLoginSession, resolveSettings, type ExoTokens } from '../core/token.js';
import { tokenVariables } from '../core/variables.js';
import { inertJson, logText } from '../core/workflow-commands.js';
import { CLI_FIELD_NAMES, EXIT, parseCli, type CliArgs } from './args.js';
import { HELP } from './help.js';
import { createSource } from './source.js';

export interface CliIo {
  stdout: { write(text: string): unknown; isTTY?: boolean };
  stderr: { write(text: string): unknown };
  env: NodeJS.ProcessEnv;
  /** Read only for --version. */
  version: () => string;
}

/** Failures found before anything reaches Entra: the settings or the federated token's source are wrong. */
const SETUP_ERRORS = new Set(['input', 'oidc-permission', 'token-env', 'token-file', 'assertion-format']);

/** The CLI: returns the exit code instead of exiting, so it can be embedded and tested in-process. */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  // Messages carry outside text (server answers, file names), and the runner reads stderr in a workflow step.
  const err = (line: string): void => {
    io.stderr.write(`${logText(line)}\n`);
  };
  try {
    const args = parseCli(argv, io.env);
    if (args.version) {
      io.stdout.write(`${io.version()}\n`);
      return EXIT.ok;
    }
    if (args.command === 'help' || args.helpFor !== undefined) {
      io.stdout.write(`${HELP[args.helpFor ?? 'help']}\n`);
      return EXIT.ok;
    }
    // Refuse before any request: a token on a terminal ends up in scrollback and screen recordings.
    if (args.command === 'token' && io.stdout.isTTY && !args.force) {
      err(
        'exo-login token: refusing to print a token to a terminal. Pipe it (exo-login token | …) or pass --force.',
      );
      return EXIT.refused;
    }
    if (
      args.command === 'token' &&
      args.format === 'raw' &&
      args.resources.split(',').filter(Boolean).length > 1
    ) {
      err(
        'exo-login token: --format raw prints one token; with several --resource use --format json or env.',
      );
      return EXIT.usage;
    }
    // Worker flags, scripts and directory are checked before anything is sent, like every other setting.
    const runCommand = args.command === 'run' ? await import('./run-command.js') : undefined;
    const run = runCommand?.runSettings(args);
    const secrets: string[] = [];
    const session = createSession(args, io, err, secrets);
    const plan = run && (await runCommand?.planRun(run, session.settings));
    const tokens = await session.mint();
    for (const warning of tokens.warnings) err(`warning: ${warning}`);
    if (args.command === 'token') {
      io.stdout.write(formatTokens(tokens, args));
      return EXIT.ok;
    }
    if (args.command === 'whoami') {
      io.stdout.write(formatWhoami(tokens, session, args));
      return EXIT.ok;
    }
    if (!run || !plan || !runCommand) return EXIT.usage;
    return await runCommand.runScriptsCommand(run, plan, session, io, secrets);
  } catch (error) {
    if (error instanceof ExoLoginError) {
      err(`exo-login: ${error.message}`);
      return SETUP_ERRORS.has(error.code) ? EXIT.usage : EXIT.failure;
    }
    err(`exo-login failed unexpectedly: ${errorMessage(error)}`);
    return EXIT.failure;
  } finally {
    closeIdleConnections();
  }
}

/** `secrets` collects every token and federated token the session handles, for redaction. */
function createSession(
  args: CliArgs,
  io: CliIo,
  err: (line: string) => void,
  secrets: string[],
): ExoLoginSession {
  // Validate with the CLI's own flag names first, so errors name --tenant-id rather than tenantId.
  const raw = {
    tenantId: args.tenantId,
    clientId: args.clientId,
    environment: args.environment,
    organization: args.organization,
    resources: args.resources,
    audience: args.audience,
    authorityHost: args.authorityHost,
  };
  resolveSettings(raw, CLI_FIELD_NAMES);
  // In GitHub Actions, mask on stderr (the runner reads workflow commands there too) so stdout stays pipeable.
  const inActions = io.env['GITHUB_ACTIONS'] === 'true';
  return new ExoLoginSession({
    ...raw,
    assertion: createSource(args.source, io.env, { onRetry: (m) => err(m) }),
    onSecret: (secret) => {
      secrets.push(secret);
      if (inActions) io.stderr.write(`::add-mask::${secret}\n`);
    },
    onRetry: (message) => err(message),
  });
}

export function formatTokens(tokens: ExoTokens, args: CliArgs): string {
  const minted = Object.values(tokens.tokens);
  const first = minted[0];
  if (!first) return '';
  switch (args.format) {
    case 'raw':
      return `${first.token}\n`;
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
