/**
 * Each provider method (check, diff, create, read, update, delete) of the Exchange object and settings
 * resources, against the emulator's admin API and its store of objects, with tokens minted from a federated
 * token in the environment as inside Pulumi's provider host.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import type { ExchangeConnection } from '../../src/pulumi/connection.js';
import { UNKNOWN_VALUE, type ObjectOutputs, type SettingsOutputs } from '../../src/pulumi/model.js';
import { ObjectProvider } from '../../src/pulumi/object-provider.js';
import { environmentContext } from '../../src/pulumi/provider.js';
import { SettingsProvider } from '../../src/pulumi/settings-provider.js';
import type { Emulator } from '../emulator/index.ts';
import { useEmulator } from './emulator-fixture.ts';

const current = useEmulator();
let emulator: Emulator;
let logs: string[];
let env: NodeJS.ProcessEnv;
let connection: ExchangeConnection;

beforeEach(() => {
  emulator = current();
  logs = [];
  env = { EXO_FEDERATED_TOKEN: emulator.mintIdToken('api://AzureADTokenExchange') };
  connection = {
    tenantId: emulator.tenantId,
    clientId: emulator.clientId,
    authorityHost: emulator.authorityHost,
    resources: [`exchange=${emulator.exchange.url}`],
  };
});

function providers() {
  const context = environmentContext(env, (m) => void logs.push(m));
  return { objects: new ObjectProvider(context), settings: new SettingsProvider(context) };
}

const org = () => emulator.exchange.organization();
const stored = (noun: string, name: string) => org().store.get(noun)?.get(name.toLowerCase());
const cmdlets = () => emulator.exchange.invocations().map((r) => r.cmdlet);

function ruleInputs(properties: Record<string, unknown>, name = 'Tag external mail') {
  return {
    connection,
    noun: 'TransportRule',
    name,
    properties,
    createOnly: [],
    setOnly: [],
    enableCmdlets: true,
  };
}

/** Everything the state would hold must be free of every token the emulator issued. */
function expectNoSecrets(value: unknown): void {
  const text = JSON.stringify(value);
  for (const token of [...emulator.issued, env['EXO_FEDERATED_TOKEN'] ?? ''])
    expect(text).not.toContain(token);
}

