// The end-to-end run, phase by phase, against a stack driver (commands/e2e/automation.ts drives a real
// stack with Pulumi's Automation API; the tests drive a fake one). Whatever happens in the phases,
// the stack is destroyed, the resource group is confirmed gone, and only then is the stack removed.
import type { EngineEvent, OpMap } from "@pulumi/pulumi/automation";
import {
    createSecondsByType, idempotencyProblems, resourceGroupNameIn, ResourceTiming, resourceTimings, verificationProblems,
} from "./record";

/** One throw-away stack. Every operation streams the engine's events to `onEvent`. */
export interface StackDriver {
    readonly stackName: string;
    /** Short keys are the project's (accessMode); provider keys are full (azure-native:location). */
    setConfig(values: Record<string, string>): Promise<void>;
    up(onEvent: (event: EngineEvent) => void, signal: AbortSignal): Promise<{ outputs: Record<string, unknown> }>;
    preview(onEvent: (event: EngineEvent) => void, signal: AbortSignal): Promise<{ changeSummary: OpMap }>;
    /** `refresh` first when a plain destroy failed (state out of step, pending operations). */
    destroy(onEvent: (event: EngineEvent) => void, options: { refresh: boolean }): Promise<void>;
    /** `pulumi stack rm`: only once the stack holds nothing. */
    remove(): Promise<void>;
}

export interface PhaseRecord {
    name: string;
    startedAt: string;
    seconds: number;
    ok: boolean;
    error?: string;
    /** A preview's change summary. */
    changeSummary?: OpMap;
    /** Every resource operation of the phase, timed. */
    resources: ResourceTiming[];
}

export interface CleanupRecord {
    destroyed: boolean;
    /** Confirmed with Resource Manager after the destroy. */
    groupGone?: boolean;
    removed: boolean;
    error?: string;
}

/** What `npm run e2e` writes to .e2e/<stack>.json (see docs/e2e.md). */
export interface E2eReport {
    stack: string;
    location: string;
    startedAt: string;
    finishedAt?: string;
    ok: boolean;
    /** Why the run failed (the first failure), or why it was interrupted. */
    error?: string;
    resourceGroupName?: string;
    phases: PhaseRecord[];
    /** Creation seconds per resource type in the first `up`: compare with model/deploymentModel.ts PROVISIONING_SECONDS. */
    createSecondsByType: Record<string, number>;
    cleanup: CleanupRecord;
}

export interface RunOptions {
    driver: StackDriver;
    location: string;
    cosmosLocation?: string;
    /** Resource Manager: does the group exist? (commands/e2e/azure.ts) */
    groupExists(name: string): Promise<boolean>;
    /** Aborted on SIGINT/SIGTERM: the current phase stops, cleanup still runs. */
    signal: AbortSignal;
    now?: () => Date;
    log?: (line: string) => void;
    /** Called after each phase with the report so far (the caller persists it). */
    onProgress?: (report: E2eReport) => void;
    /** Pause between checks while Resource Manager still lists a deleted group (tests pass 0). */
    groupPollMs?: number;
}

interface Recorder {
    report: E2eReport;
    now: () => Date;
    log: (line: string) => void;
    progress: () => void;
}

/** Runs one phase, recording its events, duration and outcome in the report; rethrows its failure. */
async function timed<T>(recorder: Recorder, name: string, work: (onEvent: (event: EngineEvent) => void) => Promise<T>): Promise<T> {
    const { report, now, log } = recorder;
    const events: EngineEvent[] = [];
    const started = now();
    const record: PhaseRecord = { name, startedAt: started.toISOString(), seconds: 0, ok: false, resources: [] };
    report.phases.push(record);
    log(`e2e: ${name}...`);
    try {
        const result = await work((event) => events.push(event));
        record.ok = true;
        return result;
    } catch (error) {
        record.error = messageOf(error);
        throw error;
    } finally {
        record.seconds = Math.round((now().getTime() - started.getTime()) / 100) / 10;
        record.resources = resourceTimings(events);
        report.resourceGroupName ??= resourceGroupNameIn(events);
        log(`e2e: ${name}: ${record.ok ? "ok" : "FAILED"} in ${record.seconds} s`);
        recorder.progress();
    }
}

function newReport(stack: string, location: string, now: Date): E2eReport {
    return {
        stack, location, startedAt: now.toISOString(), ok: false,
        phases: [], createSecondsByType: {}, cleanup: { destroyed: false, removed: false },
    };
}

const FIRST_UP = "up (accessMode keys)";

