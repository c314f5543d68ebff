// `npm run bench [-- --rounds N] [--skip-test-time]`: measures what the project costs in time and
// writes docs/benchmarks.md. Every figure is a ratio against a baseline measured in the same run, so
// the noise of a shared machine cancels out as far as it can.
//   1. Start-up as `pulumi preview` pays it: Pulumi's own Node.js runner loading the program
//      (dev/runUnderPulumiRunner.js), CPU time, wall time and peak memory, against a minimal
//      program that declares the same resources (transpiled by TypeScript, as the runner does by
//      default), the program transpiled by TypeScript instead of swc, a variant importing the
//      top-level @pulumi/azure-native package, and the program type-checked at start-up.
//   2. The deployment's critical path under typical provisioning times, against the ideal.
//   3. `npm test` wall time: a first run with no incremental type-check state, the median of three
//      runs, what the PowerShell tier adds, then each test file and the type-check alone.
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { modelDeployment, PROVISIONING_SECONDS } from "../model/deploymentModel";
import { evaluateProgram, PROJECT_ROOT } from "../model/mockEngine";
import { PLAN_AZURE } from "../model/planAzure";
import { loadStackConfig } from "../model/stackConfig";

const RUNNER = path.join(PROJECT_ROOT, "dev", "runUnderPulumiRunner.js");
const SCRATCH = path.join(PROJECT_ROOT, ".bench");

interface Variant {
    name: string;
    description: string;
    cwd: string;
    env: NodeJS.ProcessEnv;
    /** What must have transpiled it (the runner's report): the table then says what was measured. */
    transpiler: "swc" | "typescript";
}

interface StartupSample {
    /** CPU time of the whole process (user + system, every thread), as the process itself reports it on exit. */
    cpuMs: number;
    wallMs: number;
    peakRssMb: number;
    resources: number;
}

const median = (values: number[]) => {
    const sorted = [...values].sort((a, b) => a - b);
    const middle = Math.floor(sorted.length / 2);
    return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
};

/**
 * A tsconfig for the runner (PULUMI_NODEJS_TSCONFIG_PATH, what Pulumi.yaml's `tsconfig` runtime
 * option sets): the project's, with TypeScript's transpiler instead of swc, and with or without
 * the type-check. The runner reads noCheck from this file itself (not through "extends").
 */
function tsconfigVariant(name: string, noCheck: boolean): string {
    fs.mkdirSync(SCRATCH, { recursive: true });
    const file = path.join(SCRATCH, `tsconfig.${name}.json`);
    fs.writeFileSync(file, JSON.stringify({ extends: "../tsconfig.json", compilerOptions: { noCheck }, "ts-node": { swc: false } }));
    return path.relative(PROJECT_ROOT, file);
}

/** A copy of the program whose azure-native imports name the top-level package instead of submodules. */
function topLevelImportVariant(): string {
    const dir = path.join(SCRATCH, "top-level-import");
    fs.rmSync(dir, { recursive: true, force: true });
    for (const part of ["index.ts", "components", "lib"]) fs.cpSync(path.join(PROJECT_ROOT, part), path.join(dir, part), { recursive: true });
    for (const file of ["index.ts", ...fs.readdirSync(path.join(dir, "components")).map((f) => `components/${f}`)]) {
        const full = path.join(dir, file);
        const source = fs.readFileSync(full, "utf8")
            .replace(/import \* as (\w+) from "@pulumi\/azure-native\/(\w+)";/g, 'import { $2 as $1 } from "@pulumi/azure-native";');
        fs.writeFileSync(full, source);
    }
    fs.writeFileSync(path.join(dir, "package.json"), JSON.stringify({ name: "bench-top-level-import", version: "0.0.0", private: true, main: "index.ts" }));
    // The runner reads noCheck from this file itself (not through "extends"): start-up transpiles only, as the program's does.
    fs.writeFileSync(path.join(dir, "tsconfig.json"), JSON.stringify({ extends: "../../tsconfig.json", compilerOptions: { noCheck: true }, include: ["**/*.ts"] }));
    return dir;
}

