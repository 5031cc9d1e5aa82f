/**
 * A client for the Exchange Online admin API (`POST /adminapi/beta/{tenant}/InvokeCommand`), the REST endpoint
 * every ExchangeOnlineManagement cmdlet runs over, on an ExoLoginSession's tokens (or a worker's, see tokens.ts):
 *
 *   const exo = exchangeOnline(session);
 *   for await (const mailbox of exo.invoke('Get-Mailbox', { ResultSize: 'Unlimited' })) …
 *   const [config] = await exo.invoke('Get-OrganizationConfig').all();
 *
 * Paging, ResultSize, retries, the per-tenant concurrency limit, regional redirects and errors follow the module
 * and the public clients (../shared/docs/exchange-admin-api.md).
 */
import { randomUUID } from 'node:crypto';
import { BODY_TOO_LARGE, ENDPOINTS, ExoLoginError, InputError, TransportError } from '../core/errors.js';
import { field, quoted } from '../core/names.js';
import { httpsSend, type HttpResponse, type HttpSend } from '../core/http.js';
import {
  realClock,
  retryAfterVerdict,
  timeoutWithin,
  withRetry,
  type AttemptContext,
  type RetryClock,
  type RetryPolicy,
  type Verdict,
} from '../core/retry.js';
import { claimsOf } from '../core/token.js';
import { fixFor, fixForTransport } from '../core/troubleshooting.js';
import { encodeParameters, isPlainObject, stripAnnotations } from './encode.js';
import {
  CONCURRENCY_MESSAGE,
  ExchangeApiError,
  PAGINATION_MESSAGE,
  cleanText,
  parseServerError,
  reasonFor,
  shortType,
} from './errors.js';
import { withSlot } from './limiter.js';
import {
  EXCHANGE_ENDPOINTS,
  apiOrigin,
  defaultAnchor,
  isRedirect,
  judgeLocation,
  trustedDomain,
  type ExchangeEndpoint,
} from './routing.js';
import type { ExchangeTokenSource } from './tokens.js';

export type CmdletRow = Record<string, unknown>;

export interface ExchangeClientOptions {
  /** Exchange Online (default) or Security & Compliance; the session must have that token. */
  endpoint?: ExchangeEndpoint;
  /** Requests in flight per tenant, across this process's clients; default 4. */
  maxConcurrency?: number;
  /** Rows per page (Prefer: odata.maxpagesize), 1–1000; default 1000. */
  pageSize?: number;
  /** Called once per distinct warning of a call (also kept in CmdletCall.warnings). */
  onWarning?: (warning: string, cmdlet: string) => void;
  /** X-AnchorMailbox for every call; default `UPN:OAuthUser@<organization>`, else the tenant's system mailbox. */
  anchorMailbox?: string;
  /** Per request; default 5 minutes (the service gives up on a cmdlet after 15). */
  timeoutMs?: number;
  /** Largest response body accepted; default 64 MiB. */
  maxResponseBytes?: number;
  retryPolicy?: RetryPolicy;
  clock?: RetryClock;
  /** Called with a one-line message before each retry. */
  onRetry?: (message: string) => void;
  /** HTTPS transport; defaults to node:https. */
  send?: HttpSend;
}

export interface InvokeOptions {
  /** Properties to return (`$select`). */
  select?: readonly string[];
  /** X-AnchorMailbox for this call, e.g. the mailbox a mailbox-scoped cmdlet works on. */
  anchorMailbox?: string;
  signal?: AbortSignal;
}

export interface ExchangeOnlineClient {
  /** Nothing is sent until the call is iterated or `all()` is awaited. Invalid arguments throw InputError here. */
  invoke(cmdlet: string, parameters?: Record<string, unknown>, options?: InvokeOptions): CmdletCall;
  readonly endpoint: ExchangeEndpoint;
  /** The origin requests go to (the regional host once a redirect pinned it). */
  readonly origin: string;
}

