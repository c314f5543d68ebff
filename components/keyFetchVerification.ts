import * as pulumi from "@pulumi/pulumi";
import * as compute from "@pulumi/azure-native/compute";
import { KEY_FETCH_DEADLINE_SECONDS, RUN_COMMAND_START_SECONDS } from "../lib/keyFetchScript";

export interface KeyFetchVerificationArgs {
    /** Required. Resource group of the VM. */
    resourceGroupName: pulumi.Input<string>;
    /** Required. Region of the VM. */
    location: pulumi.Input<string>;
    /** Required. The VM that runs the script; the run is deleted with it. */
    vm: compute.VirtualMachine;
    /** Required. The key-fetch script; a change re-runs it. */
    script: pulumi.Input<string>;
    /** Required. What the script needs to succeed (the access grant, the container): it runs after them. */
    waitFor: pulumi.Resource[];
    /** Required. Tags for the Run Command (a change is an update, which runs the script again). */
    tags: Record<string, string>;
}

/**
 * Run Command's timeout for the script: the script's own deadline (its -DeadlineSeconds default,
 * which bounds every wait: IMDS retries, role propagation, network rules, transient retries) plus
 * time for the agent to start it. The script always ends first, with its own diagnosis.
 */
export const VERIFICATION_TIMEOUT_SECONDS = KEY_FETCH_DEADLINE_SECONDS + RUN_COMMAND_START_SECONDS;

/**
 * How long `pulumi up` waits for the run: a little above the run's own timeout, for the VM agent to
 * pick it up and report it. Without it, azure-native polls for up to 120 minutes, and a run Azure
 * never reports as finished holds the update that long. Past it, the update fails and says so.
 */
export const VERIFICATION_WAIT_MINUTES = Math.ceil(VERIFICATION_TIMEOUT_SECONDS / 60) + 5;

/** What the run reported: never key material, only the script's masked summary. */
export interface VerificationResult {
    state: string;
    exitCode: number | null;
    summary: string;
}

/**
 * Runs the key-fetch script on the VM during `pulumi up` with Run Command, synchronously, so the
 * deployment fails when the identity cannot read the keys or the keys cannot read the container.
 * Needs no inbound port. Re-runs only when the script changes.
 */
export class KeyFetchVerification extends pulumi.ComponentResource {
    public readonly result: pulumi.Output<VerificationResult>;

    constructor(name: string, args: KeyFetchVerificationArgs, opts?: pulumi.ComponentResourceOptions) {
        super("cosmos-vm-identity:index:KeyFetchVerification", name, {}, opts);

        const runCommand = new compute.VirtualMachineRunCommandByVirtualMachine(`${name}-run`, {
            resourceGroupName: args.resourceGroupName,
            location: args.location,
            tags: args.tags,
            vmName: args.vm.name,
            runCommandName: "verify-cosmos-access",
            source: { script: args.script },
            asyncExecution: false,
            treatFailureAsDeploymentFailure: true,
            timeoutInSeconds: VERIFICATION_TIMEOUT_SECONDS,
        }, {
            parent: this,
            dependsOn: args.waitFor,
            // A run command is a VM extension: Azure refuses to delete it while the VM is stopped
            // (after the evening auto-shutdown), and deleting the VM removes it anyway.
            deletedWith: args.vm,
            customTimeouts: { create: `${VERIFICATION_WAIT_MINUTES}m`, update: `${VERIFICATION_WAIT_MINUTES}m` },
        });

        // The resource itself does not carry the run's outcome; its instance view does.
        const view = compute.getVirtualMachineRunCommandByVirtualMachineOutput({
            resourceGroupName: args.resourceGroupName,
            vmName: args.vm.name,
            runCommandName: runCommand.name,
            expand: "instanceView",
        }, { parent: this });

        this.result = view.instanceView.apply((instance) => ({
            state: instance?.executionState ?? "Unknown",
            exitCode: instance?.exitCode ?? null,
            summary: (instance?.output ?? "").trim(),
        }));
        this.registerOutputs({ result: this.result });
    }
}
