# Test driver: runs the key-fetch script once per scenario, as Run Command would, in this one
# PowerShell process. Scenarios arrive as JSON lines on standard input; one JSON result line per
# scenario goes to standard output (prefixed RESULT). Per scenario it records:
# - the exit code ($LASTEXITCODE after `& $script`, as `pwsh -File` would exit with it),
# - pipeline output, Write-Host (the information stream) and standard error ([Console]::Error,
#   where the script writes its one error line), each captured separately,
# - every wait: Start-Sleep is shadowed by a function here (a caller's function hides a cmdlet
#   from the scripts it runs), so waits are recorded, not slept,
# - and time itself: Get-Date is shadowed by a virtual clock that the recorded waits advance; the
#   fakes' clock follows through the scenario's control URL, so deadlines pass without waiting.
$ErrorActionPreference = 'Stop'

# Global: inside the script under test, $script: would mean that script's scope.
$global:TestClock = @{ Now = [DateTime]::MinValue; Waits = (New-Object System.Collections.Generic.List[double]); ControlUrl = '' }

function Start-Sleep {
    param([Parameter(Position = 0)][double]$Seconds, [int]$Milliseconds)
    $total = $Seconds + $Milliseconds / 1000
    $global:TestClock.Waits.Add($total)
    $global:TestClock.Now = $global:TestClock.Now.AddSeconds($total)
    if ($global:TestClock.ControlUrl) { $null = Invoke-RestMethod -Method Post -Uri "$($global:TestClock.ControlUrl)/advance?seconds=$total" -NoProxy }
}

function Get-Date {
    return $global:TestClock.Now
}

while ($true) {
    $line = [Console]::In.ReadLine()
    if ($null -eq $line) { break }
    $scenario = ConvertFrom-Json -InputObject $line -AsHashtable
    $global:TestClock.Waits.Clear()
    $global:TestClock.ControlUrl = $scenario.controlUrl
    $global:TestClock.Now = [DateTimeOffset]::FromUnixTimeMilliseconds([long]$scenario.startMs).UtcDateTime.AddSeconds([double]$scenario.clockSkewSeconds)
    $parameters = $scenario.parameters
    foreach ($switch in $scenario.switches) { $parameters[$switch] = $true }

    $errorWriter = New-Object System.IO.StringWriter
    $consoleError = [Console]::Error
    [Console]::SetError($errorWriter)
    $global:LASTEXITCODE = 0
    $uncaught = ''
    $records = @()
    try {
        $records = @(& $scenario.script @parameters *>&1)
    } catch {
        # What pwsh -File would do with a terminating error the script did not catch: exit 1.
        $uncaught = "$($_.Exception.Message)"
        $global:LASTEXITCODE = 1
    } finally {
        [Console]::SetError($consoleError)
    }
    $output = @($records | Where-Object { $_ -isnot [System.Management.Automation.InformationRecord] -and $_ -isnot [System.Management.Automation.ErrorRecord] -and $_ -isnot [System.Management.Automation.WarningRecord] })
    $result = [ordered]@{
        exitCode    = $global:LASTEXITCODE
        stderr      = $errorWriter.ToString()
        information = @($records | Where-Object { $_ -is [System.Management.Automation.InformationRecord] } | ForEach-Object { [string]$_.MessageData })
        errors      = @($records | Where-Object { $_ -is [System.Management.Automation.ErrorRecord] } | ForEach-Object { [string]$_ })
        warnings    = @($records | Where-Object { $_ -is [System.Management.Automation.WarningRecord] } | ForEach-Object { [string]$_.Message })
        stdout      = ($output | Out-String)
        output      = $output
        waits       = $global:TestClock.Waits.ToArray()
        uncaught    = $uncaught
    }
    [Console]::Out.WriteLine('RESULT ' + (ConvertTo-Json -InputObject $result -Depth 8 -Compress))
    [Console]::Out.Flush()
}
