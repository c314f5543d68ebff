// `npm run e2e` without Azure: the skip path run for real (the entry point as a child process on a
// machine with nothing), the prerequisite checks, the timings read off engine events, the verdicts,
// the phase order and the cleanup guarantees against a fake stack, and the Resource Manager call
// against a server on 127.0.0.1.
import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import { createHttpHeaders, HttpClient } from "@azure/core-rest-pipeline";
import { AzureCliCredential } from "@azure/identity";
import { EngineEvent, OpMap, PulumiCommand } from "@pulumi/pulumi/automation";
import { createStackDriver, POLICY_PACK, selectStackDriver } from "../commands/e2e/automation";
import { groupExistsWith, resourceGroupExists } from "../commands/e2e/azure";
import { checkPrerequisites, Machine, signInForRun, skipLine } from "../commands/e2e/prerequisites";
import { AzResult } from "../commands/azure/signIn";
import {
    createSecondsByType, idempotencyProblems, resourceGroupNameIn, resourceTimings, uniqueStackName, verificationProblems,
} from "../commands/e2e/record";
import { exitCodeFor, runEndToEnd, shutdownTimeAwayFrom, StackDriver } from "../commands/e2e/run";
import { PROJECT_ROOT } from "./harness";

const STACK_URN = "urn:pulumi:e2e::cosmos-vm-identity::";
const T = {
    rg: "azure-native:resources:ResourceGroup",
    vm: "azure-native:compute:VirtualMachine",
    account: "azure-native:cosmosdb:DatabaseAccount",
    nsg: "azure-native:network:NetworkSecurityGroup",
};

// ---------------------------------------------------------------------------------------------
// Engine events as the Automation API delivers them.
let sequence = 0;
function pre(timestamp: number, type: string, name: string, op: string, extra: { custom?: boolean; diffs?: string[]; planning?: boolean } = {}): EngineEvent {
    return {
        sequence: ++sequence, timestamp,
        resourcePreEvent: { planning: extra.planning, metadata: step(type, name, op, extra.custom ?? true, extra.diffs) },
    };
}
function outputs(timestamp: number, type: string, name: string, op: string, state: Record<string, unknown> = {}): EngineEvent {
    const metadata = step(type, name, op, true);
    metadata.new = { ...metadata.new!, outputs: state };
    return { sequence: ++sequence, timestamp, resOutputsEvent: { metadata } };
}
function failed(timestamp: number, type: string, name: string, op: string): EngineEvent {
    return { sequence: ++sequence, timestamp, resOpFailedEvent: { metadata: step(type, name, op, true), status: 1, steps: 1 } };
}
function step(type: string, name: string, op: string, custom: boolean, diffs?: string[]) {
    const urn = `${STACK_URN}${type}::${name}`;
    const state = { type, urn, custom, id: "", parent: "", inputs: {}, outputs: {}, provider: "" };
    return { op: op as never, urn, type, provider: "", diffs, new: op === "delete" ? undefined : state, old: op === "create" ? undefined : state };
}

/** An `up` that creates the group (3 s), the NSG (5 s) and the VM (150 s), and a component. */
function firstUpEvents(): EngineEvent[] {
    return [
        pre(1000, "pulumi:pulumi:Stack", "cosmos-vm-identity-e2e", "create", { custom: false }),
        pre(1001, "pulumi:providers:azure-native", "default_3_28_0", "create"),
        outputs(1001, "pulumi:providers:azure-native", "default_3_28_0", "create"),
        pre(1002, T.rg, "cosmos-vm-identity", "create"),
        outputs(1005, T.rg, "cosmos-vm-identity", "create", { name: "cosmos-vm-identity3f2a1b0c" }),
        pre(1005, T.nsg, "tutorial-nsg", "create"),
        pre(1006, "cosmos-vm-identity:index:WindowsVm", "tutorial", "create", { custom: false }),
        outputs(1010, T.nsg, "tutorial-nsg", "create"),
        pre(1010, T.vm, "tutorial-vm", "create"),
        outputs(1160, T.vm, "tutorial-vm", "create"),
    ];
}

describe("e2e: timings from engine events", () => {
    it("times each cloud resource's operation, from its pre-event to its outputs, relative to the phase", () => {
        const timings = resourceTimings(firstUpEvents());
        assert.deepEqual(timings, [
            { type: T.rg, name: "cosmos-vm-identity", op: "create", startSeconds: 2, seconds: 3, failed: false },
            { type: T.nsg, name: "tutorial-nsg", op: "create", startSeconds: 5, seconds: 5, failed: false },
            { type: T.vm, name: "tutorial-vm", op: "create", startSeconds: 10, seconds: 150, failed: false },
        ]);
    });

    it("keeps failed and unfinished operations, ignores planning events and unchanged resources", () => {
        const timings = resourceTimings([
            pre(50, T.account, "tutorial-cosmos", "create"),
            failed(110, T.account, "tutorial-cosmos", "create"),
            pre(60, T.vm, "tutorial-vm", "create"),
            pre(61, T.nsg, "tutorial-nsg", "same"),
            pre(62, T.rg, "cosmos-vm-identity", "update", { planning: true }),
        ]);
        assert.deepEqual(timings, [
            { type: T.account, name: "tutorial-cosmos", op: "create", startSeconds: 0, seconds: 60, failed: true },
            { type: T.vm, name: "tutorial-vm", op: "create", startSeconds: 10, failed: false },
        ]);
    });

    it("a replacement's create and delete are timed apart", () => {
        const timings = resourceTimings([
            pre(10, T.vm, "tutorial-vm", "create-replacement"),
            outputs(100, T.vm, "tutorial-vm", "create-replacement"),
            pre(100, T.vm, "tutorial-vm", "delete-replaced"),
            outputs(130, T.vm, "tutorial-vm", "delete-replaced"),
        ]);
        assert.deepEqual(timings.map((t) => [t.op, t.seconds]), [["create-replacement", 90], ["delete-replaced", 30]]);
    });

    it("creation seconds by type, keyed as model/deploymentModel.ts keys its estimates", async () => {
        const { PROVISIONING_SECONDS } = await import("../model/deploymentModel");
        const byType = createSecondsByType(resourceTimings(firstUpEvents()));
        assert.deepEqual(byType, { [T.nsg]: 5, [T.rg]: 3, [T.vm]: 150 });
        for (const type of Object.keys(byType)) assert.ok(type in PROVISIONING_SECONDS, `${type} has a modelled estimate to compare with`);
    });

    it("reads the resource group's name off its outputs event", () => {
        assert.equal(resourceGroupNameIn(firstUpEvents()), "cosmos-vm-identity3f2a1b0c");
        assert.equal(resourceGroupNameIn([]), undefined);
    });
});

