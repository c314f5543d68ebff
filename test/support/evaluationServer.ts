// The process that evaluates the program for the tests (test/support/evaluationClient.ts says why
// it is a process of its own). Listens on a local socket (a Unix socket, or a named pipe on
// Windows), evaluates one request at a time (Pulumi's runtime is global to the process) and keeps
// each shared evaluation, so that a configuration several test files read is evaluated once.
// `npm test` starts one for the whole suite (dev/test.js); a test file run on its own starts its own.
// Ends with whoever started it: when its IPC channel disconnects, or its standard input ends.
import * as net from "node:net";
import * as v8 from "node:v8";
import type { EvaluateOptions, Evaluation, FakeAzure } from "../../model/mockEngine";

/** The fake Azures an evaluation can run against, by name: the tests' and `npm run plan`'s. */
export type AzureName = "test" | "plan";

export interface EvaluationRequest {
    config: Record<string, string>;
    options: EvaluateOptions;
    azure: AzureName;
    /** A shared evaluation: made once per configuration and kept; otherwise a fresh one each time. */
    shared: boolean;
}

/** What the program threw, in a form a message can carry. */
export type ThrownValue =
    | { kind: "error"; fields: Record<string, unknown>; name: string; message: string; stack?: string }
    | { kind: "value"; value: unknown };

export type EvaluationReply =
    | { evaluation: Omit<Evaluation, "error"> & { error?: ThrownValue } }
    | { failure: string };

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { READY }: { READY: string } = require("./evaluationServerCommand");

/** One message on the socket: its length and its asker's id (4 bytes each, big-endian), then its structured clone. */
export function frame(id: number, body: Buffer): Buffer {
    const head = Buffer.alloc(8);
    head.writeUInt32BE(body.length, 0);
    head.writeUInt32BE(id, 4);
    return Buffer.concat([head, body]);
}

/** Calls `handle` with each message that arrives on the socket, whole. */
export function onFrames(socket: net.Socket, handle: (id: number, message: unknown) => void): void {
    let buffered: Buffer = Buffer.alloc(0);
    socket.on("data", (chunk: Buffer) => {
        buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk]);
        while (buffered.length >= 8 && buffered.length >= 8 + buffered.readUInt32BE(0)) {
            const end = 8 + buffered.readUInt32BE(0);
            handle(buffered.readUInt32BE(4), v8.deserialize(buffered.subarray(8, end)));
            buffered = buffered.subarray(end);
        }
    });
}

function azureNamed(name: AzureName): FakeAzure {
    /* eslint-disable @typescript-eslint/no-require-imports */
    return name === "plan" ? require("../../model/planAzure").PLAN_AZURE : require("./testAzure").TEST_AZURE;
}

function cloneable(value: unknown): boolean {
    try {
        v8.serialize(value);
        return true;
    } catch {
        return false;
    }
}

export function thrownValue(thrown: unknown): ThrownValue | undefined {
    if (thrown === undefined) return undefined;
    if (!(thrown instanceof Error)) return { kind: "value", value: thrown };
    // Fields a message can carry (the problems a ConfigError lists); not those Pulumi's runtime adds, such as the rejected promise.
    const fields = Object.fromEntries(Object.entries(thrown).filter(([, value]) => cloneable(value)));
    return { kind: "error", fields, name: thrown.name, message: thrown.message, stack: thrown.stack };
}

/** Evaluates requests one at a time, shared ones once per configuration; answers with the serialized reply, kept as it is sent. */
function evaluator(): (request: EvaluationRequest) => Promise<Buffer> {
    let queue: Promise<unknown> = Promise.resolve();
    const kept = new Map<string, Promise<Buffer>>();
    const evaluate = (request: EvaluationRequest): Promise<Buffer> => {
        const reply = queue.then(async () => {
            try {
                // Loaded on the first request: the server listens before Pulumi's runtime is loaded.
                // eslint-disable-next-line @typescript-eslint/no-require-imports
                const { evaluateProgram } = require("../../model/mockEngine") as typeof import("../../model/mockEngine");
                const { error, ...evaluation } = await evaluateProgram(request.config, azureNamed(request.azure), request.options);
                const reply: EvaluationReply = { evaluation: { ...evaluation, error: thrownValue(error) } };
                return v8.serialize(reply);
            } catch (failure) {
                // A failure of the evaluation itself, or an evaluation a message cannot carry.
                const reply: EvaluationReply = { failure: failure instanceof Error ? failure.stack ?? failure.message : String(failure) };
                return v8.serialize(reply);
            }
        });
        queue = reply;
        return reply;
    };
    return (request) => {
        if (!request.shared) return evaluate(request);
        const key = JSON.stringify([request.azure, Object.entries(request.config).sort(), request.options]);
        let reply = kept.get(key);
        if (!reply) {
            reply = evaluate(request);
            kept.set(key, reply);
        }
        return reply;
    };
}

/** Serves evaluations on the socket path until the process that started it ends. */
export function serveEvaluations(socketPath: string): void {
    const answer = evaluator();
    const server = net.createServer((socket) => {
        onFrames(socket, (id, request) => {
            void answer(request as EvaluationRequest).then((reply) => socket.write(frame(id, reply)));
        });
        socket.on("error", () => undefined);
    });
    server.listen(socketPath, () => {
        if (process.send) process.send(READY);
        else process.stdout.write(`${READY}\n`);
    });
    // Closing removes the Unix socket's file; open connections end with the process.
    const end = () => {
        server.close();
        process.exit(0);
    };
    if (process.send) {
        process.on("disconnect", end);
    } else {
        process.stdin.resume();
        process.stdin.on("end", end);
    }
}

if (require.main === module) serveEvaluations(process.argv[2]);
