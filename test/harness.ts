// The tests' view of the program: Pulumi's mocks with a fake Azure that answers with fixed,
// recognisable values, and helpers to pick resources out of an evaluation.
import * as path from "node:path";
import type { DeclaredResource, EvaluateOptions, Evaluation } from "../model/mockEngine";
import { AzureName, evaluateInServer } from "./support/evaluationClient";

/** The project's root directory (model/mockEngine.ts's PROJECT_ROOT, without loading Pulumi's runtime into the test process). */
export const PROJECT_ROOT = path.resolve(__dirname, "..");
export type { DeclaredResource, Evaluation, EvaluateOptions, StackOutput } from "../model/mockEngine";
export { SUBSCRIPTION_ID, TENANT_ID } from "./support/ids";
export { PUBLIC_IP, VM_PRINCIPAL_ID } from "./support/testAzure";

/** The config a stack needs at the least. */
export const MINIMAL_CONFIG: Record<string, string> = { "azure-native:location": "westeurope" };

/**
 * Runs the program with the given config (full keys, e.g. `cosmos-vm-identity:throughput`) against
 * the test Azure (or `npm run plan`'s, "plan"): a fresh evaluation each call, in the evaluation
 * server (test/support/evaluationClient.ts). For a test about re-running the program; other tests
 * share evaluations through `evaluateOnce`.
 */
export function evaluate(config: Record<string, string>, options: EvaluateOptions = {}, azure: AzureName = "test"): Promise<Evaluation> {
    return evaluateInServer(config, options, azure, false);
}

const shared = new Map<string, Promise<Evaluation>>();

/**
 * The evaluation of a configuration, made once and shared by every test that reads it, in this
 * file and (under `npm test`) in the others (an evaluation costs about a quarter of a second of
 * CPU). Frozen: a test cannot change what another test sees.
 */
export function evaluateOnce(config: Record<string, string>, options: EvaluateOptions = {}, azure: AzureName = "test"): Promise<Evaluation> {
    const key = JSON.stringify([azure, Object.entries(config).sort(), options]);
    let evaluation = shared.get(key);
    if (!evaluation) {
        evaluation = evaluateInServer(config, options, azure, true).then(deepFreeze);
        shared.set(key, evaluation);
    }
    return evaluation;
}

function deepFreeze<T>(value: T): T {
    if (value !== null && typeof value === "object" && !Object.isFrozen(value)) {
        Object.freeze(value);
        for (const child of Object.values(value)) deepFreeze(child);
    }
    return value;
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
