/** The library's admin API client against the emulated Exchange admin API (issue 12, point 4). */
import { beforeEach, describe, expect, it } from 'vitest';
import {
  ExchangeApiError,
  exchangeOnline,
  RESULT_SIZE_WARNING,
  tokensFromEnvironment,
  type ExchangeClientOptions,
  type ExchangeTokenSource,
} from '../../src/index.ts';
import type { Emulator } from '../emulator/index.ts';
import { useEmulator } from '../integration/emulator-fixture.ts';
import { exchangeSession, instantClock } from '../support/exchange.ts';
import { unsignedJwt } from '../support/jwt.ts';

const current = useEmulator();
let emulator: Emulator;
let retries: string[];
let warnings: string[];
beforeEach(() => {
  emulator = current();
  retries = [];
  warnings = [];
});

function client(
  options: ExchangeClientOptions = {},
  session: ExchangeTokenSource = exchangeSession(emulator),
) {
  return exchangeOnline(session, {
    clock: instantClock(),
    onRetry: (m) => retries.push(m),
    onWarning: (w) => warnings.push(w),
    ...options,
  });
}

async function failure(promise: Promise<unknown>): Promise<ExchangeApiError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof ExchangeApiError))
    throw new Error(`expected an ExchangeApiError, got ${String(error)}`);
  return error;
}

/** No token the emulator issued appears in any text a caller could print. */
function expectNoToken(...texts: string[]): void {
  for (const token of emulator.issued) for (const text of texts) expect(text).not.toContain(token);
}

