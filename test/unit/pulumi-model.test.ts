import { describe, expect, it } from 'vitest';
import { replayRunner } from '../support/runner-view.js';
import { detectPulumiSource, resolveConnection } from '../../src/pulumi/connection.js';
import {
  UNKNOWN_VALUE,
  changedKeys,
  checkNounAndProperties,
  diffObject,
  diffSettings,
  identityOf,
  pick,
  plainLine,
  sameValue,
  splitForCreate,
  splitForUpdate,
  type ObjectInputs,
  type ObjectOutputs,
  type SettingsOutputs,
} from '../../src/pulumi/model.js';

const connection = { tenantId: 'contoso.onmicrosoft.com', clientId: '5f0d7c9a-0000-4000-8000-000000000001' };

function rule(properties: Record<string, unknown>, extra: Partial<ObjectInputs> = {}): ObjectInputs {
  return {
    connection,
    noun: 'TransportRule',
    name: 'Tag',
    properties,
    createOnly: [],
    setOnly: [],
    enableCmdlets: false,
    ...extra,
  };
}
function recorded(properties: Record<string, unknown>, extra: Partial<ObjectInputs> = {}): ObjectOutputs {
  return { ...rule(properties, extra), identity: 'a0c8c1b2-0000-4000-8000-000000000000' };
}

describe('comparing declared values with what Exchange returns', () => {
  it('treats enum text case-insensitively, numbers and booleans as their text, and lists as sets', () => {
    expect(sameValue('Enforce', 'enforce')).toBe(true);
    expect(sameValue(5, '5')).toBe(true);
    expect(sameValue(true, 'True')).toBe(true);
    expect(sameValue(['b.com', 'a.com'], ['a.com', 'B.com'])).toBe(true);
    expect(sameValue(['a.com', 'a.com'], ['a.com', 'b.com'])).toBe(false);
    expect(sameValue(['a.com'], ['a.com', 'b.com'])).toBe(false);
    expect(sameValue('a.com', ['a.com'])).toBe(true);
    expect(sameValue(null, [])).toBe(true);
    expect(sameValue('', null)).toBe(true);
    expect(sameValue(false, null)).toBe(false);
    expect(sameValue(0, null)).toBe(false);
  });

  it('never takes a value unknown during preview for the recorded one', () => {
    expect(sameValue(UNKNOWN_VALUE, UNKNOWN_VALUE)).toBe(false);
    expect(changedKeys({ Priority: UNKNOWN_VALUE }, { Priority: 1 })).toEqual(['Priority']);
  });

  it('picks the declared keys from a row whatever their case, missing ones as null', () => {
    expect(pick({ priority: 1, Mode: 'Audit', Other: 2 }, ['Priority', 'Mode', 'Comments'])).toEqual({
      Priority: 1,
      Mode: 'Audit',
      Comments: null,
    });
  });

  it('turns server text into one plain line for the log: no control characters or escape sequences', () => {
    expect(plainLine('a\n\u001b[31mb\u0000\r\n  c\u009b')).toBe('a [31mb c');
  });

  it('keeps server text inert for the GitHub runner that reads pulumi up output', () => {
    const view = replayRunner(
      [
        plainLine('::add-mask::x\n::error::forged'),
        plainLine('Rule ##[stop-commands]T is ##[error]bad'),
      ].join('\n'),
    );
    expect(view.annotations).toEqual([]);
    expect(view.masks).toEqual([]);
    expect(view.stoppedAtEnd).toBe(false);
  });

  it('uses the Guid as identity when Exchange returns one', () => {
    expect(identityOf({ Identity: 'Tag', Guid: 'g-1' }, 'Tag')).toBe('g-1');
    expect(identityOf({ Identity: 'Tag' }, 'x')).toBe('Tag');
    expect(identityOf(undefined, 'Tag')).toBe('Tag');
  });
});