export interface CmdletCall extends AsyncIterable<CmdletRow> {
  /** Every row (annotation keys removed). */
  all(): Promise<CmdletRow[]>;
  /** The service's warnings so far (`@adminapi.warnings`, and the ResultSize truncation notice). */
  readonly warnings: readonly string[];
  /** Sent as client-request-id on every request of the call; quoted in its errors. */
  readonly clientRequestId: string;
}

/** The module's notice when ResultSize was not given and the cmdlet stopped at 1000 rows. */
export const RESULT_SIZE_WARNING =
  'There are more results available than are currently displayed. To view them, increase the value for the ResultSize parameter.';
const DEFAULT_RESULT_SIZE = 1000;
const MAX_REDIRECTS = 5;
const TOKEN_MARGIN_MS = 120_000;

/** Module-like backoff (2 s × 2^n) within a budget; Retry-After wins when longer. */
export const EXCHANGE_RETRY_POLICY: RetryPolicy = {
  maxAttempts: 5,
  maxElapsedMs: 5 * 60_000,
  baseDelayMs: 2_000,
  maxDelayMs: 30_000,
};

interface Settings {
  endpoint: ExchangeEndpoint;
  maxConcurrency: number;
  pageSize: number;
  onWarning: ((warning: string, cmdlet: string) => void) | undefined;
  anchorMailbox: string | undefined;
  timeoutMs: number;
  maxResponseBytes: number;
  policy: RetryPolicy;
  clock: RetryClock;
  onRetry: ((message: string) => void) | undefined;
  send: HttpSend;
}

interface CallRequest {
  cmdlet: string;
  body: string;
  select: readonly string[] | undefined;
  anchor: string | undefined;
  clientRequestId: string;
  signal: AbortSignal | undefined;
  /** Rows wanted: 1000 when ResultSize is absent, Infinity for Unlimited. */
  limit: number;
  defaultLimit: boolean;
}

interface Page {
  rows: unknown[];
  nextLink: string | undefined;
  warnings: string[];
  url: string;
}

export function exchangeOnline(
  session: ExchangeTokenSource,
  options: ExchangeClientOptions = {},
): ExchangeOnlineClient {
  return new AdminApiClient(session, resolveOptions(session, options));
}

function resolveOptions(session: ExchangeTokenSource, options: ExchangeClientOptions): Settings {
  const endpoint = options.endpoint ?? 'exchange';
  if (!EXCHANGE_ENDPOINTS.includes(endpoint)) {
    throw new InputError(
      field('endpoint'),
      `must be ${EXCHANGE_ENDPOINTS.join(' or ')}; got ${quoted(shown(endpoint))}.`,
    );
  }
  if (!session.settings.resources.some((r) => r.kind === endpoint)) {
    throw new InputError(
      field('endpoint'),
      `is '${endpoint}', but the session mints no ${endpoint} token: add '${endpoint}' to its resources.`,
    );
  }
  const int = (
    value: number | undefined,
    name: string,
    fallback: number,
    min: number,
    max: number,
  ): number => {
    if (value === undefined) return fallback;
    if (!Number.isInteger(value) || value < min || value > max)
      throw new InputError(field(name), `must be a whole number from ${min} to ${max}; got ${value}.`);
    return value;
  };
  return {
    endpoint,
    maxConcurrency: int(options.maxConcurrency, 'maxConcurrency', 4, 1, 16),
    pageSize: int(options.pageSize, 'pageSize', 1000, 1, 1000),
    onWarning: options.onWarning,
    anchorMailbox:
      options.anchorMailbox === undefined ? undefined : checkAnchor(options.anchorMailbox, 'anchorMailbox'),
    timeoutMs: int(options.timeoutMs, 'timeoutMs', 300_000, 1, 3_600_000),
    maxResponseBytes: int(options.maxResponseBytes, 'maxResponseBytes', 64 * 1024 * 1024, 1024, 2 ** 31),
    policy: options.retryPolicy ?? EXCHANGE_RETRY_POLICY,
    clock: options.clock ?? realClock,
    onRetry: options.onRetry,
    send: options.send ?? httpsSend,
  };
}