describe('requests and paging', () => {
  it('pages with a stable anchor, one client-request-id and the module headers; rows lose annotation keys', async () => {
    const exo = client({ pageSize: 2 });
    const call = exo.invoke('Get-Mailbox', { ResultSize: 'Unlimited' });
    const rows = [];
    for await (const row of call) rows.push(row);
    expect(rows.map((r) => r['Alias'])).toEqual(['user0001', 'user0002', 'user0003', 'user0004', 'user0005']);
    expect(Object.keys(rows[0] ?? {}).some((k) => k.includes('@'))).toBe(false);
    const requests = emulator.exchange.invocations('Get-Mailbox');
    expect(requests.map((r) => r.page)).toEqual([0, 1, 2]);
    expect(new Set(requests.map((r) => r.anchor))).toEqual(
      new Set([`APP:SystemMailbox{bb558c35-97f1-4cb9-8ff7-d53741dc928c}@${emulator.tenantId}`]),
    );
    expect(new Set(requests.map((r) => r.clientRequestId))).toEqual(new Set([call.clientRequestId]));
    expect(requests.every((r) => r.method === 'POST' && r.status === 200)).toBe(true);
    const headers = requests[0]?.headers ?? {};
    expect(headers).toMatchObject({
      prefer: 'odata.maxpagesize=2',
      'x-responseformat': 'json',
      'x-cmdletname': 'Get-Mailbox',
      accept: 'application/json',
      'content-type': 'application/json',
      'x-clientapplication': 'ExoManagementModule',
    });
    expect(new Set(requests.map((r) => r.headers['connection-id'])).size).toBe(1);
    expect(requests[0]?.path).toBe(`/adminapi/beta/${emulator.tenantId}/InvokeCommand`);
    expect(requests[1]?.parameters).toEqual({ ResultSize: 'Unlimited' });
  });

  it('anchors on UPN:OAuthUser@organization when the organization is known, and per call when asked', async () => {
    const exo = client({}, exchangeSession(emulator, { organization: emulator.domain }));
    await exo.invoke('Get-OrganizationConfig').all();
    await exo
      .invoke('Get-Mailbox', { Identity: 'user0002' }, { anchorMailbox: 'user0002@contoso.onmicrosoft.com' })
      .all();
    expect(emulator.exchange.invocations().map((r) => r.anchor)).toEqual([
      `UPN:OAuthUser@${emulator.domain}`,
      'user0002@contoso.onmicrosoft.com',
    ]);
  });

  it('applies ResultSize as the module does: absent → 1000 with the notice, a number, Unlimited', async () => {
    emulator.exchange.organization().seedMailboxes(1200);
    const exo = client();
    const absent = exo.invoke('Get-Mailbox');
    expect(await absent.all()).toHaveLength(1000);
    expect(absent.warnings).toEqual([RESULT_SIZE_WARNING]);
    expect(warnings).toEqual([RESULT_SIZE_WARNING]);
    // A service that pages on past 1000: the client stops there itself and gives the notice once.
    emulator.exchange.resultSizeBy = 'client';
    const byClient = exo.invoke('Get-Mailbox');
    expect(await byClient.all()).toHaveLength(1000);
    expect(byClient.warnings).toEqual([RESULT_SIZE_WARNING]);
    expect(emulator.exchange.invocations().at(-1)?.page).toBe(0);
    const exact = client({ pageSize: 500 }).invoke('Get-Mailbox');
    expect(await exact.all()).toHaveLength(1000);
    expect(exact.warnings).toEqual([RESULT_SIZE_WARNING]);
    emulator.exchange.resultSizeBy = 'server';
    expect(await exo.invoke('Get-Mailbox', { ResultSize: 7 }).all()).toHaveLength(7);
    expect(await exo.invoke('Get-Mailbox', { ResultSize: 'Unlimited' }).all()).toHaveLength(1200);
    // The client stops at ResultSize even when the server pages beyond it.
    const small = client({ pageSize: 2 });
    expect(await small.invoke('Get-TransportRule', { ResultSize: 3 }).all()).toHaveLength(0);
    emulator.exchange.organization().seedMailboxes(5);
    const capped = await small.invoke('Get-Recipient', { ResultSize: 'Unlimited' }).all();
    expect(capped).toHaveLength(5);
    expect(emulator.exchange.invocations('Get-Mailbox').filter((r) => r.page > 0)).toHaveLength(2);
  });

  it('selects properties with $select, and Get-EXO* -Properties travels as $select', async () => {
    const exo = client();
    const rows = await exo.invoke('Get-Mailbox', {}, { select: ['Alias', 'AuditEnabled'] }).all();
    expect(rows[0]).toEqual({ Alias: 'user0001', AuditEnabled: true });
    await exo.invoke('Get-EXOMailbox', { Properties: ['Alias'] }).all();
    const last = emulator.exchange.invocations('Get-EXOMailbox')[0];
    expect(last?.query).toBe('?$select=Alias');
    expect(last?.parameters).toEqual({});
  });

  it('encodes hashtables (nested, in arrays), switches, dates and drops undefined', async () => {
    const exo = client();
    await exo
      .invoke('Set-Mailbox', {
        Identity: 'user0001',
        EmailAddresses: { Add: 'smtp:alias@contoso.onmicrosoft.com' },
        HiddenFromAddressListsEnabled: true,
        RetentionPolicy: undefined,
      })
      .all();
    const row = emulator.exchange.organization().nouns('Mailbox').get('user0001');
    expect(row?.['EmailAddresses']).toContain('smtp:alias@contoso.onmicrosoft.com');
    expect(row?.['HiddenFromAddressListsEnabled']).toBe(true);
    await exo
      .invoke('New-TransportRule', {
        Name: 'Stamp',
        Headers: [{ Name: 'X-A', Value: { Nested: 1 } }],
        ActivationDate: new Date('2026-03-04T05:06:07.890+02:00'),
      })
      .all();
    const sent = emulator.exchange.invocations('New-TransportRule')[0]?.parameters;
    expect(sent).toEqual({
      Name: 'Stamp',
      Headers: [
        {
          '@odata.type': '#Exchange.GenericHashTable',
          Name: 'X-A',
          Value: { '@odata.type': '#Exchange.GenericHashTable', Nested: 1 },
        },
      ],
      'Headers@odata.type': '#Collection(Exchange.GenericHashTable)',
      ActivationDate: '2026-03-04T03:06:07',
    });
    expect(() => exo.invoke('Get-Mailbox', { 'bad name': 1 })).toThrow(/not a cmdlet parameter name/);
    expect(() => exo.invoke('Get Mailbox')).toThrow(/cmdlet name/);
    expect(() => exo.invoke('Get-Mailbox', {}, { select: ['a,b'] })).toThrow(/property names/);
  });

  it('restarts a query once when the service lost its cursor, without repeating rows', async () => {
    emulator.exchange.cursorTtlMs = 250;
    emulator.exchange.injectFaults([{ kind: 'delay', ms: 400, page: 1 }]);
    const rows = await client({ pageSize: 2 }).invoke('Get-Mailbox', { ResultSize: 'Unlimited' }).all();
    expect(rows.map((r) => r['Alias'])).toEqual(['user0001', 'user0002', 'user0003', 'user0004', 'user0005']);
    expect(emulator.exchange.invocations().map((r) => [r.page, r.status])).toEqual([
      [0, 200],
      [1, 400],
      [0, 200],
      [1, 200],
      [2, 200],
    ]);
  });
});

