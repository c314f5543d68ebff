// Evaluates the Pulumi program under Pulumi's mocks and records what it declares: every resource
// registration as the engine would receive it (type, name, parent, inputs, secretness, dependencies,
// options), every read (the stack reference the change guard uses) and every stack output. No Azure,
// no CLI, no network. Used by the tests, `npm run plan` and `npm run impact`; each brings its own fake Azure.
// The program runs inside the root stack resource, as under Pulumi's runner, and the engine's answers
// that decide what a stack records can be chosen: a resource that fails, an update with --target, a
// destroy or refresh that runs the program, and a dynamic resource's check (what the engine does in
// each case is cited where it is modelled below).
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { Struct } from "google-protobuf/google/protobuf/struct_pb";

export const PROJECT_ROOT = path.resolve(__dirname, "..");
const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";
/** The organization the local backend reports (`pulumi login --local`); Pulumi Cloud reports the user's or team's. */
export const MOCK_ORGANIZATION = "organization";
const SIG_KEY = "4dabf18193072939515e22adb298388d";
/** What the engine stores for a value that was unknown when registered (pkg/resource/stack/deployment.go computedValuePlaceholder). */
export const UNKNOWN_PLACEHOLDER = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";
const STACK_TYPE = "pulumi:pulumi:Stack";

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
    /** False when the value was unknown (the engine then stores UNKNOWN_PLACEHOLDER) or failed. */
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
    /** Errors the engine reported: a refused check, a failed resource, a targeted resource that depends on one left out. */
    diagnostics: string[];
    /** Names of the resources the engine neither created nor changed (skipped creates: --target, destroy, refresh). */
    skipped: string[];
    /**
     * The stack's outputs as the engine keeps them after this run: what the program registered for
     * the root stack, laid over the previous outputs when the run failed (pkg/resource/deploy/
     * step_executor.go executeRegisterResourceOutputs: "If there was an error, we only replace
     * outputs that have new outputs"). What the next run's stack reference reads.
     */
    recorded: Record<string, StackOutput>;
}

/** The state backend, whose rules decide which stack reference names resolve (pkg/backend/diy/store.go, pkg/backend/httpstate). */
export type MockBackend = "diy" | "diy-legacy" | "cloud";

