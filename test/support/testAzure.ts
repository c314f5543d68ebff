// The fake Azure the tests evaluate the program against: what each resource reports back (ids,
// names, the VM's identity, the account's endpoint) and what the invokes answer, as fixed,
// recognisable values. Loaded by the thread that evaluates (test/support/evaluationThread.ts).
import type { FakeAzure } from "../../model/mockEngine";
import { SUBSCRIPTION_ID, TENANT_ID } from "./ids";

export const VM_PRINCIPAL_ID = "7f0c1d2e-3a4b-4c5d-8e9f-0a1b2c3d4e5f";
export const PUBLIC_IP = "203.0.113.10";
/**
 * What Run Command's instance view reports after the script ran, shaped as Azure returns it: the
 * script's output with its line breaks, a (here harmless) error stream, timestamps and statuses.
 */
const RUN_COMMAND_INSTANCE_VIEW = {
    executionState: "Succeeded",
    executionMessage: "",
    exitCode: 0,
    output: "\r\nManaged identity token acquired\r\n  primaryReadonlyMasterKey: sha256:1a2b3c4d\r\nOK: the primaryReadonlyMasterKey read container 'Test'\r\n",
    error: "WARNING: a warning on the error stream",
    startTime: "2026-11-30T10:00:00Z",
    endTime: "2026-11-30T10:01:30Z",
    statuses: [],
};

/** Fake Azure: what each resource type reports back, enough for the program's outputs. */
function fakeResource(type: string, name: string, inputs: Record<string, any>): { id: string; state: Record<string, any> } {
    const rg = inputs.resourceGroupName ?? "rg";
    const arm = (provider: string, resourceName: string) =>
        `/subscriptions/${SUBSCRIPTION_ID}/resourceGroups/${rg}/providers/${provider}/${resourceName}`;
    switch (type) {
        case "azure-native:resources:ResourceGroup": {
            const rgName = inputs.resourceGroupName ?? `${name}-rg1234`;
            return { id: `/subscriptions/${SUBSCRIPTION_ID}/resourceGroups/${rgName}`, state: { ...inputs, name: rgName } };
        }
        case "azure-native:compute:VirtualMachine": {
            const vmName = inputs.vmName ?? `${name}1234`;
            return {
                id: arm("Microsoft.Compute/virtualMachines", vmName),
                state: { ...inputs, name: vmName, identity: { ...inputs.identity, principalId: VM_PRINCIPAL_ID, tenantId: TENANT_ID } },
            };
        }
        case "azure-native:network:PublicIPAddress":
            return { id: arm("Microsoft.Network/publicIPAddresses", name), state: { ...inputs, name, ipAddress: PUBLIC_IP } };
        case "azure-native:network:Subnet":
            return { id: arm("Microsoft.Network/virtualNetworks/vnet/subnets", name), state: { ...inputs, name } };
        case "azure-native:cosmosdb:DatabaseAccount": {
            const accountName = inputs.accountName ?? `${name}1234`;
            return {
                id: arm("Microsoft.DocumentDB/databaseAccounts", accountName),
                state: { ...inputs, name: accountName, documentEndpoint: `https://${accountName}.documents.azure.com:443/` },
            };
        }
        case "azure-native:cosmosdb:SqlResourceSqlDatabase":
            return { id: arm("Microsoft.DocumentDB/databaseAccounts/a/sqlDatabases", inputs.databaseName), state: { ...inputs, name: inputs.databaseName } };
        case "azure-native:cosmosdb:SqlResourceSqlContainer":
            return { id: arm("Microsoft.DocumentDB/databaseAccounts/a/sqlDatabases/d/containers", inputs.containerName), state: { ...inputs, name: inputs.containerName } };
        case "azure-native:authorization:RoleAssignment":
            return { id: `${inputs.scope}/providers/Microsoft.Authorization/roleAssignments/0b6a8c1e-0000-4000-8000-000000000001`, state: { ...inputs, name: "0b6a8c1e-0000-4000-8000-000000000001" } };
        case "azure-native:compute:VirtualMachineRunCommandByVirtualMachine":
            return { id: arm(`Microsoft.Compute/virtualMachines/${inputs.vmName}/runCommands`, inputs.runCommandName), state: { ...inputs, name: inputs.runCommandName } };
        case "azure-native:cosmosdb:SqlResourceSqlRoleAssignment":
            return { id: `${inputs.scope}/sqlRoleAssignments/${inputs.roleAssignmentId}`, state: { ...inputs, name: inputs.roleAssignmentId } };
        case "random:index/randomPassword:RandomPassword":
            return { id: name, state: { ...inputs, result: "Generated-Password-42" } };
        default:
            return { id: arm(type.replace(/^azure-native:/, ""), name), state: { ...inputs, name: inputs.name ?? name } };
    }
}

/** The fake Azure the tests evaluate the program against. */
export const TEST_AZURE: FakeAzure = {
    resource: fakeResource,
    invoke: (token, inputs) => {
        if (token === "azure-native:authorization:getClientConfig") {
            return { subscriptionId: SUBSCRIPTION_ID, tenantId: TENANT_ID, clientId: "client", objectId: "deployer" };
        }
        if (token === "azure-native:compute:getVirtualMachineRunCommandByVirtualMachine") {
            return { name: inputs.runCommandName, instanceView: RUN_COMMAND_INSTANCE_VIEW };
        }
        return {};
    },
};
