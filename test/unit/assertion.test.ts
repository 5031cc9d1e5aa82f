import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  CachedAssertion,
  envVarSource,
  gitHubActionsSource,
  tokenFileSource,
  type FederatedTokenSource,
} from '../../src/core/assertion.js';
import { ExoLoginError } from '../../src/core/errors.js';
import type { HttpRequest, HttpResponse } from '../../src/core/http.js';
import { fakeClock } from '../support/clock.js';
import { unsignedJwt } from '../support/jwt.js';

const jwt = (exp: number, n = 0): string => unsignedJwt({ exp, n });

describe('CachedAssertion', () => {
  it('shares one fetch among concurrent callers and reuses a fresh token', async () => {
    let now = 1_000_000_000_000;
    let fetches = 0;
    const secrets: string[] = [];
    const source: FederatedTokenSource = {
      description: 'test',
      getToken: async () => {
        fetches++;
        await new Promise((r) => setTimeout(r, 5));
        return jwt(now / 1000 + 300, fetches);
      },
    };
    const cached = new CachedAssertion(
      source,
      'aud',
      (s) => secrets.push(s),
      () => now,
    );
    const [a, b, c] = await Promise.all([cached.get(), cached.get(), cached.get()]);
    expect(a).toBe(b);
    expect(b).toBe(c);
    expect(fetches).toBe(1);
    now += 200_000; // 100 s left: still fresh
    expect(await cached.get()).toBe(a);
    now += 50_000; // 50 s left: under the one-minute margin
    const d = await cached.get();
    expect(d).not.toBe(a);
    expect(fetches).toBe(2);
    expect(secrets).toEqual([a, d]);
  });
});

describe('sources', () => {
  it('explains a missing id-token permission', () => {
    expect(() => gitHubActionsSource({})).toThrow(ExoLoginError);
    expect(() => gitHubActionsSource({})).toThrow(/permissions: id-token: write/);
    expect(() => gitHubActionsSource({})).toThrow(/forks/);
  });
  it('reads a token file on each use', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'exo-'));
    const file = join(dir, 'token');
    await writeFile(file, `${jwt(1)}\n`);
    const source = tokenFileSource(file);
    expect(await source.getToken('aud')).toBe(jwt(1));
    await writeFile(file, jwt(2));
    expect(await source.getToken('aud')).toBe(jwt(2));
    await expect(tokenFileSource(join(dir, 'missing')).getToken('aud')).rejects.toThrow(
      /ENOENT.*AZURE_FEDERATED_TOKEN_FILE/,
    );
  });
  it('reads an environment variable and refuses non-JWTs', async () => {
    await expect(envVarSource('GITLAB_OIDC', { GITLAB_OIDC: jwt(1) }).getToken('a')).resolves.toBe(jwt(1));
    await expect(envVarSource('GITLAB_OIDC', {}).getToken('a')).rejects.toThrow(
      /GITLAB_OIDC .* empty or unset/,
    );
    await expect(envVarSource('GITLAB_OIDC', { GITLAB_OIDC: 'secret' }).getToken('a')).rejects.toThrow(
      /does not hold a JWT/,
    );
  });
});

describe('GitHub Actions OIDC source', () => {
  const env = {
    ACTIONS_ID_TOKEN_REQUEST_URL: 'https://pipelines.example/_apis/oidc/token?api-version=2.0',
    ACTIONS_ID_TOKEN_REQUEST_TOKEN: 'request-token',
  };
  const ok = (): HttpResponse => ({ status: 200, headers: {}, body: JSON.stringify({ value: jwt(9e9) }) });
  const status = (code: number, headers: Record<string, string> = {}, body = ''): HttpResponse => ({
    status: code,
    headers,
    body,
  });
  /** A source whose GitHub answers `answers` in order (then succeeds); time moves only when it sleeps. */
  const source = (answers: HttpResponse[]) => {
    const clock = fakeClock({ random: 0 });
    const requests: HttpRequest[] = [];
    const send = (req: HttpRequest): Promise<HttpResponse> => {
      requests.push(req);
      return Promise.resolve(answers.shift() ?? ok());
    };
    const policy = { maxAttempts: 5, maxElapsedMs: 30_000, baseDelayMs: 100, maxDelayMs: 1_000 };
    return { requests, source: gitHubActionsSource(env, { send, clock, policy }) };
  };

  it("cuts a late attempt's request timeout to the time left in the retry budget", async () => {
    const throttled = () => status(429, { 'retry-after': '12' });
    const fake = source([throttled(), throttled(), ok()]);
    await fake.source.getToken('api://AzureADTokenExchange');
    // Attempts at 0, 12 and 24 s of a 30 s budget: the last one gets 6 s, not the full 10 s.
    expect(fake.requests.map((r) => r.timeoutMs)).toEqual([10_000, 10_000, 6_000]);
  });

  it.each([401, 403, 404])('does not retry HTTP %i and explains it as a refusal', async (code) => {
    const fake = source([status(code, {}, JSON.stringify({ message: 'Bad credentials' }))]);
    const error = await fake.source.getToken('aud').catch((e: unknown) => e);
    expect(fake.requests).toHaveLength(1);
    expect(error).toBeInstanceOf(ExoLoginError);
    expect((error as ExoLoginError).message).toMatch(
      new RegExp(`^GitHub refused the ID token request \\(HTTP ${code}: Bad credentials\\)\\. `),
    );
    expect((error as ExoLoginError).message).toContain('TROUBLESHOOTING.md#id-token-request');
  });
});

describe('ACTIONS_ID_TOKEN_REQUEST_URL (issue 9.9)', () => {
  const source = (url: string) =>
    gitHubActionsSource({ ACTIONS_ID_TOKEN_REQUEST_URL: url, ACTIONS_ID_TOKEN_REQUEST_TOKEN: 't' });
  it('takes an https:// URL', () => {
    expect(
      source('https://pipelines.actions.githubusercontent.com/x/idtoken?api-version=2.0').description,
    ).toBe('GitHub Actions OIDC');
  });
  it.each(['http://127.0.0.1:8080/idtoken', 'ftp://x/y', 'not a url', 'https://user:pw@host/idtoken'])(
    'refuses %s, naming the variable and without Entra advice',
    (url) => {
      let error: unknown;
      try {
        source(url);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(ExoLoginError);
      expect((error as ExoLoginError).code).toBe('oidc-url');
      const message = (error as Error).message;
      expect(message).toMatch(/^ACTIONS_ID_TOKEN_REQUEST_URL is '.*', not an https:\/\/ URL: /);
      expect(message).not.toMatch(/authority-host|Entra|pw@/);
    },
  );
});
