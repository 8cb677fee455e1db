// The handlers' Lambda bundles as the package ships them (bundles/, built by `npm run build` and the jest setup): each
// equals a rebuild from its sources, a source checkout rebuilds a stale one, and none loads the runtime's AWS SDK through
// a native import(): the SDK sits on NODE_PATH, which require() searches and a native ES-module import() does not
// (esbuild leaves import() of an external package as a native import).
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { buildSync } from 'esbuild';
import {
  bundleDir, bundleFiles, ensureHandlerBundles, handlerBuildOptions, isBundleFresh, isSourceCheckout, packagedHandlers, readyHandlerBundle,
} from '../../constructs/common/handler-bundle';

const ROOT = path.join(__dirname, '../..');
const handlers = packagedHandlers(ROOT);

/**
 * The one allowed: @opensearch-project/opensearch's AwsSigv4Signer falls back to import('@aws-sdk/credential-provider-node')
 * only when no getCredentials is passed (lib/aws/shared.js), and createSearchClient always passes one.
 */
const DEAD_OPENSEARCH_FALLBACK = /async\(\)=>\{try\{(?:const|let|var) \w+=await import\("@aws-sdk\/credential-provider-node"\)/;

test('every handler folder has a bundle', () => {
  expect(handlers).toEqual(expect.arrayContaining(['mcp', 'sink', 'replication-bootstrap', 'flink-starter', 'flink-starter-complete', 'search-index', 'artifact-builder']));
  for (const name of handlers) {
    for (const f of bundleFiles(name)) expect(fs.existsSync(path.join(bundleDir(ROOT, name), f))).toBe(true);
  }
});

test.each(handlers)('the shipped bundle of %s equals a rebuild from its sources', name => {
  const rebuilt = buildSync({ ...handlerBuildOptions(ROOT, name), write: false });
  const byFile = new Map(rebuilt.outputFiles!.map(f => [path.basename(f.path), Buffer.from(f.contents)]));
  for (const f of bundleFiles(name)) {
    expect({ file: f, equal: byFile.get(f)!.equals(fs.readFileSync(path.join(bundleDir(ROOT, name), f))) }).toEqual({ file: f, equal: true });
  }
});

test.each(handlers)('%s loads the runtime AWS SDK with require, never a native import()', name => {
  const source = fs.readFileSync(path.join(bundleDir(ROOT, name), 'index.js'), 'utf8').replace(DEAD_OPENSEARCH_FALLBACK, '');
  const nativeImports = [...source.matchAll(/\bimport\(\s*["'](@aws-sdk\/[^"']+)["']\s*\)/g)].map(m => m[1]);
  expect(nativeImports).toEqual([]);
});

describe('a source checkout', () => {
  let root: string;
  const source = () => path.join(root, 'lambda', 'probe', 'index.ts');
  beforeAll(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'handler-bundle-'));
    fs.mkdirSync(path.dirname(source()), { recursive: true });
    fs.writeFileSync(path.join(root, 'package.json'), '{"name":"probe"}');
    fs.writeFileSync(path.join(root, 'package-lock.json'), '{"lockfileVersion":3}');
    fs.writeFileSync(path.join(root, 'lambda', 'probe', 'answer.ts'), 'export const answer = "first answer";\n');
    fs.writeFileSync(source(), 'import { answer } from "./answer";\nexport const handler = async () => `${answer}!`;\n');
  });
  afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

  test('builds a missing bundle, keeps a fresh one, and rebuilds after any own source or the lock file changes', () => {
    expect(isSourceCheckout(root)).toBe(true);
    expect(isBundleFresh(root, 'probe')).toBe(false);
    expect(ensureHandlerBundles(root)).toEqual(['probe']);
    expect(ensureHandlerBundles(root)).toEqual([]);
    const code = () => fs.readFileSync(path.join(bundleDir(root, 'probe'), 'index.js'), 'utf8');
    expect(code()).toContain('first answer');

    fs.writeFileSync(path.join(root, 'lambda', 'probe', 'answer.ts'), 'export const answer = "second answer";\n');
    expect(isBundleFresh(root, 'probe')).toBe(false);
    readyHandlerBundle(root, 'probe');
    expect(code()).toContain('second answer');
    expect(isBundleFresh(root, 'probe')).toBe(true);

    fs.writeFileSync(path.join(root, 'package-lock.json'), '{"lockfileVersion":3,"packages":{}}');
    expect(isBundleFresh(root, 'probe')).toBe(false);
  });

  test('an installed package (under node_modules) uses its shipped bundle as is, and says so when it is missing', () => {
    const installed = path.join(root, 'node_modules', 'probe-pkg');
    fs.mkdirSync(path.join(installed, 'lambda'), { recursive: true });
    expect(isSourceCheckout(installed)).toBe(false);
    expect(() => readyHandlerBundle(installed, 'probe')).toThrow(/bundle of handler 'probe' is missing .*Reinstall the package/);
    fs.mkdirSync(bundleDir(installed, 'probe'), { recursive: true });
    fs.writeFileSync(path.join(bundleDir(installed, 'probe'), 'index.js'), 'exports.handler = async () => "shipped";');
    expect(readyHandlerBundle(installed, 'probe')).toBe(bundleDir(installed, 'probe'));
    expect(fs.readFileSync(path.join(bundleDir(installed, 'probe'), 'index.js'), 'utf8')).toContain('shipped');
  });
});
