// The key-fetch script as rendered, read without PowerShell: rendering (placeholders, quoting,
// ASCII), and what a real PowerShell grammar (tree-sitter's) can tell on any machine: syntax,
// Windows PowerShell 5.1 compatibility, parameters, the request helper, and that key material
// reaches output only behind -ShowKeys or -PassThru. What the script does is tested by running it
// in pwsh against loopback Azure fakes: test/keyFetchScript.pwsh.test.ts.
import { strict as assert } from "node:assert";
import { before, describe, it } from "node:test";
import type { Tree } from "web-tree-sitter";
import type { AccessLevel, AccessMode } from "../lib/config";
import { KEY_FETCH_DEADLINE_SECONDS, KeyFetchScriptValues, psQuote, renderKeyFetchScript } from "../lib/keyFetchScript";
import { VERIFICATION_TIMEOUT_SECONDS } from "../components/keyFetchVerification";
import {
    allNodes, assignedValue, commands, functionDefinition, guardedBy, parsePowerShell, ps51Problems, scriptParameters, syntaxErrors, unwrap,
} from "./support/powershell";

const SUBSCRIPTION = "00000000-1111-2222-3333-444444444444";
const ACCESS_LEVELS: AccessLevel[] = ["readonly", "readwrite"];
const ACCESS_MODES: AccessMode[] = ["keys", "rbac"];
const VARIANTS = ACCESS_MODES.flatMap((mode) => ACCESS_LEVELS.map((level) => ({ mode, level })));

function values(accessLevel: AccessLevel, overrides: Partial<KeyFetchScriptValues> = {}): KeyFetchScriptValues {
    return {
        subscriptionId: SUBSCRIPTION,
        resourceGroupName: "cosmos-vm-identity-rg",
        accountName: "tutorial-cosmos1a2b",
        accessLevel,
        accessMode: "keys",
        databaseName: "Test",
        containerName: "Test",
        resourceManagerEndpoint: "https://management.azure.com/",
        cosmosEndpoint: "https://tutorial-cosmos1a2b.documents.azure.com:443/",
        ...overrides,
    };
}

const scripts = new Map<string, { source: string; tree: Tree }>();
before(async () => {
    for (const { mode, level } of VARIANTS) {
        const source = renderKeyFetchScript(values(level, { accessMode: mode }));
        scripts.set(`${mode}/${level}`, { source, tree: await parsePowerShell(source) });
    }
});
const treeFor = (level: AccessLevel, mode: AccessMode = "keys") => scripts.get(`${mode}/${level}`)!.tree;

describe("the rendered script", () => {
    for (const { mode, level } of VARIANTS) {
        it(`parses with zero syntax errors and uses nothing Windows PowerShell 5.1 lacks (${mode}, ${level})`, () => {
            assert.deepEqual(syntaxErrors(treeFor(level, mode)), []);
            assert.deepEqual(ps51Problems(treeFor(level, mode)), []);
        });
    }

    it("has no placeholder left, and its only differences between variants are the AccessLevel and AccessMode defaults", () => {
        const base = scripts.get("keys/readonly")!.source;
        assert.ok(!base.includes("{{"));
        for (const { mode, level } of VARIANTS) {
            const expected = base
                .replace("[string]$AccessLevel = 'readonly'", `[string]$AccessLevel = '${level}'`)
                .replace("[string]$AccessMode = 'keys'", `[string]$AccessMode = '${mode}'`);
            assert.equal(scripts.get(`${mode}/${level}`)!.source, expected);
        }
    });

    it("is pure ASCII, whatever the names: Windows PowerShell 5.1 reads a BOM-less file in the ANSI code page", async () => {
        const source = renderKeyFetchScript(values("readonly", { databaseName: "Caf\u00e9 \u6570\u636e", containerName: "\u2018x\u2019 \ud83d\ude00" }));
        assert.match(source, /^[\x00-\x7f]*$/);
        assert.ok(source.includes("[string]$DatabaseName = ('Caf' + [char]0x00E9 + ' ' + [char]0x6570 + [char]0x636E),"));
        assert.ok(source.includes("[string]$ContainerName = ('' + [char]0x2018 + 'x' + [char]0x2019 + ' ' + [char]0xD83D + [char]0xDE00),"));
        assert.deepEqual(syntaxErrors(await parsePowerShell(source)), []);
    });

    it("quotes values as single-quoted literals: nothing inside is expanded", async () => {
        assert.equal(psQuote("a'b"), "'a''b'");
        assert.equal(psQuote("$env:USERNAME `n \"x\""), "'$env:USERNAME `n \"x\"'");
        assert.equal(psQuote(""), "''");
        // A first term that is a string: [char] + [char] would add up as numbers.
        assert.equal(psQuote("\u00e9\u00e9"), "('' + [char]0x00E9 + [char]0x00E9)");
        const tree = await parsePowerShell(renderKeyFetchScript(values("readonly", { databaseName: "O'Brien $env:USERNAME `n \"x\"" })));
        assert.deepEqual(syntaxErrors(tree), []);
    });
});

