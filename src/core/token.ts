import type { INetworkModule, NetworkResponse } from '@azure/msal-node';
import { CachedAssertion, classifyHttpFailure, type FederatedTokenSource } from './assertion.js';
import { EXCHANGE_MANAGE_AS_APP_ROLE, type EnvironmentName, type ResourceKind } from './clouds.js';
import { entraCode, explainEntraError, parseEntraError, TRANSIENT_ENTRA_CODES } from './entra-errors.js';
import { ExoLoginError, HttpStatusError, TransportError, errorMessage } from './errors.js';
import { httpsSend, requestsSent, type HttpResponse, type HttpSend } from './http.js';
import { audienceClaim, decodeJwtClaims, expiryOf, rolesClaim, stringClaim } from './jwt.js';
import {
  retryAfterVerdict,
  timeoutWithin,
  withRetry,
  type RetryClock,
  type RetryPolicy,
  type Verdict,
} from './retry.js';
import { TROUBLES, fixFor, fixForTransport } from './troubleshooting.js';
import {
  parseAudience,
  parseAuthorityHost,
  parseClientId,
  parseEnvironment,
  parseOrganization,
  organizationWarning,
  parseResources,
  parseTenantId,
  type ResourceRequest,
} from './validate.js';

type Msal = typeof import('@azure/msal-node');
let msalModule: Promise<Msal> | undefined;
const loadMsal = (): Promise<Msal> => (msalModule ??= import('@azure/msal-node'));

/** Claims of an access token that are safe to print. */
export interface TokenClaims {
  tenantId: string | undefined;
  appId: string | undefined;
  objectId: string | undefined;
  audience: string | undefined;
  roles: string[];
}

export interface AccessToken {
  kind: ResourceKind;
  resource: string;
  /** Secret. */
  token: string;
  expiresOn: Date;
  claims: TokenClaims;
}

export interface ExoTokens {
  environment: EnvironmentName;
  /** Tenant GUID from the token's `tid` (falls back to the configured tenant). */
  tenantId: string;
  organization: string | undefined;
  tokens: Partial<Record<ResourceKind, AccessToken>>;
  /** Earliest expiry among the tokens. */
  expiresOn: Date;
  /** Problems that do not stop the token from being issued, e.g. a missing Exchange.ManageAsApp role. */
  warnings: string[];
}

export interface ExoLoginOptions {
  tenantId: string;
  clientId: string;
  /** Connect-ExchangeOnline -ExchangeEnvironmentName value; default O365Default. */
  environment?: string;
  /** Kinds, `kind=https://url` overrides, or a comma/newline-separated string; default exchange. */
  resources?: readonly string[] | string;
  organization?: string;
  /** Source of the federated token presented to Entra. */
  assertion: FederatedTokenSource;
  /** Audience of the federated token; default: the cloud's recommended value. */
  audience?: string;
  /** Entra host[:port]; default: the cloud's. */
  authorityHost?: string;
  /** Called with every secret (federated token, access tokens) as soon as it exists, before anything can print it. */
  onSecret?: (secret: string) => void;
  /** Called with a one-line message before each retry. */
  onRetry?: (message: string) => void;
  /** Per-request timeout. */
  timeoutMs?: number;
  retryPolicy?: RetryPolicy;
  clock?: RetryClock;
  /** HTTPS transport; injectable for embedding, defaults to node:https. */
  send?: HttpSend;
}

export interface ResolvedSettings {
  tenantId: string;
  clientId: string;
  environment: EnvironmentName;
  organization: string | undefined;
  resources: ResourceRequest[];
  audience: string;
  authorityHost: string;
}

/** Field names as the library's callers know them; front ends validate with their own names first. */
export const LIBRARY_FIELD_NAMES = {
  tenantId: 'tenantId',
  clientId: 'clientId',
  environment: 'environment',
  organization: 'organization',
  resources: 'resources',
  audience: 'audience',
  authorityHost: 'authorityHost',
} as const;

export type FieldNames = Readonly<Record<keyof typeof LIBRARY_FIELD_NAMES, string>>;

