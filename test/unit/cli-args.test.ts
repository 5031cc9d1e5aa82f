import { describe, expect, it } from 'vitest';
import { ExoLoginError } from '../../src/core/errors.js';
import { organizationWarning, resolveSettings } from '../../src/core/settings.js';
import { CLI_SETTING_NAMES, parseCli } from '../../src/cli/args.js';
import { resolveSourceKind } from '../../src/core/sources.js';

describe('exo-login command line', () => {
  it('defaults settings to the workload-identity variables, flags winning', () => {
    const env = {
      AZURE_TENANT_ID: 'contoso.onmicrosoft.com',
      AZURE_CLIENT_ID: 'env-client',
      AZURE_AUTHORITY_HOST: 'https://login.microsoftonline.us/',
    };
    const args = parseCli(
      ['token', '--client-id', 'flag-client', '--resource', 'exchange', '--resource', 'graph'],
      env,
    );
    expect(args.command).toBe('token');
    expect(args.settings.tenantId).toBe('contoso.onmicrosoft.com');
    expect(args.settings.clientId).toBe('flag-client');
    // Where each came from: the flag, or the variable it falls back to.
    expect(args.fromVariable).toEqual(['tenantId', 'authorityHost']);
    expect(args.settings.authorityHost).toBe('https://login.microsoftonline.us/');
    expect(args.settings.resources).toEqual(['exchange', 'graph']);
    expect(args.format).toBe('raw');
  });
  it('shows help with no command, for help COMMAND and for --help', () => {
    expect(parseCli([], {}).command).toBe('help');
    expect(parseCli(['help', 'run'], {}).helpFor).toBe('run');
    expect(parseCli(['whoami', '--help'], {}).helpFor).toBe('whoami');
  });
  it('takes scripts as positionals for run', () => {
    const args = parseCli(['run', 'a.ps1', 'checks/*.ps1', '--max-parallel', '4', '--fail-fast'], {});
    expect(args.scripts).toEqual(['a.ps1', 'checks/*.ps1']);
    expect(args.maxParallel).toBe('4');
    expect(args.failFast).toBe(true);
  });
  it('rejects bad flags with a usage error naming them', () => {
    const usage = (argv: string[]) => {
      try {
        parseCli(argv, {});
      } catch (error) {
        expect(error).toBeInstanceOf(ExoLoginError);
        expect((error as ExoLoginError).code).toBe('input');
        return (error as Error).message;
      }
      throw new Error('expected a usage error');
    };
    expect(usage(['frob'])).toMatch(/Unknown command 'frob'/);
    expect(usage(['token', '--nope'])).toMatch(/--nope/);
    expect(usage(['token', '--format', 'yaml'])).toMatch(/^Option --format must be one of raw, json, env/);
    expect(usage(['whoami', '--format', 'env'])).toMatch(/^Option --format must be one of raw, json;/);
    expect(usage(['token', '--resource', 'sharepoint'])).toMatch(/^Option --resource/);
    expect(usage(['token', '--max-parallel', '3'])).toMatch(
      /--max-parallel does not apply to 'exo-login token'/,
    );
    expect(usage(['token', '--source', 'vault'])).toMatch(/--source must be one of auto, github, file, env/);
    expect(usage(['whoami', 'extra'])).toMatch(/Unexpected arguments/);
    // One sentence, one period (issue 9.12).
    expect(usage(['run', '--timeout-minutes', '-1'])).toBe(
      "Option --timeout-minutes needs a value (M); for one that starts with '-', write --timeout-minutes=VALUE. See exo-login --help.",
    );
    expect(usage(['help', 'bogus'])).toMatch(
      /^No help for 'bogus': the commands are token, whoami, run, invoke, help\. See exo-login --help\.$/,
    );
  });
});

