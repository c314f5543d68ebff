// What a change of each config key does to an existing stack: azure-native's replacement rules
// applied to two evaluations of the program, docs/changes.md's table generated from them, and the
// change guard held to the same classification. Each configuration is evaluated once in this file.
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as path from "node:path";
import { before, describe, it } from "node:test";
import { configFor, EXAMPLE_CHANGES, ImpactRow, impactRows, memoizedEvaluator, renderImpactTable, withImpactTable } from "../commands/impact";
import { classifyChanges, ResourceChange } from "../model/changeClassification";
import { DeclaredResource, Evaluation } from "../model/mockEngine";
import { CONFIG_KEYS, SETTINGS } from "../lib/config";
import { DATA_STORES } from "../model/replacementRules";
import { evaluateOnce, PROJECT_ROOT } from "./harness";

const CONTAINER = "azure-native:cosmosdb:SqlResourceSqlContainer";

/** A declared resource as the mock engine records it, with only what the classifier reads. */
function declared(type: string, name: string, inputs: Record<string, unknown>, extra: Partial<DeclaredResource> = {}): DeclaredResource {
    return {
        order: 0, type, name, urn: `urn:pulumi:dev::cosmos-vm-identity::${type}::${name}`, id: `${name}-id`, parent: "", custom: true, inputs,
        secretInputs: [], dependencies: [], propertyDependencies: {}, deleteBeforeReplace: false, ignoreChanges: [], replaceOnChanges: [],
        replacementTrigger: undefined, deletedWith: "", customTimeouts: { create: "", update: "", delete: "" }, state: {}, ...extra,
    };
}

function evaluation(...resources: DeclaredResource[]): Evaluation {
    return { resources, reads: [], outputs: {}, invokes: [], warnings: [], diagnostics: [], skipped: [], recorded: {} };
}

function only(changes: ResourceChange[], name: string): ResourceChange {
    const found = changes.filter((c) => c.name === name);
    assert.equal(found.length, 1, `one change for ${name}`);
    return found[0];
}

