// Resource Manager clients for preflight: the official Azure SDK clients, all on one HTTPS endpoint
// (the stack's cloud), with the SDK's retry policies (429 and 503 honour Retry-After), a guard that
// lets nothing but reads through (plus Azure Policy's "what would you deny" question, which changes
// nothing, and provider registration, only under --fix), and a note of any throttling, so that a
// timeout can say why. Tests point `endpoint` at a loopback HTTPS fake.
import type { Agent } from "node:https";
import { AuthorizationManagementClient } from "@azure/arm-authorization";
import { ComputeManagementClient } from "@azure/arm-compute";
import { CosmosDBManagementClient } from "@azure/arm-cosmosdb";
import { FeatureClient } from "@azure/arm-features";
import { ResourceManagementClient } from "@azure/arm-resources";
import { SubscriptionClient } from "@azure/arm-resources-subscriptions";
import type { TokenCredential } from "@azure/core-auth";
import { createHttpHeaders, createPipelineRequest, isRestError, PipelinePolicy, RestError } from "@azure/core-rest-pipeline";
import { firstLine } from "../azure/signIn";

export interface ArmConnection {
    /** Resource Manager, e.g. https://management.azure.com (https only). */
    endpoint: string;
    /** Token scope, e.g. https://management.azure.com/.default. */
    scope: string;
    credential: TokenCredential;
    subscriptionId: string;
    /** TLS agent; tests pass one that trusts their loopback certificate. */
    agent?: Agent;
    retry: { maxRetries: number; retryDelayInMs: number; maxRetryDelayInMs: number };
    /** --fix: the one write preflight makes, POST .../providers/{namespace}/register. */
    allowProviderRegistration: boolean;
}

/** Refuses a plain-http endpoint: tokens go over TLS only, in tests too. */
export function checkEndpoint(endpoint: string): string {
    const url = new URL(endpoint);
    if (url.protocol !== "https:") throw new Error(`Resource Manager endpoint must be https (got ${endpoint})`);
    return url.origin;
}

const REGISTER_PATH = /^\/subscriptions\/[^/]+\/providers\/[^/]+\/register$/i;
/** Policy Insights "Policy Restrictions" at subscription or resource-group scope: evaluates a body, changes nothing. */
const POLICY_RESTRICTIONS_PATH = /^\/subscriptions\/[^/]+(\/resourceGroups\/[^/]+)?\/providers\/Microsoft\.PolicyInsights\/checkPolicyRestrictions$/i;

/** Lets reads and the policy question through; provider registration only when --fix allowed it; anything else is a bug here. */
export function readOnlyGuard(allowRegistration: boolean): PipelinePolicy {
    return {
        name: "preflightReadOnlyGuard",
        async sendRequest(request, next) {
            const method = request.method.toUpperCase();
            const path = new URL(request.url).pathname;
            const registration = method === "POST" && REGISTER_PATH.test(path);
            const policyQuestion = method === "POST" && POLICY_RESTRICTIONS_PATH.test(path);
            if (method !== "GET" && method !== "HEAD" && !policyQuestion && !(registration && allowRegistration)) {
                throw new Error(`preflight is read-only: refused ${method} ${path}${registration ? " (provider registration needs --fix)" : ""}`);
            }
            return next(request);
        },
    };
}

/** The clients one check uses, built lazily (a check that needs one client builds one). */
export class ArmClients {
    private readonly cache = new Map<string, unknown>();
    /** Longest Retry-After (seconds) Resource Manager answered this check's calls with, if any. */
    throttledFor: number | undefined;

    constructor(readonly connection: ArmConnection) {
        checkEndpoint(connection.endpoint);
    }

    private options() {
        const { endpoint, scope, agent, retry, allowProviderRegistration } = this.connection;
        const origin = checkEndpoint(endpoint);
        const observeThrottling: PipelinePolicy = {
            name: "preflightThrottleObserver",
            sendRequest: async (request, next) => {
                const response = await next(request);
                if (response.status === 429) {
                    const seconds = Number(response.headers.get("retry-after") ?? "0");
                    this.throttledFor = Math.max(this.throttledFor ?? 0, Number.isFinite(seconds) ? seconds : 0);
                }
                return response;
            },
        };
        return {
            endpoint: origin,
            $host: origin,
            agent,
            retryOptions: retry,
            credentialScopes: [scope],
            credentials: { scopes: [scope] },
            additionalPolicies: [
                { policy: readOnlyGuard(allowProviderRegistration), position: "perCall" as const },
                { policy: observeThrottling, position: "perRetry" as const },
            ],
        };
    }

    private client<T>(name: string, build: () => T): T {
        if (!this.cache.has(name)) this.cache.set(name, build());
        return this.cache.get(name) as T;
    }