export interface EvaluateOptions {
    stack?: string;
    /** The project's name; cosmos-vm-identity by default (`pulumi new` lets a user choose another). */
    project?: string;
    preview?: boolean;
    secretKeys?: string[];
    /** The program module to load; the project's index.ts by default. */
    program?: string;
    /**
     * The outputs of the stack's last update, as a stack reference to the stack itself reads them (for
     * example another evaluation's `recorded`). None by default: a stack's first update.
     */
    previousOutputs?: Record<string, StackOutput>;
    /** The organization the backend reports: "organization" on the DIY backend (the default), the team's or user's on Pulumi Cloud. */
    organization?: string;
    /** The backend holding the stack: which names a stack reference may use (default: DIY, project-scoped layout). */
    backend?: MockBackend;
    /** Environment variables the program sees while it runs (the CLI's environment), e.g. PULUMI_BACKEND_URL. */
    env?: Record<string, string>;
    /**
     * A CLI whose stack references do not list which outputs are secret (no secretOutputNames): the
     * SDK then reports every output secret when any is (@pulumi/pulumi stackReference.ts isSecretOutputName).
     */
    withoutSecretOutputNames?: boolean;
    /**
     * The operation: an update (`pulumi up`/`preview`, the default), or a `destroy`/`refresh` run with
     * --run-program, in which the engine neither checks nor creates nor changes a custom resource: those
     * in the stack answer with their last state, the others are skipped creates
     * (pkg/resource/deploy/step_generator.go, destroyMode and refreshMode).
     */
    operation?: "update" | "destroy" | "refresh";
    /** The resources of the stack's last update (an earlier evaluation's `resources`): what an untouched resource answers with. */
    previousResources?: readonly DeclaredResource[];
    /**
     * `pulumi up --target`: the names of the targeted resources. Every other resource answers with its
     * last state, or is a skipped create if it has none; a targeted resource that depends on a skipped
     * create is refused (step_generator.go validateSteps: "untargeted create").
     */
    targets?: readonly string[];
    /**
     * Resources (by name) whose creation or update fails, and how the program sees it: "error", the
     * registration fails and the resource's outputs reject (SDK 3.252 and later; and every SDK once
     * the engine stops on the failure); "unknown", the engine reports a failed result and SDK 3.251 or
     * earlier resolves the outputs as unknown (`--continue-on-error`; runtime/resource.ts keepUnknowns).
     */
    failing?: Readonly<Record<string, "error" | "unknown">>;
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
interface RegisterOutputsRequest {
    getUrn(): string;
    getOutputs(): { toJavaScript(): Record<string, unknown> } | undefined;
}
interface RegisterResponse {
    getUrn(): string;
    getId(): string;
    getObject(): { toJavaScript(): Record<string, any> };
    setId(id: string): void;
    setObject(object: Struct): void;
    setResult(result: number): void;
}
interface MockMonitorInternals {
    registerResource(req: RegisterRequest, callback: (err: unknown, resp: unknown) => void): Promise<void>;
    registerResourceOutputs(req: RegisterOutputsRequest, callback: (err: unknown, resp: unknown) => void): void;
    newUrn(parent: string, type: string, name: string): string;
}
// eslint-disable-next-line @typescript-eslint/no-require-imports
const settings: { waitForRPCs(): Promise<void>; getMonitor(): unknown } = require("@pulumi/pulumi/runtime/settings");
// eslint-disable-next-line @typescript-eslint/no-require-imports
const debuggable: { leakedPromises(): unknown } = require("@pulumi/pulumi/runtime/debuggable");
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { checkDynamicResource }: { checkDynamicResource(type: string, name: string, inputs: Record<string, unknown>): Promise<string[]> } = require("./dynamicCheck");
/** The engine's verdict on a registration (pulumirpc.Result): the SDK reads FAIL as "keep outputs unknown" up to 3.251. */
const RESULT_FAIL = 1;

function secretPaths(value: unknown, prefix: string, found: string[]): void {
    if (value === null || typeof value !== "object") return;
    const record = value as Record<string, unknown>;
    if (record[SIG_KEY] === SECRET_SIG) {
        found.push(prefix);
        return;
    }
    for (const [key, child] of Object.entries(record)) secretPaths(child, prefix ? `${prefix}.${key}` : key, found);
}

/** How the (mock) engine answers one registration: see EvaluateOptions. */
type Answer =
    | { kind: "apply" }
    | { kind: "previous"; state: DeclaredResource }
    | { kind: "skip" }
    | { kind: "fail"; message: string }
    | { kind: "fail-unknown" };

/** What the (mock) engine knows across one run's registrations. */
interface EngineState {
    /** Once the engine stops (a refused check, a failed read), it answers nothing more. */
    stopped: boolean;
    /** The skipped creates so far: a targeted resource may not depend on one. */
    skippedUrns: Set<string>;
    /** The stack's last state, by type and name. */
    previousByName: Map<string, DeclaredResource>;
}

/** What the engine does with a registration, for the operation and answers the options chose. */
async function answerFor(req: RegisterRequest, options: EvaluateOptions, engine: EngineState): Promise<Answer> {
    const [type, name] = [req.getType(), req.getName()];
    if (engine.stopped) return { kind: "fail", message: "resource monitor shut down while sending resource registration" };
    if (!req.getCustom() || type.startsWith("pulumi:providers:")) return { kind: "apply" };
    const last = engine.previousByName.get(`${type}::${name}`);
    const untouched: Answer = last ? { kind: "previous", state: last } : { kind: "skip" };
    if ((options.operation ?? "update") !== "update") return untouched;
    if (options.targets && !options.targets.includes(name)) return untouched;
    if (options.targets) {
        const leftOut = [...req.getDependenciesList(), ...Object.values(propertyDependenciesOf(req)).flat()].find((urn) => engine.skippedUrns.has(urn));
        if (leftOut) {
            // An update stops there; a preview goes on to report every such resource.
            engine.stopped = !options.preview;
            return { kind: "fail", message: `Resource '${name}' depends on '${leftOut}' which was was not specified in --target list.` };
        }
    }
    if (type.startsWith("pulumi-nodejs:dynamic")) {
        const failures = await checkDynamicResource(type, name, unwrapSecrets(req.getObject().toJavaScript()) as Record<string, unknown>);
        if (failures.length > 0) {
            // An invalid resource stops the run, preview or update (step_generator.go: "resource ... is invalid").
            engine.stopped = true;
            return { kind: "fail", message: failures.join("\n") };
        }
    }
    const failing = options.failing?.[name];
    if (failing === "error") return { kind: "fail", message: `creating ${type} ${name}: the (injected) failure` };
    if (failing === "unknown") return { kind: "fail-unknown" };
    return { kind: "apply" };
}

/**
 * Runs the program with the given config (full keys, e.g. `cosmos-vm-identity:throughput`) and returns
 * what it declared. Each call is a fresh evaluation; call them one after another, not concurrently.
 */
export async function evaluateProgram(config: Record<string, string>, azure: FakeAzure, options: EvaluateOptions = {}): Promise<Evaluation> {
    const resources: DeclaredResource[] = [];
    const reads: ReadResource[] = [];
    const invokes: Evaluation["invokes"] = [];
    const diagnostics: string[] = [];
    const skipped: string[] = [];
    const previousOutputs = options.previousOutputs ?? {};
    const engine: EngineState = {
        stopped: false,
        skippedUrns: new Set(),
        previousByName: new Map((options.previousResources ?? []).map((r) => [`${r.type}::${r.name}`, r])),
    };
    const answers = new Map<string, Answer>();
    let stackUrn = "";
    let stackRegistered: Record<string, unknown> | undefined;
    let clock = 0;
    await pulumi.runtime.setMocks({
        newResource: (args) => {
            if (args.id !== undefined && args.id !== "") {
                reads.push({ type: args.type, name: args.name, id: args.id });
                if (args.type === "pulumi:pulumi:StackReference") {
                    const unresolved = unresolvedReference(args.id, options.backend ?? "diy", options.organization ?? MOCK_ORGANIZATION, options.project ?? "cosmos-vm-identity", options.stack ?? "dev");
                    if (unresolved) {
                        // A failed read fails the update whatever the program does (pulumi/pulumi#16591).
                        diagnostics.push(unresolved);
                        engine.stopped = true;
                        throw new Error(unresolved);
                    }
                    return { id: args.id, state: stackReferenceState(args.inputs.name, previousOutputs, !options.withoutSecretOutputNames) };
                }
            }
            const answer = answers.get(`${args.type}::${args.name}`) ?? { kind: "apply" };
            if (answer.kind === "previous") return { id: answer.state.id, state: answer.state.state };
            // A skipped create: no id, no outputs; the SDK fills in the inputs (runtime/resource.ts resolveOutputs).
            if (answer.kind === "skip") return { id: "", state: {} };
            const { id, state } = azure.resource(args.type, args.name, args.inputs);
            return { id: args.custom ? id : "", state: args.custom ? state : {} };
        },
        call: (args) => {
            invokes.push({ token: args.token, inputs: args.inputs, order: clock++ });
            return azure.invoke(args.token, args.inputs);
        },
    }, options.project ?? "cosmos-vm-identity", options.stack ?? "dev", options.preview ?? false, options.organization ?? MOCK_ORGANIZATION);
    pulumi.runtime.setAllConfig(config, options.secretKeys ?? []);

    const monitor = settings.getMonitor() as MockMonitorInternals;
    // As the engine names resources: the root stack is no part of its children's type chain.
    const newUrn = monitor.newUrn.bind(monitor);
    monitor.newUrn = (parent, type, name) => newUrn(parent === stackUrn ? "" : parent, type, name);

    const register = monitor.registerResource.bind(monitor);
    monitor.registerResource = async (req, callback) => {
        const answer = await answerFor(req, options, engine);
        if (answer.kind === "fail") {
            diagnostics.push(answer.message);
            callback(new Error(answer.message), undefined);
            return;
        }
        answers.set(`${req.getType()}::${req.getName()}`, answer);
        await register(req, (err, resp) => {
            answers.delete(`${req.getType()}::${req.getName()}`);
            const typed = resp as RegisterResponse | undefined;
            if (!err && typed && req.getType() === STACK_TYPE && req.getParent() === "") {
                stackUrn = typed.getUrn();
            } else if (!err && typed) {
                if (answer.kind === "skip") {
                    skipped.push(req.getName());
                    engine.skippedUrns.add(typed.getUrn());
                }
                if (answer.kind === "fail-unknown") {
                    // The engine's answer to a failed create: FAIL, no id, no outputs.
                    diagnostics.push(`creating ${req.getType()} ${req.getName()}: the (injected) failure`);
                    typed.setResult(RESULT_FAIL);
                    typed.setId("");
                    typed.setObject(Struct.fromJavaScript({}));
                }
                resources.push(declared(req, typed, clock++, stackUrn));
            }
            callback(err, resp);
        });
    };
    const registerOutputs = monitor.registerResourceOutputs.bind(monitor);
    monitor.registerResourceOutputs = (req, callback) => {
        if (req.getUrn() === stackUrn) stackRegistered = req.getOutputs()?.toJavaScript() ?? {};
        registerOutputs(req, callback);
    };

    // Without an engine, pulumi.log.warn writes to console.warn: record it instead.
    const warnings: string[] = [];
    const consoleWarn = console.warn;
    console.warn = (...args: unknown[]) => void warnings.push(args.map(String).join(" "));
    // Pulumi's runtime captures a stack trace for every promise it makes (runtime/debuggable.js), which
    // ts-node's source maps make expensive: about half of an evaluation. Errors keep their messages.
    const stackTraceLimit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    const environment = withEnvironment(options.env ?? {});
    const rejections = uncaughtRejections();
    try {
        const loaded = await loadOrFail(options, rejections);
        // Every rejection of this run is collected here, none left to surface in the next one.
        const stray = await rejections.settled();
        const error = loaded.error ?? stray[0];
        const registered = stackOutputsOf(stackRegistered ?? {});
        const failed = error !== undefined || diagnostics.length > 0;
        return {
            resources, reads, invokes, warnings, outputs: loaded.outputs, error, diagnostics, skipped,
            recorded: failed ? { ...previousOutputs, ...registered } : registered,
        };
    } finally {
        rejections.restore();
        environment.restore();
        console.warn = consoleWarn;
        Error.stackTraceLimit = stackTraceLimit;
    }
}

/**
 * The program's unhandled rejections, which Pulumi's runner reports as the program's failure (cmd/run
 * uncaughtHandler), for example a resource whose input comes from one that failed. Collected here
 * rather than left to whoever else listens (a test runner fails the test that is running).
 */
interface Rejections {
    first: Promise<unknown>;
    settled(): Promise<unknown[]>;
    restore(): void;
}
function uncaughtRejections(): Rejections {
    const others = process.listeners("unhandledRejection");
    const caught: unknown[] = [];
    let reportFirst: (reason: unknown) => void = () => undefined;
    const first = new Promise<unknown>((resolve) => { reportFirst = resolve; });
    const collect = (reason: unknown) => {
        caught.push(reason);
        reportFirst(reason);
    };
    process.removeAllListeners("unhandledRejection");
    process.on("unhandledRejection", collect);
    return {
        first,
        // Node reports a rejection once the microtasks after it have run.
        settled: () => new Promise((resolve) => setImmediate(() => resolve(caught))),
        restore: () => {
            process.off("unhandledRejection", collect);
            for (const listener of others) process.on("unhandledRejection", listener);
        },
    };
}

function propertyDependenciesOf(req: RegisterRequest): Record<string, string[]> {
    const propertyDependencies: Record<string, string[]> = {};
    req.getPropertydependenciesMap().forEach((deps, key) => {
        propertyDependencies[key] = [...deps.getUrnsList()].sort();
    });
    return propertyDependencies;
}

/** One registration as the engine received it, with the answer it gave. */
function declared(req: RegisterRequest, resp: RegisterResponse, order: number, stackUrn: string): DeclaredResource {
    const raw = req.getObject().toJavaScript();
    const secretInputs: string[] = [];
    secretPaths(raw, "", secretInputs);
    const propertyDependencies = propertyDependenciesOf(req);
    const dependencies = new Set([...req.getDependenciesList(), ...Object.values(propertyDependencies).flat()]);
    const timeouts = req.getCustomtimeouts();
    return {
        order,
        type: req.getType(),
        name: req.getName(),
        urn: resp.getUrn(),
        id: resp.getId(),
        // Top-level resources as the program declares them: without the root stack as parent.
        parent: req.getParent() === stackUrn ? "" : req.getParent(),
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
        state: unwrapSecrets(resp.getObject().toJavaScript()) as Record<string, any>,
    };
}

/**
 * The program's run, or its failure: a resource that depends on a failed one never settles (its
 * registration fails before any answer), so neither do the outputs that come from it, nor the root
 * stack's outputs that wait for them; the runner's process ends with the rejection that says why
 * once nothing else is left to run (cmd/run uncaughtHandler). The mocks answer within a few turns of
 * the event loop, so a program that has not finished after the first rejection and those turns never will.
 */
async function loadOrFail(options: EvaluateOptions, rejections: Rejections): Promise<{ outputs: Record<string, StackOutput>; error?: unknown }> {
    let finished = false;
    const loading = load(options).finally(() => { finished = true; });
    const reason = await Promise.race([loading.then(() => undefined), rejections.first]);
    for (let turn = 0; turn < 20 && !finished; turn++) await new Promise((resolve) => setImmediate(resolve));
    if (finished) return loading;
    // The runner's process would end here: its pending promises are no leak of the next evaluation's.
    debuggable.leakedPromises();
    return { outputs: {}, error: reason };
}

/**
 * Loads the program as Pulumi's runner does, inside the root stack resource (runtime/stack.ts
 * runInPulumiStack), and reads back what it exported.
 */
async function load(options: EvaluateOptions): Promise<{ outputs: Record<string, StackOutput>; error?: unknown }> {
    const programPath = require.resolve(options.program ?? path.join(PROJECT_ROOT, "index.ts"));
    // A fresh evaluation: forget the program module (and only it) from the last one.
    delete require.cache[programPath];
    let programExports: Record<string, unknown> = {};
    let error: unknown;
    try {
        await pulumi.runtime.runInPulumiStack(async () => {
            try {
                // A program is either a module of exports, or (`export = async () => ...`) a function whose result they are.
                const loaded: unknown = require(programPath);
                programExports = (typeof loaded === "function" ? await (loaded as () => Promise<Record<string, unknown>>)() : loaded as Record<string, unknown>) ?? {};
            } catch (thrown) {
                // The stack then registers no outputs, as the runner's does when the program throws; the
                // error is kept here rather than left to reject the stack's own promises.
                error = thrown;
            }
            return programExports;
        });
    } catch (thrown) {
        // An export that failed: the stack registered nothing (runtime/stack.ts massage).
        error ??= thrown;
    }
    const outputs: Record<string, StackOutput> = {};
    for (const [name, value] of Object.entries(programExports)) {
        if (pulumi.Output.isInstance(value)) {
            const internals = value as unknown as OutputInternals;
            try {
                const known = await internals.isKnown;
                outputs[name] = { value: known ? await internals.promise() : undefined, secret: await internals.isSecret, known };
            } catch {
                outputs[name] = { value: undefined, secret: false, known: false };
            }
        } else {
            outputs[name] = { value, secret: false, known: true };
        }
    }
    await settings.waitForRPCs();
    return { outputs, error };
}

/** The root stack's registered outputs as the engine stores them: secrets flagged, unknowns as the placeholder. */
function stackOutputsOf(registered: Record<string, unknown>): Record<string, StackOutput> {
    const outputs: Record<string, StackOutput> = {};
    for (const [name, value] of Object.entries(registered)) {
        const secret = value !== null && typeof value === "object" && (value as Record<string, unknown>)[SIG_KEY] === SECRET_SIG;
        const unwrapped = unwrapSecrets(value);
        outputs[name] = { value: unwrapped, secret, known: !JSON.stringify(unwrapped).includes(UNKNOWN_PLACEHOLDER) };
    }
    return outputs;
}

/**
 * Why the backend cannot resolve a stack reference name to this stack, or undefined when it can.
 * DIY, project-scoped layout: `<stack>`, `organization/<stack>` or `organization/<project>/<stack>`
 * (pkg/backend/diy/store.go projectReferenceStore.ParseReference); DIY legacy layout: a bare stack
 * name (legacyReferenceStore: tokens.ParseStackName, no "/"); Pulumi Cloud: exactly
 * `<organization>/<project>/<stack>` (pkg/backend/httpstate/backend.go GetStackOutputs).
 */
function unresolvedReference(name: string, backend: MockBackend, organization: string, project: string, stack: string): string | undefined {
    const parts = name.split("/");
    const unknown = `unknown stack "${name}"`;
    if (backend === "diy-legacy") {
        return /^[A-Za-z0-9_.-]+$/.test(name) ? (name === stack ? undefined : unknown) : `a stack name may only contain alphanumeric, hyphens, underscores, or periods: "${name}"`;
    }
    if (backend === "cloud") {
        if (parts.length !== 3) return "a stack reference's name should be of the form '<organization>/<project>/<stack>'.";
        return parts.join("/") === `${organization}/${project}/${stack}` ? undefined : unknown;
    }
    const [org, proj, stackName] = parts.length === 3 ? parts : parts.length === 2 ? [parts[0], project, parts[1]] : ["organization", project, parts[0]];
    if (org !== "organization") return "organization name must be 'organization'";
    return proj === project && stackName === stack ? undefined : unknown;
}

/** What the engine reads for a stack reference: the stack's outputs, secret ones wrapped as secrets and (newer CLIs) listed by name. */
function stackReferenceState(name: string, previous: Record<string, StackOutput>, listSecretNames: boolean): Record<string, unknown> {
    const outputs: Record<string, unknown> = {};
    for (const [key, output] of Object.entries(previous)) {
        outputs[key] = output.secret ? pulumi.secret(output.value) : output.value;
    }
    const state: Record<string, unknown> = { name, outputs };
    if (listSecretNames) state.secretOutputNames = Object.keys(previous).filter((key) => previous[key].secret);
    return state;
}

/** Sets environment variables for the length of an evaluation. */
function withEnvironment(values: Record<string, string>): { restore(): void } {
    const saved = Object.keys(values).map((key) => [key, process.env[key]] as const);
    Object.assign(process.env, values);
    return {
        restore: () => {
            for (const [key, value] of saved) {
                if (value === undefined) delete process.env[key];
                else process.env[key] = value;
            }
        },
    };
}

function unwrapSecrets(value: unknown): unknown {
    if (Array.isArray(value)) return value.map(unwrapSecrets);
    if (value === null || typeof value !== "object") return value;
    const record = value as Record<string, unknown>;
    if (record[SIG_KEY] === SECRET_SIG) return unwrapSecrets(record.value);
    return Object.fromEntries(Object.entries(record).map(([key, child]) => [key, unwrapSecrets(child)]));
}

