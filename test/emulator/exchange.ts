/**
 * The Exchange admin API (`POST /adminapi/beta/{tenant}/InvokeCommand`, `GET /adminapi/v1.0/{tenant}/EXOModuleFile`)
 * on its own HTTPS hosts: one for the Exchange resource, one for Security & Compliance, a regional host of each
 * (same host name, another port: "the same Exchange domain", which a front door in redirect mode sends clients to)
 * and a foreign host that must never see a bearer token. Tokens are checked as the service does; every request is
 * recorded with its headers. Facts: ../shared/docs/exchange-admin-api.md.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { Socket } from 'node:net';
import type { TestCa } from './ca.ts';
import { EXO, formatSeconds, unauthorized, type AdminAnswer } from './exchange-errors.ts';
import { Organization, serialise, type Row } from './exchange-org.ts';
import { decodeJwt, signJwt, verifySignature, type SigningKey } from './jwt.ts';

export type ExchangeHost = 'exchange' | 'compliance' | 'exchangeRegional' | 'complianceRegional' | 'foreign';
export type AdminEndpoint = 'exchange' | 'compliance';

export const EXCHANGE_MANAGE_AS_APP = 'Exchange.ManageAsApp';
/** Directory roles an app has when its AppConfig names none (`directoryRoles: []` means none: 403). */
export const DEFAULT_DIRECTORY_ROLES = ['Exchange Administrator'];
/** Entra role template ids, for the token's `wids` claim. */
const ROLE_TEMPLATE_IDS: Readonly<Record<string, string>> = {
  'Global Administrator': '62e90394-69f5-4237-9190-012177145e10',
  'Exchange Administrator': '29232cdf-9323-42fd-ade2-1d097af3e4de',
  'Global Reader': 'f2ef992c-3afb-46b9-b7cf-a126ee74c451',
  'Security Reader': '5d6b6bb7-de71-4623-b4af-96380a352509',
  'Compliance Administrator': '17315797-102d-40b4-93e0-432062caca18',
};

/** Cmdlets EXOModuleFile lists (what Connect-ExchangeOnline would generate functions for). */
export const MODULE_CMDLETS: Readonly<Record<AdminEndpoint, readonly string[]>> = {
  exchange: [
    'Get-Mailbox',
    'Set-Mailbox',
    'New-Mailbox',
    'Remove-Mailbox',
    'Get-EXOMailbox',
    'Get-Recipient',
    'Get-EXORecipient',
    'Get-AcceptedDomain',
    'Get-OrganizationConfig',
    'Set-OrganizationConfig',
    'Get-TransportConfig',
    'Set-TransportConfig',
    'Get-AdminAuditLogConfig',
    'Set-AdminAuditLogConfig',
    'Get-TransportRule',
    'New-TransportRule',
    'Set-TransportRule',
    'Remove-TransportRule',
    'Enable-TransportRule',
    'Disable-TransportRule',
    'Get-RemoteDomain',
    'New-RemoteDomain',
    'Set-RemoteDomain',
    'Remove-RemoteDomain',
  ],
  compliance: [
    'Get-Label',
    'New-Label',
    'Set-Label',
    'Remove-Label',
    'Get-DlpCompliancePolicy',
    'New-DlpCompliancePolicy',
    'Set-DlpCompliancePolicy',
    'Remove-DlpCompliancePolicy',
    'Get-RetentionCompliancePolicy',
    'Get-AdminAuditLogConfig',
  ],
};

export interface AdminRequestRecord {
  host: ExchangeHost;
  kind: 'invoke' | 'moduleFile' | 'other';
  method: string;
  path: string;
  /** The query string with its `?`, or ''. */
  query: string;
  /** Lower-cased names; Authorization redacted to `Bearer <redacted>` (see `bearer`, `tokenClaims`). */
  headers: Record<string, string>;
  bearer: boolean;
  /** Claims of the bearer token presented (aud, tid, uti, exp …), when it decoded. */
  tokenClaims?: Record<string, unknown>;
  /** The tenant segment of the path (GUID or domain). */
  tenant?: string;
  cmdlet?: string;
  /** CmdletInput.Parameters as sent, tags included. */
  parameters?: unknown;
  anchor?: string;
  clientRequestId?: string;
  /** 0 for a query's first page, n for its n-th nextLink. */
  page: number;
  /** HTTP status; -1 connection reset, -2 left hanging. */
  status: number;
  start: number;
  end: number;
  /** This tenant's InvokeCommand requests in flight when this one was admitted, itself included. */
  inFlight: number;
  /** Response body bytes. */
  bytes: number;
}

