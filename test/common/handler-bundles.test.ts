// Every Lambda handler bundled as AgentFunction bundles it (esbuild, CJS, AWS SDK external): the runtime's AWS SDK sits on
// NODE_PATH, which require() searches and a native ES-module import() does not, so no external package may be loaded
// through import() (esbuild leaves import() of an external package as a native import).
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { buildSync } from 'esbuild';

const ROOT = path.join(__dirname, '../..');
const entries = fs.readdirSync(path.join(ROOT, 'lambda'))
  .map(d => path.join(ROOT, 'lambda', d, 'index.ts'))
  .filter(f => fs.existsSync(f));
let dir: string;

/**
 * The one allowed: @opensearch-project/opensearch's AwsSigv4Signer falls back to import('@aws-sdk/credential-provider-node')
 * only when no getCredentials is passed (lib/aws/shared.js), and createSearchClient always passes one.
 */
const DEAD_OPENSEARCH_FALLBACK = /async\(\)=>\{try\{(?:const|let|var) \w+=await import\("@aws-sdk\/credential-provider-node"\)/;

beforeAll(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'handler-bundles-')); });
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

test('there are handlers to check', () => {
  expect(entries.map(e => path.basename(path.dirname(e)))).toEqual(expect.arrayContaining(['mcp', 'sink', 'replication-bootstrap', 'flink-starter']));
});

test.each(entries.map(e => [path.basename(path.dirname(e)), e]))('%s loads the runtime AWS SDK with require, never a native import()', (name, entry) => {
  const outfile = path.join(dir, `${name}.js`);
  buildSync({
    entryPoints: [entry], outfile, bundle: true, platform: 'node', target: 'node24', format: 'cjs', minify: true,
    external: ['@aws-sdk/*'], logLevel: 'silent',
  });
  const source = fs.readFileSync(outfile, 'utf8').replace(DEAD_OPENSEARCH_FALLBACK, '');
  const nativeImports = [...source.matchAll(/\bimport\(\s*["'](@aws-sdk\/[^"']+)["']\s*\)/g)].map(m => m[1]);
  expect(nativeImports).toEqual([]);
});
