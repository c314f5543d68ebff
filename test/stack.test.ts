// The whole program under Pulumi's mocks: what `pulumi up` would declare, resource by resource.
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as path from "node:path";
import { before, describe, it } from "node:test";
import { ConfigError } from "../lib/config";
import { VERIFICATION_TIMEOUT_SECONDS } from "../components/keyFetchVerification";
import { classifyChanges } from "../model/changeClassification";
import {
    Evaluation, evaluate, evaluateOnce, ofType, PROJECT_ROOT, PUBLIC_IP, single, stackConfig, SUBSCRIPTION_ID, VM_PRINCIPAL_ID,
} from "./harness";

const T = {
    rg: "azure-native:resources:ResourceGroup",
    vm: "azure-native:compute:VirtualMachine",
    nsg: "azure-native:network:NetworkSecurityGroup",
    vnet: "azure-native:network:VirtualNetwork",
    subnet: "azure-native:network:Subnet",
    nic: "azure-native:network:NetworkInterface",
    pip: "azure-native:network:PublicIPAddress",
    schedule: "azure-native:devtestlab:GlobalSchedule",
    account: "azure-native:cosmosdb:DatabaseAccount",
    database: "azure-native:cosmosdb:SqlResourceSqlDatabase",
    container: "azure-native:cosmosdb:SqlResourceSqlContainer",
    roleAssignment: "azure-native:authorization:RoleAssignment",
    password: "random:index/randomPassword:RandomPassword",
    runCommand: "azure-native:compute:VirtualMachineRunCommandByVirtualMachine",
    extension: "azure-native:compute:VirtualMachineExtension",
    sqlRoleAssignment: "azure-native:cosmosdb:SqlResourceSqlRoleAssignment",
};

const READER_ROLE_ID = "fbdf93bf-df7d-467e-a4d2-9458aa1360c8";
const CONTRIBUTOR_ROLE_ID = "5bd9cd88-fe45-4216-938b-f97437e15450";

