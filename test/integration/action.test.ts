import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { decodeJwt } from '../emulator/jwt.ts';
import { DEFAULTS, defaultTenant, GITHUB_ISSUER, type Emulator, type Endpoint } from '../emulator/index.ts';
import { startProxy, type TestProxy } from '../emulator/proxy.ts';
import { startUntrustedServer, type UntrustedServer } from '../emulator/untrusted.ts';
import { useEmulator } from './emulator-fixture.ts';
import { errorAnnotation, leaks, ROOT, runAction, type ActionRun } from './runner.ts';

const current = useEmulator();
let emulator: Emulator;
beforeEach(() => {
  emulator = current();
});

function run(
  inputs: Record<string, string> = {},
  env: Record<string, string | undefined> = {},
): Promise<ActionRun> {
  return runAction({
    inputs: {
      'tenant-id': emulator.domain,
      'client-id': emulator.clientId,
      'authority-host': emulator.authorityHost,
      ...inputs,
    },
    env: { ...emulator.env, ...env },
  });
}

/**
 * Every secret of the run: the tokens the emulator issued (even ones the action never output), the access
 * tokens it output, and whatever it asked to mask.
 */
function secretsOf(result: ActionRun): string[] {
  const tokens = ['access-token', 'compliance-access-token', 'graph-access-token']
    .map((name) => result.outputs[name])
    .filter((v): v is string => v !== undefined);
  return [...new Set([...emulator.issued, ...tokens, ...result.masks])];
}

/** Emulator request counts; discovery and other are always 0 (MSAL is given the metadata). */
function requests(oidc: number, token: number): Record<Endpoint, number> {
  return { oidc, token, discovery: 0, other: 0 };
}

/** The sentence the action adds to every federated-credential refusal: what GitHub presented. */
function presented(issuer: string, subject: string, audience: string): string {
  return `GitHub Actions OIDC presented issuer '${issuer}', subject '${subject}', audience '${audience}'. The app ${DEFAULTS.clientId} in tenant ${DEFAULTS.domain} needs a federated credential with exactly these three values.`;
}

/** A refusal from Entra: failed, explained in one annotation, one token request (not retried), nothing leaked. */
function expectRefusal(result: ActionRun, oidcRequests = 1): string {
  expect(result.code, result.stdout).toBe(1);
  expect(emulator.counts()).toEqual(requests(oidcRequests, 1));
  const message = errorAnnotation(result) ?? '';
  const correlation = emulator.requests.find((r) => r.endpoint === 'token')?.correlationId ?? 'missing';
  expect(message).toContain(`Correlation ID: ${correlation}`);
  expect(message).not.toMatch(/\n\s+at /);
  expect(result.stdout).not.toMatch(/retrying in/);
  expect(result.outputs['access-token']).toBeUndefined();
  expect(leaks(result, secretsOf(result))).toEqual([]);
  return message;
}

