// Runs the stack's key-fetch script on its VM with Run Command v2 and hands back what the script
// said: its output on stdout, its error line on stderr, and its exit code as this command's exit
// code (docs/key-fetch-script.md's exit-code table, seen from your shell). `az vm run-command invoke` (v1)
// reports none of that (azure-cli#29750); v2 does, in the run command's instance view:
//   az vm run-command create --async-execution false   (runs the script, waits for it to end)
//   az vm run-command show --instance-view              (exit code, output, error)
//   az vm run-command delete                            (the output does not stay in Azure, and the next run runs afresh)
// Usage (the stack's output `runOnVmCommand` is this line, filled in):
//   npm run --silent run-on-vm -- --stack dev --subscription S --resource-group G --vm-name V [Name=Value ...]
// Name=Value pairs become the script's parameters (Run Command passes them as -Name Value).
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
// lib only: the component would load Pulumi and azure-native for one number.
import { KEY_FETCH_DEADLINE_SECONDS, RUN_COMMAND_START_SECONDS } from "../lib/keyFetchScript";

/** The run command's name on the VM (the deploy-time one is verify-cosmos-access). */
export const RUN_COMMAND_NAME = "get-cosmos-db-keys";

/** The script's parameters that take a value, and so can travel as Run Command parameters. */
const VALUE_PARAMETERS = [
    "SubscriptionId", "ResourceGroupName", "AccountName", "AccessLevel", "AccessMode", "DatabaseName", "ContainerName",
    "ResourceManagerEndpoint", "CosmosEndpoint", "ImdsEndpoint", "RoleWaitSeconds", "NetworkWaitSeconds", "DeadlineSeconds",
];

/** Switches that would put keys where they must not be: Run Command keeps the output in the run's instance view, in Azure. */
const REFUSED_SWITCHES: Record<string, string> = {
    showkeys: "-ShowKeys would print the keys into the run command's output, which Azure stores in its instance view (readable by anyone who may read the VM's run commands). Connect to the VM (RDP) and run .\\Get-CosmosDbKeys.ps1 -ShowKeys there.",
    passthru: "-PassThru returns the keys as an object to a PowerShell session; through Run Command it would only print them (see ShowKeys). Run $keys = .\\Get-CosmosDbKeys.ps1 -PassThru on the VM.",
};

class UsageError extends Error {}

interface Options {
    stack: string;
    subscription: string;
    resourceGroup: string;
    vmName: string;
    parameters: [string, string][];
}

export function parseArguments(argv: string[]): Options {
    const flags: Record<string, string> = {};
    const parameters: [string, string][] = [];
    for (let i = 0; i < argv.length; i++) {
        const arg = argv[i];
        const flag = /^--(stack|subscription|resource-group|vm-name)$/.exec(arg);
        if (flag) {
            if (argv[i + 1] === undefined) throw new UsageError(`${arg} needs a value`);
            flags[flag[1]] = argv[++i];
            continue;
        }
        const name = arg.replace(/^-+/, "").split(/[=:]/)[0];
        if (REFUSED_SWITCHES[name.toLowerCase()]) throw new UsageError(REFUSED_SWITCHES[name.toLowerCase()]);
        const pair = /^([A-Za-z]+)=(.*)$/s.exec(arg);
        const known = pair && VALUE_PARAMETERS.find((candidate) => candidate.toLowerCase() === pair[1].toLowerCase());
        if (!pair || !known) throw new UsageError(`unexpected argument ${JSON.stringify(arg)}: script parameters are given as Name=Value, Name one of ${VALUE_PARAMETERS.join(", ")}`);
        parameters.push([known, pair[2]]);
    }
    const missing = ["stack", "subscription", "resource-group", "vm-name"].filter((name) => !flags[name]);
    if (missing.length > 0) throw new UsageError(`missing ${missing.map((name) => `--${name}`).join(", ")}`);
    return { stack: flags.stack, subscription: flags.subscription, resourceGroup: flags["resource-group"], vmName: flags["vm-name"], parameters };
}

/** Run Command's timeout: the script's deadline plus the margin the deploy-time run has (as components/keyFetchVerification.ts). */
export function runCommandTimeout(parameters: [string, string][]): number {
    const deadline = parameters.find(([name]) => name === "DeadlineSeconds");
    const seconds = deadline && Number.isSafeInteger(Number(deadline[1])) ? Number(deadline[1]) : KEY_FETCH_DEADLINE_SECONDS;
    return Math.max(KEY_FETCH_DEADLINE_SECONDS, seconds) + RUN_COMMAND_START_SECONDS;
}

function run(command: string, args: string[]): string {
    // az and pulumi are .cmd files on Windows: only a shell starts those.
    const result = spawnSync(command, args, { encoding: "utf8", shell: process.platform === "win32", stdio: ["ignore", "pipe", "inherit"], maxBuffer: 64 * 1024 * 1024 });
    if (result.error) throw new Error(`${command} could not be started: ${result.error.message}`);
    if (result.status !== 0) throw new Error(`${command} ${args.slice(0, 3).join(" ")} failed (exit ${result.status})`);
    return result.stdout;
}

interface InstanceView {
    executionState?: string;
    exitCode?: number;
    output?: string;
    error?: string;
}

export function main(argv: string[]): number {
    let options: Options;
    try {
        options = parseArguments(argv);
    } catch (error) {
        if (!(error instanceof UsageError)) throw error;
        process.stderr.write(`run-on-vm: ${error.message}\n`);
        return 2;
    }
    const target = ["--subscription", options.subscription, "--resource-group", options.resourceGroup, "--vm-name", options.vmName, "--name", RUN_COMMAND_NAME];
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "run-on-vm-"));
    try {
        const script = run("pulumi", ["stack", "output", "keyFetchScript", "--stack", options.stack]);
        const file = path.join(dir, "Get-CosmosDbKeys.ps1");
        fs.writeFileSync(file, script, "utf8");
        process.stderr.write(`Running the key-fetch script on ${options.vmName} (Run Command ${RUN_COMMAND_NAME}); this waits for the script to end.\n`);
        run("az", ["vm", "run-command", "create", ...target, "--script", `@${file}`, "--async-execution", "false",
            "--timeout-in-seconds", String(runCommandTimeout(options.parameters)),
            ...(options.parameters.length > 0 ? ["--parameters", ...options.parameters.map(([name, value]) => `${name}=${value}`)] : []),
            "--output", "none"]);
        const shown = JSON.parse(run("az", ["vm", "run-command", "show", ...target, "--instance-view", "--output", "json"])) as { instanceView?: InstanceView };
        run("az", ["vm", "run-command", "delete", ...target, "--yes", "--output", "none"]);
        const view = shown.instanceView ?? {};
        if (view.output) process.stdout.write(view.output.endsWith("\n") ? view.output : `${view.output}\n`);
        if (view.error) process.stderr.write(view.error.endsWith("\n") ? view.error : `${view.error}\n`);
        if (typeof view.exitCode !== "number" || (view.executionState !== "Succeeded" && view.executionState !== "Failed")) {
            process.stderr.write(`run-on-vm: the run ended ${view.executionState ?? "without a state"}, with no exit code from the script\n`);
            return 1;
        }
        return view.exitCode;
    } catch (error) {
        process.stderr.write(`run-on-vm: ${(error as Error).message}\n`);
        return 1;
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
}

if (require.main === module) process.exitCode = main(process.argv.slice(2));
