// Azure RBAC evaluation for preflight: does a caller's permission list (Resource Manager's
// `Microsoft.Authorization/permissions` answer) allow an action, and does a deny assignment take it
// away? Pure. Semantics (Azure RBAC docs): an action is allowed when one permission entry lists it in
// `actions` and the same entry does not list it in `notActions`; `*` matches any characters and
// matching is case-insensitive. Deny assignments win over every allow.

export interface Permission {
    actions?: string[];
    notActions?: string[];
    dataActions?: string[];
    notDataActions?: string[];
    /** ABAC condition on the role assignment behind this entry (newer api-versions report it). */
    condition?: string | null;
    conditionVersion?: string | null;
}

/** Whether an RBAC action pattern (with `*` wildcards) covers an action. */
export function actionMatches(pattern: string, action: string): boolean {
    const regex = new RegExp(`^${pattern.split("*").map(escapeRegex).join(".*")}$`, "i");
    return regex.test(action);
}

function escapeRegex(text: string): string {
    return text.replace(/[.+?^${}()|[\]\\]/g, "\\$&");
}

const coveredBy = (patterns: string[] | undefined, action: string) => (patterns ?? []).some((pattern) => actionMatches(pattern, action));

export interface ActionVerdict {
    action: string;
    allowed: boolean;
    /** Allowed only by entries that carry an ABAC condition, which preflight cannot evaluate. */
    onlyUnderCondition: boolean;
}

export function evaluateActions(permissions: Permission[], actions: string[]): ActionVerdict[] {
    return actions.map((action) => {
        const granting = permissions.filter((entry) => coveredBy(entry.actions, action) && !coveredBy(entry.notActions, action));
        return {
            action,
            allowed: granting.length > 0,
            onlyUnderCondition: granting.length > 0 && granting.every((entry) => typeof entry.condition === "string" && entry.condition.length > 0),
        };
    });
}

export interface DenyAssignmentPrincipal {
    id?: string;
    type?: string;
}

/** The fields of a deny assignment (Microsoft.Authorization/denyAssignments) that decide whether it applies. */
export interface DenyAssignment {
    name?: string;
    denyAssignmentName?: string;
    scope?: string;
    permissions?: Permission[];
    principals?: DenyAssignmentPrincipal[];
    excludePrincipals?: DenyAssignmentPrincipal[];
    doNotApplyToChildScopes?: boolean;
}

/** The "Everyone" principal of deny assignments. */
export const EVERYONE = "00000000-0000-0000-0000-000000000000";

export interface DenyVerdict {
    assignment: string;
    actions: string[];
    /** False when it names a group: the caller may or may not be a member. */
    certain: boolean;
}

/**
 * Deny assignments (at or above the subscription) that take away one of the actions from the caller.
 * Everything the stack creates sits in a new resource group below the subscription, so an
 * assignment that does not apply to child scopes cannot block it.
 */
export function denyingAssignments(assignments: DenyAssignment[], actions: string[], principalId: string): DenyVerdict[] {
    const verdicts: DenyVerdict[] = [];
    for (const assignment of assignments) {
        if (assignment.doNotApplyToChildScopes) continue;
        const excluded = (assignment.excludePrincipals ?? []).some((principal) => sameId(principal.id, principalId));
        if (excluded) continue;
        const principals = assignment.principals ?? [];
        const direct = principals.some((principal) => sameId(principal.id, principalId) || sameId(principal.id, EVERYONE));
        const viaGroup = principals.some((principal) => principal.type === "Group");
        if (!direct && !viaGroup) continue;
        const denied = actions.filter((action) => (assignment.permissions ?? []).some((entry) => coveredBy(entry.actions, action) && !coveredBy(entry.notActions, action)));
        if (denied.length > 0) {
            verdicts.push({ assignment: assignment.denyAssignmentName ?? assignment.name ?? "(unnamed)", actions: denied, certain: direct });
        }
    }
    return verdicts;
}

function sameId(a: string | undefined, b: string): boolean {
    return a !== undefined && a.toLowerCase() === b.toLowerCase();
}
