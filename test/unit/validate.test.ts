import { describe, expect, it } from 'vitest';
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
    expect(parseTenantId(` ${GUID} `, 'tenant-id')).toBe(GUID.toLowerCase());
    expect(parseTenantId('Contoso.onmicrosoft.com', 'tenant-id')).toBe('contoso.onmicrosoft.com');
  });
  it('names the input and the accepted forms', () => {
    const error = inputError(() => parseTenantId('not a tenant', 'tenant-id'));
    expect(error.input).toBe('tenant-id');
    expect(error.message).toMatch(/^Input 'tenant-id' must be a GUID .* or a domain/);
    expect(inputError(() => parseTenantId('', 'tenant-id')).message).toMatch(/is required/);
    expect(inputError(() => parseTenantId('common', 'tenant-id')).message).toMatch(/must name one tenant/);
  });
  it('requires the client id to be a GUID', () => {
    expect(parseClientId(GUID, 'client-id')).toBe(GUID.toLowerCase());
    expect(inputError(() => parseClientId('contoso.onmicrosoft.com', 'client-id')).message).toMatch(
      /^Input 'client-id' must be the application \(client\) ID/,
    );
    expect(inputError(() => parseClientId('', '--client-id')).message).toMatch(
      /^Option --client-id is required/,
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
    expect(parseOrganization('', 'contoso.onmicrosoft.com', 'organization')).toBe('contoso.onmicrosoft.com');
    expect(parseOrganization('', GUID, 'organization')).toBeUndefined();
    expect(parseOrganization('Fabrikam.onmicrosoft.com', GUID, 'organization')).toBe(
      'fabrikam.onmicrosoft.com',
    );
  });
  it('refuses a GUID, which Connect-ExchangeOnline does not reliably accept', () => {
    expect(inputError(() => parseOrganization(GUID, GUID, 'organization')).message).toMatch(/initial domain/);
  });
});

describe('environment, resources, audience, authority host', () => {
  it('accepts the Connect-ExchangeOnline environment names, case-insensitively', () => {
    expect(parseEnvironment('', 'environment')).toBe('O365Default');
    expect(parseEnvironment('o365usgovgcchigh', 'environment')).toBe('O365USGovGCCHigh');
    expect(inputError(() => parseEnvironment('AzureUSGovernment', 'environment')).message).toMatch(
      /must be one of O365Default, O365USGovGCCHigh, O365USGovDoD, O365China/,
    );
  });
  it('maps resource kinds to the cloud table and allows URL overrides', () => {
    expect(parseResources('', 'O365Default', 'resources')).toEqual([
      { kind: 'exchange', resource: 'https://outlook.office365.com' },
    ]);
    expect(parseResources('exchange,\ncompliance\n graph ', 'O365USGovGCCHigh', 'resources')).toEqual([
      { kind: 'exchange', resource: 'https://outlook.office365.us' },
      { kind: 'compliance', resource: 'https://ps.compliance.protection.office365.us' },
      { kind: 'graph', resource: 'https://graph.microsoft.us' },
    ]);
    expect(parseResources('exchange=https://outlook.office365.us/', 'O365USGovDoD', 'resources')).toEqual([
      { kind: 'exchange', resource: 'https://outlook.office365.us' },
    ]);
  });
  it('rejects unknown kinds, duplicates and non-HTTPS overrides', () => {
    expect(
      inputError(() => parseResources('exchange,sharepoint', 'O365Default', 'resources')).message,
    ).toMatch(/accepts exchange, compliance, graph .* got 'sharepoint'/);
    expect(inputError(() => parseResources('graph,graph', 'O365Default', 'resources')).message).toMatch(
      /twice/,
    );
    expect(inputError(() => parseResources('exchange=http://x', 'O365Default', 'resources')).message).toMatch(
      /https/,
    );
  });
  it('defaults the audience per cloud', () => {
    expect(parseAudience('', 'O365Default', 'audience')).toBe('api://AzureADTokenExchange');
    expect(parseAudience('', 'O365China', 'audience')).toBe('api://AzureADTokenExchangeChina');
    expect(parseAudience(' custom ', 'O365Default', 'audience')).toBe('custom');
    expect(inputError(() => parseAudience('a b', 'O365Default', 'audience')).input).toBe('audience');
  });
  it('takes a host[:port] for the authority, tolerating https://', () => {
    expect(parseAuthorityHost('', 'O365USGovDoD', 'authority-host')).toBe('login.microsoftonline.us');
    expect(parseAuthorityHost('localhost:8443', 'O365Default', 'authority-host')).toBe('localhost:8443');
    expect(parseAuthorityHost('https://Login.Example.net/', 'O365Default', 'authority-host')).toBe(
      'login.example.net',
    );
    expect(
      inputError(() => parseAuthorityHost('http://login.example.net', 'O365Default', 'authority-host'))
        .message,
    ).toMatch(/HTTPS/);
    expect(
      inputError(() => parseAuthorityHost('login.example.net/tenant', 'O365Default', 'authority-host'))
        .message,
    ).toMatch(/without a path/);
  });
  it('reads booleans strictly', () => {
    expect(parseBoolean('', 'export-env', false)).toBe(false);
    expect(parseBoolean('TRUE', 'export-env', false)).toBe(true);
    expect(inputError(() => parseBoolean('yes', 'export-env', false)).message).toBe(
      "Input 'export-env' must be true or false; got 'yes'.",
    );
  });
});
