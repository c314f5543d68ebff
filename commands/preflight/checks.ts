// The preflight checks: each asks Resource Manager read-only questions about one way a real
// `pulumi up` of this stack fails, and answers pass, fail (with the command or config key that
// fixes it), warning (preflight cannot be sure) or skipped (does not apply, with why).
import type { ResourceSku } from "@azure/arm-compute";
import { RESOURCE_MANAGER_ENDPOINTS, StackConfig, WINDOWS_IMAGE_SKUS } from "../../lib/config";
import { renderKeyFetchScript } from "../../lib/keyFetchScript";
import { ArmClients, armCode, describeError, statusOf } from "./arm";
import type { DeclaredAzureResource } from "./declared";
import type { DeployedStack, DeployedVm, StackLookup } from "./existingStack";
import { denyingAssignments, DenyAssignment, evaluateActions, Permission } from "./permissions";
import { checkPolicy } from "./policy";
import {
    ENCRYPTION_AT_HOST_FEATURE,
    requiredActions,
    requiredProviders,
    ROLE_ASSIGNMENT_WRITE,
    SQL_ROLE_ASSIGNMENT_WRITE,
    WINDOWS_IMAGE,
} from "./requirements";
import type { Principal, SignIn } from "../azure/signIn";

export type CheckStatus = "pass" | "fail" | "warning" | "skipped";

export interface CheckOutcome {
    status: CheckStatus;
    message: string;
    /** The command or config key that fixes a failure (or settles a warning). */
    remedy?: string;
    /** Structured detail for --json (the policy check's findings). */
    findings?: readonly object[];
}

export interface CheckContext {
    config: StackConfig;
    signIn: SignIn;
    principal: Principal;
    /** Clients for this check alone (their throttling is reported with it). */
    clients: ArmClients;
    signal: AbortSignal;
    /** When the check's time runs out (epoch ms): polling stops before it. */
    deadline: number;
    fix: boolean;
    pollIntervalMs: number;
    /** Every compute SKU offered in the region, fetched once for the checks that need it. */
    regionSkus(): Promise<ResourceSku[]>;
    /** The already-deployed stack, if preflight can find it. */
    deployed(): Promise<StackLookup>;
    /** The Azure resources the program declares for this stack (the plan's evaluation under mocks). */
    declaredResources(): Promise<DeclaredAzureResource[]>;
}

export interface Check {
    id: string;
    title: string;
    run(context: CheckContext): Promise<CheckOutcome>;
}

const pass = (message: string): CheckOutcome => ({ status: "pass", message });
const fail = (message: string, remedy: string): CheckOutcome => ({ status: "fail", message, remedy });
const warning = (message: string, remedy?: string): CheckOutcome => ({ status: "warning", message, remedy });
const skipped = (message: string): CheckOutcome => ({ status: "skipped", message });

const capability = (sku: ResourceSku, name: string) => sku.capabilities?.find((c) => c.name?.toLowerCase() === name.toLowerCase())?.value;
const sameName = (a: string | undefined, b: string) => a !== undefined && a.toLowerCase() === b.toLowerCase();

export function principalLabel(principal: Principal): string {
    return principal.type === "User" ? `user ${principal.name}` : `service principal ${principal.name}`;
}

