import { describe, expect, it } from 'vitest';
import {
  entraCode,
  explainEntraError,
  federatedCredentialCommand,
  parseEntraError,
  troubleForEntraError,
} from '../../src/core/entra-errors.js';
import { unsignedJwt } from '../support/jwt.js';

const jwt = unsignedJwt;

const body70021 = JSON.stringify({
  error: 'invalid_request',
  error_description:
    "AADSTS70021: No matching federated identity record found for presented assertion. Assertion Issuer: 'https://token.actions.githubusercontent.com'. Assertion Subject: 'repo:octo/x:ref:refs/heads/dev'. Assertion Audience: 'api://AzureADTokenExchange'. Trace ID: t-1 Correlation ID: c-1 Timestamp: 2026-11-25 10:00:00Z",
  error_codes: [70021],
  timestamp: '2026-11-25 10:00:00Z',
  trace_id: 't-1',
  correlation_id: 'c-1',
  error_uri: 'https://login.microsoftonline.com/error?code=70021',
});

const ctx = {
  clientId: '5f0d7c9a-3b2e-4d6f-8a1c-9e7b4d2f6a0c',
  tenant: 'contoso.onmicrosoft.com',
  environment: 'O365Default',
  authorityHost: 'login.microsoftonline.com',
  resource: 'https://outlook.office365.com',
  assertionSource: 'GitHub Actions OIDC',
  assertion: jwt({
    iss: 'https://token.actions.githubusercontent.com',
    sub: 'repo:octo/x:ref:refs/heads/dev',
    aud: 'api://AzureADTokenExchange',
  }),
};

describe('Entra errors', () => {
  it('parses the body and finds the AADSTS code', () => {
    const body = parseEntraError(body70021);
    expect(body?.correlation_id).toBe('c-1');
    expect(body && entraCode(body)).toBe(70021);
    expect(entraCode({ error: 'x', error_description: 'AADSTS700016: Application …' })).toBe(700016);
    expect(parseEntraError('<html>bad gateway</html>')).toBeUndefined();
  });
  it('explains a federated-credential mismatch with the claims GitHub presented', () => {
    const body = parseEntraError(body70021);
    if (!body) throw new Error('unparsed');
    const error = explainEntraError(body, 400, ctx);
    expect(error.code).toBe('AADSTS70021');
    expect(error.message).toContain("subject 'repo:octo/x:ref:refs/heads/dev'");
    expect(error.message).toContain("issuer 'https://token.actions.githubusercontent.com'");
    expect(error.message).toContain("audience 'api://AzureADTokenExchange'");
    expect(error.message).toContain('Correlation ID: c-1');
    expect(error.message).toContain('TROUBLESHOOTING.md#federated-credential');
    expect(error.message).not.toContain(ctx.assertion);
    expect(error.message).not.toContain('\n');
  });
  it('maps each documented code to its fix', () => {
    const cases: [number, string][] = [
      [700211, 'federatedCredential'],
      [700213, 'federatedCredential'],
      [7002138, 'federatedCredential'],
      [700016, 'applicationNotFound'],
      [90002, 'tenantNotFound'],
      [500011, 'resourceNotFound'],
      [700024, 'assertionLifetime'],
      [50196, 'throttled'],
      [12345, 'invalidClient'],
    ];
    for (const [code, key] of cases) {
      expect(troubleForEntraError({ error: 'invalid_client', error_codes: [code] })).toBe(key);
    }
  });
  it("treats an unknown code on a 5xx or 429 as Entra's side, on a 4xx as the client's", () => {
    const body = { error: 'temporarily_unavailable', error_codes: [90033] };
    expect(troubleForEntraError(body, 503)).toBe('throttled');
    expect(troubleForEntraError(body, 429)).toBe('throttled');
    expect(troubleForEntraError(body, 400)).toBe('invalidClient');
    // A known code keeps its own fix whatever the status.
    expect(troubleForEntraError({ error: 'invalid_client', error_codes: [700213] }, 500)).toBe(
      'federatedCredential',
    );
  });
  it('ends a federated-credential refusal with the az command that adds the credential', () => {
    const refusal = parseEntraError(body70021) ?? { error: 'missing' };
    const error = explainEntraError(refusal, 400, ctx);
    expect(error.message).toContain(
      `To add it (bash): az ad app federated-credential create --id ${ctx.clientId} --parameters '{"name":"exo-login-repo-octo-x-ref-refs-heads-dev","issuer":"https://token.actions.githubusercontent.com","subject":"repo:octo/x:ref:refs/heads/dev","audiences":["api://AzureADTokenExchange"]}'`,
    );
    // Without a decodable assertion there is nothing to put in it.
    const blind = explainEntraError(refusal, 400, { ...ctx, assertion: undefined });
    expect(blind.message).not.toContain('To add it');
  });
  it('builds a credential name Entra accepts and quotes the JSON for a POSIX shell', () => {
    const long = `repo:o/r:environment:${'x'.repeat(200)}`;
    const command = federatedCredentialCommand('c', 'https://i', long, 'a');
    const name = /"name":"([^"]*)"/.exec(command)?.[1] ?? '';
    expect(name).toMatch(/^[A-Za-z0-9][A-Za-z0-9_-]{2,119}$/);
    const quoted = federatedCredentialCommand('c', 'https://i', "repo:o/it's:ref:refs/heads/main", 'a');
    expect(quoted).toContain(`"subject":"repo:o/it'\\''s:ref:refs/heads/main"`);
  });
  it('names the tenant, client and cloud for not-found errors', () => {
    const error = explainEntraError(
      { error: 'invalid_request', error_codes: [90002], error_description: 'AADSTS90002: Tenant not found.' },
      400,
      ctx,
    );
    expect(error.message).toMatch(/environment O365Default/);
    expect(error.message).toMatch(/GCC High tenant is not in the public cloud/);
  });
});
