// The policy pack: every policy against the program's own resources under mocks (no mandatory
// violation), and against unsafe variants of those same resources (each policy fires on its own case).
import { strict as assert } from "node:assert";
import { before, describe, it } from "node:test";
import type { ResourceValidation, ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { securityPolicies } from "../policy/policies";
import { DeclaredResource, Evaluation, evaluateOnce, single, stackConfig } from "./harness";

interface Violation {
    policy: string;
    enforcementLevel: string;
    message: string;
    urn?: string;
}

class NotApplicable extends Error {}

type TypedClass = { __pulumiType?: string };
const isTypeOf = (type: string) => (resourceClass: unknown) => (resourceClass as TypedClass).__pulumiType === type;

function resourcePolicies(): ResourceValidationPolicy[] {
    return securityPolicies.filter((policy): policy is ResourceValidationPolicy => "validateResource" in policy);
}

function stackPolicies(): StackValidationPolicy[] {
    return securityPolicies.filter((policy): policy is StackValidationPolicy => "validateStack" in policy);
}

/** Runs one resource's props through every resource policy, as CrossGuard would during preview. */
function checkResource(type: string, props: Record<string, unknown>, urn = `urn:test::${type}`): Violation[] {
    const violations: Violation[] = [];
    for (const policy of resourcePolicies()) {
        const validators: ResourceValidation[] = policy.validateResource === undefined ? []
            : Array.isArray(policy.validateResource) ? policy.validateResource : [policy.validateResource];
        for (const validate of validators) {
            const args = {
                type, props, urn, name: urn.split("::").pop() ?? "", opts: { protect: false, ignoreChanges: [], aliases: [], additionalSecretOutputs: [], customTimeouts: {} },
                stackTags: new Map<string, string>(),
                isType: isTypeOf(type),
                asType: (resourceClass: unknown) => (isTypeOf(type)(resourceClass) ? props : undefined),
                getConfig: () => ({}),
                notApplicable: (reason?: string): never => { throw new NotApplicable(reason); },
            } as unknown as Parameters<ResourceValidation>[0];
            try {
                void validate(args, (message: string) => violations.push({ policy: policy.name, enforcementLevel: policy.enforcementLevel ?? "advisory", message, urn }));
            } catch (error) {
                if (!(error instanceof NotApplicable)) throw error;
            }
        }
    }
    return violations;
}

/** Every policy against a whole evaluated stack: resource policies on inputs, stack policies on state. */
function checkStack(stack: Evaluation): Violation[] {
    const custom = stack.resources.filter((r) => r.custom);
    const violations = custom.flatMap((r) => checkResource(r.type, r.inputs, r.urn));
    for (const policy of stackPolicies()) {
        const resources = custom.map((r) => ({
            type: r.type, props: r.state, urn: r.urn, name: r.name, opts: {}, dependencies: [], propertyDependencies: {},
            isType: isTypeOf(r.type),
            asType: (resourceClass: unknown) => (isTypeOf(r.type)(resourceClass) ? r.state : undefined),
        }));
        const args = { resources, stackTags: new Map(), getConfig: () => ({}), notApplicable: (reason?: string): never => { throw new NotApplicable(reason); } } as unknown as Parameters<StackValidationPolicy["validateStack"]>[0];
        try {
            void policy.validateStack(args, (message: string, urn?: string) => violations.push({ policy: policy.name, enforcementLevel: policy.enforcementLevel ?? "advisory", message, urn }));
        } catch (error) {
            if (!(error instanceof NotApplicable)) throw error;
        }
    }
    return violations;
}

const names = (violations: Violation[]) => [...new Set(violations.map((v) => v.policy))].sort();

describe("the policy pack", () => {
    it("names each policy once, with a description and an enforcement level", () => {
        const all = securityPolicies.map((policy) => policy.name);
        assert.equal(new Set(all).size, all.length);
        for (const policy of securityPolicies) {
            assert.ok(policy.description.length > 30, policy.name);
            assert.ok(["mandatory", "advisory"].includes(policy.enforcementLevel ?? ""), policy.name);
        }
    });
});

describe("the program's own resources", () => {
    let stack: Evaluation;
    before(async () => {
        stack = await evaluateOnce(stackConfig());
    });

    it("break no mandatory policy at the defaults; advisories only where the defaults trade security for cost or the tutorial's path", () => {
        const violations = checkStack(stack);
        assert.deepEqual(violations.filter((v) => v.enforcementLevel === "mandatory"), []);
        assert.deepEqual(names(violations), ["cosmos-local-auth-disabled", "vm-encryption-at-host"]);
    });

    it("break none at all with encryption at host and every option that is safe", async () => {
        const hardened = await evaluateOnce(stackConfig({
            encryptionAtHost: "true", rdpAllowedFrom: '["203.0.113.7"]', cosmosAllowedIps: '["198.51.100.0/24"]', accessLevel: "readwrite",
        }));
        assert.deepEqual(names(checkStack(hardened)), ["cosmos-local-auth-disabled"]);
    });

    it("pass in keyless mode, where even the local-auth advisory is met", async () => {
        for (const accessLevel of ["readonly", "readwrite"]) {
            const keyless = await evaluateOnce(stackConfig({ accessMode: "rbac", accessLevel, encryptionAtHost: "true" }));
            assert.deepEqual(checkStack(keyless), []);
        }
    });

    it("refuse the tutorial's open account (cosmosPublicAccess) as mandatory: relaxing it is an explicit policy-config decision", async () => {
        const open = await evaluateOnce(stackConfig({ cosmosPublicAccess: "true" }));
        const mandatory = checkStack(open).filter((v) => v.enforcementLevel === "mandatory");
        assert.deepEqual(names(mandatory), ["cosmos-network-restricted"]);
    });
});

describe("each policy fires on its own unsafe variant of the program's resources", () => {
    let stack: Evaluation;
    before(async () => {
        stack = await evaluateOnce(stackConfig());
    });

    let keyless: Evaluation | undefined;
    const keylessStack = async () => (keyless ??= await evaluateOnce(stackConfig({ accessMode: "rbac" })));

    /** A deep copy of one of the program's resources' inputs, changed by `mutate`. */
    function variant(resource: DeclaredResource, mutate: (props: Record<string, any>) => void): Record<string, any> {
        const props = structuredClone(resource.inputs);
        mutate(props);
        return props;
    }

    const cases: { policy: string; type: string; mutate: (props: Record<string, any>) => void }[] = [
        {
            policy: "management-ports-closed-to-internet",
            type: "azure-native:network:NetworkSecurityGroup",
            mutate: (nsg) => { nsg.securityRules = [{ name: "rdp", direction: "Inbound", access: "Allow", protocol: "Tcp", sourceAddressPrefix: "*", destinationPortRange: "3389", priority: 100 }]; },
        },
        {
            policy: "management-ports-closed-to-internet",
            type: "azure-native:network:NetworkSecurityGroup",
            mutate: (nsg) => { nsg.securityRules = [{ name: "wide", direction: "Inbound", access: "Allow", sourceAddressPrefixes: ["203.0.113.7", "Internet"], destinationPortRanges: ["3000-4000"], priority: 100 }]; },
        },
        {
            policy: "management-ports-closed-to-internet",
            type: "azure-native:network:NetworkSecurityGroup",
            mutate: (nsg) => { nsg.securityRules = [{ name: "half", direction: "Inbound", access: "Allow", sourceAddressPrefix: "0.0.0.0/1", destinationPortRange: "*", priority: 100 }]; },
        },
        { policy: "subnet-has-network-security-group", type: "azure-native:network:Subnet", mutate: (subnet) => { delete subnet.networkSecurityGroup; } },
        { policy: "vm-trusted-launch", type: "azure-native:compute:VirtualMachine", mutate: (vm) => { vm.securityProfile.securityType = "Standard"; vm.securityProfile.encryptionAtHost = true; } },
        { policy: "vm-trusted-launch", type: "azure-native:compute:VirtualMachine", mutate: (vm) => { vm.securityProfile.uefiSettings.secureBootEnabled = false; vm.securityProfile.encryptionAtHost = true; } },
        { policy: "vm-encryption-at-host", type: "azure-native:compute:VirtualMachine", mutate: (vm) => { vm.securityProfile.encryptionAtHost = false; } },
        { policy: "cosmos-network-restricted", type: "azure-native:cosmosdb:DatabaseAccount", mutate: (a) => { a.isVirtualNetworkFilterEnabled = false; a.virtualNetworkRules = []; a.disableLocalAuth = true; } },
        { policy: "cosmos-network-restricted", type: "azure-native:cosmosdb:DatabaseAccount", mutate: (a) => { a.ipRules = [{ ipAddressOrRange: "0.0.0.0" }]; a.disableLocalAuth = true; } },
        { policy: "cosmos-minimum-tls-1-2", type: "azure-native:cosmosdb:DatabaseAccount", mutate: (a) => { a.minimalTlsVersion = "Tls"; a.disableLocalAuth = true; } },
        { policy: "cosmos-no-key-based-metadata-writes", type: "azure-native:cosmosdb:DatabaseAccount", mutate: (a) => { a.disableKeyBasedMetadataWriteAccess = false; a.disableLocalAuth = true; } },
        { policy: "cosmos-local-auth-disabled", type: "azure-native:cosmosdb:DatabaseAccount", mutate: (a) => { a.disableLocalAuth = false; } },
        {
            policy: "role-assignment-scoped-to-cosmos-account",
            type: "azure-native:authorization:RoleAssignment",
            mutate: (ra) => { ra.scope = ra.scope.replace(/\/providers\/Microsoft\.DocumentDB\/.*$/, ""); },
        },
        {
            policy: "role-assignment-scoped-to-cosmos-account",
            type: "azure-native:authorization:RoleAssignment",
            // Owner, on the right scope: still far more than key access.
            mutate: (ra) => { ra.roleDefinitionId = ra.roleDefinitionId.replace(/[^/]+$/, "8e3af657-a8ff-443e-a944-82c8ea1a1a47"); },
        },
        {
            policy: "cosmos-data-role-built-in-on-account",
            type: "azure-native:cosmosdb:SqlResourceSqlRoleAssignment",
            // A custom role definition: not one of the built-in data roles.
            mutate: (ra) => { ra.roleDefinitionId = ra.roleDefinitionId.replace(/[^/]+$/, "a1b2c3d4-0000-4000-8000-000000000000"); },
        },
        {
            policy: "cosmos-data-role-built-in-on-account",
            type: "azure-native:cosmosdb:SqlResourceSqlRoleAssignment",
            mutate: (ra) => { ra.scope = ra.scope.replace(/\/providers\/Microsoft\.DocumentDB\/.*$/, ""); },
        },
    ];

    for (const { policy, type, mutate } of cases) {
        it(`${policy}: ${mutate.toString().replace(/\s+/g, " ").slice(0, 110)}`, async () => {
            const source = type === "azure-native:cosmosdb:SqlResourceSqlRoleAssignment" ? await keylessStack() : stack;
            const props = variant(single(source, type), mutate);
            const fired = checkResource(type, props);
            assert.deepEqual(names(fired), [policy], JSON.stringify(fired, null, 2));
        });
    }

    it("vm-guest-attestation: a Trusted Launch VM without the extension", () => {
        const withoutExtension = { ...stack, resources: stack.resources.filter((r) => r.type !== "azure-native:compute:VirtualMachineExtension") };
        const fired = checkStack(withoutExtension).filter((v) => v.policy === "vm-guest-attestation");
        assert.equal(fired.length, 1);
        assert.equal(fired[0].urn, single(stack, "azure-native:compute:VirtualMachine").urn);
        assert.deepEqual(checkStack(stack).filter((v) => v.policy === "vm-guest-attestation"), []);
    });

    it("covers every policy with at least one unsafe case", () => {
        const covered = new Set([...cases.map((c) => c.policy), "vm-guest-attestation"]);
        assert.deepEqual([...covered].sort(), securityPolicies.map((p) => p.name).sort());
    });
});
