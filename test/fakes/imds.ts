// A loopback Azure Instance Metadata Service, managed identity token endpoint only. It refuses
// what IMDS refuses (no `Metadata: true`, another api-version, an unknown resource) and issues
// JWT-shaped tokens whose `aud` is the resource and whose `oid` is the identity's principal id.
// Protocol per Microsoft Entra's "How to use managed identities on a VM to acquire a token".
import * as crypto from "node:crypto";
import type * as http from "node:http";
import { header, LoopbackFake, queryOf, send } from "./http";

export interface IssuedToken {
    token: string;
    /** The resource it was issued for: its `aud` claim. */
    resource: string;
}

function base64url(value: string | Buffer): string {
    return Buffer.from(value).toString("base64url");
}

export class FakeImds extends LoopbackFake {
    readonly issued: IssuedToken[] = [];
    /** Resources of every token request, in order, as the client sent them. */
    readonly requestedResources: string[] = [];

    /** @param resources the resources this VM's identity may get tokens for (Resource Manager, the Cosmos account). */
    constructor(readonly principalId: string, private readonly resources: () => string[]) {
        super();
    }

    get origin(): string {
        return this.serverOrigin;
    }

    reset(): void {
        super.reset();
        this.issued.length = 0;
        this.requestedResources.length = 0;
    }

    /** Whether the fake issued this token, for that resource. */
    isTokenFor(token: string, resource: string): boolean {
        return this.issued.some((issued) => issued.token === token && issued.resource === resource);
    }

    private refuseToken(response: http.ServerResponse, violation: string, error: string, description: string): void {
        this.refuse(response, violation, { status: 400, body: { error, error_description: description } });
    }

    protected handle(request: http.IncomingMessage, response: http.ServerResponse): void {
        const { path, query } = queryOf(request);
        if (request.method !== "GET" || path !== "/metadata/identity/oauth2/token") {
            return this.refuse(response, `IMDS: ${request.method} ${path}`, { status: 404, body: { error: "not_found", error_description: `no such endpoint: ${path}` } });
        }
        const resource = query.get("resource") ?? "";
        this.requestedResources.push(resource);
        if (header(request, "Metadata") !== "true") {
            return this.refuseToken(response, `IMDS: Metadata header is ${JSON.stringify(header(request, "Metadata"))}`, "invalid_request", "Required metadata header not specified");
        }
        if (query.getAll("api-version").length !== 1 || query.get("api-version") !== "2018-02-01") {
            return this.refuseToken(response, `IMDS: api-version ${query.getAll("api-version").join(",")}`, "invalid_request", "Invalid or missing api-version");
        }
        const scripted = this.answers.next();
        if (scripted) return send(response, scripted);
        if (!this.resources().includes(resource)) {
            return this.refuseToken(response, `IMDS: token requested for unknown resource ${JSON.stringify(resource)}`, "invalid_resource",
                `AADSTS500011: The resource principal named ${resource} was not found in the tenant.`);
        }
        const now = Math.floor(Date.now() / 1000);
        const claims = { aud: resource, iss: "https://sts.windows.net/00000000-0000-0000-0000-00000000000a/", iat: now, nbf: now, exp: now + 86399, oid: this.principalId, sub: this.principalId, xms_mirid: "/subscriptions/x/resourcegroups/y/providers/Microsoft.Compute/virtualMachines/z" };
        const token = [base64url(JSON.stringify({ typ: "JWT", alg: "RS256", kid: "fake" })), base64url(JSON.stringify(claims)), base64url(crypto.randomBytes(64))].join(".");
        this.issued.push({ token, resource });
        // The shape IMDS answers with (all values strings).
        send(response, {
            status: 200,
            body: {
                access_token: token, client_id: "11111111-2222-3333-4444-555555555555", expires_in: "86399", expires_on: String(now + 86399),
                ext_expires_in: "86399", not_before: String(now), resource, token_type: "Bearer",
            },
        });
    }
}
