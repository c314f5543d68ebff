import * as pulumi from "@pulumi/pulumi";
import * as cosmosdb from "@pulumi/azure-native/cosmosdb";

export interface CosmosNoSqlAccountArgs {
    /** Required. Resource group that holds the account. */
    resourceGroupName: pulumi.Input<string>;
    /** Required. The account's single region. */
    location: pulumi.Input<string>;
    /** Required. Apply the free tier discount (set at creation only; one account per subscription). */
    freeTier: boolean;
    /** Required. Database id, e.g. Test. */
    databaseName: string;
    /** Required. Container id, e.g. Test. */
    containerName: string;
    /** Required. Container partition key path, e.g. /id. */
    partitionKeyPath: string;
    /** Required. Manual throughput of the container in RU/s (at least 400, in steps of 100). */
    throughput: number;
    /** Required. Who may connect to the data plane. */
    network: CosmosNetworkAccess;
    /** Required. Refuse keys: Entra ID tokens only (keyless mode). Changes in place; the data stays. */
    disableLocalAuth: boolean;
    /** Required. Tags for the account, the database and the container. */
    tags: Record<string, string>;
}

/** The account's firewall: every network, or only the listed subnets (service endpoints) and IPv4 ranges. */
export type CosmosNetworkAccess =
    | { allNetworks: true }
    | { allNetworks: false; subnetIds: pulumi.Input<string>[]; ipRanges: string[] };

/**
 * A Cosmos DB account for the NoSQL (SQL) API in one region, with one database and one container
 * that has its own manual throughput, as the tutorial sets them up.
 */
export class CosmosNoSqlAccount extends pulumi.ComponentResource {
    public readonly accountName: pulumi.Output<string>;
    public readonly accountId: pulumi.Output<string>;
    /** Data-plane endpoint, e.g. https://name.documents.azure.com:443/. */
    public readonly endpoint: pulumi.Output<string>;
    public readonly databaseName: pulumi.Output<string>;
    public readonly containerName: pulumi.Output<string>;
    /** The account, database and container resources: for resources that must wait until they exist, and for what Azure applied. */
    public readonly account: cosmosdb.DatabaseAccount;
    public readonly database: cosmosdb.SqlResourceSqlDatabase;
    public readonly container: cosmosdb.SqlResourceSqlContainer;

    constructor(name: string, args: CosmosNoSqlAccountArgs, opts?: pulumi.ComponentResourceOptions) {
        super("cosmos-vm-identity:index:CosmosNoSqlAccount", name, {}, opts);
        const parent = { parent: this };
        const { resourceGroupName, tags } = args;

        const account = this.account = new cosmosdb.DatabaseAccount(`${name}-cosmos`, {
            resourceGroupName,
            tags,
            location: args.location,
            kind: cosmosdb.DatabaseAccountKind.GlobalDocumentDB,
            databaseAccountOfferType: cosmosdb.DatabaseAccountOfferType.Standard,
            locations: [{ locationName: args.location, failoverPriority: 0, isZoneRedundant: false }],
            consistencyPolicy: { defaultConsistencyLevel: cosmosdb.DefaultConsistencyLevel.Session },
            minimalTlsVersion: cosmosdb.MinimalTlsVersion.Tls12,
            // Keys may still read and write data, but not change databases, containers or throughput.
            disableKeyBasedMetadataWriteAccess: true,
            enableFreeTier: args.freeTier,
            disableLocalAuth: args.disableLocalAuth,
            ...networkSettings(args.network),
        }, parent);
        if (args.network.allNetworks) {
            pulumi.log.warn("cosmosPublicAccess is true: the Cosmos DB account accepts connections from every network, "
                + "as the tutorial's does. Anyone holding a key can use it from anywhere.", account);
        }

        const database = this.database = new cosmosdb.SqlResourceSqlDatabase(`${name}-database`, {
            resourceGroupName,
            tags,
            accountName: account.name,
            databaseName: args.databaseName,
            resource: { id: args.databaseName },
        }, parent);

        this.container = new cosmosdb.SqlResourceSqlContainer(`${name}-container`, {
            resourceGroupName,
            tags,
            accountName: account.name,
            databaseName: database.name,
            containerName: args.containerName,
            resource: {
                id: args.containerName,
                partitionKey: { paths: [args.partitionKeyPath], kind: cosmosdb.PartitionKind.Hash, version: 2 },
            },
            // Throughput on the container, not shared through the database, as in the tutorial. The
            // container owns the value, at creation and after: Cosmos DB applies a changed
            // options.throughput to the container's offer since api-version 2019-08-01 ("To change the
            // throughput values, redeploy the template with updated RU/s": Microsoft's Resource Manager
            // template guide for Cosmos DB for NoSQL, whose sample container carries it; the 2019
            // refusal "Throughput update is not allowed through options" of MicrosoftDocs/azure-docs#30853
            // was fixed with that version), and a re-PUT with an unchanged value is a no-op, as Azure
            // Verified Modules' container module (options.throughput on every deployment) shows in its
            // idempotency runs. So a new `throughput` is an in-place update of this one resource, and a
            // provider upgrade that PUTs the container again sends the value it already has.
            // There is no second owner: azure-native 3.28.0 has no throughputSettings resource (the REST
            // API has GET and PUT for throughputSettings/default but no DELETE), and one next to this
            // option would be set back by any later PUT of the container.
            options: { throughput: args.throughput },
        }, parent);

        this.accountName = account.name;
        this.accountId = account.id;
        this.endpoint = account.documentEndpoint;
        this.databaseName = database.name;
        this.containerName = this.container.name;
        this.registerOutputs({
            accountName: this.accountName,
            accountId: this.accountId,
            endpoint: this.endpoint,
            databaseName: this.databaseName,
            containerName: this.containerName,
        });
    }
}

/** Public network access stays Enabled in both cases: VNet rules and IP rules filter it ("Disabled" means private endpoints only). */
function networkSettings(network: CosmosNetworkAccess): Pick<cosmosdb.DatabaseAccountArgs,
    "publicNetworkAccess" | "isVirtualNetworkFilterEnabled" | "virtualNetworkRules" | "ipRules" | "networkAclBypass"> {
    if (network.allNetworks) {
        return { publicNetworkAccess: cosmosdb.PublicNetworkAccess.Enabled, isVirtualNetworkFilterEnabled: false, virtualNetworkRules: [], ipRules: [] };
    }
    return {
        publicNetworkAccess: cosmosdb.PublicNetworkAccess.Enabled,
        isVirtualNetworkFilterEnabled: true,
        virtualNetworkRules: network.subnetIds.map((id) => ({ id, ignoreMissingVNetServiceEndpoint: false })),
        ipRules: network.ipRanges.map((ipAddressOrRange) => ({ ipAddressOrRange })),
        // No trusted-service bypass: only the listed networks.
        networkAclBypass: cosmosdb.NetworkAclBypass.None,
    };
}
