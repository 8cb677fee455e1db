// Runs the checkout's TypeScript sources under Node.js for `npx cdk synth` and the synth bench: each `.ts` file is
// transpiled by esbuild (already a dev dependency, for the handler bundles) with the compiler options of tsconfig.json.
// ts-node's transpile-only mode runs the TypeScript compiler over the ~100 source files (~720 KB) the example loads,
// about 4 s of CPU on every synth; esbuild does the same in ~0.1 s. Like `ts-node --transpile-only`, it strips types
// without checking them (`npm run typecheck` does that) and maps stack traces back to the TypeScript lines.
// Dynamic `import('./x')` becomes `require('./x')` (behind a promise), as tsc does with `module: commonjs`: left as
// a real ESM import, Node resolves it without the `.ts` extension lookup and the CLI's lazy imports fail.
'use strict';
const fs = require('fs');
const path = require('path');
const esbuild = require('esbuild');

const tsconfig = JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'tsconfig.json'), 'utf8'));

/** Transpiles one TypeScript source to CommonJS with an inline source map (exported for its test). */
function transpile(source, filename) {
  return esbuild.transformSync(source, {
    loader: 'ts', format: 'cjs', target: 'node20', sourcefile: filename, sourcemap: 'inline',
    supported: { 'dynamic-import': false },
    // The options esbuild reads from tsconfig.json (class-field semantics from `target`, decorators, import elision).
    tsconfigRaw: { compilerOptions: tsconfig.compilerOptions },
  }).code;
}

if (!require.extensions['.ts']) {
  process.setSourceMapsEnabled(true);
  require.extensions['.ts'] = function (module, filename) {
    module._compile(transpile(fs.readFileSync(filename, 'utf8'), filename), filename);
  };
}

module.exports = { transpile };
