// cosmos-vm-identity: a Windows VM whose system-assigned managed identity reads an Azure Cosmos DB
// account's keys. Reads config, checks the change against the stack's last update, composes the
// components, returns the outputs; nothing else.
import * as pulumi from "@pulumi/pulumi";
import * as authorization from "@pulumi/azure-native/authorization";
import * as resources from "@pulumi/azure-native/resources";
import { RandomPassword } from "@pulumi/random/randomPassword";
import { CosmosDataAccessGrant } from "./components/cosmosDataAccessGrant";
import { CosmosKeyAccessGrant } from "./components/cosmosKeyAccessGrant";
import { CosmosNoSqlAccount } from "./components/cosmosNoSqlAccount";
import { KeyFetchVerification, VerificationResult } from "./components/keyFetchVerification";
import { WindowsVm } from "./components/windowsVm";
import { appliedSettings, settledExports } from "./lib/appliedRecord";
import { checkChanges, DEPLOYED_SETTINGS_OUTPUT, PreviousRecord, previousRecordFrom, requestedSettings, selfReferenceName, UnsafeChangeError } from "./lib/changeGuard";
import { stopUnlessUnchecked } from "./lib/guardStop";
import { parseConfig, RESOURCE_MANAGER_ENDPOINTS } from "./lib/config";
import { describeAccess } from "./lib/access";
import { renderKeyFetchScript } from "./lib/keyFetchScript";
import { resourceTags } from "./lib/tags";

