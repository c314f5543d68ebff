// What `npm run e2e` needs, decided from the machine alone: a Pulumi CLI on PATH, a Pulumi backend
// login, and an Azure sign-in that azure-native will use. Environment variables and local files
// only: nothing here touches the network, and the instance metadata service is never probed (a
// managed identity counts only when ARM_USE_MSI asks for it).
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

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

/** Where azure-native (and the end-to-end test's own Resource Manager call) gets its token. */
export type OidcTokenSource =
    | { kind: "token"; token: string }
    | { kind: "file"; path: string }
    | { kind: "request"; url: string; bearer: string };

export type AzureSignIn =
    | { kind: "client-secret"; tenantId: string; clientId: string; clientSecret: string }
    | { kind: "client-certificate"; tenantId: string; clientId: string; certificatePath: string; certificatePassword?: string }
    | { kind: "oidc"; tenantId: string; clientId: string; source: OidcTokenSource }
    | { kind: "managed-identity"; clientId?: string }
    | { kind: "azure-cli" };

export interface Prerequisites {
    /** The Pulumi CLI found on PATH. */
    pulumi?: string;
    /** The state backend the CLI will use. */
    backend?: string;
    azure?: AzureSignIn;
    subscriptionId?: string;
    /** What is missing, one phrase each; empty when the end-to-end test can run. */
    missing: string[];
}

export const AZURE_SIGN_IN_HELP = "ARM_CLIENT_ID + ARM_TENANT_ID with ARM_CLIENT_SECRET, ARM_CLIENT_CERTIFICATE_PATH or ARM_USE_OIDC; ARM_USE_MSI; or `az login`";

export function checkPrerequisites(machine: Machine): Prerequisites {
    const missing: string[] = [];
    const env = (name: string) => {
        const value = machine.env[name];
        return value === undefined || value === "" ? undefined : value;
    };

    const pulumi = onPath(machine, "pulumi");
    if (!pulumi) missing.push("the Pulumi CLI (`pulumi` on PATH)");

    const backend = pulumiBackend(machine, env);
    if (!backend) missing.push("a Pulumi backend login (`pulumi login`, PULUMI_BACKEND_URL or PULUMI_ACCESS_TOKEN)");

    const azure = azureSignIn(machine, env, missing);
    return { pulumi, backend, azure: azure?.signIn, subscriptionId: azure?.subscriptionId, missing };
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

function pulumiBackend(machine: Machine, env: (name: string) => string | undefined): string | undefined {
    const url = env("PULUMI_BACKEND_URL");
    if (url) return url;
    if (env("PULUMI_ACCESS_TOKEN")) return "Pulumi Cloud (PULUMI_ACCESS_TOKEN)";
    // `pulumi login` records the current backend here.
    const home = env("PULUMI_HOME") ?? path.join(machine.homeDir, ".pulumi");
    const credentials = parseJson(machine.readFile(path.join(home, "credentials.json")));
    const current = isRecord(credentials) ? credentials.current : undefined;
    return typeof current === "string" && current.length > 0 ? current : undefined;
}

function azureSignIn(
    machine: Machine,
    env: (name: string) => string | undefined,
    missing: string[],
): { signIn: AzureSignIn; subscriptionId?: string } | undefined {
    const clientId = env("ARM_CLIENT_ID");
    const tenantId = env("ARM_TENANT_ID");
    const subscriptionId = env("ARM_SUBSCRIPTION_ID");
    const needSubscription = () => {
        if (!subscriptionId) missing.push("ARM_SUBSCRIPTION_ID (the subscription to deploy to)");
    };

    if (env("ARM_USE_MSI") === "true") {
        needSubscription();
        return { signIn: { kind: "managed-identity", clientId }, subscriptionId };
    }
    if (clientId) {
        if (!tenantId) {
            missing.push("ARM_TENANT_ID (ARM_CLIENT_ID is set)");
            return undefined;
        }
        const secret = env("ARM_CLIENT_SECRET");
        const certificatePath = env("ARM_CLIENT_CERTIFICATE_PATH");
        const wantsOidc = env("ARM_USE_OIDC") === "true" || env("ARM_OIDC_TOKEN") !== undefined || env("ARM_OIDC_TOKEN_FILE_PATH") !== undefined;
        let signIn: AzureSignIn | undefined;
        if (secret) signIn = { kind: "client-secret", tenantId, clientId, clientSecret: secret };
        else if (certificatePath) signIn = { kind: "client-certificate", tenantId, clientId, certificatePath, certificatePassword: env("ARM_CLIENT_CERTIFICATE_PASSWORD") };
        else if (wantsOidc) {
            const source = oidcTokenSource(env);
            if (source) signIn = { kind: "oidc", tenantId, clientId, source };
            else missing.push("an OIDC token for ARM_USE_OIDC (ARM_OIDC_TOKEN, ARM_OIDC_TOKEN_FILE_PATH, or a GitHub Actions job with `id-token: write`)");
        } else {
            missing.push("a credential for ARM_CLIENT_ID (ARM_CLIENT_SECRET, ARM_CLIENT_CERTIFICATE_PATH or ARM_USE_OIDC)");
        }
        if (!signIn) return undefined;
        needSubscription();
        return { signIn, subscriptionId };
    }

    // An Azure CLI login: azure-native asks `az` for tokens, for the default subscription.
    const configDir = env("AZURE_CONFIG_DIR") ?? path.join(machine.homeDir, ".azure");
    // The CLI writes this file with a byte-order mark.
    const profile = parseJson(machine.readFile(path.join(configDir, "azureProfile.json"))?.replace(/^\uFEFF/, ""));
    const subscriptions = isRecord(profile) && Array.isArray(profile.subscriptions) ? profile.subscriptions.filter(isRecord) : [];
    if (subscriptions.length === 0) {
        missing.push(`an Azure sign-in (${AZURE_SIGN_IN_HELP})`);
        return undefined;
    }
    if (!onPath(machine, "az")) {
        missing.push("the Azure CLI (`az` on PATH) for the `az login` found in " + configDir);
        return undefined;
    }
    const chosen = subscriptionId ?? subscriptions.find((s) => s.isDefault === true)?.id;
    if (typeof chosen !== "string") {
        missing.push("a default subscription (`az account set --subscription <id>`) or ARM_SUBSCRIPTION_ID");
        return undefined;
    }
    return { signIn: { kind: "azure-cli" }, subscriptionId: chosen };
}

function oidcTokenSource(env: (name: string) => string | undefined): OidcTokenSource | undefined {
    const token = env("ARM_OIDC_TOKEN");
    if (token) return { kind: "token", token };
    const file = env("ARM_OIDC_TOKEN_FILE_PATH") ?? env("AZURE_FEDERATED_TOKEN_FILE");
    if (file) return { kind: "file", path: file };
    // A GitHub Actions job with `permissions: id-token: write` (azure-native reads the same variables).
    const url = env("ARM_OIDC_REQUEST_URL") ?? env("ACTIONS_ID_TOKEN_REQUEST_URL");
    const bearer = env("ARM_OIDC_REQUEST_TOKEN") ?? env("ACTIONS_ID_TOKEN_REQUEST_TOKEN");
    if (url && bearer) return { kind: "request", url, bearer };
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
