import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  callbackSource,
  detectSource,
  envVarSource,
  ExoLoginError,
  ExoLoginSession,
  getExchangeOnlineTokens,
  gitHubActionsSource,
  tokenFileSource,
} from '../../src/index.js';
import { httpsSend, type HttpRequest } from '../../src/core/http.js';
import { fakeClock } from '../support/clock.js';
import type { Emulator } from '../emulator/index.ts';
import { useEmulator } from './emulator-fixture.ts';

// In-process: the emulator's CA reaches Node through NODE_EXTRA_CA_CERTS, set by test/global-setup.ts.
const current = useEmulator();
let emulator: Emulator;
beforeEach(() => {
  emulator = current();
});

const base = () => ({
  tenantId: emulator.tenantId,
  clientId: emulator.clientId,
  authorityHost: emulator.authorityHost,
});
const fastRetries = { maxAttempts: 3, maxElapsedMs: 10_000, baseDelayMs: 10, maxDelayMs: 50 };

describe('library', () => {
  it('mints tokens from a callback source, reporting every secret before returning it', async () => {
    const audiences: string[] = [];
    const secrets: string[] = [];
    const result = await getExchangeOnlineTokens({
      ...base(),
      organization: 'contoso.onmicrosoft.com',
      resources: ['exchange', 'graph'],
      assertion: callbackSource((audience) => {
        audiences.push(audience);
        return emulator.mintIdToken(audience);
      }),
      onSecret: (s) => secrets.push(s),
    });
    expect(audiences).toEqual(['api://AzureADTokenExchange']);
    expect(result.tenantId).toBe(emulator.tenantId);
    expect(result.tokens.exchange?.claims.roles).toEqual(['Exchange.ManageAsApp']);
    expect(result.tokens.graph?.claims.audience).toBe('https://graph.microsoft.com');
    expect(secrets).toContain(result.tokens.exchange?.token);
    expect(secrets).toContain(result.tokens.graph?.token);
    expect(result.warnings).toEqual([]);
    expect(emulator.counts()).toEqual({ oidc: 0, token: 2, discovery: 0, other: 0 });
  });

  it('mints from a token file and from the GitHub source, and detects the source from the environment', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'exo-lib-'));
    const file = join(dir, 'token');
    await writeFile(file, emulator.mintIdToken());
    const fromFile = await getExchangeOnlineTokens({ ...base(), assertion: tokenFileSource(file) });
    emulator.verifyAccessToken(fromFile.tokens.exchange?.token ?? '');
    const fromGitHub = await getExchangeOnlineTokens({
      ...base(),
      assertion: gitHubActionsSource(emulator.env),
    });
    emulator.verifyAccessToken(fromGitHub.tokens.exchange?.token ?? '');
    expect(detectSource({ AZURE_FEDERATED_TOKEN_FILE: file }).description).toBe(`token file ${file}`);
    expect(detectSource(emulator.env).description).toBe('GitHub Actions OIDC');
  });

  it('mints from an environment variable (GitLab id_tokens), named or the default EXO_FEDERATED_TOKEN', async () => {
    const named = await getExchangeOnlineTokens({
      ...base(),
      assertion: envVarSource('GITLAB_OIDC_TOKEN', { GITLAB_OIDC_TOKEN: emulator.mintIdToken() }),
    });
    emulator.verifyAccessToken(named.tokens.exchange?.token ?? '');
    const detected = detectSource({ EXO_FEDERATED_TOKEN: emulator.mintIdToken() });
    expect(detected.description).toBe('environment variable EXO_FEDERATED_TOKEN');
    const fromDefault = await getExchangeOnlineTokens({ ...base(), assertion: detected });
    emulator.verifyAccessToken(fromDefault.tokens.exchange?.token ?? '');
    await expect(
      getExchangeOnlineTokens({ ...base(), assertion: envVarSource('UNSET', {}) }),
    ).rejects.toMatchObject({ code: 'token-env' });
    expect(emulator.counts()).toEqual({ oidc: 0, token: 2, discovery: 0, other: 0 });
  });

  it('gives up on a hanging endpoint after the request timeout and retries it', async () => {
    emulator.injectFaults('token', [{ kind: 'hang' }]);
    const retries: string[] = [];
    const started = Date.now();
    const result = await getExchangeOnlineTokens({
      ...base(),
      assertion: gitHubActionsSource(emulator.env),
      timeoutMs: 500,
      retryPolicy: fastRetries,
      onRetry: (m) => retries.push(m),
    });
    expect(Date.now() - started).toBeGreaterThanOrEqual(500);
    expect(retries).toHaveLength(1);
    expect(retries[0]).toMatch(/attempt 1 failed \(ETIMEDOUT\)/);
    emulator.verifyAccessToken(result.tokens.exchange?.token ?? '');
    expect(emulator.counts().token).toBe(2);
  });

  it('stops after the attempt budget with a message naming the host', async () => {
    emulator.injectFaults('token', [{ kind: 'reset' }, { kind: 'reset' }, { kind: 'reset' }]);
    const error = await getExchangeOnlineTokens({
      ...base(),
      assertion: gitHubActionsSource(emulator.env),
      retryPolicy: fastRetries,
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ExoLoginError);
    expect((error as ExoLoginError).message).toMatch(
      new RegExp(`^Cannot reach Entra ID at ${emulator.authorityHost}`),
    );
    expect(emulator.counts().token).toBe(3);
  });

  it("cuts a late Entra attempt's request timeout to the time left in the retry budget", async () => {
    // Simulated time: the Retry-After waits pass at once, while requests really go to the emulator.
    const clock = fakeClock({ random: 0, start: Date.now() });
    const sent: HttpRequest[] = [];
    emulator.injectFaults('token', [
      { kind: 'status', status: 429, retryAfterSeconds: 12 },
      { kind: 'status', status: 429, retryAfterSeconds: 12 },
    ]);
    const result = await getExchangeOnlineTokens({
      ...base(),
      assertion: callbackSource(() => emulator.mintIdToken()),
      clock,
      retryPolicy: { maxAttempts: 5, maxElapsedMs: 30_000, baseDelayMs: 10, maxDelayMs: 50 },
      send: (req) => {
        sent.push(req);
        return httpsSend(req);
      },
    });
    emulator.verifyAccessToken(result.tokens.exchange?.token ?? '');
    // Attempts at 0, 12 and 24 s of a 30 s budget: the last one may wait 6 s, not the full 15 s.
    expect(sent.map((r) => r.timeoutMs)).toEqual([15_000, 15_000, 6_000]);
  });

  it("stops the other resources' retries once one fails for good", async () => {
    emulator.injectFaults(
      'token',
      Array.from({ length: 3 }, () => ({
        kind: 'status' as const,
        status: 503,
        retryAfterSeconds: 1,
        resource: 'https://outlook.office365.com',
      })),
    );
    const retries: string[] = [];
    const error = await getExchangeOnlineTokens({
      ...base(),
      resources: 'exchange, graph=https://graph.contoso.example',
      assertion: callbackSource(() => emulator.mintIdToken()),
      retryPolicy: fastRetries,
      onRetry: (m) => retries.push(m),
    }).catch((e: unknown) => e);
    expect((error as ExoLoginError).code).toBe('AADSTS500011');
    // Past the 1 s Retry-After: a retry that was not stopped would have been sent by now.
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    const exchange = emulator.requests.filter((r) => r.scope === 'https://outlook.office365.com/.default');
    expect(exchange).toHaveLength(1);
  });

  it('fetches a fresh ID token for a later mint once the cached one has under a minute left', async () => {
    emulator.idToken = { ...emulator.idToken, lifetimeSeconds: 61 };
    const session = new ExoLoginSession({ ...base(), assertion: gitHubActionsSource(emulator.env) });
    await session.mint();
    await session.mint(); // still over a minute left: reused
    expect(session.assertionFetches).toBe(1);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    await session.mint();
    expect(session.assertionFetches).toBe(2);
    expect(emulator.counts()).toEqual({ oidc: 2, token: 3, discovery: 0, other: 0 });
  });

  it('refuses tokens that would expire before the caller needs them, rather than hand out stale ones', async () => {
    const session = new ExoLoginSession({ ...base(), assertion: gitHubActionsSource(emulator.env) });
    const first = await session.mint();
    expect(await session.tokensValidUntil(new Date(Date.now() + 60_000))).toBe(first);
    const error = await session
      .tokensValidUntil(new Date(first.expiresOn.getTime() + 1000))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ExoLoginError);
    expect((error as Error).message).toMatch(/lower timeout-minutes/);
    expect(emulator.counts().token).toBe(2);
    // The re-mint presented a fresh ID token, not the one cached from the first mint.
    expect(emulator.counts().oidc).toBe(2);
  });

  it('validates options before sending anything, naming them as the library spells them', async () => {
    await expect(
      getExchangeOnlineTokens({
        tenantId: 'x',
        clientId: emulator.clientId,
        assertion: gitHubActionsSource(emulator.env),
      }),
    ).rejects.toThrow(/^Option 'tenantId' must be a GUID/);
    expect(emulator.counts().oidc).toBe(0);
  });
});
