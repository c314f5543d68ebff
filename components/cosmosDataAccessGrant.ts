import * as pulumi from "@pulumi/pulumi";
import * as cosmosdb from "@pulumi/azure-native/cosmosdb";
import type { AccessLevel } from "../lib/config";
import { nameBasedGuid } from "../lib/guid";
import { DATA_ACCESS_ROLES, sqlRoleDefinitionId } from "../lib/roles";

export interface CosmosDataAccessGrantArgs {
    /** Required. Object id of the managed identity that may use the data plane. */
    principalId: pulumi.Input<string>;
    /** Required. Resource group of the account. */
    resourceGroupName: pulumi.Input<string>;
    /** Required. The account's name. */
    accountName: pulumi.Input<string>;
    /** Required. The account's resource id: the assignment's scope. */
    accountId: pulumi.Input<string>;
    /** Required. readonly: Built-in Data Reader; readwrite: Built-in Data Contributor. */
    accessLevel: AccessLevel;
    /** Optional. Operations on the same account that must finish first (Cosmos DB allows one at a time). */
    waitFor?: pulumi.Resource[];
}

/**
 * Lets a managed identity use a Cosmos DB account's data plane with Entra ID tokens, no keys: one
 * Cosmos DB SQL role assignment of a built-in data role, scoped to the account.
 */
export class CosmosDataAccessGrant extends pulumi.ComponentResource {
    public readonly roleAssignmentId: pulumi.Output<string>;
    public readonly roleDefinitionName: string;
    /** The SQL role assignment, for resources that must wait until the grant exists. */
    public readonly assignment: cosmosdb.SqlResourceSqlRoleAssignment;

    constructor(name: string, args: CosmosDataAccessGrantArgs, opts?: pulumi.ComponentResourceOptions) {
        super("cosmos-vm-identity:index:CosmosDataAccessGrant", name, {}, opts);
        const role = DATA_ACCESS_ROLES[args.accessLevel];

        this.assignment = new cosmosdb.SqlResourceSqlRoleAssignment(`${name}-role`, {
            resourceGroupName: args.resourceGroupName,
            accountName: args.accountName,
            // The id must be a GUID; derived from what it grants, it is stable across runs and new when the grant changes.
            roleAssignmentId: pulumi.all([args.accountId, args.principalId])
                .apply(([accountId, principalId]) => nameBasedGuid(accountId, principalId, role.id)),
            principalId: args.principalId,
            roleDefinitionId: pulumi.output(args.accountId).apply((accountId) => sqlRoleDefinitionId(accountId, role.id)),
            scope: args.accountId,
        }, {
            parent: this,
            dependsOn: args.waitFor,
            // Cosmos DB refuses a second assignment of the same role to the same principal on the same scope.
            deleteBeforeReplace: true,
        });

        this.roleDefinitionName = role.name;
        this.roleAssignmentId = this.assignment.id;
        this.registerOutputs({ roleAssignmentId: this.roleAssignmentId, roleDefinitionName: this.roleDefinitionName });
    }
}
