import { readFile } from 'node:fs/promises';
import { ExoLoginError, HttpStatusError, errorMessage } from './errors.js';
import { ENDPOINTS, httpsSend, redactUrl, type HttpSend } from './http.js';
import { expiryOf, decodeJwtClaims } from './jwt.js';
import {
  isTransientStatus,
  retryAfterVerdict,
  timeoutWithin,
  withRetry,
  type RetryClock,
  type RetryPolicy,
  type Verdict,
} from './retry.js';
import { TransportError } from './errors.js';
import { TROUBLES, explainTransport, fixFor } from './troubleshooting.js';
import { oneLine, quoted } from './names.js';

/**
 * Where the federated token (the client assertion) comes from. GitHub Actions mints one per audience;
 * the others hand us a token minted elsewhere (Kubernetes workload identity, GitLab id_tokens, a callback).
 */
export interface FederatedTokenSource {
  /** Human-readable origin for messages, e.g. "GitHub Actions OIDC". */
  readonly description: string;
  getToken(audience: string): Promise<string>;
}

export interface SourceDeps {
  send?: HttpSend;
  clock?: RetryClock;
  policy?: RetryPolicy;
  onRetry?: (message: string) => void;
  timeoutMs?: number;
}

export const ACTIONS_ID_TOKEN_REQUEST_URL = 'ACTIONS_ID_TOKEN_REQUEST_URL';
export const ACTIONS_ID_TOKEN_REQUEST_TOKEN = 'ACTIONS_ID_TOKEN_REQUEST_TOKEN';

/** True when the GitHub runner gave this job the means to mint ID tokens. */
export function hasGitHubOidc(env: NodeJS.ProcessEnv): boolean {
  return Boolean(env[ACTIONS_ID_TOKEN_REQUEST_URL]) && Boolean(env[ACTIONS_ID_TOKEN_REQUEST_TOKEN]);
}

export function gitHubActionsSource(env: NodeJS.ProcessEnv, deps: SourceDeps = {}): FederatedTokenSource {
  const requestUrl = env[ACTIONS_ID_TOKEN_REQUEST_URL];
  const requestToken = env[ACTIONS_ID_TOKEN_REQUEST_TOKEN];
  if (!requestUrl || !requestToken) {
    throw new ExoLoginError(
      `GitHub did not give this job an OIDC token: ${TROUBLES.idTokenPermission.cause} ${fixFor('idTokenPermission')}`,
      'oidc-permission',
    );
  }
  const base = oidcRequestUrl(requestUrl);
  const send = deps.send ?? httpsSend;
  const now = (): number => (deps.clock ?? { now: Date.now }).now();
  return {
    description: 'GitHub Actions OIDC',
    async getToken(audience) {
      const url = new URL(base);
      url.searchParams.set('audience', audience);
      const response = await withRetry(
        async (_attempt, { deadline }) => {
          const res = await send({
            endpoint: ENDPOINTS.oidc,
            method: 'GET',
            url: url.toString(),
            headers: {
              authorization: `Bearer ${requestToken}`,
              accept: 'application/json',
              'user-agent': 'exo-login',
            },
            timeoutMs: timeoutWithin(deps.timeoutMs ?? 10_000, deadline, now()),
          });
          if (res.status < 200 || res.status > 299)
            throw new HttpStatusError(redactUrl(url), res.status, res.headers, res.body);
          return res;
        },
        (error) => classifyHttpFailure(error, now()),
        {
          ...(deps.policy && { policy: deps.policy }),
          ...(deps.clock && { clock: deps.clock }),
          onRetry: ({ attempt, delayMs, error }) =>
            deps.onRetry?.(
              `ID token request to GitHub's OIDC service: attempt ${attempt} failed (${errorMessage(error)}); retrying in ${delayMs} ms`,
            ),
        },
      ).catch((error: unknown) => {
        throw explainOidcFailure(error);
      });
      let value: unknown;
      try {
        value = (JSON.parse(response.body) as { value?: unknown }).value;
      } catch {
        value = undefined;
      }
      if (typeof value !== 'string' || value.split('.').length !== 3) {
        throw new ExoLoginError(
          "GitHub's OIDC service answered without a JWT in `value`. Re-run the job.",
          'oidc-response',
        );
      }
      return value;
    },
  };
}

/**
 * The runner's OIDC request URL, which carries a bearer token: only https:// is accepted. The runner always
 * gives one (github.com and GHES alike); a plain-http or unreadable value means a workflow overrode it.
 */
export function oidcRequestUrl(value: string): URL {
  let url: URL | undefined;
  try {
    url = new URL(value);
  } catch {
    url = undefined;
  }
  if (url?.protocol !== 'https:' || url.username !== '' || url.password !== '') {
    throw new ExoLoginError(
      `${ACTIONS_ID_TOKEN_REQUEST_URL} is ${url === undefined ? quoted(value) : quoted(redactUrl(url))}, not an https:// URL: the request to GitHub's OIDC service carries a bearer token, so exo-login sends it over HTTPS only. The runner sets this variable; remove any \`env:\` entry that overrides it.`,
      'oidc-url',
    );
  }
  return url;
}

