// A loopback Azure Resource Manager serving one Cosmos DB account's key operations
// (REST "Database Accounts - List Keys" and "List Read Only Keys"). It refuses what Resource
// Manager refuses: no bearer token the fake IMDS issued for Resource Manager, another path,
// method, operation or api-version. Keys are random (64 bytes, base64), as Cosmos DB's are, so
// a test can search any output for them. The property names below are written as Microsoft's
// REST examples show them, not taken from the program under test.
import * as crypto from "node:crypto";
import type * as http from "node:http";
import { drain, header, LoopbackFake, queryOf, ScriptedAnswer, send } from "./http";
import type { FakeImds } from "./imds";

export interface CosmosAccountKeys {
    primaryMasterKey: string;
    secondaryMasterKey: string;
    primaryReadonlyMasterKey: string;
    secondaryReadonlyMasterKey: string;
}

export interface AccountCoordinates {
    subscriptionId: string;
    resourceGroupName: string;
    accountName: string;
}

export function newAccountKeys(): CosmosAccountKeys {
    const key = () => crypto.randomBytes(64).toString("base64");
    return { primaryMasterKey: key(), secondaryMasterKey: key(), primaryReadonlyMasterKey: key(), secondaryReadonlyMasterKey: key() };
}

/** An Azure Resource Manager error body: {"error":{"code","message"}}. */
export function armError(status: number, code: string, message: string, headers?: Record<string, string>): ScriptedAnswer {
    return { status, body: { error: { code, message } }, headers };
}

export class FakeResourceManager extends LoopbackFake {
    /** Every key request that passed the protocol checks: its operation and the token it carried. */
    readonly calls: { operation: string; token: string }[] = [];

    constructor(
        private readonly imds: FakeImds,
        readonly account: AccountCoordinates,
        readonly apiVersion: string,
        readonly keys: CosmosAccountKeys,
    ) {
        super();
    }

    /** Resource Manager's base URL, with the trailing slash its token resource has. */
    get endpoint(): string {
        return `${this.serverOrigin}/`;
    }

    get accountId(): string {
        const { subscriptionId, resourceGroupName, accountName } = this.account;
        return `/subscriptions/${subscriptionId}/resourceGroups/${resourceGroupName}/providers/Microsoft.DocumentDB/databaseAccounts/${accountName}`;
    }

    reset(): void {
        super.reset();
        this.calls.length = 0;
    }

    protected async handle(request: http.IncomingMessage, response: http.ServerResponse): Promise<void> {
        await drain(request);
        const { path, query } = queryOf(request);
        const match = /^(.*)\/(readonlykeys|listKeys)$/.exec(path);
        if (!match || match[1] !== this.accountId) {
            return this.refuse(response, `Resource Manager: ${request.method} ${path}`,
                armError(404, "ResourceNotFound", `The Resource '${path}' was not found.`));
        }
        const operation = match[2];
        if (request.method !== "POST") {
            return this.refuse(response, `Resource Manager: ${request.method} on ${operation}`,
                armError(405, "MethodNotAllowed", `The requested resource does not support http method '${request.method}'.`));
        }
        if (query.getAll("api-version").length !== 1 || query.get("api-version") !== this.apiVersion) {
            return this.refuse(response, `Resource Manager: api-version ${query.getAll("api-version").join(",")}`,
                armError(400, "InvalidApiVersionParameter", `The api-version '${query.get("api-version")}' is invalid.`));
        }
        const authorization = header(request, "Authorization") ?? "";
        const bearer = /^Bearer (\S+)$/.exec(authorization);
        if (!bearer || !this.imds.isTokenFor(bearer[1], this.endpoint)) {
            return this.refuse(response, `Resource Manager: Authorization ${bearer ? "carries a token IMDS did not issue for Resource Manager" : "is not a bearer token"}`,
                armError(401, "InvalidAuthenticationToken", "The access token is invalid."));
        }
        this.calls.push({ operation, token: bearer[1] });
        const scripted = this.answers.next();
        if (scripted) return send(response, scripted);
        // The response bodies of Microsoft's examples for the two operations.
        const body = operation === "listKeys"
            ? {
                primaryMasterKey: this.keys.primaryMasterKey,
                secondaryMasterKey: this.keys.secondaryMasterKey,
                primaryReadonlyMasterKey: this.keys.primaryReadonlyMasterKey,
                secondaryReadonlyMasterKey: this.keys.secondaryReadonlyMasterKey,
            }
            : { primaryReadonlyMasterKey: this.keys.primaryReadonlyMasterKey, secondaryReadonlyMasterKey: this.keys.secondaryReadonlyMasterKey };
        send(response, { status: 200, body });
    }
}
