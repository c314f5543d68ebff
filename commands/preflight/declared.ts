// The Azure resources the program declares for a stack, as `npm run plan` sees them: the program
// evaluated under Pulumi's mocks with the stack's configuration (commands/plan.ts), no Azure, no CLI.
// Preflight's policy check sends these bodies to Azure Policy. The evaluation loads Pulumi's runtime
// and the program (a second or more of CPU), so preflight runs it in a worker thread, started first,
// while the main thread signs in and asks Resource Manager, and keeps its answer: the same stack
// settings and program files give the same bodies, so the next run reads them from the cache.
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { Worker } from "node:worker_threads";
import { loadStackConfig } from "../../model/stackConfig";

export interface DeclaredAzureResource {
    /** azure-native type token, e.g. azure-native:compute:VirtualMachine */
    type: string;
    /** The program's logical name, e.g. tutorial-vm */
    name: string;
    /** The Azure name (auto-named ones end in the plan's `<suffix>` placeholder). */
    resourceName: string;
    /** Inputs as the engine receives them, secrets removed. */
    inputs: Record<string, unknown>;
}

/** A value at a dotted path removed (secret inputs such as osProfile.adminPassword). */
function without(inputs: Record<string, unknown>, dotted: string): Record<string, unknown> {
    const [head, ...rest] = dotted.split(".");
    if (!(head in inputs)) return inputs;
    const copy = { ...inputs };
    const child = copy[head];
    if (rest.length === 0 || child === null || typeof child !== "object" || Array.isArray(child)) delete copy[head];
    else copy[head] = without(child as Record<string, unknown>, rest.join("."));
    return copy;
}

/** The evaluation's azure-native custom resources, secret inputs dropped: Azure Policy never sees a secret. */
export function azureResources(resources: readonly { type: string; name: string; custom: boolean; inputs: Record<string, unknown>; secretInputs: string[]; state: Record<string, unknown> }[]): DeclaredAzureResource[] {
    return resources
        .filter((r) => r.custom && r.type.startsWith("azure-native:"))
        .map((r) => ({
            type: r.type,
            name: r.name,
            resourceName: typeof r.state.name === "string" ? r.state.name : `${r.name}<suffix>`,
            inputs: r.secretInputs.reduce(without, r.inputs),
        }));
}

/** Evaluates the stack in this thread (the worker's job; tests call it directly). */
export async function evaluateDeclared(stack: string, root: string): Promise<DeclaredAzureResource[]> {
    const { PLAN_AZURE } = await import("../../model/planAzure");
    const { evaluateProgram } = await import("../../model/mockEngine");
    const { project, config, secretKeys } = loadStackConfig(stack, root);
    const evaluation = await evaluateProgram(config, PLAN_AZURE, { project, stack, secretKeys });
    if (evaluation.error !== undefined) throw new Error(`the program failed under mocks: ${evaluation.error instanceof Error ? evaluation.error.message : String(evaluation.error)}`);
    return azureResources(evaluation.resources);
}

// Plain JavaScript for the worker: registers ts-node unless the thread inherited it (`node --require`).
const WORKER_SOURCE = `
const { parentPort, workerData } = require("node:worker_threads");
if (!require.extensions[".ts"]) require("ts-node").register({ transpileOnly: true });
require(workerData.module).evaluateDeclared(workerData.stack, workerData.root).then(
    (resources) => parentPort.postMessage({ resources }),
    (error) => parentPort.postMessage({ error: error instanceof Error ? error.message : String(error) }));
`;

export interface DeclaredEvaluation {
    result: Promise<DeclaredAzureResource[]>;
    /** Ends the worker (its answer, if any, is no longer needed). */
    stop(): void;
}

/** Starts the evaluation in a worker thread; it never keeps the process alive on its own. */
export function declaredResourcesInWorker(stack: string, root: string): DeclaredEvaluation {
    const worker = new Worker(WORKER_SOURCE, {
        eval: true,
        workerData: { module: path.join(__dirname, "declared"), stack, root },
        // The program's console output must not reach preflight's stdout (--json).
        stdout: true,
        stderr: true,
    });
    worker.stdout.resume();
    let stderr = "";
    worker.stderr.on("data", (chunk: Buffer) => { stderr = (stderr + chunk.toString("utf8")).slice(-2000); });
    worker.unref();
    const result = new Promise<DeclaredAzureResource[]>((resolve, reject) => {
        worker.once("message", (message: { resources?: DeclaredAzureResource[]; error?: string }) => {
            if (message.resources) resolve(message.resources);
            else reject(new Error(message.error ?? "the evaluation returned nothing"));
            void worker.terminate();
        });
        worker.once("error", (error) => reject(error));
        worker.once("exit", (code) => reject(new Error(`the evaluation ended (exit ${code})${stderr ? `: ${stderr.trim().split("\n").pop()}` : ""}`)));
    });
    // Whoever asks handles a failure; an unasked one must not crash the run.
    result.catch(() => undefined);
    return { result, stop: () => void worker.terminate() };
}

