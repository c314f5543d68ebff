// Evaluates the Pulumi program under Pulumi's mocks and records what it declares: every resource
// registration as the engine would receive it (type, name, parent, inputs, secretness, dependencies,
// options) and every stack output. No Azure, no CLI, no network.
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";

export const PROJECT_ROOT = path.resolve(__dirname, "..");
export const SUBSCRIPTION_ID = "00000000-1111-2222-3333-444444444444";
export const TENANT_ID = "99999999-8888-7777-6666-555555555555";
export const VM_PRINCIPAL_ID = "7f0c1d2e-3a4b-4c5d-8e9f-0a1b2c3d4e5f";
export const PUBLIC_IP = "203.0.113.10";
/** What Run Command reports after the script ran: the script's masked summary. */
export const RUN_COMMAND_INSTANCE_VIEW = {
    executionState: "Succeeded",
    exitCode: 0,
    output: "Managed identity token acquired\n  primaryReadonlyMasterKey: sha256:1a2b3c4d\nOK: the primaryReadonlyMasterKey read container 'Test'\n",
    error: "",
};
const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";
const SIG_KEY = "4dabf18193072939515e22adb298388d";

export interface DeclaredResource {
    type: string;
    name: string;
    urn: string;
    /** The id the (fake) provider returned; empty for components. */
    id: string;
    parent: string;
    custom: boolean;
    /** Inputs with secrets unwrapped. */
    inputs: Record<string, any>;
    /** Dotted paths of inputs that were sent as secrets, e.g. "osProfile.adminPassword". */
    secretInputs: string[];
    /** URNs of every resource this one depends on (explicit dependsOn and through inputs). */
    dependencies: string[];
    deleteBeforeReplace: boolean;
    ignoreChanges: string[];
    /** Fake provider-computed state the mocks returned. */
    state: Record<string, any>;
}

export interface StackOutput {
    value: unknown;
    secret: boolean;
    known: boolean;
}

export interface Evaluation {
    resources: DeclaredResource[];
    outputs: Record<string, StackOutput>;
    invokes: { token: string; inputs: Record<string, any> }[];
    /** Warnings the program logged (pulumi.log.warn). */
    warnings: string[];
    /** Error the program threw while being loaded (for example a ConfigError). */
    error?: unknown;
}

export interface EvaluateOptions {
    stack?: string;
    preview?: boolean;
    secretKeys?: string[];
    /** The program module to load; the project's index.ts by default. */
    program?: string;
}

/** The config a stack needs at the least. */
export const MINIMAL_CONFIG: Record<string, string> = { "azure-native:location": "westeurope" };

// Internal SDK members the public types hide.
interface OutputInternals {
    promise(withUnknowns?: boolean): Promise<unknown>;
    isKnown: Promise<boolean>;
    isSecret: Promise<boolean>;
}
interface RegisterRequest {
    getType(): string;
    getName(): string;
    getParent(): string;
    getCustom(): boolean;
    getObject(): { toJavaScript(): Record<string, unknown> };
    getDependenciesList(): string[];
    getPropertydependenciesMap(): { forEach(cb: (value: { getUrnsList(): string[] }, key: string) => void): void };
    getDeletebeforereplace(): boolean;
    getIgnorechangesList(): string[];
}
interface MockMonitorInternals {
    registerResource(req: RegisterRequest, callback: (err: unknown, resp: unknown) => void): Promise<void>;
}
// eslint-disable-next-line @typescript-eslint/no-require-imports
const settings: { waitForRPCs(): Promise<void>; getMonitor(): unknown } = require("@pulumi/pulumi/runtime/settings");