describe("classifying a change with azure-native's rules", () => {
    const container = (inputs: Record<string, unknown>, extra: Partial<DeclaredResource> = {}) => declared(CONTAINER, "c", {
        resourceGroupName: "rg", accountName: "acct", databaseName: "Test", containerName: "Test",
        resource: { id: "Test", partitionKey: { paths: ["/id"], kind: "Hash" } }, options: { throughput: 400 }, ...inputs,
    }, extra);
    const kindOf = (a: DeclaredResource, b: DeclaredResource) => only(classifyChanges(evaluation(a), evaluation(b)), b.name);

    it("updates in place when only a body property changes, and leaves an unchanged resource alone", () => {
        const change = kindOf(container({}), container({ options: { throughput: 500 } }));
        assert.deepEqual([change.kind, change.paths], ["update", ["options.throughput"]]);
        assert.equal(kindOf(container({}), container({})).kind, "same");
    });

    it("replaces on a path parameter, deleting first when the name is explicit", () => {
        const change = kindOf(container({}), container({ containerName: "Orders", resource: { id: "Orders", partitionKey: { paths: ["/id"], kind: "Hash" } } }));
        assert.equal(change.kind, "replace");
        assert.deepEqual(change.reasons, ["path parameter containerName"]);
        assert.equal(change.deleteBeforeReplace, true);
    });

    it("creates an auto-named replacement before deleting the old one, unless deleteBeforeReplace is set", () => {
        const account = (location: string, extra: Partial<DeclaredResource> = {}) =>
            declared("azure-native:cosmosdb:DatabaseAccount", "a", { resourceGroupName: "rg2", location }, extra);
        const moved = only(classifyChanges(evaluation(account("westeurope")), evaluation(account("westeurope", { replaceOnChanges: ["location"] }))), "a");
        assert.equal(moved.kind, "same", "no change, no replacement, whatever the options");
        const rg = (group: string, extra: Partial<DeclaredResource> = {}) => declared("azure-native:cosmosdb:DatabaseAccount", "a", { resourceGroupName: group }, extra);
        assert.deepEqual(pick(kindOf(rg("g1"), rg("g2"))), { kind: "replace", deleteBeforeReplace: false });
        assert.deepEqual(pick(kindOf(rg("g1"), rg("g2", { deleteBeforeReplace: true }))), { kind: "replace", deleteBeforeReplace: true });
    });

    it("replaces on a top-level create-only property and on a forceNewMap property", () => {
        const vm = (location: string) => declared("azure-native:compute:VirtualMachine", "vm", { resourceGroupName: "rg", location });
        assert.deepEqual(kindOf(vm("westeurope"), vm("northeurope")).reasons, ["create-only location"]);
        const group = (location: string) => declared("azure-native:resources:ResourceGroup", "rg", { location });
        assert.deepEqual(kindOf(group("westeurope"), group("northeurope")).reasons, ["forceNewMap location"]);
    });

    it("compares locations as Azure does, without case or spaces", () => {
        const group = (location: string) => declared("azure-native:resources:ResourceGroup", "rg", { location });
        assert.equal(kindOf(group("westeurope"), group("West Europe")).kind, "same");
    });

    it("refuses a nested create-only change the provider would PUT in place, and replaces it when replaceOnChanges names it", () => {
        const changed = { resource: { id: "Test", partitionKey: { paths: ["/tenantId"], kind: "Hash" } } };
        const refused = kindOf(container({}), container(changed));
        assert.deepEqual([refused.kind, refused.paths], ["refused", ["resource.partitionKey.paths[0]"]]);
        const replaced = kindOf(container({}), container(changed, { replaceOnChanges: ["resource.partitionKey"] }));
        assert.deepEqual([replaced.kind, replaced.reasons], ["replace", ["replaceOnChanges resource.partitionKey"]]);
    });

    it("leaves out what ignoreChanges names, as the engine does before it asks for a diff", () => {
        assert.equal(kindOf(container({}), container({ options: { throughput: 500 } }, { ignoreChanges: ["options"] })).kind, "same");
        assert.equal(kindOf(container({}), container({ options: { throughput: 500 } }, { ignoreChanges: ["options.throughput"] })).kind, "same");
    });

    it("replaces when replacementTrigger changes, and not when it appears", () => {
        const nic = (trigger: unknown) => declared("azure-native:network:NetworkInterface", "nic", { resourceGroupName: "rg" }, { replacementTrigger: trigger });
        assert.deepEqual(kindOf(nic("a"), nic("b")).reasons, ["replacementTrigger"]);
        assert.equal(kindOf(nic(undefined), nic("b")).kind, "same");
    });

    it("treats an input that comes from a replaced resource as unknown: a new group name replaces what lives in it", () => {
        const group = (location: string) => declared("azure-native:resources:ResourceGroup", "rg", { location });
        const nsg = (groupUrn: string) => declared("azure-native:network:NetworkSecurityGroup", "nsg", { resourceGroupName: "rg-name", securityRules: [] },
            { propertyDependencies: { resourceGroupName: [groupUrn] } });
        const [g1, g2] = [group("westeurope"), group("northeurope")];
        const changes = classifyChanges(evaluation(g1, nsg(g1.urn)), evaluation(g2, nsg(g2.urn)));
        assert.deepEqual(pick(only(changes, "nsg")), { kind: "replace", deleteBeforeReplace: false });
        assert.deepEqual(only(changes, "nsg").reasons, ["path parameter resourceGroupName"]);
        // The same dependency, not replaced: nothing.
        const same = classifyChanges(evaluation(g1, nsg(g1.urn)), evaluation(group("westeurope"), nsg(g1.urn)));
        assert.equal(only(same, "nsg").kind, "same");
    });

    it("reports created and deleted resources", () => {
        const a = declared("azure-native:authorization:RoleAssignment", "key-role", { scope: "s" });
        const b = declared("azure-native:cosmosdb:SqlResourceSqlRoleAssignment", "data-role", { scope: "s" });
        const changes = classifyChanges(evaluation(a), evaluation(b));
        assert.deepEqual(changes.map((c) => [c.name, c.kind]).sort(), [["data-role", "create"], ["key-role", "delete"]]);
    });
});