type FaultKind =
  | {
      kind: 'status';
      status: number;
      retryAfterSeconds?: number;
      /** json: `{"error":…}` transient; html: a gateway page; nul: NUL bytes; concurrency: the per-tenant text. */
      body?: 'json' | 'html' | 'empty' | 'nul' | 'concurrency';
    }
  | { kind: 'reset' }
  | { kind: 'hang' }
  | { kind: 'delay'; ms: number }
  /** A 200 whose JSON body is `bytes` long (a row padded with one huge property). */
  | { kind: 'oversized'; bytes: number }
  /** A 401 as for an invalid token, e.g. to test one refresh. */
  | { kind: 'unauthorized' };

/** A fault for the next matching request; unset filters match anything. */
export type AdminFault = FaultKind & {
  cmdlet?: string;
  host?: ExchangeHost;
  page?: number;
  kindOf?: 'invoke' | 'moduleFile';
};

export interface RedirectMode {
  /** regional: the same host name on another port (same domain); foreign: 127.0.0.1 (another host). */
  to: 'regional' | 'foreign';
  status?: 301 | 302 | 303 | 307 | 308;
}

export interface ExchangeOptions {
  /** Mailboxes seeded in each tenant's organisation; default 5. */
  mailboxes?: number;
  latencyMs?: number;
  maxConcurrentPerTenant?: number;
  concurrencyRetryAfterSeconds?: number;
  cursorTtlMs?: number;
  /** Who applies ResultSize's default of 1000 and gives the notice: 'server' (default) or 'client'. */
  resultSizeBy?: 'server' | 'client';
}

export interface MintOptions {
  tenant?: string;
  endpoint?: AdminEndpoint;
  audience?: string;
  roles?: string[];
  lifetimeSeconds?: number;
  /** Sign with a key that is not the emulator's Entra key. */
  forged?: boolean;
  clientId?: string;
}

export interface ExchangeApi {
  /** Exchange resource and API host: `https://localhost:<port>` (token audience and InvokeCommand host). */
  readonly url: string;
  readonly complianceUrl: string;
  readonly regionalUrl: string;
  readonly complianceRegionalUrl: string;
  /** Another host (127.0.0.1): a client must not send a bearer token there. */
  readonly foreignUrl: string;
  /** `exchange=<url>,compliance=<url>`: the `resources` input / `--resource` values that move tokens and API here. */
  readonly resources: string;
  invokeUrl(options?: { tenant?: string; endpoint?: AdminEndpoint }): string;
  moduleFileUrl(options?: { tenant?: string; endpoint?: AdminEndpoint }): string;
  readonly requests: AdminRequestRecord[];
  /** InvokeCommand records, optionally for one cmdlet. */
  invocations(cmdlet?: string): AdminRequestRecord[];
  /** Largest `inFlight` seen for a tenant (default: the default tenant). */
  maxInFlight(tenant?: string): number;
  organization(tenant?: string, endpoint?: AdminEndpoint): Organization;
  injectFaults(faults: AdminFault[]): void;
  redirect: RedirectMode | undefined;
  latencyMs: number;
  maxConcurrentPerTenant: number;
  concurrencyRetryAfterSeconds: number;
  cursorTtlMs: number;
  /** See ExchangeOptions.resultSizeBy; applies to every organisation. */
  resultSizeBy: 'server' | 'client';
  /** Mailboxes a tenant's organisation starts with (applies to organisations created after the change). */
  mailboxes: number;
  /** A token for the admin API signed like Entra's, without a token request (for tests of the emulator itself). */
  mintToken(options?: MintOptions): string;
  reset(): void;
  close(): Promise<void>;
}

/** What the admin API needs from the rest of the emulator. */
export interface ExchangeContext {
  ca: TestCa;
  entraKey: SigningKey;
  authorityHost: string;
  defaultTenantId: string;
  defaultClientId: string;
  tenants: () => readonly {
    id: string;
    domains: string[];
    apps: { clientId: string; directoryRoles?: string[] | undefined }[];
  }[];
  issued: string[];
}

interface Cursor {
  id: string;
  tenantId: string;
  anchor: string;
  rows: Row[];
  offset: number;
  select: string[] | undefined;
  created: number;
  endpoint: AdminEndpoint;
  /** The page number this cursor yields (1 for the first nextLink). */
  page: number;
}