/** A value from a JavaScript caller, who may pass anything, for an error message. */
function shown(value: unknown): string {
  return typeof value === 'string' ? value : typeof value;
}

function checkAnchor(value: string, input: string): string {
  const v = typeof value === 'string' ? value.trim() : '';
  // eslint-disable-next-line no-control-regex -- a header value must not carry control characters
  if (v === '' || v.length > 512 || /[\u0000-\u001f\u007f]/.test(v)) {
    throw new InputError(
      field(input),
      'must be one line naming a mailbox, e.g. UPN:user@contoso.com or user@contoso.com.',
    );
  }
  return v;
}

class AdminApiClient implements ExchangeOnlineClient {
  readonly endpoint: ExchangeEndpoint;
  private readonly home: string;
  private readonly domain: string;
  private pinned: string | undefined;
  private readonly connectionId = randomUUID();

  constructor(
    private readonly session: ExchangeTokenSource,
    private readonly settings: Settings,
  ) {
    this.endpoint = settings.endpoint;
    this.home = apiOrigin(session.settings, settings.endpoint) ?? '';
    this.domain = trustedDomain(this.home);
  }

  get origin(): string {
    return this.pinned ?? this.home;
  }

  invoke(cmdlet: string, parameters: Record<string, unknown> = {}, options: InvokeOptions = {}): CmdletCall {
    if (typeof cmdlet !== 'string' || !/^[A-Za-z]+-[A-Za-z0-9]+$/.test(cmdlet)) {
      throw new InputError(
        field('cmdlet'),
        `must be a cmdlet name such as Get-Mailbox; got ${quoted(shown(cmdlet))}.`,
      );
    }
    if (!isPlainObject(parameters))
      throw new InputError(field('parameters'), 'must be an object of parameter names to values.');
    const { rest, properties } = takeProperties(cmdlet, parameters);
    const select = checkSelect([...(options.select ?? []), ...properties]);
    const encoded = encodeParameters(rest);
    const request: CallRequest = {
      cmdlet,
      body: JSON.stringify({ CmdletInput: { CmdletName: cmdlet, Parameters: encoded } }),
      select: select.length > 0 ? select : undefined,
      anchor:
        options.anchorMailbox === undefined
          ? this.settings.anchorMailbox
          : checkAnchor(options.anchorMailbox, 'anchorMailbox'),
      clientRequestId: randomUUID(),
      signal: options.signal,
      ...resultLimit(rest),
    };
    return new Call(this, request, this.settings.onWarning);
  }

  /** The first page's URL, on the pinned host. */
  async firstUrl(request: CallRequest): Promise<string> {
    const tokens = await this.tokens();
    const select = request.select ? `?$select=${request.select.join(',')}` : '';
    return `${this.origin}/adminapi/beta/${encodeURIComponent(tokens.tenantId)}/InvokeCommand${select}`;
  }

  /** A nextLink, if the token may be sent there and it is not one this query already followed. */
  nextUrl(link: string, current: string, request: CallRequest, followed: Set<string>): string {
    const verdict = judgeLocation(link, current, this.domain);
    if (!verdict.follow) {
      throw this.failure(
        request,
        undefined,
        'malformed',
        `the service's nextLink points elsewhere (${verdict.why}); the token was not sent there.`,
      );
    }
    // Each page's link carries its own cursor: a repeat would page (and, for -ResultSize Unlimited, grow) forever.
    if (followed.has(verdict.url.href)) {
      throw this.failure(
        request,
        undefined,
        'malformed',
        `the service's nextLink repeats one already followed in this query; stopped rather than page forever.`,
      );
    }
    followed.add(verdict.url.href);
    return verdict.url.href;
  }

