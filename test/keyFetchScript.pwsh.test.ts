// The key-fetch script, run for real: PowerShell 7 (pwsh -NoProfile -NonInteractive, as Run
// Command runs scripts) against loopback fakes of IMDS, Resource Manager and the Cosmos DB data
// plane that enforce Azure's protocols. Every scenario asserts the exit code, the one standard
// error line, the output, the exact waits (recorded, not slept, on a virtual clock), that the
// fakes saw no protocol violation, and that no key the fakes issued leaked. Then Windows
// PowerShell 5.1 compatibility, checked with PowerShell's own parser and with the .NET Framework
// 4.8 reference assemblies. Needs pwsh: without it these tests are skipped (one line says how to
// enable them), except where CI=true or REQUIRE_PWSH=1, where a missing pwsh fails.
import { strict as assert } from "node:assert";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import { KEY_FETCH_DEADLINE_SECONDS, ARM_API_VERSION, KeyFetchScriptValues, renderKeyFetchScript } from "../lib/keyFetchScript";
import { VERIFICATION_TIMEOUT_SECONDS } from "../components/keyFetchVerification";
import type { AccessLevel, AccessMode } from "../lib/config";
import { cosmosError, firewallRefusal, rbacRefusal } from "./fakes/cosmosDataPlane";
import { FakeAzure, PRINCIPAL_ID, SCENARIO_START_MS } from "./fakes/azure";
import { armError } from "./fakes/resourceManager";
import {
    findNetFxReferences, findPwsh, NETFX_RESTORE, powershellRequired, PWSH_INSTALL, runPwshFile, ScriptDriver, ScriptResult,
} from "./support/pwsh";

const SUBSCRIPTION = "00000000-1111-2222-3333-444444444444";
const ACCOUNT = { subscriptionId: SUBSCRIPTION, resourceGroupName: "cosmos-vm-identity-rg", accountName: "tutorial-cosmos1a2b" };
const ACCOUNT_ID = `/subscriptions/${SUBSCRIPTION}/resourceGroups/cosmos-vm-identity-rg/providers/Microsoft.DocumentDB/databaseAccounts/tutorial-cosmos1a2b`;
const VARIANTS: { mode: AccessMode; level: AccessLevel }[] = [
    { mode: "keys", level: "readonly" }, { mode: "keys", level: "readwrite" }, { mode: "rbac", level: "readonly" }, { mode: "rbac", level: "readwrite" },
];
// Written out here, not imported from lib/roles.ts: the script must agree with Azure, not with itself.
const OPERATION = { readonly: "readonlykeys", readwrite: "listKeys" } as const;
const PRIMARY_KEY = { readonly: "primaryReadonlyMasterKey", readwrite: "primaryMasterKey" } as const;
const KEY_ROLE = {
    readonly: "'Cosmos DB Account Reader Role' (fbdf93bf-df7d-467e-a4d2-9458aa1360c8)",
    readwrite: "'DocumentDB Account Contributor' (5bd9cd88-fe45-4216-938b-f97437e15450)",
} as const;
const DATA_ROLE = {
    readonly: "'Cosmos DB Built-in Data Reader' (00000000-0000-0000-0000-000000000001)",
    readwrite: "'Cosmos DB Built-in Data Contributor' (00000000-0000-0000-0000-000000000002)",
} as const;

// ---------------------------------------------------------------------------------------------
// The tier: registered only when pwsh is here; otherwise one line says what was skipped.

interface TierTest { suite: string; name: string; fn: () => Promise<void> | void; netfx?: boolean }
const tierTests: TierTest[] = [];
const test = (suite: string, name: string, fn: TierTest["fn"], netfx = false) => tierTests.push({ suite, name, fn, netfx });

const pwsh = findPwsh();
const references = findNetFxReferences();
let azure: FakeAzure;
let driver: ScriptDriver;
let workDir: string;

/** The rendered script for a variant (and optional value overrides), saved as Run Command saves it: UTF-8 without BOM. */
function scriptFile(mode: AccessMode, level: AccessLevel, overrides: Partial<KeyFetchScriptValues> = {}, mutate?: (source: string) => string): string {
    let source = renderKeyFetchScript({
        ...ACCOUNT, accessMode: mode, accessLevel: level, databaseName: "Test", containerName: "Test",
        resourceManagerEndpoint: azure.resourceManager.endpoint, cosmosEndpoint: azure.cosmos.endpoint, ...overrides,
    });
    if (mutate) source = mutate(source);
    const file = path.join(workDir, `script-${fs.readdirSync(workDir).length}.ps1`);
    fs.writeFileSync(file, source, "utf8");
    return file;
}

interface Scenario {
    mode: AccessMode;
    level: AccessLevel;
    parameters?: Record<string, string | number>;
    switches?: string[];
    clockSkewSeconds?: number;
    render?: Partial<KeyFetchScriptValues>;
    mutate?: (source: string) => string;
    arrange?: () => void;
}

