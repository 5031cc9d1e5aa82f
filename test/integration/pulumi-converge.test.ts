/**
 * "pulumi up" without a Pulumi engine: a program declaring a transport rule and an organisation setting runs
 * under Pulumi's runtime mocks (what the engine would be sent), and the resources' serialised providers run in
 * Pulumi's real dynamic-provider host, driven over gRPC as the engine drives it, against the emulator's tenant.
 * Runs: create, no-op, update on change, refresh after a change outside Pulumi, delete.
 */
import { rm } from 'node:fs/promises';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { OrganizationConfig, TransportRule } from '../../src/pulumi/index.js';
import { buildPackage, startDynamicProviderHost, type DynamicProviderHost } from '../support/pulumi-host.ts';
import { declare, refresh, up, type State } from '../support/pulumi.ts';
import type { Emulator } from '../emulator/index.ts';
import { useEmulator } from './emulator-fixture.ts';

const current = useEmulator();
let emulator: Emulator;
let host: DynamicProviderHost;

let pkg: string;

beforeAll(async () => {
  // exo-login as a project installs it: the host loads exo-login/pulumi through the package's exports.
  pkg = await buildPackage();
}, 120_000);

afterAll(async () => {
  await rm(pkg, { recursive: true, force: true });
});

beforeEach(async () => {
  emulator = current();
  // The provider host's environment is `pulumi up`'s: a federated token (here EXO_FEDERATED_TOKEN) and the CA.
  host = await startDynamicProviderHost(pkg, {
    PATH: process.env['PATH'],
    NODE_EXTRA_CA_CERTS: process.env['NODE_EXTRA_CA_CERTS'],
    EXO_FEDERATED_TOKEN: emulator.mintIdToken('api://AzureADTokenExchange'),
    AZURE_CLIENT_ID: emulator.clientId,
  });
});

afterEach(async () => {
  await host.close();
});

interface Config {
  subjectPrefix: string;
  auditDisabled: boolean;
  withRule: boolean;
  withOrg: boolean;
}

function program(config: Config) {
  return () => {
    // tenantId from the program, clientId from the environment (AZURE_CLIENT_ID), as a CI job would have it.
    const connection = {
      tenantId: emulator.tenantId,
      authorityHost: emulator.authorityHost,
      resources: [`exchange=${emulator.exchange.url}`],
    };
    return [
      ...(config.withRule
        ? [
            new TransportRule('tag-external', {
              connection,
              Name: 'Tag external mail',
              FromScope: 'NotInOrganization',
              PrependSubject: config.subjectPrefix,
              Priority: 0,
            }),
          ]
        : []),
      ...(config.withOrg
        ? [
            new OrganizationConfig('organization', {
              connection,
              AuditDisabled: config.auditDisabled,
              CustomerLockboxEnabled: true,
            }),
          ]
        : []),
    ];
  };
}

const base: Config = { subjectPrefix: '[External] ', auditDisabled: false, withRule: true, withOrg: true };
const org = () => emulator.exchange.organization();
const rule = () => org().store.get('TransportRule')?.get('tag external mail');
const writes = () =>
  emulator.exchange
    .invocations()
    .map((r) => r.cmdlet ?? '')
    .filter((c) => !c.startsWith('Get-'));

