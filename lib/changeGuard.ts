// The change guard: the settings an update cannot change without losing data or being refused by
// Azure, compared with what the stack was last deployed with. Pure: the previous values come in
// (index.ts reads them from the stack's own outputs), problems and warnings go out.
// What each change does is generated from the program in docs/changes.md
// (commands/impact.ts); test/changeImpact.test.ts holds this module to it. How the record is
// written, read and acted on under each backend and CLI mode: docs/change-guard.md.
import { DataLossSetting, PROJECT, StackConfig, UserFacingError } from "./config";

/** The stack output that records the guarded settings as Azure applied them (plain, never secret). */
export const DEPLOYED_SETTINGS_OUTPUT = "deployedSettings";

/**
 * What the engine stores for a value that was unknown when the program registered it
 * (pulumi/pulumi pkg/resource/stack/deployment.go, computedValuePlaceholder): never a recorded setting.
 */
export const UNKNOWN_OUTPUT_PLACEHOLDER = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

/** The settings whose change deletes data or is refused by Azure, as the stack applied them. */
export interface DeployedSettings {
    location: string;
    /** The Cosmos DB account's region: cosmosLocation, or the stack's location when that is unset. */
    cosmosLocation: string;
    freeTier: boolean;
    databaseName: string;
    containerName: string;
    partitionKeyPath: string;
}

/** One change the guard stops: the full config key and what happens, with the way forward. */
export interface UnsafeChange {
    key: string;
    message: string;
    /** The allowDataLoss entry that lets this change proceed; absent when Azure refuses it (no opt-in helps). */
    optIn?: string;
}

export interface GuardResult {
    /** Changes that stop the update. */
    problems: UnsafeChange[];
    /** Opt-ins used, opt-ins that matched nothing, and a record that could be read only in part. */
    warnings: string[];
}

/**
 * The guard's message, one line per key: the stop's check refuses the change with it before any
 * Azure resource is declared (lib/guardStop.ts), and the program throws it. A RunError: printed
 * without a stack trace.
 */
export class UnsafeChangeError extends UserFacingError {
    constructor(public readonly problems: UnsafeChange[]) {
        super("UnsafeChangeError",
            `Unsafe configuration change (${problems.length} problem${problems.length === 1 ? "" : "s"}); nothing was changed:\n` +
                problems.map((p) => `  - ${p.key}: ${p.message}`).join("\n") +
                `\nThe previous values are this stack's ${DEPLOYED_SETTINGS_OUTPUT} output: what Azure applied in its last update (docs/changes.md).`);
    }
}

/** The guarded settings this configuration asks for: what checkChanges compares with the record. */
export function requestedSettings(settings: StackConfig): DeployedSettings {
    return {
        location: settings.location,
        cosmosLocation: settings.cosmosLocation,
        freeTier: settings.freeTier,
        databaseName: settings.databaseName,
        containerName: settings.containerName,
        partitionKeyPath: settings.partitionKeyPath,
    };
}

/** The exact allowDataLoss entry for one change, e.g. `containerName:Test->Orders`: it matches that change and no other. */
export function optInFor(setting: DataLossSetting, from: string, to: string): string {
    return `${setting}:${from}->${to}`;
}

export interface PreviousRecord {
    settings: Partial<DeployedSettings>;
    /** Read from the outputs of a program version without the guard: only the database and container names. */
    partial: boolean;
}

/**
 * The previous settings from the stack's own outputs (as a stack reference to itself reads them), or
 * undefined when there are none: the stack's first update, which is never blocked. A stack last
 * updated by a version of the program without this output still exports databaseName and
 * containerName, and those two are checked. A field that is missing or unreadable (the placeholder of
 * an unknown value included) is left out, never guessed: that setting is not checked this time.
 */
