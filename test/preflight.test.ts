// `npm run preflight`: every check against a loopback fake Resource Manager (HTTPS on 127.0.0.1,
// Microsoft's REST example shapes, api-versions and paths enforced), through the CLI's own entry
// point with an injected credential; sign-in resolution without any real credential; the no-login
// path as a child process. Nothing here reaches Azure or builds a credential that probes IMDS.
for (const name of ["HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"]) delete process.env[name];

import { strict as assert } from "node:assert";
import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as https from "node:https";
import * as os from "node:os";
import * as path from "node:path";
import * as zlib from "node:zlib";
import { after, before, describe, it } from "node:test";
import type { TokenCredential } from "@azure/core-auth";
import { createDefaultHttpClient, createHttpHeaders, createPipelineRequest, HttpClient, HttpMethods } from "@azure/core-rest-pipeline";
import { AggregateAuthenticationError, AuthenticationError, AzureCliCredential, ClientAssertionCredential, ClientSecretCredential, CredentialUnavailableError } from "@azure/identity";
import { parseConfig } from "../lib/config";
import { ArmClients, checkEndpoint } from "../commands/preflight/arm";
import { main, PreflightDependencies, RunBounds } from "../commands/preflight";
import { azureResources, cachedDeclaredResources, DeclaredAzureResource, DeclaredEvaluation, programInputs } from "../commands/preflight/declared";
import { deployedStackFromCheckpoint } from "../commands/preflight/existingStack";
import { actionMatches, denyingAssignments, evaluateActions, EVERYONE } from "../commands/preflight/permissions";
import { requiredActions, requiredProviders, WINDOWS_IMAGE } from "../commands/preflight/requirements";
import { ARM_SHAPES } from "../commands/preflight/policy";
import { refusedRequests, signInHttpClient } from "../commands/azure/signInHttp";
import { AzResult, azureCli, describeSignInFailure, planSignIn, principalFromToken, resolveSignIn, SignIn, SignInError, SignInMethod, SignInPlan } from "../commands/azure/signIn";
import { loadStackConfig } from "../model/stackConfig";
import { Evaluation, evaluate, evaluateOnce, ofType, PROJECT_ROOT, single, stackConfig } from "./harness";
import {
    FAKE_TOKEN, fakeAccessToken, FakeResourceManager, FakeWorld, healthyWorld, PolicyQuestionBody, startFakeResourceManager,
    SUBSCRIPTION_ID, TENANT_ID, USER_NAME, USER_OBJECT_ID, vmSku,
} from "./support/fakeResourceManager";
import { FakeEntraId, startFakeEntraId } from "./support/fakeEntraId";

const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "cosmos-vm-identity-preflight-"));
after(() => fs.rmSync(scratch, { recursive: true, force: true }));

/** A project directory: the real Pulumi.yaml and a Pulumi.<stack>.yaml with these lines under config:. */
function project(configLines: string[] = [], stack = "dev"): string {
    const dir = fs.mkdtempSync(path.join(scratch, "project-"));
    fs.copyFileSync(path.join(PROJECT_ROOT, "Pulumi.yaml"), path.join(dir, "Pulumi.yaml"));
    fs.writeFileSync(path.join(dir, `Pulumi.${stack}.yaml`), ["config:", "  azure-native:location: westeurope", ...configLines.map((l) => `  ${l}`)].join("\n") + "\n");
    return dir;
}

/** The program under Pulumi's mocks at the defaults, evaluated once for the suites that read it. */
let defaultProgram: Promise<Evaluation> | undefined;
const evaluateDefaults = () => (defaultProgram ??= evaluate(stackConfig()));
/**
 * The policy check's resource bodies as production computes them (the stack file read as `npm run plan`
 * reads it, `npm run plan`'s Azure) but in this process, one evaluation per configuration; production
 * evaluates in a worker thread (test/preflightProcess.test.ts runs that). Runs whose test is not about
 * policy get the defaults' bodies, whatever their configuration.
 */
const declaredCache = new Map<string, Promise<DeclaredAzureResource[]>>();
const NOTHING_DECLARED: DeclaredEvaluation = { result: Promise.resolve([]), stop: () => undefined };
/** The program's own bodies at the defaults, for a test whose output shows the policy check. */
const DECLARED = { declaredResources: () => declaredFor() };
function declaredFor(configLines: string[] = []): DeclaredEvaluation {
    const key = JSON.stringify(configLines);
    let result = declaredCache.get(key);
    if (!result) {
        const { project: name, config, secretKeys } = loadStackConfig("dev", project(configLines));
        result = evaluate(config, { project: name, stack: "dev", secretKeys }, "plan").then((evaluation) => azureResources(evaluation.resources));
        declaredCache.set(key, result);
    }
    return { result, stop: () => undefined };
}

const fakeCredential = (token = FAKE_TOKEN): TokenCredential => ({ getToken: async () => ({ token, expiresOnTimestamp: Date.now() + 3_600_000 }) });

/** Signs in with the fake credential, as the given plan's subscription says (or the fake's). */
const testSignIn = (credential = fakeCredential()) => async (plan: SignInPlan): Promise<SignIn> => ({
    credential,
    method: "a test credential",
    subscriptionId: plan.subscriptionId ?? SUBSCRIPTION_ID,
    subscriptionSource: plan.subscriptionSource ?? "the test",
    cloud: "public",
});

interface Run {
    code: number;
    stdout: string;
    stderr: string;
    fake: FakeResourceManager;
    /** Each check's line: status, message and remedy, as printed. */
    checks: Map<string, { status: string; message: string; remedy?: string }>;
    elapsedMs: number;
}

interface RunOptions {
    world?: (world: FakeWorld) => void;
    config?: string[];
    home?: string;
    env?: NodeJS.ProcessEnv;
    /** Point preflight elsewhere (an unreachable port). */
    endpoint?: string;
    deps?: Partial<PreflightDependencies>;
    /** The fake records calls it does not serve; tests that make one on purpose say so. */
    allowUnexpected?: boolean;
}

/** Runs the CLI's main against a fresh fake, as a user would see it (stdout, stderr, exit code). */
async function preflight(argv: string[], options: RunOptions = {}): Promise<Run> {
    const world = healthyWorld();
    options.world?.(world);
    const fake = await startFakeResourceManager(world);
    let stdout = "";
    let stderr = "";
    const started = Date.now();
    try {
        // A test that is not about time gets ample time: a busy machine must not turn it into a timeout.
        const limited = argv.includes("--timeout") || argv.includes("--help") ? argv : [...argv, "--timeout", "300"];
        const code = await main(limited, {
            env: options.env ?? {},
            root: project(options.config),
            home: options.home ?? path.join(scratch, "empty-home"),
            stdout: (text) => { stdout += text; },
            stderr: (text) => { stderr += text; },
            signIn: testSignIn(),
            // Most tests are not about Azure Policy: no resources, no questions (each is a TLS handshake).
            declaredResources: () => NOTHING_DECLARED,
            resourceManager: { endpoint: options.endpoint ?? fake.endpoint, agent: fake.agent },
            retryDelayInMs: 10,
            pollIntervalMs: 20,
            now: () => Date.now(),
            ...options.deps,
        });
        const checks = new Map<string, { status: string; message: string; remedy?: string }>();
        let last: string | undefined;
        for (const line of stdout.split("\n")) {
            const check = /^(PASS|FAIL|WARN|SKIP) {2}(\S+) +(.*)$/.exec(line);
            const remedy = /^ {8,}fix: (.*)$/.exec(line);
            if (check) {
                last = check[2];
                checks.set(check[2], { status: check[1], message: check[3] });
            } else if (remedy && last) {
                checks.get(last)!.remedy = remedy[1];
            }
        }
        if (!options.allowUnexpected) assert.deepEqual(fake.unexpected, [], "preflight made a call Resource Manager would refuse");
        return { code, stdout, stderr, fake, checks, elapsedMs: Date.now() - started };
    } finally {
        await fake.close();
    }
}

/** Every call but a read and Azure Policy's question (a POST that changes nothing). */
function changes(fake: FakeResourceManager) {
    return fake.calls.filter((c) => c.method !== "GET" && !c.path.endsWith("/providers/Microsoft.PolicyInsights/checkPolicyRestrictions"));
}

function check(run: Run, id: string) {
    const found = run.checks.get(id);
    assert.ok(found, `no line for ${id} in:\n${run.stdout}${run.stderr}`);
    return found;
}

const CHECK_IDS = ["identity", "providers", "permissions", "policy", "vm-size", "vcpu-quota", "image", "encryption-at-host", "cosmos-region", "cosmos-free-tier", "vm-running"];
const CONTRIBUTOR = { actions: ["*"], notActions: ["Microsoft.Authorization/*/Delete", "Microsoft.Authorization/*/Write", "Microsoft.Authorization/elevateAccess/Action"], dataActions: [], notDataActions: [] };

const SERVICE_PRINCIPAL = { ARM_CLIENT_ID: "app", ARM_CLIENT_SECRET: "s3cret", ARM_TENANT_ID: TENANT_ID, ARM_SUBSCRIPTION_ID: SUBSCRIPTION_ID };
/** The SDK's own HTTP client, trusting the fake's certificate. */
const trusting = (agent: https.Agent): HttpClient => {
    const inner = createDefaultHttpClient();
    return { sendRequest: (request) => { request.agent = agent; return inner.sendRequest(request); } };
};
const noAz = async (): Promise<AzResult> => { throw new Error("the Azure CLI must not be asked"); };
/** Signs in as production does (resolveSignIn, its transport and bounds), with Entra ID's host at the fake. */
const signInAt = (entra: FakeEntraId) => (plan: SignInPlan, bounds: RunBounds) => resolveSignIn(plan, noAz, {}, { ...bounds, authorityHost: entra.origin, httpClient: trusting(entra.agent) });

