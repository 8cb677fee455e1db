// The handlers' Lambda bundles: built once when the package is built (`npm run bundle`), shipped in `bundles/`, and
// copied as assets at synth, so a user's `cdk synth` runs no esbuild. A source checkout rebuilds a stale bundle on demand.
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import type { BuildOptions } from 'esbuild';

/** What a bundle was built from: checked before a source checkout uses it. */
interface BundleRecord {
  readonly esbuild: string;
  readonly options: string;
  /** sha256 of `package-lock.json` (stands for the dependencies' versions), when the checkout has one. */
  readonly lock?: string;
  /** sha256 of each input of the package's own (relative path -> hash); dependencies are covered by `lock`. */
  readonly sources: Record<string, string>;
}

/** The files of a bundle that are the Lambda's code (the asset); `bundle.json` beside them is not shipped to Lambda. */
export const BUNDLE_FILES = ['index.js', 'index.js.map'] as const;

/** Further entries of a handler's bundle, loaded by the handler at run time from beside `index.js` (name -> source). */
const EXTRA_ENTRIES: Record<string, Record<string, string>> = {
  // The Trino grammar of the warehouse SQL mode: loaded on first use, kept out of the server's own index.js.
  mcp: { 'trino-parser': 'lambda/mcp/trino-parser-entry.ts' },
};

/** The files of one handler's bundle that are its code: `index.js` and its map, plus any further entry. */
export function bundleFiles(name: string): string[] {
  return [...BUNDLE_FILES, ...Object.keys(EXTRA_ENTRIES[name] ?? {}).flatMap(e => [`${e}.js`, `${e}.js.map`])];
}
const RECORD_FILE = 'bundle.json';

/**
 * esbuild options of every handler bundle: CommonJS for Node.js 24, minified, with an external source map, the AWS SDK
 * v3 left to the runtime (the Lambda Node.js runtimes include it). One definition, used by the build and by the test
 * that rebuilds each shipped bundle and compares it.
 */
export function handlerBuildOptions(root: string, name: string): BuildOptions {
  return {
    ...BUNDLE_OPTIONS,
    absWorkingDir: root,
    entryPoints: {
      index: path.join(root, 'lambda', name, 'index.ts'),
      ...Object.fromEntries(Object.entries(EXTRA_ENTRIES[name] ?? {}).map(([e, source]) => [e, path.join(root, source)])),
    },
    outdir: bundleDir(root, name),
  };
}

/** The esbuild options of every handler bundle (the benches build theirs with them too). */
export const BUNDLE_OPTIONS: Readonly<BuildOptions> = {
  bundle: true, platform: 'node', target: 'node24', format: 'cjs', minify: true,
  sourcemap: true, external: ['@aws-sdk/*'], logLevel: 'silent', metafile: true,
  // ES-module builds first (esbuild's node default is `main` first): the CommonJS builds of @smithy/signature-v4 and
  // @smithy/protocol-http require whole @smithy/core submodule indexes (schemas, codecs, event streams; about 130 KiB the
  // signer never calls), which only the ES-module builds let esbuild drop. Packages with `exports` are resolved by their
  // conditions either way; test/common/handler-bundles.test.ts runs every bundle.
  mainFields: ['module', 'main'],
  // The MCP SDK's Node.js shim, with its JSON Schema validator (ajv) loaded on first use instead of at cold start
  // (lambda/mcp/sdk-shims.ts says why). An alias resolves from the working directory: builds set `absWorkingDir` to the root.
  alias: { '@modelcontextprotocol/server/_shims': './lambda/mcp/sdk-shims.ts' },
};
// The layout (named entries into bundles/<name>/) is part of the key: a bundle built another way is rebuilt.
const OPTIONS_KEY = JSON.stringify({ ...BUNDLE_OPTIONS, layout: 'named-entries' });

/** The handler folders of a package root: `lambda/<name>/index.ts`, or, without sources, the shipped `bundles/<name>`. */
export function packagedHandlers(root: string): string[] {
  const lambdaDir = path.join(root, 'lambda');
  const fromSources = fs.existsSync(lambdaDir)
    ? fs.readdirSync(lambdaDir).filter(d => fs.existsSync(path.join(lambdaDir, d, 'index.ts')))
    : [];
  if (fromSources.length > 0) return fromSources.sort();
  const bundles = path.join(root, 'bundles');
  return fs.existsSync(bundles) ? fs.readdirSync(bundles).filter(d => fs.existsSync(path.join(bundles, d, 'index.js'))).sort() : [];
}

