// Preloaded into a test's child process (`node --require`, or NODE_OPTIONS="--require ..." through
// npm) so that the process reaches nothing but loopback, whatever its code or its libraries try:
// every TCP connection (http, https, fetch, the Azure SDKs, MSAL) goes through net.Socket's connect,
// which this wraps before anything else loads.
// - LOOPBACK_ROUTES: {"management.azure.com:443": 41234, ...}: a connection to such a host and port
//   goes to 127.0.0.1 at that port instead (TLS still checks the original name, so the fake's
//   certificate must carry it, and NODE_EXTRA_CA_CERTS must trust it).
// - Any other non-loopback address, the instance metadata service (169.254.0.0/16) and the Azure
//   Arc identity port (40342) are refused before a packet is sent, and each attempt is appended to
//   the file LOOPBACK_LOG, one "host:port" a line: the test reads it.
// Plain JavaScript: it runs before ts-node is registered.
"use strict";
const fs = require("node:fs");
const net = require("node:net");

const routes = JSON.parse(process.env.LOOPBACK_ROUTES || "{}");
const log = process.env.LOOPBACK_LOG;
const LOOPBACK = /^(localhost|127(\.\d{1,3}){3}|::1|\[::1\])$/i;
const ARC_IDENTITY_PORT = 40342;
const connect = net.Socket.prototype.connect;

net.Socket.prototype.connect = function loopbackOnlyConnect(...args) {
    // Node calls connect([options, callback]) internally, users connect(options, cb) or connect(port, host, cb).
    const normalized = Array.isArray(args[0]) ? args[0] : undefined;
    const first = normalized ? normalized[0] : args[0];
    const options = first !== null && typeof first === "object" ? first : { port: first, host: typeof args[1] === "string" ? args[1] : undefined };
    if (typeof options.path === "string") return connect.apply(this, args); // a local socket or pipe (https passes path: null)
    const host = String(options.host || "localhost").replace(/^\[|\]$/g, "");
    const port = Number(options.port);
    const target = routes[`${host}:${port}`];
    if (target !== undefined) {
        const callback = normalized ? normalized[1] : args.find((a) => typeof a === "function");
        return connect.call(this, { ...options, host: "127.0.0.1", port: target }, callback);
    }
    if (LOOPBACK.test(host) && port !== ARC_IDENTITY_PORT) return connect.apply(this, args);
    if (log) fs.appendFileSync(log, `${host}:${port}\n`);
    const error = Object.assign(new Error(`connect ECONNREFUSED ${host}:${port} (this test process reaches loopback only)`), { code: "ECONNREFUSED", address: host, port });
    process.nextTick(() => this.destroy(error));
    return this;
};
