// Azure Policy, asked ahead of time: for every Azure resource the stack would create, the body the
// program declares (the plan's evaluation under mocks, declared.ts) goes to Policy Insights'
// "Policy Restrictions" API (POST .../providers/Microsoft.PolicyInsights/checkPolicyRestrictions,
// api-version 2023-03-01, at subscription scope; REST reference "Policy Restrictions - Check At
// Subscription Scope"). Its answer holds the content's policy evaluations (a Deny effect is what
// fails `pulumi up` with RequestDisallowedByPolicy) and restrictions on the fields we name as
// pending (location, tags). Pure, apart from the Resource Manager calls in checkPolicy.
import type { StackConfig } from "../../lib/config";
import { STACK_TAG_NAMES } from "../../lib/tags";
import { ArmClients, armCode, describeError, statusOf } from "./arm";
import type { DeclaredAzureResource } from "./declared";

export const POLICY_RESTRICTIONS_API_VERSION = "2023-03-01";
/** Policy Assignments - Get By Id, for the assignment's display name. */
export const POLICY_ASSIGNMENTS_API_VERSION = "2023-04-01";

/**
 * Each azure-native type's Resource Manager type and api-version (azure-native 3.28.0: "Uses Azure
 * REST API version ..." in each resource's docs), and the inputs that are URL path parameters
 * rather than body. test/preflightPolicy.test.ts holds this against the package and the program.
 */
export const ARM_SHAPES: Record<string, { armType: string; apiVersion: string; pathInputs: string[] }> = {
    "azure-native:resources:ResourceGroup": { armType: "Microsoft.Resources/subscriptions/resourceGroups", apiVersion: "2024-03-01", pathInputs: ["resourceGroupName"] },
    "azure-native:network:NetworkSecurityGroup": { armType: "Microsoft.Network/networkSecurityGroups", apiVersion: "2024-05-01", pathInputs: ["resourceGroupName", "networkSecurityGroupName"] },
    "azure-native:network:VirtualNetwork": { armType: "Microsoft.Network/virtualNetworks", apiVersion: "2024-05-01", pathInputs: ["resourceGroupName", "virtualNetworkName"] },
    "azure-native:network:Subnet": { armType: "Microsoft.Network/virtualNetworks/subnets", apiVersion: "2024-05-01", pathInputs: ["resourceGroupName", "virtualNetworkName", "subnetName"] },
    "azure-native:network:PublicIPAddress": { armType: "Microsoft.Network/publicIPAddresses", apiVersion: "2024-05-01", pathInputs: ["resourceGroupName", "publicIpAddressName"] },
    "azure-native:network:NetworkInterface": { armType: "Microsoft.Network/networkInterfaces", apiVersion: "2024-05-01", pathInputs: ["resourceGroupName", "networkInterfaceName"] },
    "azure-native:compute:VirtualMachine": { armType: "Microsoft.Compute/virtualMachines", apiVersion: "2024-11-01", pathInputs: ["resourceGroupName", "vmName"] },
    "azure-native:compute:VirtualMachineExtension": { armType: "Microsoft.Compute/virtualMachines/extensions", apiVersion: "2024-11-01", pathInputs: ["resourceGroupName", "vmName", "vmExtensionName"] },
    "azure-native:compute:VirtualMachineRunCommandByVirtualMachine": { armType: "Microsoft.Compute/virtualMachines/runCommands", apiVersion: "2024-11-01", pathInputs: ["resourceGroupName", "vmName", "runCommandName"] },
    "azure-native:devtestlab:GlobalSchedule": { armType: "Microsoft.DevTestLab/schedules", apiVersion: "2018-09-15", pathInputs: ["resourceGroupName", "name"] },
    "azure-native:cosmosdb:DatabaseAccount": { armType: "Microsoft.DocumentDB/databaseAccounts", apiVersion: "2025-10-15", pathInputs: ["resourceGroupName", "accountName"] },
    "azure-native:cosmosdb:SqlResourceSqlDatabase": { armType: "Microsoft.DocumentDB/databaseAccounts/sqlDatabases", apiVersion: "2025-10-15", pathInputs: ["resourceGroupName", "accountName", "databaseName"] },
    "azure-native:cosmosdb:SqlResourceSqlContainer": { armType: "Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers", apiVersion: "2025-10-15", pathInputs: ["resourceGroupName", "accountName", "databaseName", "containerName"] },
    "azure-native:authorization:RoleAssignment": { armType: "Microsoft.Authorization/roleAssignments", apiVersion: "2022-04-01", pathInputs: ["scope", "roleAssignmentName"] },
    "azure-native:cosmosdb:SqlResourceSqlRoleAssignment": { armType: "Microsoft.DocumentDB/databaseAccounts/sqlRoleAssignments", apiVersion: "2025-10-15", pathInputs: ["resourceGroupName", "accountName", "roleAssignmentId"] },
};

