// The test processes' TypeScript loader (`node --require ./dev/register.js`): every .ts file through
// @swc/core with the options ts-node derives from tsconfig.json for the program under Pulumi's
// runner (`"ts-node": { "swc": true }`), so the tests run the code as `pulumi up` does. Without
// ts-node itself, which loads TypeScript's compiler to read the tsconfig: about 0.4 s of CPU in
// every one of the suite's twenty-odd processes. test/pulumiRunner.test.ts holds these options equal to
// ts-node's. Source maps inline, read by Node: stack traces point at the .ts lines.
// Plain JavaScript: it is what makes TypeScript loadable.
"use strict";
const fs = require("fs");
const swc = require("@swc/core");

/** ts-node 10.9's createSwcOptions for this tsconfig (target ES2022, CommonJS, esModuleInterop), source maps inline. */
const SWC_OPTIONS = Object.freeze({
    sourceMaps: "inline",
    module: { type: "commonjs", noInterop: false, strictMode: true, ignoreDynamic: false },
    swcrc: false,
    jsc: {
        parser: { syntax: "typescript", tsx: false, dynamicImport: true, importAssertions: true },
        target: "es2022",
        transform: { legacyDecorator: true, react: { throwIfNamespace: false, useBuiltins: false }, useDefineForClassFields: true },
        keepClassNames: true,
        experimental: { keepImportAttributes: true, emitAssertForImportAttributes: true },
    },
});

// Installed over whatever handles .ts already: Node 23.6 and later strip types themselves, which
// leaves parameter properties and enums unsupported (ts-node, too, takes the extension over).
if (require.extensions[".ts"]?.name !== "compileTypeScriptWithSwc") {
    process.setSourceMapsEnabled(true);
    require.extensions[".ts"] = function compileTypeScriptWithSwc(module, filename) {
        const { code } = swc.transformSync(fs.readFileSync(filename, "utf8"), { ...SWC_OPTIONS, filename });
        module._compile(code, filename);
    };
}

module.exports = { SWC_OPTIONS };