// 1. Who is signed in, and the subscription and tenant the stack deploys to.
const identity: Check = {
    id: "identity",
    title: "Sign-in, subscription and tenant",
    async run({ clients, signIn, principal, signal }) {
        const who = `${principalLabel(principal)} (object id ${principal.objectId})`;
        const subscriptionId = signIn.subscriptionId;
        let subscription;
        try {
            subscription = await clients.subscriptions.subscriptions.get(subscriptionId, { abortSignal: signal });
        } catch (error) {
            const code = armCode(error);
            if (code === "InvalidAuthenticationTokenTenant") {
                return fail(`${who} signed in to tenant ${principal.tenantId}, but subscription ${subscriptionId} belongs to another tenant (${describeError(error)})`,
                    "az login --tenant <the subscription's tenant id>  (or ARM_TENANT_ID)");
            }
            if (statusOf(error) === 404 || statusOf(error) === 403) {
                return fail(`subscription ${subscriptionId} (from ${signIn.subscriptionSource}) is not visible to ${who}: ${describeError(error)}`,
                    "az account list --output table, then az account set --subscription <id> (or set ARM_SUBSCRIPTION_ID / azure-native:subscriptionId)");
            }
            throw error;
        }
        const name = subscription.displayName ? `"${subscription.displayName}" ` : "";
        const summary = `${who} via ${signIn.method}; subscription ${name}${subscriptionId} (${subscription.state ?? "state unknown"}; from ${signIn.subscriptionSource}) in tenant ${subscription.tenantId ?? "unknown"}`;
        if (subscription.tenantId && principal.tenantId && !sameName(subscription.tenantId, principal.tenantId)) {
            return fail(`${summary}, but the sign-in is for tenant ${principal.tenantId}`, `az login --tenant ${subscription.tenantId}`);
        }
        switch (subscription.state) {
            case "Enabled": return pass(summary);
            case "Warned":
            case "PastDue": return warning(`${summary}: the subscription is ${subscription.state} and will be disabled unless its billing is settled`);
            default: return fail(`${summary}: a ${subscription.state ?? "non-enabled"} subscription cannot create resources`,
                "choose an enabled subscription: az account set --subscription <id> (or ARM_SUBSCRIPTION_ID)");
        }
    },
};

// 2. Resource providers registered (azure-native does not register them; Terraform does).
/** A provider whose answer has no registrationState: not known to be registered, so not counted as registered. */
const NOT_REPORTED = "of unknown state (no registrationState in Resource Manager's answer)";
const providers: Check = {
    id: "providers",
    title: "Resource providers registered",
    async run({ clients, config, signIn, fix, signal, deadline, pollIntervalMs }) {
        const required = requiredProviders(config);
        const state = new Map<string, string>();
        await Promise.all(required.map(async ({ name }) => {
            const provider = await clients.resources.providers.get(name, { abortSignal: signal });
            state.set(name, provider.registrationState ?? NOT_REPORTED);
        }));
        const missing = required.filter(({ name }) => state.get(name) !== "Registered" && state.get(name) !== "Registering");
        const registeredNow: string[] = [];
        if (fix && missing.length > 0) {
            for (const { name } of missing) {
                try {
                    await clients.resources.providers.register(name, { abortSignal: signal });
                } catch (error) {
                    return fail(`registering ${name} failed: ${describeError(error)}`,
                        `ask a subscription Contributor or Owner to run: az provider register --namespace ${name} --subscription ${signIn.subscriptionId}`);
                }
                state.set(name, "Registering");
                registeredNow.push(name);
            }
        }
        // Registration takes seconds to minutes; wait for it while the check has time.
        while (required.some(({ name }) => state.get(name) === "Registering") && Date.now() + pollIntervalMs < deadline - 1000) {
            await delay(pollIntervalMs, signal);
            await Promise.all(required.filter(({ name }) => state.get(name) === "Registering").map(async ({ name }) => {
                const provider = await clients.resources.providers.get(name, { abortSignal: signal });
                state.set(name, provider.registrationState ?? NOT_REPORTED);
            }));
        }
        const notRegistered = required.filter(({ name }) => state.get(name) !== "Registered" && state.get(name) !== "Registering");
        const registering = required.filter(({ name }) => state.get(name) === "Registering");
        const list = (items: typeof required) => items.map(({ name, neededFor }) => `${name} is ${state.get(name)} (needed for ${neededFor})`).join("; ");
        if (notRegistered.length > 0) {
            return fail(list(notRegistered),
                `npm run preflight -- --fix  (registers them; or: ${notRegistered.map(({ name }) => `az provider register --namespace ${name} --subscription ${signIn.subscriptionId}`).join(" && ")})`);
        }
        if (registering.length > 0) {
            return fail(`${list(registering)}${registeredNow.length > 0 ? " (registration started by --fix)" : ""}: Azure takes a few minutes`,
                `wait, then run preflight again (progress: ${registering.map(({ name }) => `az provider show --namespace ${name} --query registrationState`).join("; ")})`);
        }
        const names = required.map(({ name }) => name).join(", ");
        return pass(registeredNow.length > 0 ? `${names} registered (${registeredNow.join(", ")} by --fix just now)` : `${names} registered`);
    },
};