export function previousRecordFrom(outputs: Readonly<Record<string, unknown>>): PreviousRecord | undefined {
    const recorded = outputs[DEPLOYED_SETTINGS_OUTPUT];
    if (isRecord(recorded)) {
        const settings: Partial<DeployedSettings> = {};
        for (const key of ["location", "cosmosLocation", "databaseName", "containerName", "partitionKeyPath"] as const) {
            if (isRecordedString(recorded[key])) settings[key] = recorded[key] as string;
        }
        if (typeof recorded.freeTier === "boolean") settings.freeTier = recorded.freeTier;
        return { settings, partial: false };
    }
    const { databaseName, containerName } = outputs;
    if (isRecordedString(databaseName) && isRecordedString(containerName)) {
        return { settings: { databaseName, containerName }, partial: true };
    }
    return undefined;
}

function isRecordedString(value: unknown): value is string {
    return typeof value === "string" && value !== UNKNOWN_OUTPUT_PLACEHOLDER;
}

/** The organization the DIY backend reports for every stack (pulumi/pulumi pkg/backend/diy/state.go). */
const DIY_ORGANIZATION = "organization";

/**
 * The name under which the stack's backend finds the stack itself. The DIY backend (local, file or
 * cloud storage) resolves a bare stack name to the current project in its project-scoped layout, and
 * accepts nothing else in its legacy layout (pkg/backend/diy/store.go: no "/" there); Pulumi Cloud
 * takes only `<organization>/<project>/<stack>` (pkg/backend/httpstate/backend.go). A name the
 * backend rejects fails the update, and no program can catch that (pulumi/pulumi#16591), so the
 * backend decides the form: PULUMI_BACKEND_URL when set (http(s) is Pulumi Cloud, anything else DIY),
 * else the organization, which is "organization" on every DIY backend.
 */
export function selfReferenceName(organization: string, project: string, stack: string, backendUrl?: string): string {
    const diy = backendUrl ? !/^https?:\/\//i.test(backendUrl) : organization === DIY_ORGANIZATION;
    return diy ? stack : `${organization}/${project}/${stack}`;
}

/**
 * Compares the next settings with the previous ones and returns what stops the update. A change
 * that replaces a data store needs its exact allowDataLoss entry; a change Azure refuses cannot
 * proceed at all. What a bigger change replaces anyway is not reported again (a new location
 * replaces the account, so its region, free tier and containers are new too). `project` is the
 * namespace of the program's keys (the project's name: `pulumi new` may have changed it).
 */