describe('diffing an Exchange object', () => {
  it('is a no-op when the tenant matches the declaration', () => {
    expect(
      diffObject(recorded({ Priority: '0', Mode: 'Enforce' }), rule({ Priority: 0, Mode: 'enforce' })),
    ).toEqual({ changes: false, replaces: [], changed: [], deleteBeforeReplace: false });
  });

  it('updates changed and newly declared keys, ignoring what was never declared', () => {
    const diff = diffObject(recorded({ Priority: 0 }), rule({ Priority: 1, Comments: 'x' }));
    expect(diff).toMatchObject({ changes: true, replaces: [], changed: ['Priority', 'Comments'] });
  });

  it('records a key the program stops declaring without touching the tenant', () => {
    expect(diffObject(recorded({ Priority: 0, Comments: 'x' }), rule({ Priority: 0 }))).toEqual({
      changes: true,
      replaces: [],
      changed: [],
      deleteBeforeReplace: false,
    });
  });

  it('replaces on a create-only property (delete first: same name), a new name, noun or tenant', () => {
    const domain = { createOnly: ['DomainName'], noun: 'RemoteDomain' };
    expect(
      diffObject(recorded({ DomainName: 'a.com' }, domain), rule({ DomainName: 'b.com' }, domain)),
    ).toEqual({
      changes: true,
      replaces: ['properties.DomainName'],
      changed: ['DomainName'],
      deleteBeforeReplace: true,
    });
    expect(diffObject(recorded({}), rule({}, { name: 'Other' }))).toMatchObject({
      replaces: ['name'],
      deleteBeforeReplace: false,
    });
    const otherTenant = { connection: { ...connection, tenantId: 'fabrikam.onmicrosoft.com' } };
    expect(diffObject(recorded({}), rule({}, otherTenant)).replaces).toEqual(['connection']);
    // The same tenant written as its GUID: a state update, not a replacement.
    const byGuid = { connection: { ...connection, tenantId: '8c3d2b5e-7a1f-4e6b-9d0c-2f4a6b8e1c3d' } };
    expect(diffObject(recorded({}), rule({}, byGuid))).toMatchObject({ changes: true, replaces: [] });
    expect(diffObject(recorded({}), rule({}, { noun: 'JournalRule' })).replaces).toEqual(['noun']);
  });

  it('passes State to New- as -Enabled and to Enable-/Disable- on a change, for families that switch it so', () => {
    const inputs = rule({ State: 'disabled', Priority: 1 }, { enableCmdlets: true });
    expect(splitForCreate(inputs)).toEqual({ forNew: { Enabled: false, Priority: 1 }, forSet: {} });
    expect(splitForUpdate(inputs, ['State', 'Priority'])).toEqual({
      setKeys: ['Priority'],
      toggle: 'Disable',
    });
    expect(splitForUpdate({ ...inputs, enableCmdlets: false }, ['State'])).toEqual({
      setKeys: ['State'],
      toggle: undefined,
    });
  });

  it('splits create parameters between New- and Set-', () => {
    const inputs = rule({ DomainName: 'a.com', AutoReplyEnabled: true }, { setOnly: ['autoreplyenabled'] });
    expect(splitForCreate(inputs)).toEqual({
      forNew: { DomainName: 'a.com' },
      forSet: { AutoReplyEnabled: true },
    });
  });
});

describe('diffing settings', () => {
  const olds: SettingsOutputs = {
    connection,
    noun: 'OrganizationConfig',
    properties: { AuditDisabled: false },
    before: { AuditDisabled: true },
  };
  it('is a no-op when the values match, an update when one changes, never a replacement for a value', () => {
    expect(
      diffSettings(olds, { connection, noun: 'OrganizationConfig', properties: { AuditDisabled: 'False' } }),
    ).toMatchObject({ changes: false, replaces: [] });
    expect(
      diffSettings(olds, { connection, noun: 'OrganizationConfig', properties: { AuditDisabled: true } }),
    ).toMatchObject({ changes: true, replaces: [], changed: ['AuditDisabled'] });
    expect(
      diffSettings(olds, { connection, noun: 'TransportConfig', properties: { AuditDisabled: false } })
        .replaces,
    ).toEqual(['noun']);
  });
});

describe('checking declarations', () => {
  it('names the property at fault', () => {
    expect(checkNounAndProperties('Transport-Rule', {})).toEqual([
      expect.objectContaining({ property: 'noun' }),
    ]);
    expect(checkNounAndProperties('TransportRule', { Identity: 'x', 'Bad Name': 1, Ok: 1 })).toEqual([
      { property: 'properties.Identity', reason: 'is set by the provider itself and cannot be declared' },
      { property: 'properties.Bad Name', reason: 'is not a cmdlet parameter name' },
    ]);
    expect(checkNounAndProperties('DistributionGroup', { ManagedBy: { Add: 'x' } })[0]?.reason).toMatch(
      /hashtable .* operation, not a state/,
    );
  });

  it('fills the connection from the workload-identity and Pulumi ESC variables, and says what is missing', () => {
    expect(resolveConnection(undefined, { ARM_TENANT_ID: 't.onmicrosoft.com', ARM_CLIENT_ID: 'c' })).toEqual({
      connection: { tenantId: 't.onmicrosoft.com', clientId: 'c' },
      failures: [],
    });
    expect(
      resolveConnection(
        { tenantId: 'mine' },
        { AZURE_TENANT_ID: 'theirs', AZURE_CLIENT_ID: 'c', ARM_CLIENT_ID: 'd' },
      ).connection,
    ).toEqual({ tenantId: 'mine', clientId: 'c' });
    const { failures } = resolveConnection({ tenantID: 'typo' }, {});
    expect(failures.map((f) => f.property)).toEqual([
      'connection.tenantID',
      'connection.tenantId',
      'connection.clientId',
    ]);
    expect(failures[1]?.reason).toBe(
      'is required: set it on the resource or export AZURE_TENANT_ID or ARM_TENANT_ID',
    );
  });

  it("finds the federated token as the CLI does, then in Pulumi ESC's ARM_OIDC_TOKEN", async () => {
    expect(detectPulumiSource({ EXO_FEDERATED_TOKEN: 'a.b.c', ARM_OIDC_TOKEN: 'd.e.f' }).description).toMatch(
      /EXO_FEDERATED_TOKEN/,
    );
    const jwt = 'eyJhbGciOiJub25lIn0.eyJzdWIiOiJwdWx1bWkifQ.c2ln';
    const esc = detectPulumiSource({ ARM_OIDC_TOKEN: jwt });
    expect(esc.description).toMatch(/ARM_OIDC_TOKEN/);
    await expect(esc.getToken('api://AzureADTokenExchange')).resolves.toBe(jwt);
    expect(() => detectPulumiSource({})).toThrow(
      /no ARM_OIDC_TOKEN \(Pulumi ESC azure-login with oidc: true\)/,
    );
  });
});
