# Windows PowerShell 5.1 compatibility of scripts, read by PowerShell's own parser. Prints one JSON
# object, a report per script path: syntax errors, PowerShell 7 syntax and commands, and (with -Net48
# and the others) every .NET type and member the script uses that .NET Framework 4.8 or Windows
# PowerShell 5.1 lacks. One process checks many scripts: the reference assemblies load once.
#
# Types and members are looked up in reference assemblies through MetadataLoadContext (read, not
# run): .NET Framework 4.8's, and PowerShell Standard 5.1's for PowerShell's own types. Checked:
# type literals and casts, parameter types, attributes, New-Object type names, static members
# ([Convert]::X), and instance members wherever PowerShell's type inference knows the object's
# type (the script casts where it would not). Only members .NET itself has are compared, so
# PowerShell's adapted members (hashtable keys, PSObject properties) are out of scope.
param(
    [Parameter(Mandatory = $true)][string[]]$Path,
    # Of those, the paths whose .NET types and members need no check (syntax and PowerShell 7 only).
    [string[]]$SyntaxOnly = @(),
    [string]$Net48,
    [string]$PowerShell51,
    [string]$MetadataLoadContext
)
$ErrorActionPreference = 'Stop'
function Add-Problem([System.Management.Automation.Language.Ast]$Ast, [string]$What) {
    $problems.Add("$($Ast.Extent.StartLineNumber):$($Ast.Extent.StartColumnNumber) $What")
}

# --- PowerShell 7 syntax and commands --------------------------------------------------------------
$ps7Parameters = @{
    'invoke-webrequest' = @('noproxy', 'authentication', 'token', 'skiphttperrorcheck', 'maximumretrycount', 'retryintervalsec', 'skipcertificatecheck', 'statuscodevariable', 'responseheadersvariable', 'sslprotocol', 'form', 'resume', 'httpversion', 'connectiontimeoutseconds', 'operationtimeoutseconds', 'allowunencryptedauthentication', 'preserveauthorizationonredirect', 'custommethod', 'skipheadervalidation', 'allowinsecureredirect', 'preservehttpmethodonredirect', 'unixsocket')
    'convertfrom-json'  = @('ashashtable', 'depth', 'noenumerate', 'datekind')
    'convertto-json'    = @('enumsasstrings', 'asarray', 'escapehandling')
    'get-content'       = @('asbytestream')
    'set-content'       = @('asbytestream')
    'foreach-object'    = @('parallel', 'throttlelimit', 'asjob')
    'start-sleep'       = @('duration')
    'get-date'          = @('asutc', 'unixtimeseconds')
    'split-path'        = @('extension', 'leafbase')
    'select-object'     = @('skipindex')
    'test-connection'   = @('targetname', 'tcpport', 'mtusize', 'traceroute')
}
$ps7Parameters['invoke-restmethod'] = $ps7Parameters['invoke-webrequest']
$aliases = @{ iwr = 'invoke-webrequest'; irm = 'invoke-restmethod'; '%' = 'foreach-object'; foreach = 'foreach-object' }
$ps7Commands = @('join-string', 'get-error', 'test-json', 'convertfrom-markdown', 'show-markdown', 'get-markdownoption', 'set-markdownoption', 'remove-alias', 'get-uptime', 'remove-service')
$ps7Variables = @('iswindows', 'islinux', 'ismacos', 'iscoreclr', 'psstyle', 'psnativecommanduseerroractionpreference')
$ps7Encodings = @('utf8nobom', 'utf8bom', 'ansi')

