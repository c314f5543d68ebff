// The Azure resources the program declares for a stack, as `npm run plan` sees them: the program
// evaluated under Pulumi's mocks with the stack's configuration (commands/plan.ts), no Azure, no CLI.
// Preflight's policy check sends these bodies to Azure Policy. The evaluation loads Pulumi's runtime
// and the program (a second or more of CPU), so preflight runs it in a worker thread, started first,
// while the main thread signs in and asks Resource Manager.
import * as path from "node:path";
import { Worker } from "node:worker_threads";

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
    const { loadStackConfig } = await import("../../model/stackConfig");
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
