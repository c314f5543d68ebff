// PowerShell, read with a real grammar: the tree-sitter PowerShell grammar (WebAssembly) parses the
// rendered script, and small, explicit helpers read facts off the parse tree. A tiny interpreter
// evaluates the straight-line parts (string building, URLs, the Cosmos DB signature) with .NET
// methods mapped to Node equivalents, so tests check what the script computes, not how it reads.
import * as crypto from "node:crypto";
import { Language, Node, Parser, Tree } from "web-tree-sitter";

let parserPromise: Promise<Parser> | undefined;

function getParser(): Promise<Parser> {
    parserPromise ??= (async () => {
        await Parser.init();
        const language = await Language.load(require.resolve("tree-sitter-powershell/tree-sitter-powershell.wasm"));
        const parser = new Parser();
        parser.setLanguage(language);
        return parser;
    })();
    return parserPromise;
}

export async function parsePowerShell(source: string): Promise<Tree> {
    const tree = (await getParser()).parse(source);
    if (!tree) throw new Error("the PowerShell parser returned no tree");
    return tree;
}

/** Every node of the tree, depth first. */
export function allNodes(root: Node): Node[] {
    const nodes: Node[] = [];
    const visit = (node: Node) => {
        nodes.push(node);
        for (const child of node.children) if (child) visit(child);
    };
    visit(root);
    return nodes;
}

/** ERROR and MISSING nodes, as "line:column text" strings. */
export function syntaxErrors(tree: Tree): string[] {
    return allNodes(tree.rootNode)
        .filter((node) => node.type === "ERROR" || node.isMissing)
        .map((node) => `${node.startPosition.row + 1}:${node.startPosition.column + 1} ${node.isMissing ? "missing " : ""}${node.text.slice(0, 60)}`);
}

/** Strips the single-child wrappers the grammar puts around every expression (pipeline, logical_expression, ...). */
export function unwrap(node: Node): Node {
    let current = node;
    while (current.namedChildCount === 1 && current.namedChildren[0] && current.namedChildren[0].text === current.text
        && !["string_literal", "command", "parenthesized_expression", "array_expression", "sub_expression"].includes(current.type)) {
        current = current.namedChildren[0];
    }
    return current;
}

function named(node: Node): Node[] {
    return node.namedChildren.filter((child): child is Node => child !== null && child.type !== "comment");
}

// ---------------------------------------------------------------------------------------------
// Windows PowerShell 5.1 compatibility.

/** Cmdlets that Windows PowerShell 5.1 does not have (added in PowerShell 6 or 7). */
const PS7_ONLY_COMMANDS = new Set([
    "join-string", "get-error", "test-json", "convertfrom-markdown", "show-markdown", "get-markdownoption",
    "set-markdownoption", "remove-alias", "get-uptime", "remove-service",
]);

/** Parameters that exist only in PowerShell 6+, per cmdlet (lower case). */
const PS7_ONLY_PARAMETERS: Record<string, string[]> = {
    "invoke-webrequest": ["noproxy", "authentication", "token", "skiphttperrorcheck", "maximumretrycount", "retryintervalsec",
        "skipcertificatecheck", "statuscodevariable", "responseheadersvariable", "sslprotocol", "form", "resume", "httpversion",
        "connectiontimeoutseconds", "operationtimeoutseconds", "allowunencryptedauthentication", "preserveauthorizationonredirect",
        "custommethod", "skipheadervalidation", "allowinsecureredirect", "preservehttpmethodonredirect", "unixsocket"],
    "convertfrom-json": ["ashashtable", "depth", "noenumerate", "datekind"],
    "convertto-json": ["enumsasstrings", "asarray", "escapehandling"],
    "get-content": ["asbytestream"],
    "set-content": ["asbytestream"],
    "foreach-object": ["parallel", "throttlelimit", "asjob"],
    "start-sleep": ["duration"],
    "get-date": ["asutc", "unixtimeseconds"],
    "split-path": ["extension", "leafbase"],
    "select-object": ["skipindex"],
    "test-connection": ["targetname", "tcpport", "mtusize", "traceroute"],
};
PS7_ONLY_PARAMETERS["invoke-restmethod"] = PS7_ONLY_PARAMETERS["invoke-webrequest"];
const COMMAND_ALIASES: Record<string, string> = { iwr: "invoke-webrequest", irm: "invoke-restmethod", "%": "foreach-object", foreach: "foreach-object", curl: "invoke-webrequest", wget: "invoke-webrequest" };