export = async () => {
    // Validated before anything is declared: bad input creates nothing. The program's keys live in
    // the project's namespace, whatever name `pulumi new` gave the project.
    const settings = parseConfig(pulumi.runtime.allConfig(), pulumi.getProject());

    // Then the change itself, against the stack's own record of what Azure applied: an update or
    // preview of a change that would delete data or that Azure refuses stops here, before any Azure
    // resource is declared. A destroy or refresh that runs the program goes on (lib/guardStop.ts).
    const previous = await previousDeployment();
    const guard = checkChanges(previous, requestedSettings(settings), settings.allowDataLoss, pulumi.getProject());
    guard.warnings.forEach((warning) => pulumi.log.warn(warning));
    if (guard.problems.length > 0) await stopUnlessUnchecked(new UnsafeChangeError(guard.problems));

    // Every taggable resource carries the project and stack names and the stack's own tags.
    const tags = resourceTags(pulumi.getProject(), pulumi.getStack(), settings.tags);

    const resourceGroup = new resources.ResourceGroup("cosmos-vm-identity", { location: settings.location, tags });

    // The stack's secret, or a generated one; secret either way, wherever it flows.
    const password = pulumi.secret(settings.adminPassword ?? new RandomPassword("admin-password", {
        length: 24,
        minLower: 1, minUpper: 1, minNumeric: 1, minSpecial: 1,
        // Specials that need no quoting in RDP clients, shells or PowerShell.
        overrideSpecial: "-_.,:+=^",
    }).result);

    const vm = new WindowsVm("tutorial", {
        resourceGroupName: resourceGroup.name,
        location: settings.location,
        vmSize: settings.vmSize,
        imageSku: settings.windowsImageSku,
        adminUsername: settings.adminUsername,
        adminPassword: password,
        rdpAllowedFrom: settings.rdpAllowedFrom,
        autoShutdown: settings.autoShutdownTime === undefined
            ? undefined
            : { time: settings.autoShutdownTime, timeZone: settings.autoShutdownTimeZone },
        encryptionAtHost: settings.encryptionAtHost,
        // The Cosmos account admits the VM's subnet through this service endpoint. Kept even when the
        // account is public, so that switching cosmosPublicAccess never removes an endpoint a rule still uses.
        subnetServiceEndpoints: ["Microsoft.AzureCosmosDB"],
        tags,
    });

    const cosmos = new CosmosNoSqlAccount("tutorial", {
        resourceGroupName: resourceGroup.name,
        location: settings.cosmosLocation,
        freeTier: settings.freeTier,
        databaseName: settings.databaseName,
        containerName: settings.containerName,
        partitionKeyPath: settings.partitionKeyPath,
        throughput: settings.throughput,
        network: settings.cosmosPublicAccess
            ? { allNetworks: true }
            : { allNetworks: false, subnetIds: [vm.subnetId], ipRanges: settings.cosmosAllowedIps },
        disableLocalAuth: settings.accessMode === "rbac",
        tags,
    });

    const subscriptionId = authorization.getClientConfigOutput().subscriptionId;

    // keys: the identity may read the account's keys (Azure RBAC). rbac: it may use the data plane itself (Cosmos DB RBAC).
    const access = settings.accessMode === "keys"
        ? new CosmosKeyAccessGrant("vm-reads-cosmos-keys", {
            principalId: vm.principalId,
            accountId: cosmos.accountId,
            subscriptionId,
            accessLevel: settings.accessLevel,
        })
        : new CosmosDataAccessGrant("vm-reads-cosmos-data", {
            principalId: vm.principalId,
            resourceGroupName: resourceGroup.name,
            accountName: cosmos.accountName,
            accountId: cosmos.accountId,
            accessLevel: settings.accessLevel,
            // Cosmos DB runs one control-plane operation per account at a time (412 otherwise).
            waitFor: [cosmos.container],
        });

    const keyFetchScriptText = pulumi
        .all([subscriptionId, resourceGroup.name, cosmos.accountName, cosmos.databaseName, cosmos.containerName, cosmos.endpoint])
        .apply(([subscription, group, account, database, container, endpoint]) => renderKeyFetchScript({
            subscriptionId: subscription,
            resourceGroupName: group,
            accountName: account,
            accessLevel: settings.accessLevel,
            accessMode: settings.accessMode,
            databaseName: database,
            containerName: container,
            resourceManagerEndpoint: RESOURCE_MANAGER_ENDPOINTS[settings.cloud],
            cosmosEndpoint: endpoint,
        }));

    // Proof on deploy: the script runs on the VM once the grant and the container exist.
    const verificationRun = settings.verifyOnDeploy
        ? new KeyFetchVerification("verify-key-fetch", {
            resourceGroupName: resourceGroup.name,
            location: settings.location,
            vm: vm.vm,
            script: keyFetchScriptText,
            // The grant and the container it proves; and the VM's extensions, which must not overlap it.
            waitFor: [access.assignment, cosmos.container, vm.extensionsReady],
            tags,
        })
        : undefined;

    // An output whose resource did not finish keeps its last value, rather than costing the others theirs.
    return settledExports({
        resourceGroupName: resourceGroup.name,
        vmName: vm.vmName,
        vmPrincipalId: vm.principalId,
        vmPublicIp: vm.publicIpAddress,
        adminUsername: settings.adminUsername,
        adminPassword: password,
        cosmosAccountName: cosmos.accountName,
        cosmosEndpoint: cosmos.endpoint,
        databaseName: cosmos.databaseName,
        containerName: cosmos.containerName,
        accessMode: settings.accessMode,
        accessSummary: describeAccess(settings.accessMode, settings.accessLevel),
        roleDefinitionName: access.roleDefinitionName,
        roleAssignmentId: access.roleAssignmentId,
        keyFetchScript: keyFetchScriptText,
        // Run Command v2 through commands/runOnVm.ts: prints the script's output and exits with its exit code.
        runOnVmCommand: pulumi.interpolate
            `npm run --silent run-on-vm -- --stack ${pulumi.getStack()} --subscription ${subscriptionId} --resource-group ${resourceGroup.name} --vm-name ${vm.vmName}`,
        verification: verificationRun?.result
            ?? pulumi.output<VerificationResult>({ state: "NotRun", exitCode: null, summary: "verifyOnDeploy is false; run the script with runOnVmCommand" }),
        // Plain, not secret: what the next update's change guard compares against. Each setting as its
        // resource applied it; one whose resource did not finish keeps its previous value.
        [DEPLOYED_SETTINGS_OUTPUT]: pulumi.output(appliedSettings(
            { resourceGroup, account: cosmos.account, database: cosmos.database, container: cosmos.container },
            previous?.settings ?? {})),
    });
};

/**
 * The guarded settings as Azure applied them in the stack's last update, read from its own outputs
 * through a stack reference to itself (a pattern Luke Hoban showed in pulumi/pulumi#3722), under the
 * name its backend resolves (selfReferenceName). It needs no file beside the program. A first update
 * has no outputs yet: undefined, nothing to compare.
 */
async function previousDeployment(): Promise<PreviousRecord | undefined> {
    const thisStack = new pulumi.StackReference("last-update", {
        name: selfReferenceName(pulumi.getOrganization(), pulumi.getProject(), pulumi.getStack(), process.env.PULUMI_BACKEND_URL),
    });
    const outputs: Record<string, unknown> = {};
    for (const name of [DEPLOYED_SETTINGS_OUTPUT, "databaseName", "containerName"]) {
        // None of these is secret; an older CLI that does not say which outputs are secret marks them all.
        const details = await thisStack.getOutputDetails(name);
        outputs[name] = details.value ?? details.secretValue;
    }
    return previousRecordFrom(outputs);
}