/** Validates every setting before any request; errors name the setting as `names` spells it. */
export function resolveSettings(
  raw: {
    tenantId: string;
    clientId: string;
    environment?: string | undefined;
    organization?: string | undefined;
    resources?: readonly string[] | string | undefined;
    audience?: string | undefined;
    authorityHost?: string | undefined;
  },
  names: FieldNames = LIBRARY_FIELD_NAMES,
): ResolvedSettings {
  const tenantId = parseTenantId(raw.tenantId, names.tenantId);
  const clientId = parseClientId(raw.clientId, names.clientId);
  const environment = parseEnvironment(raw.environment ?? '', names.environment);
  const resourceText = Array.isArray(raw.resources)
    ? raw.resources.join(',')
    : ((raw.resources as string | undefined) ?? '');
  return {
    tenantId,
    clientId,
    environment,
    organization: parseOrganization(raw.organization ?? '', tenantId, names.organization),
    resources: parseResources(resourceText, environment, names.resources),
    audience: parseAudience(raw.audience ?? '', environment, names.audience),
    authorityHost: parseAuthorityHost(
      raw.authorityHost ?? '',
      environment,
      names.authorityHost,
      names.environment,
    ),
  };
}

/** Endpoint metadata handed to MSAL so it never fetches discovery documents. */
export function authorityMetadata(host: string, tenant: string): string {
  const base = `https://${host}/${tenant}`;
  return JSON.stringify({
    token_endpoint: `${base}/oauth2/v2.0/token`,
    issuer: `${base}/v2.0`,
    authorization_endpoint: `${base}/oauth2/v2.0/authorize`,
    end_session_endpoint: `${base}/oauth2/v2.0/logout`,
    jwks_uri: `${base}/discovery/v2.0/keys`,
  });
}

export function claimsOf(token: string): TokenClaims {
  const claims = decodeJwtClaims(token);
  return {
    tenantId: stringClaim(claims, 'tid'),
    appId: stringClaim(claims, 'appid') ?? stringClaim(claims, 'azp'),
    objectId: stringClaim(claims, 'oid'),
    audience: audienceClaim(claims),
    roles: rolesClaim(claims),
  };
}

/**
 * One tenant/app/cloud: mints Exchange Online (and optional Security & Compliance / Graph) tokens, and mints
 * again when a caller needs tokens valid for longer than the current ones (long-running workers).
 */
export class ExoLoginSession {
  readonly settings: ResolvedSettings;
  private readonly assertion: CachedAssertion;
  private current: ExoTokens | undefined;
  private minting: Promise<ExoTokens> | undefined;

  constructor(private readonly options: ExoLoginOptions) {
    this.settings = resolveSettings({
      tenantId: options.tenantId,
      clientId: options.clientId,
      environment: options.environment,
      organization: options.organization,
      resources: options.resources,
      audience: options.audience,
      authorityHost: options.authorityHost,
    });
    const onSecret = options.onSecret ?? (() => undefined);
    this.assertion = new CachedAssertion(options.assertion, this.settings.audience, onSecret, () =>
      this.now(),
    );
  }

  private now(): number {
    return (this.options.clock ?? { now: Date.now }).now();
  }

  /** Federated tokens fetched so far: one per mint, and more when a retry found the cached one near expiry. */
  get assertionFetches(): number {
    return this.assertion.fetches;
  }

  /** Where the federated token comes from, e.g. "token file /var/run/…": not secret. */
  get sourceDescription(): string {
    return this.assertion.description;
  }

  /** Claims of the last federated token (issuer, subject, audience): not secret, useful in logs. */
  presentedClaims(): { issuer?: string; subject?: string; audience?: string } {
    const claims =
      this.assertion.lastToken === undefined ? undefined : decodeJwtClaims(this.assertion.lastToken);
    const issuer = stringClaim(claims, 'iss');
    const subject = stringClaim(claims, 'sub');
    const audience = audienceClaim(claims);
    return { ...(issuer && { issuer }), ...(subject && { subject }), ...(audience && { audience }) };
  }

  /** Mints a new set of tokens now: one Entra request per resource, concurrently, sharing one federated token. */
  mint(): Promise<ExoTokens> {
    this.minting ??= this.mintAll()
      .then((tokens) => {
        this.current = tokens;
        return tokens;
      })
      .finally(() => {
        this.minting = undefined;
      });
    return this.minting;
  }

  /** Current tokens if they stay valid until `minValidUntil`, else freshly minted ones. */
  async tokensValidUntil(minValidUntil: Date): Promise<ExoTokens> {
    if (this.current && this.current.expiresOn.getTime() > minValidUntil.getTime()) return this.current;
    // A re-mint starts from a fresh federated token (a new assertion), not one cached from the first mint.
    if (this.current && !this.minting) this.assertion.discard();
    const fresh = await this.mint();
    if (fresh.expiresOn.getTime() <= minValidUntil.getTime()) {
      throw new ExoLoginError(
        `Entra issues tokens valid until ${fresh.expiresOn.toISOString()}, before the ${minValidUntil.toISOString()} a worker needs: lower timeout-minutes below the token lifetime (typically 60–90 minutes).`,
        'token-lifetime',
      );
    }
    return fresh;
  }

