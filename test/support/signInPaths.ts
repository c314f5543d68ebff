// Run by test/preflightProcess.test.ts in a child process preloaded with loopbackOnly.js: every way
// preflight and `npm run e2e` sign in, one scenario after another, each with the production code
// (preflight's sign-in for a run with its default credential step, e2e's signInForRun and its
// resource-group check), under the environment the scenario names. Before each scenario it writes
// "scenario <name>" to the shared log, where loopbackOnly.js records every address it refused and
// the test's trap listener every request it received; it prints one JSON line per scenario with
// what each tool said and the requests preflight's sign-in guard refused (azure/signInHttp.ts).
import * as fs from "node:fs";
import { azureCli, planSignIn } from "../../commands/azure/signIn";
import { refusedRequests } from "../../commands/azure/signInHttp";
import { groupExistsWith } from "../../commands/e2e/azure";
import { signInForRun } from "../../commands/e2e/prerequisites";
import { defaultDependencies } from "../../commands/preflight";
import { signInWithinRun } from "../../commands/preflight/runSignIn";
import { loadStackConfig } from "../../model/stackConfig";

interface Scenario {
    name: string;
    env: Record<string, string>;
}

const scenarios = JSON.parse(process.env.SIGN_IN_SCENARIOS ?? "[]") as Scenario[];
const log = process.env.LOOPBACK_LOG ?? "";
const root = process.env.PREFLIGHT_PROJECT ?? "";
const base = { ...process.env };

async function runScenario(scenario: Scenario): Promise<object> {
    for (const key of Object.keys(process.env)) if (!(key in base)) delete process.env[key];
    Object.assign(process.env, scenario.env);
    fs.appendFileSync(log, `scenario ${scenario.name}\n`);
    // Preflight: the plan from the stack's configuration and the environment, then its sign-in with the run's bounds.
    const { config, secretKeys } = loadStackConfig("dev", root);
    const run = new AbortController();
    const timer = setTimeout(() => run.abort(), 10_000);
    const signedIn = await signInWithinRun(planSignIn(config, secretKeys, process.env), defaultDependencies().signIn, { signal: run.signal, deadline: Date.now() + 10_000, timeoutMs: 10_000, now: Date.now });
    clearTimeout(timer);
    run.abort();
    const preflight = "error" in signedIn ? signedIn.error : `signed in: ${signedIn.signIn.method}, subscription ${signedIn.signIn.subscriptionId}`;
    let e2e: string;
    try {
        const resolved = await signInForRun(planSignIn({}, [], process.env), azureCli(process.env), process.env);
        e2e = "missing" in resolved ? `missing: ${resolved.missing}` : `group exists: ${await groupExistsWith(resolved.signIn)("cosmos-vm-identity00000000")}`;
    } catch (error) {
        e2e = `error: ${error instanceof Error ? error.message.split("\n")[0] : String(error)}`;
    }
    // Requests preflight's own guard refused (a managed identity endpoint asked without ARM_USE_MSI).
    return { name: scenario.name, preflight, e2e, refused: refusedRequests.splice(0) };
}

(async () => {
    for (const scenario of scenarios) process.stdout.write(`${JSON.stringify(await runScenario(scenario))}\n`);
})().then(() => process.exit(0), (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
    process.exit(1);
});
