# The stand-in ExchangeOnlineManagement module, the RootModule of each version's manifest under modules/. Tests only:
# the real module comes from the PowerShell Gallery, which these machines cannot reach (its licence is Microsoft's).
#
# Its public surface follows Microsoft's reference pages for Connect-ExchangeOnline, Connect-IPPSSession,
# Disconnect-ExchangeOnline and Get-ConnectionInformation: the same parameter names (most accepted and ignored).
# Like the real module (v3, REST), Connect-* generates a temporary module (tmpEXO_*.psm1 in the temp directory)
# holding the tenant's cmdlets (Get-Mailbox, Set-Mailbox, Get-TransportRule, …), imported globally; before a
# connection those cmdlets do not exist. Each cmdlet is one POST {base}/adminapi/beta/{tenant}/InvokeCommand with the
# connection's token, paging through @odata.nextLink with the same body and headers, as the module does
# (../../../shared/docs/exchange-admin-api.md). Only -AccessToken sign-in is supported.
#
# Test hooks (environment variables, set by tests only):
#   EXO_STANDIN_MODULE_LOG       file to which one JSON line per connect, disconnect and cmdlet call is appended
#   EXO_STANDIN_CONNECT_DELAY_MS what the real connect's module generation costs (default 0)
#   EXO_STANDIN_RETRY_BASE_MS    first retry delay when the service gives no Retry-After (default 2000, as the module)
# The emulator's HTTPS certificate is trusted through SSL_CERT_FILE (.NET on Linux reads it), set by the tests.

Set-StrictMode -Version 3.0

$script:Connections = [System.Collections.Generic.List[object]]::new()
$script:Http = $null

$script:EnvironmentHosts = @{
    O365Default      = 'outlook.office365.com'
    O365USGovGCCHigh = 'outlook.office365.us'
    O365USGovDoD     = 'outlook-dod.office365.us'
    O365China        = 'partner.outlook.cn'
    O365GermanyCloud = 'outlook.office.de'
}

# The parameters of the cmdlets a connection may generate (a trailing '!' marks a switch). Which cmdlets are
# generated is the service's answer to EXOModuleFile, as in the real module; one not listed here gets Identity and
# Name only. (The real module takes the parameters from the service too; this is a small part of them.)
$script:CmdletParameters = @{
    'Get-Mailbox'                   = 'Identity ResultSize Filter Anr RecipientTypeDetails SoftDeletedMailbox! InactiveMailboxOnly! IncludeInactiveMailbox! Archive! PropertySets Properties'
    'Set-Mailbox'                   = 'Identity AuditEnabled AuditOwner AuditDelegate AuditAdmin DisplayName ForwardingSmtpAddress DeliverToMailboxAndForward LitigationHoldEnabled RetentionPolicy EmailAddresses HiddenFromAddressListsEnabled ProhibitSendQuota ProhibitSendReceiveQuota IssueWarningQuota Type MessageCopyForSentAsEnabled Force!'
    'New-Mailbox'                   = 'Name Alias DisplayName PrimarySmtpAddress Shared! Room! Equipment!'
    'Remove-Mailbox'                = 'Identity Permanent'
    'Get-Recipient'                 = 'Identity ResultSize Filter RecipientTypeDetails'
    'Get-OrganizationConfig'        = ''
    'Set-OrganizationConfig'        = 'AuditDisabled OAuth2ClientProfileEnabled CustomerLockboxEnabled'
    'Get-TransportConfig'           = ''
    'Set-TransportConfig'           = 'SmtpClientAuthenticationDisabled MaxSendSize MaxReceiveSize'
    'Get-AdminAuditLogConfig'       = ''
    'Set-AdminAuditLogConfig'       = 'UnifiedAuditLogIngestionEnabled AdminAuditLogEnabled'
    'Get-AcceptedDomain'            = 'Identity ResultSize'
    'Get-TransportRule'             = 'Identity ResultSize State'
    'New-TransportRule'             = 'Name Priority Mode Enabled Comments FromScope SentToScope SubjectContainsWords SetSCL RejectMessageReasonText PrependSubject'
    'Set-TransportRule'             = 'Identity Name Priority Mode Comments FromScope SentToScope SubjectContainsWords SetSCL RejectMessageReasonText PrependSubject'
    'Remove-TransportRule'          = 'Identity'
    'Enable-TransportRule'          = 'Identity'
    'Disable-TransportRule'         = 'Identity'
    'Get-RemoteDomain'              = 'Identity ResultSize'
    'New-RemoteDomain'              = 'Name DomainName'
    'Set-RemoteDomain'              = 'Identity AutoForwardEnabled AutoReplyEnabled AllowedOOFType'
    'Remove-RemoteDomain'           = 'Identity'
    'Get-Label'                     = 'Identity'
    'New-Label'                     = 'Name DisplayName Tooltip Comment'
    'Set-Label'                     = 'Identity DisplayName Tooltip Comment'
    'Remove-Label'                  = 'Identity'
    'Get-DlpCompliancePolicy'       = 'Identity'
    'New-DlpCompliancePolicy'       = 'Name Mode Comment ExchangeLocation'
    'Set-DlpCompliancePolicy'       = 'Identity Mode Comment Enabled'
    'Remove-DlpCompliancePolicy'    = 'Identity'
    'Get-RetentionCompliancePolicy' = 'Identity'
}

