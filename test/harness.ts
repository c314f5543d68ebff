// The tests' view of the program: Pulumi's mocks with a fake Azure that answers with fixed,
// recognisable values, and helpers to pick resources out of an evaluation.
import { EvaluateOptions, Evaluation, DeclaredResource, evaluateProgram, FakeAzure } from "../model/mockEngine";

export { PROJECT_ROOT } from "../model/mockEngine";
export type { DeclaredResource, Evaluation, EvaluateOptions, StackOutput } from "../model/mockEngine";

import { SUBSCRIPTION_ID, TENANT_ID } from "./support/ids";

export { SUBSCRIPTION_ID, TENANT_ID };
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

/** The config a stack needs at the least. */
export const MINIMAL_CONFIG: Record<string, string> = { "azure-native:location": "westeurope" };

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

const TEST_AZURE: FakeAzure = {
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

// Pulumi's runtime is process-wide: evaluations must not overlap, so each waits for the last.
let lastEvaluation: Promise<unknown> = Promise.resolve();

/**
 * Runs the program with the given config (full keys, e.g. `cosmos-vm-identity:throughput`) against
 * the test Azure (or another, such as `npm run plan`'s): a fresh evaluation each call. For a test
 * about re-running the program; other tests share evaluations through `evaluateOnce`.
 */
export function evaluate(config: Record<string, string>, options: EvaluateOptions = {}, azure: FakeAzure = TEST_AZURE): Promise<Evaluation> {
    const evaluation = lastEvaluation.then(() => evaluateProgram(config, azure, options));
    lastEvaluation = evaluation.catch(() => undefined);
    return evaluation;
}

const shared = new Map<string, Promise<Evaluation>>();

/**
 * The evaluation of a configuration, made once per test file and shared by every test that reads
 * it (an evaluation costs about a quarter of a second of CPU). Frozen: a test cannot change what
 * another test sees.
 */
export function evaluateOnce(config: Record<string, string>, options: EvaluateOptions = {}): Promise<Evaluation> {
    const key = JSON.stringify([Object.entries(config).sort(), options]);
    let evaluation = shared.get(key);
    if (!evaluation) {
        evaluation = evaluate(config, options).then(deepFreeze);
        shared.set(key, evaluation);
    }
    return evaluation;
}

function deepFreeze<T>(value: T): T {
    if (value !== null && typeof value === "object" && !Object.isFrozen(value)) {
        Object.freeze(value);
        for (const child of Object.values(value)) deepFreeze(child);
    }
    return value;
}

/** The one resource of a type (and optionally a name); fails the test when there is not exactly one. */
export function single(evaluation: Evaluation, type: string, name?: string): DeclaredResource {
    const matches = evaluation.resources.filter((r) => r.type === type && (name === undefined || r.name === name));
    if (matches.length !== 1) {
        throw new Error(`expected one ${type}${name ? ` named ${name}` : ""}, found ${matches.length}: ${evaluation.resources.map((r) => `${r.type}/${r.name}`).join(", ")}`);
    }
    return matches[0];
}

export function ofType(evaluation: Evaluation, type: string): DeclaredResource[] {
    return evaluation.resources.filter((r) => r.type === type);
}

/** A config map with the project's namespace added to short keys. */
export function stackConfig(values: Record<string, string> = {}): Record<string, string> {
    const config: Record<string, string> = { ...MINIMAL_CONFIG };
    for (const [key, value] of Object.entries(values)) config[key.includes(":") ? key : `cosmos-vm-identity:${key}`] = value;
    return config;
}
