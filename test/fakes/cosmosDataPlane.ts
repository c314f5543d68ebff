// A loopback Cosmos DB data plane serving one container's definition (REST "Get a Collection").
// It checks requests as Cosmos DB does: the master-key signature must be the one @azure/cosmos's
// own signing computes for that verb, resource type, resource link and x-ms-date, with a key the
// fake Resource Manager issued; x-ms-date within 15 minutes of the fake's clock; x-ms-version
// present. With local auth disabled (rbac mode) it refuses keys and accepts only a type=aad token
// the fake IMDS issued for the account's origin. Errors have Cosmos DB's {"code","message"} shape.
import type * as http from "node:http";
import { setAuthorizationTokenHeaderUsingMasterKey } from "@azure/cosmos";
import { drain, header, LoopbackFake, ScriptedAnswer, send } from "./http";
import type { FakeImds } from "./imds";

export function cosmosError(status: number, code: string, message: string, headers?: Record<string, string>): ScriptedAnswer {
    return { status, body: { code, message }, headers };
}

/** Bodies as Cosmos DB sends them for its two kinds of 403. */
export function firewallRefusal(): ScriptedAnswer {
    return cosmosError(403, "Forbidden", "Request originated from IP 203.0.113.10 through public internet. This is blocked by your Cosmos DB account firewall settings. More info: https://aka.ms/cosmosdb-tsg-forbidden");
}
export function rbacRefusal(principalId: string, resourceLink: string): ScriptedAnswer {
    return cosmosError(403, "Forbidden", `Request blocked by Auth fake-account : Request is blocked because principal [${principalId}] does not have required RBAC permissions to perform action [Microsoft.DocumentDB/databaseAccounts/readMetadata] on resource [${resourceLink}]. Learn more: https://aka.ms/cosmos-native-rbac.`);
}

const FIFTEEN_MINUTES_MS = 15 * 60 * 1000;

/** @azure/cosmos's master-key Authorization header for a request at a given x-ms-date. */
async function sdkSignature(verb: string, resourceType: string, resourceLink: string, key: string, date: Date): Promise<{ authorization: string; date: string }> {
    // The SDK reads the clock itself (new Date(), synchronously, before its first await):
    // make that clock the request's x-ms-date for the duration of the synchronous part.
    const RealDate = Date;
    class RequestDate extends RealDate {
        constructor(...args: unknown[]) {
            if (args.length === 0) super(date.getTime());
            else super(args[0] as string | number | Date);
        }
    }
    const headers: Record<string, string> = {};
    globalThis.Date = RequestDate as DateConstructor;
    let signing: Promise<void>;
    try {
        // The SDK's enums are string literal types; these are their values.
        signing = setAuthorizationTokenHeaderUsingMasterKey(
            verb as Parameters<typeof setAuthorizationTokenHeaderUsingMasterKey>[0], resourceLink,
            resourceType as Parameters<typeof setAuthorizationTokenHeaderUsingMasterKey>[2], headers, key);
    } finally {
        globalThis.Date = RealDate;
    }
    await signing;
    return { authorization: headers.authorization, date: headers["x-ms-date"] };
}

export interface CosmosRequestRecord {
    resourceLink: string;
    /** "master" with the key's property name, or "aad". */
    credential: string;
    date: string;
}

export class FakeCosmosDataPlane extends LoopbackFake {
    readonly requests: CosmosRequestRecord[] = [];
    /** Local (key) authentication disabled, as the stack sets it in rbac mode. */
    localAuthDisabled = false;
    /** The one database and container that exist. */
    databaseName: string;
    containerName: string;

    constructor(
        private readonly imds: FakeImds,
        /** The keys Resource Manager issued, by property name: any of them signs a read. */
        private readonly keys: () => Record<string, string>,
        private readonly defaultDatabaseName: string,
        private readonly defaultContainerName: string,
        /** The fake's clock (ms since the epoch): the scenario's virtual time. */
        private readonly now: () => number,
    ) {
        super();
        this.databaseName = defaultDatabaseName;
        this.containerName = defaultContainerName;
    }

    /** The account's data-plane endpoint, as the stack's output has it (trailing slash). */
    get endpoint(): string {
        return `${this.serverOrigin}/`;
    }

    /** The audience of Entra ID tokens for this account: its origin. */
    get origin(): string {
        return this.serverOrigin;
    }

    reset(): void {
        super.reset();
        this.requests.length = 0;
        this.localAuthDisabled = false;
        this.databaseName = this.defaultDatabaseName;
        this.containerName = this.defaultContainerName;
    }

