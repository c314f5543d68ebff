#Requires -Version 5.1
<#
.SYNOPSIS
    Reads an Azure Cosmos DB account's keys with this VM's system-assigned managed identity, then
    proves that a key works by reading the container. In rbac mode, reads the container with an
    Entra ID token instead: no keys at all.

.DESCRIPTION
    Rendered by the cosmos-vm-identity Pulumi stack: the parameter defaults are that stack's values,
    so it runs as is on the stack's VM, and serves other accounts by passing parameters.

    1. Gets a Resource Manager token from the instance metadata service (IMDS), retrying as
       Microsoft documents (404, 410, 429, 5xx and timeouts, exponential backoff, bounded).
    2. POSTs readonlykeys (AccessLevel readonly) or listKeys (readwrite) on the account, waiting up to
       RoleWaitSeconds while a new role assignment propagates.
    3. Reads the container through the Cosmos DB REST API, signed with the fetched primary key.

    With AccessMode rbac (keyless), steps 1 and 2 become one: an IMDS token for the account's data
    plane, sent as the Authorization header (type=aad), waiting while the data role propagates.

    Every wait, a server's Retry-After included, ends by DeadlineSeconds: the script always stops
    with its own diagnosis, before Run Command's timeout.

    Keys are masked (a SHA-256 fingerprint) unless -ShowKeys is given.
    Exit codes: 0 success; 1 unexpected failure; 2 not on an Azure VM, or no managed identity;
    3 the identity lacks the role; 4 account, database or container not found; 5 network blocked;
    6 key or token rejected by the data plane.

.EXAMPLE
    .\Get-CosmosDbKeys.ps1

.EXAMPLE
    $keys = .\Get-CosmosDbKeys.ps1 -PassThru
    Returns the keys object; assign it, or PowerShell prints it (keys included).
#>
[CmdletBinding()]
param(
    [string]$SubscriptionId = '{{subscriptionId}}',
    [string]$ResourceGroupName = '{{resourceGroupName}}',
    [string]$AccountName = '{{accountName}}',
    [ValidateSet('readonly', 'readwrite')]
    [string]$AccessLevel = '{{accessLevel}}',
    [ValidateSet('keys', 'rbac')]
    [string]$AccessMode = '{{accessMode}}',
    [string]$DatabaseName = '{{databaseName}}',
    [string]$ContainerName = '{{containerName}}',
    [string]$ResourceManagerEndpoint = '{{resourceManagerEndpoint}}',
    [string]$CosmosEndpoint = '{{cosmosEndpoint}}',
    [string]$ImdsEndpoint = 'http://169.254.169.254',
    [ValidateRange(0, 3600)]
    [int]$RoleWaitSeconds = 900,
    [ValidateRange(0, 3600)]
    [int]$NetworkWaitSeconds = 600,
    [ValidateRange(1, 86400)]
    [int]$DeadlineSeconds = {{deadlineSeconds}},
    [switch]$ShowKeys,
    [switch]$PassThru
)

$ErrorActionPreference = 'Stop'
# Windows PowerShell 5.1 runs on .NET Framework, which may not offer TLS 1.2 by default;
# Resource Manager and Cosmos DB (minimum TLS 1.2) require it.
[System.Net.ServicePointManager]::SecurityProtocol = [System.Net.ServicePointManager]::SecurityProtocol -bor [System.Net.SecurityProtocolType]::Tls12

