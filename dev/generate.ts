// `npm run gen`: writes what is generated from the declaration of the settings (lib/config.ts):
// Pulumi.yaml's `config:` and `template: config:` sections, README's configuration table, and
// docs/changes.md's change-impact table (commands/impact.ts). Tests fail when a committed file differs
// from what this renders (test/projectFile.test.ts, test/readme.test.ts, test/changeImpact.test.ts).
import * as fs from "fs";
import * as path from "path";
import { configText, Setting, SETTINGS } from "../lib/config";
import { IMPACT_PAGE, impactRows, renderImpactTable, withImpactTable } from "../commands/impact";
import { PROJECT_ROOT } from "../model/mockEngine";

const declarations: readonly Setting<unknown>[] = Object.values(SETTINGS);

/** A block of a file between two marker lines (kept), replaced by generated text. */
interface Block {
    start: string;
    end: string;
}

export const PROJECT_CONFIG_BLOCK: Block = {
    start: "# config: generated from lib/config.ts by `npm run gen`; edit there.",
    end: "# end of generated config",
};
export const TEMPLATE_CONFIG_BLOCK: Block = {
    start: "  # template config: generated from lib/config.ts by `npm run gen`; edit there.",
    end: "  # end of generated template config",
};
export const README_SETTINGS_BLOCK: Block = {
    start: "<!-- settings:start (generated from lib/config.ts by `npm run gen`) -->",
    end: "<!-- settings:end -->",
};

/** The text with the block's content replaced; throws when the markers are missing. */
export function withBlock(text: string, block: Block, content: string): string {
    const start = text.indexOf(`${block.start}\n`);
    const end = text.indexOf(`${block.end}\n`, start);
    if (start < 0 || end < 0) throw new Error(`no generated block "${block.start}" ... "${block.end}"`);
    return `${text.slice(0, start + block.start.length + 1)}${content}${text.slice(end)}`;
}

/** Whether Pulumi.yaml declares the setting: the program's own keys, unless a reason says why not. */
export function declaredInProjectFile(setting: Setting<unknown>): boolean {
    return !setting.key.includes(":") && setting.notInProjectFile === undefined;
}

/** The default in words, for the README (markdown) and Pulumi.yaml (without the backticks). */
function defaultShown(setting: Setting<unknown>): string {
    return setting.defaultShown ?? `\`${configText(setting.default)}\``;
}

// JSON scalars and lists are YAML flow values: quoted strings stay strings in every YAML version
// ("19:00" would be a sexagesimal number to a YAML 1.1 reader).
const yamlValue = (value: unknown) => JSON.stringify(value);

/** A YAML comment, its words wrapped at 100 columns. */
function comment(text: string, indent: string): string[] {
    const lines: string[] = [];
    for (const word of text.split(" ")) {
        const last = lines.length - 1;
        if (last >= 0 && lines[last].length + word.length + 1 <= 100) lines[last] += ` ${word}`;
        else lines.push(`${indent}# ${word}`);
    }
    return lines;
}

/** Pulumi.yaml's `config:` section: each declared key with its type, default and description. */
export function renderProjectConfig(): string {
    const undeclared = declarations.filter((s) => !s.key.includes(":") && !declaredInProjectFile(s));
    const lines = ["config:", ...comment(`Every key is optional. Not declared here: ${undeclared.map((s) => `${s.key}, because ${s.notInProjectFile}`).join("; ")}.`, "  ")];
    for (const setting of declarations.filter(declaredInProjectFile)) {
        if (setting.type === "map" || setting.default === undefined) throw new Error(`${setting.key}: Pulumi.yaml needs a declarable type and a default (a declared key without one is required)`);
        lines.push(`  ${setting.key}:`, `    type: ${setting.type}`);
        if (setting.type === "array") lines.push("    items:", "      type: string");
        lines.push(`    default: ${yamlValue(setting.default)}`);
        lines.push(`    description: ${yamlValue(`${setting.description} Defaults to ${defaultShown(setting).replace(/`/g, "")}.`)}`);
    }
    return `${lines.join("\n")}\n`;
}

/** Pulumi.yaml's `template: config:`: what `pulumi new` asks for, with its default (a string, as Pulumi's template schema types it). */
export function renderTemplateConfig(): string {
    const lines = ["  config:"];
    for (const setting of declarations) {
        if (!setting.prompt) continue;
        lines.push(`    ${setting.key}:`, `      description: ${yamlValue(setting.prompt.description)}`);
        lines.push(`      default: ${yamlValue(setting.prompt.default ?? configText(setting.default))}`);
    }
    return `${lines.join("\n")}\n`;
}

/** The README's configuration table. */
export function renderSettingsTable(): string {
    const cell = (text: string) => text.replace(/\|/g, "\\|");
    const lines = ["| Key | Default | Rules |", "| --- | --- | --- |"];
    for (const setting of declarations) {
        const rules = setting.notInProjectFile && !setting.key.includes(":")
            ? `${setting.description} Not declared in \`Pulumi.yaml\`: ${setting.notInProjectFile}.`
            : setting.description;
        lines.push(`| \`${setting.key}\`${setting.secret ? " (secret)" : ""} | ${cell(defaultShown(setting))} | ${cell(rules)} |`);
    }
    return `${lines.join("\n")}\n`;
}

/** Pulumi.yaml as generated from its committed text. */
export function generatedProjectFile(text: string): string {
    return withBlock(withBlock(text, PROJECT_CONFIG_BLOCK, renderProjectConfig()), TEMPLATE_CONFIG_BLOCK, renderTemplateConfig());
}

async function main(): Promise<void> {
    const projectFile = path.join(PROJECT_ROOT, "Pulumi.yaml");
    const readmeFile = path.join(PROJECT_ROOT, "README.md");
    const readme = fs.readFileSync(readmeFile, "utf8");
    const files: [string, string, string][] = [
        [projectFile, fs.readFileSync(projectFile, "utf8"), generatedProjectFile(fs.readFileSync(projectFile, "utf8"))],
        [readmeFile, readme, withBlock(readme, README_SETTINGS_BLOCK, renderSettingsTable())],
        [IMPACT_PAGE, fs.readFileSync(IMPACT_PAGE, "utf8"), withImpactTable(fs.readFileSync(IMPACT_PAGE, "utf8"), renderImpactTable(await impactRows()))],
    ];
    for (const [file, before, after] of files) {
        if (after !== before) fs.writeFileSync(file, after);
        process.stdout.write(`${path.relative(PROJECT_ROOT, file)}: ${after === before ? "up to date" : "updated"}\n`);
    }
}

if (require.main === module) {
    main().catch((error: unknown) => {
        process.stderr.write(`error: ${error instanceof Error ? error.message : String(error)}\n`);
        process.exitCode = 2;
    });
}
