// What the sink's bundle carries and what loading it runs: the bundle the package ships (bundles/sink, built by `npm run
// bundle` and the jest setup, checked against its sources by test/common/handler-bundles.test.ts); sizes and times are
// the benchmark's business (bench/bundle.bench.ts), these are the structural properties.
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { bundleDir } from '../../constructs/common/handler-bundle';

const ROOT = path.join(__dirname, '../..');
const bundleFile = () => path.join(bundleDir(ROOT, 'sink'), 'index.js');
// The bundle's inputs, as its source map lists them.
const inputs: string[] = JSON.parse(fs.readFileSync(`${bundleFile()}.map`, 'utf8')).sources;

test('the bundle carries the sink\'s own search client and the shared EMF writer, not the OpenSearch client or Powertools', () => {
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
