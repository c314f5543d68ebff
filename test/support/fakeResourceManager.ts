// A fake Azure Resource Manager on 127.0.0.1 (HTTPS, certificate made at start-up) for preflight's
// tests. It serves only the read calls preflight makes, plus provider registration, each at its
// path and api-version from Microsoft's REST specs (Azure/azure-rest-api-specs), answering with the
// shapes of the specs' examples/*.json. Anything else (another path, method or api-version, a
// missing or wrong bearer token) is answered with Resource Manager's error and recorded in
// `unexpected`, so a wrong call fails the test that made it. 429s carry Retry-After, and a retry
// that comes early is throttled again, as Resource Manager does. Azure Policy's answers to
// checkPolicyRestrictions have the shapes of the 2023-03-01 spec's examples
// (examples/PolicyRestrictions_CheckAtSubscriptionScope*.json).
import * as https from "node:https";
import { createSecureContext } from "node:tls";
import type { AddressInfo } from "node:net";
import { SUBSCRIPTION_ID, TENANT_ID } from "./ids";
import { selfSignedCertificate, TestCertificate } from "./selfSignedCertificate";

export { SUBSCRIPTION_ID, TENANT_ID };
export const USER_OBJECT_ID = "5f3c0d9e-1b2a-4c3d-8e4f-a0b1c2d3e4f5";
export const USER_NAME = "alice@contoso.example";

