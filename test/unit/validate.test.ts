import { describe, expect, it } from 'vitest';
import type { EnvironmentName } from '../../src/core/clouds.js';
import { InputError } from '../../src/core/errors.js';
import {
  isDomain,
  parseAudience,
  parseAuthorityHost,
  parseBoolean,
  parseClientId,
  parseEnvironment,
  parseOrganization,
  parseResources,
  parseTenantId,
} from '../../src/core/validate.js';
import { input, option } from '../../src/core/names.js';
import { organizationWarning as warningFor, type SettingSource } from '../../src/core/settings.js';

/** The warning for an organization, explicit or taken from the tenant, as the action names it. */
function organizationWarning(
  organization: string | undefined,
  explicit: boolean,
  environment: EnvironmentName,
): string | undefined {
  const source: SettingSource = explicit ? 'given' : 'tenant';
  const sources = { organization: source } as Parameters<typeof warningFor>[0]['sources'];
  const names = { organization: input('organization') } as Parameters<typeof warningFor>[0]['names'];
  return warningFor({ organization, environment, sources, names });
}

const GUID = '8C3D2B5E-7A1F-4E6B-9D0C-2F4A6B8E1C3D';

function inputError(fn: () => unknown): InputError {
  try {
    fn();
  } catch (error) {
    if (error instanceof InputError) return error;
    throw error;
  }
  throw new Error('expected an InputError');
}

describe('tenant and client ids', () => {
  it('accepts a GUID or a domain, lower-cased', () => {
    expect(parseTenantId(` ${GUID} `, input('tenant-id'))).toBe(GUID.toLowerCase());
    expect(parseTenantId('Contoso.onmicrosoft.com', input('tenant-id'))).toBe('contoso.onmicrosoft.com');
  });
  it('names the input and the accepted forms', () => {
    const error = inputError(() => parseTenantId('not a tenant', input('tenant-id')));
    expect(error.input).toBe('tenant-id');
    expect(error.message).toMatch(/^Input 'tenant-id' must be a GUID .* or a domain/);
    expect(inputError(() => parseTenantId('', input('tenant-id'))).message).toMatch(/is required/);
    expect(inputError(() => parseTenantId('common', input('tenant-id'))).message).toMatch(
      /must name one tenant/,
    );
  });
  it('requires the client id to be a GUID', () => {
    expect(parseClientId(GUID, input('client-id'))).toBe(GUID.toLowerCase());
    expect(inputError(() => parseClientId('contoso.onmicrosoft.com', input('client-id'))).message).toMatch(
      /^Input 'client-id' must be the application \(client\) ID/,
    );
    expect(inputError(() => parseClientId('', option('--client-id'))).message).toMatch(
      /^Option --client-id is required: the application/,
    );
  });
  it('names the variable a CLI option falls back to, after "is required" and before other errors', () => {
    const name = option('--tenant-id', 'AZURE_TENANT_ID');
    const missing = inputError(() => parseTenantId(' ', name));
    expect(missing.message).toMatch(
      /^Option --tenant-id is required \(or set AZURE_TENANT_ID\): the directory \(tenant\) ID GUID/,
    );
    expect(missing.input).toBe('--tenant-id');
    expect(inputError(() => parseClientId('', option('--client-id', 'AZURE_CLIENT_ID'))).message).toMatch(
      /^Option --client-id is required \(or set AZURE_CLIENT_ID\): /,
    );
    expect(inputError(() => parseTenantId('nope', name)).message).toMatch(
      /^Option --tenant-id \(or AZURE_TENANT_ID\) must be a GUID/,
    );
    // The action's messages are unchanged.
    expect(inputError(() => parseTenantId('', input('tenant-id'))).message).toBe(
      "Input 'tenant-id' is required: the directory (tenant) ID GUID or a domain such as contoso.onmicrosoft.com.",
    );
  });
  it('tells domains from other strings', () => {
    expect(isDomain('contoso.onmicrosoft.com')).toBe(true);
    expect(isDomain('a-b.c')).toBe(true);
    expect(isDomain('-ab.com')).toBe(false);
    expect(isDomain('contoso')).toBe(false);
    expect(isDomain('10.0.0.1')).toBe(false);
    expect(isDomain('a..b')).toBe(false);
  });
});