  /** One page: retried, within the tenant's concurrency limit. */
  async fetchPage(url: string, request: CallRequest): Promise<Page> {
    const tokens = await this.tokens();
    const { clock, policy } = this.settings;
    const attempt = (_n: number, context: AttemptContext): Promise<Page> =>
      withSlot(tokens.tenantId, this.settings.maxConcurrency, request.signal, () =>
        this.exchange(url, request, context),
      );
    try {
      return await withRetry(attempt, (error) => verdictOf(error), {
        policy,
        clock,
        ...(request.signal && { signal: request.signal }),
        onRetry: ({ attempt: n, delayMs, error }) =>
          this.settings.onRetry?.(
            `${request.cmdlet} attempt ${n} failed (${describe(error)}); retrying in ${delayMs} ms [client-request-id ${request.clientRequestId}]`,
          ),
      });
    } catch (error) {
      throw this.final(error, request, url);
    }
  }

  /** One request and its redirects; a 401 refreshes the token once. */
  private async exchange(url: string, request: CallRequest, context: AttemptContext): Promise<Page> {
    let token = await this.token();
    let refreshed = false;
    let target = url;
    for (let hops = 0; ;) {
      const response = await this.settings.send({
        method: 'POST',
        url: target,
        headers: this.headers(request, token),
        body: request.body,
        timeoutMs: timeoutWithin(this.settings.timeoutMs, context.deadline, this.settings.clock.now()),
        maxResponseBytes: this.settings.maxResponseBytes,
        endpoint: ENDPOINTS.exchange,
        ...(context.signal && { signal: context.signal }),
      });
      if (isRedirect(response.status)) {
        if (++hops > MAX_REDIRECTS)
          throw this.failure(request, response.status, 'malformed', `more than ${MAX_REDIRECTS} redirects.`);
        target = this.follow(response, target, request);
        continue;
      }
      if (response.status === 401 && !refreshed) {
        refreshed = true;
        token = await this.refresh(token);
        continue;
      }
      return this.parse(response, request, target, token);
    }
  }

  /** Where a redirect leads, if the token may go there; pins that host for later calls. */
  private follow(response: HttpResponse, current: string, request: CallRequest): string {
    const location = response.headers['location'];
    if (location === undefined)
      throw this.failure(request, response.status, 'malformed', 'a redirect without a Location header.');
    const verdict = judgeLocation(location, current, this.domain);
    if (!verdict.follow) {
      throw this.failure(
        request,
        response.status,
        'server',
        `the service redirected to ${cleanText(location, 200).replace(/[?#].*$/, '')}, and ${verdict.why}; the token was not sent there. If this persists, check proxies and DNS between here and ${this.domain}.`,
      );
    }
    this.pinned = verdict.url.origin;
    return verdict.url.href;
  }

  private headers(request: CallRequest, token: string): Record<string, string> {
    return {
      authorization: `Bearer ${token}`,
      'content-type': 'application/json',
      accept: 'application/json',
      'accept-language': 'en-US',
      prefer: `odata.maxpagesize=${this.settings.pageSize}`,
      'x-cmdletname': request.cmdlet,
      'x-responseformat': 'json',
      'x-anchormailbox': request.anchor ?? this.anchor(),
      'x-clientapplication': 'ExoManagementModule',
      'client-request-id': request.clientRequestId,
      'connection-id': this.connectionId,
      'user-agent': 'exo-login',
    };
  }

  private anchorCache: string | undefined;
  private anchor(): string {
    return (this.anchorCache ??= defaultAnchor(
      this.session.settings.tenantId,
      this.session.settings.organization,
    ));
  }

  private async tokens(): Promise<{ tenantId: string }> {
    const tokens = await this.session.tokensValidUntil(new Date(this.settings.clock.now() + TOKEN_MARGIN_MS));
    // Anchor on the tenant GUID once known (the settings may name the tenant by domain).
    this.anchorCache ??= defaultAnchor(tokens.tenantId, this.session.settings.organization);
    return tokens;
  }

