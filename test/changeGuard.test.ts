// The change guard: the pure comparison and naming directly, then the whole program under Pulumi's
// mocks, whose engine answers as Pulumi's does in each case that decides what a stack records and
// whether a run stops: a resource that fails, --target, destroy and refresh with --run-program, the
// backends' stack reference names, a CLI that marks every output secret (model/mockEngine.ts).
// Expected values are literals: the defaults' record is { westeurope, westeurope, false, Test, Test, /id }.
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as path from "node:path";
import { before, describe, it } from "node:test";
import {
    checkChanges, DEPLOYED_SETTINGS_OUTPUT, DeployedSettings, PreviousRecord, previousRecordFrom, selfReferenceName, UnsafeChangeError,
} from "../lib/changeGuard";
import { ConfigError, parseConfig } from "../lib/config";
import { unsafeChangeProvider } from "../lib/guardStop";
import { evaluate, Evaluation, EvaluateOptions, evaluateOnce, PROJECT_ROOT, stackConfig, StackOutput } from "./harness";

const DEPLOYED: DeployedSettings = {
    location: "westeurope", cosmosLocation: "westeurope", freeTier: false, databaseName: "Test", containerName: "Test", partitionKeyPath: "/id",
};
const RECORD: PreviousRecord = { settings: DEPLOYED, partial: false };
const next = (changes: Partial<DeployedSettings>): DeployedSettings => ({ ...DEPLOYED, ...changes });
const keysOf = (result: { problems: { key: string }[] }) => result.problems.map((p) => p.key);

