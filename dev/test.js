// `npm test`: the strict type-check and every test file, at the same time. The type-check is one
// single-threaded tsc; Node's test runner runs the files in child processes, TEST_CONCURRENCY at a
// time (default 2: on a 2-core machine the files and tsc share the cores; most files wait on
// child processes part of the time). The files share one evaluation server
// (test/support/evaluationServer.ts), so that a configuration several files read is evaluated once.
// Fails when either fails; tsc's findings print last, whole.
// Plain JavaScript: nothing to transpile before the work starts.
"use strict";
const { spawn } = require("child_process");
const fs = require("fs");
const path = require("path");
const { READY, socketPath, NODE_FLAGS, SERVER } = require("../test/support/evaluationServerCommand");

const root = path.resolve(__dirname, "..");
const bin = (name) => path.join(root, "node_modules", ".bin", name);
const files = process.argv.slice(2).length > 0
    ? process.argv.slice(2)
    : fs.readdirSync(path.join(root, "test")).filter((file) => file.endsWith(".test.ts")).sort().map((file) => path.join("test", file));
const concurrency = Number(process.env.TEST_CONCURRENCY ?? 2);
/** The test processes' TypeScript loader: swc as ts-node runs it for the program, without loading TypeScript. */
const REGISTER = path.join(__dirname, "register.js");
/** Where the type-check keeps its incremental state (`npm run typecheck` uses the same). */
const TSC_BUILD_INFO = path.join("node_modules", ".cache", "cosmos-vm-identity", "tsc.tsbuildinfo");

/** Runs a command; its output is collected (`capture`), or passed through as it comes and kept for the summary (`echo`). */
function run(command, args, { capture }) {
    return new Promise((resolve) => {
        const child = spawn(command, args, { cwd: root, stdio: ["ignore", "pipe", capture ? "pipe" : "inherit"] });
        let output = "";
        child.stdout.on("data", (chunk) => {
            output += chunk;
            if (!capture) process.stdout.write(chunk);
        });
        if (capture) child.stderr.on("data", (chunk) => { output += chunk; });
        child.on("close", (code, signal) => resolve({ code: code ?? (signal ? 1 : 0), output }));
    });
}

/**
 * Starts the evaluation server the test files share. Resolves with where it listens (undefined if it
 * did not start: each file then starts its own) and how to stop it; it also ends when this process
 * does (its standard input closes).
 */
function startEvaluationServer() {
    const where = socketPath();
    const server = spawn(process.execPath, [...NODE_FLAGS, SERVER, where], { cwd: root, stdio: ["pipe", "pipe", "inherit"] });
    server.stdin.on("error", () => undefined);
    const stop = () => server.stdin.end();
    return new Promise((resolve) => {
        let settled = false;
        let output = "";
        const done = (listening, problem) => {
            if (settled) return;
            settled = true;
            clearTimeout(timer);
            if (problem) process.stderr.write(`# the shared evaluation server ${problem}; each test file starts its own\n`);
            // Anything else it prints (the program's console output) goes to standard error, out of the TAP stream.
            server.stdout.removeAllListeners("data");
            server.stdout.pipe(process.stderr);
            resolve({ where: listening, stop });
        };
        const timer = setTimeout(() => done(undefined, "did not listen within 60 s"), 60_000);
        server.stdout.on("data", (chunk) => {
            output += chunk;
            if (output.includes(`${READY}\n`)) done(where);
        });
        server.on("exit", (code, signal) => done(undefined, `ended (${signal ?? `exit ${code}`})`));
    });
}

/** The test runner's own totals ("# pass 370"), read back from its output. */
function total(output, name) {
    const match = new RegExp(`^# ${name} (\\d+)$`, "m").exec(output);
    return match ? Number(match[1]) : 0;
}

(async () => {
    const started = Date.now();
    // Incremental: tsc keeps what it learnt (node_modules/.cache) and re-checks only what changed
    // and what depends on it; a first run, or a change to a widely imported file, checks everything.
    const typecheck = run(bin("tsc"), ["--noEmit", "-p", ".", "--noCheck", "false", "--incremental", "--tsBuildInfoFile", TSC_BUILD_INFO], { capture: true });
    const evaluationServer = await startEvaluationServer();
    if (evaluationServer.where) process.env.EVALUATION_SERVER = evaluationServer.where;
    const tests = run(process.execPath, [
        "--require", REGISTER, "--test", `--test-concurrency=${concurrency}`, ...files,
    ], { capture: false });
    const [checked, tested] = await Promise.all([typecheck, tests]);
    evaluationServer.stop();
    if (checked.code !== 0) process.stderr.write(`\ntype-check (tsc --noEmit, strict) failed:\n${checked.output}`);
    else process.stdout.write("# type-check: tsc --noEmit (strict) passed\n");
    // Skipped tests say why and how to enable them (the PowerShell tier without pwsh): repeat that at the end.
    for (const match of tested.output.matchAll(/^\s*ok \d+ - (.*) # SKIP\s*$/gm)) process.stdout.write(`# skipped: ${match[1]}\n`);
    process.stdout.write(`# npm test: ${((Date.now() - started) / 1000).toFixed(1)} s wall\n`);
    // One plain closing line for whoever reads the end of the log; a failed type-check counts as a failure.
    const failed = total(tested.output, "fail") + total(tested.output, "cancelled") + (checked.code !== 0 ? 1 : 0);
    process.stdout.write(`tests: ${total(tested.output, "pass")} passed, ${failed} failed, ${total(tested.output, "skipped")} skipped\n`);
    process.exitCode = checked.code !== 0 || tested.code !== 0 ? 1 : 0;
})();
