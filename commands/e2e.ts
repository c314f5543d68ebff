// `npm run e2e [-- --require] [-- --cleanup]`: the end-to-end test on real Azure (docs/e2e.md).
// A throw-away stack: up with the policy pack, the deploy-time proof, a second preview that
// must change nothing, rbac and back, destroy, the resource group confirmed gone, stack rm. Always
// destroys what it created, on failure and on SIGINT/SIGTERM too. Timings go to .e2e/<stack>.json.
// It signs in as preflight does (commands/azure/signIn.ts, azure-native's own order). Without a
// Pulumi CLI, a backend login or a usable Azure sign-in it creates nothing, prints one line and
// exits 0; with --require (or E2E_REQUIRED=1), that is a failure.
// Exit codes: 0 passed (or skipped), 1 failed and cleaned up, 2 required but prerequisites missing
// or bad arguments, 3 cleanup failed: resources may remain (the output names the resource group).
import { randomBytes } from "crypto";
import * as fs from "fs";
import * as path from "path";
import { checkPrerequisites, localMachine, signInForRun, skipLine } from "./e2e/prerequisites";
import { uniqueStackName } from "./e2e/record";
import type { E2eReport } from "./e2e/run";
import { azureCli, SignIn } from "./azure/signIn";

// Not from ./mockEngine: that loads Pulumi's runtime, and the skip path should stay fast.
export const E2E_DIR = path.join(path.resolve(__dirname, ".."), ".e2e");
export const DEFAULT_LOCATION = "westeurope";
const USAGE = "usage: npm run e2e [-- --require] [-- --cleanup]";

async function main(argv: string[]): Promise<number> {
    const unknown = argv.filter((arg) => arg !== "--require" && arg !== "--cleanup");
    if (unknown.length > 0) {
        process.stderr.write(`e2e: unknown argument ${unknown.join(" ")}\n${USAGE}\n`);
        return 2;
    }
    const required = argv.includes("--require") || ["1", "true", "yes"].includes((process.env.E2E_REQUIRED ?? "").toLowerCase());
    const skip = (missing: string[]) => {
        (required ? process.stderr : process.stdout).write(`${skipLine(missing, required)}\n`);
        return required ? 2 : 0;
    };
    const prerequisites = checkPrerequisites(localMachine());
    if (prerequisites.missing.length > 0 || !prerequisites.signIn) return skip(prerequisites.missing);
    const resolved = await signInForRun(prerequisites.signIn, azureCli(process.env), process.env);
    if ("missing" in resolved) return skip([resolved.missing]);
    const run: Run = { backend: prerequisites.backend, signIn: resolved.signIn };
    return argv.includes("--cleanup") ? cleanUpLeftovers(run) : runOnce(run);
}

/** What a run needs that the prerequisites found. */
interface Run {
    backend?: string;
    signIn: SignIn;
}

async function runOnce({ backend, signIn }: Run): Promise<number> {
    // Loaded only now: the skip path stays fast and needs none of it.
    const { createStackDriver } = await import("./e2e/automation");
    const { exitCodeFor, runEndToEnd } = await import("./e2e/run");
    const { groupExistsWith } = await import("./e2e/azure");
    const stackName = uniqueStackName(new Date(), randomBytes(3).toString("hex"));
    const location = process.env.E2E_LOCATION || DEFAULT_LOCATION;
    fs.mkdirSync(E2E_DIR, { recursive: true });
    process.stdout.write(`e2e: stack ${stackName} in ${location} (backend ${backend}, Azure sign-in ${signIn.method}, subscription ${signIn.subscriptionId} from ${signIn.subscriptionSource})\n`);

    // First signal: stop the current operation (Pulumi cancels cleanly), then destroy. Later ones
    // cannot stop the cleanup: an interrupted destroy is what leaves resources behind. Installed
    // before the stack exists, so that a signal during its creation still ends in its removal.
    const controller = new AbortController();
    const onSignal = (signal: NodeJS.Signals) => {
        if (!controller.signal.aborted) {
            process.stdout.write(`\ne2e: ${signal}: stopping the current operation, then destroying stack ${stackName}\n`);
            controller.abort();
        } else {
            process.stdout.write(`\ne2e: ${signal}: cleanup in progress (destroy, then stack rm); not interrupted\n`);
        }
    };
    process.on("SIGINT", onSignal);
    process.on("SIGTERM", onSignal);
    try {
        let driver;
        try {
            driver = await createStackDriver(qualified(stackName), { envVars: passphraseEnv(stackName, true), onOutput: (text) => process.stdout.write(text) });
        } catch (error) {
            removePassphrase(stackName);
            process.stdout.write(`e2e: FAILED: could not create stack ${stackName}; nothing was deployed:\n${String(error)}\n`);
            return 1;
        }
        const report = await runEndToEnd({
            driver,
            location,
            cosmosLocation: process.env.E2E_COSMOS_LOCATION || undefined,
            groupExists: groupExistsWith(signIn),
            signal: controller.signal,
            onProgress: (progress) => writeReport({ ...progress, stack: stackName }),
        });
        printSummary(report, stackName);
        if (report.cleanup.removed) removePassphrase(stackName);
        return exitCodeFor(report);
    } finally {
        process.off("SIGINT", onSignal);
        process.off("SIGTERM", onSignal);
    }
}

