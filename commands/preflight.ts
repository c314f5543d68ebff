// `npm run preflight [-- --stack NAME] [--fix] [--json] [--resource-group NAME] [--timeout SECONDS]`:
// the failures that hit real deployments of this stack, found in seconds with read-only Resource
// Manager calls before `pulumi up` runs into them minutes in. Reads the stack's configuration as
// `npm run plan` does, signs in as `pulumi up` would (signIn.ts), runs the checks (checks.ts) at once,
// prints one line per check and exits 0 (no failure), 1 (a check failed) or 2 (preflight could not run).
// --timeout bounds the whole run, sign-in included. Start-up matters (`npm run preflight` should
// answer in about two seconds): the program's evaluation for the policy check comes from a cache,
// or starts in a worker thread first; the Azure SDKs load only after it has started.
import type { Agent } from "node:https";
import * as os from "node:os";
import * as path from "node:path";
import { parseArgs } from "node:util";
import type { StackConfig } from "../lib/config";
import type { SignIn, SignInPlan } from "./azure/signIn";
import { cachedDeclaredResources, DeclaredEvaluation } from "./preflight/declared";
import type { PreflightReport } from "./preflight/run";
import type { RunBounds } from "./preflight/runSignIn";

export const USAGE = `usage: npm run preflight [-- [--stack NAME] [--fix] [--json] [--resource-group NAME] [--timeout SECONDS]]
  --stack NAME           the stack whose Pulumi.NAME.yaml to check (default: dev)
  --fix                  register missing resource providers (the only change preflight makes)
  --json                 print the results as JSON (for CI: npm run --silent preflight -- --json)
  --resource-group NAME  the deployed stack's resource group, when its state is not in a local backend
  --timeout SECONDS      time limit for the whole run, sign-in included (default: 30)`;

/** The project directory (commands/..). */
const PROJECT_ROOT = path.resolve(__dirname, "..");

export type { RunBounds } from "./preflight/runSignIn";

export interface PreflightDependencies {
    env: NodeJS.ProcessEnv;
    /** The project directory (Pulumi.yaml and the stack files). */
    root: string;
    home: string;
    stdout(text: string): void;
    stderr(text: string): void;
    /** Signs in as `pulumi up` would, within the run's bounds. Tests inject a fake credential here. */
    signIn(plan: SignInPlan, bounds: RunBounds): Promise<SignIn>;
    /** The program's evaluation for a stack (the plan's), cached or started now: the policy check's resource bodies. */
    declaredResources(stack: string, root: string): DeclaredEvaluation;
    /** Tests only: a loopback HTTPS Resource Manager and the TLS agent that trusts it. Production uses the stack's cloud. */
    resourceManager?: { endpoint: string; agent: Agent };
    retryDelayInMs: number;
    pollIntervalMs: number;
    now(): number;
}

export function defaultDependencies(): PreflightDependencies {
    return {
        env: process.env,
        root: PROJECT_ROOT,
        home: os.homedir(),
        stdout: (text) => process.stdout.write(text),
        stderr: (text) => process.stderr.write(text),
        signIn: async (plan, bounds) => {
            const { azureCli, resolveSignIn } = await import("./azure/signIn");
            return resolveSignIn(plan, azureCli(process.env, bounds.timeoutMs, bounds), process.env, bounds);
        },
        declaredResources: (stack, root) => cachedDeclaredResources(stack, root),
        retryDelayInMs: 800,
        pollIntervalMs: 5000,
        now: () => Date.now(),
    };
}

interface Options {
    stack: string;
    fix: boolean;
    json: boolean;
    resourceGroup?: string;
    timeoutMs: number;
}

function parseOptions(argv: string[]): Options | { help: true } {
    const { values, positionals } = parseArgs({
        args: argv,
        allowPositionals: true,
        options: {
            stack: { type: "string", short: "s" },
            fix: { type: "boolean", default: false },
            json: { type: "boolean", default: false },
            "resource-group": { type: "string" },
            timeout: { type: "string" },
            help: { type: "boolean", short: "h", default: false },
        },
    });
    if (values.help) return { help: true };
    const seconds = values.timeout === undefined ? 30 : Number(values.timeout);
    if (!Number.isFinite(seconds) || seconds <= 0) throw new Error(`--timeout must be a number of seconds (got "${values.timeout}")`);
    if (positionals.length > 1 || (positionals.length === 1 && values.stack)) throw new Error(`unexpected argument "${positionals[positionals.length - 1]}"`);
    return { stack: values.stack ?? positionals[0] ?? "dev", fix: values.fix, json: values.json, resourceGroup: values["resource-group"], timeoutMs: seconds * 1000 };
}

export async function main(argv: string[], deps: PreflightDependencies = defaultDependencies()): Promise<number> {
    let options: Options | { help: true };
    try {
        options = parseOptions(argv);
    } catch (error) {
        deps.stderr(`error: ${error instanceof Error ? error.message : String(error)}\n${USAGE}\n`);
        return 2;
    }
    if ("help" in options) {
        deps.stdout(`${USAGE}\n`);
        return 0;
    }
    // The evaluation is CPU work for a second or more: it starts first, beside everything else.
    const declared = deps.declaredResources(options.stack, deps.root);
    // The run's clock starts once the code is loaded: a timer cannot fire while modules load.
    const modules = await loadModules();
    const started = deps.now();
    const run = new AbortController();
    const timer = setTimeout(() => run.abort(), options.timeoutMs);
    try {
        return await preflight(options, deps, modules, { started, deadline: started + options.timeoutMs, signal: run.signal, declared });
    } finally {
        clearTimeout(timer);
        // Whatever is still in flight (a request that lost the race) ends now.
        run.abort();
        declared.stop();
    }
}

