import type { INetworkModule, NetworkResponse } from '@azure/msal-node';
import type { CachedAssertion } from './assertion.js';
import { classifyHttpFailure } from './assertion.js';
import { CLOUDS } from './clouds.js';
import { entraCode, explainEntraError, parseEntraError, TRANSIENT_ENTRA_CODES } from './entra-errors.js';
import { ExoLoginError, HttpStatusError, TransportError, errorMessage } from './errors.js';
import { ENDPOINTS, type HttpRequest, type HttpResponse, type HttpSend } from './http.js';
import { decodeJwtClaims } from './jwt.js';
import { quoted } from './names.js';
import {
  retryAfterVerdict,
  timeoutWithin,
  withRetry,
  type RetryClock,
  type RetryPolicy,
  type Verdict,
} from './retry.js';
import type { ResolvedSettings } from './settings.js';
import { explainTransport, fixFor } from './troubleshooting.js';
import type { ResourceRequest } from './validate.js';

type Msal = typeof import('@azure/msal-node');

/** What one resource's token request needs besides MSAL. */
export interface EntraExchange {
  settings: ResolvedSettings;
  assertion: CachedAssertion;
  send: HttpSend;
  now: () => number;
  /** Per-request timeout. */
  timeoutMs: number;
  retryPolicy?: RetryPolicy | undefined;
  clock?: RetryClock | undefined;
  onRetry?: ((message: string) => void) | undefined;
}

/** A token Entra issued, checked for shape. */
export interface EntraToken {
  accessToken: string;
  expiresOn: Date;
}

/** What the current attempt's last Entra exchange produced. */
interface Observation {
  response?: HttpResponse;
  transport?: TransportError;
  /** A 2xx answer that is not a token answer. */
  malformed?: ExoLoginError;
}

const isOk = (status: number): boolean => status >= 200 && status <= 299;

/**
 * Owns what MSAL's requests leave behind for one attempt: the last exchange (to classify and explain a failure
 * with Entra's own answer) and the attempt's deadline (each request's timeout is cut to it).
 */
class AttemptRecorder {
  last: Observation = {};
  private deadline = Infinity;

  constructor(private readonly exchange: EntraExchange) {}

  start(deadline: number): void {
    this.last = {};
    this.deadline = deadline;
  }

  timeoutMs(): number {
    return timeoutWithin(this.exchange.timeoutMs, this.deadline, this.exchange.now());
  }

  classify(resource: string): Verdict {
    const { transport, response, malformed } = this.last;
    if (transport) return transport.transient ? { transient: true } : { transient: false };
    if (malformed || !response || isOk(response.status)) return { transient: false };
    const entra = parseEntraError(response.body);
    const code = entra && entraCode(entra);
    // A 400 that means "later" (AADSTS50196): honour Retry-After as for 429/5xx.
    if (code !== undefined && TRANSIENT_ENTRA_CODES.has(code))
      return retryAfterVerdict(response.headers, this.exchange.now());
    const failure = new HttpStatusError(resource, response.status, response.headers, response.body);
    return classifyHttpFailure(failure, this.exchange.now());
  }

  describe(): string {
    if (this.last.transport) return this.last.transport.errno;
    if (this.last.response) return `HTTP ${this.last.response.status}`;
    return 'error';
  }
}

