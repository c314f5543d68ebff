// The documentation as a whole: README.md and docs/*.md. Every relative link resolves (the file, and
// the #anchor of a markdown file, by GitHub's heading slugs), and no page repeats another: no
// paragraph of 200 characters or more, and no run of three lines, appears in two files. Each page
// opens with who it is for. Pure text checks: nothing here renders markdown or reaches the network.
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, it } from "node:test";
import { PROJECT_ROOT } from "./harness";

/** A markdown file by its path relative to the project root, with its text. */
interface Page {
    file: string;
    text: string;
}

function pages(): Page[] {
    const docs = fs.readdirSync(path.join(PROJECT_ROOT, "docs")).filter((name) => name.endsWith(".md")).sort().map((name) => `docs/${name}`);
    return ["README.md", ...docs].map((file) => ({ file, text: fs.readFileSync(path.join(PROJECT_ROOT, file), "utf8") }));
}

/** The lines outside fenced code blocks (fences and their contents become blank lines, so paragraphs keep their limits). */
function prose(text: string): string[] {
    let fence: string | undefined;
    return text.split("\n").map((line) => {
        const marker = /^\s*(`{3,}|~{3,})/.exec(line)?.[1];
        if (fence === undefined && marker !== undefined) {
            fence = marker[0];
            return "";
        }
        if (fence !== undefined) {
            if (marker?.[0] === fence) fence = undefined;
            return "";
        }
        return line;
    });
}

/** GitHub's anchor for a heading's text: lowercased, inline markup and punctuation dropped, spaces to hyphens. */
export function slug(heading: string): string {
    return heading
        .replace(/\[([^\]]*)\]\([^)]*\)/g, "$1")
        .toLowerCase()
        .replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, "")
        .replace(/ /g, "-");
}

/** The anchors a markdown text offers: its headings' slugs, a repeated slug numbered as GitHub numbers it. */
export function anchors(text: string): Set<string> {
    const seen = new Map<string, number>();
    const result = new Set<string>();
    for (const line of prose(text)) {
        const heading = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line)?.[1];
        if (heading === undefined) continue;
        const base = slug(heading);
        const count = seen.get(base) ?? 0;
        seen.set(base, count + 1);
        result.add(count === 0 ? base : `${base}-${count}`);
    }
    return result;
}

/** Every relative link of a page that does not resolve, as "file: target (why)". */
export function brokenLinks(page: Page, read: (file: string) => string | undefined): string[] {
    const problems: string[] = [];
    const text = prose(page.text).map((line) => line.replace(/`[^`]*`/g, "")).join("\n");
    for (const [, target] of text.matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)) {
        if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // https:, mailto: ...
        const [file, anchor] = target.split("#", 2) as [string, string | undefined];
        const resolved = file === "" ? page.file : path.posix.normalize(path.posix.join(path.posix.dirname(page.file), file));
        const content = read(resolved);
        if (content === undefined) {
            problems.push(`${page.file}: ${target} (no file ${resolved})`);
        } else if (anchor !== undefined && resolved.endsWith(".md") && !anchors(content).has(anchor)) {
            problems.push(`${page.file}: ${target} (no heading #${anchor} in ${resolved})`);
        }
    }
    return problems;
}

/** Paragraphs of 200 characters or more (whitespace collapsed) and runs of three lines found in two files. */
export function repeats(all: Page[]): string[] {
    const MIN_PARAGRAPH = 200;
    const RUN = 3;
    const where = new Map<string, Set<string>>();
    const note = (key: string, file: string) => where.set(key, (where.get(key) ?? new Set()).add(file));
    for (const page of all) {
        const lines = prose(page.text);
        for (const paragraph of lines.join("\n").split(/\n\s*\n/)) {
            const flat = paragraph.replace(/\s+/g, " ").trim();
            if (flat.length >= MIN_PARAGRAPH) note(`paragraph: ${flat}`, page.file);
        }
        // Runs of consecutive lines, markup-only lines (table rules) left out; blank lines end a run.
        let run: string[] = [];
        for (const line of lines) {
            const trimmed = line.trim();
            if (trimmed === "") {
                run = [];
                continue;
            }
            if (/^[|:\-\s]+$/.test(trimmed)) continue;
            run.push(trimmed);
            if (run.length >= RUN) note(`lines: ${run.slice(-RUN).join("\n")}`, page.file);
        }
    }
    return [...where].filter(([, files]) => files.size > 1).map(([key, files]) => `${[...files].join(" and ")} repeat ${key.slice(0, 160)}`);
}

describe("the documentation (README.md and docs/*.md)", () => {
    const all = pages();
    const read = (file: string): string | undefined => {
        const full = path.join(PROJECT_ROOT, file);
        if (!full.startsWith(PROJECT_ROOT) || !fs.existsSync(full)) return undefined;
        return fs.statSync(full).isDirectory() ? "" : fs.readFileSync(full, "utf8");
    };

    it("slugs headings as GitHub does", () => {
        assert.equal(slug("Run it with Run Command: `npm run run-on-vm`"), "run-it-with-run-command-npm-run-run-on-vm");
        assert.equal(slug("What the stack builds, and why"), "what-the-stack-builds-and-why");
        assert.equal(slug("1. Start-up, as `pulumi preview` pays it"), "1-start-up-as-pulumi-preview-pays-it");
        assert.equal(slug("What `npm test` covers"), "what-npm-test-covers");
        assert.equal(slug("Keyless mode: Entra ID instead of keys"), "keyless-mode-entra-id-instead-of-keys");
        assert.deepEqual([...anchors("# A\n\n## Usage\n\n```sh\n# not a heading\n```\n\n## Usage\n")], ["a", "usage", "usage-1"]);
    });

    it("every relative link resolves: the file, and a markdown file's #anchor", () => {
        assert.ok(all.length >= 10, `only ${all.length} pages`);
        assert.deepEqual(all.flatMap((page) => brokenLinks(page, read)), []);
        // Not vacuous: a missing file, a missing anchor and a missing in-page anchor are each reported.
        const probe: Page = { file: "docs/probe.md", text: "# Probe\n\n[a](nowhere.md) [b](preflight.md#no-such-heading) [c](#probe) [d](#nope) [e](../README.md#deploy) `[f](x.md)`\n" };
        assert.deepEqual(brokenLinks(probe, (file) => (file === "docs/probe.md" ? probe.text : read(file))), [
            "docs/probe.md: nowhere.md (no file docs/nowhere.md)",
            "docs/probe.md: preflight.md#no-such-heading (no heading #no-such-heading in docs/preflight.md)",
            "docs/probe.md: #nope (no heading #nope in docs/probe.md)",
        ]);
    });

    it("no page repeats another: no paragraph of 200 characters or more, no run of three lines, in two files", () => {
        assert.deepEqual(repeats(all), []);
        // Not vacuous: a long paragraph copied, and three lines copied out of a longer paragraph, are each found.
        const long = "A paragraph long enough to count. ".repeat(7).trim();
        const found = repeats([
            { file: "a.md", text: `# A\n\n${long}\n\none\ntwo\nthree\nfour\n` },
            { file: "b.md", text: `# B\n\n${long.replace(/\. /g, ".\n")}\n\nzero\ntwo\nthree\nfour\n| --- |\n` },
        ]);
        assert.equal(found.length, 2, found.join("\n"));
        assert.match(found[0], /^a\.md and b\.md repeat paragraph: A paragraph long enough/);
        assert.equal(found[1], "a.md and b.md repeat lines: two\nthree\nfour");
    });

    it("each docs page opens with who it is for, right under its title", () => {
        for (const page of all.filter((p) => p.file.startsWith("docs/"))) {
            const opening = page.text.split(/\n\s*\n/)[1] ?? "";
            assert.match(page.text, /^# \S/, `${page.file}: a title first`);
            assert.match(opening, /^For (whoever|maintainers|anyone)\b/, `${page.file}: the first paragraph says who it is for`);
        }
    });

    it("the README stays a front door: at most 200 lines, linking every docs page", () => {
        const readme = all[0];
        assert.equal(readme.file, "README.md");
        const lines = readme.text.split("\n").length - (readme.text.endsWith("\n") ? 1 : 0);
        assert.ok(lines <= 200, `README.md has ${lines} lines`);
        for (const page of all.slice(1)) assert.ok(readme.text.includes(`](${page.file})`) || readme.text.includes(`](${page.file}#`), `README.md does not link ${page.file}`);
    });
});
