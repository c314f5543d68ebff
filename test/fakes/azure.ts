// The three loopback fakes wired together as one Azure for the key-fetch script: IMDS issues the
// tokens Resource Manager and Cosmos DB accept, Resource Manager issues the keys Cosmos DB accepts,
// and one virtual clock (moved by the script's recorded waits) is the fakes' "now".
import type { AccountCoordinates } from "./resourceManager";
import { FakeCosmosDataPlane } from "./cosmosDataPlane";
import { listen, LoopbackServer, send } from "./http";
import { FakeImds } from "./imds";
import { CosmosAccountKeys, FakeResourceManager, newAccountKeys } from "./resourceManager";

export const PRINCIPAL_ID = "7f0c1d2e-3b4a-4c5d-8e6f-0a1b2c3d4e5f";
/** The virtual clock's start in every scenario. */
export const SCENARIO_START_MS = Date.parse("2026-11-29T18:10:41Z");

export class FakeAzure {
    readonly keys: CosmosAccountKeys = newAccountKeys();
    readonly imds: FakeImds;
    readonly resourceManager: FakeResourceManager;
    readonly cosmos: FakeCosmosDataPlane;
    /** The fakes' now (ms since the epoch). */
    clockMs = SCENARIO_START_MS;
    private control?: LoopbackServer;

    constructor(account: AccountCoordinates, armApiVersion: string, databaseName: string, containerName: string) {
        this.imds = new FakeImds(PRINCIPAL_ID, () => [this.resourceManager.endpoint, this.cosmos.origin]);
        this.resourceManager = new FakeResourceManager(this.imds, account, armApiVersion, this.keys);
        this.cosmos = new FakeCosmosDataPlane(this.imds, () => ({ ...this.keys }), databaseName, containerName, () => this.clockMs);
    }

    async start(): Promise<this> {
        await Promise.all([this.imds.start(), this.resourceManager.start(), this.cosmos.start()]);
        this.control = await listen((request, response) => {
            const url = new URL(request.url ?? "/", "http://control");
            if (request.method === "POST" && url.pathname === "/advance") {
                this.clockMs += Number(url.searchParams.get("seconds")) * 1000;
                return send(response, { status: 204 });
            }
            send(response, { status: 404 });
        });
        return this;
    }

    /** Where the test driver reports the script's waits. */
    get controlUrl(): string {
        return this.control!.origin;
    }

    /** Every key the fakes issued: none may appear in output unless asked for. */
    get issuedKeys(): string[] {
        return Object.values(this.keys);
    }

    reset(): void {
        this.imds.reset();
        this.resourceManager.reset();
        this.cosmos.reset();
        this.clockMs = SCENARIO_START_MS;
    }

    violations(): string[] {
        return [...this.imds.violations, ...this.resourceManager.violations, ...this.cosmos.violations];
    }

    async close(): Promise<void> {
        await Promise.all([this.imds.close(), this.resourceManager.close(), this.cosmos.close(), this.control?.close()]);
    }
}
