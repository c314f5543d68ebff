// What an update does to each resource, as `pulumi preview` would show it against a stack deployed
// with another configuration: two evaluations of the program compared with azure-native's
// replacement rules (replacementRules.ts) and the resource options the program sets
// (ignoreChanges, replaceOnChanges, replacementTrigger, deleteBeforeReplace).
import type { DeclaredResource, Evaluation } from "./mockEngine";
import { AZURE_NATIVE_RULES, REPLACED_ON_ANY_CHANGE } from "./replacementRules";

export type ChangeKind = "create" | "delete" | "replace" | "refused" | "update" | "same";

/** What an update does to one resource. */
export interface ResourceChange {
    urn: string;
    type: string;
    name: string;
    kind: ChangeKind;
    /** Changed input paths, e.g. `options.throughput`; a top-level name alone when the value is unknown until a dependency is replaced. */
    paths: string[];
    /** Why it is replaced or refused, e.g. `path parameter resourceGroupName`. */
    reasons: string[];
    /** For a replacement: the old resource is deleted before the new one is created. */
    deleteBeforeReplace: boolean;
}

/**
 * Classifies every custom resource's change between two evaluations of the program, as `pulumi
 * preview` would show it against a stack deployed with the first. An input that depends on a
 * resource being replaced is unknown until then (a new name, id or identity), so it counts as changed.
 */
export function classifyChanges(before: Evaluation, after: Evaluation): ResourceChange[] {
    const old = new Map(before.resources.filter((r) => r.custom).map((r) => [r.urn, r]));
    const next = after.resources.filter((r) => r.custom);
    const changes = new Map<string, ResourceChange>();
    // Replacements propagate to dependents; resources arrive in registration order, so two passes settle,
    // and the loop stops as soon as a pass changes nothing.
    for (let pass = 0; pass <= next.length; pass++) {
        let settled = true;
        for (const resource of next) {
            const change = classifyOne(old.get(resource.urn), resource, changes);
            const previous = changes.get(resource.urn);
            if (!previous || previous.kind !== change.kind || previous.paths.join() !== change.paths.join()) settled = false;
            changes.set(resource.urn, change);
        }
        if (settled) break;
    }
    for (const [urn, resource] of old) {
        if (!changes.has(urn)) changes.set(urn, { urn, type: resource.type, name: resource.name, kind: "delete", paths: [], reasons: [], deleteBeforeReplace: false });
    }
    return [...changes.values()];
}

function classifyOne(before: DeclaredResource | undefined, after: DeclaredResource, known: Map<string, ResourceChange>): ResourceChange {
    const base = { urn: after.urn, type: after.type, name: after.name, reasons: [] as string[], deleteBeforeReplace: false };
    if (!before) return { ...base, kind: "create", paths: [] };
    const paths = changedPaths(before.inputs, after.inputs);
    for (const [property, sources] of Object.entries(after.propertyDependencies)) {
        const replaced = sources.some((urn) => known.get(urn)?.kind === "replace");
        if (replaced && !paths.some((p) => topLevel(p) === property)) paths.push(property);
    }
    // ignoreChanges: the engine keeps the old value of these paths before it asks the provider for a diff.
    const kept = paths.filter((p) => !after.ignoreChanges.some((ignored) => covers(ignored, p))).sort();
    paths.splice(0, paths.length, ...kept);

    const rules = AZURE_NATIVE_RULES[after.type];
    const reasons = new Set<string>();
    for (const p of paths) {
        const key = topLevel(p);
        if (rules?.pathParameters.includes(key)) reasons.add(`path parameter ${key}`);
        if (rules?.createOnly.includes(key)) reasons.add(`create-only ${key}`);
        if (rules?.forceNewMap.includes(key)) reasons.add(`forceNewMap ${key}`);
        for (const option of after.replaceOnChanges) if (covers(option, p)) reasons.add(`replaceOnChanges ${option}`);
        if (REPLACED_ON_ANY_CHANGE.has(after.type)) reasons.add(`${key} (every input replaces)`);
    }
    // The engine replaces when the trigger changes; a trigger that appears or disappears does not count.
    if (before.replacementTrigger !== undefined && after.replacementTrigger !== undefined
        && JSON.stringify(before.replacementTrigger) !== JSON.stringify(after.replacementTrigger)) {
        reasons.add("replacementTrigger");
    }
    if (reasons.size > 0) {
        const explicitName = rules !== undefined && typeof after.inputs[rules.nameParameter] === "string";
        return { ...base, kind: "replace", paths, reasons: [...reasons].sort(), deleteBeforeReplace: after.deleteBeforeReplace || explicitName };
    }
    const refused = paths.filter((p) => rules?.refusedInPlace.some((r) => covers(r, p)));
    if (refused.length > 0) return { ...base, kind: "refused", paths, reasons: refused.map((p) => `refused in place ${p}`) };
    return { ...base, kind: paths.length > 0 ? "update" : "same", paths };
}

/** Leaf paths whose values differ, as the provider's diff sees them (location and resource group compared as Azure does). */
export function changedPaths(a: unknown, b: unknown, prefix = ""): string[] {
    if (prefix === "location" && typeof a === "string" && typeof b === "string") {
        return a.replace(/ /g, "").toLowerCase() === b.replace(/ /g, "").toLowerCase() ? [] : [prefix];
    }
    if (prefix === "resourceGroupName" && typeof a === "string" && typeof b === "string") {
        return a.toLowerCase() === b.toLowerCase() ? [] : [prefix];
    }
    if (Array.isArray(a) && Array.isArray(b)) {
        const found: string[] = [];
        for (let i = 0; i < Math.max(a.length, b.length); i++) found.push(...changedPaths(a[i], b[i], `${prefix}[${i}]`));
        return found;
    }
    if (isObject(a) && isObject(b)) {
        const found: string[] = [];
        for (const key of new Set([...Object.keys(a), ...Object.keys(b)])) {
            if (key.startsWith("__")) continue;
            found.push(...changedPaths(a[key], b[key], prefix ? `${prefix}.${key}` : key));
        }
        return found;
    }
    return JSON.stringify(a) === JSON.stringify(b) ? [] : [prefix];
}

/** Whether a property path option (replaceOnChanges, a refused path) covers a changed path: itself, a parent or a child of it. */
function covers(option: string, changed: string): boolean {
    if (option === "*") return true;
    const under = (path: string, parent: string) => path === parent || path.startsWith(`${parent}.`) || path.startsWith(`${parent}[`);
    return under(changed, option) || under(option, changed);
}

function topLevel(p: string): string {
    return p.split(/[.[]/)[0];
}

function isObject(value: unknown): value is Record<string, unknown> {
    return value !== null && typeof value === "object" && !Array.isArray(value);
}