describe('organization', () => {
  it('defaults to a domain tenant id and is absent for a GUID tenant', () => {
    expect(parseOrganization('', 'contoso.onmicrosoft.com', input('organization'))).toBe(
      'contoso.onmicrosoft.com',
    );
    expect(parseOrganization('', GUID, input('organization'))).toBeUndefined();
    expect(parseOrganization('Fabrikam.onmicrosoft.com', GUID, input('organization'))).toBe(
      'fabrikam.onmicrosoft.com',
    );
  });
  it('refuses a GUID, which Connect-ExchangeOnline does not reliably accept', () => {
    expect(inputError(() => parseOrganization(GUID, GUID, input('organization'))).message).toMatch(
      /initial domain/,
    );
  });
  it("warns when it is not the tenant's initial domain in its cloud", () => {
    expect(organizationWarning('contoso.onmicrosoft.com', true, 'O365Default')).toBeUndefined();
    expect(organizationWarning('Contoso.OnMicrosoft.us', true, 'O365USGovDoD')).toBeUndefined();
    expect(organizationWarning('contoso.partner.onmschina.cn', false, 'O365China')).toBeUndefined();
    expect(organizationWarning(undefined, false, 'O365Default')).toBeUndefined();
    expect(organizationWarning('contoso.com', true, 'O365Default')).toBe(
      "organization contoso.com is not an initial *.onmicrosoft.com domain: Connect-ExchangeOnline -Organization with an access token expects the tenant's initial domain; set 'organization' to it if connecting fails.",
    );
    expect(organizationWarning('contoso.com', false, 'O365Default')).toMatch(
      /^organization contoso\.com, taken from the tenant ID, is not an initial \*\.onmicrosoft\.com domain: /,
    );
    expect(organizationWarning('contoso.onmicrosoft.com', true, 'O365USGovGCCHigh')).toMatch(
      /is not an initial \*\.onmicrosoft\.us domain/,
    );
    // A suffix match needs the dot: notonmicrosoft.com is somebody's custom domain.
    expect(organizationWarning('notonmicrosoft.com', true, 'O365Default')).toMatch(/is not an initial/);
  });
});