export function checkChanges(previous: PreviousRecord | undefined, next: DeployedSettings, allowDataLoss: readonly string[], project: string = PROJECT): GuardResult {
    const problems: UnsafeChange[] = [];
    const warnings: string[] = [];
    const allowed = new Set(allowDataLoss);
    const used = new Set<string>();
    const was = previous?.settings ?? {};
    if (previous?.partial) {
        warnings.push(`This stack was last updated by a version of the program without the change guard: only databaseName and containerName are checked this time. This update records the rest (output ${DEPLOYED_SETTINGS_OUTPUT}).`);
    }

    const dataLoss = (setting: DataLossSetting, key: string, from: string, to: string, happens: string, keep: string) => {
        const optIn = optInFor(setting, from, to);
        if (allowed.has(optIn)) {
            used.add(optIn);
            warnings.push(`allowDataLoss "${optIn}": proceeding. ${happens}`);
            return;
        }
        problems.push({
            key,
            optIn,
            message: `${quote(from)} -> ${quote(to)}. ${happens} To proceed and lose that data: pulumi config set allowDataLoss ${shellQuote(optIn)}. ${keep}`,
        });
    };
    const refused = (key: string, from: string, to: string, why: string, way: string) => {
        problems.push({ key, message: `${quote(from)} -> ${quote(to)}. ${why} ${way}` });
    };

    const locationChanged = was.location !== undefined && !sameRegion(was.location, next.location);
    if (locationChanged) {
        dataLoss("location", "azure-native:location", was.location!, next.location,
            "This replaces the resource group and every resource in it: the Cosmos DB account is deleted with every database, container and item (the new one has a new name, endpoint and keys), and the VM gets a new disk and public IP.",
            `To keep the data, set it back: pulumi config set azure-native:location ${shellQuote(was.location!)}.`);
    }
    const databaseChanged = !locationChanged && was.databaseName !== undefined && was.databaseName !== next.databaseName;
    if (databaseChanged) {
        dataLoss("databaseName", `${project}:databaseName`, was.databaseName!, next.databaseName,
            `The provider deletes database ${quote(was.databaseName!)} first (its name is explicit), with its container and every item, then creates an empty ${quote(next.databaseName)}.`,
            `To keep the data, set it back: pulumi config set databaseName ${shellQuote(was.databaseName!)}.`);
    }
    const containerChanged = !locationChanged && !databaseChanged && was.containerName !== undefined && was.containerName !== next.containerName;
    if (containerChanged) {
        dataLoss("containerName", `${project}:containerName`, was.containerName!, next.containerName,
            `The provider deletes container ${quote(was.containerName!)} first (its name is explicit), with every item in it, then creates an empty ${quote(next.containerName)}.`,
            `To keep the data, set it back: pulumi config set containerName ${shellQuote(was.containerName!)}.`);
    }
    if (!locationChanged && !databaseChanged && !containerChanged && was.partitionKeyPath !== undefined && was.partitionKeyPath !== next.partitionKeyPath) {
        refused(`${project}:partitionKeyPath`, was.partitionKeyPath, next.partitionKeyPath,
            "Azure refuses to change the partition key of an existing container; the provider would try it in place and the update would fail there, half done.",
            `Set it back: pulumi config set partitionKeyPath ${shellQuote(was.partitionKeyPath)}. A new partition key needs a new container: change containerName as well (the old container and its items are deleted), after copying the items you need.`);
    }
    if (!locationChanged && was.freeTier !== undefined && was.freeTier !== next.freeTier) {
        refused(`${project}:freeTier`, String(was.freeTier), String(next.freeTier),
            "Azure applies the free tier only when it creates an account and refuses to change it afterwards.",
            `Set it back: pulumi config set freeTier ${was.freeTier}. The other value needs a new account: destroy and recreate the stack (pulumi destroy, then pulumi up; the account and its data are deleted), or deploy a new stack.`);
    }
    if (!locationChanged && was.cosmosLocation !== undefined && !sameRegion(was.cosmosLocation, next.cosmosLocation)) {
        refused(`${project}:cosmosLocation`, was.cosmosLocation, next.cosmosLocation,
            "Azure refuses to move the region of an existing Cosmos DB account in place.",
            `Set it back: pulumi config set cosmosLocation ${shellQuote(was.cosmosLocation)} (or pulumi config rm cosmosLocation if it was unset). To move the account: destroy and recreate the stack (pulumi destroy, then pulumi up; the account and its data are deleted), or deploy a new stack in the new region.`);
    }

    for (const entry of allowDataLoss) {
        if (!used.has(entry)) {
            warnings.push(`allowDataLoss "${entry}" matches no change in this update, so it allows nothing; remove it: pulumi config rm allowDataLoss`);
        }
    }
    return { problems, warnings };
}

/** Azure compares regions without case or spaces ("West Europe" is westeurope), and so does azure-native's diff. */
function sameRegion(a: string, b: string): boolean {
    const normal = (region: string) => region.replace(/ /g, "").toLowerCase();
    return normal(a) === normal(b);
}

function isRecord(value: unknown): value is Record<string, unknown> {
    return value !== null && typeof value === "object" && !Array.isArray(value);
}

function quote(value: string): string {
    return JSON.stringify(value);
}

/** A POSIX shell word: the user pastes the command as shown. */
function shellQuote(value: string): string {
    return /^[A-Za-z0-9_./:=@%+-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;
}
