// Configuration validation, tested directly on the pure parser (no Pulumi runtime).
import { strict as assert } from "node:assert";
import { describe, it } from "node:test";
import { ConfigError, DATA_LOSS_SETTINGS, parseConfig } from "../lib/config";
import { parseIpv4Range } from "../lib/ipv4";
import { MINIMAL_CONFIG, stackConfig } from "./harness";

/** The problems parseConfig reports for these values, as "key: message" lines. */
function problemsFor(values: Record<string, string>): string[] {
    try {
        parseConfig(stackConfig(values));
    } catch (error) {
        assert.ok(error instanceof ConfigError, `expected ConfigError, got ${String(error)}`);
        return error.problems.map((p) => `${p.key}: ${p.message}`);
    }
    return [];
}

function assertRejected(values: Record<string, string>, key: string, pattern: RegExp): void {
    const problems = problemsFor(values);
    assert.ok(
        problems.some((p) => p.startsWith(`cosmos-vm-identity:${key}: `) && pattern.test(p)),
        `expected a ${key} problem matching ${pattern}, got:\n${problems.join("\n")}`,
    );
}

describe("configuration defaults", () => {
    it("a stack that sets only azure-native:location gets the tutorial's values", () => {
        const config = parseConfig(MINIMAL_CONFIG);
        assert.deepEqual(config, {
            location: "westeurope",
            cloud: "public",
            vmSize: "Standard_B2als_v2",
            adminUsername: "azureuser",
            adminPassword: undefined,
            windowsImageSku: "2025-datacenter-azure-edition",
            rdpAllowedFrom: [],
            autoShutdownTime: "1900",
            autoShutdownTimeZone: "UTC",
            cosmosLocation: "westeurope",
            freeTier: false,
            databaseName: "Test",
            containerName: "Test",
            partitionKeyPath: "/id",
            throughput: 400,
            accessLevel: "readonly",
            accessMode: "keys",
            verifyOnDeploy: true,
            encryptionAtHost: false,
            cosmosAllowedIps: [],
            cosmosPublicAccess: false,
            allowDataLoss: [],
            tags: {},
        });
    });

    it("treats an empty value as unset, as Pulumi.yaml's empty cosmosLocation default", () => {
        assert.equal(parseConfig(stackConfig({ cosmosLocation: "" })).cosmosLocation, "westeurope");
        assert.equal(parseConfig(stackConfig({ cosmosLocation: "eastus2" })).cosmosLocation, "eastus2");
    });

    it("accepts every documented form of each key", () => {
        const config = parseConfig(stackConfig({
            rdpAllowedFrom: '["203.0.113.7", "198.51.100.0/24"]',
            autoShutdownTime: "off",
            freeTier: "true",
            throughput: "1000",
            accessLevel: "readwrite",
            adminPassword: "Correct-Horse-9",
            windowsImageSku: "2022-datacenter-azure-edition",
            "azure-native:environment": "usgovernment",
        }));
        assert.deepEqual(config.rdpAllowedFrom, ["203.0.113.7", "198.51.100.0/24"]);
        assert.equal(config.autoShutdownTime, undefined);
        assert.equal(config.freeTier, true);
        assert.equal(config.throughput, 1000);
        assert.equal(config.accessLevel, "readwrite");
        assert.equal(config.adminPassword, "Correct-Horse-9");
        assert.equal(config.cloud, "usgovernment");
        // A plain comma- or space-separated list also works: `pulumi config set rdpAllowedFrom 203.0.113.7`.
        assert.deepEqual(parseConfig(stackConfig({ rdpAllowedFrom: "203.0.113.7, 198.51.100.0/24" })).rdpAllowedFrom, ["203.0.113.7", "198.51.100.0/24"]);
        assert.equal(parseConfig(stackConfig({ autoShutdownTime: "07:05" })).autoShutdownTime, "0705");
    });
});