    protected async handle(request: http.IncomingMessage, response: http.ServerResponse): Promise<void> {
        await drain(request);
        const path = new URL(request.url ?? "/", "http://fake").pathname;
        const segments = path.split("/").slice(1).map(decodeURIComponent);
        if (request.method !== "GET" || segments.length !== 4 || segments[0] !== "dbs" || segments[2] !== "colls") {
            return this.refuse(response, `Cosmos DB: ${request.method} ${path}`, cosmosError(400, "BadRequest", `unexpected request ${request.method} ${path}`));
        }
        // Names-based resource link: the unencoded path without its leading slash.
        const resourceLink = segments.join("/");
        const version = header(request, "x-ms-version");
        if (!version) return this.refuse(response, "Cosmos DB: no x-ms-version", cosmosError(400, "BadRequest", "The 'x-ms-version' header is missing."));
        const dateText = header(request, "x-ms-date") ?? "";
        const date = new Date(dateText);
        if (!dateText || Number.isNaN(date.getTime())) {
            return this.refuse(response, `Cosmos DB: x-ms-date ${JSON.stringify(dateText)}`, cosmosError(401, "Unauthorized", "The input date header is invalid format. Please pass in RFC 1123 style date format."));
        }
        const authorization = decodeURIComponent(header(request, "Authorization") ?? "");
        const type = /^type=(\w+)&ver=1\.0&sig=(.+)$/.exec(authorization);
        if (!type) return this.refuse(response, `Cosmos DB: Authorization ${JSON.stringify(authorization.slice(0, 40))}`, cosmosError(401, "Unauthorized", "The authorization header is malformed."));
        let credential: string;
        if (type[1] === "master") {
            if (this.localAuthDisabled) {
                return this.refuse(response, undefined, cosmosError(401, "Unauthorized", "Local Authorization is disabled. Use an AAD token to authorize all requests."));
            }
            let signedWith: string | undefined;
            for (const [name, key] of Object.entries(this.keys())) {
                const expected = await sdkSignature("GET", "colls", resourceLink, key, date);
                // The SDK formats the date itself: the header must be exactly that format, and the signature over it.
                if (expected.date === dateText && expected.authorization === header(request, "Authorization")) signedWith = name;
            }
            if (!signedWith) {
                return this.refuse(response, "Cosmos DB: master-key signature does not match @azure/cosmos's for any issued key",
                    cosmosError(401, "Unauthorized", `The input authorization token can't serve the request. The wrong key is being used or the expected payload is not built as per the protocol. For more info: https://aka.ms/cosmosdb-tsg-mac-signature. Server used the following payload to sign: 'get\ncolls\n${resourceLink}\n${dateText.toLowerCase()}\n\n'`));
            }
            credential = `master ${signedWith}`;
        } else if (type[1] === "aad") {
            if (!this.imds.isTokenFor(type[2], this.origin)) {
                return this.refuse(response, "Cosmos DB: an Entra ID token IMDS did not issue for this account's origin",
                    cosmosError(401, "Unauthorized", `Request blocked by Auth fake-account : The token's audience does not match the account ${this.origin}.`));
            }
            credential = "aad";
        } else {
            return this.refuse(response, `Cosmos DB: authorization type ${type[1]}`, cosmosError(401, "Unauthorized", "Unsupported authorization type."));
        }
        // Checked after the signature, as Cosmos DB does: a skewed clock is the signer's mistake, not a protocol violation.
        if (Math.abs(date.getTime() - this.now()) > FIFTEEN_MINUTES_MS) {
            return this.refuse(response, undefined, cosmosError(401, "Unauthorized", `The authorization token is not valid at the current time. Please create another token and retry (token start time: ${dateText}, token expiry time: ${new Date(date.getTime() + FIFTEEN_MINUTES_MS).toUTCString()}, current server time: ${new Date(this.now()).toUTCString()}).`));
        }
        this.requests.push({ resourceLink, credential, date: dateText });
        const scripted = this.answers.next();
        if (scripted) return send(response, scripted);
        if (segments[1] !== this.databaseName || segments[3] !== this.containerName) {
            return this.refuse(response, undefined, cosmosError(404, "NotFound", `Entity with the specified id does not exist in the system. ResourceType: Collection, ResourceId: ${resourceLink}`));
        }
        // The shape of Microsoft's "Get a Collection" example.
        send(response, {
            status: 200,
            body: {
                id: this.containerName,
                indexingPolicy: { indexingMode: "consistent", automatic: true, includedPaths: [{ path: "/*" }], excludedPaths: [{ path: "/\"_etag\"/?" }] },
                partitionKey: { paths: ["/id"], kind: "Hash", version: 2 },
                conflictResolutionPolicy: { mode: "LastWriterWins", conflictResolutionPath: "/_ts", conflictResolutionProcedure: "" },
                geospatialConfig: { type: "Geography" },
                _rid: "PaYSAPH8XQA=", _ts: 1701279041, _self: "dbs/PaYSAA==/colls/PaYSAPH8XQA=/", _etag: "\"00000000-0000-0000-0000-000000000000\"",
                _docs: "docs/", _sprocs: "sprocs/", _triggers: "triggers/", _udfs: "udfs/", _conflicts: "conflicts/",
            },
            headers: { "x-ms-request-charge": "1", "x-ms-session-token": "0:-1#1" },
        });
    }
}
