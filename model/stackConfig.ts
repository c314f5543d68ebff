// A stack's configuration as the Pulumi CLI hands it to the program, read from the project's files
// without the CLI: Pulumi.yaml's declared defaults overridden by Pulumi.<stack>.yaml, secrets as
// placeholders. Shared by the commands that evaluate the program offline (plan, preflight, impact, bench).
import * as fs from "fs";
import * as path from "path";
import { parse } from "yaml";
import { PROJECT } from "../lib/config";

const PROJECT_ROOT = path.resolve(__dirname, "..");

/** Stands in for a secret the plan cannot decrypt; it meets the password rules so validation passes. */
export const SECRET_PLACEHOLDER = "Plan-Secret-Placeholder-0";
export interface StackSettings {
    /** The project's name in Pulumi.yaml: the namespace of the program's keys (`pulumi new` may have renamed it). */
    project: string;
    config: Record<string, string>;
    secretKeys: string[];
}

/** The config the CLI hands the program: Pulumi.yaml's declared defaults, overridden by the stack file. */
export function loadStackConfig(stack: string, root = PROJECT_ROOT): StackSettings {
    const project = parse(fs.readFileSync(path.join(root, "Pulumi.yaml"), "utf8")) as { name?: string; config?: Record<string, { default?: unknown }> };
    const namespace = project.name ?? PROJECT;
    const stackFile = path.join(root, `Pulumi.${stack}.yaml`);
    if (!fs.existsSync(stackFile)) throw new Error(`no stack file ${path.basename(stackFile)} in ${root}`);
    const stackConfig = (parse(fs.readFileSync(stackFile, "utf8")) as { config?: Record<string, unknown> } | null)?.config ?? {};
    const config: Record<string, string> = {};
    const secretKeys: string[] = [];
    const asConfigString = (value: unknown) => (typeof value === "string" ? value : JSON.stringify(value));
    for (const [key, declaration] of Object.entries(project.config ?? {})) {
        if (declaration && "default" in declaration) config[`${namespace}:${key}`] = asConfigString(declaration.default);
    }
    for (const [key, value] of Object.entries(stackConfig)) {
        const fullKey = key.includes(":") ? key : `${namespace}:${key}`;
        if (value !== null && typeof value === "object" && "secure" in value) {
            config[fullKey] = SECRET_PLACEHOLDER;
            secretKeys.push(fullKey);
        } else {
            config[fullKey] = asConfigString(value);
        }
    }
    return { project: namespace, config, secretKeys };
}
