// `npm test`: the strict type-check and every test file, at the same time. The type-check is one
// single-threaded tsc; Node's test runner runs the files in child processes, TEST_CONCURRENCY at a
// time (default 2: on a 2-core machine the files and tsc share the cores; most files wait on
// child processes part of the time). Fails when either fails; tsc's findings print last, whole.
// Plain JavaScript: nothing to transpile before the work starts.
"use strict";
const { spawn } = require("child_process");
const fs = require("fs");
const path = require("path");

const root = path.resolve(__dirname, "..");
const bin = (name) => path.join(root, "node_modules", ".bin", name);
const files = process.argv.slice(2).length > 0
    ? process.argv.slice(2)
    : fs.readdirSync(path.join(root, "test")).filter((file) => file.endsWith(".test.ts")).sort().map((file) => path.join("test", file));
const concurrency = Number(process.env.TEST_CONCURRENCY ?? 2);

function run(command, args, { capture }) {
    return new Promise((resolve) => {
        const child = spawn(command, args, { cwd: root, stdio: ["ignore", capture ? "pipe" : "inherit", capture ? "pipe" : "inherit"] });
        let output = "";
        if (capture) {
            child.stdout.on("data", (chunk) => { output += chunk; });
            child.stderr.on("data", (chunk) => { output += chunk; });
        }
        child.on("close", (code, signal) => resolve({ code: code ?? (signal ? 1 : 0), output }));
    });
}

(async () => {
    const started = Date.now();
    const typecheck = run(bin("tsc"), ["--noEmit", "-p", ".", "--noCheck", "false"], { capture: true });
    const tests = run(process.execPath, [
        "--require", "ts-node/register/transpile-only", "--test", `--test-concurrency=${concurrency}`, ...files,
    ], { capture: false });
    const [checked, tested] = await Promise.all([typecheck, tests]);
    if (checked.code !== 0) process.stderr.write(`\ntype-check (tsc --noEmit, strict) failed:\n${checked.output}`);
    else process.stdout.write("# type-check: tsc --noEmit (strict) passed\n");
    process.stdout.write(`# npm test: ${((Date.now() - started) / 1000).toFixed(1)} s wall\n`);
    process.exitCode = checked.code !== 0 || tested.code !== 0 ? 1 : 0;
})();
