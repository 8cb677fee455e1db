// What the sink's bundle carries and what loading it runs: built as AgentFunction builds it (esbuild, CJS, minified, AWS SDK
// external); sizes and times are the benchmark's business (bench/bundle.bench.ts), these are the structural properties.
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { buildSync } from 'esbuild';

const ROOT = path.join(__dirname, '../..');
let dir: string;
let inputs: string[];
const bundleFile = () => path.join(dir, 'sink.js');

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sink-bundle-'));
  const result = buildSync({
    entryPoints: [path.join(ROOT, 'lambda/sink/index.ts')], outfile: bundleFile(), bundle: true, platform: 'node', target: 'node24',
    format: 'cjs', minify: true, external: ['@aws-sdk/*'], metafile: true, logLevel: 'silent',
  });
  inputs = Object.keys(result.metafile.inputs);
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

test('the bundle carries the sink\'s own search client and EMF writer, not the OpenSearch client or Powertools', () => {
  expect(inputs.some(f => f.endsWith('lambda/sink/search-http.ts'))).toBe(true);
  expect(inputs.filter(f => /@opensearch-project\/|@aws-lambda-powertools\//.test(f))).toEqual([]);
});

test('loading the bundle loads no AWS SDK client and runs no store client: they load on the first invocation, only those the views need', () => {
  const script = `require(${JSON.stringify(bundleFile())});`
    + 'process.stdout.write(JSON.stringify(Object.keys(require.cache).filter(k => /@aws-sdk\\/client-|ioredis/.test(k))))';
  const loaded = JSON.parse(execFileSync(process.execPath, ['-e', script], { env: { ...process.env, NODE_PATH: path.join(ROOT, 'node_modules') } }).toString());
  expect(loaded).toEqual([]);
  // The store modules are bundled behind lazy wrappers: the ioredis client class is not constructed at load.
  const source = fs.readFileSync(bundleFile(), 'utf8');
  expect(source).toMatch(/Promise\.resolve\(\)\.then\(\(\)=>/);
});