  private async token(): Promise<string> {
    const tokens = await this.session.tokensValidUntil(new Date(this.settings.clock.now() + TOKEN_MARGIN_MS));
    const token = tokens.tokens[this.endpoint]?.token;
    if (token === undefined)
      throw new ExoLoginError(`The session minted no ${this.endpoint} token.`, 'exchange-usage');
    return token;
  }

  /** A fresh token after a 401, unless another call already replaced the one that was refused. */
  private async refresh(used: string): Promise<string> {
    const current = await this.token();
    if (current !== used) return current;
    const minted = await this.session.mint();
    return minted.tokens[this.endpoint]?.token ?? current;
  }

  private parse(response: HttpResponse, request: CallRequest, url: string, token: string): Page {
    const requestId = response.headers['request-id'];
    if (response.status >= 200 && response.status < 300) {
      const page = readPage(response.body, url);
      if (page) return page;
      throw this.failure(
        request,
        response.status,
        'malformed',
        `an answer that is not the admin API's JSON: ${parseServerError(response.body).message}`,
        undefined,
        requestId,
      );
    }
    const server = parseServerError(response.body);
    const reason = reasonFor(response.status, server, response.body);
    const transient =
      reason === 'throttled' || response.status === 503 || response.status === 504
        ? retryAfterVerdict(response.headers, this.settings.clock.now())
        : undefined;
    return this.fail(request, response, server, reason, token, transient, requestId);
  }

  private fail(
    request: CallRequest,
    response: HttpResponse,
    server: { message: string; exceptionType: string | undefined },
    reason: ReturnType<typeof reasonFor>,
    token: string,
    transient: Verdict | undefined,
    requestId: string | undefined,
  ): never {
    const hint = this.hint(reason, response, token);
    const retry = transient?.transient
      ? { ...(transient.retryAfterMs !== undefined && { retryAfterMs: transient.retryAfterMs }) }
      : undefined;
    throw this.failure(
      request,
      response.status,
      reason,
      server.message,
      server.exceptionType,
      requestId,
      hint,
      retry,
    );
  }

  private hint(reason: string, response: HttpResponse, token: string): string | undefined {
    if (reason === 'forbidden') {
      return `The app has a token but its service principal holds no Entra role that Exchange accepts. ${fixFor('exchangeRoleMissing')}`;
    }
    if (reason === 'throttled') return fixFor('throttled');
    if (reason !== 'unauthorized') return undefined;
    const said =
      /error_description="([^"]*)"/.exec(response.headers['www-authenticate'] ?? '')?.[1] ??
      /reason="([^"]*)"/.exec(response.headers['x-ms-diagnostics'] ?? '')?.[1];
    const claims = claimsOf(token);
    const resource = this.session.settings.resources.find((r) => r.kind === this.endpoint)?.resource;
    // Claims and the resource (a worker's is its token's audience) are outside text: one line each.
    const show = (text: string | undefined): string => cleanText(text ?? '?', 200);
    return `${said ? `The service says: ${cleanText(said, 300)} ` : ''}The token (refreshed once) has audience ${show(claims.audience)} and tenant ${show(claims.tenantId)}; this API at ${this.origin} takes tokens for ${show(resource)} of that tenant, with the Exchange.ManageAsApp role. ${fixFor('exchangeUnauthorized')}`;
  }

  failure(
    request: CallRequest,
    status: number | undefined,
    reason: ReturnType<typeof reasonFor>,
    serverMessage: string,
    exceptionType?: string,
    requestId?: string,
    hint?: string,
    retry?: { retryAfterMs?: number },
    cause?: unknown,
  ): ExchangeApiError {
    const ids = `client-request-id ${request.clientRequestId}${requestId ? `, request-id ${cleanText(requestId, 100)}` : ''}`;
    const what = [status === undefined ? undefined : `HTTP ${status}`, shortType(exceptionType)]
      .filter(Boolean)
      .join(', ');
    const message = `${request.cmdlet} failed${what ? ` (${what})` : ''}: ${serverMessage} [${ids}]${hint ? ` ${hint}` : ''}`;
    return new ExchangeApiError(
      message,
      request.cmdlet,
      status,
      reason,
      exceptionType,
      serverMessage,
      request.clientRequestId,
      requestId,
      retry,
      cause === undefined ? undefined : { cause },
    );
  }

  /** The error a caller sees once retries are over: network and size failures become ExchangeApiErrors too. */
  private final(error: unknown, request: CallRequest, url: string): unknown {
    if (
      error instanceof ExchangeApiError ||
      (error instanceof ExoLoginError && !(error instanceof TransportError))
    )
      return error;
    if (error instanceof TransportError && error.errno === BODY_TOO_LARGE) {
      return this.failure(
        request,
        undefined,
        'malformed',
        `the answer is larger than ${this.settings.maxResponseBytes} bytes (maxResponseBytes); lower pageSize or select fewer properties.`,
        undefined,
        undefined,
        undefined,
        undefined,
        error,
      );
    }
    if (error instanceof TransportError) {
      if (error.errno === 'ABORT_ERR') return error;
      return this.failure(
        request,
        undefined,
        'network',
        `cannot reach ${new URL(url).host}: ${error.message}.`,
        undefined,
        undefined,
        fixForTransport(error),
        undefined,
        error,
      );
    }
    return error;
  }
}