async function run(scenario: Scenario): Promise<ScriptResult> {
    azure.reset();
    if (scenario.mode === "rbac") azure.cosmos.localAuthDisabled = true;
    scenario.arrange?.();
    const result = await driver.run({
        script: scriptFile(scenario.mode, scenario.level, scenario.render, scenario.mutate),
        parameters: { ImdsEndpoint: azure.imds.origin, ...scenario.parameters },
        switches: scenario.switches ?? [],
        startMs: SCENARIO_START_MS,
        clockSkewSeconds: scenario.clockSkewSeconds ?? 0,
        controlUrl: azure.controlUrl,
    });
    assert.equal(result.uncaught, "", "the script let a terminating error escape");
    assert.deepEqual(result.errors, [], "nothing on the error stream but the one line");
    assert.deepEqual(result.warnings, []);
    assert.deepEqual(azure.violations(), [], "the fakes saw a request Azure would refuse");
    // Masking: no key the fakes issued anywhere, unless -ShowKeys asked for it (on the host) or
    // -PassThru (in the returned object only).
    const shown = scenario.switches?.includes("ShowKeys") ? "" : result.information.join("\n");
    const printed = scenario.switches?.includes("PassThru") ? "" : result.stdout;
    for (const key of azure.issuedKeys) {
        for (const [where, text] of Object.entries({ stderr: result.stderr, information: shown, stdout: printed })) {
            assert.ok(!text.includes(key), `a key leaked to ${where}`);
        }
    }
    return result;
}

/** The script's one error line, with its exit code. */
function assertFailure(result: ScriptResult, exitCode: number, reason: string, message: string | RegExp): void {
    assert.equal(result.exitCode, exitCode, `exit code (stderr: ${result.stderr})`);
    assert.ok(result.stderr.endsWith("\n") && result.stderr.split("\n").length === 2, `exactly one line on stderr: ${JSON.stringify(result.stderr)}`);
    const line = result.stderr.trimEnd();
    assert.ok(line.startsWith(`ERROR (${reason}): `), line);
    const text = line.slice(`ERROR (${reason}): `.length);
    if (typeof message === "string") assert.equal(text, message);
    else assert.match(text, message);
    assert.equal(result.stdout, "");
}

function assertSuccess(result: ScriptResult, { passThru = false } = {}): void {
    assert.equal(result.exitCode, 0, `exit code (stderr: ${result.stderr})`);
    assert.equal(result.stderr, "");
    // Nothing on the pipeline but the keys object, and that only with -PassThru.
    if (!passThru) assert.equal(result.stdout, "");
}

/** A loopback port nothing listens on: a connection there is refused at once. */
async function closedPort(): Promise<number> {
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as net.AddressInfo;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    return port;
}

// ---------------------------------------------------------------------------------------------
// Success, in both modes and both access levels.

for (const { mode, level } of VARIANTS) {
    test("the script against loopback Azure", `${mode}, ${level}: succeeds, printing fingerprints only, waiting for nothing`, async () => {
        const result = await run({ mode, level });
        assertSuccess(result);
        assert.deepEqual(result.waits, []);
        assert.equal(result.stdout, "");
        if (mode === "keys") {
            // A Resource Manager token (trailing slash kept), one keys call, the container read signed with the primary key.
            assert.deepEqual(azure.imds.requestedResources, [azure.resourceManager.endpoint]);
            assert.deepEqual(azure.resourceManager.calls.map((call) => call.operation), [OPERATION[level]]);
            assert.deepEqual(azure.cosmos.requests.map((request) => [request.resourceLink, request.credential]), [["dbs/Test/colls/Test", `master ${PRIMARY_KEY[level]}`]]);
            const fingerprinted = level === "readonly"
                ? ["primaryReadonlyMasterKey", "secondaryReadonlyMasterKey"]
                : ["primaryMasterKey", "secondaryMasterKey", "primaryReadonlyMasterKey", "secondaryReadonlyMasterKey"];
            assert.deepEqual(result.information, [
                `Cosmos DB account 'tutorial-cosmos1a2b' (${level} keys), subscription ${SUBSCRIPTION}`,
                `Managed identity token acquired (principal id ${PRINCIPAL_ID})`,
                ...fingerprinted.map((name) => `  ${name}: ${fingerprint(azure.keys[name as keyof typeof azure.keys])}`),
                `OK: the ${PRIMARY_KEY[level]} read container 'Test' in database 'Test' (partition key /id)`,
            ]);
        } else {
            // A token for the account's data plane (its origin), no Resource Manager call, the read carries the token.
            assert.deepEqual(azure.imds.requestedResources, [azure.cosmos.origin]);
            assert.deepEqual(azure.resourceManager.calls, []);
            assert.deepEqual(azure.cosmos.requests.map((request) => request.credential), ["aad"]);
            assert.deepEqual(result.information, [
                `Cosmos DB account 'tutorial-cosmos1a2b' (Entra ID, ${DATA_ROLE[level].split(" (")[0].slice(1, -1)}), subscription ${SUBSCRIPTION}`,
                `Managed identity token acquired for the data plane (principal id ${PRINCIPAL_ID})`,
                "OK: the identity's Entra ID token read container 'Test' in database 'Test' (partition key /id); no key involved",
            ]);
        }
    });
}

