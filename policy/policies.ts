// The security defaults of cosmos-vm-identity as CrossGuard policies, written against the
// azure-native resource classes. Mandatory where breaking the default is a risk, advisory where it
// is a hardening step with a cost. index.ts serves them as a policy pack.
import * as authorization from "@pulumi/azure-native/authorization";
import * as compute from "@pulumi/azure-native/compute";
import * as cosmosdb from "@pulumi/azure-native/cosmosdb";
import * as network from "@pulumi/azure-native/network";
import { ReportViolation, ResourceValidationPolicy, StackValidationPolicy, validateResourceOfType } from "@pulumi/policy";
import { KEY_ACCESS_ROLES } from "../lib/roles";

/** Remote management ports: SSH, RDP, WinRM. */
const MANAGEMENT_PORTS = [22, 3389, 5985, 5986];
const EVERYWHERE = new Set(["*", "internet", "any", "0.0.0.0", "0.0.0.0/0"]);
/** Key roles the stack may grant; anything else (Owner, Contributor, ...) is wider than key access. */
const ALLOWED_KEY_ROLE_IDS = Object.values(KEY_ACCESS_ROLES).map((role) => role.id);
/** Cosmos DB built-in data roles: Data Reader and Data Contributor. */
const ALLOWED_DATA_ROLE_IDS = ["00000000-0000-0000-0000-000000000001", "00000000-0000-0000-0000-000000000002"];

interface SecurityRuleLike {
    name?: string;
    direction?: string;
    access?: string;
    sourceAddressPrefix?: string;
    sourceAddressPrefixes?: string[];
    destinationPortRange?: string;
    destinationPortRanges?: string[];
}

/** Whether a source admits (most of) the Internet: a wildcard, the Internet tag, or a range wider than /8. */
function isOpenSource(prefix: string): boolean {
    const value = prefix.trim().toLowerCase();
    if (EVERYWHERE.has(value)) return true;
    const cidr = /^\d{1,3}(\.\d{1,3}){3}\/(\d{1,2})$/.exec(value);
    return cidr !== null && Number(cidr[2]) < 8;
}

function coversManagementPort(range: string): boolean {
    const value = range.trim();
    if (value === "*") return true;
    const [low, high = low] = value.split("-").map(Number);
    return MANAGEMENT_PORTS.some((port) => port >= low && port <= high);
}

function checkRules(rules: SecurityRuleLike[], reportViolation: ReportViolation): void {
    for (const rule of rules) {
        if ((rule.direction ?? "").toLowerCase() !== "inbound" || (rule.access ?? "").toLowerCase() !== "allow") continue;
        const sources = [...(rule.sourceAddressPrefix ? [rule.sourceAddressPrefix] : []), ...(rule.sourceAddressPrefixes ?? [])];
        const ports = [...(rule.destinationPortRange ? [rule.destinationPortRange] : []), ...(rule.destinationPortRanges ?? [])];
        const open = sources.filter(isOpenSource);
        if (open.length > 0 && ports.some(coversManagementPort)) {
            reportViolation(`Rule "${rule.name ?? "(unnamed)"}" admits ${open.join(", ")} to a management port (${ports.join(", ")}). `
                + "Allow only your own addresses (rdpAllowedFrom), or use Run Command, which needs no inbound port.");
        }
    }
}

export const managementPortsClosed: ResourceValidationPolicy = {
    name: "management-ports-closed-to-internet",
    description: "No network security rule admits the Internet to SSH, RDP or WinRM (Defender for Cloud: management ports should be closed on your virtual machines).",
    enforcementLevel: "mandatory",
    validateResource: [
        validateResourceOfType(network.NetworkSecurityGroup, (nsg, _args, reportViolation) => checkRules(nsg.securityRules ?? [], reportViolation)),
        validateResourceOfType(network.SecurityRule, (rule, _args, reportViolation) => checkRules([rule], reportViolation)),
    ],
};

export const subnetHasNsg: ResourceValidationPolicy = {
    name: "subnet-has-network-security-group",
    description: "Every subnet is guarded by a network security group (Defender for Cloud: subnets should be associated with a network security group).",
    enforcementLevel: "mandatory",
    validateResource: validateResourceOfType(network.Subnet, (subnet, _args, reportViolation) => {
        if (!subnet.networkSecurityGroup) reportViolation("The subnet has no network security group.");
    }),
};

