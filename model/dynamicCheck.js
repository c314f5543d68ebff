// What the engine does with a dynamic resource (pulumi.dynamic.Resource) when it checks it, for the
// offline engines (model/mockEngine.ts, dev/runUnderPulumiRunner.js): loads the provider code the
// SDK serialized into the `__provider` input and calls its check, as Pulumi's dynamic provider host
// does (@pulumi/pulumi cmd/dynamic-provider: requireFromString(__provider).handler(), then
// provider.check(olds, news)). Returns the engine's message for each failure
// (pkg/resource/deploy/step_generator.go issueCheckFailures; sdk/go/common/diag/errors.go 2002, 2003).
// Plain JavaScript: the runner script loads it without a TypeScript loader.
"use strict";

/**
 * @param {string} type the resource's type token
 * @param {string} name the resource's name
 * @param {Record<string, unknown>} inputs the resource's inputs, `__provider` included
 * @returns {Promise<string[]>} one message per check failure; none when the provider accepts the inputs
 */
async function checkDynamicResource(type, name, inputs) {
    const module = { exports: {} };
    // The serialized provider is sloppy-mode CommonJS (it uses `with`), as the host loads it.
    new Function("exports", "require", "module", String(inputs.__provider))(module.exports, require, module);
    const provider = module.exports.handler();
    if (!provider.check) return [];
    const result = await provider.check({}, inputs);
    return (result.failures || []).map((failure) => (failure.property
        ? `${type} resource '${name}': property ${failure.property} value ${JSON.stringify(inputs[failure.property])} has a problem: ${failure.reason}`
        : `${type} resource '${name}' has a problem: ${failure.reason}`));
}

module.exports = { checkDynamicResource };