/** Resource Manager's envelope: these inputs sit at the body's top level, every other one under `properties`. */
const ENVELOPE = new Set(["location", "tags", "identity", "sku", "kind", "zones", "extendedLocation", "plan", "managedBy"]);

/** Where Pulumi's auto-naming adds 8 random characters, the plan shows `<suffix>`; Azure Policy gets 8 hex digits instead. */
export const NAME_SUFFIX_STAND_IN = "00000000";

/** One resource's question to Azure Policy. */
export interface PolicyQuestion {
    /** The program's logical name, for messages. */
    resource: string;
    armType: string;
    body: {
        resourceDetails: { resourceContent: Record<string, unknown>; apiVersion: string };
        pendingFields: { field: string; values?: string[] }[];
    };
}

/**
 * A value with the plan's placeholders made concrete: the subscription, the tenant and the auto-name
 * suffix are known; a value Azure decides (a principal id) is left out, as the request leaves it out.
 */
function concrete(value: unknown, known: { subscriptionId: string; tenantId: string }): unknown {
    if (typeof value === "string") {
        const text = value.replaceAll("<subscription-id>", known.subscriptionId).replaceAll("<tenant-id>", known.tenantId).replaceAll("<suffix>", NAME_SUFFIX_STAND_IN);
        return /<(guid|public-ip|generated|principal-id of [^>]+)>/.test(text) ? undefined : text;
    }
    if (Array.isArray(value)) return value.map((item) => concrete(item, known)).filter((item) => item !== undefined);
    if (value === null || typeof value !== "object") return value;
    const entries = Object.entries(value).map(([key, child]) => [key, concrete(child, known)] as const).filter(([, child]) => child !== undefined);
    return Object.fromEntries(entries);
}

/** The questions for every resource preflight knows the shape of; the others are named, unasked. */
export function policyQuestions(declared: readonly DeclaredAzureResource[], known: { subscriptionId: string; tenantId: string }): { questions: PolicyQuestion[]; unknownTypes: string[] } {
    const questions: PolicyQuestion[] = [];
    const unknownTypes: string[] = [];
    for (const resource of declared) {
        const shape = ARM_SHAPES[resource.type];
        if (!shape) {
            unknownTypes.push(`${resource.name} (${resource.type})`);
            continue;
        }
        const inputs = concrete(resource.inputs, known) as Record<string, unknown>;
        const properties: Record<string, unknown> = {};
        const content: Record<string, unknown> = { type: shape.armType, name: concrete(resource.resourceName, known) };
        for (const [key, value] of Object.entries(inputs)) {
            if (shape.pathInputs.includes(key)) continue;
            if (ENVELOPE.has(key)) content[key] = value;
            else properties[key] = value;
        }
        if (Object.keys(properties).length > 0) content.properties = properties;
        const pendingFields: PolicyQuestion["body"]["pendingFields"] = [];
        if (typeof content.location === "string") pendingFields.push({ field: "location", values: [content.location] });
        if (content.tags !== undefined) pendingFields.push({ field: "tags" });
        questions.push({ resource: resource.name, armType: shape.armType, body: { resourceDetails: { resourceContent: content, apiVersion: shape.apiVersion }, pendingFields } });
    }
    return { questions, unknownTypes };
}

// The answer's shapes (REST spec checkPolicyRestrictions.json, 2023-03-01).
export interface PolicyReference {
    policyDefinitionId?: string;
    policySetDefinitionId?: string;
    policyDefinitionReferenceId?: string;
    policyAssignmentId?: string;
}
interface FieldRestriction {
    result?: string;
    defaultValue?: string;
    values?: string[];
    policy?: PolicyReference;
    policyEffect?: string;
    reason?: string;
}
interface ExpressionEvaluation {
    result?: string;
    expressionKind?: string;
    expression?: string;
    path?: string;
    expressionValue?: unknown;
    targetValue?: unknown;
    operator?: string;
}
export interface CheckRestrictionsResult {
    fieldRestrictions?: { field?: string; restrictions?: FieldRestriction[] }[];
    contentEvaluationResult?: {
        policyEvaluations?: {
            policyInfo?: PolicyReference;
            evaluationResult?: string;
            evaluationDetails?: { evaluatedExpressions?: ExpressionEvaluation[]; reason?: string };
            effectDetails?: { policyEffect?: string };
        }[];
    };
}