$ImdsApiVersion = '2018-02-01'
$ArmApiVersion = '{{armApiVersion}}'
$CosmosApiVersion = '2018-12-31'
$KeyRoles = @{
    readonly  = @{ Name = '{{readonlyRoleName}}'; Id = '{{readonlyRoleId}}'; Operation = '{{readonlyKeysOperation}}'; PrimaryKey = '{{readonlyPrimaryKeyProperty}}' }
    readwrite = @{ Name = '{{readwriteRoleName}}'; Id = '{{readwriteRoleId}}'; Operation = '{{readwriteKeysOperation}}'; PrimaryKey = '{{readwritePrimaryKeyProperty}}' }
}
# Every key property a keys response may carry: each is fingerprinted, never printed.
$KeyProperties = {{keyProperties}}
$DataRoles = @{
    readonly  = @{ Name = '{{readonlyDataRoleName}}'; Id = '{{readonlyDataRoleId}}' }
    readwrite = @{ Name = '{{readwriteDataRoleName}}'; Id = '{{readwriteDataRoleId}}' }
}
$ExitCodes = @{ Unexpected = 1; NoManagedIdentity = 2; RoleMissing = 3; NotFound = 4; NetworkBlocked = 5; CredentialRejected = 6 }
$AccountId = "/subscriptions/$SubscriptionId/resourceGroups/$ResourceGroupName/providers/Microsoft.DocumentDB/databaseAccounts/$AccountName"

function Get-UtcNow {
    # The one clock: every deadline and x-ms-date reads it.
    return (Get-Date).ToUniversalTime()
}

$StartedAt = Get-UtcNow
$Deadline = $StartedAt.AddSeconds($DeadlineSeconds)

function Stop-Script {
    param(
        [Parameter(Mandatory = $true)]
        [ValidateSet('Unexpected', 'NoManagedIdentity', 'RoleMissing', 'NotFound', 'NetworkBlocked', 'CredentialRejected')]
        [string]$Reason,
        [Parameter(Mandatory = $true)][AllowEmptyString()][string]$Message
    )
    [Console]::Error.WriteLine("ERROR ($Reason): $Message")
    $code = [int]$ExitCodes[$Reason]
    # A reason without a code is a bug in this script, never a success.
    if ($code -eq 0) { $code = 1 }
    exit $code
}

function Get-SecondsLeft {
    param([Parameter(Mandatory = $true)][DateTime]$Until)
    $left = [int][Math]::Floor(($Until - (Get-UtcNow)).TotalSeconds)
    return [Math]::Max(0, $left)
}

function Invoke-HttpRequest {
    # HttpWebRequest rather than Invoke-WebRequest: it needs no Internet Explorer engine, returns the
    # status and body of failed requests instead of throwing, and lets one request skip the proxy
    # on Windows PowerShell 5.1, which has no -NoProxy.
    param(
        [Parameter(Mandatory = $true)][string]$Uri,
        [Parameter(Mandatory = $true)][ValidateSet('GET', 'POST')][string]$Method,
        [hashtable]$Headers = @{},
        [switch]$BypassProxy,
        [int]$TimeoutSeconds = 30
    )
    # No request outlives the script's deadline.
    $timeoutMs = 1000 * [Math]::Max(1, [Math]::Min($TimeoutSeconds, (Get-SecondsLeft -Until $Deadline)))
    $request = [System.Net.HttpWebRequest]([System.Net.WebRequest]::Create($Uri))
    $request.Method = $Method
    $request.Timeout = $timeoutMs
    $request.ReadWriteTimeout = $timeoutMs
    if ($BypassProxy) {
        $request.Proxy = $null
    } elseif ($null -ne $request.Proxy) {
        # An authenticating proxy gets the account's own credentials, as browsers give them.
        $request.Proxy.Credentials = [System.Net.CredentialCache]::DefaultNetworkCredentials
    }
    foreach ($name in $Headers.Keys) { $request.Headers[[string]$name] = [string]$Headers[$name] }
    if ($Method -eq 'POST') { $request.ContentLength = 0 }
    $response = $null
    try {
        $response = [System.Net.HttpWebResponse]$request.GetResponse()
    } catch {
        $webError = $_.Exception
        while ($null -ne $webError -and -not ($webError -is [System.Net.WebException])) { $webError = $webError.InnerException }
        if ($null -eq $webError) { throw }
        $response = [System.Net.HttpWebResponse]([System.Net.WebException]$webError).Response
        if ($null -eq $response) {
            # No HTTP answer at all: timeout, name resolution failure, connection refused or reset.
            return [pscustomobject]@{ StatusCode = 0; Body = ''; RetryAfter = 0; Failure = "$(([System.Net.WebException]$webError).Status): $($webError.Message)" }
        }
    }
    $statusCode = [int]$response.StatusCode
    $retryAfter = 0
    [void][int]::TryParse([string]$response.Headers['Retry-After'], [ref]$retryAfter)
    # Cosmos DB says how long to back off in milliseconds instead.
    $retryAfterMs = 0
    if ([int]::TryParse([string]$response.Headers['x-ms-retry-after-ms'], [ref]$retryAfterMs)) {
        $retryAfter = [Math]::Max($retryAfter, [int][Math]::Ceiling($retryAfterMs / 1000))
    }
    try {
        $reader = New-Object System.IO.StreamReader -ArgumentList $response.GetResponseStream()
        $body = $reader.ReadToEnd()
    } catch {
        # The answer broke off mid-body (timeout, reset): treat it as no answer, which callers retry.
        return [pscustomobject]@{ StatusCode = 0; Body = ''; RetryAfter = 0; Failure = "reading the response failed: $($_.Exception.Message)" }
    } finally {
        $response.Close()
    }
    return [pscustomobject]@{ StatusCode = $statusCode; Body = $body; RetryAfter = $retryAfter; Failure = '' }
}

