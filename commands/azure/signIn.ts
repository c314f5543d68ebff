// Signs in the way `pulumi up` would. azure-native v3 (provider/pkg/provider/auth_azidentity.go)
// reads each setting from the stack's `azure-native:*` config first, then its ARM_* variable, and
// uses the first method that is configured, in this order:
//   1. DefaultAzureCredential          useDefaultAzureCredential / ARM_USE_DEFAULT_AZURE_CREDENTIAL=true
//   2. service principal, certificate  clientCertificatePath / ARM_CLIENT_CERTIFICATE_PATH
//   3. service principal, secret       clientSecret / ARM_CLIENT_SECRET
//   4. OIDC (workload identity)        useOidc / ARM_USE_OIDC=true, with a token, a token file or a token request URL
//   5. managed identity                useMsi / ARM_USE_MSI=true
//   6. the Azure CLI (az login)        otherwise
// Preflight builds the same credential with @azure/identity, never DefaultAzureCredential itself:
// its managed-identity step probes the instance metadata service (169.254.169.254). Managed
// identity is used only when asked for explicitly (5); every credential's HTTP goes through
// signInHttp.ts, which refuses the metadata and Arc identity endpoints otherwise.
import { execFile } from "node:child_process";
import * as fs from "node:fs";
import type { TokenCredential } from "@azure/core-auth";
import type { HttpClient } from "@azure/core-rest-pipeline";
import {
    AggregateAuthenticationError,
    AuthenticationError,
    AzureAuthorityHosts,
    AzureCliCredential,
    ChainedTokenCredential,
    ClientAssertionCredential,
    ClientCertificateCredential,
    ClientSecretCredential,
    EnvironmentCredential,
    ManagedIdentityCredential,
    WorkloadIdentityCredential,
} from "@azure/identity";
import type { AzureCloud } from "../../lib/config";
import { endpointOf, SignInBounds, signInHttpClient } from "./signInHttp";

/** How to sign in, decided from config and environment alone (no network, no credential built). */
export type SignInMethod =
    | { kind: "default-credential"; tenantId?: string }
    | { kind: "client-certificate"; tenantId: string; clientId: string; certificatePath: string; certificatePassword?: string }
    | { kind: "client-secret"; tenantId: string; clientId: string; clientSecret: string }
    | { kind: "oidc"; tenantId: string; clientId: string; assertion: OidcAssertion }
    | { kind: "managed-identity"; clientId?: string }
    | { kind: "azure-cli"; tenantId?: string };

export type OidcAssertion =
    | { from: "token"; token: string }
    | { from: "file"; path: string }
    | { from: "request"; url: string; requestToken: string; audience: string };

export interface SignInPlan {
    method: SignInMethod;
    /** Configured subscription; with the Azure CLI, absent means the CLI's default. */
    subscriptionId?: string;
    /** Where the subscription comes from, for messages. */
    subscriptionSource?: string;
    /** The cloud the stack configures (azure-native:environment, ARM_ENVIRONMENT), if any. */
    configuredCloud?: AzureCloud;
}

/** Sign-in is impossible as configured: one line saying why and what to do. */
export class SignInError extends Error {
    constructor(message: string, public readonly notSignedIn = false) {
        super(message);
        this.name = "SignInError";
    }
}

export const LOGIN_HINT = "run `az login`, or set ARM_CLIENT_ID, ARM_CLIENT_SECRET, ARM_TENANT_ID and ARM_SUBSCRIPTION_ID (docs/preflight.md: Sign-in)";

const CLOUD_NAMES: Record<string, AzureCloud> = {
    public: "public", azurecloud: "public",
    usgovernment: "usgovernment", azureusgovernment: "usgovernment",
    china: "china", azurechinacloud: "china",
};
const CLI_CLOUD_NAMES: Record<AzureCloud, string> = { public: "AzureCloud", usgovernment: "AzureUSGovernment", china: "AzureChinaCloud" };
const AUTHORITY_HOSTS: Record<AzureCloud, string> = {
    public: AzureAuthorityHosts.AzurePublicCloud,
    usgovernment: AzureAuthorityHosts.AzureGovernment,
    china: AzureAuthorityHosts.AzureChina,
};