const MAX_REQUEST_BYTES = 8 * 1024 * 1024;

const DEFAULTS = {
  mailboxes: 5,
  latencyMs: 0,
  maxConcurrentPerTenant: 5,
  concurrencyRetryAfterSeconds: 0.25,
  cursorTtlMs: 30 * 60 * 1000,
  resultSizeBy: 'server' as 'server' | 'client',
};

interface Listener {
  host: ExchangeHost;
  server: Server;
  origin: string;
  sockets: Set<Socket>;
}

export async function startExchangeApi(
  context: ExchangeContext,
  options: ExchangeOptions = {},
): Promise<ExchangeApi> {
  const requests: AdminRequestRecord[] = [];
  const faults: AdminFault[] = [];
  const cursors = new Map<string, Cursor>();
  const organizations = new Map<string, Organization>();
  const inFlight = new Map<string, number>();
  const settings = { ...DEFAULTS, ...options, redirect: undefined as RedirectMode | undefined };

  const listeners = new Map<ExchangeHost, Listener>();
  const bind: [ExchangeHost, string][] = [
    ['exchange', 'localhost'],
    ['compliance', 'localhost'],
    ['exchangeRegional', 'localhost'],
    ['complianceRegional', 'localhost'],
    ['foreign', '127.0.0.1'],
  ];
  for (const [host, name] of bind) listeners.set(host, await listen(context.ca, host, name, handle));
  const origin = (host: ExchangeHost): string => listeners.get(host)?.origin ?? '';
  const endpointOf = (host: ExchangeHost): AdminEndpoint =>
    host === 'compliance' || host === 'complianceRegional' ? 'compliance' : 'exchange';
  const resourceOf = (endpoint: AdminEndpoint): string => origin(endpoint);

  function findTenant(segment: string): ReturnType<ExchangeContext['tenants']>[number] | undefined {
    const wanted = segment.toLowerCase();
    return context
      .tenants()
      .find((t) => t.id === wanted || t.domains.some((d) => d.toLowerCase() === wanted));
  }

  function organization(tenantId: string, endpoint: AdminEndpoint): Organization {
    const key = `${tenantId}/${endpoint}`;
    let org = organizations.get(key);
    if (!org) {
      const tenant = findTenant(tenantId);
      org = new Organization(tenantId, tenant?.domains ?? [], endpoint, settings.mailboxes);
      org.resultSizeBy = settings.resultSizeBy;
      organizations.set(key, org);
    }
    return org;
  }

  async function handle(host: ExchangeHost, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', origin(host));
    const { record, bearerToken, tenantSegment } = recordOf(host, req, url);
    const headers = record.headers;
    const skiptoken = url.searchParams.get('$skiptoken');
    if (skiptoken !== null) record.page = cursors.get(skiptoken)?.page ?? 1;
    requests.push(record);

    const body = await readBody(req);
    if (body === undefined) return send(res, record, EXO.badBody('larger than 8 MB'));
    const parsed = parseJson(body);
    const cmdletInput = (
      parsed as { CmdletInput?: { CmdletName?: unknown; Parameters?: unknown } } | undefined
    )?.CmdletInput;
    const cmdlet =
      typeof cmdletInput?.CmdletName === 'string' ? cmdletInput.CmdletName : headers['x-cmdletname'];
    if (cmdlet !== undefined) record.cmdlet = cmdlet;
    if (cmdletInput && 'Parameters' in cmdletInput) record.parameters = cmdletInput.Parameters;

    if (host === 'foreign')
      return send(res, record, {
        status: 404,
        body: '{"error":{"code":"NotFound","message":"This is not an Exchange host."}}',
        contentType: 'application/json',
      });
    if (record.kind === 'other')
      return send(res, record, { status: 404, body: '', contentType: 'text/plain' });

    const fault = takeFault(record);
    if (fault) {
      const handled = await applyFault(fault, record, req, res);
      if (handled) return;
    }
    if ((host === 'exchange' || host === 'compliance') && settings.redirect) {
      return send(res, record, redirectAnswer(host, settings.redirect, url));
    }
    const endpoint = endpointOf(host);
    const auth = authenticate(bearerToken, endpoint, tenantSegment);
    if (!auth.ok) return send(res, record, auth.answer);
    if (record.kind === 'moduleFile')
      return send(res, record, moduleFileAnswer(host, tenantSegment, headers));

    const tenantId = auth.tenantId;
    const count = (inFlight.get(tenantId) ?? 0) + 1;
    if (count > settings.maxConcurrentPerTenant) {
      record.inFlight = count;
      return send(res, record, EXO.concurrency(settings.concurrencyRetryAfterSeconds));
    }
    inFlight.set(tenantId, count);
    record.inFlight = count;
    try {
      if (settings.latencyMs > 0) await new Promise((r) => setTimeout(r, settings.latencyMs));
      const answer =
        skiptoken !== null
          ? nextPage(skiptoken, tenantId, record, headers, host, tenantSegment)
          : firstPage(cmdletInput, parsed, tenantId, endpoint, record, headers, url, host, tenantSegment);
      send(res, record, answer);
    } finally {
      inFlight.set(tenantId, (inFlight.get(tenantId) ?? 1) - 1);
    }
  }

  /** The front door's regional redirect: the same path on the regional host (same domain) or the foreign one. */
  function redirectAnswer(host: 'exchange' | 'compliance', mode: RedirectMode, url: URL): AdminAnswer {
    const target =
      mode.to === 'foreign' ? 'foreign' : host === 'exchange' ? 'exchangeRegional' : 'complianceRegional';
    return {
      status: mode.status ?? 302,
      body: '',
      headers: { location: `${origin(target)}${url.pathname}${url.search}` },
    };
  }

  function authenticate(
    token: string | undefined,
    endpoint: AdminEndpoint,
    tenantSegment: string,
  ): { ok: true; tenantId: string } | { ok: false; answer: AdminAnswer } {
    const fail = (reason: string): { ok: false; answer: AdminAnswer } => ({
      ok: false,
      answer: unauthorized(reason, context.authorityHost),
    });
    if (token === undefined) return fail('The request has no bearer token.');
    const jwt = decodeJwt(token);
    if (!jwt || !verifySignature(jwt, context.entraKey.publicKey))
      return fail('The token signature is not valid.');
    const claims = jwt.claims;
    const now = Math.floor(Date.now() / 1000);
    const exp = typeof claims['exp'] === 'number' ? claims['exp'] : 0;
    if (exp <= now) return fail('The token has expired.');
    const aud = typeof claims['aud'] === 'string' ? claims['aud'].replace(/\/+$/, '') : '';
    const resource = resourceOf(endpoint);
    if (aud !== resource) return fail(`The audience claim value '${aud}' is invalid for ${resource}.`);
    const tenant = findTenant(tenantSegment);
    const tid = typeof claims['tid'] === 'string' ? claims['tid'] : '';
    if (!tenant || tenant.id !== tid) {
      return fail(
        `The token's tenant '${tid}' does not match the tenant in the request URL ('${tenantSegment}').`,
      );
    }
    const roles = Array.isArray(claims['roles']) ? (claims['roles'] as unknown[]) : [];
    if (!roles.includes(EXCHANGE_MANAGE_AS_APP)) {
      return fail(`The token has no ${EXCHANGE_MANAGE_AS_APP} role (roles: ${roles.join(', ') || 'none'}).`);
    }
    const app = tenant.apps.find((a) => a.clientId === claims['appid']);
    const directoryRoles = app?.directoryRoles ?? DEFAULT_DIRECTORY_ROLES;
    if (directoryRoles.length === 0) return { ok: false, answer: EXO.noRole() };
    return { ok: true, tenantId: tenant.id };
  }

  function firstPage(
    cmdletInput: { CmdletName?: unknown; Parameters?: unknown } | undefined,
    parsed: unknown,
    tenantId: string,
    endpoint: AdminEndpoint,
    record: AdminRequestRecord,
    headers: Record<string, string>,
    url: URL,
    host: ExchangeHost,
    tenantSegment: string,
  ): AdminAnswer {
    if (parsed === undefined) return EXO.badBody('not JSON');
    if (!cmdletInput || typeof cmdletInput.CmdletName !== 'string')
      return EXO.badBody('CmdletInput.CmdletName is required');
    const raw = cmdletInput.Parameters;
    if (raw === null || raw === undefined) return EXO.nullParameters();
    if (typeof raw !== 'object' || Array.isArray(raw))
      return EXO.badBody('CmdletInput.Parameters must be an object');
    const decoded = decodeParameters(raw as Row);
    if ('error' in decoded) return decoded.error;
    const outcome = organization(tenantId, endpoint).run(cmdletInput.CmdletName, decoded.parameters);
    if (!outcome.ok) return outcome.answer;
    const select = url.searchParams
      .get('$select')
      ?.split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    const cursor: Cursor = {
      id: randomUUID(),
      tenantId,
      anchor: (record.anchor ?? '').toLowerCase(),
      rows: outcome.rows,
      offset: 0,
      select,
      created: Date.now(),
      endpoint,
      page: 0,
    };
    return page(cursor, outcome.warnings, headers, host, tenantSegment);
  }

  function nextPage(
    id: string,
    tenantId: string,
    record: AdminRequestRecord,
    headers: Record<string, string>,
    host: ExchangeHost,
    tenantSegment: string,
  ): AdminAnswer {
    const cursor = cursors.get(id);
    // The cursor lives on the backend that served page 1, which the anchor routes to: another anchor (or none)
    // lands elsewhere, where the cursor is unknown.
    if (
      !cursor ||
      cursor.tenantId !== tenantId ||
      cursor.anchor === '' ||
      cursor.anchor !== (record.anchor ?? '').toLowerCase() ||
      Date.now() - cursor.created > settings.cursorTtlMs
    ) {
      return EXO.pagination();
    }
    cursors.delete(id);
    return page(cursor, [], headers, host, tenantSegment);
  }

  function page(
    cursor: Cursor,
    warnings: string[],
    headers: Record<string, string>,
    host: ExchangeHost,
    tenantSegment: string,
  ): AdminAnswer {
    const size = pageSize(headers['prefer']);
    const slice = cursor.rows.slice(cursor.offset, cursor.offset + size);
    const next = cursor.offset + slice.length;
    const base = `${origin(host)}/adminapi/beta/${tenantSegment}`;
    const body: Record<string, unknown> = {
      '@odata.context': `${base}/$metadata#Collection(Exchange.GenericHashTable)`,
      '@adminapi.warnings': warnings,
      value: slice.map((row) => serialise(row, cursor.select)),
    };
    if (next < cursor.rows.length) {
      const id = randomUUID();
      cursors.set(id, { ...cursor, id, offset: next, page: cursor.page + 1 });
      const select = cursor.select ? `$select=${cursor.select.join(',')}&` : '';
      body['@odata.nextLink'] = `${base}/InvokeCommand?${select}$skiptoken=${id}`;
    }
    return {
      status: 200,
      body: JSON.stringify(body),
      contentType: 'application/json; odata.metadata=minimal; odata.streaming=true; charset=utf-8',
      headers: { 'preference-applied': `odata.maxpagesize=${size}` },
    };
  }

  function moduleFileAnswer(
    host: ExchangeHost,
    tenantSegment: string,
    headers: Record<string, string>,
  ): AdminAnswer {
    const all = MODULE_CMDLETS[endpointOf(host)];
    const wanted = (headers['commandname'] ?? '*')
      .split(',')
      .map((s) => s.trim().toLowerCase())
      .filter(Boolean);
    const cmdlets =
      wanted.includes('*') || wanted.length === 0
        ? all
        : all.filter((c) => wanted.some((w) => wildcard(w).test(c)));
    return {
      status: 200,
      contentType: 'application/json; odata.metadata=minimal; charset=utf-8',
      body: JSON.stringify({
        '@odata.context': `${origin(host)}/adminapi/v1.0/${tenantSegment}/$metadata#EXOModuleFile`,
        value: [{ FileName: 'tmpEXO_emulator.psm1', Version: '3.9.0', exportedCmdlets: cmdlets.join(',') }],
      }),
    };
  }

  function takeFault(record: AdminRequestRecord): AdminFault | undefined {
    const index = faults.findIndex(
      (f) =>
        (f.host === undefined || f.host === record.host) &&
        (f.cmdlet === undefined || f.cmdlet.toLowerCase() === (record.cmdlet ?? '').toLowerCase()) &&
        (f.page === undefined || f.page === record.page) &&
        (f.kindOf ?? 'invoke') === record.kind,
    );
    return index === -1 ? undefined : faults.splice(index, 1)[0];
  }

  /** Applies a fault; false when the request should then be served normally (a delay). */
  async function applyFault(
    fault: AdminFault,
    record: AdminRequestRecord,
    req: IncomingMessage,
    res: ServerResponse,
  ): Promise<boolean> {
    switch (fault.kind) {
      case 'reset':
        record.status = -1;
        record.end = Date.now();
        req.socket.destroy();
        return true;
      case 'hang':
        record.status = -2;
        return true;
      case 'delay':
        await new Promise((r) => setTimeout(r, fault.ms));
        return false;
      case 'unauthorized':
        send(res, record, unauthorized('The token has expired.', context.authorityHost));
        return true;
      case 'oversized':
        sendOversized(res, record, fault.bytes);
        return true;
      case 'status': {
        const retryAfter =
          fault.retryAfterSeconds === undefined
            ? {}
            : { 'retry-after': formatSeconds(fault.retryAfterSeconds) };
        const answer: AdminAnswer =
          fault.body === 'html'
            ? EXO.html(fault.status)
            : fault.body === 'empty'
              ? { status: fault.status, body: '' }
              : fault.body === 'nul'
                ? { ...EXO.noRole(), status: fault.status }
                : fault.body === 'concurrency'
                  ? {
                      ...EXO.concurrency(fault.retryAfterSeconds ?? settings.concurrencyRetryAfterSeconds),
                      status: fault.status,
                    }
                  : fault.status === 500
                    ? EXO.transient()
                    : {
                        status: fault.status,
                        body: JSON.stringify({
                          error: {
                            code: 'ServiceUnavailable',
                            message: `The service answered HTTP ${fault.status}.`,
                          },
                        }),
                        contentType: 'application/json',
                      };
        send(res, record, { ...answer, headers: { ...answer.headers, ...retryAfter } });
        return true;
      }
    }
  }

  function send(res: ServerResponse, record: AdminRequestRecord, answer: AdminAnswer): void {
    record.status = answer.status;
    record.end = Date.now();
    const body = typeof answer.body === 'string' ? Buffer.from(answer.body, 'utf8') : answer.body;
    record.bytes = body.length;
    res.writeHead(answer.status, {
      ...(answer.contentType && { 'content-type': answer.contentType }),
      'cache-control': 'private',
      'request-id': randomUUID(),
      'x-calculatedbetarget': 'NAMPR01MB0001.namprd01.prod.outlook.com',
      'rate-limit-limit': '30000',
      'rate-limit-remaining': '29999',
      'rate-limit-reset': new Date(Date.now() + 3_600_000).toISOString(),
      ...(record.kind === 'invoke' && { 'x-concurrencycount': String(record.inFlight) }),
      ...answer.headers,
    });
    res.end(body);
  }

  function sendOversized(res: ServerResponse, record: AdminRequestRecord, bytes: number): void {
    record.status = 200;
    record.bytes = bytes;
    res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'request-id': randomUUID() });
    const head = '{"@adminapi.warnings":[],"value":[{"Name":"big","Pad":"';
    const tail = '"}]}';
    let left = Math.max(0, bytes - head.length - tail.length);
    res.write(head);
    const chunk = 'x'.repeat(64 * 1024);
    const pump = (): void => {
      while (left > 0) {
        const piece = left >= chunk.length ? chunk : chunk.slice(0, left);
        left -= piece.length;
        if (!res.write(piece)) {
          res.once('drain', pump);
          return;
        }
      }
      res.end(tail);
      record.end = Date.now();
    };
    res.on('error', () => undefined);
    pump();
  }

  function mintToken(options: MintOptions = {}): string {
    const tenant = findTenant(options.tenant ?? context.defaultTenantId);
    const tenantId = tenant?.id ?? options.tenant ?? context.defaultTenantId;
    const clientId = options.clientId ?? context.defaultClientId;
    const app = tenant?.apps.find((a) => a.clientId === clientId);
    const now = Math.floor(Date.now() / 1000);
    const directoryRoles = app?.directoryRoles ?? DEFAULT_DIRECTORY_ROLES;
    const claims = {
      aud: options.audience ?? resourceOf(options.endpoint ?? 'exchange'),
      iss: `https://sts.windows.net/${tenantId}/`,
      iat: now,
      nbf: now,
      exp: now + (options.lifetimeSeconds ?? 3599),
      appid: clientId,
      appidacr: '2',
      idtyp: 'app',
      oid: '0d1e2f3a-4b5c-4d6e-8f70-8192a3b4c5d6',
      roles: options.roles ?? [EXCHANGE_MANAGE_AS_APP],
      tid: tenantId,
      uti: randomBytes(16).toString('base64url'),
      ver: '1.0',
      wids: directoryRolesWids(directoryRoles),
    };
    const token = options.forged
      ? `${signJwt(claims, context.entraKey).split('.').slice(0, 2).join('.')}.${randomBytes(256).toString('base64url')}`
      : signJwt(claims, context.entraKey, { x5t: context.entraKey.kid });
    context.issued.push(token);
    return token;
  }

  const api: ExchangeApi = {
    url: origin('exchange'),
    complianceUrl: origin('compliance'),
    regionalUrl: origin('exchangeRegional'),
    complianceRegionalUrl: origin('complianceRegional'),
    foreignUrl: origin('foreign'),
    resources: `exchange=${origin('exchange')},compliance=${origin('compliance')}`,
    invokeUrl: ({ tenant = context.defaultTenantId, endpoint = 'exchange' } = {}) =>
      `${origin(endpoint)}/adminapi/beta/${tenant}/InvokeCommand`,
    moduleFileUrl: ({ tenant = context.defaultTenantId, endpoint = 'exchange' } = {}) =>
      `${origin(endpoint)}/adminapi/v1.0/${tenant}/EXOModuleFile`,
    requests,
    invocations: (cmdlet) =>
      requests.filter(
        (r) =>
          r.kind === 'invoke' && (cmdlet === undefined || r.cmdlet?.toLowerCase() === cmdlet.toLowerCase()),
      ),
    maxInFlight: (tenant = context.defaultTenantId) =>
      Math.max(
        0,
        ...requests
          .filter((r) => r.kind === 'invoke' && findTenant(r.tenant ?? '')?.id === findTenant(tenant)?.id)
          .map((r) => r.inFlight),
      ),
    organization: (tenant = context.defaultTenantId, endpoint = 'exchange') =>
      organization(findTenant(tenant)?.id ?? tenant, endpoint),
    injectFaults: (list) => {
      faults.push(...list);
    },
    get redirect() {
      return settings.redirect;
    },
    set redirect(value) {
      settings.redirect = value;
    },
    get latencyMs() {
      return settings.latencyMs;
    },
    set latencyMs(value) {
      settings.latencyMs = value;
    },
    get maxConcurrentPerTenant() {
      return settings.maxConcurrentPerTenant;
    },
    set maxConcurrentPerTenant(value) {
      settings.maxConcurrentPerTenant = value;
    },
    get concurrencyRetryAfterSeconds() {
      return settings.concurrencyRetryAfterSeconds;
    },
    set concurrencyRetryAfterSeconds(value) {
      settings.concurrencyRetryAfterSeconds = value;
    },
    get cursorTtlMs() {
      return settings.cursorTtlMs;
    },
    set cursorTtlMs(value) {
      settings.cursorTtlMs = value;
    },
    get resultSizeBy() {
      return settings.resultSizeBy;
    },
    set resultSizeBy(value) {
      settings.resultSizeBy = value;
      for (const org of organizations.values()) org.resultSizeBy = value;
    },
    get mailboxes() {
      return settings.mailboxes;
    },
    set mailboxes(value) {
      settings.mailboxes = value;
    },
    mintToken,
    reset() {
      requests.length = 0;
      faults.length = 0;
      cursors.clear();
      organizations.clear();
      inFlight.clear();
      Object.assign(settings, DEFAULTS, options, { redirect: undefined });
    },
    async close() {
      await Promise.all(
        [...listeners.values()].map(async (l) => {
          for (const socket of l.sockets) socket.destroy();
          await new Promise<void>((resolve) => l.server.close(() => resolve()));
        }),
      );
    },
  };
  return api;
}

