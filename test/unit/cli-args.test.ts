import { describe, expect, it } from 'vitest';
import { ExoLoginError } from '../../src/core/errors.js';
import { parseCli } from '../../src/cli/args.js';
import { resolveSourceKind } from '../../src/cli/source.js';

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
    expect(args.tenantId).toBe('contoso.onmicrosoft.com');
    expect(args.clientId).toBe('flag-client');
    expect(args.authorityHost).toBe('https://login.microsoftonline.us/');
    expect(args.resources).toBe('exchange,graph');
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