describe('exo-login action on the emulator, run as the runner runs it', () => {
  it('mints an Exchange token with one OIDC and one Entra request, masked before anything else', async () => {
    const result = await run();
    expect(result.code, result.stdout).toBe(0);
    const token = result.outputs['access-token'] ?? '';
    const claims = emulator.verifyAccessToken(token);
    expect(claims['aud']).toBe('https://outlook.office365.com');
    expect(claims['roles']).toEqual(['Exchange.ManageAsApp']);
    expect(result.outputs['tenant-id']).toBe(emulator.tenantId);
    expect(result.outputs['organization']).toBe('contoso.onmicrosoft.com');
    expect(result.outputs['environment']).toBe('O365Default');
    expect(result.outputs['expires-on']).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(new Date(result.outputs['expires-on'] ?? '').getTime()).toBe((claims['exp'] as number) * 1000);
    expect(result.outputs['compliance-access-token']).toBeUndefined();
    expect(emulator.counts()).toEqual({ oidc: 1, token: 1, discovery: 0, other: 0 });
    // The ID token and the access token are both masked, and neither appears anywhere else.
    expect(result.masks).toHaveLength(2);
    expect(result.masks).toContain(token);
    expect(leaks(result, secretsOf(result))).toEqual([]);
    // The first add-mask comes before any other output line.
    expect(result.stdout.split('\n').filter((l) => !l.startsWith('::group::'))[0]).toMatch(/^::add-mask::/);
    expect(result.summary).toContain('Exchange.ManageAsApp');
    expect(result.summary).toContain(emulator.tenantId);
    expect(result.exported).toEqual({});
    expect(result.stdout).toContain('subject repo:octo-org/exo-audit:ref:refs/heads/main');
  });

  it('shares one ID token among concurrent requests for several resources', async () => {
    // Each token request is held 400 ms: only concurrent requests all start before the first one ends.
    emulator.injectFaults(
      'token',
      [400, 400, 400].map((ms) => ({ kind: 'delay' as const, ms })),
    );
    const result = await run({ resources: 'exchange\ncompliance, graph', 'export-env': 'true' });
    expect(result.code, result.stdout).toBe(0);
    expect(emulator.counts()).toEqual({ oidc: 1, token: 3, discovery: 0, other: 0 });
    const tokenRequests = emulator.requests.filter((r) => r.endpoint === 'token');
    // Concurrent: every token request started before the first one finished.
    const firstEnd = Math.min(...tokenRequests.map((r) => r.end));
    expect(tokenRequests.every((r) => r.start <= firstEnd)).toBe(true);
    expect(emulator.verifyAccessToken(result.outputs['compliance-access-token'] ?? '')['aud']).toBe(
      'https://ps.compliance.protection.outlook.com',
    );
    expect(emulator.verifyAccessToken(result.outputs['graph-access-token'] ?? '')['aud']).toBe(
      'https://graph.microsoft.com',
    );
    expect(result.exported['EXO_ACCESS_TOKEN']).toBe(result.outputs['access-token']);
    expect(result.exported['IPPS_ACCESS_TOKEN']).toBe(result.outputs['compliance-access-token']);
    expect(result.exported['GRAPH_ACCESS_TOKEN']).toBe(result.outputs['graph-access-token']);
    expect(result.exported['EXO_ORGANIZATION']).toBe('contoso.onmicrosoft.com');
    expect(result.exported['EXO_TENANT_ID']).toBe(emulator.tenantId);
    expect(result.exported['EXO_ENVIRONMENT']).toBe('O365Default');
    expect(result.masks).toHaveLength(4);
    expect(leaks(result, secretsOf(result))).toEqual([]);
    // Graph has no Exchange role to check; the Exchange and compliance tokens have theirs: no warning.
    expect(result.stdout).not.toContain('::warning::');
  });

  it('explains a missing id-token: write permission and sends nothing', async () => {
    const result = await run(
      {},
      { ACTIONS_ID_TOKEN_REQUEST_URL: undefined, ACTIONS_ID_TOKEN_REQUEST_TOKEN: undefined },
    );
    expect(result.code).toBe(1);
    const message = errorAnnotation(result) ?? '';
    expect(message).toContain('permissions: id-token: write');
    expect(message).toContain('job-level `permissions:` block replaces');
    expect(message).toContain('forks');
    expect(message).not.toMatch(/\n\s+at /);
    expect(emulator.counts()).toEqual(requests(0, 0));
    expect(result.masks).toEqual([]);
    expect(leaks(result, secretsOf(result))).toEqual([]);
  });

  it.each([
    ['tenant-id', 'not a tenant', /^Input 'tenant-id' must be a GUID/],
    ['client-id', 'contoso', /^Input 'client-id' must be the application \(client\) ID/],
    ['environment', 'AzureCloud', /^Input 'environment' must be one of O365Default/],
    ['resources', 'exchange,sharepoint', /^Input 'resources' accepts exchange, compliance, graph/],
    [
      'organization',
      '8c3d2b5e-7a1f-4e6b-9d0c-2f4a6b8e1c3d',
      /^Input 'organization' must be the tenant's initial domain/,
    ],
    ['export-env', 'yes', /^Input 'export-env' must be true or false/],
    ['authority-host', 'http://login.example', /^Input 'authority-host' must use HTTPS/],
    ['max-parallel', '0', /^Input 'max-parallel' must be a whole number from 1 to 64/],
    ['timeout-minutes', '-1', /^Input 'timeout-minutes' must be a number of minutes/],
    ['shard', '5/4', /^Input 'shard' must be i\/n/],
  ])('rejects %s=%j with a one-line error naming it, before any request', async (input, value, pattern) => {
    const result = await run({ [input]: value });
    expect(result.code).toBe(1);
    const message = errorAnnotation(result) ?? '';
    expect(message).toMatch(pattern);
    expect(message).not.toContain('\n');
    expect(emulator.counts()).toEqual(requests(0, 0));
    expect(leaks(result, secretsOf(result))).toEqual([]);
  });

  it('documents invalid inputs in the generated troubleshooting section, linked from README', () => {
    const text = readFileSync(join(ROOT, 'TROUBLESHOOTING.md'), 'utf8');
    const section = text.slice(text.indexOf('<a id="invalid-input"></a>'));
    expect(section).toMatch(/^<a id="invalid-input"><\/a>\n\n## An input is invalid\n/);
    expect(section).toContain('names the input and the forms it accepts');
    expect(section).toContain('nothing was sent');
    expect(readFileSync(join(ROOT, 'README.md'), 'utf8')).toContain('](TROUBLESHOOTING.md#invalid-input)');
  });

  it('echoes a huge value in one short annotation, not whole (issue 9.7)', async () => {
    const result = await run({ 'tenant-id': 'x'.repeat(100_000) });
    expect(result.code).toBe(1);
    const message = errorAnnotation(result) ?? '';
    expect(message).toMatch(/^Input 'tenant-id' must be a GUID .*; got 'x{60}…' \(100000 characters\)\.$/);
    expect(message.length).toBeLessThan(300);
    expect(emulator.counts()).toEqual(requests(0, 0));
  });

  it('refuses authority-host values that are no host name, by name and before any request (issue 9.7)', async () => {
    for (const value of ['-1', 'nan', '1e3', `${'a'.repeat(100_000)}.example`]) {
      const result = await run({ 'authority-host': value });
      expect(result.code).toBe(1);
      expect(errorAnnotation(result)).toMatch(/^Input 'authority-host' must be a host name such as /);
    }
    expect(emulator.counts()).toEqual(requests(0, 0));
  });

  it('rejects a missing required input', async () => {
    const result = await run({}, { 'INPUT_CLIENT-ID': undefined });
    expect(result.code).toBe(1);
    expect(errorAnnotation(result)).toMatch(/^Input 'client-id' is required/);
    expect(emulator.counts()).toEqual(requests(0, 0));
    expect(leaks(result, secretsOf(result))).toEqual([]);
  });

  describe('no matching federated credential: one request, what GitHub presented, and the fix', () => {
    const production = 'repo:octo-org/exo-audit:environment:production';
    const enterpriseIssuer = `${GITHUB_ISSUER}/octo-org`;
    it.each([
      {
        code: 'AADSTS700211',
        what: 'an issuer no credential lists (enterprise issuer)',
        setup: () => (emulator.idToken = { ...emulator.idToken, issuer: enterpriseIssuer }),
        inputs: {},
        entra: `presented assertion issuer '${enterpriseIssuer}'`,
        shown: presented(enterpriseIssuer, DEFAULTS.subject, DEFAULTS.audience),
      },
      {
        code: 'AADSTS700213',
        what: 'a subject no credential lists (environment job)',
        setup: () => (emulator.idToken = { ...emulator.idToken, subject: production }),
        inputs: {},
        entra: `presented assertion subject '${production}'`,
        shown: presented(GITHUB_ISSUER, production, DEFAULTS.audience),
      },
      {
        code: 'AADSTS7002138',
        what: 'a subject that matches only when case is ignored',
        setup: () =>
          (emulator.idToken = {
            ...emulator.idToken,
            subject: 'repo:Octo-Org/exo-audit:ref:refs/heads/main',
          }),
        inputs: {},
        entra: 'matches with case-insensitive comparison, but not with case-sensitive comparison',
        shown: presented(GITHUB_ISSUER, 'repo:Octo-Org/exo-audit:ref:refs/heads/main', DEFAULTS.audience),
      },
      {
        code: 'AADSTS70021',
        what: 'a subject mismatch, answered the way older tenants did',
        setup: () => {
          emulator.legacyNoMatch = true;
          emulator.idToken = { ...emulator.idToken, subject: production };
        },
        inputs: {},
        entra: `Assertion Issuer: '${GITHUB_ISSUER}'. Assertion Subject: '${production}'. Assertion Audience: '${DEFAULTS.audience}'.`,
        shown: presented(GITHUB_ISSUER, production, DEFAULTS.audience),
      },
    ])('$code for $what', async ({ code, setup, inputs, entra, shown }) => {
      setup();
      const message = expectRefusal(await run(inputs));
      // The code exactly: 'AADSTS70021' is also a prefix of 700211, 700212 and 700213.
      expect(message).toContain(`${code}: `);
      expect(message).toContain(entra);
      expect(message).toContain(shown);
      expect(message).toContain(
        `To add it (bash): az ad app federated-credential create --id ${DEFAULTS.clientId} --parameters '{"name":"exo-login-`,
      );
      expect(message).toContain('Fix: Add a federated credential to the app registration');
      expect(message).toContain('TROUBLESHOOTING.md#federated-credential');
    });
  });

  it('AADSTS700212 for an audience set by the user: points at the input, never at a credential for that value', async () => {
    const message = expectRefusal(await run({ audience: 'api://custom' }));
    expect(message).toContain(
      "AADSTS700212: No matching federated identity record found for presented assertion audience 'api://custom'",
    );
    expect(message).toContain(
      `GitHub Actions OIDC presented issuer '${GITHUB_ISSUER}', subject '${DEFAULTS.subject}', audience 'api://custom'.`,
    );
    expect(message).not.toContain('needs a federated credential');
    expect(message).toContain(
      "That audience was set with 'audience'; federated credentials normally use api://AzureADTokenExchange. Leave 'audience' unset, unless the app's credential was made for 'api://custom'.",
    );
    expect(message).not.toContain('az ad app federated-credential create --id');
    expect(message).not.toContain('Add a federated credential');
    expect(message).toContain('TROUBLESHOOTING.md#federated-credential');
  });

  it.each([
    {
      signedBy: 'foreign' as const,
      code: 'AADSTS7000272',
      entra: `could not be found in the metadata of identity provider ${GITHUB_ISSUER}`,
    },
    {
      signedBy: 'forged' as const,
      code: 'AADSTS5002738',
      entra: "could not be verified with the issuer's published keys",
    },
  ])(
    'refuses an ID token signed with a key GitHub does not publish ($signedBy: $code), once',
    async ({ signedBy, code, entra }) => {
      emulator.idToken = { ...emulator.idToken, signedBy };
      const message = expectRefusal(await run());
      expect(message).toMatch(
        new RegExp(
          `^Entra ID refused the token request for https://outlook\\.office365\\.com \\(HTTP 401, invalid_client\\): ${code}: `,
        ),
      );
      expect(message).toContain(entra);
      expect(message).toContain('TROUBLESHOOTING.md#invalid-client');
    },
  );

  it.each([
    [
      { 'tenant-id': 'fabrikam.onmicrosoft.com' },
      'AADSTS90002',
      /GCC High tenant is not in the public cloud/,
    ],
    [
      { 'client-id': '11111111-2222-4333-8444-555555555555' },
      'AADSTS700016',
      /Application \(client\) ID on the app's Overview page/,
    ],
    // The wrong cloud: GCC High resources asked of a public-cloud tenant.
    [
      { environment: 'O365USGovGCCHigh', audience: 'api://AzureADTokenExchange' },
      'AADSTS500011',
      /Check `environment`/,
    ],
  ])('maps %j to %s and its fix, without retrying', async (inputs, code, fix) => {
    const message = expectRefusal(await run(inputs));
    expect(message).toContain(`${code}: `);
    expect(message).toMatch(fix);
    expect(message).toMatch(/Correlation ID: [0-9a-f-]{36}/);
  });

  it('explains an expired assertion (AADSTS700024), without retrying', async () => {
    emulator.idToken = { ...emulator.idToken, issuedAtOffsetSeconds: -1200 };
    // The ID token arrives already expired, so the assertion callback fetches another (just as expired):
    // two OIDC requests, then one token request that is not retried.
    const message = expectRefusal(await run(), 2);
    expect(message).toContain('AADSTS700024: ');
    expect(message).toContain('TROUBLESHOOTING.md#assertion-lifetime');
  });

  it('warns when the token lacks Exchange.ManageAsApp, and still outputs it', async () => {
    const tenant = defaultTenant();
    const app = tenant.apps[0];
    if (app) app.appRoles = {};
    emulator.tenants = [tenant];
    const result = await run();
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^::warning::The exchange token .* has no Exchange\.ManageAsApp role/m);
    expect(result.stdout).toContain('Grant admin consent');
    expect(result.outputs['access-token']).toBeTruthy();
    expect(emulator.counts()).toEqual(requests(1, 1));
    expect(leaks(result, secretsOf(result))).toEqual([]);
  });

  it('warns when the organization is not an initial *.onmicrosoft.com domain, and still succeeds', async () => {
    const result = await run({ organization: 'contoso.com' });
    expect(result.code, result.stdout).toBe(0);
    const warnings = [...result.stdout.matchAll(/^::warning::(.*)$/gm)].map((m) => m[1]);
    expect(warnings).toEqual([
      expect.stringMatching(/^organization contoso\.com is not an initial \*\.onmicrosoft\.com domain/),
    ]);
    expect(result.outputs['organization']).toBe('contoso.com');
    const plain = await run();
    expect(plain.stdout).not.toMatch(/^::warning::/m);
  });

  it('says the organization was taken from the tenant ID when no organization input is set (issue 9.11)', async () => {
    const tenant = defaultTenant();
    tenant.domains.push('contoso.com');
    emulator.tenants = [tenant];
    const result = await run({ 'tenant-id': 'contoso.com' });
    expect(result.code, result.stdout).toBe(0);
    const warnings = [...result.stdout.matchAll(/^::warning::(.*)$/gm)].map((m) => m[1]);
    expect(warnings).toEqual([
      "organization contoso.com, taken from the tenant ID, is not an initial *.onmicrosoft.com domain: Connect-ExchangeOnline -Organization with an access token expects the tenant's initial domain; set 'organization' to it if connecting fails.",
    ]);
  });

  it('prints the stack of a failure through the debug channel only under RUNNER_DEBUG=1 (issue 9.10)', async () => {
    emulator.injectFaults('token', [{ kind: 'answer', body: { access_token: 42, expires_in: 3599 } }]);
    const quiet = await run();
    expect(quiet.code).toBe(1);
    expect(quiet.stdout).not.toMatch(/^::debug::/m);
    emulator.injectFaults('token', [{ kind: 'answer', body: { access_token: 42, expires_in: 3599 } }]);
    const debug = await run({}, { RUNNER_DEBUG: '1' });
    expect(debug.code).toBe(1);
    const lines = [...debug.stdout.matchAll(/^::debug::(.*)$/gm)].map((m) => m[1] ?? '');
    expect(lines.some((l) => /^ExoLoginError: Entra ID at .* malformed answer.*%0A {4}at /.test(l))).toBe(
      true,
    );
    expect(errorAnnotation(debug)).toBe(errorAnnotation(quiet));
  });

  it.each([
    [{ access_token: 42, expires_in: 3599 }, 'access_token is 42, not a string'],
    [{ access_token: { a: 1 }, expires_in: 3599 }, 'access_token is an object, not a string'],
    [{ access_token: 'not-a-jwt', expires_in: 3599 }, 'access_token is not a JWT'],
    [
      { access_token: 'eyJhbGciOiJub25lIn0.eyJ4IjoxfQ.c2ln', expires_in: 1e20 },
      'expires_in is 100000000000000000000, not a whole number of seconds from 1 to 86400',
    ],
    [{ token_type: 'Bearer' }, 'it has no access_token'],
  ])(
    'explains a malformed answer from Entra in one line, no retry, no crash (issue 9.8): %j',
    async (body, problem) => {
      emulator.injectFaults('token', [{ kind: 'answer', body }]);
      const result = await run();
      expect(result.code).toBe(1);
      const message = errorAnnotation(result) ?? '';
      expect(message).toMatch(
        /^Entra ID at localhost:\d+ answered the token request for https:\/\/outlook\.office365\.com with HTTP 200 but a malformed answer: /,
      );
      expect(message).toContain(`: ${problem}.`);
      expect(message).not.toMatch(/unexpectedly|is not a function|Invalid time value/);
      expect(emulator.counts()).toEqual(requests(1, 1));
    },
  );

  it('fails in one line naming Entra when its answer never ends, with no crash or open group (issue 9.4)', async () => {
    emulator.injectFaults('token', [{ kind: 'oversized', bytes: 600 * 1024 * 1024 }]);
    const result = await run();
    expect(result.code).toBe(1);
    const message = errorAnnotation(result) ?? '';
    expect(message).toMatch(
      /^Cannot reach Entra ID at localhost:\d+: answer larger than 1048576 bytes, the most accepted from it /,
    );
    expect(message).toContain('No answer of Entra ID is that long');
    expect(result.stdout).not.toMatch(/ERR_STRING_TOO_LONG|unexpectedly/);
    // Every group the action opened is closed.
    expect(result.stdout.match(/^::group::/gm)?.length).toBe(result.stdout.match(/^::endgroup::/gm)?.length);
    expect(emulator.counts()).toEqual(requests(1, 1));
  });

  it('retries throttling and server errors on both endpoints, honouring Retry-After', async () => {
    emulator.injectFaults('oidc', [{ kind: 'status', status: 503, body: 'html' }, { kind: 'reset' }]);
    emulator.injectFaults('token', [
      { kind: 'status', status: 429, retryAfterSeconds: 1 },
      { kind: 'status', status: 500 },
      { kind: 'reset' },
    ]);
    const result = await run();
    expect(result.code, result.stdout).toBe(0);
    expect(emulator.counts()).toEqual({ oidc: 3, token: 4, discovery: 0, other: 0 });
    const token = emulator.requests.filter((r) => r.endpoint === 'token');
    // The retry after the 429 waited for Retry-After (1 s).
    expect((token[1]?.start ?? 0) - (token[0]?.end ?? 0)).toBeGreaterThanOrEqual(950);
    expect(result.stdout).toMatch(/attempt 1 failed \(HTTP 429\); retrying in \d+ ms/);
    emulator.verifyAccessToken(result.outputs['access-token'] ?? '');
    expect(leaks(result, secretsOf(result))).toEqual([]);
  });

  it('presents a fresh ID token on a retry made after the cached one aged', async () => {
    // The action fetches a new ID token once the cached one has under 60 s left (CachedAssertion). One that
    // lives 63 s is fresh for the first attempt and stale after a 3 s Retry-After.
    emulator.idToken = { ...emulator.idToken, lifetimeSeconds: 63 };
    emulator.injectFaults('token', [{ kind: 'status', status: 429, retryAfterSeconds: 3 }]);
    const result = await run();
    expect(result.code, result.stdout).toBe(0);
    expect(emulator.counts()).toEqual(requests(2, 2));
    const [firstToken, secondToken] = emulator.requests.filter((r) => r.endpoint === 'token');
    const [, secondOidc] = emulator.requests.filter((r) => r.endpoint === 'oidc');
    const jti = (token: string | undefined) => decodeJwt(token ?? '')?.claims['jti'];
    const [firstIdToken, secondIdToken] = emulator.issued;
    expect(firstToken?.assertionId).toBe(jti(firstIdToken));
    expect(secondToken?.assertionId).toBe(jti(secondIdToken));
    expect(secondToken?.assertionId).not.toBe(firstToken?.assertionId);
    // Fetched for the retry, not up front.
    expect(secondOidc?.start).toBeGreaterThanOrEqual(firstToken?.end ?? Infinity);
    emulator.verifyAccessToken(result.outputs['access-token'] ?? '');
    expect(result.masks).toHaveLength(3);
    expect(leaks(result, secretsOf(result))).toEqual([]);
  });

  const persistent503 = (body: 'entra' | 'html') =>
    emulator.injectFaults(
      'token',
      Array.from({ length: 6 }, () => ({ kind: 'status' as const, status: 503, body })),
    );

  it("stops after five attempts on a persistent 503, with Entra's last answer", async () => {
    persistent503('entra');
    const result = await run();
    expect(result.code).toBe(1);
    expect(emulator.counts()).toEqual(requests(1, 5));
    expect(result.stdout.match(/attempt \d failed \(HTTP 503\); retrying in \d+ ms/g)).toHaveLength(4);
    const message = errorAnnotation(result) ?? '';
    expect(message).toMatch(
      /^Entra ID refused the token request for https:\/\/outlook\.office365\.com \(HTTP 503, temporarily_unavailable\): AADSTS90033: A transient error has occurred\./,
    );
    const last = emulator.requests.filter((r) => r.endpoint === 'token').at(-1)?.correlationId ?? 'missing';
    expect(message).toContain(`Correlation ID: ${last}`);
    // Entra's side, so the throttling fix, not the invalid-client one.
    expect(message).toContain('TROUBLESHOOTING.md#throttled');
    expect(message).not.toContain('invalid-client');
    expect(leaks(result, secretsOf(result))).toEqual([]);
  });

  it('explains a persistent 503 without an OAuth body as throttling, after five attempts', async () => {
    persistent503('html');
    const result = await run();
    expect(result.code).toBe(1);
    expect(emulator.counts()).toEqual(requests(1, 5));
    const message = errorAnnotation(result) ?? '';
    expect(message).toMatch(/^Entra ID at localhost:\d+ answered HTTP 503 without an OAuth error body\./);
    expect(message).toContain('TROUBLESHOOTING.md#throttled');
    expect(leaks(result, secretsOf(result))).toEqual([]);
  });

  it('treats AADSTS50196 (request loop) as transient', async () => {
    emulator.injectFaults('token', [{ kind: 'entraError', code: 50196 }]);
    const result = await run();
    expect(result.code, result.stdout).toBe(0);
    expect(emulator.counts().token).toBe(2);
  });

  it('honours Retry-After on AADSTS50196 as on a 429', async () => {
    // Without Retry-After the first backoff is 250–500 ms.
    emulator.injectFaults('token', [{ kind: 'entraError', code: 50196, retryAfterSeconds: 1 }]);
    const result = await run();
    expect(result.code, result.stdout).toBe(0);
    const [first, second] = emulator.requests.filter((r) => r.endpoint === 'token');
    expect((second?.start ?? 0) - (first?.end ?? 0)).toBeGreaterThanOrEqual(900);
    expect(emulator.counts()).toEqual(requests(1, 2));
  });

  it('waits for Retry-After on a 429 from GitHub OIDC, then succeeds', async () => {
    emulator.injectFaults('oidc', [{ kind: 'status', status: 429, retryAfterSeconds: 1, body: 'github' }]);
    const result = await run();
    expect(result.code, result.stdout).toBe(0);
    const [first, second] = emulator.requests.filter((r) => r.endpoint === 'oidc');
    expect((second?.start ?? 0) - (first?.end ?? 0)).toBeGreaterThanOrEqual(900);
    expect(result.stdout).toMatch(
      /ID token request to GitHub's OIDC service: attempt 1 failed .*; retrying in \d+ ms/,
    );
    expect(emulator.counts()).toEqual(requests(2, 1));
    emulator.verifyAccessToken(result.outputs['access-token'] ?? '');
    expect(leaks(result, secretsOf(result))).toEqual([]);
  });

  describe('GitHub refusing the ID token request: no retry, and the fix', () => {
    it.each([
      {
        status: 401,
        what: 'a request token GitHub does not accept',
        setup: () => undefined,
        env: () => ({ ACTIONS_ID_TOKEN_REQUEST_TOKEN: 'expired-request-token' }),
        said: 'Bad credentials',
      },
      {
        status: 403,
        what: 'a forbidden request',
        setup: () => emulator.injectFaults('oidc', [{ kind: 'status', status: 403, body: 'github' }]),
        env: () => ({}),
        said: 'Request failed with status 403',
      },
      {
        status: 404,
        what: 'a request URL GitHub does not know',
        setup: () => undefined,
        env: () => ({ ACTIONS_ID_TOKEN_REQUEST_URL: `https://localhost:${emulator.port}/_apis/oidc/gone` }),
        said: undefined,
      },
    ])('HTTP $status for $what', async ({ status, setup, env, said }) => {
      setup();
      const result = await run({}, env());
      expect(result.code).toBe(1);
      const message = errorAnnotation(result) ?? '';
      expect(message).toMatch(new RegExp(`^GitHub refused the ID token request \\(HTTP ${status}[):]`));
      if (said !== undefined) expect(message).toContain(said);
      expect(message).toContain('Fix: Re-run the job');
      expect(message).toContain('TROUBLESHOOTING.md#id-token-request');
      expect(message).not.toMatch(/\n\s+at /);
      expect(result.stdout).not.toMatch(/retrying in/);
      // One request to GitHub (the 404 lands on an unknown path), none to Entra.
      expect(emulator.requests).toHaveLength(1);
      expect(emulator.requests[0]?.status).toBe(status);
      expect(emulator.counts().token).toBe(0);
      expect(leaks(result, secretsOf(result))).toEqual([]);
    });
  });

  it("stops the other resources' retries once one fails for good, and ends promptly", async () => {
    // Exchange is throttled for long (3 s Retry-After each time, 12 s over the attempts); the graph URL names no
    // service in the tenant (AADSTS500011), which no retry fixes.
    emulator.injectFaults(
      'token',
      Array.from({ length: 5 }, () => ({
        kind: 'status' as const,
        status: 503,
        retryAfterSeconds: 3,
        resource: 'https://outlook.office365.com',
      })),
    );
    const result = await run({ resources: 'exchange, graph=https://graph.contoso.example' });
    expect(result.code).toBe(1);
    const message = errorAnnotation(result) ?? '';
    expect(message).toMatch(
      /^Entra ID refused the token request for https:\/\/graph\.contoso\.example .*AADSTS500011: /,
    );
    expect(message).toContain('TROUBLESHOOTING.md#resource-not-found');
    const exchange = emulator.requests.filter((r) => r.scope === 'https://outlook.office365.com/.default');
    expect(exchange).toHaveLength(1);
    // Without stopping them, the retries would hold the step open for 12 s.
    expect(result.durationMs).toBeLessThan(5_000);
    expect(leaks(result, secretsOf(result))).toEqual([]);
  });
});