/** A request as recorded, headers included (the bearer token redacted, its claims kept). */
function recordOf(
  host: ExchangeHost,
  req: IncomingMessage,
  url: URL,
): { record: AdminRequestRecord; bearerToken: string | undefined; tenantSegment: string } {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  const authorization = headers['authorization'];
  const bearerToken = /^bearer\s+(\S+)$/i.exec(authorization ?? '')?.[1];
  if (authorization !== undefined) headers['authorization'] = 'Bearer <redacted>';
  const invoke = /^\/adminapi\/beta\/([^/]+)\/invokecommand$/i.exec(url.pathname);
  const moduleFile = /^\/adminapi\/v1\.0\/([^/]+)\/exomodulefile$/i.exec(url.pathname);
  const record: AdminRequestRecord = {
    host,
    kind: invoke ? 'invoke' : moduleFile ? 'moduleFile' : 'other',
    method: req.method ?? 'GET',
    path: url.pathname,
    query: url.search,
    headers,
    bearer: bearerToken !== undefined,
    page: 0,
    status: 0,
    start: Date.now(),
    end: 0,
    inFlight: 0,
    bytes: 0,
  };
  const claims = bearerToken === undefined ? undefined : decodeJwt(bearerToken)?.claims;
  if (claims) record.tokenClaims = claims;
  const tenantSegment = decodeURIComponent((invoke ?? moduleFile)?.[1] ?? '');
  if (tenantSegment !== '') record.tenant = tenantSegment;
  if (headers['x-anchormailbox'] !== undefined) record.anchor = headers['x-anchormailbox'];
  if (headers['client-request-id'] !== undefined) record.clientRequestId = headers['client-request-id'];
  return { record, bearerToken, tenantSegment };
}