export const vmTrustedLaunch: ResourceValidationPolicy = {
    name: "vm-trusted-launch",
    description: "VMs use Trusted Launch with Secure Boot and vTPM, set explicitly (Defender for Cloud: Secure Boot and vTPM should be enabled).",
    enforcementLevel: "mandatory",
    validateResource: validateResourceOfType(compute.VirtualMachine, (vm, _args, reportViolation) => {
        const profile = vm.securityProfile;
        if (profile?.securityType !== "TrustedLaunch") reportViolation("securityProfile.securityType must be TrustedLaunch.");
        if (profile?.uefiSettings?.secureBootEnabled !== true) reportViolation("securityProfile.uefiSettings.secureBootEnabled must be true.");
        if (profile?.uefiSettings?.vTpmEnabled !== true) reportViolation("securityProfile.uefiSettings.vTpmEnabled must be true.");
    }),
};

export const vmEncryptionAtHost: ResourceValidationPolicy = {
    name: "vm-encryption-at-host",
    description: "VMs encrypt temp disks and caches at the host (Defender for Cloud: VMs should have encryption at host enabled). Advisory: it needs the EncryptionAtHost feature registered on the subscription.",
    enforcementLevel: "advisory",
    validateResource: validateResourceOfType(compute.VirtualMachine, (vm, _args, reportViolation) => {
        if (vm.securityProfile?.encryptionAtHost !== true) {
            reportViolation("Encryption at host is off: register the feature (az feature register --namespace Microsoft.Compute --name EncryptionAtHost), then set encryptionAtHost: true.");
        }
    }),
};

export const vmGuestAttestation: StackValidationPolicy = {
    name: "vm-guest-attestation",
    description: "Trusted Launch VMs run the guest attestation extension, so Defender for Cloud can check boot integrity (Defender for Cloud: Guest Attestation extension should be installed).",
    enforcementLevel: "advisory",
    validateStack: (args, reportViolation) => {
        const attested = new Set(args.resources
            .filter((resource) => resource.isType(compute.VirtualMachineExtension))
            .map((resource) => resource.props)
            .filter((props) => props.type === "GuestAttestation" && props.publisher === "Microsoft.Azure.Security.WindowsAttestation")
            .map((props) => props.vmName));
        for (const resource of args.resources.filter((r) => r.isType(compute.VirtualMachine))) {
            const vm = resource.props;
            if (vm.securityProfile?.securityType === "TrustedLaunch" && !attested.has(vm.name)) {
                reportViolation(`VM ${vm.name} has no GuestAttestation extension.`, resource.urn);
            }
        }
    },
};

export const cosmosNetworkRestricted: ResourceValidationPolicy = {
    name: "cosmos-network-restricted",
    description: "Cosmos DB accounts admit only listed networks (a VNet rule or IP rules) or private endpoints, never every network (Defender for Cloud: Azure Cosmos DB accounts should have firewall rules).",
    enforcementLevel: "mandatory",
    validateResource: validateResourceOfType(cosmosdb.DatabaseAccount, (account, _args, reportViolation) => {
        if (account.publicNetworkAccess === "Disabled") return;
        const ipRules = (account.ipRules ?? []).map((rule) => rule.ipAddressOrRange ?? "");
        const vnetFiltered = account.isVirtualNetworkFilterEnabled === true && (account.virtualNetworkRules ?? []).length > 0;
        if (!vnetFiltered && ipRules.length === 0) {
            reportViolation("The account accepts connections from every network. Admit the VM's subnet (service endpoint and virtualNetworkRules) or list addresses in ipRules.");
        }
        const everywhere = ipRules.filter((rule) => EVERYWHERE.has(rule) || isOpenSource(rule));
        if (everywhere.length > 0) reportViolation(`ipRules admit ${everywhere.join(", ")}: all of Azure or the Internet.`);
    }),
};

export const cosmosTls12: ResourceValidationPolicy = {
    name: "cosmos-minimum-tls-1-2",
    description: "Cosmos DB accounts refuse TLS older than 1.2.",
    enforcementLevel: "mandatory",
    validateResource: validateResourceOfType(cosmosdb.DatabaseAccount, (account, _args, reportViolation) => {
        if (account.minimalTlsVersion !== "Tls12" && account.minimalTlsVersion !== "Tls13") {
            reportViolation(`minimalTlsVersion is ${account.minimalTlsVersion ?? "unset (TLS 1.0 allowed)"}; set Tls12.`);
        }
    }),
};