/** An unsigned JWT with the claims Entra ID puts in a user's Resource Manager token (read for display only). */
export function fakeAccessToken(claims: Record<string, string> = {}): string {
    const encode = (value: object) => Buffer.from(JSON.stringify(value)).toString("base64url");
    return `${encode({ typ: "JWT", alg: "none" })}.${encode({
        aud: "https://management.azure.com/",
        iss: `https://sts.windows.net/${TENANT_ID}/`,
        tid: TENANT_ID,
        oid: USER_OBJECT_ID,
        upn: USER_NAME,
        idtyp: "user",
        ...claims,
    })}.`;
}

export const FAKE_TOKEN = fakeAccessToken();

interface Permission { actions: string[]; notActions: string[]; dataActions?: string[]; notDataActions?: string[]; condition?: string; conditionVersion?: string }
interface Capability { name: string; value: string }
export interface FakeSku {
    resourceType: string;
    name: string;
    tier?: string;
    size?: string;
    family?: string;
    locations: string[];
    locationInfo?: { location: string; zones?: string[] }[];
    capabilities: Capability[];
    restrictions: { type: "Location" | "Zone"; values: string[]; restrictionInfo: { locations?: string[]; zones?: string[] }; reasonCode: string }[];
}
export interface FakeVm { resourceGroup: string; name: string; powerState: string; size: string; imageSku: string; adminUsername: string }

/** A checkPolicyRestrictions request body, as the spec defines it (CheckRestrictionsRequest). */
export interface PolicyQuestionBody {
    resourceDetails: { resourceContent: Record<string, unknown> & { type: string; name?: string; location?: string; tags?: Record<string, string> }; apiVersion: string; scope?: string };
    pendingFields?: { field: string; values?: string[] }[];
    includeAuditEffect?: boolean;
}

/** The subscription as the fake reports it; tests change it to make a check fail. */
export interface FakeWorld {
    /** undefined: 404 SubscriptionNotFound. */
    subscription: { displayName: string; state: string; tenantId: string } | undefined;
    /** Answer the subscription with 401: the token is for another tenant than the subscription's. */
    tokenForOtherTenant: boolean;
    /** registrationState per namespace; null: the answer carries no registrationState at all. */
    providers: Record<string, string | null>;
    /** After POST .../register, the next GET reports Registered (else it stays Registering). */
    registrationCompletes: boolean;
    permissions: Permission[];
    /** Deny assignments at or above the subscription, or "forbidden" (the caller may not read them). */
    denyAssignments: object[] | "forbidden";
    /** PIM role eligibility schedule instances for the caller, or "forbidden" (no P2 licence). */
    eligibleRoles: object[] | "forbidden";
    skus: FakeSku[];
    usages: { unit: "Count"; currentValue: number; limit: number; name: { value: string; localizedValue: string } }[];
    /** Image versions per SKU of MicrosoftWindowsServer/WindowsServer in the stack's region. */
    imageVersions: Record<string, string[]>;
    features: Record<string, string>;
    cosmosLocations: Record<string, { isSubscriptionRegionAccessAllowedForRegular: boolean; isSubscriptionRegionAccessAllowedForAz: boolean; status: string }>;
    cosmosAccounts: { resourceGroup: string; name: string; location: string; enableFreeTier: boolean }[];
    vms: FakeVm[];
    /** Answer the first `times` calls whose path matches with 429 and this Retry-After. */
    throttle: { path: RegExp; times: number; retryAfterSeconds: number }[];
    /** How long each answer takes. */
    latencyMs: number;
    /** Azure Policy's answer to each question (none: nothing restricted), or "forbidden" (403 for the caller). */
    policy: ((question: PolicyQuestionBody) => object) | "forbidden";
    /** Policy assignments by id (lower case), as Policy Assignments - Get By Id returns them. */
    policyAssignments: Record<string, { displayName: string }>;
}

export interface Call { method: string; path: string; apiVersion: string | null; query: Record<string, string>; body?: unknown }

export interface FakeResourceManager {
    endpoint: string;
    /** A TLS agent that trusts the fake's certificate (and nothing else). */
    agent: https.Agent;
    world: FakeWorld;
    calls: Call[];
    /** Calls the fake does not serve: wrong path, method, api-version or token. Empty in a passing test. */
    unexpected: string[];
    /** Retries that came before their Retry-After had elapsed. */
    earlyRetries: string[];
    close(): Promise<void>;
}

const cap = (name: string, value: string): Capability => ({ name, value });

export function vmSku(name: string, family: string, vcpus: number, memoryGb: number, extra: Capability[] = []): FakeSku {
    return {
        resourceType: "virtualMachines",
        name,
        tier: "Standard",
        size: name.replace(/^Standard_/, ""),
        family,
        locations: ["westeurope"],
        locationInfo: [{ location: "westeurope", zones: ["1", "2", "3"] }],
        capabilities: [
            cap("MaxResourceVolumeMB", "0"), cap("OSVhdSizeMB", "1047552"), cap("vCPUs", String(vcpus)), cap("MemoryGB", String(memoryGb)),
            cap("MaxDataDiskCount", "4"), cap("LowPriorityCapable", "True"), cap("PremiumIO", "True"), cap("vCPUsAvailable", String(vcpus)),
            cap("ACUs", "160"), cap("vCPUsPerCore", "2"), cap("EphemeralOSDiskSupported", "False"), cap("AcceleratedNetworkingEnabled", "True"),
            cap("RdmaEnabled", "False"), cap("MaxNetworkInterfaces", "2"),
            ...extra,
        ],
        restrictions: [],
    };
}

/** A subscription where everything the stack needs is in place, in westeurope. */
export function healthyWorld(): FakeWorld {
    return {
        subscription: { displayName: "Contoso Dev", state: "Enabled", tenantId: TENANT_ID },
        tokenForOtherTenant: false,
        providers: { "Microsoft.Compute": "Registered", "Microsoft.Network": "Registered", "Microsoft.DocumentDB": "Registered", "Microsoft.DevTestLab": "Registered" },
        registrationCompletes: true,
        // What Resource Manager returns for an Owner of the subscription.
        permissions: [{ actions: ["*"], notActions: [], dataActions: [], notDataActions: [] }],
        denyAssignments: [],
        eligibleRoles: [],
        skus: [
            vmSku("Standard_B2als_v2", "standardBasv2Family", 2, 4, [cap("HyperVGenerations", "V1,V2"), cap("CpuArchitectureType", "x64")]),
            vmSku("Standard_B2as_v2", "standardBasv2Family", 2, 8, [cap("HyperVGenerations", "V1,V2"), cap("CpuArchitectureType", "x64")]),
            vmSku("Standard_D2s_v5", "standardDSv5Family", 2, 8, [cap("HyperVGenerations", "V1,V2"), cap("CpuArchitectureType", "x64")]),
            vmSku("Standard_D2ps_v5", "standardDPSv5Family", 2, 8, [cap("HyperVGenerations", "V2"), cap("CpuArchitectureType", "Arm64"), cap("TrustedLaunchDisabled", "True")]),
            vmSku("Standard_A2_v2", "standardAv2Family", 2, 4, [cap("HyperVGenerations", "V1"), cap("CpuArchitectureType", "x64"), cap("TrustedLaunchDisabled", "True")]),
            { ...vmSku("Standard_DC2s_v3", "standardDCSv3Family", 2, 16, [cap("HyperVGenerations", "V2"), cap("CpuArchitectureType", "x64")]), resourceType: "virtualMachines" },
            { resourceType: "disks", name: "Premium_LRS", tier: "Premium", locations: ["westeurope"], capabilities: [], restrictions: [] } as FakeSku,
        ],
        usages: [
            { unit: "Count", currentValue: 2, limit: 25000, name: { value: "availabilitySets", localizedValue: "Availability Sets" } },
            { unit: "Count", currentValue: 4, limit: 10, name: { value: "cores", localizedValue: "Total Regional vCPUs" } },
            { unit: "Count", currentValue: 2, limit: 10, name: { value: "standardBasv2Family", localizedValue: "Standard Basv2 Family vCPUs" } },
            { unit: "Count", currentValue: 2, limit: 10, name: { value: "standardDSv5Family", localizedValue: "Standard DSv5 Family vCPUs" } },
        ],
        imageVersions: {
            "2025-datacenter-azure-edition": ["26100.2605.241207", "26100.2894.250113"],
            "2022-datacenter-azure-edition": ["20348.2966.241205"],
        },
        features: { "Microsoft.Compute/EncryptionAtHost": "NotRegistered" },
        cosmosLocations: {
            westeurope: { isSubscriptionRegionAccessAllowedForRegular: true, isSubscriptionRegionAccessAllowedForAz: false, status: "Online" },
            northeurope: { isSubscriptionRegionAccessAllowedForRegular: true, isSubscriptionRegionAccessAllowedForAz: true, status: "Online" },
            swedencentral: { isSubscriptionRegionAccessAllowedForRegular: true, isSubscriptionRegionAccessAllowedForAz: true, status: "Online" },
            eastus: { isSubscriptionRegionAccessAllowedForRegular: false, isSubscriptionRegionAccessAllowedForAz: false, status: "Online" },
        },
        cosmosAccounts: [{ resourceGroup: "shop-prod", name: "shop-orders", location: "North Europe", enableFreeTier: false }],
        vms: [],
        throttle: [],
        latencyMs: 0,
        policy: () => ({ fieldRestrictions: [], contentEvaluationResult: { policyEvaluations: [] } }),
        policyAssignments: {},
    };
}

type Reply = { status: number; body?: unknown; headers?: Record<string, string> };
type Handler = (world: FakeWorld, match: RegExpExecArray, query: URLSearchParams, body: unknown) => Reply;

const armError = (status: number, code: string, message: string): Reply => ({ status, body: { error: { code, message } } });

const S = "/subscriptions/([^/]+)";
/** Path (as a regex), method and the api-version the SDK must send, per Microsoft's REST specs. */
const ROUTES: { method: string; path: RegExp; apiVersion: string; name: string; handle: Handler }[] = [
    {
        name: "Subscriptions_Get", method: "GET", path: new RegExp(`^${S}$`), apiVersion: "2022-12-01",
        handle: (world, m) => world.tokenForOtherTenant
            ? armError(401, "InvalidAuthenticationTokenTenant", `The access token is from the wrong issuer 'https://sts.windows.net/${TENANT_ID}/'. It must match the tenant associated with this subscription.`)
            : world.subscription && m[1] === SUBSCRIPTION_ID ? { status: 200, body: {
                id: `/subscriptions/${m[1]}`, subscriptionId: m[1], tenantId: world.subscription.tenantId, displayName: world.subscription.displayName,
                state: world.subscription.state, subscriptionPolicies: { locationPlacementId: "Public_2014-09-01", quotaId: "PayAsYouGo_2014-09-01", spendingLimit: "Off" },
                authorizationSource: "RoleBased", managedByTenants: [], tags: {},
            } }
            : armError(404, "SubscriptionNotFound", `The subscription '${m[1]}' could not be found.`),
    },
    {
        name: "Providers_Get", method: "GET", path: new RegExp(`^${S}/providers/(Microsoft\\.[A-Za-z]+)$`), apiVersion: "2025-04-01",
        handle: (world, m) => {
            const state = m[2] in world.providers ? world.providers[m[2]] : "NotRegistered";
            if (state === "Registering" && world.registrationCompletes) world.providers[m[2]] = "Registered";
            const registration = state === null ? {} : { registrationState: state };
            return { status: 200, body: { id: `/subscriptions/${m[1]}/providers/${m[2]}`, namespace: m[2], ...registration, registrationPolicy: "RegistrationRequired", resourceTypes: [] } };
        },
    },
    {
        name: "Providers_Register", method: "POST", path: new RegExp(`^${S}/providers/(Microsoft\\.[A-Za-z]+)/register$`), apiVersion: "2025-04-01",
        handle: (world, m) => {
            world.providers[m[2]] = "Registering";
            return { status: 200, body: { id: `/subscriptions/${m[1]}/providers/${m[2]}`, namespace: m[2], registrationState: "Registering", resourceTypes: [] } };
        },
    },
    {
        name: "Permissions (subscription scope)", method: "GET", path: new RegExp(`^${S}/providers/Microsoft\\.Authorization/permissions$`), apiVersion: "2022-04-01",
        handle: (world) => ({ status: 200, body: { value: world.permissions, nextLink: null } }),
    },
    {
        name: "DenyAssignments_ListForScope", method: "GET", path: new RegExp(`^${S}/providers/Microsoft\\.Authorization/denyAssignments$`), apiVersion: "2022-04-01",
        handle: (world, _m, query) => world.denyAssignments === "forbidden"
            ? armError(403, "AuthorizationFailed", "The client does not have authorization to perform action 'Microsoft.Authorization/denyAssignments/read'.")
            : query.get("$filter") === "atScope()" ? { status: 200, body: { value: world.denyAssignments } } : armError(400, "BadRequest", "expected $filter=atScope()"),
    },
    {
        name: "RoleEligibilityScheduleInstances_ListForScope", method: "GET", path: new RegExp(`^${S}/providers/Microsoft\\.Authorization/roleEligibilityScheduleInstances$`), apiVersion: "2020-10-01",
        handle: (world, _m, query) => world.eligibleRoles === "forbidden"
            ? armError(403, "AadPremiumLicenseRequired", "The tenant needs to have Microsoft Entra ID P2 or Microsoft Entra ID Governance license.")
            : query.get("$filter") === "asTarget()" ? { status: 200, body: { value: world.eligibleRoles } } : armError(400, "BadRequest", "expected $filter=asTarget()"),
    },
    {
        name: "PolicyRestrictions_CheckAtSubscriptionScope", method: "POST", path: new RegExp(`^${S}/providers/Microsoft\\.PolicyInsights/checkPolicyRestrictions$`), apiVersion: "2023-03-01",
        handle: (world, _m, _query, body) => {
            const problem = policyQuestionProblem(body);
            if (problem) return armError(400, "InvalidRequestContent", problem);
            if (world.policy === "forbidden") {
                return armError(403, "AuthorizationFailed", "The client does not have authorization to perform action 'Microsoft.PolicyInsights/checkPolicyRestrictions/action'.");
            }
            return { status: 200, body: world.policy(body as PolicyQuestionBody) };
        },
    },
    {
        name: "PolicyAssignments_GetById", method: "GET", path: /^(\/subscriptions\/[^/]+|\/providers\/Microsoft\.Management\/managementGroups\/[^/]+)\/providers\/microsoft\.authorization\/policyAssignments\/[^/]+$/i, apiVersion: "2023-04-01",
        handle: (world, m) => {
            const id = m[0];
            const assignment = world.policyAssignments[id.toLowerCase()];
            if (!assignment) return armError(404, "PolicyAssignmentNotFound", `The policy assignment '${id.split("/").pop()}' is not found.`);
            return { status: 200, body: {
                properties: { displayName: assignment.displayName, policyDefinitionId: "/providers/Microsoft.Authorization/policyDefinitions/e56962a6-4747-49cd-b67b-bf8b01975c4c", notScopes: [], parameters: {}, enforcementMode: "Default", scope: m[1] },
                id, type: "Microsoft.Authorization/policyAssignments", name: id.split("/").pop(),
            } };
        },
    },
    {
        name: "ResourceSkus_List", method: "GET", path: new RegExp(`^${S}/providers/Microsoft\\.Compute/skus$`), apiVersion: "2021-07-01",
        handle: (world, _m, query) => {
            const location = /^location eq '([^']+)'$/.exec(query.get("$filter") ?? "")?.[1];
            if (!location) return armError(400, "InvalidFilter", "only location filters are supported");
            return { status: 200, body: { value: world.skus.filter((sku) => sku.locations.includes(location)), nextLink: null } };
        },
    },
    {
        name: "Usage_List", method: "GET", path: new RegExp(`^${S}/providers/Microsoft\\.Compute/locations/([^/]+)/usages$`), apiVersion: "2026-03-01",
        handle: (world) => ({ status: 200, body: { value: world.usages } }),
    },
    {
        name: "VirtualMachineImages_List", method: "GET",
        path: new RegExp(`^${S}/providers/Microsoft\\.Compute/locations/([^/]+)/publishers/MicrosoftWindowsServer/artifacttypes/vmimage/offers/WindowsServer/skus/([^/]+)/versions$`),
        apiVersion: "2026-03-01",
        handle: (world, m) => {
            const versions = world.imageVersions[m[3]];
            if (!versions) return armError(404, "NotFound", "Artifact: VMImage was not found.");
            return { status: 200, body: versions.map((name) => ({
                location: m[2], name,
                id: `/Subscriptions/${m[1]}/Providers/Microsoft.Compute/Locations/${m[2]}/Publishers/MicrosoftWindowsServer/ArtifactTypes/VMImage/Offers/WindowsServer/Skus/${m[3]}/Versions/${name}`,
            })) };
        },
    },
    {
        name: "Features_Get", method: "GET", path: new RegExp(`^${S}/providers/Microsoft\\.Features/providers/([^/]+)/features/([^/]+)$`), apiVersion: "2021-07-01",
        handle: (world, m) => ({ status: 200, body: {
            properties: { state: world.features[`${m[2]}/${m[3]}`] ?? "NotRegistered" },
            id: `/subscriptions/${m[1]}/providers/Microsoft.Features/providers/${m[2]}/features/${m[3]}`, type: "Microsoft.Features/providers/features", name: `${m[2]}/${m[3]}`,
        } }),
    },
    {
        name: "Locations_Get (Cosmos DB)", method: "GET", path: new RegExp(`^${S}/providers/Microsoft\\.DocumentDB/locations/([^/]+)$`), apiVersion: "2025-10-15",
        handle: (world, m) => {
            const properties = world.cosmosLocations[m[2]];
            return properties
                ? { status: 200, body: cosmosLocation(m[1], m[2], properties) }
                : armError(404, "NotFound", `Location '${m[2]}' not found`);
        },
    },
    {
        name: "Locations_List (Cosmos DB)", method: "GET", path: new RegExp(`^${S}/providers/Microsoft\\.DocumentDB/locations$`), apiVersion: "2025-10-15",
        handle: (world, m) => ({ status: 200, body: { value: Object.entries(world.cosmosLocations).map(([name, p]) => cosmosLocation(m[1], name, p)) } }),
    },
    {
        name: "DatabaseAccounts_List", method: "GET", path: new RegExp(`^${S}/providers/Microsoft\\.DocumentDB/databaseAccounts$`), apiVersion: "2025-10-15",
        handle: (world, m) => ({ status: 200, body: { value: world.cosmosAccounts.map((a) => cosmosAccount(m[1], a)) } }),
    },
    {
        name: "DatabaseAccounts_ListByResourceGroup", method: "GET", path: new RegExp(`^${S}/resourceGroups/([^/]+)/providers/Microsoft\\.DocumentDB/databaseAccounts$`), apiVersion: "2025-10-15",
        handle: (world, m) => ({ status: 200, body: { value: world.cosmosAccounts.filter((a) => a.resourceGroup === m[2]).map((a) => cosmosAccount(m[1], a)) } }),
    },
    {
        name: "VirtualMachines_List", method: "GET", path: new RegExp(`^${S}/resourceGroups/([^/]+)/providers/Microsoft\\.Compute/virtualMachines$`), apiVersion: "2026-03-01",
        handle: (world, m) => {
            const vms = world.vms.filter((vm) => vm.resourceGroup === m[2]);
            if (vms.length === 0 && !world.cosmosAccounts.some((a) => a.resourceGroup === m[2])) {
                return armError(404, "ResourceGroupNotFound", `Resource group '${m[2]}' could not be found.`);
            }
            return { status: 200, body: { value: vms.map((vm) => ({
                name: vm.name, id: vmId(m[1], vm), type: "Microsoft.Compute/virtualMachines", location: "westeurope",
                properties: {
                    hardwareProfile: { vmSize: vm.size },
                    storageProfile: { imageReference: { publisher: "MicrosoftWindowsServer", offer: "WindowsServer", sku: vm.imageSku, version: "latest" } },
                    osProfile: { computerName: "cosmos-vm", adminUsername: vm.adminUsername },
                    securityProfile: { securityType: "TrustedLaunch", uefiSettings: { secureBootEnabled: true, vTpmEnabled: true } },
                    provisioningState: "Succeeded",
                },
            })) } };
        },
    },
    {
        name: "VirtualMachines_InstanceView", method: "GET", path: new RegExp(`^${S}/resourceGroups/([^/]+)/providers/Microsoft\\.Compute/virtualMachines/([^/]+)/instanceView$`), apiVersion: "2026-03-01",
        handle: (world, m) => {
            const vm = world.vms.find((v) => v.resourceGroup === m[2] && v.name === m[3]);
            if (!vm) return armError(404, "ResourceNotFound", `The Resource 'Microsoft.Compute/virtualMachines/${m[3]}' under resource group '${m[2]}' was not found.`);
            return { status: 200, body: {
                computerName: "cosmos-vm", osName: "Windows Server 2025 Datacenter Azure Edition", osVersion: "10.0.26100.2894", hyperVGeneration: "V2",
                statuses: [
                    { code: "ProvisioningState/succeeded", level: "Info", displayStatus: "Provisioning succeeded", time: "2026-11-30T07:12:00.0000000+00:00" },
                    { code: `PowerState/${vm.powerState}`, level: "Info", displayStatus: `VM ${vm.powerState}` },
                ],
            } };
        },
    },
];

function cosmosLocation(subscriptionId: string, name: string, properties: FakeWorld["cosmosLocations"][string]) {
    return {
        id: `/subscriptions/${subscriptionId}/providers/Microsoft.DocumentDB/locations/${name}`, type: "Microsoft.DocumentDB/locations", name,
        properties: { supportsAvailabilityZone: true, isResidencyRestricted: false, backupStorageRedundancies: ["Geo", "Zone", "Local"], ...properties },
    };
}

function cosmosAccount(subscriptionId: string, account: FakeWorld["cosmosAccounts"][number]) {
    return {
        id: `/subscriptions/${subscriptionId}/resourceGroups/${account.resourceGroup}/providers/Microsoft.DocumentDB/databaseAccounts/${account.name}`,
        name: account.name, location: account.location, type: "Microsoft.DocumentDB/databaseAccounts", kind: "GlobalDocumentDB", tags: {},
        properties: {
            provisioningState: "Succeeded", documentEndpoint: `https://${account.name}.documents.azure.com:443/`, databaseAccountOfferType: "Standard",
            enableFreeTier: account.enableFreeTier, consistencyPolicy: { defaultConsistencyLevel: "Session", maxIntervalInSeconds: 5, maxStalenessPrefix: 100 },
        },
    };
}

