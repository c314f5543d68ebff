// The key-fetch script, read with a real PowerShell grammar: syntax, Windows PowerShell 5.1
// compatibility, parameters, the requests it makes, its retry policy, its errors, what it prints,
// and its Cosmos DB signature checked against Microsoft's own implementation (@azure/cosmos).
import { strict as assert } from "node:assert";
import * as crypto from "node:crypto";
import { before, describe, it } from "node:test";
import { setAuthorizationTokenHeaderUsingMasterKey } from "@azure/cosmos";
import type { Node, Tree } from "web-tree-sitter";
import type { AccessLevel, AccessMode } from "../lib/config";
import { ARM_API_VERSION, KeyFetchScriptValues, psQuote, renderKeyFetchScript } from "../lib/keyFetchScript";
import { DATA_ACCESS_ROLES, KEY_ACCESS_ROLES } from "../lib/roles";
import {
    allNodes, assignedValue, assignmentsTo, commands, functionDefinition, guardedBy, Interpreter, InvokedCommand, parsePowerShell,
    ps51Problems, scriptParameters, syntaxErrors, unwrap,
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

/** The statement block the script's main body runs for a mode: the `if ($AccessMode -eq 'rbac')` branch or its else. */
function modeBranch(tree: Tree, mode: AccessMode): Node {
    const branch = allNodes(tree.rootNode).find((n) => n.type === "if_statement" && n.childForFieldName("condition")?.text === "$AccessMode -eq 'rbac'");
    assert.ok(branch, "the main body branches on the access mode");
    const block = mode === "rbac"
        ? branch.namedChildren.find((c) => c?.type === "statement_block")
        : branch.childForFieldName("else_clause")?.namedChildren.find((c) => c?.type === "statement_block");
    assert.ok(block);
    return block;
}

/** Arguments of the one call to a script function in a part of the script, evaluated in script scope. */
function callArguments(root: Node, functionName: string, interpreter: Interpreter): Record<string, unknown> {
    const calls = commands(root, functionName);
    assert.equal(calls.length, 1, `expected one call to ${functionName}`);
    const scope = interpreter.scriptScope();
    const args: Record<string, unknown> = {};
    for (const [name, node] of calls[0].parameters) {
        // Values computed at run time (a token, a key) are stood in for by their variable's name.
        args[name] = node ? tryEvaluate(interpreter, node, scope) : true;
    }
    return args;
}

function tryEvaluate(interpreter: Interpreter, node: Parameters<Interpreter["evaluate"]>[0], scope: ReturnType<Interpreter["scriptScope"]>): unknown {
    try {
        return interpreter.evaluate(node, scope);
    } catch {
        return `<${node.text}>`;
    }
}

interface Request {
    inFunction: string;
    method: string;
    uri: string;
    headers: Record<string, string>;
    bypassProxy: boolean;
    timeoutSeconds?: number;
}

/** The HTTP requests the script makes through the given functions: their Invoke-HttpRequest calls, evaluated in the function's scope. */
function requests(tree: Tree, interpreter: Interpreter, args: Record<string, Record<string, unknown>>): Request[] {
    const functionOf = (node: Node) => {
        let fn = node.parent;
        while (fn && fn.type !== "function_statement") fn = fn.parent;
        return fn ? allNodes(fn).find((n) => n.type === "function_name")!.text : "<script>";
    };
    return commands(tree.rootNode, "Invoke-HttpRequest").filter((call) => functionOf(call.node) in args).map((call: InvokedCommand) => {
        const inFunction = functionOf(call.node);
        const scope = interpreter.functionLocals(inFunction, args[inFunction] ?? {});
        const headersNode = call.parameters.get("headers");
        const headers: Record<string, string> = {};
        if (headersNode) {
            const body = allNodes(unwrap(headersNode)).find((n) => n.type === "hash_literal_body");
            for (const entry of body ? body.namedChildren.filter((n) => n?.type === "hash_entry") : []) {
                const [key, value] = entry!.namedChildren;
                headers[unwrap(key!).text.replace(/^'|'$/g, "")] = String(tryEvaluate(interpreter, value!, scope));
            }
        }
        const timeout = call.parameters.get("timeoutseconds");
        return {
            inFunction,
            method: call.parameters.get("method")!.text,
            uri: String(interpreter.evaluate(call.parameters.get("uri")!, scope)),
            headers,
            bypassProxy: call.parameters.has("bypassproxy"),
            timeoutSeconds: timeout ? Number(timeout.text) : undefined,
        };
    });
}

/** @azure/cosmos's header for a request at a fixed time: the SDK reads the clock itself. */
async function sdkAuthorization(verb: string, resourceType: string, resourceLink: string, key: string, at: Date) {
    const RealDate = Date;
    class FixedDate extends RealDate {
        constructor(...args: unknown[]) {
            if (args.length === 0) super(at.getTime());
            else super(args[0] as string | number | Date);
        }
    }
    globalThis.Date = FixedDate as DateConstructor;
    const headers: Record<string, string> = {};
    try {
        // The SDK's enums are string literal types; these are their values.
        await setAuthorizationTokenHeaderUsingMasterKey(
            verb as Parameters<typeof setAuthorizationTokenHeaderUsingMasterKey>[0], resourceLink,
            resourceType as Parameters<typeof setAuthorizationTokenHeaderUsingMasterKey>[2], headers, key);
    } finally {
        globalThis.Date = RealDate;
    }
    return { authorization: headers.authorization, date: headers["x-ms-date"] };
}

describe("the rendered script", () => {
    for (const { mode, level } of VARIANTS) {
        it(`parses with zero syntax errors (${mode}, ${level})`, () => {
            assert.deepEqual(syntaxErrors(treeFor(level, mode)), []);
        });

        it(`uses nothing Windows PowerShell 5.1 lacks (${mode}, ${level})`, () => {
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

    it("quotes every value so PowerShell reads back exactly what the stack passed", async () => {
        const awkward = values("readonly", { databaseName: "O'Brien $env:USERNAME `n \"x\"", containerName: "it\u2019s ${x}" });
        const tree = await parsePowerShell(renderKeyFetchScript(awkward));
        assert.deepEqual(syntaxErrors(tree), []);
        const scope = new Interpreter(tree).scriptScope();
        assert.equal(scope.get("DatabaseName"), awkward.databaseName);
        assert.equal(scope.get("ContainerName"), awkward.containerName);
        assert.equal(psQuote("a'b"), "'a''b'");
        assert.equal(psQuote("a\u2018b"), "'a\u2018\u2018b'");
    });
});

describe("the script's parameters", () => {
    it("default to the stack's values, in a param() block", () => {
        const tree = treeFor("readonly");
        const scope = new Interpreter(tree).scriptScope();
        const parameters = scriptParameters(tree);
        assert.deepEqual(parameters.map((p) => `${p.type} ${p.name}`), [
            "string SubscriptionId", "string ResourceGroupName", "string AccountName", "string AccessLevel", "string AccessMode", "string DatabaseName",
            "string ContainerName", "string ResourceManagerEndpoint", "string CosmosEndpoint", "int RoleWaitSeconds",
            "int NetworkWaitSeconds", "switch ShowKeys", "switch PassThru",
        ]);
        const expected = values("readonly");
        assert.equal(scope.get("SubscriptionId"), expected.subscriptionId);
        assert.equal(scope.get("ResourceGroupName"), expected.resourceGroupName);
        assert.equal(scope.get("AccountName"), expected.accountName);
        assert.equal(scope.get("AccessLevel"), "readonly");
        assert.equal(scope.get("AccessMode"), "keys");
        assert.equal(new Interpreter(treeFor("readwrite", "rbac")).scriptScope().get("AccessMode"), "rbac");
        assert.equal(scope.get("DatabaseName"), "Test");
        assert.equal(scope.get("ContainerName"), "Test");
        assert.equal(scope.get("ResourceManagerEndpoint"), "https://management.azure.com/");
        assert.equal(scope.get("CosmosEndpoint"), expected.cosmosEndpoint);
        assert.equal(scope.get("RoleWaitSeconds"), 900);
        assert.equal(scope.get("NetworkWaitSeconds"), 600);
        assert.equal(scope.get("ShowKeys"), false);
        assert.equal(scope.get("PassThru"), false);
        const accessLevel = parameters.find((p) => p.name === "AccessLevel")!;
        assert.ok(accessLevel.attributes.includes("[ValidateSet('readonly', 'readwrite')]"));
        assert.ok(parameters.find((p) => p.name === "AccessMode")!.attributes.includes("[ValidateSet('keys', 'rbac')]"));
        for (const wait of ["RoleWaitSeconds", "NetworkWaitSeconds"]) {
            assert.ok(parameters.find((p) => p.name === wait)!.attributes.includes("[ValidateRange(0, 3600)]"), `${wait} is bounded`);
        }
    });

    it("maps each access level to its role and keys operation, as the stack grants them", () => {
        const scope = new Interpreter(treeFor("readonly")).scriptScope();
        const roles = scope.get("KeyRoles") as { get(key: string): { get(key: string): unknown } };
        for (const level of ACCESS_LEVELS) {
            const role = roles.get(level);
            assert.equal(role.get("Name"), KEY_ACCESS_ROLES[level].name);
            assert.equal(role.get("Id"), KEY_ACCESS_ROLES[level].id);
            assert.equal(role.get("Operation"), KEY_ACCESS_ROLES[level].keysOperation);
        }
        assert.equal(roles.get("readonly").get("PrimaryKey"), "primaryReadonlyMasterKey");
        assert.equal(roles.get("readwrite").get("PrimaryKey"), "primaryMasterKey");
        const dataRoles = scope.get("DataRoles") as { get(key: string): { get(key: string): unknown } };
        for (const level of ACCESS_LEVELS) {
            assert.equal(dataRoles.get(level).get("Name"), DATA_ACCESS_ROLES[level].name);
            assert.equal(dataRoles.get(level).get("Id"), DATA_ACCESS_ROLES[level].id);
        }
    });
});

describe("the script's requests", () => {
    const KEY = Buffer.from("a test key for the cosmos-vm-identity signature check").toString("base64");
    const NOW = new Date("2026-11-29T18:10:41Z");
    const accountId = `/subscriptions/${SUBSCRIPTION}/resourceGroups/cosmos-vm-identity-rg/providers/Microsoft.DocumentDB/databaseAccounts/tutorial-cosmos1a2b`;

    for (const level of ACCESS_LEVELS) {
        it(`keys mode (${level}): a Resource Manager token from IMDS, the ${level} keys from Resource Manager, the container read signed with the key`, async () => {
            const tree = treeFor(level, "keys");
            const interpreter = new Interpreter(tree, { now: NOW });
            const main = modeBranch(tree, "keys");
            assert.deepEqual(callArguments(main, "Read-CosmosContainer", interpreter), { key: "<$primaryKey>", principalid: "<$principalId>" });
            const args = {
                "Get-ManagedIdentityToken": callArguments(main, "Get-ManagedIdentityToken", interpreter),
                "Get-CosmosAccountKeys": callArguments(main, "Get-CosmosAccountKeys", interpreter),
                "Read-CosmosContainer": { Key: KEY, PrincipalId: "principal" },
            };
            const operation = level === "readonly" ? "readonlykeys" : "listKeys";
            const signed = await sdkAuthorization("GET", "colls", "dbs/Test/colls/Test", KEY, NOW);
            assert.deepEqual(requests(tree, interpreter, args), [
                {
                    inFunction: "Get-ManagedIdentityToken",
                    method: "GET",
                    // The exact token resource: Resource Manager, with its trailing slash.
                    uri: "http://169.254.169.254/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https%3A%2F%2Fmanagement.azure.com%2F",
                    headers: { Metadata: "true" },
                    bypassProxy: true,
                    timeoutSeconds: 10,
                },
                {
                    inFunction: "Get-CosmosAccountKeys",
                    method: "POST",
                    uri: `https://management.azure.com${accountId}/${operation}?api-version=${ARM_API_VERSION}`,
                    headers: { Authorization: "Bearer <$token>" },
                    bypassProxy: false,
                    timeoutSeconds: undefined,
                },
                {
                    inFunction: "Read-CosmosContainer",
                    method: "GET",
                    uri: "https://tutorial-cosmos1a2b.documents.azure.com:443/dbs/Test/colls/Test",
                    // Signed exactly as Microsoft's SDK signs the same request.
                    headers: { Authorization: signed.authorization, "x-ms-date": signed.date, "x-ms-version": "2018-12-31" },
                    bypassProxy: false,
                    timeoutSeconds: undefined,
                },
            ]);
        });

        it(`rbac mode (${level}): a data-plane token from IMDS for the account, the container read with type=aad, no key request`, () => {
            const tree = treeFor(level, "rbac");
            const interpreter = new Interpreter(tree, { now: NOW });
            const main = modeBranch(tree, "rbac");
            assert.equal(commands(main, "Get-CosmosAccountKeys").length, 0, "no keys are fetched");
            assert.deepEqual(callArguments(main, "Read-CosmosContainer", interpreter), { aadtoken: "<$token>", principalid: "<$principalId>" });
            const args = {
                "Get-ManagedIdentityToken": callArguments(main, "Get-ManagedIdentityToken", interpreter),
                "Read-CosmosContainer": { AadToken: "eyJ0eXAi.token.sig", PrincipalId: "principal" },
            };
            assert.deepEqual(requests(tree, interpreter, args), [
                {
                    inFunction: "Get-ManagedIdentityToken",
                    method: "GET",
                    // The account's data plane, without the port: https://tutorial-cosmos1a2b.documents.azure.com
                    uri: "http://169.254.169.254/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https%3A%2F%2Ftutorial-cosmos1a2b.documents.azure.com",
                    headers: { Metadata: "true" },
                    bypassProxy: true,
                    timeoutSeconds: 10,
                },
                {
                    inFunction: "Read-CosmosContainer",
                    method: "GET",
                    uri: "https://tutorial-cosmos1a2b.documents.azure.com:443/dbs/Test/colls/Test",
                    headers: { Authorization: encodeURIComponent("type=aad&ver=1.0&sig=eyJ0eXAi.token.sig"), "x-ms-date": NOW.toUTCString(), "x-ms-version": "2018-12-31" },
                    bypassProxy: false,
                    timeoutSeconds: undefined,
                },
            ]);
        });
    }

    it("signs the container read for exactly that request: GET, colls, dbs/Test/colls/Test, the same x-ms-date", () => {
        const tree = treeFor("readonly");
        const fn = functionDefinition(tree.rootNode, "Read-CosmosContainer");
        const [sign] = commands(fn, "New-MasterKeyAuthorization");
        assert.equal(sign.parameters.get("verb")!.text, "'GET'");
        assert.equal(sign.parameters.get("resourcetype")!.text, "'colls'");
        assert.equal(sign.parameters.get("resourcelink")!.text, "$resourceLink");
        assert.equal(sign.parameters.get("date")!.text, "$date");
        assert.equal(sign.parameters.get("key")!.text, "$Key");
        const scope = new Interpreter(tree).functionLocals("Read-CosmosContainer", { Key: "k" });
        assert.equal(scope.get("resourceLink"), "dbs/Test/colls/Test");
        assert.equal(unwrap(assignedValue(assignmentsTo(fn, "date")[0])).text, "[DateTime]::UtcNow.ToString('r')");
        assert.equal(scope.get("CosmosApiVersion"), "2018-12-31");
    });

    it("makes every request through one helper built on HttpWebRequest: no Internet Explorer engine, proxy bypass per request", () => {
        const tree = treeFor("readonly");
        assert.equal(commands(tree.rootNode).filter((c) => /^(invoke-webrequest|invoke-restmethod|iwr|irm|curl|wget)$/i.test(c.name)).length, 0);
        const helper = functionDefinition(tree.rootNode, "Invoke-HttpRequest");
        assert.ok(helper.text.includes("[System.Net.HttpWebRequest]::Create($Uri)"));
        const proxyAssignment = allNodes(helper).find((n) => n.type === "assignment_expression" && unwrap(n.namedChildren[0]!).text === "$request.Proxy");
        assert.ok(proxyAssignment, "the helper sets $request.Proxy");
        assert.equal(unwrap(assignedValue(proxyAssignment)).text, "$null");
        assert.ok(guardedBy(proxyAssignment, "BypassProxy"), "and only when -BypassProxy is given");
        // Other requests keep the system proxy, with the account's credentials for an authenticating one.
        assert.ok(helper.text.includes("$request.Proxy.Credentials = [Net.CredentialCache]::DefaultNetworkCredentials"));
        // Throttling hints: Retry-After (seconds) and Cosmos DB's x-ms-retry-after-ms.
        assert.ok(helper.text.includes("$response.Headers['Retry-After']") && helper.text.includes("$response.Headers['x-ms-retry-after-ms']"));
        // An answer that breaks off mid-body counts as no answer (status 0), which every caller retries.
        const readFailure = allNodes(helper).find((n) => n.type === "catch_clause" && n.text.includes("reading the response failed"));
        assert.ok(readFailure && readFailure.text.includes("StatusCode = 0"));
        // A POST without a body still needs Content-Length: 0, or servers answer 411.
        assert.ok(helper.text.includes("if ($Method -eq 'POST') { $request.ContentLength = 0 }"));
        // TLS 1.2 is switched on for .NET Framework before any request.
        const tls = allNodes(tree.rootNode).find((n) => n.type === "assignment_expression" && unwrap(n.namedChildren[0]!).text === "[Net.ServicePointManager]::SecurityProtocol");
        assert.ok(tls && tls.text.includes("-bor [Net.SecurityProtocolType]::Tls12"));
        assert.ok(tls.startIndex < helper.startIndex || tls.startIndex < commands(tree.rootNode, "Get-ManagedIdentityToken")[0].node.startIndex);
    });
});

describe("the script's retry policy", () => {
    it("retries IMDS on 404, 410, 429, 5xx and no answer, with exponential backoff, bounded and longer than IMDS's 70 s update window", () => {
        const tree = treeFor("readonly");
        const fn = functionDefinition(tree.rootNode, "Get-ManagedIdentityToken");
        const interpreter = new Interpreter(tree);
        const scope = interpreter.scriptScope();
        const retryable = unwrap(assignedValue(assignmentsTo(fn, "retryable")[0]));
        const inList = allNodes(retryable).find((n) => n.type === "comparison_expression"
            && n.namedChildren.some((child) => child?.type === "comparison_operator" && child.text === "-in"))!;
        assert.deepEqual(interpreter.evaluate(inList.namedChildren[inList.namedChildren.length - 1]!, scope), [0, 404, 410, 429]);
        assert.ok(retryable.text.includes("($response.StatusCode -ge 500)"));
        const attempts = scope.get("ImdsMaxAttempts") as number;
        assert.equal(attempts, 7);
        // Replay the delay schedule with the script's own expressions.
        const [initial, growth] = assignmentsTo(fn, "delaySeconds").map(assignedValue);
        const local = interpreter.functionLocals("Get-ManagedIdentityToken", { Resource: "r" });
        let delay = interpreter.evaluate(initial, local) as number;
        const delays: number[] = [];
        for (let attempt = 1; attempt < attempts; attempt++) {
            delays.push(delay);
            local.set("delaySeconds", delay);
            delay = interpreter.evaluate(growth, local) as number;
        }
        assert.deepEqual(delays, [2, 4, 8, 16, 32, 60]);
        const totalWait = delays.reduce((a, b) => a + b, 0);
        assert.ok(totalWait > 70 && totalWait < 180, `IMDS retries span ${totalWait} s`);
    });

    it("waits for a new role assignment (403 AuthorizationFailed) up to RoleWaitSeconds, then retries only transient failures, a bounded number of times", () => {
        const tree = treeFor("readonly");
        const fn = functionDefinition(tree.rootNode, "Get-CosmosAccountKeys");
        assert.ok(fn.text.includes("if ($response.StatusCode -eq 403 -and $code -eq 'AuthorizationFailed' -and [DateTime]::UtcNow -lt $deadline)"));
        // UTC: a daylight-saving change cannot stretch or cut the wait.
        assert.equal(unwrap(assignedValue(assignmentsTo(fn, "deadline")[0])).text, "[DateTime]::UtcNow.AddSeconds($RoleWaitSeconds)");
        // A token that expires during the wait is replaced once, not retried forever.
        assert.ok(fn.text.includes("if ($response.StatusCode -eq 401 -and -not $tokenRefreshed)"));
        assert.ok(fn.text.includes("(Test-Transient -Response $response) -and $transientFailures -lt $TransientMaxAttempts"));
        assert.equal(new Interpreter(tree).scriptScope().get("TransientMaxAttempts"), 6);
        const transient = functionDefinition(tree.rootNode, "Test-Transient");
        for (const condition of ["-eq 0", "-eq 408", "-eq 429", "-ge 500"]) assert.ok(transient.text.includes(`$Response.StatusCode ${condition}`), condition);
    });
});

describe("the script's failures", () => {
    const EXIT_CODES = { Unexpected: 1, NoManagedIdentity: 2, RoleMissing: 3, NotFound: 4, NetworkBlocked: 5, CredentialRejected: 6 };

    it("has a distinct exit code for each failure, and every failure uses one", () => {
        const tree = treeFor("readonly");
        const codes = new Interpreter(tree).scriptScope().get("ExitCodes") as { entries: Map<string, unknown> };
        assert.deepEqual(Object.fromEntries(codes.entries), EXIT_CODES);
        const reasons = commands(tree.rootNode, "Stop-Script").map((call) => call.parameters.get("reason")!.text);
        assert.deepEqual([...new Set(reasons)].sort(), Object.keys(EXIT_CODES).sort());
        const stop = functionDefinition(tree.rootNode, "Stop-Script");
        assert.ok(stop.text.includes("exit $ExitCodes[$Reason]"));
        assert.ok(stop.text.includes("[Console]::Error.WriteLine("));
    });

    it("says exactly what is missing when the role never arrives: role, role id, scope and principal id", () => {
        const tree = treeFor("readonly");
        const interpreter = new Interpreter(tree);
        const fn = functionDefinition(tree.rootNode, "Get-CosmosAccountKeys");
        const [roleMissing] = commands(fn, "Stop-Script").filter((call) => call.parameters.get("reason")!.text === "RoleMissing");
        const scope = interpreter.functionLocals("Get-CosmosAccountKeys", { Token: "t", PrincipalId: "7f0c1d2e-principal" });
        scope.set("code", "AuthorizationFailed");
        const message = String(interpreter.evaluate(roleMissing.parameters.get("message")!, scope));
        assert.equal(message,
            `the VM's identity (principal id 7f0c1d2e-principal) may not call readonlykeys on /subscriptions/${SUBSCRIPTION}/resourceGroups/cosmos-vm-identity-rg/providers/Microsoft.DocumentDB/databaseAccounts/tutorial-cosmos1a2b (AuthorizationFailed). `
            + "Assign it the role 'Cosmos DB Account Reader Role' (fbdf93bf-df7d-467e-a4d2-9458aa1360c8) on that scope; new assignments can take up to 10 minutes to apply (waited 900 s).");
    });

    it("in rbac mode, tells a missing data role (403 RBAC, waited for) from the firewall (403), and names the data role", () => {
        const tree = treeFor("readonly", "rbac");
        const interpreter = new Interpreter(tree);
        const fn = functionDefinition(tree.rootNode, "Read-CosmosContainer");
        const rbacDenied = assignedValue(assignmentsTo(fn, "rbacDenied")[0]);
        const scope = interpreter.functionLocals("Read-CosmosContainer", { AadToken: "t", PrincipalId: "p" });
        const denied = (status: number, body: string) => {
            scope.set("response", { StatusCode: status, Body: body });
            return interpreter.evaluate(rbacDenied, scope);
        };
        // Bodies as Cosmos DB returns them.
        assert.equal(denied(403, '{"code":"Forbidden","message":"Request blocked by Auth tutorial-cosmos : Request is blocked because principal [p] does not have required RBAC permissions to perform action [Microsoft.DocumentDB/databaseAccounts/readMetadata] on resource [dbs/Test/colls/Test]."}'), true);
        assert.equal(denied(403, '{"code":"Forbidden","message":"Request originated from IP 203.0.113.10 through public internet. This is blocked by your Cosmos DB account firewall settings."}'), false);
        assert.equal(denied(401, "RBAC"), false);
        assert.ok(fn.text.includes("if ($rbacDenied -and [DateTime]::UtcNow -lt $roleDeadline)"));
        assert.equal(unwrap(assignedValue(assignmentsTo(fn, "roleDeadline")[0])).text, "[DateTime]::UtcNow.AddSeconds($RoleWaitSeconds)");
        const [roleMissing] = commands(fn, "Stop-Script").filter((call) => call.parameters.get("reason")!.text === "RoleMissing");
        const local = interpreter.functionLocals("Read-CosmosContainer", { AadToken: "t", PrincipalId: "7f0c-principal" });
        const message = String(interpreter.evaluate(roleMissing.parameters.get("message")!, local));
        assert.equal(message, `the VM's identity (principal id 7f0c-principal) has no Cosmos DB data role on /subscriptions/${SUBSCRIPTION}/resourceGroups/cosmos-vm-identity-rg/providers/Microsoft.DocumentDB/databaseAccounts/tutorial-cosmos1a2b. `
            + "Assign it 'Cosmos DB Built-in Data Reader' (00000000-0000-0000-0000-000000000001) with a Cosmos DB SQL role assignment scoped to the account; new assignments can take minutes to apply (waited 900 s).");
    });

    it("tells apart no identity, missing account, blocked network and a rejected key", () => {
        const tree = treeFor("readonly");
        const byReason = (fnName: string) => commands(functionDefinition(tree.rootNode, fnName), "Stop-Script")
            .map((call) => `${call.parameters.get("reason")!.text}: ${call.parameters.get("message")!.text}`);
        const imds = byReason("Get-ManagedIdentityToken");
        assert.ok(imds.some((m) => m.startsWith("NoManagedIdentity") && m.includes("cannot reach the instance metadata service")));
        assert.ok(imds.some((m) => m.startsWith("NoManagedIdentity") && m.includes("Enable the VM's system-assigned managed identity")));
        const keys = byReason("Get-CosmosAccountKeys");
        assert.ok(keys.some((m) => m.startsWith("NotFound") && m.includes("no Cosmos DB account")));
        assert.ok(keys.some((m) => m.startsWith("NetworkBlocked") && m.includes("cannot reach Resource Manager")));
        const data = byReason("Read-CosmosContainer");
        assert.ok(data.some((m) => m.startsWith("CredentialRejected")));
        assert.ok(data.some((m) => m.startsWith("RoleMissing") && m.includes("no Cosmos DB data role")));
        assert.ok(data.some((m) => m.startsWith("NetworkBlocked") && m.includes("firewall")));
        assert.ok(data.some((m) => m.startsWith("NotFound") && m.includes("container")));
    });
});

describe("what the script prints", () => {
    it("never writes key material unless -ShowKeys (or returns it with -PassThru); otherwise only fingerprints", () => {
        const tree = treeFor("readwrite");
        const keyVariables = ["$keys", "$primaryKey", "$property"];
        const output = commands(tree.rootNode).filter((c) => /^(write-host|write-output|write-verbose|write-information|out-host|out-string|format-list|format-table)$/i.test(c.name));
        assert.ok(output.length > 5);
        for (const command of output) {
            const references = allNodes(command.node)
                .filter((n) => n.type === "variable" && keyVariables.includes(n.text))
                .filter((n) => {
                    // A key passed to Get-KeyFingerprint is hashed, not printed.
                    for (let p = n.parent; p && p.startIndex >= command.node.startIndex; p = p.parent) {
                        if (p.type === "command" && /^Get-KeyFingerprint\b/.test(p.text)) return false;
                    }
                    return !/^\$property\.Name$/.test(n.parent?.text ?? "");
                });
            if (references.length > 0) {
                assert.ok(guardedBy(command.node, "ShowKeys") || guardedBy(command.node, "PassThru"), `line ${command.node.startPosition.row + 1} prints key material: ${command.node.text}`);
            }
        }
        const passThru = commands(tree.rootNode, "Write-Output").filter((c) => guardedBy(c.node, "PassThru"));
        assert.deepEqual(passThru.map((c) => c.node.text), ["Write-Output $keys"]);
    });

    it("fingerprints a key as the first 8 hex digits of its SHA-256", () => {
        const tree = treeFor("readonly");
        const fingerprint = functionDefinition(tree.rootNode, "Get-KeyFingerprint").text;
        assert.ok(fingerprint.includes("[System.Security.Cryptography.SHA256]::Create()"));
        assert.ok(fingerprint.includes("$hash[0..3]"));
        assert.ok(fingerprint.includes("$_.ToString('x2')"));
        assert.equal(crypto.createHash("sha256").update("k").digest("hex").slice(0, 8).length, 8);
    });
});

describe("the master-key signature", () => {
    const cases = [
        { verb: "GET", resourceType: "colls", resourceLink: "dbs/Test/colls/Test", at: "2026-11-29T18:10:41Z" },
        { verb: "GET", resourceType: "dbs", resourceLink: "dbs/Test", at: "2027-02-01T00:00:00Z" },
        { verb: "POST", resourceType: "docs", resourceLink: "dbs/Test/colls/Test", at: "2026-01-05T09:03:07Z" },
        { verb: "PUT", resourceType: "docs", resourceLink: "dbs/Test/colls/Test/docs/item-1", at: "2030-12-31T23:59:59Z" },
        { verb: "DELETE", resourceType: "docs", resourceLink: "dbs/Orders/colls/Lines/docs/a b", at: "2026-07-04T12:00:00Z" },
        { verb: "GET", resourceType: "dbs", resourceLink: "", at: "2026-03-15T06:30:00Z" },
    ];

    for (const { verb, resourceType, resourceLink, at } of cases) {
        it(`matches @azure/cosmos for ${verb} ${resourceType} "${resourceLink}" at ${at}`, async () => {
            const tree = treeFor("readonly");
            const interpreter = new Interpreter(tree);
            for (const key of [crypto.randomBytes(64).toString("base64"), Buffer.from("cosmos-vm-identity test key").toString("base64")]) {
                const sdk = await sdkAuthorization(verb, resourceType, resourceLink, key, new Date(at));
                // The script passes the same x-ms-date it sends: [DateTime]::UtcNow.ToString('r'), RFC 1123 like toUTCString.
                const ours = interpreter.call("New-MasterKeyAuthorization", { Verb: verb, ResourceType: resourceType, ResourceLink: resourceLink, Date: sdk.date, Key: key });
                assert.equal(ours, sdk.authorization);
            }
        });
    }

    it("formats x-ms-date as the SDK does", () => {
        const at = new Date("2026-11-29T08:05:09Z");
        const interpreter = new Interpreter(treeFor("readonly"), { now: at });
        const fn = functionDefinition(treeFor("readonly").rootNode, "Read-CosmosContainer");
        const date = interpreter.evaluate(assignedValue(assignmentsTo(fn, "date")[0]), interpreter.scriptScope());
        assert.equal(date, "Sun, 29 Nov 2026 08:05:09 GMT");
        assert.equal(date, at.toUTCString());
    });
});

describe("the Windows PowerShell 5.1 check itself", () => {
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
            const problems = [...ps51Problems(tree), ...syntaxErrors(tree)];
            assert.ok(problems.length > 0, `${snippet} passed the check`);
        });
    }

    it("passes what 5.1 runs", async () => {
        const tree = await parsePowerShell("$r = Invoke-RestMethod -Uri $u -Method Get -Headers @{ Metadata = 'true' } -UseBasicParsing\n$j = ConvertFrom-Json -InputObject $t\n");
        assert.deepEqual([...ps51Problems(tree), ...syntaxErrors(tree)], []);
    });
});