// 3. The signed-in principal may create everything the stack creates, role assignments included.
const permissions: Check = {
    id: "permissions",
    title: "Permission to create the stack",
    async run({ clients, config, signIn, principal, signal }) {
        const scope = `/subscriptions/${signIn.subscriptionId}`;
        const required = requiredActions(config);
        const [granted, denies] = await Promise.all([
            clients.listRaw<Permission>(`${scope}/providers/Microsoft.Authorization/permissions`, "2022-04-01", signal),
            // The SDK takes scopes without their leading slash (its URL template is "{$host}/{scope}/...").
            listAll<DenyAssignment>(clients.authorization.denyAssignments.listForScope(scope.slice(1), { filter: "atScope()", abortSignal: signal }))
                .then((list) => ({ list }), (error: unknown) => ({ error })),
        ]);
        const verdicts = evaluateActions(granted, required.map((r) => r.name));
        const neededFor = new Map(required.map((r) => [r.name, r.neededFor]));
        const who = principalLabel(principal);
        const missing = verdicts.filter((v) => !v.allowed).map((v) => v.action);
        if (missing.length > 0) {
            const eligible = await eligibleRoles(clients, scope, signal);
            const roles = [
                ...(missing.some((action) => action !== ROLE_ASSIGNMENT_WRITE) ? ["Contributor"] : []),
                ...(missing.includes(ROLE_ASSIGNMENT_WRITE) ? ["Role Based Access Control Administrator"] : []),
            ];
            const grant = roles.map((role) => `az role assignment create --assignee-object-id ${principal.objectId} --assignee-principal-type ${principal.type} --role "${role}" --scope ${scope}`).join(" && ");
            return fail(`${who} may not ${missing.map((action) => `${action} (${neededFor.get(action)})`).join(", ")}`
                + (eligible.length > 0 ? `; eligible (PIM) roles not active now: ${eligible.join(", ")}` : ""),
            eligible.length > 0
                ? "activate an eligible role (Azure portal: Privileged Identity Management > My roles), then run preflight again"
                : `ask an Owner of the subscription to run: ${grant}`);
        }
        if ("list" in denies) {
            const blocking = denyingAssignments(denies.list, required.map((r) => r.name), principal.objectId);
            const certain = blocking.filter((d) => d.certain);
            const describe = (items: typeof blocking) => items.map((d) => `deny assignment "${d.assignment}" blocks ${d.actions.join(", ")}`).join("; ");
            if (certain.length > 0) {
                return fail(`${who} holds the roles, but ${describe(certain)}`,
                    "deny assignments come from managed applications, deployment stacks or Blueprints: deploy to another subscription, or ask whoever set them");
            }
            if (blocking.length > 0) {
                return warning(`${who} holds the roles, but ${describe(blocking)} for a group, which may include ${who}`,
                    "check the group's members: az ad group member check --group <group id> --member-id " + principal.objectId);
            }
        }
        const conditional = verdicts.filter((v) => v.onlyUnderCondition).map((v) => v.action);
        if (conditional.length > 0) {
            return warning(`${who} may perform ${conditional.join(", ")} only under an ABAC condition preflight cannot evaluate`
                + (conditional.includes(ROLE_ASSIGNMENT_WRITE) ? " (the condition must allow assigning the stack's Cosmos DB role to a service principal)" : ""),
            `az role assignment list --assignee ${principal.objectId} --scope ${scope} --include-inherited --query "[?condition!=null]"`);
        }
        const roleWrite = config.accessMode === "keys" ? ROLE_ASSIGNMENT_WRITE : SQL_ROLE_ASSIGNMENT_WRITE;
        const outcome = `${who} may perform all ${required.length} actions the stack needs, ${roleWrite} included`;
        if ("error" in denies) return warning(`${outcome}; deny assignments could not be read (${describeError(denies.error)}), and one could still block them`);
        return pass(`${outcome}; no deny assignment blocks them`);
    },
};

