import { CLOUDS, type EnvironmentName } from './clouds.js';
import { field, settingRef, type SettingName } from './names.js';
import {
  parseAudience,
  parseAuthorityHost,
  parseClientId,
  parseEnvironment,
  parseOrganization,
  parseResources,
  parseTenantId,
  type ResourceRequest,
} from './validate.js';

/** The settings every front end shares, by their library field names. */
export const SETTING_FIELDS = [
  'tenantId',
  'clientId',
  'environment',
  'organization',
  'resources',
  'audience',
  'authorityHost',
] as const;
export type SettingField = (typeof SETTING_FIELDS)[number];

/** How a front end names each setting in its messages. */
export type SettingNames = Readonly<Record<SettingField, SettingName>>;

export const LIBRARY_SETTING_NAMES: SettingNames = Object.fromEntries(
  SETTING_FIELDS.map((name) => [name, field(name)]),
) as Record<SettingField, SettingName>;

/**
 * Where a resolved value came from: the user gave it (an input, an option, a field), an environment variable a
 * CLI option falls back to, the cloud's default, or (organization only) the tenant ID.
 */
export type SettingSource = 'given' | 'variable' | 'default' | 'tenant';

/** Raw settings as a user writes them; empty means "not set". */
export interface SettingsInput {
  tenantId: string;
  clientId: string;
  environment?: string | undefined;
  organization?: string | undefined;
  /** Kinds, `kind=https://url` overrides, or a comma/newline-separated string; default exchange. */
  resources?: readonly string[] | string | undefined;
  audience?: string | undefined;
  authorityHost?: string | undefined;
}

export interface ResolvedSettings {
  tenantId: string;
  clientId: string;
  environment: EnvironmentName;
  organization: string | undefined;
  resources: ResourceRequest[];
  audience: string;
  authorityHost: string;
  /** Where each value came from, for messages such as the organization warning. */
  sources: Readonly<Record<SettingField, SettingSource>>;
  /** The names the user knows the settings by, for messages after resolution. */
  names: SettingNames;
}

function isSet(value: readonly string[] | string | undefined): boolean {
  return typeof value === 'string' ? value.trim() !== '' : (value ?? []).some((v) => v.trim() !== '');
}

/**
 * Validates every setting before any request; errors name the setting as `names` spells it. `fromVariable`
 * lists the settings whose value came from an environment variable rather than the user's own flag.
 */
export function resolveSettings(
  raw: SettingsInput,
  names: SettingNames = LIBRARY_SETTING_NAMES,
  fromVariable: readonly SettingField[] = [],
): ResolvedSettings {
  const tenantId = parseTenantId(raw.tenantId, names.tenantId);
  const clientId = parseClientId(raw.clientId, names.clientId);
  const environment = parseEnvironment(raw.environment ?? '', names.environment);
  const resourceText = typeof raw.resources === 'string' ? raw.resources : (raw.resources ?? []).join(',');
  const organization = parseOrganization(raw.organization ?? '', tenantId, names.organization);
  const sources = Object.fromEntries(
    SETTING_FIELDS.map((name) => {
      if (isSet(raw[name])) return [name, fromVariable.includes(name) ? 'variable' : 'given'];
      return [name, name === 'organization' && organization !== undefined ? 'tenant' : 'default'];
    }),
  ) as Record<SettingField, SettingSource>;
  return {
    tenantId,
    clientId,
    environment,
    organization,
    resources: parseResources(resourceText, environment, names.resources),
    audience: parseAudience(raw.audience ?? '', environment, names.audience),
    authorityHost: parseAuthorityHost(
      raw.authorityHost ?? '',
      environment,
      names.authorityHost,
      names.environment,
    ),
    sources,
    names,
  };
}

/**
 * One line when the organization is not the tenant's initial domain (contoso.onmicrosoft.com): with an access
 * token, Connect-ExchangeOnline -Organization expects that domain and may fail with a custom one. A warning,
 * not an error, because only connecting can tell, and the token itself is fine.
 */
export function organizationWarning(
  settings: Pick<ResolvedSettings, 'organization' | 'environment' | 'sources' | 'names'>,
): string | undefined {
  const { organization, environment } = settings;
  if (organization === undefined) return undefined;
  const suffix = CLOUDS[environment].initialDomainSuffix;
  if (organization.toLowerCase().endsWith(`.${suffix}`)) return undefined;
  const origin = settings.sources.organization === 'tenant' ? ', taken from the tenant ID,' : '';
  return `organization ${organization}${origin} is not an initial *.${suffix} domain: Connect-ExchangeOnline -Organization with an access token expects the tenant's initial domain; set ${settingRef(settings.names.organization)} to it if connecting fails.`;
}
