import { spawn } from 'node:child_process';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/main.js';
import type { Emulator } from '../emulator/index.ts';
import { startProxy } from '../emulator/proxy.ts';
import { NO_CLI_TIMEOUT, spawnCli } from '../support/front-ends.ts';
import { useEmulator } from './emulator-fixture.ts';
import { ROOT } from './runner.ts';

const current = useEmulator();
let emulator: Emulator;
beforeEach(() => {
  emulator = current();
});

interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** A clean environment for the CLI: the emulator's CA and workload-identity settings, plus `env`. */
function cliEnvironment(path: string, env: Record<string, string>): Record<string, string> {
  return {
    PATH: path,
    NODE_EXTRA_CA_CERTS: emulator.caFile,
    AZURE_TENANT_ID: emulator.domain,
    AZURE_CLIENT_ID: emulator.clientId,
    AZURE_AUTHORITY_HOST: `https://${emulator.authorityHost}/`,
    ...env,
  };
}

/** The CLI as a real process, with a clean environment: workload-identity variables only where given. */
async function cli(args: string[], env: Record<string, string> = {}): Promise<CliRun> {
  const path = `${join(ROOT, 'test/bin')}:${process.env['PATH'] ?? ''}`;
  const { code, stdout, stderr } = await spawnCli(args, cliEnvironment(path, env), NO_CLI_TIMEOUT).ended;
  return { code, stdout, stderr };
}

const github = (): Record<string, string> => ({
  ACTIONS_ID_TOKEN_REQUEST_URL: emulator.oidcRequestUrl,
  ACTIONS_ID_TOKEN_REQUEST_TOKEN: emulator.oidcRequestToken,
});