/** `--cleanup`: finishes the cleanup of every recorded stack that was not removed (a run that was killed). */
async function cleanUpLeftovers({ signIn }: Run): Promise<number> {
    const { selectStackDriver } = await import("./e2e/automation");
    const { cleanUp } = await import("./e2e/run");
    const { groupExistsWith } = await import("./e2e/azure");
    const leftovers = listReports().filter((report) => !report.cleanup.removed);
    if (leftovers.length === 0) {
        process.stdout.write("e2e --cleanup: nothing left to clean up\n");
        return 0;
    }
    let failed = 0;
    for (const report of leftovers) {
        process.stdout.write(`e2e --cleanup: stack ${report.stack}${report.resourceGroupName ? `, resource group ${report.resourceGroupName}` : ""}\n`);
        report.cleanup = { destroyed: false, removed: false };
        try {
            const driver = await selectStackDriver(qualified(report.stack), { envVars: passphraseEnv(report.stack, false), onOutput: (text) => process.stdout.write(text) });
            await cleanUp({ driver, groupExists: groupExistsWith(signIn), onProgress: writeReport }, report);
        } catch (error) {
            report.cleanup.error = `could not select the stack: ${String(error)}`;
            writeReport(report);
            process.stdout.write(`e2e --cleanup: FAILED for stack ${report.stack}: ${report.cleanup.error}\n`);
        }
        if (report.cleanup.removed) removePassphrase(report.stack);
        else failed++;
    }
    return failed === 0 ? 0 : 3;
}

/** In Pulumi Cloud, E2E_PULUMI_ORG puts the stack in that organization. */
function qualified(stackName: string): string {
    return process.env.E2E_PULUMI_ORG ? `${process.env.E2E_PULUMI_ORG}/${stackName}` : stackName;
}

/**
 * The passphrase that encrypts the stack's secrets on a self-managed backend. The caller's when set;
 * otherwise one made for this stack, kept (owner-only) beside its report so that `--cleanup` can
 * still destroy the stack after the run was killed, and deleted with the stack.
 */
function passphraseEnv(stackName: string, create: boolean): Record<string, string> {
    if (process.env.PULUMI_CONFIG_PASSPHRASE !== undefined || process.env.PULUMI_CONFIG_PASSPHRASE_FILE !== undefined) return {};
    const file = path.join(E2E_DIR, `${stackName}.passphrase`);
    if (create) fs.writeFileSync(file, randomBytes(32).toString("base64"), { mode: 0o600 });
    return fs.existsSync(file) ? { PULUMI_CONFIG_PASSPHRASE_FILE: file } : {};
}

function removePassphrase(stackName: string): void {
    fs.rmSync(path.join(E2E_DIR, `${stackName}.passphrase`), { force: true });
}

function writeReport(report: E2eReport): void {
    fs.mkdirSync(E2E_DIR, { recursive: true });
    fs.writeFileSync(path.join(E2E_DIR, `${report.stack}.json`), `${JSON.stringify(report, null, 2)}\n`);
}

function listReports(): E2eReport[] {
    if (!fs.existsSync(E2E_DIR)) return [];
    return fs.readdirSync(E2E_DIR).filter((file) => file.endsWith(".json")).sort()
        .map((file) => JSON.parse(fs.readFileSync(path.join(E2E_DIR, file), "utf8")) as E2eReport);
}

function printSummary(report: E2eReport, stackName: string): void {
    const lines = [`e2e: ${report.ok ? "PASSED" : "FAILED"}: stack ${stackName}${report.error ? `: ${report.error.split("\n")[0]}` : ""}`];
    for (const phase of report.phases) lines.push(`  ${phase.ok ? "ok    " : "FAILED"} ${phase.seconds.toFixed(1).padStart(7)} s  ${phase.name}`);
    lines.push(`  cleanup: destroyed ${report.cleanup.destroyed}, resource group gone ${report.cleanup.groupGone ?? "unknown"}, stack removed ${report.cleanup.removed}`);
    lines.push(`  timings: ${path.relative(process.cwd(), path.join(E2E_DIR, `${stackName}.json`))}`);
    process.stdout.write(`${lines.join("\n")}\n`);
}

if (require.main === module) {
    main(process.argv.slice(2)).then((code) => {
        process.exitCode = code;
    }, (error: unknown) => {
        process.stderr.write(`e2e: ${error instanceof Error ? error.stack : String(error)}\n`);
        process.exitCode = 1;
    });
}