function Get-ErrorCode {
    # Resource Manager errors are {"error":{"code":..}}; IMDS and Cosmos DB use {"error":..} or {"code":..}.
    param([string]$Body)
    try {
        $parsed = ConvertFrom-Json -InputObject $Body
        if ($null -eq $parsed) { return '' }
        $errorProperty = $parsed.PSObject.Properties['error']
        if ($null -ne $errorProperty -and $errorProperty.Value -is [string]) { return $errorProperty.Value }
        if ($null -ne $errorProperty -and $null -ne $errorProperty.Value -and $null -ne $errorProperty.Value.PSObject.Properties['code']) { return [string]$errorProperty.Value.code }
        if ($null -ne $parsed.PSObject.Properties['code']) { return [string]$parsed.code }
    } catch {
        # Not JSON, or not the shape we know: no code to report.
    }
    return ''
}

function Test-Transient {
    param([Parameter(Mandatory = $true)]$Response)
    return ($Response.StatusCode -eq 0) -or ($Response.StatusCode -eq 408) -or ($Response.StatusCode -eq 429) -or ($Response.StatusCode -ge 500)
}

function New-RetryRule {
    # A failure worth waiting out: which responses, the first wait (doubling up to MaxDelaySeconds),
    # and for how many retries (MaxRetries) or how long (ForSeconds). Never past the script's deadline.
    param(
        [Parameter(Mandatory = $true)][string]$Why,
        [Parameter(Mandatory = $true)][scriptblock]$When,
        [Parameter(Mandatory = $true)][int]$FirstDelaySeconds,
        [int]$MaxDelaySeconds = 0,
        [int]$MaxRetries = -1,
        [int]$ForSeconds = -1
    )
    $until = $Deadline
    if ($ForSeconds -ge 0) {
        $until = (Get-UtcNow).AddSeconds($ForSeconds)
        if ($until -gt $Deadline) { $until = $Deadline }
    }
    return @{ Why = $Why; When = $When; Delay = $FirstDelaySeconds; MaxDelay = [Math]::Max($FirstDelaySeconds, $MaxDelaySeconds); RetriesLeft = $MaxRetries; Until = $until }
}

