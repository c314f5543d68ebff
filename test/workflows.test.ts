// The GitHub workflows, read with a YAML parser: CI runs exactly the README's commands (through
// .ci/run) on Node.js 20 and 22; the preview runs pulumi/actions with the policy pack and posts on
// the pull request; the end-to-end run is weekly and on demand and may not skip; sign-in is OpenID
// Connect everywhere (no stored secret); every action is pinned; docs/ci-cd.md names every variable.
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, it } from "node:test";
import { parse } from "yaml";
import { PROJECT_ROOT } from "./harness";

interface Step { name?: string; uses?: string; run?: string; with?: Record<string, unknown>; env?: Record<string, unknown>; if?: string; "working-directory"?: string }
interface Job { "runs-on": string; if?: string; env?: Record<string, unknown>; permissions?: Record<string, string>; strategy?: { matrix?: Record<string, unknown> }; steps: Step[] }
interface Workflow { name: string; on: Record<string, unknown>; permissions?: Record<string, string>; env?: Record<string, unknown>; jobs: Record<string, Job> }

const WORKFLOWS = path.join(PROJECT_ROOT, ".github", "workflows");
const text = (file: string) => fs.readFileSync(path.join(WORKFLOWS, file), "utf8");
const workflow = (file: string) => parse(text(file)) as Workflow;

/** The one job of a workflow. */
function onlyJob(flow: Workflow): Job {
    const jobs = Object.values(flow.jobs);
    assert.equal(jobs.length, 1, `${flow.name}: one job`);
    return jobs[0];
}
const action = (step: Step) => step.uses?.split("@")[0];
const stepsUsing = (job: Job, name: string) => job.steps.filter((step) => action(step) === name);
const permission = (flow: Workflow, job: Job, scope: string) => job.permissions?.[scope] ?? flow.permissions?.[scope];
/** Every value a step sees: the workflow's, the job's and its own environment, its own winning. */
const envOf = (flow: Workflow, job: Job, step: Step) => ({ ...flow.env, ...job.env, ...step.env });
const FROM_VARIABLE = /^\$\{\{ vars\.[A-Z][A-Z0-9_]* \}\}$/;