function Write-StandinLog([hashtable] $Entry) {
    $file = $env:EXO_STANDIN_MODULE_LOG
    if (-not $file) { return }
    $Entry.pid = $PID
    $Entry.version = $ExecutionContext.SessionState.Module.Version.ToString()
    $Entry.time = [DateTimeOffset]::UtcNow.ToUnixTimeMilliseconds()
    $bytes = [System.Text.Encoding]::UTF8.GetBytes((ConvertTo-Json $Entry -Compress -Depth 5) + "`n")
    # Sessions connect at the same moment, and .NET's FileMode.Append on Linux seeks to the end rather than opening
    # with O_APPEND, so two plain appends can land on one offset and a line is lost. FileShare.None takes an
    # exclusive flock for the write; a writer that finds it held tries again.
    for ($try = 0; ; $try++) {
        try {
            $stream = [System.IO.FileStream]::new($file, [System.IO.FileMode]::Append, [System.IO.FileAccess]::Write, [System.IO.FileShare]::None)
            try { $stream.Write($bytes, 0, $bytes.Length) } finally { $stream.Dispose() }
            return
        } catch [System.IO.IOException] {
            if ($try -ge 500) { throw }
            Start-Sleep -Milliseconds 2
        }
    }
}

function ConvertFrom-StandinJwt([string] $Token) {
    $parts = $Token.Split('.')
    if ($parts.Count -ne 3) { throw 'The AccessToken is not a JWT (three dot-separated parts).' }
    $payload = $parts[1].Replace('-', '+').Replace('_', '/')
    $payload += '=' * ((4 - $payload.Length % 4) % 4)
    [System.Text.Encoding]::UTF8.GetString([Convert]::FromBase64String($payload)) | ConvertFrom-Json
}

function Get-StandinBaseUri([string] $ConnectionUri, [string] $DefaultHost) {
    if ($ConnectionUri) {
        $uri = [Uri]$ConnectionUri
        if ($uri.Scheme -ne 'https') { throw "ConnectionUri must be https: $ConnectionUri" }
        return "https://$($uri.Authority)"
    }
    "https://$DefaultHost"
}

# One HttpClient per process, as the module keeps one: redirects are answered by hand (an automatic redirect would
# drop or forward the bearer token), and Invoke-WebRequest cannot do that here (pwsh 7.6.9 throws "Operation is
# not valid due to the current state of the object" on a 3xx with -MaximumRedirection 0 -SkipHttpErrorCheck).
function Send-StandinHttp([string] $Method, [string] $Uri, [hashtable] $Headers, [byte[]] $Body) {
    if (-not $script:Http) {
        $handler = [System.Net.Http.HttpClientHandler]::new()
        $handler.AllowAutoRedirect = $false
        $script:Http = [System.Net.Http.HttpClient]::new($handler)
        $script:Http.Timeout = [TimeSpan]::FromMinutes(15)
    }
    $message = [System.Net.Http.HttpRequestMessage]::new([System.Net.Http.HttpMethod]::new($Method), $Uri)
    foreach ($name in $Headers.Keys) { [void]$message.Headers.TryAddWithoutValidation($name, [string]$Headers[$name]) }
    if ($Body) {
        $message.Content = [System.Net.Http.ByteArrayContent]::new($Body)
        [void]$message.Content.Headers.TryAddWithoutValidation('Content-Type', 'application/json; charset=utf-8')
    }
    $response = $script:Http.SendAsync($message).GetAwaiter().GetResult()
    $answer = @{}
    foreach ($pair in $response.Headers.NonValidated) { $answer[$pair.Key] = @($pair.Value) }
    foreach ($pair in $response.Content.Headers.NonValidated) { $answer[$pair.Key] = @($pair.Value) }
    [pscustomobject]@{
        StatusCode = [int]$response.StatusCode
        Headers    = $answer
        Content    = $response.Content.ReadAsStringAsync().GetAwaiter().GetResult()
    }
}

