import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * A minimal ExchangeOnlineManagement for the session host's own tests: records connects and disconnects (with a
 * fingerprint of the token) as JSON lines in $env:FAKE_EXO_LOG, and answers Get-ConnectionInformation.
 */
export async function fakeModule(root: string, version = '3.7.2'): Promise<string> {
  const dir = join(root, 'modules', 'ExchangeOnlineManagement', version);
  await mkdir(dir, { recursive: true });
  await writeFile(
    join(dir, 'ExchangeOnlineManagement.psd1'),
    `@{ RootModule = 'ExchangeOnlineManagement.psm1'; ModuleVersion = '${version}'; GUID = 'b5eced50-afa4-455b-847a-d8fb64140a22'; FunctionsToExport = '*' }\n`,
  );
  await writeFile(
    join(dir, 'ExchangeOnlineManagement.psm1'),
    String.raw`
$script:connections = @()
function Write-FakeLog([hashtable] $entry) {
  $entry.pid = $PID
  $entry.time = [DateTimeOffset]::UtcNow.ToUnixTimeMilliseconds()
  Add-Content -LiteralPath $env:FAKE_EXO_LOG -Value ($entry | ConvertTo-Json -Compress)
}
function Get-Fingerprint([string] $token) {
  $sha = [System.Security.Cryptography.SHA256]::Create()
  ([BitConverter]::ToString($sha.ComputeHash([Text.Encoding]::UTF8.GetBytes($token))) -replace '-', '').Substring(0, 16).ToLowerInvariant()
}
function Connect-ExchangeOnline {
  param([string] $AccessToken, [string] $Organization, [string] $ExchangeEnvironmentName, [switch] $ShowBanner)
  if (-not $AccessToken) { throw 'no token' }
  if ($AccessToken -eq 'bad') { throw 'UnAuthorized: the token was refused' }
  if ($env:FAKE_EXO_DELAY_MS) { Start-Sleep -Milliseconds ([int]$env:FAKE_EXO_DELAY_MS) }
  $script:connections = @($script:connections | Where-Object { $_.IsEopSession }) + [pscustomobject]@{ State = 'Connected'; TokenStatus = 'Active'; IsEopSession = $false; Organization = $Organization }
  Write-FakeLog @{ event = 'connect'; fingerprint = (Get-Fingerprint $AccessToken); organization = $Organization }
}
function Connect-IPPSSession {
  param([string] $AccessToken, [string] $Organization, [string] $ConnectionUri, [string] $AzureADAuthorizationEndpointUri, [switch] $ShowBanner)
  $script:connections = @($script:connections | Where-Object { -not $_.IsEopSession }) + [pscustomobject]@{ State = 'Connected'; TokenStatus = 'Active'; IsEopSession = $true }
  Write-FakeLog @{ event = 'connect-ipps'; fingerprint = (Get-Fingerprint $AccessToken) }
}
function Disconnect-ExchangeOnline {
  [CmdletBinding(SupportsShouldProcess, ConfirmImpact = 'High')] param()
  $script:connections = @()
  Write-FakeLog @{ event = 'disconnect' }
}
function Get-ConnectionInformation { $script:connections }
function Get-Mailbox { if (-not @($script:connections | Where-Object { -not $_.IsEopSession }).Count) { throw 'No connection: run Connect-ExchangeOnline first.' }; [pscustomobject]@{ Name = 'fake'; Organization = $script:connections[0].Organization } }
`,
  );
  return join(root, 'modules');
}
