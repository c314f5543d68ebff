// What a stack's `pulumi up` needs from the subscription, derived from its validated configuration:
// the resource providers it creates resources in, and the Azure RBAC actions the deployer must hold.
// Pure: no Azure calls. Kept beside the program's own choices (index.ts, components/) so that a
// resource added there shows up here in review.
import type { StackConfig } from "../../lib/config";

export interface Requirement {
    /** A provider namespace or an RBAC action. */
    name: string;
    /** What in the stack needs it, for messages. */
    neededFor: string;
}

/** Provider namespaces the stack creates resources in (Microsoft.Resources and Microsoft.Authorization are always registered). */
export function requiredProviders(config: StackConfig): Requirement[] {
    return [
        { name: "Microsoft.Network", neededFor: "the VM's network" },
        { name: "Microsoft.Compute", neededFor: "the VM" },
        { name: "Microsoft.DocumentDB", neededFor: "the Cosmos DB account" },
        ...(config.autoShutdownTime !== undefined ? [{ name: "Microsoft.DevTestLab", neededFor: "the auto-shutdown schedule" }] : []),
    ];
}

/**
 * Control-plane actions `pulumi up` performs on a new stack. Creating a resource that refers to
 * another needs that one's join action too (LinkedAuthorizationFailed otherwise); a Cosmos DB VNet
 * rule needs joinViaServiceEndpoint on the subnet.
 */
export function requiredActions(config: StackConfig): Requirement[] {
    const actions: Requirement[] = [
        { name: "Microsoft.Resources/subscriptions/resourceGroups/write", neededFor: "the resource group" },
        { name: "Microsoft.Network/networkSecurityGroups/write", neededFor: "the network security group" },
        { name: "Microsoft.Network/networkSecurityGroups/join/action", neededFor: "the subnet's network security group" },
        { name: "Microsoft.Network/virtualNetworks/write", neededFor: "the virtual network" },
        { name: "Microsoft.Network/virtualNetworks/subnets/write", neededFor: "the subnet" },
        { name: "Microsoft.Network/virtualNetworks/subnets/join/action", neededFor: "the NIC in the subnet" },
        { name: "Microsoft.Network/publicIPAddresses/write", neededFor: "the public IP" },
        { name: "Microsoft.Network/publicIPAddresses/join/action", neededFor: "the NIC's public IP" },
        { name: "Microsoft.Network/networkInterfaces/write", neededFor: "the NIC" },
        { name: "Microsoft.Network/networkInterfaces/join/action", neededFor: "the VM's NIC" },
        { name: "Microsoft.Compute/virtualMachines/write", neededFor: "the VM" },
        { name: "Microsoft.Compute/virtualMachines/extensions/write", neededFor: "the guest attestation extension" },
        { name: "Microsoft.DocumentDB/databaseAccounts/write", neededFor: "the Cosmos DB account" },
        { name: "Microsoft.DocumentDB/databaseAccounts/sqlDatabases/write", neededFor: "the Cosmos DB database" },
        { name: "Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers/write", neededFor: "the Cosmos DB container" },
    ];
    if (!config.cosmosPublicAccess) {
        actions.push({ name: "Microsoft.Network/virtualNetworks/subnets/joinViaServiceEndpoint/action", neededFor: "the Cosmos DB account's VNet rule" });
    }
    if (config.autoShutdownTime !== undefined) {
        actions.push({ name: "Microsoft.DevTestLab/schedules/write", neededFor: "the auto-shutdown schedule" });
    }
    if (config.verifyOnDeploy) {
        actions.push(
            { name: "Microsoft.Compute/virtualMachines/runCommands/write", neededFor: "the deploy-time verification (Run Command)" },
            { name: "Microsoft.Compute/virtualMachines/runCommands/read", neededFor: "the verification's result" },
        );
    }
    actions.push(config.accessMode === "keys"
        ? { name: ROLE_ASSIGNMENT_WRITE, neededFor: "the VM identity's key role (a role assignment)" }
        : { name: SQL_ROLE_ASSIGNMENT_WRITE, neededFor: "the VM identity's Cosmos DB data role (a SQL role assignment)" });
    return actions;
}

export const ROLE_ASSIGNMENT_WRITE = "Microsoft.Authorization/roleAssignments/write";
export const SQL_ROLE_ASSIGNMENT_WRITE = "Microsoft.DocumentDB/databaseAccounts/sqlRoleAssignments/write";

/** The stack's Windows image (publisher and offer are fixed in components/windowsVm.ts). */
export const WINDOWS_IMAGE = { publisher: "MicrosoftWindowsServer", offer: "WindowsServer" } as const;

/** Subscription feature that `encryptionAtHost: true` needs. */
export const ENCRYPTION_AT_HOST_FEATURE = { namespace: "Microsoft.Compute", name: "EncryptionAtHost" } as const;
