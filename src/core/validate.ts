import {
  CLOUDS,
  ENVIRONMENT_NAMES,
  RESOURCE_KINDS,
  type EnvironmentName,
  type ResourceKind,
} from './clouds.js';
import { InputError } from './errors.js';

/** Pure parsers for user-supplied settings. Each takes the name the user knows the setting by. */

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const DOMAIN_LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/i;

export function isGuid(value: string): boolean {
  return GUID.test(value);
}

export function isDomain(value: string): boolean {
  if (value.length > 253) return false;
  const labels = value.split('.');
  return (
    labels.length >= 2 &&
    labels.every((label) => DOMAIN_LABEL.test(label)) &&
    !/^\d+$/.test(labels.at(-1) ?? '')
  );
}

/**
 * A CLI option and the environment variable it falls back to, as one setting name, so errors point at both
 * places a value can come from ("Option --tenant-id (or AZURE_TENANT_ID) must be…").
 */
export function withFallback(option: string, variable: string): string {
  return `${option} (or ${variable})`;
}

const WITH_FALLBACK = /^(\S+) \(or (\S+)\)$/;

/** "is required", with a fallback variable moved after it, where it reads as the other remedy. */
function required(input: string, detail: string): InputError {
  const [, option, variable] = WITH_FALLBACK.exec(input) ?? [];
  return option !== undefined && variable !== undefined
    ? new InputError(option, `is required (or set ${variable}): ${detail}`)
    : new InputError(input, `is required: ${detail}`);
}

export function parseTenantId(value: string, input: string): string {
  const v = value.trim();
  if (v === '')
    throw required(input, 'the directory (tenant) ID GUID or a domain such as contoso.onmicrosoft.com.');
  if (isGuid(v)) return v.toLowerCase();
  if (isDomain(v)) return v.toLowerCase();
  if (v === 'common' || v === 'organizations' || v === 'consumers') {
    throw new InputError(
      input,
      `must name one tenant; '${v}' is not accepted for app-only tokens. Use the tenant GUID or its *.onmicrosoft.com domain.`,
    );
  }
  throw new InputError(
    input,
    `must be a GUID (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx) or a domain such as contoso.onmicrosoft.com; got '${v}'.`,
  );
}

export function parseClientId(value: string, input: string): string {
  const v = value.trim();
  if (v === '')
    throw required(
      input,
      'the application (client) ID GUID of the app registration or user-assigned managed identity.',
    );
  if (!isGuid(v)) {
    throw new InputError(
      input,
      `must be the application (client) ID, a GUID (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx); got '${v}'.`,
    );
  }
  return v.toLowerCase();
}

/**
 * `-Organization` for Connect-ExchangeOnline: app-only sign-in needs the initial domain, not a GUID.
 * Empty falls back to the tenant when that is a domain.
 */
export function parseOrganization(value: string, tenantId: string, input: string): string | undefined {
  const v = value.trim().toLowerCase();
  if (v === '') return isDomain(tenantId) ? tenantId : undefined;
  if (isGuid(v)) {
    throw new InputError(
      input,
      `must be the tenant's initial domain (e.g. contoso.onmicrosoft.com), not a GUID: Connect-ExchangeOnline -Organization does not reliably accept a tenant ID with app-only tokens.`,
    );
  }
  if (!isDomain(v))
    throw new InputError(input, `must be a domain such as contoso.onmicrosoft.com; got '${v}'.`);
  return v;
}

/**
 * One line when the organization is not the tenant's initial domain (contoso.onmicrosoft.com): with an access
 * token, Connect-ExchangeOnline -Organization expects that domain and may fail with a custom one. A warning,
 * not an error, because only connecting can tell, and the token itself is fine.
 */
export function organizationWarning(
  organization: string | undefined,
  explicit: boolean,
  environment: EnvironmentName,
): string | undefined {
  if (organization === undefined) return undefined;
  const suffix = CLOUDS[environment].initialDomainSuffix;
  if (organization.toLowerCase().endsWith(`.${suffix}`)) return undefined;
  const origin = explicit ? '' : ', taken from the tenant ID,';
  return `organization ${organization}${origin} is not an initial *.${suffix} domain: Connect-ExchangeOnline -Organization with an access token expects the tenant's initial domain; set 'organization' to it if connecting fails.`;
}

export function parseEnvironment(value: string, input: string): EnvironmentName {
  const v = value.trim();
  if (v === '') return 'O365Default';
  const match = ENVIRONMENT_NAMES.find((name) => name.toLowerCase() === v.toLowerCase());
  if (match === undefined) {
    throw new InputError(
      input,
      `must be one of ${ENVIRONMENT_NAMES.join(', ')} (the Connect-ExchangeOnline -ExchangeEnvironmentName values); got '${v}'.`,
    );
  }
  return match;
}

/** Splits a comma- or newline-separated list, dropping blanks. */
export function splitList(value: string): string[] {
  return value
    .split(/[,\n]/)
    .map((item) => item.trim())
    .filter((item) => item !== '');
}