/** What a workflow must do to sign in to Azure with OpenID Connect alone; one line per failure. */
function oidcProblems(file: string, source = text(file)): string[] {
    const flow = parse(source) as Workflow;
    const job = onlyJob(flow);
    const problems: string[] = [];
    if (permission(flow, job, "id-token") !== "write") problems.push(`${file}: needs permissions id-token: write`);
    const [login] = stepsUsing(job, "azure/login");
    if (!login) problems.push(`${file}: no azure/login step`);
    for (const input of ["client-id", "tenant-id", "subscription-id"]) {
        if (!FROM_VARIABLE.test(String(login?.with?.[input]))) problems.push(`${file}: azure/login ${input} must come from a repository variable, got ${String(login?.with?.[input])}`);
    }
    for (const input of ["creds", "client-secret", "auth-type"]) {
        if (login?.with?.[input] !== undefined) problems.push(`${file}: azure/login ${input}: OIDC only`);
    }
    const env = { ...flow.env, ...job.env };
    if (String(env.ARM_USE_OIDC) !== "true") problems.push(`${file}: ARM_USE_OIDC must be "true" for azure-native`);
    for (const name of ["ARM_CLIENT_ID", "ARM_TENANT_ID", "ARM_SUBSCRIPTION_ID"]) {
        if (!FROM_VARIABLE.test(String(env[name]))) problems.push(`${file}: ${name} must come from a repository variable`);
    }
    if (String(env.ARM_CLIENT_ID) !== String(login?.with?.["client-id"])) problems.push(`${file}: azure-native and azure/login must sign in as the same identity`);
    // The Pulumi backend too: Pulumi Cloud through GitHub's OIDC token, not a stored access token.
    const [pulumiLogin] = stepsUsing(job, "pulumi/auth-actions");
    if (!FROM_VARIABLE.test(String(pulumiLogin?.with?.organization))) problems.push(`${file}: no pulumi/auth-actions step for the organization in a repository variable`);
    else if (job.steps.indexOf(pulumiLogin) > job.steps.findIndex((step) => action(step) === "pulumi/actions")) problems.push(`${file}: pulumi/auth-actions must come before pulumi/actions`);
    if (/ARM_CLIENT_SECRET|AZURE_CLIENT_SECRET|client-secret/.test(source)) problems.push(`${file}: mentions a client secret`);
    if (/\$\{\{[^}]*\bsecrets\./.test(source)) problems.push(`${file}: uses a stored secret`);
    return problems;
}

describe("GitHub workflows", () => {
    it("CI: on every push and pull request, .ci/run and nothing else, on Node.js 20 and 22", () => {
        const flow = workflow("ci.yml");
        assert.deepEqual(Object.keys(flow.on).sort(), ["pull_request", "push"]);
        for (const trigger of ["push", "pull_request"]) assert.equal(flow.on[trigger], null, `${trigger}: every branch, no filter`);
        const job = onlyJob(flow);
        assert.deepEqual(job.strategy?.matrix, { node: [20, 22] });
        const [setupNode] = stepsUsing(job, "actions/setup-node");
        assert.equal(setupNode?.with?.["node-version"], "${{ matrix.node }}");
        // The commands: exactly .ci/run, which is the README's `npm ci` and `npm test` (test/readme.test.ts).
        assert.deepEqual(job.steps.filter((step) => step.run !== undefined).map((step) => step.run), [".ci/run"]);
        const other = job.steps.filter((step) => step.run === undefined).map(action);
        for (const used of other) assert.ok(["actions/checkout", "actions/setup-node", "actions/setup-dotnet"].includes(used!), `CI step ${used}: only tools, no commands`);
        assert.equal(other[0], "actions/checkout");
        // Nothing that could make CI differ from a contributor's machine.
        assert.equal(flow.env, undefined);
        assert.equal(job.env, undefined);
        for (const step of job.steps) assert.deepEqual([step.env, step["working-directory"]], [undefined, undefined]);
        assert.ok((fs.statSync(path.join(PROJECT_ROOT, ".ci", "run")).mode & 0o111) !== 0, ".ci/run is executable");
        assert.doesNotMatch(text("ci.yml"), /\$\{\{[^}]*\b(secrets|vars)\./, "CI needs no secrets or variables");
        assert.deepEqual(flow.permissions, { contents: "read" });
    });

    it("preview: on pull requests, pulumi/actions preview with the policy pack, posted on the pull request", () => {
        const flow = workflow("preview.yml");
        assert.deepEqual(Object.keys(flow.on), ["pull_request"]);
        const job = onlyJob(flow);
        assert.equal(permission(flow, job, "pull-requests"), "write", "to post the comment");
        const previews = stepsUsing(job, "pulumi/actions");
        assert.equal(previews.length, 1);
        const [preview] = previews;
        assert.equal(preview.with?.command, "preview");
        assert.equal(preview.with?.policyPacks, "policy");
        assert.ok(fs.existsSync(path.join(PROJECT_ROOT, "policy", "PulumiPolicy.yaml")), "the pack the preview runs exists");
        assert.equal(String(preview.with?.["comment-on-pr"]), "true");
        assert.match(String(preview.with?.["stack-name"]), /\$\{\{ vars\.PULUMI_ORG \}\}\//);
        // The program and the pack need node_modules before the preview runs them.
        const install = job.steps.findIndex((step) => step.run === "npm ci --no-audit --no-fund" || step.run === "npm ci");
        assert.ok(install >= 0 && install < job.steps.indexOf(preview), "npm ci before the preview");
        // Pull requests from forks carry no OIDC token: the job runs only for this repository's branches.
        assert.match(job.if ?? "", /github\.event\.pull_request\.head\.repo\.full_name == github\.repository/);
        assert.deepEqual(oidcProblems("preview.yml"), []);
    });

    it("end-to-end: weekly and on demand, npm run e2e with skipping a failure, cleanup whatever happens", () => {
        const flow = workflow("e2e.yml");
        assert.deepEqual(Object.keys(flow.on).sort(), ["schedule", "workflow_dispatch"]);
        const schedule = flow.on.schedule as { cron: string }[];
        assert.equal(schedule.length, 1);
        assert.match(schedule[0].cron, /^\d+ \d+ \* \* [0-6]$/, "once a week");
        const job = onlyJob(flow);
        const runs = job.steps.filter((step) => step.run?.startsWith("npm run e2e"));
        const [e2e, cleanup] = runs;
        assert.equal(runs.length, 2);
        assert.equal(e2e.run, "npm run e2e");
        const env = envOf(flow, job, e2e);
        assert.ok(String(env.E2E_REQUIRED) === "1" || e2e.run.includes("--require"), "a skip is a failure");
        assert.equal(e2e.if, undefined);
        assert.equal(cleanup.run, "npm run e2e -- --cleanup");
        assert.equal(cleanup.if, "always()", "cleans up after a failure, a timeout or a cancellation");
        const index = (step: Step) => job.steps.indexOf(step);
        const installCli = stepsUsing(job, "pulumi/actions");
        assert.equal(installCli.length, 1);
        assert.equal(installCli[0].with?.command, undefined, "pulumi/actions only installs the CLI the Automation API runs");
        assert.ok(index(installCli[0]) < index(e2e));
        assert.ok(job.steps.findIndex((step) => step.run?.startsWith("npm ci")) < index(e2e));
        assert.ok(index(stepsUsing(job, "azure/login")[0]) < index(e2e));
        const upload = stepsUsing(job, "actions/upload-artifact")[0];
        assert.equal(upload?.if, "always()");
        assert.equal(upload?.with?.path, ".e2e/*.json", "the timings, never the passphrase files beside them");
        assert.deepEqual(oidcProblems("e2e.yml"), []);
    });

    it("the OIDC check itself catches a stored secret, a missing id-token permission and a literal client id", () => {
        const original = text("preview.yml");
        const mutate = (changed: string) => {
            assert.notEqual(changed, original, "the mutation applies");
            return oidcProblems("preview.yml", changed).join("\n");
        };
        assert.match(mutate(original.replace("  id-token: write", "  id-token: read")), /id-token: write/);
        assert.match(mutate(original.replace("client-id: ${{ vars.AZURE_PREVIEW_CLIENT_ID }}", "client-id: 00000000-1111-2222-3333-444444444444")), /client-id must come from a repository variable/);
        assert.match(mutate(original.replace("subscription-id: ${{ vars.AZURE_SUBSCRIPTION_ID }}", "subscription-id: ${{ vars.AZURE_SUBSCRIPTION_ID }}\n          creds: ${{ secrets.AZURE_CREDENTIALS }}")), /creds: OIDC only[\s\S]*uses a stored secret/);
        assert.match(mutate(original.replace('ARM_USE_OIDC: "true"', 'ARM_CLIENT_SECRET: ${{ secrets.SP_SECRET }}')), /ARM_USE_OIDC must be "true"[\s\S]*client secret/);
    });

    it("every action is pinned to a version (a major tag or a commit), never a branch", () => {
        for (const file of fs.readdirSync(WORKFLOWS)) {
            for (const job of Object.values(workflow(file).jobs)) {
                for (const step of job.steps.filter((s) => s.uses !== undefined)) {
                    assert.match(step.uses!, /^[\w.-]+\/[\w./-]+@(v\d+(\.\d+){0,2}|[0-9a-f]{40})$/, `${file}: ${step.uses}`);
                }
            }
        }
    });

    it("docs/ci-cd.md names every repository variable and secret the workflows read", () => {
        const section = fs.readFileSync(path.join(PROJECT_ROOT, "docs", "ci-cd.md"), "utf8");
        const used = new Set<string>();
        for (const file of fs.readdirSync(WORKFLOWS)) {
            for (const [, expression] of text(file).matchAll(/\$\{\{([^}]*)\}\}/g)) {
                for (const [, name] of expression.matchAll(/\b(?:vars|secrets)\.([A-Z][A-Z0-9_]*)/g)) used.add(name);
            }
        }
        assert.ok(used.size > 0);
        for (const name of used) assert.match(section, new RegExp(`\`${name}\``), `docs/ci-cd.md does not name ${name}`);
        for (const file of fs.readdirSync(WORKFLOWS)) assert.match(section, new RegExp(`\\.github/workflows/${file.replace(".", "\\.")}`), `docs/ci-cd.md does not describe ${file}`);
    });
});
