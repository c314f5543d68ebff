// The end-to-end test's pure parts: stack names, per-resource timings read off the engine's events,
// the idempotency verdict from a preview's change summary, and the verification output's verdict.
// Types only from the Automation API: nothing here runs Pulumi.
import type { EngineEvent, OpMap } from "@pulumi/pulumi/automation";

/** `e2e-<UTC yyyyMMddHHmmss>-<6 hex>`: sorts by start time, unique across parallel runs. */
export function uniqueStackName(now: Date, randomHex: string): string {
    if (!/^[0-9a-f]{6}$/.test(randomHex)) throw new Error(`randomHex must be 6 lowercase hex digits, got "${randomHex}"`);
    const stamp = now.toISOString().replace(/[-:T]/g, "").slice(0, 14);
    return `e2e-${stamp}-${randomHex}`;
}

/** One resource operation of a phase, timed from the engine's own events. */
export interface ResourceTiming {
    /** The resource's type token, as model/deploymentModel.ts keys its estimates. */
    type: string;
    /** The logical name, the last part of the URN. */
    name: string;
    /** The engine's operation: create, update, replace, delete, create-replacement, delete-replaced... */
    op: string;
    /** Seconds from the phase's first event to the operation's start. */
    startSeconds: number;
    /** How long the operation took; undefined when it never finished (failed or interrupted). */
    seconds?: number;
    /** True when the engine reported the operation as failed. */
    failed: boolean;
}

// Not cloud operations: nothing to time.
const UNTIMED_OPS = new Set(["same", "read", "refresh", "discard", "discard-replaced", "remove-pending-replace"]);

/**
 * Pairs each resource's pre-event with its outputs (or failure) event. Engine timestamps are whole
 * seconds, so durations are too. Only custom resources count: components and providers take no
 * time of their own.
 */
export function resourceTimings(events: readonly EngineEvent[]): ResourceTiming[] {
    const sorted = [...events].sort((a, b) => a.sequence - b.sequence);
    const origin = sorted.length > 0 ? sorted[0].timestamp : 0;
    const open = new Map<string, ResourceTiming & { started: number }>();
    const done: ResourceTiming[] = [];
    for (const event of sorted) {
        const pre = event.resourcePreEvent;
        const finished = event.resOutputsEvent ?? event.resOpFailedEvent;
        if (pre && !pre.planning) {
            const meta = pre.metadata;
            if (UNTIMED_OPS.has(meta.op) || !isCloudResource(meta.type, meta.new?.custom ?? meta.old?.custom)) continue;
            open.set(`${meta.op} ${meta.urn}`, {
                type: meta.type, name: nameOf(meta.urn), op: meta.op,
                startSeconds: event.timestamp - origin, started: event.timestamp, failed: false,
            });
        } else if (finished) {
            const key = `${finished.metadata.op} ${finished.metadata.urn}`;
            const timing = open.get(key);
            if (!timing) continue;
            open.delete(key);
            const { started, ...rest } = timing;
            done.push({ ...rest, seconds: event.timestamp - started, failed: event.resOpFailedEvent !== undefined });
        }
    }
    for (const { started: _started, ...unfinished } of open.values()) done.push(unfinished);
    return done.sort((a, b) => a.startSeconds - b.startSeconds || a.name.localeCompare(b.name));
}

/**
 * Seconds per resource type for the creates of one phase (the longest when a type occurs twice):
 * the measured counterpart of model/deploymentModel.ts PROVISIONING_SECONDS.
 */
export function createSecondsByType(timings: readonly ResourceTiming[]): Record<string, number> {
    const byType: Record<string, number> = {};
    for (const timing of timings) {
        if (timing.op !== "create" || timing.seconds === undefined || timing.failed) continue;
        byType[timing.type] = Math.max(byType[timing.type] ?? 0, timing.seconds);
    }
    return Object.fromEntries(Object.entries(byType).sort(([a], [b]) => a.localeCompare(b)));
}

/** The resource group's name, from the event that reports it created (known before any output). */
export function resourceGroupNameIn(events: readonly EngineEvent[]): string | undefined {
    for (const event of events) {
        const meta = event.resOutputsEvent?.metadata;
        if (meta?.type === "azure-native:resources:ResourceGroup" && typeof meta.new?.outputs?.name === "string") return meta.new.outputs.name;
    }
    return undefined;
}

/**
 * Why a second preview is not a no-op: every operation other than `same` in its change summary,
 * with the resources and properties the engine names. Empty means idempotent: every resource the
 * same, and at least one of them.
 */
export function idempotencyProblems(changeSummary: OpMap, events: readonly EngineEvent[] = []): string[] {
    // The Automation API returns {} when it found no summary event: that proves nothing either way.
    if (!changeSummary.same) return [`the preview reports no unchanged resources (change summary ${JSON.stringify(changeSummary)})`];
    const problems: string[] = [];
    for (const [op, count] of Object.entries(changeSummary)) {
        if (op === "same" || !count) continue;
        const which = events
            .map((event) => event.resourcePreEvent?.metadata)
            .filter((meta) => meta !== undefined && meta.op === op)
            .map((meta) => `${nameOf(meta!.urn)}${meta!.diffs && meta!.diffs.length > 0 ? ` (${meta!.diffs.join(", ")})` : ""}`);
        problems.push(`${op}: ${count}${which.length > 0 ? `: ${which.join("; ")}` : ""}`);
    }
    return problems;
}

/** Why the stack's `verification` output is not a successful run of the key-fetch script. */
export function verificationProblems(verification: unknown): string[] {
    if (verification === null || typeof verification !== "object") return [`verification output missing (got ${JSON.stringify(verification)})`];
    const { state, exitCode, summary } = verification as Record<string, unknown>;
    const problems: string[] = [];
    if (state !== "Succeeded") problems.push(`verification.state is ${JSON.stringify(state)}, not "Succeeded"`);
    if (exitCode !== 0) problems.push(`verification.exitCode is ${JSON.stringify(exitCode)}, not 0`);
    if (problems.length > 0 && typeof summary === "string" && summary.length > 0) problems.push(`script summary: ${summary}`);
    return problems;
}

function isCloudResource(type: string, custom: boolean | undefined): boolean {
    return custom === true && !type.startsWith("pulumi:providers:");
}

function nameOf(urn: string): string {
    return urn.slice(urn.lastIndexOf("::") + 2);
}