function startOnce(variant: Variant): StartupSample {
    const started = process.hrtime.bigint();
    const child = spawnSync(process.execPath, [RUNNER], { cwd: variant.cwd, env: variant.env, encoding: "utf8", timeout: 300_000 });
    const wallMs = Number(process.hrtime.bigint() - started) / 1e6;
    if (child.status !== 0) throw new Error(`${variant.name} failed (${child.status}): ${child.stderr}`);
    const report = JSON.parse(child.stdout.trim().split("\n").pop() ?? "{}") as { cpuMs: number; peakRssMb: number; registered: string[]; transpiler: string };
    if (report.transpiler !== variant.transpiler) throw new Error(`${variant.name} was transpiled by ${report.transpiler}, not ${variant.transpiler}`);
    return { cpuMs: report.cpuMs, wallMs, peakRssMb: report.peakRssMb, resources: report.registered.filter((type) => !type.startsWith("cosmos-vm-identity:") && !type.startsWith("pulumi:pulumi:")).length };
}

function benchStartup(rounds: number) {
    const baseEnv: NodeJS.ProcessEnv = { ...process.env, PULUMI_CONFIG: JSON.stringify({ "azure-native:location": "westeurope" }), PULUMI_NODEJS_TYPESCRIPT: "true" };
    for (const name of ["NODE_OPTIONS", "PULUMI_NODEJS_TRANSPILE_ONLY", "PULUMI_NODEJS_TSCONFIG_PATH", "TS_NODE_TRANSPILE_ONLY", "TS_NODE_TYPE_CHECK"]) delete baseEnv[name];
    const variants: Variant[] = [
        { name: "minimal", description: "baseline: the same resources in one file, literal settings, transpiled by TypeScript without type-check, as the runner does by default (dev/bench/minimal)", cwd: path.join(PROJECT_ROOT, "dev", "bench", "minimal"), env: baseEnv, transpiler: "typescript" },
        { name: "program", description: "this program as `pulumi preview` starts it (transpiled by swc, submodule imports, no type-check at start-up)", cwd: PROJECT_ROOT, env: baseEnv, transpiler: "swc" },
        { name: "TypeScript transpiler", description: "the program transpiled by TypeScript instead of swc (the project's tsconfig without `\"ts-node\": { \"swc\": true }`)", cwd: PROJECT_ROOT, env: { ...baseEnv, PULUMI_NODEJS_TSCONFIG_PATH: tsconfigVariant("typescript", true) }, transpiler: "typescript" },
        { name: "top-level import", description: "the program importing the top-level @pulumi/azure-native package", cwd: topLevelImportVariant(), env: baseEnv, transpiler: "swc" },
        { name: "type-check at start-up", description: "the program type-checked by ts-node at start-up (noCheck false, TypeScript's compiler)", cwd: PROJECT_ROOT, env: { ...baseEnv, PULUMI_NODEJS_TSCONFIG_PATH: tsconfigVariant("typecheck", false) }, transpiler: "typescript" },
    ];
    // Warm the file cache once per variant, unmeasured.
    for (const variant of variants) startOnce(variant);
    const loadBefore = os.loadavg();
    const samples = new Map<string, StartupSample[]>(variants.map((v) => [v.name, []]));
    for (let round = 0; round < rounds; round++) {
        // Rotate the order each round so that no variant always runs first or last.
        for (let k = 0; k < variants.length; k++) {
            const variant = variants[(round + k) % variants.length];
            samples.get(variant.name)!.push(startOnce(variant));
        }
    }
    const loadAfter = os.loadavg();
    const baseline = samples.get("minimal")!;
    // Each round's run against the minimal program's run of the same round (minutes apart at most,
    // so under much the same load); the median of those ratios.
    const ratios = (runs: StartupSample[], measure: (s: StartupSample) => number) => {
        const each = runs.map((run, round) => measure(run) / measure(baseline[round]));
        return { median: median(each), min: Math.min(...each), max: Math.max(...each) };
    };
    const results = variants.map((variant) => {
        const runs = samples.get(variant.name)!;
        return {
            ...variant, resources: runs[0].resources,
            cpu: median(runs.map((s) => s.cpuMs)), wall: median(runs.map((s) => s.wallMs)), rss: median(runs.map((s) => s.peakRssMb)),
            cpuRatio: ratios(runs, (s) => s.cpuMs), wallRatio: ratios(runs, (s) => s.wallMs), rssRatio: ratios(runs, (s) => s.peakRssMb),
        };
    });
    return { results, loadBefore, loadAfter };
}