describe('exo-login CLI', () => {
  it('prints the token alone for piping, masking it on stderr inside GitHub Actions', async () => {
    const run = await cli(['token'], { ...github(), GITHUB_ACTIONS: 'true' });
    expect(run.code, run.stderr).toBe(0);
    const token = run.stdout.trim();
    expect(run.stdout).toBe(`${token}\n`);
    expect(emulator.verifyAccessToken(token)['aud']).toBe('https://outlook.office365.com');
    expect(run.stderr).toContain(`::add-mask::${token}\n`);
    expect(run.stderr.split(`::add-mask::${token}\n`).join('')).not.toContain(token);
    expect(emulator.counts()).toEqual({ oidc: 1, token: 1, discovery: 0, other: 0 });
  });

  it('reads a workload-identity token file (AZURE_FEDERATED_TOKEN_FILE) and prints JSON', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'exo-cli-'));
    const file = join(dir, 'azure-identity-token');
    await writeFile(file, emulator.mintIdToken());
    const run = await cli(
      ['token', '--format', 'json', '--resource', 'exchange', '--resource', 'compliance'],
      {
        AZURE_FEDERATED_TOKEN_FILE: file,
      },
    );
    expect(run.code, run.stderr).toBe(0);
    const json = JSON.parse(run.stdout) as {
      accessToken: string;
      expiresOn: string;
      tenantId: string;
      tokens: Record<string, { accessToken: string; resource: string }>;
    };
    expect(emulator.verifyAccessToken(json.accessToken)['aud']).toBe('https://outlook.office365.com');
    expect(json.tenantId).toBe(emulator.tenantId);
    expect(json.tokens['compliance']?.resource).toBe('https://ps.compliance.protection.outlook.com');
    expect(new Date(json.expiresOn).getTime()).toBeGreaterThan(Date.now());
    expect(emulator.counts()).toEqual({ oidc: 0, token: 2, discovery: 0, other: 0 });
    expect(run.stderr).not.toContain('::add-mask::');
  });

  it('reads a token from an environment variable (GitLab id_tokens) and prints env lines', async () => {
    const run = await cli(['token', '--format', 'env', '--token-env', 'GITLAB_OIDC_TOKEN'], {
      GITLAB_OIDC_TOKEN: emulator.mintIdToken(),
    });
    expect(run.code, run.stderr).toBe(0);
    const lines = Object.fromEntries(
      run.stdout
        .trim()
        .split('\n')
        .map((l) => l.split(/=(.*)/s).slice(0, 2) as [string, string]),
    );
    expect(Object.keys(lines)).toEqual([
      'EXO_ACCESS_TOKEN',
      'EXO_ORGANIZATION',
      'EXO_TENANT_ID',
      'EXO_ENVIRONMENT',
      'EXO_EXPIRES_ON',
    ]);
    emulator.verifyAccessToken(lines['EXO_ACCESS_TOKEN'] ?? '');
  });

  it('whoami prints claims, never tokens', async () => {
    const run = await cli(['whoami', '--format', 'json'], github());
    expect(run.code, run.stderr).toBe(0);
    const who = JSON.parse(run.stdout) as {
      federatedToken: { subject: string };
      resources: { roles: string[]; appId: string }[];
      tenantId: string;
    };
    expect(who.federatedToken.subject).toBe('repo:octo-org/exo-audit:ref:refs/heads/main');
    expect(who.resources[0]?.roles).toEqual(['Exchange.ManageAsApp']);
    expect(who.resources[0]?.appId).toBe(emulator.clientId);
    expect(run.stdout).not.toMatch(/eyJ[\w-]+\.eyJ/);
    const text = await cli(['whoami'], github());
    expect(text.stdout).toMatch(
      /^federated token: from GitHub Actions OIDC\n +issuer https:\/\/token\.actions\.githubusercontent\.com$/m,
    );
    expect(text.stdout).toMatch(/^exchange: +app 5f0d7c9a-.*roles Exchange\.ManageAsApp, expires /m);
  });

  it('goes through HTTPS_PROXY like the action', async () => {
    const proxy = await startProxy({ credentials: 'ci:Pr0xySecret' });
    try {
      const run = await cli(['whoami'], { ...github(), HTTPS_PROXY: proxy.url });
      expect(run.code, run.stderr).toBe(0);
      expect(proxy.tunnels.map((t) => [t.target, t.status])).toContainEqual([
        `localhost:${emulator.port}`,
        200,
      ]);
      expect(emulator.counts()).toEqual({ oidc: 1, token: 1, discovery: 0, other: 0 });
    } finally {
      await proxy.close();
    }
  });

  it('explains Entra errors as clearly as the action, exit code 1', async () => {
    emulator.idToken = { ...emulator.idToken, subject: 'repo:octo-org/other:ref:refs/heads/main' };
    const run = await cli(['token'], github());
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain('AADSTS700213');
    expect(run.stderr).toContain("subject 'repo:octo-org/other:ref:refs/heads/main'");
  });

  it('exits 2 for bad flags and settings, sending nothing', async () => {
    const bad = await cli(['token', '--format', 'yaml'], github());
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/exo-login: option --format must be one of raw, json, env/);
    const tenant = await cli(['whoami', '--tenant-id', 'nope'], github());
    expect(tenant.code).toBe(2);
    expect(tenant.stderr).toMatch(/exo-login: option --tenant-id \(or AZURE_TENANT_ID\) must be a GUID/);
    const missing = await cli(['whoami'], { ...github(), AZURE_TENANT_ID: '' });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/^exo-login: option --tenant-id is required \(or set AZURE_TENANT_ID\): /);
    const none = await cli(['whoami'], {});
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/^exo-login: no federated token found/);
    const raw = await cli(['token', '--resource', 'exchange', '--resource', 'graph'], github());
    expect(raw.code).toBe(2);
    const run = await cli(['run', '--max-parallel', '0', 'x.ps1'], github());
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/exo-login: option --max-parallel must be a whole number/);
    expect(emulator.counts()).toEqual({ oidc: 0, token: 0, discovery: 0, other: 0 });
  });

  it("refuses an authority host of another cloud than --environment's, sending nothing", async () => {
    const run = await cli(['token'], {
      ...github(),
      AZURE_AUTHORITY_HOST: 'https://login.microsoftonline.us/',
    });
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(
      /exo-login: option --authority-host \(or AZURE_AUTHORITY_HOST\) is login\.microsoftonline\.us, the Entra host of O365USGovGCCHigh and O365USGovDoD, but --environment \(or EXO_ENVIRONMENT\) is O365Default: set --environment \(or EXO_ENVIRONMENT\) to one of those/,
    );
    expect(emulator.counts()).toEqual({ oidc: 0, token: 0, discovery: 0, other: 0 });
  });

  it("prints package.json's version", async () => {
    const { version } = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    const run = await cli(['--version']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toBe(`${version}\n`);
  });

  it('has help for every command', async () => {
    for (const args of [['--help'], ['help', 'token'], ['run', '--help'], ['whoami', '-h']]) {
      const run = await cli(args);
      expect(run.code).toBe(0);
      expect(run.stdout).toContain('Exit codes:');
    }
  });

  it('runs workers like the action', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'exo-cli-run-'));
    await writeFile(join(dir, 'a.ps1'), '# standin: print from a');
    await writeFile(join(dir, 'b.sh'), 'echo "b sees $EXO_ORGANIZATION"');
    // --no-reuse-sessions: the JavaScript imitation of pwsh speaks no session protocol (see sessions.test.ts).
    const run = await cli(['run', '--no-reuse-sessions', '--working-directory', dir, '*.ps1', 'b.sh'], {
      ...github(),
      EXO_STANDIN_PUBLIC_KEY_FILE: emulator.accessTokenPublicKeyFile,
    });
    expect(run.code, run.stderr + run.stdout).toBe(0);
    expect(run.stdout).toContain('from a');
    expect(run.stdout).toContain('b sees contoso.onmicrosoft.com');
    expect(run.stderr).toMatch(/^success +a\.ps1 \(exit 0\)/m);
  });

  it('run: checks the scripts, directory and organization before sending anything (exit 2)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'exo-cli-run-'));
    await writeFile(join(dir, 'a.ps1'), '');
    const cases: [string[], Record<string, string>, RegExp][] = [
      [
        ['run', '--working-directory', dir, 'missing/*.ps1'],
        {},
        /exo-login: argument SCRIPT: 'missing\/\*\.ps1' matches no file/,
      ],
      [
        ['run', '--working-directory', join(dir, 'nope'), 'a.ps1'],
        {},
        /exo-login: option --working-directory must be an existing directory/,
      ],
      [
        ['run', '--working-directory', dir, '--tenant-id', emulator.tenantId, 'a.ps1'],
        {},
        /exo-login: option --organization \(or EXO_ORGANIZATION\) is needed for PowerShell workers/,
      ],
    ];
    for (const [argv, env, pattern] of cases) {
      const run = await cli(argv, { ...github(), ...env });
      expect(run.code, run.stderr).toBe(2);
      expect(run.stderr).toMatch(pattern);
    }
    expect(emulator.counts()).toEqual({ oidc: 0, token: 0, discovery: 0, other: 0 });
  });
});

