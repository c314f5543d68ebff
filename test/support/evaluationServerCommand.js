// How the tests' evaluation server (evaluationServer.ts) is started: by dev/test.js, once for the
// suite, and by evaluationClient.ts for a test file run alone. Plain JavaScript: dev/test.js loads
// it before any TypeScript can be.
"use strict";
const crypto = require("crypto");
const os = require("os");
const path = require("path");

/** What the server prints (or sends over IPC) once it listens. */
const READY = "evaluation server ready";

/** A socket path no other process uses: a Unix socket in the temporary directory, or a named pipe on Windows. */
function socketPath() {
    const name = `cosmos-vm-identity-evaluations-${process.pid}-${crypto.randomBytes(4).toString("hex")}`;
    return process.platform === "win32" ? `\\\\.\\pipe\\${name}` : path.join(os.tmpdir(), `${name}.sock`);
}

/**
 * Node's flags for the server: the tests' loader, and a larger young generation (an evaluation
 * allocates many short-lived objects: about a fifth less CPU).
 */
const NODE_FLAGS = ["--max-semi-space-size=64", "--require", path.join(__dirname, "..", "..", "dev", "register.js")];

/** The server's program. */
const SERVER = path.join(__dirname, "evaluationServer.ts");

module.exports = { READY, socketPath, NODE_FLAGS, SERVER };
