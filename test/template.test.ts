// `pulumi new <this repository>`: Pulumi.yaml's template section against the program. Every prompt
// names a key the program reads, every prompted default passes the program's own validation, the
// stack the defaults make deploys under mocks, and a project renamed by `pulumi new` still reads
// its settings.
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, it } from "node:test";
import { parse } from "yaml";
import { isDeepStrictEqual } from "node:util";
import { CONFIG_KEYS, ConfigError, parseConfig } from "../lib/config";
import { evaluate, evaluateOnce, PROJECT_ROOT } from "./harness";

interface Prompt { description?: unknown; default?: unknown; secret?: unknown }
interface Template { description?: unknown; quickstart?: unknown; config?: Record<string, Prompt> }
interface ProjectFile { name: string; config: Record<string, { default?: unknown }>; template?: Template }

const project = parse(fs.readFileSync(path.join(PROJECT_ROOT, "Pulumi.yaml"), "utf8")) as ProjectFile;

/** Provider keys the program reads (lib/config.ts); a prompt may set these besides the program's own. */
const PROVIDER_KEYS = ["azure-native:location", "azure-native:environment"];
/** The fields Pulumi's project schema allows in `template:` (sdk/go/common/workspace/project.json). */
const TEMPLATE_FIELDS = ["description", "quickstart", "config", "important"];
const LOCATION_KEY = "azure-native:location";

/** A prompt's key as the CLI stores it in a project named `projectName`: short keys take its namespace. */
function fullKey(key: string, projectName: string): string {
    return key.includes(":") ? key : `${projectName}:${key}`;
}

/** What the CLI hands the program for a new stack: the declared defaults, then the prompted values. */
function newStackConfig(file: ProjectFile, projectName = file.name): Record<string, string> {
    const config: Record<string, string> = {};
    for (const [key, declaration] of Object.entries(file.config)) {
        const value = declaration.default;
        config[fullKey(key, projectName)] = typeof value === "string" ? value : JSON.stringify(value);
    }
    for (const [key, prompt] of Object.entries(file.template?.config ?? {})) {
        if (typeof prompt.default === "string") config[fullKey(key, projectName)] = prompt.default;
    }
    return config;
}

function validationProblems(config: Record<string, string>, projectName: string): string[] {
    try {
        parseConfig(config, projectName);
        return [];
    } catch (error) {
        if (!(error instanceof ConfigError)) throw error;
        return error.problems.map((p) => `${p.key}: ${p.message}`);
    }
}

/** Every way the template section disagrees with the program, one line each; empty when it agrees. */
function templateProblems(file: ProjectFile): string[] {
    const problems: string[] = [];
    const template = file.template;
    if (!template) return ["Pulumi.yaml has no template section"];
    for (const field of Object.keys(template)) {
        if (!TEMPLATE_FIELDS.includes(field)) problems.push(`template.${field}: not a field of Pulumi's template schema`);
    }
    if (typeof template.description !== "string" || template.description.length < 20) problems.push("template.description: missing");
    if (typeof template.quickstart !== "string" || template.quickstart.length < 20) problems.push("template.quickstart: missing");
    const prompts = template.config ?? {};
    const locationPrompt = prompts[LOCATION_KEY];
    if (!locationPrompt) problems.push(`template.config: no prompt for ${LOCATION_KEY}, the one setting a stack must have`);
    const location = typeof locationPrompt?.default === "string" ? locationPrompt.default : "westeurope";
    for (const [key, prompt] of Object.entries(prompts)) {
        const name = key.startsWith(`${file.name}:`) ? key.slice(file.name.length + 1) : key;
        const programKey = (CONFIG_KEYS as readonly string[]).includes(name);
        if (!programKey && !PROVIDER_KEYS.includes(key)) {
            problems.push(`template.config.${key}: the program reads no such key (lib/config.ts CONFIG_KEYS, or ${PROVIDER_KEYS.join(", ")})`);
            continue;
        }
        if (typeof prompt.description !== "string" || prompt.description.length < 10) problems.push(`template.config.${key}: no description`);
        if (name === "adminPassword" && prompt.secret !== true) problems.push(`template.config.${key}: a password prompt must be secret: true`);
        if (prompt.default === undefined) continue;
        if (typeof prompt.default !== "string") {
            problems.push(`template.config.${key}: default must be a string (Pulumi's template schema), got ${JSON.stringify(prompt.default)}`);
            continue;
        }
        // The default alone, on a stack that sets nothing else, must pass the program's validation.
        const config = { [LOCATION_KEY]: location, [fullKey(key, file.name)]: prompt.default };
        const refused = validationProblems(config, file.name);
        for (const problem of refused) problems.push(`template.config.${key}: default "${prompt.default}" fails validation: ${problem}`);
        // And a newcomer who presses Enter gets what the program does when the key is left unset.
        if (programKey && refused.length === 0) {
            const value = (settings: object) => (settings as Record<string, unknown>)[name];
            const unset = value(parseConfig({ [LOCATION_KEY]: location }, file.name));
            if (!isDeepStrictEqual(value(parseConfig(config, file.name)), unset)) {
                problems.push(`template.config.${key}: default "${prompt.default}" is not the program's default "${String(unset)}"`);
            }
        }
    }
    return problems;
}

/** A copy of the project file with one template prompt replaced. */
function withPrompt(key: string, prompt: Prompt): ProjectFile {
    const copy = structuredClone(project);
    copy.template!.config = { ...copy.template!.config, [key]: prompt };
    return copy;
}

