// Pulumi.yaml and the program agree: every key declared with type, description and the program's
// own default (mocks and the program never see Pulumi.yaml's defaults, the CLI does). Its config and
// template sections are generated from lib/config.ts (`npm run gen`).
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, it } from "node:test";
import { parse } from "yaml";
import { CONFIG_KEYS, parseConfig, PROJECT } from "../lib/config";
import { generatedProjectFile } from "../dev/generate";
import { evaluateOnce, PROJECT_ROOT } from "./harness";

interface Declaration { type: string; description?: string; default?: unknown; items?: { type: string }; secret?: boolean }
const projectText = fs.readFileSync(path.join(PROJECT_ROOT, "Pulumi.yaml"), "utf8");
const project = parse(projectText) as {
    name: string; requiredPulumiVersion?: string; runtime: { name: string; options: Record<string, unknown> }; config: Record<string, Declaration>;
};
// Declared keys without a default are required by the CLI, so adminPassword (a secret, generated when
// unset) stays undeclared; so does tags, a map, which project config types (string, integer, boolean,
// array) cannot describe.
const UNDECLARED = ["adminPassword", "tags"];

/** The config the CLI hands the program for a stack that sets only `extra`: declared defaults filled in. */
function cliConfig(extra: Record<string, string>): Record<string, string> {
    const config: Record<string, string> = {};
    for (const [key, declaration] of Object.entries(project.config)) {
        // The CLI namespaces a project's keys with the project's name.
        config[`${project.name}:${key}`] = typeof declaration.default === "string" ? declaration.default : JSON.stringify(declaration.default);
    }
    return { ...config, ...extra };
}

describe("Pulumi.yaml", () => {
    it("names the project and runs TypeScript on Node.js", () => {
        assert.equal(project.name, PROJECT);
        assert.equal(project.runtime.name, "nodejs");
        assert.equal(project.runtime.options.typescript, true);
    });

    it("requires a CLI that handles replacementTrigger without spurious replacements (3.226.0), as the README says", async () => {
        // replacementTrigger: engine 3.208; previews replaced spuriously before 3.226 (pulumi/pulumi#22119).
        assert.equal(project.requiredPulumiVersion, ">=3.226.0");
        const stack = await evaluateOnce({ "azure-native:location": "westeurope" });
        assert.ok(stack.resources.some((r) => r.replacementTrigger !== undefined), "the program uses replacementTrigger, which is why");
        const readme = fs.readFileSync(path.join(PROJECT_ROOT, "README.md"), "utf8");
        const prerequisites = readme.slice(readme.indexOf("## Prerequisites"), readme.indexOf("## Set up and test"));
        assert.match(prerequisites, /Pulumi CLI\]\([^)]+\) \*\*3\.226\.0 or later\*\*/);
        assert.ok(prerequisites.includes('`requiredPulumiVersion: ">=3.226.0"`'));
    });

    it("declares every key the program reads, with type, description and default", () => {
        const declared = Object.keys(project.config).sort();
        assert.deepEqual(declared, CONFIG_KEYS.filter((key) => !UNDECLARED.includes(key)).sort());
        for (const [key, declaration] of Object.entries(project.config)) {
            assert.ok(["string", "integer", "boolean", "array"].includes(declaration.type), `${key}: type`);
            assert.ok((declaration.description ?? "").length > 20, `${key}: description`);
            assert.ok("default" in declaration, `${key}: default (a declared key without one is required)`);
            assert.match(declaration.description ?? "", /Defaults to /, `${key}: the description states the default`);
            if (declaration.type === "array") assert.deepEqual(declaration.items, { type: "string" });
        }
    });

    it("declares the defaults with their types: strings quoted, lists empty, numbers and booleans as such", () => {
        const declared = (key: string) => ({ type: project.config[key].type, default: project.config[key].default });
        assert.deepEqual(declared("autoShutdownTime"), { type: "string", default: "19:00" });
        assert.deepEqual(declared("throughput"), { type: "integer", default: 400 });
        assert.deepEqual(declared("freeTier"), { type: "boolean", default: false });
        assert.deepEqual(declared("verifyOnDeploy"), { type: "boolean", default: true });
        assert.deepEqual(declared("rdpAllowedFrom"), { type: "array", default: [] });
        assert.deepEqual(declared("cosmosLocation"), { type: "string", default: "" }, "empty: the stack's location");
        assert.deepEqual(declared("allowDataLoss"), { type: "string", default: "" }, "empty: none");
    });

    it("has the config and template sections `npm run gen` renders from lib/config.ts", () => {
        assert.equal(generatedProjectFile(projectText), projectText, "Pulumi.yaml is stale: run `npm run gen`");
    });

    it("defaults applied as the CLI applies them give the program's defaults", () => {
        const location = { "azure-native:location": "westeurope" };
        assert.deepEqual(parseConfig(cliConfig(location)), parseConfig(location));
    });

    it("the example stack Pulumi.dev.yaml deploys as it is", async () => {
        const stackFile = parse(fs.readFileSync(path.join(PROJECT_ROOT, "Pulumi.dev.yaml"), "utf8")) as { config: Record<string, string> };
        assert.deepEqual(Object.keys(stackFile.config), ["azure-native:location"]);
        const stack = await evaluateOnce(cliConfig(stackFile.config));
        assert.equal(stack.error, undefined, String(stack.error));
        assert.ok(stack.resources.length > 10);
    });
});
