// `npm run impact [-- --update-docs]`: what a change of each config key does to an existing stack.
// Evaluates the program under Pulumi's mocks before and after each change and classifies every
// resource's change with azure-native's rules (model/replacementRules.ts) and the resource options
// the program sets (ignoreChanges, replaceOnChanges, replacementTrigger, deleteBeforeReplace). docs/changes.md's table
// "What a change does" is this output; test/changeImpact.test.ts keeps the two equal.
import * as fs from "fs";
import * as path from "path";
import { checkChanges, DEPLOYED_SETTINGS_OUTPUT, DeployedSettings, previousRecordFrom } from "../lib/changeGuard";
import { configText, PROJECT, Setting, SETTINGS } from "../lib/config";
import { ChangeKind, classifyChanges, ResourceChange } from "../model/changeClassification";
import { Evaluation, evaluateProgram, PROJECT_ROOT } from "../model/mockEngine";
import { PLAN_AZURE } from "../model/planAzure";

// The table: one example change per config key, from the defaults of a stack in westeurope.
export const BASE_CONFIG: Readonly<Record<string, string>> = { "azure-native:location": "westeurope" };

export interface ExampleChange {
    /** Full key for azure-native's, short for the project's own. */
    key: string;
    to: string;
    /** How the old and new values are shown, when not the values themselves. */
    shown?: string;
    secret?: boolean;
}

/** One example change per setting, as lib/config.ts declares it, in its order. */
export const EXAMPLE_CHANGES: readonly ExampleChange[] = Object.values(SETTINGS).map((setting: Setting<unknown>) => ({
    key: setting.key, to: setting.example.to, shown: setting.example.shown, secret: setting.secret,
}));

export function configFor(change: ExampleChange): { config: Record<string, string>; secretKeys: string[] } {
    const fullKey = change.key.includes(":") ? change.key : PROJECT + ":" + change.key;
    return { config: { ...BASE_CONFIG, [fullKey]: change.to }, secretKeys: change.secret ? [fullKey] : [] };
}

/** Evaluations memoized by configuration: each distinct configuration is evaluated once per process. */
export function memoizedEvaluator(evaluate = (config: Record<string, string>, secretKeys: string[]) => evaluateProgram(config, PLAN_AZURE, { secretKeys })) {
    const cache = new Map<string, Promise<Evaluation>>();
    let queue: Promise<unknown> = Promise.resolve();
    return (config: Readonly<Record<string, string>>, secretKeys: string[] = []): Promise<Evaluation> => {
        const key = JSON.stringify([Object.entries(config).sort(), [...secretKeys].sort()]);
        let evaluation = cache.get(key);
        if (!evaluation) {
            // Evaluations share Pulumi's global runtime state: one at a time.
            evaluation = queue.then(() => evaluate({ ...config }, secretKeys));
            queue = evaluation.catch(() => undefined);
            cache.set(key, evaluation);
        }
        return evaluation;
    };
}

export interface ImpactRow {
    change: ExampleChange;
    changes: ResourceChange[];
    /** What the change guard says about it: the messages that stop the update, none when it passes. */
    guard: { key: string; optIn?: string }[];
}

export async function impactRows(evaluate = memoizedEvaluator()): Promise<ImpactRow[]> {
    const before = await evaluate(BASE_CONFIG);
    if (before.error !== undefined) throw before.error;
    const rows: ImpactRow[] = [];
    for (const change of EXAMPLE_CHANGES) {
        const { config, secretKeys } = configFor(change);
        const after = await evaluate(config, secretKeys);
        if (after.error !== undefined) throw after.error;
        const previous = previousRecordFrom({ [DEPLOYED_SETTINGS_OUTPUT]: before.outputs[DEPLOYED_SETTINGS_OUTPUT]?.value });
        const next = after.outputs[DEPLOYED_SETTINGS_OUTPUT]?.value as DeployedSettings;
        const guard = checkChanges(previous, next, []).problems.map(({ key, optIn }) => ({ key, optIn }));
        rows.push({ change, changes: classifyChanges(before, after), guard });
    }
    return rows;
}

const NOUNS: Record<string, string> = {
    "azure-native:resources:ResourceGroup": "resource group",
    "azure-native:network:NetworkSecurityGroup": "NSG",
    "azure-native:network:VirtualNetwork": "virtual network",
    "azure-native:network:Subnet": "subnet",
    "azure-native:network:PublicIPAddress": "public IP",
    "azure-native:network:NetworkInterface": "NIC",
    "azure-native:compute:VirtualMachine": "VM",
    "azure-native:compute:VirtualMachineExtension": "guest attestation extension",
    "azure-native:compute:VirtualMachineRunCommandByVirtualMachine": "Run Command",
    "azure-native:devtestlab:GlobalSchedule": "auto-shutdown schedule",
    "azure-native:cosmosdb:DatabaseAccount": "Cosmos DB account",
    "azure-native:cosmosdb:SqlResourceSqlDatabase": "database",
    "azure-native:cosmosdb:SqlResourceSqlContainer": "container",
    "azure-native:cosmosdb:SqlResourceSqlRoleAssignment": "Cosmos DB data role assignment",
    "azure-native:authorization:RoleAssignment": "role assignment",
    "random:index/randomPassword:RandomPassword": "generated password",
};

/** What replacing a resource of the type costs, beyond a new resource; the most costly first. */
const REPLACEMENT_COST: Record<string, string> = {
    "azure-native:cosmosdb:DatabaseAccount": "every database, container and item is deleted; new name, endpoint and keys",
    "azure-native:cosmosdb:SqlResourceSqlDatabase": "with its container and every item",
    "azure-native:cosmosdb:SqlResourceSqlContainer": "with every item",
    "azure-native:compute:VirtualMachine": "new OS disk and identity: anything saved on the VM is lost",
    "azure-native:network:PublicIPAddress": "new address",
};