/** MSAL's network hook: every request goes through `send`, and the recorder keeps what came back. */
function networkModule(
  exchange: EntraExchange,
  recorder: AttemptRecorder,
  resource: string,
  signal: AbortSignal,
): INetworkModule {
  const sendVia = async <T>(
    method: 'GET' | 'POST',
    url: string,
    opts?: { headers?: Record<string, string>; body?: string },
  ): Promise<NetworkResponse<T>> => {
    const req: HttpRequest = {
      endpoint: ENDPOINTS.entra,
      method,
      url,
      ...(opts?.headers && { headers: opts.headers }),
      ...(opts?.body !== undefined && { body: opts.body }),
      timeoutMs: recorder.timeoutMs(),
      signal,
    };
    let response: HttpResponse;
    try {
      response = await exchange.send(req);
    } catch (error) {
      if (error instanceof TransportError) recorder.last = { transport: error };
      throw error;
    }
    recorder.last = { response };
    const body = parseJson(response.body);
    if (isOk(response.status)) {
      const problem = tokenAnswerProblem(body);
      if (problem !== undefined) {
        const malformed = malformedAnswer(
          exchange.settings.authorityHost,
          resource,
          response.status,
          problem,
        );
        recorder.last = { response, malformed };
        throw malformed;
      }
    }
    return { status: response.status, headers: response.headers, body: (body ?? {}) as T };
  };
  return {
    sendGetRequestAsync: (url, opts) => sendVia('GET', url, opts),
    sendPostRequestAsync: (url, opts) => sendVia('POST', url, opts),
  };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;
/** Entra's access tokens live 60–90 minutes by default and at most a day (configurable lifetimes). */
const MAX_EXPIRES_IN_SECONDS = 86_400;

/** Why a 2xx body is not an Entra token answer (a JWT access_token, a sane expires_in); undefined when it is one. */
export function tokenAnswerProblem(body: unknown): string | undefined {
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    return 'the body is not a JSON object';
  const { access_token: token, expires_in: expiresIn } = body as Record<string, unknown>;
  if (token === undefined) return 'it has no access_token';
  if (typeof token !== 'string') return `access_token is ${describeType(token)}, not a string`;
  if (!JWT_SHAPE.test(token) || decodeJwtClaims(token) === undefined) return 'access_token is not a JWT';
  const seconds = typeof expiresIn === 'string' && /^\d+$/.test(expiresIn) ? Number(expiresIn) : expiresIn;
  if (
    typeof seconds !== 'number' ||
    !Number.isInteger(seconds) ||
    seconds < 1 ||
    seconds > MAX_EXPIRES_IN_SECONDS
  ) {
    const shown = typeof expiresIn === 'string' ? quoted(expiresIn) : describeType(expiresIn);
    return `expires_in is ${shown}, not a whole number of seconds from 1 to ${MAX_EXPIRES_IN_SECONDS}`;
  }
  return undefined;
}

function describeType(value: unknown): string {
  if (typeof value === 'number') return String(value);
  if (value === null) return 'null';
  if (value === undefined) return 'missing';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

function malformedAnswer(host: string, resource: string, status: number, problem: string): ExoLoginError {
  return new ExoLoginError(
    `Entra ID at ${host} answered the token request for ${resource} with HTTP ${status} but a malformed answer: ${problem}. Entra always answers with a JWT access_token and a whole expires_in, so this answer came from something else at that address, or Entra failed on its side. Check authority-host and any proxy in between; if both are right, re-run later.`,
    'entra-response',
  );
}

/** The Entra endpoint metadata handed to MSAL so it never fetches discovery documents. */
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

/**
 * One resource's token from Entra by client credentials with the federated token as assertion, retried on
 * transient failures. A fresh MSAL instance per attempt: MSAL caches a throttle entry after 429/5xx and would
 * fail the retry without sending it. The assertion callback runs per attempt, so an aged ID token is replaced.
 */
export async function requestToken(
  msal: Msal,
  exchange: EntraExchange,
  request: ResourceRequest,
  signal: AbortSignal,
): Promise<EntraToken> {
  const { settings } = exchange;
  const recorder = new AttemptRecorder(exchange);
  const system = {
    networkClient: networkModule(exchange, recorder, request.resource, signal),
    loggerOptions: {
      logLevel: msal.LogLevel.Error,
      piiLoggingEnabled: false,
      loggerCallback: () => undefined,
    },
  };
  const attempt = async (_n: number, context: { deadline: number }): Promise<EntraToken> => {
    recorder.start(context.deadline);
    const app = new msal.ConfidentialClientApplication({
      auth: {
        clientId: settings.clientId,
        authority: `https://${settings.authorityHost}/${settings.tenantId}`,
        clientAssertion: () => exchange.assertion.get(),
        knownAuthorities: [settings.authorityHost],
        authorityMetadata: authorityMetadata(settings.authorityHost, settings.tenantId),
      },
      system,
    });
    const auth = await app.acquireTokenByClientCredential({
      scopes: [`${request.resource}/.default`],
      skipCache: true,
    });
    if (!auth?.accessToken || !auth.expiresOn || Number.isNaN(auth.expiresOn.getTime()))
      throw malformedAnswer(settings.authorityHost, request.resource, 200, 'MSAL read no token from it');
    return { accessToken: auth.accessToken, expiresOn: auth.expiresOn };
  };
  return withRetry(attempt, () => recorder.classify(request.resource), {
    ...(exchange.retryPolicy && { policy: exchange.retryPolicy }),
    ...(exchange.clock && { clock: exchange.clock }),
    signal,
    onRetry: ({ attempt: n, delayMs }) =>
      exchange.onRetry?.(
        `Token request to Entra ID for ${request.resource}: attempt ${n} failed (${recorder.describe()}); retrying in ${delayMs} ms`,
      ),
  }).catch((error: unknown) => {
    throw explain(error, recorder.last, exchange, request.resource);
  });
}

/** The user's paragraph for a failed request, from what the last exchange saw; each condition tested once. */
function explain(error: unknown, last: Observation, exchange: EntraExchange, resource: string): Error {
  const { settings, assertion } = exchange;
  if (last.malformed) return last.malformed;
  if (last.transport)
    return new ExoLoginError(explainTransport(last.transport), 'entra-network', { cause: error });
  if (last.response && !isOk(last.response.status)) {
    const entra = parseEntraError(last.response.body);
    if (entra === undefined) {
      return new ExoLoginError(
        `Entra ID at ${settings.authorityHost} answered HTTP ${last.response.status} without an OAuth error body. ${fixFor('throttled')}`,
        'entra-http',
      );
    }
    return explainEntraError(entra, last.response.status, {
      clientId: settings.clientId,
      tenant: settings.tenantId,
      environment: settings.environment,
      authorityHost: settings.authorityHost,
      resource,
      assertion: assertion.lastToken,
      assertionSource: assertion.description,
      audience: {
        source: settings.sources.audience,
        name: settings.names.audience,
        recommended: CLOUDS[settings.environment].oidcAudience,
      },
    });
  }
  // Failures before Entra answered, such as the federated token's source, are already explained.
  if (error instanceof ExoLoginError) return error;
  return new ExoLoginError(`Token request for ${resource} failed: ${errorMessage(error)}`, 'entra-client', {
    cause: error,
  });
}