function Invoke-WithRetry {
    # The one retry loop. Sends a request until it succeeds or no rule allows another try; on 401 it
    # renews the credential once (a token can expire during a long wait). A wait doubles from try to
    # try, honours the server's Retry-After, and never passes its rule's end or the script's deadline.
    # Returns the last response; its Stopped says why the loop gave up ('', 'retries', 'time', 'deadline').
    param(
        [Parameter(Mandatory = $true)][string]$Service,
        [Parameter(Mandatory = $true)][scriptblock]$Send,
        [Parameter(Mandatory = $true)][AllowEmptyCollection()][hashtable[]]$Rules,
        [scriptblock]$RenewCredential
    )
    $renewed = $false
    while ($true) {
        $response = & $Send
        $response | Add-Member -NotePropertyName Stopped -NotePropertyValue '' -Force
        if ($response.StatusCode -ge 200 -and $response.StatusCode -lt 300) { return $response }
        if ($response.StatusCode -eq 401 -and $null -ne $RenewCredential -and -not $renewed) {
            & $RenewCredential
            $renewed = $true
            continue
        }
        $rule = $null
        foreach ($candidate in $Rules) {
            if (& $candidate.When $response) { $rule = $candidate; break }
        }
        if ($null -eq $rule) { return $response }
        if ($rule.RetriesLeft -eq 0) {
            $response.Stopped = 'retries'
            return $response
        }
        $secondsLeft = Get-SecondsLeft -Until $rule.Until
        if ($secondsLeft -le 0) {
            $response.Stopped = 'time'
            if ((Get-SecondsLeft -Until $Deadline) -le 0) { $response.Stopped = 'deadline' }
            return $response
        }
        $wait = [Math]::Min([Math]::Max($rule.Delay, $response.RetryAfter), $secondsLeft)
        $rule.Delay = [Math]::Min(2 * $rule.Delay, $rule.MaxDelay)
        if ($rule.RetriesLeft -gt 0) { $rule.RetriesLeft-- }
        $what = "$Service answered $($response.StatusCode)"
        if ($response.StatusCode -eq 0) { $what = "$Service did not answer ($($response.Failure))" }
        Write-Host "  $what; $($rule.Why); retrying in $wait s"
        Start-Sleep -Seconds $wait
    }
}

function Get-DeadlineNote {
    # Why a wait ended early, for the error message.
    param([Parameter(Mandatory = $true)]$Response)
    if ($Response.Stopped -eq 'deadline') { return " Stopped at the script's deadline (DeadlineSeconds $DeadlineSeconds)." }
    return ''
}

function Get-ManagedIdentityToken {
    param([Parameter(Mandatory = $true)][string]$Resource)
    $uri = $ImdsEndpoint.TrimEnd('/') + '/metadata/identity/oauth2/token?api-version=' + $ImdsApiVersion + '&resource=' + [System.Uri]::EscapeDataString($Resource)
    # Microsoft documents 404 (IMDS starting), 410 (IMDS updating, back within 70 s), 429 and 5xx as
    # retryable: 6 retries after 2, 4, 8, 16, 32 and 60 s span IMDS's update window.
    $rules = @(
        New-RetryRule -Why 'IMDS may be starting or updating' -FirstDelaySeconds 2 -MaxDelaySeconds 60 -MaxRetries 6 -When {
            param($r) ($r.StatusCode -in @(0, 404, 410, 429)) -or ($r.StatusCode -ge 500)
        }
    )
    # IMDS is host-local: a proxy would only break it.
    $response = Invoke-WithRetry -Service 'IMDS' -Rules $rules -Send {
        Invoke-HttpRequest -Uri $uri -Method GET -Headers @{ Metadata = 'true' } -BypassProxy -TimeoutSeconds 10
    }
    if ($response.StatusCode -eq 200) { return [string](ConvertFrom-Json -InputObject $response.Body).access_token }
    $note = Get-DeadlineNote -Response $response
    if ($response.StatusCode -eq 0) {
        Stop-Script -Reason NoManagedIdentity -Message "cannot reach the instance metadata service at $ImdsEndpoint ($($response.Failure)). Run this script on the Azure VM itself.$note"
    }
    if ($response.StatusCode -eq 400) {
        Stop-Script -Reason NoManagedIdentity -Message "IMDS has no identity for this VM ($($response.Body)). Enable the VM's system-assigned managed identity."
    }
    Stop-Script -Reason Unexpected -Message "IMDS did not issue a token for ${Resource}: HTTP $($response.StatusCode) $($response.Body)$note"
}