    get resources(): ResourceManagementClient {
        return this.client("resources", () => new ResourceManagementClient(this.connection.credential, this.connection.subscriptionId, this.options()));
    }
    get subscriptions(): SubscriptionClient {
        return this.client("subscriptions", () => new SubscriptionClient(this.connection.credential, this.options()));
    }
    get compute(): ComputeManagementClient {
        return this.client("compute", () => new ComputeManagementClient(this.connection.credential, this.connection.subscriptionId, this.options()));
    }
    get cosmos(): CosmosDBManagementClient {
        return this.client("cosmos", () => new CosmosDBManagementClient(this.connection.credential, this.connection.subscriptionId, this.options()));
    }
    get features(): FeatureClient {
        return this.client("features", () => new FeatureClient(this.connection.credential, this.connection.subscriptionId, this.options()));
    }
    get authorization(): AuthorizationManagementClient {
        return this.client("authorization", () => new AuthorizationManagementClient(this.connection.credential, this.connection.subscriptionId, this.options()));
    }

    /**
     * GET a Resource Manager list that no SDK client method covers (the caller's permissions at
     * subscription scope: the SDK has them per resource group and per resource only), following nextLink.
     */
    async listRaw<T>(path: string, apiVersion: string, abortSignal: AbortSignal): Promise<T[]> {
        const items: T[] = [];
        let url: string | undefined = this.url(path, apiVersion);
        while (url) {
            const page: { value?: T[]; nextLink?: string | null } = await this.send("GET", url, abortSignal);
            items.push(...(page.value ?? []));
            url = page.nextLink ?? undefined;
        }
        return items;
    }

    /** GET one resource by its id (a policy assignment: @azure/arm-policy is not a dependency for one read). */
    getRaw<T>(id: string, apiVersion: string, abortSignal: AbortSignal): Promise<T> {
        return this.send("GET", this.url(id, apiVersion), abortSignal);
    }

    /** POST a question that changes nothing (Policy Restrictions; the guard refuses any other POST). */
    postRaw<T>(path: string, apiVersion: string, body: unknown, abortSignal: AbortSignal): Promise<T> {
        return this.send("POST", this.url(path, apiVersion), abortSignal, body);
    }

    private url(path: string, apiVersion: string): string {
        return `${checkEndpoint(this.connection.endpoint)}${path}?api-version=${apiVersion}`;
    }

    /** Through the authorization client's pipeline: the same token, retries, guard and throttling note as the SDK calls. */
    private async send<T>(method: "GET" | "POST", url: string, abortSignal: AbortSignal, body?: unknown): Promise<T> {
        const request = createPipelineRequest({
            url, method, abortSignal, agent: this.connection.agent,
            ...(body === undefined ? {} : { body: JSON.stringify(body), headers: createHttpHeaders({ "content-type": "application/json" }) }),
        });
        const response = await this.authorization.sendRequest(request);
        const parsed = parseJson(response.bodyAsText ?? undefined);
        if (response.status !== 200) {
            const error = (parsed as { error?: { code?: string; message?: string } } | undefined)?.error;
            throw new RestError(error?.message ?? `Resource Manager answered ${response.status}`, { code: error?.code, statusCode: response.status, request, response });
        }
        return parsed as T;
    }
}

function parseJson(text: string | undefined): unknown {
    if (!text) return undefined;
    try {
        return JSON.parse(text);
    } catch {
        return undefined;
    }
}

/** Errors that mean Resource Manager itself cannot be reached (DNS, TCP, TLS), not an answer from it. */
const NETWORK_CODES = new Set([
    "ECONNREFUSED", "ENOTFOUND", "EAI_AGAIN", "ECONNRESET", "ETIMEDOUT", "EHOSTUNREACH", "ENETUNREACH", "EPIPE",
    "CERT_HAS_EXPIRED", "DEPTH_ZERO_SELF_SIGNED_CERT", "SELF_SIGNED_CERT_IN_CHAIN", "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
    "UNABLE_TO_GET_ISSUER_CERT_LOCALLY", "ERR_TLS_CERT_ALTNAME_INVALID",
]);

export function isUnreachable(error: unknown): boolean {
    const code = (error as { code?: unknown } | undefined)?.code;
    return typeof code === "string" && NETWORK_CODES.has(code);
}

export function isAbort(error: unknown): boolean {
    return (error as { name?: unknown } | undefined)?.name === "AbortError";
}

/** HTTP status of a Resource Manager error, if it is one. */
export function statusOf(error: unknown): number | undefined {
    return isRestError(error) ? error.statusCode : undefined;
}

/** Resource Manager's error code (AuthorizationFailed, SubscriptionNotFound...), if any. */
export function armCode(error: unknown): string | undefined {
    if (!isRestError(error)) return undefined;
    const details = error.details as { error?: { code?: string } } | undefined;
    return details?.error?.code ?? error.code;
}

/** One line describing an error from a Resource Manager call. */
export function describeError(error: unknown): string {
    if (isRestError(error)) {
        const code = armCode(error);
        const status = error.statusCode;
        const message = firstLine(error.message);
        return [status ? `${status}` : undefined, code && code !== String(status) ? code : undefined].filter(Boolean).join(" ") + (message ? `: ${message}` : "");
    }
    return firstLine(error instanceof Error ? error.message : String(error));
}