// A project made by `pulumi new` has no template section any more: these checks are for the template.
const consumed = project.template === undefined && "this project was made by pulumi new, which drops the template section";

describe("Pulumi.yaml template section (pulumi new)", { skip: consumed }, () => {
    it("agrees with the program: known keys, descriptions, defaults that pass validation", () => {
        assert.deepEqual(templateProblems(project), []);
        assert.ok(Object.keys(project.template!.config!).length >= 2, "prompts for the location and at least one choice");
    });

    it("the check itself catches a default the program refuses, an unknown key and a non-string default", () => {
        assert.match(templateProblems(withPrompt("accessMode", { description: "the access mode", default: "keyless" })).join("\n"),
            /template\.config\.accessMode: default "keyless" fails validation: cosmos-vm-identity:accessMode: must be "keys"/);
        assert.match(templateProblems(withPrompt("throughput", { description: "RU/s of the container", default: "450" })).join("\n"),
            /template\.config\.throughput: default "450" fails validation: .*multiple of 100/);
        assert.match(templateProblems(withPrompt("vmSku", { description: "the size of the VM", default: "Standard_B2als_v2" })).join("\n"),
            /template\.config\.vmSku: the program reads no such key/);
        assert.match(templateProblems(withPrompt("freeTier", { description: "free tier", default: false })).join("\n"),
            /template\.config\.freeTier: default must be a string/);
        assert.match(templateProblems(withPrompt("accessLevel", { description: "the access level", default: "readwrite" })).join("\n"),
            /template\.config\.accessLevel: default "readwrite" is not the program's default "readonly"/);
    });

    it("the stack pulumi new makes with every default deploys as it is", async () => {
        const stack = await evaluateOnce(newStackConfig(project));
        assert.equal(stack.error, undefined, String(stack.error));
        assert.ok(stack.resources.length > 10);
    });

    it("docs/template.md lists the prompts with their defaults", () => {
        const page = fs.readFileSync(path.join(PROJECT_ROOT, "docs", "template.md"), "utf8");
        const start = page.indexOf("# Start your own project: `pulumi new`\n");
        assert.ok(start >= 0, "docs/template.md has a pulumi new section");
        const rows = page.slice(start).split("\n")
            .filter((line) => /^\| `/.test(line))
            .map((line) => line.split("|").slice(1, 3).map((cell) => cell.trim().replace(/^`|`$/g, "")));
        const prompts = Object.entries(project.template!.config!).map(([key, prompt]) => [key, String(prompt.default)]);
        assert.deepEqual(rows, prompts);
    });

    it("the quickstart's commands name real outputs and the policy pack", async () => {
        const quickstart = String(project.template!.quickstart);
        const stack = await evaluateOnce(newStackConfig(project));
        const outputs = [...quickstart.matchAll(/pulumi stack output (\w+)/g)].map((m) => m[1]);
        assert.ok(outputs.includes("verification"), "shows the deploy-time proof");
        for (const output of outputs) assert.ok(output in stack.outputs, `the quickstart shows ${output}, which the stack does not export`);
        assert.match(quickstart, /pulumi up --policy-pack policy\b/);
        assert.ok(fs.existsSync(path.join(PROJECT_ROOT, "policy", "PulumiPolicy.yaml")));
        assert.match(quickstart, /pulumi destroy/);
    });
});

describe("what pulumi new does to the copy", () => {
    it("a project renamed by pulumi new reads its settings from its own namespace", async () => {
        // `pulumi new --name my-cosmos` renames the project: every short key becomes my-cosmos:<key>.
        const renamed = { ...newStackConfig(project, "my-cosmos"), [LOCATION_KEY]: "westeurope", "my-cosmos:accessMode": "rbac", "my-cosmos:throughput": "800" };
        const stack = await evaluate(renamed, { project: "my-cosmos" });
        assert.equal(stack.error, undefined, String(stack.error));
        assert.equal(stack.outputs.accessMode.value, "rbac");
        const container = stack.resources.find((r) => r.type === "azure-native:cosmosdb:SqlResourceSqlContainer");
        assert.equal(container?.inputs.options?.throughput, 800);

        const typo = await evaluate({ ...renamed, "my-cosmos:acessMode": "rbac" }, { project: "my-cosmos" });
        assert.ok(typo.error instanceof ConfigError, String(typo.error));
        assert.match(typo.error.message, /my-cosmos:acessMode: unknown key/);
    });

    it("no file holds the two placeholders pulumi new rewrites in every file it copies", () => {
        // $ + {PROJECT} and $ + {DESCRIPTION} (spelt apart here, or this file would hold them): a
        // template literal of PROJECT would become the project's name, its import unused, tsc red.
        const placeholders = ["PROJECT", "DESCRIPTION"].map((word) => "$" + "{" + word + "}");
        const skip = new Set(["node_modules", ".git", "bin", ".e2e", ".bench", ".scratch", ".pulumi"]);
        const offenders: string[] = [];
        const walk = (dir: string) => {
            for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
                if (skip.has(entry.name)) continue;
                const file = path.join(dir, entry.name);
                if (entry.isDirectory()) walk(file);
                else if (placeholders.some((placeholder) => fs.readFileSync(file, "latin1").includes(placeholder))) offenders.push(path.relative(PROJECT_ROOT, file));
            }
        };
        walk(PROJECT_ROOT);
        assert.deepEqual(offenders, []);
    });
});

