import {
  CLOUDS,
  ENVIRONMENT_NAMES,
  RESOURCE_KINDS,
  type EnvironmentName,
  type ResourceKind,
} from './clouds.js';
import { isIPv4, isIPv6 } from 'node:net';
import { InputError } from './errors.js';
import { quoted, settingRef, type SettingName } from './names.js';

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

/** "is required", with a fallback variable moved after it, where it reads as the other remedy. */
function required(setting: SettingName, detail: string): InputError {
  return setting.fallback !== undefined
    ? new InputError(setting, `is required (or set ${setting.fallback}): ${detail}`, { withFallback: false })
    : new InputError(setting, `is required: ${detail}`);
}

export function parseTenantId(value: string, input: SettingName): string {
  const v = value.trim();
  if (v === '')
    throw required(input, 'the directory (tenant) ID GUID or a domain such as contoso.onmicrosoft.com.');
  if (isGuid(v)) return v.toLowerCase();
  if (isDomain(v)) return v.toLowerCase();
  if (v === 'common' || v === 'organizations' || v === 'consumers') {
    throw new InputError(
      input,
      `must name one tenant; ${quoted(v)} is not accepted for app-only tokens. Use the tenant GUID or its *.onmicrosoft.com domain.`,
    );
  }
  throw new InputError(
    input,
    `must be a GUID (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx) or a domain such as contoso.onmicrosoft.com; got ${quoted(v)}.`,
  );
}

export function parseClientId(value: string, input: SettingName): string {
  const v = value.trim();
  if (v === '')
    throw required(
      input,
      'the application (client) ID GUID of the app registration or user-assigned managed identity.',
    );
  if (!isGuid(v)) {
    throw new InputError(
      input,
      `must be the application (client) ID, a GUID (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx); got ${quoted(v)}.`,
    );
  }
  return v.toLowerCase();
}

/**
 * `-Organization` for Connect-ExchangeOnline: app-only sign-in needs the initial domain, not a GUID.
 * Empty falls back to the tenant when that is a domain.
 */
export function parseOrganization(value: string, tenantId: string, input: SettingName): string | undefined {
  const v = value.trim().toLowerCase();
  if (v === '') return isDomain(tenantId) ? tenantId : undefined;
  if (isGuid(v)) {
    throw new InputError(
      input,
      `must be the tenant's initial domain (e.g. contoso.onmicrosoft.com), not a GUID: Connect-ExchangeOnline -Organization does not reliably accept a tenant ID with app-only tokens.`,
    );
  }
  if (!isDomain(v))
    throw new InputError(input, `must be a domain such as contoso.onmicrosoft.com; got ${quoted(v)}.`);
  return v;
}

export function parseEnvironment(value: string, input: SettingName): EnvironmentName {
  const v = value.trim();
  if (v === '') return 'O365Default';
  const match = ENVIRONMENT_NAMES.find((name) => name.toLowerCase() === v.toLowerCase());
  if (match === undefined) {
    throw new InputError(
      input,
      `must be one of ${ENVIRONMENT_NAMES.join(', ')} (the Connect-ExchangeOnline -ExchangeEnvironmentName values); got ${quoted(v)}.`,
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
  input: SettingName,
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
        `accepts ${RESOURCE_KINDS.join(', ')} (comma- or newline-separated, optionally kind=https://resource-url); got ${quoted(item)}.`,
      );
    }
    const kind = name as ResourceKind;
    if (seen.has(kind)) throw new InputError(input, `lists '${kind}' twice.`);
    seen.add(kind);
    if (eq === -1) return { kind, resource: CLOUDS[environment].resources[kind] };
    return { kind, resource: parseResourceUrl(item.slice(eq + 1).trim(), input, kind) };
  });
}

