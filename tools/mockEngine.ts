// Evaluates the Pulumi program under Pulumi's mocks and records what it declares: every resource
// registration as the engine would receive it (type, name, parent, inputs, secretness, dependencies,
// options) and every stack output. No Azure, no CLI, no network. Used by the tests and by
// `npm run plan`; each brings its own fake Azure.
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";

export const PROJECT_ROOT = path.resolve(__dirname, "..");
const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";
const SIG_KEY = "4dabf18193072939515e22adb298388d";

/** What Azure reports back: a resource's id and state, an invoke's result. */
export interface FakeAzure {
    resource(type: string, name: string, inputs: Record<string, any>): { id: string; state: Record<string, any> };
    invoke(token: string, inputs: Record<string, any>): Record<string, unknown>;
}

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
    replaceOnChanges: string[];
    /** The replacementTrigger option's value (secrets unwrapped), or undefined. */
    replacementTrigger: unknown;
    /** URN of the resource this one is deleted with, or "". */
    deletedWith: string;
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
    /** The project's name; cosmos-vm-identity by default (`pulumi new` lets a user choose another). */
    project?: string;
    preview?: boolean;
    secretKeys?: string[];
    /** The program module to load; the project's index.ts by default. */
    program?: string;
}

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
    getReplaceonchangesList(): string[];
    getReplacementTrigger(): { toJavaScript(): unknown } | undefined;
    getDeletedwith(): string;
}
interface MockMonitorInternals {
    registerResource(req: RegisterRequest, callback: (err: unknown, resp: unknown) => void): Promise<void>;
}
// eslint-disable-next-line @typescript-eslint/no-require-imports
const settings: { waitForRPCs(): Promise<void>; getMonitor(): unknown } = require("@pulumi/pulumi/runtime/settings");

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
export async function evaluateProgram(config: Record<string, string>, azure: FakeAzure, options: EvaluateOptions = {}): Promise<Evaluation> {
    const resources: DeclaredResource[] = [];
    const invokes: Evaluation["invokes"] = [];
    await pulumi.runtime.setMocks({
        newResource: (args) => {
            const { id, state } = azure.resource(args.type, args.name, args.inputs);
            return { id: args.custom ? id : "", state: args.custom ? state : {} };
        },
        call: (args) => {
            invokes.push({ token: args.token, inputs: args.inputs });
            return azure.invoke(args.token, args.inputs);
        },
    }, options.project ?? "cosmos-vm-identity", options.stack ?? "dev", options.preview ?? false);
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
                    replaceOnChanges: req.getReplaceonchangesList(),
                    replacementTrigger: unwrapSecrets(req.getReplacementTrigger()?.toJavaScript()),
                    deletedWith: req.getDeletedwith(),
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
    // Pulumi's runtime captures a stack trace for every promise and output it makes (for its leak
    // and error reports), and ts-node's source-map support makes each capture expensive: about 40%
    // of an evaluation's CPU. V8's own formatting while the program runs; source maps again after.
    const prepareStackTrace = Error.prepareStackTrace;
    Reflect.deleteProperty(Error, "prepareStackTrace");
    try {
        return await load(options, resources, invokes, warnings);
    } finally {
        if (prepareStackTrace) Error.prepareStackTrace = prepareStackTrace;
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

