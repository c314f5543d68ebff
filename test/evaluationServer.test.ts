// The tests' evaluation server (test/support/evaluationServer.ts) gives each test the evaluation it
// asked for: against the fake Azure it named, with the options it passed, the program's errors as
// their classes, and messages whole however the socket splits them.
import { strict as assert } from "node:assert";
import { EventEmitter } from "node:events";
import type * as net from "node:net";
import * as v8 from "node:v8";
import { describe, it } from "node:test";
import { ConfigError } from "../lib/config";
import { evaluate, evaluateOnce, single, stackConfig, VM_PRINCIPAL_ID } from "./harness";
import { frame, onFrames } from "./support/evaluationServer";

describe("the tests' evaluation server", () => {
    it("keeps evaluations of one configuration apart by the fake Azure they ran against", async () => {
        const vm = "azure-native:compute:VirtualMachine";
        const [test, plan] = [await evaluateOnce(stackConfig()), await evaluateOnce(stackConfig(), {}, "plan")];
        assert.equal(single(test, vm).state.identity.principalId, VM_PRINCIPAL_ID);
        assert.equal(single(plan, vm).state.identity.principalId, "<principal-id of tutorial-vm>");
    });

    it("keeps them apart by options, and runs a fresh one when asked", async () => {
        const [dev, prod] = [await evaluateOnce(stackConfig()), await evaluateOnce(stackConfig(), { stack: "prod" })];
        assert.equal(single(dev, "azure-native:compute:VirtualMachine").inputs.tags.stack, "dev");
        assert.equal(single(prod, "azure-native:compute:VirtualMachine").inputs.tags.stack, "prod");
        // Shared evaluations are frozen for every reader; a fresh one is the test's own.
        assert.ok(Object.isFrozen(dev.resources));
        assert.ok(!Object.isFrozen((await evaluate(stackConfig())).resources));
    });

    it("hands back the program's error as its class, with the problems it lists", async () => {
        const { error } = await evaluateOnce(stackConfig({ throughput: "450" }));
        assert.ok(error instanceof ConfigError, String(error));
        assert.deepEqual(error.problems.map((p) => p.key), ["cosmos-vm-identity:throughput"]);
        assert.match(error.message, /^Invalid configuration \(1 problem\); nothing was created:/);
    });

    it("reads messages whole, one byte at a time or several in one chunk", () => {
        const messages = [{ config: { "azure-native:location": "westeurope" } }, { evaluation: { resources: [], error: undefined } }];
        const wire = Buffer.concat(messages.map((message, id) => frame(id + 7, v8.serialize(message))));
        for (const chunks of [[...wire].map((byte) => Buffer.from([byte])), [wire]]) {
            const socket = new EventEmitter() as net.Socket;
            const received: [number, unknown][] = [];
            onFrames(socket, (id, message) => received.push([id, message]));
            for (const chunk of chunks) socket.emit("data", chunk);
            assert.deepEqual(received, [[7, messages[0]], [8, messages[1]]]);
        }
    });
});
