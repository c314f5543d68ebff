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
    [ValidateRange(0, 3600)]
    [int]$RoleWaitSeconds = 900,
    [ValidateRange(0, 3600)]
    [int]$NetworkWaitSeconds = 600,
    [switch]$ShowKeys,
    [switch]$PassThru
)

$ErrorActionPreference = 'Stop'
# Windows PowerShell 5.1 runs on .NET Framework, which may not offer TLS 1.2 by default;
# Resource Manager and Cosmos DB (minimum TLS 1.2) require it.
[Net.ServicePointManager]::SecurityProtocol = [Net.ServicePointManager]::SecurityProtocol -bor [Net.SecurityProtocolType]::Tls12

$ImdsTokenUri = 'http://169.254.169.254/metadata/identity/oauth2/token'
$ImdsApiVersion = '2018-02-01'
$ImdsMaxAttempts = 7
$ArmApiVersion = '{{armApiVersion}}'
$CosmosApiVersion = '2018-12-31'
$TransientMaxAttempts = 6
$KeyRoles = @{
    readonly  = @{ Name = '{{readonlyRoleName}}'; Id = '{{readonlyRoleId}}'; Operation = 'readonlykeys'; PrimaryKey = 'primaryReadonlyMasterKey' }
    readwrite = @{ Name = '{{readwriteRoleName}}'; Id = '{{readwriteRoleId}}'; Operation = 'listKeys'; PrimaryKey = 'primaryMasterKey' }
}
$DataRoles = @{
    readonly  = @{ Name = '{{readonlyDataRoleName}}'; Id = '{{readonlyDataRoleId}}' }
    readwrite = @{ Name = '{{readwriteDataRoleName}}'; Id = '{{readwriteDataRoleId}}' }
}
$ExitCodes = @{ Unexpected = 1; NoManagedIdentity = 2; RoleMissing = 3; NotFound = 4; NetworkBlocked = 5; CredentialRejected = 6 }

