// The change guard's record, written from what Azure applied: each setting comes from the outputs of
// the resource that carries it, and a resource that did not finish in this run leaves the setting's
// previous value. Why this is needed, per CLI mode and SDK version: docs/change-guard.md.
import * as pulumi from "@pulumi/pulumi";
import type { DatabaseAccount, SqlResourceSqlContainer, SqlResourceSqlDatabase } from "@pulumi/azure-native/cosmosdb";
import type { ResourceGroup } from "@pulumi/azure-native/resources";
import { DeployedSettings } from "./changeGuard";

/** The resources that carry the guarded settings. */
export interface GuardedResources {
    resourceGroup: ResourceGroup;
    account: DatabaseAccount;
    database: SqlResourceSqlDatabase;
    container: SqlResourceSqlContainer;
}

/** Output members @pulumi/pulumi keeps internal; its own `recover` reads them the same way. */
interface OutputState {
    isKnown: Promise<boolean>;
}

/**
 * `value` where it settled in this update, `fallback` where it did not: it failed (its Output
 * rejects: SDK 3.252 and later, and any SDK when the engine stops), or it is unknown at update time
 * (SDK 3.251 and earlier resolve a failed or skipped resource's outputs as unknown;
 * runtime/resource.ts). A preview keeps `value` as it is: nothing is recorded then. Secretness and
 * dependencies are kept (pulumi.recover).
 */
export function finishedOr<T, F>(value: pulumi.Output<T>, fallback: F): pulumi.Output<T | F> {
    if (pulumi.runtime.isDryRun()) return value;
    const isKnown = (value as unknown as OutputState).isKnown;
    const settled = pulumi.output(isKnown).apply((known) => {
        if (!known) throw new Error("unknown at update time: the resource did not finish");
        return value;
    });
    return pulumi.recover<T | F>(settled, () => fallback);
}

/**
 * A setting as `resource` applied it: its output `value`, once the resource has an id in this run (it
 * was created, updated or left as it was); otherwise the previous record's value, or nothing when
 * there is none (the field is then left out and not checked next time).
 */
function appliedBy<T>(resource: pulumi.CustomResource, value: pulumi.Output<T>, previous: T | undefined): pulumi.Output<T | undefined> {
    return finishedOr(resource.id.apply(() => value), previous);
}

/**
 * The record of this run (output deployedSettings), one Output per setting so that a resource that
 * did not finish costs only its own settings' record: the resource group's location, the account's
 * region and free tier, the database's and the container's names, the container's partition key.
 */
export function appliedSettings(resources: GuardedResources, previous: Partial<DeployedSettings>): { [K in keyof DeployedSettings]: pulumi.Output<DeployedSettings[K] | undefined> } {
    const { resourceGroup, account, database, container } = resources;
    return {
        location: appliedBy(resourceGroup, resourceGroup.location, previous.location),
        cosmosLocation: appliedBy(account, account.location, previous.cosmosLocation),
        freeTier: appliedBy(account, account.enableFreeTier, previous.freeTier),
        databaseName: appliedBy(database, database.name, previous.databaseName),
        containerName: appliedBy(container, container.name, previous.containerName),
        partitionKeyPath: appliedBy(container, container.resource.apply((resource) => resource?.partitionKey?.paths?.[0]), previous.partitionKeyPath),
    };
}

/**
 * The stack's exports with every Output that did not settle left out, so that the engine keeps that
 * output's last value: after a failed update it keeps the old outputs and replaces only those the
 * program registered (pulumi/pulumi pkg/resource/deploy/step_executor.go). Without this, one failed
 * Output would fail the whole registration (runtime/stack.ts) and the record with it.
 */
export function settledExports(exports: Record<string, unknown>): Record<string, unknown> {
    return Object.fromEntries(Object.entries(exports).map(([name, value]) =>
        [name, pulumi.Output.isInstance(value) ? finishedOr(value, undefined) : value]));
}
