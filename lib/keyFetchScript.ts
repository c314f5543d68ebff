// Renders the key-fetch script: a PowerShell template whose placeholders are whole single-quoted
// literals ('{{name}}', a string) or bare ({{name}}, an integer or a list of strings), each replaced
// by a properly quoted value. The result is pure ASCII, so Windows PowerShell 5.1 reads it the same
// in any code page (it reads a UTF-8 file without BOM as ANSI). Pure.
import * as fs from "fs";
import * as path from "path";
import type { AccessLevel, AccessMode } from "./config";
import { DATA_ACCESS_ROLES, KEY_ACCESS_ROLES } from "./roles";

/** Resource Manager API version for the keys POST: a current stable one (the tutorial's 2016-03-31 is obsolete). */
export const ARM_API_VERSION = "2025-10-15";

/**
 * The script's overall deadline (its -DeadlineSeconds default): every wait ends by then and the
 * script exits with its own diagnosis. Run Command's timeout for the deploy-time run is derived
 * from it (components/keyFetchVerification.ts), with room for the agent to start the script.
 */
export const KEY_FETCH_DEADLINE_SECONDS = 2280;

/** What Run Command's timeout allows beyond the script's deadline: the agent starting the script. */
export const RUN_COMMAND_START_SECONDS = 120;

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

/**
 * A PowerShell expression for a string, in ASCII: a single-quoted literal (nothing inside is
 * expanded), with each non-ASCII UTF-16 code unit appended as [char]0xHHHH.
 */
export function psQuote(value: string): string {
    const parts: string[] = [];
    let literal = "";
    for (const unit of Array.from({ length: value.length }, (_, i) => value.charCodeAt(i))) {
        if (unit < 0x80) {
            // Doubling is how a single quote is written inside a single-quoted literal.
            literal += unit === 0x27 ? "''" : String.fromCharCode(unit);
        } else {
            if (literal !== "" || parts.length === 0) parts.push(`'${literal}'`);
            parts.push(`[char]0x${unit.toString(16).toUpperCase().padStart(4, "0")}`);
            literal = "";
        }
    }
    if (parts.length === 0) return `'${literal}'`;
    if (literal !== "") parts.push(`'${literal}'`);
    // The first term is a string, so + concatenates (two [char]s would add up as numbers).
    return `(${parts.join(" + ")})`;
}

type Field = string | number | readonly string[];

export function renderKeyFetchScript(values: KeyFetchScriptValues): string {
    template ??= fs.readFileSync(TEMPLATE_PATH, "utf8");
    const fields: Record<string, Field> = {
        ...values,
        armApiVersion: ARM_API_VERSION,
        deadlineSeconds: KEY_FETCH_DEADLINE_SECONDS,
        readonlyRoleName: KEY_ACCESS_ROLES.readonly.name,
        readonlyRoleId: KEY_ACCESS_ROLES.readonly.id,
        readonlyKeysOperation: KEY_ACCESS_ROLES.readonly.keysOperation,
        readonlyPrimaryKeyProperty: KEY_ACCESS_ROLES.readonly.primaryKeyProperty,
        readwriteRoleName: KEY_ACCESS_ROLES.readwrite.name,
        readwriteRoleId: KEY_ACCESS_ROLES.readwrite.id,
        readwriteKeysOperation: KEY_ACCESS_ROLES.readwrite.keysOperation,
        readwritePrimaryKeyProperty: KEY_ACCESS_ROLES.readwrite.primaryKeyProperty,
        keyProperties: [...new Set([...KEY_ACCESS_ROLES.readwrite.keyProperties, ...KEY_ACCESS_ROLES.readonly.keyProperties])],
        readonlyDataRoleName: DATA_ACCESS_ROLES.readonly.name,
        readonlyDataRoleId: DATA_ACCESS_ROLES.readonly.id,
        readwriteDataRoleName: DATA_ACCESS_ROLES.readwrite.name,
        readwriteDataRoleId: DATA_ACCESS_ROLES.readwrite.id,
    };
    const used = new Set<string>();
    const script = template.replace(/'\{\{(\w+)\}\}'|\{\{(\w+)\}\}/g, (_match, quoted: string | undefined, bare: string | undefined) => {
        const name = (quoted ?? bare)!;
        const value = fields[name];
        if (value === undefined) throw new Error(`key-fetch script template: no value for {{${name}}}`);
        used.add(name);
        if (quoted !== undefined) {
            if (typeof value !== "string") throw new Error(`key-fetch script template: '{{${name}}}' is quoted but not a string`);
            return psQuote(value);
        }
        if (typeof value === "number") {
            if (!Number.isSafeInteger(value)) throw new Error(`key-fetch script template: {{${name}}} is not an integer`);
            return String(value);
        }
        if (Array.isArray(value)) return `@(${value.map(psQuote).join(", ")})`;
        throw new Error(`key-fetch script template: {{${name}}} must be quoted: '{{${name}}}'`);
    });
    const unused = Object.keys(fields).filter((name) => !used.has(name));
    if (unused.length > 0) throw new Error(`key-fetch script template: no placeholder for ${unused.join(", ")}`);
    return script;
}