// 3b. Azure Policy would not refuse what the stack declares (policy.ts).
const policy: Check = {
    id: "policy",
    title: "Azure Policy allows what the stack declares",
    async run({ clients, config, signIn, principal, signal, declaredResources }) {
        const declared = await declaredResources();
        const known = { subscriptionId: signIn.subscriptionId, tenantId: principal.tenantId };
        const outcome = await checkPolicy(clients, signIn.subscriptionId, declared, known, config, signal);
        return { status: outcome.status, message: outcome.message, remedy: outcome.remedy, findings: outcome.findings.length > 0 ? outcome.findings : undefined };
    },
};

/** Names of roles the caller is eligible for through PIM at or above the scope, when PIM answers. */
async function eligibleRoles(clients: ArmClients, scope: string, signal: AbortSignal): Promise<string[]> {
    try {
        const instances = await listAll(clients.authorization.roleEligibilityScheduleInstances.listForScope(scope.slice(1), { filter: "asTarget()", abortSignal: signal }));
        return [...new Set(instances.map((i) => i.expandedProperties?.roleDefinition?.displayName ?? i.roleDefinitionId ?? "a role"))];
    } catch {
        // No Entra ID P2, or no right to read them: nothing to add.
        return [];
    }
}

// 4a. The VM size is offered in the region, unrestricted for this subscription, Gen2, Trusted Launch.
const vmSize: Check = {
    id: "vm-size",
    title: "VM size offered in the region",
    async run({ config, regionSkus }) {
        const skus = await regionSkus();
        const sku = findVmSku(skus, config);
        const where = `${config.vmSize} in ${config.location}`;
        if (!sku) {
            const alternatives = suitableSizes(skus, config, 2);
            return fail(`${config.vmSize} is not offered in ${config.location}`, sizeRemedy(alternatives, config));
        }
        const locationRestriction = sku.restrictions?.find((r) => r.type === "Location");
        if (locationRestriction) {
            const alternatives = suitableSizes(skus, config, Number(capability(sku, "vCPUs") ?? 2));
            return fail(`${where} is restricted for this subscription (${locationRestriction.reasonCode ?? "restricted"})`,
                `${sizeRemedy(alternatives, config)}; or request access to the size (Azure portal: Help + support, "Region or SKU access")`);
        }
        const problems: string[] = [];
        const generations = (capability(sku, "HyperVGenerations") ?? "V1").split(",").map((g) => g.trim().toUpperCase());
        if (!generations.includes("V2")) problems.push("is Gen1 only (Trusted Launch and the Azure Edition images need Gen2)");
        // Inverted capability: present and "True" means Trusted Launch is NOT supported.
        if ((capability(sku, "TrustedLaunchDisabled") ?? "False").toLowerCase() === "true") problems.push("does not support Trusted Launch (TrustedLaunchDisabled)");
        if ((capability(sku, "CpuArchitectureType") ?? "x64").toLowerCase() !== "x64") problems.push(`is ${capability(sku, "CpuArchitectureType")}; the Windows Server images are x64`);
        if (problems.length > 0) {
            const alternatives = suitableSizes(skus, config, Number(capability(sku, "vCPUs") ?? 2));
            return fail(`${where} ${problems.join("; ")}`, sizeRemedy(alternatives, config));
        }
        return pass(`${where}: no restrictions for this subscription, ${capability(sku, "vCPUs") ?? "?"} vCPUs, ${capability(sku, "MemoryGB") ?? "?"} GiB, Gen2, Trusted Launch`);
    },
};