/** Automatic variables that PowerShell 6+ defines and 5.1 does not. */
const PS7_ONLY_VARIABLES = new Set(["$iswindows", "$islinux", "$ismacos", "$iscoreclr", "$psstyle", "$psnativecommanduseerroractionpreference"]);

/** Encodings named differently (or not at all) in 5.1's -Encoding parameters. */
const PS7_ONLY_ENCODINGS = new Set(["utf8nobom", "utf8bom", "ansi"]);

export interface InvokedCommand {
    name: string;
    node: Node;
    /** Parameters by lower-case name (without the dash): their argument node, or null for a switch. */
    parameters: Map<string, Node | null>;
    positional: Node[];
}

/** Every command invocation, with its parameters read off the parse tree. */
export function commands(root: Node, name?: string): InvokedCommand[] {
    const found: InvokedCommand[] = [];
    for (const node of allNodes(root).filter((n) => n.type === "command")) {
        const nameNode = node.childForFieldName("command_name");
        if (!nameNode) continue;
        const commandName = nameNode.text.replace(/^['"]|['"]$/g, "");
        if (name !== undefined && commandName.toLowerCase() !== name.toLowerCase()) continue;
        const parameters = new Map<string, Node | null>();
        const positional: Node[] = [];
        const elements = node.childForFieldName("command_elements");
        const items = elements ? named(elements).filter((child) => child.type !== "command_argument_sep") : [];
        for (let i = 0; i < items.length; i++) {
            const item = items[i];
            if (item.type === "command_parameter") {
                const next = items[i + 1];
                const takesValue = next !== undefined && next.type !== "command_parameter";
                parameters.set(item.text.slice(1).replace(/:$/, "").toLowerCase(), takesValue && !isSwitchValue(item) ? next : null);
                if (takesValue && !isSwitchValue(item)) i++;
            } else {
                positional.push(item);
            }
        }
        found.push({ name: commandName, node, parameters, positional });
    }
    return found;
}

// Switch parameters of the script's own functions and the cmdlets it calls: they never take the next token.
const SWITCHES = new Set(["bypassproxy", "usebasicparsing", "showkeys", "passthru", "force"]);
function isSwitchValue(parameter: Node): boolean {
    return SWITCHES.has(parameter.text.slice(1).toLowerCase());
}

/** Windows PowerShell 5.1 problems: PowerShell 7 operators, cmdlets, parameters and variables. */
export function ps51Problems(tree: Tree): string[] {
    const problems: string[] = [];
    const at = (node: Node) => `${node.startPosition.row + 1}:${node.startPosition.column + 1}`;
    for (const node of allNodes(tree.rootNode)) {
        if (node.type === "pipeline_chain_tail") problems.push(`${at(node)} pipeline chain operator ${node.text.trim()} (PowerShell 7)`);
        if (node.type === "variable" && PS7_ONLY_VARIABLES.has(node.text.toLowerCase())) problems.push(`${at(node)} automatic variable ${node.text} (PowerShell 6+)`);
        if (!node.isNamed && /^(\?\?=?|\?\.|\?\[)$/.test(node.type)) problems.push(`${at(node)} operator ${node.type} (PowerShell 7)`);
        if (node.type === "ERROR" && /\?\?|\?\.|\s\?\s/.test(node.text)) problems.push(`${at(node)} null-coalescing, null-conditional or ternary operator (PowerShell 7)`);
    }
    for (const command of commands(tree.rootNode)) {
        const name = COMMAND_ALIASES[command.name.toLowerCase()] ?? command.name.toLowerCase();
        if (PS7_ONLY_COMMANDS.has(name)) problems.push(`${at(command.node)} cmdlet ${command.name} (PowerShell 6+)`);
        for (const [parameter, value] of command.parameters) {
            const ps7 = (PS7_ONLY_PARAMETERS[name] ?? []).find((full) => parameter.length >= 2 && full.startsWith(parameter));
            if (ps7) problems.push(`${at(command.node)} ${command.name} -${ps7} (PowerShell 6+)`);
            if (parameter === "encoding" && value && PS7_ONLY_ENCODINGS.has(value.text.replace(/['"]/g, "").toLowerCase())) {
                problems.push(`${at(command.node)} ${command.name} -Encoding ${value.text} (PowerShell 6+)`);
            }
        }
        if ((name === "invoke-webrequest" || name === "invoke-restmethod") && !command.parameters.has("usebasicparsing")) {
            problems.push(`${at(command.node)} ${command.name} without -UseBasicParsing (fails where Internet Explorer was never initialised)`);
        }
        if (command.node.parent?.text.trimEnd().endsWith("&") && /\s&$/.test(command.node.parent.text.trimEnd())) {
            problems.push(`${at(command.node)} background operator & (PowerShell 6+)`);
        }
    }
    return problems;
}

// ---------------------------------------------------------------------------------------------
// Reading the script's structure.

export interface ScriptParameter {
    name: string;
    type: string;
    /** The default's source text, or undefined. */
    defaultText?: string;
    attributes: string[];
    node: Node;
}

/** Parameters of the script's own param() block (the one at the top, not a function's). */
export function scriptParameters(tree: Tree): ScriptParameter[] {
    const block = named(tree.rootNode).find((node) => node.type === "param_block");
    if (!block) return [];
    return parameterList(block);
}

function parameterList(block: Node): ScriptParameter[] {
    return allNodes(block).filter((node) => node.type === "script_parameter").map((parameter) => {
        const variable = named(parameter).find((child) => child.type === "variable");
        const attributeList = named(parameter).find((child) => child.type === "attribute_list");
        const attributes = attributeList ? named(attributeList).map((attribute) => attribute.text) : [];
        const typeAttribute = attributes.find((text) => /^\[[\w.]+\]$/.test(text));
        const defaultNode = named(parameter).find((child) => child.type === "script_parameter_default");
        return {
            name: (variable?.text ?? "").slice(1),
            type: typeAttribute ? typeAttribute.slice(1, -1) : "object",
            defaultText: defaultNode ? named(defaultNode)[0]?.text : undefined,
            attributes,
            node: parameter,
        };
    });
}

/** A function's definition node, by name (case-insensitive). */
export function functionDefinition(root: Node, name: string): Node {
    const definition = allNodes(root).find((node) => node.type === "function_statement"
        && named(node).find((child) => child.type === "function_name")?.text.toLowerCase() === name.toLowerCase());
    if (!definition) throw new Error(`no function ${name} in the script`);
    return definition;
}

export function functionParameters(definition: Node): ScriptParameter[] {
    const block = allNodes(definition).find((node) => node.type === "param_block");
    return block ? parameterList(block) : [];
}

/** The statements of a function body or of the script, in order (assignments, commands, try, if, ...). */
export function statements(node: Node): Node[] {
    const list = node.type === "statement_list" ? node : allNodes(node).find((child) => child.type === "statement_list");
    return list ? named(list) : [];
}

/** Assignments `$name = ...` anywhere below node, in source order. */
export function assignmentsTo(root: Node, variable: string): Node[] {
    return allNodes(root).filter((node) => node.type === "assignment_expression"
        && unwrap(named(node)[0]).text.toLowerCase() === `$${variable.toLowerCase()}`);
}

/** The value side of an assignment. */
export function assignedValue(assignment: Node): Node {
    const parts = named(assignment);
    return parts[parts.length - 1];
}

/** Whether node lies inside an `if` whose condition is exactly `$variable`. */
export function guardedBy(node: Node, variable: string): boolean {
    for (let current = node.parent; current; current = current.parent) {
        if (current.type === "if_statement") {
            const condition = current.childForFieldName("condition");
            if (condition && unwrap(condition).text.toLowerCase() === `$${variable.toLowerCase()}`) return true;
        }
    }
    return false;
}

// ---------------------------------------------------------------------------------------------
// A tiny interpreter for straight-line PowerShell.

export type PsValue = unknown;

/** Variables are case-insensitive in PowerShell. */
export class Scope {
    private readonly vars = new Map<string, PsValue>();
    constructor(private readonly parent?: Scope) {}
    get(name: string): PsValue {
        const key = name.toLowerCase();
        if (this.vars.has(key)) return this.vars.get(key);
        if (this.parent) return this.parent.get(name);
        throw new Error(`variable $${name} is not set`);
    }
    set(name: string, value: PsValue): void {
        this.vars.set(name.toLowerCase(), value);
    }
    has(name: string): boolean {
        return this.vars.has(name.toLowerCase()) || (this.parent?.has(name) ?? false);
    }
}

class PsHashtable {
    constructor(readonly entries: Map<string, PsValue>) {}
    get(key: string): PsValue {
        for (const [name, value] of this.entries) if (name.toLowerCase() === key.toLowerCase()) return value;
        return null;
    }
}

class Hmac {
    constructor(readonly key: Buffer) {}
}

class Return {
    constructor(readonly value: PsValue) {}
}

/** The .NET members the script uses, mapped to Node. Anything else is an error, not a guess. */
export interface InterpreterHooks {
    /** What [DateTime]::UtcNow returns. */
    now?: Date;
    /** Commands other than New-Object: name (lower case) to implementation. */
    commands?: Record<string, (invocation: InvokedCommand, evaluate: (node: Node) => PsValue) => PsValue>;
}

function truthy(value: PsValue): boolean {
    if (Array.isArray(value)) return value.length > 0;
    return Boolean(value);
}

/** PowerShell's comparison operators (case-insensitive by default), on strings and numbers. */
function compare(left: PsValue, operator: string, right: PsValue): boolean {
    const fold = (value: PsValue) => (typeof value === "string" ? value.toLowerCase() : value);
    const [a, b] = [fold(left), fold(right)];
    switch (operator) {
        case "-eq": return a === b || (typeof a === "number" || typeof b === "number" ? Number(a) === Number(b) : false);
        case "-ne": return !compare(left, "-eq", right);
        case "-lt": return Number(a) < Number(b);
        case "-le": return Number(a) <= Number(b);
        case "-gt": return Number(a) > Number(b);
        case "-ge": return Number(a) >= Number(b);
        case "-in": return Array.isArray(right) && right.some((item) => compare(left, "-eq", item));
        case "-match": return new RegExp(String(right), "i").test(String(left));
        default: throw new Error(`unsupported comparison ${operator}`);
    }
}

/** A named argument, matched case-insensitively as PowerShell binds parameters. */
function argument(args: Record<string, PsValue>, name: string): PsValue {
    const key = Object.keys(args).find((candidate) => candidate.toLowerCase() === name.toLowerCase());
    return key === undefined ? null : args[key];
}

/** [Uri]::EscapeDataString: RFC 3986 unreserved characters stay, everything else is %XX (upper case). */
function escapeDataString(value: string): string {
    return encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

export class Interpreter {
    constructor(private readonly tree: Tree, private readonly hooks: InterpreterHooks = {}) {}

    /** The script scope: parameter defaults (or overrides) and the top-level plain-variable assignments of constants. */
    scriptScope(overrides: Record<string, PsValue> = {}): Scope {
        const scope = new Scope();
        scope.set("true", true);
        scope.set("false", false);
        scope.set("null", null);
        for (const parameter of scriptParameters(this.tree)) {
            const value = overrides[parameter.name] !== undefined ? overrides[parameter.name]
                : parameter.defaultText !== undefined ? this.evaluate(named(allNodes(parameter.node).find((n) => n.type === "script_parameter_default")!)[0], scope)
                : parameter.type === "switch" ? false : null;
            scope.set(parameter.name, value);
        }
        for (const statement of statements(this.tree.rootNode)) {
            const assignment = unwrap(statement);
            if (assignment.type !== "assignment_expression") continue;
            const target = unwrap(named(assignment)[0]);
            if (target.type !== "variable") continue;
            scope.set(target.text.slice(1), this.evaluate(assignedValue(assignment), scope));
        }
        return scope;
    }

    /** Calls a script function with named arguments; runs its body, which must be straight-line. */
    call(name: string, args: Record<string, PsValue>, scope: Scope = this.scriptScope()): PsValue {
        const definition = functionDefinition(this.tree.rootNode, name);
        const local = new Scope(scope);
        for (const parameter of functionParameters(definition)) local.set(parameter.name, argument(args, parameter.name));
        const body = allNodes(definition).find((node) => node.type === "statement_list" && node.parent?.type !== "param_block");
        if (!body) throw new Error(`function ${name} has no body`);
        const result = this.run(named(body), local);
        return result instanceof Return ? result.value : undefined;
    }

    /**
     * Binds a function's parameters and walks its body once, in order, evaluating plain-variable
     * assignments (the first of each wins), descending only into the branch an `if` takes when its
     * condition can be evaluated, and once into loop and try bodies. What it cannot evaluate (a
     * request, a clock read) it leaves unset.
     */
    functionLocals(name: string, args: Record<string, PsValue>, scope: Scope = this.scriptScope()): Scope {
        const definition = functionDefinition(this.tree.rootNode, name);
        const local = new Scope(scope);
        for (const parameter of functionParameters(definition)) local.set(parameter.name, argument(args, parameter.name));
        const body = allNodes(definition).find((node) => node.type === "statement_list" && node.parent?.type !== "param_block");
        if (body) this.walk(named(body), local);
        return local;
    }

    private walk(nodes: Node[], scope: Scope): void {
        for (const raw of nodes) {
            const node = unwrap(raw);
            if (node.type === "assignment_expression") {
                const target = unwrap(named(node)[0]);
                if (target.type !== "variable" || scope.has(target.text.slice(1))) continue;
                try {
                    scope.set(target.text.slice(1), this.evaluate(assignedValue(node), scope));
                } catch {
                    // Not straight-line: left unset.
                }
            } else if (node.type === "if_statement") {
                let taken: boolean;
                try {
                    taken = truthy(this.evaluate(node.childForFieldName("condition")!, scope));
                } catch {
                    continue; // unknown condition: neither branch
                }
                const block = taken
                    ? named(node).find((child) => child.type === "statement_block")
                    : node.childForFieldName("else_clause") ? named(node.childForFieldName("else_clause")!).find((child) => child.type === "statement_block") : undefined;
                if (block) this.walk(statements(block), scope);
            } else if (["while_statement", "for_statement", "foreach_statement", "try_statement"].includes(node.type)) {
                const block = named(node).find((child) => child.type === "statement_block");
                if (block) this.walk(statements(block), scope);
            }
        }
    }

    private run(nodes: Node[], scope: Scope): PsValue | Return {
        for (const raw of nodes) {
            const node = unwrap(raw);
            if (node.type === "flow_control_statement") {
                const keyword = node.text.split(/\s/)[0].toLowerCase();
                if (keyword !== "return") throw new Error(`unsupported flow control: ${keyword}`);
                const value = named(node)[0];
                return new Return(value ? this.evaluate(value, scope) : null);
            }
            if (node.type === "try_statement") {
                const block = named(node).find((child) => child.type === "statement_block");
                const finallyClause = named(node).find((child) => child.type === "finally_clause");
                try {
                    const result = this.run(block ? statements(block) : [], scope);
                    if (result instanceof Return) return result;
                } finally {
                    const finallyBlock = finallyClause ? named(finallyClause).find((child) => child.type === "statement_block") : undefined;
                    if (finallyBlock) this.run(statements(finallyBlock), scope);
                }
                continue;
            }
            if (node.type === "assignment_expression") {
                const target = unwrap(named(node)[0]);
                if (target.type !== "variable") throw new Error(`unsupported assignment target ${target.text}`);
                scope.set(target.text.slice(1), this.evaluate(assignedValue(node), scope));
                continue;
            }
            this.evaluate(node, scope);
        }
        return undefined;
    }

    evaluate(raw: Node, scope: Scope): PsValue {
        const node = unwrap(raw);
        // Inside method arguments the grammar has *_argument_expression twins of the expression nodes.
        switch (node.type.replace(/_argument_expression$/, "_expression")) {
            case "decimal_integer_literal":
            case "integer_literal":
                return Number(node.text);
            case "variable":
                return scope.get(node.text.replace(/^\$/, "").replace(/^\{|\}$/g, ""));
            case "string_literal":
                return this.evaluateString(node, scope);
            case "parenthesized_expression":
            case "sub_expression":
                return this.evaluate(named(node)[0], scope);
            case "array_expression": {
                const inner = named(node)[0];
                if (!inner) return [];
                const value = this.evaluate(inner, scope);
                return Array.isArray(value) ? value : [value];
            }
            case "array_literal_expression":
                return named(node).map((child) => this.evaluate(child, scope));
            case "expression_with_unary_operator": {
                const operator = node.text.trim()[0];
                const operand = this.evaluate(named(node)[0], scope);
                if (operator === ",") return [operand];
                if (operator === "-") return -(operand as number);
                throw new Error(`unsupported unary operator in ${node.text}`);
            }
            case "additive_expression":
            case "multiplicative_expression": {
                const [left, right] = named(node).map((child) => this.evaluate(child, scope));
                const operator = node.text.slice(named(node)[0].endIndex - node.startIndex, named(node)[1].startIndex - node.startIndex).trim();
                if (operator === "+") return typeof left === "string" ? left + String(right) : (left as number) + (right as number);
                if (operator === "-") return (left as number) - (right as number);
                if (operator === "*") return (left as number) * (right as number);
                throw new Error(`unsupported operator ${operator}`);
            }
            case "hash_literal_expression": {
                const entries = new Map<string, PsValue>();
                const body = named(node).find((child) => child.type === "hash_literal_body");
                for (const entry of body ? named(body).filter((child) => child.type === "hash_entry") : []) {
                    const [key, value] = named(entry);
                    const keyNode = unwrap(key);
                    const name = keyNode.type === "string_literal" ? String(this.evaluateString(keyNode, scope)) : keyNode.text;
                    entries.set(name, this.evaluate(value, scope));
                }
                return new PsHashtable(entries);
            }
            case "element_access": {
                const [target, index] = named(node).map((child) => this.evaluate(child, scope));
                if (target instanceof PsHashtable) return target.get(String(index));
                if (Array.isArray(target)) return target[index as number];
                throw new Error(`unsupported element access ${node.text}`);
            }
            case "comparison_expression": {
                const [left, operatorNode, right] = named(node);
                return compare(this.evaluate(left, scope), operatorNode.text.toLowerCase(), this.evaluate(right, scope));
            }
            case "logical_expression": {
                const [left, right] = named(node);
                const operator = node.text.slice(left.endIndex - node.startIndex, right.startIndex - node.startIndex).trim().toLowerCase();
                const a = truthy(this.evaluate(left, scope));
                if (operator === "-and") return a && truthy(this.evaluate(right, scope));
                if (operator === "-or") return a || truthy(this.evaluate(right, scope));
                throw new Error(`unsupported logical operator ${operator}`);
            }
            case "cast_expression": {
                const [typeNode, valueNode] = named(node);
                const type = this.typeName(typeNode);
                const value = this.evaluate(valueNode, scope);
                if (type === "uri") return new URL(String(value));
                if (type === "string") return String(value);
                if (type === "int") return Math.trunc(Number(value));
                throw new Error(`unsupported cast [${type}]`);
            }
            case "member_access":
                return this.member(node, scope);
            case "invokation_expression":
                return this.invoke(node, scope);
            case "command":
                return this.command(node, scope);
            default:
                throw new Error(`the test interpreter does not support ${node.type}: ${node.text.slice(0, 80)}`);
        }
    }

    private evaluateString(node: Node, scope: Scope): string {
        const inner = named(node)[0];
        if (!inner) return "";
        // PowerShell treats ' and the typographic quotes U+2018..U+201B alike; a doubled one stands for one.
        if (inner.type === "verbatim_string_characters") return inner.text.slice(1, -1).replace(/(['\u2018-\u201b])['\u2018-\u201b]/g, "$1");
        if (inner.type !== "expandable_string_literal") throw new Error(`unsupported string ${node.text}`);
        // Literal text between the embedded expressions, with backtick escapes.
        const text = inner.text;
        let result = "";
        let position = 1; // after the opening quote
        const literal = (chunk: string) => chunk
            .replace(/`([0abfnrtv`"'$])/g, (_m, c: string) => ({ "0": "\0", a: "\x07", b: "\b", f: "\f", n: "\n", r: "\r", t: "\t", v: "\v" } as Record<string, string>)[c] ?? c)
            .replace(/""/g, '"');
        for (const part of named(inner)) {
            const start = part.startIndex - inner.startIndex;
            result += literal(text.slice(position, start));
            const value = this.evaluate(part, scope);
            result += Array.isArray(value) ? value.join(" ") : String(value ?? "");
            position = part.endIndex - inner.startIndex;
        }
        return result + literal(text.slice(position, text.length - 1));
    }

    private typeName(node: Node): string {
        return node.text.replace(/^\[|\]$/g, "").toLowerCase().replace(/^system\./, "");
    }

    private member(node: Node, scope: Scope): PsValue {
        const [targetNode, memberNode] = named(node);
        const member = memberNode.text.toLowerCase();
        const target = unwrap(targetNode);
        if (target.type === "type_literal") {
            const type = this.typeName(target);
            if (type === "text.encoding" && member === "utf8") return "utf8-encoding";
            if (type === "datetime" && member === "utcnow") return this.hooks.now ?? new Date();
            if (type === "uripartial") return memberNode.text;
            throw new Error(`unsupported static member [${type}]::${member}`);
        }
        const value = this.evaluate(target, scope);
        if (value instanceof PsHashtable) return value.get(member);
        if (value !== null && typeof value === "object") {
            const key = Object.keys(value).find((name) => name.toLowerCase() === member);
            if (key !== undefined) return (value as Record<string, PsValue>)[key];
        }
        throw new Error(`unsupported member ${node.text}`);
    }

    private invoke(node: Node, scope: Scope): PsValue {
        const parts = named(node);
        const targetNode = unwrap(parts[0]);
        const method = parts[1].text.toLowerCase();
        const argumentList = parts[2];
        const expressionList = argumentList ? named(argumentList).find((child) => child.type === "argument_expression_list") : undefined;
        const args = expressionList ? named(expressionList).map((child) => this.evaluate(child, scope)) : [];
        if (targetNode.type === "type_literal") {
            const type = this.typeName(targetNode);
            const call = `${type}::${method}`;
            switch (call) {
                case "uri::escapedatastring": return escapeDataString(String(args[0]));
                case "convert::frombase64string": return Buffer.from(String(args[0]), "base64");
                case "convert::tobase64string": return (args[0] as Buffer).toString("base64");
                case "math::min": return Math.min(args[0] as number, args[1] as number);
                case "math::max": return Math.max(args[0] as number, args[1] as number);
                case "math::pow": return Math.pow(args[0] as number, args[1] as number);
                default: throw new Error(`unsupported static method [${type}]::${method}`);
            }
        }
        const target = this.evaluate(targetNode, scope);
        if (typeof target === "string") {
            if (method === "tolowerinvariant" || method === "tolower") return target.toLowerCase();
            if (method === "toupperinvariant") return target.toUpperCase();
            if (method === "trimend") {
                let result = target;
                const chars = args.map(String).join("");
                while (result.length > 0 && chars.includes(result[result.length - 1])) result = result.slice(0, -1);
                return result;
            }
            if (method === "split") return target.split(String(args[0]));
            if (method === "replace") return target.split(String(args[0])).join(String(args[1]));
        }
        if (target === "utf8-encoding" && method === "getbytes") return Buffer.from(String(args[0]), "utf8");
        if (target instanceof Hmac && method === "computehash") return crypto.createHmac("sha256", target.key).update(args[0] as Buffer).digest();
        if (target instanceof Hmac && method === "dispose") return undefined;
        if (target instanceof Date && method === "tostring" && args[0] === "r") return target.toUTCString();
        // Uri.GetLeftPart(Authority): scheme and host, without a default port.
        if (target instanceof URL && method === "getleftpart" && args[0] === "Authority") return target.origin;
        throw new Error(`unsupported method call ${node.text.slice(0, 80)}`);
    }

    private command(node: Node, scope: Scope): PsValue {
        const invocation = commands(node)[0];
        const name = invocation.name.toLowerCase();
        if (name === "new-object") {
            const typeName = (invocation.parameters.get("typename") ?? invocation.positional[0])?.text.replace(/^System\./i, "").toLowerCase();
            const argumentList = invocation.parameters.get("argumentlist");
            const args = argumentList ? this.evaluate(argumentList, scope) : [];
            if (typeName === "security.cryptography.hmacsha256") return new Hmac((args as Buffer[])[0]);
            throw new Error(`unsupported New-Object ${typeName}`);
        }
        const implementation = this.hooks.commands?.[name];
        if (implementation) return implementation(invocation, (child) => this.evaluate(child, scope));
        // A function of the script itself: bind named arguments and run it.
        if (allNodes(this.tree.rootNode).some((n) => n.type === "function_statement" && n.text.toLowerCase().startsWith(`function ${name}`))) {
            const args: Record<string, PsValue> = {};
            for (const [parameter, value] of invocation.parameters) args[parameter] = value ? this.evaluate(value, scope) : true;
            return this.call(invocation.name, args, scope);
        }
        throw new Error(`unsupported command ${invocation.name}`);
    }
}