/**
 * Decides the sign-in method as azure-native would. `config` is the stack's merged config
 * (`azure-native:clientId`...); `secretKeys` are keys whose values are encrypted in the stack file,
 * which preflight cannot read.
 */
export function planSignIn(config: Readonly<Record<string, string>>, secretKeys: readonly string[], env: NodeJS.ProcessEnv): SignInPlan {
    const setting = (name: string, envName: string): { value?: string; source?: string } => {
        const key = `azure-native:${name}`;
        if (secretKeys.includes(key)) {
            const fromEnv = env[envName];
            if (fromEnv) return { value: fromEnv, source: envName };
            throw new SignInError(`${key} is a stack secret preflight cannot decrypt: set ${envName} for preflight, or sign in another way (${LOGIN_HINT})`);
        }
        if (config[key]) return { value: config[key], source: key };
        if (env[envName]) return { value: env[envName], source: envName };
        return {};
    };
    const value = (name: string, envName: string) => setting(name, envName).value;
    const flag = (name: string, envName: string) => value(name, envName) === "true";

    const cloudName = value("environment", "ARM_ENVIRONMENT") ?? (env.AZURE_ENVIRONMENT || undefined);
    const configuredCloud = cloudName === undefined ? undefined : CLOUD_NAMES[cloudName.toLowerCase()];
    if (cloudName !== undefined && configuredCloud === undefined) {
        throw new SignInError(`unknown Azure cloud "${cloudName}": use public, usgovernment or china (azure-native:environment)`);
    }
    const subscription = setting("subscriptionId", "ARM_SUBSCRIPTION_ID");
    const tenantId = value("tenantId", "ARM_TENANT_ID");
    const clientId = value("clientId", "ARM_CLIENT_ID");
    const base = { subscriptionId: subscription.value, subscriptionSource: subscription.source, configuredCloud };

    // As azure-native: a method that is chosen but incomplete is an error, not a fall-through.
    const needs = (what: string, fields: Record<string, string | undefined>): Record<string, string> => {
        const missing = Object.entries(fields).filter(([, v]) => !v).map(([k]) => k);
        if (missing.length > 0) throw new SignInError(`signing in ${what} needs ${missing.join(", ")}; set ${missing.length === 1 ? "it" : "them"} or ${LOGIN_HINT}`);
        return fields as Record<string, string>;
    };
    const subscriptionField = { "a subscription (ARM_SUBSCRIPTION_ID or azure-native:subscriptionId)": subscription.value };

    if (flag("useDefaultAzureCredential", "ARM_USE_DEFAULT_AZURE_CREDENTIAL")) {
        needs("with DefaultAzureCredential", subscriptionField);
        return { ...base, method: { kind: "default-credential", tenantId } };
    }
    const certificatePath = value("clientCertificatePath", "ARM_CLIENT_CERTIFICATE_PATH");
    if (certificatePath) {
        const f = needs("as a service principal with a certificate", { ...subscriptionField, ARM_TENANT_ID: tenantId, ARM_CLIENT_ID: clientId });
        return { ...base, method: { kind: "client-certificate", tenantId: f.ARM_TENANT_ID, clientId: f.ARM_CLIENT_ID, certificatePath, certificatePassword: value("clientCertificatePassword", "ARM_CLIENT_CERTIFICATE_PASSWORD") } };
    }
    const clientSecret = value("clientSecret", "ARM_CLIENT_SECRET");
    if (clientSecret) {
        const f = needs("as a service principal with a secret", { ...subscriptionField, ARM_TENANT_ID: tenantId, ARM_CLIENT_ID: clientId });
        return { ...base, method: { kind: "client-secret", tenantId: f.ARM_TENANT_ID, clientId: f.ARM_CLIENT_ID, clientSecret } };
    }
    if (flag("useOidc", "ARM_USE_OIDC")) {
        const f = needs("with OIDC", { ...subscriptionField, ARM_TENANT_ID: tenantId, ARM_CLIENT_ID: clientId });
        const token = value("oidcToken", "ARM_OIDC_TOKEN");
        const tokenFile = value("oidcTokenFilePath", "ARM_OIDC_TOKEN_FILE_PATH");
        // azure-native reads GitHub Actions' variables; its docs name the ARM_OIDC_REQUEST_* ones. Both work here.
        const requestUrl = value("oidcRequestUrl", "ARM_OIDC_REQUEST_URL") ?? (env.ACTIONS_ID_TOKEN_REQUEST_URL || undefined);
        const requestToken = value("oidcRequestToken", "ARM_OIDC_REQUEST_TOKEN") ?? (env.ACTIONS_ID_TOKEN_REQUEST_TOKEN || undefined);
        const assertion: OidcAssertion | undefined = token ? { from: "token", token }
            : tokenFile ? { from: "file", path: tokenFile }
                : requestUrl && requestToken ? { from: "request", url: requestUrl, requestToken, audience: value("oidcAudience", "ARM_OIDC_AUDIENCE") ?? "api://AzureADTokenExchange" }
                    : undefined;
        if (!assertion) throw new SignInError(`signing in with OIDC needs ARM_OIDC_TOKEN, ARM_OIDC_TOKEN_FILE_PATH, or a token request URL and token (GitHub Actions sets them); or ${LOGIN_HINT}`);
        return { ...base, method: { kind: "oidc", tenantId: f.ARM_TENANT_ID, clientId: f.ARM_CLIENT_ID, assertion } };
    }
    if (flag("useMsi", "ARM_USE_MSI")) {
        needs("with a managed identity", subscriptionField);
        return { ...base, method: { kind: "managed-identity", clientId } };
    }
    return { ...base, method: { kind: "azure-cli", tenantId } };
}

