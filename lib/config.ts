// Configuration: the stack's raw config strings in, a validated StackConfig out.
// Pure: no resources, no Pulumi runtime calls. Every problem is collected and reported at once,
// before index.ts declares anything, so bad input creates nothing.
import { RunError } from "@pulumi/pulumi/errors";
import { parseIpv4Range } from "./ipv4";
import { parseTags } from "./tags";

/** The project's name in this repository; the config namespace unless `pulumi new` gave the copy another name. */
export const PROJECT = "cosmos-vm-identity";

export type AccessLevel = "readonly" | "readwrite";
/** keys: the tutorial's path (the identity reads account keys); rbac: Entra ID data-plane access, keys disabled. */
export type AccessMode = "keys" | "rbac";
export type WindowsImageSku = (typeof WINDOWS_IMAGE_SKUS)[number];
export type AzureCloud = keyof typeof RESOURCE_MANAGER_ENDPOINTS;

/**
 * The settings whose change deletes data and may proceed only with an explicit, exact opt-in: an
 * allowDataLoss entry `<setting>:<old>-><new>` (lib/changeGuard.ts checks it against the stack's record).
 */
export const DATA_LOSS_SETTINGS = ["location", "databaseName", "containerName"] as const;
export type DataLossSetting = (typeof DATA_LOSS_SETTINGS)[number];

export const WINDOWS_IMAGE_SKUS = [
    "2025-datacenter-azure-edition",
    "2025-datacenter-azure-edition-core",
    "2022-datacenter-azure-edition",
    "2022-datacenter-azure-edition-core",
] as const;

/** Resource Manager endpoint (also the token resource) per `azure-native:environment`. */
export const RESOURCE_MANAGER_ENDPOINTS = {
    public: "https://management.azure.com/",
    usgovernment: "https://management.usgovcloudapi.net/",
    china: "https://management.chinacloudapi.cn/",
} as const;

/** The program's defaults. Pulumi.yaml declares the same values (test/projectFile.test.ts holds them together). */
export const DEFAULTS = {
    vmSize: "Standard_B2als_v2",
    adminUsername: "azureuser",
    windowsImageSku: "2025-datacenter-azure-edition" as WindowsImageSku,
    rdpAllowedFrom: [] as string[],
    autoShutdownTime: "19:00",
    autoShutdownTimeZone: "UTC",
    freeTier: false,
    databaseName: "Test",
    containerName: "Test",
    partitionKeyPath: "/id",
    throughput: 400,
    accessLevel: "readonly" as AccessLevel,
    accessMode: "keys" as AccessMode,
    verifyOnDeploy: true,
    encryptionAtHost: false,
    cosmosAllowedIps: [] as string[],
    cosmosPublicAccess: false,
} as const;

export interface StackConfig {
    /** Azure region of everything but (optionally) the Cosmos account: `azure-native:location`. */
    location: string;
    /** Azure cloud, from `azure-native:environment`. */
    cloud: AzureCloud;
    vmSize: string;
    adminUsername: string;
    /** Set only when the stack provides the secret; otherwise the program generates one. */
    adminPassword?: string;
    windowsImageSku: WindowsImageSku;
    /** Normalised IPv4 CIDRs; empty means no inbound RDP at all. */
    rdpAllowedFrom: string[];
    /** `HHmm` as DevTestLab schedules want it, or undefined when auto-shutdown is off. */
    autoShutdownTime?: string;
    autoShutdownTimeZone: string;
    cosmosLocation: string;
    freeTier: boolean;
    databaseName: string;
    containerName: string;
    partitionKeyPath: string;
    throughput: number;
    accessLevel: AccessLevel;
    accessMode: AccessMode;
    /** Run the key-fetch script on the VM during `pulumi up`. */
    verifyOnDeploy: boolean;
    /** Encrypt the VM's disks and caches at the host (needs the EncryptionAtHost feature registered). */
    encryptionAtHost: boolean;
    /** Public IPv4 CIDRs admitted to the Cosmos DB account besides the VM's subnet (e.g. yours, for Data Explorer). */
    cosmosAllowedIps: string[];
    /** Accept Cosmos DB connections from every network, as the tutorial's account does. */
    cosmosPublicAccess: boolean;
    /** Changes allowed to delete data, each `<setting>:<old>-><new>` exactly as the change guard names it. */
    allowDataLoss: string[];
    /** The stack's own tags for every taggable resource (besides `project` and `stack`, which the program sets). */
    tags: Record<string, string>;
}

