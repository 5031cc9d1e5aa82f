/**
 * A local stand-in for GitHub's OIDC token service and Entra ID's v2.0 token endpoint, over HTTPS with a test CA.
 * It checks client assertions the way Entra does for federated credentials (signature against the issuer's key,
 * issuer, subject, audience, lifetime), answers in Entra's error format, counts requests, and injects faults.
 * It keeps its own table of cloud resources on purpose: sharing src/'s would hide mistakes in it.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { join } from 'node:path';
import { testCa } from './ca.ts';
import { ENTRA, entraErrorBody, type EntraError } from './errors.ts';
import { decodeJwt, newSigningKey, signJwt, verifySignature } from './jwt.ts';
import { exchangeWids, startExchangeApi, type ExchangeApi, type ExchangeOptions } from './exchange.ts';

export const GITHUB_ISSUER = 'https://token.actions.githubusercontent.com';
export const EXCHANGE_APP_ID = '00000002-0000-0ff1-ce00-000000000000';

/** Resources each cloud's tenants have service principals for (clouds.md). */
export const CLOUD_RESOURCES: Readonly<Record<string, readonly string[]>> = {
  O365Default: [
    'https://outlook.office365.com',
    'https://ps.compliance.protection.outlook.com',
    'https://graph.microsoft.com',
  ],
  O365USGovGCCHigh: [
    'https://outlook.office365.us',
    'https://ps.compliance.protection.office365.us',
    'https://graph.microsoft.us',
  ],
  O365USGovDoD: [
    'https://outlook-dod.office365.us',
    'https://ps.compliance.protection.office365.us',
    'https://dod-graph.microsoft.us',
  ],
  O365China: [
    'https://partner.outlook.cn',
    'https://ps.compliance.protection.partner.outlook.cn',
    'https://microsoftgraph.chinacloudapi.cn',
  ],
};

export interface FederatedCredential {
  issuer: string;
  subject: string;
  audiences: string[];
}

export interface AppConfig {
  clientId: string;
  federatedCredentials: FederatedCredential[];
  /** Application permissions granted (admin-consented) per resource URL. */
  appRoles: Record<string, string[]>;
  /**
   * Entra directory roles assigned to the app's service principal (e.g. 'Exchange Administrator', 'Global Reader').
   * Unset: Exchange Administrator. `[]`: none, and the Exchange admin API answers 403 with a NUL-byte body.
   */
  directoryRoles?: string[];
}

export interface TenantConfig {
  id: string;
  domains: string[];
  cloud: string;
  apps: AppConfig[];
}

export interface IdTokenConfig {
  issuer: string;
  subject: string;
  lifetimeSeconds: number;
  /** Added to iat for nbf (negative = valid slightly before issue, as GitHub does). */
  notBeforeOffsetSeconds: number;
  /** Shifts iat/nbf/exp (e.g. -600 to present an already-expired token). */
  issuedAtOffsetSeconds: number;
  claims: Record<string, unknown>;
  /**
   * Who signs the ID token: 'github' (the key GitHub's JWKS publishes), 'foreign' (another key, with its own kid,
   * as a token minted by some other provider would be), or 'forged' (another key claiming GitHub's kid).
   */
  signedBy: 'github' | 'foreign' | 'forged';
}

/**
 * A fault for the next matching request. `body` 'github' is GitHub's error shape (`{"message": …}`). `resource`
 * limits a token-endpoint fault to requests for that resource URL, so concurrent requests for other resources
 * pass it by.
 */
export type Fault = (
  | {
      kind: 'status';
      status: number;
      retryAfterSeconds?: number;
      body?: 'entra' | 'github' | 'html' | 'empty';
    }
  | { kind: 'reset' }
  | { kind: 'hang' }
  | { kind: 'delay'; ms: number }
  | { kind: 'entraError'; code: 50196; retryAfterSeconds?: number }
  /** HTTP 200 whose body streams `bytes` bytes in 64 KiB chunks, without a Content-Length. */
  | { kind: 'oversized'; bytes: number }
  /** HTTP 200 with this JSON body instead of the real answer (a malformed token answer). */
  | { kind: 'answer'; body: unknown }
) & { resource?: string };

export type Endpoint = 'oidc' | 'token' | 'discovery' | 'other';

