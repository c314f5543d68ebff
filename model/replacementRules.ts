// What makes azure-native v3 (3.28.0) replace a resource rather than update it in place, for the
// resource types this program declares, at the api-versions 3.28.0 uses (its "Uses Azure REST API
// version" comments). commands/impact.ts applies these rules to two evaluations of the program.
//
// Sources (pulumi/pulumi-azure-native):
// - provider/pkg/provider/diff.go, calculateDetailedDiff: every path parameter of the PUT is a
//   replace key, and so is every body property marked ForceNew; a change under a replace key
//   replaces. Inputs are compared with the previous inputs, not with Azure. `location` is compared
//   without case or spaces, `resourceGroupName` without case.
// - provider/pkg/gen/properties.go, forceNew(): a property is ForceNew when the REST spec's
//   x-ms-mutability lists "create" without "update", but only at the top level of the body; in a
//   referenced type it is not ("a non-updatable property at a subtype level ... does not mandate
//   the replacement of the whole resource"), so such a change is PUT in place and Azure may refuse
//   it (pulumi-azure-native#577). Also ForceNew: the hand-written forceNewMap of
//   provider/pkg/gen/replacement.go.
// - provider/pkg/provider/provider.go, Diff: deleteBeforeReplace unless the old inputs carry
//   __createBeforeDelete, which Check sets only when the provider generated the name. An explicit
//   name is deleted first; an auto-named resource gets a new name on replacement and is created first.
//
// x-ms-mutability, checked in Azure/azure-rest-api-specs for the properties this program sets:
// - cosmos-db 2025-10-15 (cosmos-db.json): no create-only mark on any top-level property of
//   DatabaseAccountCreateUpdateParameters (kind, location, locations, enableFreeTier,
//   disableLocalAuth...), SqlDatabase/SqlContainerCreateUpdateParameters, or ContainerPartitionKey.
// - compute 2024-11-01, devtestlabs 2018-09-15: `location` comes from common-types' TrackedResource
//   ("The geo-location where the resource lives", the text in azure-native's SDK), which is
//   x-ms-mutability [read, create]; VirtualMachineProperties (hardwareProfile, osProfile,
//   storageProfile, networkProfile, securityProfile, diagnosticsProfile) carry no mark.
// - network 2024-05-01, authorization 2022-04-01, resources 2024-03-01: no create-only mark on the
//   properties set here; forceNewMap covers the locations and SKUs.

/** How one resource type decides between update and replacement. */
export interface ReplacementRules {
    /** The REST path parameters, by their SDK names: a change replaces. */
    pathParameters: readonly string[];
    /** The path parameter that names the resource: given explicitly, a replacement deletes first. */
    nameParameter: string;
    /** Top-level body properties the REST spec marks create-only: a change replaces. */
    createOnly: readonly string[];
    /** The provider's forceNewMap entries for the type: a change replaces. */
    forceNewMap: readonly string[];
    /**
     * Properties Azure refuses to change on an existing resource although the provider sends the
     * change as an in-place PUT (nested create-only values, service rules): the update fails there.
     */
    refusedInPlace: readonly string[];
}

const rg = ["resourceGroupName"];

