// The end-to-end test's one call of its own to Azure: after `pulumi destroy`, does the stack's
// resource group still exist? A read-only Resource Manager request with a token from the sign-in
// azure-native used, built by preflight's resolveSignIn (commands/azure/signIn.ts): no credential
// chain that might probe the instance metadata service on its own. Both the credential and fetch
// are injectable.
import { RESOURCE_MANAGER_ENDPOINTS } from "../../lib/config";
import type { SignIn } from "../azure/signIn";

/** What the check needs of a credential: @azure/identity's TokenCredential satisfies it. */
export interface TokenSource {
    getToken(scope: string): Promise<{ token: string } | null>;
}

export interface GroupQuery {
    subscriptionId: string;
    resourceGroupName: string;
    credential: TokenSource;
    /** Resource Manager of the sign-in's cloud; tests point it at 127.0.0.1. */
    endpoint: string;
    fetch?: typeof fetch;
}

/** Resource Manager's "check existence" call: HEAD on the group, 204 when it exists, 404 when not. */
export async function resourceGroupExists(query: GroupQuery): Promise<boolean> {
    const endpoint = query.endpoint.replace(/\/$/, "");
    const token = await query.credential.getToken(`${endpoint}/.default`);
    if (!token) throw new Error("no Resource Manager token");
    const url = `${endpoint}/subscriptions/${encodeURIComponent(query.subscriptionId)}/resourcegroups/${encodeURIComponent(query.resourceGroupName)}?api-version=2021-04-01`;
    const response = await (query.fetch ?? fetch)(url, { method: "HEAD", headers: { Authorization: `Bearer ${token.token}` } });
    if (response.status === 204 || response.status === 200) return true;
    if (response.status === 404) return false;
    throw new Error(`Resource Manager answered HTTP ${response.status} to HEAD ${url}`);
}

/** The run's check: the sign-in's credential and subscription, on its cloud's Resource Manager. */
export function groupExistsWith(
    signIn: Pick<SignIn, "credential" | "subscriptionId" | "cloud">,
    fetchImpl?: typeof fetch,
): (resourceGroupName: string) => Promise<boolean> {
    return (resourceGroupName) => resourceGroupExists({
        subscriptionId: signIn.subscriptionId,
        resourceGroupName,
        credential: signIn.credential,
        endpoint: RESOURCE_MANAGER_ENDPOINTS[signIn.cloud],
        fetch: fetchImpl,
    });
}
