import * as pulumi from "@pulumi/pulumi";
import * as authorization from "@pulumi/azure-native/authorization";
import type { AccessLevel } from "../lib/config";
import { KEY_ACCESS_ROLES, roleDefinitionId } from "../lib/roles";

export interface CosmosKeyAccessGrantArgs {
    /** Required. Object id of the managed identity that may read the keys. */
    principalId: pulumi.Input<string>;
    /** Required. Resource id of the Cosmos DB account: the assignment's scope, and nothing wider. */
    accountId: pulumi.Input<string>;
    /** Required. Subscription that holds the built-in role definitions. */
    subscriptionId: pulumi.Input<string>;
    /** Required. readonly: read-only keys; readwrite: all keys. */
    accessLevel: AccessLevel;
}

/**
 * Lets a managed identity read a Cosmos DB account's keys through Resource Manager: one Azure RBAC
 * role assignment, scoped to the account.
 */
export class CosmosKeyAccessGrant extends pulumi.ComponentResource {
    public readonly roleAssignmentId: pulumi.Output<string>;
    public readonly roleDefinitionName: string;
    /** The role assignment, for resources that must wait until the grant exists. */
    public readonly assignment: authorization.RoleAssignment;

    constructor(name: string, args: CosmosKeyAccessGrantArgs, opts?: pulumi.ComponentResourceOptions) {
        super("cosmos-vm-identity:index:CosmosKeyAccessGrant", name, {}, opts);
        const role = KEY_ACCESS_ROLES[args.accessLevel];

        this.assignment = new authorization.RoleAssignment(`${name}-role`, {
            principalId: args.principalId,
            // A managed identity is a service principal. Saying so also lets Azure accept an identity
            // that was created seconds ago and has not replicated yet (no PrincipalNotFound).
            principalType: authorization.PrincipalType.ServicePrincipal,
            roleDefinitionId: pulumi.output(args.subscriptionId).apply((id) => roleDefinitionId(id, role.id)),
            scope: args.accountId,
            description: `cosmos-vm-identity: the VM's identity may read this account's ${args.accessLevel === "readonly" ? "read-only " : ""}keys`,
        }, {
            parent: this,
            // Azure refuses a second assignment of the same role to the same principal on the same
            // scope (409 RoleAssignmentExists), so a replacement must delete the old one first.
            deleteBeforeReplace: true,
            // An assignment's role cannot change in place: a new access level is a new assignment.
            replaceOnChanges: ["roleDefinitionId"],
        });

        this.roleDefinitionName = role.name;
        this.roleAssignmentId = this.assignment.id;
        this.registerOutputs({ roleAssignmentId: this.roleAssignmentId, roleDefinitionName: this.roleDefinitionName });
    }
}
