// What the MCP bundle carries and what loading it runs, built as the handlers are built (esbuild, CJS, minified, AWS SDK v3
// external). Load times are the benchmark's business (bench/bundle.bench.ts); size and contents are structural.
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { buildSync } from 'esbuild';
import { BUNDLE_OPTIONS } from '../../constructs/common/handler-bundle';
import { DefaultJsonSchemaValidator } from '../../lambda/mcp/sdk-shims';

const ROOT = path.join(__dirname, '../..');
/** Issue 16 item 6: at most 1 MB minified. */
const MAX_BYTES = 1_000_000;
let dir: string;
let inputs: Record<string, { bytesInOutput: number }>;
let bytes: number;
const bundleFile = () => path.join(dir, 'mcp.js');

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mcp-bundle-'));
  // The options the shipped bundles are built with, so what is asserted here is what ships.
  const result = buildSync({
    ...BUNDLE_OPTIONS, absWorkingDir: ROOT, entryPoints: [path.join(ROOT, 'lambda/mcp/index.ts')], outfile: bundleFile(), sourcemap: false, metafile: true,
  });
  const output = Object.values(result.metafile.outputs)[0];
  inputs = output.inputs;
  bytes = fs.statSync(bundleFile()).size;
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function bytesOf(pattern: RegExp): number {
  return Object.entries(inputs).filter(([f]) => pattern.test(f)).reduce((n, [, v]) => n + v.bytesInOutput, 0);
}

test(`the bundle is at most ${MAX_BYTES} bytes minified`, () => {
  expect(bytes).toBeLessThanOrEqual(MAX_BYTES);
});

test('no OpenSearch client (the server signs its two reads itself) and none of zod\'s locales', () => {
  expect(bytesOf(/@opensearch-project\//)).toBe(0);
  expect(Object.keys(inputs).some(f => f.endsWith('lambda/mcp/search-reader.ts'))).toBe(true);
  // `import { z } from 'zod'` pulls in every locale (about 260 KiB); the namespace import lets esbuild drop them.
  expect(bytesOf(/zod\/v4\/locales\/(?!en\.)/)).toBe(0);
});

test('no Powertools: the shared telemetry writes its log lines and EMF documents (about 5 ms of `require` less)', () => {
  expect(bytesOf(/@aws-lambda-powertools\//)).toBe(0);
  expect(Object.keys(inputs)).toContain('lambda/shared/telemetry.ts');
});

test('loading the bundle loads no AWS SDK client: DynamoDB, Bedrock and SSM load on first use, only when configured', () => {
  const script = `require(${JSON.stringify(bundleFile())});`
    + 'process.stdout.write(JSON.stringify(Object.keys(require.cache).filter(k => /node_modules/.test(k))))';
  const loaded = JSON.parse(execFileSync(process.execPath, ['-e', script], {
    env: { ...process.env, NODE_PATH: path.join(ROOT, 'node_modules'), AWS_REGION: 'us-east-1', POWERTOOLS_LOG_LEVEL: 'SILENT' },
  }).toString());
  expect(loaded).toEqual([]);
});

test('handler code imports zod as a namespace: `import { z } from \'zod\'` bundles every locale (about 260 KiB)', () => {
  const offenders: string[] = [];
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (p.endsWith('.ts') && /import\s*\{[^}]*\bz\b[^}]*\}\s*from\s*['"]zod['"]/.test(fs.readFileSync(p, 'utf8'))) offenders.push(path.relative(ROOT, p));
    }
  };
  walk(path.join(ROOT, 'lambda'));
  // The fix: `import * as z from 'zod';` (same API, and esbuild can leave out what is not used).
  expect(offenders).toEqual([]);
});

test('the Trino grammar of the warehouse SQL mode ships beside the bundle and parses, and the server bundle does not inline it', () => {
  const shipped = path.join(ROOT, 'bundles', 'mcp', 'trino-parser.js');
  const parser = require(shipped) as { TrinoSQL: new () => { parse(sql: string, onError: (e: unknown) => void): unknown } };
  const errors: unknown[] = [];
  expect(new parser.TrinoSQL().parse('SELECT status, count(*) FROM order_history GROUP BY status', e => errors.push(e))).toBeTruthy();
  expect(errors).toEqual([]);
  expect(bytesOf(/dt-sql-parser/)).toBe(0);
  expect(fs.statSync(path.join(ROOT, 'bundles', 'mcp', 'index.js')).size).toBeLessThanOrEqual(MAX_BYTES);
});

test('the SDK\'s JSON Schema validator (ajv) sits behind the bundle\'s own shim, which loads it on first use and validates as the SDK\'s does', () => {
  expect(Object.keys(inputs)).toContain('lambda/mcp/sdk-shims.ts');
  expect(Object.keys(inputs).filter(f => /@modelcontextprotocol\/server\/dist\/shims/.test(f))).toEqual([]);
  // Still bundled (an elicitation answer would need it), but only reachable through the shim's getValidator.
  expect(bytesOf(/ajvProvider/)).toBeGreaterThan(0);
  const validate = new DefaultJsonSchemaValidator().getValidator<{ n: number }>({ type: 'object', properties: { n: { type: 'integer' } }, required: ['n'] });
  expect(validate({ n: 1 })).toMatchObject({ valid: true, data: { n: 1 } });
  expect(validate({ n: 'one' })).toMatchObject({ valid: false });
  expect(validate({})).toMatchObject({ valid: false });
});