# --- .NET Framework 4.8 and Windows PowerShell 5.1 types and members -----------------------------
if ($Net48) {
    Add-Type -Path $MetadataLoadContext
    $files = @(Get-ChildItem -Path $Net48 -Filter *.dll | ForEach-Object FullName) + @(Get-ChildItem -Path (Join-Path $Net48 'Facades') -Filter *.dll | ForEach-Object FullName) + @($PowerShell51)
    $context = New-Object System.Reflection.MetadataLoadContext -ArgumentList ([System.Reflection.PathAssemblyResolver]::new([string[]]$files)), 'mscorlib'
    $assemblies = New-Object System.Collections.Generic.List[System.Reflection.Assembly]
    foreach ($file in $files | Where-Object { $_ -notlike '*Facades*' }) {
        # A few files of the reference pack are native images, not assemblies.
        try { $assemblies.Add($context.LoadFromAssemblyPath($file)) } catch { }
    }
    $referenceTypes = @{}
    function Get-ReferenceType([Type]$Runtime) {
        # The same type (by full name) in .NET Framework 4.8 or PowerShell 5.1, or $null.
        $name = $Runtime.FullName
        if ($Runtime.IsArray) { $name = $Runtime.GetElementType().FullName }
        if (-not $referenceTypes.ContainsKey($name)) {
            $found = $null
            foreach ($assembly in $assemblies) {
                $found = $assembly.GetType($name, $false)
                if ($null -ne $found) { break }
            }
            $referenceTypes[$name] = $found
        }
        return $referenceTypes[$name]
    }
    function Test-Type([System.Management.Automation.Language.Ast]$At, [System.Management.Automation.Language.ITypeName]$TypeName, [switch]$Attribute) {
        $runtime = $TypeName.GetReflectionAttributeType()
        if (-not $Attribute -or $null -eq $runtime) { $runtime = $TypeName.GetReflectionType() }
        if ($null -eq $runtime) { $netfx.Add("$($At.Extent.StartLineNumber):$($At.Extent.StartColumnNumber) type [$($TypeName.FullName)] is unknown"); return $null }
        $checkedTypes.Add($runtime.FullName)
        if ($null -eq (Get-ReferenceType $runtime)) { $netfx.Add("$($At.Extent.StartLineNumber):$($At.Extent.StartColumnNumber) type [$($runtime.FullName)] is not in .NET Framework 4.8 or Windows PowerShell 5.1") }
        return $runtime
    }
    $memberVerdicts = @{}
    function Test-Member([System.Management.Automation.Language.Ast]$At, [Type]$Runtime, [string]$Member, [bool]$Static, [int]$Arguments) {
        # $Arguments: -1 for a property or field access, else the number of method arguments.
        $key = "$($Runtime.AssemblyQualifiedName)|$Member|$Static|$Arguments"
        if (-not $memberVerdicts.ContainsKey($key)) { $memberVerdicts[$key] = Get-MemberVerdict $Runtime $Member $Static $Arguments }
        if ($memberVerdicts[$key]) { $netfx.Add("$($At.Extent.StartLineNumber):$($At.Extent.StartColumnNumber) $($memberVerdicts[$key])") }
    }
    function Get-MemberVerdict([Type]$Runtime, [string]$Member, [bool]$Static, [int]$Arguments) {
        # '' when .NET Framework 4.8 (or PowerShell 5.1) has the member, else what is missing.
        $flags = [System.Reflection.BindingFlags]'Public,FlattenHierarchy'
        $flags = $flags -bor $(if ($Static) { [System.Reflection.BindingFlags]::Static } else { [System.Reflection.BindingFlags]::Instance })
        $accepts = {
            param($methods)
            @($methods | Where-Object {
                $parameters = $_.GetParameters()
                $required = @($parameters | Where-Object { -not $_.IsOptional }).Count
                $params = $parameters.Count -gt 0 -and @($parameters[-1].CustomAttributes | Where-Object { $_.AttributeType.Name -eq 'ParamArrayAttribute' }).Count -gt 0
                ($Arguments -ge $required -and $Arguments -le $parameters.Count) -or ($params -and $Arguments -ge $parameters.Count - 1)
            }).Count -gt 0
        }
        $present = {
            param([Type]$Type)
            if ($Arguments -lt 0) { return ($null -ne $Type.GetProperty($Member, $flags -bor [System.Reflection.BindingFlags]::IgnoreCase)) -or ($null -ne $Type.GetField($Member, $flags -bor [System.Reflection.BindingFlags]::IgnoreCase)) }
            $methods = @($Type.GetMethods($flags) | Where-Object { $_.Name -eq $Member })
            if (-not $Static -and $Type.IsInterface -eq $false) { $methods += @($Type.GetInterfaces() | ForEach-Object { $_.GetMethods() } | Where-Object { $_.Name -eq $Member }) }
            return (& $accepts $methods)
        }
        # PowerShell's own additions (adapted members, hashtable keys) are not .NET's: not compared.
        if (-not (& $present $Runtime)) { return '' }
        $reference = Get-ReferenceType $Runtime
        if ($null -eq $reference) { return '' }
        if (& $present $reference) { return '' }
        $what = if ($Arguments -lt 0) { $Member } else { "$Member() with $Arguments argument(s)" }
        return "[$($Runtime.FullName)]::$what is not in .NET Framework 4.8 or Windows PowerShell 5.1"
    }
    $inference = [psobject].Assembly.GetType('System.Management.Automation.AstTypeInference')
    $inferTypeOf = $inference.GetMethod('InferTypeOf', [System.Reflection.BindingFlags]'Static,NonPublic,Public', $null, [Type[]]@([System.Management.Automation.Language.Ast]), $null)

}