/** One thing a policy does to one resource. */
export interface PolicyFinding {
    assignmentId: string;
    resource: string;
    armType: string;
    /** The field the policy looks at (location, tags.costCenter, type, an alias...). */
    field: string;
    /** What the stack sets there, when it sets something. */
    value?: string;
    /** fail: `pulumi up` would be refused; warning: a policy changes or may refuse what the stack sets. */
    severity: "fail" | "warning";
    /** The values the policy allows, when it says. */
    allowed?: string[];
    reason?: string;
}

const lower = (text: string | undefined) => (text ?? "").toLowerCase();
/** The tag a policy field names: tags.x, tags['x'] or tags[x]. */
function tagOf(field: string): string | undefined {
    const match = /^tags(?:\.(.+)|\['([^']+)'\]|\[([^\]]+)\])$/i.exec(field);
    return match ? (match[1] ?? match[2] ?? match[3]) : undefined;
}
/** One spelling per field, for grouping. */
const normalField = (field: string) => {
    const tag = tagOf(field);
    return (tag === undefined ? field : `tags.${tag}`).toLowerCase();
};
const sameValue = (a: string, b: string) => a.replace(/\s+/g, "").toLowerCase() === b.replace(/\s+/g, "").toLowerCase();

/** What the content sets at a policy field: `location`, `name`, `type`, a tag (tag names compare without case, as Azure's do). */
function contentValue(content: Record<string, unknown>, field: string): string | undefined {
    const tag = tagOf(field);
    if (tag !== undefined) {
        const tags = (content.tags ?? {}) as Record<string, unknown>;
        const name = Object.keys(tags).find((key) => key.toLowerCase() === tag.toLowerCase());
        return name === undefined ? undefined : String(tags[name]);
    }
    const top = content[field] ?? content[field.toLowerCase()];
    return typeof top === "string" ? top : undefined;
}

/** The findings in one answer: denies of the content as declared, and field restrictions on what it sets. Audit effects are not findings. */
export function policyFindings(question: PolicyQuestion, answer: CheckRestrictionsResult): PolicyFinding[] {
    const findings: PolicyFinding[] = [];
    const content = question.body.resourceDetails.resourceContent;
    const base = { resource: question.resource, armType: question.armType };
    for (const evaluation of answer.contentEvaluationResult?.policyEvaluations ?? []) {
        if (lower(evaluation.effectDetails?.policyEffect) !== "deny") continue;
        const expressions = (evaluation.evaluationDetails?.evaluatedExpressions ?? []).filter((e) => lower(e.expressionKind) === "field");
        // The expression that names what is wrong; `type` alone means the resource type itself is denied.
        const telling = expressions.find((e) => lower(e.expression) !== "type") ?? expressions[0];
        const field = telling?.expression ?? telling?.path ?? "type";
        const value = telling && typeof telling.expressionValue === "string" ? telling.expressionValue : contentValue(content, field);
        // `field notIn [list]` denies what is not listed: the list is what the assignment allows.
        const allowed = telling && Array.isArray(telling.targetValue) && /^notin$/i.test(telling.operator ?? "") ? telling.targetValue.map(String) : undefined;
        findings.push({ ...base, assignmentId: evaluation.policyInfo?.policyAssignmentId ?? "an unnamed assignment", field, value, severity: "fail", allowed, reason: evaluation.evaluationDetails?.reason });
    }
    for (const fieldRestrictions of answer.fieldRestrictions ?? []) {
        const field = fieldRestrictions.field ?? "";
        const value = contentValue(content, field);
        for (const restriction of fieldRestrictions.restrictions ?? []) {
            const result = lower(restriction.result);
            if (result === "audit" || lower(restriction.policyEffect).startsWith("audit")) continue;
            const finding = { ...base, assignmentId: restriction.policy?.policyAssignmentId ?? "an unnamed assignment", field, value, reason: restriction.reason };
            const values = restriction.values ?? [];
            if (result === "deny") {
                // Denied values, or the field itself when none are listed: a failure if the stack sets one.
                if (value !== undefined && (values.length === 0 || values.some((v) => sameValue(v, value)))) findings.push({ ...finding, severity: "fail" });
            } else if (result === "required") {
                if (value === undefined) {
                    // A default the policy fills in is a change, not a refusal.
                    findings.push({ ...finding, severity: restriction.defaultValue !== undefined ? "warning" : "fail", allowed: values.length > 0 ? values : undefined });
                } else if (values.length > 0 && !values.some((v) => sameValue(v, value))) {
                    findings.push({ ...finding, severity: "fail", allowed: values });
                }
            } else if (result === "removed" && value !== undefined) {
                findings.push({ ...finding, severity: "warning" });
            }
        }
    }
    return findings;
}