class Call implements CmdletCall {
  readonly warnings: string[] = [];
  private started = false;

  constructor(
    private readonly client: AdminApiClient,
    private readonly request: CallRequest,
    private readonly onWarning: ((warning: string, cmdlet: string) => void) | undefined,
  ) {}

  get clientRequestId(): string {
    return this.request.clientRequestId;
  }

  [Symbol.asyncIterator](): AsyncIterator<CmdletRow> {
    if (this.started) {
      throw new ExoLoginError(
        `${this.request.cmdlet}: a call's rows can be read once; invoke it again.`,
        'exchange-usage',
      );
    }
    this.started = true;
    return this.rows();
  }

  async all(): Promise<CmdletRow[]> {
    const rows: CmdletRow[] = [];
    for await (const row of this) rows.push(row);
    return rows;
  }

  /** The query, restarted once (skipping rows already delivered) when the service lost its cursor. */
  private async *rows(): AsyncGenerator<CmdletRow> {
    let delivered = 0;
    for (let restarts = 0; ; restarts++) {
      const progress = { pages: 0 };
      try {
        for await (const row of this.query(delivered, progress)) {
          delivered++;
          yield row;
        }
        return;
      } catch (error) {
        const lostCursor =
          error instanceof ExchangeApiError && error.serverMessage.includes(PAGINATION_MESSAGE);
        if (!lostCursor || restarts > 0 || progress.pages === 0) throw error;
      }
    }
  }

  /**
   * One run of the query. The next page is requested as soon as a page has arrived and more rows are wanted, so
   * the service works on it while this one's rows are handed out.
   */
  private async *query(skip: number, progress: { pages: number }): AsyncGenerator<CmdletRow> {
    const { request } = this;
    let next: Promise<Page> | undefined = this.client.fetchPage(await this.client.firstUrl(request), request);
    const followed = new Set<string>();
    let seen = 0;
    let delivered = skip;
    let more = false;
    while (next) {
      const page: Page = await next;
      next = undefined;
      progress.pages++;
      for (const warning of page.warnings) this.warn(warning);
      const fresh = page.rows.slice(Math.max(0, skip - seen));
      seen += page.rows.length;
      const wanted = request.limit - delivered;
      if (fresh.length > wanted || (page.nextLink !== undefined && fresh.length >= wanted)) more = true;
      else if (page.nextLink !== undefined) {
        next = this.client.fetchPage(
          this.client.nextUrl(page.nextLink, page.url, request, followed),
          request,
        );
        // Awaited on the next turn; until then a failure must not count as unhandled.
        next.catch(() => undefined);
      }
      for (const raw of fresh.slice(0, wanted)) {
        delivered++;
        yield stripAnnotations(raw) as CmdletRow;
      }
    }
    if (more && request.defaultLimit) this.warn(RESULT_SIZE_WARNING);
  }