describe('Exchange object provider', () => {
  it('check fills the connection from the environment and names every invalid input', async () => {
    const { objects } = providers();
    env['AZURE_TENANT_ID'] = emulator.tenantId;
    env['ARM_CLIENT_ID'] = emulator.clientId;
    const ok = await objects.check({}, { noun: 'TransportRule', name: ' Tag ', properties: { Priority: 0 } });
    expect(ok.failures).toEqual([]);
    expect(ok.inputs).toMatchObject({
      connection: { tenantId: emulator.tenantId, clientId: emulator.clientId },
      name: 'Tag',
      createOnly: [],
      setOnly: [],
    });
    const bad = await objects.check(
      {},
      {
        connection: { tenantId: 'not a tenant' },
        noun: 'Transport Rule',
        name: '',
        properties: { ManagedBy: { Add: 'x' } },
        createOnly: 'DomainName',
      },
    );
    expect(bad.failures.map((f) => f.property)).toEqual([
      'connection',
      'noun',
      'properties.ManagedBy',
      'createOnly',
      'name',
    ]);
    expect(bad.failures[0]?.reason).toMatch(/^Option 'connection.tenantId' must be a GUID/);
    expect(emulator.exchange.requests).toEqual([]);
  });

  it('check and diff at preview leave values Pulumi does not know yet alone, and call nothing', async () => {
    const { objects } = providers();
    const { outs } = await objects.create(ruleInputs({ Priority: 0 }));
    emulator.exchange.requests.length = 0;
    const news = { connection, noun: 'TransportRule', name: UNKNOWN_VALUE, properties: UNKNOWN_VALUE };
    const checked = await objects.check(outs, news);
    expect(checked.failures).toEqual([]);
    expect(checked.inputs).toMatchObject({ name: UNKNOWN_VALUE, properties: UNKNOWN_VALUE });
    expect(await objects.diff('x', outs, checked.inputs)).toMatchObject({ changes: true });
    expect(emulator.exchange.requests).toEqual([]);
  });

  it('create runs New-<Noun>, reads the declared properties back, and keeps the GUID as id', async () => {
    const { objects } = providers();
    const inputs = ruleInputs({ FromScope: 'NotInOrganization', PrependSubject: '[External] ', Priority: 0 });
    const { id, outs } = await objects.create({ ...inputs, __provider: 'code' });
    const row = stored('TransportRule', 'Tag external mail');
    expect(row).toMatchObject({ FromScope: 'NotInOrganization', PrependSubject: '[External] ', Priority: 0 });
    expect(id).toBe(row?.['Guid']);
    expect(outs).toMatchObject({ identity: id, properties: inputs.properties, __provider: 'code' });
    expect(cmdlets()).toEqual(['New-TransportRule', 'Get-TransportRule']);
    expect(emulator.exchange.invocations('Get-TransportRule')[0]?.parameters).toEqual({ Identity: id });
    expectNoSecrets(outs);
  });

  it('create of a remote domain passes only Name and DomainName to New-, the rest to Set-', async () => {
    const { objects } = providers();
    await objects.create({
      connection,
      noun: 'RemoteDomain',
      name: 'Fabrikam',
      properties: { DomainName: 'fabrikam.com', AutoReplyEnabled: false },
      createOnly: ['DomainName'],
      setOnly: ['AutoReplyEnabled'],
      enableCmdlets: false,
    });
    expect(emulator.exchange.invocations('New-RemoteDomain')[0]?.parameters).toEqual({
      Name: 'Fabrikam',
      DomainName: 'fabrikam.com',
    });
    expect(emulator.exchange.invocations('Set-RemoteDomain')[0]?.parameters).toMatchObject({
      AutoReplyEnabled: false,
    });
    expect(stored('RemoteDomain', 'Fabrikam')).toMatchObject({ AutoReplyEnabled: false });
  });

  it('create of an object that already exists says how to import it', async () => {
    const { objects } = providers();
    org().run('New-TransportRule', { Name: 'Tag external mail' });
    const error = await objects.create(ruleInputs({ Priority: 0 })).catch((e: unknown) => e as Error);
    expect(error).toBeInstanceOf(Error);
    const message = (error as Error).message;
    expect(message).toMatch(/^TransportRule 'Tag external mail': /);
    expect(message).toContain('already exists');
    expect(message).toContain('New-TransportRule');
    expect(message).toContain('{ import: "Tag external mail" }');
    expect(message).not.toContain('\n');
  });

  it('diff: nothing after create, an update for a changed property, a replacement for a create-only one', async () => {
    const { objects } = providers();
    const inputs = ruleInputs({ Priority: 0, Mode: 'Enforce' });
    const { outs } = await objects.create(inputs);
    expect(await objects.diff('x', outs, ruleInputs({ Priority: 0, Mode: 'enforce' }))).toMatchObject({
      changes: false,
    });
    expect(await objects.diff('x', outs, ruleInputs({ Priority: 1, Mode: 'Enforce' }))).toMatchObject({
      changes: true,
      replaces: [],
    });
    expect(
      await objects.diff('x', outs, { ...ruleInputs({ Priority: 0, Mode: 'Audit' }), createOnly: ['Mode'] }),
    ).toMatchObject({ changes: true, replaces: ['properties.Mode'], deleteBeforeReplace: true });
  });

  it('update sends only the changed properties to Set-<Noun> by GUID and records what Exchange returns', async () => {
    const { objects } = providers();
    const { id, outs } = await objects.create(ruleInputs({ Priority: 0, PrependSubject: '[Ext] ' }));
    const news = ruleInputs({ Priority: 0, PrependSubject: '[External] ', Comments: 'by Pulumi' });
    const { outs: updated } = await objects.update(id, outs, news);
    expect(emulator.exchange.invocations('Set-TransportRule').map((r) => r.parameters)).toEqual([
      { Identity: id, PrependSubject: '[External] ', Comments: 'by Pulumi' },
    ]);
    expect(updated).toMatchObject({ identity: id, properties: news.properties });
    expect(stored('TransportRule', 'Tag external mail')).toMatchObject(news.properties);
  });

  it('creates a rule disabled through -Enabled, and switches State with Enable-/Disable-<Noun>', async () => {
    const { objects } = providers();
    const { id, outs } = await objects.create(ruleInputs({ State: 'Disabled', Priority: 0 }));
    expect(emulator.exchange.invocations('New-TransportRule')[0]?.parameters).toEqual({
      Name: 'Tag external mail',
      Enabled: false,
      Priority: 0,
    });
    expect(stored('TransportRule', 'Tag external mail')).toMatchObject({ Enabled: false });
    const { outs: enabled } = await objects.update(id, outs, ruleInputs({ State: 'Enabled', Priority: 1 }));
    expect(emulator.exchange.invocations('Set-TransportRule').map((r) => r.parameters)).toEqual([
      { Identity: id, Priority: 1 },
    ]);
    expect(emulator.exchange.invocations('Enable-TransportRule').map((r) => r.parameters)).toEqual([
      { Identity: id, Confirm: false },
    ]);
    expect(stored('TransportRule', 'Tag external mail')).toMatchObject({ State: 'Enabled', Priority: 1 });
    expect(enabled).toMatchObject({ properties: { State: 'Enabled', Priority: 1 } });
    const failures = (await objects.check({}, ruleInputs({ State: 'On' }))).failures;
    expect(failures).toEqual([{ property: 'properties.State', reason: "must be 'Enabled' or 'Disabled'" }]);
  });

  it('update of an object deleted outside Pulumi says to refresh', async () => {
    const { objects } = providers();
    const { id, outs } = await objects.create(ruleInputs({ Priority: 0 }));
    org().run('Remove-TransportRule', { Identity: 'Tag external mail' });
    const error = (await objects
      .update(id, outs, ruleInputs({ Priority: 2 }))
      .catch((e: unknown) => e)) as Error;
    expect(error.message).toMatch(/couldn't be found/);
    expect(error.message).toMatch(/deleted outside Pulumi: run pulumi refresh/);
  });

  it('read refreshes the declared properties only, and reports an object deleted outside Pulumi', async () => {
    const { objects } = providers();
    const { id, outs } = await objects.create(ruleInputs({ Priority: 0 }));
    org().run('Set-TransportRule', { Identity: id, Priority: 3, Comments: 'changed in the admin centre' });
    const read = await objects.read(id, outs);
    expect(read.id).toBe(id);
    expect(read.props).toMatchObject({ properties: { Priority: 3 } });
    expect((read.props?.['properties'] as Record<string, unknown>)['Comments']).toBeUndefined();
    org().run('Remove-TransportRule', { Identity: id });
    expect(await objects.read(id, outs)).toEqual({ id: '' });
    expect(logs).toContain(
      "TransportRule 'Tag external mail' no longer exists in the tenant: it was deleted outside Pulumi.",
    );
  });

  it('read imports an existing object by name: its values become the inputs, its GUID the identity', async () => {
    const { objects } = providers();
    org().run('New-TransportRule', { Name: 'Legacy rule', Priority: 4, Mode: 'Audit' });
    const guid = stored('TransportRule', 'Legacy rule')?.['Guid'];
    const read = await objects.read('Legacy rule', {
      ...ruleInputs({ Priority: 4, Mode: 'Audit' }, 'Legacy rule'),
      __provider: 'code',
    });
    expect(read).toMatchObject({
      id: 'Legacy rule',
      props: {
        identity: guid,
        name: 'Legacy rule',
        properties: { Priority: 4, Mode: 'Audit' },
        __provider: 'code',
      },
      inputs: { name: 'Legacy rule', properties: { Priority: 4, Mode: 'Audit' } },
    });
    const diff = await objects.diff(
      guid as string,
      read.props as ObjectOutputs,
      ruleInputs({ Priority: 4, Mode: 'Audit' }, 'Legacy rule'),
    );
    expect(diff.changes).toBe(false);
  });

  it('delete runs Remove-<Noun> by GUID; an object already gone is not an error', async () => {
    const { objects } = providers();
    const { id, outs } = await objects.create(ruleInputs({ Priority: 0 }));
    await objects.delete(id, outs);
    expect(stored('TransportRule', 'Tag external mail')).toBeUndefined();
    expect(emulator.exchange.invocations('Remove-TransportRule')[0]?.parameters).toMatchObject({
      Identity: id,
    });
    await objects.delete(id, outs);
    expect(logs).toContain("TransportRule 'Tag external mail' was already gone from the tenant.");
  });

  it('shares one token among the operations of a run; the next run mints from the token file as it is then', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'exo-pulumi-token-'));
    const file = join(dir, 'token');
    await writeFile(file, emulator.mintIdToken('api://AzureADTokenExchange'));
    env = { AZURE_FEDERATED_TOKEN_FILE: file };
    const { objects } = providers();
    const { id, outs } = await objects.create(ruleInputs({ Priority: 0 }));
    await objects.update(id, outs, ruleInputs({ Priority: 1 }));
    expect(emulator.counts().token).toBe(1);
    // The runner (Kubernetes, another CI) rotates the file; the next provider process presents the new token.
    await writeFile(file, emulator.mintIdToken('api://AzureADTokenExchange'));
    await providers().objects.update(id, outs, ruleInputs({ Priority: 2 }));
    const mints = emulator.requests.filter((r) => r.endpoint === 'token');
    expect(mints.length).toBe(2);
    expect(new Set(mints.map((r) => r.assertionId)).size).toBe(2);
    expect(stored('TransportRule', 'Tag external mail')).toMatchObject({ Priority: 2 });
    await rm(dir, { recursive: true, force: true });
  });

  it('retries throttling instead of failing the deployment', async () => {
    const { objects } = providers();
    emulator.exchange.injectFaults([
      {
        kind: 'status',
        status: 429,
        retryAfterSeconds: 0.05,
        body: 'concurrency',
        cmdlet: 'New-TransportRule',
      },
      { kind: 'status', status: 503, cmdlet: 'New-TransportRule' },
    ]);
    const { id } = await objects.create(ruleInputs({ Priority: 0 }));
    expect(id).toBe(stored('TransportRule', 'Tag external mail')?.['Guid']);
    expect(emulator.exchange.invocations('New-TransportRule').map((r) => r.status)).toEqual([429, 503, 200]);
  });

  it('an app without an Entra role fails with one line: resource, cmdlet, cause and fix', async () => {
    const { objects } = providers();
    const app = emulator.tenants[0]?.apps[0];
    if (app) app.directoryRoles = [];
    const error = (await objects.create(ruleInputs({ Priority: 0 })).catch((e: unknown) => e)) as Error;
    expect(error.message).toMatch(/^TransportRule 'Tag external mail': /);
    expect(error.message).toContain('New-TransportRule');
    expect(error.message).toMatch(/Exchange Administrator/);
    expect(error.message).not.toContain('\n');
    expectNoSecrets(error.message);
  });
});