/** What `az account show` says about the CLI's current (or the named) subscription. */
export interface AzAccount {
    id: string;
    name?: string;
    tenantId?: string;
    environmentName?: string;
    user?: { name?: string; type?: string };
}

export interface AzResult {
    exitCode: number;
    stdout: string;
    stderr: string;
    /** The `az` executable was not found. */
    notInstalled?: boolean;
}

export type AzRunner = (args: string[]) => Promise<AzResult>;

/**
 * Runs the Azure CLI found on `env`'s PATH (read-only commands only: `az account show`), for at
 * most `timeoutMs`, and stops it when `bounds.signal` aborts (the run's time is up).
 */
export function azureCli(env: NodeJS.ProcessEnv, timeoutMs = 30_000, bounds: SignInBounds = {}): AzRunner {
    return (args) => {
        const running = new Promise<AzResult>((resolve) => {
            const windows = process.platform === "win32";
            execFile(windows ? "az.cmd" : "az", args, { env, timeout: timeoutMs, signal: bounds.signal, windowsHide: true, shell: windows, encoding: "utf8" }, (error, stdout, stderr) => {
                const code = (error as NodeJS.ErrnoException | null)?.code;
                // Not on PATH: ENOENT, or on Windows cmd.exe's "is not recognized".
                const notInstalled = code === "ENOENT" || (windows && /is not recognized as an internal or external command/i.test(stderr));
                resolve({ exitCode: error ? (typeof code === "number" ? code : 1) : 0, stdout, stderr, notInstalled });
            });
        });
        return bounds.pending ? bounds.pending.track(`the Azure CLI (az ${args.slice(0, 2).join(" ")})`, running) : running;
    };
}

export interface SignIn {
    credential: TokenCredential;
    /** The method in words, e.g. "the Azure CLI (az login)". */
    method: string;
    subscriptionId: string;
    subscriptionSource: string;
    cloud: AzureCloud;
}

export interface SignInOptions extends SignInBounds {
    /** Sends the credential's requests to Entra ID (default: the SDK's client); tests pass one that trusts a loopback fake. */
    httpClient?: HttpClient;
    /** Tests only: Entra ID's host (e.g. https://127.0.0.1:PORT) instead of the cloud's. */
    authorityHost?: string;
    /** The Azure CLI credential's own limit for `az account get-access-token`. */
    timeoutMs?: number;
}

