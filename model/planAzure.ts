// Azure as the offline commands show it: the answers the mock engine gives for the resources and
// invokes this program declares, with what Azure (or auto-naming) decides as readable placeholders
// in angle brackets. Shared by plan, preflight's policy check, impact and bench.
import type { FakeAzure } from "./mockEngine";

/** Each type's name input (absent: Pulumi auto-names it) and its Resource Manager type, for plausible ids. */
const AZURE_TYPES: Record<string, { nameInput?: string; armType: string }> = {
    "azure-native:resources:ResourceGroup": { nameInput: "resourceGroupName", armType: "" },
    "azure-native:network:NetworkSecurityGroup": { nameInput: "networkSecurityGroupName", armType: "Microsoft.Network/networkSecurityGroups" },
    "azure-native:network:VirtualNetwork": { nameInput: "virtualNetworkName", armType: "Microsoft.Network/virtualNetworks" },
    "azure-native:network:Subnet": { nameInput: "subnetName", armType: "Microsoft.Network/virtualNetworks/subnets" },
    "azure-native:network:PublicIPAddress": { nameInput: "publicIpAddressName", armType: "Microsoft.Network/publicIPAddresses" },
    "azure-native:network:NetworkInterface": { nameInput: "networkInterfaceName", armType: "Microsoft.Network/networkInterfaces" },
    "azure-native:compute:VirtualMachine": { nameInput: "vmName", armType: "Microsoft.Compute/virtualMachines" },
    "azure-native:compute:VirtualMachineExtension": { nameInput: "vmExtensionName", armType: "Microsoft.Compute/virtualMachines/extensions" },
    "azure-native:compute:VirtualMachineRunCommandByVirtualMachine": { nameInput: "runCommandName", armType: "Microsoft.Compute/virtualMachines/runCommands" },
    "azure-native:devtestlab:GlobalSchedule": { nameInput: "name", armType: "Microsoft.DevTestLab/schedules" },
    "azure-native:cosmosdb:DatabaseAccount": { nameInput: "accountName", armType: "Microsoft.DocumentDB/databaseAccounts" },
    "azure-native:cosmosdb:SqlResourceSqlDatabase": { nameInput: "databaseName", armType: "Microsoft.DocumentDB/databaseAccounts/sqlDatabases" },
    "azure-native:cosmosdb:SqlResourceSqlContainer": { nameInput: "containerName", armType: "Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers" },
};

/** Azure as the plan shows it: what Azure (or auto-naming) decides is a readable placeholder in angle brackets. */
export const PLAN_AZURE: FakeAzure = {
    resource(type, name, inputs) {
        const known = AZURE_TYPES[type];
        const given = known?.nameInput ? inputs[known.nameInput] : undefined;
        const resourceName = typeof given === "string" && given.length > 0 ? given : `${name}<suffix>`;
        const state: Record<string, unknown> = { ...inputs, name: resourceName };
        if (type === "azure-native:resources:ResourceGroup") return { id: `/subscriptions/<subscription-id>/resourceGroups/${resourceName}`, state };
        if (type === "azure-native:authorization:RoleAssignment") return { id: `${inputs.scope}/providers/Microsoft.Authorization/roleAssignments/<guid>`, state };
        if (type === "azure-native:cosmosdb:SqlResourceSqlRoleAssignment") {
            return { id: `${inputs.scope}/sqlRoleAssignments/${inputs.roleAssignmentId}`, state: { ...state, name: inputs.roleAssignmentId } };
        }
        if (type === "azure-native:compute:VirtualMachine") state.identity = { ...inputs.identity, principalId: `<principal-id of ${name}>` };
        if (type === "azure-native:network:PublicIPAddress") state.ipAddress = "<public-ip>";
        if (type === "azure-native:cosmosdb:DatabaseAccount") state.documentEndpoint = `https://${resourceName}.documents.azure.com:443/`;
        if (type.startsWith("random:")) return { id: name, state: { ...inputs, result: "<generated>" } };
        const armType = known?.armType ?? type.replace(/^azure-native:/, "");
        return { id: `/subscriptions/<subscription-id>/resourceGroups/${inputs.resourceGroupName}/providers/${armType}/${resourceName}`, state };
    },
    invoke(token, inputs) {
        if (token === "azure-native:authorization:getClientConfig") return { subscriptionId: "<subscription-id>", tenantId: "<tenant-id>" };
        if (token === "azure-native:compute:getVirtualMachineRunCommandByVirtualMachine") {
            return { name: inputs.runCommandName, instanceView: { executionState: "<runs during pulumi up>", exitCode: null, output: "" } };
        }
        return {};
    },
};