export interface RequestRecord {
  endpoint: Endpoint;
  method: string;
  path: string;
  status: number;
  start: number;
  end: number;
  tenant?: string;
  clientId?: string;
  scope?: string;
  correlationId?: string;
  audience?: string;
  /** jti of the client assertion presented to the token endpoint (tells a re-fetched ID token from a reused one). */
  assertionId?: string;
}

export interface EmulatorOptions {
  tenants?: TenantConfig[];
  idToken?: Partial<IdTokenConfig>;
  accessTokenLifetimeSeconds?: number;
  /** Entra's tolerance for clock skew on assertion nbf/exp. */
  clockSkewSeconds?: number;
  /**
   * Answer federated-credential mismatches as tenants did before the per-claim codes: AADSTS70021 naming issuer,
   * subject and audience (and case-insensitive subject matching, so no AADSTS7002138). Default: today's codes,
   * AADSTS700211 (issuer), 700213 (subject), 7002138 (subject differs only in case), 700212 (audience).
   */
  legacyNoMatch?: boolean;
  /** The Exchange admin API's organisation size, latency, per-tenant concurrency cap and cursor lifetime. */
  exchange?: ExchangeOptions;
}

export const DEFAULTS = {
  tenantId: '8c3d2b5e-7a1f-4e6b-9d0c-2f4a6b8e1c3d',
  domain: 'contoso.onmicrosoft.com',
  clientId: '5f0d7c9a-3b2e-4d6f-8a1c-9e7b4d2f6a0c',
  subject: 'repo:octo-org/exo-audit:ref:refs/heads/main',
  audience: 'api://AzureADTokenExchange',
} as const;

export function defaultTenant(): TenantConfig {
  return {
    id: DEFAULTS.tenantId,
    domains: [DEFAULTS.domain],
    cloud: 'O365Default',
    apps: [
      {
        clientId: DEFAULTS.clientId,
        federatedCredentials: [
          { issuer: GITHUB_ISSUER, subject: DEFAULTS.subject, audiences: [DEFAULTS.audience] },
        ],
        appRoles: {
          'https://outlook.office365.com': ['Exchange.ManageAsApp'],
          'https://ps.compliance.protection.outlook.com': ['Exchange.ManageAsApp'],
        },
      },
    ],
  };
}

export interface Emulator {
  readonly port: number;
  readonly authorityHost: string;
  readonly tenantId: string;
  readonly clientId: string;
  readonly domain: string;
  readonly caFile: string;
  readonly ca: string;
  readonly oidcRequestUrl: string;
  readonly oidcRequestToken: string;
  readonly jwksUrl: string;
  readonly accessTokenPublicKeyPem: string;
  readonly accessTokenPublicKeyFile: string;
  /** ACTIONS_ID_TOKEN_REQUEST_URL, ACTIONS_ID_TOKEN_REQUEST_TOKEN, NODE_EXTRA_CA_CERTS. */
  readonly env: Record<string, string>;
  readonly requests: RequestRecord[];
  /**
   * The Exchange admin API (InvokeCommand, EXOModuleFile) on its own hosts. Its URLs are resources every test
   * tenant knows: `resources: emulator.exchange.resources` mints tokens whose audience it accepts.
   */
  readonly exchange: ExchangeApi;
  /** TCP connections accepted, including ones whose TLS handshake failed (they never show in `requests`). */
  readonly connections: number;
  tenants: TenantConfig[];
  idToken: IdTokenConfig;
  accessTokenLifetimeSeconds: number;
  legacyNoMatch: boolean;
  /** Every token the emulator handed out (ID tokens and access tokens), in order: what a run must keep secret. */
  readonly issued: readonly string[];
  counts(): Record<Endpoint, number>;
  injectFaults(endpoint: 'oidc' | 'token', faults: Fault[]): void;
  /** A GitHub-style ID token minted directly (for token-file and env-var sources). */
  mintIdToken(audience?: string): string;
  verifyAccessToken(token: string): Record<string, unknown>;
  reset(): void;
  close(): Promise<void>;
}

