// The README stays true: every config key with its default, every output, the commands CI runs.
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as path from "node:path";
import { before, describe, it } from "node:test";
import { CONFIG_KEYS } from "../lib/config";
import { README_SETTINGS_BLOCK, renderSettingsTable, withBlock } from "../dev/generate";
import { Evaluation, evaluateOnce, PROJECT_ROOT, stackConfig } from "./harness";

const readme = fs.readFileSync(path.join(PROJECT_ROOT, "README.md"), "utf8");

/** The rows of the markdown table that follows a heading: each name in the first cell, to the row's other cells. */
function tableAfter(heading: string): Map<string, string[]> {
    const start = readme.indexOf(`\n${heading}\n`);
    assert.ok(start >= 0, `README has no "${heading}" section`);
    const rows = new Map<string, string[]>();
    const lines = readme.slice(start + heading.length + 2).split("\n");
    let inTable = false;
    for (const line of lines) {
        if (line.startsWith("|")) {
            inTable = true;
            const cells = line.split(/(?<!\\)\|/).slice(1, -1).map((cell) => cell.trim());
            for (const name of cells[0].match(/`[^`]+`/g) ?? []) rows.set(name.slice(1, -1).split(" ")[0], cells.slice(1));
        } else if (inTable) {
            break;
        }
    }
    return rows;
}

/** The commands of the first shell block after a heading, comments and blank lines left out. */
function commandsAfter(heading: string): string[] {
    const start = readme.indexOf(`\n${heading}\n`);
    assert.ok(start >= 0, `README has no "${heading}" section`);
    const block = /```sh\n([\s\S]*?)```/.exec(readme.slice(start));
    assert.ok(block, `no shell block under "${heading}"`);
    return shellCommands(block[1]);
}

function shellCommands(text: string): string[] {
    return text.split("\n").map((line) => line.replace(/(^|\s)#.*$/, "").trim()).filter((line) => line.length > 0);
}

describe("README.md", () => {
    let stack: Evaluation;
    before(async () => {
        stack = await evaluateOnce(stackConfig());
    });

    it("lists every configuration key with its default, as `npm run gen` renders it from lib/config.ts", () => {
        const table = tableAfter("## Configuration");
        for (const key of [...CONFIG_KEYS, "azure-native:location", "azure-native:environment"]) assert.ok(table.has(key), `Configuration table lacks ${key}`);
        // The Default column, for a few: the Rules column may mention any value.
        assert.match(table.get("throughput")![0], /^`400`$/);
        assert.match(table.get("autoShutdownTime")![0], /^`19:00`$/);
        assert.match(table.get("rdpAllowedFrom")![0], /^`\[\]` \(RDP closed\)$/);
        assert.match(table.get("azure-native:location")![0], /^\(required\)$/);
        assert.equal(withBlock(readme, README_SETTINGS_BLOCK, renderSettingsTable()), readme, "README.md is stale: run `npm run gen`");
    });

    it("lists every stack output", () => {
        const table = tableAfter("## Outputs");
        for (const output of Object.keys(stack.outputs)) assert.ok(table.has(output), `Outputs table lacks ${output}`);
        for (const listed of table.keys()) assert.ok(listed in stack.outputs, `Outputs table lists ${listed}, which the stack does not export`);
    });

    it("shows the set-up and test commands that CI runs", () => {
        assert.deepEqual(commandsAfter("## Set up and test"), ["npm ci", "npm test"]);
        // CI runs both as commands (flags that only quieten npm allowed), not just mentions them.
        const ci = shellCommands(fs.readFileSync(path.join(PROJECT_ROOT, ".ci", "run"), "utf8"));
        assert.ok(ci.some((line) => /^npm ci( --no-audit| --no-fund)*$/.test(line)), `.ci/run does not run npm ci:\n${ci.join("\n")}`);
        assert.ok(ci.includes("npm test"), `.ci/run does not run npm test:\n${ci.join("\n")}`);
    });
});
