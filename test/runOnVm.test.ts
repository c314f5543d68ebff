// `npm run run-on-vm` (the stack's runOnVmCommand): runs the script with Run Command v2 through az
// and returns the script's output, error and exit code. Here `az` and `pulumi` are stand-ins on
// PATH that record how they were called and answer as the real CLIs do (the instance view's shape
// is Microsoft's: executionState, exitCode, output, error).
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import { main } from "../commands/runOnVm";

const SCRIPT = "#Requires -Version 5.1\n[CmdletBinding()]\nparam([string]$AccountName = 'acct')\nWrite-Host 'hello'\n";
const ERROR_LINE = "ERROR (RoleMissing): the VM's identity (principal id p) may not call readonlykeys on /subscriptions/s/... (AuthorizationFailed).";

let bin: string;
let log: string;

before(() => {
    bin = fs.mkdtempSync(path.join(os.tmpdir(), "run-on-vm-test-"));
    log = path.join(bin, "calls.jsonl");
    // Each stand-in records its arguments (and, for --script @file, the file's content).
    const standIn = (body: string) => `#!/usr/bin/env node\nconst fs = require("fs");\nconst args = process.argv.slice(2);\nconst i = args.indexOf("--script");\nconst script = i >= 0 && args[i + 1].startsWith("@") ? fs.readFileSync(args[i + 1].slice(1), "utf8") : undefined;\nfs.appendFileSync(process.env.CALL_LOG, JSON.stringify({ command: require("path").basename(process.argv[1]), args, script }) + "\\n");\n${body}\n`;
    fs.writeFileSync(path.join(bin, "pulumi"), standIn(`process.stdout.write(${JSON.stringify(SCRIPT)});`), { mode: 0o755 });
    fs.writeFileSync(path.join(bin, "az"), standIn(`if (args[2] === "show") process.stdout.write(process.env.INSTANCE_VIEW);`), { mode: 0o755 });
});

after(() => fs.rmSync(bin, { recursive: true, force: true }));

/** Runs the tool in this process (it is synchronous), with the stand-ins first on PATH, capturing what it writes. */
function runTool(args: string[], instanceView: unknown) {
    fs.rmSync(log, { force: true });
    const saved = { PATH: process.env.PATH, CALL_LOG: process.env.CALL_LOG, INSTANCE_VIEW: process.env.INSTANCE_VIEW };
    const writes = { stdout: process.stdout.write, stderr: process.stderr.write };
    const result = { status: -1, stdout: "", stderr: "" };
    Object.assign(process.env, { PATH: `${bin}${path.delimiter}${process.env.PATH}`, CALL_LOG: log, INSTANCE_VIEW: JSON.stringify({ name: "get-cosmos-db-keys", instanceView }) });
    process.stdout.write = ((chunk: string) => { result.stdout += chunk; return true; }) as typeof process.stdout.write;
    process.stderr.write = ((chunk: string) => { result.stderr += chunk; return true; }) as typeof process.stderr.write;
    try {
        result.status = main(args);
    } finally {
        Object.assign(process.stdout, { write: writes.stdout });
        Object.assign(process.stderr, { write: writes.stderr });
        for (const [name, value] of Object.entries(saved)) {
            if (value === undefined) delete process.env[name];
            else process.env[name] = value;
        }
    }
    const calls = fs.existsSync(log) ? fs.readFileSync(log, "utf8").trim().split("\n").map((line) => JSON.parse(line) as { command: string; args: string[]; script?: string }) : [];
    return { ...result, calls };
}

const TARGET = ["--subscription", "sub-1", "--resource-group", "rg-1", "--vm-name", "vm-1"];
const AZ_TARGET = [...TARGET, "--name", "get-cosmos-db-keys"];

describe("run-on-vm", () => {
    it("runs the stack's script with Run Command v2, synchronously, and exits with the script's exit code, output and error line", () => {
        const result = runTool(["--stack", "dev", ...TARGET], { executionState: "Failed", exitCode: 3, output: "Cosmos DB account 'acct' (readonly keys)\n", error: ERROR_LINE });
        assert.equal(result.status, 3);
        assert.equal(result.stdout, "Cosmos DB account 'acct' (readonly keys)\n");
        assert.ok(result.stderr.endsWith(`${ERROR_LINE}\n`), result.stderr);
        assert.deepEqual(result.calls.map((call) => [call.command, ...call.args.slice(0, 3)]), [
            ["pulumi", "stack", "output", "keyFetchScript"],
            ["az", "vm", "run-command", "create"],
            ["az", "vm", "run-command", "show"],
            ["az", "vm", "run-command", "delete"],
        ]);
        assert.deepEqual(result.calls[0].args, ["stack", "output", "keyFetchScript", "--stack", "dev"]);
        const create = result.calls[1];
        assert.equal(create.script, SCRIPT, "the script Pulumi output is what runs");
        assert.deepEqual(create.args.filter((arg) => !arg.startsWith("@")), ["vm", "run-command", "create", ...AZ_TARGET, "--script", "--async-execution", "false", "--timeout-in-seconds", "2400", "--output", "none"]);
        assert.deepEqual(result.calls[2].args, ["vm", "run-command", "show", ...AZ_TARGET, "--instance-view", "--output", "json"]);
        assert.deepEqual(result.calls[3].args, ["vm", "run-command", "delete", ...AZ_TARGET, "--yes", "--output", "none"]);
    });

    it("exits 0 when the script succeeded", () => {
        const result = runTool(["--stack", "dev", ...TARGET], { executionState: "Succeeded", exitCode: 0, output: "OK: ...", error: "" });
        assert.equal(result.status, 0);
        assert.equal(result.stdout, "OK: ...\n");
    });

    it("passes Name=Value pairs as the script's parameters, and stretches Run Command's timeout with a longer deadline", () => {
        const result = runTool(["--stack", "dev", ...TARGET, "RoleWaitSeconds=60", "accesslevel=readwrite", "DeadlineSeconds=3000"], { executionState: "Succeeded", exitCode: 0, output: "", error: "" });
        assert.equal(result.status, 0, result.stderr);
        const create = result.calls[1].args;
        assert.deepEqual(create.slice(create.indexOf("--parameters"), create.indexOf("--parameters") + 4), ["--parameters", "RoleWaitSeconds=60", "AccessLevel=readwrite", "DeadlineSeconds=3000"]);
        assert.equal(create[create.indexOf("--timeout-in-seconds") + 1], "3120");
    });

    it("refuses -ShowKeys and -PassThru, which would leave keys in Azure's copy of the output; and unknown arguments", () => {
        for (const arg of ["-ShowKeys", "ShowKeys=true", "--passthru"]) {
            const result = runTool(["--stack", "dev", ...TARGET, arg], {});
            assert.equal(result.status, 2);
            assert.match(result.stderr, /instance view|PowerShell session/);
            assert.deepEqual(result.calls, [], "nothing ran");
        }
        const unknown = runTool(["--stack", "dev", ...TARGET, "Colour=blue"], {});
        assert.equal(unknown.status, 2);
        assert.match(unknown.stderr, /Name one of SubscriptionId, /);
        const missing = runTool(["--stack", "dev"], {});
        assert.equal(missing.status, 2);
        assert.match(missing.stderr, /missing --subscription, --resource-group, --vm-name/);
    });

    it("exits 1 when the run ended without the script's exit code (Run Command timed out)", () => {
        const result = runTool(["--stack", "dev", ...TARGET], { executionState: "TimedOut", output: "partial", error: "" });
        assert.equal(result.status, 1);
        assert.match(result.stderr, /the run ended TimedOut, with no exit code from the script/);
    });
});