describe("what a change of each setting does to an existing stack", () => {
    // `npm run impact`'s evaluations, against its fake Azure, in the tests' evaluation server.
    const evaluate = memoizedEvaluator((config, secretKeys) => evaluateOnce(config, { secretKeys }, "plan"));
    let rows: ImpactRow[];
    let rowFor: (key: string) => ImpactRow;
    before(async () => {
        rows = await impactRows(evaluate);
        rowFor = (key) => rows.find((row) => row.change.key === key)!;
    });

    it("has one example change for every setting, the program's own keys and the two of azure-native's it reads", () => {
        const keys = rows.map((row) => row.change.key);
        assert.equal(new Set(keys).size, keys.length, "one row per key");
        assert.deepEqual([keys[0], keys[keys.length - 1]], ["azure-native:location", "azure-native:environment"]);
        for (const key of [...CONFIG_KEYS, "azure-native:location", "azure-native:environment"]) assert.ok(keys.includes(key), key);
    });

    it("is the table in docs/changes.md (refresh it with `npm run impact -- --update-docs`)", () => {
        const page = fs.readFileSync(path.join(PROJECT_ROOT, "docs", "changes.md"), "utf8");
        assert.equal(withImpactTable(page, renderImpactTable(rows)), page, "docs/changes.md is stale: run `npm run impact -- --update-docs`");
    });

    it("the change guard stops exactly the changes that delete stored data or that Azure refuses, with an opt-in only for the first", () => {
        for (const row of rows) {
            const refused = row.changes.some((c) => c.kind === "refused");
            const losesData = row.changes.some((c) => DATA_STORES.has(c.type) && (c.kind === "replace" || c.kind === "delete"));
            assert.equal(row.guard.length > 0, refused || losesData, `${row.change.key}: guard ${JSON.stringify(row.guard)}, changes ${JSON.stringify(row.changes.filter((c) => c.kind !== "same"))}`);
            for (const stop of row.guard) assert.equal(stop.optIn !== undefined, !refused, `${row.change.key}: opt-in only when nothing is refused`);
        }
        assert.deepEqual(rows.filter((r) => r.guard.length > 0).map((r) => r.change.key).sort(),
            ["azure-native:location", "containerName", "cosmosLocation", "databaseName", "freeTier", "partitionKeyPath"]);
    });

    it("the change guard stops exactly the settings lib/config.ts marks as watched, with an opt-in exactly for those that lose data", () => {
        // The declaration's `guard` flag, against what lib/changeGuard.ts does with each example change.
        const declared = Object.values(SETTINGS).filter((s) => s.guard !== undefined).map((s) => `${s.key} ${s.guard}`);
        const guarded = rows.filter((r) => r.guard.length > 0).map((r) => `${r.change.key} ${r.guard.every((g) => g.optIn !== undefined) ? "dataLoss" : "refused"}`);
        assert.deepEqual([...guarded].sort(), [...declared].sort());
        assert.deepEqual(declared, ["azure-native:location dataLoss", "cosmosLocation refused", "freeTier refused", "databaseName dataLoss", "containerName dataLoss", "partitionKeyPath refused"]);
    });

    it("a new location replaces the resource group and, with it, every Azure resource, the Cosmos DB account and its data included", () => {
        const azure = rowFor("azure-native:location").changes.filter((c) => c.type.startsWith("azure-native:"));
        assert.ok(azure.length >= 14);
        assert.deepEqual(azure.filter((c) => c.kind !== "replace"), []);
    });

    it("a new database or container name deletes the old one first, data included", () => {
        for (const [key, replaced] of [["databaseName", ["database", "container"]], ["containerName", ["container"]]] as const) {
            const changes = rowFor(key).changes.filter((c) => c.kind === "replace");
            assert.deepEqual(changes.map((c) => [c.name, c.deleteBeforeReplace]).sort(), replaced.map((n) => [`tutorial-${n}`, true]).sort(), key);
        }
    });

    it("a throughput change is an in-place update of the container alone, and the first up creates it at the configured RU/s", async () => {
        const changed = rowFor("throughput").changes.filter((c) => c.kind !== "same");
        assert.deepEqual(changed.map((c) => [c.type, c.kind, c.paths]), [[CONTAINER, "update", ["options.throughput"]]]);
        const { config } = configFor(EXAMPLE_CHANGES.find((c) => c.key === "throughput")!);
        const container = (await evaluate(config)).resources.find((r) => r.type === CONTAINER)!;
        assert.deepEqual(container.inputs.options, { throughput: 500 });
    });

    it("settings Azure fixes at creation are refused at the resource that holds them, not replaced", () => {
        const refused = (key: string) => rowFor(key).changes.filter((c) => c.kind === "refused").map((c) => [c.name, c.paths]);
        assert.deepEqual(refused("partitionKeyPath"), [["tutorial-container", ["resource.partitionKey.paths[0]"]]]);
        assert.deepEqual(refused("freeTier"), [["tutorial-cosmos", ["enableFreeTier"]]]);
        assert.deepEqual(refused("cosmosLocation"), [["tutorial-cosmos", ["location", "locations[0].locationName"]]]);
        for (const key of ["partitionKeyPath", "freeTier", "cosmosLocation"]) {
            assert.deepEqual(rowFor(key).changes.filter((c) => !["same", "refused"].includes(c.kind)), [], `${key}: nothing else changes`);
        }
    });
});

function pick(change: ResourceChange): { kind: string; deleteBeforeReplace: boolean } {
    return { kind: change.kind, deleteBeforeReplace: change.deleteBeforeReplace };
}
