// `npm run preflight` as a process, against fakes of Azure under their real names on 127.0.0.1
// (support/childAzure.ts), in a child preloaded with support/loopbackOnly.js, which refuses and
// records every other address before a packet leaves (169.254.169.254 and the Azure Arc identity
// port included): the documented JSON command itself, a token endpoint that never answers, and
// every way preflight and `npm run e2e` sign in, with managed identity variables pointing at a trap.
import { strict as assert } from "node:assert";
import { execFile } from "node:child_process";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import { ChildAzure, startChildAzure } from "./support/childAzure";
import { FAKE_TOKEN, SUBSCRIPTION_ID, TENANT_ID, USER_NAME } from "./support/fakeResourceManager";
import { selfSignedCertificate } from "./support/selfSignedCertificate";

/** The project (not ./harness's: that loads Pulumi's runtime, which these tests leave to their children). */
const PROJECT_ROOT = path.resolve(__dirname, "..");
const SERVICE_PRINCIPAL = { ARM_CLIENT_ID: "app", ARM_CLIENT_SECRET: "s3cret", ARM_TENANT_ID: TENANT_ID, ARM_SUBSCRIPTION_ID: SUBSCRIPTION_ID };
const POSIX = process.platform !== "win32";
/** Starting node with ts-node and loading preflight's modules, on a busy 2-core machine. */
const STARTUP_ALLOWANCE_MS = 10_000;

interface Exit { code: number | null; stdout: string; stderr: string; elapsedMs: number }

/** Runs a command with only the environment given (plus PATH for node and npm), from the project directory. */
function run(command: string, args: string[], env: Record<string, string>): Promise<Exit> {
    const started = Date.now();
    return new Promise((resolve) => {
        execFile(command, args, { cwd: PROJECT_ROOT, encoding: "utf8", timeout: 60_000, env: { PATH: process.env.PATH ?? "", npm_config_update_notifier: "false", ...env } },
            (error, stdout, stderr) => resolve({ code: error ? (typeof error.code === "number" ? error.code : null) : 0, stdout, stderr, elapsedMs: Date.now() - started }));
    });
}

