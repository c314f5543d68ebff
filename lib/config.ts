// Configuration: every setting the program reads, declared once, and the stack's raw config strings
// read by that declaration into a validated StackConfig. Each setting's key, type, default, rules,
// description, example change and whether the change guard watches it are in SETTINGS below; from
// it come validation and the StackConfig type (here), Pulumi.yaml's `config:` and `template:
// config:` sections, the README's configuration table and the change-impact examples (`npm run
// gen` writes those files, dev/generate.ts; tests fail when they differ).
// Pure: no resources, no Pulumi runtime calls. Every problem is collected and reported at once,
// before index.ts declares anything, so bad input creates nothing. One file on purpose: Pulumi's
// runner transpiles each TypeScript file at start-up, and a file costs more than its lines.
import { RunError } from "@pulumi/pulumi/errors";
import { parseIpv4Range } from "./ipv4";
import { parseTags } from "./tags";

/** The project's name in this repository; the config namespace unless `pulumi new` gave the copy another name. */
export const PROJECT = "cosmos-vm-identity";

export const WINDOWS_IMAGE_SKUS = [
    "2025-datacenter-azure-edition",
    "2025-datacenter-azure-edition-core",
    "2022-datacenter-azure-edition",
    "2022-datacenter-azure-edition-core",
] as const;
export type WindowsImageSku = (typeof WINDOWS_IMAGE_SKUS)[number];

/** Resource Manager endpoint (also the token resource) per `azure-native:environment`. */
export const RESOURCE_MANAGER_ENDPOINTS = {
    public: "https://management.azure.com/",
    usgovernment: "https://management.usgovcloudapi.net/",
    china: "https://management.chinacloudapi.cn/",
} as const;
export type AzureCloud = keyof typeof RESOURCE_MANAGER_ENDPOINTS;

export type AccessLevel = "readonly" | "readwrite";
/** keys: the tutorial's path (the identity reads account keys); rbac: Entra ID data-plane access, keys disabled. */
export type AccessMode = "keys" | "rbac";

/** A value as a stack sets it, and as Pulumi.yaml declares a default. */
export type ConfigValue = string | number | boolean | readonly string[] | Readonly<Record<string, string>>;

/** Records one broken rule of the value being read. */
export type Report = (message: string) => void;

export interface Setting<T> {
    /** The config key: short for the program's own (its namespace is the project's name), full for a provider's (`azure-native:location`). */
    key: string;
    /** Its type in Pulumi.yaml; a map cannot be declared there. */
    type: "string" | "integer" | "boolean" | "array" | "map";
    /** The default as a stack would set it, and as Pulumi.yaml declares it. Absent or "": unset (see `unset`, `sameAs`, `required`). */
    default?: ConfigValue;
    /** How the README and Pulumi.yaml word the default, when the value alone does not say it (markdown). */
    defaultShown?: string;
    /** When unset, the setting is this one's value (a StackConfig property read before it). */
    sameAs?: string;
    /** When unset, the value; with neither this nor a default nor `sameAs`, the setting is required. */
    unset?: () => T;
    /** Required: the message when it is unset. */
    required?: string;
    /** An empty value is checked as given, not taken as unset. */
    emptyIsGiven?: boolean;
    /** Set with `pulumi config set --secret`; never echoed in a message. */
    secret?: boolean;
    /** What it chooses and the rules it must meet (markdown): Pulumi.yaml's description and the README's Rules column. */
    description: string;
    /** Why Pulumi.yaml does not declare it, when it does not. */
    notInProjectFile?: string;
    /** `pulumi new` asks for it: the prompt, and its default when not the setting's own. */
    prompt?: { description: string; default?: string };
    /** One change from the defaults, for docs/changes.md (`npm run impact`). */
    example: { to: string; shown?: string };
    /** The change guard stops a change of it: one that deletes data (proceeds with an allowDataLoss entry), or one Azure refuses. */
    guard?: "dataLoss" | "refused";
    /** The typed value of a set (non-empty) value, every broken rule reported. */
    parse(text: string, report: Report): T;
}

