// The program loads under Pulumi's own Node.js runner as `pulumi up` runs it, not only under the
// test loader: the runner registers the project's ts-node with the project's tsconfig.
import { strict as assert } from "node:assert";
import { execFile, spawnSync } from "node:child_process";
import * as path from "node:path";
import * as fs from "node:fs";
import * as os from "node:os";
import { after, before, describe, it } from "node:test";
import { plan } from "../commands/plan";
import { loadStackConfig } from "../model/stackConfig";
import { PROJECT_ROOT } from "./harness";

interface RunnerReport {
    registered: string[];
    peakRssMb: number;
    tsNodeRegistered: boolean;
    transpileOnly: boolean;
    transpiler: string;
    typescriptVersion: string;
    typescriptFiles: string[];
    azureNativeTopLevelLoaded: boolean;
    azureNativeModulesLoaded: string[];
    programFiles: string[];
}

interface RunnerRun {
    status: number | null;
    stderr: string;
    report: RunnerReport;
}

/**
 * Runs the program as `pulumi preview` does; `previousOutputs` are the stack's own outputs its stack
 * reference reads; `program`, another entry point under the project's tsconfig (Pulumi.yaml's `main`).
 * Asynchronous, so that a file's runs share the cores; each ends within 60 s.
 */
function runUnderPulumiRunner(config: Record<string, string>, previousOutputs: Record<string, unknown> = {}, program?: string): Promise<RunnerRun> {
    const env: NodeJS.ProcessEnv = {
        ...process.env, PULUMI_CONFIG: JSON.stringify(config), PULUMI_NODEJS_TYPESCRIPT: "true", PREVIOUS_OUTPUTS: JSON.stringify(previousOutputs),
    };
    // The test process's own TypeScript loader must not leak into the child.
    delete env.NODE_OPTIONS;
    delete env.TS_NODE_TRANSPILE_ONLY;
    return new Promise((resolve, reject) => {
        const child = execFile(process.execPath, [path.join(PROJECT_ROOT, "dev", "runUnderPulumiRunner.js"), ...(program ? [program] : [])], {
            cwd: PROJECT_ROOT, env, encoding: "utf8", timeout: 60_000, maxBuffer: 64 * 1024 * 1024,
        }, (error, stdout, stderr) => {
            if (error?.killed) return reject(new Error(`the runner did not finish within 60 s: ${stderr}`));
            const line = stdout.trim().split("\n").pop() ?? "";
            resolve({ status: child.exitCode, stderr, report: JSON.parse(line) as RunnerReport });
        });
    });
}

const INVALID = { "cosmos-vm-identity:throughput": "450", "cosmos-vm-identity:accessLevel": "x" };