function Get-TokenObjectId {
    # The token's oid claim is the identity's principal id: what a role assignment must name.
    param([Parameter(Mandatory = $true)][string]$Token)
    try {
        $payload = $Token.Split('.')[1].Replace('-', '+').Replace('_', '/')
        $payload = $payload.PadRight($payload.Length + (4 - $payload.Length % 4) % 4, '=')
        $claims = ConvertFrom-Json -InputObject ([System.Text.Encoding]::UTF8.GetString([System.Convert]::FromBase64String($payload)))
        return [string]$claims.oid
    } catch {
        return 'unknown'
    }
}

function Get-CosmosAccountKeys {
    param(
        [Parameter(Mandatory = $true)][string]$Token,
        [Parameter(Mandatory = $true)][string]$PrincipalId
    )
    $role = $KeyRoles[$AccessLevel]
    $uri = $ResourceManagerEndpoint.TrimEnd('/') + $AccountId + '/' + $role.Operation + '?api-version=' + $ArmApiVersion
    $credential = @{ Token = $Token }
    $rules = @(
        # A new role assignment takes minutes to reach Resource Manager's cache.
        New-RetryRule -Why 'no permission yet (role assignment still propagating?)' -FirstDelaySeconds 5 -MaxDelaySeconds 30 -ForSeconds $RoleWaitSeconds -When {
            param($r) $r.StatusCode -eq 403 -and (Get-ErrorCode -Body $r.Body) -eq 'AuthorizationFailed'
        }
        New-RetryRule -Why 'a transient failure' -FirstDelaySeconds 2 -MaxDelaySeconds 64 -MaxRetries 6 -When { param($r) Test-Transient -Response $r }
    )
    $response = Invoke-WithRetry -Service 'Resource Manager' -Rules $rules -Send {
        Invoke-HttpRequest -Uri $uri -Method POST -Headers @{ Authorization = 'Bearer ' + $credential.Token }
    } -RenewCredential {
        $credential.Token = Get-ManagedIdentityToken -Resource $ResourceManagerEndpoint
    }
    if ($response.StatusCode -eq 200) { return ConvertFrom-Json -InputObject $response.Body }
    $code = Get-ErrorCode -Body $response.Body
    $note = Get-DeadlineNote -Response $response
    switch ($response.StatusCode) {
        0 { Stop-Script -Reason NetworkBlocked -Message "cannot reach Resource Manager at $ResourceManagerEndpoint ($($response.Failure)). The VM needs outbound HTTPS (443) to it: check NSG outbound rules, firewalls and proxies.$note" }
        403 { Stop-Script -Reason RoleMissing -Message "the VM's identity (principal id $PrincipalId) may not call $($role.Operation) on $AccountId ($code). Assign it the role '$($role.Name)' ($($role.Id)) on that scope; new assignments can take up to 10 minutes to apply (waited up to $RoleWaitSeconds s).$note" }
        404 { Stop-Script -Reason NotFound -Message "no Cosmos DB account '$AccountName' in resource group '$ResourceGroupName' of subscription $SubscriptionId ($code)." }
    }
    Stop-Script -Reason Unexpected -Message "Resource Manager refused $($role.Operation): HTTP $($response.StatusCode) $code $($response.Body)$note"
}

function New-MasterKeyAuthorization {
    # Cosmos DB master-key signature: base64(HMAC-SHA256(base64-decoded key, string to sign)), URL-encoded.
    param(
        [Parameter(Mandatory = $true)][string]$Verb,
        [Parameter(Mandatory = $true)][string]$ResourceType,
        [Parameter(Mandatory = $true)][AllowEmptyString()][string]$ResourceLink,
        [Parameter(Mandatory = $true)][string]$Date,
        [Parameter(Mandatory = $true)][string]$Key
    )
    $stringToSign = "$($Verb.ToLowerInvariant())`n$($ResourceType.ToLowerInvariant())`n$ResourceLink`n$($Date.ToLowerInvariant())`n`n"
    $hmac = New-Object System.Security.Cryptography.HMACSHA256 -ArgumentList (, [System.Convert]::FromBase64String($Key))
    try {
        $signature = [System.Convert]::ToBase64String($hmac.ComputeHash([System.Text.Encoding]::UTF8.GetBytes($stringToSign)))
    } finally {
        $hmac.Dispose()
    }
    return [System.Uri]::EscapeDataString("type=master&ver=1.0&sig=$signature")
}