const PROJECT_ROOT = path.resolve(__dirname, "..", "..");

/**
 * What the evaluation depends on besides the stack's settings: the program and every file under
 * lib/ and components/ (the key-fetch script template included), the dependencies' versions, and
 * the evaluation itself. Names relative to the project.
 */
export function programInputs(root = PROJECT_ROOT): string[] {
    const walk = (dir: string): string[] => fs.readdirSync(path.join(root, dir), { withFileTypes: true })
        .flatMap((entry) => (entry.isDirectory() ? walk(`${dir}/${entry.name}`) : [`${dir}/${entry.name}`]));
    return ["index.ts", "package-lock.json", "model/stackConfig.ts", "model/planAzure.ts", "model/mockEngine.ts", "commands/preflight/declared.ts", ...walk("lib"), ...walk("components")].sort();
}

/** Where evaluations are kept between runs: PREFLIGHT_CACHE_DIR, else node_modules/.cache, as tools conventionally do. */
export function defaultCacheDir(env: NodeJS.ProcessEnv = process.env): string {
    return env.PREFLIGHT_CACHE_DIR || path.join(PROJECT_ROOT, "node_modules", ".cache", "cosmos-vm-identity", "preflight");
}

export interface CacheOptions {
    cacheDir?: string;
    /** Files whose content names the evaluation (default: programInputs()). */
    inputs?: string[];
    /** Evaluates on a miss (default: in a worker thread). */
    evaluate?: (stack: string, root: string) => DeclaredEvaluation;
}

const KEPT = 20;

/** The cache file for a stack's evaluation: a hash of its settings and the program's files. */
function cacheFile(stack: string, root: string, options: CacheOptions): string {
    const hash = crypto.createHash("sha256").update(JSON.stringify({ stack, settings: loadStackConfig(stack, root) }));
    for (const file of options.inputs ?? programInputs()) hash.update(`\0${file}\0`).update(fs.readFileSync(path.resolve(PROJECT_ROOT, file)));
    return path.join(options.cacheDir ?? defaultCacheDir(), `${hash.digest("hex")}.json`);
}

function readCached(file: string): DeclaredAzureResource[] | undefined {
    try {
        return JSON.parse(fs.readFileSync(file, "utf8")) as DeclaredAzureResource[];
    } catch {
        return undefined;
    }
}

/** Writes atomically and keeps the most recent few; a cache that cannot be written is no cache. */
function writeCached(file: string, resources: DeclaredAzureResource[]): void {
    try {
        fs.mkdirSync(path.dirname(file), { recursive: true });
        const temporary = `${file}.${process.pid}.tmp`;
        fs.writeFileSync(temporary, JSON.stringify(resources));
        fs.renameSync(temporary, file);
        const entries = fs.readdirSync(path.dirname(file)).filter((name) => name.endsWith(".json"))
            .map((name) => ({ name, mtime: fs.statSync(path.join(path.dirname(file), name)).mtimeMs }))
            .sort((a, b) => b.mtime - a.mtime);
        for (const old of entries.slice(KEPT)) fs.rmSync(path.join(path.dirname(file), old.name), { force: true });
    } catch {
        // Read-only node_modules, a full disk: the next run evaluates again.
    }
}

/**
 * The stack's declared resources from the cache, or evaluated (in a worker thread, started before
 * this returns) and then cached.
 */
export function cachedDeclaredResources(stack: string, root: string, options: CacheOptions = {}): DeclaredEvaluation {
    let file: string;
    try {
        file = cacheFile(stack, root, options);
    } catch (error) {
        // No stack file, say: preflight reports that itself.
        const result = Promise.reject(error);
        result.catch(() => undefined);
        return { result, stop: () => undefined };
    }
    const cached = readCached(file);
    if (cached) return { result: Promise.resolve(cached), stop: () => undefined };
    const running = (options.evaluate ?? declaredResourcesInWorker)(stack, root);
    const result = running.result.then((resources) => {
        writeCached(file, resources);
        return resources;
    });
    result.catch(() => undefined);
    return { result, stop: running.stop };
}
