// Tags: every taggable resource carries `project` and `stack`, plus the stack's own `tags` map.
// Pure: the rules Azure applies to tag names and values, checked before anything is declared.
//
// The tightest limits of the resources tagged here win: Cosmos DB accounts, databases and
// containers take at most 15 tags, names of at most 128 characters and values of at most 256
// (the Cosmos DB resource provider's `tags` description); Resource Manager refuses names with
// < > % & \ ? / and names starting with microsoft, azure or windows, which Azure reserves, and
// compares names without case (learn.microsoft.com, "Use tags to organize your Azure resources",
// Limitations).

/** Tags the stack sets itself on every taggable resource; a stack's `tags` may not override them. */
export const STACK_TAG_NAMES = ["project", "stack"] as const;
/** At most this many tags on a resource (Cosmos DB's limit, the lowest of the tagged types). */
export const MAX_TAGS = 15;
export const MAX_TAG_NAME_LENGTH = 128;
export const MAX_TAG_VALUE_LENGTH = 256;
const FORBIDDEN_NAME_CHARACTERS = /[<>%&\\?/]/;
const RESERVED_PREFIXES = ["microsoft", "azure", "windows"];

/**
 * The stack's `tags` config value (a JSON object, as `pulumi config set --path 'tags.owner' alice`
 * stores it) as a name-to-value map, with every rule it breaks. Values must be strings: Azure tag
 * values are strings, and Pulumi stores `true` or `42` set through --path as JSON booleans and numbers.
 */
export function parseTags(raw: string | undefined): { tags: Record<string, string>; problems: string[] } {
    if (raw === undefined || raw.trim() === "") return { tags: {}, problems: [] };
    let parsed: unknown;
    try {
        parsed = JSON.parse(raw);
    } catch {
        parsed = undefined;
    }
    if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
        return { tags: {}, problems: ['must be a map of tag names to values, e.g. `pulumi config set --path \'tags.costCenter\' "1234"`'] };
    }
    const tags: Record<string, string> = {};
    const problems: string[] = [];
    const seen = new Map<string, string>();
    for (const [name, value] of Object.entries(parsed as Record<string, unknown>)) {
        const label = JSON.stringify(name);
        if (typeof value !== "string") {
            problems.push(`${label}: the value must be a string (got ${JSON.stringify(value)}); quote it: pulumi config set --path 'tags.${name}' '"${String(value)}"'`);
            continue;
        }
        problems.push(...tagNameProblems(name).map((problem) => `${label}: ${problem}`));
        if (value.length > MAX_TAG_VALUE_LENGTH) problems.push(`${label}: the value must be at most ${MAX_TAG_VALUE_LENGTH} characters (got ${value.length})`);
        const folded = name.toLowerCase();
        const earlier = seen.get(folded);
        if (earlier !== undefined) problems.push(`${label}: Azure compares tag names without case, and ${JSON.stringify(earlier)} is already set`);
        seen.set(folded, name);
        tags[name] = value;
    }
    const room = MAX_TAGS - STACK_TAG_NAMES.length;
    if (Object.keys(tags).length > room) {
        problems.push(`at most ${room} tags (Cosmos DB takes ${MAX_TAGS} per resource, and the stack sets ${STACK_TAG_NAMES.join(" and ")}); got ${Object.keys(tags).length}`);
    }
    return { tags, problems };
}

function tagNameProblems(name: string): string[] {
    const problems: string[] = [];
    if (name.length === 0) problems.push("a tag name must not be empty");
    if (name.length > MAX_TAG_NAME_LENGTH) problems.push(`the name must be at most ${MAX_TAG_NAME_LENGTH} characters (got ${name.length})`);
    if (FORBIDDEN_NAME_CHARACTERS.test(name)) problems.push("the name must not contain < > % & \\ ? or /");
    const lower = name.toLowerCase();
    const reserved = RESERVED_PREFIXES.find((prefix) => lower.startsWith(prefix));
    if (reserved) problems.push(`names starting with "${reserved}" are reserved by Azure`);
    if ((STACK_TAG_NAMES as readonly string[]).includes(lower)) problems.push(`the stack sets "${lower}" itself (the Pulumi ${lower} name)`);
    return problems;
}

/** What every taggable resource carries: the stack's own two tags last, so that nothing can replace them. */
export function resourceTags(project: string, stack: string, userTags: Readonly<Record<string, string>>): Record<string, string> {
    return { ...userTags, project, stack };
}
