// The handlers' Lambda bundles as the package ships them (bundles/, built by `npm run build` and the jest setup): each
// equals a rebuild from its sources, a source checkout rebuilds a stale one, and none loads the runtime's AWS SDK through
// a native import(): the SDK sits on NODE_PATH, which require() searches and a native ES-module import() does not
// (esbuild leaves import() of an external package as a native import).
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as vm from 'vm';
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

test('the SigV4 signing the bundles carry, built with the bundles\' options (ES-module builds first), signs as the source does', async () => {
  // The bundles resolve @smithy/signature-v4 and @smithy/protocol-http to their ES-module builds (mainFields module first, which
  // lets esbuild drop about 130 KiB of @smithy/core the CommonJS builds require whole). The ElastiCache IAM token and the search
  // reader's signed request are what that code produces: built the same way, it must give the source's exact bytes.
  const entry = path.join(ROOT, 'test', 'common', `.sigv4-probe-${process.pid}.ts`);
  fs.writeFileSync(entry, `export { buildIamAuthToken } from '../../lambda/shared/cache-client';\nexport { SignatureV4 } from '@smithy/signature-v4';\n`);
  try {
    const options = handlerBuildOptions(ROOT, 'mcp');
    const built = buildSync({ ...options, entryPoints: [entry], outdir: undefined, outfile: 'probe.js', write: false, sourcemap: false, metafile: true });
    const inputs = Object.keys(built.metafile!.inputs);
    expect(inputs.filter(i => i.includes('@smithy/signature-v4/')).every(i => i.includes('/dist-es/'))).toBe(true);
    // What is left of @smithy/core in the output (the CommonJS builds carried about 128 KiB of it into the MCP bundle).
    const output = Object.values(built.metafile!.outputs).find(o => Object.keys(o.inputs).length > 0)!;
    const core = Object.entries(output.inputs).filter(([i]) => i.includes('@smithy/core/')).reduce((n, [, v]) => n + v.bytesInOutput, 0);
    expect(core).toBeLessThan(16 * 1024);
    const m = { exports: {} as Record<string, any> };
    (vm.runInThisContext(`(function (module, exports, require) {${built.outputFiles!.find(f => f.path.endsWith('probe.js'))!.text}\n})`) as
      (...a: unknown[]) => void)(m, m.exports, require);
    const { buildIamAuthToken } = await import('../../lambda/shared/cache-client');
    const request = {
      cacheName: 'agent-cache', userId: 'agent-mcp', region: 'eu-west-1', serverless: true, signingDate: new Date('2026-12-02T01:02:03Z'),
      credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY', sessionToken: 'token/with+chars=' },
    };
    const fromSource = await buildIamAuthToken(request);
    expect(fromSource).toMatch(/^agent-cache\/\?Action=connect&User=agent-mcp&ResourceType=ServerlessCache&X-Amz-Security-Token=.*&X-Amz-Signature=[0-9a-f]{64}$/);
    expect(await m.exports.buildIamAuthToken(request)).toBe(fromSource);
  } finally {
    fs.rmSync(entry, { force: true });
  }
});