describe('exo-login CLI messages (issue 9.12)', () => {
  /** Every line the CLI wrote to stderr that is a message (not a worker's output or a result row). */
  const messages = (stderr: string): string[] =>
    stderr.split('\n').filter((l) => l !== '' && !l.startsWith('::'));

  it('one prefix and a lower-case start for every message, one period at the end', async () => {
    const runs = await Promise.all([
      cli(['run', '--timeout-minutes', '-1', 'x.ps1']),
      cli(['run'], github()),
      cli(['frob']),
      cli(['token', '--tenant-id', 'nope'], github()),
      cli(['whoami'], {}),
    ]);
    for (const run of runs) {
      expect(run.code, run.stderr).toBe(2);
      for (const line of messages(run.stderr)) {
        expect(line).toMatch(/^exo-login: [a-z'-]/);
        expect(line).not.toMatch(/(?<!\.)\.\.(?!\.)|exo-login: exo-login|exo-login [a-z]+: /);
      }
    }
    const [timeout, noScript] = runs;
    expect(timeout.stderr).toBe(
      "exo-login: option --timeout-minutes needs a value (M); for one that starts with '-', write --timeout-minutes=VALUE. See exo-login --help.\n",
    );
    expect(noScript.stderr).toMatch(/^exo-login: 'run' needs at least one script or glob/);
  });

  it('help for an unknown command is an error (exit 2), not the main help', async () => {
    const run = await cli(['help', 'bogus']);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(
      /^exo-login: no help for 'bogus': the commands are token, whoami, run, invoke, help\./,
    );
  });

  it('--shard gives a command-line example, not a workflow expression', async () => {
    const run = await cli(['run', '--shard', '5/4', 'x.ps1'], github());
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^exo-login: option --shard must be i\/n .*e\.g\. 2\/4/);
    expect(run.stderr).not.toContain('matrix');
  });

  it('reports a missing pwsh once', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'exo-cli-nopwsh-'));
    await writeFile(join(dir, 'a.ps1'), '# standin: print from a');
    const run = await cli(['run', '--working-directory', dir, 'a.ps1'], {
      ...github(),
      PATH: dirname(process.execPath),
    });
    expect(run.code).toBe(1);
    expect(run.stderr.match(/pwsh not found on PATH/g), run.stderr).toHaveLength(1);
  });

  it('a wrong --audience is pointed at the flag, with no command to create a credential for it', async () => {
    const run = await cli(['token', '--audience', 'api://custom'], github());
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('AADSTS700212');
    expect(run.stderr).toContain(
      "That audience was set with --audience; federated credentials normally use api://AzureADTokenExchange. Leave --audience unset, unless the app's credential was made for 'api://custom'.",
    );
    expect(run.stderr).not.toContain('az ad app federated-credential create --id');
  });

  it('the az command, when given, ends the message: no sentence runs on from it', async () => {
    emulator.idToken = { ...emulator.idToken, subject: 'repo:octo-org/other:ref:refs/heads/main' };
    const run = await cli(['token'], github());
    expect(run.code).toBe(1);
    expect(run.stderr.trimEnd()).toMatch(
      /To add it \(bash\): az ad app federated-credential create .*\]\}'$/,
    );
  });

  it('--debug prints the stack of a failure, prefixed, after nothing else changes', async () => {
    emulator.injectFaults('token', [{ kind: 'answer', body: { access_token: 42, expires_in: 3599 } }]);
    const plain = await cli(['token'], github());
    emulator.injectFaults('token', [{ kind: 'answer', body: { access_token: 42, expires_in: 3599 } }]);
    const debug = await cli(['token', '--debug'], github());
    expect(plain.code).toBe(1);
    expect(debug.code).toBe(1);
    expect(plain.stderr).not.toContain('exo-login: debug:');
    expect(debug.stderr).toMatch(/^exo-login: debug: ExoLoginError: Entra ID at .*malformed answer/m);
    expect(debug.stderr).toMatch(/^exo-login: debug: +at /m);
    expect(debug.stderr).toContain(plain.stderr.trim());
  });

  it('under RUNNER_DEBUG=1 in GitHub Actions the stack goes to ::debug::, one command', async () => {
    emulator.injectFaults('token', [{ kind: 'answer', body: { access_token: 42, expires_in: 3599 } }]);
    const run = await cli(['token'], { ...github(), GITHUB_ACTIONS: 'true', RUNNER_DEBUG: '1' });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^::debug::ExoLoginError: Entra ID at .*malformed answer.*%0A +at /m);
    expect(run.stderr).not.toContain('exo-login: debug:');
  });
});

