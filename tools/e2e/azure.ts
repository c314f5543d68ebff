// The end-to-end test's one call of its own to Azure: after `pulumi destroy`, does the stack's
// resource group still exist? A read-only Resource Manager request with a token from the same
// sign-in azure-native used (tools/e2e/prerequisites.ts), built explicitly: no credential chain that
// might probe the instance metadata service on its own. Both the credential and fetch are injectable.
import {
    AzureCliCredential, ClientAssertionCredential, ClientCertificateCredential, ClientSecretCredential, ManagedIdentityCredential,
} from "@azure/identity";
import * as fs from "fs";
import type { AzureSignIn, OidcTokenSource } from "./prerequisites";

/** What the check needs of a credential: @azure/identity's TokenCredential satisfies it. */
export interface TokenSource {
    getToken(scope: string): Promise<{ token: string } | null>;
}

export const RESOURCE_MANAGER = "https://management.azure.com";
// Microsoft Entra ID's audience for federated credentials (GitHub's OIDC token is requested for it).
const TOKEN_EXCHANGE_AUDIENCE = "api://AzureADTokenExchange";

export function armCredential(signIn: AzureSignIn, fetchImpl: typeof fetch = fetch): TokenSource {
    switch (signIn.kind) {
        case "client-secret":
            return new ClientSecretCredential(signIn.tenantId, signIn.clientId, signIn.clientSecret);
        case "client-certificate":
            return new ClientCertificateCredential(signIn.tenantId, signIn.clientId, {
                certificatePath: signIn.certificatePath, certificatePassword: signIn.certificatePassword,
            });
        case "oidc":
            return new ClientAssertionCredential(signIn.tenantId, signIn.clientId, () => federatedToken(signIn.source, fetchImpl));
        case "managed-identity":
            // Chosen explicitly with ARM_USE_MSI: the one case that talks to the metadata service.
            return signIn.clientId ? new ManagedIdentityCredential({ clientId: signIn.clientId }) : new ManagedIdentityCredential();
        case "azure-cli":
            return new AzureCliCredential();
    }
}

/** A fresh federated token on every call: a GitHub token lives minutes, a run lasts longer. */
export async function federatedToken(source: OidcTokenSource, fetchImpl: typeof fetch = fetch): Promise<string> {
    switch (source.kind) {
        case "token":
            return source.token;
        case "file":
            return fs.readFileSync(source.path, "utf8").trim();
        case "request": {
            const url = `${source.url}${source.url.includes("?") ? "&" : "?"}audience=${encodeURIComponent(TOKEN_EXCHANGE_AUDIENCE)}`;
            const response = await fetchImpl(url, { headers: { Authorization: `Bearer ${source.bearer}` } });
            if (!response.ok) throw new Error(`OIDC token request failed: HTTP ${response.status}`);
            const body = (await response.json()) as { value?: unknown };
            if (typeof body.value !== "string") throw new Error("OIDC token response has no value");
            return body.value;
        }
    }
}

export interface GroupQuery {
    subscriptionId: string;
    resourceGroupName: string;
    credential: TokenSource;
    endpoint?: string;
    fetch?: typeof fetch;
}

/** Resource Manager's "check existence" call: HEAD on the group, 204 when it exists, 404 when not. */
export async function resourceGroupExists(query: GroupQuery): Promise<boolean> {
    const endpoint = (query.endpoint ?? RESOURCE_MANAGER).replace(/\/$/, "");
    const token = await query.credential.getToken(`${endpoint}/.default`);
    if (!token) throw new Error("no Resource Manager token");
    const url = `${endpoint}/subscriptions/${encodeURIComponent(query.subscriptionId)}/resourcegroups/${encodeURIComponent(query.resourceGroupName)}?api-version=2021-04-01`;
    const response = await (query.fetch ?? fetch)(url, { method: "HEAD", headers: { Authorization: `Bearer ${token.token}` } });
    if (response.status === 204 || response.status === 200) return true;
    if (response.status === 404) return false;
    throw new Error(`Resource Manager answered HTTP ${response.status} to HEAD ${url}`);
}