export function bundleDir(root: string, name: string): string {
  return path.join(root, 'bundles', name);
}

function sha256(file: string): string | undefined {
  try {
    return crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');
  } catch {
    return undefined;
  }
}

function esbuildModule(): typeof import('esbuild') {
  return require('esbuild');
}

/** Builds one handler into `bundles/<name>/` (written to temporary names and renamed, so parallel synths never read half a file). */
export function buildHandlerBundle(root: string, name: string): void {
  const esbuild = esbuildModule();
  const dir = bundleDir(root, name);
  const result = esbuild.buildSync({ ...handlerBuildOptions(root, name), write: false });
  if (result.errors.length > 0) throw new Error(`cdk-agent-data-stack: cannot bundle handler '${name}': ${result.errors.map(e => e.text).join('; ')}`);
  const sources: Record<string, string> = {};
  for (const input of Object.keys(result.metafile!.inputs)) {
    if (input.includes('node_modules/')) continue;
    sources[input] = sha256(path.resolve(root, input))!;
  }
  const record: BundleRecord = { esbuild: esbuild.version, options: OPTIONS_KEY, lock: sha256(path.join(root, 'package-lock.json')), sources };
  fs.mkdirSync(dir, { recursive: true });
  const suffix = `.${process.pid}.${crypto.randomBytes(4).toString('hex')}.tmp`;
  const files = [
    ...result.outputFiles!.map(f => ({ target: f.path, contents: f.contents as Uint8Array | string })),
    { target: path.join(dir, RECORD_FILE), contents: `${JSON.stringify(record, null, 2)}\n` },
  ];
  for (const f of files) fs.writeFileSync(f.target + suffix, f.contents);
  for (const f of files) fs.renameSync(f.target + suffix, f.target);
}

/**
 * Whether `bundles/<name>` was built from the sources as they are now: same esbuild version and options, same
 * lock file, and every own input file unchanged. Reads only the package's own inputs (a few dozen files).
 */
export function isBundleFresh(root: string, name: string): boolean {
  const dir = bundleDir(root, name);
  if (!bundleFiles(name).every(f => fs.existsSync(path.join(dir, f)))) return false;
  let record: BundleRecord;
  try {
    record = JSON.parse(fs.readFileSync(path.join(dir, RECORD_FILE), 'utf8'));
  } catch {
    return false;
  }
  if (record.options !== OPTIONS_KEY || record.lock !== sha256(path.join(root, 'package-lock.json'))) return false;
  if (record.esbuild !== esbuildModule().version) return false;
  return Object.entries(record.sources).every(([file, hash]) => sha256(path.resolve(root, file)) === hash);
}

/**
 * A source checkout (not an installed package): its bundles are checked against the sources and rebuilt when stale.
 * An installed package (under `node_modules`) uses the bundles it shipped with, which its build verified.
 */
export function isSourceCheckout(root: string): boolean {
  return !root.split(path.sep).includes('node_modules') && fs.existsSync(path.join(root, 'lambda'));
}

/** Builds every handler whose bundle is missing or stale; returns the names it built. */
export function ensureHandlerBundles(root: string, names: readonly string[] = packagedHandlers(root)): string[] {
  const built: string[] = [];
  for (const name of names) {
    if (isBundleFresh(root, name)) continue;
    buildHandlerBundle(root, name);
    built.push(name);
  }
  return built;
}

/**
 * The directory holding the Lambda code of a packaged handler, ready to copy: in a source checkout a stale or missing
 * bundle is rebuilt first; in an installed package the shipped bundle is used as is.
 */
export function readyHandlerBundle(root: string, name: string): string {
  const dir = bundleDir(root, name);
  if (isSourceCheckout(root)) {
    if (!isBundleFresh(root, name)) buildHandlerBundle(root, name);
  } else if (!fs.existsSync(path.join(dir, 'index.js'))) {
    throw new Error(`cdk-agent-data-stack: the bundle of handler '${name}' is missing from ${dir}. Reinstall the package.`);
  }
  return dir;
}