type Guard = Setting<unknown>["guard"];

/** Declares one setting; the value type comes from its `parse`, and its guard stays a literal type (DataLossSetting). */
function setting<T, const G extends Guard = undefined>(declaration: Setting<T> & { guard?: G }): Setting<T> & { guard: G } {
    return declaration as Setting<T> & { guard: G };
}

/**
 * The settings, by their property name in StackConfig, in the order the README and Pulumi.yaml list
 * them. Messages quote the value, except a secret's.
 */
export const SETTINGS = {
    /** Azure region of everything but (optionally) the Cosmos account: `azure-native:location`. */
    location: setting({
        key: "azure-native:location",
        type: "string",
        required: "required: the Azure region to deploy to, e.g. `pulumi config set azure-native:location westeurope`",
        defaultShown: "(required)",
        description: "Azure region, e.g. `westeurope`. A change replaces every resource, the Cosmos DB account and its data included; it needs `allowDataLoss`.",
        prompt: { description: "The Azure region to deploy to (e.g. westeurope, eastus2, swedencentral).", default: "westeurope" },
        example: { to: "northeurope" },
        guard: "dataLoss",
        parse: region,
    }),
    vmSize: setting({
        key: "vmSize",
        type: "string",
        default: "Standard_B2als_v2",
        defaultShown: "`Standard_B2als_v2` (B-series v2, 2 vCPU, 4 GiB: cheap, and runs Windows well)",
        description: "An Azure VM size name.",
        example: { to: "Standard_B2as_v2" },
        parse: (text, report) => {
            if (!/^(Standard|Basic)_[A-Za-z0-9_]+$/.test(text)) report(`must be an Azure VM size name such as Standard_B2als_v2 (got "${text}")`);
            return text;
        },
    }),
    adminUsername: setting({
        key: "adminUsername",
        type: "string",
        default: "azureuser",
        description: "Local administrator name: at most 20 characters, no spaces or `\" / \\ [ ] : | < > + = ; , ? * @ & %`, not ending in `.`, not a name Azure reserves (`admin`, `administrator`, `root`, `user1`, ...).",
        example: { to: "cosmosadmin" },
        parse: (text, report) => {
            adminUsernameProblems(text).forEach(report);
            return text;
        },
    }),
    /** Set only when the stack provides the secret; otherwise the program generates one. */
    adminPassword: setting({
        key: "adminPassword",
        type: "string",
        secret: true,
        unset: () => undefined,
        defaultShown: "generated: 24 characters",
        description: "Local administrator password: 12 to 123 characters, three of lower, upper, digit, special; not a password Azure refuses (`P@ssw0rd`, ...); not containing the username. Set with `pulumi config set --secret adminPassword`.",
        notInProjectFile: "Pulumi treats a declared key without a default as required",
        example: { to: "Another-Secret-7", shown: "generated → set" },
        // Never echo the value: it is a secret. (Whether it holds the username: RELATIONS.)
        parse: (text: string, report): string | undefined => {
            adminPasswordProblems(text).forEach(report);
            return text;
        },
    }),
    windowsImageSku: setting({
        key: "windowsImageSku",
        type: "string",
        default: "2025-datacenter-azure-edition",
        description: `One of ${WINDOWS_IMAGE_SKUS.map((sku) => `\`${sku}\``).join(", ")} (Azure Edition images are Gen2, as Trusted Launch needs).`,
        example: { to: "2022-datacenter-azure-edition" },
        parse: oneOf(WINDOWS_IMAGE_SKUS, (text) => `must be one of ${WINDOWS_IMAGE_SKUS.join(", ")} (got "${text}")`),
    }),
    /** Normalised IPv4 CIDRs; empty means no inbound RDP at all. */
    rdpAllowedFrom: setting({
        key: "rdpAllowedFrom",
        type: "array",
        default: [],
        defaultShown: "`[]` (RDP closed)",
        description: "IPv4 addresses or CIDRs allowed to reach RDP (3389/tcp), as a list (`pulumi config set --path 'rdpAllowedFrom[0]' 203.0.113.7`) or a comma-separated string. Never `*`, `Internet`, `0.0.0.0/0` or anything wider than `/8`; no host bits set (`203.0.113.7/24` is refused: did you mean `203.0.113.0/24`?). With none, RDP is closed: run commands with `runOnVmCommand`.",
        example: { to: '["203.0.113.7"]' },
        parse: (text, report) => ipv4Ranges(text, report, false),
    }),
    /** `HHmm` as DevTestLab schedules want it, or undefined when auto-shutdown is off. */
    autoShutdownTime: setting({
        key: "autoShutdownTime",
        type: "string",
        default: "19:00",
        description: "Daily auto-shutdown time, `HH:MM` (24-hour), or `off`.",
        example: { to: "07:30" },
        parse: (text, report): string | undefined => {
            if (text.toLowerCase() === "off") return undefined;
            const match = /^([01]\d|2[0-3]):([0-5]\d)$/.exec(text);
            if (!match) report(`must be a 24-hour time HH:MM (00:00 to 23:59) or "off" (got "${text}")`);
            return match ? `${match[1]}${match[2]}` : undefined;
        },
    }),
    autoShutdownTimeZone: setting({
        key: "autoShutdownTimeZone",
        type: "string",
        default: "UTC",
        description: "The Windows time zone id of the auto-shutdown time, e.g. `W. Europe Standard Time`.",
        example: { to: "W. Europe Standard Time" },
        parse: (text, report) => {
            if (!/^[A-Za-z0-9][A-Za-z0-9 .()+\-]{0,63}$/.test(text)) report(`must be a Windows time zone id such as "UTC" or "W. Europe Standard Time" (got "${text}")`);
            return text;
        },
    }),
    cosmosLocation: setting({
        key: "cosmosLocation",
        type: "string",
        default: "",
        sameAs: "location",
        defaultShown: "the stack's location",
        description: "Region of the Cosmos DB account, when it should differ from `azure-native:location`: some regions refuse new accounts for capacity, and another region helps. Fixed once the account exists (the change guard stops a change; see docs/changes.md).",
        example: { to: "northeurope" },
        guard: "refused",
        parse: region,
    }),
    freeTier: setting({
        key: "freeTier",
        type: "boolean",
        default: false,
        description: "`true` or `false`: the Cosmos DB free tier (1000 RU/s and 25 GB free). One free-tier account per subscription; set at creation only (the change guard stops a change).",
        prompt: { description: "Apply the Cosmos DB free tier (one account per subscription; set at creation only)." },
        example: { to: "true" },
        guard: "refused",
        parse: boolean,
    }),
    databaseName: setting({
        key: "databaseName",
        type: "string",
        default: "Test",
        description: "Cosmos DB database id: 1 to 255 characters, none of `/ \\ # ?`, no trailing space. A change deletes the old database and its data; it needs `allowDataLoss`.",
        example: { to: "Orders" },
        guard: "dataLoss",
        parse: cosmosId,
    }),
    containerName: setting({
        key: "containerName",
        type: "string",
        default: "Test",
        description: "Cosmos DB container id, as `databaseName`. A change deletes the old container and its items; it needs `allowDataLoss`.",
        example: { to: "Orders" },
        guard: "dataLoss",
        parse: cosmosId,
    }),
    partitionKeyPath: setting({
        key: "partitionKeyPath",
        type: "string",
        default: "/id",
        description: "The container's partition key path: `/` and non-empty segments, e.g. `/address/zipCode`; no spaces or wildcards; at most 100 characters. Fixed for the container's life (the change guard stops a change).",
        example: { to: "/tenantId" },
        guard: "refused",
        parse: (text, report) => {
            partitionKeyPathProblems(text).forEach(report);
            return text;
        },
    }),
    throughput: setting({
        key: "throughput",
        type: "integer",
        default: 400,
        description: "The container's manual throughput in RU/s: at least 400, a multiple of 100, at most 1,000,000. Changes in place.",
        example: { to: "500" },
        parse: (text, report) => {
            const throughput = Number(text);
            if (!Number.isInteger(throughput)) {
                report(`must be a whole number of RU/s (got "${text}")`);
            } else {
                if (throughput < 400) report(`must be at least 400 RU/s, Cosmos DB's minimum for manual throughput (got ${throughput})`);
                if (throughput % 100 !== 0) report(`must be a multiple of 100 RU/s (got ${throughput})`);
                if (throughput > 1_000_000) report(`must be at most 1000000 RU/s without a support request (got ${throughput})`);
            }
            return throughput;
        },
    }),
    accessLevel: setting({
        key: "accessLevel",
        type: "string",
        default: "readonly",
        description: "`readonly`: Cosmos DB Account Reader Role, `readonlykeys`. `readwrite`: DocumentDB Account Contributor, `listKeys`. With `accessMode` `rbac`: Cosmos DB Built-in Data Reader or Contributor.",
        prompt: { description: '"readonly": read-only keys or data; "readwrite": all keys, or data writes.' },
        example: { to: "readwrite" },
        parse: oneOf(["readonly", "readwrite"] as const, (text) => `must be "readonly" (read-only keys) or "readwrite" (all keys) (got "${text}")`),
    }),
    accessMode: setting({
        key: "accessMode",
        type: "string",
        default: "keys",
        description: "`keys`: the tutorial's path, the VM's identity reads the account keys through Resource Manager. `rbac`: Entra ID data-plane access, keys disabled on the account (see docs/keyless.md).",
        prompt: { description: '"keys": the VM\'s identity reads the account keys (the tutorial); "rbac": Entra ID data access, keys disabled.' },
        example: { to: "rbac" },
        parse: oneOf(["keys", "rbac"] as const, (text) => `must be "keys" (the VM reads account keys) or "rbac" (Entra ID data-plane access, keys disabled) (got "${text}")`),
    }),
    /** Run the key-fetch script on the VM during `pulumi up`. */
    verifyOnDeploy: setting({
        key: "verifyOnDeploy",
        type: "boolean",
        default: true,
        description: "`true` or `false`: run the key-fetch script on the VM during `pulumi up` (Run Command) and fail the deployment if it fails.",
        example: { to: "false" },
        parse: boolean,
    }),
    /** Encrypt the VM's disks and caches at the host (needs the EncryptionAtHost feature registered). */
    encryptionAtHost: setting({
        key: "encryptionAtHost",
        type: "boolean",
        default: false,
        description: "`true` or `false`: encrypt the VM's temp disk and disk caches at the host. Needs the `Microsoft.Compute/EncryptionAtHost` feature registered on the subscription first (see docs/security.md).",
        example: { to: "true" },
        parse: boolean,
    }),
    /** Public IPv4 CIDRs admitted to the Cosmos DB account besides the VM's subnet (e.g. yours, for Data Explorer). */
    cosmosAllowedIps: setting({
        key: "cosmosAllowedIps",
        type: "array",
        default: [],
        description: "Public IPv4 addresses or CIDRs admitted to the Cosmos DB account besides the VM's subnet, e.g. your own for Data Explorer. Private ranges (10/8, 100.64/10, 172.16/12, 192.168/16) are refused: Cosmos DB's IP filter cannot enforce them.",
        example: { to: '["203.0.113.7"]' },
        parse: (text, report) => ipv4Ranges(text, report, true),
    }),
    /** Accept Cosmos DB connections from every network, as the tutorial's account does. */
    cosmosPublicAccess: setting({
        key: "cosmosPublicAccess",
        type: "boolean",
        default: false,
        defaultShown: "`false` (only the VM's subnet and `cosmosAllowedIps`)",
        description: "`true` opens the Cosmos DB account to every network, as the tutorial's is (not recommended: warns, and the policy pack refuses it). Not together with `cosmosAllowedIps`.",
        example: { to: "true" },
        parse: boolean,
    }),
    /** Changes allowed to delete data, each `<setting>:<old>-><new>` exactly as the change guard names it. */
    allowDataLoss: setting({
        key: "allowDataLoss",
        type: "string",
        default: "",
        unset: (): string[] => [],
        defaultShown: "none: such changes stop the update",
        description: "Lets one named change that deletes data proceed: the entry the change guard's message names, `<setting>:<old>-><new>` (e.g. `containerName:Test->Orders`), or a JSON list of them. Matches only that old and new value (see docs/changes.md).",
        example: { to: "containerName:Test->Orders" },
        // Exact entries, not patterns: each allows one named change (old and new value) and nothing else.
        parse: (text, report) => {
            const entries = parseOptIns(text);
            for (const entry of entries) {
                if (!DATA_LOSS_SETTINGS.some((name) => entry.startsWith(`${name}:`) && entry.includes("->", name.length + 1))) {
                    report(`"${entry}" is not a change to allow: copy the entry the change guard's message names, <setting>:<old>-><new> with setting one of ${DATA_LOSS_SETTINGS.join(", ")}, e.g. "containerName:Test->Orders"`);
                }
            }
            return entries;
        },
    }),
    /** The stack's own tags for every taggable resource (besides `project` and `stack`, which the program sets). */
    tags: setting({
        key: "tags",
        type: "map",
        default: {},
        defaultShown: "`{}` (none)",
        description: "Your own tags for every resource that takes tags, besides the `project` and `stack` tags the stack sets itself: `pulumi config set --path 'tags.costCenter' \"1234\"`. String values; at most 13 tags (Cosmos DB takes 15 per resource); names of at most 128 characters, unique without regard to case, without `< > % & \\ ? /`, not starting with `microsoft`, `azure` or `windows` (Azure's), not `project` or `stack`; values of at most 256 characters.",
        notInProjectFile: "its config types cannot describe a map",
        example: { to: '{"costCenter":"1234"}' },
        parse: (text, report) => {
            const parsed = parseTags(text);
            parsed.problems.forEach(report);
            return parsed.tags;
        },
    }),
    /** Azure cloud, from `azure-native:environment`. */
    cloud: setting({
        key: "azure-native:environment",
        type: "string",
        default: "public",
        emptyIsGiven: true,
        description: "`public`, `usgovernment` or `china`: picks the Resource Manager endpoint (and token resource) the script uses.",
        example: { to: "usgovernment" },
        parse: (text, report) => {
            const cloud = text.toLowerCase();
            if (isCloud(cloud)) return cloud;
            report(`must be one of ${Object.keys(RESOURCE_MANAGER_ENDPOINTS).join(", ")} (got "${text}")`);
            return "public";
        },
    }),
};