describe('errors', () => {
  it('reads each error shape by the documented precedence', async () => {
    const exo = client();
    await exo.invoke('New-RemoteDomain', { Name: 'Fabrikam', DomainName: 'fabrikam.com' }).all();
    const exists = await failure(exo.invoke('New-RemoteDomain', { Name: 'Fabrikam' }).all());
    expect(exists).toMatchObject({
      reason: 'already-exists',
      status: 400,
      exceptionType: 'Microsoft.Exchange.Data.Directory.ADObjectAlreadyExistsException',
      serverMessage: "The object 'Fabrikam' already exists. (RemoteDomain)",
      cmdlet: 'New-RemoteDomain',
    });
    const missing = await failure(exo.invoke('Get-RemoteDomain', { Identity: 'nope' }).all());
    expect(missing.reason).toBe('not-found');
    expect(missing.status).toBe(404);
    expect(missing.exceptionType).toBe(
      'Microsoft.Exchange.Configuration.Tasks.ManagementObjectNotFoundException',
    );
    expect(missing.serverMessage).toMatch(/^The operation couldn't be performed because object 'nope'/);
    expect(missing.message).toContain(`client-request-id ${missing.clientRequestId}`);
    expect(missing.requestId).toMatch(/^[0-9a-f-]{36}$/);
    const bad = await failure(exo.invoke('Get-Mailbox', { ResultSize: 'lots' }).all());
    expect(bad.reason).toBe('bad-request');
    expect(bad.serverMessage).toMatch(/^Cannot process argument transformation on parameter 'ResultSize'/);
    expect(bad.exceptionType).toMatch(/ParameterTransformationException$/);
    emulator.exchange.injectFaults([{ kind: 'status', status: 502, body: 'html' }]);
    const html = await failure(exo.invoke('Get-Mailbox').all());
    expect(html).toMatchObject({ reason: 'server', status: 502, serverMessage: '(an HTML page: 502)' });
    expect(retries).toEqual([]);
    expectNoToken(exists.message, missing.message, bad.message, html.message);
  });

  it('explains a 403 (no Entra role) with the fix, and does not retry it', async () => {
    const tenant = emulator.tenants[0];
    if (tenant?.apps[0]) tenant.apps[0].directoryRoles = [];
    const error = await failure(client().invoke('Get-Mailbox').all());
    expect(error.reason).toBe('forbidden');
    expect(error.serverMessage).toBe('(a body of 32 NUL bytes)');
    expect(error.message).toMatch(/Exchange Administrator/);
    expect(error.message).toContain('TROUBLESHOOTING.md#exchange-403');
    expect(emulator.exchange.invocations()).toHaveLength(1);
  });

  it('refreshes the token once on a 401, then explains the refusal', async () => {
    const exo = client({}, exchangeSession(emulator, { resources: `exchange=${emulator.exchange.url}` }));
    emulator.exchange.injectFaults([{ kind: 'unauthorized' }]);
    expect(await exo.invoke('Get-OrganizationConfig').all()).toHaveLength(1);
    expect(emulator.counts().token).toBe(2);
    const [first, second] = emulator.exchange.invocations();
    expect(first?.tokenClaims?.['uti']).not.toBe(second?.tokenClaims?.['uti']);

    emulator.exchange.injectFaults([{ kind: 'unauthorized' }, { kind: 'unauthorized' }]);
    const error = await failure(exo.invoke('Get-OrganizationConfig').all());
    expect(error.reason).toBe('unauthorized');
    expect(error.message).toMatch(/The service says: The token has expired\./);
    expect(error.message).toContain(`audience ${emulator.exchange.url} and tenant ${emulator.tenantId}`);
    expect(error.message).toContain('TROUBLESHOOTING.md#exchange-401');
    expect(emulator.exchange.invocations()).toHaveLength(4);
    expect(emulator.counts().token).toBe(3);
    expectNoToken(error.message);
  });

  it('refuses an Exchange token at the compliance host, naming the audience', async () => {
    // A session whose "compliance" resource is the Exchange URL: the compliance host refuses its tokens.
    const session = exchangeSession(emulator, {
      resources: `exchange=${emulator.exchange.url},compliance=${emulator.exchange.url}`,
    });
    const exo = exchangeOnline(session, { endpoint: 'compliance', clock: instantClock() });
    expect(exo.origin).toBe(emulator.exchange.url);
    expect(() =>
      exchangeOnline(exchangeSession(emulator, { resources: 'exchange' }), { endpoint: 'compliance' }),
    ).toThrow(/no compliance token/);
  });
});

describe('retries and limits', () => {
  it('retries 429 with a decimal Retry-After, 503, 504 and resets; nothing else', async () => {
    const clock = instantClock();
    const exo = client({ clock });
    emulator.exchange.injectFaults([
      { kind: 'status', status: 429, retryAfterSeconds: 2.5 },
      { kind: 'status', status: 503 },
      { kind: 'status', status: 504 },
      { kind: 'reset' },
    ]);
    expect(await exo.invoke('Get-AcceptedDomain').all()).toHaveLength(1);
    expect(emulator.exchange.invocations().map((r) => r.status)).toEqual([429, 503, 504, -1, 200]);
    expect(clock.sleeps[0]).toBeGreaterThanOrEqual(2500);
    expect(retries).toHaveLength(4);
    expect(retries[0]).toMatch(
      /^Get-AcceptedDomain attempt 1 failed \(HTTP 429\); retrying in \d+ ms \[client-request-id /,
    );

    emulator.exchange.injectFaults([{ kind: 'status', status: 500 }]);
    const error = await failure(exo.invoke('Get-AcceptedDomain').all());
    expect(error.reason).toBe('server');
    expect(error.exceptionType).toMatch(/ADTransientException/);
    expect(emulator.exchange.invocations().filter((r) => r.status === 500)).toHaveLength(1);
  });

  it('gives up after the attempts, with the last failure', async () => {
    const exo = client({
      retryPolicy: { maxAttempts: 2, maxElapsedMs: 60_000, baseDelayMs: 1, maxDelayMs: 1 },
    });
    emulator.exchange.injectFaults([{ kind: 'reset' }, { kind: 'reset' }]);
    const error = await failure(exo.invoke('Get-Mailbox').all());
    expect(error.reason).toBe('network');
    expect(error.message).toMatch(/cannot reach localhost:\d+/);
  });

  it('times out a hanging request and retries it', async () => {
    const exo = client({ timeoutMs: 300 });
    emulator.exchange.injectFaults([{ kind: 'hang' }]);
    expect(await exo.invoke('Get-OrganizationConfig').all()).toHaveLength(1);
    expect(retries[0]).toMatch(/ETIMEDOUT/);
  });

  it('keeps at most maxConcurrency requests in flight per tenant (timestamps), and rides out the service cap', async () => {
    emulator.exchange.latencyMs = 80;
    const exo = client({ maxConcurrency: 2 });
    await Promise.all([1, 2, 3, 4, 5, 6].map(() => exo.invoke('Get-OrganizationConfig').all()));
    const spans = emulator.exchange.invocations().map((r) => [r.start, r.end] as const);
    const overlap = Math.max(...spans.map(([s]) => spans.filter(([a, b]) => a <= s && s < b).length));
    expect(overlap).toBeLessThanOrEqual(2);
    expect(emulator.exchange.maxInFlight()).toBe(2);

    emulator.reset();
    emulator.exchange.latencyMs = 60;
    emulator.exchange.maxConcurrentPerTenant = 1;
    emulator.exchange.concurrencyRetryAfterSeconds = 0.05;
    const eager = exchangeOnline(exchangeSession(emulator), {
      maxConcurrency: 3,
      retryPolicy: { maxAttempts: 10, maxElapsedMs: 20_000, baseDelayMs: 40, maxDelayMs: 120 },
      onRetry: (m) => retries.push(m),
    });
    const results = await Promise.all([1, 2, 3].map(() => eager.invoke('Get-OrganizationConfig').all()));
    expect(results.every((r) => r.length === 1)).toBe(true);
    expect(emulator.exchange.invocations().some((r) => r.status === 429)).toBe(true);
    expect(retries.some((m) => m.includes('concurrency limit'))).toBe(true);
  });
});

describe('cancellation', () => {
  it('stops a query when its signal aborts, without further requests', async () => {
    emulator.exchange.latencyMs = 100;
    const controller = new AbortController();
    const call = client({ pageSize: 1 }).invoke(
      'Get-Mailbox',
      { ResultSize: 'Unlimited' },
      { signal: controller.signal },
    );
    const rows: unknown[] = [];
    const done = (async () => {
      for await (const row of call) {
        rows.push(row);
        if (rows.length === 1) controller.abort();
      }
    })();
    await expect(done).rejects.toThrow(/abandoned|abort/i);
    await new Promise((r) => setTimeout(r, 250));
    expect(rows).toHaveLength(1);
    expect(emulator.exchange.invocations().length).toBeLessThanOrEqual(2);
  });
});

describe('redirects and bodies', () => {
  it('follows a redirect to a host of the same domain by hand, re-sends the bearer there and pins it', async () => {
    emulator.exchange.redirect = { to: 'regional' };
    const exo = client({ pageSize: 2 });
    expect(await exo.invoke('Get-Mailbox', { ResultSize: 'Unlimited' }).all()).toHaveLength(5);
    expect(exo.origin).toBe(emulator.exchange.regionalUrl);
    await exo.invoke('Get-OrganizationConfig').all();
    const hosts = emulator.exchange.requests.map((r) => [r.host, r.bearer, r.status]);
    expect(hosts).toEqual([
      ['exchange', true, 302],
      ['exchangeRegional', true, 200],
      ['exchangeRegional', true, 200],
      ['exchangeRegional', true, 200],
      ['exchangeRegional', true, 200],
    ]);
  });

  it('refuses a redirect to a foreign host: the bearer is never sent there', async () => {
    emulator.exchange.redirect = { to: 'foreign', status: 307 };
    const error = await failure(client().invoke('Get-Mailbox').all());
    expect(error.reason).toBe('server');
    expect(error.message).toMatch(
      /redirected to https:\/\/127\.0\.0\.1:\d+\/adminapi\/beta\/.*is not a host of localhost; the token was not sent there/,
    );
    expect(emulator.exchange.requests.filter((r) => r.host === 'foreign')).toHaveLength(0);
    expect(emulator.exchange.requests).toHaveLength(1);
  });

  it('bounds response bodies and does not retry an oversized one', async () => {
    emulator.exchange.injectFaults([{ kind: 'oversized', bytes: 3_000_000 }]);
    const error = await failure(client({ maxResponseBytes: 1_000_000 }).invoke('Get-Mailbox').all());
    expect(error.reason).toBe('malformed');
    expect(error.message).toMatch(/larger than 1000000 bytes/);
    expect(emulator.exchange.invocations()).toHaveLength(1);
    emulator.exchange.injectFaults([{ kind: 'oversized', bytes: 3_000_000 }]);
    expect(await client().invoke('Get-Mailbox').all()).toHaveLength(1);
  });

  it('keeps token claims quoted in a 401 explanation on one line', async () => {
    const token = unsignedJwt({ aud: 'https://localhost:1/\n::error::aud', tid: 't\n::warning::tid' });
    const source = tokensFromEnvironment({
      EXO_ACCESS_TOKEN: token,
      EXO_TENANT_ID: 'contoso.onmicrosoft.com',
    });
    const send: ExchangeClientOptions['send'] = () => Promise.resolve({ status: 401, headers: {}, body: '' });
    const error = await failure(client({ send }, source).invoke('Get-Mailbox').all());
    expect(error.reason).toBe('unauthorized');
    expect(error.message).toContain('::error::aud');
    expect(error.message).not.toMatch(/[\n\r]/);
  });

  it('stops a redirect loop after five hops, sending nothing to another domain', async () => {
    const urls: string[] = [];
    const send: ExchangeClientOptions['send'] = (request) => {
      urls.push(request.url);
      const here = new URL(request.url);
      return Promise.resolve({
        status: 307,
        headers: { location: `${here.origin}/loop/${urls.length}` },
        body: '',
      });
    };
    const error = await failure(client({ send }).invoke('Get-Mailbox').all());
    expect(error.reason).toBe('malformed');
    expect(error.message).toMatch(/more than 5 redirects/);
    expect(urls).toHaveLength(6);
    expect(new Set(urls.map((u) => new URL(u).host)).size).toBe(1);
  });

  it('stops a nextLink that leads back to a page already read, instead of paging forever', async () => {
    // A misbehaving service (or proxy) that hands out the same nextLink page after page.
    let calls = 0;
    const send: ExchangeClientOptions['send'] = (request) => {
      calls++;
      const link = `${new URL(request.url).origin}/adminapi/beta/t/InvokeCommand?$skiptoken=same`;
      const body = { value: [{ Name: `row${calls}` }], ...(calls < 50 && { '@odata.nextLink': link }) };
      return Promise.resolve({ status: 200, headers: {}, body: JSON.stringify(body) });
    };
    const error = await failure(client({ send }).invoke('Get-Mailbox', { ResultSize: 'Unlimited' }).all());
    expect(error.reason).toBe('malformed');
    expect(error.message).toMatch(/nextLink repeats one already followed/);
    expect(calls).toBe(2);
  });

  it('keeps server text from breaking lines: warnings and messages are one line', async () => {
    const exo = client();
    await exo.invoke('New-TransportRule', { Name: 'a\n::error::injected' }).all();
    const error = await failure(exo.invoke('New-TransportRule', { Name: 'a\n::error::injected' }).all());
    expect(error.message).not.toMatch(/\n/);
    expect(error.serverMessage).toContain('a ::error::injected');
  });
});