describe('pulumi up, played by the engine stand-in against the real dynamic-provider host', () => {
  it('converges the tenant: create, no-op, update on change, refresh, delete', async () => {
    const state: State = new Map();
    const states: unknown[] = [];
    const sortSteps = (steps: string[]) => [...steps].sort();

    // 1. First up: both created.
    expect(sortSteps(await up(await declare(program(base)), state, host))).toEqual([
      'create organization',
      'create tag-external',
    ]);
    expect(rule()).toMatchObject({
      FromScope: 'NotInOrganization',
      PrependSubject: '[External] ',
      Priority: 0,
    });
    expect(org().singletons.get('OrganizationConfig')).toMatchObject({
      AuditDisabled: false,
      CustomerLockboxEnabled: true,
    });
    expect(writes().sort()).toEqual(['New-TransportRule', 'Set-OrganizationConfig']);
    states.push([...state.values()]);

    // 2. Same program again: nothing to do, and nothing but the checks and diffs (no Exchange call at all).
    emulator.exchange.requests.length = 0;
    expect(sortSteps(await up(await declare(program(base)), state, host))).toEqual([
      'same organization',
      'same tag-external',
    ]);
    expect(emulator.exchange.requests).toEqual([]);

    // 3. A changed property: updated in place, only the change sent.
    const changed = { ...base, subjectPrefix: '[EXT] ', auditDisabled: true };
    expect(sortSteps(await up(await declare(program(changed)), state, host))).toEqual([
      'update organization',
      'update tag-external',
    ]);
    expect(rule()).toMatchObject({ PrependSubject: '[EXT] ' });
    states.push([...state.values()]);
    expect(emulator.exchange.invocations('Set-TransportRule').at(-1)?.parameters).toMatchObject({
      PrependSubject: '[EXT] ',
    });
    expect(emulator.exchange.invocations('Set-OrganizationConfig').at(-1)?.parameters).toEqual({
      AuditDisabled: true,
    });

    // 4. Someone changes the rule in the admin centre: refresh sees it, the next up puts it back.
    org().run('Set-TransportRule', { Identity: 'Tag external mail', PrependSubject: '[outside] ' });
    expect(sortSteps(await refresh(state, host))).toEqual(['same organization', 'update tag-external']);
    expect(await up(await declare(program(changed)), state, host)).toContain('update tag-external');
    expect(rule()).toMatchObject({ PrependSubject: '[EXT] ' });

    // 5. Both removed from the program: the rule is deleted, the organisation settings stay as they are.
    const orgBefore = { ...org().singletons.get('OrganizationConfig') };
    expect(
      sortSteps(
        await up(await declare(program({ ...changed, withRule: false, withOrg: false })), state, host),
      ),
    ).toEqual(['delete organization', 'delete tag-external']);
    expect(rule()).toBeUndefined();
    expect(org().singletons.get('OrganizationConfig')).toEqual(orgBefore);
    // Said as an engine diagnostic (plugin stderr is hidden at Pulumi's default verbosity).
    expect(host.engineLog).toContainEqual(
      expect.stringMatching(
        /^WARNING OrganizationConfig: removed from the Pulumi state only; the tenant keeps its current values \(AuditDisabled, CustomerLockboxEnabled\)\. Values before Pulumi managed them: \{"AuditDisabled":false,"CustomerLockboxEnabled":false\}\.$/,
      ),
    );
    expect(state.size).toBe(0);

    // No token reached the host's output (what `pulumi up` shows) or any state the runs produced.
    for (const token of emulator.issued) {
      expect(host.stderr.join('\n')).not.toContain(token);
      expect(host.engineLog.join('\n')).not.toContain(token);
      expect(JSON.stringify(states)).not.toContain(token);
    }
  });

  it('imports an existing rule with the import option, then manages it', async () => {
    org().run('New-TransportRule', {
      Name: 'Tag external mail',
      FromScope: 'NotInOrganization',
      PrependSubject: '[External] ',
      Priority: 0,
    });
    const guid = rule()?.['Guid'];
    const importing = () => {
      const [declared] = program({ ...base, withOrg: false })();
      return declared ? [declared] : [];
    };
    const state: State = new Map();
    const declared = await declare(importing);
    // What `{ import: 'Tag external mail' }` sends the engine.
    const steps = await up(
      declared.map((d) => ({ ...d, importId: 'Tag external mail' })),
      state,
      host,
    );
    expect(steps).toEqual(['import tag-external']);
    expect([...state.values()][0]).toMatchObject({ id: 'Tag external mail', outputs: { identity: guid } });
    // Importing changes nothing in the tenant.
    expect(writes()).toEqual([]);
    expect(
      await up(await declare(program({ ...base, subjectPrefix: '[ext] ', withOrg: false })), state, host),
    ).toEqual(['update tag-external']);
    expect(rule()).toMatchObject({ PrependSubject: '[ext] ' });
  });

  it('refuses an import whose declared properties differ from the tenant', async () => {
    org().run('New-TransportRule', { Name: 'Tag external mail', Priority: 5 });
    const declared = await declare(program({ ...base, withOrg: false }));
    await expect(
      up(
        declared.map((d) => ({ ...d, importId: 'Tag external mail' })),
        new Map(),
        host,
      ),
    ).rejects.toThrow(/inputs to import do not match/);
  });

  it('reports a failure as one line per resource, and an existing object with the import option', async () => {
    org().run('New-TransportRule', { Name: 'Tag external mail' });
    const state: State = new Map();
    const error = (await up(await declare(program({ ...base, withOrg: false })), state, host).catch(
      (e: unknown) => e,
    )) as Error;
    expect(error.message).toMatch(/TransportRule 'Tag external mail': .*already exists/);
    expect(error.message).toContain('{ import: "Tag external mail" }');
  });
});