// The suites run at once (each starts its own fake); the checks' own timing tests compare within one run.
describe("npm run preflight", { concurrency: true }, () => {
    describe("preflight against a healthy subscription", { concurrency: true }, () => {
        it("prints one line per check, all passing or skipped with a reason, and exits 0 with read-only calls", async () => {
            const run = await preflight([], { deps: DECLARED });
            assert.equal(run.code, 0, run.stdout + run.stderr);
            assert.equal(run.stderr, "");
            assert.deepEqual([...run.checks.keys()], CHECK_IDS);
            assert.match(run.stdout, /^Preflight for stack dev of cosmos-vm-identity \(westeurope\), subscription 00000000-1111-2222-3333-444444444444: read-only checks\n/);
            assert.equal(check(run, "identity").message,
                `user ${USER_NAME} (object id ${USER_OBJECT_ID}) via a test credential; subscription "Contoso Dev" ${SUBSCRIPTION_ID} (Enabled; from the test) in tenant ${TENANT_ID}`);
            for (const id of ["identity", "providers", "permissions", "policy", "vm-size", "vcpu-quota", "image", "cosmos-region"]) assert.equal(check(run, id).status, "PASS", id);
            assert.equal(check(run, "encryption-at-host").message, "encryptionAtHost is false");
            assert.equal(check(run, "cosmos-free-tier").message, "freeTier is false");
            assert.equal(check(run, "vm-running").message, "no deployed stack found: no local state for stack dev in ~/.pulumi/stacks (a new stack; if its state is in Pulumi Cloud or azblob://, pass --resource-group <its resource group>)");
            assert.match(run.stdout, /\n0 failed, 0 warnings, 8 passed, 3 skipped in \d+\.\d s: ready for `pulumi up`\.\n$/);
            assert.deepEqual(changes(run.fake), [], "preflight changed something without --fix");
        });

        it("prints the same as JSON with --json, for CI", async () => {
            const run = await preflight(["--json"], { deps: DECLARED });
            assert.equal(run.code, 0);
            const report = JSON.parse(run.stdout) as { ok: boolean; stack: string; subscriptionId: string; counts: Record<string, number>; checks: { id: string; status: string; message: string; remedy?: string }[] };
            assert.equal(report.ok, true);
            assert.equal(report.stack, "dev");
            assert.equal(report.subscriptionId, SUBSCRIPTION_ID);
            assert.deepEqual(report.counts, { pass: 8, fail: 0, warning: 0, skipped: 3 });
            assert.deepEqual(report.checks.map((c) => c.id), CHECK_IDS);
            assert.deepEqual(report.checks.map((c) => c.status), ["pass", "pass", "pass", "pass", "pass", "pass", "pass", "skipped", "pass", "skipped", "skipped"]);
        });

        it("reports failures in JSON with their remedy, and exits 1", async () => {
            const run = await preflight(["--json"], { world: (w) => { w.providers["Microsoft.DevTestLab"] = "NotRegistered"; } });
            assert.equal(run.code, 1);
            const report = JSON.parse(run.stdout) as { ok: boolean; checks: { id: string; status: string; remedy?: string }[] };
            assert.equal(report.ok, false);
            const providers = report.checks.find((c) => c.id === "providers");
            assert.equal(providers?.status, "fail");
            assert.match(providers?.remedy ?? "", /^npm run preflight -- --fix/);
        });

    });

    describe("the command line", { concurrency: true }, () => {
        it("refuses invalid configuration as `pulumi up` would, before signing in, and exits 2", async () => {
            let signedIn = false;
            const run = await preflight([], { config: ["cosmos-vm-identity:throughput: 450", "cosmos-vm-identity:accessLevel: all"], deps: { signIn: async (plan) => { signedIn = true; return testSignIn()(plan); } } });
            assert.equal(run.code, 2);
            assert.match(run.stderr, /^preflight: Invalid configuration \(2 problems\); nothing was created:\n {2}- cosmos-vm-identity:throughput: must be a multiple of 100 RU\/s \(got 450\)\n/);
            assert.equal(signedIn, false);
            assert.deepEqual(run.fake.calls, []);
        });

        it("says which stack file is missing, and prints usage for a bad option or --help", async () => {
            const missing = await preflight(["--stack", "nosuch"]);
            assert.equal(missing.code, 2);
            assert.match(missing.stderr, /^preflight: no stack file Pulumi\.nosuch\.yaml in /);
            const bad = await preflight(["--timeout", "soon"]);
            assert.equal(bad.code, 2);
            assert.match(bad.stderr, /^error: --timeout must be a number of seconds \(got "soon"\)\nusage: npm run preflight/);
            const help = await preflight(["--help"]);
            assert.equal(help.code, 0);
            assert.match(help.stdout, /^usage: npm run preflight .*\n {2}--stack NAME/);
        });
    });

    describe("check 1: identity, subscription and tenant", { concurrency: true }, () => {
        it("fails when the subscription is not visible, says which and where it came from, and skips the rest", async () => {
            const run = await preflight([], { world: (w) => { w.subscription = undefined; } });
            assert.equal(run.code, 1);
            const identity = check(run, "identity");
            assert.equal(identity.status, "FAIL");
            assert.match(identity.message, /^subscription 00000000-1111-2222-3333-444444444444 \(from the test\) is not visible to user alice@contoso\.example .*404 SubscriptionNotFound/);
            assert.match(identity.remedy ?? "", /az account set --subscription <id>/);
            for (const id of CHECK_IDS.slice(1)) assert.deepEqual(check(run, id), { status: "SKIP", message: "needs a usable subscription (see identity)" });
        });

        it("fails for a Deleted subscription: only Enabled passes, and only Warned and PastDue merely warn", async () => {
            const run = await preflight([], { world: (w) => { w.subscription!.state = "Deleted"; } });
            assert.equal(run.code, 1);
            assert.equal(check(run, "identity").status, "FAIL");
            assert.match(check(run, "identity").message, /\(Deleted; from the test\) in tenant .*: a Deleted subscription cannot create resources$/);
        });

        it("fails for a disabled subscription and warns for one past due", async () => {
            const disabled = await preflight([], { world: (w) => { w.subscription!.state = "Disabled"; } });
            assert.equal(check(disabled, "identity").status, "FAIL");
            assert.match(check(disabled, "identity").message, /a Disabled subscription cannot create resources$/);
            const pastDue = await preflight([], { world: (w) => { w.subscription!.state = "PastDue"; } });
            assert.equal(pastDue.code, 0);
            assert.equal(check(pastDue, "identity").status, "WARN");
        });

        it("fails when the sign-in's tenant is not the subscription's, with the login command for the right one", async () => {
            const other = "12121212-3434-5656-7878-909090909090";
            const run = await preflight([], { world: (w) => { w.subscription!.tenantId = other; } });
            assert.equal(check(run, "identity").status, "FAIL");
            assert.equal(check(run, "identity").remedy, `az login --tenant ${other}`);
        });

        it("fails when Resource Manager says the token is for another tenant than the subscription's", async () => {
            const run = await preflight([], { world: (w) => { w.tokenForOtherTenant = true; } });
            assert.equal(check(run, "identity").status, "FAIL");
            assert.match(check(run, "identity").message, /^user alice@contoso\.example .* signed in to tenant 99999999-8888-7777-6666-555555555555, but subscription .* belongs to another tenant \(401 InvalidAuthenticationTokenTenant/);
            assert.equal(check(run, "identity").remedy, "az login --tenant <the subscription's tenant id>  (or ARM_TENANT_ID)");
        });

        it("uses the stack's azure-native:subscriptionId before ARM_SUBSCRIPTION_ID, as azure-native does", async () => {
            const run = await preflight([], { config: [`azure-native:subscriptionId: ${SUBSCRIPTION_ID}`], env: { ARM_SUBSCRIPTION_ID: "ffffffff-0000-0000-0000-000000000000" } });
            assert.match(check(run, "identity").message, /\(Enabled; from azure-native:subscriptionId\)/);
        });
    });

    describe("check 2: resource providers", { concurrency: true }, () => {
        it("fails for an unregistered provider with --fix and the az command as remedies, and changes nothing", async () => {
            const run = await preflight([], { world: (w) => { w.providers["Microsoft.DevTestLab"] = "NotRegistered"; } });
            assert.equal(run.code, 1);
            assert.deepEqual(check(run, "providers"), {
                status: "FAIL",
                message: "Microsoft.DevTestLab is NotRegistered (needed for the auto-shutdown schedule)",
                remedy: `npm run preflight -- --fix  (registers them; or: az provider register --namespace Microsoft.DevTestLab --subscription ${SUBSCRIPTION_ID})`,
            });
            assert.deepEqual(changes(run.fake), []);
            assert.match(run.stdout, /\n1 failed, 0 warnings, 7 passed, 3 skipped in \d+\.\d s: fix the failures before `pulumi up`\.\n$/);
        });

        it("--fix registers exactly the missing providers, waits for them, and passes", async () => {
            const run = await preflight(["--fix"], { world: (w) => { w.providers["Microsoft.DevTestLab"] = "NotRegistered"; w.providers["Microsoft.DocumentDB"] = "Unregistered"; } });
            assert.equal(run.code, 0, run.stdout);
            assert.deepEqual(changes(run.fake).map((c) => `${c.method} ${c.path}`).sort(), [
                `POST /subscriptions/${SUBSCRIPTION_ID}/providers/Microsoft.DevTestLab/register`,
                `POST /subscriptions/${SUBSCRIPTION_ID}/providers/Microsoft.DocumentDB/register`,
            ]);
            assert.equal(check(run, "providers").status, "PASS");
            assert.match(check(run, "providers").message, /\(Microsoft\.DocumentDB, Microsoft\.DevTestLab by --fix just now\)$/);
            assert.match(run.stdout, /read-only checks; --fix registers missing resource providers\n/);
        });

        it("does not count a provider whose answer has no registrationState as registered", async () => {
            const run = await preflight([], { world: (w) => { w.providers["Microsoft.Compute"] = null; } });
            assert.equal(run.code, 1);
            assert.deepEqual(check(run, "providers"), {
                status: "FAIL",
                message: "Microsoft.Compute is of unknown state (no registrationState in Resource Manager's answer) (needed for the VM)",
                remedy: `npm run preflight -- --fix  (registers them; or: az provider register --namespace Microsoft.Compute --subscription ${SUBSCRIPTION_ID})`,
            });
        });

        it("does not need Microsoft.DevTestLab without auto-shutdown", async () => {
            const run = await preflight([], { config: ["cosmos-vm-identity:autoShutdownTime: off"], world: (w) => { delete w.providers["Microsoft.DevTestLab"]; } });
            assert.equal(check(run, "providers").message, "Microsoft.Network, Microsoft.Compute, Microsoft.DocumentDB registered");
            assert.ok(!run.fake.calls.some((c) => c.path.endsWith("/Microsoft.DevTestLab")));
        });

        it("is read-only in its bones: without --fix the client refuses to register, and nothing reaches Resource Manager", async () => {
            const fake = await startFakeResourceManager();
            try {
                const clients = new ArmClients({
                    endpoint: fake.endpoint, scope: "https://management.azure.com/.default", credential: fakeCredential(), subscriptionId: SUBSCRIPTION_ID,
                    agent: fake.agent, retry: { maxRetries: 0, retryDelayInMs: 10, maxRetryDelayInMs: 10 }, allowProviderRegistration: false,
                });
                await assert.rejects(clients.resources.providers.register("Microsoft.DevTestLab"), /preflight is read-only: refused POST .*\/register \(provider registration needs --fix\)/);
                assert.equal(fake.calls.length, 0);
                // Azure Policy's question is the one POST it lets through; any other change stays refused.
                const question = { resourceDetails: { resourceContent: { type: "Microsoft.Compute/virtualMachines", location: "westeurope" }, apiVersion: "2024-11-01" } };
                await clients.postRaw(`/subscriptions/${SUBSCRIPTION_ID}/providers/Microsoft.PolicyInsights/checkPolicyRestrictions`, "2023-03-01", question, new AbortController().signal);
                const send = (method: HttpMethods, pathAndQuery: string) => clients.authorization.sendRequest(createPipelineRequest({ url: `${fake.endpoint}${pathAndQuery}`, method, agent: fake.agent }));
                const others: [HttpMethods, string][] = [
                    ["POST", `/subscriptions/${SUBSCRIPTION_ID}/providers/Microsoft.PolicyInsights/policyStates/latest/triggerEvaluation?api-version=2024-10-01`],
                    ["POST", "/providers/Microsoft.Management/managementGroups/contoso/providers/Microsoft.PolicyInsights/checkPolicyRestrictions?api-version=2023-03-01"],
                    ["POST", `/subscriptions/${SUBSCRIPTION_ID}/providers/Microsoft.PolicyInsights/checkPolicyRestrictions/extra?api-version=2023-03-01`],
                    ["PUT", `/subscriptions/${SUBSCRIPTION_ID}/providers/Microsoft.PolicyInsights/checkPolicyRestrictions?api-version=2023-03-01`],
                    ["PUT", `/subscriptions/${SUBSCRIPTION_ID}/resourcegroups/rg?api-version=2021-04-01`],
                    ["PATCH", `/subscriptions/${SUBSCRIPTION_ID}/resourcegroups/rg?api-version=2021-04-01`],
                    ["DELETE", `/subscriptions/${SUBSCRIPTION_ID}/resourcegroups/rg?api-version=2021-04-01`],
                ];
                for (const [method, target] of others) {
                    await assert.rejects(send(method, target), new RegExp(`^Error: preflight is read-only: refused ${method} `), `${method} ${target}`);
                }
                assert.deepEqual(fake.calls.map((c) => `${c.method} ${c.path}`), [`POST /subscriptions/${SUBSCRIPTION_ID}/providers/Microsoft.PolicyInsights/checkPolicyRestrictions`]);
            } finally {
                await fake.close();
            }
        });
    });

    describe("check 3: permission to create the stack", { concurrency: true }, () => {
        it("fails for a Contributor in keys mode (no role assignments), with the grant command", async () => {
            const run = await preflight([], { world: (w) => { w.permissions = [CONTRIBUTOR]; } });
            assert.equal(run.code, 1);
            assert.deepEqual(check(run, "permissions"), {
                status: "FAIL",
                message: `user ${USER_NAME} may not Microsoft.Authorization/roleAssignments/write (the VM identity's key role (a role assignment))`,
                remedy: `ask an Owner of the subscription to run: az role assignment create --assignee-object-id ${USER_OBJECT_ID} --assignee-principal-type User --role "Role Based Access Control Administrator" --scope /subscriptions/${SUBSCRIPTION_ID}`,
            });
        });

        it("passes a Contributor in rbac mode: a Cosmos DB SQL role assignment is a DocumentDB write", async () => {
            const run = await preflight([], { config: ["cosmos-vm-identity:accessMode: rbac"], world: (w) => { w.permissions = [CONTRIBUTOR]; } });
            assert.equal(check(run, "permissions").status, "PASS");
            assert.match(check(run, "permissions").message, /Microsoft\.DocumentDB\/databaseAccounts\/sqlRoleAssignments\/write included/);
        });

        it("fails in rbac mode when a custom role lacks the SQL role assignment write, and asks for Contributor", async () => {
            const run = await preflight([], {
                config: ["cosmos-vm-identity:accessMode: rbac"],
                world: (w) => { w.permissions = [{ ...CONTRIBUTOR, notActions: ["Microsoft.DocumentDB/databaseAccounts/sqlRoleAssignments/*"] }]; },
            });
            assert.equal(check(run, "permissions").status, "FAIL");
            assert.match(check(run, "permissions").message, /may not Microsoft\.DocumentDB\/databaseAccounts\/sqlRoleAssignments\/write/);
            assert.match(check(run, "permissions").remedy ?? "", /--role "Contributor"/);
        });

        it("names eligible PIM roles that would grant it, and says to activate one", async () => {
            const run = await preflight([], {
                world: (w) => {
                    w.permissions = [CONTRIBUTOR];
                    w.eligibleRoles = [{
                        properties: {
                            scope: `/subscriptions/${SUBSCRIPTION_ID}`, roleDefinitionId: `/subscriptions/${SUBSCRIPTION_ID}/providers/Microsoft.Authorization/roleDefinitions/8e3af657-a8ff-443c-a75c-2fe8c4bcb635`,
                            principalId: USER_OBJECT_ID, principalType: "User", status: "Provisioned", memberType: "Direct",
                            expandedProperties: { roleDefinition: { id: "/providers/Microsoft.Authorization/roleDefinitions/8e3af657-a8ff-443c-a75c-2fe8c4bcb635", displayName: "Owner", type: "BuiltInRole" } },
                        },
                        name: "eligible-owner", id: "/providers/Microsoft.Authorization/roleEligibilityScheduleInstances/eligible-owner", type: "Microsoft.Authorization/RoleEligibilityScheduleInstances",
                    }];
                },
            });
            assert.match(check(run, "permissions").message, /; eligible \(PIM\) roles not active now: Owner$/);
            assert.match(check(run, "permissions").remedy ?? "", /^activate an eligible role/);
        });

        it("still fails, without PIM advice, when PIM cannot be read (no P2 licence)", async () => {
            const run = await preflight([], { world: (w) => { w.permissions = [CONTRIBUTOR]; w.eligibleRoles = "forbidden"; } });
            assert.equal(check(run, "permissions").status, "FAIL");
            assert.doesNotMatch(check(run, "permissions").message, /eligible/);
        });

        it("fails for a deny assignment on Everyone that blocks an action; not when the caller is excluded or it spares child scopes", async () => {
            const deny = (extra: object) => ({
                properties: {
                    denyAssignmentName: "managed-app-lock", description: "", scope: `/subscriptions/${SUBSCRIPTION_ID}`, isSystemProtected: true,
                    permissions: [{ actions: ["Microsoft.Compute/virtualMachines/write"], notActions: [], dataActions: [], notDataActions: [] }],
                    principals: [{ id: EVERYONE, type: "SystemDefined" }], excludePrincipals: [], doNotApplyToChildScopes: false, ...extra,
                },
                id: `/subscriptions/${SUBSCRIPTION_ID}/providers/Microsoft.Authorization/denyAssignments/d1`, type: "Microsoft.Authorization/denyAssignments", name: "d1",
            });
            const blocked = await preflight([], { world: (w) => { w.denyAssignments = [deny({})]; } });
            assert.equal(check(blocked, "permissions").status, "FAIL");
            assert.match(check(blocked, "permissions").message, /deny assignment "managed-app-lock" blocks Microsoft\.Compute\/virtualMachines\/write/);
            const excluded = await preflight([], { world: (w) => { w.denyAssignments = [deny({ excludePrincipals: [{ id: USER_OBJECT_ID, type: "User" }] })]; } });
            assert.equal(check(excluded, "permissions").status, "PASS");
            const spared = await preflight([], { world: (w) => { w.denyAssignments = [deny({ doNotApplyToChildScopes: true })]; } });
            assert.equal(check(spared, "permissions").status, "PASS");
            const group = await preflight([], { world: (w) => { w.denyAssignments = [deny({ principals: [{ id: "0a0a0a0a-0000-0000-0000-000000000000", type: "Group" }] })]; } });
            assert.equal(check(group, "permissions").status, "WARN");
        });

        it("warns when it may not read deny assignments: one could still block the stack", async () => {
            const run = await preflight([], { world: (w) => { w.denyAssignments = "forbidden"; } });
            assert.equal(run.code, 0);
            assert.equal(check(run, "permissions").status, "WARN");
            assert.match(check(run, "permissions").message, /; deny assignments could not be read \(403 AuthorizationFailed: .*\), and one could still block them$/);
        });

        it("warns when role assignments are allowed only under an ABAC condition it cannot evaluate", async () => {
            const run = await preflight([], {
                world: (w) => {
                    w.permissions = [CONTRIBUTOR, {
                        actions: ["Microsoft.Authorization/roleAssignments/write", "Microsoft.Authorization/roleAssignments/delete"], notActions: [],
                        condition: "((!(ActionMatches{'Microsoft.Authorization/roleAssignments/write'})) OR (@Request[Microsoft.Authorization/roleAssignments:RoleDefinitionId] ForAnyOfAnyValues:GuidEquals {fbdf93bf-df7d-467e-a4d2-9458aa1360c8}))",
                        conditionVersion: "2.0",
                    }];
                },
            });
            assert.equal(run.code, 0);
            assert.equal(check(run, "permissions").status, "WARN");
            assert.match(check(run, "permissions").message, /only under an ABAC condition preflight cannot evaluate/);
        });

        it("evaluates actions as Azure RBAC does: wildcards anywhere, case-insensitive, notActions per entry", () => {
            assert.ok(actionMatches("*", "Microsoft.Compute/virtualMachines/write"));
            assert.ok(actionMatches("Microsoft.Authorization/*/Write", "Microsoft.Authorization/roleAssignments/write"));
            assert.ok(actionMatches("microsoft.network/*", "Microsoft.Network/virtualNetworks/subnets/join/action"));
            assert.ok(!actionMatches("*/read", "Microsoft.Compute/virtualMachines/write"));
            assert.ok(!actionMatches("Microsoft.Compute/virtualMachines", "Microsoft.Compute/virtualMachines/write"));
            assert.ok(!actionMatches("Microsoft.Compute/virtualMachines/w.ite", "Microsoft.Compute/virtualMachines/write"), "a dot is literal");
            // A notAction removes the action only from its own entry: another entry (Owner) still grants it.
            const [contributorOnly] = evaluateActions([CONTRIBUTOR], ["Microsoft.Authorization/roleAssignments/write"]);
            assert.equal(contributorOnly.allowed, false);
            const [withOwner] = evaluateActions([CONTRIBUTOR, { actions: ["*"], notActions: [] }], ["Microsoft.Authorization/roleAssignments/write"]);
            assert.equal(withOwner.allowed, true);
            assert.deepEqual(denyingAssignments([{ permissions: [{ actions: ["*"], notActions: ["*/read"] }], principals: [{ id: EVERYONE }] }], ["Microsoft.Compute/virtualMachines/read"], USER_OBJECT_ID), []);
        });
    });

    describe("check 3b: Azure Policy, asked about what the stack declares", { concurrency: true }, () => {
        const ASSIGNMENTS = `/subscriptions/${SUBSCRIPTION_ID}/providers/microsoft.authorization/policyAssignments`;
        const NONE = { fieldRestrictions: [], contentEvaluationResult: { policyEvaluations: [] } };
        const reference = (name: string) => ({
            policyDefinitionId: `/providers/Microsoft.Authorization/policyDefinitions/${name}-definition`,
            policySetDefinitionId: `/providers/Microsoft.Authorization/policySetDefinitions/${name}-set`,
            policyDefinitionReferenceId: "DefRef",
            policyAssignmentId: `${ASSIGNMENTS}/${name}`,
        });
        /** A Deny evaluation of the content, as the spec's example shows one. */
        const denyOf = (name: string, expression: object) => ({
            policyInfo: reference(name), evaluationResult: "NonCompliant", evaluationDetails: { evaluatedExpressions: [expression] }, effectDetails: { policyEffect: "Deny" },
        });
        const named = (w: FakeWorld, name: string, displayName: string) => { w.policyAssignments[`${ASSIGNMENTS}/${name}`.toLowerCase()] = { displayName }; };
        /** One assignment that requires a tag on the Cosmos DB account to hold one of `values` (a Deny-effect field restriction). */
        const cosmosTagValues = (name: string, displayName: string, tag: string, values: string[]) => (w: FakeWorld) => {
            named(w, name, displayName);
            w.policy = (question) => question.resourceDetails.resourceContent.type !== "Microsoft.DocumentDB/databaseAccounts" ? NONE : {
                fieldRestrictions: [{ field: `tags.${tag}`, restrictions: [{ result: "Required", values, policy: reference(name), policyEffect: "Deny", reason: `tags.${tag} must be one of ${values.join(", ")}` }] }],
                contentEvaluationResult: { policyEvaluations: [] },
            };
        };
        const questions = (fake: FakeResourceManager) => fake.calls
            .filter((c) => c.method === "POST" && c.path.endsWith("/providers/Microsoft.PolicyInsights/checkPolicyRestrictions"))
            .map((c) => c.body as PolicyQuestionBody);
        const asked = (fake: FakeResourceManager, type: string) => {
            const found = questions(fake).filter((q) => q.resourceDetails.resourceContent.type === type);
            assert.equal(found.length, 1, `one question about ${type}`);
            return found[0];
        };

        it("passes when no assignment restricts anything, having asked about every resource's declared body and sent no secret or placeholder", async () => {
            const run = await preflight([], { deps: DECLARED });
            assert.deepEqual(check(run, "policy"), { status: "PASS", message: "no policy assignment denies any of the stack's 14 Azure resources as declared (westeurope; audit effects not counted)" });
            assert.deepEqual(questions(run.fake).map((q) => q.resourceDetails.resourceContent.type).sort(), [
                "Microsoft.Authorization/roleAssignments",
                "Microsoft.Compute/virtualMachines",
                "Microsoft.Compute/virtualMachines/extensions",
                "Microsoft.Compute/virtualMachines/runCommands",
                "Microsoft.DevTestLab/schedules",
                "Microsoft.DocumentDB/databaseAccounts",
                "Microsoft.DocumentDB/databaseAccounts/sqlDatabases",
                "Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers",
                "Microsoft.Network/networkInterfaces",
                "Microsoft.Network/networkSecurityGroups",
                "Microsoft.Network/publicIPAddresses",
                "Microsoft.Network/virtualNetworks",
                "Microsoft.Network/virtualNetworks/subnets",
                "Microsoft.Resources/subscriptions/resourceGroups",
            ]);
            assert.deepEqual(asked(run.fake, "Microsoft.Resources/subscriptions/resourceGroups"), {
                resourceDetails: {
                    resourceContent: { type: "Microsoft.Resources/subscriptions/resourceGroups", name: "cosmos-vm-identity00000000", location: "westeurope", tags: { project: "cosmos-vm-identity", stack: "dev" } },
                    apiVersion: "2024-03-01",
                },
                pendingFields: [{ field: "location", values: ["westeurope"] }, { field: "tags" }],
            });
            const vm = asked(run.fake, "Microsoft.Compute/virtualMachines");
            assert.equal(vm.resourceDetails.apiVersion, "2024-11-01");
            const content = vm.resourceDetails.resourceContent;
            assert.deepEqual([content.name, content.location, content.identity], ["tutorial-vm00000000", "westeurope", { type: "SystemAssigned" }]);
            const properties = content.properties as { hardwareProfile: unknown; osProfile: Record<string, unknown>; networkProfile: { networkInterfaces: { id: string }[] } };
            assert.deepEqual(properties.hardwareProfile, { vmSize: "Standard_B2als_v2" });
            assert.equal(properties.osProfile.adminUsername, "azureuser");
            assert.equal(properties.networkProfile.networkInterfaces[0].id,
                `/subscriptions/${SUBSCRIPTION_ID}/resourceGroups/cosmos-vm-identity00000000/providers/Microsoft.Network/networkInterfaces/tutorial-nic00000000`);
            assert.ok(!("vmName" in content) && !("resourceGroupName" in properties), "path parameters are not body");
            // A value only Azure knows is left out: the role assignment's principal.
            const grant = asked(run.fake, "Microsoft.Authorization/roleAssignments").resourceDetails.resourceContent.properties as Record<string, unknown>;
            assert.deepEqual(Object.keys(grant).sort(), ["description", "principalType", "roleDefinitionId"]);
            const sent = JSON.stringify(questions(run.fake));
            assert.doesNotMatch(sent, /adminPassword/, "a secret input was sent to Azure Policy");
            assert.doesNotMatch(sent, /<(suffix|subscription-id|generated|principal-id of [^>]+)>/, "a plan placeholder was sent");
        });

        it("fails for a deny of a resource type, naming the assignment's display name and the resource, and says no configuration avoids it", async () => {
            const run = await preflight([], {
                deps: DECLARED,
                world: (w) => {
                    named(w, "no-public-ips", "Not allowed resource types");
                    w.policy = (question) => question.resourceDetails.resourceContent.type !== "Microsoft.Network/publicIPAddresses" ? NONE : {
                        fieldRestrictions: [],
                        contentEvaluationResult: { policyEvaluations: [denyOf("no-public-ips", {
                            result: "True", expressionKind: "Field", expression: "type", path: "type",
                            expressionValue: "Microsoft.Network/publicIPAddresses", targetValue: ["Microsoft.Network/publicIPAddresses"], operator: "In",
                        })] },
                    };
                },
            });
            assert.equal(run.code, 1);
            assert.deepEqual(check(run, "policy"), {
                status: "FAIL",
                message: "Azure Policy would refuse the deployment (RequestDisallowedByPolicy): \"Not allowed resource types\" denies type Microsoft.Network/publicIPAddresses on tutorial-pip",
                remedy: "\"Not allowed resource types\": no configuration avoids it (ask for a policy exemption, or deploy to another subscription)",
            });
            assert.ok(run.fake.calls.some((c) => c.method === "GET" && c.path === `${ASSIGNMENTS}/no-public-ips` && c.apiVersion === "2023-04-01"), "read the assignment's display name");
        });

        it("fails for an allowed-locations deny with the config keys that avoid it and the regions the assignment allows", async () => {
            const run = await preflight(["--json"], {
                deps: DECLARED,
                world: (w) => {
                    named(w, "allowed-locations", "Allowed locations");
                    w.policy = (question) => question.resourceDetails.resourceContent.location === undefined ? NONE : {
                        fieldRestrictions: [{ field: "location", restrictions: [{
                            result: "Deny", values: ["west europe"], policy: reference("allowed-locations"), policyEffect: "Deny",
                            reason: "location must be one of the following: northeurope, swedencentral",
                        }] }],
                        contentEvaluationResult: { policyEvaluations: [denyOf("allowed-locations", {
                            result: "True", expressionKind: "Field", expression: "location", path: "location",
                            expressionValue: "westeurope", targetValue: ["northeurope", "swedencentral"], operator: "NotIn",
                        })] },
                    };
                },
            });
            assert.equal(run.code, 1);
            const report = JSON.parse(run.stdout) as { checks: { id: string; status: string; message: string; remedy?: string; findings?: { resource: string; field: string; configKey: string | null; assignment: string }[] }[] };
            const policy = report.checks.find((c) => c.id === "policy")!;
            assert.equal(policy.status, "fail");
            assert.equal(policy.message, "Azure Policy would refuse the deployment (RequestDisallowedByPolicy): "
                + "\"Allowed locations\" denies location westeurope on resource group cosmos-vm-identity, tutorial-nsg, tutorial-vnet and 6 more; "
                + "\"Allowed locations\" denies location westeurope on tutorial-cosmos");
            assert.equal(policy.remedy, "pulumi config set azure-native:location northeurope (allowed by \"Allowed locations\": northeurope, swedencentral); "
                + "pulumi config set cosmosLocation northeurope (allowed by \"Allowed locations\": northeurope, swedencentral)");
            const cosmos = policy.findings!.filter((f) => f.resource === "tutorial-cosmos");
            assert.deepEqual(cosmos.map((f) => [f.field, f.configKey, f.assignment]), [["location", "cosmosLocation", "Allowed locations"], ["location", "cosmosLocation", "Allowed locations"]]);
        });

        it("fails for a tag a policy requires and the stack does not set; audit effects are not failures", async () => {
            const restrictions = (w: FakeWorld, costCenter: object[]) => {
                named(w, "cost-center", "Require a costCenter tag");
                w.policy = (question) => !(question.pendingFields ?? []).some((f) => f.field === "tags") ? NONE : {
                    fieldRestrictions: [
                        ...costCenter.map((restriction) => ({ field: "tags.costCenter", restrictions: [{ ...restriction, policy: reference("cost-center") }] })),
                        { field: "tags.owner", restrictions: [{ result: "Audit", policy: reference("owner-audit"), policyEffect: "Audit", reason: "tags.owner is required" }] },
                    ],
                    contentEvaluationResult: { policyEvaluations: [] },
                };
            };
            const missing = await preflight([], { deps: DECLARED, world: (w) => restrictions(w, [{ result: "Required", policyEffect: "Deny", reason: "tags.costCenter is required" }]) });
            assert.deepEqual(check(missing, "policy"), {
                status: "FAIL",
                message: "Azure Policy would refuse the deployment (RequestDisallowedByPolicy): \"Require a costCenter tag\" requires tags.costCenter on resource group cosmos-vm-identity, tutorial-nsg, tutorial-vnet and 9 more",
                remedy: "pulumi config set --path 'tags.costCenter' <value>",
            });
            const auditOnly = await preflight([], { deps: DECLARED, world: (w) => restrictions(w, []) });
            assert.equal(check(auditOnly, "policy").status, "PASS");
        });

        it("says no configuration avoids a restriction on a tag the program sets itself (stack)", async () => {
            const run = await preflight([], { deps: DECLARED, world: cosmosTagValues("stages", "Known stages", "stack", ["prod", "test"]) });
            assert.deepEqual(check(run, "policy"), {
                status: "FAIL",
                message: "Azure Policy would refuse the deployment (RequestDisallowedByPolicy): \"Known stages\" denies tags.stack dev on tutorial-cosmos",
                remedy: "\"Known stages\": no configuration avoids it (ask for a policy exemption, or deploy to another subscription)",
            });
        });

        /** A stack with its own tag and a secret admin password (the evaluation reads the secret as a placeholder). */
        const TAGGED_WITH_SECRET = ["cosmos-vm-identity:tags: '{\"costCenter\":\"1234\"}'", "cosmos-vm-identity:adminPassword:", "  secure: v1:c2VjcmV0Cg=="];

        it("never sends a secret input: the stack's admin password stays out of every question", async () => {
            const run = await preflight([], { config: TAGGED_WITH_SECRET, deps: { declaredResources: () => declaredFor(TAGGED_WITH_SECRET) } });
            assert.equal(check(run, "policy").status, "PASS");
            const sent = JSON.stringify(questions(run.fake));
            assert.match(sent, /"costCenter":"1234"/, "the stack's own configuration is what was evaluated");
            assert.doesNotMatch(sent, /adminPassword|Plan-Secret-Placeholder/);
        });

        it("fails for a field restriction that constrains a value the stack sets: a tag value the policy does not allow", async () => {
            const config = TAGGED_WITH_SECRET;
            const run = await preflight([], { config, deps: { declaredResources: () => declaredFor(config) }, world: cosmosTagValues("cost-centers", "Known cost centers", "costCenter", ["0001", "0002"]) });
            assert.deepEqual(check(run, "policy"), {
                status: "FAIL",
                message: "Azure Policy would refuse the deployment (RequestDisallowedByPolicy): \"Known cost centers\" denies tags.costCenter 1234 on tutorial-cosmos",
                remedy: "pulumi config set --path 'tags.costCenter' 0001 (allowed by \"Known cost centers\": 0001, 0002)",
            });
        });

        it("warns, and does not fail, when the caller may not ask Azure Policy (403)", async () => {
            const run = await preflight([], { deps: DECLARED, world: (w) => { w.policy = "forbidden"; } });
            assert.equal(run.code, 0);
            assert.deepEqual(check(run, "policy"), {
                status: "WARN",
                message: "may not ask Azure Policy what it would deny (403 AuthorizationFailed: The client does not have authorization to perform action 'Microsoft.PolicyInsights/checkPolicyRestrictions/action'.); a policy assignment may still refuse a resource (RequestDisallowedByPolicy)",
                remedy: "review the assignments that apply: az policy assignment list --disable-scope-strict-match --query \"[].displayName\"",
            });
        });
    });

    describe("check 4: VM size and vCPU quota", { concurrency: true }, () => {
        it("fails for a size the region does not offer, and names sizes that would pass", async () => {
            const run = await preflight([], { config: ["cosmos-vm-identity:vmSize: Standard_E2s_v5"] });
            assert.deepEqual(check(run, "vm-size"), {
                status: "FAIL",
                message: "Standard_E2s_v5 is not offered in westeurope",
                remedy: "pulumi config set vmSize Standard_B2als_v2  (also suitable here: Standard_B2as_v2, Standard_D2s_v5)",
            });
            assert.deepEqual(check(run, "vcpu-quota"), { status: "SKIP", message: "Standard_E2s_v5 is not offered in westeurope (see vm-size)" });
        });

        it("fails for a size restricted for the subscription in the region; a zone restriction alone is fine", async () => {
            const restrict = (type: "Location" | "Zone") => (w: FakeWorld) => {
                w.skus[0].restrictions = [{ type, values: ["westeurope"], restrictionInfo: { locations: ["westeurope"], ...(type === "Zone" ? { zones: ["1"] } : {}) }, reasonCode: "NotAvailableForSubscription" }];
            };
            const location = await preflight([], { world: restrict("Location") });
            assert.equal(check(location, "vm-size").status, "FAIL");
            assert.match(check(location, "vm-size").message, /^Standard_B2als_v2 in westeurope is restricted for this subscription \(NotAvailableForSubscription\)$/);
            assert.match(check(location, "vm-size").remedy ?? "", /^pulumi config set vmSize Standard_B2as_v2/);
            const zone = await preflight([], { world: restrict("Zone") });
            assert.equal(check(zone, "vm-size").status, "PASS");
        });

        it("fails for a Gen1-only size", async () => {
            const run = await preflight([], { config: ["cosmos-vm-identity:vmSize: Standard_A2_v2"] });
            assert.equal(check(run, "vm-size").status, "FAIL");
            assert.match(check(run, "vm-size").message, /is Gen1 only/);
        });

        it("reads TrustedLaunchDisabled inverted: True fails, False and absent pass", async () => {
            const withCapability = (value: string | undefined) => (w: FakeWorld) => {
                const sku = w.skus.find((s) => s.name === "Standard_DC2s_v3")!;
                sku.capabilities = sku.capabilities.filter((c) => c.name !== "TrustedLaunchDisabled");
                if (value !== undefined) sku.capabilities.push({ name: "TrustedLaunchDisabled", value });
            };
            const size = ["cosmos-vm-identity:vmSize: Standard_DC2s_v3"];
            const disabled = await preflight([], { config: size, world: withCapability("True") });
            assert.equal(check(disabled, "vm-size").status, "FAIL");
            assert.match(check(disabled, "vm-size").message, /^Standard_DC2s_v3 in westeurope does not support Trusted Launch \(TrustedLaunchDisabled\)$/);
            for (const value of ["False", undefined]) {
                const supported = await preflight([], { config: size, world: withCapability(value) });
                assert.equal(check(supported, "vm-size").status, "PASS", `TrustedLaunchDisabled ${value}`);
            }
        });

        it("fails for an Arm64 size: the Windows Server images are x64", async () => {
            const run = await preflight([], { config: ["cosmos-vm-identity:vmSize: Standard_D2ps_v5"] });
            assert.match(check(run, "vm-size").message, /is Arm64; the Windows Server images are x64/);
        });

        it("fails when the family or the regional vCPU quota has no room", async () => {
            const family = await preflight([], { world: (w) => { w.usages.find((u) => u.name.value === "standardBasv2Family")!.currentValue = 9; } });
            assert.deepEqual(check(family, "vcpu-quota"), {
                status: "FAIL",
                message: "no room for Standard_B2als_v2 in westeurope: standardBasv2Family 9 of 10 vCPUs in use, 2 needed",
                remedy: "request more vCPUs for standardBasv2Family in westeurope (Azure portal: Quotas > Compute), or choose a smaller size: pulumi config set vmSize <size>",
            });
            const regional = await preflight([], { world: (w) => { w.usages.find((u) => u.name.value === "cores")!.currentValue = 10; } });
            assert.equal(check(regional, "vcpu-quota").status, "FAIL");
            assert.match(check(regional, "vcpu-quota").message, /regional total 10 of 10 vCPUs in use, 2 needed/);
            const exact = await preflight([], { world: (w) => { w.usages.find((u) => u.name.value === "standardBasv2Family")!.currentValue = 8; } });
            assert.equal(check(exact, "vcpu-quota").status, "PASS", "8 of 10 leaves exactly the 2 needed");
            const unlisted = await preflight([], { world: (w) => { w.usages = w.usages.filter((u) => u.name.value !== "standardBasv2Family"); } });
            assert.deepEqual(check(unlisted, "vcpu-quota"), { status: "WARN", message: "regional 4 of 10 vCPUs in use; no quota entry for standardBasv2Family" });
        });
    });

    describe("check 5: Windows image and encryption at host", { concurrency: true }, () => {
        it("fails when the image SKU is not in the region, and suggests one the region offers", async () => {
            const missing = await preflight([], { world: (w) => { delete w.imageVersions["2025-datacenter-azure-edition"]; } });
            assert.deepEqual(check(missing, "image"), {
                status: "FAIL",
                message: "MicrosoftWindowsServer:WindowsServer:2025-datacenter-azure-edition is not offered in westeurope (the VM's creation would fail with PlatformImageNotFound)",
                remedy: "pulumi config set windowsImageSku 2022-datacenter-azure-edition",
            });
            const empty = await preflight([], { world: (w) => { w.imageVersions["2025-datacenter-azure-edition"] = []; } });
            assert.equal(check(empty, "image").status, "FAIL");
        });

        it("fails when encryptionAtHost is set and the feature is not registered; passes once it is", async () => {
            const config = ["cosmos-vm-identity:encryptionAtHost: true"];
            const unregistered = await preflight([], { config });
            assert.deepEqual(check(unregistered, "encryption-at-host"), {
                status: "FAIL",
                message: "Microsoft.Compute/EncryptionAtHost is NotRegistered, and encryptionAtHost is true: the VM's creation would be refused",
                remedy: "az feature register --namespace Microsoft.Compute --name EncryptionAtHost && az provider register --namespace Microsoft.Compute  (or: pulumi config set encryptionAtHost false)",
            });
            const pending = await preflight([], { config, world: (w) => { w.features["Microsoft.Compute/EncryptionAtHost"] = "Registering"; } });
            assert.equal(check(pending, "encryption-at-host").status, "FAIL");
            const registered = await preflight([], { config, world: (w) => { w.features["Microsoft.Compute/EncryptionAtHost"] = "Registered"; } });
            assert.deepEqual(check(registered, "encryption-at-host"), { status: "PASS", message: "Microsoft.Compute/EncryptionAtHost is Registered" });
        });
    });

    describe("check 6: Cosmos DB region and free tier", { concurrency: true }, () => {
        it("fails when the region refuses new accounts for the subscription, and suggests open regions", async () => {
            const run = await preflight([], { config: ["cosmos-vm-identity:cosmosLocation: eastus"] });
            assert.deepEqual(check(run, "cosmos-region"), {
                status: "FAIL",
                message: "eastus does not admit new Cosmos DB accounts for this subscription (capacity)",
                remedy: "pulumi config set cosmosLocation northeurope  (also open to this subscription: swedencentral, westeurope; or request access: https://aka.ms/cosmosdbquota)",
            });
            assert.match(run.stdout, /^Preflight for stack dev of cosmos-vm-identity \(westeurope, Cosmos DB in eastus\)/);
        });

        it("fails for a Cosmos DB region that is not online", async () => {
            const run = await preflight([], { world: (w) => { w.cosmosLocations.westeurope.status = "Offline"; } });
            assert.equal(check(run, "cosmos-region").status, "FAIL");
            assert.match(check(run, "cosmos-region").message, /^westeurope is Offline$/);
            assert.match(check(run, "cosmos-region").remedy ?? "", /^pulumi config set cosmosLocation northeurope/);
        });

        it("fails for a region Cosmos DB does not have", async () => {
            const run = await preflight([], { config: ["cosmos-vm-identity:cosmosLocation: atlantis"] });
            assert.equal(check(run, "cosmos-region").status, "FAIL");
            assert.equal(check(run, "cosmos-region").message, "atlantis is not a Cosmos DB region");
        });

        it("with freeTier, fails when another account already has the subscription's free tier", async () => {
            const config = ["cosmos-vm-identity:freeTier: true"];
            const taken = await preflight([], { config, world: (w) => { w.cosmosAccounts[0].enableFreeTier = true; } });
            assert.deepEqual(check(taken, "cosmos-free-tier"), {
                status: "FAIL",
                message: "account shop-orders (resource group shop-prod) is already this subscription's one free-tier account",
                remedy: "pulumi config set freeTier false  (or delete that account first)",
            });
            const free = await preflight([], { config });
            assert.deepEqual(check(free, "cosmos-free-tier"), { status: "PASS", message: "none of the subscription's 1 Cosmos DB accounts uses the free tier" });
        });
    });

    describe("check 7: the VM runs when this up re-runs the verification", { concurrency: true }, () => {
        let deployed: Evaluation;
        before(async () => {
            deployed = await evaluateDefaults();
        });

        /** A home directory whose local backend holds the stack's checkpoint, as `pulumi up` writes it. */
        function homeWithState(change: (resources: Record<string, unknown>[]) => void = () => undefined, options: { gzip?: boolean; layout?: "project" | "legacy" } = {}): string {
            const home = fs.mkdtempSync(path.join(scratch, "home-"));
            const resources: Record<string, unknown>[] = deployed.resources.filter((r) => r.custom).map((r) => ({
                urn: r.urn, custom: true, id: r.id, type: r.type, inputs: r.inputs, outputs: r.state, parent: r.parent,
            }));
            change(resources);
            const checkpoint = { version: 3, checkpoint: { stack: "organization/cosmos-vm-identity/dev", latest: { manifest: { time: "2026-11-30T08:00:00Z", version: "v3.210.0" }, resources } } };
            const dir = options.layout === "legacy" ? path.join(home, ".pulumi", "stacks") : path.join(home, ".pulumi", "stacks", "cosmos-vm-identity");
            fs.mkdirSync(dir, { recursive: true });
            const text = JSON.stringify(checkpoint);
            if (options.gzip) fs.writeFileSync(path.join(dir, "dev.json.gz"), zlib.gzipSync(text));
            else fs.writeFileSync(path.join(dir, "dev.json"), text);
            return home;
        }

        const vm = () => single(deployed, "azure-native:compute:VirtualMachine");
        const rg = () => String(single(deployed, "azure-native:resources:ResourceGroup").state.name);
        const withVm = (powerState: string) => (w: FakeWorld) => {
            w.vms.push({ resourceGroup: rg(), name: String(vm().state.name), powerState, size: "Standard_B2als_v2", imageSku: "2025-datacenter-azure-edition", adminUsername: "azureuser" });
        };
        const runCommandOf = (resources: Record<string, unknown>[]) => resources.find((r) => r.type === "azure-native:compute:VirtualMachineRunCommandByVirtualMachine") as { inputs: { source: { script: string } } };

        it("reads the deployed stack from the local backend's checkpoint", () => {
            const home = homeWithState();
            const stack = deployedStackFromCheckpoint(JSON.parse(fs.readFileSync(path.join(home, ".pulumi", "stacks", "cosmos-vm-identity", "dev.json"), "utf8")), "test");
            assert.equal(stack?.resourceGroupName, rg());
            assert.equal(stack?.vm?.id, vm().id);
            assert.equal(stack?.vm?.size, "Standard_B2als_v2");
            assert.equal(stack?.verificationScript, runCommandOf(deployed.resources.map((r) => ({ type: r.type, inputs: r.inputs }))).inputs.source.script);
        });

        it("passes while the VM is deallocated when the key-fetch script is the one the VM last ran (the program's own rendering)", async () => {
            const run = await preflight([], { home: homeWithState(), world: withVm("deallocated") });
            assert.deepEqual(check(run, "vm-running"), { status: "PASS", message: `the key-fetch script is unchanged: this up does not run it (VM ${vm().state.name} is deallocated)` });
        });

        it("fails while the VM is deallocated when the script changed, with the command that starts it", async () => {
            const home = homeWithState((resources) => { runCommandOf(resources).inputs.source.script = "# the script an older version of the program rendered"; });
            const run = await preflight([], { home, world: withVm("deallocated") });
            assert.equal(run.code, 1);
            assert.deepEqual(check(run, "vm-running"), {
                status: "FAIL",
                message: `VM ${vm().state.name} is deallocated (the evening auto-shutdown stops it), and this up re-runs the key-fetch verification on it (the script changed): Run Command fails on a stopped VM`,
                remedy: `az vm start --subscription ${SUBSCRIPTION_ID} --resource-group ${rg()} --name ${vm().state.name}`,
            });
            const running = await preflight([], { home, world: withVm("running") });
            assert.equal(check(running, "vm-running").status, "PASS");
            assert.match(check(running, "vm-running").message, /is running; this up re-runs the verification/);
        });

        it("fails when the state has no verification yet (verifyOnDeploy just turned on) and the VM is stopped", async () => {
            const home = homeWithState((resources) => resources.splice(resources.indexOf(runCommandOf(resources)), 1));
            const run = await preflight([], { home, world: withVm("stopped") });
            assert.equal(check(run, "vm-running").status, "FAIL");
        });

        it("passes when this up replaces the VM (a create-only setting changed): the new VM runs", async () => {
            const run = await preflight([], { home: homeWithState(), config: ["cosmos-vm-identity:windowsImageSku: 2022-datacenter-azure-edition"], world: withVm("deallocated") });
            assert.match(check(run, "vm-running").message, /^this up replaces VM .* \(windowsImageSku changed\)/);
        });

        it("warns when the state's VM no longer exists in Azure", async () => {
            const run = await preflight([], { home: homeWithState() });
            const result = check(run, "vm-running");
            assert.equal(result.status, "WARN");
            assert.match(result.message, new RegExp(`^VM ${vm().state.name} \\(.*dev\\.json\\) no longer exists in Azure$`));
            assert.equal(result.remedy, "pulumi refresh");
        });

        it("finds compressed state, the pre-project layout, and PULUMI_BACKEND_URL=file://; says why for other backends", async () => {
            const gz = await preflight([], { home: homeWithState(() => undefined, { gzip: true }), world: withVm("running") });
            assert.equal(check(gz, "vm-running").status, "PASS");
            const legacy = await preflight([], { home: homeWithState(() => undefined, { layout: "legacy" }), world: withVm("running") });
            assert.equal(check(legacy, "vm-running").status, "PASS");
            const backend = homeWithState();
            const viaUrl = await preflight([], { env: { PULUMI_BACKEND_URL: `file://${backend}` }, world: withVm("running") });
            assert.equal(check(viaUrl, "vm-running").status, "PASS");
            const cloud = await preflight([], { env: { PULUMI_BACKEND_URL: "https://api.pulumi.com" } });
            assert.equal(check(cloud, "vm-running").status, "SKIP");
            assert.match(check(cloud, "vm-running").message, /its state is in https:\/\/ \(PULUMI_BACKEND_URL\), which preflight cannot read: pass --resource-group/);
        });

        it("with --resource-group (state elsewhere): warns for a stopped VM, since it cannot tell whether the script changed", async () => {
            const run = await preflight(["--resource-group", rg()], { world: withVm("deallocated") });
            assert.equal(check(run, "vm-running").status, "WARN");
            assert.match(check(run, "vm-running").message, /deallocated .*preflight read no state to tell/);
            assert.ok(run.fake.calls.some((c) => c.path === `/subscriptions/${SUBSCRIPTION_ID}/resourceGroups/${rg()}/providers/Microsoft.Compute/virtualMachines`));
            const missing = await preflight(["--resource-group", "no-such-group"]);
            assert.equal(check(missing, "vm-running").status, "SKIP");
            assert.match(check(missing, "vm-running").message, /resource group no-such-group \(--resource-group\) does not exist/);
        });

        it("is skipped with verifyOnDeploy false", async () => {
            const run = await preflight([], { home: homeWithState(), config: ["cosmos-vm-identity:verifyOnDeploy: false"], world: withVm("deallocated") });
            assert.deepEqual(check(run, "vm-running"), { status: "SKIP", message: "verifyOnDeploy is false: `pulumi up` runs nothing on the VM" });
        });

        it("does not count an existing VM of another size as holding the new size's quota: a resize to a bigger size needs its room", async () => {
            const run = await preflight([], {
                home: homeWithState(),
                config: ["cosmos-vm-identity:vmSize: Standard_B4als_v2"],
                world: (w) => {
                    withVm("running")(w);
                    w.skus.push(vmSku("Standard_B4als_v2", "standardBasv2Family", 4, 8, [{ name: "HyperVGenerations", value: "V1,V2" }, { name: "CpuArchitectureType", value: "x64" }]));
                    // The deployed VM's 2 vCPUs are in use; 2 are free, the new size needs 4.
                    w.usages.find((u) => u.name.value === "standardBasv2Family")!.currentValue = 8;
                },
            });
            assert.equal(run.code, 1);
            assert.deepEqual(check(run, "vcpu-quota"), {
                status: "FAIL",
                message: `no room for Standard_B4als_v2 in westeurope (resizing VM ${vm().state.name} from Standard_B2als_v2): standardBasv2Family 8 of 10 vCPUs in use, 4 needed`,
                remedy: "request more vCPUs for standardBasv2Family in westeurope (Azure portal: Quotas > Compute), or choose a smaller size: pulumi config set vmSize <size>",
            });
        });

        it("counts an existing VM of the same size as holding its quota, and its own account as holding the free tier", async () => {
            const home = homeWithState();
            const accountName = String(single(deployed, "azure-native:cosmosdb:DatabaseAccount").state.name);
            const run = await preflight([], {
                home,
                config: ["cosmos-vm-identity:freeTier: true"],
                world: (w) => {
                    withVm("running")(w);
                    w.usages.find((u) => u.name.value === "standardBasv2Family")!.currentValue = 10;
                    w.cosmosAccounts.push({ resourceGroup: rg(), name: accountName, location: "West Europe", enableFreeTier: true });
                },
            });
            assert.equal(check(run, "vcpu-quota").status, "PASS");
            assert.match(check(run, "vcpu-quota").message, /already holds its 2 standardBasv2Family vCPUs/);
            assert.equal(check(run, "cosmos-free-tier").status, "PASS");
            assert.match(check(run, "cosmos-region").message, /exists already; no new account is created/);
        });
    });

    describe("an unreachable or plain-http Resource Manager", { concurrency: true }, () => {
        it("says in one line that Resource Manager cannot be reached, exits 2, no stack trace", async () => {
            const closed = await startFakeResourceManager();
            const endpoint = closed.endpoint;
            await closed.close();
            const run = await preflight([], { endpoint });
            assert.equal(run.code, 2);
            assert.equal(run.stdout, "");
            assert.equal(run.stderr.split("\n").filter(Boolean).length, 1, run.stderr);
            assert.match(run.stderr, new RegExp(`^preflight: cannot reach Resource Manager at ${endpoint.replace(/\./g, "\\.")}: .*ECONNREFUSED.*; check the network, proxy \\(HTTPS_PROXY\\) and firewall\\n$`));
            assert.doesNotMatch(run.stderr, /\n\s+at /);
        });

        it("refuses a plain-http Resource Manager: tokens go over TLS only", () => {
            assert.throws(() => checkEndpoint("http://127.0.0.1:8080"), /must be https/);
            assert.equal(checkEndpoint("https://management.azure.com/"), "https://management.azure.com");
        });
    });

    describe("the fake Resource Manager", () => {
        it("refuses and records a call with the wrong api-version, path or token", async () => {
            const fake = await startFakeResourceManager();
            const get = (pathAndQuery: string, token = FAKE_TOKEN) => new Promise<number>((resolve, reject) => {
                https.get(`${fake.endpoint}${pathAndQuery}`, { agent: fake.agent, headers: { authorization: `Bearer ${token}` } }, (response) => {
                    response.resume();
                    resolve(response.statusCode ?? 0);
                }).on("error", reject);
            });
            try {
                assert.equal(await get(`/subscriptions/${SUBSCRIPTION_ID}?api-version=2016-06-01`), 400);
                assert.equal(await get(`/subscriptions/${SUBSCRIPTION_ID}/providers/Microsoft.Compute/virtualMachines?api-version=2026-03-01`), 404);
                assert.equal(await get(`/subscriptions/${SUBSCRIPTION_ID}?api-version=2022-12-01`, "someone-else"), 401);
                assert.equal(await get(`/subscriptions/${SUBSCRIPTION_ID}?api-version=2022-12-01`), 200);
                assert.equal(fake.unexpected.length, 3, fake.unexpected.join("\n"));
            } finally {
                await fake.close();
            }
        });
    });

    describe("sign-in", { concurrency: true }, () => {
        /** The CLI as users run it, in a child process with no ARM_* or AZURE_* variables and no proxy; PATH holds only `bin`. */
        const runCli = (args: string[], bin: string) => new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
            const home = fs.mkdtempSync(path.join(scratch, "home-"));
            execFile(process.execPath, ["--require", "ts-node/register/transpile-only", "commands/preflight.ts", ...args], {
                cwd: PROJECT_ROOT, encoding: "utf8", timeout: 60_000,
                env: { PATH: bin, HOME: home, USERPROFILE: home, AZURE_CONFIG_DIR: path.join(home, ".azure") },
            }, (error, stdout, stderr) => resolve({ status: error ? (typeof error.code === "number" ? error.code : null) : 0, stdout, stderr }));
        });
        const NOT_LOGGED_IN = "not signed in to Azure (the Azure CLI says: Please run 'az login' to setup account.): run `az login`, or set ARM_CLIENT_ID, ARM_CLIENT_SECRET, ARM_TENANT_ID and ARM_SUBSCRIPTION_ID (docs/preflight.md: Sign-in)";

        it("without the Azure CLI or ARM_* variables says so in one line, with how to log in, and exits 2 (the CLI as users run it)", { skip: process.platform === "win32" && "an empty PATH leaves Windows without cmd.exe" }, async () => {
            const run = await runCli([], fs.mkdtempSync(path.join(scratch, "bin-")));
            assert.equal(run.status, 2, run.stderr);
            assert.equal(run.stdout, "");
            assert.equal(run.stderr,
                "preflight: not signed in to Azure: no ARM_* credentials are set and the Azure CLI (az) is not installed; install it and run `az login`, or set ARM_CLIENT_ID, ARM_CLIENT_SECRET, ARM_TENANT_ID and ARM_SUBSCRIPTION_ID (docs/preflight.md: Sign-in)\n");
        });

        it("with the Azure CLI logged out says so in one line (JSON with --json), and exits 2", { skip: process.platform === "win32" && "the fake az is a POSIX shell script" }, async () => {
            const bin = fs.mkdtempSync(path.join(scratch, "bin-"));
            // An installed Azure CLI that is not logged in: its own words on stderr, exit 1.
            fs.writeFileSync(path.join(bin, "az"), "#!/bin/sh\necho \"ERROR: Please run 'az login' to setup account.\" >&2\nexit 1\n", { mode: 0o755 });
            const env = { PATH: bin };
            const signIn = (plan: SignInPlan) => resolveSignIn(plan, azureCli(env), env);
            const text = await preflight([], { env, deps: { signIn } });
            assert.equal(text.code, 2);
            assert.equal(text.stdout, "");
            assert.equal(text.stderr, `preflight: ${NOT_LOGGED_IN}\n`);
            assert.deepEqual(text.fake.calls, []);
            const json = await preflight(["--json"], { env, deps: { signIn } });
            assert.equal(json.code, 2);
            assert.deepEqual(JSON.parse(json.stdout), { stack: "dev", ok: false, error: NOT_LOGGED_IN });
            assert.equal(json.stderr, "");
        });

        it("reports a credential that cannot get a token in one line", async () => {
            const failing: TokenCredential = { getToken: async () => { throw Object.assign(new Error("Please run 'az login' from a command prompt to authenticate before using this credential."), { name: "CredentialUnavailableError" }); } };
            const run = await preflight([], { deps: { signIn: testSignIn(failing) } });
            assert.equal(run.code, 2);
            assert.match(run.stderr, /^preflight: not signed in to Azure \(Please run 'az login'.*\): run `az login`/);
            assert.equal(run.stderr.split("\n").filter(Boolean).length, 1);
            assert.deepEqual(run.fake.calls, []);
        });

        describe("against a loopback Entra ID: the credentials preflight builds, for real", { concurrency: true }, () => {
            it("asks Entra ID for one token per scope for the whole run, however many clients the checks build", async () => {
                const entra = await startFakeEntraId("answer");
                try {
                    const run = await preflight([], { env: SERVICE_PRINCIPAL, deps: { signIn: signInAt(entra) } });
                    assert.equal(run.code, 0, run.stdout + run.stderr);
                    assert.deepEqual(entra.tokenRequests(), { "https://management.azure.com/.default": 1 });
                } finally {
                    await entra.close();
                }
            });

            it("says how to sign in when Entra ID refuses the secret", async () => {
                const entra = await startFakeEntraId("refuse");
                try {
                    const run = await preflight([], { env: SERVICE_PRINCIPAL, deps: { signIn: signInAt(entra) } });
                    assert.equal(run.code, 2);
                    assert.match(run.stderr, /^preflight: Entra ID refused the sign-in of service principal app with a client secret \(invalid_client: AADSTS7000215: Invalid client secret provided\.\): check ARM_CLIENT_ID, ARM_CLIENT_SECRET and ARM_TENANT_ID \(or their azure-native:\* keys\), or unset them and run `az login`, or set ARM_CLIENT_ID, ARM_CLIENT_SECRET, ARM_TENANT_ID and ARM_SUBSCRIPTION_ID \(docs\/preflight\.md: Sign-in\)\n$/);
                } finally {
                    await entra.close();
                }
            });
        });

        it("answers a request to the instance metadata service or the Arc identity endpoint itself, unless a managed identity was asked for", async () => {
            const sent: string[] = [];
            const inner: HttpClient = { sendRequest: async (request) => { sent.push(request.url); return { request, status: 200, headers: createHttpHeaders() }; } };
            const env = { IDENTITY_ENDPOINT: "http://127.0.0.1:9876/metadata/identity/oauth2/token", IMDS_ENDPOINT: "http://127.0.0.1:9876" };
            const targets = [
                "http://169.254.169.254/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https://management.azure.com",
                "http://169.254.169.254/metadata/instance/compute?api-version=2021-02-01",
                "http://localhost:40342/metadata/identity/oauth2/token?api-version=2020-06-01",
                "http://127.0.0.1:9876/metadata/identity/oauth2/token?api-version=2019-11-01",
            ];
            const guarded = signInHttpClient({ inner, managedIdentity: false, env });
            refusedRequests.splice(0);
            for (const url of targets) assert.equal((await guarded.sendRequest(createPipelineRequest({ url }))).status, 403, url);
            assert.deepEqual(sent, [], "a request left for a managed identity endpoint");
            assert.deepEqual(refusedRequests.splice(0), [
                "GET http://169.254.169.254/metadata/identity/oauth2/token",
                "GET http://169.254.169.254/metadata/instance/compute",
                "GET http://localhost:40342/metadata/identity/oauth2/token",
                "GET http://127.0.0.1:9876/metadata/identity/oauth2/token",
            ]);
            await guarded.sendRequest(createPipelineRequest({ url: `https://login.microsoftonline.com/${TENANT_ID}/oauth2/v2.0/token` }));
            const asked = signInHttpClient({ inner, managedIdentity: true, env });
            for (const url of targets) await asked.sendRequest(createPipelineRequest({ url }));
            assert.deepEqual(sent, [`https://login.microsoftonline.com/${TENANT_ID}/oauth2/v2.0/token`, ...targets]);
        });

        it("says how to sign in whichever way getting a token fails, for every method", () => {
            const methods: SignInMethod[] = [
                { kind: "azure-cli" },
                { kind: "default-credential" },
                { kind: "client-secret", tenantId: TENANT_ID, clientId: "app", clientSecret: "s" },
                { kind: "client-certificate", tenantId: TENANT_ID, clientId: "app", certificatePath: "/c.pem" },
                { kind: "oidc", tenantId: TENANT_ID, clientId: "app", assertion: { from: "token", token: "t" } },
                { kind: "managed-identity" },
            ];
            const failures: unknown[] = [
                new CredentialUnavailableError("EnvironmentCredential is unavailable. No underlying credential could be used."),
                new AggregateAuthenticationError([new CredentialUnavailableError("EnvironmentCredential is unavailable."), new CredentialUnavailableError("Azure CLI could not be found.")], "ChainedTokenCredential authentication failed."),
                new AuthenticationError(400, { error: "invalid_client", error_description: "AADSTS7000215: Invalid client secret provided." }),
                new Error("read ECONNRESET"),
                new SignInError("the OIDC token request to token.actions.githubusercontent.com answered 500"),
                "a string",
            ];
            for (const method of methods) {
                for (const failure of failures) {
                    const line = describeSignInFailure(failure, method);
                    assert.doesNotMatch(line, /\n/, `${method.kind}: one line`);
                    assert.match(line, /`az login`.*\(docs\/preflight\.md: Sign-in\)$/, `${method.kind}, ${String(failure)}: ${line}`);
                }
            }
            assert.equal(describeSignInFailure(failures[1], { kind: "default-credential" }),
                "not signed in to Azure: no step of DefaultAzureCredential's chain (environment, workload identity, Azure CLI; not its managed-identity step) found a credential "
                + "(EnvironmentCredential is unavailable.; Azure CLI could not be found.): set AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET for DefaultAzureCredential, "
                + "or unset ARM_USE_DEFAULT_AZURE_CREDENTIAL and run `az login`, or set ARM_CLIENT_ID, ARM_CLIENT_SECRET, ARM_TENANT_ID and ARM_SUBSCRIPTION_ID (docs/preflight.md: Sign-in)");
        });

        it("chooses the method in azure-native's order, config before environment", () => {
            const sp = { ARM_CLIENT_ID: "app", ARM_TENANT_ID: TENANT_ID, ARM_SUBSCRIPTION_ID: SUBSCRIPTION_ID };
            assert.deepEqual(planSignIn({}, [], {}).method, { kind: "azure-cli", tenantId: undefined });
            assert.equal(planSignIn({}, [], { ...sp, ARM_CLIENT_SECRET: "s" }).method.kind, "client-secret");
            assert.equal(planSignIn({}, [], { ...sp, ARM_CLIENT_SECRET: "s", ARM_CLIENT_CERTIFICATE_PATH: "/c.pem" }).method.kind, "client-certificate");
            assert.equal(planSignIn({}, [], { ...sp, ARM_USE_OIDC: "true", ARM_OIDC_TOKEN: "t", ARM_USE_MSI: "true" }).method.kind, "oidc");
            assert.deepEqual(planSignIn({}, [], { ...sp, ARM_USE_OIDC: "true", ACTIONS_ID_TOKEN_REQUEST_URL: "https://token.actions.example/x", ACTIONS_ID_TOKEN_REQUEST_TOKEN: "r" }).method,
                { kind: "oidc", tenantId: TENANT_ID, clientId: "app", assertion: { from: "request", url: "https://token.actions.example/x", requestToken: "r", audience: "api://AzureADTokenExchange" } });
            assert.equal(planSignIn({}, [], { ...sp, ARM_USE_DEFAULT_AZURE_CREDENTIAL: "true", ARM_CLIENT_SECRET: "s" }).method.kind, "default-credential");
            // Managed identity only when asked for: a client id alone (or ARM_USE_MSI=false) is the Azure CLI.
            assert.equal(planSignIn({}, [], { ...sp, ARM_USE_MSI: "true" }).method.kind, "managed-identity");
            assert.equal(planSignIn({}, [], { ...sp, ARM_USE_MSI: "false" }).method.kind, "azure-cli");
            assert.equal(planSignIn({}, [], { ARM_CLIENT_ID: "app" }).method.kind, "azure-cli");
            // Stack config wins over the environment (azure-native's getConfig).
            const plan = planSignIn({ "azure-native:subscriptionId": "from-config", "azure-native:clientSecret": "cs" }, [], { ...sp, ARM_CLIENT_SECRET: "env" });
            assert.equal(plan.subscriptionId, "from-config");
            assert.equal(plan.subscriptionSource, "azure-native:subscriptionId");
            assert.deepEqual(plan.method, { kind: "client-secret", tenantId: TENANT_ID, clientId: "app", clientSecret: "cs" });
        });

        it("says what a chosen but incomplete method lacks, as azure-native refuses it", () => {
            assert.throws(() => planSignIn({}, [], { ARM_CLIENT_SECRET: "s", ARM_CLIENT_ID: "app" }),
                (error: unknown) => error instanceof SignInError && /^signing in as a service principal with a secret needs a subscription \(ARM_SUBSCRIPTION_ID or azure-native:subscriptionId\), ARM_TENANT_ID; set them or run `az login`/.test(error.message));
            assert.throws(() => planSignIn({}, [], { ARM_USE_OIDC: "true", ARM_CLIENT_ID: "a", ARM_TENANT_ID: "t", ARM_SUBSCRIPTION_ID: "s" }), /needs ARM_OIDC_TOKEN, ARM_OIDC_TOKEN_FILE_PATH, or a token request URL/);
            assert.throws(() => planSignIn({ "azure-native:clientSecret": "[secret]" }, ["azure-native:clientSecret"], {}), /azure-native:clientSecret is a stack secret preflight cannot decrypt: set ARM_CLIENT_SECRET/);
            assert.throws(() => planSignIn({ "azure-native:environment": "mars" }, [], {}), /unknown Azure cloud "mars"/);
        });

        it("builds the credential the plan names, without asking for a token", async () => {
            const sp = { ARM_CLIENT_ID: "app", ARM_TENANT_ID: TENANT_ID, ARM_SUBSCRIPTION_ID: SUBSCRIPTION_ID };
            const secret = await resolveSignIn(planSignIn({}, [], { ...sp, ARM_CLIENT_SECRET: "s" }), noAz, {});
            assert.ok(secret.credential instanceof ClientSecretCredential);
            assert.equal(secret.subscriptionId, SUBSCRIPTION_ID);
            assert.equal(secret.subscriptionSource, "ARM_SUBSCRIPTION_ID");
            const oidc = await resolveSignIn(planSignIn({}, [], { ...sp, ARM_USE_OIDC: "true", ARM_OIDC_TOKEN: "t" }), noAz, {});
            assert.ok(oidc.credential instanceof ClientAssertionCredential);
            const pfx = path.join(scratch, "cert.pfx");
            fs.writeFileSync(pfx, Buffer.from([0x30, 0x82, 0x01, 0x00]));
            await assert.rejects(resolveSignIn(planSignIn({}, [], { ...sp, ARM_CLIENT_CERTIFICATE_PATH: pfx }), noAz, {}), /is not PEM; preflight and `npm run e2e` read PEM only: convert it with `openssl pkcs12/);
        });

        it("asks the Azure CLI for the subscription and cloud, and checks the cloud against the stack's", async () => {
            const asked: string[][] = [];
            const az = (account: object) => async (args: string[]): Promise<AzResult> => {
                asked.push(args);
                return { exitCode: 0, stdout: JSON.stringify(account), stderr: "" };
            };
            const account = { environmentName: "AzureCloud", id: SUBSCRIPTION_ID, name: "Contoso Dev", tenantId: TENANT_ID, user: { name: USER_NAME, type: "user" } };
            const cli = await resolveSignIn(planSignIn({}, [], {}), az(account), {});
            assert.ok(cli.credential instanceof AzureCliCredential);
            assert.deepEqual([cli.subscriptionId, cli.cloud, cli.subscriptionSource], [SUBSCRIPTION_ID, "public", "az account show"]);
            assert.deepEqual(asked[0], ["account", "show", "--output", "json"]);
            await resolveSignIn(planSignIn({ "azure-native:subscriptionId": SUBSCRIPTION_ID }, [], {}), az(account), {});
            assert.deepEqual(asked[1], ["account", "show", "--output", "json", "--subscription", SUBSCRIPTION_ID]);
            await assert.rejects(resolveSignIn(planSignIn({ "azure-native:subscriptionId": "x & del *" }, [], {}), az(account), {}), /"x & del \*" \(azure-native:subscriptionId\) is not a subscription id or name/);
        assert.equal(asked.length, 2, "the Azure CLI was run with a subscription a shell would read");
        await assert.rejects(resolveSignIn(planSignIn({ "azure-native:environment": "usgovernment" }, [], {}), az(account), {}),
                /deploys to the usgovernment cloud but the Azure CLI is signed in to AzureCloud: az cloud set --name AzureUSGovernment && az login/);
        });

        it("reads who is signed in from the token: a user's UPN, a service principal's application id", () => {
            assert.deepEqual(principalFromToken(fakeAccessToken()), { objectId: USER_OBJECT_ID, tenantId: TENANT_ID, type: "User", name: USER_NAME });
            const app = principalFromToken(fakeAccessToken({ idtyp: "app", appid: "11111111-2222-3333-4444-555555555555", upn: "" }));
            assert.deepEqual([app.type, app.name], ["ServicePrincipal", "11111111-2222-3333-4444-555555555555"]);
        });
    });

    describe("what preflight requires matches what the program declares", () => {
        let program: Evaluation;
        before(async () => {
            program = await evaluateDefaults();
        });

        /** The other resources a stack may declare: rbac mode, no auto-shutdown, no verification, public Cosmos DB. */
        const RBAC_VARIANT = { accessMode: "rbac", autoShutdownTime: "off", verifyOnDeploy: "false", cosmosPublicAccess: "true" };

        // The Resource Manager type behind each azure-native type the program declares.
        const ARM_TYPES: Record<string, string> = {
            "azure-native:resources:ResourceGroup": "Microsoft.Resources/subscriptions/resourceGroups",
            "azure-native:network:NetworkSecurityGroup": "Microsoft.Network/networkSecurityGroups",
            "azure-native:network:VirtualNetwork": "Microsoft.Network/virtualNetworks",
            "azure-native:network:Subnet": "Microsoft.Network/virtualNetworks/subnets",
            "azure-native:network:PublicIPAddress": "Microsoft.Network/publicIPAddresses",
            "azure-native:network:NetworkInterface": "Microsoft.Network/networkInterfaces",
            "azure-native:compute:VirtualMachine": "Microsoft.Compute/virtualMachines",
            "azure-native:compute:VirtualMachineExtension": "Microsoft.Compute/virtualMachines/extensions",
            "azure-native:compute:VirtualMachineRunCommandByVirtualMachine": "Microsoft.Compute/virtualMachines/runCommands",
            "azure-native:devtestlab:GlobalSchedule": "Microsoft.DevTestLab/schedules",
            "azure-native:cosmosdb:DatabaseAccount": "Microsoft.DocumentDB/databaseAccounts",
            "azure-native:cosmosdb:SqlResourceSqlDatabase": "Microsoft.DocumentDB/databaseAccounts/sqlDatabases",
            "azure-native:cosmosdb:SqlResourceSqlContainer": "Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers",
            "azure-native:authorization:RoleAssignment": "Microsoft.Authorization/roleAssignments",
            "azure-native:cosmosdb:SqlResourceSqlRoleAssignment": "Microsoft.DocumentDB/databaseAccounts/sqlRoleAssignments",
        };

        it("asks for the write action of every Azure resource the program declares, and for its providers", async () => {
            const variants: Record<string, string>[] = [{}, RBAC_VARIANT];
            for (const variant of variants) {
                const evaluation = Object.keys(variant).length === 0 ? program : await evaluateOnce(stackConfig(variant));
                const config = parseConfig(stackConfig(variant));
                const actions = requiredActions(config).map((a) => a.name);
                const namespaces = requiredProviders(config).map((p) => p.name);
                const azureTypes = [...new Set(evaluation.resources.filter((r) => r.custom && r.type.startsWith("azure-native:")).map((r) => r.type))];
                for (const type of azureTypes) {
                    const armType = ARM_TYPES[type];
                    assert.ok(armType, `preflight does not know ${type}: add its write action to commands/preflight/requirements.ts`);
                    assert.ok(actions.includes(`${armType}/write`), `requiredActions lacks ${armType}/write (${JSON.stringify(variant)})`);
                    const namespace = armType.split("/")[0];
                    if (namespace !== "Microsoft.Resources" && namespace !== "Microsoft.Authorization") assert.ok(namespaces.includes(namespace), `requiredProviders lacks ${namespace}`);
                }
                assert.deepEqual(actions.filter((a) => a.endsWith("/write")).map((a) => a.slice(0, -"/write".length)).sort(),
                    azureTypes.map((t) => ARM_TYPES[t]).sort(), "requiredActions asks for a write the program does not need");
            }
        });

        it("knows, for Azure Policy, the Resource Manager type, api-version and path parameters of every Azure resource the program declares", async () => {
            const variants: Record<string, string>[] = [{}, RBAC_VARIANT];
            const types = new Set<string>();
            for (const variant of variants) {
                const evaluation = Object.keys(variant).length === 0 ? program : await evaluateOnce(stackConfig(variant));
                for (const r of evaluation.resources.filter((r) => r.custom && r.type.startsWith("azure-native:"))) types.add(r.type);
            }
            assert.deepEqual([...types].filter((type) => !ARM_SHAPES[type]), [], "add these to ARM_SHAPES in commands/preflight/policy.ts");
            for (const [type, shape] of Object.entries(ARM_SHAPES)) {
                assert.equal(shape.armType, ARM_TYPES[type], type);
                // azure-native documents each resource's api-version and Args in its declaration file.
                const [, module, resource] = type.split(":");
                const declaration = fs.readFileSync(path.join(PROJECT_ROOT, "node_modules", "@pulumi", "azure-native", module, `${resource[0].toLowerCase()}${resource.slice(1)}.d.ts`), "utf8");
                assert.match(declaration, new RegExp(`Uses Azure REST API version ${shape.apiVersion}\\b`), `${type}: api-version`);
                const args = /export interface \w+Args \{([\s\S]*?)\n\}/.exec(declaration)?.[1] ?? "";
                for (const input of shape.pathInputs) assert.match(args, new RegExp(`\\b${input}\\??:`), `${type}: no input ${input}`);
            }
        });

        it("keeps the program's evaluation for the next run, and evaluates again when the stack's settings or a program file change", async () => {
            const cacheDir = fs.mkdtempSync(path.join(scratch, "cache-"));
            const inputFile = path.join(scratch, `program-${process.pid}.ts`);
            fs.writeFileSync(inputFile, "export const version = 1;\n");
            let evaluations = 0;
            const evaluate = (): DeclaredEvaluation => {
                evaluations++;
                return { result: Promise.resolve([{ type: "azure-native:resources:ResourceGroup", name: "rg", resourceName: `rg${evaluations}`, inputs: { location: "westeurope" } }]), stop: () => undefined };
            };
            const options = { cacheDir, inputs: [inputFile], evaluate };
            const root = project();
            const first = await cachedDeclaredResources("dev", root, options).result;
            const second = await cachedDeclaredResources("dev", root, options).result;
            assert.deepEqual([evaluations, first[0].resourceName, second[0].resourceName], [1, "rg1", "rg1"], "the second run read the first's answer");
            fs.appendFileSync(path.join(root, "Pulumi.dev.yaml"), "  cosmos-vm-identity:vmSize: Standard_D2s_v5\n");
            assert.equal((await cachedDeclaredResources("dev", root, options).result)[0].resourceName, "rg2", "another configuration is another evaluation");
            fs.writeFileSync(inputFile, "export const version = 2;\n");
            assert.equal((await cachedDeclaredResources("dev", root, options).result)[0].resourceName, "rg3", "a changed program file is another evaluation");
            assert.equal(fs.readdirSync(cacheDir).length, 3);
            assert.deepEqual(programInputs().filter((file) => !/^(lib|components)\//.test(file)), ["commands/preflight/declared.ts", "index.ts", "model/mockEngine.ts", "model/planAzure.ts", "model/stackConfig.ts", "package-lock.json"]);
            assert.ok(programInputs().includes("lib/keyFetchScript.ps1"), "a file the program reads, not only the modules it loads");
        });

        it("checks the image the program's VM uses", () => {
            const reference = single(program, "azure-native:compute:VirtualMachine").inputs.storageProfile.imageReference;
            assert.deepEqual({ publisher: reference.publisher, offer: reference.offer }, WINDOWS_IMAGE);
            assert.equal(ofType(program, "azure-native:compute:VirtualMachineRunCommandByVirtualMachine").length, 1);
        });
    });

    describe("the docs", () => {
        it("README's Deploy runs preflight first; docs/preflight.md shows its real output against the fake", async () => {
            const readme = fs.readFileSync(path.join(PROJECT_ROOT, "README.md"), "utf8");
            const deploy = readme.slice(readme.indexOf("\n## Deploy\n"));
            const firstBlock = /```sh\n([^`]*)```/.exec(deploy)?.[1] ?? "";
            assert.match(firstBlock.split("\n")[0], /^npm run preflight/, "npm run preflight is not the first command of Deploy");
            const page = fs.readFileSync(path.join(PROJECT_ROOT, "docs", "preflight.md"), "utf8");
            const sample = /<!-- preflight-sample:start[^>]*-->\n```\n([\s\S]*?)```\n<!-- preflight-sample:end -->/.exec(page)?.[1];
            assert.ok(sample, "docs/preflight.md has no preflight sample block");
            // Signed in as with the Azure CLI (its sign-in resolution, a fake `az`), with the fake's token.
            const az = async (): Promise<AzResult> => ({ exitCode: 0, stdout: JSON.stringify({ environmentName: "AzureCloud", id: SUBSCRIPTION_ID, name: "Contoso Dev", tenantId: TENANT_ID, user: { name: USER_NAME, type: "user" } }), stderr: "" });
            const signIn = async (plan: SignInPlan): Promise<SignIn> => ({ ...(await resolveSignIn(plan, az, {})), credential: fakeCredential() });
            const run = await preflight([], { world: readmeWorld, deps: { signIn, ...DECLARED } });
            const normalise = (text: string) => text.replace(/ in \d+\.\d s:/, " in N s:");
            assert.equal(normalise(sample), normalise(run.stdout), `docs/preflight.md's preflight sample is stale; the current output is:\n${run.stdout}`);
        });
    });
});

// Time-bound behaviour, after the rest so that the other tests do not compete for the CPU (these
// four mostly wait, so they wait together).
describe("time limits and throttling", { concurrency: true }, () => {
    it("runs the checks at once: with every answer taking 200 ms, the run takes about as long as the slowest check", async () => {
        const run = await preflight(["--json"], { world: (w) => { w.latencyMs = 200; } });
        const report = JSON.parse(run.stdout) as { durationMs: number; checks: { id: string; durationMs: number }[] };
        const answering = report.checks.filter((c) => c.durationMs >= 200);
        assert.ok(answering.length >= 7, "most checks call Resource Manager");
        const sum = report.checks.reduce((total, c) => total + c.durationMs, 0);
        // One after another, the run would take the sum of the checks' times; at once, about the longest.
        assert.ok(report.durationMs < sum / 2, `took ${report.durationMs} ms for checks that took ${sum} ms together: they ran one after another`);
    });

    it("ends within --timeout when the token endpoint accepts and never answers: exit 2, one line naming the endpoint, no socket left open", async () => {
        const entra = await startFakeEntraId("hang");
        try {
            const run = await preflight(["--timeout", "2"], { env: SERVICE_PRINCIPAL, deps: { signIn: signInAt(entra) } });
            assert.equal(run.code, 2);
            assert.equal(run.stdout, "");
            assert.equal(run.stderr, `preflight: no answer within 2 s from ${entra.origin}/${TENANT_ID}/oauth2/v2.0/token while signing in with service principal app with a client secret: `
                + "check the network, proxy (HTTPS_PROXY) and firewall, or allow more time (--timeout 4)\n");
            assert.ok(run.elapsedMs < 2000 + 2000, `took ${run.elapsedMs} ms`);
            assert.deepEqual(run.fake.calls, [], "nothing asked of Resource Manager without a token");
            assert.deepEqual(entra.tokenRequests(), { "https://management.azure.com/.default": 1 });
            await new Promise((resolve) => setTimeout(resolve, 50));
            assert.equal(await entra.openConnections(), 0, "the aborted request's socket is still open");
        } finally {
            await entra.close();
        }
    });

    it("--fix reports a registration Azure has not finished within the time limit", async () => {
        const run = await preflight(["--fix", "--timeout", "3"], { world: (w) => { w.providers["Microsoft.DevTestLab"] = "NotRegistered"; w.registrationCompletes = false; } });
        assert.equal(run.code, 1);
        assert.match(check(run, "providers").message, /^Microsoft\.DevTestLab is Registering \(needed for the auto-shutdown schedule\) \(registration started by --fix\): Azure takes a few minutes$/);
        assert.match(check(run, "providers").remedy ?? "", /az provider show --namespace Microsoft\.DevTestLab/);
    });

    it("honours 429 Retry-After and retries within the time limit", async () => {
        const run = await preflight(["--json"], { world: (w) => { w.throttle.push({ path: /\/Microsoft\.Compute\/skus$/, times: 1, retryAfterSeconds: 1 }); } });
        assert.equal(run.code, 0, run.stdout);
        const skuCalls = run.fake.calls.filter((c) => c.path.endsWith("/Microsoft.Compute/skus"));
        assert.equal(skuCalls.length, 2, "one 429, then the retry");
        assert.deepEqual(run.fake.earlyRetries, [], "retried before Retry-After had elapsed");
        const report = JSON.parse(run.stdout) as { checks: { id: string; durationMs: number }[] };
        assert.ok(report.checks.find((c) => c.id === "vm-size")!.durationMs >= 950, "the retry waited for Retry-After");
    });

    it("fails a check whose Retry-After runs past its time limit, and says so, without waiting it out", async () => {
        const run = await preflight(["--timeout", "2"], { world: (w) => { w.throttle.push({ path: /\/Microsoft\.Compute\/skus$/, times: 5, retryAfterSeconds: 30 }); } });
        assert.equal(run.code, 1);
        assert.deepEqual(check(run, "vm-size"), {
            status: "FAIL",
            message: "no answer within 2 s: Resource Manager is throttling this subscription (429, Retry-After 30 s)",
            remedy: "run preflight again in a minute (or allow more time: --timeout 60)",
        });
        assert.equal(check(run, "identity").status, "PASS", "the other checks still answer");
        assert.ok(run.elapsedMs < 10_000, `took ${run.elapsedMs} ms, as if it waited out the Retry-After`);
    });

    it("counts sign-in's time against --timeout: the checks get what is left of it", async () => {
        // Signing in takes 3 s of the 4; a throttled check (Retry-After 30 s) then has 1 s, not 4.
        const slowSignIn = async (plan: SignInPlan): Promise<SignIn> => {
            await new Promise((resolve) => setTimeout(resolve, 3000));
            return testSignIn()(plan);
        };
        const run = await preflight(["--timeout", "4"], { deps: { signIn: slowSignIn }, world: (w) => { w.throttle.push({ path: /\/Microsoft\.Compute\/skus$/, times: 1000, retryAfterSeconds: 30 }); } });
        assert.match(check(run, "vm-size").message, /^no answer within 4 s: Resource Manager is throttling/);
        assert.ok(run.elapsedMs < 4000 + 2000, `took ${run.elapsedMs} ms: the checks had the whole limit again after signing in`);
    });

    it("asks Azure Policy again after a 429's Retry-After, within the time limit, and passes", async () => {
        const run = await preflight(["--json"], { deps: DECLARED, world: (w) => { w.throttle.push({ path: /\/checkPolicyRestrictions$/, times: 1, retryAfterSeconds: 1 }); } });
        assert.equal(run.code, 0, run.stdout);
        const report = JSON.parse(run.stdout) as { checks: { id: string; status: string; durationMs: number }[] };
        const policy = report.checks.find((c) => c.id === "policy")!;
        assert.equal(policy.status, "pass");
        assert.ok(policy.durationMs >= 950, "the retry waited for Retry-After");
        assert.ok(run.fake.calls.filter((c) => c.path.endsWith("/checkPolicyRestrictions")).length > 14, "the throttled question was asked again");
    });

    it("fails the policy check when Azure Policy's Retry-After runs past the time limit, without waiting it out", async () => {
        const run = await preflight(["--timeout", "2"], { deps: DECLARED, world: (w) => { w.throttle.push({ path: /\/checkPolicyRestrictions$/, times: 1000, retryAfterSeconds: 30 }); } });
        assert.deepEqual(check(run, "policy"), {
            status: "FAIL",
            message: "no answer within 2 s: Resource Manager is throttling this subscription (429, Retry-After 30 s)",
            remedy: "run preflight again in a minute (or allow more time: --timeout 60)",
        });
        assert.ok(run.elapsedMs < 2000 + 2000, `took ${run.elapsedMs} ms`);
    });

    it("still reports the other checks when the identity check times out (only an unusable subscription hides them)", async () => {
        const run = await preflight(["--timeout", "2"], { world: (w) => { w.throttle.push({ path: new RegExp(`^/subscriptions/${SUBSCRIPTION_ID}$`), times: 5, retryAfterSeconds: 30 }); } });
        assert.equal(check(run, "identity").status, "FAIL");
        assert.match(check(run, "identity").message, /^no answer within 2 s: Resource Manager is throttling/);
        assert.equal(check(run, "vm-size").status, "PASS");
        assert.equal(check(run, "providers").status, "PASS");
    });
});

/** docs/preflight.md's sample: a fresh subscription where Microsoft.DevTestLab was never registered. */
function readmeWorld(world: FakeWorld): void {
    world.providers["Microsoft.DevTestLab"] = "NotRegistered";
}