function sizeRemedy(alternatives: string[], config: StackConfig): string {
    return alternatives.length > 0
        ? `pulumi config set vmSize ${alternatives[0]}  (also suitable here: ${alternatives.slice(1).join(", ") || "none listed"})`
        : `pulumi config set vmSize <size>  (az vm list-skus --location ${config.location} --resource-type virtualMachines --output table)`;
}

/** Up to three sizes in the region that would pass: unrestricted, Gen2, Trusted Launch, x64, with the same vCPUs. */
function suitableSizes(skus: ResourceSku[], config: StackConfig, vcpus: number): string[] {
    return skus
        .filter((s) => s.resourceType === "virtualMachines" && s.name && !sameName(s.name, config.vmSize))
        .filter((s) => !(s.restrictions ?? []).some((r) => r.type === "Location"))
        .filter((s) => (capability(s, "HyperVGenerations") ?? "").toUpperCase().includes("V2"))
        .filter((s) => (capability(s, "TrustedLaunchDisabled") ?? "False").toLowerCase() !== "true")
        .filter((s) => (capability(s, "CpuArchitectureType") ?? "x64").toLowerCase() === "x64")
        .filter((s) => Number(capability(s, "vCPUs")) === vcpus && Number(capability(s, "MemoryGB")) >= 4)
        .flatMap((s) => (s.name ? [s.name] : []))
        .sort()
        .slice(0, 3);
}

/** Every compute SKU offered in the region (`$filter=location eq '...'`, the one filter the API supports). */
export function listRegionSkus(clients: ArmClients, location: string, signal: AbortSignal): Promise<ResourceSku[]> {
    return listAll(clients.compute.resourceSkus.list({ filter: `location eq '${location}'`, abortSignal: signal }));
}

/** The stack's VM size among the region's SKUs (a size only offered elsewhere is not in the list). */
export function findVmSku(skus: ResourceSku[], config: StackConfig): ResourceSku | undefined {
    return skus.find((s) => s.resourceType === "virtualMachines" && sameName(s.name, config.vmSize)
        && (s.locations ?? [config.location]).some((l) => sameName(l, config.location)));
}

// 4b. Family and regional vCPU quota have room for the VM.
const vcpuQuota: Check = {
    id: "vcpu-quota",
    title: "vCPU quota",
    async run({ config, regionSkus, clients, signal, deployed }) {
        const sku = findVmSku(await regionSkus(), config);
        const familyName = sku?.family;
        if (!sku || !familyName) return skipped(`${config.vmSize} is not offered in ${config.location} (see vm-size)`);
        const vcpus = Number(capability(sku, "vCPUs") ?? "0");
        const existing = await deployed();
        const deployedVm = existing.found ? existing.stack.vm : undefined;
        // Only a VM of this very size holds this size's cores. A resize is checked as if the VM were
        // new: its current cores are not counted as freed, so preflight never passes a resize that
        // Azure's quota check refuses (it may fail one that Azure would allow near the limit).
        if (deployedVm && sameName(deployedVm.size, config.vmSize)) {
            return pass(`the stack's VM ${deployedVm.name} already holds its ${vcpus} ${sku.family} vCPUs`);
        }
        const resize = deployedVm?.size ? ` (resizing VM ${deployedVm.name} from ${deployedVm.size})` : "";
        const usages = await listAll(clients.compute.usage.list(config.location, { abortSignal: signal }));
        const family = usages.find((u) => sameName(u.name?.value, familyName));
        const regional = usages.find((u) => sameName(u.name?.value, "cores"));
        const short: string[] = [];
        const describe = (label: string, usage: { currentValue: number; limit: number }) => `${label} ${usage.currentValue} of ${usage.limit} vCPUs in use`;
        for (const [label, usage] of [[`${sku.family}`, family], ["regional total", regional]] as const) {
            if (usage && usage.limit - usage.currentValue < vcpus) short.push(`${describe(label, usage)}, ${vcpus} needed`);
        }
        const found = [family && describe(sku.family, family), regional && describe("regional", regional)].filter(Boolean).join(", ");
        if (short.length > 0) {
            return fail(`no room for ${config.vmSize} in ${config.location}${resize}: ${short.join("; ")}`,
                `request more vCPUs for ${sku.family} in ${config.location} (Azure portal: Quotas > Compute), or choose a smaller size: pulumi config set vmSize <size>`);
        }
        if (!family || !regional) return warning(`${found || "no usage reported"}; ${!family ? `no quota entry for ${sku.family}` : "no regional total"}`);
        return pass(`room for ${vcpus} more${resize}: ${found}`);
    },
};

