// Evaluates the Pulumi program under Pulumi's mocks and records what it declares: every resource
// registration as the engine would receive it (type, name, parent, inputs, secretness, dependencies,
// options), every read (the stack reference the change guard uses) and every stack output. No Azure,
// no CLI, no network. Used by the tests, `npm run plan` and `npm run impact`; each brings its own fake Azure.
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";

export const PROJECT_ROOT = path.resolve(__dirname, "..");
const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";
/** The organization the local backend reports (`pulumi login --local`); Pulumi Cloud reports the user's or team's. */
export const MOCK_ORGANIZATION = "organization";
const SIG_KEY = "4dabf18193072939515e22adb298388d";

/** What Azure reports back: a resource's id and state, an invoke's result. */
export interface FakeAzure {
    resource(type: string, name: string, inputs: Record<string, any>): { id: string; state: Record<string, any> };
    invoke(token: string, inputs: Record<string, any>): Record<string, unknown>;
}

export interface DeclaredResource {
    /** When its registration completed (its outputs became known), on one clock with invokes' `order`. */
    order: number;
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
    /** Top-level input name to the URNs its value came from (through outputs): what makes it unknown when they are replaced. */
    propertyDependencies: Record<string, string[]>;
    deleteBeforeReplace: boolean;
    ignoreChanges: string[];
    replaceOnChanges: string[];
    /** The replacementTrigger option's value (secrets unwrapped), or undefined. */
    replacementTrigger: unknown;
    /** URN of the resource this one is deleted with, or "". */
    deletedWith: string;
    /** The customTimeouts option as the engine receives it ("" when unset). */
    customTimeouts: { create: string; update: string; delete: string };
    /** Fake provider-computed state the mocks returned. */
    state: Record<string, any>;
}

export interface StackOutput {
    value: unknown;
    secret: boolean;
    known: boolean;
}

/** A resource read rather than managed, such as a stack reference. */
export interface ReadResource {
    type: string;
    name: string;
    id: string;
}

export interface Evaluation {
    resources: DeclaredResource[];
    reads: ReadResource[];
    outputs: Record<string, StackOutput>;
    /** Invokes as the program called them; `order` on the same clock as resources' registrations. */
    invokes: { token: string; inputs: Record<string, any>; order: number }[];
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
    /**
     * The outputs of the stack's last successful update, as a stack reference to the stack itself reads
     * them (for example another evaluation's `outputs`). None by default: a stack's first update.
     */
    previousOutputs?: Record<string, StackOutput>;
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
    getCustomtimeouts(): { getCreate(): string; getUpdate(): string; getDelete(): string } | undefined;
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
    const reads: ReadResource[] = [];
    const invokes: Evaluation["invokes"] = [];
    let clock = 0;
    await pulumi.runtime.setMocks({
        newResource: (args) => {
            if (args.id !== undefined && args.id !== "") {
                reads.push({ type: args.type, name: args.name, id: args.id });
                if (args.type === "pulumi:pulumi:StackReference") return { id: args.id, state: stackReferenceState(args.inputs.name, options.previousOutputs ?? {}) };
            }
            const { id, state } = azure.resource(args.type, args.name, args.inputs);
            return { id: args.custom ? id : "", state: args.custom ? state : {} };
        },
        call: (args) => {
            invokes.push({ token: args.token, inputs: args.inputs, order: clock++ });
            return azure.invoke(args.token, args.inputs);
        },
    }, options.project ?? "cosmos-vm-identity", options.stack ?? "dev", options.preview ?? false, MOCK_ORGANIZATION);
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
                const propertyDependencies: Record<string, string[]> = {};
                req.getPropertydependenciesMap().forEach((deps, key) => {
                    propertyDependencies[key] = [...deps.getUrnsList()].sort();
                    deps.getUrnsList().forEach((urn) => dependencies.add(urn));
                });
                const timeouts = req.getCustomtimeouts();
                const typed = resp as { getUrn(): string; getId(): string; getObject(): { toJavaScript(): Record<string, any> } };
                resources.push({
                    order: clock++,
                    type: req.getType(),
                    name: req.getName(),
                    urn: typed.getUrn(),
                    id: typed.getId(),
                    parent: req.getParent(),
                    custom: req.getCustom(),
                    inputs: unwrapSecrets(raw) as Record<string, any>,
                    secretInputs,
                    dependencies: [...dependencies].sort(),
                    propertyDependencies,
                    deleteBeforeReplace: req.getDeletebeforereplace(),
                    ignoreChanges: req.getIgnorechangesList(),
                    replaceOnChanges: req.getReplaceonchangesList(),
                    replacementTrigger: unwrapSecrets(req.getReplacementTrigger()?.toJavaScript()),
                    deletedWith: req.getDeletedwith(),
                    customTimeouts: { create: timeouts?.getCreate() ?? "", update: timeouts?.getUpdate() ?? "", delete: timeouts?.getDelete() ?? "" },
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
    // Pulumi's runtime captures a stack trace for every promise it makes (runtime/debuggable.js), which
    // ts-node's source maps make expensive: about half of an evaluation. Errors keep their messages.
    const stackTraceLimit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    try {
        return await load(options, { resources, reads, invokes, warnings });
    } finally {
        console.warn = consoleWarn;
        Error.stackTraceLimit = stackTraceLimit;
    }
}

type Recorded = Pick<Evaluation, "resources" | "reads" | "invokes" | "warnings">;

async function load(options: EvaluateOptions, recorded: Recorded): Promise<Evaluation> {
    const programPath = require.resolve(options.program ?? path.join(PROJECT_ROOT, "index.ts"));
    // A fresh evaluation: forget the program module (and only it) from the last one.
    delete require.cache[programPath];
    let programExports: Record<string, unknown>;
    try {
        // A program is either a module of exports, or (`export = async () => ...`) a function whose result they are.
        const loaded: unknown = require(programPath);
        programExports = typeof loaded === "function" ? await (loaded as () => Promise<Record<string, unknown>>)() : loaded as Record<string, unknown>;
    } catch (error) {
        await settings.waitForRPCs();
        return { ...recorded, outputs: {}, error };
    }
    const outputs: Record<string, StackOutput> = {};
    for (const [name, value] of Object.entries(programExports ?? {})) {
        if (pulumi.Output.isInstance(value)) {
            const internals = value as unknown as OutputInternals;
            const known = await internals.isKnown;
            outputs[name] = { value: known ? await internals.promise() : undefined, secret: await internals.isSecret, known };
        } else {
            outputs[name] = { value, secret: false, known: true };
        }
    }
    await settings.waitForRPCs();
    return { ...recorded, outputs };
}

/** What the engine reads for a stack reference: the stack's outputs, secret ones wrapped as secrets and listed by name. */
function stackReferenceState(name: string, previous: Record<string, StackOutput>): Record<string, unknown> {
    const outputs: Record<string, unknown> = {};
    for (const [key, output] of Object.entries(previous)) {
        outputs[key] = output.secret ? pulumi.secret(output.value) : output.value;
    }
    return { name, outputs, secretOutputNames: Object.keys(previous).filter((key) => previous[key].secret) };
}

function unwrapSecrets(value: unknown): unknown {
    if (Array.isArray(value)) return value.map(unwrapSecrets);
    if (value === null || typeof value !== "object") return value;
    const record = value as Record<string, unknown>;
    if (record[SIG_KEY] === SECRET_SIG) return unwrapSecrets(record.value);
    return Object.fromEntries(Object.entries(record).map(([key, child]) => [key, unwrapSecrets(child)]));
}

