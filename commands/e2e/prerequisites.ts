// What `npm run e2e` needs: a Pulumi CLI on PATH, a Pulumi backend login, and an Azure sign-in that
// azure-native will use. The skip decision is made from the machine alone: environment variables
// and local files, never the network, and the instance metadata service is never probed (a managed
// identity counts only when ARM_USE_MSI asks for it). Which sign-in azure-native uses is decided by
// preflight's planSignIn (commands/azure/signIn.ts), the one implementation of azure-native's order;
// here is only what the machine must hold for the method it picks.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import type { HttpClient } from "@azure/core-rest-pipeline";
import { AzRunner, LOGIN_HINT, planSignIn, resolveSignIn, SignIn, SignInError, SignInPlan } from "../azure/signIn";

/** The machine as the checks see it; injectable so that tests can describe one. */
export interface Machine {
    env: Readonly<Record<string, string | undefined>>;
    homeDir: string;
    platform: NodeJS.Platform;
    /** A file's text, or undefined when it is absent or unreadable. */
    readFile(file: string): string | undefined;
    /** True when the file exists and may be executed. */
    isExecutable(file: string): boolean;
}

export interface Prerequisites {
    /** The Pulumi CLI found on PATH. */
    pulumi?: string;
    /** The state backend the CLI will use. */
    backend?: string;
    /** How azure-native will sign in, when the machine holds what that method needs. */
    signIn?: SignInPlan;
    /** What is missing, one phrase each; empty when the end-to-end test can run. */
    missing: string[];
}

export function checkPrerequisites(machine: Machine): Prerequisites {
    const missing: string[] = [];
    const pulumi = onPath(machine, "pulumi");
    if (!pulumi) missing.push("the Pulumi CLI (`pulumi` on PATH)");

    const backend = pulumiBackend(machine);
    if (!backend) missing.push("a Pulumi backend login (`pulumi login`, PULUMI_BACKEND_URL or PULUMI_ACCESS_TOKEN)");

    const signIn = azureSignIn(machine, missing);
    return { pulumi, backend, signIn, missing };
}

/**
 * Builds the credential for the run as preflight does (resolveSignIn: with the Azure CLI, a local
 * `az account show` for the subscription and cloud). Done before anything is created: a sign-in
 * that cannot be used is a missing prerequisite, not a failed cleanup after a deployment.
 * `httpClient` carries the credential's requests to Entra ID (tests serve them in memory).
 */
export async function signInForRun(plan: SignInPlan, runAz: AzRunner, env: NodeJS.ProcessEnv, httpClient?: HttpClient): Promise<{ signIn: SignIn } | { missing: string }> {
    try {
        return { signIn: await resolveSignIn(plan, runAz, env, { httpClient }) };
    } catch (error) {
        if (error instanceof SignInError) return { missing: `a usable Azure sign-in (${error.message})` };
        throw error;
    }
}

/** The one line `npm run e2e` prints when it cannot run. */
export function skipLine(missing: string[], required: boolean): string {
    const what = `missing ${missing.join("; ")}`;
    return required
        ? `e2e: FAILED: a run is required (E2E_REQUIRED or --require) but ${what}. Nothing was created.`
        : `e2e: skipped, nothing created: ${what}. (Set E2E_REQUIRED=1 to make this a failure.)`;
}

/** The real machine. */
export function localMachine(): Machine {
    return {
        env: process.env,
        homeDir: os.homedir(),
        platform: process.platform,
        readFile: (file) => {
            try {
                return fs.readFileSync(file, "utf8");
            } catch {
                return undefined;
            }
        },
        isExecutable: (file) => {
            try {
                fs.accessSync(file, fs.constants.X_OK);
                return fs.statSync(file).isFile();
            } catch {
                return false;
            }
        },
    };
}

function env(machine: Machine, name: string): string | undefined {
    const value = machine.env[name];
    return value === undefined || value === "" ? undefined : value;
}

function onPath(machine: Machine, command: string): string | undefined {
    const delimiter = machine.platform === "win32" ? ";" : ":";
    const extensions = machine.platform === "win32" ? (machine.env.PATHEXT ?? ".EXE;.CMD;.BAT").split(";") : [""];
    for (const dir of (machine.env.PATH ?? "").split(delimiter).filter((d) => d.length > 0)) {
        for (const extension of extensions) {
            const candidate = path.join(dir, command + extension);
            if (machine.isExecutable(candidate)) return candidate;
        }
    }
    return undefined;
}