function parseResourceUrl(value: string, input: SettingName, kind: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new InputError(
      input,
      `has an invalid URL for '${kind}': ${quoted(value)} (expected e.g. ${kind}=https://outlook.office365.us).`,
    );
  }
  if (url.protocol !== 'https:' || url.search !== '' || url.hash !== '') {
    throw new InputError(
      input,
      `needs an https:// resource URL without query for '${kind}'; got ${quoted(value)}.`,
    );
  }
  return `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
}

export function parseAudience(value: string, environment: EnvironmentName, input: SettingName): string {
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
 * Entra host, optionally with port (`login.example.net`, `localhost:8443`, `[::1]:8443`); `https://` is tolerated.
 * A host the cloud table knows must belong to `environment`: otherwise the token would be asked of one cloud for
 * another cloud's resources. Hosts it does not know (private clouds, emulators) are taken as given.
 */
export function parseAuthorityHost(
  value: string,
  environment: EnvironmentName,
  input: SettingName,
  environmentInput: SettingName,
): string {
  const v = value.trim();
  if (v === '') return CLOUDS[environment].authorityHost;
  if (/^http:\/\//i.test(v))
    throw new InputError(
      input,
      `must use HTTPS; Entra token endpoints are never plain HTTP. Got ${quoted(v)}.`,
    );
  const parsed = parseHostPort(v.replace(/^https:\/\//i, '').replace(/\/+$/, ''));
  if (parsed === undefined) {
    throw new InputError(
      input,
      `must be a host name such as login.microsoftonline.us, or an IP address, optionally with :port and without a path; got ${quoted(v)}.`,
    );
  }
  const owners = environmentsUsingHost(parsed.hostname);
  if (owners.length > 0 && !owners.includes(environment)) {
    const listed =
      owners.length === 1 ? owners.join('') : `${owners.slice(0, -1).join(', ')} and ${owners.at(-1)}`;
    const env = settingRef(environmentInput);
    throw new InputError(
      input,
      `is ${parsed.hostname}, the Entra host of ${listed}, but ${env} is ${environment}: set ${env} to ${owners.length === 1 ? listed : 'one of those'}, or leave ${settingRef(input)} empty.`,
    );
  }
  // 443 is the default: login.microsoftonline.com:443 is the host it names.
  return parsed.port === undefined || parsed.port === 443 ? parsed.host : `${parsed.host}:${parsed.port}`;
}

const HOST_LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;

/**
 * host[:port] where host is a DNS name (labels of at most 63 letters, digits or '-', at most 253 in all, a
 * dotted name or localhost), an IPv4 address or a bracketed IPv6 one; undefined when it is none of these.
 */
export function parseHostPort(
  text: string,
): { host: string; hostname: string; port: number | undefined } | undefined {
  const match = /^(\[[^\]]+\]|[^:[\]]+)(?::(\d{1,5}))?$/.exec(text.toLowerCase());
  if (!match) return undefined;
  const [, host = '', portText] = match;
  const port = portText === undefined ? undefined : Number(portText);
  if (port !== undefined && (port < 1 || port > 65535)) return undefined;
  if (host.startsWith('[')) return isIPv6(host.slice(1, -1)) ? { host, hostname: host, port } : undefined;
  if (isIPv4(host)) return { host, hostname: host, port };
  const hostname = host.replace(/\.$/, '');
  const labels = hostname.split('.');
  const dns =
    hostname.length <= 253 &&
    labels.every((label) => HOST_LABEL.test(label)) &&
    (labels.length >= 2 || hostname === 'localhost') &&
    !/^\d+$/.test(labels.at(-1) ?? '');
  return dns ? { host: hostname, hostname, port } : undefined;
}

/** The environments whose Entra host (or an alias of it) is `hostname`, in table order. */
function environmentsUsingHost(hostname: string): EnvironmentName[] {
  return ENVIRONMENT_NAMES.filter((name) => {
    const cloud = CLOUDS[name];
    return cloud.authorityHost === hostname || (cloud.authorityHostAliases ?? []).includes(hostname);
  });
}

export function parseBoolean(value: string, input: SettingName, fallback: boolean): boolean {
  const v = value.trim().toLowerCase();
  if (v === '') return fallback;
  if (v === 'true') return true;
  if (v === 'false') return false;
  throw new InputError(input, `must be true or false; got ${quoted(value.trim())}.`);
}