# A request with the module's headers: 3xx followed by hand within the Exchange domain, 429/5xx retried with
# Retry-After or 2 s x 2^n, 5 attempts.
function Invoke-StandinRequest($Connection, [string] $Method, [string] $Uri, [hashtable] $Headers, [byte[]] $Body) {
    $base = if ($env:EXO_STANDIN_RETRY_BASE_MS) { [int]$env:EXO_STANDIN_RETRY_BASE_MS } else { 2000 }
    for ($attempt = 1; ; $attempt++) {
        $response = Send-StandinHttp $Method $Uri $Headers $Body
        $status = $response.StatusCode
        if ($status -ge 300 -and $status -lt 400 -and $response.Headers['Location']) {
            $from = [Uri]$Uri
            $target = [Uri]::new($from, [string]$response.Headers['Location'][0])
            # The token goes only to the same Exchange domain (nam13b.outlook.office365.com for outlook.office365.com).
            $domain = if ($from.Host.Split('.').Count -ge 3) { $from.Host.Substring($from.Host.IndexOf('.')) } else { $null }
            $sameDomain = $target.Host -eq $from.Host -or ($domain -and $target.Host.EndsWith($domain))
            if ($target.Scheme -ne 'https' -or -not $sameDomain) {
                throw "The admin API redirected to $($target.GetLeftPart('Authority')), outside $($from.Host)'s domain: not sending the token there."
            }
            # Pin the regional host for later calls of this connection, as the module does.
            $Connection.BaseUri = $target.GetLeftPart('Authority')
            $Uri = $target.AbsoluteUri
            if ($attempt -ge 5) { return $response }
            continue
        }
        $retryable = $status -eq 429 -or $status -ge 500
        if (-not $retryable -or $attempt -ge 5) { return $response }
        $after = $response.Headers['Retry-After']
        $delay = if ($after) { [double]::Parse($after[0], [cultureinfo]::InvariantCulture) * 1000 } else { $base * [math]::Pow(2, $attempt - 1) }
        Start-Sleep -Milliseconds ([int]$delay)
    }
}

function Get-StandinHeaders($Connection, [string] $CmdletName, [string] $RequestId) {
    @{
        Authorization         = "Bearer $($Connection.Token)"
        Accept                = 'application/json'
        'X-CmdletName'        = $CmdletName
        Prefer                = "odata.maxpagesize=$($Connection.PageSize)"
        'X-ResponseFormat'    = 'json'
        'X-AnchorMailbox'     = "APP:SystemMailbox{bb558c35-97f1-4cb9-8ff7-d53741dc928c}@$($Connection.TenantId)"
        'client-request-id'   = $RequestId
        'connection-id'       = $Connection.ConnectionId
        'X-ClientApplication' = 'ExoManagementModule'
        'Accept-Language'     = 'en-US'
    }
}

