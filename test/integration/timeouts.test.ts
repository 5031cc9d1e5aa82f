/**
 * Endpoints that accept the request and never answer. The action's per-request timeouts (15 s Entra, 10 s OIDC)
 * have no input or environment override, so a run through dist/ would take about a minute; these tests use the
 * library's `timeoutMs` and `retryPolicy` on the same code the action bundles.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { ExoLoginError, getExchangeOnlineTokens, gitHubActionsSource } from '../../src/index.js';
import type { Emulator } from '../emulator/index.ts';
import { useEmulator } from './emulator-fixture.ts';

// In-process: the emulator's CA reaches Node through NODE_EXTRA_CA_CERTS, set by test/global-setup.ts.
const current = useEmulator();
let emulator: Emulator;
beforeEach(() => {
  emulator = current();
});

const policy = { maxAttempts: 3, maxElapsedMs: 10_000, baseDelayMs: 10, maxDelayMs: 50 };
const hangs = (n: number) => Array.from({ length: n }, () => ({ kind: 'hang' as const }));

describe('a hanging endpoint', () => {
  it('Entra: every attempt times out, then one clear error naming the host and the timeout', async () => {
    emulator.injectFaults('token', hangs(policy.maxAttempts + 1));
    const retries: string[] = [];
    const started = Date.now();
    const error = await getExchangeOnlineTokens({
      tenantId: emulator.tenantId,
      clientId: emulator.clientId,
      authorityHost: emulator.authorityHost,
      assertion: gitHubActionsSource(emulator.env),
      timeoutMs: 300,
      retryPolicy: policy,
      onRetry: (m) => retries.push(m),
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ExoLoginError);
    const message = (error as ExoLoginError).message;
    expect(message).toMatch(
      new RegExp(`^Cannot reach Entra ID at ${emulator.authorityHost}: no response within 300 ms`),
    );
    expect(message).toContain('TROUBLESHOOTING.md#network');
    expect(retries).toHaveLength(policy.maxAttempts - 1);
    expect(retries.every((r) => /failed \(ETIMEDOUT\)/.test(r))).toBe(true);
    expect(emulator.counts()).toEqual({ oidc: 1, token: policy.maxAttempts, discovery: 0, other: 0 });
    // Bounded: three 300 ms timeouts and short backoffs, nowhere near the default budget.
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('GitHub OIDC: every attempt times out, then one clear error and no Entra request', async () => {
    emulator.injectFaults('oidc', hangs(policy.maxAttempts + 1));
    const error = await getExchangeOnlineTokens({
      tenantId: emulator.tenantId,
      clientId: emulator.clientId,
      authorityHost: emulator.authorityHost,
      assertion: gitHubActionsSource(emulator.env, { timeoutMs: 300, policy }),
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ExoLoginError);
    expect((error as ExoLoginError).message).toMatch(
      /^Cannot reach GitHub's OIDC service at localhost:\d+: no response within 300 ms .*TROUBLESHOOTING\.md#network/,
    );
    expect(emulator.counts()).toEqual({ oidc: policy.maxAttempts, token: 0, discovery: 0, other: 0 });
  });
});

describe('the retry budget bounds the last attempt too', () => {
  // A 5 s request timeout inside a 700 ms budget: the attempt must end with the budget.
  const tight = { maxAttempts: 3, maxElapsedMs: 700, baseDelayMs: 10, maxDelayMs: 50 };

  it('Entra: a hanging attempt ends when the budget does, not after its full timeout', async () => {
    emulator.injectFaults('token', hangs(tight.maxAttempts));
    const started = Date.now();
    const error = await getExchangeOnlineTokens({
      tenantId: emulator.tenantId,
      clientId: emulator.clientId,
      authorityHost: emulator.authorityHost,
      assertion: gitHubActionsSource(emulator.env),
      timeoutMs: 5_000,
      retryPolicy: tight,
    }).catch((e: unknown) => e);
    expect(Date.now() - started).toBeLessThan(2_500);
    expect(error).toBeInstanceOf(ExoLoginError);
    expect((error as ExoLoginError).message).toMatch(
      new RegExp(`^Cannot reach Entra ID at ${emulator.authorityHost}: no response within \\d+ ms`),
    );
    expect(emulator.counts().token).toBe(1);
  });

  it('GitHub OIDC: the same', async () => {
    emulator.injectFaults('oidc', hangs(tight.maxAttempts));
    const started = Date.now();
    const error = await getExchangeOnlineTokens({
      tenantId: emulator.tenantId,
      clientId: emulator.clientId,
      authorityHost: emulator.authorityHost,
      assertion: gitHubActionsSource(emulator.env, { timeoutMs: 5_000, policy: tight }),
    }).catch((e: unknown) => e);
    expect(Date.now() - started).toBeLessThan(2_500);
    expect((error as ExoLoginError).message).toMatch(
      /^Cannot reach GitHub's OIDC service at localhost:\d+: no response within \d+ ms/,
    );
    expect(emulator.counts()).toEqual({ oidc: 1, token: 0, discovery: 0, other: 0 });
  });
});
