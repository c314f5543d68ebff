// The README stays true: every config key with its default, every output, the commands CI runs.
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as path from "node:path";
import { before, describe, it } from "node:test";
import { CONFIG_KEYS, DEFAULTS } from "../lib/config";
import { Evaluation, evaluate, PROJECT_ROOT, stackConfig } from "./harness";

const readme = fs.readFileSync(path.join(PROJECT_ROOT, "README.md"), "utf8");

/** The rows of the markdown table that follows a heading: first cell to the rest of the row. */
function tableAfter(heading: string): Map<string, string> {
    const start = readme.indexOf(`\n${heading}\n`);
    assert.ok(start >= 0, `README has no "${heading}" section`);
    const rows = new Map<string, string>();
    const lines = readme.slice(start + heading.length + 2).split("\n");
    let inTable = false;
    for (const line of lines) {
        if (line.startsWith("|")) {
            inTable = true;
            const cells = line.split("|").slice(1, -1).map((cell) => cell.trim());
            for (const name of cells[0].match(/`[^`]+`/g) ?? []) rows.set(name.slice(1, -1).split(" ")[0], cells.slice(1).join(" | "));
        } else if (inTable) {
            break;
        }
    }
    return rows;
}

describe("README.md", () => {
    let stack: Evaluation;
    before(async () => {
        stack = await evaluate(stackConfig());
    });

    it("lists every configuration key with its default", () => {
        const table = tableAfter("## Configuration");
        for (const key of CONFIG_KEYS) {
            assert.ok(table.has(key), `Configuration table lacks ${key}`);
            const defaultValue = (DEFAULTS as Record<string, unknown>)[key];
            if (defaultValue !== undefined) {
                const shown = Array.isArray(defaultValue) ? "[]" : String(defaultValue);
                assert.ok(table.get(key)!.includes(`\`${shown}\``), `${key}: default ${shown} not shown`);
            }
        }
        assert.ok(table.has("azure-native:location"));
    });

    it("lists every stack output", () => {
        const table = tableAfter("## Outputs");
        for (const output of Object.keys(stack.outputs)) assert.ok(table.has(output), `Outputs table lacks ${output}`);
        for (const listed of table.keys()) assert.ok(listed in stack.outputs, `Outputs table lists ${listed}, which the stack does not export`);
    });

    it("shows the set-up and test commands that CI runs", () => {
        const ci = fs.readFileSync(path.join(PROJECT_ROOT, ".ci", "run"), "utf8");
        for (const command of ["npm ci", "npm test"]) {
            assert.ok(readme.includes(command), `README lacks ${command}`);
            assert.ok(ci.includes(command), `.ci/run lacks ${command}`);
        }
    });
});
