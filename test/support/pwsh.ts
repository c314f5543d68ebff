// PowerShell for the tests: finds pwsh, runs the key-fetch script through the driver
// (runKeyFetchScript.ps1) in one long-lived process, and finds the reference assemblies the
// Windows PowerShell 5.1 checks read. Without pwsh the PowerShell tests are skipped, with one
// line saying how to enable them; where CI=true or REQUIRE_PWSH=1, a missing pwsh is a failure.
import { ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { createInterface } from "node:readline";

export const PWSH_INSTALL = "dotnet tool install --global PowerShell --version 7.6.9";
export const NETFX_RESTORE = "dotnet restore test/support/netfx";

/** pwsh, in this order: $PWSH, pwsh on PATH, ~/.dotnet/tools/pwsh (where the .NET tool installs it). */
export function findPwsh(): string | undefined {
    const candidates = [process.env.PWSH];
    for (const dir of (process.env.PATH ?? "").split(path.delimiter).filter(Boolean)) candidates.push(path.join(dir, "pwsh"));
    candidates.push(path.join(os.homedir(), ".dotnet", "tools", "pwsh"));
    return candidates.find((candidate): candidate is string => {
        if (!candidate) return false;
        try {
            fs.accessSync(candidate, fs.constants.X_OK);
            return fs.statSync(candidate).isFile();
        } catch {
            return false;
        }
    });
}

/** CI must run the PowerShell tier: there a missing pwsh or reference assembly fails the run. */
export function powershellRequired(): boolean {
    return Boolean(process.env.CI) || process.env.REQUIRE_PWSH === "1";
}

export interface NetFxReferences {
    /** Directory of the .NET Framework 4.8 reference assemblies (with Facades/ below it). */
    net48: string;
    /** Windows PowerShell 5.1's API (PowerShell Standard 5.1), net452 reference assembly. */
    powershell51: string;
    /** System.Reflection.MetadataLoadContext for .NET 10 (loads the above without running them). */
    metadataLoadContext: string;
}

/** The NuGet packages `dotnet restore test/support/netfx` fetches, in the NuGet package folder. */
export function findNetFxReferences(): NetFxReferences | undefined {
    const packages = process.env.NUGET_PACKAGES ?? path.join(os.homedir(), ".nuget", "packages");
    const references = {
        net48: path.join(packages, "microsoft.netframework.referenceassemblies.net48", "1.0.3", "build", ".NETFramework", "v4.8"),
        powershell51: path.join(packages, "powershellstandard.library", "5.1.1", "lib", "net452", "System.Management.Automation.dll"),
        metadataLoadContext: path.join(packages, "system.reflection.metadataloadcontext", "10.0.12", "lib", "net10.0", "System.Reflection.MetadataLoadContext.dll"),
    };
    return Object.values(references).every((file) => fs.existsSync(file)) ? references : undefined;
}

/** Runs a PowerShell script file non-interactively, as Run Command does, and returns what it wrote. */
export function runPwshFile(pwsh: string, file: string, args: string[] = []): Promise<{ status: number | null; stdout: string; stderr: string }> {
    return new Promise((resolve, reject) => {
        const child = spawn(pwsh, ["-NoProfile", "-NonInteractive", "-File", file, ...args], { env: loopbackEnv() });
        let stdout = "";
        let stderr = "";
        child.stdout.on("data", (chunk: Buffer) => { stdout += chunk.toString(); });
        child.stderr.on("data", (chunk: Buffer) => { stderr += chunk.toString(); });
        child.on("error", reject);
        child.on("close", (status) => resolve({ status, stdout, stderr }));
    });
}

/** The environment without proxy settings (the script's requests go to the loopback fakes, nowhere else), for a short-lived pwsh. */
function loopbackEnv(): NodeJS.ProcessEnv {
    const env: NodeJS.ProcessEnv = {
        ...process.env, NO_PROXY: "127.0.0.1,localhost", no_proxy: "127.0.0.1,localhost", POWERSHELL_TELEMETRY_OPTOUT: "1", POWERSHELL_UPDATECHECK: "Off",
        // .NET's dynamic profile-guided optimisation instruments methods for a later re-JIT that a
        // short-lived pwsh never reaches: without it the tier takes about a tenth less CPU. Semantics unchanged.
        DOTNET_TieredPGO: "0",
    };
    for (const name of ["http_proxy", "https_proxy", "all_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"]) delete env[name];
    return env;
}

export interface ScriptRun {
    /** The rendered script file to run. */
    script: string;
    /** Named parameters, as Run Command passes them. */
    parameters: Record<string, string | number>;
    /** Switch parameters to set (-ShowKeys, -PassThru). */
    switches: string[];
    /** The virtual clock's start (ms since the epoch), and the VM clock's error against it. */
    startMs: number;
    clockSkewSeconds: number;
    /** Where the driver reports each recorded wait, so the fakes' clock moves with the script's. */
    controlUrl: string;
}

export interface ScriptResult {
    exitCode: number;
    /** Everything the script wrote to standard error: its one error line, if it failed. */
    stderr: string;
    /** Write-Host lines. */
    information: string[];
    errors: string[];
    warnings: string[];
    /** Pipeline output, formatted as the console would print it. */
    stdout: string;
    /** Pipeline output objects (-PassThru). */
    output: unknown[];
    /** Every Start-Sleep, in seconds, in order. */
    waits: number[];
    /** A terminating error the script did not handle (pwsh -File would exit 1). */
    uncaught: string;
}

/** One pwsh process that runs many scenarios, one at a time. */
export class ScriptDriver {
    private readonly pending: ((line: string) => void)[] = [];
    private stderr = "";

    private constructor(private readonly child: ChildProcessWithoutNullStreams) {
        createInterface({ input: child.stdout }).on("line", (line) => {
            if (line.startsWith("RESULT ")) this.pending.shift()?.(line.slice("RESULT ".length));
        });
        child.stderr.on("data", (chunk: Buffer) => { this.stderr += chunk.toString(); });
    }

    static start(pwsh: string): ScriptDriver {
        const driver = path.join(__dirname, "runKeyFetchScript.ps1");
        return new ScriptDriver(spawn(pwsh, ["-NoProfile", "-NonInteractive", "-File", driver], { env: loopbackEnv() }));
    }

    run(scenario: ScriptRun): Promise<ScriptResult> {
        return new Promise((resolve, reject) => {
            const onExit = (code: number | null) => reject(new Error(`the PowerShell driver exited (${code}): ${this.stderr}`));
            this.child.once("exit", onExit);
            this.pending.push((line) => {
                this.child.off("exit", onExit);
                const result = JSON.parse(line) as ScriptResult;
                // ConvertTo-Json writes a one-element array as the element itself.
                result.output = ([] as unknown[]).concat(result.output ?? []);
                result.information = ([] as string[]).concat(result.information ?? []);
                result.waits = ([] as number[]).concat(result.waits ?? []);
                resolve(result);
            });
            this.child.stdin.write(JSON.stringify(scenario) + "\n");
        });
    }

    close(): Promise<void> {
        return new Promise((resolve) => {
            if (this.child.exitCode !== null) return resolve();
            this.child.once("exit", () => resolve());
            this.child.stdin.end();
        });
    }
}
