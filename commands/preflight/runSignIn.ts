// Signing in for one run of preflight: the credential the plan names (azure/signIn.ts), one token per
// scope for the whole run, and the run's time limit on all of it. A stall ends the moment the time
// is up, naming what did not answer; every other failure is one line that says how to sign in.
import { RESOURCE_MANAGER_ENDPOINTS } from "../../lib/config";
import { describeMethod, describeSignInFailure, SignIn, SignInError, signInHint, SignInPlan } from "../azure/signIn";
import { oneTokenPerScope, PendingWork, SignInBounds } from "../azure/signInHttp";

/** Sign-in's limits for one run: the run's abort signal, what is pending, and the time left. */
export type RunBounds = SignInBounds & { timeoutMs: number };

/** Builds the credential for a plan (production: resolveSignIn; tests inject a fake). */
export type SignInStep = (plan: SignInPlan, bounds: RunBounds) => Promise<SignIn>;

export interface RunClock {
    /** Aborted when the run's time is up. */
    signal: AbortSignal;
    /** When it is up (epoch ms). */
    deadline: number;
    /** --timeout, for messages. */
    timeoutMs: number;
    now(): number;
}

/** The run's time ran out while waiting for something. */
class StallError extends Error {
    constructor(message: string) {
        super(message);
        this.name = "StallError";
    }
}

/** Settles as the work does, or rejects with a StallError the moment the run's time is up. */
function withinRun<T>(work: Promise<T>, signal: AbortSignal, stalled: () => string): Promise<T> {
    return new Promise<T>((resolve, reject) => {
        // Runs as the signal aborts, before the aborted requests settle: what was pending is still known.
        const onAbort = () => reject(new StallError(stalled()));
        if (signal.aborted) return onAbort();
        signal.addEventListener("abort", onAbort, { once: true });
        work.then(
            (value) => { signal.removeEventListener("abort", onAbort); resolve(value); },
            (error: unknown) => { signal.removeEventListener("abort", onAbort); reject(error); },
        );
    });
}

export const armScope = (cloud: SignIn["cloud"]) => `${RESOURCE_MANAGER_ENDPOINTS[cloud]}.default`;

/**
 * Signs in and gets the Resource Manager token within the run's time. The credential returned
 * shares that token with every client that asks (one token per scope for the whole run).
 */
export async function signInWithinRun(plan: SignInPlan, step: SignInStep, clock: RunClock): Promise<{ signIn: SignIn; token: string } | { error: string }> {
    const pending = new PendingWork();
    const seconds = clock.timeoutMs / 1000;
    const stalled = () => {
        const what = pending.latest() ?? (plan.method.kind === "azure-cli" ? "the Azure CLI (az account get-access-token)" : "Entra ID");
        return `no answer within ${seconds} s from ${what} while signing in with ${describeMethod(plan.method)}: check the network, proxy (HTTPS_PROXY) and firewall, or allow more time (--timeout ${2 * seconds})`;
    };
    try {
        const bounds = { signal: clock.signal, pending, timeoutMs: Math.max(1, clock.deadline - clock.now()) };
        const resolved = await withinRun(step(plan, bounds), clock.signal, stalled);
        const signIn = { ...resolved, credential: oneTokenPerScope(resolved.credential) };
        const token = await withinRun(signIn.credential.getToken(armScope(signIn.cloud)), clock.signal, stalled);
        if (!token) throw new SignInError(`not signed in to Azure: ${signInHint(plan.method)}`, true);
        return { signIn, token: token.token };
    } catch (error) {
        return { error: error instanceof StallError ? error.message : describeSignInFailure(error, plan.method) };
    }
}