describe('exo-login help per command (issue 15.5)', () => {
  it("shows the command, its own options and the settings it uses, and no other command's", async () => {
    const token = await cli(['help', 'token']);
    const run = await cli(['run', '--help']);
    expect(token.code).toBe(0);
    expect(token.stdout).toMatch(/^Usage: exo-login token /);
    expect(token.stdout).toContain('--force');
    expect(token.stdout).toContain('--tenant-id ID');
    expect(token.stdout).not.toContain('--max-parallel');
    expect(token.stdout).not.toContain('Examples:');
    expect(run.stdout).toMatch(/^Usage: exo-login run /);
    expect(run.stdout).toContain('--max-parallel N');
    expect(run.stdout).not.toMatch(/^ {2}--force/m);
    const overview = await cli(['--help']);
    expect(overview.stdout).toContain('exo-login run [options] SCRIPT_OR_GLOB...');
    expect(overview.stdout).toContain('Examples:');
  });
});

describe('exo-login CLI: where the federated token comes from', () => {
  it('--token-file wins over GitHub Actions, and the token file variable is read when nothing else applies', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'exo-cli-src-'));
    const file = join(dir, 'token');
    await writeFile(file, emulator.mintIdToken());
    const flag = await cli(['whoami', '--format', 'json', '--token-file', file], github());
    expect(flag.code, flag.stderr).toBe(0);
    expect(JSON.parse(flag.stdout)).toMatchObject({ source: `token file ${file}` });
    expect(emulator.counts().oidc).toBe(0);
    // GitHub Actions' variables come before AZURE_FEDERATED_TOKEN_FILE in auto-detection.
    const both = await cli(['whoami', '--format', 'json'], {
      ...github(),
      AZURE_FEDERATED_TOKEN_FILE: file,
    });
    expect(both.code, both.stderr).toBe(0);
    expect(JSON.parse(both.stdout)).toMatchObject({ source: 'GitHub Actions OIDC' });
    expect(emulator.counts().oidc).toBe(1);
  });

  it('reads EXO_FEDERATED_TOKEN by default, and --source chooses against auto-detection', async () => {
    const plain = await cli(['token'], { EXO_FEDERATED_TOKEN: emulator.mintIdToken() });
    expect(plain.code, plain.stderr).toBe(0);
    emulator.verifyAccessToken(plain.stdout.trim());
    const chosen = await cli(['token', '--source', 'env'], {
      ...github(),
      EXO_FEDERATED_TOKEN: emulator.mintIdToken(),
    });
    expect(chosen.code, chosen.stderr).toBe(0);
    emulator.verifyAccessToken(chosen.stdout.trim());
    expect(emulator.counts()).toEqual({ oidc: 0, token: 2, discovery: 0, other: 0 });
  });

  it('exits 2 when the chosen source has no token or two sources are named, sending nothing', async () => {
    const outside = await cli(['token', '--source', 'github'], {});
    expect(outside.code).toBe(2);
    expect(outside.stderr).toMatch(/id-token: write/);
    const unset = await cli(['token', '--source', 'env'], {});
    expect(unset.code).toBe(2);
    expect(unset.stderr).toMatch(/EXO_FEDERATED_TOKEN .*empty or unset/);
    const missing = await cli(['token', '--token-file', '/nonexistent/token'], {});
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/'\/nonexistent\/token' \(ENOENT\)\. Check --token-file and/);
    const two = await cli(['token', '--token-file', '/x', '--token-env', 'Y'], github());
    expect(two.code).toBe(2);
    expect(two.stderr).toMatch(/exo-login: option --token-file and --token-env name two federated tokens/);
    const disagree = await cli(['token', '--source', 'github', '--token-env', 'Y'], github());
    expect(disagree.code).toBe(2);
    expect(disagree.stderr).toMatch(/exo-login: option --source github does not read --token-env/);
    expect(emulator.counts()).toEqual({ oidc: 0, token: 0, discovery: 0, other: 0 });
  });
});