# The message the service put in its error: innererror.internalexception, then details[0], then error.message,
# then the raw body (exchange-admin-api.md). A details message that is JSON ({Message, TypeName}) becomes
# "|TypeName|Message", the shape the module prints.
function Get-StandinErrorMessage($Response) {
    $text = [string]$Response.Content
    try { $json = $text | ConvertFrom-Json -ErrorAction Stop } catch { $json = $null }
    $err = if ($json -and $json.PSObject.Properties['error']) { $json.error } else { $null }
    if (-not $err) {
        $printable = ($text -replace '[\x00-\x1f]', '').Trim()
        return "HTTP $($Response.StatusCode)$(if ($printable) { ": $printable" } else { ' with no readable body' })"
    }
    $inner = if ($err.PSObject.Properties['innererror']) { $err.innererror } else { $null }
    if ($inner -and $inner.PSObject.Properties['internalexception']) { return [string]$inner.internalexception.message }
    if ($err.PSObject.Properties['details'] -and @($err.details).Count -gt 0) {
        $detail = [string]@($err.details)[0].message
        try {
            $d = $detail | ConvertFrom-Json -ErrorAction Stop
            if ($d.PSObject.Properties['Message']) { return "|$($d.TypeName)|$($d.Message)" }
        } catch { }
        return $detail
    }
    [string]$err.message
}

# The module's Transform-Parameters: switches to booleans, hashtables tagged as Exchange.GenericHashTable,
# DateTime to UTC, other objects to strings.
function ConvertTo-StandinParameter($Value) {
    if ($null -eq $Value) { return $null }
    if ($Value -is [System.Management.Automation.SwitchParameter]) { return $Value.IsPresent }
    if ($Value -is [bool] -or $Value -is [int] -or $Value -is [long] -or $Value -is [double] -or $Value -is [string]) { return $Value }
    if ($Value -is [datetime]) { return $Value.ToUniversalTime().ToString('yyyy-MM-ddTHH:mm:ss') }
    if ($Value -is [System.Collections.IDictionary]) {
        $out = [ordered]@{ '@odata.type' = '#Exchange.GenericHashTable' }
        foreach ($key in $Value.Keys) { $out[[string]$key] = ConvertTo-StandinParameter $Value[$key] }
        return $out
    }
    if ($Value -is [System.Collections.IEnumerable]) { return @($Value | ForEach-Object { ConvertTo-StandinParameter $_ }) }
    [string]$Value
}

function Invoke-StandinCmdlet {
    [CmdletBinding()]
    param([string] $CmdletName, [string] $Kind, [System.Collections.IDictionary] $Bound)
    $connection = $script:Connections | Where-Object { $_.Kind -eq $Kind } | Select-Object -Last 1
    if (-not $connection) { throw "No $Kind connection: run Connect-ExchangeOnline first." }
    $parameters = [ordered]@{}
    foreach ($name in $Bound.Keys) {
        if ([System.Management.Automation.PSCmdlet]::CommonParameters -contains $name) { continue }
        $value = ConvertTo-StandinParameter $Bound[$name]
        if ($name -eq 'Filter' -and $value -is [string]) { $value = $value -replace '\$true', "'True'" -replace '\$false', "'False'" }
        $parameters[$name] = $value
    }
    $resultSize = if ($parameters.Contains('ResultSize')) { [string]$parameters['ResultSize'] } else { $null }
    $limit = if ($resultSize -eq 'Unlimited') { [int]::MaxValue } elseif ($resultSize) { [int]$resultSize } else { 1000 }
    $body = [System.Text.Encoding]::UTF8.GetBytes((ConvertTo-Json @{ CmdletInput = @{ CmdletName = $CmdletName; Parameters = $parameters } } -Depth 20 -Compress))
    $requestId = [guid]::NewGuid().ToString()
    $headers = Get-StandinHeaders $connection $CmdletName $requestId
    $uri = "$($connection.BaseUri)/adminapi/beta/$($connection.TenantId)/InvokeCommand"
    Write-StandinLog @{ event = 'cmdlet'; cmdlet = $CmdletName; connectionId = $connection.ConnectionId; baseUri = $connection.BaseUri }
    $count = 0
    while ($uri) {
        $response = Invoke-StandinRequest $connection 'POST' $uri $headers $body
        if ($response.StatusCode -ne 200) { return [pscustomobject]@{ StandinError = (Get-StandinErrorMessage $response) } }
        $page = [string]$response.Content | ConvertFrom-Json
        foreach ($warning in @($page.'@adminapi.warnings')) { if ($warning) { Write-Warning $warning } }
        foreach ($row in @($page.value)) {
            if ($count -ge $limit) { break }
            $clean = [ordered]@{}
            foreach ($p in $row.PSObject.Properties) { if (-not $p.Name.Contains('@')) { $clean[$p.Name] = $p.Value } }
            [pscustomobject]$clean
            $count++
        }
        $next = if ($page.PSObject.Properties['@odata.nextLink']) { [string]$page.'@odata.nextLink' } else { $null }
        if ($next -and $count -ge $limit) {
            if (-not $resultSize) { Write-Warning 'There are more results available than are currently displayed. To view them, increase the value for the ResultSize parameter.' }
            break
        }
        $uri = $next
    }
}

