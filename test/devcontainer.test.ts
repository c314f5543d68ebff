// The dev container (.devcontainer/devcontainer.json) gives what the README names, at the versions the
// rest of the project pins: Node.js 20, a Pulumi CLI that Pulumi.yaml accepts, the Azure CLI,
// PowerShell as .ci/run installs it, and the .NET SDK that test/support/netfx and CI use; after
// creation it runs the README's set-up command. Offline: nothing here builds or pulls the container.
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, it } from "node:test";
import Ajv from "ajv";
import { parse as parseJsonc, ParseError, printParseErrorCode } from "jsonc-parser";
import * as semver from "semver";
import { parse as parseYaml } from "yaml";

// Not ./harness: it loads @pulumi/pulumi, which this file does not need.
const ROOT = path.resolve(__dirname, "..");
const read = (file: string) => fs.readFileSync(path.join(ROOT, file), "utf8");

const PULUMI = "ghcr.io/devcontainers-extra/features/pulumi:1.2.4";
const AZURE_CLI = "ghcr.io/devcontainers/features/azure-cli:1.3.0";
const DOTNET = "ghcr.io/devcontainers/features/dotnet:2.5.0";

interface DevContainer { name: string; image: string; features: Record<string, Record<string, string | boolean>>; postCreateCommand: string }

/** devcontainer.json is JSON with comments (JSONC): parsed with jsonc-parser, the parser the Dev Containers CLI uses. */
function parseDevContainer(text: string): { config: unknown; errors: string[] } {
    const errors: ParseError[] = [];
    // The specification's schema says allowTrailingCommas: false.
    const config: unknown = parseJsonc(text, errors, { allowTrailingComma: false, disallowComments: false });
    return { config, errors: errors.map((error) => `${printParseErrorCode(error.error)} at offset ${error.offset}`) };
}

const STRING = { type: "string" };
const BOOLEAN = { type: "boolean" };
/** A feature's options as its devcontainer-feature.json (at the pinned feature version) declares them. */
const options = (declared: Record<string, object>) => ({ type: "object", additionalProperties: false, properties: declared });

// No npm, NuGet or Debian package ships the specification's own schema (devContainer.base.schema.json;
// searched: @devcontainers/cli 0.89.0, @vscode/dev-container-cli 0.292.0, @theia/dev-container; the
// SchemaStore catalog only points at the spec repository). So this schema is written here, from the
// specification's reference (containers.dev/implementors/json_reference), for the properties this
// file uses, each with the type given there. Tools ignore an unknown property or feature option silently,
// so a misspelt one would drop its setting (a misspelt "version" would install the latest release);
// a property or option not listed here is refused: check it in the reference, then list it.
const SCHEMA = {
    type: "object",
    additionalProperties: false,
    required: ["name", "image", "features", "postCreateCommand"],
    properties: {
        name: STRING,
        image: STRING,
        // Feature id to its options (strings or booleans, per the Features specification).
        features: {
            type: "object",
            additionalProperties: false,
            properties: {
                [PULUMI]: options({ version: STRING, bashCompletion: BOOLEAN }),
                [AZURE_CLI]: options({ version: STRING, extensions: STRING, installBicep: BOOLEAN, bicepVersion: STRING, installUsingPython: BOOLEAN }),
                [DOTNET]: options({
                    version: STRING, additionalVersions: STRING, dotnetRuntimeVersions: STRING, aspNetCoreRuntimeVersions: STRING, workloads: STRING, tabCompletions: BOOLEAN,
                }),
            },
        },
        // A lifecycle command: a string runs in a shell, an array without one, an object's entries in parallel.
        postCreateCommand: {
            anyOf: [STRING, { type: "array", items: STRING }, { type: "object", additionalProperties: { anyOf: [STRING, { type: "array", items: STRING }] } }],
        },
    },
};
const validate = new Ajv({ allErrors: true }).compile(SCHEMA);

/** Every way `config` breaks the schema, at once: where, and which rule. */
function schemaProblems(config: unknown): string[] {
    if (validate(config)) return [];
    return (validate.errors ?? []).map((error) => `${error.instancePath || "/"}: ${error.message}${error.params.additionalProperty ? ` (${error.params.additionalProperty})` : ""}`);
}

const devcontainerText = read(".devcontainer/devcontainer.json");
const devcontainer = parseDevContainer(devcontainerText).config as DevContainer;
const readme = read("README.md");
/** The PowerShell version that a `dotnet tool install` line in `text` installs. */
const pwshVersion = (text: string) => /dotnet tool install --global PowerShell --version (\d+\.\d+\.\d+)/.exec(text)?.[1];