export function vmId(subscriptionId: string, vm: Pick<FakeVm, "resourceGroup" | "name">): string {
    return `/subscriptions/${subscriptionId}/resourceGroups/${vm.resourceGroup}/providers/Microsoft.Compute/virtualMachines/${vm.name}`;
}

/** What Resource Manager would refuse in a checkPolicyRestrictions body (CheckRestrictionsRequest's required fields). */
function policyQuestionProblem(body: unknown): string | undefined {
    const question = body as Partial<PolicyQuestionBody> | undefined;
    const content = question?.resourceDetails?.resourceContent;
    if (!content || typeof content !== "object") return "resourceDetails.resourceContent is required";
    if (typeof content.type !== "string") return "resourceDetails.resourceContent.type is required";
    if (question?.resourceDetails?.apiVersion !== undefined && typeof question.resourceDetails.apiVersion !== "string") return "resourceDetails.apiVersion must be a string";
    if ((question?.pendingFields ?? []).some((f) => typeof f.field !== "string")) return "pendingFields[].field is required";
    return undefined;
}

/** `tls`: the certificate to serve (a child process reaching the fake as management.azure.com needs that name in it). */
export async function startFakeResourceManager(world: FakeWorld = healthyWorld(), tls: TestCertificate = selfSignedCertificate()): Promise<FakeResourceManager> {
    const calls: Call[] = [];
    const unexpected: string[] = [];
    const earlyRetries: string[] = [];
    const throttledUntil = new Map<string, number>();
    const throttleCounts = new Map<number, number>();

    const server = https.createServer({ key: tls.key, cert: tls.cert }, (request, response) => {
        const url = new URL(request.url ?? "/", "https://127.0.0.1");
        const method = request.method ?? "GET";
        const apiVersion = url.searchParams.get("api-version");
        const call: Call = { method, path: url.pathname, apiVersion, query: Object.fromEntries(url.searchParams) };
        calls.push(call);
        const send = ({ status, body, headers }: Reply): void => {
            setTimeout(() => {
                response.writeHead(status, { "content-type": "application/json; charset=utf-8", "x-ms-request-id": `fake-${calls.length}`, ...headers });
                response.end(body === undefined ? "" : JSON.stringify(body));
            }, world.latencyMs);
        };
        const chunks: Buffer[] = [];
        request.on("data", (chunk: Buffer) => chunks.push(chunk));
        request.on("end", () => {
            const text = Buffer.concat(chunks).toString("utf8");
            let body: unknown;
            try {
                body = text ? JSON.parse(text) : undefined;
            } catch {
                body = text;
            }
            if (body !== undefined) call.body = body;
            if (request.headers.authorization !== `Bearer ${FAKE_TOKEN}`) {
                unexpected.push(`${method} ${url.pathname}: no or wrong bearer token`);
                return send(armError(401, "AuthenticationFailed", "Authentication failed. The 'Authorization' header is missing."));
            }
            const onPath = ROUTES.filter((route) => route.path.test(url.pathname));
            const route = onPath.find((r) => r.method === method);
            if (!route) {
                unexpected.push(`${method} ${url.pathname}${url.search}`);
                return send(onPath.length > 0 ? armError(405, "MethodNotAllowed", `${method} is not allowed here`) : armError(404, "InvalidResourceType", `no route for ${url.pathname}`));
            }
            if (apiVersion !== route.apiVersion) {
                unexpected.push(`${route.name}: api-version ${apiVersion} (the spec's is ${route.apiVersion})`);
                return send(armError(400, "InvalidApiVersionParameter", `The api-version '${apiVersion}' is invalid. The supported versions are '${route.apiVersion}'.`));
            }
            // Throttling: a retry before Retry-After has elapsed is refused again.
            const key = `${method} ${url.pathname}`;
            const until = throttledUntil.get(key);
            if (until !== undefined && Date.now() < until) {
                earlyRetries.push(key);
                return send({ ...armError(429, "TooManyRequests", "Too many requests; retry later."), headers: { "retry-after": String(Math.ceil((until - Date.now()) / 1000)) } });
            }
            const rule = world.throttle.findIndex((t) => t.path.test(url.pathname) && (throttleCounts.get(world.throttle.indexOf(t)) ?? 0) < t.times);
            if (rule >= 0) {
                const { retryAfterSeconds } = world.throttle[rule];
                throttleCounts.set(rule, (throttleCounts.get(rule) ?? 0) + 1);
                throttledUntil.set(key, Date.now() + retryAfterSeconds * 1000);
                return send({ ...armError(429, "TooManyRequests", "Too many requests; retry later."), headers: { "retry-after": String(retryAfterSeconds) } });
            }
            const reply = route.handle(world, route.path.exec(url.pathname) as RegExpExecArray, url.searchParams, body);
            if (reply.status === 400) unexpected.push(`${route.name}: ${JSON.stringify(reply.body)}`);
            send(reply);
        });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    // One TLS context trusting the fake's certificate for every connection (an agent given `ca` builds one per connection).
    const agent = new https.Agent({ secureContext: createSecureContext({ ca: tls.cert }), keepAlive: true });
    return {
        endpoint: `https://127.0.0.1:${port}`,
        agent,
        world,
        calls,
        unexpected,
        earlyRetries,
        close: () => new Promise<void>((resolve) => {
            agent.destroy();
            server.closeAllConnections();
            server.close(() => resolve());
        }),
    };
}