// 5a. The Windows image exists in the region.
const image: Check = {
    id: "image",
    title: "Windows image offered in the region",
    async run({ config, clients, signal }) {
        const urn = `${WINDOWS_IMAGE.publisher}:${WINDOWS_IMAGE.offer}:${config.windowsImageSku}`;
        const versionsOf = async (sku: string): Promise<string[]> => {
            try {
                return (await clients.compute.virtualMachineImages.list(config.location, WINDOWS_IMAGE.publisher, WINDOWS_IMAGE.offer, sku, { abortSignal: signal })).map((v) => v.name);
            } catch (error) {
                if (statusOf(error) === 404) return [];
                throw error;
            }
        };
        const versions = await versionsOf(config.windowsImageSku);
        if (versions.length === 0) {
            // Suggest one of the SKUs the stack accepts that this region does offer.
            const others = WINDOWS_IMAGE_SKUS.filter((sku) => sku !== config.windowsImageSku);
            const offered = await Promise.all(others.map(async (sku) => ((await versionsOf(sku)).length > 0 ? sku : undefined)));
            const alternative = offered.find((sku) => sku !== undefined);
            return fail(`${urn} is not offered in ${config.location} (the VM's creation would fail with PlatformImageNotFound)`,
                alternative ? `pulumi config set windowsImageSku ${alternative}`
                    : `choose another region (pulumi config set azure-native:location <region>); what ${config.location} offers: az vm image list-skus --location ${config.location} --publisher ${WINDOWS_IMAGE.publisher} --offer ${WINDOWS_IMAGE.offer} --output table`);
        }
        const latest = [...versions].sort(compareVersions).pop();
        return pass(`${urn} in ${config.location}, latest version ${latest}`);
    },
};

function compareVersions(a: string, b: string): number {
    const pa = a.split(".").map(Number);
    const pb = b.split(".").map(Number);
    for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
        const diff = (pa[i] ?? 0) - (pb[i] ?? 0);
        if (diff !== 0) return diff;
    }
    return 0;
}

// 5b. encryptionAtHost's subscription feature is registered when the stack sets it.
const encryptionAtHost: Check = {
    id: "encryption-at-host",
    title: "EncryptionAtHost feature registered",
    async run({ config, clients, signal }) {
        if (!config.encryptionAtHost) return skipped("encryptionAtHost is false");
        const { namespace, name } = ENCRYPTION_AT_HOST_FEATURE;
        const feature = await clients.features.features.get(namespace, name, { abortSignal: signal });
        const state = feature.properties?.state ?? "NotRegistered";
        if (state === "Registered") return pass(`${namespace}/${name} is Registered`);
        const register = `az feature register --namespace ${namespace} --name ${name} && az provider register --namespace ${namespace}`;
        if (state === "Registering" || state === "Pending") {
            return fail(`${namespace}/${name} is ${state}: the VM's creation fails until it is Registered`, `wait, then run preflight again (progress: az feature show --namespace ${namespace} --name ${name} --query properties.state)`);
        }
        return fail(`${namespace}/${name} is ${state}, and encryptionAtHost is true: the VM's creation would be refused`, `${register}  (or: pulumi config set encryptionAtHost false)`);
    },
};

