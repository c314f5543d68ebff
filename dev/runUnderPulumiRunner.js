// Loads the program exactly as `pulumi up` / `pulumi preview` do: through @pulumi/pulumi's Node.js
// runner entry point (cmd/run), with the arguments and environment the Node.js language host gives
// it (config in PULUMI_CONFIG, PULUMI_NODEJS_TYPESCRIPT from Pulumi.yaml's runtime options). The
// runner registers the project's ts-node and typescript with the project's tsconfig, as it does
// for the CLI. Only the resource monitor is Pulumi's mock; the stack's own outputs, which the
// change guard reads through a stack reference, come from PREVIOUS_OUTPUTS (JSON; none by default:
// a first update), and a dynamic resource is checked as the engine checks it in a preview (its
// refusal printed as the engine prints it). `node dev/runUnderPulumiRunner.js [program]`: the
// program directory or file, as Pulumi.yaml's `main` names it (the working directory's package.json
// "main" by default; the working directory's tsconfig.json applies either way). Prints a JSON
// report on exit.
// Plain JavaScript on purpose: the runner, not a test loader, must do all TypeScript handling.
"use strict";
const path = require("path");
const pulumi = require("@pulumi/pulumi");

const { checkDynamicResource } = require("../model/dynamicCheck");

const runner = require.resolve("@pulumi/pulumi/cmd/run");
const registered = [];
const started = process.hrtime.bigint();

// As the language host starts it: node <runner> --monitor=<addr> --project=... --stack=... [--dry-run] <program dir>
// The monitor address is never dialled: the mocks below replace the monitor before the program runs.
process.argv = [process.argv[0], runner, "--monitor=127.0.0.1:1", "--organization=organization", "--project=cosmos-vm-identity", "--stack=dev", "--dry-run", process.argv[2] || "."];
require(runner);
const previousOutputs = JSON.parse(process.env.PREVIOUS_OUTPUTS || "{}");
pulumi.runtime.setMocks({
    newResource: async (args) => {
        registered.push(args.type);
        if (args.type === "pulumi:pulumi:StackReference") return { id: args.id, state: { name: args.inputs.name, outputs: previousOutputs, secretOutputNames: [] } };
        if (args.type.startsWith("pulumi-nodejs:dynamic")) {
            const failures = await checkDynamicResource(args.type, args.name, args.inputs);
            if (failures.length > 0) {
                process.stderr.write(failures.map((failure) => `engine: error: ${failure}\n`).join(""));
                throw new Error("resource is invalid");
            }
        }
        return { id: `${args.name}-id`, state: { ...args.inputs, name: args.name, identity: { principalId: "principal" }, documentEndpoint: "https://account.documents.azure.com:443/" } };
    },
    call: (args) => (args.token === "azure-native:authorization:getClientConfig" ? { subscriptionId: "subscription" } : {}),
}, "cosmos-vm-identity", "dev", true, "organization");
// The engine's end-of-program handshake, which the mock monitor lacks.
require("@pulumi/pulumi/runtime/settings").getMonitor().signalAndWaitForShutdown = (_request, callback) => callback(null, {});

let reported = false;
process.on("beforeExit", () => {
    if (reported) return;
    reported = true;
    const tsNode = process[Symbol.for("ts-node.register.instance")];
    const loaded = Object.keys(require.cache);
    process.stdout.write(JSON.stringify({
        registered,
        wallMs: Number(process.hrtime.bigint() - started) / 1e6,
        // CPU time of the whole process so far (every thread: V8's compiler and GC threads too), from its start.
        cpuMs: (({ user, system }) => (user + system) / 1000)(process.cpuUsage()),
        peakRssMb: process.resourceUsage().maxRSS / 1024,
        tsNodeRegistered: Boolean(tsNode),
        transpileOnly: tsNode ? tsNode.options.transpileOnly : undefined,
        // What turned TypeScript into JavaScript: swc when ts-node loaded @swc/core for it.
        transpiler: tsNode ? (loaded.some((file) => /@swc[\\/]core[\\/]index\.js$/.test(file)) ? "swc" : "typescript") : undefined,
        typescriptVersion: tsNode ? tsNode.ts.version : undefined,
        // The loaded files whose exports are the compiler ts-node holds (Pulumi's typescript-shim and
        // what it resolved), not what a resolve from here would find.
        typescriptFiles: tsNode ? loadedFilesOf(tsNode.ts).map((file) => path.relative(process.cwd(), file)) : undefined,
        azureNativeTopLevelLoaded: loaded.some((file) => /@pulumi[\\/]azure-native[\\/]index\.js$/.test(file)),
        azureNativeModulesLoaded: [...new Set(loaded
            .map((file) => /@pulumi[\\/]azure-native[\\/]([^\\/]+)[\\/]/.exec(file))
            .filter(Boolean).map((match) => match[1]))].sort(),
        programFiles: loaded.filter((file) => !file.includes("node_modules")).map((file) => path.relative(process.cwd(), file)).sort(),
    }) + "\n");
});

/** The loaded files whose module exports are this object. */
function loadedFilesOf(exports) {
    return Object.values(require.cache).filter((module) => module && module.exports === exports).map((module) => module.filename).sort();
}
