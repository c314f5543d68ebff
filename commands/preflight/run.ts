// Runs the checks: all at once, each with its own Resource Manager clients (so that a throttled
// check reports its own Retry-After) and the time left of the run's limit (--timeout bounds the
// whole run, sign-in included), and collects one result per check.
import { setMaxListeners } from "node:events";
import type { StackConfig } from "../../lib/config";
import type { DeclaredAzureResource } from "./declared";
import { ArmClients, ArmConnection, describeError, isAbort, isUnreachable, statusOf } from "./arm";
import { Check, CHECKS, CheckContext, CheckOutcome, CheckStatus, listAll, listRegionSkus } from "./checks";
import type { DeployedStack, StackLookup } from "./existingStack";
import type { Principal, SignIn } from "../azure/signIn";

export interface CheckResult extends CheckOutcome {
    id: string;
    title: string;
    durationMs: number;
}

export interface PreflightReport {
    /** The project's name in Pulumi.yaml (`pulumi new` may have renamed it). */
    project: string;
    stack: string;
    subscriptionId: string;
    location: string;
    cosmosLocation: string;
    fix: boolean;
    ok: boolean;
    durationMs: number;
    counts: Record<CheckStatus, number>;
    checks: CheckResult[];
}

export interface PreflightRun {
    project: string;
    stackName: string;
    config: StackConfig;
    signIn: SignIn;
    principal: Principal;
    connection: ArmConnection;
    fix: boolean;
    /** `--resource-group`: find the deployed VM there instead of in local state. */
    resourceGroup?: string;
    /** The local-state lookup (existingStack.ts), used without --resource-group. */
    localLookup(): StackLookup;
    /** The resources the program declares (the plan's evaluation), for the policy check. */
    declaredResources(): Promise<DeclaredAzureResource[]>;
    /** --timeout, for messages. */
    timeoutMs: number;
    /** When the run began (sign-in included) and when its time is up (epoch ms): every check ends by then. */
    started: number;
    deadline: number;
    pollIntervalMs: number;
    now(): number;
    checks?: readonly Check[];
}

/** Resource Manager cannot be reached at all: no check can say anything. */
export class UnreachableError extends Error {
    constructor(message: string) {
        super(message);
        this.name = "UnreachableError";
    }
}

export async function runPreflight(run: PreflightRun): Promise<PreflightReport> {
    const { started, deadline } = run;
    const timeLeft = () => Math.max(0, deadline - run.now());
    // Data more than one check needs is fetched once, within the run's time.
    const shared = new ArmClients(run.connection);
    const sharedAbort = new AbortController();
    setMaxListeners(100, sharedAbort.signal);
    const sharedTimer = setTimeout(() => sharedAbort.abort(timeoutReason(run.timeoutMs)), timeLeft());
    const once = <T>(fetch: () => Promise<T>): () => Promise<T> => {
        let promise: Promise<T> | undefined;
        return () => (promise ??= fetch());
    };
    const regionSkus = once(() => listRegionSkus(shared, run.config.location, sharedAbort.signal));
    const deployed = once(() => run.resourceGroup
        ? lookupResourceGroup(shared, run.signIn.subscriptionId, run.resourceGroup, sharedAbort.signal)
        : Promise.resolve(run.localLookup()));

    const runOne = async (check: Check): Promise<CheckResult & { unreachable?: string; errored?: boolean }> => {
        const checkStarted = run.now();
        const abort = new AbortController();
        // A check may have many requests in flight on its signal (the policy check: one per resource).
        setMaxListeners(100, abort.signal);
        const timer = setTimeout(() => abort.abort(timeoutReason(run.timeoutMs)), timeLeft());
        const clients = new ArmClients(run.connection);
        const context: CheckContext = {
            config: run.config,
            signIn: run.signIn,
            principal: run.principal,
            clients,
            signal: abort.signal,
            deadline,
            fix: run.fix,
            pollIntervalMs: run.pollIntervalMs,
            regionSkus: () => untilAborted(regionSkus(), abort.signal),
            deployed: () => untilAborted(deployed(), abort.signal),
            declaredResources: () => untilAborted(run.declaredResources(), abort.signal),
        };
        const answer = (outcome: CheckOutcome) => ({ id: check.id, title: check.title, ...outcome, durationMs: run.now() - checkStarted });
        // A check that could not get its answer (timeout, refused read, unexpected error).
        const result = (outcome: CheckOutcome) => ({ ...answer(outcome), errored: true });
        try {
            return answer(await untilAborted(check.run(context), abort.signal));
        } catch (error) {
            if (isUnreachable(error)) return { ...result({ status: "fail", message: describeError(error) }), unreachable: describeError(error) };
            // A shared fetch times out on its own timer, a moment before or after the check's.
            if (abort.signal.aborted || sharedAbort.signal.aborted || isAbort(error)) {
                const throttled = Math.max(clients.throttledFor ?? 0, shared.throttledFor ?? 0);
                return result({
                    status: "fail",
                    message: `no answer within ${run.timeoutMs / 1000} s${throttled > 0 ? `: Resource Manager is throttling this subscription (429, Retry-After ${throttled} s)` : ""}`,
                    remedy: "run preflight again in a minute (or allow more time: --timeout 60)",
                });
            }
            if (statusOf(error) === 403) {
                return result({ status: "fail", message: `could not read what this check needs: ${describeError(error)}`, remedy: "preflight needs read access to the subscription (the Reader role)" });
            }
            return result({ status: "fail", message: `could not check: ${describeError(error)}`, remedy: "run preflight again; if it persists, the message above says what Resource Manager refused" });
        } finally {
            clearTimeout(timer);
        }
    };

    const checks = run.checks ?? CHECKS;
    let results = await Promise.all(checks.map(runOne));
    clearTimeout(sharedTimer);
    sharedAbort.abort();
    const unreachable = results.find((r) => r.unreachable);
    if (unreachable) {
        throw new UnreachableError(`cannot reach Resource Manager at ${run.connection.endpoint}: ${unreachable.unreachable}; check the network, proxy (HTTPS_PROXY) and firewall`);
    }
    const identity = results.find((r) => r.id === "identity");
    if (identity?.status === "fail" && !identity.errored) {
        // Without a usable subscription the other answers are noise: say so once.
        results = results.map((r) => (r.id === "identity" ? r : { ...r, status: "skipped", message: "needs a usable subscription (see identity)", remedy: undefined }));
    }
    const counts: Record<CheckStatus, number> = { pass: 0, fail: 0, warning: 0, skipped: 0 };
    for (const r of results) counts[r.status]++;
    return {
        project: run.project,
        stack: run.stackName,
        subscriptionId: run.signIn.subscriptionId,
        location: run.config.location,
        cosmosLocation: run.config.cosmosLocation,
        fix: run.fix,
        ok: counts.fail === 0,
        durationMs: run.now() - started,
        counts,
        checks: results.map(({ id, title, status, message, remedy, findings, durationMs }) => ({ id, title, status, message, remedy, findings, durationMs })),
    };
}

