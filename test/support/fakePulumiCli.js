// A stand-in `pulumi` for the Automation API (test/e2e.test.ts): records every invocation and
// answers the few commands LocalWorkspace and Stack run, as the real CLI shapes them (version,
// stack init/select/rm, config set-all, up/preview/destroy/refresh with an event log, stack
// output, stack history). No resources, no network. Plain JavaScript: run by node directly.
"use strict";
const fs = require("fs");
const path = require("path");

const args = process.argv.slice(2);
if (args[0] === "version") {
    // PulumiCommand.get asks before any workspace (and its environment) exists.
    process.stdout.write("v3.200.0\n");
    process.exit(0);
}
const dir = process.env.FAKE_PULUMI_DIR;
fs.appendFileSync(path.join(dir, "calls.jsonl"), JSON.stringify({
    args, cwd: process.cwd(), passphraseFile: process.env.PULUMI_CONFIG_PASSPHRASE_FILE ?? null,
}) + "\n");

const configFile = path.join(dir, "config.json");
const config = fs.existsSync(configFile) ? JSON.parse(fs.readFileSync(configFile, "utf8")) : {};
const flag = (name) => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined);
let sequence = 0;
const event = (body) => fs.appendFileSync(flag("--event-log"), JSON.stringify({ sequence: ++sequence, timestamp: 1700000000 + sequence, ...body }) + "\n");
const urn = (type, name) => `urn:pulumi:e2e::cosmos-vm-identity::${type}::${name}`;
const group = (op) => ({
    op, urn: urn("azure-native:resources:ResourceGroup", "cosmos-vm-identity"), type: "azure-native:resources:ResourceGroup", provider: "",
    new: { type: "azure-native:resources:ResourceGroup", urn: urn("azure-native:resources:ResourceGroup", "cosmos-vm-identity"), custom: true,
        id: "/subscriptions/s/resourceGroups/cosmos-vm-identity1a2b3c", parent: "", inputs: {}, outputs: { name: "cosmos-vm-identity1a2b3c" }, provider: "" },
});

const command = args.filter((arg) => !arg.startsWith("-")).slice(0, 2).join(" ");
if (command === "config set-all") {
    for (let i = 0; i < args.length; i++) {
        if (args[i] === "--plaintext") {
            const [key, ...value] = args[i + 1].split("=");
            config[key] = value.join("=");
        }
    }
    fs.writeFileSync(configFile, JSON.stringify(config));
} else if (args[0] === "up") {
    event({ resourcePreEvent: { metadata: group("create") } });
    event({ resOutputsEvent: { metadata: group("create") } });
    event({ summaryEvent: { maybeCorrupt: false, durationSeconds: 2, resourceChanges: { create: 1 }, PolicyPacks: {} } });
} else if (args[0] === "preview") {
    event({ resourcePreEvent: { metadata: group("same"), planning: true } });
    event({ summaryEvent: { maybeCorrupt: false, durationSeconds: 1, resourceChanges: JSON.parse(process.env.FAKE_PREVIEW_SUMMARY || '{"same": 20}'), PolicyPacks: {} } });
} else if (args[0] === "destroy" || args[0] === "refresh") {
    if (flag("--event-log")) event({ summaryEvent: { maybeCorrupt: false, durationSeconds: 1, resourceChanges: { delete: 1 }, PolicyPacks: {} } });
} else if (command === "stack output") {
    const secrets = args.includes("--show-secrets");
    process.stdout.write(JSON.stringify({
        accessMode: config["accessMode"] ?? "keys",
        resourceGroupName: "cosmos-vm-identity1a2b3c",
        verification: { state: "Succeeded", exitCode: 0, summary: "OK" },
        adminPassword: secrets ? "Generated-Password-42" : "[secret]",
    }));
} else if (command === "stack history") {
    process.stdout.write(JSON.stringify([{ version: 1, kind: "update", startTime: "2026-11-30T04:17:09Z", endTime: "2026-11-30T04:30:00Z", message: "", environment: {}, config: {}, result: "succeeded", resourceChanges: {} }]));
}
// stack init / select / rm and anything else: succeed quietly.