describe("configuration rules", () => {
    it("requires azure-native:location", () => {
        assert.throws(() => parseConfig({}), (error: unknown) => {
            assert.ok(error instanceof ConfigError);
            assert.deepEqual(error.problems.map((p) => p.key), ["azure-native:location"]);
            assert.match(error.problems[0].message, /required/);
            return true;
        });
    });

    it("throughput: at least 400, a multiple of 100, a whole number", () => {
        assertRejected({ throughput: "300" }, "throughput", /at least 400/);
        assertRejected({ throughput: "450" }, "throughput", /multiple of 100/);
        assertRejected({ throughput: "abc" }, "throughput", /whole number/);
        assertRejected({ throughput: "400.5" }, "throughput", /whole number/);
        assertRejected({ throughput: "1000100" }, "throughput", /at most 1000000/);
        assert.deepEqual(problemsFor({ throughput: "400" }), []);
        assert.deepEqual(problemsFor({ throughput: "100000" }), []);
    });

    it("partitionKeyPath: starts with / and has non-empty segments", () => {
        assertRejected({ partitionKeyPath: "id" }, "partitionKeyPath", /must start with "\/"/);
        assertRejected({ partitionKeyPath: "/" }, "partitionKeyPath", /non-empty path segments/);
        assertRejected({ partitionKeyPath: "/a//b" }, "partitionKeyPath", /non-empty path segments/);
        assertRejected({ partitionKeyPath: "/id/" }, "partitionKeyPath", /non-empty path segments/);
        assertRejected({ partitionKeyPath: "/a b" }, "partitionKeyPath", /without spaces/);
        assertRejected({ partitionKeyPath: "/*" }, "partitionKeyPath", /wildcards/);
        assert.deepEqual(problemsFor({ partitionKeyPath: "/address/zipCode" }), []);
    });

    it("partitionKeyPath: at most 100 characters, Cosmos DB's limit", () => {
        assert.deepEqual(problemsFor({ partitionKeyPath: "/" + "a".repeat(99) }), []);
        assert.deepEqual(problemsFor({ partitionKeyPath: "/" + "a".repeat(100) }), ["cosmos-vm-identity:partitionKeyPath: must be at most 100 characters (got 101)"]);
        assert.deepEqual(problemsFor({ partitionKeyPath: "/a/" + "b".repeat(98) }), ["cosmos-vm-identity:partitionKeyPath: must be at most 100 characters (got 101)"]);
    });

    it("databaseName and containerName follow Cosmos DB id rules", () => {
        for (const key of ["databaseName", "containerName"]) {
            for (const bad of ["a/b", "a\\b", "a#b", "a?b"]) assertRejected({ [key]: bad }, key, /must not contain/);
            assertRejected({ [key]: "Test " }, key, /must not end with a space/);
            assertRejected({ [key]: "x".repeat(256) }, key, /at most 255/);
            assert.deepEqual(problemsFor({ [key]: "Orders-2026_v1" }), []);
        }
    });

    it("adminUsername: reserved names, length, characters", () => {
        for (const reserved of ["admin", "Administrator", "ROOT", "user3", "test", "guest", "support_388945a0"]) {
            assertRejected({ adminUsername: reserved }, "adminUsername", /reserves/);
        }
        assertRejected({ adminUsername: "a-very-long-username-x" }, "adminUsername", /at most 20/);
        assertRejected({ adminUsername: "someone." }, "adminUsername", /period/);
        assertRejected({ adminUsername: "some one" }, "adminUsername", /spaces/);
        assertRejected({ adminUsername: "a@b" }, "adminUsername", /must not contain/);
        assert.deepEqual(problemsFor({ adminUsername: "cosmosadmin" }), []);
    });

    it("adminPassword: length, complexity, known weak passwords, and never echoes the value", () => {
        assertRejected({ adminPassword: "Short-1" }, "adminPassword", /12 to 123/);
        assertRejected({ adminPassword: "x".repeat(124) + "A1" }, "adminPassword", /12 to 123/);
        assertRejected({ adminPassword: "alllowercaseletters" }, "adminPassword", /three of/);
        assertRejected({ adminPassword: "P@ssword123" }, "adminPassword", /common passwords/);
        assertRejected({ adminUsername: "cosmosadmin", adminPassword: "My-cosmosadmin-1" }, "adminPassword", /username/);
        const problems = problemsFor({ adminPassword: "onlylowercase1" + "x" });
        assert.ok(problems.length > 0);
        assert.ok(problems.every((p) => !p.includes("onlylowercase1x")), "the password must not appear in the error");
    });

    it("rdpAllowedFrom: valid IPv4 addresses or CIDRs, never the whole Internet", () => {
        for (const everyone of ["0.0.0.0/0", "*", "Internet", "any", "0.0.0.0"]) {
            assertRejected({ rdpAllowedFrom: JSON.stringify([everyone]) }, "rdpAllowedFrom", /whole Internet/);
        }
        assertRejected({ rdpAllowedFrom: '["128.0.0.0/1"]' }, "rdpAllowedFrom", /wider than \/8/);
        assertRejected({ rdpAllowedFrom: '["203.0.113.300"]' }, "rdpAllowedFrom", /outside 0-255/);
        assertRejected({ rdpAllowedFrom: '["203.0.113.7/33"]' }, "rdpAllowedFrom", /above 32/);
        assertRejected({ rdpAllowedFrom: '["my-laptop"]' }, "rdpAllowedFrom", /not an IPv4 address/);
        assertRejected({ rdpAllowedFrom: '["203.0.113.7/24"]' }, "rdpAllowedFrom", /did you mean 203\.0\.113\.0\/24/);
        assertRejected({ rdpAllowedFrom: '[1, 2]' }, "rdpAllowedFrom", /must be a list/);
        assertRejected({ rdpAllowedFrom: '["ok", ' }, "rdpAllowedFrom", /must be a list/);
    });

    it("cosmosAllowedIps: public IPv4 addresses or CIDRs only, and never with cosmosPublicAccess", () => {
        assert.deepEqual(parseConfig(stackConfig({ cosmosAllowedIps: '["203.0.113.7", "198.51.100.0/24"]' })).cosmosAllowedIps, ["203.0.113.7", "198.51.100.0/24"]);
        for (const privateRange of ["10.1.2.3", "172.16.0.0/12", "192.168.1.0/24", "100.64.1.1"]) {
            assertRejected({ cosmosAllowedIps: JSON.stringify([privateRange]) }, "cosmosAllowedIps", /private range .* cannot enforce/);
        }
        assertRejected({ cosmosAllowedIps: '["0.0.0.0"]' }, "cosmosAllowedIps", /whole Internet/);
        assertRejected({ cosmosAllowedIps: '["203.0.113.7"]', cosmosPublicAccess: "true" }, "cosmosAllowedIps", /no effect with cosmosPublicAccess/);
        // RDP may come from a private network (a VPN), which NSGs do enforce.
        assert.deepEqual(parseConfig(stackConfig({ rdpAllowedFrom: "10.8.0.0/16" })).rdpAllowedFrom, ["10.8.0.0/16"]);
    });

    it("enums and booleans are what they say", () => {
        assertRejected({ accessLevel: "admin" }, "accessLevel", /"readonly".*"readwrite"/);
        assertRejected({ accessLevel: "ReadOnly" }, "accessLevel", /"readonly"/);
        assertRejected({ accessMode: "aad" }, "accessMode", /"keys".*"rbac"/);
        assert.equal(parseConfig(stackConfig({ accessMode: "rbac" })).accessMode, "rbac");
        assertRejected({ windowsImageSku: "2019-datacenter" }, "windowsImageSku", /must be one of/);
        assertRejected({ freeTier: "yes" }, "freeTier", /true or false/);
        assertRejected({ verifyOnDeploy: "1" }, "verifyOnDeploy", /true or false/);
        assertRejected({ encryptionAtHost: "on" }, "encryptionAtHost", /true or false/);
        assertRejected({ cosmosPublicAccess: "open" }, "cosmosPublicAccess", /true or false/);
        assertRejected({ vmSize: "B2als v2" }, "vmSize", /VM size/);
        assert.deepEqual(problemsFor({ "azure-native:environment": "mars" }).map((p) => p.split(": ")[0]), ["azure-native:environment"]);
        // An empty environment is refused as given (every other empty value means unset).
        assert.deepEqual(problemsFor({ "azure-native:environment": "" }), ['azure-native:environment: must be one of public, usgovernment, china (got "")']);
        assert.equal(parseConfig(stackConfig({ "azure-native:environment": "China" })).cloud, "china");
    });

    it("autoShutdownTime is a real time or off", () => {
        for (const bad of ["24:00", "19:60", "7:00", "1900", "noon", "19:00:00"]) {
            assertRejected({ autoShutdownTime: bad }, "autoShutdownTime", /HH:MM/);
        }
        assert.deepEqual(problemsFor({ autoShutdownTime: "23:59" }), []);
        assert.deepEqual(problemsFor({ autoShutdownTime: "OFF" }), []);
        assertRejected({ autoShutdownTimeZone: "Europe/Paris;" }, "autoShutdownTimeZone", /Windows time zone id/);
        assert.deepEqual(problemsFor({ autoShutdownTimeZone: "W. Europe Standard Time" }), []);
        assertRejected({ cosmosLocation: "west_europe!" }, "cosmosLocation", /region name/);
    });

    it("allowDataLoss: exact entries naming a data-losing setting, one or a JSON list, nothing split", () => {
        assert.deepEqual(parseConfig(stackConfig({ allowDataLoss: "containerName:Test->Orders" })).allowDataLoss, ["containerName:Test->Orders"]);
        assert.deepEqual(parseConfig(stackConfig({ allowDataLoss: '["databaseName:Test->A, B","location:westeurope->northeurope"]' })).allowDataLoss,
            ["databaseName:Test->A, B", "location:westeurope->northeurope"]);
        // Names may hold commas, spaces and arrows: the entry is kept whole and matched exactly later.
        assert.deepEqual(parseConfig(stackConfig({ allowDataLoss: "containerName:a, b->c->d" })).allowDataLoss, ["containerName:a, b->c->d"]);
        assert.deepEqual(parseConfig(stackConfig({ allowDataLoss: "" })).allowDataLoss, []);
        for (const bad of ["true", "containerName", "containerName:Test", "partitionKeyPath:/id->/tenant", "freeTier:false->true", '["yes"]']) {
            assertRejected({ allowDataLoss: bad }, "allowDataLoss", /is not a change to allow: copy the entry the change guard's message names/);
        }
    });

    it("tags: a map of string values within Azure's limits, never project or stack", () => {
        assert.deepEqual(parseConfig(stackConfig({ tags: '{"costCenter":"1234","owner":"Data team"}' })).tags, { costCenter: "1234", owner: "Data team" });
        assert.deepEqual(parseConfig(stackConfig()).tags, {});
        assert.deepEqual(parseConfig(stackConfig({ tags: "{}" })).tags, {});
        // 13 tags fit beside project and stack on a Cosmos DB resource (15 at most); 14 do not.
        const many = (n: number) => JSON.stringify(Object.fromEntries(Array.from({ length: n }, (_, i) => [`t${i}`, "v"])));
        assert.equal(Object.keys(parseConfig(stackConfig({ tags: many(13) })).tags).length, 13);
        assertRejected({ tags: many(14) }, "tags", /^[^:]+:tags: at most 13 tags \(Cosmos DB takes 15 per resource, and the stack sets project and stack\); got 14$/);
        const cases: [string, RegExp][] = [
            ['["a"]', /must be a map of tag names to values/],
            ["owner=me", /must be a map of tag names to values/],
            ['{"costCenter":1234}', /"costCenter": the value must be a string \(got 1234\)/],
            ['{"a/b":"x"}', /"a\/b": the name must not contain < > % & \\ \? or \//],
            ['{"a%b":"x"}', /"a%b": the name must not contain/],
            [`{"${"n".repeat(129)}":"x"}`, /the name must be at most 128 characters \(got 129\)/],
            [`{"owner":"${"v".repeat(257)}"}`, /"owner": the value must be at most 256 characters \(got 257\)/],
            ['{"Microsoft.Owner":"x"}', /names starting with "microsoft" are reserved by Azure/],
            ['{"azureTeam":"x"}', /names starting with "azure" are reserved by Azure/],
            ['{"Stack":"x"}', /"Stack": the stack sets "stack" itself/],
            ['{"project":"x"}', /"project": the stack sets "project" itself/],
            ['{"Owner":"a","owner":"b"}', /"owner": Azure compares tag names without case, and "Owner" is already set/],
            ['{"":"x"}', /a tag name must not be empty/],
        ];
        for (const [tags, pattern] of cases) assertRejected({ tags }, "tags", pattern);
        // Azure reserves names starting with "windows" (any case) and refuses a backslash anywhere in a name.
        assert.deepEqual(problemsFor({ tags: '{"windowsAdmin":"x"}' }), ['cosmos-vm-identity:tags: "windowsAdmin": names starting with "windows" are reserved by Azure']);
        assert.deepEqual(problemsFor({ tags: '{"WINDOWS":"x"}' }), ['cosmos-vm-identity:tags: "WINDOWS": names starting with "windows" are reserved by Azure']);
        assert.deepEqual(problemsFor({ tags: '{"team\\\\ops":"x"}' }), ['cosmos-vm-identity:tags: "team\\\\ops": the name must not contain < > % & \\ ? or /']);
        assert.deepEqual(problemsFor({ tags: '{"myWindows":"x","ops":"a\\\\b"}' }), [], "only the start of a name is reserved, and values may hold a backslash");
        // Every broken rule at once, each naming the key.
        assert.equal(problemsFor({ tags: '{"a/b":"x","azureX":"y"}' }).filter((p) => p.startsWith("cosmos-vm-identity:tags: ")).length, 2);
    });

    it("the settings whose change deletes data are the location, the database name and the container name", () => {
        assert.deepEqual(DATA_LOSS_SETTINGS, ["location", "databaseName", "containerName"]);
    });

    it("reports unknown keys in the project's namespace (typos)", () => {
        assertRejected({ throughtput: "400" }, "throughtput", /unknown key/);
    });

    it("reports every problem at once, each naming its key", () => {
        const problems = problemsFor({
            throughput: "450",
            partitionKeyPath: "id",
            accessLevel: "all",
            adminUsername: "admin",
            rdpAllowedFrom: '["0.0.0.0/0"]',
            autoShutdownTime: "25:00",
            freeTier: "maybe",
        });
        const keys = problems.map((p) => p.split(": ")[0].replace("cosmos-vm-identity:", ""));
        assert.deepEqual(keys.sort(), ["accessLevel", "adminUsername", "autoShutdownTime", "freeTier", "partitionKeyPath", "rdpAllowedFrom", "throughput"]);
        try {
            parseConfig(stackConfig({ throughput: "450", accessLevel: "all" }));
            assert.fail("expected a ConfigError");
        } catch (error) {
            assert.ok(error instanceof ConfigError);
            assert.match(error.message, /2 problems/);
            assert.match(error.message, /nothing was created/);
            assert.match(error.message, /cosmos-vm-identity:throughput: must be a multiple of 100/);
            assert.match(error.message, /cosmos-vm-identity:accessLevel: must be/);
        }
    });
});

describe("IPv4 ranges", () => {
    it("normalises addresses and accepts networks of /8 and narrower", () => {
        assert.deepEqual(parseIpv4Range("203.0.113.7"), { ok: true, cidr: "203.0.113.7" });
        assert.deepEqual(parseIpv4Range("203.0.113.7/32"), { ok: true, cidr: "203.0.113.7" });
        assert.deepEqual(parseIpv4Range(" 11.0.0.0/8 "), { ok: true, cidr: "11.0.0.0/8" });
        assert.deepEqual(parseIpv4Range("10.0.0.0/8"), { ok: true, cidr: "10.0.0.0/8", privateRange: "10.0.0.0/8" });
        assert.deepEqual(parseIpv4Range("172.20.1.5"), { ok: true, cidr: "172.20.1.5", privateRange: "172.16.0.0/12" });
        assert.deepEqual(parseIpv4Range("100.0.0.0/9"), { ok: true, cidr: "100.0.0.0/9", privateRange: "100.64.0.0/10" });
        assert.deepEqual(parseIpv4Range("172.32.0.1"), { ok: true, cidr: "172.32.0.1" });
        assert.deepEqual(parseIpv4Range("192.169.0.1"), { ok: true, cidr: "192.169.0.1" });
        assert.deepEqual(parseIpv4Range("198.51.100.128/25"), { ok: true, cidr: "198.51.100.128/25" });
        assert.equal(parseIpv4Range("01.2.3.4").ok, false);
    });
});
