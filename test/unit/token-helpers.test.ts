import { describe, expect, it } from 'vitest';
import { audienceClaim, decodeJwtClaims, expiryOf, rolesClaim } from '../../src/core/jwt.js';
import { authorityMetadata, claimsOf, resolveSettings } from '../../src/core/token.js';
import { EnvVar, tokenVariables } from '../../src/core/variables.js';
import { unsignedJwt } from '../support/jwt.js';
import { LIBRARY_SETTING_NAMES } from '../../src/core/settings.js';

const jwt = (claims: unknown): string => unsignedJwt(claims);

describe('JWT claims (diagnostics only, never verification)', () => {
  it('reads claims and tolerates garbage', () => {
    const token = jwt({
      tid: 't',
      appid: 'a',
      aud: ['x', 'y'],
      roles: ['Exchange.ManageAsApp', 7],
      exp: 1_800_000_000,
    });
    expect(claimsOf(token)).toEqual({
      tenantId: 't',
      appId: 'a',
      objectId: undefined,
      audience: 'x, y',
      roles: ['Exchange.ManageAsApp'],
    });
    expect(expiryOf(decodeJwtClaims(token))?.toISOString()).toBe('2027-01-15T08:00:00.000Z');
    expect(decodeJwtClaims('not-a-jwt')).toBeUndefined();
    expect(decodeJwtClaims('a.bm90IGpzb24.c')).toBeUndefined();
    expect(decodeJwtClaims(`a.${Buffer.from('[1]').toString('base64url')}.c`)).toBeUndefined();
    expect(rolesClaim(undefined)).toEqual([]);
    expect(audienceClaim({ aud: 3 })).toBeUndefined();
  });
});

describe('authority metadata handed to MSAL', () => {
  it('names the tenant-specific v2.0 endpoints so MSAL never fetches discovery documents', () => {
    expect(JSON.parse(authorityMetadata('login.microsoftonline.us', 'contoso.onmicrosoft.us'))).toEqual({
      token_endpoint: 'https://login.microsoftonline.us/contoso.onmicrosoft.us/oauth2/v2.0/token',
      issuer: 'https://login.microsoftonline.us/contoso.onmicrosoft.us/v2.0',
      authorization_endpoint: 'https://login.microsoftonline.us/contoso.onmicrosoft.us/oauth2/v2.0/authorize',
      end_session_endpoint: 'https://login.microsoftonline.us/contoso.onmicrosoft.us/oauth2/v2.0/logout',
      jwks_uri: 'https://login.microsoftonline.us/contoso.onmicrosoft.us/discovery/v2.0/keys',
    });
  });
});

describe('settings and variables', () => {
  it('resolves a cloud and its defaults from one table', () => {
    const settings = resolveSettings({
      tenantId: 'contoso.onmicrosoft.us',
      clientId: '5F0D7C9A-3B2E-4D6F-8A1C-9E7B4D2F6A0C',
      environment: 'O365USGovGCCHigh',
      resources: ['exchange', 'compliance'],
    });
    expect(settings).toEqual({
      tenantId: 'contoso.onmicrosoft.us',
      clientId: '5f0d7c9a-3b2e-4d6f-8a1c-9e7b4d2f6a0c',
      environment: 'O365USGovGCCHigh',
      organization: 'contoso.onmicrosoft.us',
      resources: [
        { kind: 'exchange', resource: 'https://outlook.office365.us' },
        { kind: 'compliance', resource: 'https://ps.compliance.protection.office365.us' },
      ],
      audience: 'api://AzureADTokenExchangeUSGov',
      authorityHost: 'login.microsoftonline.us',
      // Where each value came from: the organization from the tenant ID, the rest given or the cloud's.
      sources: {
        tenantId: 'given',
        clientId: 'given',
        environment: 'given',
        organization: 'tenant',
        resources: 'given',
        audience: 'default',
        authorityHost: 'default',
      },
      names: LIBRARY_SETTING_NAMES,
    });
  });
  it('lists only the variables for tokens that exist', () => {
    const expiresOn = new Date('2026-11-25T10:00:00Z');
    const vars = tokenVariables({
      tokens: { exchange: { token: 'e' }, graph: { token: 'g' } },
      organization: undefined,
      tenantId: 't',
      environment: 'O365Default',
      expiresOn,
    });
    expect(vars).toEqual([
      [EnvVar.AccessToken, 'e'],
      [EnvVar.GraphAccessToken, 'g'],
      [EnvVar.TenantId, 't'],
      [EnvVar.Environment, 'O365Default'],
      [EnvVar.ExpiresOn, '2026-11-25T10:00:00.000Z'],
    ]);
  });
});
