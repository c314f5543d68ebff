// How `npm run plan` shows an evaluation: the resource tree with the settings a reviewer checks
// first, the dependency graph as Mermaid, and the outputs. Pure: an evaluation in, text out.
import { DATA_ACCESS_ROLES, KEY_ACCESS_ROLES } from "../../lib/roles";
import type { DeclaredResource, Evaluation } from "../../model/mockEngine";

const shortType = (type: string) => type.replace(/^azure-native:/, "").replace(/^cosmos-vm-identity:index:/, "component:").replace(/^random:index\/\w+:/, "random:");

const ROLE_NAMES = new Map<string, string>([
    ...Object.values(KEY_ACCESS_ROLES).map((role): [string, string] => [role.id, role.name]),
    ...Object.values(DATA_ACCESS_ROLES).map((role): [string, string] => [role.id, role.name]),
]);

/** The few settings of each resource that a reviewer checks first. */
export function settingsOf(resource: DeclaredResource): string[] {
    const i = resource.inputs;
    const roleOf = (definitionId: string) => {
        const id = String(definitionId).split("/").pop() ?? "";
        return `${ROLE_NAMES.get(id) ?? id}`;
    };
    const scopeOf = (scope: string) => String(scope).replace(/^.*\/providers\//, ".../providers/");
    switch (resource.type.split(":").slice(1).join(":")) {
        case "resources:ResourceGroup": return [`location ${i.location}`];
        case "network:NetworkSecurityGroup": {
            const rules = (i.securityRules ?? []) as { name: string; access: string; direction: string; sourceAddressPrefixes?: string[]; destinationPortRange?: string }[];
            return rules.length === 0 ? ["no inbound rules (Azure's defaults deny the Internet)"]
                : rules.map((r) => `${r.direction} ${r.access} ${r.destinationPortRange} from ${(r.sourceAddressPrefixes ?? []).join(", ")}`);
        }
        case "network:VirtualNetwork": return [`address space ${(i.addressSpace?.addressPrefixes ?? []).join(", ")}`];
        case "network:Subnet": return [`prefix ${i.addressPrefix}`, `service endpoints ${(i.serviceEndpoints ?? []).map((e: { service: string }) => e.service).join(", ") || "none"}`, "NSG attached", `default outbound ${i.defaultOutboundAccess === false ? "off" : "on"}`];
        case "network:PublicIPAddress": return [`${i.sku?.name} ${i.publicIPAllocationMethod}`];
        case "network:NetworkInterface": return ["public IP and subnet attached"];
        case "compute:VirtualMachine": return [
            `size ${i.hardwareProfile?.vmSize}`,
            `image ${i.storageProfile?.imageReference?.sku}`,
            `identity ${i.identity?.type}`,
            `${i.securityProfile?.securityType} (secure boot ${i.securityProfile?.uefiSettings?.secureBootEnabled}, vTPM ${i.securityProfile?.uefiSettings?.vTpmEnabled}, encryption at host ${i.securityProfile?.encryptionAtHost === true})`,
            `admin ${i.osProfile?.adminUsername}, password secret: ${resource.secretInputs.includes("osProfile.adminPassword")}`,
            `OS disk and NIC deleted with the VM: ${i.storageProfile?.osDisk?.deleteOption === "Delete" && i.networkProfile?.networkInterfaces?.[0]?.deleteOption === "Delete"}`,
        ];
        case "compute:VirtualMachineExtension": return [`${i.publisher} ${i.type} ${i.typeHandlerVersion}`];
        case "devtestlab:GlobalSchedule": return [`daily shutdown at ${i.dailyRecurrence?.time} ${i.timeZoneId}`];
        case "cosmosdb:DatabaseAccount": return [
            `NoSQL (${i.kind}) in ${i.location}, ${i.consistencyPolicy?.defaultConsistencyLevel} consistency, TLS ${String(i.minimalTlsVersion).replace("Tls", "").replace(/(\d)(\d)/, "$1.$2")} minimum`,
            i.isVirtualNetworkFilterEnabled
                ? `network: VNet rules ${(i.virtualNetworkRules ?? []).length}, IP rules ${(i.ipRules ?? []).map((r: { ipAddressOrRange: string }) => r.ipAddressOrRange).join(", ") || "none"}`
                : "network: every network (cosmosPublicAccess)",
            `keys ${i.disableLocalAuth ? "disabled (Entra ID only)" : "enabled"}, key-based metadata writes ${i.disableKeyBasedMetadataWriteAccess ? "disabled" : "enabled"}, free tier ${i.enableFreeTier}`,
        ];
        case "cosmosdb:SqlResourceSqlDatabase": return [`database ${i.databaseName}`];
        case "cosmosdb:SqlResourceSqlContainer": return [`container ${i.containerName}`, `partition key ${(i.resource?.partitionKey?.paths ?? []).join(", ")}`, `${i.options?.throughput} RU/s`];
        case "authorization:RoleAssignment": return [`role ${roleOf(i.roleDefinitionId)}`, `to ${i.principalType} ${i.principalId}`, `scope ${scopeOf(i.scope)}`];
        case "cosmosdb:SqlResourceSqlRoleAssignment": return [`data role ${roleOf(i.roleDefinitionId)}`, `to ${i.principalId}`, `scope ${scopeOf(i.scope)}`];
        case "compute:VirtualMachineRunCommandByVirtualMachine": return [`runs the key-fetch script on ${i.vmName}`, `synchronous, fails the deployment on failure, timeout ${i.timeoutInSeconds} s`];
        case "index/randomPassword:RandomPassword": return [`${i.length} characters, secret`];
        default: return [];
    }
}

/** Direct "waits for" edges between custom resources (dependency URN to dependent URN), transitive ones dropped. */
export function directDependencies(evaluation: Evaluation): [string, string][] {
    const custom = new Set(evaluation.resources.filter((r) => r.custom).map((r) => r.urn));
    const needs = new Map<string, Set<string>>();
    for (const resource of evaluation.resources.filter((r) => r.custom)) {
        needs.set(resource.urn, new Set(resource.dependencies.filter((urn) => custom.has(urn))));
    }
    const reachable = (from: string, target: string, seen = new Set<string>()): boolean => {
        for (const next of needs.get(from) ?? []) {
            if (next === target) return true;
            if (!seen.has(next)) {
                seen.add(next);
                if (reachable(next, target, seen)) return true;
            }
        }
        return false;
    };
    const edges: [string, string][] = [];
    for (const [dependent, dependencies] of needs) {
        for (const dependency of dependencies) {
            // Keep the edge unless another dependency already waits for it.
            const implied = [...dependencies].some((other) => other !== dependency && reachable(other, dependency));
            if (!implied) edges.push([dependency, dependent]);
        }
    }
    return edges;
}

/** How deep in the dependency graph a resource sits (0 for one that waits for nothing); components take their shallowest child's. */
function depths(evaluation: Evaluation): Map<string, number> {
    const depth = new Map<string, number>();
    const byUrn = new Map(evaluation.resources.map((r) => [r.urn, r]));
    const of = (urn: string): number => {
        const known = depth.get(urn);
        if (known !== undefined) return known;
        depth.set(urn, 0);
        const resource = byUrn.get(urn)!;
        const custom = resource.dependencies.filter((d) => byUrn.get(d)?.custom);
        const value = custom.length === 0 ? 0 : 1 + Math.max(...custom.map(of));
        depth.set(urn, value);
        return value;
    };
    for (const resource of evaluation.resources.filter((r) => r.custom)) of(resource.urn);
    const component = (urn: string): number => Math.min(...evaluation.resources
        .filter((r) => r.parent === urn).map((r) => (r.custom ? depth.get(r.urn)! : component(r.urn))), Number.MAX_SAFE_INTEGER);
    for (const resource of evaluation.resources.filter((r) => !r.custom)) depth.set(resource.urn, component(resource.urn));
    return depth;
}

/** The resource tree, children under their component, in dependency order (what is created first comes first). */
export function renderTree(evaluation: Evaluation, project: string, stackName: string): string {
    const lines = [`+ pulumi:pulumi:Stack ${project}-${stackName}`];
    const depth = depths(evaluation);
    const visit = (parentUrn: string, level: number) => {
        const children = evaluation.resources.filter((r) => r.parent === parentUrn)
            .sort((a, b) => depth.get(a.urn)! - depth.get(b.urn)! || a.name.localeCompare(b.name));
        for (const resource of children) {
            lines.push(`${"    ".repeat(level)}+ ${shortType(resource.type)} ${resource.name}`);
            for (const setting of settingsOf(resource)) lines.push(`${"    ".repeat(level + 1)}  ${setting}`);
            visit(resource.urn, level + 1);
        }
    };
    visit("", 1);
    return lines.join("\n");
}

/**
 * The dependency graph as a Mermaid flowchart: custom resources grouped by component, an arrow
 * from each resource to those that wait for it (direct waits only). Sorted, so it is stable.
 */
export function renderMermaid(evaluation: Evaluation): string {
    const custom = evaluation.resources.filter((r) => r.custom);
    const byUrn = new Map(evaluation.resources.map((r) => [r.urn, r]));
    const nodeId = (r: DeclaredResource) => r.name.replace(/[^A-Za-z0-9]/g, "_");
    const label = (r: DeclaredResource) => `${nodeId(r)}["${r.type.split(":").pop()}<br/>${r.name}"]`;
    const lines = ["flowchart LR"];
    const groups = new Map<string, DeclaredResource[]>();
    for (const resource of custom) {
        const parent = byUrn.get(resource.parent);
        const key = parent && !parent.custom ? parent.urn : "";
        groups.set(key, [...(groups.get(key) ?? []), resource]);
    }
    for (const [parentUrn, members] of [...groups].sort(([a], [b]) => a.localeCompare(b))) {
        const sorted = [...members].sort((a, b) => nodeId(a).localeCompare(nodeId(b)));
        if (parentUrn === "") {
            for (const member of sorted) lines.push(`    ${label(member)}`);
            continue;
        }
        const parent = byUrn.get(parentUrn)!;
        lines.push(`    subgraph ${nodeId(parent)}_${parent.type.split(":").pop()}["${parent.type.split(":").pop()} ${parent.name}"]`);
        for (const member of sorted) lines.push(`        ${label(member)}`);
        lines.push("    end");
    }
    const edges = directDependencies(evaluation).map(([from, to]) => `    ${nodeId(byUrn.get(from)!)} --> ${nodeId(byUrn.get(to)!)}`);
    lines.push(...edges.sort());
    return lines.join("\n") + "\n";
}

export function renderOutputs(evaluation: Evaluation): string {
    return Object.entries(evaluation.outputs)
        .filter(([name]) => name !== "keyFetchScript")
        .map(([name, output]) => `    ${name}: ${output.secret ? "[secret]" : typeof output.value === "string" ? output.value : JSON.stringify(output.value)}`)
        .join("\n");
}