describe("the change guard's comparison", () => {
    it("never stops a first update, nor an unchanged one, and says nothing", () => {
        assert.deepEqual(checkChanges(undefined, next({ containerName: "Orders", freeTier: true }), []), { problems: [], warnings: [] });
        assert.deepEqual(checkChanges(RECORD, next({}), []), { problems: [], warnings: [] });
    });

    it("stops each data-losing change with its exact opt-in, and each refused change with none", () => {
        const cases: [Partial<DeployedSettings>, string, string | undefined][] = [
            [{ location: "northeurope", cosmosLocation: "northeurope" }, "azure-native:location", "location:westeurope->northeurope"],
            [{ databaseName: "Orders" }, "cosmos-vm-identity:databaseName", "databaseName:Test->Orders"],
            [{ containerName: "Orders" }, "cosmos-vm-identity:containerName", "containerName:Test->Orders"],
            [{ partitionKeyPath: "/tenantId" }, "cosmos-vm-identity:partitionKeyPath", undefined],
            [{ freeTier: true }, "cosmos-vm-identity:freeTier", undefined],
            [{ cosmosLocation: "northeurope" }, "cosmos-vm-identity:cosmosLocation", undefined],
        ];
        for (const [change, key, optIn] of cases) {
            const { problems } = checkChanges(RECORD, next(change), []);
            assert.deepEqual(problems.map((p) => [p.key, p.optIn]), [[key, optIn]], JSON.stringify(change));
        }
    });

    it("names the keys in the project's own namespace (a project that pulumi new renamed)", () => {
        const { problems } = checkChanges(RECORD, next({ containerName: "Orders", freeTier: true }), [], "orders-demo");
        assert.deepEqual(keysOf({ problems }), ["orders-demo:containerName", "orders-demo:freeTier"]);
    });

    it("names old and new value, what happens and the way forward in each message", () => {
        const message = (change: Partial<DeployedSettings>) => checkChanges(RECORD, next(change), []).problems[0].message;
        assert.match(message({ containerName: "Orders" }), /^"Test" -> "Orders"\. The provider deletes container "Test" first .*with every item.* pulumi config set allowDataLoss 'containerName:Test->Orders'\. To keep the data, set it back: pulumi config set containerName Test\.$/);
        assert.match(message({ databaseName: "Orders" }), /deletes database "Test" first .* with its container and every item/);
        assert.match(message({ location: "northeurope", cosmosLocation: "northeurope" }), /replaces the resource group and every resource in it: the Cosmos DB account is deleted/);
        assert.match(message({ partitionKeyPath: "/tenantId" }), /^"\/id" -> "\/tenantId"\. Azure refuses to change the partition key .* Set it back: pulumi config set partitionKeyPath \/id\./);
        assert.match(message({ freeTier: true }), /only when it creates an account .* destroy and recreate the stack/);
        assert.match(message({ cosmosLocation: "northeurope" }), /refuses to move the region .* Set it back: pulumi config set cosmosLocation westeurope .* destroy and recreate the stack .* or deploy a new stack/);
        for (const refused of [{ partitionKeyPath: "/x" }, { freeTier: true }, { cosmosLocation: "eastus" }]) {
            assert.doesNotMatch(message(refused), /allowDataLoss/, "no opt-in for what Azure refuses");
        }
    });

    it("quotes names for the shell, so the command can be pasted as shown", () => {
        const { problems } = checkChanges(RECORD, next({ containerName: "Bob's items" }), []);
        assert.ok(problems[0].message.includes(`pulumi config set allowDataLoss 'containerName:Test->Bob'\\''s items'`), problems[0].message);
        assert.equal(problems[0].optIn, "containerName:Test->Bob's items");
    });

    it("lets a data-losing change through with its exact opt-in only, and says so", () => {
        const change = next({ containerName: "Orders" });
        for (const wrong of ["containerName:Test->Order", "containerName:Orders->Test", "databaseName:Test->Orders", "containerName:test->Orders"]) {
            assert.deepEqual(keysOf(checkChanges(RECORD, change, [wrong])), ["cosmos-vm-identity:containerName"], wrong);
        }
        const allowed = checkChanges(RECORD, change, ["containerName:Test->Orders"]);
        assert.deepEqual(allowed.problems, []);
        assert.deepEqual(allowed.warnings, [`allowDataLoss "containerName:Test->Orders": proceeding. The provider deletes container "Test" first (its name is explicit), with every item in it, then creates an empty "Orders".`]);
    });

    it("cannot allow a later change: once applied the entry matches nothing, and every run says it can go", () => {
        const applied: PreviousRecord = { settings: next({ containerName: "Orders" }), partial: false };
        const stale = checkChanges(applied, next({ containerName: "Orders" }), ["containerName:Test->Orders"]);
        assert.deepEqual(stale.problems, []);
        assert.deepEqual(stale.warnings, [`allowDataLoss "containerName:Test->Orders" matches no change in this update, so it allows nothing; remove it: pulumi config rm allowDataLoss`]);
        // A further change needs its own entry.
        assert.deepEqual(keysOf(checkChanges(applied, next({ containerName: "Lines" }), ["containerName:Test->Orders"])), ["cosmos-vm-identity:containerName"]);
    });

    it("no opt-in helps a refused change, and the refusal stays when an opt-in lets another change through", () => {
        const result = checkChanges(RECORD, next({ containerName: "Orders", freeTier: true }), ["containerName:Test->Orders"]);
        assert.deepEqual(keysOf(result), ["cosmos-vm-identity:freeTier"]);
    });

    it("reports only what a bigger change does not already replace", () => {
        // A new location replaces the account, so its region and free tier are new anyway.
        assert.deepEqual(keysOf(checkChanges(RECORD, next({ location: "northeurope", cosmosLocation: "northeurope", freeTier: true, databaseName: "A", partitionKeyPath: "/x" }), [])),
            ["azure-native:location"]);
        // A new database replaces the container too, so its new partition key is no refusal.
        assert.deepEqual(keysOf(checkChanges(RECORD, next({ databaseName: "A", containerName: "B", partitionKeyPath: "/x" }), [])), ["cosmos-vm-identity:databaseName"]);
        assert.deepEqual(keysOf(checkChanges(RECORD, next({ containerName: "B", partitionKeyPath: "/x" }), [])), ["cosmos-vm-identity:containerName"]);
        // An explicit cosmosLocation equal to the old stack location is no move.
        assert.deepEqual(keysOf(checkChanges(RECORD, next({ location: "northeurope", cosmosLocation: "westeurope" }), ["location:westeurope->northeurope"])), []);
    });

    it("compares regions as Azure does, without case or spaces", () => {
        assert.deepEqual(checkChanges(RECORD, next({ location: "West Europe", cosmosLocation: "WestEurope" }), []).problems, []);
    });

    it("reads the record from the stack's outputs, and falls back to the names an older program version exported", () => {
        assert.deepEqual(previousRecordFrom({ [DEPLOYED_SETTINGS_OUTPUT]: {
            location: "westeurope", cosmosLocation: "West Europe", freeTier: true, databaseName: "Db", containerName: "Items", partitionKeyPath: "/tenantId",
        } }), { settings: {
            location: "westeurope", cosmosLocation: "West Europe", freeTier: true, databaseName: "Db", containerName: "Items", partitionKeyPath: "/tenantId",
        }, partial: false });
        assert.equal(previousRecordFrom({}), undefined, "a first update");
        assert.deepEqual(previousRecordFrom({ databaseName: "Test", containerName: "Items" }), { settings: { databaseName: "Test", containerName: "Items" }, partial: true });
        const legacy = checkChanges(previousRecordFrom({ databaseName: "Test", containerName: "Items" }), next({ containerName: "Orders", freeTier: true }), []);
        assert.deepEqual(keysOf(legacy), ["cosmos-vm-identity:containerName"], "only what the old outputs hold is checked");
        assert.match(legacy.warnings[0], /without the change guard: only databaseName and containerName are checked this time/);
        // Unreadable fields are left out, never guessed: the engine's placeholder for an unknown value included.
        assert.deepEqual(previousRecordFrom({ [DEPLOYED_SETTINGS_OUTPUT]: { containerName: 7, freeTier: "no" } }), { settings: {}, partial: false });
        assert.deepEqual(previousRecordFrom({ [DEPLOYED_SETTINGS_OUTPUT]: { containerName: "04da6b54-80e4-46f7-96ec-b56ff0331ba9", databaseName: "Test" } }),
            { settings: { databaseName: "Test" }, partial: false });
        assert.equal(previousRecordFrom({ databaseName: "Test", containerName: "04da6b54-80e4-46f7-96ec-b56ff0331ba9" }), undefined);
    });

    it("names the stack itself as its backend resolves it: a bare name on DIY, <organization>/<project>/<stack> on Pulumi Cloud", () => {
        const cases: [string, string | undefined, string][] = [
            // DIY (pulumi login --local, file://, azblob://...), project-scoped or legacy layout: the organization is always "organization".
            ["organization", undefined, "dev"],
            ["organization", "file://~", "dev"],
            ["organization", "azblob://state?storage_account=acct", "dev"],
            ["organization", "s3://bucket/prefix", "dev"],
            // Pulumi Cloud: a team organization, a personal one, and an organization that happens to be called "organization".
            ["acme", undefined, "acme/cosmos-vm-identity/dev"],
            ["jdoe", "https://api.pulumi.com", "jdoe/cosmos-vm-identity/dev"],
            ["organization", "https://api.pulumi.com", "organization/cosmos-vm-identity/dev"],
            ["organization", "HTTP://pulumi.internal.example", "organization/cosmos-vm-identity/dev"],
        ];
        for (const [organization, backendUrl, name] of cases) {
            assert.equal(selfReferenceName(organization, "cosmos-vm-identity", "dev", backendUrl), name, `${organization} ${backendUrl}`);
        }
    });

    it("stops a run through a provider whose check refuses the change with the guard's message, and creates nothing", async () => {
        const message = "Unsafe configuration change (1 problem); nothing was changed:\n  - x";
        assert.deepEqual(await unsafeChangeProvider.check!({ message: "old" }, { message }), { inputs: { message }, failures: [{ property: "", reason: message }] });
        await assert.rejects(unsafeChangeProvider.create({ message }), /never created/);
    });

    it("raises one RunError that lists every problem", () => {
        const { problems } = checkChanges(RECORD, next({ containerName: "Orders", freeTier: true }), []);
        const error = new UnsafeChangeError(problems);
        assert.match(error.message, /^Unsafe configuration change \(2 problems\); nothing was changed:\n  - cosmos-vm-identity:containerName: .*\n  - cosmos-vm-identity:freeTier: .*\nThe previous values are this stack's deployedSettings output: what Azure applied in its last update/);
    });

    it("carries no stack frames, which Pulumi would not show and Node 20's util.inspect chokes on", () => {
        const error = new UnsafeChangeError(checkChanges(RECORD, next({ containerName: "Orders" }), []).problems);
        assert.equal(error.stack, `UnsafeChangeError: ${error.message}`);
        assert.throws(() => parseConfig(stackConfig({ throughput: "450" })), (config: unknown) => {
            assert.ok(config instanceof ConfigError);
            assert.equal(config.stack, `ConfigError: ${config.message}`);
            return true;
        });
    });

    it("is the message docs/changes.md shows, as the engine prints the stop's refusal", () => {
        const page = fs.readFileSync(path.join(PROJECT_ROOT, "docs", "changes.md"), "utf8");
        const { problems } = checkChanges(RECORD, next({ containerName: "Orders", freeTier: true }), []);
        const shown = `error: pulumi-nodejs:dynamic/changeGuard:UnsafeChange resource 'change-guard' has a problem: ${new UnsafeChangeError(problems).message}`;
        assert.ok(page.includes(`\`\`\`\n${shown}\n\`\`\``), "docs/changes.md's sample guard message is stale");
    });
});

/** What the engine reports when the stop's check refuses a change (sdk/go/common/diag/errors.go 2002). */
const REFUSED = /^pulumi-nodejs:dynamic\/changeGuard:UnsafeChange resource 'change-guard' has a problem: Unsafe configuration change \(1 problem\); nothing was changed:\n {2}- /;
/** The record of an update from the defaults, as the stack stores it. */
const RECORDED: StackOutput = { value: DEPLOYED, secret: false, known: true };

describe("the change guard in the program, under mocks", () => {
    // A stack's first update: no previous outputs. What it recorded is the record of every later update here.
    let first: Evaluation;
    before(async () => {
        first = await evaluateOnce(stackConfig());
        assert.equal(first.error, undefined, String(first.error));
    });
    /** A later run of the stack whose last update was `first` (or recorded `previous`). */
    const update = (values: Record<string, string>, options: EvaluateOptions = {}) =>
        evaluate(stackConfig(values), { previousOutputs: first.recorded, previousResources: first.resources, ...options });
    const stopsAt = (run: Evaluation, key: string) => {
        assert.ok(run.error instanceof UnsafeChangeError, `${key}: ${String(run.error)}`);
        assert.deepEqual(run.error.problems.map((p) => p.key), [key]);
        assert.equal(run.diagnostics.length, 1, run.diagnostics.join("\n"));
        assert.match(run.diagnostics[0], REFUSED);
        assert.ok(run.diagnostics[0].includes(`- ${key}: `), run.diagnostics[0]);
    };

    it("reads the previous values from a stack reference to the stack itself, before declaring anything, and records what Azure applied", () => {
        assert.deepEqual(first.reads, [{ type: "pulumi:pulumi:StackReference", name: "last-update", id: "dev" }]);
        assert.deepEqual(first.warnings, [], "a first update is never blocked and says nothing");
        assert.deepEqual(first.diagnostics, []);
        assert.deepEqual(first.recorded.deployedSettings, RECORDED);
        assert.deepEqual(first.recorded.containerName, { value: "Test", secret: false, known: true });
    });

    it("lets an unchanged re-run through untouched: same resources, same inputs, no warning, the same record", async () => {
        const again = await update({});
        assert.equal(again.error, undefined, String(again.error));
        assert.deepEqual(again.warnings, []);
        assert.deepEqual(again.resources.map((r) => [r.urn, r.inputs]), first.resources.map((r) => [r.urn, r.inputs]));
        assert.deepEqual(again.recorded.deployedSettings, RECORDED);
    });

    it("stops every data-losing or refused change before any Azure resource is declared: the engine refuses the stop's check", async () => {
        const cases: [Record<string, string>, string][] = [
            [{ "azure-native:location": "northeurope" }, "azure-native:location"],
            [{ databaseName: "Orders" }, "cosmos-vm-identity:databaseName"],
            [{ containerName: "Orders" }, "cosmos-vm-identity:containerName"],
            [{ partitionKeyPath: "/tenantId" }, "cosmos-vm-identity:partitionKeyPath"],
            [{ freeTier: "true" }, "cosmos-vm-identity:freeTier"],
            [{ cosmosLocation: "northeurope" }, "cosmos-vm-identity:cosmosLocation"],
        ];
        for (const [values, key] of cases) {
            const stopped = await update(values);
            stopsAt(stopped, key);
            assert.deepEqual(stopped.resources, [], `${key}: nothing declared`);
            assert.deepEqual(stopped.invokes, [], `${key}: nothing asked of Azure`);
            assert.equal(stopped.reads.length, 1, "only the stack's own record was read");
            // A stopped run leaves the record as it was.
            assert.deepEqual(stopped.recorded.deployedSettings, RECORDED);
        }
    });

    it("stops the preview too (pulumi preview, and preview --refresh: both check every resource)", async () => {
        stopsAt(await update({ containerName: "Orders" }, { preview: true }), "cosmos-vm-identity:containerName");
    });

    it("lets a data-losing change through with its opt-in, warns, records the new value, and warns of an entry that allows nothing", async () => {
        const allowed = await update({ containerName: "Orders", allowDataLoss: '["containerName:Test->Orders","databaseName:Test->Other"]' });
        assert.equal(allowed.error, undefined, String(allowed.error));
        assert.ok(allowed.resources.some((r) => r.type === "azure-native:cosmosdb:SqlResourceSqlContainer" && r.inputs.containerName === "Orders"));
        assert.deepEqual(allowed.warnings.map((w) => w.replace(/^warning: \[runtime\] /, "")), [
            `allowDataLoss "containerName:Test->Orders": proceeding. The provider deletes container "Test" first (its name is explicit), with every item in it, then creates an empty "Orders".`,
            `allowDataLoss "databaseName:Test->Other" matches no change in this update, so it allows nothing; remove it: pulumi config rm allowDataLoss`,
        ]);
        assert.deepEqual(allowed.recorded.deployedSettings, { value: { ...DEPLOYED, containerName: "Orders" }, secret: false, known: true });
    });

    it("lets the other data-losing changes through with theirs", async () => {
        for (const [values, optIn] of [
            [{ "azure-native:location": "northeurope" }, "location:westeurope->northeurope"],
            [{ databaseName: "Orders" }, "databaseName:Test->Orders"],
        ] as const) {
            const allowed = await update({ ...values, allowDataLoss: optIn });
            assert.equal(allowed.error, undefined, `${optIn}: ${String(allowed.error)}`);
            assert.ok(allowed.resources.length > 10);
        }
    });

    it("checks a stack last updated without the guard on the names it exported then", async () => {
        const legacy: Record<string, StackOutput> = Object.fromEntries(Object.entries(first.recorded).filter(([name]) => name !== DEPLOYED_SETTINGS_OUTPUT));
        stopsAt(await update({ containerName: "Orders" }, { previousOutputs: legacy }), "cosmos-vm-identity:containerName");
    });

    it("validates configuration first: bad input reads nothing, not even the stack's record", async () => {
        const bad = await update({ containerName: "a/b", partitionKeyPath: "/tenantId" });
        assert.ok(bad.error instanceof ConfigError, String(bad.error));
        assert.deepEqual([bad.reads, bad.resources], [[], []]);
    });
});

describe("the change guard's record: what Azure applied, never what the config asked for", () => {
    let first: Evaluation;
    before(async () => {
        first = await evaluateOnce(stackConfig());
    });
    // Keys mode without the deploy-time run: no resource waits on the container but the ones that read its name.
    const update = (values: Record<string, string>, options: EvaluateOptions = {}) =>
        evaluate(stackConfig({ verifyOnDeploy: "false", ...values }), { previousOutputs: first.recorded, previousResources: first.resources, ...options });
    // The rename of the first test, whose container failed: the record the next update reads.
    let afterFailure: Evaluation;
    const recordOf = (run: Evaluation) => run.recorded.deployedSettings.value as Partial<DeployedSettings>;

    it("keeps the previous name of a container whose creation failed, and SDK 3.251 or earlier (unknown outputs) records the rest as applied", async () => {
        // An opted-in database and container rename with a new partition key: the database is replaced,
        // the new container fails (pulumi up --continue-on-error). The SDK then reports the container's
        // inputs, partition key included, as if applied; only its id tells that it did not finish.
        const failed = afterFailure = await update({ databaseName: "Orders", containerName: "Orders", partitionKeyPath: "/tenantId", allowDataLoss: '["databaseName:Test->Orders"]' },
            { failing: { "tutorial-container": "unknown" } });
        assert.deepEqual(failed.diagnostics, ["creating azure-native:cosmosdb:SqlResourceSqlContainer tutorial-container: the (injected) failure"]);
        assert.deepEqual(recordOf(failed), { ...DEPLOYED, databaseName: "Orders", containerName: "Test", partitionKeyPath: "/id" });
        // Its other outputs keep their last values too, rather than the placeholder of an unknown one.
        assert.deepEqual(failed.recorded.containerName, { value: "Test", secret: false, known: true });
        assert.deepEqual(failed.recorded.databaseName, { value: "Orders", secret: false, known: true });
    });

    it("does the same when the failure rejects the container's outputs (SDK 3.252 and later)", async () => {
        const failed = await update({ databaseName: "Orders", containerName: "Orders", partitionKeyPath: "/tenantId", allowDataLoss: '["databaseName:Test->Orders"]' },
            { failing: { "tutorial-container": "error" } });
        assert.equal(failed.diagnostics.length, 1);
        assert.deepEqual(recordOf(failed), { ...DEPLOYED, databaseName: "Orders", containerName: "Test", partitionKeyPath: "/id" });
        assert.deepEqual(failed.recorded.containerName, { value: "Test", secret: false, known: true });
    });

    it("so the next update still sees the rename to come, and stops it without its opt-in", async () => {
        const retried = await update({ databaseName: "Orders", containerName: "Orders", partitionKeyPath: "/tenantId" }, { previousOutputs: afterFailure.recorded });
        assert.ok(retried.error instanceof UnsafeChangeError, String(retried.error));
        assert.deepEqual(retried.error.problems.map((p) => [p.key, p.optIn]), [["cosmos-vm-identity:containerName", "containerName:Test->Orders"]]);
    });

    it("keeps every setting of a resource that failed: the account's region and free tier, the resource group's location", async () => {
        const account = await update({ allowDataLoss: "location:westeurope->northeurope", "azure-native:location": "northeurope" },
            { failing: { "tutorial-cosmos": "unknown", "cosmos-vm-identity": "unknown" } });
        assert.deepEqual(recordOf(account), DEPLOYED);
    });

    it("records nothing new under pulumi up --target for the resources it leaves out: an opted-in rename waits for a full update", async () => {
        const targeted = await update({ containerName: "Orders", allowDataLoss: "containerName:Test->Orders" }, { targets: ["tutorial-vm"] });
        assert.equal(targeted.error, undefined, String(targeted.error));
        assert.deepEqual(targeted.diagnostics, []);
        assert.deepEqual(recordOf(targeted), DEPLOYED);
        assert.deepEqual(targeted.recorded.containerName, { value: "Test", secret: false, known: true });
    });
});

describe("the change guard under every backend and CLI mode", () => {
    let first: Evaluation;
    before(async () => {
        first = await evaluateOnce(stackConfig());
    });
    const update = (values: Record<string, string>, options: EvaluateOptions = {}) =>
        evaluate(stackConfig(values), { previousOutputs: first.recorded, previousResources: first.resources, ...options });

    it("reads its own record on the DIY backend in either layout and on Pulumi Cloud, team or personal: the read never fails", async () => {
        const backends: [EvaluateOptions, string][] = [
            [{ backend: "diy" }, "dev"],
            [{ backend: "diy-legacy" }, "dev"],
            [{ backend: "diy-legacy", env: { PULUMI_DIY_BACKEND_LEGACY_LAYOUT: "1" } }, "dev"],
            [{ backend: "diy", env: { PULUMI_BACKEND_URL: "file:///var/pulumi-state" } }, "dev"],
            [{ backend: "cloud", organization: "acme" }, "acme/cosmos-vm-identity/dev"],
            [{ backend: "cloud", organization: "jdoe", env: { PULUMI_BACKEND_URL: "https://api.pulumi.com" } }, "jdoe/cosmos-vm-identity/dev"],
            [{ backend: "cloud", organization: "organization", env: { PULUMI_BACKEND_URL: "https://api.pulumi.com" } }, "organization/cosmos-vm-identity/dev"],
        ];
        for (const [options, name] of backends) {
            const run = await update({ containerName: "Orders" }, options);
            const label = JSON.stringify(options);
            assert.deepEqual(run.reads.map((r) => r.id), [name], label);
            // The record was read (the change is stopped) and the read itself raised nothing.
            assert.ok(run.error instanceof UnsafeChangeError, `${label}: ${String(run.error)}`);
            assert.match(run.diagnostics.join("\n"), REFUSED, label);
        }
    });

    it("reads a record that the CLI returns as secret: an older CLI marks every output secret when one is", async () => {
        const secretRecord = Object.fromEntries(Object.entries(first.recorded).map(([name, output]) => [name, { ...output, secret: name !== "adminUsername" }]));
        for (const options of [{ previousOutputs: secretRecord }, { withoutSecretOutputNames: true }] as EvaluateOptions[]) {
            const run = await update({ containerName: "Orders" }, options);
            assert.ok(run.error instanceof UnsafeChangeError, `${JSON.stringify(Object.keys(options))}: ${String(run.error)}`);
            assert.deepEqual(run.error.problems.map((p) => p.key), ["cosmos-vm-identity:containerName"]);
        }
    });

    for (const operation of ["destroy", "refresh"] as const) {
        it(`never blocks pulumi ${operation} --run-program: the engine skips the stop's check, and the run goes on with a warning`, async () => {
            const run = await update({ containerName: "Orders", freeTier: "true" }, { operation });
            assert.equal(run.error, undefined, String(run.error));
            assert.deepEqual(run.diagnostics, []);
            assert.deepEqual(run.skipped, ["change-guard"], "only the stop is new; every other resource answered with its last state");
            assert.equal(run.warnings.length, 1);
            assert.match(run.warnings[0], /The change guard found unsafe changes, and this run goes on because it changes no Azure resource: `pulumi destroy --run-program` and `pulumi refresh --run-program` neither create nor change one\..*\nUnsafe configuration change \(2 problems\)/s);
            // The record stays what Azure holds.
            assert.deepEqual(run.recorded.deployedSettings, first.recorded.deployedSettings);
        });
    }

    it("stops pulumi up --target at a targeted resource while a change is unsafe: every resource depends on the stop", async () => {
        const run = await update({ containerName: "Orders" }, { targets: ["tutorial-container"] });
        assert.deepEqual(run.skipped, ["change-guard"]);
        assert.equal(run.diagnostics.length, 1, run.diagnostics.join("\n"));
        assert.equal(run.diagnostics[0], "Resource 'tutorial-container' depends on 'urn:pulumi:dev::cosmos-vm-identity::pulumi-nodejs:dynamic/changeGuard:UnsafeChange::change-guard' which was was not specified in --target list.");
        assert.ok(!run.resources.some((r) => r.name === "tutorial-container"), "the container was never answered");
        assert.deepEqual(run.recorded.deployedSettings, first.recorded.deployedSettings);
        for (const resource of run.resources.filter((r) => r.custom && r.name !== "change-guard")) {
            assert.ok(resource.dependencies.includes("urn:pulumi:dev::cosmos-vm-identity::pulumi-nodejs:dynamic/changeGuard:UnsafeChange::change-guard"), resource.name);
        }
    });
});