function Stop-Script {
    param(
        [Parameter(Mandatory = $true)][string]$Reason,
        [Parameter(Mandatory = $true)][AllowEmptyString()][string]$Message
    )
    [Console]::Error.WriteLine("ERROR ($Reason): $Message")
    exit $ExitCodes[$Reason]
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
    $request = [System.Net.HttpWebRequest]::Create($Uri)
    $request.Method = $Method
    $request.Timeout = $TimeoutSeconds * 1000
    $request.ReadWriteTimeout = $TimeoutSeconds * 1000
    if ($BypassProxy) {
        $request.Proxy = $null
    } elseif ($null -ne $request.Proxy) {
        # An authenticating proxy gets the account's own credentials, as browsers give them.
        $request.Proxy.Credentials = [Net.CredentialCache]::DefaultNetworkCredentials
    }
    foreach ($name in $Headers.Keys) { $request.Headers[$name] = [string]$Headers[$name] }
    if ($Method -eq 'POST') { $request.ContentLength = 0 }
    $response = $null
    try {
        $response = $request.GetResponse()
    } catch {
        $webError = $_.Exception
        while ($null -ne $webError -and -not ($webError -is [System.Net.WebException])) { $webError = $webError.InnerException }
        if ($null -eq $webError) { throw }
        $response = $webError.Response
        if ($null -eq $response) {
            # No HTTP answer at all: timeout, name resolution failure, connection refused or reset.
            return [pscustomobject]@{ StatusCode = 0; Body = ''; RetryAfter = 0; Failure = "$($webError.Status): $($webError.Message)" }
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

function Wait-BeforeRetry {
    param([int]$Seconds, [int]$RetryAfter, [string]$Why)
    $wait = [Math]::Max($Seconds, $RetryAfter)
    Write-Host "  $Why; retrying in $wait s"
    Start-Sleep -Seconds $wait
}

function Get-ManagedIdentityToken {
    param([Parameter(Mandatory = $true)][string]$Resource)
    $uri = $ImdsTokenUri + '?api-version=' + $ImdsApiVersion + '&resource=' + [Uri]::EscapeDataString($Resource)
    $delaySeconds = 2
    for ($attempt = 1; $attempt -le $ImdsMaxAttempts; $attempt++) {
        # IMDS is host-local: a proxy would only break it.
        $response = Invoke-HttpRequest -Uri $uri -Method GET -Headers @{ Metadata = 'true' } -BypassProxy -TimeoutSeconds 10
        if ($response.StatusCode -eq 200) { return (ConvertFrom-Json -InputObject $response.Body).access_token }
        # Microsoft documents 404 (IMDS starting), 410 (IMDS updating, back within 70 s), 429 and 5xx as retryable.
        $retryable = ($response.StatusCode -in @(0, 404, 410, 429)) -or ($response.StatusCode -ge 500)
        if (-not $retryable -or $attempt -eq $ImdsMaxAttempts) { break }
        Wait-BeforeRetry -Seconds $delaySeconds -RetryAfter $response.RetryAfter -Why "IMDS answered $($response.StatusCode) $($response.Failure) (attempt $attempt of $ImdsMaxAttempts)"
        $delaySeconds = [Math]::Min($delaySeconds * 2, 60)
    }
    if ($response.StatusCode -eq 0) {
        Stop-Script -Reason NoManagedIdentity -Message "cannot reach the instance metadata service at 169.254.169.254 ($($response.Failure)). Run this script on the Azure VM itself."
    }
    if ($response.StatusCode -eq 400) {
        Stop-Script -Reason NoManagedIdentity -Message "IMDS has no identity for this VM ($($response.Body)). Enable the VM's system-assigned managed identity."
    }
    Stop-Script -Reason Unexpected -Message "IMDS did not issue a token for $Resource after $attempt attempts: HTTP $($response.StatusCode) $($response.Body)"
}

function Get-TokenObjectId {
    # The token's oid claim is the identity's principal id: what a role assignment must name.
    param([Parameter(Mandatory = $true)][string]$Token)
    try {
        $payload = $Token.Split('.')[1].Replace('-', '+').Replace('_', '/')
        $payload = $payload.PadRight($payload.Length + (4 - $payload.Length % 4) % 4, '=')
        $claims = ConvertFrom-Json -InputObject ([Text.Encoding]::UTF8.GetString([Convert]::FromBase64String($payload)))
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
    $accountId = "/subscriptions/$SubscriptionId/resourceGroups/$ResourceGroupName/providers/Microsoft.DocumentDB/databaseAccounts/$AccountName"
    $uri = $ResourceManagerEndpoint.TrimEnd('/') + $accountId + '/' + $role.Operation + '?api-version=' + $ArmApiVersion
    $deadline = [DateTime]::UtcNow.AddSeconds($RoleWaitSeconds)
    $delaySeconds = 5
    $transientFailures = 0
    $tokenRefreshed = $false
    while ($true) {
        $response = Invoke-HttpRequest -Uri $uri -Method POST -Headers @{ Authorization = "Bearer $Token" }
        if ($response.StatusCode -eq 200) { return ConvertFrom-Json -InputObject $response.Body }
        $code = Get-ErrorCode -Body $response.Body
        if ($response.StatusCode -eq 401 -and -not $tokenRefreshed) {
            # The token expired during a long wait: IMDS hands out a fresh one.
            $Token = Get-ManagedIdentityToken -Resource $ResourceManagerEndpoint
            $tokenRefreshed = $true
            continue
        }
        if ($response.StatusCode -eq 403 -and $code -eq 'AuthorizationFailed' -and [DateTime]::UtcNow -lt $deadline) {
            # A new role assignment takes minutes to reach Resource Manager's cache.
            Wait-BeforeRetry -Seconds $delaySeconds -RetryAfter 0 -Why "no permission yet for $($role.Operation) (role assignment still propagating?)"
            $delaySeconds = [Math]::Min($delaySeconds * 2, 30)
            continue
        }
        if ((Test-Transient -Response $response) -and $transientFailures -lt $TransientMaxAttempts) {
            $transientFailures++
            Wait-BeforeRetry -Seconds ([Math]::Pow(2, $transientFailures)) -RetryAfter $response.RetryAfter -Why "Resource Manager answered $($response.StatusCode) $($response.Failure)"
            continue
        }
        break
    }
    switch ($response.StatusCode) {
        0 { Stop-Script -Reason NetworkBlocked -Message "cannot reach Resource Manager at $ResourceManagerEndpoint ($($response.Failure)). The VM needs outbound HTTPS (443) to it: check NSG outbound rules, firewalls and proxies." }
        403 { Stop-Script -Reason RoleMissing -Message "the VM's identity (principal id $PrincipalId) may not call $($role.Operation) on $accountId ($code). Assign it the role '$($role.Name)' ($($role.Id)) on that scope; new assignments can take up to 10 minutes to apply (waited $RoleWaitSeconds s)." }
        404 { Stop-Script -Reason NotFound -Message "no Cosmos DB account '$AccountName' in resource group '$ResourceGroupName' of subscription $SubscriptionId ($code)." }
    }
    Stop-Script -Reason Unexpected -Message "Resource Manager refused $($role.Operation): HTTP $($response.StatusCode) $code $($response.Body)"
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
    $hmac = New-Object System.Security.Cryptography.HMACSHA256 -ArgumentList (, [Convert]::FromBase64String($Key))
    try {
        $signature = [Convert]::ToBase64String($hmac.ComputeHash([Text.Encoding]::UTF8.GetBytes($stringToSign)))
    } finally {
        $hmac.Dispose()
    }
    return [Uri]::EscapeDataString("type=master&ver=1.0&sig=$signature")
}

function Get-CosmosTokenResource {
    # Entra ID tokens for the data plane are issued for the account's origin, e.g. https://name.documents.azure.com
    param([Parameter(Mandatory = $true)][string]$Endpoint)
    return ([Uri]$Endpoint).GetLeftPart([UriPartial]::Authority)
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
    $uri = $CosmosEndpoint.TrimEnd('/') + '/dbs/' + [Uri]::EscapeDataString($DatabaseName) + '/colls/' + [Uri]::EscapeDataString($ContainerName)
    $roleDeadline = [DateTime]::UtcNow.AddSeconds($RoleWaitSeconds)
    $networkDeadline = [DateTime]::UtcNow.AddSeconds($NetworkWaitSeconds)
    $transientFailures = 0
    $tokenRefreshed = $false
    while ($true) {
        $date = [DateTime]::UtcNow.ToString('r')
        if ($AadToken) {
            $authorization = [Uri]::EscapeDataString("type=aad&ver=1.0&sig=$AadToken")
        } else {
            $authorization = New-MasterKeyAuthorization -Verb 'GET' -ResourceType 'colls' -ResourceLink $resourceLink -Date $date -Key $Key
        }
        $response = Invoke-HttpRequest -Uri $uri -Method GET -Headers @{ Authorization = $authorization; 'x-ms-date' = $date; 'x-ms-version' = $CosmosApiVersion }
        if ($response.StatusCode -eq 200) { return ConvertFrom-Json -InputObject $response.Body }
        if ($response.StatusCode -eq 401 -and $AadToken -and -not $tokenRefreshed) {
            # The token expired during a long wait: IMDS hands out a fresh one.
            $AadToken = Get-ManagedIdentityToken -Resource (Get-CosmosTokenResource -Endpoint $CosmosEndpoint)
            $tokenRefreshed = $true
            continue
        }
        # Cosmos DB answers 403 both for a missing data role (RBAC) and for its firewall.
        $rbacDenied = $response.StatusCode -eq 403 -and $response.Body -match 'RBAC'
        if ($rbacDenied -and [DateTime]::UtcNow -lt $roleDeadline) {
            # A new Cosmos DB role assignment takes minutes to apply.
            Wait-BeforeRetry -Seconds 15 -RetryAfter 0 -Why 'no data-plane role yet (role assignment still propagating?)'
            continue
        }
        if ($response.StatusCode -eq 403 -and -not $rbacDenied -and [DateTime]::UtcNow -lt $networkDeadline) {
            # The account's network rules (VNet service endpoint, IP filter) take minutes to apply.
            Wait-BeforeRetry -Seconds 15 -RetryAfter 0 -Why 'Cosmos DB refused the connection (403: network rules still applying?)'
            continue
        }
        if ((Test-Transient -Response $response) -and $transientFailures -lt $TransientMaxAttempts) {
            $transientFailures++
            Wait-BeforeRetry -Seconds ([Math]::Pow(2, $transientFailures)) -RetryAfter $response.RetryAfter -Why "Cosmos DB answered $($response.StatusCode) $($response.Failure)"
            continue
        }
        break
    }
    $role = $DataRoles[$AccessLevel]
    $accountId = "/subscriptions/$SubscriptionId/resourceGroups/$ResourceGroupName/providers/Microsoft.DocumentDB/databaseAccounts/$AccountName"
    if ($rbacDenied) {
        Stop-Script -Reason RoleMissing -Message "the VM's identity (principal id $PrincipalId) has no Cosmos DB data role on $accountId. Assign it '$($role.Name)' ($($role.Id)) with a Cosmos DB SQL role assignment scoped to the account; new assignments can take minutes to apply (waited $RoleWaitSeconds s)."
    }
    switch ($response.StatusCode) {
        0 { Stop-Script -Reason NetworkBlocked -Message "cannot reach Cosmos DB at $CosmosEndpoint ($($response.Failure)). The VM needs outbound HTTPS (443) to it." }
        401 { Stop-Script -Reason CredentialRejected -Message "Cosmos DB rejected the $AccessMode credential for $resourceLink (HTTP 401: $($response.Body)). With keys: is local (key) authentication disabled on the account, or is the VM's clock more than 15 minutes off? With rbac: was the token issued for $(Get-CosmosTokenResource -Endpoint $CosmosEndpoint)?" }
        403 { Stop-Script -Reason NetworkBlocked -Message "Cosmos DB refused this VM (HTTP 403: $($response.Body)). Check the account's firewall: it must admit this VM's subnet or address." }
        404 { Stop-Script -Reason NotFound -Message "container '$ContainerName' in database '$DatabaseName' does not exist in account '$AccountName'." }
    }
    Stop-Script -Reason Unexpected -Message "Cosmos DB read of $resourceLink failed: HTTP $($response.StatusCode) $($response.Body)"
}

function Get-KeyFingerprint {
    # Identifies a key without revealing it: the first 8 hex digits of its SHA-256.
    param([Parameter(Mandatory = $true)][string]$Key)
    $sha = [System.Security.Cryptography.SHA256]::Create()
    try {
        $hash = $sha.ComputeHash([Text.Encoding]::UTF8.GetBytes($Key))
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
        Write-Host "Cosmos DB account '$AccountName' ($AccessLevel keys), subscription $SubscriptionId"
        $token = Get-ManagedIdentityToken -Resource $ResourceManagerEndpoint
        $principalId = Get-TokenObjectId -Token $token
        Write-Host "Managed identity token acquired (principal id $principalId)"

        $keys = Get-CosmosAccountKeys -Token $token -PrincipalId $principalId
        foreach ($property in $keys.PSObject.Properties) {
            if ($property.Name -like '*MasterKey') { Write-Host "  $($property.Name): $(Get-KeyFingerprint -Key ([string]$property.Value))" }
        }
        if ($ShowKeys) { $keys | Format-List | Out-String | Write-Host }

        $primaryKey = [string]$keys.($KeyRoles[$AccessLevel].PrimaryKey)
        if (-not $primaryKey) {
            Stop-Script -Reason Unexpected -Message "the $($KeyRoles[$AccessLevel].Operation) response has no $($KeyRoles[$AccessLevel].PrimaryKey)"
        }
        $container = Read-CosmosContainer -Key $primaryKey -PrincipalId $principalId
        Write-Host "OK: the $($KeyRoles[$AccessLevel].PrimaryKey) read container '$($container.id)' in database '$DatabaseName' (partition key $($container.partitionKey.paths -join ','))"

        if ($PassThru) { Write-Output $keys }
    }
} catch {
    Stop-Script -Reason Unexpected -Message "$($_.Exception.Message) (line $($_.InvocationInfo.ScriptLineNumber))"
}