function timeoutReason(ms: number): Error {
    const error = new Error(`timed out after ${ms} ms`);
    error.name = "AbortError";
    return error;
}

/** Settles when the promise does, or rejects when the signal aborts (whichever comes first). */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
    if (signal.aborted) return Promise.reject(signal.reason);
    return new Promise<T>((resolve, reject) => {
        const onAbort = () => reject(signal.reason);
        signal.addEventListener("abort", onAbort, { once: true });
        promise.then(
            (value) => { signal.removeEventListener("abort", onAbort); resolve(value); },
            (error: unknown) => { signal.removeEventListener("abort", onAbort); reject(error); },
        );
    });
}

/** `--resource-group`: the deployed stack's VM and Cosmos DB account, found in Azure. */
async function lookupResourceGroup(clients: ArmClients, subscriptionId: string, resourceGroupName: string, signal: AbortSignal): Promise<StackLookup> {
    let vms;
    try {
        vms = await listAll(clients.compute.virtualMachines.list(resourceGroupName, { abortSignal: signal }));
    } catch (error) {
        if (statusOf(error) === 404) return { found: false, reason: `resource group ${resourceGroupName} (--resource-group) does not exist in subscription ${subscriptionId}` };
        throw error;
    }
    // The stack names its VM from the logical name "tutorial-vm" plus a suffix (Pulumi auto-naming).
    const vm = vms.find((v) => v.name?.startsWith("tutorial-vm")) ?? (vms.length === 1 ? vms[0] : undefined);
    const accounts = await listAll(clients.cosmos.databaseAccounts.listByResourceGroup(resourceGroupName, { abortSignal: signal }));
    const account = accounts[0];
    const stack: DeployedStack = {
        source: `resource group ${resourceGroupName} (--resource-group)`,
        resourceGroupName,
        vm: vm?.name && vm.id ? {
            id: vm.id,
            subscriptionId,
            resourceGroupName,
            name: vm.name,
            size: vm.hardwareProfile?.vmSize,
            imageSku: vm.storageProfile?.imageReference?.sku,
            adminUsername: vm.osProfile?.adminUsername,
            encryptionAtHost: vm.securityProfile?.encryptionAtHost === true,
        } : undefined,
        cosmosAccount: account?.id && account.name ? { id: account.id, name: account.name, documentEndpoint: account.documentEndpoint } : undefined,
        // Without the state, preflight cannot tell whether the key-fetch script changed.
        verificationScript: undefined,
    };
    return { found: true, stack };
}
