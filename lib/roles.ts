// Built-in Azure roles the stack grants, the Resource Manager operations the key-fetch script calls,
// and the key properties those operations return: the single source, rendered into the script too.
import type { AccessLevel } from "./config";

export interface KeyAccessRole {
    /** Built-in role name, as the portal and `az role assignment list` show it. */
    name: string;
    /** Built-in role definition GUID: the same in every tenant. */
    id: string;
    /** The POST the key-fetch script makes on the account: it needs this role's data action. */
    keysOperation: "readonlykeys" | "listKeys";
    /** The permission that operation checks, for error messages. */
    action: string;
    /** The response property holding the key the script proves by reading the container. */
    primaryKeyProperty: string;
    /** Every key property the operation's response carries (REST "Database Accounts - List Keys / List Read Only Keys"). */
    keyProperties: readonly string[];
}

/**
 * Control-plane roles that let an identity read Cosmos DB account keys. The Account Reader role can
 * call readonlykeys but not listKeys (a 403 the tutorial's readers hit), so the role and the
 * operation are chosen together here, once.
 */
export const KEY_ACCESS_ROLES: Record<AccessLevel, KeyAccessRole> = {
    readonly: {
        name: "Cosmos DB Account Reader Role",
        id: "fbdf93bf-df7d-467e-a4d2-9458aa1360c8",
        keysOperation: "readonlykeys",
        action: "Microsoft.DocumentDB/databaseAccounts/readonlykeys/action",
        primaryKeyProperty: "primaryReadonlyMasterKey",
        keyProperties: ["primaryReadonlyMasterKey", "secondaryReadonlyMasterKey"],
    },
    readwrite: {
        name: "DocumentDB Account Contributor",
        id: "5bd9cd88-fe45-4216-938b-f97437e15450",
        keysOperation: "listKeys",
        action: "Microsoft.DocumentDB/databaseAccounts/listKeys/action",
        primaryKeyProperty: "primaryMasterKey",
        keyProperties: ["primaryMasterKey", "secondaryMasterKey", "primaryReadonlyMasterKey", "secondaryReadonlyMasterKey"],
    },
};

/** Full role definition id, as role assignments take it. */
export function roleDefinitionId(subscriptionId: string, roleId: string): string {
    return `/subscriptions/${subscriptionId}/providers/Microsoft.Authorization/roleDefinitions/${roleId}`;
}

/** Cosmos DB data-plane roles (Cosmos DB RBAC, not Azure RBAC) for keyless access. */
export interface DataAccessRole {
    name: string;
    /** Built-in SQL role definition id: the same in every account. */
    id: string;
}

export const DATA_ACCESS_ROLES: Record<AccessLevel, DataAccessRole> = {
    readonly: { name: "Cosmos DB Built-in Data Reader", id: "00000000-0000-0000-0000-000000000001" },
    readwrite: { name: "Cosmos DB Built-in Data Contributor", id: "00000000-0000-0000-0000-000000000002" },
};

/** Full SQL role definition id, as Cosmos DB SQL role assignments take it. */
export function sqlRoleDefinitionId(accountId: string, roleId: string): string {
    return `${accountId}/sqlRoleDefinitions/${roleId}`;
}