describe('settings provider', () => {
  const orgInputs = (properties: Record<string, unknown>) => ({
    connection,
    noun: 'OrganizationConfig',
    properties,
  });

  it('create records the values before, and sets only those that differ', async () => {
    const { settings } = providers();
    const { id, outs } = await settings.create(
      orgInputs({ AuditDisabled: false, CustomerLockboxEnabled: true }),
    );
    expect(id).toBe('OrganizationConfig');
    expect(emulator.exchange.invocations('Set-OrganizationConfig').map((r) => r.parameters)).toEqual([
      { CustomerLockboxEnabled: true },
    ]);
    expect(outs).toMatchObject({
      properties: { AuditDisabled: false, CustomerLockboxEnabled: true },
      before: { AuditDisabled: false, CustomerLockboxEnabled: false },
    });
    expect(org().singletons.get('OrganizationConfig')).toMatchObject({ CustomerLockboxEnabled: true });
  });

  it('create with values the tenant already has calls no Set-', async () => {
    const { settings } = providers();
    await settings.create(orgInputs({ AuditDisabled: false }));
    expect(cmdlets()).toEqual(['Get-OrganizationConfig', 'Get-OrganizationConfig']);
  });

  it('diff, update and read converge the declared properties only', async () => {
    const { settings } = providers();
    const { id, outs } = await settings.create(orgInputs({ AuditDisabled: false }));
    expect(
      await settings.diff(id, outs as SettingsOutputs, orgInputs({ AuditDisabled: false })),
    ).toMatchObject({
      changes: false,
    });
    const news = orgInputs({ AuditDisabled: true, MailTipsAllTipsEnabled: false });
    const diff = await settings.diff(id, outs, news);
    expect(diff).toMatchObject({ changes: true, replaces: [] });
    const { outs: updated } = await settings.update(id, outs, news);
    expect(updated).toMatchObject({
      properties: news.properties,
      before: { AuditDisabled: false, MailTipsAllTipsEnabled: true },
    });
    org().run('Set-OrganizationConfig', { AuditDisabled: false, SmtpActionableMessagesEnabled: false });
    const read = await settings.read(id, updated);
    expect(read.props?.['properties']).toEqual({ AuditDisabled: false, MailTipsAllTipsEnabled: false });
  });

  it('delete leaves the tenant as it is and says so', async () => {
    const { settings } = providers();
    const { id, outs } = await settings.create(orgInputs({ CustomerLockboxEnabled: true }));
    const before = emulator.exchange.invocations().length;
    await settings.delete(id, outs);
    expect(emulator.exchange.invocations().length).toBe(before);
    expect(org().singletons.get('OrganizationConfig')).toMatchObject({ CustomerLockboxEnabled: true });
    expect(logs.at(-1)).toMatch(
      /^OrganizationConfig: removed from the Pulumi state only; the tenant keeps its current values \(CustomerLockboxEnabled\)/,
    );
  });

  it('manages a per-object setting by -Identity (the Default anti-spam policy)', async () => {
    const { settings } = providers();
    org().run('New-HostedContentFilterPolicy', { Name: 'Default', BulkThreshold: 7 });
    const inputs = {
      connection,
      noun: 'HostedContentFilterPolicy',
      identity: 'Default',
      properties: { BulkThreshold: 5 },
    };
    const { id, outs } = await settings.create(inputs);
    expect(id).toBe('HostedContentFilterPolicy:Default');
    expect(outs).toMatchObject({ properties: { BulkThreshold: 5 }, before: { BulkThreshold: 7 } });
    expect(emulator.exchange.invocations('Set-HostedContentFilterPolicy')[0]?.parameters).toEqual({
      Identity: 'Default',
      BulkThreshold: 5,
    });
    org().run('Remove-HostedContentFilterPolicy', { Identity: 'Default' });
    expect(await settings.read(id, outs)).toEqual({ id: '' });
  });

  it('check names a bad noun, a bad identity and a hashtable value', async () => {
    const { settings } = providers();
    const result = await settings.check(
      {},
      { connection, noun: 'Organization-Config', identity: 3, properties: { X: { Add: 1 } } },
    );
    expect(result.failures.map((f) => f.property)).toEqual(['noun', 'properties.X', 'identity']);
  });
});