describe("loading under Pulumi's Node.js runner", () => {
    // One child process per distinct configuration, shared by the tests that read it, all at once.
    const deployed = { location: "westeurope", cosmosLocation: "westeurope", freeTier: false, databaseName: "Test", containerName: "Test", partitionKeyPath: "/id" };
    let valid: RunnerRun;
    let invalid: RunnerRun;
    let unsafe: RunnerRun;
    before(async () => {
        [valid, invalid, unsafe] = await Promise.all([
            runUnderPulumiRunner({ "azure-native:location": "westeurope" }),
            runUnderPulumiRunner({ "azure-native:location": "westeurope", ...INVALID }),
            runUnderPulumiRunner(
                { "azure-native:location": "westeurope", "cosmos-vm-identity:containerName": "Orders" },
                { deployedSettings: deployed, databaseName: "Test", containerName: "Test" },
            ),
        ]);
    });

    it("declares the whole stack, transpiled by swc with no type-check at start-up, tsconfig read by the project's TypeScript", () => {
        const { status, stderr, report } = valid;
        assert.equal(status, 0, stderr);
        assert.equal(stderr, "");
        assert.equal(report.tsNodeRegistered, true);
        // tsconfig's noCheck makes the runner transpile only; `npm test` type-checks instead.
        assert.equal(report.transpileOnly, true);
        // tsconfig's "ts-node": { "swc": true }: the project's ts-node hands the program's files to @swc/core.
        assert.equal(report.transpiler, "swc");
        // The compiler ts-node holds comes from the project's node_modules (through Pulumi's shim),
        // not the TypeScript 3.8 that Pulumi vendors for projects without one.
        assert.deepEqual(report.typescriptFiles, [
            path.join("node_modules", "@pulumi", "pulumi", "typescript-shim.js"),
            path.join("node_modules", "typescript", "lib", "typescript.js"),
        ]);
        const projectTypescript = JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, "node_modules", "typescript", "package.json"), "utf8")) as { version: string };
        assert.equal(report.typescriptVersion, projectTypescript.version);
        for (const type of [
            "azure-native:resources:ResourceGroup", "azure-native:compute:VirtualMachine", "azure-native:cosmosdb:DatabaseAccount",
            "azure-native:cosmosdb:SqlResourceSqlContainer", "azure-native:authorization:RoleAssignment",
        ]) {
            assert.ok(report.registered.includes(type), `${type} was not declared`);
        }
        assert.ok(report.programFiles.includes("index.ts"));
    });

    it("loads its TypeScript tooling from production dependencies, pinned, so that an install without devDependencies starts it too", () => {
        // ts-node and its swc transpiler, and TypeScript, which the runner needs to read tsconfig.json:
        // `npm ci --omit=dev` (Pulumi.yaml's `production: true`, NODE_ENV=production) must keep them.
        const { report } = valid;
        assert.equal(report.tsNodeRegistered, true);
        assert.equal(report.transpiler, "swc");
        const manifest = JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, "package.json"), "utf8")) as Record<string, Record<string, string>>;
        assert.deepEqual(["@swc/core", "ts-node", "typescript"].map((name) => [name, manifest.dependencies[name], manifest.devDependencies[name]]), [
            ["@swc/core", "1.16.22", undefined],
            ["ts-node", "10.9.2", undefined],
            ["typescript", "5.9.3", undefined],
        ]);
    });

    it("imports azure-native submodules only, never the top-level package", () => {
        const { report } = valid;
        assert.equal(report.azureNativeTopLevelLoaded, false);
        assert.deepEqual(report.azureNativeModulesLoaded, ["authorization", "compute", "cosmosdb", "devtestlab", "network", "resources", "types"]);
    });

    it("stops on invalid configuration with Pulumi's clean error (no stack trace), declaring nothing", () => {
        const { status, stderr, report } = invalid;
        // 32: the runner's "exited after logging a user-actionable message".
        assert.equal(status, 32);
        assert.match(stderr, /Invalid configuration \(2 problems\); nothing was created/);
        assert.match(stderr, /cosmos-vm-identity:throughput: must be a multiple of 100/);
        assert.doesNotMatch(stderr, /\s+at .*\.ts:\d+/, "no stack trace");
        assert.deepEqual(report.registered, ["pulumi:pulumi:Stack"]);
        assert.ok(report.peakRssMb < 1000, `peak RSS ${report.peakRssMb} MB`);
    });

    it("stops an unsafe change with Pulumi's clean error too, having read only the stack's own record and declared only the guard's stop", () => {
        const { status, stderr, report } = unsafe;
        assert.equal(status, 32);
        assert.match(stderr, /Unsafe configuration change \(1 problem\); nothing was changed:\n {2}- cosmos-vm-identity:containerName: "Test" -> "Orders"\. /);
        assert.match(stderr, /pulumi config set allowDataLoss 'containerName:Test->Orders'/);
        assert.doesNotMatch(stderr, /\s+at .*\.ts:\d+/, "no stack trace");
        // The stop's provider, as the runner serialized it, refuses the change when checked: the engine's own error.
        assert.match(stderr, /engine: error: pulumi-nodejs:dynamic\/changeGuard:UnsafeChange resource 'change-guard' has a problem: Unsafe configuration change \(1 problem\); nothing was changed:\n {2}- cosmos-vm-identity:containerName: "Test" -> "Orders"\. /);
        assert.deepEqual(report.registered, ["pulumi:pulumi:Stack", "pulumi:pulumi:StackReference", "pulumi-nodejs:dynamic/changeGuard:UnsafeChange"]);
        // The error carries no stack frames: with them, Node 20's util.inspect in the runner's error
        // handler loops on a frame of Pulumi's source maps for about 20 s and 3 GB.
        assert.ok(report.peakRssMb < 1000, `peak RSS ${report.peakRssMb} MB`);
    });

    it("raises the same error that `npm run plan` prints for that configuration", async () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cosmos-vm-identity-runner-"));
        fs.copyFileSync(path.join(PROJECT_ROOT, "Pulumi.yaml"), path.join(dir, "Pulumi.yaml"));
        fs.writeFileSync(path.join(dir, "Pulumi.bad.yaml"), `config:\n  azure-native:location: westeurope\n${Object.entries(INVALID).map(([k, v]) => `  ${k}: ${v}`).join("\n")}\n`);
        // The runner above got only the stack's own keys; Pulumi.yaml's defaults change nothing here.
        assert.deepEqual(Object.keys(INVALID).map((key) => loadStackConfig("bad", dir).config[key]), Object.values(INVALID));
        const planned = await plan("bad", dir);
        assert.equal(planned.ok, false);
        // Without an engine the runner prints log.error as "error: [runtime] <message>"; the CLI shows "error: <message>".
        const raised = invalid.stderr.replace(/^error: \[runtime\] /, "error: ");
        assert.ok(planned.text.endsWith(raised.endsWith("\n") ? raised : `${raised}\n`), `plan:\n${planned.text}\nrunner:\n${invalid.stderr}`);
    });
});