export async function startEmulator(options: EmulatorOptions = {}): Promise<Emulator> {
  const ca = testCa();
  const githubKey = newSigningKey(`gh-${randomBytes(4).toString('hex')}`);
  const entraKey = newSigningKey(`entra-${randomBytes(4).toString('hex')}`);
  const accessTokenPublicKeyFile = join(ca.dir, `${entraKey.kid}.pem`);
  writeFileSync(accessTokenPublicKeyFile, entraKey.publicPem);
  const oidcRequestToken = randomBytes(24).toString('base64url');
  const faults: Record<'oidc' | 'token', Fault[]> = { oidc: [], token: [] };
  const requests: RequestRecord[] = [];
  const sockets = new Set<Socket>();
  let connections = 0;
  // Not in GitHub's JWKS: signs 'foreign' and 'forged' ID tokens.
  const foreignKey = newSigningKey(`foreign-${randomBytes(4).toString('hex')}`);
  const issued: string[] = [];
  const skew = options.clockSkewSeconds ?? 300;

  const initialIdToken = (): IdTokenConfig => ({
    issuer: GITHUB_ISSUER,
    subject: DEFAULTS.subject,
    lifetimeSeconds: 300,
    notBeforeOffsetSeconds: -5,
    issuedAtOffsetSeconds: 0,
    claims: {},
    signedBy: 'github',
    ...options.idToken,
  });
  const state = {
    tenants: options.tenants ?? [defaultTenant()],
    idToken: initialIdToken(),
    accessTokenLifetimeSeconds: options.accessTokenLifetimeSeconds ?? 3599,
    legacyNoMatch: options.legacyNoMatch ?? false,
  };

  const mintIdToken = (audience: string): string => {
    const cfg = state.idToken;
    const iat = Math.floor(Date.now() / 1000) + cfg.issuedAtOffsetSeconds;
    const key = cfg.signedBy === 'github' ? githubKey : foreignKey;
    const kid = cfg.signedBy === 'foreign' ? foreignKey.kid : githubKey.kid;
    const token = signJwt(
      {
        jti: randomUUID(),
        sub: cfg.subject,
        aud: audience,
        ref: 'refs/heads/main',
        sha: 'f'.repeat(40),
        repository: 'octo-org/exo-audit',
        repository_owner: 'octo-org',
        repository_owner_id: '1001',
        repository_id: '2002',
        repository_visibility: 'private',
        run_id: '9001',
        run_number: '7',
        run_attempt: '1',
        actor: 'octocat',
        workflow: 'audit',
        event_name: 'push',
        ref_type: 'branch',
        job_workflow_ref: 'octo-org/exo-audit/.github/workflows/audit.yml@refs/heads/main',
        runner_environment: 'github-hosted',
        iss: cfg.issuer,
        nbf: iat + cfg.notBeforeOffsetSeconds,
        exp: iat + cfg.lifetimeSeconds,
        iat,
        ...cfg.claims,
      },
      key,
      { kid, x5t: kid },
    );
    issued.push(token);
    return token;
  };

  const server: Server = createServer({ key: ca.key, cert: ca.cert }, (req, res) => {
    void handle(req, res);
  });
  server.on('connection', (socket: Socket) => {
    connections++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  const authorityHost = `localhost:${port}`;
  const origin = `https://${authorityHost}`;
  const exchange = await startExchangeApi(
    {
      ca,
      entraKey,
      authorityHost,
      defaultTenantId: DEFAULTS.tenantId,
      defaultClientId: DEFAULTS.clientId,
      tenants: () => state.tenants,
      issued,
    },
    options.exchange,
  );
  /** The admin API's URLs stand for the cloud's Exchange and compliance resources (same roles, same checks). */
  const canonicalResource = (resource: string, cloud: string): string => {
    if (resource === exchange.url) return CLOUD_RESOURCES[cloud]?.[0] ?? resource;
    if (resource === exchange.complianceUrl) return CLOUD_RESOURCES[cloud]?.[1] ?? resource;
    return resource;
  };

  async function readBody(req: IncomingMessage): Promise<string> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString('utf8');
  }

  function classify(method: string, path: string): Endpoint {
    if (path.startsWith('/_apis/oidc/token')) return 'oidc';
    if (method === 'POST' && /^\/[^/]+\/oauth2\/v2\.0\/token$/.test(path)) return 'token';
    if (path.includes('/discovery/') || path.includes('/.well-known/')) return 'discovery';
    return 'other';
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', origin);
    const method = req.method ?? 'GET';
    const endpoint = classify(method, url.pathname);
    const record: RequestRecord = {
      endpoint,
      method,
      path: url.pathname,
      status: 0,
      start: Date.now(),
      end: 0,
    };
    requests.push(record);
    const send = (status: number, body: unknown, headers: Record<string, string> = {}): void => {
      record.status = status;
      record.end = Date.now();
      const text = typeof body === 'string' ? body : JSON.stringify(body);
      res.writeHead(status, {
        'content-type': typeof body === 'string' ? 'text/html' : 'application/json; charset=utf-8',
        'cache-control': 'no-store, no-cache',
        ...headers,
      });
      res.end(text);
    };
    const body = await readBody(req);
    let resource: string | undefined;
    if (endpoint === 'token') {
      const scope = new URLSearchParams(body).get('scope');
      if (scope !== null) record.scope = scope;
      resource = scope?.replace(/\/\.default$/, '');
      // Noted before any fault, so a retried request shows whether it presented the same ID token and a fault's
      // answer can be matched by its correlation id.
      const jti = decodeJwt(new URLSearchParams(body).get('client_assertion') ?? '')?.claims['jti'];
      if (typeof jti === 'string') record.assertionId = jti;
      const correlation = req.headers['client-request-id'];
      record.correlationId =
        typeof correlation === 'string' && correlation !== '' ? correlation : randomUUID();
    }

    if (endpoint === 'oidc' || endpoint === 'token') {
      const queue = faults[endpoint];
      const index = queue.findIndex((f) => f.resource === undefined || f.resource === resource);
      const fault = index === -1 ? undefined : queue.splice(index, 1)[0];
      if (fault) {
        if (fault.kind === 'reset') {
          record.status = -1;
          record.end = Date.now();
          req.socket.destroy();
          return;
        }
        if (fault.kind === 'hang') {
          record.status = -2;
          return; // never answered; close() destroys the socket
        }
        if (fault.kind === 'delay') await new Promise((r) => setTimeout(r, fault.ms));
        if (fault.kind === 'status') {
          const headers: Record<string, string> =
            fault.retryAfterSeconds === undefined ? {} : { 'retry-after': String(fault.retryAfterSeconds) };
          if (fault.body === 'html')
            return send(fault.status, '<html><body>Service Unavailable</body></html>', headers);
          if (fault.body === 'empty') return send(fault.status, '', headers);
          if (fault.body === 'github') {
            return send(fault.status, { message: `Request failed with status ${fault.status}` }, headers);
          }
          return send(
            fault.status,
            entraErrorBody(
              ENTRA.temporarilyUnavailable(fault.status),
              record.correlationId ?? randomUUID(),
              authorityHost,
            ),
            headers,
          );
        }
        if (fault.kind === 'oversized') {
          record.status = 200;
          res.writeHead(200, { 'content-type': 'application/json' });
          const chunk = Buffer.alloc(64 * 1024, 0x20);
          let left = fault.bytes;
          const pump = (): void => {
            while (left > 0 && !res.destroyed) {
              const part = left >= chunk.length ? chunk : chunk.subarray(0, left);
              left -= part.length;
              if (!res.write(part)) {
                res.once('drain', pump);
                return;
              }
            }
            res.end();
          };
          pump();
          return;
        }
        if (fault.kind === 'answer') return send(200, fault.body);
        if (fault.kind === 'entraError') {
          const err = ENTRA.loopDetected();
          const headers: Record<string, string> =
            fault.retryAfterSeconds === undefined ? {} : { 'retry-after': String(fault.retryAfterSeconds) };
          return send(
            err.status,
            entraErrorBody(err, record.correlationId ?? randomUUID(), authorityHost),
            headers,
          );
        }
      }
    }

    if (endpoint === 'oidc') {
      if (req.headers.authorization !== `Bearer ${oidcRequestToken}`) {
        return send(401, { message: 'Bad credentials' });
      }
      const audience = url.searchParams.get('audience') ?? `https://github.com/octo-org`;
      record.audience = audience;
      return send(200, { count: 1, value: mintIdToken(audience) });
    }
    if (endpoint === 'token') return token(url, body, record, send);
    if (endpoint === 'discovery') {
      const tenant = url.pathname.split('/')[1] ?? 'common';
      if (url.pathname.endsWith('/keys')) return send(200, { keys: [entraKey.jwk] });
      return send(200, {
        token_endpoint: `${origin}/${tenant}/oauth2/v2.0/token`,
        issuer: `${origin}/${tenant}/v2.0`,
        authorization_endpoint: `${origin}/${tenant}/oauth2/v2.0/authorize`,
        jwks_uri: `${origin}/${tenant}/discovery/v2.0/keys`,
      });
    }
    return send(404, { error: 'not_found' });
  }

  function token(
    url: URL,
    body: string,
    record: RequestRecord,
    send: (status: number, body: unknown, headers?: Record<string, string>) => void,
  ): void {
    const form = new URLSearchParams(body);
    const tenantParam = decodeURIComponent(url.pathname.split('/')[1] ?? '');
    const correlationId = record.correlationId ?? randomUUID();
    const clientId = form.get('client_id') ?? '';
    const scope = form.get('scope') ?? '';
    Object.assign(record, { tenant: tenantParam, clientId, scope, correlationId });
    const fail = (err: EntraError): void =>
      send(err.status, entraErrorBody(err, correlationId, authorityHost));

    // Entra's order: tenant, grant, client, credential, then the resource.
    const tenant = state.tenants.find(
      (t) =>
        t.id === tenantParam.toLowerCase() ||
        t.domains.some((d) => d.toLowerCase() === tenantParam.toLowerCase()),
    );
    if (!tenant) return fail(ENTRA.tenantNotFound(tenantParam));
    const grant = form.get('grant_type') ?? '';
    if (grant !== 'client_credentials') return fail(ENTRA.unsupportedGrant(grant));
    const app = tenant.apps.find((a) => a.clientId === clientId.toLowerCase());
    if (!app) return fail(ENTRA.applicationNotFound(clientId, tenant.domains[0] ?? tenant.id));
    const assertion = form.get('client_assertion');
    if (!assertion) return fail(ENTRA.credentialRequired());
    if (form.get('client_assertion_type') !== 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer') {
      return fail(ENTRA.assertionTypeInvalid());
    }
    const jwt = decodeJwt(assertion);
    if (!jwt) return fail(ENTRA.malformedAssertion());
    const iss = typeof jwt.claims['iss'] === 'string' ? jwt.claims['iss'] : '';
    const sub = typeof jwt.claims['sub'] === 'string' ? jwt.claims['sub'] : '';
    const aud = typeof jwt.claims['aud'] === 'string' ? jwt.claims['aud'] : '';
    const legacy = state.legacyNoMatch;
    const byIssuer = app.federatedCredentials.filter((c) => c.issuer === iss);
    if (byIssuer.length === 0) return fail(legacy ? ENTRA.noMatch(iss, sub, aud) : ENTRA.issuerNoMatch(iss));
    // Entra fetches the issuer's keys (GitHub's JWKS); here the only key GitHub signs with is ours.
    const keyId =
      [jwt.header['x5t'], jwt.header['kid']].find((v): v is string => typeof v === 'string') ?? '';
    if (keyId !== githubKey.kid) return fail(ENTRA.signingKeyNotFound(keyId, iss));
    if (iss !== state.idToken.issuer || !verifySignature(jwt, githubKey.publicKey)) {
      return fail(ENTRA.signatureInvalid(keyId));
    }
    const bySubject = legacy
      ? byIssuer.filter((c) => c.subject.toLowerCase() === sub.toLowerCase())
      : byIssuer.filter((c) => c.subject === sub);
    if (bySubject.length === 0) {
      if (legacy) return fail(ENTRA.noMatch(iss, sub, aud));
      if (byIssuer.some((c) => c.subject.toLowerCase() === sub.toLowerCase()))
        return fail(ENTRA.subjectCaseMismatch(sub));
      return fail(ENTRA.subjectNoMatch(sub));
    }
    if (!bySubject.some((c) => c.audiences.includes(aud)))
      return fail(legacy ? ENTRA.noMatch(iss, sub, aud) : ENTRA.audienceNoMatch(aud));
    const now = Math.floor(Date.now() / 1000);
    const nbf = typeof jwt.claims['nbf'] === 'number' ? jwt.claims['nbf'] : 0;
    const exp = typeof jwt.claims['exp'] === 'number' ? jwt.claims['exp'] : 0;
    if (now + skew < nbf || now - skew > exp) return fail(ENTRA.assertionTimeRange(new Date(), nbf, exp));

    if (!scope.endsWith('/.default') || scope.includes(' ')) return fail(ENTRA.invalidScope(scope));
    let resource = scope.slice(0, -'/.default'.length);
    if (resource === EXCHANGE_APP_ID) resource = CLOUD_RESOURCES[tenant.cloud]?.[0] ?? resource;
    const canonical = canonicalResource(resource, tenant.cloud);
    if (!(CLOUD_RESOURCES[tenant.cloud] ?? []).includes(canonical)) {
      return fail(ENTRA.resourceNotFound(resource, tenant.domains[0] ?? tenant.id));
    }

    const lifetime = state.accessTokenLifetimeSeconds;
    const roles = app.appRoles[resource] ?? app.appRoles[canonical] ?? [];
    const accessToken = signJwt(
      {
        aud: resource,
        iss: `https://sts.windows.net/${tenant.id}/`,
        iat: now,
        nbf: now,
        exp: now + lifetime,
        aio: randomBytes(16).toString('base64url'),
        app_displayname: 'exo-login test app',
        appid: app.clientId,
        appidacr: '2',
        idp: `https://sts.windows.net/${tenant.id}/`,
        idtyp: 'app',
        oid: '0d1e2f3a-4b5c-4d6e-8f70-8192a3b4c5d6',
        ...(roles.length > 0 && { roles }),
        sid: randomUUID(),
        sub: '0d1e2f3a-4b5c-4d6e-8f70-8192a3b4c5d6',
        tid: tenant.id,
        uti: randomBytes(16).toString('base64url'),
        ver: '1.0',
        wids: exchangeWids(app.directoryRoles),
      },
      entraKey,
      { x5t: entraKey.kid },
    );
    issued.push(accessToken);
    return send(200, {
      token_type: 'Bearer',
      expires_in: lifetime,
      ext_expires_in: lifetime,
      access_token: accessToken,
    });
  }

  const emulator: Emulator = {
    port,
    authorityHost,
    tenantId: DEFAULTS.tenantId,
    clientId: DEFAULTS.clientId,
    domain: DEFAULTS.domain,
    caFile: ca.caFile,
    ca: ca.ca,
    oidcRequestUrl: `${origin}/_apis/oidc/token?api-version=2.0`,
    oidcRequestToken,
    jwksUrl: `${origin}/common/discovery/v2.0/keys`,
    accessTokenPublicKeyPem: entraKey.publicPem,
    accessTokenPublicKeyFile,
    env: {
      ACTIONS_ID_TOKEN_REQUEST_URL: `${origin}/_apis/oidc/token?api-version=2.0`,
      ACTIONS_ID_TOKEN_REQUEST_TOKEN: oidcRequestToken,
      NODE_EXTRA_CA_CERTS: ca.caFile,
    },
    requests,
    exchange,
    get connections() {
      return connections;
    },
    get tenants() {
      return state.tenants;
    },
    set tenants(value) {
      state.tenants = value;
    },
    get idToken() {
      return state.idToken;
    },
    set idToken(value) {
      state.idToken = value;
    },
    get accessTokenLifetimeSeconds() {
      return state.accessTokenLifetimeSeconds;
    },
    set accessTokenLifetimeSeconds(value) {
      state.accessTokenLifetimeSeconds = value;
    },
    get legacyNoMatch() {
      return state.legacyNoMatch;
    },
    set legacyNoMatch(value) {
      state.legacyNoMatch = value;
    },
    issued,
    counts() {
      const counts: Record<Endpoint, number> = { oidc: 0, token: 0, discovery: 0, other: 0 };
      for (const r of requests) counts[r.endpoint]++;
      return counts;
    },
    injectFaults(endpoint, list) {
      faults[endpoint].push(...list);
    },
    mintIdToken(audience = DEFAULTS.audience) {
      return mintIdToken(audience);
    },
    verifyAccessToken(tokenText) {
      const jwt = decodeJwt(tokenText);
      if (!jwt || !verifySignature(jwt, entraKey.publicKey))
        throw new Error('access token signature is not valid');
      const exp = jwt.claims['exp'];
      if (typeof exp !== 'number' || exp * 1000 < Date.now()) throw new Error('access token expired');
      return jwt.claims;
    },
    reset() {
      requests.length = 0;
      connections = 0;
      faults.oidc.length = 0;
      faults.token.length = 0;
      issued.length = 0;
      state.tenants = options.tenants ?? [defaultTenant()];
      // Every field, so a test's lifetime or signing change cannot leak into the next test.
      state.idToken = initialIdToken();
      state.accessTokenLifetimeSeconds = options.accessTokenLifetimeSeconds ?? 3599;
      state.legacyNoMatch = options.legacyNoMatch ?? false;
      exchange.reset();
    },
    async close() {
      await exchange.close();
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return emulator;
}
