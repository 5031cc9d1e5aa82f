import type { TransportError } from './errors.js';

/**
 * The one table of failures a user can hit and their fixes. Runtime errors quote it; TROUBLESHOOTING.md and
 * the README's index of links to it are generated from it (npm run docs).
 */
export interface Trouble {
  /** Anchor and stable id. */
  id: string;
  title: string;
  /** What the user sees, or what it means. */
  cause: string;
  /** What to do, imperative. Plain text: it is printed in logs as well as rendered as markdown. */
  fix: string;
}

const FEDERATED_FIX =
  'Add a federated credential to the app registration (Certificates & secrets > Federated credentials > GitHub Actions deploying Azure resources, or `az ad app federated-credential create`) whose issuer, subject and audience equal the values GitHub presented, exactly and case-sensitively. Subjects look like repo:OWNER/REPO:ref:refs/heads/main, repo:OWNER/REPO:environment:NAME or repo:OWNER/REPO:pull_request; repositories created or renamed after 2026-07-15 present immutable subjects such as repo:OWNER@ID/REPO@ID:…. A new credential can take a minute to propagate.';

export const TROUBLES = {
  invalidInput: {
    id: 'invalid-input',
    title: 'An input is invalid',
    cause:
      'The message names the input and the forms it accepts. Every input is checked before any request, so nothing was sent.',
    fix: 'Correct that `with:` value (or library option, or CLI option) to one of the accepted forms.',
  },
  idTokenPermission: {
    id: 'id-token-permission',
    title: 'No GitHub OIDC token (missing `id-token: write`)',
    cause:
      'ACTIONS_ID_TOKEN_REQUEST_URL / ACTIONS_ID_TOKEN_REQUEST_TOKEN are not set, so the job cannot ask GitHub for an ID token.',
    fix: "Give the job `permissions: id-token: write` (and `contents: read` if it checks out code). A job-level `permissions:` block replaces the workflow-level one, so add it where the job's permissions are set. Pull requests from forks never get an ID token; run such jobs on `pull_request_target` only with care, or skip them.",
  },
  idTokenRequest: {
    id: 'id-token-request',
    title: 'GitHub refused the ID token request',
    cause:
      'The OIDC token service answered 4xx: it did not accept the request token (401, 403) or does not know the URL (404). Retrying gets the same answer, so exo-login does not.',
    fix: 'Re-run the job: the request token (ACTIONS_ID_TOKEN_REQUEST_TOKEN) is only valid while its job runs and cannot be reused by another job. Do not override ACTIONS_ID_TOKEN_REQUEST_URL or ACTIONS_ID_TOKEN_REQUEST_TOKEN in `env:`, and keep the `audience` input a plain string. If it persists, check https://www.githubstatus.com.',
  },
  federatedCredential: {
    id: 'federated-credential',
    title: 'No matching federated credential (AADSTS70021, AADSTS700211–700213, AADSTS7002138)',
    cause:
      'Entra found no federated identity credential on the app whose issuer, subject and audience match the GitHub ID token. AADSTS700211 names the issuer, AADSTS700212 the audience, AADSTS700213 the subject, AADSTS7002138 a subject that differs only in case; older tenants answer AADSTS70021 with all three. The error message ends with the `az ad app federated-credential create` command that adds the missing credential, quoted for bash (PowerShell would mangle its JSON).',
    fix: FEDERATED_FIX,
  },
  applicationNotFound: {
    id: 'application-not-found',
    title: 'Application not found in the tenant (AADSTS700016)',
    cause: 'No app with this client ID exists in the tenant Entra was asked about.',
    fix: "Check `client-id` (the Application (client) ID on the app's Overview page, not the object ID or a secret ID), `tenant-id`, and `environment`: a GCC High or 21Vianet app only exists in its own cloud.",
  },
  tenantNotFound: {
    id: 'tenant-not-found',
    title: 'Tenant not found (AADSTS90002)',
    cause: 'Entra does not know this tenant ID or domain in this cloud.',
    fix: 'Check `tenant-id` (Directory (tenant) ID GUID or the *.onmicrosoft.com domain) and `environment`: a GCC High tenant is not in the public cloud (use O365USGovGCCHigh); a 21Vianet tenant needs O365China.',
  },
  resourceNotFound: {
    id: 'resource-not-found',
    title: 'Resource not found in the tenant (AADSTS500011)',
    cause:
      'The requested service (Exchange Online, Security & Compliance or Graph) has no service principal in the tenant.',
    fix: 'Check `environment` (each cloud has its own resource URLs) and that the tenant has Exchange Online. For a cloud whose URL differs, override it with `resources: exchange=https://…`.',
  },
  assertionLifetime: {
    id: 'assertion-lifetime',
    title: 'Client assertion outside its valid time range (AADSTS700024)',
    cause: 'The GitHub ID token had expired (it lives about five minutes) or the clocks disagree.',
    fix: 'Re-run: exo-login fetches a fresh ID token whenever the cached one has under a minute left, so this points at clock skew on a self-hosted runner (sync it with NTP) or a token passed in from elsewhere.',
  },
  invalidClient: {
    id: 'invalid-client',
    title: 'Entra rejected the client',
    cause:
      'Entra answered invalid_client or unauthorized_client for another reason (disabled app, assertion not accepted).',
    fix: 'Read the AADSTS code in the message and look it up at https://login.microsoftonline.com/error?code=NNNN. Check that the app is enabled and that the federated credential belongs to this app (or this user-assigned managed identity).',
  },
  throttled: {
    id: 'throttled',
    title: 'Throttled or server error (HTTP 429, 5xx, AADSTS50196)',
    cause:
      'Entra or GitHub asked us to slow down or failed on its side. exo-login retries with backoff and honours Retry-After.',
    fix: 'If retries ran out, re-run later. Many parallel jobs against one tenant can be throttled: lower the matrix `max-parallel`.',
  },
  network: {
    id: 'network',
    title: 'Network failure (reset, timeout, DNS)',
    cause:
      'The request never got an HTTP answer. Resets, timeouts, DNS failures (ENOTFOUND, EAI_AGAIN) and failed TLS handshakes (EPROTO) are retried, since they can pass; the message names the cause of the last one. A URL or server that does not speak HTTPS fails at once, as retrying cannot fix it.',
    fix: "Check that the runner reaches the host the message names, and the setting that chose it (for Entra, `authority-host`; for GitHub's OIDC service, ACTIONS_ID_TOKEN_REQUEST_URL, which the runner sets and a workflow should not override). Behind a proxy, set HTTPS_PROXY (and NO_PROXY for hosts the runner reaches directly) in the job's `env:`; exo-login honours them on Node 24.5 or later, the action's runtime (the CLI and library on older Node connect directly).",
  },
  certificate: {
    id: 'certificate',
    title: 'TLS certificate not trusted (self-signed, unknown CA, expired)',
    cause:
      'Node refused the certificate the GitHub OIDC or Entra host presented (SELF_SIGNED_CERT_IN_CHAIN, UNABLE_TO_GET_ISSUER_CERT_LOCALLY, UNABLE_TO_VERIFY_LEAF_SIGNATURE, CERT_HAS_EXPIRED, …). Usually a TLS-inspecting proxy or firewall re-signs traffic with a company CA that Node does not know. A retry gets the same certificate, so exo-login does not retry.',
    fix: "Save that CA's certificate (PEM) on the runner and set NODE_EXTRA_CA_CERTS to its path in the job's (or step's) `env:`. Node reads it only at start-up, and a JavaScript action's node gets the environment of its step, so an `export` in an earlier `run:` step has no effect (writing it to $GITHUB_ENV does). Do not set NODE_TLS_REJECT_UNAUTHORIZED=0. For an expired certificate, check the runner's clock.",
  },
  wrongHost: {
    id: 'wrong-host',
    title: 'TLS certificate for another host (ERR_TLS_CERT_ALTNAME_INVALID)',
    cause:
      'The host answered with a valid certificate issued for a different name: the request went to the wrong host (a mistyped `authority-host`, an overridden ACTIONS_ID_TOKEN_REQUEST_URL, a DNS entry or proxy that sends the name elsewhere). Trusting another CA would not help, and retrying gets the same certificate.',
    fix: "Correct the host: `authority-host` for Entra (leave it empty for the cloud's own), ACTIONS_ID_TOKEN_REQUEST_URL for GitHub (never override it). If the name is right, check what DNS and NO_PROXY / HTTPS_PROXY make of it on the runner.",
  },
  proxyRefused: {
    id: 'proxy-refused',
    title: 'The proxy refused the tunnel (HTTPS_PROXY answered 407 or 403)',
    cause:
      'HTTPS_PROXY (or https_proxy) is set, and the proxy answered the CONNECT for the GitHub or Entra host with an error instead of opening a tunnel. Retrying would get the same answer, so exo-login does not.',
    fix: "For 407, put the credentials in the proxy URL: `http://USER:PASSWORD@proxy.example:3128`, percent-encoding special characters, from a secret so the runner masks it (exo-login also keeps it out of its messages). For 403, have the proxy allow your cloud's Entra host (listed in the README's clouds table) and the GitHub OIDC host (the host of ACTIONS_ID_TOKEN_REQUEST_URL), or list hosts the runner reaches directly in NO_PROXY.",
  },
  missingRole: {
    id: 'missing-exchange-manage-as-app',
    title: 'Token has no Exchange.ManageAsApp role',
    cause:
      'The access token carries no `Exchange.ManageAsApp` in its roles claim, so Connect-ExchangeOnline will fail with an authorization error.',
    fix: 'In the app registration: API permissions > Add a permission > APIs my organization uses > Office 365 Exchange Online (00000002-0000-0ff1-ce00-000000000000) > Application permissions > Exchange.ManageAsApp, then Grant admin consent. Also assign the service principal an Entra role such as Exchange Administrator (or Global Reader for read-only audits).',
  },
  exchangeRoleMissing: {
    id: 'exchange-403',
    title: 'Connect-ExchangeOnline fails with 403 although the token looks right',
    cause: 'The app has Exchange.ManageAsApp but its service principal holds no Entra role.',
    fix: 'Assign the service principal an Entra role (Exchange Administrator, Compliance Administrator, or Global Reader for read-only audits) in Entra ID > Roles and administrators. Role assignments can take up to an hour to apply.',
  },
  exchangeUnauthorized: {
    id: 'exchange-401',
    title: 'The Exchange admin API answers 401 (exo-login invoke, the library client)',
    cause:
      'The admin API refused the token even after one fresh one: its audience is not the resource of the host called (an Exchange token sent to Security & Compliance, a Graph token, a `resources` override that names another URL), it is for another tenant, or it has no Exchange.ManageAsApp role.',
    fix: 'Request the token for the endpoint you call (`resources: exchange`, or `compliance` for Security & Compliance cmdlets; an `exchange=https://…` override moves the API host too), for the tenant in `tenant-id`, and grant Exchange.ManageAsApp with admin consent (see the quick start).',
  },
  tokenAcrossJobs: {
    id: 'token-across-jobs',
    title: 'The token output is empty in another job',
    cause:
      'The runner drops job outputs that contain a masked value ("Skip output … since it may contain secret").',
    fix: 'Run exo-login in every job that needs a token (each matrix job mints its own, in about a tenth of a second), or run the work inside the same job with `scripts` / `run`.',
  },
} as const satisfies Record<string, Trouble>;

