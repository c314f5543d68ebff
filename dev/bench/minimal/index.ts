// Benchmark baseline: the smallest program that declares the same Azure resources as the stack,
// with literal settings, no components, no validation and no script rendering. Its start-up is
// the floor against which the real program's start-up is compared (see docs/benchmarks.md). Never deployed.
import * as authorization from "@pulumi/azure-native/authorization";
import * as compute from "@pulumi/azure-native/compute";
import * as cosmosdb from "@pulumi/azure-native/cosmosdb";
import * as devtestlab from "@pulumi/azure-native/devtestlab";
import * as network from "@pulumi/azure-native/network";
import * as resources from "@pulumi/azure-native/resources";
import { RandomPassword } from "@pulumi/random/randomPassword";

const location = "westeurope";
const rg = new resources.ResourceGroup("rg", { location });
const resourceGroupName = rg.name;
const password = new RandomPassword("password", { length: 24 });
const nsg = new network.NetworkSecurityGroup("nsg", { resourceGroupName, location, securityRules: [] });
const vnet = new network.VirtualNetwork("vnet", { resourceGroupName, location, addressSpace: { addressPrefixes: ["10.40.0.0/16"] } });
const subnet = new network.Subnet("subnet", {
    resourceGroupName, virtualNetworkName: vnet.name, addressPrefix: "10.40.1.0/24", networkSecurityGroup: { id: nsg.id },
    serviceEndpoints: [{ service: "Microsoft.AzureCosmosDB" }],
});
const pip = new network.PublicIPAddress("pip", { resourceGroupName, location, sku: { name: "Standard" }, publicIPAllocationMethod: "Static" });
const nic = new network.NetworkInterface("nic", {
    resourceGroupName, location,
    ipConfigurations: [{ name: "ipconfig1", subnet: { id: subnet.id }, publicIPAddress: { id: pip.id } }],
});
const vm = new compute.VirtualMachine("vm", {
    resourceGroupName, location,
    identity: { type: "SystemAssigned" },
    hardwareProfile: { vmSize: "Standard_B2als_v2" },
    osProfile: { computerName: "cosmos-vm", adminUsername: "azureuser", adminPassword: password.result },
    storageProfile: {
        imageReference: { publisher: "MicrosoftWindowsServer", offer: "WindowsServer", sku: "2025-datacenter-azure-edition", version: "latest" },
        osDisk: { createOption: "FromImage", deleteOption: "Delete" },
    },
    networkProfile: { networkInterfaces: [{ id: nic.id, deleteOption: "Delete" }] },
    securityProfile: { securityType: "TrustedLaunch", uefiSettings: { secureBootEnabled: true, vTpmEnabled: true } },
});
new compute.VirtualMachineExtension("attestation", {
    resourceGroupName, vmName: vm.name, publisher: "Microsoft.Azure.Security.WindowsAttestation", type: "GuestAttestation", typeHandlerVersion: "1.0",
});
new devtestlab.GlobalSchedule("shutdown", {
    resourceGroupName, location, name: vm.name.apply((name) => `shutdown-computevm-${name}`), targetResourceId: vm.id,
    taskType: "ComputeVmShutdownTask", dailyRecurrence: { time: "1900" }, timeZoneId: "UTC", status: "Enabled",
});
const account = new cosmosdb.DatabaseAccount("cosmos", {
    resourceGroupName, location, databaseAccountOfferType: "Standard", locations: [{ locationName: location }],
    isVirtualNetworkFilterEnabled: true, virtualNetworkRules: [{ id: subnet.id }],
});
const database = new cosmosdb.SqlResourceSqlDatabase("database", { resourceGroupName, accountName: account.name, resource: { id: "Test" } });
const container = new cosmosdb.SqlResourceSqlContainer("container", {
    resourceGroupName, accountName: account.name, databaseName: database.name,
    resource: { id: "Test", partitionKey: { paths: ["/id"], kind: "Hash" } }, options: { throughput: 400 },
});
const principalId = vm.identity.apply((identity) => identity?.principalId ?? "");
const role = new authorization.RoleAssignment("role", {
    principalId, principalType: "ServicePrincipal", scope: account.id,
    roleDefinitionId: "/subscriptions/00000000-0000-0000-0000-000000000000/providers/Microsoft.Authorization/roleDefinitions/fbdf93bf-df7d-467e-a4d2-9458aa1360c8",
});
new compute.VirtualMachineRunCommandByVirtualMachine("run", {
    resourceGroupName, vmName: vm.name, location, source: { script: "Write-Host ok" },
}, { dependsOn: [role, container] });
