// Evaluations of the program for the tests, in a process of their own. Node 20's test runner follows
// every asynchronous resource of a test file with an async hook whose destroy callback puts a weak
// reference on every promise; Pulumi's runtime makes thousands of promises per evaluation, and under
// that hook an evaluation takes two to three times the CPU, most of it garbage collection. The
// evaluation server (test/support/evaluationServer.ts) has no such hook; a worker thread would not
// either, but Pulumi's closure serialization, which the change guard's dynamic resource needs,
// requires trace_events, which a worker cannot load. `npm test` shares one server between the test
// files (EVALUATION_SERVER); a test file run alone starts its own, which ends with it.
import { ChildProcess, fork } from "node:child_process";
import * as net from "node:net";
import * as path from "node:path";
import * as v8 from "node:v8";
import { UnsafeChangeError } from "../../lib/changeGuard";
import { ConfigError } from "../../lib/config";
import type { EvaluateOptions, Evaluation } from "../../model/mockEngine";
import { AzureName, EvaluationReply, EvaluationRequest, frame, onFrames, ThrownValue } from "./evaluationServer";
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { READY, socketPath, NODE_FLAGS, SERVER }: { READY: string; socketPath(): string; NODE_FLAGS: string[]; SERVER: string } = require("./evaluationServerCommand");

export type { AzureName } from "./evaluationServer";

/** How long a server may take to listen, and an evaluation to come back (a shared server may be busy with other files' first). */
const START_TIMEOUT_MS = 60_000;
const ANSWER_TIMEOUT_MS = 120_000;

/** The errors a test checks by class; any other comes back as an Error with the same name, message and fields. */
const ERROR_CLASSES: Record<string, { prototype: Error }> = { ConfigError, UnsafeChangeError };

/** The thrown value as the program threw it, as near as a message allows. */
export function revive(thrown: ThrownValue | undefined): unknown {
    if (thrown === undefined) return undefined;
    if (thrown.kind === "value") return thrown.value;
    const error = Object.create((ERROR_CLASSES[thrown.name] ?? Error).prototype) as Error;
    Object.assign(error, thrown.fields);
    for (const key of ["name", "message", "stack"] as const) {
        Object.defineProperty(error, key, { value: thrown[key], writable: true, configurable: true, enumerable: false });
    }
    return error;
}

/** Starts this test file's own server; it ends when this process does (its IPC channel closes). */
function startOwnServer(): Promise<string> {
    const listening = socketPath();
    const child: ChildProcess = fork(SERVER, [listening], {
        cwd: path.resolve(__dirname, "..", ".."),
        execArgv: NODE_FLAGS,
        stdio: ["ignore", "inherit", "inherit", "ipc"],
    });
    child.unref();
    child.channel?.unref();
    return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`the evaluation server did not listen on ${listening} within ${START_TIMEOUT_MS / 1000} s`)), START_TIMEOUT_MS);
        child.once("message", (message) => {
            clearTimeout(timer);
            if (message === READY) resolve(listening);
            else reject(new Error(`the evaluation server said ${JSON.stringify(message)}`));
        });
        child.once("exit", (code, signal) => {
            clearTimeout(timer);
            reject(new Error(`the evaluation server ended before it listened (${signal ?? `exit ${code}`})`));
        });
    });
}

interface Connection {
    socket: net.Socket;
    pending: Map<number, { resolve(reply: EvaluationReply): void; reject(error: Error): void }>;
    where: string;
}

let connection: Promise<Connection> | undefined;
let nextId = 0;

function connected(): Promise<Connection> {
    connection ??= (async () => {
        const where = process.env.EVALUATION_SERVER || await startOwnServer();
        const socket = net.connect(where);
        const pending: Connection["pending"] = new Map();
        await new Promise<void>((resolve, reject) => {
            socket.once("connect", resolve);
            socket.once("error", (error) => reject(new Error(`cannot reach the evaluation server at ${where}: ${error.message}`)));
        });
        onFrames(socket, (id, reply) => {
            const waiting = pending.get(id);
            pending.delete(id);
            // Idle: the connection must not keep the test process alive.
            if (pending.size === 0) socket.unref();
            waiting?.resolve(reply as EvaluationReply);
        });
        const lost = (reason: string) => {
            for (const waiting of pending.values()) waiting.reject(new Error(`the evaluation server at ${where} ${reason}`));
            pending.clear();
            connection = undefined;
        };
        socket.on("error", (error) => lost(`failed: ${error.message}`));
        socket.on("close", () => lost("closed the connection"));
        socket.unref();
        return { socket, pending, where };
    })();
    return connection;
}

/**
 * Runs the program with the given config (full keys) against the named fake Azure, in the
 * evaluation server: a fresh evaluation, or (`shared`) the one made for this configuration before,
 * by this test file or another.
 */
export async function evaluateInServer(config: Record<string, string>, options: EvaluateOptions, azure: AzureName, shared: boolean): Promise<Evaluation> {
    const { socket, pending, where } = await connected();
    const id = nextId++;
    const request: EvaluationRequest = { config, options, azure, shared };
    const reply = await new Promise<EvaluationReply>((resolve, reject) => {
        const timer = setTimeout(() => {
            pending.delete(id);
            reject(new Error(`the evaluation server at ${where} did not answer within ${ANSWER_TIMEOUT_MS / 1000} s`));
        }, ANSWER_TIMEOUT_MS);
        timer.unref();
        pending.set(id, {
            resolve: (answer) => { clearTimeout(timer); resolve(answer); },
            reject: (error) => { clearTimeout(timer); reject(error); },
        });
        socket.ref();
        socket.write(frame(id, v8.serialize(request)));
    });
    if ("failure" in reply) throw new Error(`the evaluation failed: ${reply.failure}`);
    return { ...reply.evaluation, error: revive(reply.evaluation.error) };
}