describe("the script's parameters", () => {
    it("default to the stack's values, in a param() block, with validated ranges and sets", () => {
        const parameters = scriptParameters(treeFor("readonly"));
        assert.deepEqual(parameters.map((p) => `${p.type} ${p.name} = ${p.defaultText ?? ""}`), [
            `string SubscriptionId = '${SUBSCRIPTION}'`,
            "string ResourceGroupName = 'cosmos-vm-identity-rg'",
            "string AccountName = 'tutorial-cosmos1a2b'",
            "string AccessLevel = 'readonly'",
            "string AccessMode = 'keys'",
            "string DatabaseName = 'Test'",
            "string ContainerName = 'Test'",
            "string ResourceManagerEndpoint = 'https://management.azure.com/'",
            "string CosmosEndpoint = 'https://tutorial-cosmos1a2b.documents.azure.com:443/'",
            "string ImdsEndpoint = 'http://169.254.169.254'",
            "int RoleWaitSeconds = 900",
            "int NetworkWaitSeconds = 600",
            `int DeadlineSeconds = ${KEY_FETCH_DEADLINE_SECONDS}`,
            "switch ShowKeys = ",
            "switch PassThru = ",
        ]);
        const attributes = (name: string) => parameters.find((p) => p.name === name)!.attributes;
        assert.ok(attributes("AccessLevel").includes("[ValidateSet('readonly', 'readwrite')]"));
        assert.ok(attributes("AccessMode").includes("[ValidateSet('keys', 'rbac')]"));
        for (const wait of ["RoleWaitSeconds", "NetworkWaitSeconds"]) assert.ok(attributes(wait).includes("[ValidateRange(0, 3600)]"), `${wait} is bounded`);
        assert.ok(attributes("DeadlineSeconds").includes("[ValidateRange(1, 86400)]"));
    });

    it("ends before Run Command gives up: the deadline default is below the deploy-time run's timeout", () => {
        assert.ok(KEY_FETCH_DEADLINE_SECONDS + 60 <= VERIFICATION_TIMEOUT_SECONDS, `${KEY_FETCH_DEADLINE_SECONDS} s vs ${VERIFICATION_TIMEOUT_SECONDS} s`);
    });

    it("Stop-Script accepts exactly the reasons that have an exit code", () => {
        const tree = treeFor("readonly");
        const stop = functionDefinition(tree.rootNode, "Stop-Script");
        const validateSet = allNodes(stop).find((n) => n.type === "attribute" && n.text.startsWith("[ValidateSet("))!;
        const reasons = [...validateSet.text.matchAll(/'(\w+)'/g)].map((m) => m[1]);
        const exitCodes = allNodes(tree.rootNode).find((n) => n.type === "assignment_expression" && n.text.startsWith("$ExitCodes = "))!;
        const codes = Object.fromEntries([...assignedValue(exitCodes).text.matchAll(/(\w+) = (\d+)/g)].map((m) => [m[1], Number(m[2])]));
        assert.deepEqual(codes, { Unexpected: 1, NoManagedIdentity: 2, RoleMissing: 3, NotFound: 4, NetworkBlocked: 5, CredentialRejected: 6 });
        assert.deepEqual([...reasons].sort(), Object.keys(codes).sort());
        const used = commands(tree.rootNode, "Stop-Script").map((call) => call.node.text.match(/-Reason (\w+)/)![1]);
        assert.deepEqual([...new Set(used)].sort(), Object.keys(codes).sort());
    });
});

