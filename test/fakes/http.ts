// What the loopback fakes share: an HTTP server on 127.0.0.1 (ephemeral port), a per-scenario
// queue of scripted answers, and a record of every protocol violation the client committed.
import * as http from "node:http";
import type { AddressInfo } from "node:net";

/** An answer a scenario scripts instead of the fake's normal behaviour. */
export interface ScriptedAnswer {
    status: number;
    /** The body's JSON value; a string is sent as is. */
    body?: unknown;
    headers?: Record<string, string>;
    /** Send the headers and half the body, then reset the connection. */
    cutOff?: boolean;
}

export interface LoopbackServer {
    /** Origin, e.g. http://127.0.0.1:41234 */
    origin: string;
    close(): Promise<void>;
}

export async function listen(handler: (request: http.IncomingMessage, response: http.ServerResponse) => void): Promise<LoopbackServer> {
    const server = http.createServer(handler);
    // A keep-alive socket left open would hold the test process (and close()) up.
    server.keepAliveTimeout = 1000;
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    return {
        origin: `http://127.0.0.1:${port}`,
        close: () => new Promise<void>((resolve) => {
            server.closeAllConnections();
            server.close(() => resolve());
        }),
    };
}

export function send(response: http.ServerResponse, answer: ScriptedAnswer): void {
    const text = answer.body === undefined ? "" : typeof answer.body === "string" ? answer.body : JSON.stringify(answer.body);
    const body = Buffer.from(text, "utf8");
    response.writeHead(answer.status, {
        "Content-Type": "application/json; charset=utf-8",
        "Content-Length": String(body.length),
        ...answer.headers,
    });
    if (answer.cutOff) {
        response.write(body.subarray(0, Math.floor(body.length / 2)));
        // Flush what was written, then drop the connection mid-body.
        setTimeout(() => response.socket?.destroy(), 20);
        return;
    }
    response.end(body);
}

/** Scripted answers, used in order, one per request; then the fake's normal behaviour. */
export class AnswerQueue {
    private queue: ScriptedAnswer[] = [];
    /** Once the queue is empty: this answer for every request (e.g. "never propagates"), or a function choosing one (undefined: normal behaviour). */
    private always?: ScriptedAnswer | (() => ScriptedAnswer | undefined);

    script(answers: ScriptedAnswer[], thenAlways?: ScriptedAnswer | (() => ScriptedAnswer | undefined)): void {
        this.queue = [...answers];
        this.always = thenAlways;
    }

    next(): ScriptedAnswer | undefined {
        return this.queue.shift() ?? (typeof this.always === "function" ? this.always() : this.always);
    }

    reset(): void {
        this.queue = [];
        this.always = undefined;
    }
}

/** The query string of a request, as a map; repeated names are a violation the caller checks. */
export function queryOf(request: http.IncomingMessage): { path: string; query: URLSearchParams } {
    const url = new URL(request.url ?? "/", "http://fake");
    return { path: url.pathname, query: url.searchParams };
}

/** A header's single value (Node joins repeated ones). */
export function header(request: http.IncomingMessage, name: string): string | undefined {
    const value = request.headers[name.toLowerCase()];
    return Array.isArray(value) ? value.join(", ") : value;
}

export function drain(request: http.IncomingMessage): Promise<string> {
    return new Promise((resolve, reject) => {
        const chunks: Buffer[] = [];
        request.on("data", (chunk: Buffer) => chunks.push(chunk));
        request.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
        request.on("error", reject);
    });
}

/** A fake Azure service on a loopback server: scripted answers first, violations recorded. */
export abstract class LoopbackFake {
    readonly answers = new AnswerQueue();
    /** Requests Azure would refuse: a test asserts there are none. */
    readonly violations: string[] = [];
    private server?: LoopbackServer;

    protected get serverOrigin(): string {
        if (!this.server) throw new Error("the fake is not started");
        return this.server.origin;
    }

    async start(): Promise<this> {
        this.server = await listen((request, response) => void this.handle(request, response));
        return this;
    }

    close(): Promise<void> {
        return this.server?.close() ?? Promise.resolve();
    }

    reset(): void {
        this.answers.reset();
        this.violations.length = 0;
    }

    /** Answers as Azure would; a protocol violation (if named) is also recorded. */
    protected refuse(response: http.ServerResponse, violation: string | undefined, answer: ScriptedAnswer): void {
        if (violation) this.violations.push(violation);
        send(response, answer);
    }

    protected abstract handle(request: http.IncomingMessage, response: http.ServerResponse): void | Promise<void>;
}