function fingerprint(key: string): string {
    return "sha256:" + crypto.createHash("sha256").update(key, "utf8").digest("hex").slice(0, 8);
}

for (const level of ["readonly", "readwrite"] as const) {
    test("the script against loopback Azure", `keys, ${level}: -ShowKeys prints the keys of the response, and only then`, async () => {
        const result = await run({ mode: "keys", level, switches: ["ShowKeys"] });
        assertSuccess(result);
        const shown = result.information.join("\n");
        const expected = level === "readonly" ? [azure.keys.primaryReadonlyMasterKey, azure.keys.secondaryReadonlyMasterKey] : azure.issuedKeys;
        for (const key of expected) assert.ok(shown.includes(key), "a key of the response is not shown");
        assert.equal(result.stdout, "");
    });

    test("the script against loopback Azure", `keys, ${level}: -PassThru returns the keys object`, async () => {
        const result = await run({ mode: "keys", level, switches: ["PassThru"] });
        assertSuccess(result, { passThru: true });
        const expected = level === "readonly"
            ? { primaryReadonlyMasterKey: azure.keys.primaryReadonlyMasterKey, secondaryReadonlyMasterKey: azure.keys.secondaryReadonlyMasterKey }
            : { ...azure.keys };
        assert.deepEqual(result.output, [expected]);
    });
}

// ---------------------------------------------------------------------------------------------
// IMDS.

for (const mode of ["keys", "rbac"] as const) {
    test("IMDS", `${mode}: 404, 410, 429 and 500 are retried after 2, 4, 8 and 16 s, then the token works`, async () => {
        const imdsError = (status: number) => ({ status, body: { error: "temporarily_unavailable", error_description: `IMDS ${status}` } });
        const result = await run({ mode, level: "readonly", arrange: () => azure.imds.answers.script([404, 410, 429, 500].map(imdsError)) });
        assertSuccess(result);
        assert.deepEqual(result.waits, [2, 4, 8, 16]);
        assert.deepEqual(result.information.slice(1, 5), [404, 410, 429, 500].map((status, i) => `  IMDS answered ${status}; IMDS may be starting or updating; retrying in ${[2, 4, 8, 16][i]} s`));
    });
}

test("IMDS", "a Retry-After longer than the backoff is honoured", async () => {
    const result = await run({ mode: "keys", level: "readonly", arrange: () => azure.imds.answers.script([{ status: 429, body: { error: "too_many_requests" }, headers: { "Retry-After": "9" } }]) });
    assertSuccess(result);
    assert.deepEqual(result.waits, [9]);
});

test("IMDS", "never answering: 6 retries over 122 s (longer than IMDS's 70 s update window), then exit 2", async () => {
    const port = await closedPort();
    const result = await run({ mode: "keys", level: "readonly", parameters: { ImdsEndpoint: `http://127.0.0.1:${port}` } });
    assertFailure(result, 2, "NoManagedIdentity", new RegExp(`^cannot reach the instance metadata service at http://127\\.0\\.0\\.1:${port} \\(\\w+: .+\\)\\. Run this script on the Azure VM itself\\.$`));
    assert.deepEqual(result.waits, [2, 4, 8, 16, 32, 60]);
});

test("IMDS", "400 (no identity on the VM): no retry, exit 2", async () => {
    const result = await run({ mode: "keys", level: "readonly", arrange: () => azure.imds.answers.script([], { status: 400, body: { error: "invalid_request", error_description: "Identity not found" } }) });
    assertFailure(result, 2, "NoManagedIdentity", `IMDS has no identity for this VM ({"error":"invalid_request","error_description":"Identity not found"}). Enable the VM's system-assigned managed identity.`);
    assert.deepEqual(result.waits, []);
});

test("IMDS", "rbac: the token resource is the account's origin, without a default port", async () => {
    const result = await run({
        mode: "rbac", level: "readonly", render: { cosmosEndpoint: "http://127.0.0.1:80/" },
        arrange: () => azure.imds.answers.script([], { status: 400, body: { error: "invalid_request", error_description: "Identity not found" } }),
    });
    assert.equal(result.exitCode, 2);
    assert.deepEqual(azure.imds.requestedResources, ["http://127.0.0.1"]);
});

// ---------------------------------------------------------------------------------------------
// Resource Manager.

