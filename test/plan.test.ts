// `npm run plan`: the stack's configuration as the CLI merges it, the plan's sections, errors exactly
// as `pulumi up` raises them, and the README's diagram kept in step with the program.
import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, it } from "node:test";
import { parseConfig } from "../lib/config";
import { DIAGRAM_FILE, plan, withDiagram } from "../commands/plan";
import { loadStackConfig, SECRET_PLACEHOLDER } from "../model/stackConfig";
import { PROJECT_ROOT } from "./harness";
import { parsePowerShell, syntaxErrors } from "./support/powershell";

/** A scratch project: the real Pulumi.yaml and one stack file. */
function scratchProject(stack: string, stackYaml: string): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cosmos-vm-identity-plan-"));
    fs.copyFileSync(path.join(PROJECT_ROOT, "Pulumi.yaml"), path.join(dir, "Pulumi.yaml"));
    fs.writeFileSync(path.join(dir, `Pulumi.${stack}.yaml`), stackYaml);
    return dir;
}

describe("the plan's configuration", () => {
    it("merges Pulumi.yaml's defaults under the stack file, as the CLI does", () => {
        const { config, secretKeys } = loadStackConfig("dev");
        assert.equal(config["azure-native:location"], "westeurope");
        assert.equal(config["cosmos-vm-identity:throughput"], "400");
        assert.equal(config["cosmos-vm-identity:rdpAllowedFrom"], "[]");
        assert.equal(config["cosmos-vm-identity:freeTier"], "false");
        assert.deepEqual(secretKeys, []);
    });

    it("shows secrets as placeholders and reads typed stack values as Pulumi stores them", () => {
        const dir = scratchProject("demo", [
            "config:",
            "  azure-native:location: northeurope",
            "  cosmos-vm-identity:adminPassword:",
            "    secure: v1:c2VjcmV0LWJ5dGVz:ZW5jcnlwdGVk",
            "  cosmos-vm-identity:rdpAllowedFrom:",
            "    - 203.0.113.7",
            "  cosmos-vm-identity:throughput: 800",
        ].join("\n"));
        const { config, secretKeys } = loadStackConfig("demo", dir);
        assert.equal(config["cosmos-vm-identity:adminPassword"], SECRET_PLACEHOLDER);
        assert.deepEqual(secretKeys, ["cosmos-vm-identity:adminPassword"]);
        assert.equal(config["cosmos-vm-identity:rdpAllowedFrom"], '["203.0.113.7"]');
        assert.equal(config["cosmos-vm-identity:throughput"], "800");
        assert.doesNotThrow(() => parseConfig(config), "the placeholder meets the password rules");
    });
});

/** The dev stack's plan, made once for the tests that read it. */
let devPlan: ReturnType<typeof plan> | undefined;
const planDev = () => (devPlan ??= plan("dev"));

describe("the plan", () => {
    it("prints the resource tree with the settings that matter, the graph, the outputs and the script", async () => {
        const result = await planDev();
        assert.equal(result.ok, true, result.text);
        const text = result.text;
        for (const line of [
            "Resources (15 to create):",
            "+ pulumi:pulumi:Stack cosmos-vm-identity-dev",
            "        + compute:VirtualMachine tutorial-vm",
            "              size Standard_B2als_v2",
            "              identity SystemAssigned",
            "              TrustedLaunch (secure boot true, vTPM true, encryption at host false)",
            "              admin azureuser, password secret: true",
            "              400 RU/s",
            "              partition key /id",
            "              role Cosmos DB Account Reader Role",
            "              scope .../providers/Microsoft.DocumentDB/databaseAccounts/tutorial-cosmos<suffix>",
            "              no inbound rules (Azure's defaults deny the Internet)",
            "              network: VNet rules 1, IP rules none",
            "              synchronous, fails the deployment on failure, timeout 2400 s",
            "```mermaid",
            "    adminPassword: [secret]",
            "    databaseName: Test",
            "    roleDefinitionName: Cosmos DB Account Reader Role",
            "keyFetchScript:",
        ]) {
            assert.ok(text.split("\n").includes(line), `missing line: ${line}`);
        }
        // The generated password (the fake provider says "<generated>") appears nowhere: it is a secret.
        assert.ok(!text.includes("<generated>"));
        const script = text.slice(text.indexOf("keyFetchScript:\n") + "keyFetchScript:\n".length);
        assert.ok(script.startsWith("#Requires -Version 5.1"));
        assert.deepEqual(syntaxErrors(await parsePowerShell(script)), []);
    });

    it("draws what waits for what: the grant waits for VM and account, the proof for the grant and the container", async () => {
        const { mermaid } = await planDev();
        const edges = (mermaid ?? "").split("\n").filter((line) => line.includes("-->")).map((line) => line.trim());
        for (const edge of [
            "tutorial_vm --> vm_reads_cosmos_keys_role",
            "tutorial_cosmos --> vm_reads_cosmos_keys_role",
            "vm_reads_cosmos_keys_role --> verify_key_fetch_run",
            "tutorial_container --> verify_key_fetch_run",
            "tutorial_guest_attestation --> verify_key_fetch_run",
            "tutorial_subnet --> tutorial_cosmos",
            "tutorial_nic --> tutorial_vm",
            "tutorial_database --> tutorial_container",
        ]) {
            assert.ok(edges.includes(edge), `missing edge ${edge}`);
        }
        // Direct waits only: the run command's wait for the VM is implied by its wait for the grant.
        assert.ok(!edges.includes("tutorial_vm --> verify_key_fetch_run"));
    });

    it("reports invalid configuration, every problem, and nothing else (test/pulumiRunner.test.ts: the same text pulumi up raises)", async () => {
        const dir = scratchProject("bad", "config:\n  azure-native:location: westeurope\n  cosmos-vm-identity:throughput: 450\n  cosmos-vm-identity:accessLevel: all\n");
        const result = await plan("bad", dir);
        assert.equal(result.ok, false);
        assert.match(result.text, /\nerror: Invalid configuration \(2 problems\); nothing was created:\n  - cosmos-vm-identity:throughput: must be a multiple of 100 RU\/s \(got 450\)\n  - cosmos-vm-identity:accessLevel: must be "readonly" \(read-only keys\) or "readwrite" \(all keys\) \(got "all"\)\n/);
        assert.ok(!result.text.includes("Resources ("));
        assert.equal(result.mermaid, undefined);
    });

    it("fails cleanly for a stack without a stack file", () => {
        const env: NodeJS.ProcessEnv = { ...process.env };
        delete env.NODE_OPTIONS;
        const child = spawnSync(process.execPath, ["--require", "ts-node/register/transpile-only", "commands/plan.ts", "--stack", "nosuch"], { cwd: PROJECT_ROOT, env, encoding: "utf8", timeout: 60_000 });
        assert.equal(child.status, 2);
        assert.equal(child.stderr, `error: no stack file Pulumi.nosuch.yaml in ${PROJECT_ROOT}\n`);
    });
});

describe("the README's architecture diagram", () => {
    it("is the diagram the program generates for the dev stack, and so is docs/architecture.mmd", async () => {
        const { mermaid } = await planDev();
        assert.ok(mermaid);
        const readme = fs.readFileSync(path.join(PROJECT_ROOT, "README.md"), "utf8");
        assert.equal(withDiagram(readme, mermaid), readme, "README.md is stale: run `npm run plan -- --update-readme`");
        assert.equal(fs.readFileSync(DIAGRAM_FILE, "utf8"), mermaid, "docs/architecture.mmd is stale: run `npm run plan`");
    });
});