export const AZURE_NATIVE_RULES: Readonly<Record<string, ReplacementRules>> = {
    "azure-native:resources:ResourceGroup": {
        pathParameters: ["resourceGroupName"], nameParameter: "resourceGroupName", createOnly: [],
        forceNewMap: ["location"], refusedInPlace: [],
    },
    "azure-native:network:NetworkSecurityGroup": {
        pathParameters: [...rg, "networkSecurityGroupName"], nameParameter: "networkSecurityGroupName", createOnly: [],
        forceNewMap: [], refusedInPlace: [],
    },
    "azure-native:network:VirtualNetwork": {
        pathParameters: [...rg, "virtualNetworkName"], nameParameter: "virtualNetworkName", createOnly: [],
        forceNewMap: ["location"], refusedInPlace: [],
    },
    "azure-native:network:Subnet": {
        pathParameters: [...rg, "virtualNetworkName", "subnetName"], nameParameter: "subnetName", createOnly: [],
        forceNewMap: [], refusedInPlace: [],
    },
    "azure-native:network:PublicIPAddress": {
        pathParameters: [...rg, "publicIpAddressName"], nameParameter: "publicIpAddressName", createOnly: [],
        forceNewMap: ["location", "publicIPAddressVersion", "publicIPPrefix", "sku"], refusedInPlace: [],
    },
    "azure-native:network:NetworkInterface": {
        pathParameters: [...rg, "networkInterfaceName"], nameParameter: "networkInterfaceName", createOnly: [],
        forceNewMap: [], refusedInPlace: [],
    },
    "azure-native:compute:VirtualMachine": {
        pathParameters: [...rg, "vmName"], nameParameter: "vmName", createOnly: ["location"], forceNewMap: [],
        // Compute answers PropertyChangeNotAllowed for these on an existing VM.
        refusedInPlace: ["osProfile.computerName", "osProfile.adminUsername", "osProfile.adminPassword", "storageProfile.imageReference", "securityProfile.securityType", "securityProfile.encryptionAtHost"],
    },
    "azure-native:compute:VirtualMachineExtension": {
        pathParameters: [...rg, "vmName", "vmExtensionName"], nameParameter: "vmExtensionName", createOnly: ["location"],
        forceNewMap: [], refusedInPlace: [],
    },
    "azure-native:compute:VirtualMachineRunCommandByVirtualMachine": {
        pathParameters: [...rg, "vmName", "runCommandName"], nameParameter: "runCommandName", createOnly: ["location"],
        forceNewMap: [], refusedInPlace: [],
    },
    "azure-native:devtestlab:GlobalSchedule": {
        pathParameters: [...rg, "name"], nameParameter: "name", createOnly: ["location"], forceNewMap: [], refusedInPlace: [],
    },
    "azure-native:cosmosdb:DatabaseAccount": {
        pathParameters: [...rg, "accountName"], nameParameter: "accountName", createOnly: [], forceNewMap: [],
        // Cosmos DB: the free tier is chosen at creation ("can only be set at database account
        // creation", as the spec says of kind too), and one PUT cannot move the account's only region.
        refusedInPlace: ["enableFreeTier", "kind", "location", "locations"],
    },
    "azure-native:cosmosdb:SqlResourceSqlDatabase": {
        pathParameters: [...rg, "accountName", "databaseName"], nameParameter: "databaseName", createOnly: [], forceNewMap: [], refusedInPlace: [],
    },
    "azure-native:cosmosdb:SqlResourceSqlContainer": {
        pathParameters: [...rg, "accountName", "databaseName", "containerName"], nameParameter: "containerName", createOnly: [], forceNewMap: [],
        // A container's partition key is fixed for its life (Cosmos DB: "you can't change the partition key").
        refusedInPlace: ["resource.partitionKey"],
    },
    "azure-native:cosmosdb:SqlResourceSqlRoleAssignment": {
        pathParameters: [...rg, "accountName", "roleAssignmentId"], nameParameter: "roleAssignmentId", createOnly: [],
        forceNewMap: ["principalId", "scope"], refusedInPlace: [],
    },
    "azure-native:authorization:RoleAssignment": {
        pathParameters: ["scope", "roleAssignmentName"], nameParameter: "roleAssignmentName", createOnly: [],
        forceNewMap: ["principalId", "scope"], refusedInPlace: [],
    },
};

/**
 * Types of other providers, replaced on any input change: terraform-provider-random marks every
 * argument of random_password RequiresReplace, and @pulumi/random bridges it.
 */
export const REPLACED_ON_ANY_CHANGE: ReadonlySet<string> = new Set(["random:index/randomPassword:RandomPassword"]);

/** The types whose replacement or deletion deletes stored data: the Cosmos DB account, database and container. */
export const DATA_STORES: ReadonlySet<string> = new Set([
    "azure-native:cosmosdb:DatabaseAccount",
    "azure-native:cosmosdb:SqlResourceSqlDatabase",
    "azure-native:cosmosdb:SqlResourceSqlContainer",
]);