describe("e2e: verdicts", () => {
    it("idempotency: any operation other than same is a problem, naming resources and properties", () => {
        assert.deepEqual(idempotencyProblems({ same: 21 }), []);
        // No summary at all (the Automation API's answer when the event log had none) is no proof.
        assert.deepEqual(idempotencyProblems({}), ["the preview reports no unchanged resources (change summary {})"]);
        const problems = idempotencyProblems({ same: 19, update: 1, replace: 1 }, [
            pre(5, T.vm, "tutorial-vm", "update", { diffs: ["osProfile", "tags"], planning: true }),
            pre(5, T.account, "tutorial-cosmos", "replace", { planning: true }),
            pre(5, T.nsg, "tutorial-nsg", "same", { planning: true }),
        ]);
        assert.deepEqual(problems, ["update: 1: tutorial-vm (osProfile, tags)", "replace: 1: tutorial-cosmos"]);
        assert.deepEqual(idempotencyProblems({ same: 3, create: 2 }), ["create: 2"]);
    });

    it("verification: state Succeeded and exit code 0, nothing else", () => {
        assert.deepEqual(verificationProblems({ state: "Succeeded", exitCode: 0, summary: "OK" }), []);
        assert.deepEqual(verificationProblems({ state: "Failed", exitCode: 3, summary: "RoleMissing: 403" }), [
            'verification.state is "Failed", not "Succeeded"', "verification.exitCode is 3, not 0", "script summary: RoleMissing: 403",
        ]);
        assert.deepEqual(verificationProblems({ state: "NotRun", exitCode: null, summary: "" }), [
            'verification.state is "NotRun", not "Succeeded"', "verification.exitCode is null, not 0",
        ]);
        assert.equal(verificationProblems(undefined).length, 1);
    });

    it("stack names are unique, ordered by start time and valid Pulumi stack names", () => {
        const now = new Date("2026-11-30T04:17:09.123Z");
        assert.equal(uniqueStackName(now, "0a1b2c"), "e2e-20261130041709-0a1b2c");
        const names = new Set(Array.from({ length: 2000 }, () => uniqueStackName(now, randomBytes(3).toString("hex"))));
        assert.ok(names.size > 1990, `${names.size} distinct names of 2000 drawn in the same second`);
        for (const name of names) assert.match(name, /^[A-Za-z0-9_.-]{1,100}$/);
        assert.ok(uniqueStackName(new Date("2026-11-30T04:17:10Z"), "000000") > uniqueStackName(now, "ffffff"));
        assert.throws(() => uniqueStackName(now, "xyz"));
    });

    it("keeps the auto-shutdown twelve hours away from the run", () => {
        assert.equal(shutdownTimeAwayFrom(new Date("2026-11-30T18:50:00Z")), "06:50");
        assert.equal(shutdownTimeAwayFrom(new Date("2026-11-30T04:05:00Z")), "16:05");
    });
});

// ---------------------------------------------------------------------------------------------
// The prerequisite checks on described machines: files are a map, nothing else exists.
function machine(env: Record<string, string>, files: Record<string, string> = {}, executables: string[] = []): Machine & { read: string[] } {
    const read: string[] = [];
    return {
        env, homeDir: "/home/runner", platform: "linux", read,
        readFile: (file) => {
            read.push(file);
            return files[file];
        },
        isExecutable: (file) => executables.includes(file),
    };
}
const WITH_CLI = { PATH: "/usr/bin:/opt/pulumi/bin", PULUMI_BACKEND_URL: "file:///tmp/state" };
const CLI = ["/opt/pulumi/bin/pulumi"];
const WITH_AZ = [...CLI, "/usr/bin/az"];
const SP = { ARM_CLIENT_ID: "c", ARM_TENANT_ID: "t", ARM_SUBSCRIPTION_ID: "s" };
const AZ_PROFILE = "\uFEFF" + JSON.stringify({ subscriptions: [{ id: "other", isDefault: false }, { id: "sub-1", isDefault: true }] });
const AZ_LOGIN = { "/home/runner/.azure/azureProfile.json": AZ_PROFILE };