for (const level of ["readonly", "readwrite"] as const) {
    test("Resource Manager", `${level}: 403 AuthorizationFailed three times (role propagating), then the keys: waits 5, 10, 20 s`, async () => {
        const denied = armError(403, "AuthorizationFailed", `The client '${PRINCIPAL_ID}' with object id '${PRINCIPAL_ID}' does not have authorization to perform action 'Microsoft.DocumentDB/databaseAccounts/${OPERATION[level]}/action' over scope '${ACCOUNT_ID}' or the scope is invalid.`);
        const result = await run({ mode: "keys", level, arrange: () => azure.resourceManager.answers.script([denied, denied, denied]) });
        assertSuccess(result);
        assert.deepEqual(result.waits, [5, 10, 20]);
        assert.equal(azure.resourceManager.calls.length, 4);
    });

    test("Resource Manager", `${level}: 403 past RoleWaitSeconds: exit 3 naming role, role id, scope and principal id`, async () => {
        const result = await run({
            mode: "keys", level, parameters: { RoleWaitSeconds: 60 },
            arrange: () => azure.resourceManager.answers.script([], armError(403, "AuthorizationFailed", "The client does not have authorization.")),
        });
        assertFailure(result, 3, "RoleMissing", `the VM's identity (principal id ${PRINCIPAL_ID}) may not call ${OPERATION[level]} on ${ACCOUNT_ID} (AuthorizationFailed). `
            + `Assign it the role ${KEY_ROLE[level]} on that scope; new assignments can take up to 10 minutes to apply (waited up to 60 s).`);
        // 5, 10, 20, then 30 s steps, the last cut to end exactly at RoleWaitSeconds.
        assert.deepEqual(result.waits, [5, 10, 20, 25]);
    });
}

test("Resource Manager", "401 once (token expired): a fresh token from IMDS, no wait", async () => {
    const result = await run({ mode: "keys", level: "readonly", arrange: () => azure.resourceManager.answers.script([armError(401, "ExpiredAuthenticationToken", "The access token expiry UTC time is earlier than current UTC time.")]) });
    assertSuccess(result);
    assert.deepEqual(result.waits, []);
    assert.equal(azure.imds.issued.length, 2);
    assert.deepEqual(azure.resourceManager.calls.map((call) => call.token), azure.imds.issued.map((issued) => issued.token));
});

test("Resource Manager", "401 twice: refreshed once, then exit 1 with the status", async () => {
    const result = await run({ mode: "keys", level: "readonly", arrange: () => azure.resourceManager.answers.script([], armError(401, "InvalidAuthenticationToken", "The access token is invalid.")) });
    assertFailure(result, 1, "Unexpected", `Resource Manager refused readonlykeys: HTTP 401 InvalidAuthenticationToken {"error":{"code":"InvalidAuthenticationToken","message":"The access token is invalid."}}`);
    assert.equal(azure.imds.issued.length, 2);
});

test("Resource Manager", "404 (no such account): exit 4", async () => {
    const result = await run({ mode: "keys", level: "readonly", arrange: () => azure.resourceManager.answers.script([armError(404, "ResourceNotFound", "The Resource 'Microsoft.DocumentDB/databaseAccounts/tutorial-cosmos1a2b' under resource group 'cosmos-vm-identity-rg' was not found.")]) });
    assertFailure(result, 4, "NotFound", `no Cosmos DB account 'tutorial-cosmos1a2b' in resource group 'cosmos-vm-identity-rg' of subscription ${SUBSCRIPTION} (ResourceNotFound).`);
    assert.deepEqual(result.waits, []);
});

test("Resource Manager", "429 with Retry-After: 7 s waited, as the server asked", async () => {
    const result = await run({ mode: "keys", level: "readonly", arrange: () => azure.resourceManager.answers.script([armError(429, "TooManyRequests", "Too many requests.", { "Retry-After": "7" })]) });
    assertSuccess(result);
    assert.deepEqual(result.waits, [7]);
});

test("Resource Manager", "a 5xx burst (500, 503, 502) is retried after 2, 4, 8 s", async () => {
    const result = await run({ mode: "keys", level: "readwrite", arrange: () => azure.resourceManager.answers.script([500, 503, 502].map((status) => armError(status, "InternalServerError", "Try again."))) });
    assertSuccess(result);
    assert.deepEqual(result.waits, [2, 4, 8]);
});

test("Resource Manager", "5xx that does not end: 6 retries, then exit 1 with the status and body", async () => {
    const result = await run({ mode: "keys", level: "readonly", arrange: () => azure.resourceManager.answers.script([], armError(503, "ServiceUnavailable", "Down.")) });
    assertFailure(result, 1, "Unexpected", `Resource Manager refused readonlykeys: HTTP 503 ServiceUnavailable {"error":{"code":"ServiceUnavailable","message":"Down."}}`);
    assert.deepEqual(result.waits, [2, 4, 8, 16, 32, 64]);
});