function pulumiBackend(machine: Machine): string | undefined {
    const url = env(machine, "PULUMI_BACKEND_URL");
    if (url) return url;
    if (env(machine, "PULUMI_ACCESS_TOKEN")) return "Pulumi Cloud (PULUMI_ACCESS_TOKEN)";
    // `pulumi login` records the current backend here.
    const home = env(machine, "PULUMI_HOME") ?? path.join(machine.homeDir, ".pulumi");
    const credentials = parseJson(machine.readFile(path.join(home, "credentials.json")));
    const current = isRecord(credentials) ? credentials.current : undefined;
    return typeof current === "string" && current.length > 0 ? current : undefined;
}

function azureSignIn(machine: Machine, missing: string[]): SignInPlan | undefined {
    let plan: SignInPlan;
    try {
        // The throw-away stack's config holds no azure-native sign-in key (the run sets only
        // azure-native:location), so azure-native signs in from the environment alone.
        plan = planSignIn({}, [], machine.env);
    } catch (error) {
        // A method that is chosen but incomplete: azure-native refuses it, and so does the run.
        if (error instanceof SignInError) {
            missing.push(`a complete Azure sign-in (${error.message})`);
            return undefined;
        }
        throw error;
    }
    const method = plan.method;
    if (method.kind === "azure-cli") {
        const problem = azLoginProblem(machine, plan.subscriptionId);
        if (problem) {
            missing.push(problem);
            return undefined;
        }
    }
    if (method.kind === "default-credential") {
        // The run's own check uses DefaultAzureCredential's chain without its managed-identity step
        // (preflight's buildCredential), so one of the other steps must find something here.
        const environment = env(machine, "AZURE_TENANT_ID") && env(machine, "AZURE_CLIENT_ID")
            && (env(machine, "AZURE_CLIENT_SECRET") || env(machine, "AZURE_CLIENT_CERTIFICATE_PATH"));
        if (!environment && !env(machine, "AZURE_FEDERATED_TOKEN_FILE") && azLoginProblem(machine, plan.subscriptionId)) {
            missing.push("a credential for ARM_USE_DEFAULT_AZURE_CREDENTIAL that needs no instance metadata service "
                + "(AZURE_TENANT_ID + AZURE_CLIENT_ID with AZURE_CLIENT_SECRET or AZURE_CLIENT_CERTIFICATE_PATH, AZURE_FEDERATED_TOKEN_FILE, or `az login`; "
                + "for a managed identity set ARM_USE_MSI=true instead)");
            return undefined;
        }
    }
    return plan;
}

/** An `az login` on this machine: a subscription in the CLI's profile, and `az` on PATH. */
function azLoginProblem(machine: Machine, subscriptionId: string | undefined): string | undefined {
    const configDir = env(machine, "AZURE_CONFIG_DIR") ?? path.join(machine.homeDir, ".azure");
    // The CLI writes this file with a byte-order mark.
    const profile = parseJson(machine.readFile(path.join(configDir, "azureProfile.json"))?.replace(/^\uFEFF/, ""));
    const subscriptions = isRecord(profile) && Array.isArray(profile.subscriptions) ? profile.subscriptions.filter(isRecord) : [];
    if (subscriptions.length === 0) return `an Azure sign-in (${LOGIN_HINT})`;
    if (!onPath(machine, "az")) return `the Azure CLI (\`az\` on PATH) for the \`az login\` found in ${configDir}`;
    if (!subscriptionId && !subscriptions.some((s) => s.isDefault === true)) {
        return "a default subscription (`az account set --subscription <id>`) or ARM_SUBSCRIPTION_ID";
    }
    return undefined;
}

function parseJson(text: string | undefined): unknown {
    if (text === undefined) return undefined;
    try {
        return JSON.parse(text);
    } catch {
        return undefined;
    }
}

function isRecord(value: unknown): value is Record<string, unknown> {
    return value !== null && typeof value === "object" && !Array.isArray(value);
}
