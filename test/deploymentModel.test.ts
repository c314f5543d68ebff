// The critical-path model behind docs/benchmarks.md: the scheduler itself, and the program's graph
// against the ideal (the VM chain and the Cosmos DB chain fully in parallel).
import { strict as assert } from "node:assert";
import { describe, it } from "node:test";
import { schedule } from "../model/criticalPath";
import { modelDeployment, PROVISIONING_SECONDS } from "../model/deploymentModel";
import { evaluateOnce, stackConfig } from "./harness";

describe("the scheduler", () => {
    it("starts each task when all it waits for is done and finds the chain that decides the total", () => {
        const result = schedule([
            { id: "a", seconds: 2, waitsFor: [] },
            { id: "b", seconds: 10, waitsFor: ["a"] },
            { id: "c", seconds: 3, waitsFor: ["a"] },
            { id: "d", seconds: 1, waitsFor: ["b", "c"] },
        ]);
        assert.equal(result.total, 13);
        assert.deepEqual(result.path, ["a", "b", "d"]);
        assert.equal(result.finish.get("c"), 5);
    });

    it("refuses cycles and unknown dependencies", () => {
        assert.throws(() => schedule([{ id: "a", seconds: 1, waitsFor: ["b"] }, { id: "b", seconds: 1, waitsFor: ["a"] }]), /cycle/);
        assert.throws(() => schedule([{ id: "a", seconds: 1, waitsFor: ["x"] }]), /unknown task x/);
    });
});

describe("the program's deployment", () => {
    for (const accessMode of ["keys", "rbac"]) {
        it(`${accessMode}: stays within 10% of running the VM and Cosmos DB chains fully in parallel`, async () => {
            const evaluation = await evaluateOnce(stackConfig({ accessMode }));
            const model = modelDeployment(evaluation);
            assert.ok(model.ratio <= 1.1, `ratio ${model.ratio}`);
            // The proof runs last, after the slowest chain: the Cosmos DB account at typical times.
            assert.equal(model.actual.path[model.actual.path.length - 1], "verify-key-fetch-run");
            assert.ok(model.actual.path.includes("tutorial-cosmos"));
            // Only the account's wait for the subnet crosses the chains: without it the total is the ideal's.
            const subnetDone = model.actual.finish.get("tutorial-subnet")!;
            const groupDone = model.actual.finish.get("cosmos-vm-identity")!;
            assert.equal(model.actual.total - model.ideal.total, subnetDone - groupDone);
        });
    }

    it("needs a provisioning time for every resource type the program declares", async () => {
        const evaluation = await evaluateOnce(stackConfig({ accessMode: "rbac" }));
        assert.doesNotThrow(() => modelDeployment(evaluation));
        assert.throws(() => modelDeployment(evaluation, { ...PROVISIONING_SECONDS, "azure-native:compute:VirtualMachine": undefined as unknown as number }), /no provisioning time/);
    });
});
