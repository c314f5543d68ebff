// How the change guard stops an update without ever stopping a destroy or a refresh. A program
// cannot tell which command runs it (the language host's RunRequest names no operation:
// pulumi/pulumi proto/pulumi/language.proto), and a program that fails stops a
// `pulumi destroy --run-program` before it deletes anything (pkg/resource/deploy/deployment_executor.go).
// So the stop is a resource that the engine refuses when it checks it, and the engine checks the
// program's resources only in an update or its preview: destroy and refresh with --run-program neither
// check nor create them (pkg/resource/deploy/step_generator.go, destroyMode and refreshMode).
import * as pulumi from "@pulumi/pulumi";
import { UnsafeChangeError } from "./changeGuard";

interface StopInputs {
    message: string;
}

/**
 * A dynamic provider whose check refuses its inputs with the guard's message: the engine prints
 * "<type> resource 'change-guard' has a problem: <message>" and stops. It never creates anything.
 * Pulumi serializes these methods into the resource's inputs, so they capture nothing.
 */
export const unsafeChangeProvider: pulumi.dynamic.ResourceProvider<StopInputs> = {
    async check(_olds: StopInputs, news: StopInputs) {
        return { inputs: news, failures: [{ property: "", reason: news.message }] };
    },
    async create() {
        throw new Error("the change guard's stop is never created");
    },
};

/** The stop, of type pulumi-nodejs:dynamic/changeGuard:UnsafeChange (the type the engine's error names). */
class UnsafeChangeStop extends pulumi.dynamic.Resource {
    constructor(message: string) {
        super(unsafeChangeProvider, "change-guard", { message }, {}, "changeGuard", "UnsafeChange");
    }
}

/**
 * Stops the run where the engine checks resources (`pulumi up`, `pulumi preview`, with --refresh
 * too): the engine reports the guard's message, and the program throws `error`. Where it does not
 * (destroy or refresh with --run-program; an update whose --target leaves the stop out), warns and
 * returns, and every custom resource declared afterwards depends on the stop: an update that targets
 * one is refused there (step_generator.go validateSteps: a targeted resource that depends on a
 * skipped create), and a destroy or refresh goes on.
 */
export async function stopUnlessUnchecked(error: UnsafeChangeError): Promise<void> {
    const stop = new UnsafeChangeStop(error.message);
    // Its registration fails once the engine refused it (or stopped); it succeeds when the engine skipped it.
    const refused = await new Promise<boolean>((resolve) => {
        pulumi.recover(stop.urn.apply(() => false), () => true).apply(resolve);
    });
    if (refused) {
        // A refused registration rejects every output of the stop; the guard's error says it all.
        for (const output of Object.values(stop)) {
            if (pulumi.Output.isInstance(output)) pulumi.recover(output, () => undefined);
        }
        throw error;
    }
    pulumi.log.warn("The change guard found unsafe changes, and this run goes on because it changes no Azure resource: "
        + "`pulumi destroy --run-program` and `pulumi refresh --run-program` neither create nor change one. "
        + "(An update with --target stops at the first resource it targets, which depends on the guard's check.)\n"
        + error.message);
    // A transformation runs inside the base constructor, before CustomResource.isInstance holds: instanceof it is.
    pulumi.runtime.registerStackTransformation((args) =>
        (args.resource instanceof pulumi.CustomResource && !(args.resource instanceof pulumi.ProviderResource)
            ? { props: args.props, opts: pulumi.mergeOptions(args.opts, { dependsOn: [stop] }) }
            : undefined));
}