// One child at a time: each is timed, and the machine may be busy with other test files.
describe("preflight as a process, reaching nothing but loopback fakes", () => {
    // The first run evaluates the program in preflight's worker thread and keeps it here; the next reuse it.
    const cacheDir = fs.mkdtempSync(path.join(os.tmpdir(), "cosmos-vm-identity-preflight-cache-"));
    after(() => fs.rmSync(cacheDir, { recursive: true, force: true }));

    it("the documented CI command, `npm run --silent preflight -- --json`, prints JSON and nothing else, asking Entra ID for one token", { skip: !POSIX && "npm's shim differs on Windows" }, async () => {
        const readme = fs.readFileSync(path.join(PROJECT_ROOT, "README.md"), "utf8");
        const start = readme.indexOf("\n## Deploy\n");
        assert.ok(start >= 0, "README has a Deploy section");
        const section = readme.slice(start, readme.indexOf("\n## ", start + 1));
        assert.deepEqual([...section.matchAll(/(?:^|`)(npm run [^#`\n]*--json)\b/gm)].map((m) => m[1].trim()), ["npm run --silent preflight -- --json"], "the README documents this command for JSON");
        const azure = await startChildAzure();
        try {
            const result = await run("npm", ["run", "--silent", "preflight", "--", "--json"], { ...azure.env, ...SERVICE_PRINCIPAL, HOME: azure.dir, USERPROFILE: azure.dir, PREFLIGHT_CACHE_DIR: cacheDir });
            assert.equal(result.code, 0, result.stdout + result.stderr);
            const report = JSON.parse(result.stdout) as { ok: boolean; stack: string; checks: { id: string; status: string; message: string }[] };
            assert.equal(report.ok, true);
            assert.deepEqual(report.checks.map((c) => c.id), ["identity", "providers", "permissions", "policy", "vm-size", "vcpu-quota", "image", "encryption-at-host", "cosmos-region", "cosmos-free-tier", "vm-running"]);
            assert.match(report.checks[0].message, /^user alice@contoso\.example \(object id [-0-9a-f]+\) via service principal app with a client secret; subscription "Contoso Dev"/);
            // The bodies came from the program's evaluation in the worker thread: one question per resource.
            assert.equal(report.checks[3].message, "no policy assignment denies any of the stack's 14 Azure resources as declared (westeurope; audit effects not counted)");
            assert.equal(azure.arm.calls.filter((c) => c.path.endsWith("/checkPolicyRestrictions")).length, 14);
            assert.equal(fs.readdirSync(cacheDir).filter((file) => file.endsWith(".json")).length, 1, "the evaluation was kept for the next run");
            assert.deepEqual(azure.entra.tokenRequests(), { "https://management.azure.com/.default": 1 });
            assert.deepEqual(azure.arm.unexpected, []);
            assert.deepEqual(azure.log(), [], "the process tried to reach something but the fakes");
        } finally {
            await azure.close();
        }
    });

    it("a token endpoint that accepts and never answers: the process ends within --timeout + 2 s, exit 2, one line naming it", async () => {
        const azure = await startChildAzure({ entra: "hang" });
        try {
            const result = await run(process.execPath, ["--require", "ts-node/register/transpile-only", "commands/preflight.ts", "--timeout", "2"],
                { ...azure.env, ...SERVICE_PRINCIPAL, HOME: azure.dir, USERPROFILE: azure.dir, PREFLIGHT_CACHE_DIR: cacheDir });
            assert.equal(result.code, 2);
            assert.equal(result.stdout, "");
            assert.equal(result.stderr, `preflight: no answer within 2 s from https://login.microsoftonline.com/${TENANT_ID}/oauth2/v2.0/token while signing in with service principal app with a client secret: `
                + "check the network, proxy (HTTPS_PROXY) and firewall, or allow more time (--timeout 4)\n");
            // From spawn to exit: node, ts-node and the SDKs load before preflight's clock starts (test/preflight.test.ts
            // holds the run itself to --timeout + 2 s); what matters here is that the process ends, nothing keeping it alive.
            assert.ok(result.elapsedMs < 2000 + 2000 + STARTUP_ALLOWANCE_MS, `the process took ${result.elapsedMs} ms`);
            assert.deepEqual(azure.log(), []);
        } finally {
            await azure.close();
        }
    });

    describe("every way preflight and `npm run e2e` sign in", { skip: !POSIX && "the fake az is a POSIX shell script" }, () => {
        let azure: ChildAzure;
        /** Per scenario: what preflight's sign-in said ("signed in: ..." or its one line), e2e's check, the guard's refusals. */
        let results: Map<string, { preflight: string; e2e: string; refused: string[] }>;
        /** The log's lines per scenario: refused addresses and trap hits during it. */
        let network: Map<string, string[]>;

        before(async () => {
            azure = await startChildAzure();
            const bin = (name: string) => {
                const dir = path.join(azure.dir, name);
                fs.mkdirSync(dir);
                return dir;
            };
            // An Azure CLI that is signed in: `az account show` and `az account get-access-token` answer from its profile.
            const withAz = bin("with-az");
            fs.writeFileSync(path.join(withAz, "az"), [
                "#!/bin/sh",
                'case "$1 $2" in',
                `"account show") echo '${JSON.stringify({ environmentName: "AzureCloud", id: SUBSCRIPTION_ID, name: "Contoso Dev", tenantId: TENANT_ID, user: { name: USER_NAME, type: "user" } })}' ;;`,
                `"account get-access-token") echo '${JSON.stringify({ accessToken: FAKE_TOKEN, expiresOn: "2099-01-01 00:00:00.000000", expires_on: 4070908800, subscription: SUBSCRIPTION_ID, tenant: TENANT_ID, tokenType: "Bearer" })}' ;;`,
                '*) echo "ERROR: unexpected az $*" >&2; exit 2 ;;',
                "esac",
            ].join("\n") + "\n", { mode: 0o755 });
            const withoutAz = bin("without-az");
            // A service principal's PEM: a certificate and an RSA key (Entra ID's fake checks neither).
            const pem = path.join(azure.dir, "sp.pem");
            const { privateKey } = crypto.generateKeyPairSync("rsa", { modulusLength: 2048 });
            fs.writeFileSync(pem, selfSignedCertificate().cert + privateKey.export({ type: "pkcs8", format: "pem" }).toString());
            // Every managed identity source points at the trap: Azure Arc (IDENTITY_ENDPOINT with IMDS_ENDPOINT), IMDS (pod identity's host).
            const traps = { IDENTITY_ENDPOINT: `${azure.trap}/arc/metadata/identity/oauth2/token`, IMDS_ENDPOINT: azure.trap, AZURE_POD_IDENTITY_AUTHORITY_HOST: azure.trap };
            const scenarios = [
                { name: "the Azure CLI", env: { PATH: `${withAz}:${process.env.PATH}` } },
                { name: "DefaultAzureCredential with nothing signed in", env: { PATH: withoutAz, ARM_USE_DEFAULT_AZURE_CREDENTIAL: "true", ARM_SUBSCRIPTION_ID: SUBSCRIPTION_ID } },
                { name: "DefaultAzureCredential with the Azure CLI", env: { PATH: `${withAz}:${process.env.PATH}`, ARM_USE_DEFAULT_AZURE_CREDENTIAL: "true", ARM_SUBSCRIPTION_ID: SUBSCRIPTION_ID } },
                { name: "a client secret", env: { PATH: withoutAz, ...SERVICE_PRINCIPAL } },
                { name: "a certificate", env: { PATH: withoutAz, ARM_CLIENT_ID: "app", ARM_TENANT_ID: TENANT_ID, ARM_SUBSCRIPTION_ID: SUBSCRIPTION_ID, ARM_CLIENT_CERTIFICATE_PATH: pem } },
                { name: "OIDC", env: { PATH: withoutAz, ARM_CLIENT_ID: "app", ARM_TENANT_ID: TENANT_ID, ARM_SUBSCRIPTION_ID: SUBSCRIPTION_ID, ARM_USE_OIDC: "true", ARM_OIDC_TOKEN: "github.jwt" } },
                // The control: asked for, a managed identity does reach the trap, so the trap would catch one anywhere else.
                { name: "a managed identity, asked for", env: { PATH: withoutAz, ARM_USE_MSI: "true", ARM_SUBSCRIPTION_ID: SUBSCRIPTION_ID } },
            ].map((s) => ({ ...s, env: { ...traps, ...s.env } }));
            // A test-support program: the tests' loader (the commands it drives load as they do under npm).
            const child = await run(process.execPath, ["--require", path.join(PROJECT_ROOT, "dev", "register.js"), path.join("test", "support", "signInPaths.ts")], {
                ...azure.env, HOME: azure.dir, USERPROFILE: azure.dir, SIGN_IN_SCENARIOS: JSON.stringify(scenarios), PREFLIGHT_PROJECT: PROJECT_ROOT,
            });
            assert.equal(child.code, 0, child.stderr);
            results = new Map(child.stdout.trim().split("\n").map((line) => JSON.parse(line) as { name: string; preflight: string; e2e: string; refused: string[] }).map((r) => [r.name, r]));
            network = new Map();
            let current = "";
            for (const line of azure.log()) {
                if (line.startsWith("scenario ")) network.set(current = line.slice("scenario ".length), []);
                else network.get(current)?.push(line);
            }
        });
        after(() => azure?.close());

        it("no sign-in but the managed identity asked for tries 169.254.169.254, the Arc identity endpoint, or any address but the fakes", () => {
            assert.equal(results.size, 7);
            for (const [name, lines] of network) {
                if (name === "a managed identity, asked for") continue;
                assert.deepEqual(lines, [], `${name}: ${JSON.stringify(results.get(name))}`);
                // Nor did it try and meet preflight's own guard, which would have kept the request from leaving.
                assert.deepEqual(results.get(name)!.refused, [], name);
            }
        });

        it("the trap is real: the managed identity asked for goes to the Arc endpoint the environment names, and nothing reaches 169.254.169.254", () => {
            const lines = network.get("a managed identity, asked for") ?? [];
            assert.ok(lines.some((line) => line.startsWith("trap GET /arc/metadata/identity/oauth2/token?")), lines.join("\n"));
            assert.deepEqual(lines.filter((line) => !line.startsWith("trap ")), []);
        });

        it("each sign-in works through the production code, or says how to sign in", () => {
            const signedIn = (method: string) => `signed in: ${method}, subscription ${SUBSCRIPTION_ID}`;
            assert.deepEqual(Object.fromEntries([...results].map(([name, r]) => [name, r.preflight])), {
                "the Azure CLI": signedIn("the Azure CLI (az login)"),
                "DefaultAzureCredential with nothing signed in": results.get("DefaultAzureCredential with nothing signed in")!.preflight,
                "DefaultAzureCredential with the Azure CLI": signedIn("DefaultAzureCredential's chain (environment, workload identity, Azure CLI; not its managed-identity step)"),
                "a client secret": signedIn("service principal app with a client secret"),
                "a certificate": signedIn("service principal app with a certificate"),
                "OIDC": signedIn("service principal app with OIDC (workload identity federation)"),
                "a managed identity, asked for": results.get("a managed identity, asked for")!.preflight,
            });
            for (const name of ["the Azure CLI", "DefaultAzureCredential with the Azure CLI", "a client secret", "a certificate", "OIDC"]) {
                assert.equal(results.get(name)!.e2e, "group exists: false", name);
            }
            assert.match(results.get("DefaultAzureCredential with nothing signed in")!.preflight,
                /^not signed in to Azure: no step of DefaultAzureCredential's chain \(environment, workload identity, Azure CLI; not its managed-identity step\) found a credential \(EnvironmentCredential is unavailable\..*\): set AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET for DefaultAzureCredential, or unset ARM_USE_DEFAULT_AZURE_CREDENTIAL and run `az login`/);
            assert.match(results.get("a managed identity, asked for")!.preflight, /^not signed in to Azure \(ManagedIdentityCredential: .*\): run on an Azure machine whose managed identity may use the subscription, or unset ARM_USE_MSI/);
        });
    });
});