/** One broken rule: the full config key and what is wrong with its value. */
export interface ConfigProblem {
    key: string;
    message: string;
}

/**
 * An error for the user, not a bug: a RunError, which Pulumi prints without a stack trace, and with
 * no stack frames at all. Pulumi's runner still passes every uncaught error to util.inspect, and on
 * Node 20 that loops on a frame of Pulumi's own source maps (`node_modules/@pulumi/resource.ts`,
 * present when an async program throws) until it runs out of string length: about 20 s and 3 GB.
 */
export abstract class UserFacingError extends RunError {
    protected constructor(name: string, message: string) {
        super(message);
        this.name = name;
        this.stack = `${name}: ${message}`;
    }
}

/** Raised before any resource is declared; lists every problem. */
export class ConfigError extends UserFacingError {
    constructor(public readonly problems: ConfigProblem[]) {
        super("ConfigError",
            `Invalid configuration (${problems.length} problem${problems.length === 1 ? "" : "s"}); nothing was created:\n` +
                problems.map((p) => `  - ${p.key}: ${p.message}`).join("\n") +
                "\nSet values with `pulumi config set <key> <value>` (see README, Configuration).");
    }
}

/** Keys this program reads in its own namespace, each described in Pulumi.yaml. */
export const CONFIG_KEYS = [
    "vmSize",
    "adminUsername",
    "adminPassword",
    "windowsImageSku",
    "rdpAllowedFrom",
    "autoShutdownTime",
    "autoShutdownTimeZone",
    "cosmosLocation",
    "freeTier",
    "databaseName",
    "containerName",
    "partitionKeyPath",
    "throughput",
    "accessLevel",
    "accessMode",
    "verifyOnDeploy",
    "encryptionAtHost",
    "cosmosAllowedIps",
    "cosmosPublicAccess",
    "allowDataLoss",
    "tags",
] as const;
type ConfigKey = (typeof CONFIG_KEYS)[number];

// Azure rejects these Windows admin names (Azure VM FAQ; compared case-insensitively).
const RESERVED_USERNAMES = new Set([
    "1", "123", "a", "actuser", "adm", "admin", "admin1", "admin2", "administrator", "aspnet", "backup",
    "console", "david", "guest", "john", "owner", "root", "server", "sql", "support", "support_388945a0",
    "sys", "test", "test1", "test2", "test3", "user", "user1", "user2", "user3", "user4", "user5",
]);
// Passwords Azure refuses outright (Azure VM FAQ), compared case-sensitively as Azure does.
const DISALLOWED_PASSWORDS = new Set([
    "abc@123", "iloveyou!", "P@$$w0rd", "P@ssw0rd", "P@ssword123", "Pa$$word", "pass@word1", "Password!",
    "Password1", "Password22",
]);

/**
 * Validates the raw config map (full keys such as `cosmos-vm-identity:throughput`, values as Pulumi
 * stores them: strings, lists as JSON) and returns the typed configuration, or throws one
 * ConfigError naming every problem. `project` is the namespace of the program's own keys: the
 * project's name, which `pulumi new` sets to whatever the user chose.
 */