export type TroubleKey = keyof typeof TROUBLES;

/** "Fix: …  See TROUBLESHOOTING.md#id" suffix for a runtime message. */
export function fixFor(key: TroubleKey): string {
  const trouble: Trouble = TROUBLES[key];
  return `Fix: ${trouble.fix} (See TROUBLESHOOTING.md#${trouble.id}.)`;
}

/** One paragraph for a request that got no HTTP answer: which endpoint, the actual cause, and the fix. */
export function explainTransport(error: TransportError): string {
  return `Cannot reach ${error.endpoint.name} at ${error.host}: ${error.message}. ${fixForTransport(error)}`;
}

/** What went wrong and the fix, for a request that got no HTTP answer; names the host when that is the problem. */
export function fixForTransport(error: TransportError): string {
  const { host, errno, endpoint } = error;
  switch (error.diagnosis) {
    case 'proxy-refused':
      return fixFor('proxyRefused');
    case 'certificate':
      return `The TLS certificate of ${host} is not trusted (${errno}). ${fixFor('certificate')}`;
    case 'wrong-host':
      return `The TLS certificate of ${host} is for another host name (${errno}): this is the wrong host for ${endpoint.name}; check ${endpoint.configuredBy}. ${fixFor('wrongHost')}`;
    case 'no-such-host': {
      const target = host.replace(/:\d+$/, '');
      const name = error.lookupHost ?? target;
      const check = name === target ? endpoint.configuredBy : 'the proxy in HTTPS_PROXY';
      return `No such host: DNS does not know ${name}; check ${check}. ${fixFor('network')}`;
    }
    case 'not-https':
      return `${host} must be reached over HTTPS (an https:// URL, a port that speaks TLS); check ${endpoint.configuredBy}. ${fixFor('network')}`;
    case 'too-large':
      return `No answer of ${endpoint.name} is that long: something else answered at ${host}; check ${endpoint.configuredBy} and any proxy in between. ${fixFor('network')}`;
    case 'tls':
      return `The TLS handshake with ${host} failed (${errno}): a TLS-inspecting proxy or firewall in between, or no protocol version or cipher both sides accept. ${fixFor('network')}`;
    case undefined:
      return `Check that the runner reaches ${host}, which ${endpoint.configuredBy} names for ${endpoint.name}. ${fixFor('network')}`;
  }
}