describe('network failures that a retry cannot fix fail at once, naming the cause and the fix', () => {
  const servers: UntrustedServer[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => s.close()));
  });
  const noRetry = (result: ActionRun): string => {
    expect(result.code).toBe(1);
    expect(result.stdout).not.toMatch(/retrying in/);
    const message = errorAnnotation(result) ?? '';
    expect(message).not.toMatch(/\n\s+at /);
    expect(leaks(result, secretsOf(result))).toEqual([]);
    return message;
  };

  it('Entra behind a certificate Node does not trust (self-signed, as a TLS-inspecting proxy)', async () => {
    const untrusted = await startUntrustedServer();
    servers.push(untrusted);
    const message = noRetry(await run({ 'authority-host': untrusted.host }));
    expect(untrusted.connections).toBe(1);
    expect(untrusted.requests).toBe(0);
    expect(emulator.counts()).toEqual(requests(1, 0));
    expect(message).toMatch(
      new RegExp(
        `^Cannot reach Entra ID at ${untrusted.host}: self-signed certificate.* The TLS certificate of ${untrusted.host} is not trusted \\(DEPTH_ZERO_SELF_SIGNED_CERT\\)\\. `,
      ),
    );
    expect(message).toContain('NODE_EXTRA_CA_CERTS');
    expect(message).toContain('TROUBLESHOOTING.md#certificate');
  });

  it("GitHub OIDC when the runner's node lacks the CA (no NODE_EXTRA_CA_CERTS in the step's environment)", async () => {
    const message = noRetry(await run({}, { NODE_EXTRA_CA_CERTS: undefined }));
    // The handshake failed, so the emulator saw a connection and no request.
    expect(emulator.connections).toBe(1);
    expect(emulator.counts()).toEqual(requests(0, 0));
    expect(message).toMatch(
      new RegExp(
        `^Cannot reach GitHub's OIDC service at localhost:${emulator.port}: self-signed certificate in certificate chain .*The TLS certificate of localhost:${emulator.port} is not trusted \\(SELF_SIGNED_CERT_IN_CHAIN\\)\\. `,
      ),
    );
    expect(message).toContain('NODE_EXTRA_CA_CERTS');
    expect(message).toContain('TROUBLESHOOTING.md#certificate');
  });

  it('a plain-HTTP OIDC request URL, refused before anything is sent', async () => {
    const message = noRetry(
      await run(
        {},
        {
          ACTIONS_ID_TOKEN_REQUEST_URL: `http://localhost:${emulator.port}/_apis/oidc/token?api-version=2.0`,
        },
      ),
    );
    expect(emulator.connections).toBe(0);
    // Named by its variable, with GitHub's advice, not Entra's (issue 9.9).
    expect(message).toBe(
      `ACTIONS_ID_TOKEN_REQUEST_URL is 'http://localhost:${emulator.port}/_apis/oidc/token', not an https:// URL: the request to GitHub's OIDC service carries a bearer token, so exo-login sends it over HTTPS only. The runner sets this variable; remove any \`env:\` entry that overrides it.`,
    );
    expect(message).not.toMatch(/authority-host|Entra/);
  });
});