export function parseConfig(raw: Readonly<Record<string, string | undefined>>, project: string = PROJECT): StackConfig {
    const problems: ConfigProblem[] = [];
    const fullKey = (key: string) => `${project}:${key}`;
    const report = (key: string, message: string) => problems.push({ key, message });
    const get = (key: ConfigKey): string | undefined => {
        const value = raw[fullKey(key)];
        return value === undefined || value === "" ? undefined : value;
    };
    const bad = (key: ConfigKey, message: string) => report(fullKey(key), message);

    for (const key of Object.keys(raw)) {
        if (key.startsWith(`${project}:`) && !(CONFIG_KEYS as readonly string[]).includes(key.slice(project.length + 1))) {
            report(key, `unknown key; the keys are ${CONFIG_KEYS.join(", ")}`);
        }
    }

    const location = raw["azure-native:location"];
    if (!location) {
        report("azure-native:location", "required: the Azure region to deploy to, e.g. `pulumi config set azure-native:location westeurope`");
    } else if (!isRegionName(location)) {
        report("azure-native:location", `must be an Azure region name such as westeurope (got "${location}")`);
    }
    const environment = raw["azure-native:environment"] ?? "public";
    const cloud = environment.toLowerCase();
    if (!(cloud in RESOURCE_MANAGER_ENDPOINTS)) {
        report("azure-native:environment", `must be one of ${Object.keys(RESOURCE_MANAGER_ENDPOINTS).join(", ")} (got "${environment}")`);
    }

    const vmSize = get("vmSize") ?? DEFAULTS.vmSize;
    if (!/^(Standard|Basic)_[A-Za-z0-9_]+$/.test(vmSize)) {
        bad("vmSize", `must be an Azure VM size name such as ${DEFAULTS.vmSize} (got "${vmSize}")`);
    }

    const adminUsername = get("adminUsername") ?? DEFAULTS.adminUsername;
    for (const rule of adminUsernameProblems(adminUsername)) bad("adminUsername", rule);

    const adminPassword = get("adminPassword");
    if (adminPassword !== undefined) {
        // Never echo the value: it is a secret.
        for (const rule of adminPasswordProblems(adminPassword, adminUsername)) bad("adminPassword", rule);
    }

    const windowsImageSku = get("windowsImageSku") ?? DEFAULTS.windowsImageSku;
    if (!(WINDOWS_IMAGE_SKUS as readonly string[]).includes(windowsImageSku)) {
        bad("windowsImageSku", `must be one of ${WINDOWS_IMAGE_SKUS.join(", ")} (got "${windowsImageSku}")`);
    }

    const rangeList = (key: "rdpAllowedFrom" | "cosmosAllowedIps", publicOnly: boolean): string[] => {
        const ranges: string[] = [];
        const rawList = get(key);
        if (rawList === undefined) return ranges;
        const entries = parseList(rawList);
        if (entries === undefined) {
            bad(key, 'must be a list of IPv4 addresses or CIDRs, e.g. ["203.0.113.7"] or "203.0.113.7,198.51.100.0/24"');
            return ranges;
        }
        for (const entry of entries) {
            const range = parseIpv4Range(entry);
            if (!range.ok) bad(key, `"${entry}" ${range.error}`);
            else if (publicOnly && range.privateRange) bad(key, `"${entry}" is in the private range ${range.privateRange}, which Cosmos DB's IP filter cannot enforce; the VM's subnet is admitted already`);
            else ranges.push(range.cidr);
        }
        return ranges;
    };
    const rdpAllowedFrom = rangeList("rdpAllowedFrom", false);
    const cosmosAllowedIps = rangeList("cosmosAllowedIps", true);

    const shutdownRaw = get("autoShutdownTime") ?? DEFAULTS.autoShutdownTime;
    let autoShutdownTime: string | undefined;
    if (shutdownRaw.toLowerCase() !== "off") {
        const match = /^([01]\d|2[0-3]):([0-5]\d)$/.exec(shutdownRaw);
        if (match) autoShutdownTime = `${match[1]}${match[2]}`;
        else bad("autoShutdownTime", `must be a 24-hour time HH:MM (00:00 to 23:59) or "off" (got "${shutdownRaw}")`);
    }

    const autoShutdownTimeZone = get("autoShutdownTimeZone") ?? DEFAULTS.autoShutdownTimeZone;
    if (!/^[A-Za-z0-9][A-Za-z0-9 .()+\-]{0,63}$/.test(autoShutdownTimeZone)) {
        bad("autoShutdownTimeZone", `must be a Windows time zone id such as "UTC" or "W. Europe Standard Time" (got "${autoShutdownTimeZone}")`);
    }

    const cosmosLocation = get("cosmosLocation");
    if (cosmosLocation !== undefined && !isRegionName(cosmosLocation)) {
        bad("cosmosLocation", `must be an Azure region name such as westeurope (got "${cosmosLocation}")`);
    }


    const databaseName = get("databaseName") ?? DEFAULTS.databaseName;
    for (const rule of cosmosIdProblems(databaseName)) bad("databaseName", rule);
    const containerName = get("containerName") ?? DEFAULTS.containerName;
    for (const rule of cosmosIdProblems(containerName)) bad("containerName", rule);

    const partitionKeyPath = get("partitionKeyPath") ?? DEFAULTS.partitionKeyPath;
    for (const rule of partitionKeyPathProblems(partitionKeyPath)) bad("partitionKeyPath", rule);

    const throughputRaw = get("throughput");
    const throughput = throughputRaw === undefined ? DEFAULTS.throughput : Number(throughputRaw);
    if (!Number.isInteger(throughput)) {
        bad("throughput", `must be a whole number of RU/s (got "${throughputRaw}")`);
    } else {
        if (throughput < 400) bad("throughput", `must be at least 400 RU/s, Cosmos DB's minimum for manual throughput (got ${throughput})`);
        if (throughput % 100 !== 0) bad("throughput", `must be a multiple of 100 RU/s (got ${throughput})`);
        if (throughput > 1_000_000) bad("throughput", `must be at most 1000000 RU/s without a support request (got ${throughput})`);
    }

    const accessLevel = get("accessLevel") ?? DEFAULTS.accessLevel;
    if (accessLevel !== "readonly" && accessLevel !== "readwrite") {
        bad("accessLevel", `must be "readonly" (read-only keys) or "readwrite" (all keys) (got "${accessLevel}")`);
    }

    const accessMode = get("accessMode") ?? DEFAULTS.accessMode;
    if (accessMode !== "keys" && accessMode !== "rbac") {
        bad("accessMode", `must be "keys" (the VM reads account keys) or "rbac" (Entra ID data-plane access, keys disabled) (got "${accessMode}")`);
    }

    const boolean = (key: "freeTier" | "verifyOnDeploy" | "encryptionAtHost" | "cosmosPublicAccess"): boolean => {
        const value = parseBoolean(get(key), DEFAULTS[key]);
        if (value === undefined) bad(key, `must be true or false (got "${get(key)}")`);
        return value ?? DEFAULTS[key];
    };
    const freeTier = boolean("freeTier");
    const verifyOnDeploy = boolean("verifyOnDeploy");
    const encryptionAtHost = boolean("encryptionAtHost");
    const cosmosPublicAccess = boolean("cosmosPublicAccess");
    if (cosmosPublicAccess && cosmosAllowedIps.length > 0) {
        bad("cosmosAllowedIps", "has no effect with cosmosPublicAccess: true (every network is admitted); remove one of them");
    }

    // Exact entries, not patterns: each allows one named change (old and new value) and nothing else.
    const allowDataLossRaw = get("allowDataLoss");
    const allowDataLoss = allowDataLossRaw === undefined ? [] : parseOptIns(allowDataLossRaw);
    for (const entry of allowDataLoss) {
        if (!DATA_LOSS_SETTINGS.some((setting) => entry.startsWith(`${setting}:`) && entry.includes("->", setting.length + 1))) {
            bad("allowDataLoss", `"${entry}" is not a change to allow: copy the entry the change guard's message names, <setting>:<old>-><new> with setting one of ${DATA_LOSS_SETTINGS.join(", ")}, e.g. "containerName:Test->Orders"`);
        }
    }

    const parsedTags = parseTags(get("tags"));
    for (const problem of parsedTags.problems) bad("tags", problem);

    if (problems.length > 0) throw new ConfigError(problems);
    return {
        location: location as string,
        cloud: cloud as AzureCloud,
        vmSize,
        adminUsername,
        adminPassword,
        windowsImageSku: windowsImageSku as WindowsImageSku,
        rdpAllowedFrom,
        autoShutdownTime,
        autoShutdownTimeZone,
        cosmosLocation: cosmosLocation ?? (location as string),
        freeTier,
        databaseName,
        containerName,
        partitionKeyPath,
        throughput,
        accessLevel: accessLevel as AccessLevel,
        accessMode: accessMode as AccessMode,
        verifyOnDeploy,
        encryptionAtHost,
        cosmosAllowedIps,
        cosmosPublicAccess,
        allowDataLoss,
        tags: parsedTags.tags,
    };
}