// 6a. The Cosmos DB region admits new accounts for this subscription.
const cosmosRegion: Check = {
    id: "cosmos-region",
    title: "Cosmos DB region admits new accounts",
    async run({ config, clients, signal, deployed }) {
        const location = config.cosmosLocation;
        const existing = await deployed();
        if (existing.found && existing.stack.cosmosAccount) {
            return pass(`the stack's account ${existing.stack.cosmosAccount.name} exists already; no new account is created`);
        }
        let properties;
        try {
            properties = (await clients.cosmos.locations.get(location, { abortSignal: signal })).properties;
        } catch (error) {
            if (statusOf(error) !== 404) throw error;
            return fail(`${location} is not a Cosmos DB region`, `pulumi config set cosmosLocation <region>  (az cosmosdb locations list --query "[].name")`);
        }
        const online = (properties?.status ?? "Online") === "Online";
        if (properties?.isSubscriptionRegionAccessAllowedForRegular === false || !online) {
            const others = (await listAll(clients.cosmos.locations.list({ abortSignal: signal })))
                .filter((l) => l.properties?.isSubscriptionRegionAccessAllowedForRegular && (l.properties.status ?? "Online") === "Online" && l.name && !sameName(l.name, location))
                .flatMap((l) => (l.name ? [l.name] : []))
                .sort()
                .slice(0, 3);
            const why = online ? "does not admit new Cosmos DB accounts for this subscription (capacity)" : `is ${properties?.status}`;
            return fail(`${location} ${why}`,
                `pulumi config set cosmosLocation ${others[0] ?? "<region>"}  (${others.length > 1 ? `also open to this subscription: ${others.slice(1).join(", ")}; ` : ""}or request access: https://aka.ms/cosmosdbquota)`);
        }
        return pass(`${location} admits new Cosmos DB accounts for this subscription`);
    },
};

// 6b. With freeTier, no other account in the subscription already has the free tier.
const cosmosFreeTier: Check = {
    id: "cosmos-free-tier",
    title: "Cosmos DB free tier available",
    async run({ config, clients, signal, deployed }) {
        if (!config.freeTier) return skipped("freeTier is false");
        const existing = await deployed();
        const own = existing.found ? existing.stack.cosmosAccount?.id : undefined;
        const accounts = await listAll(clients.cosmos.databaseAccounts.list({ abortSignal: signal }));
        const holder = accounts.find((a) => a.enableFreeTier === true && !(own && a.id && sameName(a.id, own)));
        if (holder) {
            const group = /\/resourceGroups\/([^/]+)\//i.exec(holder.id ?? "")?.[1];
            return fail(`account ${holder.name}${group ? ` (resource group ${group})` : ""} is already this subscription's one free-tier account`,
                "pulumi config set freeTier false  (or delete that account first)");
        }
        return pass(own ? "the free tier is the stack's own account's" : `none of the subscription's ${accounts.length} Cosmos DB accounts uses the free tier`);
    },
};