function Get-CosmosTokenResource {
    # Entra ID tokens for the data plane are issued for the account's origin, e.g. https://name.documents.azure.com
    param([Parameter(Mandatory = $true)][string]$Endpoint)
    return ([System.Uri]$Endpoint).GetLeftPart([System.UriPartial]::Authority)
}

function Read-CosmosContainer {
    # Proof: read the container's definition through the data plane, signed with the fetched key
    # (keys mode) or carrying the identity's Entra ID token (rbac mode).
    param(
        [string]$Key,
        [string]$AadToken,
        [Parameter(Mandatory = $true)][string]$PrincipalId
    )
    $resourceLink = "dbs/$DatabaseName/colls/$ContainerName"
    $uri = $CosmosEndpoint.TrimEnd('/') + '/dbs/' + [System.Uri]::EscapeDataString($DatabaseName) + '/colls/' + [System.Uri]::EscapeDataString($ContainerName)
    $credential = @{ AadToken = $AadToken }
    # Cosmos DB answers 403 both for a missing data role (RBAC) and for its firewall.
    $rules = @(
        # A new Cosmos DB role assignment takes minutes to apply.
        New-RetryRule -Why 'no data-plane role yet (role assignment still propagating?)' -FirstDelaySeconds 15 -ForSeconds $RoleWaitSeconds -When {
            param($r) $r.StatusCode -eq 403 -and $r.Body -match 'RBAC'
        }
        # The account's network rules (VNet service endpoint, IP filter) take minutes to apply.
        New-RetryRule -Why 'network rules still applying?' -FirstDelaySeconds 15 -ForSeconds $NetworkWaitSeconds -When {
            param($r) $r.StatusCode -eq 403 -and $r.Body -notmatch 'RBAC'
        }
        New-RetryRule -Why 'a transient failure' -FirstDelaySeconds 2 -MaxDelaySeconds 64 -MaxRetries 6 -When { param($r) Test-Transient -Response $r }
    )
    $renew = $null
    if ($AadToken) {
        $renew = { $credential.AadToken = Get-ManagedIdentityToken -Resource (Get-CosmosTokenResource -Endpoint $CosmosEndpoint) }
    }
    $response = Invoke-WithRetry -Service 'Cosmos DB' -Rules $rules -RenewCredential $renew -Send {
        $date = (Get-UtcNow).ToString('r', [System.Globalization.CultureInfo]::InvariantCulture)
        if ($credential.AadToken) {
            $authorization = [System.Uri]::EscapeDataString('type=aad&ver=1.0&sig=' + $credential.AadToken)
        } else {
            $authorization = New-MasterKeyAuthorization -Verb 'GET' -ResourceType 'colls' -ResourceLink $resourceLink -Date $date -Key $Key
        }
        Invoke-HttpRequest -Uri $uri -Method GET -Headers @{ Authorization = $authorization; 'x-ms-date' = $date; 'x-ms-version' = $CosmosApiVersion }
    }
    if ($response.StatusCode -eq 200) { return ConvertFrom-Json -InputObject $response.Body }
    $note = Get-DeadlineNote -Response $response
    if ($response.StatusCode -eq 403 -and $response.Body -match 'RBAC') {
        $role = $DataRoles[$AccessLevel]
        Stop-Script -Reason RoleMissing -Message "the VM's identity (principal id $PrincipalId) has no Cosmos DB data role on $AccountId. Assign it '$($role.Name)' ($($role.Id)) with a Cosmos DB SQL role assignment scoped to the account; new assignments can take minutes to apply (waited up to $RoleWaitSeconds s).$note"
    }
    switch ($response.StatusCode) {
        0 { Stop-Script -Reason NetworkBlocked -Message "cannot reach Cosmos DB at $CosmosEndpoint ($($response.Failure)). The VM needs outbound HTTPS (443) to it.$note" }
        401 { Stop-Script -Reason CredentialRejected -Message "Cosmos DB rejected the $AccessMode credential for $resourceLink (HTTP 401: $($response.Body)). With keys: is local (key) authentication disabled on the account, or is the VM's clock more than 15 minutes off? With rbac: was the token issued for $(Get-CosmosTokenResource -Endpoint $CosmosEndpoint)?" }
        403 { Stop-Script -Reason NetworkBlocked -Message "Cosmos DB refused this VM (HTTP 403: $($response.Body)). Check the account's firewall: it must admit this VM's subnet or address (waited up to $NetworkWaitSeconds s).$note" }
        404 { Stop-Script -Reason NotFound -Message "container '$ContainerName' in database '$DatabaseName' does not exist in account '$AccountName'." }
    }
    Stop-Script -Reason Unexpected -Message "Cosmos DB read of $resourceLink failed: HTTP $($response.StatusCode) $($response.Body)$note"
}