type Settings = typeof SETTINGS;
/** Each setting's value, by its StackConfig property name. */
export type SettingValues = { [K in keyof Settings]: Settings[K] extends Setting<infer T> ? T : never };
/** The validated configuration: each setting's value, optional where it may be unset. */
export type StackConfig = Optional<SettingValues>;
type Optional<T> = { [K in keyof T as undefined extends T[K] ? never : K]: T[K] } & { [K in keyof T as undefined extends T[K] ? K : never]?: T[K] };

/**
 * The settings whose change deletes data and may proceed only with an explicit, exact opt-in: an
 * allowDataLoss entry `<setting>:<old>-><new>` (lib/changeGuard.ts checks it against the stack's record).
 */
export type DataLossSetting = { [K in keyof Settings]: Settings[K] extends { guard: "dataLoss" } ? K : never }[keyof Settings];
export const DATA_LOSS_SETTINGS: readonly DataLossSetting[] = (Object.keys(SETTINGS) as (keyof Settings)[]).filter(isDataLossSetting);

function isDataLossSetting(name: keyof Settings): name is DataLossSetting {
    return SETTINGS[name].guard === "dataLoss";
}

/** A rule between settings, checked once each has been read on its own; its problems are reported on `name`'s key, after that setting's own. */
export interface Relation {
    name: keyof Settings;
    problems(values: SettingValues): string[];
}