/** The phases: keys, idempotency, rbac, keys again. Then, always: destroy, group gone, stack rm. */
export async function runEndToEnd(options: RunOptions): Promise<E2eReport> {
    const { driver, signal } = options;
    const recorder = recorderFor(options, newReport(driver.stackName, options.location, (options.now ?? (() => new Date()))()));
    const { report, log } = recorder;

    // Recorded before anything is deployed: a run killed mid-way still leaves its stack's name behind.
    recorder.progress();
    const stopIfInterrupted = () => {
        if (signal.aborted) throw new Error("interrupted (SIGINT/SIGTERM)");
    };
    const deployAndVerify = async (name: string, accessMode: "keys" | "rbac") => {
        stopIfInterrupted();
        await driver.setConfig({ accessMode });
        const { outputs } = await timed(recorder, name, (onEvent) => driver.up(onEvent, signal));
        const problems = verificationProblems(outputs.verification);
        if (outputs.accessMode !== accessMode) problems.push(`the accessMode output is ${JSON.stringify(outputs.accessMode)}, not "${accessMode}"`);
        if (typeof outputs.resourceGroupName === "string") report.resourceGroupName = outputs.resourceGroupName;
        if (problems.length > 0) throw failure(name, problems);
    };

    try {
        const config: Record<string, string> = {
            "azure-native:location": options.location,
            // Keep the evening auto-shutdown, but twelve hours away: a stopped VM cannot run the proof.
            autoShutdownTime: shutdownTimeAwayFrom(recorder.now()),
        };
        if (options.cosmosLocation) config.cosmosLocation = options.cosmosLocation;
        await driver.setConfig(config);

        await deployAndVerify(FIRST_UP, "keys");

        stopIfInterrupted();
        await timed(recorder, "preview (idempotency: no changes)", async (onEvent) => {
            const events: EngineEvent[] = [];
            const { changeSummary } = await driver.preview((event) => {
                events.push(event);
                onEvent(event);
            }, signal);
            report.phases[report.phases.length - 1].changeSummary = changeSummary;
            const problems = idempotencyProblems(changeSummary, events);
            if (problems.length > 0) throw failure("a second preview shows changes", problems);
        });

        await deployAndVerify("up (accessMode rbac)", "rbac");
        await deployAndVerify("up (accessMode keys again)", "keys");
        report.ok = true;
    } catch (error) {
        report.error = messageOf(error);
        log(`e2e: FAILED: ${report.error}`);
    } finally {
        // Also from a first `up` that failed part-way: the resources it did create were timed.
        report.createSecondsByType = createSecondsByType(report.phases.find((p) => p.name === FIRST_UP)?.resources ?? []);
        await cleanUp(options, report);
    }
    return report;
}

/**
 * Destroys the stack (once more after a refresh if that fails), confirms with Resource Manager that
 * the resource group is gone, then removes the stack; says what may remain when any step fails.
 * Also the whole of `npm run e2e -- --cleanup`, for a run that was killed.
 */
export async function cleanUp(options: Omit<RunOptions, "location" | "signal">, report: E2eReport): Promise<void> {
    const { driver } = options;
    const recorder = recorderFor(options, report);
    const { log } = recorder;
    const cleanup = report.cleanup;
    try {
        try {
            await timed(recorder, "destroy", (onEvent) => driver.destroy(onEvent, { refresh: false }));
        } catch {
            await timed(recorder, "destroy (after a refresh)", (onEvent) => driver.destroy(onEvent, { refresh: true }));
        }
        cleanup.destroyed = true;
        const group = report.resourceGroupName;
        if (group) {
            await timed(recorder, "resource group gone", async () => {
                // Resource Manager may list a deleted group for a little while: a minute's grace.
                for (let attempt = 1; ; attempt++) {
                    if (!(await options.groupExists(group))) return;
                    if (attempt === 5) {
                        cleanup.groupGone = false;
                        throw new Error(`resource group ${group} still exists after pulumi destroy`);
                    }
                    await new Promise((resolve) => setTimeout(resolve, options.groupPollMs ?? 15_000));
                }
            });
            cleanup.groupGone = true;
        }
        await timed(recorder, "stack rm", () => driver.remove());
        cleanup.removed = true;
    } catch (error) {
        cleanup.error = messageOf(error);
        const group = report.resourceGroupName;
        log(`e2e: CLEANUP FAILED for stack ${driver.stackName}: ${cleanup.error}`);
        log(group
            ? `e2e: resources may remain in resource group ${group}: retry with \`npm run e2e -- --cleanup\` or \`pulumi destroy --stack ${driver.stackName}\`, or delete the group: \`az group delete --name ${group} --yes\``
            : `e2e: retry with \`npm run e2e -- --cleanup\` or \`pulumi destroy --stack ${driver.stackName}\``);
    } finally {
        report.finishedAt = recorder.now().toISOString();
        if (!cleanup.removed) report.ok = false;
        recorder.progress();
    }
}

function recorderFor(options: Pick<RunOptions, "now" | "log" | "onProgress">, report: E2eReport): Recorder {
    return {
        report,
        now: options.now ?? (() => new Date()),
        log: options.log ?? ((line: string) => process.stdout.write(`${line}\n`)),
        progress: () => options.onProgress?.(report),
    };
}

/** `npm run e2e`'s exit code for a finished run: 0 passed, 1 failed but cleaned up, 3 cleanup failed (docs/e2e.md). */
export function exitCodeFor(report: E2eReport): number {
    if (!report.cleanup.removed) return 3;
    return report.ok ? 0 : 1;
}

/** HH:MM twelve hours after `now`, in UTC (the program's default auto-shutdown time zone). */
export function shutdownTimeAwayFrom(now: Date): string {
    const later = new Date(now.getTime() + 12 * 3600_000);
    return `${String(later.getUTCHours()).padStart(2, "0")}:${String(later.getUTCMinutes()).padStart(2, "0")}`;
}

function failure(what: string, problems: string[]): Error {
    return new Error(`${what}: ${problems.join("; ")}`);
}

function messageOf(error: unknown): string {
    const text = error instanceof Error ? error.message : String(error);
    // The Automation API's CommandError carries the whole CLI output; the first lines say what failed.
    const lines = text.split("\n").filter((line) => line.trim().length > 0);
    return lines.length > 12 ? `${lines.slice(0, 12).join("\n")}\n...` : lines.join("\n");
}