  private warn(text: string): void {
    const warning = cleanText(text);
    if (warning === '' || this.warnings.includes(warning)) return;
    this.warnings.push(warning);
    this.onWarning?.(warning, this.request.cmdlet);
  }
}

/** A 2xx body as a page; undefined when it is not the admin API's JSON. */
function readPage(body: string, url: string): Page | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return undefined;
  }
  if (!isPlainObject(parsed)) return undefined;
  const value = parsed['value'] ?? [];
  const link = parsed['@odata.nextLink'];
  const warnings = parsed['@adminapi.warnings'] ?? [];
  if (!Array.isArray(value) || !Array.isArray(warnings) || (link !== undefined && typeof link !== 'string'))
    return undefined;
  return {
    rows: value as unknown[],
    nextLink: link === '' ? undefined : link,
    warnings: warnings.filter((w): w is string => typeof w === 'string'),
    url,
  };
}

/** ResultSize as the module reads it: absent → 1000 (and a notice when more exist), a number, Unlimited. */
function resultLimit(parameters: Record<string, unknown>): { limit: number; defaultLimit: boolean } {
  const key = Object.keys(parameters).find((k) => k.toLowerCase() === 'resultsize');
  const value = key === undefined ? undefined : parameters[key];
  if (value === undefined) return { limit: DEFAULT_RESULT_SIZE, defaultLimit: true };
  if (typeof value === 'string' && value.trim().toLowerCase() === 'unlimited')
    return { limit: Infinity, defaultLimit: false };
  const n =
    typeof value === 'number'
      ? value
      : typeof value === 'string' && /^\s*\d+\s*$/.test(value)
        ? Number(value)
        : NaN;
  // Anything else goes to the service as given, which explains what it accepts.
  return { limit: Number.isInteger(n) && n > 0 ? n : Infinity, defaultLimit: false };
}

/** Get-EXO* cmdlets' -Properties is a projection: it travels as `$select`, as the module sends it. */
function takeProperties(
  cmdlet: string,
  parameters: Record<string, unknown>,
): { rest: Record<string, unknown>; properties: string[] } {
  const key = Object.keys(parameters).find((k) => k.toLowerCase() === 'properties');
  if (key === undefined || !/^Get-EXO/i.test(cmdlet)) return { rest: parameters, properties: [] };
  const value = parameters[key];
  const list = Array.isArray(value) ? value : typeof value === 'string' ? value.split(',') : [];
  const rest = { ...parameters };
  Reflect.deleteProperty(rest, key);
  return { rest, properties: list.map((p) => String(p).trim()).filter(Boolean) };
}

function checkSelect(select: readonly unknown[]): string[] {
  const names = [...new Set(select.map((s) => (typeof s === 'string' ? s.trim() : '')))];
  const bad = names.find((n) => !/^[A-Za-z][A-Za-z0-9_]*$/.test(n));
  if (bad !== undefined)
    throw new InputError(field('select'), `takes property names (letters, digits, _); got ${quoted(bad)}.`);
  return names;
}

function verdictOf(error: unknown): Verdict {
  if (error instanceof ExchangeApiError) {
    if (!error.retry) return { transient: false };
    return error.retry.retryAfterMs === undefined
      ? { transient: true }
      : { transient: true, retryAfterMs: error.retry.retryAfterMs };
  }
  if (error instanceof TransportError) return error.transient ? { transient: true } : { transient: false };
  return { transient: false };
}

function describe(error: unknown): string {
  if (error instanceof ExchangeApiError) {
    return error.status === undefined
      ? error.reason
      : `HTTP ${error.status}${error.serverMessage.includes(CONCURRENCY_MESSAGE) ? ', concurrency limit' : ''}`;
  }
  if (error instanceof TransportError) return error.errno;
  return 'error';
}