describe('network failures that may pass are retried, then explained by the last one', () => {
  it('an Entra host DNS does not know (a mistyped authority-host), after the retries a DNS blip would get', async () => {
    // .invalid never resolves (RFC 6761). ENOTFOUND is retried all the same: on hosted runners a DNS blip can
    // look just like it, and must not fail the mint.
    const result = await run({ 'authority-host': 'login.microsoftonline.invalid' });
    expect(result.code).toBe(1);
    expect(emulator.counts()).toEqual(requests(1, 0));
    // Five attempts: four retries, each logged.
    expect(result.stdout.match(/attempt \d failed \(ENOTFOUND\); retrying in \d+ ms/g)).toHaveLength(4);
    const message = errorAnnotation(result) ?? '';
    expect(message).toMatch(
      /^Cannot reach Entra ID at login\.microsoftonline\.invalid: getaddrinfo ENOTFOUND /,
    );
    expect(message).toContain(
      'No such host: DNS does not know login.microsoftonline.invalid; check the authority-host setting.',
    );
    expect(message).toContain('HTTPS_PROXY');
    expect(message).toContain('TROUBLESHOOTING.md#network');
    expect(message).not.toMatch(/\n\s+at /);
    expect(leaks(result, secretsOf(result))).toEqual([]);
  });
});

