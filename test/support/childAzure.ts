// Azure for a test's child process, all on 127.0.0.1: the fake Resource Manager and Entra ID under
// their real host names (management.azure.com, login.microsoftonline.com; loopbackOnly.js routes
// them, and NODE_EXTRA_CA_CERTS trusts their one certificate), and a trap listener that managed
// identity variables (IDENTITY_ENDPOINT, IMDS_ENDPOINT, AZURE_POD_IDENTITY_AUTHORITY_HOST) can point
// at. The child refuses every other address before a packet leaves; refusals and trap hits go to
// one log file, in the order they happen.
import * as fs from "node:fs";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { FakeEntraId, startFakeEntraId, TokenEndpointMode } from "./fakeEntraId";
import { FakeResourceManager, FakeWorld, healthyWorld, startFakeResourceManager } from "./fakeResourceManager";
import { selfSignedCertificate } from "./selfSignedCertificate";

export const LOOPBACK_ONLY = path.join(__dirname, "loopbackOnly.js");

export interface ChildAzure {
    arm: FakeResourceManager;
    entra: FakeEntraId;
    /** http://127.0.0.1:PORT: where managed identity variables point; every request is logged as "trap METHOD URL". */
    trap: string;
    /** A scratch directory for the child (HOME, files). */
    dir: string;
    /** What the child needs in its environment: the preload, the trusted certificate, the routes, the log. */
    env: Record<string, string>;
    /** The log's lines so far: "host:port" refusals, "trap ..." hits, and whatever the child adds. */
    log(): string[];
    close(): Promise<void>;
}

export async function startChildAzure(options: { world?: (world: FakeWorld) => void; entra?: TokenEndpointMode } = {}): Promise<ChildAzure> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cosmos-vm-identity-child-"));
    const logFile = path.join(dir, "network.log");
    fs.writeFileSync(logFile, "");
    const tls = selfSignedCertificate(["management.azure.com", "login.microsoftonline.com"]);
    const world = healthyWorld();
    options.world?.(world);
    const arm = await startFakeResourceManager(world, tls);
    const entra = await startFakeEntraId(options.entra ?? "answer", tls);
    const trapServer = http.createServer((request, response) => {
        fs.appendFileSync(logFile, `trap ${request.method} ${request.url}\n`);
        request.resume();
        response.writeHead(400, { "content-type": "application/json" }).end('{"error":"trap"}');
    });
    await new Promise<void>((resolve) => trapServer.listen(0, "127.0.0.1", resolve));
    const caFile = path.join(dir, "ca.pem");
    fs.writeFileSync(caFile, tls.cert);
    const port = (url: string) => Number(new URL(url).port);
    return {
        arm,
        entra,
        trap: `http://127.0.0.1:${(trapServer.address() as AddressInfo).port}`,
        dir,
        env: {
            NODE_OPTIONS: `--require "${LOOPBACK_ONLY}"`,
            NODE_EXTRA_CA_CERTS: caFile,
            LOOPBACK_ROUTES: JSON.stringify({ "management.azure.com:443": port(arm.endpoint), "login.microsoftonline.com:443": port(entra.origin) }),
            LOOPBACK_LOG: logFile,
        },
        log: () => fs.readFileSync(logFile, "utf8").split("\n").filter(Boolean),
        close: async () => {
            trapServer.closeAllConnections();
            await Promise.all([arm.close(), entra.close(), new Promise<void>((resolve) => trapServer.close(() => resolve()))]);
            fs.rmSync(dir, { recursive: true, force: true });
        },
    };
}
