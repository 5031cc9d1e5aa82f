/** The emulated Exchange admin API itself: token checks, organisation, paging, errors, limits, faults, redirects. */
import { request } from 'node:https';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ExoLoginSession, tokenFileSource } from '../../src/index.ts';
import { startEmulator, type Emulator } from '../emulator/index.ts';
import { RESULT_SIZE_WARNING } from '../emulator/exchange-org.ts';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  raw: Buffer;
  text: string;
  json: Record<string, unknown> | undefined;
}

let emulator: Emulator;

function call(
  url: string,
  options: { token?: string; body?: unknown; headers?: Record<string, string>; method?: string } = {},
): Promise<Answer> {
  const body = options.body === undefined ? undefined : JSON.stringify(options.body);
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: options.method ?? (body === undefined ? 'GET' : 'POST'),
        ca: emulator.ca,
        headers: {
          ...(options.token && { authorization: `Bearer ${options.token}` }),
          ...(body !== undefined && { 'content-type': 'application/json' }),
          ...options.headers,
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const raw = Buffer.concat(chunks);
          const text = raw.toString('utf8');
          let json: Record<string, unknown> | undefined;
          try {
            json = JSON.parse(text) as Record<string, unknown>;
          } catch {
            json = undefined;
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, raw, text, json });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

const anchor = (): string => `APP:SystemMailbox{bb558c35-97f1-4cb9-8ff7-d53741dc928c}@${emulator.tenantId}`;

function invoke(
  cmdlet: string,
  parameters: unknown = {},
  options: { token?: string; url?: string; headers?: Record<string, string> } = {},
): Promise<Answer> {
  return call(options.url ?? emulator.exchange.invokeUrl(), {
    token: options.token ?? emulator.exchange.mintToken(),
    body: { CmdletInput: { CmdletName: cmdlet, Parameters: parameters } },
    headers: { 'x-anchormailbox': anchor(), 'x-responseformat': 'json', ...options.headers },
  });
}

const values = (a: Answer): Record<string, unknown>[] =>
  (a.json?.['value'] as Record<string, unknown>[] | undefined) ?? [];

beforeAll(async () => {
  emulator = await startEmulator();
});
afterAll(async () => {
  await emulator.close();
});
beforeEach(() => {
  emulator.reset();
});

describe('tokens', () => {
  it('accepts a token minted by the emulated Entra for the admin API URL (resources override)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'exo-api-'));
    const file = join(dir, 'token');
    writeFileSync(file, emulator.mintIdToken());
    const session = new ExoLoginSession({
      tenantId: emulator.tenantId,
      clientId: emulator.clientId,
      authorityHost: emulator.authorityHost,
      resources: emulator.exchange.resources,
      assertion: tokenFileSource(file),
    });
    const minted = await session.mint();
    expect(minted.tokens.exchange?.resource).toBe(emulator.exchange.url);
    expect(minted.tokens.exchange?.claims.roles).toContain('Exchange.ManageAsApp');
    const answer = await invoke('Get-OrganizationConfig', {}, { token: minted.tokens.exchange?.token ?? '' });
    expect(answer.status).toBe(200);
    const compliance = await call(emulator.exchange.invokeUrl({ endpoint: 'compliance' }), {
      token: minted.tokens.compliance?.token ?? '',
      body: { CmdletInput: { CmdletName: 'Get-Label', Parameters: {} } },
      headers: { 'x-anchormailbox': anchor() },
    });
    expect(compliance.status).toBe(200);
  });

  it.each([
    ['no token', () => undefined, /no bearer token/],
    ['a forged signature', () => emulator.exchange.mintToken({ forged: true }), /signature/],
    ['an expired token', () => emulator.exchange.mintToken({ lifetimeSeconds: -10 }), /expired/],
    ['the compliance audience', () => emulator.exchange.mintToken({ endpoint: 'compliance' }), /audience/],
    [
      'a Graph audience',
      () => emulator.exchange.mintToken({ audience: 'https://graph.microsoft.com' }),
      /audience/,
    ],
    ['no Exchange.ManageAsApp', () => emulator.exchange.mintToken({ roles: [] }), /Exchange\.ManageAsApp/],
    [
      'another tenant',
      () => emulator.exchange.mintToken({ tenant: '11111111-2222-4333-8444-555555555555' }),
      /tenant/,
    ],
  ])('answers 401 with WWW-Authenticate for %s', async (_name, token, reason) => {
    const t = token();
    const answer = await call(emulator.exchange.invokeUrl(), {
      ...(t !== undefined && { token: t }),
      body: { CmdletInput: { CmdletName: 'Get-Mailbox', Parameters: {} } },
    });
    expect(answer.status).toBe(401);
    expect(String(answer.headers['www-authenticate'])).toMatch(/^Bearer .*error="invalid_token"/);
    expect(String(answer.headers['www-authenticate'])).toMatch(reason);
  });

  it('takes the tenant in the path as a GUID or a domain', async () => {
    const byDomain = await invoke(
      'Get-AcceptedDomain',
      {},
      { url: emulator.exchange.invokeUrl({ tenant: emulator.domain }) },
    );
    expect(byDomain.status).toBe(200);
    expect(values(byDomain)[0]?.['DomainName']).toBe(emulator.domain);
  });

  it('answers 403 with NUL bytes when the app has no Entra role', async () => {
    const tenant = emulator.tenants[0];
    if (tenant?.apps[0]) tenant.apps[0].directoryRoles = [];
    const answer = await invoke('Get-Mailbox');
    expect(answer.status).toBe(403);
    expect(answer.raw.length).toBeGreaterThan(0);
    expect([...answer.raw].every((b) => b === 0)).toBe(true);
  });
});