# Writes the temporary module a connection's cmdlets live in. Its Write-ErrorMessage raises the service's error, so
# errors are reported from the generated .psm1 (where the real module's come from too) at the caller's line.
function New-StandinCmdletModule($Connection, [string[]] $Cmdlets, [string] $Prefix) {
    $dir = Join-Path ([System.IO.Path]::GetTempPath()) ("tmpEXO_" + [guid]::NewGuid().ToString('N').Substring(0, 12))
    New-Item -ItemType Directory -Path $dir | Out-Null
    $lines = [System.Collections.Generic.List[string]]::new()
    $lines.Add('param($Invoke, $Kind)')
    $lines.Add('function Write-ErrorMessage { [CmdletBinding()] param([string] $Message, [string] $CmdletName)')
    $lines.Add('  $PSCmdlet.ThrowTerminatingError([System.Management.Automation.ErrorRecord]::new([System.Exception]::new($Message), "StandinAdminApiError,$CmdletName", "NotSpecified", $null)) }')
    foreach ($name in $Cmdlets) {
        # Get-EXO* cmdlets live in the module itself (in the real one, its compiled part), not in the generated one.
        if ($name -like 'Get-EXO*') { continue }
        $verb, $noun = $name.Split('-', 2)
        $known = $script:CmdletParameters[$name]
        $params = @(($(if ($null -ne $known) { $known } else { 'Identity Name' }) -split ' ') | Where-Object { $_ } | ForEach-Object {
                if ($_.EndsWith('!')) { "[switch] `$$($_.TrimEnd('!'))" }
                elseif ($_ -eq 'Identity') { "[Parameter(Position = 0, ValueFromPipelineByPropertyName = `$true)] [object] `$Identity" }
                else { "[object] `$$_" } })
        $should = if ($verb -in 'Set', 'New', 'Remove', 'Enable', 'Disable') { 'SupportsShouldProcess = $true, ConfirmImpact = ''Low''' } else { '' }
        $lines.Add("function $verb-$Prefix$noun { [CmdletBinding($should)] param($($params -join ', '))")
        $lines.Add("  process { `$r = & `$Invoke '$name' `$Kind `$PSBoundParameters")
        $lines.Add("    foreach (`$o in @(`$r)) { if (`$o -and `$o.PSObject.Properties['StandinError']) { Write-ErrorMessage -Message `$o.StandinError -CmdletName '$name' } else { `$o } } } }")
    }
    $lines.Add('Export-ModuleMember -Function ' + (@($Cmdlets | Where-Object { $_ -notlike 'Get-EXO*' } | ForEach-Object { $v, $n = $_.Split('-', 2); "'$v-$Prefix$n'" }) -join ', '))
    $file = Join-Path $dir ((Split-Path $dir -Leaf) + '.psm1')
    [System.IO.File]::WriteAllLines($file, $lines)
    $Connection.ModuleName = $file
    $Connection.ModuleDirectory = $dir
    # A script block made here runs in this module's scope, where Invoke-StandinCmdlet (not exported) is visible.
    $invoke = { param($n, $k, $b) Invoke-StandinCmdlet -CmdletName $n -Kind $k -Bound $b }
    Import-Module $file -ArgumentList $invoke, $Connection.Kind -Global -DisableNameChecking -Force -WarningAction SilentlyContinue
}

