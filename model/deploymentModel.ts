// The deployment's critical path, modelled: the program's real dependency graph (from an
// evaluation under mocks) with each resource type's typical provisioning time, against the ideal
// in which the Cosmos DB chain and the VM chain run fully in parallel. Pure.
import { schedule, Schedule, Task } from "./criticalPath";
import type { Evaluation } from "./mockEngine";

/**
 * Typical provisioning times, in seconds, for a create in one region. Order-of-magnitude figures:
 * Microsoft documents Cosmos DB account creation as taking "a few minutes" and Windows VM creation
 * as a few minutes; the rest are seconds. docs/benchmarks.md shows that the conclusion holds across a
 * range of them.
 */
export const PROVISIONING_SECONDS: Record<string, number> = {
    "azure-native:resources:ResourceGroup": 2,
    "random:index/randomPassword:RandomPassword": 0,
    "azure-native:network:NetworkSecurityGroup": 5,
    "azure-native:network:VirtualNetwork": 5,
    "azure-native:network:Subnet": 5,
    "azure-native:network:PublicIPAddress": 5,
    "azure-native:network:NetworkInterface": 5,
    "azure-native:compute:VirtualMachine": 150,
    "azure-native:compute:VirtualMachineExtension": 60,
    "azure-native:devtestlab:GlobalSchedule": 3,
    "azure-native:cosmosdb:DatabaseAccount": 480,
    "azure-native:cosmosdb:SqlResourceSqlDatabase": 20,
    "azure-native:cosmosdb:SqlResourceSqlContainer": 20,
    "azure-native:authorization:RoleAssignment": 5,
    "azure-native:cosmosdb:SqlResourceSqlRoleAssignment": 30,
    // The script itself: IMDS, waiting for the new role to apply, the keys, the container read.
    "azure-native:compute:VirtualMachineRunCommandByVirtualMachine": 120,
};

export interface DeploymentModel {
    actual: Schedule;
    ideal: Schedule;
    /** actual / ideal: 1.0 means the graph loses nothing to needless waiting. */
    ratio: number;
}

/** Which chain a resource belongs to: the VM's, the Cosmos account's, or neither (grants, proof, shared). */
function chainOf(evaluation: Evaluation, urn: string): "vm" | "cosmos" | "other" {
    const parent = evaluation.resources.find((r) => r.urn === evaluation.resources.find((x) => x.urn === urn)?.parent);
    if (parent?.type === "cosmos-vm-identity:index:WindowsVm") return "vm";
    if (parent?.type === "cosmos-vm-identity:index:CosmosNoSqlAccount") return "cosmos";
    return "other";
}

export function modelDeployment(evaluation: Evaluation, seconds: Record<string, number> = PROVISIONING_SECONDS): DeploymentModel {
    const custom = evaluation.resources.filter((r) => r.custom);
    const known = new Set(custom.map((r) => r.urn));
    const tasks = (keep: (from: string, to: string) => boolean): Task[] => custom.map((resource) => {
        const duration = seconds[resource.type];
        if (duration === undefined) throw new Error(`no provisioning time for ${resource.type}`);
        return {
            id: resource.name,
            seconds: duration,
            waitsFor: resource.dependencies.filter((urn) => known.has(urn) && keep(urn, resource.urn))
                .map((urn) => custom.find((r) => r.urn === urn)!.name),
        };
    });
    const actual = schedule(tasks(() => true));
    // The ideal: no wait from one chain into the other; only the grant and the proof join them.
    const ideal = schedule(tasks((from, to) => {
        const [a, b] = [chainOf(evaluation, from), chainOf(evaluation, to)];
        return a === "other" || b === "other" || a === b;
    }));
    return { actual, ideal, ratio: actual.total / ideal.total };
}