describe("e2e: prerequisites, from the machine alone", () => {
    it("nothing: every missing piece named, in one line", () => {
        const result = checkPrerequisites(machine({ PATH: "/usr/bin" }));
        assert.equal(result.missing.length, 3);
        const line = skipLine(result.missing, false);
        assert.doesNotMatch(line, /\n/);
        assert.match(line, /^e2e: skipped, nothing created: missing the Pulumi CLI .*a Pulumi backend login .*an Azure sign-in \(run `az login`, or set ARM_CLIENT_ID/);
        assert.match(skipLine(result.missing, true), /^e2e: FAILED: a run is required .*Nothing was created\.$/);
    });

    it("the sign-in is preflight's plan: azure-native's method, from the same environment", () => {
        const fromSubscription = { subscriptionId: "s", subscriptionSource: "ARM_SUBSCRIPTION_ID" };
        const cases: [Record<string, string>, object][] = [
            [{ ...SP, ARM_CLIENT_SECRET: "x" },
                { ...fromSubscription, method: { kind: "client-secret", tenantId: "t", clientId: "c", clientSecret: "x" } }],
            [{ ...SP, ARM_USE_OIDC: "true", ACTIONS_ID_TOKEN_REQUEST_URL: "https://gh/token?api-version=2.0", ACTIONS_ID_TOKEN_REQUEST_TOKEN: "b" },
                { ...fromSubscription, method: { kind: "oidc", tenantId: "t", clientId: "c", assertion: { from: "request", url: "https://gh/token?api-version=2.0", requestToken: "b", audience: "api://AzureADTokenExchange" } } }],
            [{ ...SP, ARM_USE_OIDC: "true", ARM_OIDC_TOKEN_FILE_PATH: "/var/run/token" },
                { ...fromSubscription, method: { kind: "oidc", tenantId: "t", clientId: "c", assertion: { from: "file", path: "/var/run/token" } } }],
            [{ ...SP, ARM_CLIENT_CERTIFICATE_PATH: "/c.pem" },
                { ...fromSubscription, method: { kind: "client-certificate", tenantId: "t", clientId: "c", certificatePath: "/c.pem" } }],
            [{ ARM_USE_MSI: "true", ARM_SUBSCRIPTION_ID: "s" },
                { ...fromSubscription, method: { kind: "managed-identity" } }],
            [{ ARM_ENVIRONMENT: "usgovernment", ...SP, ARM_CLIENT_SECRET: "x" },
                { ...fromSubscription, configuredCloud: "usgovernment", method: { kind: "client-secret", tenantId: "t", clientId: "c", clientSecret: "x" } }],
        ];
        const environments = cases.map(([env]) => env);
        for (const [env, expected] of cases) {
            const result = checkPrerequisites(machine({ ...WITH_CLI, ...env }, {}, CLI));
            assert.deepEqual(result.missing, [], JSON.stringify(env));
            // Fields left undefined are compared as absent (as JSON would carry them).
            assert.deepEqual(JSON.parse(JSON.stringify(result.signIn)), expected, JSON.stringify(env));
        }
        const github = checkPrerequisites(machine({ ...WITH_CLI, ...environments[1] }, {}, CLI)).signIn;
        assert.deepEqual(github?.method, {
            kind: "oidc", tenantId: "t", clientId: "c",
            assertion: { from: "request", url: "https://gh/token?api-version=2.0", requestToken: "b", audience: "api://AzureADTokenExchange" },
        });
        assert.equal(github?.subscriptionId, "s");
    });

    it("where the two tools used to disagree, the run follows azure-native's order", () => {
        const kind = (env: Record<string, string>) => checkPrerequisites(machine({ ...WITH_CLI, ...env }, AZ_LOGIN, WITH_AZ)).signIn?.method.kind;
        // A certificate before a secret, a secret before a managed identity.
        assert.equal(kind({ ...SP, ARM_CLIENT_SECRET: "x", ARM_CLIENT_CERTIFICATE_PATH: "/c.pem" }), "client-certificate");
        assert.equal(kind({ ...SP, ARM_CLIENT_SECRET: "x", ARM_USE_MSI: "true" }), "client-secret");
        // OIDC only with ARM_USE_OIDC; a token alone, or a client id alone, is the Azure CLI.
        assert.equal(kind({ ...SP, ARM_OIDC_TOKEN: "jwt" }), "azure-cli");
        assert.equal(kind(SP), "azure-cli");
        assert.equal(kind({ ...SP, ARM_USE_DEFAULT_AZURE_CREDENTIAL: "true", ARM_CLIENT_SECRET: "x" }), "default-credential");
    });

    it("half a sign-in is named for what it lacks, and never falls through to another method", () => {
        // With an az login on the machine: azure-native refuses an incomplete method rather than use the CLI.
        const missing = (env: Record<string, string>) => checkPrerequisites(machine({ ...WITH_CLI, ...env }, AZ_LOGIN, WITH_AZ)).missing.join("; ");
        assert.match(missing({ ...SP, ARM_USE_OIDC: "true" }), /^a complete Azure sign-in \(signing in with OIDC needs ARM_OIDC_TOKEN, ARM_OIDC_TOKEN_FILE_PATH, or a token request URL/);
        assert.match(missing({ ARM_CLIENT_ID: "c", ARM_TENANT_ID: "t", ARM_CLIENT_SECRET: "x" }), /^a complete Azure sign-in \(signing in as a service principal with a secret needs a subscription \(ARM_SUBSCRIPTION_ID/);
        assert.match(missing({ ARM_CLIENT_ID: "c", ARM_CLIENT_SECRET: "x", ARM_SUBSCRIPTION_ID: "s" }), /needs ARM_TENANT_ID/);
        assert.match(missing({ ARM_USE_MSI: "true" }), /signing in with a managed identity needs a subscription/);
        assert.match(missing({ ARM_ENVIRONMENT: "mars" }), /unknown Azure cloud "mars"/);
        const incomplete = checkPrerequisites(machine({ ...WITH_CLI, ARM_CLIENT_ID: "c", ARM_CLIENT_SECRET: "x" }, AZ_LOGIN, WITH_AZ));
        assert.equal(incomplete.signIn, undefined);
        assert.equal(incomplete.missing.length, 1);
        // Only ARM_USE_MSI makes a managed identity count: the metadata service is never asked.
        assert.match(checkPrerequisites(machine({ ...WITH_CLI, ARM_SUBSCRIPTION_ID: "s" }, {}, CLI)).missing.join("; "), /^an Azure sign-in/);
    });

    it("an az login: the CLI's profile (with its byte-order mark), `az` on PATH, a default or chosen subscription", () => {
        const home = checkPrerequisites(machine(WITH_CLI, AZ_LOGIN, WITH_AZ));
        assert.deepEqual([home.signIn?.method, home.missing], [{ kind: "azure-cli", tenantId: undefined }, []]);
        const configDir = checkPrerequisites(machine({ ...WITH_CLI, AZURE_CONFIG_DIR: "/cfg", ARM_SUBSCRIPTION_ID: "other" }, { "/cfg/azureProfile.json": AZ_PROFILE }, WITH_AZ));
        assert.deepEqual([configDir.signIn?.subscriptionId, configDir.signIn?.subscriptionSource, configDir.missing], ["other", "ARM_SUBSCRIPTION_ID", []]);
        const noAz = checkPrerequisites(machine(WITH_CLI, AZ_LOGIN, CLI));
        assert.match(noAz.missing.join(";"), /the Azure CLI \(`az` on PATH\) for the `az login` found in \/home\/runner\/.azure/);
        const loggedOut = checkPrerequisites(machine(WITH_CLI, { "/home/runner/.azure/azureProfile.json": '{"subscriptions": []}' }, WITH_AZ));
        assert.match(loggedOut.missing.join(";"), /^an Azure sign-in/);
        const noDefault = { "/home/runner/.azure/azureProfile.json": JSON.stringify({ subscriptions: [{ id: "other", isDefault: false }] }) };
        assert.match(checkPrerequisites(machine(WITH_CLI, noDefault, WITH_AZ)).missing.join(";"), /^a default subscription/);
        assert.deepEqual(checkPrerequisites(machine({ ...WITH_CLI, ARM_SUBSCRIPTION_ID: "other" }, noDefault, WITH_AZ)).missing, []);
    });

    it("DefaultAzureCredential counts only with something its chain finds here without the metadata service", () => {
        const dac = { ARM_USE_DEFAULT_AZURE_CREDENTIAL: "true", ARM_SUBSCRIPTION_ID: "s" };
        const missing = (env: Record<string, string>, files: Record<string, string> = {}) => checkPrerequisites(machine({ ...WITH_CLI, ...dac, ...env }, files, WITH_AZ)).missing;
        assert.match(missing({}).join(";"), /^a credential for ARM_USE_DEFAULT_AZURE_CREDENTIAL that needs no instance metadata service/);
        assert.deepEqual(missing({ AZURE_TENANT_ID: "t", AZURE_CLIENT_ID: "c", AZURE_CLIENT_SECRET: "x" }), []);
        assert.deepEqual(missing({ AZURE_FEDERATED_TOKEN_FILE: "/var/run/token" }), []);
        assert.deepEqual(missing({}, AZ_LOGIN), []);
        assert.match(missing({ ARM_SUBSCRIPTION_ID: "" }, AZ_LOGIN).join(";"), /DefaultAzureCredential needs a subscription/);
    });

    it("a Pulumi backend: PULUMI_BACKEND_URL, PULUMI_ACCESS_TOKEN, or the current login in PULUMI_HOME", () => {
        const env = { PATH: "/opt/pulumi/bin", ARM_USE_MSI: "true", ARM_SUBSCRIPTION_ID: "s" };
        assert.equal(checkPrerequisites(machine({ ...env, PULUMI_ACCESS_TOKEN: "pul-x" }, {}, CLI)).backend, "Pulumi Cloud (PULUMI_ACCESS_TOKEN)");
        const login = machine(env, { "/home/runner/.pulumi/credentials.json": '{"current": "file://~", "accessTokens": {}}' }, CLI);
        assert.equal(checkPrerequisites(login).backend, "file://~");
        assert.equal(checkPrerequisites(machine({ ...env, PULUMI_HOME: "/ph" }, { "/ph/credentials.json": '{"current": "https://api.pulumi.com"}' }, CLI)).backend, "https://api.pulumi.com");
        assert.match(checkPrerequisites(machine(env, {}, CLI)).missing.join(";"), /a Pulumi backend login/);
    });

    it("reads only the two local files it names", () => {
        const m = machine({ PATH: "/usr/bin" });
        checkPrerequisites(m);
        assert.deepEqual(m.read.sort(), ["/home/runner/.azure/azureProfile.json", "/home/runner/.pulumi/credentials.json"]);
    });
});

// ---------------------------------------------------------------------------------------------
// The real entry point on an empty machine: an empty PATH, HOME and Azure CLI directory.
describe("e2e: the skip path, run for real", () => {
    let empty: string;
    let bin: string;
    const marker = () => path.join(empty, "pulumi-was-run");
    before(() => {
        empty = fs.mkdtempSync(path.join(os.tmpdir(), "e2e-empty-"));
        bin = fs.mkdtempSync(path.join(os.tmpdir(), "e2e-bin-"));
    });
    after(() => {
        fs.rmSync(empty, { recursive: true, force: true });
        fs.rmSync(bin, { recursive: true, force: true });
    });

    function runE2e(args: string[], extraEnv: Record<string, string> = {}, pathDir = empty) {
        const e2eDir = path.join(PROJECT_ROOT, ".e2e");
        const before = fs.existsSync(e2eDir) ? fs.readdirSync(e2eDir).sort() : [];
        const stackFiles = () => fs.readdirSync(PROJECT_ROOT).filter((f) => /^Pulumi\.e2e-.*\.yaml$/.test(f)).sort();
        const stackFilesBefore = stackFiles();
        const result = spawnSync(process.execPath, ["--require", "ts-node/register/transpile-only", path.join("commands", "e2e.ts"), ...args], {
            cwd: PROJECT_ROOT,
            // Nothing inherited: no ARM_*, PULUMI_*, or Azure CLI login from the machine running the tests.
            env: { PATH: pathDir, HOME: empty, AZURE_CONFIG_DIR: empty, PULUMI_HOME: empty, ...extraEnv },
            encoding: "utf8",
            timeout: 60_000,
        });
        const after = fs.existsSync(e2eDir) ? fs.readdirSync(e2eDir).sort() : [];
        assert.deepEqual(after, before, "the skip path writes no report");
        assert.deepEqual(stackFiles(), stackFilesBefore, "the skip path creates no stack");
        const lines = `${result.stdout}${result.stderr}`.split("\n").filter((line) => line.length > 0);
        return { status: result.status, lines, stdout: result.stdout, stderr: result.stderr };
    }

    it("prints one line saying what is missing and exits 0", () => {
        const { status, lines, stdout } = runE2e([]);
        assert.equal(status, 0, lines.join("\n"));
        assert.equal(lines.length, 1, lines.join("\n"));
        assert.match(stdout, /^e2e: skipped, nothing created: missing the Pulumi CLI .*a Pulumi backend login .*an Azure sign-in/);
    });

    it("with E2E_REQUIRED=1 or --require, the same skip is a failure", () => {
        for (const [args, env] of [[[], { E2E_REQUIRED: "1" }], [["--require"], {}]] as const) {
            const { status, lines, stderr } = runE2e([...args], env);
            assert.equal(status, 2, lines.join("\n"));
            assert.equal(lines.length, 1, lines.join("\n"));
            assert.match(stderr, /^e2e: FAILED: a run is required .*missing the Pulumi CLI/);
        }
    });

    it("a Pulumi CLI on PATH but no Azure sign-in: names only what is missing and never runs the CLI", () => {
        fs.writeFileSync(path.join(bin, "pulumi"), `#!/bin/sh\ntouch "${marker()}"\n`, { mode: 0o755 });
        const { status, lines } = runE2e([], { PULUMI_BACKEND_URL: `file://${empty}` }, bin);
        assert.equal(status, 0, lines.join("\n"));
        assert.equal(lines.length, 1);
        assert.match(lines[0], /^e2e: skipped, nothing created: missing an Azure sign-in/);
        assert.ok(!fs.existsSync(marker()), "the fake pulumi was never executed");
    });

    it("an az login that `az account show` refuses: one line, nothing run but that local command; a failure when required", () => {
        fs.writeFileSync(path.join(bin, "pulumi"), `#!/bin/sh\ntouch "${marker()}"\n`, { mode: 0o755 });
        // A profile that lists a subscription, and a CLI that does not accept it (its own words, exit 1).
        const azDir = fs.mkdtempSync(path.join(os.tmpdir(), "e2e-az-"));
        try {
            fs.writeFileSync(path.join(azDir, "azureProfile.json"), JSON.stringify({ subscriptions: [{ id: "sub-1", isDefault: true }] }));
            const azCalls = path.join(azDir, "calls");
            fs.writeFileSync(path.join(bin, "az"), `#!/bin/sh\necho "$@" >> "${azCalls}"\necho "ERROR: Please run 'az login' to setup account." >&2\nexit 1\n`, { mode: 0o755 });
            const env = { PULUMI_BACKEND_URL: `file://${empty}`, AZURE_CONFIG_DIR: azDir };
            const skipped = runE2e([], env, bin);
            assert.equal(skipped.status, 0, skipped.lines.join("\n"));
            assert.deepEqual(skipped.lines, [
                "e2e: skipped, nothing created: missing a usable Azure sign-in (not signed in to Azure (the Azure CLI says: Please run 'az login' to setup account.): "
                + "run `az login`, or set ARM_CLIENT_ID, ARM_CLIENT_SECRET, ARM_TENANT_ID and ARM_SUBSCRIPTION_ID (docs/preflight.md: Sign-in)). (Set E2E_REQUIRED=1 to make this a failure.)",
            ]);
            const required = runE2e(["--require"], env, bin);
            assert.equal(required.status, 2, required.lines.join("\n"));
            assert.match(required.stderr, /^e2e: FAILED: a run is required .*missing a usable Azure sign-in \(not signed in to Azure/);
            assert.equal(required.lines.length, 1);
            assert.deepEqual(fs.readFileSync(azCalls, "utf8").trim().split("\n"), ["account show --output json", "account show --output json"]);
            assert.ok(!fs.existsSync(marker()), "the fake pulumi was never executed");
        } finally {
            fs.rmSync(path.join(bin, "az"), { force: true });
            fs.rmSync(azDir, { recursive: true, force: true });
        }
    });
});

// ---------------------------------------------------------------------------------------------
// The run against a fake stack: what it asks of the stack, in what order, and what it always does.
interface FakeOptions {
    failUp?: string;
    verification?: (accessMode: string) => unknown;
    previewSummary?: OpMap;
    destroyFails?: number;
    groupSurvives?: boolean;
    onUp?: (accessMode: string) => void;
}
function fakeStack(options: FakeOptions = {}) {
    const calls: string[] = [];
    const config: Record<string, string> = {};
    let destroyFailures = options.destroyFails ?? 0;
    let groupExists = false;
    const driver: StackDriver = {
        stackName: "e2e-20261130041709-0a1b2c",
        setConfig: async (values) => {
            calls.push(`config ${Object.entries(values).map(([k, v]) => `${k}=${v}`).join(" ")}`);
            Object.assign(config, values);
        },
        up: async (onEvent, signal) => {
            const mode = config.accessMode;
            calls.push(`up ${mode}`);
            options.onUp?.(mode);
            if (signal.aborted) throw new Error("stack.up: canceled");
            for (const event of firstUpEvents()) onEvent(event);
            groupExists = true;
            if (options.failUp === mode) throw new Error(`CommandError: up (${mode}) failed\n  error: 409 Conflict`);
            return { outputs: { accessMode: mode, resourceGroupName: "cosmos-vm-identity3f2a1b0c", verification: options.verification?.(mode) ?? { state: "Succeeded", exitCode: 0, summary: "OK" } } };
        },
        preview: async (onEvent) => {
            calls.push("preview");
            onEvent(pre(1, T.vm, "tutorial-vm", "update", { diffs: ["tags"], planning: true }));
            return { changeSummary: options.previewSummary ?? { same: 20 } };
        },
        destroy: async (_onEvent, { refresh }) => {
            calls.push(refresh ? "destroy --refresh" : "destroy");
            if (destroyFailures-- > 0) throw new Error("CommandError: destroy failed");
            if (!options.groupSurvives) groupExists = false;
        },
        remove: async () => {
            calls.push("stack rm");
        },
    };
    return { driver, calls, config, groupExists: async () => groupExists };
}

async function run(stack: ReturnType<typeof fakeStack>, signal = new AbortController().signal) {
    const log: string[] = [];
    const progress: string[][] = [];
    const report = await runEndToEnd({
        driver: stack.driver, location: "swedencentral", groupExists: stack.groupExists, signal, groupPollMs: 0,
        now: () => new Date("2026-11-30T04:17:09Z"),
        log: (line) => log.push(line),
        onProgress: (r) => progress.push(r.phases.map((p) => p.name)),
    });
    return { report, log, progress };
}

const ALL_PHASES = [
    "up (accessMode keys)", "preview (idempotency: no changes)", "up (accessMode rbac)", "up (accessMode keys again)",
    "destroy", "resource group gone", "stack rm",
];

describe("e2e: the run, against a fake stack", () => {
    it("passes: keys, an unchanged preview, rbac, keys again, then destroy, group gone, stack rm", async () => {
        const stack = fakeStack();
        const { report, progress } = await run(stack);
        assert.equal(report.ok, true, report.error);
        assert.deepEqual(stack.calls, [
            "config azure-native:location=swedencentral autoShutdownTime=16:17", "config accessMode=keys", "up keys", "preview",
            "config accessMode=rbac", "up rbac", "config accessMode=keys", "up keys", "destroy", "stack rm",
        ]);
        assert.deepEqual(report.phases.map((p) => p.name), ALL_PHASES);
        assert.ok(report.phases.every((p) => p.ok));
        assert.deepEqual(report.cleanup, { destroyed: true, groupGone: true, removed: true });
        assert.equal(report.resourceGroupName, "cosmos-vm-identity3f2a1b0c");
        assert.deepEqual(report.createSecondsByType, { [T.nsg]: 5, [T.rg]: 3, [T.vm]: 150 });
        assert.deepEqual(report.phases[1].changeSummary, { same: 20 });
        assert.deepEqual(progress[0], [], "the report is written before anything is deployed");
        assert.equal(exitCodeFor(report), 0);
        // Serialisable as it is written to .e2e/<stack>.json.
        assert.deepEqual(JSON.parse(JSON.stringify(report)), report);
    });

    it("a failing rbac up still destroys and removes the stack, and the run fails naming the phase", async () => {
        const stack = fakeStack({ failUp: "rbac" });
        const { report } = await run(stack);
        assert.equal(report.ok, false);
        assert.match(report.error!, /up \(rbac\) failed/);
        assert.deepEqual(stack.calls.slice(-2), ["destroy", "stack rm"]);
        assert.deepEqual(stack.calls.filter((c) => c.startsWith("up")), ["up keys", "up rbac"], "stops after the failure");
        assert.deepEqual(report.cleanup, { destroyed: true, groupGone: true, removed: true });
        assert.equal(report.phases.find((p) => p.name === "up (accessMode rbac)")?.ok, false);
        assert.equal(exitCodeFor(report), 1);
    });

    it("a first up that fails part-way still reports the creates it timed, and cleans up", async () => {
        const stack = fakeStack({ failUp: "keys" });
        const { report } = await run(stack);
        assert.equal(report.ok, false);
        assert.deepEqual(report.createSecondsByType, { [T.nsg]: 5, [T.rg]: 3, [T.vm]: 150 });
        assert.deepEqual(stack.calls.slice(-4), ["config accessMode=keys", "up keys", "destroy", "stack rm"]);
    });

    it("a second preview with changes fails the run, naming the resource and property", async () => {
        const stack = fakeStack({ previewSummary: { same: 19, update: 1 } });
        const { report } = await run(stack);
        assert.equal(report.ok, false);
        assert.match(report.error!, /a second preview shows changes: update: 1: tutorial-vm \(tags\)/);
        assert.ok(!stack.calls.includes("up rbac"));
        assert.deepEqual(stack.calls.slice(-2), ["destroy", "stack rm"]);
    });

    it("a verification that did not succeed fails the run (and cleanup still happens)", async () => {
        const stack = fakeStack({ verification: (mode) => mode === "rbac" ? { state: "Failed", exitCode: 6, summary: "CredentialRejected" } : undefined });
        const { report } = await run(stack);
        assert.equal(report.ok, false);
        assert.match(report.error!, /up \(accessMode rbac\): verification.state is "Failed".*exitCode is 6.*CredentialRejected/);
        assert.equal(report.cleanup.removed, true);
    });

    it("interrupted (SIGINT/SIGTERM) during an up: stops there, destroys, removes", async () => {
        const controller = new AbortController();
        const stack = fakeStack({ onUp: (mode) => mode === "rbac" && controller.abort() });
        const { report } = await run(stack, controller.signal);
        assert.equal(report.ok, false);
        assert.match(report.error!, /canceled/);
        assert.deepEqual(stack.calls.slice(-3), ["up rbac", "destroy", "stack rm"]);
        assert.equal(report.cleanup.removed, true);
    });

    it("a destroy that fails is retried after a refresh", async () => {
        const stack = fakeStack({ destroyFails: 1 });
        const { report } = await run(stack);
        assert.equal(report.ok, true, report.error);
        assert.deepEqual(stack.calls.slice(-3), ["destroy", "destroy --refresh", "stack rm"]);
    });

    it("a cleanup that fails keeps the stack, fails the run and names the resource group to delete", async () => {
        const stack = fakeStack({ destroyFails: 2 });
        const { report, log } = await run(stack);
        assert.equal(report.ok, false);
        assert.deepEqual(report.cleanup.destroyed, false);
        assert.equal(report.cleanup.removed, false);
        assert.ok(!stack.calls.includes("stack rm"), "a stack that may still hold resources is not removed");
        assert.equal(exitCodeFor(report), 3);
        const advice = log.find((line) => line.includes("resources may remain"));
        assert.match(advice ?? "", /resource group cosmos-vm-identity3f2a1b0c.*npm run e2e -- --cleanup.*az group delete --name cosmos-vm-identity3f2a1b0c --yes/);
    });

    it("a resource group that outlives the destroy is a failure, and the stack is kept", async () => {
        const stack = fakeStack({ groupSurvives: true });
        const { report } = await run(stack);
        assert.equal(report.ok, false);
        assert.deepEqual(report.cleanup, { destroyed: true, groupGone: false, removed: false, error: "resource group cosmos-vm-identity3f2a1b0c still exists after pulumi destroy" });
        assert.ok(!stack.calls.includes("stack rm"));
        // The README's promise: exit code 3 whenever resources may remain, a destroy that "succeeded" included.
        assert.equal(exitCodeFor(report), 3);
    });
});

// ---------------------------------------------------------------------------------------------
// The Resource Manager call and the sign-in it uses (preflight's), against 127.0.0.1 and in memory.
describe("e2e: Resource Manager check and sign-in, on loopback", () => {
    let server: http.Server;
    let base: string;
    const seen: { method?: string; url?: string; authorization?: string }[] = [];
    before(async () => {
        server = http.createServer((request, response) => {
            seen.push({ method: request.method, url: request.url, authorization: request.headers.authorization });
            const url = new URL(request.url ?? "/", "http://127.0.0.1");
            if (url.pathname === "/token") {
                response.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ count: 1, value: "github.jwt" }));
            } else if (url.pathname.endsWith("/resourcegroups/present")) {
                response.writeHead(204).end();
            } else if (url.pathname.endsWith("/resourcegroups/forbidden")) {
                response.writeHead(403).end();
            } else {
                response.writeHead(404).end();
            }
        });
        await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
        base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });
    after(() => server.close());

    const credential = { getToken: async (scope: string) => ({ token: `token-for ${scope}` }) };

    it("HEAD on the group: 204 exists, 404 gone, anything else an error", async () => {
        const query = { subscriptionId: "sub-1", credential, endpoint: base };
        assert.equal(await resourceGroupExists({ ...query, resourceGroupName: "present" }), true);
        assert.equal(await resourceGroupExists({ ...query, resourceGroupName: "cosmos-vm-identity3f2a1b0c" }), false);
        await assert.rejects(resourceGroupExists({ ...query, resourceGroupName: "forbidden" }), /HTTP 403/);
        const call = seen.find((s) => s.url?.includes("cosmos-vm-identity3f2a1b0c"));
        assert.deepEqual(call, {
            method: "HEAD",
            url: "/subscriptions/sub-1/resourcegroups/cosmos-vm-identity3f2a1b0c?api-version=2021-04-01",
            authorization: `Bearer token-for ${base}/.default`,
        });
    });

    it("the run's check: the sign-in's credential and subscription, on its cloud's Resource Manager", async () => {
        const asked: string[] = [];
        const fetched: { url: string; method?: string; authorization?: string }[] = [];
        // Answered here: nothing leaves the process.
        const fakeFetch: typeof fetch = async (url, init) => {
            fetched.push({ url: String(url), method: init?.method, authorization: new Headers(init?.headers).get("authorization") ?? undefined });
            return new Response(null, { status: 404 });
        };
        const getToken = async (scope: string | string[]) => {
            asked.push(String(scope));
            return { token: "gov-token", expiresOnTimestamp: 0 };
        };
        const signIn = { cloud: "usgovernment" as const, subscriptionId: "sub-1", credential: { getToken } };
        assert.equal(await groupExistsWith(signIn, fakeFetch)("cosmos-vm-identity3f2a1b0c"), false);
        assert.deepEqual(asked, ["https://management.usgovcloudapi.net/.default"]);
        assert.deepEqual(fetched, [{
            url: "https://management.usgovcloudapi.net/subscriptions/sub-1/resourcegroups/cosmos-vm-identity3f2a1b0c?api-version=2021-04-01",
            method: "HEAD", authorization: "Bearer gov-token",
        }]);
    });

    /** Entra ID's token endpoint, answered in memory: the credential's requests never leave the process. */
    function inMemoryEntraId() {
        const requests: { method: string; url: string; form: URLSearchParams }[] = [];
        const httpClient: HttpClient = {
            async sendRequest(request) {
                requests.push({ method: request.method, url: request.url, form: new URLSearchParams(typeof request.body === "string" ? request.body : "") });
                const body = { token_type: "Bearer", expires_in: 3600, ext_expires_in: 3600, access_token: "arm-token" };
                return { request, status: 200, headers: createHttpHeaders({ "content-type": "application/json" }), bodyAsText: JSON.stringify(body) };
            },
        };
        return { httpClient, requests };
    }
    const noAz = async (): Promise<AzResult> => { throw new Error("the Azure CLI must not be asked"); };

    it("OIDC in a GitHub job: the credential asks GitHub for a token for Entra ID's token exchange audience, with the job's bearer, and presents it", async () => {
        const tenant = "99999999-8888-7777-6666-555555555555";
        const env = {
            ARM_USE_OIDC: "true", ARM_CLIENT_ID: "app", ARM_TENANT_ID: tenant, ARM_SUBSCRIPTION_ID: "sub-1",
            ACTIONS_ID_TOKEN_REQUEST_URL: `${base}/token?api-version=2.0`, ACTIONS_ID_TOKEN_REQUEST_TOKEN: "job-bearer",
        };
        const plan = checkPrerequisites(machine({ ...WITH_CLI, ...env }, {}, CLI)).signIn!;
        const entra = inMemoryEntraId();
        const resolved = await signInForRun(plan, noAz, env, entra.httpClient);
        assert.ok("signIn" in resolved, JSON.stringify(resolved));
        assert.deepEqual([resolved.signIn.subscriptionId, resolved.signIn.cloud], ["sub-1", "public"]);
        const token = await resolved.signIn.credential.getToken("https://management.azure.com/.default");
        assert.equal(token?.token, "arm-token");

        const call = seen.find((s) => s.url?.startsWith("/token"));
        assert.equal(call?.url, "/token?api-version=2.0&audience=api%3A%2F%2FAzureADTokenExchange");
        assert.equal(call?.authorization, "Bearer job-bearer");
        assert.deepEqual(entra.requests.map((r) => [r.method, r.url.split("?")[0]]), [["POST", `https://login.microsoftonline.com/${tenant}/oauth2/v2.0/token`]]);
        const form = entra.requests[0].form;
        assert.equal(form.get("client_assertion"), "github.jwt", "GitHub's token is the client assertion");
        assert.equal(form.get("client_assertion_type"), "urn:ietf:params:oauth:client-assertion-type:jwt-bearer");
        assert.deepEqual([form.get("client_id"), form.get("grant_type"), form.get("scope")], ["app", "client_credentials", "https://management.azure.com/.default"]);
    });

    it("the Azure CLI's subscription: `az account show`, a local command", async () => {
        const asked: string[][] = [];
        const az = async (args: string[]): Promise<AzResult> => {
            asked.push(args);
            return { exitCode: 0, stdout: JSON.stringify({ id: "sub-1", environmentName: "AzureCloud", tenantId: "t" }), stderr: "" };
        };
        const plan = checkPrerequisites(machine(WITH_CLI, AZ_LOGIN, WITH_AZ)).signIn!;
        const resolved = await signInForRun(plan, az, {});
        assert.ok("signIn" in resolved);
        assert.ok(resolved.signIn.credential instanceof AzureCliCredential);
        assert.deepEqual([resolved.signIn.subscriptionId, resolved.signIn.subscriptionSource, resolved.signIn.cloud], ["sub-1", "az account show", "public"]);
        assert.deepEqual(asked, [["account", "show", "--output", "json"]]);
    });

    it("a sign-in that cannot be used is a missing prerequisite, found before anything is created", async () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "e2e-cert-"));
        try {
            const pfx = path.join(dir, "cert.pfx");
            fs.writeFileSync(pfx, Buffer.from([0x30, 0x82, 0x01, 0x00]));
            const certificate = { ...SP, ARM_CLIENT_CERTIFICATE_PATH: pfx };
            const notPem = await signInForRun(checkPrerequisites(machine({ ...WITH_CLI, ...certificate }, {}, CLI)).signIn!, noAz, certificate);
            assert.match("missing" in notPem ? notPem.missing : "", /^a usable Azure sign-in \(.*cert\.pfx \(ARM_CLIENT_CERTIFICATE_PATH\) is not PEM/);
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
        const gov = { ARM_ENVIRONMENT: "usgovernment" };
        const account = async (): Promise<AzResult> => ({ exitCode: 0, stdout: JSON.stringify({ id: "sub-1", environmentName: "AzureCloud" }), stderr: "" });
        const wrongCloud = await signInForRun(checkPrerequisites(machine({ ...WITH_CLI, ...gov }, AZ_LOGIN, WITH_AZ)).signIn!, account, gov);
        assert.match("missing" in wrongCloud ? wrongCloud.missing : "", /deploys to the usgovernment cloud but the Azure CLI is signed in to AzureCloud/);
    });
});

// ---------------------------------------------------------------------------------------------
// The real driver through Pulumi's own Automation API, with a stand-in CLI that records its calls.
describe("e2e: the stack driver, through the Automation API and a stand-in pulumi", () => {
    let dir: string;
    let pulumiCommand: PulumiCommand;
    const calls = () => fs.readFileSync(path.join(dir, "calls.jsonl"), "utf8").trim().split("\n")
        .map((line) => JSON.parse(line) as { args: string[]; cwd: string; passphraseFile: string | null });
    const named = (command: string) => calls().filter((call) => call.args.join(" ").startsWith(command));
    before(async () => {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "e2e-fake-pulumi-"));
        fs.mkdirSync(path.join(dir, "bin"));
        const fake = path.join(PROJECT_ROOT, "test", "support", "fakePulumiCli.js");
        fs.writeFileSync(path.join(dir, "bin", "pulumi"), `#!/bin/sh\nexec "${process.execPath}" "${fake}" "$@"\n`, { mode: 0o755 });
        pulumiCommand = await PulumiCommand.get({ root: dir });
    });
    after(() => fs.rmSync(dir, { recursive: true, force: true }));

    it("creates the stack in this project, sets config, runs up and preview with the policy pack, destroys without it, removes", async () => {
        const events: EngineEvent[] = [];
        const envVars = { FAKE_PULUMI_DIR: dir, PULUMI_CONFIG_PASSPHRASE_FILE: path.join(dir, "stack.passphrase") };
        const driver = await createStackDriver("e2e-20261130041709-0a1b2c", { envVars, onOutput: () => undefined, pulumiCommand });
        await driver.setConfig({ "azure-native:location": "swedencentral", accessMode: "rbac" });
        const { outputs } = await driver.up((event) => events.push(event), new AbortController().signal);
        const { changeSummary } = await driver.preview((event) => events.push(event), new AbortController().signal);
        await driver.destroy(() => undefined, { refresh: true });
        await driver.remove();

        assert.deepEqual(named("stack init").map((c) => c.args[2]), ["e2e-20261130041709-0a1b2c"]);
        const setAll = named("config set-all")[0].args;
        assert.ok(setAll.includes("azure-native:location=swedencentral") && setAll.includes("accessMode=rbac"), setAll.join(" "));
        const [up] = named("up");
        assert.equal(up.args[up.args.indexOf("--policy-pack") + 1], POLICY_PACK);
        assert.equal(POLICY_PACK, path.join(PROJECT_ROOT, "policy"));
        assert.equal(up.cwd, PROJECT_ROOT);
        const [preview] = named("preview");
        assert.equal(preview.args[preview.args.indexOf("--policy-pack") + 1], POLICY_PACK);
        assert.ok(!named("destroy")[0].args.includes("--policy-pack"));
        assert.ok(!named("refresh")[0].args.includes("--clear-pending-creates"), "a refresh never drops pending creates");
        assert.ok(named("stack rm")[0].args.includes("e2e-20261130041709-0a1b2c"));
        assert.ok(calls().every((call) => call.passphraseFile === envVars.PULUMI_CONFIG_PASSPHRASE_FILE), "every command gets the stack's passphrase");

        assert.deepEqual(outputs, {
            accessMode: "rbac", resourceGroupName: "cosmos-vm-identity1a2b3c", verification: { state: "Succeeded", exitCode: 0, summary: "OK" },
        }, "secret outputs (adminPassword) are left out");
        assert.deepEqual(changeSummary, { same: 20 });
        assert.equal(resourceGroupNameIn(events), "cosmos-vm-identity1a2b3c", "engine events arrive through the event log");

        const selected = await selectStackDriver("e2e-20261130041709-0a1b2c", { envVars, onOutput: () => undefined, pulumiCommand });
        assert.equal(selected.stackName, "e2e-20261130041709-0a1b2c");
        assert.ok(named("stack select").length >= 1);
    });
});
