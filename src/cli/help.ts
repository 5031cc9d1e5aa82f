import { ENVIRONMENT_NAMES } from '../core/clouds.js';
import { WORKER_SETTINGS } from '../workers/settings.js';
import type { Command } from './args.js';

const SHARED = `Settings (flags win over the environment):
  --tenant-id ID          tenant GUID or domain                      [AZURE_TENANT_ID]
  --client-id ID          app registration / managed identity GUID   [AZURE_CLIENT_ID]
  --organization DOMAIN   *.onmicrosoft.com domain for -Organization [EXO_ORGANIZATION]
  --environment NAME      ${ENVIRONMENT_NAMES.join(' | ')} (default O365Default) [EXO_ENVIRONMENT]
  --resource KIND         exchange | compliance | graph, repeatable; KIND=https://url overrides (default exchange)
  --audience AUD          federated token audience (default: the cloud's, api://AzureADTokenExchange)
  --authority-host HOST   Entra host[:port]                          [AZURE_AUTHORITY_HOST]
  Requests go through HTTPS_PROXY except to NO_PROXY hosts (Node 24.5 or later).

Federated token source (default --source auto: the first that applies, in this order):
  --token-file PATH       a file holding the token, read on each use
  --token-env NAME        an environment variable holding the token
  GitHub Actions          ACTIONS_ID_TOKEN_REQUEST_URL/_TOKEN (needs permissions: id-token: write)
  AZURE_FEDERATED_TOKEN_FILE   the workload-identity token file (Kubernetes, other CI)
  EXO_FEDERATED_TOKEN     a token in the environment (GitLab id_tokens)
  --source KIND           auto | github | file | env, to choose explicitly (one source flag at most)`;

const EXIT_CODES = `Exit codes:
  0  success
  1  the token request or a worker failed (the message says why and how to fix it)
  2  invalid command line or settings, or no federated token to present; nothing reached Entra
  3  refused to print a token to a terminal (use --force, or pipe it)`;

export const HELP: Record<Command, string> = {
  help: `exo-login: an Exchange Online access token from a federated (OIDC) token, with no stored secret.

Usage:
  exo-login token  [options]            print an access token for piping
  exo-login whoami [options]            print the non-secret claims (tenant, app, roles, expiry)
  exo-login run    [options] SCRIPT...  run scripts in parallel, each connected to Exchange Online
  exo-login help   [COMMAND]            this text, or a command's

${SHARED}

${EXIT_CODES}

Examples:
  export AZURE_TENANT_ID=contoso.onmicrosoft.com AZURE_CLIENT_ID=5f0d7c9a-…
  exo-login whoami
  pwsh -c 'Connect-ExchangeOnline -AccessToken (exo-login token) -Organization contoso.onmicrosoft.com'
  eval "$(exo-login token --format env | sed 's/^/export /')"
  exo-login run --max-parallel 4 'checks/*.ps1'`,
  token: `exo-login token: print an access token on stdout, nothing else.

Usage: exo-login token [--resource KIND]... [--format raw|json|env] [--force] [settings]

  --format raw   the token alone (default; one --resource only)
  --format json  one JSON object: accessToken, expiresOn, resource, tenantId, organization, environment, and
                 tokens (every requested resource)
  --format env   KEY=VALUE lines: EXO_ACCESS_TOKEN, IPPS_ACCESS_TOKEN, GRAPH_ACCESS_TOKEN, EXO_ORGANIZATION,
                 EXO_TENANT_ID, EXO_ENVIRONMENT, EXO_EXPIRES_ON
  --force        print even when stdout is a terminal (refused by default: terminals get recorded)

In GitHub Actions the token is masked (::add-mask:: on stderr) before it is printed.

${SHARED}

${EXIT_CODES}`,
  whoami: `exo-login whoami: mint tokens and print what they say, never the tokens themselves.

Usage: exo-login whoami [--resource KIND]... [--format raw|json] [settings]

Prints the federated token's issuer, subject and audience (what the Entra federated credential must match),
then per resource the tenant, app, roles (Exchange.ManageAsApp is needed) and expiry.

${SHARED}

${EXIT_CODES}`,
  run: `exo-login run: run scripts in parallel, each connected to Exchange Online.

Usage: exo-login run [options] SCRIPT_OR_GLOB...

  --max-parallel N        workers at once, ${WORKER_SETTINGS.maxParallel.min}–${WORKER_SETTINGS.maxParallel.max} (default ${WORKER_SETTINGS.maxParallel.default})
  --timeout-minutes M     per worker, decimals allowed (default ${WORKER_SETTINGS.timeoutMinutes.default})
  --fail-fast             stop after the first failure
  --no-reuse-sessions     one pwsh (and one connect) per .ps1 instead of max-parallel reused sessions
  --shard i/n             run only this share of the matched scripts
  --working-directory DIR globs are relative to it; workers start in it
  --module-version V      ExchangeOnlineManagement RequiredVersion

.ps1 scripts run one after another in up to --max-parallel pwsh sessions, each connected once with
Connect-ExchangeOnline -AccessToken (and Connect-IPPSSession with --resource compliance), reset between scripts
and disconnected at the end; with --no-reuse-sessions each runs as pwsh -NoLogo -NoProfile -NonInteractive -File
<wrapper>, connecting and disconnecting itself. .sh, .js, .mjs and .py run with their interpreter and the EXO_*
variables.

${SHARED}

${EXIT_CODES}`,
};