describe("the script's requests", () => {
    it("go through one helper built on HttpWebRequest: no Internet Explorer engine, proxy bypass for IMDS only, TLS 1.2", () => {
        const tree = treeFor("readonly");
        assert.equal(commands(tree.rootNode).filter((c) => /^(invoke-webrequest|invoke-restmethod|iwr|irm|curl|wget)$/i.test(c.name)).length, 0);
        const helper = functionDefinition(tree.rootNode, "Invoke-HttpRequest");
        assert.ok(helper.text.includes("[System.Net.HttpWebRequest]([System.Net.WebRequest]::Create($Uri))"));
        const proxyAssignment = allNodes(helper).find((n) => n.type === "assignment_expression" && unwrap(n.namedChildren[0]!).text === "$request.Proxy");
        assert.ok(proxyAssignment && unwrap(assignedValue(proxyAssignment)).text === "$null");
        assert.ok(guardedBy(proxyAssignment, "BypassProxy"), "the proxy is dropped only with -BypassProxy");
        assert.deepEqual(commands(tree.rootNode, "Invoke-HttpRequest").filter((c) => c.parameters.has("bypassproxy")).map((c) => functionOf(c.node)), ["Get-ManagedIdentityToken"]);
        const tls = allNodes(tree.rootNode).find((n) => n.type === "assignment_expression" && unwrap(n.namedChildren[0]!).text === "[System.Net.ServicePointManager]::SecurityProtocol");
        assert.ok(tls && tls.text.includes("-bor [System.Net.SecurityProtocolType]::Tls12"));
    });

    it("are retried by one helper: Invoke-WithRetry is the only loop around a request", () => {
        const tree = treeFor("readonly");
        const loops = allNodes(tree.rootNode).filter((n) => ["while_statement", "for_statement", "do_statement", "foreach_statement"].includes(n.type))
            .filter((loop) => /Invoke-HttpRequest|& \$Send\b/.test(loop.text));
        assert.deepEqual(loops.map(functionOf), ["Invoke-WithRetry"]);
        assert.deepEqual(commands(tree.rootNode, "Invoke-WithRetry").map((c) => functionOf(c.node)), ["Get-ManagedIdentityToken", "Get-CosmosAccountKeys", "Read-CosmosContainer"]);
        assert.deepEqual(commands(tree.rootNode, "Start-Sleep").map((c) => functionOf(c.node)), ["Invoke-WithRetry"]);
    });
});

function functionOf(node: import("web-tree-sitter").Node): string {
    let fn = node.parent;
    while (fn && fn.type !== "function_statement") fn = fn.parent;
    return fn ? allNodes(fn).find((n) => n.type === "function_name")!.text : "<script>";
}

/** Variables that hold key or token material (PowerShell names are case-insensitive). */
const CREDENTIAL_VARIABLES = ["$keys", "$primarykey", "$value", "$key", "$token", "$aadtoken", "$credential", "$authorization"];
/** Cmdlets and functions that write to a stream a user or a log sees. */
const OUTPUT_COMMANDS = /^(write-host|write-output|write-verbose|write-information|write-warning|write-error|write-debug|write-progress|out-host|out-string|out-file|out-default|format-list|format-table|set-content|add-content|stop-script)$/i;