describe("the stack at its defaults", () => {
    let stack: Evaluation;
    before(async () => {
        stack = await evaluateOnce(stackConfig());
        assert.equal(stack.error, undefined, String(stack.error));
    });

    it("declares exactly these resources, at these URNs (type chain and name), with these resource options", () => {
        const options = (r: Evaluation["resources"][number]) => [
            r.deleteBeforeReplace ? "deleteBeforeReplace" : "",
            r.replaceOnChanges.length > 0 ? `replaceOnChanges ${r.replaceOnChanges.join(",")}` : "",
            r.ignoreChanges.length > 0 ? `ignoreChanges ${r.ignoreChanges.join(",")}` : "",
            r.deletedWith ? `deletedWith ${r.deletedWith.split("::").pop()}` : "",
            r.replacementTrigger !== undefined ? "replacementTrigger" : "",
            Object.values(r.customTimeouts).some((t) => t !== "") ? `customTimeouts ${Object.values(r.customTimeouts).join("/")}` : "",
        ].filter((option) => option !== "").join("; ");
        const declared = stack.resources.map((r) => [r.urn.replace("urn:pulumi:dev::cosmos-vm-identity::", ""), options(r)]).sort();
        assert.deepEqual(declared, [
            ["azure-native:resources:ResourceGroup::cosmos-vm-identity", ""],
            ["cosmos-vm-identity:index:CosmosKeyAccessGrant$azure-native:authorization:RoleAssignment::vm-reads-cosmos-keys-role", "deleteBeforeReplace; replaceOnChanges roleDefinitionId"],
            ["cosmos-vm-identity:index:CosmosKeyAccessGrant::vm-reads-cosmos-keys", ""],
            ["cosmos-vm-identity:index:CosmosNoSqlAccount$azure-native:cosmosdb:DatabaseAccount::tutorial-cosmos", ""],
            ["cosmos-vm-identity:index:CosmosNoSqlAccount$azure-native:cosmosdb:SqlResourceSqlContainer::tutorial-container", ""],
            ["cosmos-vm-identity:index:CosmosNoSqlAccount$azure-native:cosmosdb:SqlResourceSqlDatabase::tutorial-database", ""],
            ["cosmos-vm-identity:index:CosmosNoSqlAccount::tutorial", ""],
            ["cosmos-vm-identity:index:KeyFetchVerification$azure-native:compute:VirtualMachineRunCommandByVirtualMachine::verify-key-fetch-run", "deletedWith tutorial-vm; customTimeouts 45m/45m/"],
            ["cosmos-vm-identity:index:KeyFetchVerification::verify-key-fetch", ""],
            ["cosmos-vm-identity:index:WindowsVm$azure-native:compute:VirtualMachine::tutorial-vm", "replacementTrigger"],
            ["cosmos-vm-identity:index:WindowsVm$azure-native:compute:VirtualMachineExtension::tutorial-guest-attestation", "deletedWith tutorial-vm"],
            ["cosmos-vm-identity:index:WindowsVm$azure-native:devtestlab:GlobalSchedule::tutorial-shutdown", "deleteBeforeReplace"],
            ["cosmos-vm-identity:index:WindowsVm$azure-native:network:NetworkInterface::tutorial-nic", "replacementTrigger"],
            ["cosmos-vm-identity:index:WindowsVm$azure-native:network:NetworkSecurityGroup::tutorial-nsg", ""],
            ["cosmos-vm-identity:index:WindowsVm$azure-native:network:PublicIPAddress::tutorial-pip", "replacementTrigger"],
            ["cosmos-vm-identity:index:WindowsVm$azure-native:network:Subnet::tutorial-subnet", ""],
            ["cosmos-vm-identity:index:WindowsVm$azure-native:network:VirtualNetwork::tutorial-vnet", ""],
            ["cosmos-vm-identity:index:WindowsVm::tutorial", ""],
            ["random:index/randomPassword:RandomPassword::admin-password", ""],
        ]);
    });

    it("puts every Azure resource in the one resource group, in the stack's location", () => {
        const rg = single(stack, T.rg);
        assert.equal(rg.inputs.location, "westeurope");
        const rgName = rg.state.name;
        const azure = stack.resources.filter((r) => r.custom && r.type.startsWith("azure-native:") && r.type !== T.rg);
        assert.ok(azure.length >= 11);
        for (const resource of azure) {
            const scope = resource.type === T.roleAssignment ? resource.inputs.scope : `/resourceGroups/${resource.inputs.resourceGroupName}/`;
            assert.ok(String(scope).includes(`/resourceGroups/${rgName}/`), `${resource.type} ${resource.name} is outside the resource group`);
        }
    });

    it("gives the VM a system-assigned identity, Trusted Launch, an Azure Edition Gen2 image and a B-series v2 size", () => {
        const vm = single(stack, T.vm);
        assert.deepEqual(vm.inputs.identity, { type: "SystemAssigned" });
        assert.deepEqual(vm.inputs.securityProfile, {
            securityType: "TrustedLaunch",
            uefiSettings: { secureBootEnabled: true, vTpmEnabled: true },
        });
        assert.deepEqual(vm.inputs.storageProfile.imageReference, {
            publisher: "MicrosoftWindowsServer", offer: "WindowsServer", sku: "2025-datacenter-azure-edition", version: "latest",
        });
        assert.equal(vm.inputs.hardwareProfile.vmSize, "Standard_B2als_v2");
        assert.equal(vm.inputs.location, "westeurope");
        assert.ok(vm.inputs.osProfile.computerName.length <= 15, "Windows computer names are at most 15 characters");
        assert.equal(vm.inputs.osProfile.adminUsername, "azureuser");
    });

    it("deletes the OS disk and the NIC with the VM, so destroy leaves no orphans", () => {
        const vm = single(stack, T.vm);
        assert.equal(vm.inputs.storageProfile.osDisk.deleteOption, "Delete");
        const nic = single(stack, T.nic);
        assert.deepEqual(vm.inputs.networkProfile.networkInterfaces, [{ id: nic.id, primary: true, deleteOption: "Delete" }]);
        assert.ok(vm.dependencies.includes(nic.urn));
    });

    it("keeps the admin password secret: in the VM's inputs and in the stack outputs", () => {
        const vm = single(stack, T.vm);
        assert.deepEqual(vm.secretInputs, ["osProfile.adminPassword"]);
        assert.equal(vm.inputs.osProfile.adminPassword, "Generated-Password-42");
        assert.equal(stack.outputs.adminPassword.secret, true);
        // Generated with @pulumi/random, long and with every character class.
        const password = single(stack, T.password);
        assert.equal(password.inputs.length, 24);
        for (const min of ["minLower", "minUpper", "minNumeric", "minSpecial"]) assert.equal(password.inputs[min], 1);
        // No other output carries it.
        for (const [name, output] of Object.entries(stack.outputs)) {
            if (name !== "adminPassword") assert.ok(!String(output.value).includes("Generated-Password-42"), name);
        }
    });

    it("wires a Standard static public IP and the subnet into the NIC", () => {
        const pip = single(stack, T.pip);
        assert.deepEqual(pip.inputs.sku, { name: "Standard", tier: "Regional" });
        assert.equal(pip.inputs.publicIPAllocationMethod, "Static");
        const nic = single(stack, T.nic);
        const subnet = single(stack, T.subnet);
        assert.ok(nic.dependencies.includes(pip.urn) && nic.dependencies.includes(subnet.urn));
        assert.equal(nic.inputs.ipConfigurations.length, 1);
    });

    it("admits no inbound RDP when rdpAllowedFrom is empty, and guards the subnet with the NSG", () => {
        const nsg = single(stack, T.nsg);
        assert.deepEqual(nsg.inputs.securityRules, []);
        const subnet = single(stack, T.subnet);
        assert.ok(subnet.dependencies.includes(nsg.urn));
        assert.deepEqual(subnet.inputs.networkSecurityGroup, { id: nsg.id });
    });

    it("shuts the VM down daily at 19:00 UTC", () => {
        const schedule = single(stack, T.schedule);
        const vm = single(stack, T.vm);
        assert.equal(schedule.inputs.name, `shutdown-computevm-${vm.state.name}`);
        assert.equal(schedule.inputs.taskType, "ComputeVmShutdownTask");
        assert.deepEqual(schedule.inputs.dailyRecurrence, { time: "1900" });
        assert.equal(schedule.inputs.timeZoneId, "UTC");
        assert.equal(schedule.inputs.status, "Enabled");
        assert.equal(schedule.inputs.targetResourceId, vm.id);
        assert.ok(schedule.dependencies.includes(vm.urn));
    });

    it("creates a NoSQL Cosmos DB account: one region, Session, TLS 1.2, no key-based metadata writes, no free tier", () => {
        const account = single(stack, T.account);
        assert.equal(account.inputs.kind, "GlobalDocumentDB");
        assert.equal(account.inputs.databaseAccountOfferType, "Standard");
        assert.deepEqual(account.inputs.locations, [{ locationName: "westeurope", failoverPriority: 0, isZoneRedundant: false }]);
        assert.deepEqual(account.inputs.consistencyPolicy, { defaultConsistencyLevel: "Session" });
        assert.equal(account.inputs.minimalTlsVersion, "Tls12");
        assert.equal(account.inputs.disableKeyBasedMetadataWriteAccess, true);
        assert.equal(account.inputs.enableFreeTier, false);
        assert.equal(account.inputs.capabilities, undefined, "NoSQL needs no API capability");
        assert.equal(account.inputs.disableLocalAuth, false, "keys mode: keys are the tutorial's path");
    });

    it("creates database Test and container Test with partition key /id and 400 RU/s on the container", () => {
        const account = single(stack, T.account);
        const database = single(stack, T.database);
        assert.equal(database.inputs.databaseName, "Test");
        assert.deepEqual(database.inputs.resource, { id: "Test" });
        assert.equal(database.inputs.options, undefined, "no shared database throughput");
        assert.equal(database.inputs.accountName, account.state.name);
        const container = single(stack, T.container);
        assert.equal(container.inputs.databaseName, "Test");
        assert.equal(container.inputs.containerName, "Test");
        assert.deepEqual(container.inputs.resource, { id: "Test", partitionKey: { paths: ["/id"], kind: "Hash", version: 2 } });
        assert.deepEqual(container.inputs.options, { throughput: 400 });
        assert.ok(container.dependencies.includes(database.urn));
    });

    it("grants the VM's identity the Cosmos DB Account Reader Role on the account, and nothing wider", () => {
        const assignment = single(stack, T.roleAssignment);
        const account = single(stack, T.account);
        const vm = single(stack, T.vm);
        assert.equal(assignment.inputs.principalId, VM_PRINCIPAL_ID);
        assert.equal(assignment.inputs.principalId, vm.state.identity.principalId);
        assert.equal(assignment.inputs.principalType, "ServicePrincipal");
        assert.equal(assignment.inputs.roleDefinitionId, `/subscriptions/${SUBSCRIPTION_ID}/providers/Microsoft.Authorization/roleDefinitions/${READER_ROLE_ID}`);
        assert.equal(assignment.inputs.scope, account.id);
        assert.match(assignment.inputs.scope, /\/providers\/Microsoft\.DocumentDB\/databaseAccounts\/[^/]+$/);
        assert.ok(assignment.dependencies.includes(vm.urn) && assignment.dependencies.includes(account.urn));
        // Replacing it deletes the old one first: Azure refuses a duplicate (409 RoleAssignmentExists).
        assert.equal(assignment.deleteBeforeReplace, true);
        // Its role cannot change in place: a new access level replaces it.
        assert.deepEqual(assignment.replaceOnChanges, ["roleDefinitionId"]);
        // The name is left to azure-native, which generates a GUID as Azure requires.
        assert.equal(assignment.inputs.roleAssignmentName, undefined);
    });

    it("exports every documented output, with real values", () => {
        const rg = single(stack, T.rg);
        const account = single(stack, T.account);
        const vm = single(stack, T.vm);
        const assignment = single(stack, T.roleAssignment);
        assert.deepEqual(Object.keys(stack.outputs).sort(), [
            "accessMode", "accessSummary", "adminPassword", "adminUsername", "containerName", "cosmosAccountName", "cosmosEndpoint", "databaseName",
            "deployedSettings", "keyFetchScript", "resourceGroupName", "roleAssignmentId", "roleDefinitionName", "runOnVmCommand", "verification",
            "vmName", "vmPrincipalId", "vmPublicIp",
        ]);
        const value = (name: string) => stack.outputs[name].value;
        assert.equal(value("resourceGroupName"), rg.state.name);
        assert.equal(value("vmName"), vm.state.name);
        assert.equal(value("vmPrincipalId"), VM_PRINCIPAL_ID);
        assert.equal(value("vmPublicIp"), PUBLIC_IP);
        assert.equal(value("adminUsername"), "azureuser");
        assert.equal(value("cosmosAccountName"), account.state.name);
        assert.equal(value("cosmosEndpoint"), `https://${account.state.name}.documents.azure.com:443/`);
        assert.equal(value("databaseName"), "Test");
        assert.equal(value("containerName"), "Test");
        assert.equal(value("roleDefinitionName"), "Cosmos DB Account Reader Role");
        assert.equal(value("accessMode"), "keys");
        assert.match(String(value("accessSummary")), /^keys mode: the VM's identity holds Cosmos DB Account Reader Role on the account and can fetch the read-only keys/);
        assert.equal(value("roleAssignmentId"), assignment.id);
        // The change guard's record of this update: the settings as applied, plain so the next run can read it.
        assert.deepEqual(value("deployedSettings"), {
            location: "westeurope", cosmosLocation: "westeurope", freeTier: false, databaseName: "Test", containerName: "Test", partitionKeyPath: "/id",
        });
        assert.match(String(value("roleAssignmentId")), /\/providers\/Microsoft\.Authorization\/roleAssignments\/[0-9a-f-]{36}$/);
        for (const [name, output] of Object.entries(stack.outputs)) {
            assert.equal(output.secret, name === "adminPassword", `${name} secretness`);
        }
    });

    it("fills the key-fetch script with the real subscription, resource group and account (no placeholders)", () => {
        const script = String(stack.outputs.keyFetchScript.value);
        const account = single(stack, T.account).state.name;
        const rg = single(stack, T.rg).state.name;
        assert.ok(script.includes(`[string]$SubscriptionId = '${SUBSCRIPTION_ID}'`));
        assert.ok(script.includes(`[string]$ResourceGroupName = '${rg}'`));
        assert.ok(script.includes(`[string]$AccountName = '${account}'`));
        assert.ok(script.includes(`[string]$AccessLevel = 'readonly'`));
        assert.ok(script.includes(`[string]$ResourceManagerEndpoint = 'https://management.azure.com/'`));
        assert.ok(!script.includes("{{"), "no unfilled placeholder");
    });

    it("gives one command that runs the script on the VM without RDP and returns its exit code", () => {
        const rg = single(stack, T.rg).state.name;
        const vm = single(stack, T.vm).state.name;
        assert.equal(
            stack.outputs.runOnVmCommand.value,
            `npm run --silent run-on-vm -- --stack dev --subscription ${SUBSCRIPTION_ID} --resource-group ${rg} --vm-name ${vm}`,
        );
    });

    it("declares identical inputs when evaluated again (no churn on re-run)", async () => {
        const again = await evaluate(stackConfig());
        const summary = (evaluation: Evaluation) => evaluation.resources
            .map((r) => ({ urn: r.urn, inputs: r.inputs, dependencies: r.dependencies, deleteBeforeReplace: r.deleteBeforeReplace }))
            .sort((a, b) => a.urn.localeCompare(b.urn));
        assert.deepEqual(summary(again), summary(stack));
        assert.deepEqual(again.outputs, stack.outputs);
    });
});

describe("secure by default", () => {
    let stack: Evaluation;
    before(async () => {
        stack = await evaluateOnce(stackConfig());
    });

    it("installs the guest attestation extension on the Trusted Launch VM (boot integrity monitoring)", () => {
        const extension = single(stack, T.extension);
        const vm = single(stack, T.vm);
        assert.equal(extension.inputs.vmName, vm.state.name);
        assert.equal(extension.inputs.publisher, "Microsoft.Azure.Security.WindowsAttestation");
        assert.equal(extension.inputs.type, "GuestAttestation");
        assert.equal(extension.inputs.typeHandlerVersion, "1.0");
        assert.equal(extension.inputs.autoUpgradeMinorVersion, true);
        assert.equal(extension.inputs.settings.AttestationConfig.MaaSettings.maaTenantName, "GuestAttestation");
        assert.ok(extension.dependencies.includes(vm.urn));
    });

    it("lets the VM be stopped: its extension is deleted with it, not before it (Azure refuses extension changes on a stopped VM)", () => {
        assert.equal(single(stack, T.extension).deletedWith, single(stack, T.vm).urn);
    });

    it("patches the VM from the platform and assesses missing updates periodically", () => {
        assert.deepEqual(single(stack, T.vm).inputs.osProfile.windowsConfiguration, {
            provisionVMAgent: true,
            enableAutomaticUpdates: true,
            patchSettings: { patchMode: "AutomaticByPlatform", assessmentMode: "AutomaticByPlatform" },
        });
    });

    it("admits the Cosmos DB account's data plane from the VM's subnet only (service endpoint and VNet filter)", () => {
        const subnet = single(stack, T.subnet);
        assert.deepEqual(subnet.inputs.serviceEndpoints, [{ service: "Microsoft.AzureCosmosDB" }]);
        const account = single(stack, T.account);
        assert.equal(account.inputs.publicNetworkAccess, "Enabled", "filtered public access: the service endpoint needs it");
        assert.equal(account.inputs.isVirtualNetworkFilterEnabled, true);
        assert.deepEqual(account.inputs.virtualNetworkRules, [{ id: subnet.id, ignoreMissingVNetServiceEndpoint: false }]);
        assert.deepEqual(account.inputs.ipRules, []);
        assert.equal(account.inputs.networkAclBypass, "None");
        assert.ok(account.dependencies.includes(subnet.urn));
        assert.deepEqual(stack.warnings, []);
    });

    it("admits the addresses in cosmosAllowedIps too", async () => {
        const withIps = await evaluateOnce(stackConfig({ cosmosAllowedIps: '["203.0.113.7", "198.51.100.0/24"]' }));
        const account = single(withIps, T.account);
        assert.equal(account.inputs.isVirtualNetworkFilterEnabled, true);
        assert.deepEqual(account.inputs.ipRules, [{ ipAddressOrRange: "203.0.113.7" }, { ipAddressOrRange: "198.51.100.0/24" }]);
        assert.equal(account.inputs.virtualNetworkRules.length, 1);
    });

    it("opens the account to every network only with cosmosPublicAccess, and warns", async () => {
        const open = await evaluateOnce(stackConfig({ cosmosPublicAccess: "true" }));
        const account = single(open, T.account);
        assert.equal(account.inputs.isVirtualNetworkFilterEnabled, false);
        assert.deepEqual(account.inputs.virtualNetworkRules, []);
        assert.deepEqual(account.inputs.ipRules, []);
        // The endpoint stays, so that switching back and forth never removes one a VNet rule still uses.
        assert.deepEqual(single(open, T.subnet).inputs.serviceEndpoints, [{ service: "Microsoft.AzureCosmosDB" }]);
        assert.equal(open.warnings.length, 1);
        assert.match(open.warnings[0], /cosmosPublicAccess is true: the Cosmos DB account accepts connections from every network/);
    });

    it("keeps TLS 1.2 and no key-based metadata writes whatever the network settings", async () => {
        for (const config of [stackConfig(), stackConfig({ cosmosPublicAccess: "true" })]) {
            const account = single(await evaluateOnce(config), T.account);
            assert.equal(account.inputs.minimalTlsVersion, "Tls12");
            assert.equal(account.inputs.disableKeyBasedMetadataWriteAccess, true);
        }
    });

    it("turns on encryption at host only when asked (it needs a feature registration)", async () => {
        const encrypted = await evaluateOnce(stackConfig({ encryptionAtHost: "true" }));
        assert.equal(single(encrypted, T.vm).inputs.securityProfile.encryptionAtHost, true);
        // Absent, not false: Azure refuses the property, even false, on subscriptions without the feature.
        assert.ok(!("encryptionAtHost" in single(stack, T.vm).inputs.securityProfile));
    });
});

describe("proof on deploy (verifyOnDeploy)", () => {
    let stack: Evaluation;
    before(async () => {
        stack = await evaluateOnce(stackConfig());
    });

    it("runs the key-fetch script on the VM with Run Command, synchronously, failing the deployment if it fails", () => {
        const run = single(stack, T.runCommand);
        const vm = single(stack, T.vm);
        assert.equal(run.inputs.vmName, vm.state.name);
        assert.equal(run.inputs.resourceGroupName, single(stack, T.rg).state.name);
        assert.equal(run.inputs.runCommandName, "verify-cosmos-access");
        assert.equal(run.inputs.asyncExecution, false);
        assert.equal(run.inputs.treatFailureAsDeploymentFailure, true);
        assert.equal(run.inputs.timeoutInSeconds, 2400);
        // `pulumi up` waits a little longer than Azure lets the script run (5 minutes for the agent to
        // pick the run up and report it), not azure-native's default 120 minutes.
        assert.equal(VERIFICATION_TIMEOUT_SECONDS, 2400);
        assert.deepEqual(run.customTimeouts, { create: "45m", update: "45m", delete: "" });
        // Exactly the exported script, with no parameters: in particular never -ShowKeys.
        assert.deepEqual(run.inputs.source, { script: stack.outputs.keyFetchScript.value });
        assert.equal(run.inputs.parameters, undefined);
        assert.equal(run.inputs.protectedParameters, undefined);
    });

    it("runs only after the role assignment and the container exist, and after the VM's extension (Azure refuses overlapping extension operations)", () => {
        const run = single(stack, T.runCommand);
        for (const needed of [single(stack, T.roleAssignment), single(stack, T.container), single(stack, T.vm), single(stack, T.extension)]) {
            assert.ok(run.dependencies.includes(needed.urn), `the run command must wait for ${needed.type}`);
        }
    });

    it("is deleted with the VM, so destroy works while the VM is stopped", () => {
        assert.equal(single(stack, T.runCommand).deletedWith, single(stack, T.vm).urn);
    });

    it("reads the run's outcome from its instance view, after the run finished, and exports state, exit code and summary only", () => {
        const run = single(stack, T.runCommand);
        const reads = stack.invokes.filter((invoke) => invoke.token === "azure-native:compute:getVirtualMachineRunCommandByVirtualMachine");
        assert.equal(reads.length, 1);
        assert.deepEqual(reads[0].inputs, {
            resourceGroupName: single(stack, T.rg).state.name,
            vmName: single(stack, T.vm).state.name,
            runCommandName: run.state.name,
            expand: "instanceView",
        });
        // Read once the run command's own registration finished (with asyncExecution false: when the
        // script ended), never before: it waits on the run's outputs, not on a name written twice.
        assert.ok(reads[0].order > run.order, `the instance view was read at ${reads[0].order}, the run finished at ${run.order}`);
        // The script's masked summary without the line breaks' padding; nothing of the error stream or timestamps.
        assert.deepEqual(stack.outputs.verification, {
            value: {
                state: "Succeeded",
                exitCode: 0,
                summary: "Managed identity token acquired\r\n  primaryReadonlyMasterKey: sha256:1a2b3c4d\r\nOK: the primaryReadonlyMasterKey read container 'Test'",
            },
            secret: false,
            known: true,
        });
    });

    it("re-runs when the script changes, and not when nothing changed", async () => {
        const same = await evaluate(stackConfig());
        assert.deepEqual(single(same, T.runCommand).inputs, single(stack, T.runCommand).inputs, "an unchanged stack: no diff, no run");
        const changed = await evaluateOnce(stackConfig({ accessLevel: "readwrite" }));
        const before = single(stack, T.runCommand).inputs;
        const after = single(changed, T.runCommand).inputs;
        assert.notEqual(after.source.script, before.source.script, "a changed script is an update, which runs it again");
        assert.deepEqual({ ...after, source: undefined }, { ...before, source: undefined }, "only the script differs");
    });

    it("disappears with verifyOnDeploy: false", async () => {
        const off = await evaluateOnce(stackConfig({ verifyOnDeploy: "false" }));
        assert.equal(ofType(off, T.runCommand).length, 0);
        assert.equal(off.invokes.filter((invoke) => invoke.token.includes("RunCommand")).length, 0);
        assert.deepEqual(off.outputs.verification.value, { state: "NotRun", exitCode: null, summary: "verifyOnDeploy is false; run the script with runOnVmCommand" });
    });
});

describe("the stack with its options set", () => {
    it("readwrite: DocumentDB Account Contributor and a listKeys script", async () => {
        const stack = await evaluateOnce(stackConfig({ accessLevel: "readwrite" }));
        const assignment = single(stack, T.roleAssignment);
        assert.equal(assignment.inputs.roleDefinitionId, `/subscriptions/${SUBSCRIPTION_ID}/providers/Microsoft.Authorization/roleDefinitions/${CONTRIBUTOR_ROLE_ID}`);
        assert.equal(stack.outputs.roleDefinitionName.value, "DocumentDB Account Contributor");
        assert.ok(String(stack.outputs.keyFetchScript.value).includes(`[string]$AccessLevel = 'readwrite'`));
    });

    it("RDP from listed addresses only, through one rule", async () => {
        const stack = await evaluateOnce(stackConfig({ rdpAllowedFrom: '["203.0.113.7", "198.51.100.0/24"]' }));
        assert.deepEqual(single(stack, T.nsg).inputs.securityRules, [{
            name: "AllowRdpFromListedAddresses",
            priority: 1000,
            direction: "Inbound",
            access: "Allow",
            protocol: "Tcp",
            sourceAddressPrefixes: ["203.0.113.7", "198.51.100.0/24"],
            sourcePortRange: "*",
            destinationAddressPrefix: "VirtualNetwork",
            destinationPortRange: "3389",
            description: "RDP from the addresses in cosmos-vm-identity:rdpAllowedFrom",
        }]);
    });

    it("uses the stack's secret admin password instead of generating one, and keeps it secret", async () => {
        const stack = await evaluateOnce(stackConfig({ adminPassword: "Stack-Secret-Pw9" }), { secretKeys: ["cosmos-vm-identity:adminPassword"] });
        assert.equal(ofType(stack, T.password).length, 0);
        const vm = single(stack, T.vm);
        assert.equal(vm.inputs.osProfile.adminPassword, "Stack-Secret-Pw9");
        assert.deepEqual(vm.secretInputs, ["osProfile.adminPassword"]);
        assert.deepEqual(stack.outputs.adminPassword, { value: "Stack-Secret-Pw9", secret: true, known: true });
    });

    it("passes every other setting through", async () => {
        const stack = await evaluateOnce(stackConfig({
            vmSize: "Standard_B2as_v2", adminUsername: "cosmosadmin", windowsImageSku: "2022-datacenter-azure-edition",
            autoShutdownTime: "07:30", autoShutdownTimeZone: "W. Europe Standard Time", cosmosLocation: "northeurope",
            freeTier: "true", databaseName: "Orders", containerName: "Lines", partitionKeyPath: "/orderId", throughput: "1000",
        }));
        const vm = single(stack, T.vm);
        assert.equal(vm.inputs.hardwareProfile.vmSize, "Standard_B2as_v2");
        assert.equal(vm.inputs.osProfile.adminUsername, "cosmosadmin");
        assert.equal(vm.inputs.storageProfile.imageReference.sku, "2022-datacenter-azure-edition");
        const schedule = single(stack, T.schedule);
        assert.deepEqual(schedule.inputs.dailyRecurrence, { time: "0730" });
        assert.equal(schedule.inputs.timeZoneId, "W. Europe Standard Time");
        const account = single(stack, T.account);
        assert.equal(account.inputs.location, "northeurope");
        assert.deepEqual(account.inputs.locations.map((l: { locationName: string }) => l.locationName), ["northeurope"]);
        assert.equal(account.inputs.enableFreeTier, true);
        const container = single(stack, T.container);
        assert.equal(container.inputs.databaseName, "Orders");
        assert.equal(container.inputs.containerName, "Lines");
        assert.deepEqual(container.inputs.resource.partitionKey.paths, ["/orderId"]);
        assert.deepEqual(container.inputs.options, { throughput: 1000 });
        assert.equal(stack.outputs.databaseName.value, "Orders");
        assert.equal(stack.outputs.containerName.value, "Lines");
        assert.equal(stack.outputs.adminUsername.value, "cosmosadmin");
    });

    it("declares no auto-shutdown schedule when autoShutdownTime is off", async () => {
        const stack = await evaluateOnce(stackConfig({ autoShutdownTime: "off" }));
        assert.equal(ofType(stack, T.schedule).length, 0);
        assert.equal(ofType(stack, T.vm).length, 1);
    });

    it("uses the sovereign cloud's Resource Manager endpoint as the token resource", async () => {
        const stack = await evaluateOnce(stackConfig({ "azure-native:environment": "usgovernment" }));
        assert.ok(String(stack.outputs.keyFetchScript.value).includes(`[string]$ResourceManagerEndpoint = 'https://management.usgovcloudapi.net/'`));
    });
});

describe("invalid configuration", () => {
    it("declares nothing at all and reports every problem at once", async () => {
        const stack = await evaluateOnce(stackConfig({ throughput: "450", partitionKeyPath: "id", rdpAllowedFrom: '["0.0.0.0/0"]' }));
        assert.ok(stack.error instanceof ConfigError, String(stack.error));
        assert.deepEqual(stack.error.problems.map((p) => p.key).sort(), [
            "cosmos-vm-identity:partitionKeyPath", "cosmos-vm-identity:rdpAllowedFrom", "cosmos-vm-identity:throughput",
        ]);
        assert.deepEqual(stack.resources, []);
        assert.deepEqual(stack.invokes, []);
    });

    it("declares nothing without azure-native:location", async () => {
        const stack = await evaluateOnce({});
        assert.ok(stack.error instanceof ConfigError);
        assert.deepEqual(stack.resources, []);
    });
});

describe("keyless mode (accessMode: rbac)", () => {
    for (const [level, roleName, roleId] of [
        ["readonly", "Cosmos DB Built-in Data Reader", "00000000-0000-0000-0000-000000000001"],
        ["readwrite", "Cosmos DB Built-in Data Contributor", "00000000-0000-0000-0000-000000000002"],
    ] as const) {
        it(`${level}: grants ${roleName} through a Cosmos DB SQL role assignment on the account, and no key role`, async () => {
            const stack = await evaluateOnce(stackConfig({ accessMode: "rbac", accessLevel: level }));
            assert.equal(stack.error, undefined, String(stack.error));
            assert.equal(ofType(stack, T.roleAssignment).length, 0, "no control-plane key role");
            const assignment = single(stack, T.sqlRoleAssignment);
            const account = single(stack, T.account);
            const vm = single(stack, T.vm);
            assert.equal(assignment.inputs.principalId, VM_PRINCIPAL_ID);
            assert.equal(assignment.inputs.scope, account.id);
            assert.equal(assignment.inputs.roleDefinitionId, `${account.id}/sqlRoleDefinitions/${roleId}`);
            assert.equal(assignment.inputs.accountName, account.state.name);
            assert.equal(assignment.inputs.resourceGroupName, single(stack, T.rg).state.name);
            assert.match(assignment.inputs.roleAssignmentId, /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
            assert.equal(assignment.deleteBeforeReplace, true);
            assert.ok(assignment.dependencies.includes(vm.urn) && assignment.dependencies.includes(account.urn));
            // Cosmos DB runs one control-plane operation per account at a time: the assignment waits for the container.
            assert.ok(assignment.dependencies.includes(single(stack, T.container).urn));
            assert.equal(stack.outputs.roleDefinitionName.value, roleName);
            assert.equal(stack.outputs.roleAssignmentId.value, assignment.id);
            assert.equal(stack.outputs.accessMode.value, "rbac");
            assert.match(String(stack.outputs.accessSummary.value), new RegExp(`^rbac mode: the VM's identity holds ${roleName} .* Keys are disabled on the account`));
        });
    }

    it("disables local (key) authentication on the account", async () => {
        const stack = await evaluateOnce(stackConfig({ accessMode: "rbac" }));
        assert.equal(single(stack, T.account).inputs.disableLocalAuth, true);
    });

    it("renders the script in rbac mode and verifies on deploy after the SQL role assignment", async () => {
        const stack = await evaluateOnce(stackConfig({ accessMode: "rbac" }));
        const script = String(stack.outputs.keyFetchScript.value);
        assert.ok(script.includes("[string]$AccessMode = 'rbac'"));
        const run = single(stack, T.runCommand);
        assert.equal(run.inputs.source.script, script);
        assert.ok(run.dependencies.includes(single(stack, T.sqlRoleAssignment).urn));
        assert.ok(run.dependencies.includes(single(stack, T.container).urn));
    });

    it("keeps the role assignment id stable across runs and changes it with the role", async () => {
        const id = async (config: Record<string, string>) => single(await evaluateOnce(stackConfig(config)), T.sqlRoleAssignment).inputs.roleAssignmentId;
        const reader = await id({ accessMode: "rbac" });
        assert.equal(await id({ accessMode: "rbac" }), reader);
        assert.notEqual(await id({ accessMode: "rbac", accessLevel: "readwrite" }), reader);
    });

    it("switching modes updates the account in place: only disableLocalAuth changes, so no replacement and no data loss", async () => {
        const keys = await evaluateOnce(stackConfig());
        const rbac = await evaluateOnce(stackConfig({ accessMode: "rbac" }));
        // Classified with azure-native's rules and the resource options, as the change-impact table is.
        const changes = classifyChanges(keys, rbac);
        const of = (type: string) => changes.filter((c) => c.type === type).map((c) => ({ kind: c.kind, paths: c.paths }));
        assert.deepEqual(of(T.account), [{ kind: "update", paths: ["disableLocalAuth"] }]);
        for (const type of [T.rg, T.database, T.container, T.vm, T.subnet, T.nsg, T.vnet, T.nic, T.pip, T.extension]) {
            assert.deepEqual(of(type), [{ kind: "same", paths: [] }], `${type} is untouched`);
        }
        // The grant is swapped: the key role goes, the data role comes.
        assert.deepEqual(of(T.roleAssignment), [{ kind: "delete", paths: [] }]);
        assert.deepEqual(of(T.sqlRoleAssignment), [{ kind: "create", paths: [] }]);
        // The script changes (its AccessMode default), so the deploy-time verification runs again, in the new mode.
        assert.deepEqual(of(T.runCommand), [{ kind: "update", paths: ["source.script"] }]);
        assert.deepEqual(changes.filter((c) => c.kind === "replace" || c.kind === "refused"), []);
    });
});

describe("settings Azure fixes at creation", () => {
    const trigger = (stack: Evaluation, type: string) => single(stack, type).replacementTrigger;

    it("replace the VM with its NIC and public IP together, through one trigger that hides the password", async () => {
        const stack = await evaluateOnce(stackConfig({ adminPassword: "Stack-Secret-Pw9" }));
        const vmTrigger = trigger(stack, T.vm);
        assert.match(String(vmTrigger), /^[0-9a-f]{64}$/);
        assert.equal(trigger(stack, T.nic), vmTrigger);
        assert.equal(trigger(stack, T.pip), vmTrigger);
        assert.ok(!String(vmTrigger).includes("Stack-Secret-Pw9"));
        // Nothing else is replaced with the VM.
        for (const type of [T.subnet, T.vnet, T.nsg, T.account, T.container]) assert.equal(trigger(stack, type), undefined, type);
    });

    it("change the trigger (a replacement) only when a create-only setting changes", async () => {
        const base = trigger(await evaluateOnce(stackConfig()), T.vm);
        assert.equal(trigger(await evaluate(stackConfig()), T.vm), base, "re-run: no replacement");
        assert.equal(trigger(await evaluateOnce(stackConfig({ throughput: "800", rdpAllowedFrom: "203.0.113.7" })), T.vm), base, "updatable settings: no replacement");
        const changes: Record<string, string>[] = [
            { windowsImageSku: "2022-datacenter-azure-edition" },
            { adminUsername: "cosmosadmin" },
            { adminPassword: "Another-Secret-7" },
            { encryptionAtHost: "true" },
        ];
        for (const change of changes) {
            assert.notEqual(trigger(await evaluateOnce(stackConfig(change)), T.vm), base, JSON.stringify(change));
        }
    });
});

describe("tags", () => {
    /** Whether azure-native's arguments for a resource type take `tags`, read off its type declarations. */
    function takesTags(type: string): boolean {
        const [, module, resource] = type.split(":");
        const file = path.join(PROJECT_ROOT, "node_modules", "@pulumi", "azure-native", module, `${resource[0].toLowerCase()}${resource.slice(1)}.d.ts`);
        const declaration = fs.readFileSync(file, "utf8");
        const args = new RegExp(`^export interface ${resource}Args \\{\\n([\\s\\S]*?)^\\}`, "m").exec(declaration);
        assert.ok(args, `no ${resource}Args in ${file}`);
        return /^    tags\?:/m.test(args[1]);
    }

    it("puts project, stack and the stack's own tags on every resource that takes tags, in both modes", async () => {
        for (const accessMode of ["keys", "rbac"]) {
            const stack = await evaluateOnce(stackConfig({ accessMode, tags: '{"costCenter":"1234","owner":"Data team"}' }));
            const azure = stack.resources.filter((r) => r.custom && r.type.startsWith("azure-native:"));
            const tagged = azure.filter((r) => takesTags(r.type));
            // The resource group, NSG, VNet, public IP, NIC, VM, extension, schedule, account, database, container, Run Command.
            assert.equal(tagged.length, 12, tagged.map((r) => r.type).join(", "));
            for (const resource of tagged) {
                assert.deepEqual(resource.inputs.tags, { costCenter: "1234", owner: "Data team", project: "cosmos-vm-identity", stack: "dev" }, `${resource.type} ${resource.name}`);
            }
            // The subnet and the role assignments take none: sending tags there would be refused.
            for (const resource of azure.filter((r) => !takesTags(r.type))) assert.equal(resource.inputs.tags, undefined, resource.type);
        }
    });

    it("tags with project and stack alone by default, named after the stack the program runs in", async () => {
        const stack = await evaluateOnce(stackConfig(), { stack: "prod" });
        assert.deepEqual(single(stack, T.vm).inputs.tags, { project: "cosmos-vm-identity", stack: "prod" });
        assert.deepEqual(single(stack, T.account).inputs.tags, { project: "cosmos-vm-identity", stack: "prod" });
    });

    it("changes nothing but tags when tags change: an update in place, no replacement trigger moves", async () => {
        const [before, after] = [await evaluateOnce(stackConfig()), await evaluateOnce(stackConfig({ tags: '{"costCenter":"1234"}' }))];
        for (const resource of before.resources.filter((r) => r.custom)) {
            const next = after.resources.find((r) => r.urn === resource.urn);
            assert.ok(next, `${resource.urn} is gone`);
            assert.deepEqual({ ...next.inputs, tags: undefined }, { ...resource.inputs, tags: undefined }, resource.urn);
            assert.deepEqual(next.replacementTrigger, resource.replacementTrigger, resource.urn);
        }
    });
});