export interface ResourceRequest {
  kind: ResourceKind;
  /** Entra resource URL; the scope is `${resource}/.default`. */
  resource: string;
}

/**
 * `exchange`, `compliance`, `graph`, or `kind=https://resource` to override a cloud's URL (sovereign
 * clouds whose value could not be confirmed offline, private clouds). Order kept, duplicates refused.
 */
export function parseResources(
  value: string,
  environment: EnvironmentName,
  input: string,
): ResourceRequest[] {
  const items = splitList(value);
  if (items.length === 0) return [{ kind: 'exchange', resource: CLOUDS[environment].resources.exchange }];
  const seen = new Set<ResourceKind>();
  return items.map((item) => {
    const eq = item.indexOf('=');
    const name = (eq === -1 ? item : item.slice(0, eq)).trim().toLowerCase();
    if (!(RESOURCE_KINDS as readonly string[]).includes(name)) {
      throw new InputError(
        input,
        `accepts ${RESOURCE_KINDS.join(', ')} (comma- or newline-separated, optionally kind=https://resource-url); got '${item}'.`,
      );
    }
    const kind = name as ResourceKind;
    if (seen.has(kind)) throw new InputError(input, `lists '${kind}' twice.`);
    seen.add(kind);
    if (eq === -1) return { kind, resource: CLOUDS[environment].resources[kind] };
    return { kind, resource: parseResourceUrl(item.slice(eq + 1).trim(), input, kind) };
  });
}

function parseResourceUrl(value: string, input: string, kind: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new InputError(
      input,
      `has an invalid URL for '${kind}': '${value}' (expected e.g. ${kind}=https://outlook.office365.us).`,
    );
  }
  if (url.protocol !== 'https:' || url.search !== '' || url.hash !== '') {
    throw new InputError(
      input,
      `needs an https:// resource URL without query for '${kind}'; got '${value}'.`,
    );
  }
  return `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
}

export function parseAudience(value: string, environment: EnvironmentName, input: string): string {
  const v = value.trim();
  if (v === '') return CLOUDS[environment].oidcAudience;
  if (/\s/.test(v) || v.length > 600) {
    throw new InputError(
      input,
      `must be one audience value without spaces, matching the federated credential's audience (default ${CLOUDS[environment].oidcAudience}).`,
    );
  }
  return v;
}

/**
 * Entra host, optionally with port (`login.example.net`, `localhost:8443`); `https://` is tolerated. A host the
 * cloud table knows must belong to `environment`: otherwise the token would be asked of one cloud for another
 * cloud's resources. Hosts it does not know (private clouds, emulators) are taken as given.
 */
export function parseAuthorityHost(
  value: string,
  environment: EnvironmentName,
  input: string,
  environmentInput: string,
): string {
  const v = value.trim();
  if (v === '') return CLOUDS[environment].authorityHost;
  if (/^http:\/\//i.test(v))
    throw new InputError(input, `must use HTTPS; Entra token endpoints are never plain HTTP. Got '${v}'.`);
  const bare = v.replace(/^https:\/\//i, '').replace(/\/+$/, '');
  let url: URL;
  try {
    url = new URL(`https://${bare}`);
  } catch {
    throw new InputError(
      input,
      `must be a host name such as login.microsoftonline.us (optionally with :port); got '${v}'.`,
    );
  }
  // URL drops an explicit default port, so login.microsoftonline.com:443 is compared as the host it names.
  if (url.host !== bare.toLowerCase().replace(/:443$/, '') || url.username !== '' || bare.includes('/')) {
    throw new InputError(
      input,
      `must be a host name such as login.microsoftonline.us (optionally with :port), without a path; got '${v}'.`,
    );
  }
  const hostname = url.hostname.replace(/\.$/, '');
  const owners = environmentsUsingHost(hostname);
  if (owners.length > 0 && !owners.includes(environment)) {
    const listed =
      owners.length === 1 ? owners.join('') : `${owners.slice(0, -1).join(', ')} and ${owners.at(-1)}`;
    throw new InputError(
      input,
      `is ${hostname}, the Entra host of ${listed}, but ${environmentInput} is ${environment}: set ${environmentInput} to ${owners.length === 1 ? listed : 'one of those'}, or leave ${input} empty.`,
    );
  }
  return url.host;
}

/** The environments whose Entra host (or an alias of it) is `hostname`, in table order. */
function environmentsUsingHost(hostname: string): EnvironmentName[] {
  return ENVIRONMENT_NAMES.filter((name) => {
    const cloud = CLOUDS[name];
    return cloud.authorityHost === hostname || (cloud.authorityHostAliases ?? []).includes(hostname);
  });
}

export function parseBoolean(value: string, input: string, fallback: boolean): boolean {
  const v = value.trim().toLowerCase();
  if (v === '') return fallback;
  if (v === 'true') return true;
  if (v === 'false') return false;
  throw new InputError(input, `must be true or false; got '${value.trim()}'.`);
}
