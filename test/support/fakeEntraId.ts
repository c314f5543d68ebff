// A fake Microsoft Entra ID token endpoint on 127.0.0.1 (HTTPS, certificate made at start-up) for
// preflight's sign-in tests: the OpenID configuration MSAL reads for an authority it has no built-in
// metadata for, and the v2.0 token endpoint, which answers a client-credentials request with the
// shape of Microsoft's token response (access_token, token_type, expires_in, ext_expires_in), refuses
// a secret as Entra ID does (400 invalid_client, AADSTS7000215), or accepts the request and never
// answers. Every request is recorded, so a test can count token requests.
import * as https from "node:https";
import { createSecureContext } from "node:tls";
import type { AddressInfo } from "node:net";
import { FAKE_TOKEN, TENANT_ID } from "./fakeResourceManager";
import { selfSignedCertificate, TestCertificate } from "./selfSignedCertificate";

export type TokenEndpointMode = "answer" | "hang" | "refuse";

export interface EntraRequest {
    method: string;
    path: string;
    /** The form of a token request (client_id, grant_type, scope, ...). */
    form: URLSearchParams;
}

export interface FakeEntraId {
    /** https://127.0.0.1:PORT: the authority host to give the credential. */
    origin: string;
    /** A TLS agent that trusts the fake's certificate. */
    agent: https.Agent;
    cert: string;
    mode: TokenEndpointMode;
    requests: EntraRequest[];
    /** Token requests (POST .../oauth2/v2.0/token) per scope. */
    tokenRequests(): Record<string, number>;
    /** Connections still open (a client that gave up must have closed its own). */
    openConnections(): Promise<number>;
    close(): Promise<void>;
}

export async function startFakeEntraId(mode: TokenEndpointMode = "answer", tls: TestCertificate = selfSignedCertificate()): Promise<FakeEntraId> {
    const requests: EntraRequest[] = [];
    const server = https.createServer({ key: tls.key, cert: tls.cert }, (request, response) => {
        const chunks: Buffer[] = [];
        request.on("data", (chunk: Buffer) => chunks.push(chunk));
        request.on("end", () => {
            const url = new URL(request.url ?? "/", "https://127.0.0.1");
            const form = new URLSearchParams(Buffer.concat(chunks).toString("utf8"));
            requests.push({ method: request.method ?? "GET", path: url.pathname, form });
            // The host the client asked for (127.0.0.1:PORT, or a name a test maps to this address).
            const origin = `https://${request.headers.host}`;
            const json = (status: number, body: object) => {
                response.writeHead(status, { "content-type": "application/json; charset=utf-8" });
                response.end(JSON.stringify(body));
            };
            const openid = /^\/([^/]+)\/v2\.0\/\.well-known\/openid-configuration$/.exec(url.pathname);
            if (request.method === "GET" && openid) {
                const tenant = openid[1];
                return json(200, {
                    token_endpoint: `${origin}/${tenant}/oauth2/v2.0/token`,
                    token_endpoint_auth_methods_supported: ["client_secret_post", "private_key_jwt", "client_secret_basic"],
                    jwks_uri: `${origin}/${tenant}/discovery/v2.0/keys`,
                    response_modes_supported: ["query", "fragment", "form_post"],
                    subject_types_supported: ["pairwise"],
                    id_token_signing_alg_values_supported: ["RS256"],
                    response_types_supported: ["code", "id_token", "code id_token", "id_token token"],
                    scopes_supported: ["openid", "profile", "email", "offline_access"],
                    issuer: `${origin}/${tenant}/v2.0`,
                    request_uri_parameter_supported: false,
                    authorization_endpoint: `${origin}/${tenant}/oauth2/v2.0/authorize`,
                    device_authorization_endpoint: `${origin}/${tenant}/oauth2/v2.0/devicecode`,
                    end_session_endpoint: `${origin}/${tenant}/oauth2/v2.0/logout`,
                    tenant_region_scope: "EU",
                });
            }
            if (request.method === "POST" && /^\/[^/]+\/oauth2\/v2\.0\/token$/.test(url.pathname)) {
                if (fake.mode === "hang") return; // accepted, read, never answered
                if (fake.mode === "refuse") {
                    return json(401, {
                        error: "invalid_client",
                        error_description: `AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '${form.get("client_id")}'. Trace ID: 0 Correlation ID: 0 Timestamp: 2026-11-30 08:00:00Z`,
                        error_codes: [7000215], timestamp: "2026-11-30 08:00:00Z", trace_id: "0", correlation_id: "0",
                    });
                }
                return json(200, { token_type: "Bearer", expires_in: 3599, ext_expires_in: 3599, access_token: FAKE_TOKEN });
            }
            json(404, { error: "not_found", error_description: `no route for ${request.method} ${url.pathname}` });
        });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    // One TLS context trusting the fake's certificate for every connection (an agent given `ca` builds one per connection).
    const agent = new https.Agent({ secureContext: createSecureContext({ ca: tls.cert }), keepAlive: false });
    const fake: FakeEntraId = {
        origin: `https://127.0.0.1:${port}`,
        agent,
        cert: tls.cert,
        mode,
        requests,
        tokenRequests: () => {
            const counts: Record<string, number> = {};
            for (const r of requests.filter((q) => q.method === "POST" && q.path.endsWith("/oauth2/v2.0/token"))) {
                const scope = r.form.get("scope") ?? "";
                counts[scope] = (counts[scope] ?? 0) + 1;
            }
            return counts;
        },
        openConnections: () => new Promise<number>((resolve, reject) => server.getConnections((error, count) => (error ? reject(error) : resolve(count)))),
        close: () => new Promise<void>((resolve) => {
            agent.destroy();
            server.closeAllConnections();
            server.close(() => resolve());
        }),
    };
    return fake;
}

export { TENANT_ID };