# Connecting downloads the tenant's cmdlet list (GET EXOModuleFile, header CommandName), as the module does: a
# token the service refuses fails the connect here. Returns the cmdlet names to generate.
function Get-StandinModuleFile($Connection, [string] $CmdletName, [string[]] $CommandName) {
    $headers = Get-StandinHeaders $Connection $CmdletName ([guid]::NewGuid().ToString())
    $headers.CommandName = if ($CommandName) { $CommandName -join ',' } else { '*' }
    $uri = "$($Connection.BaseUri)/adminapi/v1.0/$($Connection.TenantId)/EXOModuleFile"
    $response = Invoke-StandinRequest $Connection 'GET' $uri $headers $null
    $status = $response.StatusCode
    if ($status -eq 401 -or $status -eq 403) {
        $why = if ($response.Headers['WWW-Authenticate']) { " ($($response.Headers['WWW-Authenticate'][0]))" } else { '' }
        throw "$CmdletName failed: the service refused the access token: HTTP $status$why. $(Get-StandinErrorMessage $response)"
    }
    if ($status -ne 200) { throw "$CmdletName failed: $(Get-StandinErrorMessage $response)" }
    $file = [string]$response.Content | ConvertFrom-Json
    @(([string]@($file.value)[0].exportedCmdlets) -split ',' | Where-Object { $_ })
}

function New-StandinConnection {
    param([string] $Kind, [string] $CmdletName, [string] $AccessToken, [string] $Organization, [string] $BaseUri,
        [string] $ConnectionUri, [string] $AuthorizationUri, [string[]] $CommandName, [string] $Prefix, [uint32] $PageSize,
        [bool] $ShowBanner, [bool] $SkipLoadingFormatData, [string] $Environment)
    if (-not $AccessToken) { throw "$CmdletName (stand-in): only -AccessToken sign-in is supported here." }
    if (-not $Organization) { throw "$CmdletName : -Organization is required with -AccessToken (app-only sign-in), e.g. contoso.onmicrosoft.com." }
    $claims = ConvertFrom-StandinJwt $AccessToken
    $connection = [pscustomobject]@{
        Kind = $Kind; ConnectionId = [guid]::NewGuid().ToString(); Token = $AccessToken; Organization = $Organization
        TenantId = [string]$claims.tid; BaseUri = $BaseUri; ConnectionUri = $ConnectionUri; AuthorizationUri = $AuthorizationUri
        Prefix = $Prefix; PageSize = $(if ($PageSize) { $PageSize } else { 1000 }); ModuleName = $null; ModuleDirectory = $null
        TokenExpiryTimeUTC = [DateTimeOffset]::FromUnixTimeSeconds([long]$claims.exp).UtcDateTime; AppId = [string]$claims.appid
        Environment = $Environment
    }
    $cmdlets = Get-StandinModuleFile $connection $CmdletName $CommandName
    $delay = if ($env:EXO_STANDIN_CONNECT_DELAY_MS) { [int]$env:EXO_STANDIN_CONNECT_DELAY_MS } else { 0 }
    if ($delay -gt 0) { Start-Sleep -Milliseconds $delay }
    New-StandinCmdletModule $connection $cmdlets $Prefix
    $script:Connections.Add($connection)
    Write-StandinLog @{ event = $(if ($Kind -eq 'compliance') { 'connect-ipps' } else { 'connect' }); connectionId = $connection.ConnectionId
        organization = $Organization; baseUri = $connection.BaseUri; connectionUri = $ConnectionUri; environment = $Environment
        authorizationUri = $AuthorizationUri
        commandName = $CommandName; skipLoadingFormatData = $SkipLoadingFormatData; showBanner = $ShowBanner; audience = [string]$claims.aud }
    if ($ShowBanner) {
        Write-Host "Stand-in ExchangeOnlineManagement $($ExecutionContext.SessionState.Module.Version.ToString()) (a test double, not Microsoft's module): connected to $Organization at $($connection.BaseUri)"
    }
}

