// Configuration: the stack's raw config strings in, a validated StackConfig out, read by the
// declaration of every setting (lib/settings.ts). Pure: no resources, no Pulumi runtime calls.
// Every problem is collected and reported at once, before index.ts declares anything, so bad input
// creates nothing.
import { RunError } from "@pulumi/pulumi/errors";
import { RELATIONS, Setting, SETTINGS, SettingValues } from "./settings";

export { DATA_LOSS_SETTINGS, RESOURCE_MANAGER_ENDPOINTS, SETTINGS, WINDOWS_IMAGE_SKUS } from "./settings";
export type { AccessLevel, AccessMode, AzureCloud, DataLossSetting, WindowsImageSku } from "./settings";

/** The project's name in this repository; the config namespace unless `pulumi new` gave the copy another name. */
export const PROJECT = "cosmos-vm-identity";

/** The validated configuration: each setting's value (lib/settings.ts), optional where it may be unset. */
export type StackConfig = Optional<SettingValues>;
type Optional<T> = { [K in keyof T as undefined extends T[K] ? never : K]: T[K] } & { [K in keyof T as undefined extends T[K] ? K : never]?: T[K] };

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
        const given = raw[fullKey(declaration.key, project)];
        const text = [given, declaration.default === undefined ? undefined : configText(declaration.default)]
            .find((value) => value !== undefined && (value !== "" || (declaration.emptyIsGiven && value === given)));
        if (text !== undefined) values[name] = declaration.parse(text, report);
        else if (declaration.sameAs !== undefined) values[name] = values[declaration.sameAs];
        else if (declaration.unset !== undefined) values[name] = declaration.unset();
        else report(declaration.required ?? "required");
        found.set(name, messages);
    }
    // Nothing reads a value of a setting with problems: any problem throws below.
    const settings = values as SettingValues;
    for (const relation of RELATIONS) found.get(relation.name)!.push(...relation.problems(settings));
    for (const name of NAMES) {
        for (const message of found.get(name)!) problems.push({ key: fullKey(SETTINGS[name].key, project), message });
    }

    if (problems.length > 0) throw new ConfigError(problems);
    return settings;
}