/** The config key whose value a policy field comes from, when there is one (undefined: no configuration avoids it). */
export function configKeyFor(finding: Pick<PolicyFinding, "field" | "armType">): string | undefined {
    const field = finding.field.toLowerCase();
    const type = finding.armType.toLowerCase();
    if (field === "location" || field.endsWith("/locations[*].locationname")) {
        return type === "microsoft.documentdb/databaseaccounts" ? "cosmosLocation" : "azure-native:location";
    }
    if (field.startsWith("tags")) {
        // The program sets `project` and `stack` itself; the `tags` config may not override them.
        const tag = tagOf(finding.field);
        return tag !== undefined && STACK_TAG_NAMES.some((name) => name === tag.toLowerCase()) ? undefined : "tags";
    }
    if (field.endsWith("virtualmachines/sku.name") || field.endsWith("hardwareprofile.vmsize")) return "vmSize";
    if (field.endsWith("/imagesku") || field.endsWith("imagereference.sku")) return "windowsImageSku";
    if (field.endsWith("encryptionathost")) return "encryptionAtHost";
    if (field.endsWith("adminusername")) return "adminUsername";
    if (field.endsWith("publicnetworkaccess") || field.endsWith("isvirtualnetworkfilterenabled")) return "cosmosPublicAccess";
    if (field.endsWith("disablelocalauth")) return "accessMode";
    if (field.endsWith("enablefreetier")) return "freeTier";
    if (field.includes("securityrules")) return "rdpAllowedFrom";
    if (field === "name" && type.endsWith("/sqldatabases")) return "databaseName";
    if (field === "name" && type.endsWith("/containers")) return "containerName";
    return undefined;
}

/** The command that sets a key (project keys without their namespace, as `pulumi config set` takes them). */
function setCommand(key: string, field: string, allowed: string[] | undefined): string {
    if (key === "tags") return `pulumi config set --path 'tags.${tagOf(field) ?? "<name>"}' ${allowed?.[0] ?? "<value>"}`;
    return `pulumi config set ${key} ${allowed?.[0] ?? "<a value the assignment allows>"}`;
}

export interface PolicyOutcome {
    status: "pass" | "fail" | "warning";
    message: string;
    remedy?: string;
    findings: (PolicyFinding & { assignment: string; configKey: string | null })[];
}

const listed = (names: string[]) => (names.length <= 4 ? names.join(", ") : `${names.slice(0, 3).join(", ")} and ${names.length - 3} more`);