function Connect-ExchangeOnline {
    [CmdletBinding(DefaultParameterSetName = 'DefaultParameterSet')]
    param(
        [Parameter(Position = 0)] [string] $ConnectionUri,
        [Parameter(Position = 1)] [string] $AzureADAuthorizationEndpointUri,
        [Parameter(Position = 2)] [ValidateSet('O365Default', 'O365GermanyCloud', 'O365China', 'O365USGovGCCHigh', 'O365USGovDoD')] [string] $ExchangeEnvironmentName = 'O365Default',
        [Parameter(Position = 3)] [object] $PSSessionOption,
        [Parameter(Position = 4)] [string] $DelegatedOrganization,
        [Parameter(Position = 5)] [string] $Prefix,
        [Parameter(Position = 6)] [string[]] $CommandName,
        [Parameter(Position = 7)] [string[]] $FormatTypeName,
        [string] $AccessToken, [string] $AppId, [switch] $BypassMailboxAnchoring, [object] $Certificate,
        [string] $CertificateFilePath, [securestring] $CertificatePassword, [string] $CertificateThumbprint,
        [pscredential] $Credential, [switch] $Device, [switch] $DisableWAM, [switch] $EnableErrorReporting,
        [string] $EXOModuleBasePath, [switch] $InlineCredential, [switch] $LoadCmdletHelp, [string] $LogDirectoryPath,
        [object] $LogLevel, [switch] $ManagedIdentity, [string] $ManagedIdentityAccountId, [string] $Organization,
        [uint32] $PageSize, [switch] $ShowBanner, [bool] $ShowProgress, [object] $SigningCertificate,
        [switch] $SkipLoadingCmdletHelp, [switch] $SkipLoadingFormatData, [bool] $TrackPerformance,
        [bool] $UseMultithreading, [string] $UserPrincipalName, [switch] $UseRPSSession
    )
    # The banner shows unless -ShowBanner:$false, as in the real module.
    $banner = -not $PSBoundParameters.ContainsKey('ShowBanner') -or $ShowBanner.IsPresent
    $base = Get-StandinBaseUri $ConnectionUri $script:EnvironmentHosts[$ExchangeEnvironmentName]
    # One Exchange connection per prefix: connecting again replaces it, as the module does.
    foreach ($old in @($script:Connections | Where-Object { $_.Kind -eq 'exchange' -and $_.Prefix -eq $Prefix })) { Remove-StandinConnection $old }
    New-StandinConnection -Kind exchange -CmdletName 'Connect-ExchangeOnline' -AccessToken $AccessToken -Organization $Organization `
        -BaseUri $base -ConnectionUri $ConnectionUri -AuthorizationUri $AzureADAuthorizationEndpointUri -CommandName $CommandName `
        -Prefix $Prefix -PageSize $PageSize -ShowBanner $banner -SkipLoadingFormatData $SkipLoadingFormatData.IsPresent -Environment $ExchangeEnvironmentName
}

function Connect-IPPSSession {
    [CmdletBinding()]
    param(
        [Parameter(Position = 0)] [string] $ConnectionUri = 'https://ps.compliance.protection.outlook.com/powershell-liveid/',
        [Parameter(Position = 1)] [string] $AzureADAuthorizationEndpointUri = 'https://login.microsoftonline.com/organizations',
        [Parameter(Position = 2)] [string] $DelegatedOrganization,
        [Parameter(Position = 3)] [object] $PSSessionOption,
        [Parameter(Position = 4)] [string] $Prefix,
        [Parameter(Position = 5)] [string[]] $CommandName,
        [Parameter(Position = 6)] [string[]] $FormatTypeName,
        [string] $AccessToken, [string] $AppId, [object] $Certificate, [string] $CertificateFilePath,
        [securestring] $CertificatePassword, [string] $CertificateThumbprint, [pscredential] $Credential,
        [switch] $DisableWAM, [switch] $EnableErrorReporting, [switch] $EnableSearchOnlySession, [string] $LogDirectoryPath,
        [object] $LogLevel, [string] $Organization, [switch] $ShowBanner, [string] $UserPrincipalName, [switch] $UseRPSSession
    )
    $banner = -not $PSBoundParameters.ContainsKey('ShowBanner') -or $ShowBanner.IsPresent
    foreach ($old in @($script:Connections | Where-Object { $_.Kind -eq 'compliance' })) { Remove-StandinConnection $old }
    New-StandinConnection -Kind compliance -CmdletName 'Connect-IPPSSession' -AccessToken $AccessToken -Organization $Organization `
        -BaseUri (Get-StandinBaseUri $ConnectionUri $null) -ConnectionUri $ConnectionUri -AuthorizationUri $AzureADAuthorizationEndpointUri `
        -CommandName $CommandName -Prefix $Prefix -PageSize 1000 -ShowBanner $banner -SkipLoadingFormatData $false -Environment $null
}

