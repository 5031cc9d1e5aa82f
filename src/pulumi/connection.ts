/**
 * Which tenant and app a resource talks to, and where its federated token comes from. Only identifiers live in
 * Pulumi state (tenant, client ID, cloud, endpoint overrides); the federated token is found in the environment of
 * the process that runs each provider operation, exactly as the CLI finds it, so nothing secret is ever stored.
 */
import { envVarSource, type FederatedTokenSource } from '../core/assertion.js';
import { ExoLoginError } from '../core/errors.js';
import { field, type SettingName } from '../core/names.js';
import { ExoLoginSession } from '../core/session.js';
import {
  SETTING_FIELDS,
  resolveSettings,
  type ResolvedSettings,
  type SettingField,
  type SettingNames,
} from '../core/settings.js';
import { DEFAULT_TOKEN_ENV, detectSource } from '../core/sources.js';

/** Non-secret settings of a connection, as stored in state. Every field falls back to the environment. */
export interface ExchangeConnection {
  /** Tenant GUID or domain; default AZURE_TENANT_ID, then ARM_TENANT_ID (Pulumi ESC's azure-login). */
  tenantId?: string;
  /** Application (client) ID with the federated credential; default AZURE_CLIENT_ID, then ARM_CLIENT_ID. */
  clientId?: string;
  /** O365Default (default), O365USGovGCCHigh, O365USGovDoD, O365China; default EXO_ENVIRONMENT. */
  environment?: string;
  /** The tenant's *.onmicrosoft.com domain; default EXO_ORGANIZATION. */
  organization?: string;
  /** Entra host[:port]; default AZURE_AUTHORITY_HOST, else the cloud's. */
  authorityHost?: string;
  /** Resource overrides as for the CLI's --resource, e.g. `exchange=https://…` (also moves the API host). */
  resources?: string[];
}

/** Fields a connection may carry, with the variables each falls back to (first set wins). */
export const CONNECTION_FALLBACKS = {
  tenantId: ['AZURE_TENANT_ID', 'ARM_TENANT_ID'],
  clientId: ['AZURE_CLIENT_ID', 'ARM_CLIENT_ID'],
  environment: ['EXO_ENVIRONMENT'],
  organization: ['EXO_ORGANIZATION'],
  authorityHost: ['AZURE_AUTHORITY_HOST'],
} as const satisfies Record<Exclude<keyof ExchangeConnection, 'resources'>, readonly string[]>;

/** Pulumi ESC's azure-login (`oidc: true`) hands its federated token over in this variable. */
export const ESC_OIDC_TOKEN_ENV = 'ARM_OIDC_TOKEN';

type StringField = keyof typeof CONNECTION_FALLBACKS;
const STRING_FIELDS = Object.keys(CONNECTION_FALLBACKS) as StringField[];

export interface ConnectionFailure {
  property: string;
  reason: string;
}

/**
 * Pure: the declared connection with the environment's defaults filled in, or the reasons it cannot be used.
 * Runs in `check`, so what is stored is what every later operation (including delete) uses.
 */
export function resolveConnection(
  raw: unknown,
  env: NodeJS.ProcessEnv,
): { connection: ExchangeConnection; failures: ConnectionFailure[] } {
  const failures: ConnectionFailure[] = [];
  const declared = raw === undefined || raw === null ? {} : raw;
  if (typeof declared !== 'object' || Array.isArray(declared)) {
    return { connection: {}, failures: [{ property: 'connection', reason: 'must be an object' }] };
  }
  const record = declared as Record<string, unknown>;
  const connection: ExchangeConnection = {};
  for (const key of Object.keys(record)) {
    if (!STRING_FIELDS.includes(key as StringField) && key !== 'resources')
      failures.push({ property: `connection.${key}`, reason: `is not a connection setting` });
  }
  for (const field of STRING_FIELDS) {
    const value = record[field];
    if (value !== undefined && typeof value !== 'string') {
      failures.push({ property: `connection.${field}`, reason: 'must be a string' });
      continue;
    }
    const fallback = CONNECTION_FALLBACKS[field].map((name) => env[name]?.trim()).find(Boolean);
    const chosen = value?.trim() || fallback;
    if (chosen) connection[field] = chosen;
  }
  const resources = record['resources'];
  if (resources !== undefined) {
    if (!Array.isArray(resources) || resources.some((r) => typeof r !== 'string'))
      failures.push({ property: 'connection.resources', reason: 'must be a list of strings' });
    else if (resources.length > 0) connection.resources = resources as string[];
  }
  for (const field of ['tenantId', 'clientId'] as const) {
    if (connection[field] === undefined)
      failures.push({
        property: `connection.${field}`,
        reason: `is required: set it on the resource or export ${CONNECTION_FALLBACKS[field].join(' or ')}`,
      });
  }
  return { connection, failures };
}