test("Resource Manager", "a body cut off mid-way counts as no answer and is retried", async () => {
    const result = await run({ mode: "keys", level: "readonly", arrange: () => azure.resourceManager.answers.script([{ status: 200, body: { primaryReadonlyMasterKey: "cut", secondaryReadonlyMasterKey: "off" }, cutOff: true }]) });
    assertSuccess(result);
    assert.deepEqual(result.waits, [2]);
    assert.match(result.information[2], /^ {2}Resource Manager did not answer \(reading the response failed: .+\); a transient failure; retrying in 2 s$/);
});

// ---------------------------------------------------------------------------------------------
// Cosmos DB data plane.

for (const mode of ["keys", "rbac"] as const) {
    test("Cosmos DB", `${mode}: firewall 403 twice (network rules applying), then the read: waits 15, 15 s`, async () => {
        const result = await run({ mode, level: "readonly", arrange: () => azure.cosmos.answers.script([firewallRefusal(), firewallRefusal()]) });
        assertSuccess(result);
        assert.deepEqual(result.waits, [15, 15]);
    });

    test("Cosmos DB", `${mode}: firewall 403 past NetworkWaitSeconds (not RoleWaitSeconds): exit 5`, async () => {
        const result = await run({ mode, level: "readonly", parameters: { NetworkWaitSeconds: 40, RoleWaitSeconds: 900 }, arrange: () => azure.cosmos.answers.script([], firewallRefusal()) });
        assertFailure(result, 5, "NetworkBlocked", /^Cosmos DB refused this VM \(HTTP 403: \{"code":"Forbidden","message":"Request originated from IP .+ firewall settings\..+"\}\)\. Check the account's firewall: it must admit this VM's subnet or address \(waited up to 40 s\)\.$/);
        assert.deepEqual(result.waits, [15, 15, 10]);
    });

    test("Cosmos DB", `${mode}: 404 (no such container): exit 4`, async () => {
        const result = await run({ mode, level: "readonly", parameters: { ContainerName: "Missing" } });
        assertFailure(result, 4, "NotFound", "container 'Missing' in database 'Test' does not exist in account 'tutorial-cosmos1a2b'.");
        assert.deepEqual(result.waits, []);
    });

    test("Cosmos DB", `${mode}: 429 with x-ms-retry-after-ms 3500: waits 4 s`, async () => {
        const result = await run({ mode, level: "readonly", arrange: () => azure.cosmos.answers.script([cosmosError(429, "TooManyRequests", "Request rate is large.", { "x-ms-retry-after-ms": "3500" })]) });
        assertSuccess(result);
        assert.deepEqual(result.waits, [4]);
    });
}

for (const level of ["readonly", "readwrite"] as const) {
    test("Cosmos DB", `rbac, ${level}: 403 RBAC twice (data role propagating), then the read`, async () => {
        const refusal = rbacRefusal(PRINCIPAL_ID, "dbs/Test/colls/Test");
        const result = await run({ mode: "rbac", level, arrange: () => azure.cosmos.answers.script([refusal, refusal]) });
        assertSuccess(result);
        assert.deepEqual(result.waits, [15, 15]);
    });

    test("Cosmos DB", `rbac, ${level}: 403 RBAC past RoleWaitSeconds: exit 3 naming the data role and principal id`, async () => {
        const result = await run({ mode: "rbac", level, parameters: { RoleWaitSeconds: 30, NetworkWaitSeconds: 600 }, arrange: () => azure.cosmos.answers.script([], rbacRefusal(PRINCIPAL_ID, "dbs/Test/colls/Test")) });
        assertFailure(result, 3, "RoleMissing", `the VM's identity (principal id ${PRINCIPAL_ID}) has no Cosmos DB data role on ${ACCOUNT_ID}. `
            + `Assign it ${DATA_ROLE[level]} with a Cosmos DB SQL role assignment scoped to the account; new assignments can take minutes to apply (waited up to 30 s).`);
        assert.deepEqual(result.waits, [15, 15]);
    });
}

