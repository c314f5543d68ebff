// Renders the key-fetch script: a PowerShell template whose placeholders are whole single-quoted
// literals ('{{name}}'), each replaced by a properly quoted value. Pure.
import * as fs from "fs";
import * as path from "path";
import type { AccessLevel, AccessMode } from "./config";
import { DATA_ACCESS_ROLES, KEY_ACCESS_ROLES } from "./roles";

/** Resource Manager API version for the keys POST: a current stable one (the tutorial's 2016-03-31 is obsolete). */
export const ARM_API_VERSION = "2025-10-15";

const TEMPLATE_PATH = path.join(__dirname, "keyFetchScript.ps1");

/** The stack's values that become the script's parameter defaults. */
export interface KeyFetchScriptValues {
    subscriptionId: string;
    resourceGroupName: string;
    accountName: string;
    accessLevel: AccessLevel;
    /** keys: fetch keys and read with them; rbac: read with an Entra ID token, no keys. */
    accessMode: AccessMode;
    databaseName: string;
    containerName: string;
    /** With trailing slash: it is also the token resource, e.g. https://management.azure.com/. */
    resourceManagerEndpoint: string;
    /** The account's data-plane endpoint, e.g. https://name.documents.azure.com:443/. */
    cosmosEndpoint: string;
}

let template: string | undefined;

/** Quotes a value as a PowerShell single-quoted string: nothing inside is expanded. */
export function psQuote(value: string): string {
    // PowerShell also treats the typographic quotes U+2018..U+201B as single quotes: double them all.
    return `'${value.replace(/['\u2018\u2019\u201a\u201b]/g, (quote) => quote + quote)}'`;
}

export function renderKeyFetchScript(values: KeyFetchScriptValues): string {
    template ??= fs.readFileSync(TEMPLATE_PATH, "utf8");
    const fields: Record<string, string> = {
        ...values,
        armApiVersion: ARM_API_VERSION,
        readonlyRoleName: KEY_ACCESS_ROLES.readonly.name,
        readonlyRoleId: KEY_ACCESS_ROLES.readonly.id,
        readwriteRoleName: KEY_ACCESS_ROLES.readwrite.name,
        readwriteRoleId: KEY_ACCESS_ROLES.readwrite.id,
        readonlyDataRoleName: DATA_ACCESS_ROLES.readonly.name,
        readonlyDataRoleId: DATA_ACCESS_ROLES.readonly.id,
        readwriteDataRoleName: DATA_ACCESS_ROLES.readwrite.name,
        readwriteDataRoleId: DATA_ACCESS_ROLES.readwrite.id,
    };
    const used = new Set<string>();
    const script = template.replace(/'\{\{(\w+)\}\}'/g, (_match, name: string) => {
        const value = fields[name];
        if (value === undefined) throw new Error(`key-fetch script template: no value for {{${name}}}`);
        used.add(name);
        return psQuote(value);
    });
    const unused = Object.keys(fields).filter((name) => !used.has(name));
    if (unused.length > 0) throw new Error(`key-fetch script template: no placeholder for ${unused.join(", ")}`);
    return script;
}
