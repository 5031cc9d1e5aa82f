/**
 * The stand-in pwsh is what the worker tests trust to notice a broken contract with PowerShell: each case here
 * breaks one clause (as a regression in src/ would) and the stand-in must refuse it with exit 97.
 */
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { chmod, mkdir, mkdtemp, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { powershellWrapper, workerEnvironment, type WrapperOptions } from '../../src/workers/index.js';
import { BIN, jwt, publicKeyFile, tokensFor, workspace } from '../support/workers.js';

const HOUR = 3_600_000;
const TENANT_ID = '8c3d2b5e-7a1f-4e6b-9d0c-2f4a6b8e1c3d';
const OTHER_TENANT = '11111111-2222-4333-8444-555555555555';
const EXCHANGE = 'https://outlook.office365.com';
const COMPLIANCE = 'https://ps.compliance.protection.outlook.com';
const ARGS = ['-NoLogo', '-NoProfile', '-NonInteractive', '-File'];

interface Bench {
  dir: string;
  temp: string;
  privateDir: string;
  wrapper: string;
  env: NodeJS.ProcessEnv;
  /** The wrapper src/ generates for a.ps1 (with compliance as the bench was made), optionally changed. */
  text: (options?: Partial<WrapperOptions>) => string;
  pwsh: (options?: {
    text?: string;
    env?: NodeJS.ProcessEnv;
    args?: string[];
    mode?: number;
    path?: string;
  }) => Promise<SpawnSyncReturns<string>>;
}

async function bench(compliance = false): Promise<Bench> {
  const dir = await workspace({ 'a.ps1': '# standin: print ran\n' });
  const temp = join(dir, 'tmp');
  const privateDir = join(temp, 'exo-login-test');
  await mkdir(privateDir);
  await chmod(privateDir, 0o700);
  const wrapper = join(privateDir, 'worker-1.ps1');
  const tokens = tokensFor(new Date(Date.now() + HOUR), { compliance });
  const env: NodeJS.ProcessEnv = {
    ...workerEnvironment({ PATH: process.env['PATH'] }, tokens, 'a.ps1'),
    RUNNER_TEMP: temp,
    EXO_STANDIN_PUBLIC_KEY_FILE: await publicKeyFile(dir),
    EXO_STANDIN_TENANT_ID: TENANT_ID,
  };
  const text = (options: Partial<WrapperOptions> = {}): string =>
    powershellWrapper({
      script: join(dir, 'a.ps1'),
      organization: 'contoso.onmicrosoft.com',
      environment: 'O365Default',
      compliance,
      ...options,
    });
  return {
    dir,
    temp,
    privateDir,
    wrapper,
    env,
    text,
    pwsh: async (o = {}) => {
      const path = o.path ?? wrapper;
      await writeFile(path, o.text ?? text(), { mode: 0o600 });
      await chmod(path, o.mode ?? 0o600);
      return spawnSync(join(BIN, 'pwsh'), o.args ?? [...ARGS, path], {
        env: { ...env, ...o.env },
        encoding: 'utf8',
      });
    },
  };
}

/** Moves the line matching `line` before/after the line matching `anchor`. */
function move(text: string, line: RegExp, anchor: RegExp, where: 'before' | 'after'): string {
  const lines = text.split('\n');
  const from = lines.findIndex((l) => line.test(l));
  expect(from, `no line ${line}`).toBeGreaterThanOrEqual(0);
  const [moved] = lines.splice(from, 1);
  const to = lines.findIndex((l) => anchor.test(l));
  expect(to, `no line ${anchor}`).toBeGreaterThanOrEqual(0);
  lines.splice(where === 'before' ? to : to + 1, 0, moved ?? '');
  return lines.join('\n');
}

function edit(text: string, line: RegExp, change: (line: string) => string): string {
  const lines = text.split('\n');
  const at = lines.findIndex((l) => line.test(l));
  expect(at, `no line ${line}`).toBeGreaterThanOrEqual(0);
  lines[at] = change(lines[at] ?? '');
  return lines.join('\n');
}

const CONNECT = /^\s*Connect-ExchangeOnline /;
const IPPS = /^\s*Connect-IPPSSession /;
const SCRIPT = /^\s*& (?:\(\[scriptblock\]::Create\('& \$args\[0\]'\)\) )?'/;
const EAP = /^\$global:ErrorActionPreference/;
const future = (): Date => new Date(Date.now() + HOUR);

function rejects(result: SpawnSyncReturns<string>, message: RegExp): void {
  expect(result.status, result.stdout + result.stderr).toBe(97);
  expect(result.stderr).toMatch(/^pwsh stand-in: contract violated: /);
  expect(result.stderr).toMatch(message);
}

function accepts(result: SpawnSyncReturns<string>): void {
  expect(result.status, result.stderr).toBe(0);
  expect(result.stdout).toBe('ran\n');
}

describe('the stand-in pwsh accepts the wrapper src/ generates', () => {
  it('for Exchange alone, with compliance, with a module version and a quote in the organization', async () => {
    accepts(await (await bench(false)).pwsh());
    const withCompliance = await bench(true);
    accepts(await withCompliance.pwsh());
    accepts(await withCompliance.pwsh({ text: withCompliance.text({ moduleVersion: '3.4.0' }) }));
    const quoted = await bench(false);
    accepts(
      await quoted.pwsh({
        text: quoted.text({ organization: "o'brien.onmicrosoft.com" }),
        env: { EXO_ORGANIZATION: "o'brien.onmicrosoft.com" },
      }),
    );
  });

  it('tolerates (without requiring) sovereign-cloud endpoints on Connect-IPPSSession, and a Graph token', async () => {
    const b = await bench(true);
    const text = edit(
      b.text(),
      IPPS,
      (l) =>
        `${l} -ConnectionUri 'https://ps.compliance.protection.outlook.com/powershell-liveid/' -AzureADAuthorizationEndpointUri 'https://login.microsoftonline.com/organizations'`,
    );
    accepts(await b.pwsh({ text }));
    // What src/ writes for a sovereign cloud, with that cloud's audiences.
    accepts(
      await b.pwsh({
        text: b.text({ environment: 'O365USGovGCCHigh' }),
        env: {
          EXO_ENVIRONMENT: 'O365USGovGCCHigh',
          EXO_ACCESS_TOKEN: jwt(future(), { aud: 'https://outlook.office365.us' }),
          IPPS_ACCESS_TOKEN: jwt(future(), { aud: 'https://ps.compliance.protection.office365.us' }),
        },
      }),
    );
    accepts(
      await b.pwsh({ env: { GRAPH_ACCESS_TOKEN: jwt(future(), { aud: 'https://graph.microsoft.com' }) } }),
    );
  });
});

describe('the stand-in pwsh rejects', () => {
  it('wrong arguments, and GitHub credentials in the environment', async () => {
    const b = await bench();
    rejects(await b.pwsh({ args: ['-NoProfile', '-File', b.wrapper] }), /arguments/);
    rejects(await b.pwsh({ args: [...ARGS.slice(0, 3), '-Command', b.wrapper] }), /arguments/);
    rejects(await b.pwsh({ env: { ACTIONS_RUNTIME_TOKEN: 'x' } }), /GitHub credentials/);
    rejects(await b.pwsh({ env: { ACTIONS_ID_TOKEN_REQUEST_URL: 'https://x' } }), /GitHub credentials/);
  });

  it('a wrapper that is not owner-only, or not in a private directory inside the real RUNNER_TEMP', async () => {
    const b = await bench();
    rejects(await b.pwsh({ mode: 0o644 }), /wrapper mode 644/);
    rejects(await b.pwsh({ mode: 0o640 }), /wrapper mode 640/);
    await chmod(b.privateDir, 0o755);
    rejects(await b.pwsh(), /wrapper directory mode 755, not 700/);
    await chmod(b.privateDir, 0o700);
    rejects(
      await b.pwsh({ env: { RUNNER_TEMP: await mkdtemp(join(tmpdir(), 'exo-other-')) } }),
      /not inside RUNNER_TEMP/,
    );
    rejects(await b.pwsh({ env: { RUNNER_TEMP: b.privateDir } }), /directly in RUNNER_TEMP/);
    rejects(await b.pwsh({ path: join(b.privateDir, 'worker-1.txt') }), /does not end in \.ps1/);
    // A private directory that is really elsewhere: the path is inside RUNNER_TEMP, the real path is not.
    const outside = await mkdtemp(join(tmpdir(), 'exo-outside-'));
    await chmod(outside, 0o700);
    await symlink(outside, join(b.temp, 'exo-login-link'));
    rejects(await b.pwsh({ path: join(b.temp, 'exo-login-link', 'w.ps1') }), /not inside RUNNER_TEMP/);
    // A wrapper that is a link.
    await writeFile(join(outside, 'real.ps1'), b.text(), { mode: 0o600 });
    await symlink(join(outside, 'real.ps1'), join(b.privateDir, 'link.ps1'));
    const linked = spawnSync(join(BIN, 'pwsh'), [...ARGS, join(b.privateDir, 'link.ps1')], {
      env: b.env,
      encoding: 'utf8',
    });
    rejects(linked, /is not a regular file/);
  });

  it('an inline script file that is not owner-only', async () => {
    const b = await bench();
    const inline = join(b.privateDir, 'run.ps1');
    await writeFile(inline, '# standin: print ran\n', { mode: 0o644 });
    await chmod(inline, 0o644);
    rejects(await b.pwsh({ text: b.text({ script: inline }) }), /inline script mode 644/);
    await chmod(inline, 0o600);
    accepts(await b.pwsh({ text: b.text({ script: inline }) }));
  });

  it("$ErrorActionPreference = 'Stop' missing, different, or after Import-Module", async () => {
    const b = await bench();
    rejects(
      await b.pwsh({ text: move(b.text(), EAP, /^Import-Module/, 'after') }),
      /Import-Module comes before/,
    );
    rejects(await b.pwsh({ text: edit(b.text(), EAP, () => '') }), /set 0 times/);
    rejects(await b.pwsh({ text: edit(b.text(), EAP, (l) => `# ${l}`) }), /set 0 times/);
    rejects(
      await b.pwsh({ text: edit(b.text(), EAP, (l) => l.replace("'Stop'", "'Continue'")) }),
      /expected \$global:ErrorActionPreference = 'Stop'/,
    );
    rejects(
      await b.pwsh({ text: edit(b.text(), EAP, (l) => `if ($true) { ${l} }`) }),
      /not set at top level/,
    );
    // Script scope: the EXO cmdlets, functions of a script module, would not see it.
    rejects(
      await b.pwsh({ text: edit(b.text(), EAP, (l) => l.replace('$global:', '$')) }),
      /expected \$global:ErrorActionPreference = 'Stop'/,
    );
  });

  it('Connect-ExchangeOnline outside a try, missing, twice, or without its parameters on the statement', async () => {
    const b = await bench();
    const text = b.text();
    rejects(
      await b.pwsh({ text: move(text, CONNECT, /^try \{$/, 'before') }),
      /not a statement of a try block/,
    );
    rejects(
      await b.pwsh({ text: edit(text, CONNECT, (l) => `  if ($true) { ${l.trim()} }`) }),
      /not a statement of a try/,
    );
    rejects(await b.pwsh({ text: edit(text, CONNECT, (l) => `  # ${l.trim()}`) }), /appears 0 times/);
    rejects(await b.pwsh({ text: edit(text, CONNECT, (l) => `${l}\n${l}`) }), /appears 2 times/);
    rejects(
      await b.pwsh({ text: move(text, CONNECT, /^Import-Module/, 'before') }),
      /comes before Import-Module|not a statement of a try/,
    );
    // On another statement (or a comment) is not on this one.
    rejects(
      await b.pwsh({
        text: edit(text, CONNECT, (l) => `${l.replace(' -ShowBanner:$false', '')} # -ShowBanner:$false`),
      }),
      /Connect-ExchangeOnline lacks -ShowBanner \$false/,
    );
    rejects(
      await b.pwsh({
        text: edit(
          text,
          CONNECT,
          (l) => `${l.replace(' -ShowBanner:$false', '')}; Write-Host -ShowBanner:$false`,
        ),
      }),
      /Connect-ExchangeOnline lacks -ShowBanner/,
    );
    rejects(
      await b.pwsh({
        text: edit(text, CONNECT, (l) => l.replace('$env:EXO_ACCESS_TOKEN', '$env:IPPS_ACCESS_TOKEN')),
      }),
      /Connect-ExchangeOnline lacks -AccessToken \$env:EXO_ACCESS_TOKEN/,
    );
    rejects(
      await b.pwsh({ text: edit(text, CONNECT, (l) => l.replace(/ -ExchangeEnvironmentName '\w+'/, '')) }),
      /lacks -ExchangeEnvironmentName 'O365Default'/,
    );
    rejects(
      await b.pwsh({ env: { EXO_ORGANIZATION: 'fabrikam.onmicrosoft.com' } }),
      /lacks -Organization 'fabrikam\.onmicrosoft\.com'/,
    );
    rejects(
      await b.pwsh({ env: { EXO_ENVIRONMENT: 'O365USGovGCCHigh' } }),
      /lacks -ExchangeEnvironmentName 'O365USGovGCCHigh'/,
    );
  });

  it('the script outside the try or before the connects; Disconnect-ExchangeOnline outside its finally', async () => {
    const b = await bench(true);
    const text = b.text();
    rejects(await b.pwsh({ text: move(text, SCRIPT, CONNECT, 'before') }), /runs before the connects/);
    rejects(await b.pwsh({ text: move(text, SCRIPT, IPPS, 'before') }), /runs before the connects/);
    rejects(await b.pwsh({ text: move(text, SCRIPT, /^exit /, 'before') }), /does not run in/);
    rejects(await b.pwsh({ text: edit(text, SCRIPT, (l) => `${l}\n${l}`) }), /runs 2 scripts/);
    rejects(
      await b.pwsh({
        text: move(text, /Disconnect-ExchangeOnline/, /^\s*\$global:LASTEXITCODE = 0/, 'before'),
      }),
      /Disconnect-ExchangeOnline is not in the finally/,
    );
    rejects(
      await b.pwsh({ text: move(text, /Disconnect-ExchangeOnline/, /^exit /, 'before') }),
      /not in the finally/,
    );
    rejects(
      await b.pwsh({ text: edit(text, /Disconnect-ExchangeOnline/, () => '') }),
      /lacks Disconnect-ExchangeOnline/,
    );
    rejects(
      await b.pwsh({ text: edit(text, /^\} finally \{$/, () => '} catch [System.IO.IOException] {') }),
      /try has no finally/,
    );
    rejects(
      await b.pwsh({
        text: edit(text, /Disconnect-ExchangeOnline/, (l) => l.replace(' -Confirm:$false', '')),
      }),
      /would prompt/,
    );
  });

  it('Connect-IPPSSession exactly when a compliance token came, in the try, with its parameters', async () => {
    const exchangeOnly = await bench(false);
    rejects(
      await exchangeOnly.pwsh({ text: exchangeOnly.text({ compliance: true }) }),
      /Connect-IPPSSession appears 1 times without a compliance token/,
    );
    const b = await bench(true);
    rejects(
      await b.pwsh({ text: b.text({ compliance: false }) }),
      /Connect-IPPSSession appears 0 times with a compliance token/,
    );
    const text = b.text();
    rejects(await b.pwsh({ text: move(text, IPPS, /^try \{$/, 'before') }), /not in the same try/);
    rejects(await b.pwsh({ text: move(text, IPPS, SCRIPT, 'after') }), /runs before the connects/);
    rejects(
      await b.pwsh({ text: edit(text, IPPS, (l) => l.replace(' -ShowBanner:$false', '')) }),
      /Connect-IPPSSession lacks -ShowBanner/,
    );
    rejects(
      await b.pwsh({
        text: edit(text, IPPS, (l) => l.replace('$env:IPPS_ACCESS_TOKEN', '$env:EXO_ACCESS_TOKEN')),
      }),
      /Connect-IPPSSession lacks -AccessToken \$env:IPPS_ACCESS_TOKEN/,
    );
  });

  it("every token's signature, expiry, audience and tenant", async () => {
    const b = await bench(true);
    const forged = (token: string): string => {
      const other = jwt(future());
      return `${token.slice(0, token.lastIndexOf('.'))}${other.slice(other.lastIndexOf('.'))}`;
    };
    const exo = b.env['EXO_ACCESS_TOKEN'] ?? '';
    const ipps = b.env['IPPS_ACCESS_TOKEN'] ?? '';
    rejects(await b.pwsh({ env: { EXO_ACCESS_TOKEN: forged(exo) } }), /EXO_ACCESS_TOKEN signature invalid/);
    rejects(
      await b.pwsh({ env: { IPPS_ACCESS_TOKEN: forged(ipps) } }),
      /IPPS_ACCESS_TOKEN signature invalid/,
    );
    rejects(await b.pwsh({ env: { IPPS_ACCESS_TOKEN: 'not-a-jwt' } }), /IPPS_ACCESS_TOKEN is not a/);
    rejects(
      await b.pwsh({ env: { EXO_ACCESS_TOKEN: jwt(new Date(Date.now() - 1000)) } }),
      /EXO_ACCESS_TOKEN token expired/,
    );
    rejects(
      await b.pwsh({ env: { IPPS_ACCESS_TOKEN: jwt(new Date(Date.now() - 1000), { aud: COMPLIANCE }) } }),
      /IPPS_ACCESS_TOKEN token expired/,
    );
    rejects(
      await b.pwsh({ env: { EXO_ACCESS_TOKEN: jwt(future(), { aud: COMPLIANCE }) } }),
      /EXO_ACCESS_TOKEN aud/,
    );
    rejects(
      await b.pwsh({ env: { IPPS_ACCESS_TOKEN: jwt(future(), { aud: EXCHANGE }) } }),
      /IPPS_ACCESS_TOKEN aud/,
    );
    rejects(
      await b.pwsh({ env: { GRAPH_ACCESS_TOKEN: jwt(future(), { aud: EXCHANGE }) } }),
      /GRAPH_ACCESS_TOKEN aud/,
    );
    rejects(
      await b.pwsh({ env: { EXO_ACCESS_TOKEN: jwt(future(), { tid: OTHER_TENANT }) } }),
      /EXO_ACCESS_TOKEN tid/,
    );
    rejects(
      await b.pwsh({ env: { IPPS_ACCESS_TOKEN: jwt(future(), { aud: COMPLIANCE, tid: OTHER_TENANT }) } }),
      /IPPS_ACCESS_TOKEN tid/,
    );
    rejects(await b.pwsh({ env: { EXO_TENANT_ID: OTHER_TENANT } }), /EXO_TENANT_ID .* expected/);
    rejects(await b.pwsh({ env: { EXO_ACCESS_TOKEN: undefined } }), /EXO_ACCESS_TOKEN is not set/);
    rejects(await b.pwsh({ env: { EXO_STANDIN_PUBLIC_KEY_FILE: undefined } }), /cannot check signatures/);
  });

  it('a token, or its unsigned part, in the wrapper or on its own or its parent’s command line', async () => {
    const b = await bench(true);
    for (const name of ['EXO_ACCESS_TOKEN', 'IPPS_ACCESS_TOKEN']) {
      const token = b.env[name] ?? '';
      rejects(await b.pwsh({ text: `${b.text()}# ${token}\n` }), new RegExp(`${name}: a token is written`));
      const unsigned = token.slice(0, token.lastIndexOf('.'));
      rejects(
        await b.pwsh({ text: `${b.text()}# ${unsigned}\n` }),
        new RegExp(`${name}: a token is written`),
      );
    }
    await b.pwsh(); // writes the wrapper
    const token = b.env['EXO_ACCESS_TOKEN'] ?? '';
    // `sh -c '…' pwsh wrapper TOKEN`: sh stays the parent (the command is not its last), with the token in argv.
    const viaShell = spawnSync(
      'sh',
      [
        '-c',
        '"$0" -NoLogo -NoProfile -NonInteractive -File "$1"; exit $?',
        join(BIN, 'pwsh'),
        b.wrapper,
        token,
      ],
      { env: b.env, encoding: 'utf8' },
    );
    rejects(viaShell, /EXO_ACCESS_TOKEN: a token is on the parent's command line/);
  });
});