/** Findings grouped by assignment and field, one clause each; the remedy names the config key, or that none avoids it. */
export function summarise(findings: PolicyFinding[], displayNames: ReadonlyMap<string, string>, asked: number, unknownTypes: string[], config: StackConfig): PolicyOutcome {
    const named = findings.map((f) => ({ ...f, assignment: displayNames.get(f.assignmentId) ?? assignmentName(f.assignmentId), configKey: configKeyFor(f) ?? null }));
    // A deny of the content and a restriction on the same field by the same assignment are one clause.
    const groups = new Map<string, typeof named>();
    for (const finding of named) {
        const key = `${finding.severity}|${finding.assignmentId}|${normalField(finding.field)}|${finding.configKey}`;
        groups.set(key, [...(groups.get(key) ?? []), finding]);
    }
    const clauses: string[] = [];
    const remedies: string[] = [];
    for (const group of groups.values()) {
        const first = group[0];
        const what = first.value === undefined ? first.field : `${first.field} ${first.value}`;
        const verb = first.severity === "fail" ? (first.value === undefined ? "requires" : "denies") : "changes";
        const resources = [...new Set(group.map((f) => (f.armType === "Microsoft.Resources/subscriptions/resourceGroups" ? `resource group ${f.resource}` : f.resource)))];
        clauses.push(`"${first.assignment}" ${verb} ${what} on ${listed(resources)}`);
        if (first.severity !== "fail") continue;
        const allowed = group.find((f) => f.allowed)?.allowed?.filter((v) => !(first.value && sameValue(v, first.value)));
        remedies.push(first.configKey !== null
            ? `${setCommand(first.configKey, first.field, allowed)}${allowed && allowed.length > 0 ? ` (allowed by "${first.assignment}": ${allowed.join(", ")})` : ""}`
            : `"${first.assignment}": no configuration avoids it (ask for a policy exemption, or deploy to another subscription)`);
    }
    const unknown = unknownTypes.length > 0 ? `; not asked (preflight does not know their shape): ${unknownTypes.join(", ")}` : "";
    const failing = named.some((f) => f.severity === "fail");
    if (failing) {
        const uniqueRemedies = [...new Set(remedies)];
        return { status: "fail", message: `Azure Policy would refuse the deployment (RequestDisallowedByPolicy): ${clauses.join("; ")}${unknown}`, remedy: uniqueRemedies.join("; "), findings: named };
    }
    if (named.length > 0 || unknownTypes.length > 0) {
        return { status: "warning", message: `${clauses.length > 0 ? `no policy denies the stack, but ${clauses.join("; ")}` : `no policy denies the ${asked} resources asked about`}${unknown}`, findings: named };
    }
    const where = config.cosmosLocation === config.location ? config.location : `${config.location} and ${config.cosmosLocation}`;
    return { status: "pass", message: `no policy assignment denies any of the stack's ${asked} Azure resources as declared (${where}; audit effects not counted)`, findings: [] };
}

/** The last segment of an assignment id: what shows when its display name cannot be read. */
function assignmentName(id: string): string {
    return id.split("/").pop() ?? id;
}

/** Asks Azure Policy about every question at once (each answer is one small POST), then names the assignments found. */
export async function checkPolicy(
    clients: ArmClients,
    subscriptionId: string,
    declared: readonly DeclaredAzureResource[],
    known: { subscriptionId: string; tenantId: string },
    config: StackConfig,
    signal: AbortSignal,
): Promise<PolicyOutcome> {
    const { questions, unknownTypes } = policyQuestions(declared, known);
    const path = `/subscriptions/${subscriptionId}/providers/Microsoft.PolicyInsights/checkPolicyRestrictions`;
    let answers: CheckRestrictionsResult[];
    try {
        answers = await Promise.all(questions.map((q) => clients.postRaw<CheckRestrictionsResult>(path, POLICY_RESTRICTIONS_API_VERSION, q.body, signal)));
    } catch (error) {
        if (statusOf(error) === 403) {
            return { status: "warning", message: `may not ask Azure Policy what it would deny (${describeError(error)}); a policy assignment may still refuse a resource (RequestDisallowedByPolicy)`,
                remedy: "review the assignments that apply: az policy assignment list --disable-scope-strict-match --query \"[].displayName\"", findings: [] };
        }
        if (armCode(error) === "MissingSubscriptionRegistration") {
            return { status: "warning", message: `Azure Policy could not be asked: ${describeError(error)}`, remedy: "az provider register --namespace Microsoft.PolicyInsights", findings: [] };
        }
        throw error;
    }
    const findings = questions.flatMap((q, i) => policyFindings(q, answers[i]));
    const ids = [...new Set(findings.map((f) => f.assignmentId).filter((id) => id.startsWith("/")))];
    const displayNames = new Map<string, string>();
    await Promise.all(ids.map(async (id) => {
        try {
            const assignment = await clients.getRaw<{ properties?: { displayName?: string } }>(id, POLICY_ASSIGNMENTS_API_VERSION, signal);
            if (assignment.properties?.displayName) displayNames.set(id, assignment.properties.displayName);
        } catch (error) {
            // A caller who may not read the assignment still learns its name from its id.
            if (statusOf(error) !== 403 && statusOf(error) !== 404) throw error;
        }
    }));
    return summarise(findings, displayNames, questions.length, unknownTypes, config);
}