/** The throw-away programs: a throw on line 7 reached from line 4 of the entry point, and a syntax error on line 4. */
const FIXTURES: Record<string, string[]> = {
    "thrower.ts": [
        "// Types and an interface, which transpilers remove: the lines below must still map.",
        "type Count = number;",
        "interface Unused { a: string }",
        "",
        "export function explode(count: Count): never {",
        "    const label: string = `count ${count}`;",
        "    throw new Error(`boom: ${label}`);",
        "}",
    ],
    "throws.ts": ["import { explode } from \"./thrower\";", "", "type Unused = { b: number };", "explode(3);", "", "export = async () => ({});"],
    "broken.ts": ["// A syntax error on line 4.", "type Unused = { a: string };", "", "export const broken: number = (1 + ;"],
};

describe("errors under Pulumi's Node.js runner point at the TypeScript source", () => {
    // Throw-away programs beside the project (so that they resolve its node_modules and load under
    // its tsconfig, as Pulumi.yaml's `main` would make them), never type-checked by `npm test`.
    let dir: string;
    let throws: RunnerRun;
    let broken: RunnerRun;
    before(async () => {
        fs.mkdirSync(path.join(PROJECT_ROOT, ".scratch"), { recursive: true });
        dir = fs.mkdtempSync(path.join(PROJECT_ROOT, ".scratch", "runner-errors-"));
        for (const [name, lines] of Object.entries(FIXTURES)) fs.writeFileSync(path.join(dir, name), `${lines.join("\n")}\n`);
        [throws, broken] = await Promise.all([runUnderPulumiRunner({}, {}, path.join(dir, "throws.ts")), runUnderPulumiRunner({}, {}, path.join(dir, "broken.ts"))]);
    });
    after(() => fs.rmSync(dir, { recursive: true, force: true }));

    /** The runner's stderr without the colours its error handler adds. */
    const plain = (text: string) => text.replace(/\u001b\[\d+m/g, "");

    it("a thrown error's stack names the .ts files at the lines and columns of the source", () => {
        const { status, stderr, report } = throws;
        assert.equal(status, 32, stderr);
        assert.equal(report.transpiler, "swc");
        const text = plain(stderr);
        assert.match(text, /failed with an unhandled exception:\nError: boom: count 3\n/);
        const frames = text.split("\n").filter((line) => line.startsWith("    at ") && line.includes(dir))
            .map((line) => line.slice(line.lastIndexOf(path.sep) + 1).replace(/\)$/, ""));
        // The same positions as TypeScript's own transpiler gives (`new`; the call's argument list).
        assert.deepEqual(frames, ["thrower.ts:7:11", "throws.ts:4:8"], text);
    });

    it("a syntax error names the file and line and quotes the line", () => {
        const { status, stderr } = broken;
        assert.equal(status, 32, stderr);
        const text = plain(stderr);
        assert.match(text, /Expression expected/);
        assert.ok(text.includes(`${path.join(dir, "broken.ts")}:4:`), text);
        assert.match(text, /\n 4 \| export const broken: number = \(1 \+ ;\n/);
    });
});

describe("the tests' TypeScript loader (dev/register.js) transpiles as the runner does", () => {
    it("with the swc options ts-node derives from tsconfig.json for the program, source maps inline", () => {
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const { create } = require("ts-node") as typeof import("ts-node");
        const service = create({ project: path.join(PROJECT_ROOT, "tsconfig.json"), transpileOnly: true });
        // ts-node's own derivation (src/transpilers/swc.ts), read from its files: the package exports no such path.
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const { createSwcOptions } = require(path.join(PROJECT_ROOT, "node_modules", "ts-node", "dist", "transpilers", "swc.js")) as {
            createSwcOptions(options: unknown, emit: unknown, swc: unknown, name: string): { nonTsxOptions: Record<string, unknown> };
        };
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const runners = createSwcOptions(service.config.options, undefined, require("@swc/core"), "@swc/core").nonTsxOptions;
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const { SWC_OPTIONS } = require(path.join(PROJECT_ROOT, "dev", "register.js")) as { SWC_OPTIONS: Record<string, unknown> };
        assert.equal(SWC_OPTIONS.sourceMaps, "inline");
        // Options swc reads as absent (ts-node writes `externalHelpers: undefined` and the like) compared as absent.
        const defined = (options: unknown) => JSON.parse(JSON.stringify(options)) as unknown;
        assert.deepEqual(defined({ ...SWC_OPTIONS, sourceMaps: true }), defined(runners));
    });

    it("and a thrown error's stack names the .ts files at the same lines and columns", () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cosmos-vm-identity-loader-"));
        try {
            for (const [name, lines] of Object.entries(FIXTURES)) fs.writeFileSync(path.join(dir, name), `${lines.join("\n")}\n`);
            const child = spawnSync(process.execPath, ["--require", path.join(PROJECT_ROOT, "dev", "register.js"), path.join(dir, "throws.ts")], {
                cwd: PROJECT_ROOT, encoding: "utf8", timeout: 60_000,
            });
            assert.notEqual(child.status, 0);
            const frames = child.stderr.split("\n").filter((line) => line.startsWith("    at ") && line.includes(dir))
                .map((line) => line.slice(line.lastIndexOf(path.sep) + 1).replace(/\)$/, ""));
            assert.deepEqual(frames, ["thrower.ts:7:11", "throws.ts:4:8"], child.stderr);
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });
});