export const cosmosNoKeyMetadataWrites: ResourceValidationPolicy = {
    name: "cosmos-no-key-based-metadata-writes",
    description: "Keys cannot change databases, containers or throughput (Defender for Cloud: key based metadata write access should be disabled).",
    enforcementLevel: "mandatory",
    validateResource: validateResourceOfType(cosmosdb.DatabaseAccount, (account, _args, reportViolation) => {
        if (account.disableKeyBasedMetadataWriteAccess !== true) reportViolation("disableKeyBasedMetadataWriteAccess must be true.");
    }),
};

export const cosmosLocalAuthDisabled: ResourceValidationPolicy = {
    name: "cosmos-local-auth-disabled",
    description: "Cosmos DB accounts accept Entra ID only, no keys (Defender for Cloud: local authentication methods should be disabled). Advisory: the tutorial's key path needs keys; accessMode rbac satisfies it.",
    enforcementLevel: "advisory",
    validateResource: validateResourceOfType(cosmosdb.DatabaseAccount, (account, _args, reportViolation) => {
        if (account.disableLocalAuth !== true) reportViolation("Keys are accepted (disableLocalAuth is not true); accessMode: rbac uses Entra ID instead.");
    }),
};

export const roleAssignmentLeastPrivilege: ResourceValidationPolicy = {
    name: "role-assignment-scoped-to-cosmos-account",
    description: "Role assignments grant only the Cosmos DB key roles, on a Cosmos DB account and nothing wider.",
    enforcementLevel: "mandatory",
    validateResource: validateResourceOfType(authorization.RoleAssignment, (assignment, _args, reportViolation) => {
        const scope = String(assignment.scope ?? "");
        if (!/\/providers\/Microsoft\.DocumentDB\/databaseAccounts\/[^/]+$/i.test(scope)) {
            reportViolation(`Scope ${scope || "(unknown)"} is not a Cosmos DB account: it would grant more than one account's keys.`);
        }
        const roleId = String(assignment.roleDefinitionId ?? "").split("/").pop() ?? "";
        if (!ALLOWED_KEY_ROLE_IDS.includes(roleId.toLowerCase())) {
            reportViolation(`Role ${roleId} is not one of the key roles (${Object.values(KEY_ACCESS_ROLES).map((role) => role.name).join(", ")}).`);
        }
    }),
};

export const cosmosDataRoleLeastPrivilege: ResourceValidationPolicy = {
    name: "cosmos-data-role-built-in-on-account",
    description: "Cosmos DB SQL role assignments grant a built-in data role (Data Reader or Data Contributor) on one Cosmos DB account or narrower.",
    enforcementLevel: "mandatory",
    validateResource: validateResourceOfType(cosmosdb.SqlResourceSqlRoleAssignment, (assignment, _args, reportViolation) => {
        const roleId = String(assignment.roleDefinitionId ?? "").split("/").pop() ?? "";
        if (!ALLOWED_DATA_ROLE_IDS.includes(roleId)) {
            reportViolation(`Role ${roleId || "(unknown)"} is not a built-in data role (Data Reader ${ALLOWED_DATA_ROLE_IDS[0]}, Data Contributor ${ALLOWED_DATA_ROLE_IDS[1]}).`);
        }
        const scope = String(assignment.scope ?? "");
        if (!/\/providers\/Microsoft\.DocumentDB\/databaseAccounts\/[^/]+(\/dbs\/[^/]+(\/colls\/[^/]+)?)?$/i.test(scope) && !/^\/(dbs\/[^/]+(\/colls\/[^/]+)?)?$/.test(scope)) {
            reportViolation(`Scope ${scope || "(unknown)"} is not a Cosmos DB account, database or container.`);
        }
    }),
};

export const securityPolicies: (ResourceValidationPolicy | StackValidationPolicy)[] = [
    managementPortsClosed,
    subnetHasNsg,
    vmTrustedLaunch,
    vmEncryptionAtHost,
    vmGuestAttestation,
    cosmosNetworkRestricted,
    cosmosTls12,
    cosmosNoKeyMetadataWrites,
    cosmosLocalAuthDisabled,
    roleAssignmentLeastPrivilege,
    cosmosDataRoleLeastPrivilege,
];
