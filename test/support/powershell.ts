// PowerShell, read with a real grammar where pwsh is absent: the tree-sitter PowerShell grammar
// (WebAssembly) parses the rendered script, and small, explicit helpers read facts off the parse
// tree. What the script does is tested by running it (keyFetchScript.pwsh.test.ts); these checks
// are the part that needs no PowerShell.
import * as v8 from "node:v8";
import { Language, Node, Parser, Tree } from "web-tree-sitter";

let parserPromise: Promise<Parser> | undefined;

function getParser(): Promise<Parser> {
    parserPromise ??= (async () => {
        // V8 optimises the grammar's WebAssembly in the background (TurboFan tier-up) and does not
        // let the process exit before it is done: about 9 s of CPU per test file that parses, for
        // a handful of parses that its baseline compiler (Liftoff) runs in milliseconds.
        v8.setFlagsFromString("--liftoff-only");
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