describe('organisation', () => {
  it('returns mailboxes with annotation keys, and $select keeps only what was asked', async () => {
    const all = await invoke('Get-Mailbox');
    expect(all.json?.['@adminapi.warnings']).toEqual([]);
    expect(values(all)).toHaveLength(5);
    const row = values(all)[0] ?? {};
    expect(Object.keys(row)).toEqual(
      expect.arrayContaining(['Guid@odata.type', 'ProhibitSendQuota@data.type']),
    );
    expect(row['ProhibitSendQuota']).toMatch(/GB \(/);
    const url = `${emulator.exchange.invokeUrl()}?$select=Name,Guid`;
    const some = await invoke('Get-Mailbox', {}, { url });
    expect(Object.keys(values(some)[0] ?? {}).sort()).toEqual([
      'Guid',
      'Guid@data.type',
      'Guid@odata.type',
      'Name',
    ]);
  });

  it('applies ResultSize: absent → 1000 and the warning, a number, Unlimited, and a bad value as shape 3', async () => {
    emulator.exchange.organization().seedMailboxes(1200);
    const absent = await invoke('Get-Mailbox', {}, { headers: { prefer: 'odata.maxpagesize=1000' } });
    expect(absent.json?.['@adminapi.warnings']).toEqual([RESULT_SIZE_WARNING]);
    expect(values(absent)).toHaveLength(1000);
    expect(absent.json?.['@odata.nextLink']).toBeUndefined();
    const three = await invoke('Get-Mailbox', { ResultSize: 3 });
    expect(values(three)).toHaveLength(3);
    expect(three.json?.['@adminapi.warnings']).toEqual([]);
    const unlimited = await invoke('Get-Mailbox', { ResultSize: 'Unlimited' });
    expect(values(unlimited)).toHaveLength(1000);
    expect(unlimited.json?.['@odata.nextLink']).toMatch(/\$skiptoken=/);
    const bad = await invoke('Get-Mailbox', { ResultSize: 'lots' });
    expect(bad.status).toBe(400);
    const error = bad.json?.['error'] as { innererror: { internalexception: { message: string } } };
    expect(error.innererror.internalexception.message).toMatch(/ResultSize/);
  });

  it('runs New/Get/Set/Remove for any noun with the documented errors', async () => {
    const created = await invoke('New-TransportRule', { Name: 'Block exe', Priority: 0 });
    expect(created.status).toBe(200);
    expect(values(created)[0]?.['Name']).toBe('Block exe');
    const again = await invoke('New-TransportRule', { Name: 'Block exe' });
    expect(again.status).toBe(400);
    const details = (again.json?.['error'] as { details: { message: string }[] }).details[0]?.message ?? '';
    expect((JSON.parse(details) as { TypeName: string }).TypeName).toMatch(/ADObjectAlreadyExistsException/);
    const set = await invoke('Set-TransportRule', { Identity: 'block exe', Priority: 2 });
    expect(set.status).toBe(200);
    expect(set.json?.['@adminapi.warnings']).toEqual([]);
    const same = await invoke('Set-TransportRule', { Identity: 'Block exe', Priority: 2 });
    expect(same.json?.['@adminapi.warnings']).toEqual([
      expect.stringMatching(/no settings of 'Block exe' have been modified/),
    ]);
    const got = await invoke('Get-TransportRule', { Identity: 'Block exe' });
    expect(values(got)[0]?.['Priority']).toBe(2);
    expect((await invoke('Remove-TransportRule', { Identity: 'Block exe', Confirm: false })).status).toBe(
      200,
    );
    const gone = await invoke('Get-TransportRule', { Identity: 'Block exe' });
    expect(gone.status).toBe(404);
    const pipe = (gone.json?.['error'] as { details: { message: string }[] }).details[0]?.message ?? '';
    expect(pipe.split('|')[1]).toBe(
      'Microsoft.Exchange.Configuration.Tasks.ManagementObjectNotFoundException',
    );
    expect(emulator.exchange.organization().nouns('TransportRule').size).toBe(0);
  });

  it('sets singletons and reports "no change" as a warning', async () => {
    const set = await invoke('Set-OrganizationConfig', { AuditDisabled: true });
    expect(set.json?.['@adminapi.warnings']).toEqual([]);
    const got = await invoke('Get-OrganizationConfig');
    expect(values(got)[0]?.['AuditDisabled']).toBe(true);
    const again = await invoke('Set-AdminAuditLogConfig', { UnifiedAuditLogIngestionEnabled: true });
    expect(again.json?.['@adminapi.warnings']).toHaveLength(1);
  });

  it('needs hashtables tagged as the module tags them', async () => {
    const untagged = await invoke('Set-Mailbox', {
      Identity: 'user0001',
      EmailAddresses: { Add: 'smtp:a@contoso.com' },
    });
    expect(untagged.status).toBe(400);
    expect(untagged.text).toMatch(/Cannot convert the \\"Newtonsoft\.Json\.Linq\.JObject\\"/);
    const tagged = await invoke('Set-Mailbox', {
      Identity: 'user0001',
      EmailAddresses: { '@odata.type': '#Exchange.GenericHashTable', Add: 'smtp:a@contoso.com' },
    });
    expect(tagged.status).toBe(200);
    const row = emulator.exchange.organization().nouns('Mailbox').get('user0001');
    expect(row?.['EmailAddresses']).toContain('smtp:a@contoso.com');
    const list = await invoke('New-RemoteDomain', {
      Name: 'Fabrikam',
      Settings: [{ '@odata.type': '#Exchange.GenericHashTable', A: 1 }],
    });
    expect(list.status).toBe(400);
    const listed = await invoke('New-RemoteDomain', {
      Name: 'Fabrikam',
      Settings: [{ '@odata.type': '#Exchange.GenericHashTable', A: 1 }],
      'Settings@odata.type': '#Collection(Exchange.GenericHashTable)',
    });
    expect(listed.status).toBe(200);
    const nullParameters = await call(emulator.exchange.invokeUrl(), {
      token: emulator.exchange.mintToken(),
      body: { CmdletInput: { CmdletName: 'Get-Mailbox', Parameters: null } },
    });
    expect(nullParameters.status).toBe(400);
  });
});

describe('paging', () => {
  it('pages with @odata.nextLink bound to the anchor of the first page', async () => {
    const headers = { prefer: 'odata.maxpagesize=2' };
    const first = await invoke('Get-Mailbox', { ResultSize: 'Unlimited' }, { headers });
    expect(first.headers['preference-applied']).toBe('odata.maxpagesize=2');
    expect(values(first)).toHaveLength(2);
    const next = String(first.json?.['@odata.nextLink']);
    expect(next.startsWith(emulator.exchange.url)).toBe(true);
    const second = await invoke('Get-Mailbox', { ResultSize: 'Unlimited' }, { url: next, headers });
    expect(values(second)).toHaveLength(2);
    const third = await invoke(
      'Get-Mailbox',
      { ResultSize: 'Unlimited' },
      { url: String(second.json?.['@odata.nextLink']), headers },
    );
    expect(values(third)).toHaveLength(1);
    expect(third.json?.['@odata.nextLink']).toBeUndefined();
    expect(emulator.exchange.invocations().map((r) => r.page)).toEqual([0, 1, 2]);

    const again = await invoke('Get-Mailbox', { ResultSize: 'Unlimited' }, { headers });
    const wrong = await invoke(
      'Get-Mailbox',
      {},
      {
        url: String(again.json?.['@odata.nextLink']),
        headers: { ...headers, 'x-anchormailbox': 'UPN:someone@contoso.onmicrosoft.com' },
      },
    );
    expect(wrong.status).toBe(400);
    expect((wrong.json?.['error'] as { message: string }).message).toBe(
      'Expired or Invalid pagination request. Default Expiry time is 00:30:00',
    );
  });

  it('expires cursors', async () => {
    emulator.exchange.cursorTtlMs = 1;
    const first = await invoke(
      'Get-Mailbox',
      { ResultSize: 'Unlimited' },
      { headers: { prefer: 'odata.maxpagesize=2' } },
    );
    await new Promise((r) => setTimeout(r, 10));
    const late = await invoke('Get-Mailbox', {}, { url: String(first.json?.['@odata.nextLink']) });
    expect(late.status).toBe(400);
    expect(late.text).toMatch(/Expired or Invalid pagination request/);
  });
});

describe('limits, faults, redirects, records', () => {
  it('caps concurrent requests per tenant with 429 and a decimal Retry-After', async () => {
    emulator.exchange.latencyMs = 150;
    emulator.exchange.maxConcurrentPerTenant = 2;
    const answers = await Promise.all([1, 2, 3].map(() => invoke('Get-Mailbox')));
    const throttled = answers.filter((a) => a.status === 429);
    expect(throttled).toHaveLength(1);
    expect(throttled[0]?.headers['retry-after']).toBe('0.25');
    expect(throttled[0]?.text).toMatch(/maximum number of concurrent requests per tenant/);
    expect(emulator.exchange.maxInFlight()).toBe(3);
  });

  it('injects faults per cmdlet: status with Retry-After, HTML, reset, oversized bodies', async () => {
    emulator.exchange.injectFaults([
      { kind: 'status', status: 503, retryAfterSeconds: 1.5, cmdlet: 'Get-Mailbox' },
      { kind: 'status', status: 502, body: 'html', cmdlet: 'Get-AcceptedDomain' },
      { kind: 'oversized', bytes: 3_000_000, cmdlet: 'Get-TransportRule' },
    ]);
    const other = await invoke('Get-OrganizationConfig');
    expect(other.status).toBe(200);
    const busy = await invoke('Get-Mailbox');
    expect(busy.status).toBe(503);
    expect(busy.headers['retry-after']).toBe('1.5');
    expect((await invoke('Get-Mailbox')).status).toBe(200);
    const html = await invoke('Get-AcceptedDomain');
    expect(html.text).toMatch(/^<html>/);
    const big = await invoke('Get-TransportRule');
    expect(big.raw.length).toBe(3_000_000);
    expect(big.json).toBeDefined();
    emulator.exchange.injectFaults([{ kind: 'reset' }]);
    await expect(invoke('Get-Mailbox')).rejects.toThrow(/socket hang up|ECONNRESET/);
  });

  it('redirects to a same-domain regional host or a foreign one, and records bearer presence per host', async () => {
    emulator.exchange.redirect = { to: 'regional' };
    const redirected = await invoke('Get-Mailbox');
    expect(redirected.status).toBe(302);
    const location = String(redirected.headers['location']);
    expect(new URL(location).hostname).toBe(new URL(emulator.exchange.url).hostname);
    expect(location.startsWith(emulator.exchange.regionalUrl)).toBe(true);
    const regional = await invoke(
      'Get-Mailbox',
      { ResultSize: 'Unlimited' },
      { url: location, headers: { prefer: 'odata.maxpagesize=2' } },
    );
    expect(regional.status).toBe(200);
    expect(String(regional.json?.['@odata.nextLink']).startsWith(emulator.exchange.regionalUrl)).toBe(true);

    emulator.exchange.redirect = { to: 'foreign', status: 307 };
    const foreign = await invoke('Get-Mailbox');
    expect(foreign.status).toBe(307);
    expect(String(foreign.headers['location']).startsWith(emulator.exchange.foreignUrl)).toBe(true);
    await call(String(foreign.headers['location']), { method: 'POST', body: {} });
    const hosts = emulator.exchange.requests.map((r) => [r.host, r.bearer]);
    expect(hosts).toEqual([
      ['exchange', true],
      ['exchangeRegional', true],
      ['exchange', true],
      ['foreign', false],
    ]);
    const first = emulator.exchange.requests[0];
    expect(first?.headers['authorization']).toBe('Bearer <redacted>');
    expect(first?.anchor).toBe(anchor());
    expect(first?.tokenClaims?.['tid']).toBe(emulator.tenantId);
    expect(first?.start).toBeGreaterThan(0);
  });

  it('serves EXOModuleFile with the cmdlets named by the CommandName header', async () => {
    const all = await call(emulator.exchange.moduleFileUrl(), {
      token: emulator.exchange.mintToken(),
      headers: { commandname: '*' },
    });
    expect(all.status).toBe(200);
    const listed = String((all.json?.['value'] as { exportedCmdlets: string }[])[0]?.exportedCmdlets);
    expect(listed.split(',')).toContain('Get-Mailbox');
    const some = await call(emulator.exchange.moduleFileUrl(), {
      token: emulator.exchange.mintToken(),
      headers: { commandname: 'Get-Mailbox,Get-Org*' },
    });
    expect(String((some.json?.['value'] as { exportedCmdlets: string }[])[0]?.exportedCmdlets)).toBe(
      'Get-Mailbox,Get-OrganizationConfig',
    );
    expect(emulator.exchange.requests.filter((r) => r.kind === 'moduleFile')).toHaveLength(2);
    const unauth = await call(emulator.exchange.moduleFileUrl(), { headers: { commandname: '*' } });
    expect(unauth.status).toBe(401);
  });
});