  private async mintAll(): Promise<ExoTokens> {
    const { settings } = this;
    // Ask for the federated token first and load MSAL (most of the code to compile) once that request is on
    // the wire, so compiling overlaps the wait for GitHub's answer. The callback below reuses the token.
    const assertion = this.assertion.get();
    const [msal] = await Promise.all([requestsSent().then(loadMsal), assertion]);
    // Once one resource fails the mint fails: stop the others' retries, whose timers would keep the process alive.
    const giveUp = new AbortController();
    const minted = await Promise.all(
      settings.resources.map((request) =>
        this.mintOne(msal, request, giveUp.signal).catch((error: unknown) => {
          giveUp.abort();
          throw error;
        }),
      ),
    );
    const tokens: Partial<Record<ResourceKind, AccessToken>> = {};
    const warnings: string[] = [];
    for (const token of minted) {
      tokens[token.kind] = token;
      if (token.kind !== 'graph' && !token.claims.roles.includes(EXCHANGE_MANAGE_AS_APP_ROLE)) {
        warnings.push(
          `The ${token.kind} token for ${token.resource} has no ${EXCHANGE_MANAGE_AS_APP_ROLE} role (roles: ${token.claims.roles.join(', ') || 'none'}): ${TROUBLES.missingRole.cause} ${fixFor('missingRole')}`,
        );
      }
    }
    const organizationNote = organizationWarning(
      settings.organization,
      (this.options.organization ?? '').trim() !== '',
      settings.environment,
    );
    if (organizationNote !== undefined) warnings.push(organizationNote);
    const expiresOn = new Date(Math.min(...minted.map((t) => t.expiresOn.getTime())));
    return {
      environment: settings.environment,
      tenantId: minted[0]?.claims.tenantId ?? settings.tenantId,
      organization: settings.organization,
      tokens,
      expiresOn,
      warnings,
    };
  }

  private async mintOne(msal: Msal, request: ResourceRequest, signal: AbortSignal): Promise<AccessToken> {
    const { settings, options } = this;
    const send = options.send ?? httpsSend;
    const authority = `https://${settings.authorityHost}/${settings.tenantId}`;
    let last: { response?: HttpResponse; transport?: TransportError } = {};
    // The current attempt's end of budget; MSAL's requests go through networkClient, which reads it when sending.
    let deadline = Infinity;
    const limits = (): { timeoutMs: number; signal: AbortSignal } => ({
      timeoutMs: timeoutWithin(options.timeoutMs ?? 15_000, deadline, this.now()),
      signal,
    });

    // MSAL's network hook: we keep the raw response so failures can be classified and explained with Entra's body.
    const networkClient: INetworkModule = {
      sendGetRequestAsync: <T>(url: string, opts?: { headers?: Record<string, string> }) =>
        this.exchange<T>(
          send,
          { method: 'GET', url, ...(opts?.headers && { headers: opts.headers }), ...limits() },
          (r) => (last = r),
        ),
      sendPostRequestAsync: <T>(url: string, opts?: { headers?: Record<string, string>; body?: string }) =>
        this.exchange<T>(
          send,
          {
            method: 'POST',
            url,
            ...(opts?.headers && { headers: opts.headers }),
            ...(opts?.body !== undefined && { body: opts.body }),
            ...limits(),
          },
          (r) => (last = r),
        ),
    };

    const classify = (): Verdict => {
      if (last.transport) return last.transport.transient ? { transient: true } : { transient: false };
      if (last.response) {
        const { status, headers, body } = last.response;
        if (status >= 200 && status < 300) return { transient: false };
        const entra = parseEntraError(body);
        const code = entra && entraCode(entra);
        // A 400 that means "later" (AADSTS50196): honour Retry-After as for 429/5xx.
        if (code !== undefined && TRANSIENT_ENTRA_CODES.has(code))
          return retryAfterVerdict(headers, this.now());
        return classifyHttpFailure(new HttpStatusError(request.resource, status, headers, body), this.now());
      }
      return { transient: false };
    };

    const result = await withRetry(
      async (_attempt, context) => {
        last = {};
        deadline = context.deadline;
        // A fresh MSAL instance per attempt: MSAL caches a throttle entry after 429/5xx and would fail the
        // retry without sending it. The assertion callback runs per attempt, so an aged ID token is replaced.
        const app = new msal.ConfidentialClientApplication({
          auth: {
            clientId: settings.clientId,
            authority,
            clientAssertion: () => this.assertion.get(),
            knownAuthorities: [settings.authorityHost],
            authorityMetadata: authorityMetadata(settings.authorityHost, settings.tenantId),
          },
          system: {
            networkClient,
            loggerOptions: {
              logLevel: msal.LogLevel.Error,
              piiLoggingEnabled: false,
              loggerCallback: () => undefined,
            },
          },
        });
        const auth = await app.acquireTokenByClientCredential({
          scopes: [`${request.resource}/.default`],
          skipCache: true,
        });
        if (!auth?.accessToken)
          throw new ExoLoginError(`Entra returned no access token for ${request.resource}.`, 'entra-empty');
        return auth;
      },
      classify,
      {
        ...(options.retryPolicy && { policy: options.retryPolicy }),
        ...(options.clock && { clock: options.clock }),
        signal,
        onRetry: ({ attempt, delayMs }) =>
          options.onRetry?.(
            `Token request for ${request.resource} attempt ${attempt} failed (${describeLast(last)}); retrying in ${delayMs} ms`,
          ),
      },
    ).catch((error: unknown) => {
      throw this.explain(error, last, request.resource);
    });

    options.onSecret?.(result.accessToken);
    const claims = claimsOf(result.accessToken);
    const expiresOn =
      expiryOf(decodeJwtClaims(result.accessToken)) ?? result.expiresOn ?? new Date(this.now() + 3_600_000);
    return { kind: request.kind, resource: request.resource, token: result.accessToken, expiresOn, claims };
  }