/** What a run needs beyond the command line, loaded after the evaluation's worker has started. */
async function loadModules() {
    const [stackConfig, config, signIn, runSignIn, existingStack, run] = await Promise.all([
        import("../model/stackConfig"), import("../lib/config"), import("./azure/signIn"), import("./preflight/runSignIn"), import("./preflight/existingStack"), import("./preflight/run"),
    ]);
    return { ...stackConfig, ...config, ...signIn, ...runSignIn, ...existingStack, ...run };
}

async function preflight(options: Options, deps: PreflightDependencies, modules: Awaited<ReturnType<typeof loadModules>>, run: { started: number; deadline: number; signal: AbortSignal; declared: DeclaredEvaluation }): Promise<number> {
    const json = options.json;
    const stop = (message: string): number => {
        if (json) deps.stdout(`${JSON.stringify({ stack: options.stack, ok: false, error: message })}\n`);
        else deps.stderr(`preflight: ${message}\n`);
        return 2;
    };
    const { loadStackConfig, ConfigError, parseConfig, RESOURCE_MANAGER_ENDPOINTS, findLocalState, runPreflight, UnreachableError } = modules;
    const { planSignIn, describeSignInFailure, signInWithinRun, armScope, SignInError, principalFromToken, firstLine } = modules;

    let config: StackConfig;
    let rawConfig: Record<string, string>;
    let secretKeys: string[];
    let project: string;
    try {
        ({ project, config: rawConfig, secretKeys } = loadStackConfig(options.stack, deps.root));
        config = parseConfig(rawConfig, project);
    } catch (error) {
        if (error instanceof ConfigError) return stop(error.message);
        return stop(error instanceof Error ? error.message : String(error));
    }

    let plan: SignInPlan;
    try {
        plan = planSignIn(rawConfig, secretKeys, deps.env);
    } catch (error) {
        return stop(describeSignInFailure(error, { kind: "azure-cli" }));
    }
    const signedIn = await signInWithinRun(plan, deps.signIn, { signal: run.signal, deadline: run.deadline, timeoutMs: options.timeoutMs, now: deps.now });
    if ("error" in signedIn) return stop(signedIn.error);
    const { signIn, token } = signedIn;

    let report: PreflightReport;
    try {
        const principal = principalFromToken(token);
        const endpoint = deps.resourceManager?.endpoint ?? RESOURCE_MANAGER_ENDPOINTS[signIn.cloud];
        report = await runPreflight({
            project,
            stackName: options.stack,
            config,
            signIn,
            principal,
            fix: options.fix,
            resourceGroup: options.resourceGroup,
            localLookup: () => findLocalState(project, options.stack, deps.env, deps.home),
            declaredResources: () => run.declared.result,
            timeoutMs: options.timeoutMs,
            started: run.started,
            deadline: run.deadline,
            pollIntervalMs: deps.pollIntervalMs,
            now: deps.now,
            connection: {
                endpoint,
                scope: armScope(signIn.cloud),
                credential: signIn.credential,
                subscriptionId: signIn.subscriptionId,
                agent: deps.resourceManager?.agent,
                retry: { maxRetries: 3, retryDelayInMs: deps.retryDelayInMs, maxRetryDelayInMs: 8 * deps.retryDelayInMs },
                allowProviderRegistration: options.fix,
            },
        });
    } catch (error) {
        if (error instanceof UnreachableError || error instanceof SignInError) return stop(error.message);
        return stop(`unexpected error: ${firstLine(error instanceof Error ? error.message : String(error))}`);
    }
    deps.stdout(json ? `${JSON.stringify(report, null, 2)}\n` : renderText(report));
    return report.ok ? 0 : 1;
}

const LABELS = { pass: "PASS", fail: "FAIL", warning: "WARN", skipped: "SKIP" } as const;

/** One line per check (and its remedy under it), then a summary. */
export function renderText(report: PreflightReport): string {
    const width = Math.max(...report.checks.map((c) => c.id.length)) + 2;
    const where = report.cosmosLocation === report.location ? report.location : `${report.location}, Cosmos DB in ${report.cosmosLocation}`;
    const lines = [`Preflight for stack ${report.stack} of ${report.project} (${where}), subscription ${report.subscriptionId}: read-only checks${report.fix ? "; --fix registers missing resource providers" : ""}`];
    for (const check of report.checks) {
        lines.push(`${LABELS[check.status]}  ${check.id.padEnd(width)}${check.message}`);
        if (check.remedy && (check.status === "fail" || check.status === "warning")) lines.push(`${" ".repeat(6 + width)}fix: ${check.remedy}`);
    }
    const { pass, fail, warning, skipped } = report.counts;
    const tally = [`${fail} failed`, `${warning} warning${warning === 1 ? "" : "s"}`, `${pass} passed`, `${skipped} skipped`].join(", ");
    const verdict = fail > 0 ? "fix the failures before `pulumi up`" : warning > 0 ? "read the warnings, then `pulumi up`" : "ready for `pulumi up`";
    lines.push(`${tally} in ${(report.durationMs / 1000).toFixed(1)} s: ${verdict}.`);
    return `${lines.join("\n")}\n`;
}

if (require.main === module) {
    main(process.argv.slice(2)).then((code) => { process.exitCode = code; }, (error: unknown) => {
        process.stderr.write(`preflight: ${error instanceof Error ? error.message : String(error)}\n`);
        process.exitCode = 2;
    }).finally(() => {
        // Preflight has answered and stopped what it started; a socket or timer some library keeps
        // must not keep the process alive past its answer (an unref'd timer fires only if one does).
        setTimeout(() => process.exit(), 1000).unref();
    });
}