$reports = [ordered]@{}
# pwsh -File passes '-Path a,b' as one string.
$syntaxOnlyFiles = @($SyntaxOnly | ForEach-Object { $_ -split ',' })
foreach ($file in @($Path | ForEach-Object { $_ -split ',' })) {
    $problems = New-Object System.Collections.Generic.List[string]
    $netfx = New-Object System.Collections.Generic.List[string]
    $checkedTypes = New-Object System.Collections.Generic.List[string]
    $tokens = $null
    $parseErrors = $null
    $ast = [System.Management.Automation.Language.Parser]::ParseFile($file, [ref]$tokens, [ref]$parseErrors)
    $syntax = @($parseErrors | ForEach-Object { "$($_.Extent.StartLineNumber):$($_.Extent.StartColumnNumber) $($_.Message)" })
    $all = @($ast.FindAll({ $true }, $true))

    foreach ($node in $all) {
        $type = $node.GetType().Name
        if ($type -eq 'TernaryExpressionAst') { Add-Problem $node 'ternary operator ?: (PowerShell 7)' }
        if ($type -eq 'PipelineChainAst') { Add-Problem $node "pipeline chain operator $($node.Operator) (PowerShell 7)" }
        if ($type -eq 'BinaryExpressionAst' -and $node.Operator -eq 'QuestionQuestion') { Add-Problem $node 'null-coalescing operator ?? (PowerShell 7)' }
        if ($type -eq 'AssignmentStatementAst' -and $node.Operator -eq 'QuestionQuestionEquals') { Add-Problem $node 'null-coalescing assignment ??= (PowerShell 7)' }
        if (($type -eq 'MemberExpressionAst' -or $type -eq 'InvokeMemberExpressionAst' -or $type -eq 'IndexExpressionAst') -and $node.NullConditional) { Add-Problem $node 'null-conditional access ?. or ?[] (PowerShell 7)' }
        if ($type -eq 'PipelineAst' -and $node.Background) { Add-Problem $node 'background operator & (PowerShell 6)' }
        if ($type -eq 'VariableExpressionAst' -and $ps7Variables -contains $node.VariablePath.UserPath.ToLowerInvariant()) { Add-Problem $node "automatic variable `$$($node.VariablePath.UserPath) (PowerShell 6)" }
        if ($type -eq 'CommandAst') {
            $name = [string]$node.GetCommandName()
            if (-not $name) { continue }
            $name = $name.ToLowerInvariant()
            if ($aliases.ContainsKey($name)) { $name = $aliases[$name] }
            if ($ps7Commands -contains $name) { Add-Problem $node "cmdlet $name (PowerShell 6+)" }
            $elements = $node.CommandElements
            for ($i = 1; $i -lt $elements.Count; $i++) {
                $parameter = $elements[$i]
                if ($parameter -isnot [System.Management.Automation.Language.CommandParameterAst]) { continue }
                $parameterName = $parameter.ParameterName.ToLowerInvariant()
                foreach ($ps7 in @($ps7Parameters[$name])) {
                    if ($ps7 -and $parameterName.Length -ge 2 -and $ps7.StartsWith($parameterName)) { Add-Problem $node "$name -$ps7 (PowerShell 6+)" }
                }
                if ($parameterName -eq 'encoding') {
                    $value = $parameter.Argument
                    if ($null -eq $value -and $i + 1 -lt $elements.Count) { $value = $elements[$i + 1] }
                    if ($null -ne $value -and $ps7Encodings -contains $value.Extent.Text.Trim("'`"").ToLowerInvariant()) { Add-Problem $node "$name -Encoding $($value.Extent.Text) (PowerShell 6+)" }
                }
            }
            if (($name -eq 'invoke-webrequest' -or $name -eq 'invoke-restmethod') -and -not ($elements | Where-Object { $_ -is [System.Management.Automation.Language.CommandParameterAst] -and 'usebasicparsing'.StartsWith($_.ParameterName.ToLowerInvariant()) })) {
                Add-Problem $node "$name without -UseBasicParsing (fails where Internet Explorer was never set up)"
            }
        }
    }
    if ($Net48 -and $syntaxOnlyFiles -notcontains $file) {
        foreach ($node in $all) {
            if ($node -is [System.Management.Automation.Language.TypeExpressionAst] -or $node -is [System.Management.Automation.Language.TypeConstraintAst]) {
                $null = Test-Type $node $node.TypeName
            } elseif ($node -is [System.Management.Automation.Language.AttributeAst]) {
                $null = Test-Type $node $node.TypeName -Attribute
            } elseif ($node -is [System.Management.Automation.Language.CommandAst] -and $node.GetCommandName() -eq 'New-Object') {
                $elements = @($node.CommandElements | Select-Object -Skip 1)
                $typeArgument = $null
                for ($i = 0; $i -lt $elements.Count; $i++) {
                    if ($elements[$i] -is [System.Management.Automation.Language.CommandParameterAst]) {
                        if ('typename'.StartsWith($elements[$i].ParameterName.ToLowerInvariant())) { $typeArgument = $elements[$i + 1] }
                        $i++
                    } elseif ($null -eq $typeArgument) {
                        $typeArgument = $elements[$i]
                    }
                }
                if ($typeArgument -is [System.Management.Automation.Language.StringConstantExpressionAst]) {
                    $null = Test-Type $node ([System.Management.Automation.Language.TypeName]::new($typeArgument.Extent, $typeArgument.Value))
                } else {
                    Add-Problem $node 'New-Object without a literal type name: cannot check it'
                }
            } elseif ($node -is [System.Management.Automation.Language.MemberExpressionAst] -and $node.Member -is [System.Management.Automation.Language.StringConstantExpressionAst]) {
                $arguments = -1
                if ($node -is [System.Management.Automation.Language.InvokeMemberExpressionAst]) { $arguments = @($node.Arguments).Count }
                if ($node.Static -and $node.Expression -is [System.Management.Automation.Language.TypeExpressionAst]) {
                    $runtime = $node.Expression.TypeName.GetReflectionType()
                    if ($null -ne $runtime) { Test-Member $node $runtime $node.Member.Value $true $arguments }
                } elseif (-not $node.Static) {
                    foreach ($inferred in @($inferTypeOf.Invoke($null, @(, $node.Expression)))) {
                        $runtime = $inferred.Type
                        if ($null -eq $runtime -or $runtime -eq [object] -or $runtime -eq [type]) { continue }
                        Test-Member $node $runtime $node.Member.Value $false $arguments
                    }
                }
            }
        }
    }
    $reports[$file] = [ordered]@{
        syntax = @($syntax)
        powershell7 = @($problems)
        netfx = @($netfx)
        checkedTypes = @($checkedTypes | Sort-Object -Unique)
    }
}
ConvertTo-Json -Compress -Depth 5 -InputObject $reports