function Remove-StandinConnection($Connection) {
    if ($Connection.ModuleName) {
        Get-Module | Where-Object { $_.Path -eq $Connection.ModuleName } | Remove-Module -Force
        Remove-Item -LiteralPath $Connection.ModuleDirectory -Recurse -Force -ErrorAction SilentlyContinue
    }
    [void]$script:Connections.Remove($Connection)
}

function Disconnect-ExchangeOnline {
    [CmdletBinding(SupportsShouldProcess = $true, ConfirmImpact = 'High')]
    param([string[]] $ConnectionId, [string[]] $ModulePrefix)
    $targets = @($script:Connections | Where-Object {
            (-not $ConnectionId -or $ConnectionId -contains $_.ConnectionId) -and (-not $ModulePrefix -or $ModulePrefix -contains $_.Prefix) })
    if (-not $PSCmdlet.ShouldProcess('all connections', 'Disconnect')) { return }
    foreach ($connection in $targets) { Remove-StandinConnection $connection }
    Write-StandinLog @{ event = 'disconnect'; connections = $targets.Count }
}

function Get-ConnectionInformation {
    [CmdletBinding()]
    param([string[]] $ConnectionId, [string[]] $ModulePrefix)
    $index = 0
    foreach ($c in $script:Connections) {
        $index++
        if ($ConnectionId -and $ConnectionId -notcontains $c.ConnectionId) { continue }
        if ($ModulePrefix -and $ModulePrefix -notcontains $c.Prefix) { continue }
        [pscustomobject]@{
            ConnectionId = $c.ConnectionId; State = 'Connected'; Id = $index
            Name = "$(if ($c.Kind -eq 'compliance') { 'ExchangeOnlineProtection' } else { 'ExchangeOnline' })_$index"
            UserPrincipalName = $null; ConnectionUri = $(if ($c.ConnectionUri) { $c.ConnectionUri } else { "$($c.BaseUri)/powershell-liveid/" })
            AzureAdAuthorizationEndpointUri = $c.AuthorizationUri; TokenExpiryTimeUTC = $c.TokenExpiryTimeUTC
            CertificateAuthentication = $false; ModuleName = $c.ModuleName; ModulePrefix = $c.Prefix; Organization = $c.Organization
            DelegatedOrganization = $null; AppId = $c.AppId; PageSize = $c.PageSize; TenantID = $c.TenantId; TokenStatus = 'Active'
            ConnectionUsedForInbuiltCmdlets = ($c.Kind -eq 'exchange'); IsEopSession = ($c.Kind -eq 'compliance')
        }
    }
}

function Get-EXOMailbox {
    [CmdletBinding()]
    param(
        [Parameter(Position = 0, ValueFromPipelineByPropertyName = $true)] [string] $Identity,
        [string] $Filter, [object] $ResultSize, [string[]] $Properties, [string[]] $PropertySets,
        [string] $RecipientTypeDetails, [switch] $Archive, [switch] $SoftDeletedMailbox, [switch] $InactiveMailboxOnly,
        [switch] $IncludeInactiveMailbox, [string] $UserPrincipalName, [string] $PrimarySmtpAddress
    )
    process {
        # The module's own wording for this case could not be found in public sources; this message is ours.
        if (-not ($script:Connections | Where-Object { $_.Kind -eq 'exchange' })) {
            $PSCmdlet.ThrowTerminatingError([System.Management.Automation.ErrorRecord]::new(
                    [System.InvalidOperationException]::new('No active Exchange Online connection. Run Connect-ExchangeOnline before Get-EXOMailbox.'),
                    'NoActiveConnection', 'ConnectionError', $null))
        }
        # The real cmdlet calls its own REST route; the emulator serves the rows through InvokeCommand.
        $rows = Invoke-StandinCmdlet -CmdletName 'Get-EXOMailbox' -Kind exchange -Bound $PSBoundParameters
        foreach ($o in @($rows)) {
            if ($o -and $o.PSObject.Properties['StandinError']) {
                $PSCmdlet.ThrowTerminatingError([System.Management.Automation.ErrorRecord]::new(
                        [System.Exception]::new($o.StandinError), 'StandinAdminApiError,Get-EXOMailbox', 'NotSpecified', $Identity))
            }
            $o
        }
    }
}
