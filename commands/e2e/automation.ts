// The real stack driver: Pulumi's Automation API on this project directory (LocalWorkspace runs the
// `pulumi` CLI found on PATH, against whatever backend it is logged in to). `up` and `preview` run
// the project's policy pack, as the README tells users to.
import * as path from "path";
import { EngineEvent, LocalWorkspace, PulumiCommand, Stack } from "@pulumi/pulumi/automation";
import type { StackDriver } from "./run";

const PROJECT_ROOT = path.resolve(__dirname, "..", "..");
export const POLICY_PACK = path.join(PROJECT_ROOT, "policy");

export interface DriverOptions {
    /** Extra environment for the CLI (the throw-away stack's passphrase file). */
    envVars: Record<string, string>;
    /** The CLI's own output, streamed (progress for a person or a CI log). */
    onOutput: (text: string) => void;
    /** The CLI to run; `pulumi` on PATH by default. */
    pulumiCommand?: PulumiCommand;
}

/** Creates the stack (fails if one of that name exists) and drives it. */
export async function createStackDriver(stackName: string, options: DriverOptions): Promise<StackDriver> {
    const stack = await LocalWorkspace.createStack({ stackName, workDir: PROJECT_ROOT }, { envVars: options.envVars, pulumiCommand: options.pulumiCommand });
    return driverFor(stack, options);
}

/** Drives an existing stack (for `--cleanup`). */
export async function selectStackDriver(stackName: string, options: DriverOptions): Promise<StackDriver> {
    const stack = await LocalWorkspace.selectStack({ stackName, workDir: PROJECT_ROOT }, { envVars: options.envVars, pulumiCommand: options.pulumiCommand });
    return driverFor(stack, options);
}

function driverFor(stack: Stack, options: DriverOptions): StackDriver {
    const { onOutput } = options;
    return {
        stackName: stack.name,
        setConfig: (values) => stack.setAllConfig(Object.fromEntries(Object.entries(values).map(([key, value]) => [key, { value }]))),
        up: async (onEvent: (event: EngineEvent) => void, signal: AbortSignal) => {
            const result = await stack.up({ policyPacks: [POLICY_PACK], onEvent, onOutput, signal });
            // Secret outputs (the admin password) stay out of the run's memory and report.
            const plain = Object.entries(result.outputs).filter(([, output]) => !output.secret);
            return { outputs: Object.fromEntries(plain.map(([name, output]) => [name, output.value])) };
        },
        preview: async (onEvent, signal) => {
            const result = await stack.preview({ policyPacks: [POLICY_PACK], diff: true, onEvent, onOutput, signal });
            return { changeSummary: result.changeSummary };
        },
        destroy: async (onEvent, { refresh }) => {
            // No clearPendingCreates: a dropped pending create would be left in Azure, untracked.
            if (refresh) await stack.refresh({ onOutput });
            await stack.destroy({ onEvent, onOutput });
        },
        remove: () => stack.workspace.removeStack(stack.name),
    };
}