describe('exo-login CLI on a real terminal', () => {
  /** Runs the CLI with its stdout on a pseudo-terminal, through util-linux script(1). */
  function onTerminal(args: string[], env: Record<string, string>): Promise<CliRun> {
    const command = [process.execPath, join(ROOT, 'bin/exo-login.js'), ...args]
      .map((a) => `'${a}'`)
      .join(' ');
    const child = spawn('script', ['-qec', command, '/dev/null'], {
      env: cliEnvironment(process.env['PATH'] ?? '', env),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr: '' })));
  }

  it('refuses to print a token to a terminal (exit 3, nothing sent), and prints it with --force', async () => {
    const refused = await onTerminal(['token'], github());
    expect(refused.code, refused.stdout).toBe(3);
    expect(refused.stdout).toMatch(/refusing to print a token to a terminal/);
    expect(refused.stdout).not.toMatch(/eyJ/);
    expect(emulator.counts()).toEqual({ oidc: 0, token: 0, discovery: 0, other: 0 });
    const forced = await onTerminal(['token', '--force'], github());
    expect(forced.code, forced.stdout).toBe(0);
    emulator.verifyAccessToken(forced.stdout.trim());
  });
});

describe('exo-login CLI in-process', () => {
  it('refuses to print a token to a terminal without --force, before any request', async () => {
    let stdout = '';
    let stderr = '';
    const io = {
      stdout: { isTTY: true, write: (t: string) => (stdout += t) },
      stderr: { write: (t: string) => (stderr += t) },
      env: {
        ...github(),
        AZURE_TENANT_ID: emulator.domain,
        AZURE_CLIENT_ID: emulator.clientId,
        AZURE_AUTHORITY_HOST: emulator.authorityHost,
      },
      version: () => 'test',
    };
    expect(await runCli(['token'], io)).toBe(3);
    expect(stdout).toBe('');
    expect(stderr).toMatch(/refusing to print a token to a terminal/);
    expect(emulator.counts().oidc).toBe(0);
    expect(await runCli(['token', '--force'], io)).toBe(0);
    emulator.verifyAccessToken(stdout.trim());
  });
});