const noun = (change: ResourceChange) => NOUNS[change.type] ?? change.type;

function list(items: string[]): string {
    return items.length <= 1 ? items.join("") : `${items.slice(0, -1).join(", ")} and ${items[items.length - 1]}`;
}

/** The table cell: what `pulumi up` does, most drastic first. */
export function describeChanges(changes: ResourceChange[]): string {
    const of = (kind: ChangeKind) => changes.filter((c) => c.kind === kind);
    const parts: string[] = [];
    const refused = of("refused");
    if (refused.length > 0) {
        parts.push(`**Refused by Azure**: ${list(refused.map((c) => `the ${noun(c)} (\`${c.reasons.map((r) => r.replace("refused in place ", "")).join("`, `")}\`)`))} cannot change in place; the update would fail there`);
    }
    const replaced = of("replace");
    if (replaced.length > 0) {
        const named = (c: ResourceChange) => `the ${noun(c)}${REPLACEMENT_COST[c.type] ? ` (${REPLACEMENT_COST[c.type]})` : ""}`;
        const azure = changes.filter((c) => c.type.startsWith("azure-native:"));
        const createdFirst = replaced.filter((c) => !c.deleteBeforeReplace);
        const deletedFirst = replaced.filter((c) => c.deleteBeforeReplace);
        if (azure.every((c) => c.kind === "replace")) {
            // A new resource group: every name, id and identity below it is new.
            const costly = Object.keys(REPLACEMENT_COST).flatMap((type) => replaced.filter((c) => c.type === type));
            parts.push(`**Replaces every Azure resource**, among them ${list(costly.map(named))}`);
        } else {
            const deleting = `deleting ${deletedFirst.length === 1 ? "it" : "each"} first, ${list(deletedFirst.map(named))}`;
            if (createdFirst.length === 0) parts.push(`**Replaces**, ${deleting}`);
            else parts.push(`**Replaces** ${list(createdFirst.map(named))}${deletedFirst.length > 0 ? `; and, ${deleting}` : ""}`);
        }
    }
    if (of("delete").length > 0) parts.push(`**Deletes** ${list(of("delete").map((c) => `the ${noun(c)}`))}`);
    if (of("create").length > 0) parts.push(`Creates ${list(of("create").map((c) => `the ${noun(c)}`))}`);
    const updated = of("update");
    if (updated.length > 0) {
        const shown = (c: ResourceChange) => [...new Set(c.paths.map((p) => p.replace(/\[\d+\].*$/, "").split(".").slice(0, 2).join(".")))];
        parts.push(`Updates in place ${list(updated.map((c) => `the ${noun(c)} (\`${shown(c).join("`, `")}\`)`))}`);
    }
    return parts.length > 0 ? `${parts.join(". ")}.` : "Nothing changes.";
}

function describeGuard(row: ImpactRow): string {
    if (row.guard.length === 0) return "—";
    return row.guard.map((g) => (g.optIn ? `Stops it; proceeds with \`allowDataLoss\` = \`${g.optIn}\`` : "Stops it (Azure refuses it)")).join("; ");
}

function shownChange(change: ExampleChange): string {
    if (change.shown) return change.shown;
    // From the base stack's value, or the setting's default ("" is unset).
    const setting = Object.values(SETTINGS).find((s: Setting<unknown>) => s.key === change.key);
    const from = BASE_CONFIG[change.key] ?? (setting?.default === undefined ? "" : configText(setting.default));
    return `\`${from === "" ? "(unset)" : from}\` → \`${change.to}\``;
}

export function renderImpactTable(rows: ImpactRow[]): string {
    const lines = [
        "| Setting | Example change | What `pulumi up` does to an existing stack | Change guard |",
        "| --- | --- | --- | --- |",
        ...rows.map((row) => `| \`${row.change.key}\` | ${shownChange(row.change)} | ${describeChanges(row.changes)} | ${describeGuard(row)} |`),
    ];
    return `${lines.join("\n")}\n`;
}

const TABLE_START = "<!-- change-impact:start (generated by `npm run impact -- --update-docs`) -->";
const TABLE_END = "<!-- change-impact:end -->";

/** The page that holds the change-impact table (docs/changes.md). */
export const IMPACT_PAGE = path.join(PROJECT_ROOT, "docs", "changes.md");

/** The page with its change-impact block replaced by this table. */
export function withImpactTable(page: string, table: string): string {
    const start = page.indexOf(TABLE_START);
    const end = page.indexOf(TABLE_END);
    if (start < 0 || end < start) throw new Error("docs/changes.md has no change-impact block markers");
    return `${page.slice(0, start)}${TABLE_START}\n${table}${page.slice(end)}`;
}

async function main(argv: string[]): Promise<void> {
    const table = renderImpactTable(await impactRows());
    process.stdout.write(table);
    if (argv.includes("--update-docs")) {
        fs.writeFileSync(IMPACT_PAGE, withImpactTable(fs.readFileSync(IMPACT_PAGE, "utf8"), table));
        process.stdout.write("docs/changes.md change-impact table updated\n");
    }
}

if (require.main === module) {
    main(process.argv.slice(2)).catch((error: unknown) => {
        process.stderr.write(`error: ${error instanceof Error ? error.message : String(error)}\n`);
        process.exitCode = 2;
    });
}