/**
 * Builds the credential for a plan; with the Azure CLI, asks it for the subscription and cloud
 * (`az account show` reads the CLI's profile: no network). Every request the credential makes goes
 * through signInHttpClient (signInHttp.ts), bounded by `options.signal`.
 */
export async function resolveSignIn(plan: SignInPlan, runAz: AzRunner, env: NodeJS.ProcessEnv, options: SignInOptions = {}): Promise<SignIn> {
    const method = plan.method;
    if (method.kind !== "azure-cli") {
        const cloud = plan.configuredCloud ?? "public";
        const subscriptionId = plan.subscriptionId;
        // planSignIn requires one for every method but the Azure CLI.
        if (!subscriptionId) throw new SignInError(`signing in with ${describeMethod(method)} needs ARM_SUBSCRIPTION_ID or azure-native:subscriptionId`);
        return { credential: buildCredential(method, cloud, env, options), method: describeMethod(method), subscriptionId, subscriptionSource: plan.subscriptionSource ?? "", cloud };
    }
    // A subscription id or name; on Windows `az` runs through cmd.exe, so nothing a shell would read.
    if (plan.subscriptionId && !/^[\w .()-]+$/.test(plan.subscriptionId)) {
        throw new SignInError(`"${plan.subscriptionId}" (${plan.subscriptionSource}) is not a subscription id or name`);
    }
    const args = ["account", "show", "--output", "json", ...(plan.subscriptionId ? ["--subscription", plan.subscriptionId] : [])];
    const result = await runAz(args);
    if (result.notInstalled) {
        throw new SignInError(`not signed in to Azure: no ARM_* credentials are set and the Azure CLI (az) is not installed; install it and ${LOGIN_HINT}`, true);
    }
    if (result.exitCode !== 0) {
        const why = firstLine(result.stderr).replace(/^ERROR:\s*/, "");
        if (/az login|no subscriptions? found|not logged in/i.test(result.stderr) || !plan.subscriptionId) {
            throw new SignInError(`not signed in to Azure (the Azure CLI says: ${why || "no account"}): ${LOGIN_HINT}`, true);
        }
        throw new SignInError(`the Azure CLI cannot use subscription ${plan.subscriptionId} (from ${plan.subscriptionSource}): ${why}; check it with \`az account list --output table\``);
    }
    let account: AzAccount;
    try {
        account = JSON.parse(result.stdout) as AzAccount;
    } catch {
        throw new SignInError(`could not read \`az account show\` output: ${firstLine(result.stdout)}`);
    }
    const cliCloud = CLOUD_NAMES[(account.environmentName ?? "AzureCloud").toLowerCase()] ?? "public";
    if (plan.configuredCloud !== undefined && plan.configuredCloud !== cliCloud) {
        throw new SignInError(`the stack deploys to the ${plan.configuredCloud} cloud but the Azure CLI is signed in to ${account.environmentName}: az cloud set --name ${CLI_CLOUD_NAMES[plan.configuredCloud]} && az login`);
    }
    return {
        credential: new AzureCliCredential({ tenantId: method.tenantId, subscription: account.id, processTimeoutInMs: options.timeoutMs }),
        method: "the Azure CLI (az login)",
        subscriptionId: account.id,
        subscriptionSource: plan.subscriptionSource ?? "az account show",
        cloud: cliCloud,
    };
}