export const RELATIONS: readonly Relation[] = [
    {
        name: "adminPassword",
        problems: ({ adminPassword, adminUsername }) => adminPassword !== undefined && adminUsername.length >= 3 && adminPassword.toLowerCase().includes(adminUsername.toLowerCase())
            ? ["must not contain the admin username (Windows refuses it)"]
            : [],
    },
    {
        name: "cosmosAllowedIps",
        problems: ({ cosmosAllowedIps, cosmosPublicAccess }) => cosmosPublicAccess && cosmosAllowedIps.length > 0
            ? ["has no effect with cosmosPublicAccess: true (every network is admitted); remove one of them"]
            : [],
    },
];

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

const NAMES = Object.keys(SETTINGS) as (keyof typeof SETTINGS)[];
const declarations: readonly Setting<unknown>[] = Object.values(SETTINGS);

/** Keys this program reads in its own namespace (the short ones), in the order of the declaration. */
export const CONFIG_KEYS: readonly string[] = declarations.map((s) => s.key).filter((key) => !key.includes(":"));

/** A setting's full key in a project: its own keys take the project's namespace. */
export function fullKey(key: string, project: string = PROJECT): string {
    return key.includes(":") ? key : `${project}:${key}`;
}

/** A default as the CLI hands it to the program: strings as they are, anything else as JSON. */
export function configText(value: unknown): string {
    return typeof value === "string" ? value : JSON.stringify(value);
}