function directoryRolesWids(roles: readonly string[]): string[] {
  // Every app-only token carries the default role of service principals; assigned roles add theirs.
  return ['0997a1d0-0d1d-4acb-b408-d5ca73121e90', ...roles.map((r) => ROLE_TEMPLATE_IDS[r] ?? r)];
}

export function exchangeWids(roles: readonly string[] | undefined): string[] {
  return directoryRolesWids(roles ?? DEFAULT_DIRECTORY_ROLES);
}

async function listen(
  ca: TestCa,
  host: ExchangeHost,
  hostname: string,
  handle: (host: ExchangeHost, req: IncomingMessage, res: ServerResponse) => Promise<void>,
): Promise<Listener> {
  const sockets = new Set<Socket>();
  const server = createServer({ key: ca.key, cert: ca.cert }, (req, res) => {
    void handle(host, req, res).catch((error: unknown) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(`emulator error: ${String(error)}`);
    });
  });
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  server.keepAliveTimeout = 5_000;
  // localhost resolves to 127.0.0.1 here; listening there keeps "localhost" and "127.0.0.1" distinct host names
  // for the same address, which is what the foreign host needs.
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return { host, server, origin: `https://${hostname}:${port}`, sockets };
}

async function readBody(req: IncomingMessage): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_REQUEST_BYTES) return undefined;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function parseJson(text: string): unknown {
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** `Prefer: odata.maxpagesize=N` (spaces tolerated, as CIPP sends them), 1–1000; 1000 when absent. */
export function pageSize(prefer: string | undefined): number {
  const m = /odata\.maxpagesize\s*=\s*(\d+)/i.exec(prefer ?? '');
  const n = m ? Number(m[1]) : 1000;
  return Math.min(1000, Math.max(1, n));
}

function wildcard(pattern: string): RegExp {
  return new RegExp(`^${pattern.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`, 'i');
}

const HASHTABLE = '#Exchange.GenericHashTable';
const HASHTABLE_COLLECTION = '#Collection(Exchange.GenericHashTable)';

/**
 * Checks the module's parameter encoding and removes its tags: a hashtable must carry
 * `"@odata.type":"#Exchange.GenericHashTable"` (nested ones too), an array of hashtables the sibling key
 * `"<Param>@odata.type":"#Collection(Exchange.GenericHashTable)"`. Without them the service cannot bind the value.
 */
export function decodeParameters(raw: Row): { parameters: Row } | { error: AdminAnswer } {
  const parameters: Row = {};
  for (const [key, value] of Object.entries(raw)) {
    if (key.includes('@')) continue;
    if (Array.isArray(value) && value.some(isPlainObject)) {
      if (raw[`${key}@odata.type`] !== HASHTABLE_COLLECTION) return { error: EXO.hashtable(key) };
      const items: unknown[] = [];
      for (const item of value as unknown[]) {
        const decoded = isPlainObject(item) ? untag(item, key) : item;
        if (decoded instanceof Error) return { error: EXO.hashtable(key) };
        items.push(decoded);
      }
      parameters[key] = items;
    } else if (isPlainObject(value)) {
      if (value['@odata.type'] !== HASHTABLE) return { error: EXO.hashtable(key) };
      const decoded = untag(value, key);
      if (decoded instanceof Error) return { error: EXO.hashtable(key) };
      parameters[key] = decoded;
    } else {
      parameters[key] = value;
    }
  }
  return { parameters };
}

function untag(value: Row, parameter: string): Row | Error {
  const out: Row = {};
  for (const [k, v] of Object.entries(value)) {
    if (k === '@odata.type') continue;
    if (isPlainObject(v)) {
      if (v['@odata.type'] !== HASHTABLE) return new Error(parameter);
      const inner = untag(v, parameter);
      if (inner instanceof Error) return inner;
      out[k] = inner;
    } else out[k] = v;
  }
  return out;
}

function isPlainObject(value: unknown): value is Row {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