function buildCredential(method: Exclude<SignInMethod, { kind: "azure-cli" }>, cloud: AzureCloud, env: NodeJS.ProcessEnv, signIn: SignInOptions): TokenCredential {
    const authorityHost = signIn.authorityHost ?? AUTHORITY_HOSTS[cloud];
    const httpClient = signInHttpClient({ inner: signIn.httpClient, signal: signIn.signal, pending: signIn.pending, managedIdentity: method.kind === "managed-identity" });
    // MSAL knows the three clouds' hosts; another (a test's loopback fake) would first be "validated"
    // against login.microsoftonline.com's instance discovery. Trusting it sends nothing there.
    const options = { authorityHost, httpClient, disableInstanceDiscovery: authorityHost !== AUTHORITY_HOSTS[cloud] };
    switch (method.kind) {
        case "client-secret":
            return new ClientSecretCredential(method.tenantId, method.clientId, method.clientSecret, options);
        case "client-certificate": {
            // @azure/identity reads PEM only; azure-native also reads PKCS#12 (.pfx).
            const text = readText(method.certificatePath, "ARM_CLIENT_CERTIFICATE_PATH");
            if (!text.includes("-----BEGIN")) {
                throw new SignInError(`${method.certificatePath} (ARM_CLIENT_CERTIFICATE_PATH) is not PEM; preflight and \`npm run e2e\` read PEM only: convert it with \`openssl pkcs12 -in cert.pfx -out cert.pem -nodes\`, or ${LOGIN_HINT}`);
            }
            return new ClientCertificateCredential(method.tenantId, method.clientId, { certificate: text }, options);
        }
        case "oidc": {
            const assertion = method.assertion;
            const getAssertion = assertion.from === "token" ? async () => assertion.token
                : assertion.from === "file" ? async () => readText(assertion.path, "ARM_OIDC_TOKEN_FILE_PATH").trim()
                    : () => requestOidcToken(assertion.url, assertion.requestToken, assertion.audience, signIn);
            return new ClientAssertionCredential(method.tenantId, method.clientId, getAssertion, options);
        }
        case "managed-identity":
            // Only ever reached with ARM_USE_MSI=true (or azure-native:useMsi): the user asked for it.
            return method.clientId ? new ManagedIdentityCredential({ clientId: method.clientId, httpClient }) : new ManagedIdentityCredential({ httpClient });
        case "default-credential": {
            // DefaultAzureCredential's chain without its managed-identity step (which would probe IMDS).
            const chain: TokenCredential[] = [new EnvironmentCredential(options)];
            if (env.AZURE_FEDERATED_TOKEN_FILE) chain.push(new WorkloadIdentityCredential(options));
            chain.push(new AzureCliCredential({ tenantId: method.tenantId, processTimeoutInMs: signIn.timeoutMs }));
            return new ChainedTokenCredential(...chain);
        }
    }
}

/** The OIDC token exchange GitHub Actions offers (what azure-native does with its request URL). */
async function requestOidcToken(url: string, requestToken: string, audience: string, bounds: SignInBounds): Promise<string> {
    const target = new URL(url);
    target.searchParams.set("audience", audience);
    const asking = fetch(target, { headers: { Accept: "application/json", Authorization: `Bearer ${requestToken}` }, signal: bounds.signal });
    const response = await (bounds.pending ? bounds.pending.track(endpointOf(target.href), asking) : asking);
    if (!response.ok) throw new SignInError(`the OIDC token request to ${target.host} answered ${response.status}`);
    const body = (await response.json()) as { value?: string };
    if (!body.value) throw new SignInError(`the OIDC token request to ${target.host} returned no token`);
    return body.value;
}

