// MCP and sink handler bundles built like AgentFunction's NodejsFunction (esbuild, CJS, node24, minified, AWS SDK v3
// external), their size and the time to `require` them in a fresh Node.js process (a proxy for the init part of a cold
// start), beside an empty handler bundled the same way.
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { buildSync } from 'esbuild';
import { BenchRow, summarize } from './lib';

const ROOT = path.join(__dirname, '..');
const RUNS = 7;

function bundle(entry: string, outfile: string): number {
  buildSync({
    entryPoints: [entry], outfile, bundle: true, platform: 'node', target: 'node24', format: 'cjs', minify: true,
    sourcemap: true, external: ['@aws-sdk/*'], logLevel: 'silent',
  });
  return fs.statSync(outfile).size;
}

/** Milliseconds to require `file` in a new process; the AWS SDK resolves from the repo's node_modules, as the runtime provides it. */
function loadMs(file: string): number {
  const script = `const t=process.hrtime.bigint();require(${JSON.stringify(file)});process.stdout.write(String(Number(process.hrtime.bigint()-t)/1e6))`;
  const out = execFileSync(process.execPath, ['-e', script], {
    stdio: 'pipe', env: { ...process.env, NODE_PATH: path.join(ROOT, 'node_modules'), AWS_REGION: 'us-east-1' },
  });
  return Number(out.toString());
}

export async function bundleBench(): Promise<BenchRow[]> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-bundle-'));
  try {
    const emptyEntry = path.join(dir, 'empty.ts');
    fs.writeFileSync(emptyEntry, 'export const handler = async () => ({ statusCode: 200 });\n');
    const targets = {
      empty: emptyEntry,
      mcp: path.join(ROOT, 'lambda/mcp/index.ts'),
      sink: path.join(ROOT, 'lambda/sink/index.ts'),
    };
    const size: Record<string, number> = {};
    const load: Record<string, number[]> = { empty: [], mcp: [], sink: [] };
    for (const [name, entry] of Object.entries(targets)) size[name] = bundle(entry, path.join(dir, `${name}.js`));
    for (let i = 0; i < RUNS; i++) {
      for (const name of Object.keys(targets)) load[name].push(loadMs(path.join(dir, `${name}.js`)));
    }
    const p50 = (name: string) => summarize(load[name]).p50;
    return [
      { bench: 'bundle', metric: 'MCP handler size (minified, SDK external)', value: size.mcp / 1024, unit: 'KiB', baselineName: 'empty handler', baseline: size.empty / 1024 },
      { bench: 'bundle', metric: 'sink handler size (minified, SDK external)', value: size.sink / 1024, unit: 'KiB', baselineName: 'empty handler', baseline: size.empty / 1024 },
      { bench: 'bundle', metric: `MCP handler require time, p50 of ${RUNS}`, value: p50('mcp'), unit: 'ms', baselineName: 'empty handler', baseline: p50('empty') },
      { bench: 'bundle', metric: `sink handler require time, p50 of ${RUNS}`, value: p50('sink'), unit: 'ms', baselineName: 'empty handler', baseline: p50('empty') },
    ];
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