describe('federated token source detection', () => {
  const none = { source: 'auto' as const, tokenFile: undefined, tokenEnv: undefined };
  it('prefers explicit flags, then GitHub, then the token file, then EXO_FEDERATED_TOKEN', () => {
    const github = { ACTIONS_ID_TOKEN_REQUEST_URL: 'https://x', ACTIONS_ID_TOKEN_REQUEST_TOKEN: 't' };
    expect(resolveSourceKind({ ...none, tokenFile: '/t' }, github)).toBe('file');
    expect(resolveSourceKind({ ...none, tokenEnv: 'X' }, github)).toBe('env');
    expect(resolveSourceKind(none, { ...github, AZURE_FEDERATED_TOKEN_FILE: '/t' })).toBe('github');
    expect(resolveSourceKind(none, { AZURE_FEDERATED_TOKEN_FILE: '/t', EXO_FEDERATED_TOKEN: 'x' })).toBe(
      'file',
    );
    expect(resolveSourceKind(none, { EXO_FEDERATED_TOKEN: 'x' })).toBe('env');
    expect(resolveSourceKind({ ...none, source: 'github' }, {})).toBe('github');
    expect(() => resolveSourceKind(none, {})).toThrow(/No federated token found/);
  });
});

describe('settings errors name the option and the variable it falls back to', () => {
  const CLIENT = '5f0d7c9a-1b2c-4d3e-8f4a-5b6c7d8e9f0a';
  const resolve = (raw: Partial<Parameters<typeof resolveSettings>[0]>): string => {
    try {
      resolveSettings({ tenantId: 'contoso.onmicrosoft.com', clientId: CLIENT, ...raw }, CLI_SETTING_NAMES);
    } catch (error) {
      return (error as Error).message;
    }
    throw new Error('expected an error');
  };
  it('says which variable also works when a setting is missing', () => {
    expect(resolve({ tenantId: '' })).toMatch(/^Option --tenant-id is required \(or set AZURE_TENANT_ID\): /);
    expect(resolve({ clientId: '' })).toMatch(/^Option --client-id is required \(or set AZURE_CLIENT_ID\): /);
  });
  it('names both places a bad value may come from', () => {
    expect(resolve({ tenantId: 'nope' })).toMatch(
      /^Option --tenant-id \(or AZURE_TENANT_ID\) must be a GUID/,
    );
    expect(resolve({ organization: 'not a domain' })).toMatch(
      /^Option --organization \(or EXO_ORGANIZATION\) /,
    );
  });
  it("refuses another cloud's authority host, naming --environment", () => {
    expect(resolve({ authorityHost: 'https://login.microsoftonline.us/' })).toBe(
      'Option --authority-host (or AZURE_AUTHORITY_HOST) is login.microsoftonline.us, the Entra host of O365USGovGCCHigh and O365USGovDoD, but --environment (or EXO_ENVIRONMENT) is O365Default: set --environment (or EXO_ENVIRONMENT) to one of those, or leave --authority-host (or AZURE_AUTHORITY_HOST) empty.',
    );
    expect(
      resolveSettings(
        {
          tenantId: 'contoso.onmicrosoft.us',
          clientId: CLIENT,
          environment: 'O365USGovDoD',
          authorityHost: 'login.microsoftonline.us',
        },
        CLI_SETTING_NAMES,
      ).authorityHost,
    ).toBe('login.microsoftonline.us');
  });
  it('records where each setting came from, so warnings can say so (issue 9.11)', () => {
    const args = parseCli(['whoami', '--client-id', CLIENT], { AZURE_TENANT_ID: 'contoso.com' });
    const settings = resolveSettings(args.settings, CLI_SETTING_NAMES, args.fromVariable);
    expect(settings.sources).toMatchObject({
      tenantId: 'variable',
      clientId: 'given',
      organization: 'tenant',
      audience: 'default',
    });
    expect(organizationWarning(settings)).toMatch(
      /^organization contoso\.com, taken from the tenant ID, is not an initial \*\.onmicrosoft\.com domain: .*set --organization \(or EXO_ORGANIZATION\) to it/,
    );
  });
  it('takes the environment from EXO_ENVIRONMENT, the flag first', () => {
    const env = {
      EXO_ENVIRONMENT: 'O365USGovGCCHigh',
      AZURE_AUTHORITY_HOST: 'https://login.microsoftonline.us/',
    };
    expect(parseCli(['whoami'], env).settings.environment).toBe('O365USGovGCCHigh');
    expect(parseCli(['whoami', '--environment', 'O365USGovDoD'], env).settings.environment).toBe(
      'O365USGovDoD',
    );
  });
});