/**
 * Every place key or token material could reach output, as "line: text": a credential variable in
 * an output command, a [Console]:: write or a throw, unless the output is guarded by -ShowKeys or
 * -PassThru. A variable passed to Get-KeyFingerprint counts as masked only because that function
 * is checked too: it must hash its argument with SHA-256 and return nothing else. The streams of a
 * real run are checked in keyFetchScript.pwsh.test.ts.
 */
function maskingProblems(tree: Tree): string[] {
    const problems: string[] = [];
    const at = (node: import("web-tree-sitter").Node) => `line ${node.startPosition.row + 1}: ${node.text.slice(0, 120)}`;
    const fingerprint = functionDefinition(tree.rootNode, "Get-KeyFingerprint");
    const hashed = allNodes(fingerprint).filter((n) => n.type === "variable" && n.text.toLowerCase() === "$key" && n.parent?.type !== "script_parameter");
    if (hashed.length === 0) problems.push("Get-KeyFingerprint does not read its key");
    for (const use of hashed) {
        if (!ancestors(use, fingerprint).some((a) => a.type === "invokation_expression" && /^\$sha\.ComputeHash\(/i.test(a.text))) problems.push(`Get-KeyFingerprint uses its key outside $sha.ComputeHash: ${at(use)}`);
    }
    if (!/\$sha = \[System\.Security\.Cryptography\.SHA256\]::Create\(\)/.test(fingerprint.text)) problems.push("Get-KeyFingerprint does not hash with SHA-256");

    const sinks = [
        ...commands(tree.rootNode).filter((c) => OUTPUT_COMMANDS.test(c.name)).map((c) => c.node),
        ...allNodes(tree.rootNode).filter((n) => n.type === "invokation_expression" && /^\[Console\]::/i.test(n.text)),
        ...allNodes(tree.rootNode).filter((n) => n.type === "flow_control_statement" && /^throw\b/i.test(n.text)),
    ];
    for (const sink of sinks) {
        if (guardedBy(sink, "ShowKeys") || guardedBy(sink, "PassThru")) continue;
        const leaks = allNodes(sink)
            .filter((n) => n.type === "variable" && CREDENTIAL_VARIABLES.includes(n.text.toLowerCase()))
            .filter((n) => !ancestors(n, sink).some((a) => a.type === "command" && /^Get-KeyFingerprint\b/i.test(a.text)));
        if (leaks.length > 0) problems.push(`prints ${leaks.map((n) => n.text).join(", ")}: ${at(sink)}`);
    }
    return problems;
}

/** The ancestors of a node up to (and including) `top`. */
function ancestors(node: import("web-tree-sitter").Node, top: import("web-tree-sitter").Node): import("web-tree-sitter").Node[] {
    const found: import("web-tree-sitter").Node[] = [];
    for (let p = node.parent; p && p.startIndex >= top.startIndex && p.endIndex <= top.endIndex; p = p.parent) found.push(p);
    return found;
}

describe("what the script prints", () => {
    for (const { mode, level } of VARIANTS) {
        it(`never writes key or token material unless -ShowKeys (or returns it with -PassThru); otherwise only fingerprints (${mode}, ${level})`, () => {
            assert.deepEqual(maskingProblems(treeFor(level, mode)), []);
        });
    }

    it("returns the keys only with -PassThru, and shows them only with -ShowKeys", () => {
        const tree = treeFor("readwrite");
        assert.deepEqual(commands(tree.rootNode, "Write-Output").filter((c) => guardedBy(c.node, "PassThru")).map((c) => c.node.text), ["Write-Output $keys"]);
        assert.deepEqual(commands(tree.rootNode, "Write-Host").filter((c) => guardedBy(c.node, "ShowKeys")).map((c) => c.node.text), ["Write-Host"]);
    });

    it("the check itself catches a fingerprint that is not a hash, a printed token and a key in a warning or an error", async () => {
        const base = scripts.get("keys/readwrite")!.source;
        const broken = async (from: string, to: string) => {
            assert.ok(base.includes(from), `the script has no ${from}`);
            return maskingProblems(await parsePowerShell(base.replace(from, to)));
        };
        assert.match((await broken("return 'sha256:' + (($hash[0..3]", "return 'sha256:' + $Key + (($hash[0..3]")).join("\n"), /Get-KeyFingerprint uses its key outside \$sha\.ComputeHash/);
        assert.match((await broken("$hash = $sha.ComputeHash([System.Text.Encoding]::UTF8.GetBytes($Key))", "$hash = [System.Text.Encoding]::UTF8.GetBytes($Key)")).join("\n"), /outside \$sha\.ComputeHash/);
        assert.match((await broken('Write-Host "Managed identity token acquired (principal id $principalId)"', 'Write-Host "Managed identity token acquired: $token"')).join("\n"), /prints \$token: line \d+: Write-Host/);
        assert.match((await broken("$container = Read-CosmosContainer -Key $primaryKey", "Write-Warning \"key $primaryKey\"\n        $container = Read-CosmosContainer -Key $primaryKey")).join("\n"), /prints \$primaryKey: line \d+: Write-Warning/);
        assert.match((await broken("[Console]::Error.WriteLine(\"ERROR ($Reason): $Message\")", "[Console]::Error.WriteLine(\"ERROR ($Reason): $Message $keys\")")).join("\n"), /prints \$keys: line \d+: \[Console\]::Error/);
        assert.match((await broken("if ($null -eq $webError) { throw }", "if ($null -eq $webError) { throw \"$authorization\" }")).join("\n"), /prints \$authorization: line \d+: throw/);
    });
});

describe("the Windows PowerShell 5.1 check itself (tree-sitter)", () => {
    const flagged: Record<string, string> = {
        "null-coalescing": "$a = $b ?? 'c'",
        ternary: "$d = $e ? 1 : 2",
        "pipeline chain": "git pull && Write-Host ok",
        "-NoProxy": "Invoke-RestMethod -Uri $u -NoProxy -UseBasicParsing",
        "-SkipHttpErrorCheck": "Invoke-WebRequest -Uri $u -SkipHttpErrorCheck -UseBasicParsing",
        "abbreviated PowerShell 7 parameter": "Invoke-WebRequest -Uri $u -MaximumRetry 3 -UseBasicParsing",
        "-UseBasicParsing missing": "Invoke-WebRequest -Uri $u",
        "-AsHashtable": "$j = ConvertFrom-Json -InputObject $t -AsHashtable",
        "ForEach-Object -Parallel": "1..3 | ForEach-Object -Parallel { $_ }",
        "PowerShell 7 cmdlet": "$s = 1..3 | Join-String -Separator ','",
        "PowerShell 6 variable": "if ($IsWindows) { 1 }",
        "utf8NoBOM": "Set-Content -Path a.txt -Value x -Encoding utf8NoBOM",
        "-AsByteStream": "Get-Content -Path a.bin -AsByteStream",
    };
    for (const [name, snippet] of Object.entries(flagged)) {
        it(`flags ${name}`, async () => {
            const tree = await parsePowerShell(snippet + "\n");
            assert.ok([...ps51Problems(tree), ...syntaxErrors(tree)].length > 0, `${snippet} passed the check`);
        });
    }

    it("passes what 5.1 runs", async () => {
        const tree = await parsePowerShell("$r = Invoke-RestMethod -Uri $u -Method Get -Headers @{ Metadata = 'true' } -UseBasicParsing\n$j = ConvertFrom-Json -InputObject $t\n");
        assert.deepEqual([...ps51Problems(tree), ...syntaxErrors(tree)], []);
    });
});