function readText(file: string, setting: string): string {
    try {
        return fs.readFileSync(file, "utf8");
    } catch (error) {
        throw new SignInError(`cannot read ${file} (${setting}): ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
    }
}

export function describeMethod(method: SignInMethod): string {
    switch (method.kind) {
        case "client-secret": return `service principal ${method.clientId} with a client secret`;
        case "client-certificate": return `service principal ${method.clientId} with a certificate`;
        case "oidc": return `service principal ${method.clientId} with OIDC (workload identity federation)`;
        case "managed-identity": return method.clientId ? `managed identity ${method.clientId}` : "the managed identity of this machine";
        case "default-credential": return "DefaultAzureCredential's chain (environment, workload identity, Azure CLI; not its managed-identity step)";
        case "azure-cli": return "the Azure CLI (az login)";
    }
}

/** How to sign in, for a method that failed: fix it, or use the Azure CLI. */
export function signInHint(method: SignInMethod): string {
    switch (method.kind) {
        case "azure-cli": return LOGIN_HINT;
        case "client-secret": return `check ARM_CLIENT_ID, ARM_CLIENT_SECRET and ARM_TENANT_ID (or their azure-native:* keys), or unset them and ${LOGIN_HINT}`;
        case "client-certificate": return `check ARM_CLIENT_ID, ARM_TENANT_ID and the certificate in ARM_CLIENT_CERTIFICATE_PATH (PEM), or unset them and ${LOGIN_HINT}`;
        case "oidc": return `check ARM_CLIENT_ID, ARM_TENANT_ID and the application's federated credential for this workflow, or unset ARM_USE_OIDC and ${LOGIN_HINT}`;
        case "managed-identity": return `run on an Azure machine whose managed identity may use the subscription, or unset ARM_USE_MSI and ${LOGIN_HINT}`;
        case "default-credential": return `set AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET for DefaultAzureCredential, or unset ARM_USE_DEFAULT_AZURE_CREDENTIAL and ${LOGIN_HINT}`;
    }
}

/**
 * One line for any way getting a token failed, always ending in how to sign in: what each step of
 * a chain said, Entra ID's own error code, or the credential's first line.
 */
export function describeSignInFailure(error: unknown, method: SignInMethod): string {
    const hint = signInHint(method);
    // Most say what to do already; one that does not (an OIDC token request refused, say) gets the hint.
    if (error instanceof SignInError) return /az login/.test(error.message) ? error.message : `${error.message}; ${hint}`;
    const name = (error as { name?: unknown } | undefined)?.name;
    if (error instanceof AggregateAuthenticationError || name === "AggregateAuthenticationError") {
        const steps = ((error as AggregateAuthenticationError).errors ?? []).map((step: unknown) => firstLine(step instanceof Error ? step.message : String(step)));
        return `not signed in to Azure: no step of ${describeMethod(method)} found a credential${steps.length > 0 ? ` (${steps.join("; ")})` : ""}: ${hint}`;
    }
    if (name === "CredentialUnavailableError") {
        return `not signed in to Azure (${firstLine((error as Error).message)}): ${hint}`;
    }
    // Entra ID's own refusal (AADSTS code), from the credential directly or wrapped by MSAL.
    const text = error instanceof AuthenticationError ? error.errorResponse.errorDescription ?? "" : error instanceof Error ? error.message : "";
    const refusal = /AADSTS\d+: [^.]*\./.exec(text)?.[0];
    if (error instanceof AuthenticationError || refusal) {
        const code = error instanceof AuthenticationError ? error.errorResponse.error : /^(\w+): /.exec(text)?.[1];
        return `Entra ID refused the sign-in of ${describeMethod(method)} (${[code, refusal ?? firstLine(text)].filter(Boolean).join(": ")}): ${hint}`;
    }
    return `sign-in failed (${describeMethod(method)}): ${firstLine(error instanceof Error ? error.message : String(error))}: ${hint}`;
}

export function firstLine(text: string): string {
    return (text.split(/\r?\n/).map((line) => line.trim()).find((line) => line.length > 0) ?? "").slice(0, 300);
}

/** Who the token belongs to: Entra ID access-token claims, read without verifying (display only). */
export interface Principal {
    objectId: string;
    tenantId: string;
    /** user, servicePrincipal or managedIdentity */
    type: "User" | "ServicePrincipal";
    /** UPN for users, application id for service principals. */
    name: string;
}

export function principalFromToken(token: string): Principal {
    const payload = token.split(".")[1];
    if (!payload) throw new SignInError("the access token is not a JWT; cannot tell who is signed in");
    let claims: Record<string, unknown>;
    try {
        claims = JSON.parse(Buffer.from(payload, "base64url").toString("utf8")) as Record<string, unknown>;
    } catch {
        throw new SignInError("the access token's claims cannot be read; cannot tell who is signed in");
    }
    const text = (name: string) => (typeof claims[name] === "string" ? (claims[name] as string) : undefined);
    const appOnly = text("idtyp") === "app" || (text("upn") === undefined && text("unique_name") === undefined && text("preferred_username") === undefined);
    return {
        objectId: text("oid") ?? "",
        tenantId: text("tid") ?? "",
        type: appOnly ? "ServicePrincipal" : "User",
        name: appOnly ? (text("appid") ?? text("azp") ?? "") : (text("upn") ?? text("unique_name") ?? text("preferred_username") ?? ""),
    };
}
