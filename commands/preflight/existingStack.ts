// Finds an already-deployed stack without the Pulumi CLI: its resource group, VM, Cosmos DB account
// and the key-fetch script last run on the VM. Sources, in order: `--resource-group NAME` (the VM is
// then looked up in Azure), else the local state backend's checkpoint file, where `pulumi login
// --local` (or PULUMI_BACKEND_URL=file://DIR) keeps it: <DIR>/.pulumi/stacks/<project>/<stack>.json
// (.json.gz when compressed; <stack>.json directly under stacks/ in the pre-project layout).
// Pulumi Cloud and azblob:// state cannot be read without the CLI: preflight then says so.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as zlib from "node:zlib";

export interface DeployedVm {
    id: string;
    subscriptionId: string;
    resourceGroupName: string;
    name: string;
    /** The create-time settings the state recorded (undefined when not known). */
    size?: string;
    imageSku?: string;
    adminUsername?: string;
    encryptionAtHost?: boolean;
}

export interface DeployedStack {
    /** Where this came from, for messages. */
    source: string;
    resourceGroupName: string;
    vm?: DeployedVm;
    cosmosAccount?: { id: string; name: string; documentEndpoint?: string };
    /**
     * The key-fetch script the deploy-time verification last ran (Run Command `source.script`);
     * null when the state has no verification run; undefined when unknown (no state read).
     */
    verificationScript?: string | null;
}

export type StackLookup =
    | { found: true; stack: DeployedStack }
    | { found: false; reason: string };

interface CheckpointResource {
    type?: string;
    id?: string;
    inputs?: Record<string, unknown>;
    outputs?: Record<string, unknown>;
    delete?: boolean;
}

/** The directory a file:// backend URL names (`file://~` is the home directory). */
export function backendDirectory(url: string, home: string): string | undefined {
    if (!url.startsWith("file://")) return undefined;
    const rest = url.slice("file://".length);
    if (rest === "~" || rest.startsWith("~/")) return path.join(home, rest.slice(1));
    return path.resolve(rest);
}

/** Reads the local backend's checkpoint for a stack, when the state lives on this machine. */
export function findLocalState(project: string, stack: string, env: NodeJS.ProcessEnv, home = os.homedir()): StackLookup {
    const backendUrl = env.PULUMI_BACKEND_URL;
    const directory = backendUrl ? backendDirectory(backendUrl, home) : home;
    if (directory === undefined) {
        return { found: false, reason: `its state is in ${backendUrl?.split("://")[0]}:// (PULUMI_BACKEND_URL), which preflight cannot read: pass --resource-group <its resource group> (pulumi stack output resourceGroupName)` };
    }
    const stacks = path.join(directory, ".pulumi", "stacks");
    const candidates = [path.join(stacks, project, stack), path.join(stacks, stack)].flatMap((base) => [`${base}.json`, `${base}.json.gz`]);
    const file = candidates.find((candidate) => fs.existsSync(candidate));
    if (!file) {
        const shown = stacks.startsWith(home + path.sep) ? `~${stacks.slice(home.length)}` : stacks;
        return { found: false, reason: `no local state for stack ${stack} in ${shown} (a new stack; if its state is in Pulumi Cloud or azblob://, pass --resource-group <its resource group>)` };
    }
    const raw = fs.readFileSync(file);
    const text = file.endsWith(".gz") ? zlib.gunzipSync(raw).toString("utf8") : raw.toString("utf8");
    const stackState = deployedStackFromCheckpoint(JSON.parse(text) as unknown, file);
    return stackState
        ? { found: true, stack: stackState }
        : { found: false, reason: `the local state for stack ${stack} (${file}) holds no resource group yet` };
}

/** The stack's resources as a checkpoint (`pulumi login --local`) or an export (`pulumi stack export`) records them. */
export function deployedStackFromCheckpoint(document: unknown, source: string): DeployedStack | undefined {
    const doc = document as { checkpoint?: { latest?: { resources?: CheckpointResource[] } }; deployment?: { resources?: CheckpointResource[] } };
    const resources = (doc.checkpoint?.latest?.resources ?? doc.deployment?.resources ?? []).filter((r) => !r.delete);
    const ofType = (type: string) => resources.find((r) => r.type === type);
    const group = ofType("azure-native:resources:ResourceGroup");
    const resourceGroupName = stringAt(group?.outputs, "name");
    if (!group || !resourceGroupName) return undefined;

    const vmResource = ofType("azure-native:compute:VirtualMachine");
    const vmId = vmResource?.id;
    const vmIdParts = vmId ? /^\/subscriptions\/([^/]+)\/resourceGroups\/([^/]+)\/providers\/Microsoft\.Compute\/virtualMachines\/([^/]+)$/i.exec(vmId) : null;
    const vm: DeployedVm | undefined = vmId && vmIdParts ? {
        id: vmId,
        subscriptionId: vmIdParts[1],
        resourceGroupName: vmIdParts[2],
        name: vmIdParts[3],
        size: stringAt(vmResource?.inputs, "hardwareProfile", "vmSize"),
        imageSku: stringAt(vmResource?.inputs, "storageProfile", "imageReference", "sku"),
        adminUsername: stringAt(vmResource?.inputs, "osProfile", "adminUsername"),
        encryptionAtHost: valueAt(vmResource?.inputs, "securityProfile", "encryptionAtHost") === true,
    } : undefined;

    const account = ofType("azure-native:cosmosdb:DatabaseAccount");
    const accountName = stringAt(account?.outputs, "name");
    const runCommand = ofType("azure-native:compute:VirtualMachineRunCommandByVirtualMachine");
    return {
        source,
        resourceGroupName,
        vm,
        cosmosAccount: account?.id && accountName ? { id: account.id, name: accountName, documentEndpoint: stringAt(account.outputs, "documentEndpoint") } : undefined,
        verificationScript: runCommand ? (stringAt(runCommand.inputs, "source", "script") ?? null) : null,
    };
}

function valueAt(root: unknown, ...keys: string[]): unknown {
    let node = root;
    for (const key of keys) {
        if (node === null || typeof node !== "object") return undefined;
        node = (node as Record<string, unknown>)[key];
    }
    return node;
}

/** A plain string at a path; a secret (still encrypted in the state) counts as unknown. */
function stringAt(root: unknown, ...keys: string[]): string | undefined {
    const value = valueAt(root, ...keys);
    return typeof value === "string" ? value : undefined;
}
