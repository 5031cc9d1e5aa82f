/**
 * A Pulumi program under Pulumi's own runtime mocks: what the engine would receive from it. Proves that the
 * serialised provider in every resource's inputs (and so in the state) carries no token, assertion or session,
 * only code that loads exo-login/pulumi at run time, and that it still works once deserialised as the host does.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { declare, loadProvider } from '../support/pulumi.ts';
import {
  AdminAuditLogConfig,
  ExchangeObject,
  ExchangeSettings,
  OrganizationConfig,
  RemoteDomain,
  TransportRule,
} from '../../src/pulumi/index.js';

const SECRET = 'eyJhbGciOiJSUzI1NiJ9.eyJzZWNyZXQiOiJ5ZXMifQ.c2VjcmV0LXNpZ25hdHVyZQ';
const connection = { tenantId: 'contoso.onmicrosoft.com', clientId: '5f0d7c9a-0000-4000-8000-000000000001' };

afterEach(() => {
  delete process.env['EXO_FEDERATED_TOKEN'];
});

function program() {
  return [
    new TransportRule('tag-external', {
      connection,
      Name: 'Tag external mail',
      FromScope: 'NotInOrganization',
      PrependSubject: '[External] ',
      Priority: 0,
    }),
    new RemoteDomain('fabrikam', {
      connection,
      Name: 'Fabrikam',
      DomainName: 'fabrikam.com',
      AutoReplyEnabled: false,
    }),
    new OrganizationConfig('org', { connection, AuditDisabled: false, MailTipsAllTipsEnabled: true }),
    new AdminAuditLogConfig('audit', { connection, UnifiedAuditLogIngestionEnabled: true }),
    new ExchangeObject('journal', {
      connection,
      noun: 'JournalRule',
      name: 'Journal all',
      properties: { Scope: 'Global', JournalEmailAddress: 'journal@contoso.com' },
    }),
    new ExchangeSettings('transport', {
      connection,
      noun: 'TransportConfig',
      properties: { SmtpClientAuthenticationDisabled: true },
    }),
  ];
}

describe('a Pulumi program declaring Exchange resources (runtime mocks)', () => {
  it('registers typed dynamic resources with the cmdlet family, name and only the declared properties', async () => {
    process.env['EXO_FEDERATED_TOKEN'] = SECRET;
    const declared = await declare(program);
    // Registration order follows input resolution, not declaration order.
    expect(declared.map((r) => [r.type, r.name]).sort()).toEqual(
      [
        ['pulumi-nodejs:dynamic/exchange:TransportRule', 'tag-external'],
        ['pulumi-nodejs:dynamic/exchange:RemoteDomain', 'fabrikam'],
        ['pulumi-nodejs:dynamic/exchange:OrganizationConfig', 'org'],
        ['pulumi-nodejs:dynamic/exchange:AdminAuditLogConfig', 'audit'],
        ['pulumi-nodejs:dynamic/exchange:ExchangeObject', 'journal'],
        ['pulumi-nodejs:dynamic/exchange:ExchangeSettings', 'transport'],
      ].sort(),
    );
    const byName = (name: string) => declared.find((r) => r.name === name);
    const [rule, domain, org] = [byName('tag-external'), byName('fabrikam'), byName('org')];
    expect(rule?.inputs).toMatchObject({
      connection,
      noun: 'TransportRule',
      name: 'Tag external mail',
      properties: { FromScope: 'NotInOrganization', PrependSubject: '[External] ', Priority: 0 },
      createOnly: [],
      setOnly: [],
    });
    expect(domain?.inputs).toMatchObject({
      noun: 'RemoteDomain',
      name: 'Fabrikam',
      properties: { DomainName: 'fabrikam.com', AutoReplyEnabled: false },
      createOnly: ['DomainName'],
    });
    expect(domain?.inputs['setOnly']).toContain('AutoReplyEnabled');
    expect(org?.inputs).toMatchObject({
      noun: 'OrganizationConfig',
      properties: { AuditDisabled: false, MailTipsAllTipsEnabled: true },
    });
  });

  it('serialises a provider that captures no secret, session or module: it requires exo-login/pulumi when run', async () => {
    process.env['EXO_FEDERATED_TOKEN'] = SECRET;
    const declared = await declare(program);
    const texts = new Set(declared.map((r) => r.inputs['__provider']));
    // Two providers (objects, settings), each serialised once and shared by its resources.
    expect(texts.size).toBe(2);
    for (const text of texts) {
      expect(typeof text).toBe('string');
      const source = text as string;
      expect(source).toMatch(
        /require\(["']exo-login\/pulumi["']\)\.dynamicProvider\(["'](object|settings)["']\)/,
      );
      expect(source).not.toContain(SECRET);
      expect(source).not.toMatch(/ExoLoginSession|access_token|client_assertion|Bearer/);
      expect(JSON.stringify(declared)).not.toContain(SECRET);
      // Small: code only, nothing captured by value.
      expect(source.length).toBeLessThan(4000);
    }
  });

  it('deserialises as the dynamic-provider host does, and its check explains a missing connection', async () => {
    const declared = await declare(() => [
      new TransportRule('no-connection', { Name: 'x', connection: { tenantId: 'contoso.onmicrosoft.com' } }),
    ]);
    const provider = loadProvider(declared[0]?.inputs['__provider'] as string);
    const saved = { a: process.env['AZURE_CLIENT_ID'], b: process.env['ARM_CLIENT_ID'] };
    delete process.env['AZURE_CLIENT_ID'];
    delete process.env['ARM_CLIENT_ID'];
    try {
      const checked = await provider.check?.({}, declared[0]?.inputs ?? {});
      expect(checked?.failures).toEqual([
        {
          property: 'connection.clientId',
          reason: 'is required: set it on the resource or export AZURE_CLIENT_ID or ARM_CLIENT_ID',
        },
      ]);
    } finally {
      if (saved.a !== undefined) process.env['AZURE_CLIENT_ID'] = saved.a;
      if (saved.b !== undefined) process.env['ARM_CLIENT_ID'] = saved.b;
    }
  });
});