/**
 * The CLI's source detection (GitHub Actions OIDC, AZURE_FEDERATED_TOKEN_FILE, EXO_FEDERATED_TOKEN), then the
 * token Pulumi ESC's azure-login exports as ARM_OIDC_TOKEN. Read at each mint, never stored.
 */
export function detectPulumiSource(env: NodeJS.ProcessEnv): FederatedTokenSource {
  try {
    return detectSource(env);
  } catch (error) {
    if (env[ESC_OIDC_TOKEN_ENV]) return envVarSource(ESC_OIDC_TOKEN_ENV, env);
    if (!(error instanceof ExoLoginError) || error.code !== 'input') throw error;
    throw new ExoLoginError(
      `No federated token in the environment of pulumi up: not in GitHub Actions with id-token: write, no AZURE_FEDERATED_TOKEN_FILE, no ${DEFAULT_TOKEN_ENV}, no ${ESC_OIDC_TOKEN_ENV} (Pulumi ESC azure-login with oidc: true). Run pulumi up where one of them is present (README, section Pulumi).`,
      'input',
    );
  }
}

/** A stable key for sharing one session (and its tokens) among the resources of one connection. */
export function connectionKey(connection: ExchangeConnection): string {
  return JSON.stringify([
    connection.tenantId,
    connection.clientId,
    connection.environment,
    connection.organization,
    connection.authorityHost,
    connection.resources,
  ]);
}

/** The connection's settings as this front end names them in messages: `connection.tenantId`, … */
export const CONNECTION_NAMES: SettingNames = Object.fromEntries(
  SETTING_FIELDS.map((name) => [name, field(`connection.${name}`)]),
) as Record<SettingField, SettingName>;

/** Validates the connection as the library validates its settings; errors name `connection.<field>`. */
export function connectionSettings(connection: ExchangeConnection): ResolvedSettings {
  return resolveSettings(
    {
      tenantId: connection.tenantId ?? '',
      clientId: connection.clientId ?? '',
      environment: connection.environment,
      organization: connection.organization,
      authorityHost: connection.authorityHost,
      resources: connection.resources ?? ['exchange'],
    },
    CONNECTION_NAMES,
  );
}

/** A session that re-mints from the environment's federated token whenever its tokens run low. */
export function sessionFor(connection: ExchangeConnection, env: NodeJS.ProcessEnv): ExoLoginSession {
  if (connection.tenantId === undefined || connection.clientId === undefined)
    throw new ExoLoginError(
      'The resource state has no connection.tenantId/clientId: set connection on the resource (or AZURE_TENANT_ID and AZURE_CLIENT_ID) and run pulumi up again.',
      'input',
    );
  return ExoLoginSession.fromSettings(connectionSettings(connection), {
    // A lazy source: the environment is read when a token is needed, not when the session is made.
    assertion: {
      get description() {
        return describeSource(env);
      },
      getToken: (audience) => detectPulumiSource(env).getToken(audience),
    },
  });
}

function describeSource(env: NodeJS.ProcessEnv): string {
  try {
    return detectPulumiSource(env).description;
  } catch {
    return 'no federated token';
  }
}
