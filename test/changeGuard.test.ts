// The change guard: the pure comparison directly, then the whole program under Pulumi's mocks with
// a stack reference that reads chosen previous outputs (those of an earlier evaluation).
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as path from "node:path";
import { before, describe, it } from "node:test";
import {
    checkChanges, DEPLOYED_SETTINGS_OUTPUT, DeployedSettings, deployedSettingsOf, PreviousRecord, previousRecordFrom, UnsafeChangeError,
} from "../lib/changeGuard";
import { ConfigError, parseConfig } from "../lib/config";
import { evaluate, Evaluation, PROJECT_ROOT, stackConfig, StackOutput } from "./harness";

const DEPLOYED: DeployedSettings = deployedSettingsOf(parseConfig(stackConfig()));
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
        assert.deepEqual(previousRecordFrom({ [DEPLOYED_SETTINGS_OUTPUT]: DEPLOYED }), RECORD);
        assert.equal(previousRecordFrom({}), undefined, "a first update");
        assert.deepEqual(previousRecordFrom({ databaseName: "Test", containerName: "Items" }), { settings: { databaseName: "Test", containerName: "Items" }, partial: true });
        const legacy = checkChanges(previousRecordFrom({ databaseName: "Test", containerName: "Items" }), next({ containerName: "Orders", freeTier: true }), []);
        assert.deepEqual(keysOf(legacy), ["cosmos-vm-identity:containerName"], "only what the old outputs hold is checked");
        assert.match(legacy.warnings[0], /without the change guard: only databaseName and containerName are checked this time/);
        // Unreadable fields are left out, never guessed.
        assert.deepEqual(previousRecordFrom({ [DEPLOYED_SETTINGS_OUTPUT]: { containerName: 7, freeTier: "no" } }), { settings: {}, partial: false });
    });

    it("raises one RunError that lists every problem", () => {
        const { problems } = checkChanges(RECORD, next({ containerName: "Orders", freeTier: true }), []);
        const error = new UnsafeChangeError(problems);
        assert.match(error.message, /^Unsafe configuration change \(2 problems\); nothing was changed:\n  - cosmos-vm-identity:containerName: .*\n  - cosmos-vm-identity:freeTier: .*\nThe previous values are this stack's deployedSettings output/);
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

    it("is the message the README shows", () => {
        const readme = fs.readFileSync(path.join(PROJECT_ROOT, "README.md"), "utf8");
        const { problems } = checkChanges(RECORD, next({ containerName: "Orders", freeTier: true }), []);
        assert.ok(readme.includes(`\`\`\`\nerror: ${new UnsafeChangeError(problems).message}\n\`\`\``), "README's sample guard message is stale");
    });
});

describe("the change guard in the program, under mocks", () => {
    // A stack's first update: no previous outputs. Its outputs are the record of every later update here.
    let first: Evaluation;
    before(async () => {
        first = await evaluate(stackConfig());
        assert.equal(first.error, undefined, String(first.error));
    });
    /** A later update of the stack whose last successful update was `previous`. */
    const update = (values: Record<string, string>, previous: Record<string, StackOutput> = first.outputs) => evaluate(stackConfig(values), { previousOutputs: previous });

    it("reads the previous values from a stack reference to the stack itself, before declaring anything", () => {
        assert.deepEqual(first.reads, [{ type: "pulumi:pulumi:StackReference", name: "last-update", id: "organization/cosmos-vm-identity/dev" }]);
        assert.deepEqual(first.warnings, [], "a first update is never blocked and says nothing");
        assert.deepEqual(first.outputs.deployedSettings, { value: DEPLOYED, secret: false, known: true });
    });

    it("lets an unchanged re-run through untouched: same resources, same inputs, no warning", async () => {
        const again = await update({});
        assert.equal(again.error, undefined, String(again.error));
        assert.deepEqual(again.warnings, []);
        assert.deepEqual(again.resources.map((r) => [r.urn, r.inputs]), first.resources.map((r) => [r.urn, r.inputs]));
    });

    it("stops every data-losing or refused change before any resource is declared, with one clean error", async () => {
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
            assert.ok(stopped.error instanceof UnsafeChangeError, `${key}: ${String(stopped.error)}`);
            assert.deepEqual(stopped.error.problems.map((p) => p.key), [key]);
            assert.deepEqual(stopped.resources, [], `${key}: nothing declared`);
            assert.deepEqual(stopped.invokes, [], `${key}: nothing asked of Azure`);
            assert.equal(stopped.reads.length, 1, "only the stack's own record was read");
        }
    });

    it("lets a data-losing change through with its opt-in, warns, records the new value, and warns of an entry that allows nothing", async () => {
        const allowed = await update({ containerName: "Orders", allowDataLoss: '["containerName:Test->Orders","databaseName:Test->Other"]' });
        assert.equal(allowed.error, undefined, String(allowed.error));
        assert.ok(allowed.resources.some((r) => r.type === "azure-native:cosmosdb:SqlResourceSqlContainer" && r.inputs.containerName === "Orders"));
        assert.deepEqual(allowed.warnings.map((w) => w.replace(/^warning: \[runtime\] /, "")), [
            `allowDataLoss "containerName:Test->Orders": proceeding. The provider deletes container "Test" first (its name is explicit), with every item in it, then creates an empty "Orders".`,
            `allowDataLoss "databaseName:Test->Other" matches no change in this update, so it allows nothing; remove it: pulumi config rm allowDataLoss`,
        ]);
        assert.deepEqual((allowed.outputs.deployedSettings.value as DeployedSettings).containerName, "Orders");
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
        const legacy: Record<string, StackOutput> = Object.fromEntries(Object.entries(first.outputs).filter(([name]) => name !== DEPLOYED_SETTINGS_OUTPUT));
        const stopped = await update({ containerName: "Orders" }, legacy);
        assert.ok(stopped.error instanceof UnsafeChangeError);
        assert.deepEqual(stopped.error.problems.map((p) => p.key), ["cosmos-vm-identity:containerName"]);
    });

    it("validates configuration first: bad input reads nothing, not even the stack's record", async () => {
        const bad = await update({ containerName: "a/b", partitionKeyPath: "/tenantId" });
        assert.ok(bad.error instanceof ConfigError, String(bad.error));
        assert.deepEqual([bad.reads, bad.resources], [[], []]);
    });
});