describe('environment, resources, audience, authority host', () => {
  it('accepts the Connect-ExchangeOnline environment names, case-insensitively', () => {
    expect(parseEnvironment('', input('environment'))).toBe('O365Default');
    expect(parseEnvironment('o365usgovgcchigh', input('environment'))).toBe('O365USGovGCCHigh');
    expect(inputError(() => parseEnvironment('AzureUSGovernment', input('environment'))).message).toMatch(
      /must be one of O365Default, O365USGovGCCHigh, O365USGovDoD, O365China/,
    );
  });
  it('maps resource kinds to the cloud table and allows URL overrides', () => {
    expect(parseResources('', 'O365Default', input('resources'))).toEqual([
      { kind: 'exchange', resource: 'https://outlook.office365.com' },
    ]);
    expect(parseResources('exchange,\ncompliance\n graph ', 'O365USGovGCCHigh', input('resources'))).toEqual([
      { kind: 'exchange', resource: 'https://outlook.office365.us' },
      { kind: 'compliance', resource: 'https://ps.compliance.protection.office365.us' },
      { kind: 'graph', resource: 'https://graph.microsoft.us' },
    ]);
    expect(
      parseResources('exchange=https://outlook.office365.us/', 'O365USGovDoD', input('resources')),
    ).toEqual([{ kind: 'exchange', resource: 'https://outlook.office365.us' }]);
  });
  it('rejects unknown kinds, duplicates and non-HTTPS overrides', () => {
    expect(
      inputError(() => parseResources('exchange,sharepoint', 'O365Default', input('resources'))).message,
    ).toMatch(/accepts exchange, compliance, graph .* got 'sharepoint'/);
    expect(
      inputError(() => parseResources('graph,graph', 'O365Default', input('resources'))).message,
    ).toMatch(/twice/);
    expect(
      inputError(() => parseResources('exchange=http://x', 'O365Default', input('resources'))).message,
    ).toMatch(/https/);
  });
  it('defaults the audience per cloud', () => {
    expect(parseAudience('', 'O365Default', input('audience'))).toBe('api://AzureADTokenExchange');
    expect(parseAudience('', 'O365China', input('audience'))).toBe('api://AzureADTokenExchangeChina');
    expect(parseAudience(' custom ', 'O365Default', input('audience'))).toBe('custom');
    expect(inputError(() => parseAudience('a b', 'O365Default', input('audience'))).input).toBe('audience');
  });
  it('takes a host[:port] for the authority, tolerating https://', () => {
    const host = (value: string, environment: EnvironmentName = 'O365Default') =>
      parseAuthorityHost(value, environment, input('authority-host'), input('environment'));
    expect(host('', 'O365USGovDoD')).toBe('login.microsoftonline.us');
    expect(host('localhost:8443')).toBe('localhost:8443');
    expect(host('https://Login.Example.net/')).toBe('login.example.net');
    expect(inputError(() => host('http://login.example.net')).message).toMatch(/HTTPS/);
    expect(inputError(() => host('login.example.net/tenant')).message).toMatch(/without a path/);
    expect(inputError(() => host('login.example.net:443/tenant')).message).toMatch(/without a path/);
  });
  it('drops an explicit default port', () => {
    expect(
      parseAuthorityHost('https://login.microsoftonline.com:443/', 'O365Default', input('a'), input('e')),
    ).toBe('login.microsoftonline.com');
    expect(parseAuthorityHost('localhost:443', 'O365Default', input('a'), input('e'))).toBe('localhost');
  });
  it("refuses another cloud's Entra host, and takes hosts the table does not know", () => {
    const host = (value: string, environment: EnvironmentName) =>
      parseAuthorityHost(value, environment, input('authority-host'), input('environment'));
    const usGov = inputError(() => host('https://login.microsoftonline.us/', 'O365Default'));
    expect(usGov.input).toBe('authority-host');
    expect(usGov.message).toBe(
      "Input 'authority-host' is login.microsoftonline.us, the Entra host of O365USGovGCCHigh and O365USGovDoD, but 'environment' is O365Default: set 'environment' to one of those, or leave 'authority-host' empty.",
    );
    expect(inputError(() => host('login.chinacloudapi.cn', 'O365USGovGCCHigh')).message).toMatch(
      /is login\.chinacloudapi\.cn, the Entra host of O365China, but 'environment' is O365USGovGCCHigh: set 'environment' to O365China, or/,
    );
    expect(inputError(() => host('LOGIN.partner.microsoftonline.cn.', 'O365Default')).message).toMatch(
      /the Entra host of O365China/,
    );
    expect(inputError(() => host('login.microsoftonline.com:443', 'O365USGovDoD')).message).toMatch(
      /is login\.microsoftonline\.com, the Entra host of O365Default, but 'environment' is O365USGovDoD/,
    );
    expect(host('login.microsoftonline.us', 'O365USGovDoD')).toBe('login.microsoftonline.us');
    expect(host('https://login.microsoftonline.us/', 'O365USGovGCCHigh')).toBe('login.microsoftonline.us');
    expect(host('login.partner.microsoftonline.cn', 'O365China')).toBe('login.partner.microsoftonline.cn');
    expect(host('login.sovereign.example', 'O365USGovGCCHigh')).toBe('login.sovereign.example');
    expect(host('localhost:8443', 'O365China')).toBe('localhost:8443');
  });
  it('takes host names, IP addresses and ports, and refuses anything else by name (issue 9.7)', () => {
    const host = (value: string) =>
      parseAuthorityHost(value, 'O365Default', input('authority-host'), input('environment'));
    expect(host('127.0.0.1:8443')).toBe('127.0.0.1:8443');
    expect(host('[::1]:8443')).toBe('[::1]:8443');
    expect(host('login.example.net.')).toBe('login.example.net');
    expect(host(`${'a'.repeat(63)}.example`)).toBe(`${'a'.repeat(63)}.example`);
    const long = 'x'.repeat(100_000);
    for (const bad of [
      '-1',
      'nan',
      '1e3',
      '1.2.3',
      `${'a'.repeat(64)}.example`,
      `${'a.'.repeat(127)}com`,
      'login.example:0',
      'login.example:70000',
      '[nope]:1',
      'a_b.example',
      long,
    ]) {
      const error = inputError(() => host(bad));
      expect(error.message, bad.slice(0, 20)).toMatch(
        /^Input 'authority-host' must be a host name such as login\.microsoftonline\.us, or an IP address/,
      );
      expect(error.message.length, bad.slice(0, 20)).toBeLessThan(300);
    }
    expect(inputError(() => host(long)).message).toContain("…' (100000 characters).");
  });
  it('reads booleans strictly', () => {
    expect(parseBoolean('', input('export-env'), false)).toBe(false);
    expect(parseBoolean('TRUE', input('export-env'), false)).toBe(true);
    expect(inputError(() => parseBoolean('yes', input('export-env'), false)).message).toBe(
      "Input 'export-env' must be true or false; got 'yes'.",
    );
  });
});