// 7. On an existing stack: the VM runs when this `up` re-runs the verification on it.
const vmRunning: Check = {
    id: "vm-running",
    title: "VM running for the verification",
    async run({ config, clients, signal, deployed }) {
        if (!config.verifyOnDeploy) return skipped("verifyOnDeploy is false: `pulumi up` runs nothing on the VM");
        const existing = await deployed();
        if (!existing.found) return skipped(`no deployed stack found: ${existing.reason}`);
        const stack = existing.stack;
        const vm = stack.vm;
        if (!vm) return skipped(`the deployed stack (${stack.source}) has no VM yet`);
        const replacedBy = replacementCause(vm, config);
        if (replacedBy) return pass(`this up replaces VM ${vm.name} (${replacedBy} changed); the new VM runs the verification`);
        const rerun = verificationReruns(stack, vm, config);
        let powerState: string;
        try {
            const view = await clients.compute.virtualMachines.instanceView(vm.resourceGroupName, vm.name, { abortSignal: signal });
            powerState = view.statuses?.map((s) => s.code ?? "").find((code) => code.startsWith("PowerState/"))?.slice("PowerState/".length) ?? "unknown";
        } catch (error) {
            if (statusOf(error) !== 404) throw error;
            return warning(`VM ${vm.name} (${stack.source}) no longer exists in Azure`, "pulumi refresh");
        }
        const start = `az vm start --subscription ${vm.subscriptionId} --resource-group ${vm.resourceGroupName} --name ${vm.name}`;
        if (rerun === false) return pass(`the key-fetch script is unchanged: this up does not run it (VM ${vm.name} is ${powerState})`);
        if (powerState === "running") {
            return pass(`VM ${vm.name} is running${rerun ? "; this up re-runs the verification (the key-fetch script changed)" : ""}`);
        }
        const stopped = `VM ${vm.name} is ${powerState}${powerState === "deallocated" ? " (the evening auto-shutdown stops it)" : ""}`;
        if (rerun === true) return fail(`${stopped}, and this up re-runs the key-fetch verification on it (the script changed): Run Command fails on a stopped VM`, start);
        return warning(`${stopped}; if this up changes the key-fetch script, its verification fails on a stopped VM (preflight read no state to tell)`, start);
    },
};

/** The create-only setting whose change makes this `up` replace the VM (components/windowsVm.ts), if any. */
function replacementCause(vm: DeployedVm, config: StackConfig): string | undefined {
    if (vm.imageSku !== undefined && vm.imageSku !== config.windowsImageSku) return "windowsImageSku";
    if (vm.adminUsername !== undefined && vm.adminUsername !== config.adminUsername) return "adminUsername";
    if (vm.imageSku !== undefined && vm.encryptionAtHost !== config.encryptionAtHost) return "encryptionAtHost";
    return undefined;
}

/** Whether this `up` runs the verification again: true, false, or undefined when preflight cannot tell. */
export function verificationReruns(stack: DeployedStack, vm: DeployedVm, config: StackConfig): boolean | undefined {
    if (stack.verificationScript === undefined) return undefined;
    if (stack.verificationScript === null) return true;
    const account = stack.cosmosAccount;
    if (!account?.documentEndpoint) return undefined;
    const expected = renderKeyFetchScript({
        subscriptionId: vm.subscriptionId,
        resourceGroupName: stack.resourceGroupName,
        accountName: account.name,
        accessLevel: config.accessLevel,
        accessMode: config.accessMode,
        databaseName: config.databaseName,
        containerName: config.containerName,
        resourceManagerEndpoint: RESOURCE_MANAGER_ENDPOINTS[config.cloud],
        cosmosEndpoint: account.documentEndpoint,
    });
    return expected !== stack.verificationScript;
}

export async function listAll<T>(pages: AsyncIterable<T>): Promise<T[]> {
    const items: T[] = [];
    for await (const item of pages) items.push(item);
    return items;
}

function delay(ms: number, signal: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
        const timer = setTimeout(resolve, ms);
        signal.addEventListener("abort", () => {
            clearTimeout(timer);
            reject(signal.reason);
        }, { once: true });
    });
}

/** In the order they print. */
export const CHECKS: readonly Check[] = [identity, providers, permissions, policy, vmSize, vcpuQuota, image, encryptionAtHost, cosmosRegion, cosmosFreeTier, vmRunning];
