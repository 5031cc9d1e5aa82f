/**
 * The stand-in ExchangeOnlineManagement module itself, under real pwsh against the emulator's admin API: what it
 * sends (the module's headers, paging with one anchor and request id, parameter encoding) and how it behaves
 * (cmdlets exist only after a connect, errors, retries, redirects, disconnect). One pwsh process per case group:
 * each start costs most of a second.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeEach, expect, it } from 'vitest';
import type { Emulator } from '../emulator/index.ts';
import { useEmulator } from '../integration/emulator-fixture.ts';
import { describePwsh, standinModuleEnv, type RealPwsh } from '../support/pwsh.ts';

const current = useEmulator();
let emulator: Emulator;
beforeEach(() => {
  emulator = current();
});

const dirs: string[] = [];
afterAll(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

/** Runs `script` under real pwsh; its last stdout line is JSON (what the script found), returned parsed. */
async function runPwsh(
  pwsh: RealPwsh,
  script: string,
  env: Record<string, string>,
): Promise<{ code: number | null; result: Record<string, unknown>; stdout: string; stderr: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'exo-module-'));
  dirs.push(dir);
  const file = join(dir, 'check.ps1');
  await writeFile(file, script);
  const child = spawn(pwsh.path, ['-NoLogo', '-NoProfile', '-NonInteractive', '-File', file], {
    cwd: dir,
    env: {
      HOME: process.env['HOME'] ?? dir,
      ...standinModuleEnv(pwsh, {
        caFile: emulator.caFile,
        moduleLog: join(dir, 'module.log'),
        tempDir: dir,
      }),
      EXO_URL: emulator.exchange.url,
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  const last = stdout.trim().split('\n').at(-1) ?? '';
  let result: Record<string, unknown> = {};
  try {
    result = JSON.parse(last) as Record<string, unknown>;
  } catch {
    // The assertions below show stdout and stderr.
  }
  return { code, result, stdout, stderr };
}

describePwsh('the stand-in ExchangeOnlineManagement module under real pwsh', (pwsh: RealPwsh) => {
  it('generates its cmdlets at connect, pages with one anchor and request id, encodes parameters, retries and disconnects', async () => {
    emulator.exchange.organization().seedMailboxes(2400);
    emulator.exchange.injectFaults([
      {
        kind: 'status',
        status: 429,
        body: 'concurrency',
        retryAfterSeconds: 0.1,
        cmdlet: 'Get-AcceptedDomain',
      },
    ]);
    const token = emulator.exchange.mintToken();
    const run = await runPwsh(
      pwsh,
      String.raw`
$ErrorActionPreference = 'Stop'
$r = [ordered]@{}
Import-Module ExchangeOnlineManagement
$r.before = try { Get-Mailbox | Out-Null; 'ran' } catch { $_.FullyQualifiedErrorId }
$r.beforeExo = try { Get-EXOMailbox | Out-Null; 'ran' } catch { $_.Exception.Message }
Connect-ExchangeOnline -AccessToken $env:TOKEN -Organization contoso.onmicrosoft.com -ConnectionUri "$env:EXO_URL/powershell-liveid/" -ShowBanner:$false -CommandName Get-Mailbox, Set-Mailbox, Get-AcceptedDomain, '*-TransportRule' -PageSize 1000
$r.commands = @(Get-Command -Module 'tmpEXO_*' | ForEach-Object Name | Sort-Object)
$all = @(Get-Mailbox -ResultSize Unlimited)
$r.unlimited = $all.Count
$r.annotations = @($all[0].PSObject.Properties.Name | Where-Object { $_.Contains('@') }).Count
$r.default = @(Get-Mailbox -WarningVariable w -WarningAction SilentlyContinue).Count
$r.defaultWarning = "$w"
$r.exo = @(Get-EXOMailbox -ResultSize 3).Count
Set-Mailbox -Identity $all[0].Identity -EmailAddresses @{ Add = 'smtp:extra@contoso.onmicrosoft.com' } -Confirm:$false
$r.added = @((Get-Mailbox -Identity $all[0].Identity).EmailAddresses) -contains 'smtp:extra@contoso.onmicrosoft.com'
Set-Mailbox -Identity $all[0].Identity -EmailAddresses @{ Add = 'smtp:extra@contoso.onmicrosoft.com' } -WarningVariable nochange -WarningAction SilentlyContinue -Confirm:$false
$r.noChange = "$nochange"
New-TransportRule -Name 'Block exe' -Mode Enforce -Confirm:$false | Out-Null
$r.duplicate = try { New-TransportRule -Name 'Block exe' -Confirm:$false | Out-Null; 'created twice' } catch { $_.Exception.Message }
$r.missing = try { Get-Mailbox -Identity 'nobody@contoso.onmicrosoft.com' | Out-Null; 'found' } catch { "$($_.InvocationInfo.MyCommand.Name): $($_.Exception.Message)" }
$r.domains = @(Get-AcceptedDomain).Count
$info = Get-ConnectionInformation
$r.info = @{ State = $info.State; TenantID = $info.TenantID; Organization = $info.Organization; TokenStatus = $info.TokenStatus; ConnectionUri = $info.ConnectionUri }
Disconnect-ExchangeOnline -Confirm:$false
$r.after = @(Get-ConnectionInformation).Count
$r.afterCommand = $null -eq (Get-Command Get-Mailbox -ErrorAction SilentlyContinue)
$r | ConvertTo-Json -Compress -Depth 4
`,
      { TOKEN: token },
    );
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(run.result).toMatchObject({
      // Like the real module: no Get-Mailbox before a connection, the command does not exist yet.
      before: 'CommandNotFoundException',
      beforeExo: 'No active Exchange Online connection. Run Connect-ExchangeOnline before Get-EXOMailbox.',
      commands: [
        'Disable-TransportRule',
        'Enable-TransportRule',
        'Get-AcceptedDomain',
        'Get-Mailbox',
        'Get-TransportRule',
        'New-TransportRule',
        'Remove-TransportRule',
        'Set-Mailbox',
        'Set-TransportRule',
      ],
      unlimited: 2400,
      annotations: 0,
      default: 1000,
      defaultWarning:
        'There are more results available than are currently displayed. To view them, increase the value for the ResultSize parameter.',
      exo: 3,
      added: true,
      duplicate: expect.stringMatching(/already exists/) as unknown,
      missing: expect.stringMatching(
        /^Write-ErrorMessage: .*ManagementObjectNotFoundException.*couldn't be found/,
      ) as unknown,
      domains: 1,
      info: {
        State: 'Connected',
        TenantID: emulator.tenantId,
        Organization: 'contoso.onmicrosoft.com',
        TokenStatus: 'Active',
        ConnectionUri: `${emulator.exchange.url}/powershell-liveid/`,
      },
      after: 0,
      afterCommand: true,
    });
    expect(String(run.result['noChange'])).toMatch(/modified/);
    const requests = emulator.exchange.requests;
    // The connect: EXOModuleFile with the CommandName header, one connection id for everything after.
    const moduleFile = requests.find((r) => r.kind === 'moduleFile');
    expect(moduleFile?.headers['commandname']).toBe(
      'Get-Mailbox,Set-Mailbox,Get-AcceptedDomain,*-TransportRule',
    );
    const connectionIds = new Set(requests.map((r) => r.headers['connection-id']));
    expect(connectionIds.size).toBe(1);
    // Unlimited over 2400 rows: three pages, each with the first page's anchor and client-request-id.
    const unlimited = requests.filter(
      (r) => r.cmdlet === 'Get-Mailbox' && JSON.stringify(r.parameters).includes('Unlimited'),
    );
    expect(unlimited.map((r) => r.status)).toEqual([200, 200, 200]);
    expect(new Set(unlimited.map((r) => r.anchor)).size).toBe(1);
    expect(new Set(unlimited.map((r) => r.headers['client-request-id'])).size).toBe(1);
    for (const r of requests) {
      expect(r.headers['x-clientapplication']).toBe('ExoManagementModule');
      expect(r.bearer).toBe(true);
    }
    // The 429 was retried after its Retry-After, with the same request id.
    const domains = requests.filter((r) => r.cmdlet === 'Get-AcceptedDomain');
    expect(domains.map((r) => r.status)).toEqual([429, 200]);
    expect(domains[0]?.headers['client-request-id']).toBe(domains[1]?.headers['client-request-id']);
    // The hashtable went out tagged as Exchange.GenericHashTable.
    const set = requests.find((r) => r.cmdlet === 'Set-Mailbox');
    expect(JSON.stringify(set?.parameters)).toContain('#Exchange.GenericHashTable');
  }, 60_000);

  it('refuses a token the service refuses at connect, follows a regional redirect, and sends no token to another host', async () => {
    const refused = emulator.exchange.mintToken({ roles: [] });
    const good = emulator.exchange.mintToken();
    const script = (token: string) => String.raw`
$r = [ordered]@{}
try {
  Connect-ExchangeOnline -AccessToken $env:${token} -Organization contoso.onmicrosoft.com -ConnectionUri "$env:EXO_URL/powershell-liveid/" -ShowBanner:$false -ErrorAction Stop
  $r.connected = $true
  $r.rows = @(Get-OrganizationConfig).Count
  $r.host = (Get-ConnectionInformation).ConnectionUri
} catch { $r.error = $_.Exception.Message }
$r | ConvertTo-Json -Compress
`;
    const noRole = await runPwsh(pwsh, script('REFUSED'), { REFUSED: refused });
    expect(noRole.result['error']).toMatch(
      /^Connect-ExchangeOnline failed: the service refused the access token: HTTP 401/,
    );
    emulator.exchange.redirect = { to: 'regional' };
    const regional = await runPwsh(pwsh, script('GOOD'), { GOOD: good });
    expect(regional.result, regional.stderr).toMatchObject({ connected: true, rows: 1 });
    expect(emulator.exchange.requests.some((r) => r.status === 302 || r.status === 307)).toBe(true);
    emulator.reset();
    emulator.exchange.redirect = { to: 'foreign' };
    const foreign = await runPwsh(pwsh, script('GOOD'), { GOOD: good });
    expect(foreign.result['error']).toMatch(/outside localhost's domain: not sending the token there/);
    expect(emulator.exchange.requests.filter((r) => r.bearer && r.host !== 'exchange')).toEqual([]);
  }, 60_000);
});