describe("Dev container (.devcontainer/devcontainer.json)", () => {
    it("is JSON with comments that the Dev Containers CLI's parser reads without an error", () => {
        const { config, errors } = parseDevContainer(devcontainerText);
        assert.deepEqual(errors, []);
        assert.equal(typeof config, "object");
    });

    it("uses only devcontainer.json properties, each of its type, and only options each feature declares", () => {
        assert.deepEqual(schemaProblems(devcontainer), []);
        // The check is not vacuous: a misspelt property, a wrong type and an undeclared option, all reported.
        const broken = {
            ...devcontainer,
            postCreateCommands: "npm ci",
            image: 20,
            features: { ...devcontainer.features, [PULUMI]: { verison: "3.248.0" } },
        };
        assert.deepEqual(schemaProblems(broken).sort(), [
            "/: must NOT have additional properties (postCreateCommands)",
            `/features/${PULUMI.replace(/\//g, "~1")}: must NOT have additional properties (verison)`,
            "/image: must be string",
        ]);
    });

    it("pins every version: the image to a full release tag, each feature and each tool to x.y.z", () => {
        assert.match(devcontainer.image, /:\d+\.\d+\.\d+-/);
        for (const [feature, settings] of Object.entries(devcontainer.features)) {
            assert.match(feature, /:\d+\.\d+\.\d+$/, `${feature}: an exact feature release`);
            assert.match(String(settings.version), /^\d+\.\d+\.\d+$/, `${feature}: an exact tool version, not "${settings.version}"`);
        }
    });

    it("has Node.js 20, from Microsoft's TypeScript image; the README lists it and package.json's engines accept it", () => {
        const tag = /^mcr\.microsoft\.com\/devcontainers\/typescript-node:\d+\.\d+\.\d+-(\d+)-bookworm$/.exec(devcontainer.image);
        assert.ok(tag, `not Microsoft's TypeScript image with a Node.js variant: ${devcontainer.image}`);
        assert.equal(tag[1], "20");
        const listed = /^- Node\.js ([\d, or]+), and npm\.$/m.exec(readme);
        assert.ok(listed, "README: the Node.js line of Prerequisites");
        assert.ok(listed[1].split(/, | or /).includes(tag[1]), `README lists Node.js ${listed[1]}`);
        const engines = (JSON.parse(read("package.json")) as { engines: { node: string } }).engines.node;
        assert.ok(semver.satisfies(`${tag[1]}.0.0`, engines), `package.json engines ${engines}`);
    });

    it("has a Pulumi CLI that Pulumi.yaml's requiredPulumiVersion and the README's minimum accept", () => {
        const cli = String(devcontainer.features[PULUMI]?.version);
        const required = (parseYaml(read("Pulumi.yaml")) as { requiredPulumiVersion: string }).requiredPulumiVersion;
        assert.ok(semver.satisfies(cli, required), `Pulumi CLI ${cli} does not satisfy Pulumi.yaml's requiredPulumiVersion ${required}`);
        const minimum = /Pulumi CLI\]\([^)]+\) \*\*(\d+\.\d+\.\d+) or later\*\*/.exec(readme)?.[1];
        assert.ok(minimum, "README: the Pulumi CLI's minimum in Prerequisites");
        assert.ok(semver.gte(cli, minimum), `Pulumi CLI ${cli} is below the README's minimum ${minimum}`);
    });

    it("has the Azure CLI", () => {
        assert.ok(AZURE_CLI in devcontainer.features);
    });

    it("is named in the README, for whoever would rather not install the tools", () => {
        assert.ok(readme.includes("`.devcontainer/devcontainer.json`"));
    });

    it("installs PowerShell 7.6.9 as .ci/run and the README do: the .NET global tool", () => {
        assert.deepEqual(
            { devcontainer: pwshVersion(devcontainer.postCreateCommand), ciRun: pwshVersion(read(".ci/run")), readme: pwshVersion(readme) },
            { devcontainer: "7.6.9", ciRun: "7.6.9", readme: "7.6.9" },
        );
    });

    it("has the .NET SDK for test/support/netfx's target framework, within the range CI sets up", () => {
        const sdk = String(devcontainer.features[DOTNET]?.version);
        const framework = /<TargetFramework>(net\d+\.\d+)<\/TargetFramework>/.exec(read("test/support/netfx/NetFxReferences.csproj"))?.[1];
        assert.equal(framework, "net10.0");
        assert.equal(`net${semver.major(sdk)}.${semver.minor(sdk)}`, framework, `SDK ${sdk} for ${framework}`);
        const ci = parseYaml(read(".github/workflows/ci.yml")) as { jobs: { test: { steps: { uses?: string; with?: Record<string, string> }[] } } };
        const setupDotnet = ci.jobs.test.steps.find((step) => step.uses?.startsWith("actions/setup-dotnet@"));
        const range = String(setupDotnet?.with?.["dotnet-version"]);
        assert.equal(range, "10.0.x");
        assert.ok(semver.satisfies(sdk, range), `SDK ${sdk} is outside CI's ${range}`);
    });

    // test/readme.test.ts holds the README's set-up block to `npm ci` and `npm test`.
    it("after creation, sets up what .ci/run sets up, then runs the README's set-up command, npm ci", () => {
        assert.deepEqual(devcontainer.postCreateCommand.split(" && "), [
            "dotnet tool install --global PowerShell --version 7.6.9",
            "dotnet restore test/support/netfx --verbosity quiet",
            "npm ci",
        ]);
        const ciRun = read(".ci/run");
        for (const step of ["dotnet tool install --global PowerShell --version 7.6.9", "dotnet restore test/support/netfx --verbosity quiet"]) {
            assert.ok(ciRun.includes(step), `.ci/run no longer runs: ${step}`);
        }
    });
});
