// The policy pack as `pulumi preview --policy-pack policy` runs it: Pulumi's own policy-pack runner
// loads policy/ (TypeScript, its tsconfig), serves the analyzer on 127.0.0.1, and the test talks
// to it over gRPC as the engine does. Loopback only.
import { strict as assert } from "node:assert";
import { ChildProcess, spawn } from "node:child_process";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import * as grpc from "@grpc/grpc-js";
import { Struct } from "google-protobuf/google/protobuf/struct_pb";
import { Empty } from "google-protobuf/google/protobuf/empty_pb";
import { AnalyzerClient } from "@pulumi/pulumi/proto/analyzer_grpc_pb";
import { AnalyzeDiagnostic, AnalyzeRequest, AnalyzerInfo, AnalyzerResourceOptions, AnalyzeResponse, EnforcementLevel } from "@pulumi/pulumi/proto/analyzer_pb";
import { securityPolicies } from "../policy/policies";
import { evaluateOnce, PROJECT_ROOT, single, stackConfig } from "./harness";

const LEVELS: Record<number, string> = { [EnforcementLevel.ADVISORY]: "advisory", [EnforcementLevel.MANDATORY]: "mandatory" };

describe("the policy pack served by Pulumi's policy runner", () => {
    let child: ChildProcess;
    let client: AnalyzerClient;
    let stderr = "";

    before(async () => {
        const runner = require.resolve("@pulumi/pulumi/cmd/run-policy-pack");
        const env: NodeJS.ProcessEnv = { ...process.env };
        delete env.NODE_OPTIONS;
        // As the CLI starts it: node <runner> <engine address> <pack directory>; the engine address is not dialled here.
        child = spawn(process.execPath, [runner, "127.0.0.1:1", "."], { cwd: path.join(PROJECT_ROOT, "policy"), env, stdio: ["ignore", "pipe", "pipe"] });
        child.stderr!.on("data", (chunk: Buffer) => { stderr += chunk.toString(); });
        const port = await new Promise<string>((resolve, reject) => {
            let stdout = "";
            const timer = setTimeout(() => reject(new Error(`the policy pack did not start within 60 s: ${stderr}`)), 60_000);
            child.stdout!.on("data", (chunk: Buffer) => {
                stdout += chunk.toString();
                const line = /^(\d+)\s*$/m.exec(stdout);
                if (line) {
                    clearTimeout(timer);
                    resolve(line[1]);
                }
            });
            child.on("exit", (code) => reject(new Error(`the policy pack exited with ${code}: ${stderr}`)));
        });
        client = new AnalyzerClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
    });

    after(() => {
        client?.close();
        child?.kill();
    });

    function analyze(type: string, props: Record<string, unknown>): Promise<{ policy: string; level: string; message: string }[]> {
        const request = new AnalyzeRequest();
        request.setType(type);
        request.setName("test");
        request.setUrn(`urn:pulumi:dev::cosmos-vm-identity::${type}::test`);
        request.setProperties(Struct.fromJavaScript(props as Parameters<typeof Struct.fromJavaScript>[0]));
        request.setOptions(new AnalyzerResourceOptions());
        return new Promise((resolve, reject) => client.analyze(request, (error: grpc.ServiceError | null, response: AnalyzeResponse) => {
            if (error) reject(error);
            else resolve(response.getDiagnosticsList().map((d: AnalyzeDiagnostic) => ({ policy: d.getPolicyname(), level: LEVELS[d.getEnforcementlevel()], message: d.getMessage() })));
        }));
    }

    it("announces every policy with its enforcement level", async () => {
        const info = await new Promise<AnalyzerInfo>((resolve, reject) => client.getAnalyzerInfo(new Empty(), (error: grpc.ServiceError | null, response: AnalyzerInfo) => (error ? reject(error) : resolve(response))));
        assert.equal(info.getName(), "cosmos-vm-identity-security");
        const announced = info.getPoliciesList().map((p) => `${p.getName()}:${LEVELS[p.getEnforcementlevel()]}`).sort();
        assert.deepEqual(announced, securityPolicies.map((p) => `${p.name}:${p.enforcementLevel}`).sort());
    });

    it("passes the program's own resources and refuses an NSG that opens RDP to the Internet", async () => {
        const stack = await evaluateOnce(stackConfig());
        const nsg = single(stack, "azure-native:network:NetworkSecurityGroup");
        assert.deepEqual(await analyze(nsg.type, nsg.inputs), []);
        const vm = single(stack, "azure-native:compute:VirtualMachine");
        assert.deepEqual((await analyze(vm.type, vm.inputs)).map((d) => `${d.policy}:${d.level}`), ["vm-encryption-at-host:advisory"]);
        const open = { ...nsg.inputs, securityRules: [{ name: "rdp", priority: 100, direction: "Inbound", access: "Allow", protocol: "Tcp", sourceAddressPrefix: "Internet", sourcePortRange: "*", destinationAddressPrefix: "*", destinationPortRange: "3389" }] };
        const diagnostics = await analyze(nsg.type, open);
        assert.deepEqual(diagnostics.map((d) => `${d.policy}:${d.level}`), ["management-ports-closed-to-internet:mandatory"]);
        assert.match(diagnostics[0].message, /admits Internet to a management port/);
    });
});