/**
 * Validates the raw config map (full keys such as `cosmos-vm-identity:throughput`, values as Pulumi
 * stores them: strings, lists as JSON) and returns the typed configuration, or throws one
 * ConfigError naming every problem, grouped by key in the declaration's order. `project` is the
 * namespace of the program's own keys: the project's name, which `pulumi new` sets to whatever the
 * user chose.
 */
export function parseConfig(raw: Readonly<Record<string, string | undefined>>, project: string = PROJECT): StackConfig {
    const problems: ConfigProblem[] = [];
    for (const key of Object.keys(raw)) {
        if (key.startsWith(`${project}:`) && !CONFIG_KEYS.includes(key.slice(project.length + 1))) {
            problems.push({ key, message: `unknown key; the keys are ${CONFIG_KEYS.join(", ")}` });
        }
    }

    const values: Record<string, unknown> = {};
    const found = new Map<string, string[]>();
    for (const name of NAMES) {
        const declaration: Setting<unknown> = SETTINGS[name];
        const messages: string[] = [];
        const report = (message: string) => void messages.push(message);
        // An empty value is unset (as Pulumi.yaml's "" defaults mean), unless the setting checks it as given.
        const given = raw[fullKey(declaration.key, project)];
        const fallback = declaration.default === undefined ? "" : configText(declaration.default);
        const text = given !== undefined && (given !== "" || declaration.emptyIsGiven) ? given : fallback !== "" ? fallback : undefined;
        if (text !== undefined) values[name] = declaration.parse(text, report);
        else if (declaration.sameAs !== undefined) values[name] = values[declaration.sameAs];
        else if (declaration.unset !== undefined) values[name] = declaration.unset();
        else report(declaration.required ?? "required");
        found.set(name, messages);
    }
    // Relations read every value as read, a broken one included (as its fallback); any problem throws below.
    const settings = values as SettingValues;
    for (const relation of RELATIONS) found.get(relation.name)!.push(...relation.problems(settings));
    for (const name of NAMES) {
        for (const message of found.get(name)!) problems.push({ key: fullKey(SETTINGS[name].key, project), message });
    }

    if (problems.length > 0) throw new ConfigError(problems);
    return settings;
}

