// What every sign-in of preflight and `npm run e2e` sends its HTTP through: the credential's
// requests to Entra ID (and, with ARM_USE_MSI only, to the managed identity endpoint). It
// - refuses the instance metadata service and the Azure Arc identity endpoint unless a managed
//   identity was asked for: a library that probes them on its own (a DefaultAzureCredential step,
//   MSAL's region auto-discovery under AZURE_REGIONAL_AUTHORITY_NAME) gets an answer made here,
//   403, and no request leaves (MSAL then signs in without a region, as when discovery fails);
// - aborts every request when the run's time is up, so that a token endpoint that never answers
//   leaves no socket open and the process ends;
// - notes what it is waiting for, so that a stall can name the endpoint that did not answer.
import type { AccessToken, GetTokenOptions, TokenCredential } from "@azure/core-auth";
import { createDefaultHttpClient, createHttpHeaders, HttpClient, PipelineRequest } from "@azure/core-rest-pipeline";

/** What sign-in is waiting for right now, most recent last. */
export class PendingWork {
    private readonly items = new Map<number, string>();
    private next = 0;

    track<T>(what: string, work: Promise<T>): Promise<T> {
        const id = this.next++;
        this.items.set(id, what);
        return work.finally(() => this.items.delete(id));
    }

    /** The most recent wait still open (the most specific: an HTTP request inside a token request). */
    latest(): string | undefined {
        return [...this.items.values()].pop();
    }
}

/** The limits one run puts on sign-in. */
export interface SignInBounds {
    /** Aborted when the run's time is up. */
    signal?: AbortSignal;
    pending?: PendingWork;
}

/** The Azure Arc agent's identity endpoint (azcmagent's himds listens here), used when its files exist. */
export const ARC_IDENTITY_PORT = 40342;
/** Variables that point a managed identity credential at its endpoint (App Service, Arc, Cloud Shell, pod identity). */
const IDENTITY_ENDPOINT_VARIABLES = ["IDENTITY_ENDPOINT", "IMDS_ENDPOINT", "MSI_ENDPOINT", "AZURE_POD_IDENTITY_AUTHORITY_HOST"] as const;

const LOOPBACK = /^(localhost|127(\.\d{1,3}){3}|\[::1\])$/i;

/** The instance metadata service (169.254.0.0/16), the Arc agent's port, or an endpoint a managed identity variable names. */
export function isManagedIdentityEndpoint(url: URL, env: NodeJS.ProcessEnv = process.env): boolean {
    if (/^169\.254\.\d{1,3}\.\d{1,3}$/.test(url.hostname)) return true;
    if (LOOPBACK.test(url.hostname) && Number(url.port) === ARC_IDENTITY_PORT) return true;
    return IDENTITY_ENDPOINT_VARIABLES.some((name) => {
        const value = env[name];
        if (!value) return false;
        try {
            return new URL(value).host.toLowerCase() === url.host.toLowerCase();
        } catch {
            return false;
        }
    });
}

/** `origin/path` of a request, for messages (the query may carry a client's parameters). */
export function endpointOf(url: string): string {
    const parsed = new URL(url);
    return `${parsed.origin}${parsed.pathname}`;
}

/** A signal that aborts when either does; `release` drops the listener from the long-lived one. */
function joinSignals(own: PipelineRequest["abortSignal"], run: AbortSignal | undefined): { signal?: PipelineRequest["abortSignal"]; release(): void } {
    if (!run) return { signal: own, release: () => undefined };
    if (!own) return { signal: run, release: () => undefined };
    const joined = new AbortController();
    const abort = () => joined.abort();
    if (own.aborted || run.aborted) joined.abort();
    own.addEventListener("abort", abort, { once: true });
    run.addEventListener("abort", abort, { once: true });
    return { signal: joined.signal, release: () => run.removeEventListener("abort", abort) };
}

export interface SignInHttpOptions extends SignInBounds {
    /** The client that sends (default: the SDK's). Tests pass one that trusts a loopback fake. */
    inner?: HttpClient;
    /** ARM_USE_MSI: the user asked for a managed identity, so its endpoint may be asked. */
    managedIdentity: boolean;
    /** Where the managed identity variables are read (MSAL reads process.env). */
    env?: NodeJS.ProcessEnv;
}

/** Every request the guard refused in this process ("METHOD endpoint"); none was sent. Tests read it. */
export const refusedRequests: string[] = [];

export function signInHttpClient(options: SignInHttpOptions): HttpClient {
    const inner = options.inner ?? createDefaultHttpClient();
    return {
        async sendRequest(request: PipelineRequest) {
            const endpoint = endpointOf(request.url);
            if (!options.managedIdentity && isManagedIdentityEndpoint(new URL(request.url), options.env)) {
                refusedRequests.push(`${request.method} ${endpoint}`);
                const error = { error: "refused_by_preflight", error_description: `preflight asks ${endpoint} only with ARM_USE_MSI=true` };
                return { request, status: 403, headers: createHttpHeaders({ "content-type": "application/json" }), bodyAsText: JSON.stringify(error) };
            }
            const { signal, release } = joinSignals(request.abortSignal, options.signal);
            request.abortSignal = signal;
            const sending = inner.sendRequest(request);
            try {
                return await (options.pending ? options.pending.track(endpoint, sending) : sending);
            } finally {
                release();
            }
        },
    };
}

/**
 * One token per scope for the whole run: the checks' clients all ask this credential, and only the
 * first request for a scope reaches Entra ID (the others wait for it). A claims challenge is passed
 * through, uncached; a failure is not kept, so that a retry asks again.
 */
export function oneTokenPerScope(credential: TokenCredential): TokenCredential {
    const tokens = new Map<string, Promise<AccessToken | null>>();
    return {
        getToken(scopes: string | string[], options?: GetTokenOptions) {
            if (options?.claims) return credential.getToken(scopes, options);
            const key = [scopes].flat().join(" ");
            const cached = tokens.get(key);
            if (cached) return cached;
            const asked = credential.getToken(scopes, options);
            tokens.set(key, asked);
            asked.catch(() => tokens.delete(key));
            return asked;
        },
    };
}
