// What the VM's identity can and cannot do in each access mode: one sentence per fact, for the
// `accessSummary` output and the README. Pure.
import type { AccessLevel, AccessMode } from "./config";
import { DATA_ACCESS_ROLES, KEY_ACCESS_ROLES } from "./roles";

export function describeAccess(mode: AccessMode, level: AccessLevel): string {
    if (mode === "keys") {
        const role = KEY_ACCESS_ROLES[level];
        const keys = level === "readonly" ? "the read-only keys (readonlykeys)" : "all keys (listKeys), read-write included";
        return `keys mode: the VM's identity holds ${role.name} on the account and can fetch ${keys} through Resource Manager. `
            + `Anyone holding a fetched key can ${level === "readonly" ? "read and query" : "read and write"} data until the key is regenerated; `
            + "keys cannot change databases, containers or throughput (key-based metadata writes are disabled).";
    }
    const role = DATA_ACCESS_ROLES[level];
    return `rbac mode: the VM's identity holds ${role.name} on the account and ${level === "readonly" ? "reads and queries" : "reads and writes"} data with Entra ID tokens. `
        + "Keys are disabled on the account (disableLocalAuth): no key works, and the identity cannot list keys or change the account.";
}