/** Windows local admin rules as Azure applies them to `osProfile.adminUsername`. */
export function adminUsernameProblems(name: string): string[] {
    const problems: string[] = [];
    if (name.length > 20) problems.push(`must be at most 20 characters (got ${name.length})`);
    if (name.endsWith(".")) problems.push("must not end with a period");
    if (/["\/\\\[\]:|<>+=;,?*@&%\s]/.test(name)) problems.push('must not contain spaces or any of " / \\ [ ] : | < > + = ; , ? * @ & %');
    if (RESERVED_USERNAMES.has(name.toLowerCase())) problems.push(`"${name}" is a name Azure reserves; choose another (default ${DEFAULTS.adminUsername})`);
    return problems;
}

/** Azure's VM password rules: 12 to 123 characters, three of four character classes, not a known weak password. */
export function adminPasswordProblems(password: string, username: string): string[] {
    const problems: string[] = [];
    if (password.length < 12 || password.length > 123) problems.push(`must be 12 to 123 characters long (got ${password.length})`);
    const classes = [/[a-z]/, /[A-Z]/, /[0-9]/, /[^A-Za-z0-9]/].filter((re) => re.test(password)).length;
    if (classes < 3) problems.push("must contain three of: a lowercase letter, an uppercase letter, a digit, a special character");
    if (DISALLOWED_PASSWORDS.has(password)) problems.push("is one of the common passwords Azure refuses");
    if (username.length >= 3 && password.toLowerCase().includes(username.toLowerCase())) {
        problems.push("must not contain the admin username (Windows refuses it)");
    }
    return problems;
}

/** Cosmos DB database and container ids: 1 to 255 characters, none of / \ # ?, no trailing space. */
export function cosmosIdProblems(id: string): string[] {
    const problems: string[] = [];
    if (id.length > 255) problems.push(`must be at most 255 characters (got ${id.length})`);
    if (/[\/\\#?]/.test(id)) problems.push(`must not contain / \\ # or ? (got "${id}")`);
    if (/\s$/.test(id)) problems.push("must not end with a space");
    return problems;
}

/** A partition key path: `/` then one or more non-empty segments, e.g. `/id` or `/address/zip`. */
export function partitionKeyPathProblems(path: string): string[] {
    if (!path.startsWith("/")) return [`must start with "/" (got "${path}")`];
    if (!/^(\/[^\/\s*?]+)+$/.test(path)) return [`must be "/" followed by non-empty path segments without spaces or wildcards, e.g. /id (got "${path}")`];
    if (path.length > 100) return [`must be at most 100 characters (got ${path.length})`];
    return [];
}

function isRegionName(value: string): boolean {
    // Resource Manager accepts both "westeurope" and the display form "West Europe".
    return /^[A-Za-z][A-Za-z0-9 ]{1,40}$/.test(value);
}

function parseBoolean(value: string | undefined, fallback: boolean): boolean | undefined {
    if (value === undefined) return fallback;
    if (value === "true") return true;
    if (value === "false") return false;
    return undefined;
}

/** One entry, or a JSON list of entries (as `pulumi config set --path 'allowDataLoss[0]'` stores it). Names may hold commas and spaces, so nothing is split. */
function parseOptIns(value: string): string[] {
    if (value.trim().startsWith("[")) {
        try {
            const parsed: unknown = JSON.parse(value);
            if (Array.isArray(parsed) && parsed.every((item): item is string => typeof item === "string")) return parsed;
        } catch {
            // not a list: taken as one entry, which validation then names
        }
    }
    return [value];
}

/** A JSON list of strings (as `pulumi config set --path` stores it), or a comma/space-separated string. */
function parseList(value: string): string[] | undefined {
    const trimmed = value.trim();
    if (trimmed.startsWith("[")) {
        try {
            const parsed: unknown = JSON.parse(trimmed);
            if (Array.isArray(parsed) && parsed.every((item): item is string => typeof item === "string")) {
                return parsed.map((item) => item.trim());
            }
        } catch {
            // fall through: reported by the caller
        }
        return undefined;
    }
    return trimmed.split(/[\s,]+/).filter((item) => item.length > 0);
}