function Get-KeyFingerprint {
    # Identifies a key without revealing it: the first 8 hex digits of its SHA-256.
    param([Parameter(Mandatory = $true)][string]$Key)
    $sha = [System.Security.Cryptography.SHA256]::Create()
    try {
        $hash = $sha.ComputeHash([System.Text.Encoding]::UTF8.GetBytes($Key))
    } finally {
        $sha.Dispose()
    }
    return 'sha256:' + (($hash[0..3] | ForEach-Object { $_.ToString('x2') }) -join '')
}

try {
    if ($AccessMode -eq 'rbac') {
        # Keyless: an Entra ID token for the account's data plane; no keys are fetched or accepted.
        Write-Host "Cosmos DB account '$AccountName' (Entra ID, $($DataRoles[$AccessLevel].Name)), subscription $SubscriptionId"
        $token = Get-ManagedIdentityToken -Resource (Get-CosmosTokenResource -Endpoint $CosmosEndpoint)
        $principalId = Get-TokenObjectId -Token $token
        Write-Host "Managed identity token acquired for the data plane (principal id $principalId)"
        $container = Read-CosmosContainer -AadToken $token -PrincipalId $principalId
        Write-Host "OK: the identity's Entra ID token read container '$($container.id)' in database '$DatabaseName' (partition key $($container.partitionKey.paths -join ',')); no key involved"
    } else {
        $role = $KeyRoles[$AccessLevel]
        Write-Host "Cosmos DB account '$AccountName' ($AccessLevel keys), subscription $SubscriptionId"
        $token = Get-ManagedIdentityToken -Resource $ResourceManagerEndpoint
        $principalId = Get-TokenObjectId -Token $token
        Write-Host "Managed identity token acquired (principal id $principalId)"

        $keys = Get-CosmosAccountKeys -Token $token -PrincipalId $principalId
        foreach ($name in $KeyProperties) {
            $value = $keys.PSObject.Properties[$name]
            if ($null -ne $value) { Write-Host "  ${name}: $(Get-KeyFingerprint -Key ([string]$value.Value))" }
        }
        if ($ShowKeys) { $keys | Format-List | Out-String | Write-Host }

        $primaryKey = [string]$keys.($role.PrimaryKey)
        if (-not $primaryKey) {
            Stop-Script -Reason Unexpected -Message "the $($role.Operation) response has no $($role.PrimaryKey)"
        }
        $container = Read-CosmosContainer -Key $primaryKey -PrincipalId $principalId
        Write-Host "OK: the $($role.PrimaryKey) read container '$($container.id)' in database '$DatabaseName' (partition key $($container.partitionKey.paths -join ','))"

        if ($PassThru) { Write-Output $keys }
    }
} catch {
    Stop-Script -Reason Unexpected -Message "$($_.Exception.Message) (line $($_.InvocationInfo.ScriptLineNumber))"
}