  private async exchange<T>(
    send: HttpSend,
    req: Parameters<HttpSend>[0],
    record: (r: { response?: HttpResponse; transport?: TransportError }) => void,
  ): Promise<NetworkResponse<T>> {
    try {
      const response = await send(req);
      record({ response });
      let body: unknown;
      try {
        body = JSON.parse(response.body);
      } catch {
        body = {};
      }
      return { status: response.status, headers: response.headers, body: body as T };
    } catch (error) {
      if (error instanceof TransportError) record({ transport: error });
      throw error;
    }
  }

  private explain(
    error: unknown,
    last: { response?: HttpResponse; transport?: TransportError },
    resource: string,
  ): Error {
    const failed = last.response !== undefined && (last.response.status < 200 || last.response.status > 299);
    // An HTTP failure is explained from Entra's answer even when MSAL, given a body it could not read, returned no
    // token and the operation threw 'entra-empty'; other ExoLoginErrors (the ID token request) are already clear.
    if (error instanceof ExoLoginError && !failed) return error;
    const { settings } = this;
    if (last.transport) {
      return new ExoLoginError(
        `Cannot reach Entra ID at ${settings.authorityHost}: ${last.transport.message}. ${fixForTransport(last.transport)}`,
        'entra-network',
        { cause: error },
      );
    }
    if (last.response && (last.response.status < 200 || last.response.status > 299)) {
      const entra = parseEntraError(last.response.body);
      if (entra) {
        return explainEntraError(entra, last.response.status, {
          clientId: settings.clientId,
          tenant: settings.tenantId,
          environment: settings.environment,
          authorityHost: settings.authorityHost,
          resource,
          assertion: this.assertion.lastToken,
          assertionSource: this.assertion.description,
        });
      }
      return new ExoLoginError(
        `Entra ID at ${settings.authorityHost} answered HTTP ${last.response.status} without an OAuth error body. ${fixFor('throttled')}`,
        'entra-http',
      );
    }
    return new ExoLoginError(`Token request for ${resource} failed: ${errorMessage(error)}`, 'entra-client', {
      cause: error,
    });
  }
}

function describeLast(last: { response?: HttpResponse; transport?: TransportError }): string {
  if (last.transport) return last.transport.errno;
  if (last.response) return `HTTP ${last.response.status}`;
  return 'error';
}

/** Convenience: one session, one mint. */
export async function getExchangeOnlineTokens(options: ExoLoginOptions): Promise<ExoTokens> {
  return new ExoLoginSession(options).mint();
}