async function benchDeployment() {
    const { config } = loadStackConfig("dev");
    const results: { label: string; cosmos: number; vm: number; actual: number; ideal: number; ratio: number; path: string[] }[] = [];
    for (const mode of ["keys", "rbac"]) {
        const evaluation = await evaluateProgram({ ...config, "cosmos-vm-identity:accessMode": mode }, PLAN_AZURE);
        for (const cosmos of [300, 480, 900]) {
            for (const vm of [90, 150, 600]) {
                const seconds = { ...PROVISIONING_SECONDS, "azure-native:cosmosdb:DatabaseAccount": cosmos, "azure-native:compute:VirtualMachine": vm };
                const model = modelDeployment(evaluation, seconds);
                results.push({ label: mode, cosmos, vm, actual: model.actual.total, ideal: model.ideal.total, ratio: model.ratio, path: model.actual.path });
            }
        }
    }
    return results;
}

/**
 * `npm test` three times (the median counts), interleaved with three runs that hide pwsh, for what
 * the PowerShell tier adds; then each test file alone and the type-check alone, for where the time goes.
 */
function benchTests(runs: number) {
    const env: NodeJS.ProcessEnv = { ...process.env };
    delete env.NODE_OPTIONS;
    // Without pwsh: no $PWSH, no ~/.dotnet/tools on PATH, a HOME without it; not required (CI unset).
    const home = fs.mkdtempSync(path.join(os.tmpdir(), "bench-no-pwsh-"));
    const withoutPwsh: NodeJS.ProcessEnv = {
        ...env, HOME: home, PATH: (env.PATH ?? "").split(path.delimiter).filter((dir) => !dir.includes(".dotnet")).join(path.delimiter),
    };
    for (const name of ["PWSH", "CI", "REQUIRE_PWSH"]) delete withoutPwsh[name];
    const timed = (command: string, args: string[], runEnv = env) => {
        const started = process.hrtime.bigint();
        const child = spawnSync(command, args, { cwd: PROJECT_ROOT, env: runEnv, encoding: "utf8", timeout: 600_000 });
        if (child.status !== 0) throw new Error(`${command} ${args.join(" ")} failed: ${child.stdout.slice(-2000)}${child.stderr.slice(-2000)}`);
        return { ms: Number(process.hrtime.bigint() - started) / 1e6, stdout: child.stdout };
    };
    const skipLine = (stdout: string) => stdout.split("\n").find((line) => /^# skipped: .*PowerShell/.test(line)) ?? "";
    const loadBefore = os.loadavg();
    // A fresh clone's first run: the type-check has no incremental state yet (dev/test.js keeps it).
    fs.rmSync(path.join(PROJECT_ROOT, "node_modules", ".cache", "cosmos-vm-identity", "tsc.tsbuildinfo"), { force: true });
    const coldTypecheck = timed(process.execPath, ["dev/test.js"]).ms;
    const totals: number[] = [];
    const totalsWithoutTier: number[] = [];
    let skippedLine = "";
    for (let run = 0; run < runs; run++) {
        const { ms, stdout } = timed(process.execPath, ["dev/test.js"]);
        totals.push(ms);
        skippedLine ||= skipLine(stdout);
        const hidden = timed(process.execPath, ["dev/test.js"], withoutPwsh);
        if (!skipLine(hidden.stdout)) throw new Error("the run without pwsh still ran the PowerShell tier");
        totalsWithoutTier.push(hidden.ms);
    }
    fs.rmSync(home, { recursive: true, force: true });
    const files = fs.readdirSync(path.join(PROJECT_ROOT, "test")).filter((file) => file.endsWith(".test.ts")).sort();
    const perFile = files.map((file) => ({
        file,
        ms: timed(process.execPath, ["--require", path.join(PROJECT_ROOT, "dev", "register.js"), "--test", path.join("test", file)]).ms,
    })).sort((a, b) => b.ms - a.ms);
    const typecheck = timed("npm", ["run", "-s", "typecheck"]).ms;
    return { loadBefore, loadAfter: os.loadavg(), coldTypecheck, totals, median: median(totals), totalsWithoutTier, medianWithoutTier: median(totalsWithoutTier), perFile, typecheck, skippedLine };
}

const fmt = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const ratio = (r: { median: number; min: number; max: number }) => `${r.median.toFixed(2)}x (${r.min.toFixed(2)} to ${r.max.toFixed(2)})`;

async function main(argv: string[]) {
    const roundsIndex = argv.indexOf("--rounds");
    const rounds = roundsIndex >= 0 ? Number(argv[roundsIndex + 1]) : 9;
    process.stdout.write(`Start-up: ${rounds} rounds of 5 variants...\n`);
    const { results: startup, loadBefore, loadAfter } = benchStartup(rounds);
    process.stdout.write("Deployment model...\n");
    const deployment = await benchDeployment();
    const tests = argv.includes("--skip-test-time") ? undefined : (process.stdout.write("npm test, 3 runs with and 3 without pwsh, then each file alone...\n"), benchTests(3));
    const program = startup.find((s) => s.name === "program")!;
    const worst = Math.max(...deployment.map((d) => d.ratio));
    const base = deployment.find((d) => d.label === "keys" && d.cosmos === PROVISIONING_SECONDS["azure-native:cosmosdb:DatabaseAccount"] && d.vm === PROVISIONING_SECONDS["azure-native:compute:VirtualMachine"])!;

    const lines = [
        "# Benchmarks",
        "",
        "For whoever changes what `pulumi preview` loads, the program's dependency graph or the test suite, and wants to know what it costs.",
        "You get the start-up `pulumi preview` pays, the deployment's critical path against the ideal, and `npm test`'s wall time, with the method",
        "of each. `npm run bench` writes this page; it takes about ten minutes on two cores.",
        "",
        `Produced by \`npm run bench\` (${rounds} rounds) on ${new Date().toISOString().slice(0, 10)}: Node.js ${process.version}, ${os.cpus().length} cores, ${Math.round(os.totalmem() / 2 ** 30)} GiB.`,
        "Figures are medians; every ratio is against a baseline measured in the same run, so the machine's noise largely cancels out.",
        "",
        "## 1. Start-up, as `pulumi preview` pays it",
        "",
        "Method: each variant is loaded by Pulumi's own Node.js runner (`@pulumi/pulumi/cmd/run`, started as the language host starts it, with",
        "the project's ts-node, TypeScript and tsconfig) with Pulumi's mocks as the resource monitor, in a fresh `node` process: `dev/runUnderPulumiRunner.js`.",
        "CPU time is the whole process's (user + system, every thread, from its start), as it reports on exit; wall time is spawn to exit; peak memory",
        `is the process's maximum resident set. ${rounds} rounds, each running every variant once in an order that rotates from round to round, after`,
        "one unmeasured run of each. The machine may be shared, so the figures to read are the ratios: in each round, a variant's run against the",
        "minimal program's run of the same round; the table gives the median of those ratios (the lowest and highest in brackets) beside the",
        `medians of the measures themselves. Load average (1 min) ${loadBefore[0].toFixed(1)} before the rounds, ${loadAfter[0].toFixed(1)} after.`,
        "",
        "| Variant | Resources | CPU time | vs minimal | Wall time | vs minimal | Peak memory | vs minimal |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
        ...startup.map((s) => `| ${s.name}: ${s.description} | ${s.resources} | ${fmt(s.cpu)} | ${ratio(s.cpuRatio)} | ${fmt(s.wall)} | ${ratio(s.wallRatio)} `
            + `| ${s.rss.toFixed(0)} MB | ${ratio(s.rssRatio)} |`),
        "",
        `Goal: start-up CPU time at most 1.1x the minimal program's, peak memory under 300 MB. Result: ${program.cpuRatio.median.toFixed(2)}x `
            + `(wall time ${program.wallRatio.median.toFixed(2)}x) and ${program.rss.toFixed(0)} MB: ${program.cpuRatio.median <= 1.1 && program.rss < 300 ? "met" : "NOT met"}.`,
        "",
        "## 2. Deployment critical path",
        "",
        "Method: the program's real dependency graph (every resource and what it waits for, from an evaluation under mocks), each resource",
        "taking its type's typical provisioning time, every resource starting as soon as all it waits for is done (`model/criticalPath.ts`).",
        "The ideal is the same graph with no wait from the VM chain into the Cosmos DB chain or back: both chains fully in parallel, joined only by",
        "the grant and the deploy-time proof. Typical times (`model/deploymentModel.ts`; order of magnitude: Microsoft documents a Cosmos DB account",
        "and a Windows VM as taking a few minutes each, the network pieces take seconds):",
        "",
        "| Resource type | Seconds |",
        "| --- | --- |",
        ...Object.entries(PROVISIONING_SECONDS).map(([type, seconds]) => `| ${type.replace(/^azure-native:/, "")} | ${seconds} |`),
        "",
        `At these times (keys mode): ${base.actual} s against an ideal ${base.ideal} s, ${base.ratio.toFixed(3)}x. Critical path: ${base.path.join(" → ")}.`,
        "The only wait across the chains is the Cosmos DB account's VNet rule waiting for the VM's subnet (seconds, against minutes for the account).",
        "",
        "Sensitivity, both access modes, Cosmos DB account and VM times varied:",
        "",
        "| Mode | Cosmos DB account | VM | Critical path | Ideal | Ratio |",
        "| --- | --- | --- | --- | --- | --- |",
        ...deployment.map((d) => `| ${d.label} | ${d.cosmos} s | ${d.vm} s | ${d.actual} s | ${d.ideal} s | ${d.ratio.toFixed(3)}x |`),
        "",
        `Goal: within 10% of the ideal. Result: at worst ${worst.toFixed(3)}x: ${worst <= 1.1 ? "met" : "NOT met"}.`,
        "",
        "## 3. `npm test`",
        "",
        ...(tests
            ? [
                `Method: \`npm test\` (\`node dev/test.js\`: the type-check and every test file, side by side) run ${tests.totals.length} times, wall time spawn`,
                "to exit, each run followed by one with pwsh hidden; then, to show where the time goes, each test file alone (with an evaluation server",
                "of its own) and the strict type-check alone (incremental, nothing changed), one after another.",
                `Load average (1 min) ${tests.loadBefore[0].toFixed(1)} before, ${tests.loadAfter[0].toFixed(1)} after.`,
                tests.skippedLine ? `PowerShell tier: NOT run (${tests.skippedLine.replace(/^#\s*/, "")}).` : "PowerShell tier: run (pwsh present).",
                "",
                `Median ${fmt(tests.median)} (runs: ${tests.totals.map(fmt).join(", ")}). Goal: at most 60 s: ${tests.median <= 60_000 ? "met" : "NOT met"}.`,
                "",
                `A first run, before them, with no incremental type-check state (as on a fresh clone): ${fmt(tests.coldTypecheck)}.`,
                "",
                `Without pwsh (the PowerShell tier skipped; runs interleaved with the ones above): median ${fmt(tests.medianWithoutTier)}`
                    + ` (runs: ${tests.totalsWithoutTier.map(fmt).join(", ")}). The tier adds ${fmt(tests.median - tests.medianWithoutTier)}`
                    + ` to the suite. Goal: at most 30 s: ${tests.median - tests.medianWithoutTier <= 30_000 ? "met" : "NOT met"}.`,
                "",
                "| Alone | Wall time | Share of the files' sum |",
                "| --- | --- | --- |",
                ...(() => {
                    const sum = tests.perFile.reduce((total, f) => total + f.ms, 0);
                    return [
                        ...tests.perFile.map((f) => `| test/${f.file} | ${fmt(f.ms)} | ${(f.ms / sum * 100).toFixed(0)}% |`),
                        `| type-check (\`npm run typecheck\`, incremental, nothing changed) | ${fmt(tests.typecheck)} | |`,
                        `| sum of the files alone | ${fmt(sum)} | ${(sum / tests.median).toFixed(2)}x the suite's median |`,
                    ];
                })(),
            ]
            : ["Not measured in this run (--skip-test-time)."]),
        "",
    ];
    fs.writeFileSync(path.join(PROJECT_ROOT, "docs", "benchmarks.md"), lines.join("\n"));
    process.stdout.write(lines.join("\n"));
    fs.rmSync(SCRATCH, { recursive: true, force: true });
}

main(process.argv.slice(2)).catch((error: unknown) => {
    process.stderr.write(`error: ${error instanceof Error ? error.stack : String(error)}\n`);
    process.exitCode = 1;
});