describe('behind an HTTPS proxy, as self-hosted runners often are', () => {
  const proxies: TestProxy[] = [];
  afterEach(async () => {
    await Promise.all(proxies.splice(0).map((p) => p.close()));
  });
  const proxyWith = async (credentials?: string): Promise<TestProxy> => {
    const proxy = await startProxy(credentials === undefined ? {} : { credentials });
    proxies.push(proxy);
    return proxy;
  };
  const printed = (result: ActionRun): string => result.stdout + result.stderr + result.summary;

  it('tunnels through HTTPS_PROXY with the credentials in its URL; NO_PROXY bypasses it', async () => {
    const proxy = await proxyWith('runner:Pr0xySecret');
    const result = await run({}, { HTTPS_PROXY: proxy.url });
    expect(result.code, result.stdout).toBe(0);
    expect(proxy.tunnels.length).toBeGreaterThanOrEqual(1);
    for (const tunnel of proxy.tunnels) {
      expect(tunnel).toEqual({
        target: `localhost:${emulator.port}`,
        authorization: 'runner:Pr0xySecret',
        status: 200,
      });
    }
    expect(emulator.counts()).toEqual({ oidc: 1, token: 1, discovery: 0, other: 0 });
    emulator.verifyAccessToken(result.outputs['access-token'] ?? '');
    expect(leaks(result, secretsOf(result))).toEqual([]);
    expect(printed(result)).not.toContain('Pr0xySecret');

    const tunnelsBefore = proxy.tunnels.length;
    const direct = await run({}, { https_proxy: proxy.url, NO_PROXY: 'localhost' });
    expect(direct.code, direct.stdout).toBe(0);
    expect(proxy.tunnels.length).toBe(tunnelsBefore);
  });

  it('fails at once when the proxy refuses the tunnel (407), naming the fix and not the password', async () => {
    const proxy = await proxyWith('runner:Pr0xySecret');
    const result = await run({}, { HTTPS_PROXY: proxy.url.replace('Pr0xySecret', 'Wr0ngSecret') });
    expect(result.code).toBe(1);
    expect(proxy.tunnels.map((t) => t.status)).toEqual([407]);
    const message = errorAnnotation(result) ?? '';
    expect(message).toMatch(/^Cannot reach GitHub's OIDC service at .*407/);
    expect(message).toContain('http://***@127.0.0.1');
    expect(message).toContain('TROUBLESHOOTING.md#proxy-refused');
    expect(printed(result)).not.toContain('Wr0ngSecret');
    expect(emulator.counts()).toEqual({ oidc: 0, token: 0, discovery: 0, other: 0 });
  });

  it('retries a tunnel the proxy failed to open (502)', async () => {
    const proxy = await proxyWith();
    proxy.refuseNext(502);
    const result = await run({}, { HTTPS_PROXY: proxy.url });
    expect(result.code, result.stdout).toBe(0);
    expect(proxy.tunnels[0]?.status).toBe(502);
    expect(proxy.tunnels.slice(1).every((t) => t.status === 200)).toBe(true);
    expect(emulator.counts()).toEqual({ oidc: 1, token: 1, discovery: 0, other: 0 });
  });
});