// ---------------------------------------------------------------------------------------------
// Rules, as Azure applies them.

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

/** Windows local admin rules as Azure applies them to `osProfile.adminUsername`. */
export function adminUsernameProblems(name: string): string[] {
    const problems: string[] = [];
    if (name.length > 20) problems.push(`must be at most 20 characters (got ${name.length})`);
    if (name.endsWith(".")) problems.push("must not end with a period");
    if (/["\/\\\[\]:|<>+=;,?*@&%\s]/.test(name)) problems.push('must not contain spaces or any of " / \\ [ ] : | < > + = ; , ? * @ & %');
    if (RESERVED_USERNAMES.has(name.toLowerCase())) problems.push(`"${name}" is a name Azure reserves; choose another (default ${SETTINGS.adminUsername.default})`);
    return problems;
}

/** Azure's VM password rules: 12 to 123 characters, three of four character classes, not a known weak password (the username: RELATIONS). */
export function adminPasswordProblems(password: string): string[] {
    const problems: string[] = [];
    if (password.length < 12 || password.length > 123) problems.push(`must be 12 to 123 characters long (got ${password.length})`);
    const classes = [/[a-z]/, /[A-Z]/, /[0-9]/, /[^A-Za-z0-9]/].filter((re) => re.test(password)).length;
    if (classes < 3) problems.push("must contain three of: a lowercase letter, an uppercase letter, a digit, a special character");
    if (DISALLOWED_PASSWORDS.has(password)) problems.push("is one of the common passwords Azure refuses");
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

/** A partition key path: `/` then one or more non-empty segments, e.g. `/id` or `/address/zip`; at most 100 characters. */
export function partitionKeyPathProblems(path: string): string[] {
    if (!path.startsWith("/")) return [`must start with "/" (got "${path}")`];
    if (!/^(\/[^\/\s*?]+)+$/.test(path)) return [`must be "/" followed by non-empty path segments without spaces or wildcards, e.g. /id (got "${path}")`];
    if (path.length > 100) return [`must be at most 100 characters (got ${path.length})`];
    return [];
}

// ---------------------------------------------------------------------------------------------
// Readers: a set value's text to its typed value.

function region(text: string, report: Report): string {
    // Resource Manager accepts both "westeurope" and the display form "West Europe".
    if (!/^[A-Za-z][A-Za-z0-9 ]{1,40}$/.test(text)) report(`must be an Azure region name such as westeurope (got "${text}")`);
    return text;
}

function cosmosId(text: string, report: Report): string {
    cosmosIdProblems(text).forEach(report);
    return text;
}

/** `true` or `false`, as Pulumi stores a boolean; anything else is reported (and read as false). */
function boolean(text: string, report: Report): boolean {
    if (text !== "true" && text !== "false") report(`must be true or false (got "${text}")`);
    return text === "true";
}

function oneOf<const V extends string>(values: readonly V[], message: (text: string) => string): (text: string, report: Report) => V {
    return (text, report) => {
        const value = values.find((candidate) => candidate === text);
        if (value === undefined) report(message(text));
        return value ?? values[0];
    };
}

function isCloud(value: string): value is AzureCloud {
    return value in RESOURCE_MANAGER_ENDPOINTS;
}

/** IPv4 addresses or CIDRs, normalised; `publicOnly` refuses private ranges (Cosmos DB's IP filter cannot enforce them). */
function ipv4Ranges(text: string, report: Report, publicOnly: boolean): string[] {
    const entries = parseList(text);
    if (entries === undefined) {
        report('must be a list of IPv4 addresses or CIDRs, e.g. ["203.0.113.7"] or "203.0.113.7,198.51.100.0/24"');
        return [];
    }
    const ranges: string[] = [];
    for (const entry of entries) {
        const range = parseIpv4Range(entry);
        if (!range.ok) report(`"${entry}" ${range.error}`);
        else if (publicOnly && range.privateRange) report(`"${entry}" is in the private range ${range.privateRange}, which Cosmos DB's IP filter cannot enforce; the VM's subnet is admitted already`);
        else ranges.push(range.cidr);
    }
    return ranges;
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