/** Fake Azure: what each resource type reports back, enough for the program's outputs. */
function fakeState(type: string, name: string, inputs: Record<string, any>): { id: string; state: Record<string, any> } {
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

function secretPaths(value: unknown, prefix: string, found: string[]): void {
    if (value === null || typeof value !== "object") return;
    const record = value as Record<string, unknown>;
    if (record[SIG_KEY] === SECRET_SIG) {
        found.push(prefix);
        return;
    }
    for (const [key, child] of Object.entries(record)) secretPaths(child, prefix ? `${prefix}.${key}` : key, found);
}

/**
 * Runs the program with the given config (full keys, e.g. `cosmos-vm-identity:throughput`) and returns
 * what it declared. Each call is a fresh evaluation; call them one after another, not concurrently.
 */
export async function evaluate(config: Record<string, string>, options: EvaluateOptions = {}): Promise<Evaluation> {
    const resources: DeclaredResource[] = [];
    const invokes: Evaluation["invokes"] = [];
    await pulumi.runtime.setMocks({
        newResource: (args) => {
            const { id, state } = fakeState(args.type, args.name, args.inputs);
            return { id: args.custom ? id : "", state: args.custom ? state : {} };
        },
        call: (args) => {
            invokes.push({ token: args.token, inputs: args.inputs });
            if (args.token === "azure-native:authorization:getClientConfig") {
                return { subscriptionId: SUBSCRIPTION_ID, tenantId: TENANT_ID, clientId: "client", objectId: "deployer" };
            }
            if (args.token === "azure-native:compute:getVirtualMachineRunCommandByVirtualMachine") {
                return { name: args.inputs.runCommandName, instanceView: RUN_COMMAND_INSTANCE_VIEW };
            }
            return {};
        },
    }, "cosmos-vm-identity", options.stack ?? "dev", options.preview ?? false);
    pulumi.runtime.setAllConfig(config, options.secretKeys ?? []);

    const monitor = settings.getMonitor() as MockMonitorInternals;
    const register = monitor.registerResource.bind(monitor);
    monitor.registerResource = async (req, callback) => {
        await register(req, (err, resp) => {
            if (!err && resp) {
                const raw = req.getObject().toJavaScript();
                const secretInputs: string[] = [];
                secretPaths(raw, "", secretInputs);
                const dependencies = new Set(req.getDependenciesList());
                req.getPropertydependenciesMap().forEach((deps) => deps.getUrnsList().forEach((urn) => dependencies.add(urn)));
                const typed = resp as { getUrn(): string; getId(): string; getObject(): { toJavaScript(): Record<string, any> } };
                resources.push({
                    type: req.getType(),
                    name: req.getName(),
                    urn: typed.getUrn(),
                    id: typed.getId(),
                    parent: req.getParent(),
                    custom: req.getCustom(),
                    inputs: unwrapSecrets(raw) as Record<string, any>,
                    secretInputs,
                    dependencies: [...dependencies].sort(),
                    deleteBeforeReplace: req.getDeletebeforereplace(),
                    ignoreChanges: req.getIgnorechangesList(),
                    state: unwrapSecrets(typed.getObject().toJavaScript()) as Record<string, any>,
                });
            }
            callback(err, resp);
        });
    };

    // Without an engine, pulumi.log.warn writes to console.warn: record it instead.
    const warnings: string[] = [];
    const consoleWarn = console.warn;
    console.warn = (...args: unknown[]) => void warnings.push(args.map(String).join(" "));
    try {
        return await load(options, resources, invokes, warnings);
    } finally {
        console.warn = consoleWarn;
    }
}

async function load(options: EvaluateOptions, resources: DeclaredResource[], invokes: Evaluation["invokes"], warnings: string[]): Promise<Evaluation> {
    const programPath = require.resolve(options.program ?? path.join(PROJECT_ROOT, "index.ts"));
    // A fresh evaluation: forget the program module (and only it) from the last one.
    delete require.cache[programPath];
    let programExports: Record<string, unknown>;
    try {
        programExports = require(programPath);
    } catch (error) {
        await settings.waitForRPCs();
        return { resources, outputs: {}, invokes, warnings, error };
    }
    const outputs: Record<string, StackOutput> = {};
    for (const [name, value] of Object.entries(programExports)) {
        if (pulumi.Output.isInstance(value)) {
            const internals = value as unknown as OutputInternals;
            const known = await internals.isKnown;
            outputs[name] = { value: known ? await internals.promise() : undefined, secret: await internals.isSecret, known };
        } else {
            outputs[name] = { value, secret: false, known: true };
        }
    }
    await settings.waitForRPCs();
    return { resources, outputs, invokes, warnings };
}

function unwrapSecrets(value: unknown): unknown {
    if (Array.isArray(value)) return value.map(unwrapSecrets);
    if (value === null || typeof value !== "object") return value;
    const record = value as Record<string, unknown>;
    if (record[SIG_KEY] === SECRET_SIG) return unwrapSecrets(record.value);
    return Object.fromEntries(Object.entries(record).map(([key, child]) => [key, unwrapSecrets(child)]));
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