export function classifyHttpFailure(error: unknown, now: number): Verdict {
  if (error instanceof TransportError) return error.transient ? { transient: true } : { transient: false };
  if (error instanceof HttpStatusError && isTransientStatus(error.status)) {
    return retryAfterVerdict(error.headers, now);
  }
  return { transient: false };
}

function explainOidcFailure(error: unknown): Error {
  if (error instanceof HttpStatusError) {
    if (isTransientStatus(error.status)) {
      return new ExoLoginError(
        `GitHub's OIDC service answered HTTP ${error.status} to the ID token request, retries included. ${fixFor('throttled')}`,
        'oidc-request',
        { cause: error },
      );
    }
    const said = gitHubMessage(error.body);
    return new ExoLoginError(
      `GitHub refused the ID token request (HTTP ${error.status}${said === undefined ? '' : `: ${said}`}). ${TROUBLES.idTokenRequest.cause} ${fixFor('idTokenRequest')}`,
      'oidc-request',
      { cause: error },
    );
  }
  if (error instanceof TransportError) {
    return new ExoLoginError(explainTransport(error), 'oidc-network', { cause: error });
  }
  return error instanceof Error ? error : new Error(String(error));
}

/** GitHub's one-line reason from an error body (`{"message": "…"}`), kept short; undefined for anything else. */
function gitHubMessage(body: string): string | undefined {
  try {
    const message = (JSON.parse(body) as { message?: unknown } | null)?.message;
    if (typeof message !== 'string' || message.trim() === '') return undefined;
    const line = message.trim().split(/\r?\n/)[0] ?? '';
    return oneLine(line.length > 200 ? `${line.slice(0, 200)}…` : line);
  } catch {
    return undefined;
  }
}

/** A token file that a platform keeps fresh (AZURE_FEDERATED_TOKEN_FILE): read on each use. */
export function tokenFileSource(path: string, variable = 'AZURE_FEDERATED_TOKEN_FILE'): FederatedTokenSource {
  return {
    description: `token file ${path}`,
    async getToken() {
      let text: string;
      try {
        text = await readFile(path, 'utf8');
      } catch (error) {
        throw new ExoLoginError(
          `Cannot read the federated token file ${quoted(path)} (${(error as NodeJS.ErrnoException).code ?? errorMessage(error)}). Check ${variable} and that the file is mounted and readable.`,
          'token-file',
        );
      }
      return requireJwt(text.trim(), `the token file ${quoted(path)}`);
    },
  };
}

/** A token in an environment variable (GitLab `id_tokens`, Azure Pipelines, …). Read on each use. */
export function envVarSource(name: string, env: NodeJS.ProcessEnv): FederatedTokenSource {
  return {
    description: `environment variable ${name}`,
    async getToken() {
      const value = env[name]?.trim();
      if (!value) {
        throw new ExoLoginError(
          `The environment variable ${name} that should hold the federated token is empty or unset.`,
          'token-env',
        );
      }
      return requireJwt(value, `the environment variable ${name}`);
    },
  };
}

export function callbackSource(
  callback: (audience: string) => Promise<string> | string,
): FederatedTokenSource {
  return {
    description: 'callback',
    async getToken(audience) {
      return requireJwt((await callback(audience)).trim(), 'the assertion callback');
    },
  };
}

function requireJwt(value: string, where: string): string {
  if (value.split('.').length !== 3 || decodeJwtClaims(value) === undefined) {
    throw new ExoLoginError(
      `${where[0]?.toUpperCase() ?? ''}${where.slice(1)} does not hold a JWT (expected three base64url parts).`,
      'assertion-format',
    );
  }
  return value;
}

/**
 * Shares one federated token among concurrent callers and fetches again when it has under `refreshMarginMs`
 * left, so several resources cost one OIDC request and a late retry still presents a live assertion.
 */
export class CachedAssertion {
  private current: { token: string; expiresAt: number } | undefined;
  private inFlight: Promise<string> | undefined;
  /** How many tokens were fetched from the source (for diagnostics and tests). */
  fetches = 0;

  constructor(
    private readonly source: FederatedTokenSource,
    private readonly audience: string,
    private readonly onToken: (token: string) => void = () => undefined,
    private readonly now: () => number = Date.now,
    private readonly refreshMarginMs = 60_000,
  ) {}

  get description(): string {
    return this.source.description;
  }

  /** The last token obtained, for diagnostics (its claims are not secret; the token is). */
  get lastToken(): string | undefined {
    return this.current?.token;
  }

  /** Forget the cached token, so the next get() fetches a fresh one. */
  discard(): void {
    this.current = undefined;
  }

  get(): Promise<string> {
    if (this.current && this.current.expiresAt - this.now() > this.refreshMarginMs) {
      return Promise.resolve(this.current.token);
    }
    this.inFlight ??= this.source
      .getToken(this.audience)
      .then((token) => {
        this.fetches++;
        this.onToken(token);
        // A token without exp is used once and fetched again next time.
        this.current = { token, expiresAt: expiryOf(decodeJwtClaims(token))?.getTime() ?? 0 };
        return token;
      })
      .finally(() => {
        this.inFlight = undefined;
      });
    return this.inFlight;
  }
}