test("Cosmos DB", "keys: 401 (local auth disabled on the account): exit 6", async () => {
    const result = await run({ mode: "keys", level: "readonly", arrange: () => { azure.cosmos.localAuthDisabled = true; } });
    assertFailure(result, 6, "CredentialRejected", /^Cosmos DB rejected the keys credential for dbs\/Test\/colls\/Test \(HTTP 401: .*Local Authorization is disabled.*\)\. With keys: is local \(key\) authentication disabled on the account, or is the VM's clock more than 15 minutes off\?/);
    assert.deepEqual(result.waits, []);
});

test("Cosmos DB", "rbac: 401 once renews the token; 401 again: exit 6", async () => {
    const result = await run({ mode: "rbac", level: "readonly", arrange: () => azure.cosmos.answers.script([], cosmosError(401, "Unauthorized", "The token has expired.")) });
    assertFailure(result, 6, "CredentialRejected", new RegExp(`^Cosmos DB rejected the rbac credential .+ With rbac: was the token issued for ${azure.cosmos.origin.replace(/\./g, "\\.")}\\?$`));
    assert.equal(azure.imds.issued.length, 2);
    assert.deepEqual(azure.cosmos.requests.map((request) => request.credential), ["aad", "aad"]);
});

test("Cosmos DB", "keys: a VM clock 10 minutes off is still within Cosmos DB's 15 minutes", async () => {
    const result = await run({ mode: "keys", level: "readonly", clockSkewSeconds: 600 });
    assertSuccess(result);
});

test("Cosmos DB", "keys: a VM clock 20 minutes off: Cosmos DB refuses the date, exit 6 mentions the clock", async () => {
    const result = await run({ mode: "keys", level: "readonly", clockSkewSeconds: 1200 });
    assertFailure(result, 6, "CredentialRejected", /not valid at the current time.+is the VM's clock more than 15 minutes off\?/);
});

// ---------------------------------------------------------------------------------------------
// The overall deadline, names, failures of the script itself.

test("deadline", "every wait, a server's Retry-After included, ends by DeadlineSeconds, and the script says so", async () => {
    const result = await run({
        mode: "keys", level: "readonly", parameters: { DeadlineSeconds: 100, RoleWaitSeconds: 900 },
        arrange: () => azure.resourceManager.answers.script([], armError(403, "AuthorizationFailed", "No.")),
    });
    assertFailure(result, 3, "RoleMissing", /\(waited up to 900 s\)\. Stopped at the script's deadline \(DeadlineSeconds 100\)\.$/);
    assert.deepEqual(result.waits, [5, 10, 20, 30, 30, 5]);

    const throttled = await run({
        mode: "keys", level: "readonly", parameters: { DeadlineSeconds: 120 },
        arrange: () => azure.resourceManager.answers.script([], armError(429, "TooManyRequests", "Slow down.", { "Retry-After": "3600" })),
    });
    assertFailure(throttled, 1, "Unexpected", /^Resource Manager refused readonlykeys: HTTP 429 .+ Stopped at the script's deadline \(DeadlineSeconds 120\)\.$/);
    assert.deepEqual(throttled.waits, [120]);
});

test("deadline", `the worst case at the defaults ends with the script's own diagnosis at ${KEY_FETCH_DEADLINE_SECONDS} s, before Run Command's ${VERIFICATION_TIMEOUT_SECONDS} s`, async () => {
    // IMDS slow to start, the role slow to propagate (the full RoleWaitSeconds), then Resource
    // Manager throttled with 10-minute Retry-Afters.
    const result = await run({
        mode: "keys", level: "readwrite",
        arrange: () => {
            azure.imds.answers.script(Array.from({ length: 6 }, () => ({ status: 500, body: { error: "unavailable" } })));
            const roleArrives = SCENARIO_START_MS + (122 + 900) * 1000;
            azure.resourceManager.answers.script([], () => azure.clockMs < roleArrives
                ? armError(403, "AuthorizationFailed", "Not yet.")
                : armError(503, "ServiceUnavailable", "Busy.", { "Retry-After": "600" }));
        },
    });
    assertFailure(result, 1, "Unexpected", new RegExp(`HTTP 503 .+ Stopped at the script's deadline \\(DeadlineSeconds ${KEY_FETCH_DEADLINE_SECONDS}\\)\\.$`));
    assert.equal(result.waits.reduce((a, b) => a + b, 0), KEY_FETCH_DEADLINE_SECONDS);
    assert.deepEqual(result.waits.slice(0, 6), [2, 4, 8, 16, 32, 60]);
    assert.deepEqual(result.waits.slice(-3), [600, 600, 58]);
    assert.ok(KEY_FETCH_DEADLINE_SECONDS < VERIFICATION_TIMEOUT_SECONDS);
});

test("names", "non-ASCII database and container names survive: the script is ASCII, PowerShell reads back the exact names", async () => {
    const databaseName = "Caf\u00e9 \u2018M\u00fcller\u2019s\u2019 \u6570\u636e \ud83d\ude00";
    const containerName = "\u00c5r\u2019s it's";
    const source = fs.readFileSync(scriptFile("keys", "readonly", { databaseName, containerName }), "utf8");
    assert.ok(/^[\x00-\x7f]*$/.test(source), "the rendered script has a non-ASCII character");
    const result = await run({ mode: "keys", level: "readonly", render: { databaseName, containerName }, arrange: () => { azure.cosmos.databaseName = databaseName; azure.cosmos.containerName = containerName; } });
    assertSuccess(result);
    // The fake decoded the path and verified the signature over the unencoded link: exact names.
    assert.deepEqual(azure.cosmos.requests.map((request) => request.resourceLink), [`dbs/${databaseName}/colls/${containerName}`]);
});

test("failures of the script itself", "Stop-Script takes only the known reasons: an unknown one exits 1, never 0", async () => {
    const result = await run({
        mode: "keys", level: "readonly",
        mutate: (source) => source.replace("Stop-Script -Reason NotFound", "Stop-Script -Reason NotFund"),
        arrange: () => azure.resourceManager.answers.script([armError(404, "ResourceNotFound", "Gone.")]),
    });
    assertFailure(result, 1, "Unexpected", /^Cannot validate argument on parameter 'Reason'\. The argument "NotFund" does not belong to the set/);
});

// ---------------------------------------------------------------------------------------------
// Windows PowerShell 5.1: PowerShell's own parser and the .NET Framework 4.8 reference assemblies.

interface CompatReport { syntax: string[]; powershell7: string[]; netfx: string[]; checkedTypes: string[] }

// Every script the compatibility tests read, checked in one pwsh run (the reference assemblies load once).
const compatSources = new Map<string, () => string>();
/** Of those, the ones whose .NET members need no look-up. */
const syntaxOnly = new Set<string>();
let compatReports: Promise<Map<string, CompatReport>> | undefined;

/** Runs the check (once, in the background: it overlaps the scenarios) and returns one script's report. */
async function compat(name: string): Promise<CompatReport> {
    compatReports ??= (async () => {
        const files = [...compatSources].map(([key, source], i) => {
            const file = path.join(workDir, `compat-${i}.ps1`);
            fs.writeFileSync(file, source(), "utf8");
            return [key, file] as const;
        });
        const args = ["-Path", files.map(([, file]) => file).join(",")];
        const skipped = files.filter(([key]) => syntaxOnly.has(key)).map(([, file]) => file);
        if (skipped.length > 0) args.push("-SyntaxOnly", skipped.join(","));
        if (references) args.push("-Net48", references.net48, "-PowerShell51", references.powershell51, "-MetadataLoadContext", references.metadataLoadContext);
        const result = await runPwshFile(pwsh!, path.join(__dirname, "support", "checkWindowsPowerShell51.ps1"), args);
        assert.equal(result.status, 0, result.stderr);
        const byFile = JSON.parse(result.stdout) as Record<string, CompatReport>;
        return new Map(files.map(([key, file]) => [key, byFile[file]]));
    })();
    return (await compatReports).get(name)!;
}

for (const { mode, level } of VARIANTS) {
    compatSources.set(`${mode}/${level}`, () => fs.readFileSync(scriptFile(mode, level), "utf8"));
    test("Windows PowerShell 5.1", `${mode}, ${level}: no syntax error, no PowerShell 7 syntax, command or parameter`, async () => {
        const report = await compat(`${mode}/${level}`);
        assert.deepEqual([...report.syntax, ...report.powershell7], []);
    });
}
// The variants differ only in two string defaults (keyFetchScript.test.ts): one suffices for .NET.
for (const { mode, level } of VARIANTS.slice(1)) syntaxOnly.add(`${mode}/${level}`);
test("Windows PowerShell 5.1", "no .NET type or member that .NET Framework 4.8 or Windows PowerShell 5.1 lacks", async () => {
    const report = await compat("keys/readonly");
    assert.deepEqual(report.netfx, []);
    // The check saw what the script uses: the types whose members it verified.
    for (const type of ["System.Convert", "System.Net.HttpWebRequest", "System.Net.HttpWebResponse", "System.Security.Cryptography.HMACSHA256", "System.Management.Automation.ValidateSetAttribute"]) {
        assert.ok(report.checkedTypes.includes(type), `${type} was not checked`);
    }
}, true);

const PS7_ONLY: Record<string, string> = {
    "ternary": "$d = $e ? 1 : 2",
    "null-coalescing": "$a = $b ?? 'c'",
    "null-coalescing assignment": "$a ??= 'c'",
    "null-conditional member": "${a}?.Name",
    "pipeline chain": "git pull && Write-Host ok",
    "-NoProxy": "Invoke-RestMethod -Uri $u -NoProxy -UseBasicParsing",
    "-SkipHttpErrorCheck": "Invoke-WebRequest -Uri $u -SkipHttpErrorCheck -UseBasicParsing",
    "abbreviated PowerShell 7 parameter": "Invoke-WebRequest -Uri $u -MaximumRetry 3 -UseBasicParsing",
    "-AsHashtable": "$j = ConvertFrom-Json -InputObject $t -AsHashtable",
    "ForEach-Object -Parallel": "1..3 | ForEach-Object -Parallel { $_ }",
    "PowerShell 7 cmdlet": "$s = 1..3 | Join-String -Separator ','",
    "PowerShell 6 variable": "if ($IsWindows) { 1 }",
    "utf8NoBOM": "Set-Content -Path a.txt -Value x -Encoding utf8NoBOM",
    "background operator": "Get-Process &",
    "Invoke-WebRequest without -UseBasicParsing": "Invoke-WebRequest -Uri $u",
};
const NETFX_MISSING: Record<string, string> = {
    "[Convert]::ToHexString (.NET 5+)": "$h = [Convert]::ToHexString([byte[]]@(1, 2))",
    "String.Contains(string, StringComparison) (.NET Core 2.1+)": "$s = 'abc'\n$null = $s.Contains('a', [StringComparison]::Ordinal)",
    "[System.Text.Json.JsonSerializer] (not in .NET Framework)": "$j = [System.Text.Json.JsonSerializer]",
    "[Math]::Clamp (.NET Core 2.0+)": "$n = [Math]::Clamp(5, 0, 2)",
};
const MUST_FLAG = [
    ...Object.entries(PS7_ONLY).map(([name, snippet]) => ({ name, snippet, netfx: false })),
    ...Object.entries(NETFX_MISSING).map(([name, snippet]) => ({ name, snippet, netfx: true })),
];
for (const { name, snippet, netfx } of MUST_FLAG) {
    compatSources.set(name, () => snippet + "\n");
    test("the Windows PowerShell 5.1 check itself", `flags ${name}`, async () => {
        const report = await compat(name);
        const found = netfx ? report.netfx : [...report.powershell7, ...report.syntax];
        assert.equal(found.length, 1, `${snippet}: ${JSON.stringify(report)}`);
    }, netfx);
}

compatSources.set("ToHexString in the script", () => {
    const source = fs.readFileSync(scriptFile("keys", "readonly"), "utf8");
    // (Not asserted here: a failure would fail every compatibility test, not this one.)
    return source.replace("return 'sha256:' + (($hash[0..3] | ForEach-Object { $_.ToString('x2') }) -join '')", "return 'sha256:' + [System.Convert]::ToHexString($hash, 0, 4).ToLowerInvariant()");
});
test("the Windows PowerShell 5.1 check itself", "flags [Convert]::ToHexString inside the real script", async () => {
    const report = await compat("ToHexString in the script");
    assert.equal(report.netfx.length, 1);
    assert.match(report.netfx[0], /\[System\.Convert\]::ToHexString\(\) with 3 argument\(s\) is not in \.NET Framework 4\.8/);
}, true);

compatSources.set("5.1 runs it", () => "$r = Invoke-RestMethod -Uri $u -Method Get -Headers @{ Metadata = 'true' } -UseBasicParsing\n$j = ConvertFrom-Json -InputObject $t\n$b = [Convert]::ToBase64String([byte[]]@(1))\n");
test("the Windows PowerShell 5.1 check itself", "passes what 5.1 runs", async () => {
    const report = await compat("5.1 runs it");
    assert.deepEqual([...report.syntax, ...report.powershell7, ...report.netfx], []);
}, true);

// ---------------------------------------------------------------------------------------------
// Registration.

function register(tests: TierTest[]): void {
    const suites = [...new Set(tests.map((t) => t.suite))];
    for (const suite of suites) {
        describe(suite, () => {
            for (const t of tests.filter((candidate) => candidate.suite === suite)) it(t.name, t.fn);
        });
    }
}

if (pwsh) {
    describe("the key-fetch script in PowerShell", () => {
        before(async () => {
            workDir = fs.mkdtempSync(path.join(os.tmpdir(), "key-fetch-"));
            azure = await new FakeAzure(ACCOUNT, ARM_API_VERSION, "Test", "Test").start();
            driver = ScriptDriver.start(pwsh);
            // Started now, read by the compatibility tests: the check runs while the scenarios do.
            compat("keys/readonly").catch(() => undefined);
        });
        after(async () => {
            await driver?.close();
            await azure?.close();
            if (workDir) fs.rmSync(workDir, { recursive: true, force: true });
        });
        register(references ? tierTests : tierTests.filter((t) => !t.netfx));
        const skipped = tierTests.filter((t) => t.netfx).length;
        if (!references) {
            const message = `${skipped} .NET Framework 4.8 checks skipped: reference assemblies not found; enable with: ${NETFX_RESTORE}`;
            if (powershellRequired()) it("the .NET Framework 4.8 reference assemblies are present (required here)", () => assert.fail(message));
            else it(message, { skip: true }, () => undefined);
        }
    });
} else {
    const message = `${tierTests.length} PowerShell tests skipped: pwsh not found ($PWSH, PATH, ~/.dotnet/tools/pwsh); enable with: ${PWSH_INSTALL}`;
    if (powershellRequired()) it("pwsh is present (required here)", () => assert.fail(message));
    else it(message, { skip: true }, () => undefined);
}
