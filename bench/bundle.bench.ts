// MCP and sink handler bundles built like AgentFunction's NodejsFunction (esbuild, CJS, node24, minified, AWS SDK v3
// external), their size and the time to `require` them in a fresh Node.js process (a proxy for the init part of a cold
// start), beside an empty handler bundled the same way.
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { bundleHandler, childEnv, localCacheEnv } from './fixtures';
import { BenchRow, summarize } from './lib';

const ROOT = path.join(__dirname, '..');
const RUNS = 7;

function bundle(entry: string, outfile: string, overrides = {}): number {
  bundleHandler(entry, outfile, overrides);
  return fs.statSync(outfile).size;
}

/** esbuild's own resolution order on node (CommonJS builds first), which the shipped bundles turn round: the same-run comparison. */
const MAIN_FIRST = { mainFields: ['main', 'module'] };

/** Milliseconds to require `file` in a new process; the AWS SDK resolves from the repo's node_modules, as the runtime provides it. */
function loadMs(file: string): number {
  const script = `const t=process.hrtime.bigint();require(${JSON.stringify(file)});process.stdout.write(String(Number(process.hrtime.bigint()-t)/1e6))`;
  const out = execFileSync(process.execPath, ['-e', script], {
    stdio: 'pipe', env: childEnv(),
  });
  return Number(out.toString());
}

/**
 * Milliseconds to require the sink bundle and run its first invocation on an empty batch in a new process: the init a
 * cache-view sink pays on a cold start (its store and dead-letter clients load then), against the local Redis.
 */
function sinkFirstInvocationMs(file: string): number {
  const views = [{ name: 'customer', description: 'd', store: 'cache', topic: 't', format: 'debezium', key: ['id'], fields: [{ name: 'id', type: 'integer' }],
    sourceTable: 'public.customers', cache: { keyPrefix: 'agent-data-stack-bench:init:', tombstoneTtlSeconds: 60 } }];
  const script = `const t=process.hrtime.bigint();const m=require(${JSON.stringify(file)});`
    + 'm.handler({records:{}}).then(async()=>{const ms=Number(process.hrtime.bigint()-t)/1e6;await m.close();process.stdout.write(String(ms))})'
    + '.catch(e=>{console.error(e);process.exit(1)})';
  const out = execFileSync(process.execPath, ['-e', script], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: childEnv({
      AGENT_VIEWS: JSON.stringify(views), ...localCacheEnv(),
      AGENT_SINK_DLQ_KIND: 's3', AGENT_SINK_DLQ_TARGET: 'bench-bucket', POWERTOOLS_METRICS_NAMESPACE: 'Bench', POWERTOOLS_SERVICE_NAME: 'sink',
    }),
  });
  // The last write is the figure; the handler's own log lines come before it.
  return Number(out.toString().trim().split('\n').pop()!.replace(/^.*\}/, ''));
}

export async function bundleBench(): Promise<BenchRow[]> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-bundle-'));
  // External packages the bundles `import()` resolve as ES modules, which ignore NODE_PATH: give them a node_modules.
  fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules'), 'dir');
  try {
    const emptyEntry = path.join(dir, 'empty.ts');
    fs.writeFileSync(emptyEntry, 'export const handler = async () => ({ statusCode: 200 });\n');
    const targets = {
      empty: emptyEntry,
      mcp: path.join(ROOT, 'lambda/mcp/index.ts'),
      sink: path.join(ROOT, 'lambda/sink/index.ts'),
    };
    const size: Record<string, number> = {};
    const load: Record<string, number[]> = { 'empty': [], 'mcp': [], 'sink': [], 'mcp-main-first': [], 'sink-main-first': [] };
    const sinkInit: number[] = [];
    for (const [name, entry] of Object.entries(targets)) size[name] = bundle(entry, path.join(dir, `${name}.js`));
    for (const name of ['mcp', 'sink'] as const) size[`${name}-main-first`] = bundle(targets[name], path.join(dir, `${name}-main-first.js`), MAIN_FIRST);
    for (let i = 0; i < RUNS; i++) {
      // Interleaved, so the machine's load falls on every variant alike.
      for (const name of Object.keys(load)) load[name].push(loadMs(path.join(dir, `${name}.js`)));
      sinkInit.push(sinkFirstInvocationMs(path.join(dir, 'sink.js')));
    }
    const p50 = (name: string) => summarize(load[name]).p50;
    return [
      { bench: 'bundle', metric: 'MCP handler size (minified, SDK external)', value: size.mcp / 1024, unit: 'KiB', baselineName: 'empty handler', baseline: size.empty / 1024 },
      { bench: 'bundle', metric: 'sink handler size (minified, SDK external)', value: size.sink / 1024, unit: 'KiB', baselineName: 'empty handler', baseline: size.empty / 1024 },
      { bench: 'bundle', metric: `MCP handler require time, p50 of ${RUNS}`, value: p50('mcp'), unit: 'ms', baselineName: 'empty handler', baseline: p50('empty') },
      { bench: 'bundle', metric: `sink handler require time, p50 of ${RUNS}`, value: p50('sink'), unit: 'ms', baselineName: 'empty handler', baseline: p50('empty') },
      { bench: 'bundle', metric: `sink require + first invocation (cache view, S3 dead letters, empty batch), p50 of ${RUNS}`, value: summarize(sinkInit).p50, unit: 'ms', baselineName: 'empty handler', baseline: p50('empty') },
      ...(['mcp', 'sink'] as const).flatMap(name => {
        const label = name === 'mcp' ? 'MCP' : 'sink';
        const baselineName = `${label} bundle with CommonJS builds first (esbuild's default mainFields)`;
        return [
          { bench: 'bundle', metric: `${label} handler size, ES-module builds first (as shipped)`, value: size[name] / 1024, unit: 'KiB', baselineName, baseline: size[`${name}-main-first`] / 1024 },
          { bench: 'bundle', metric: `${label} handler require time, ES-module builds first, p50 of ${RUNS}`, value: p50(name), unit: 'ms', baselineName, baseline: p50(`${name}-main-first`) },
        ];
      }),
    ];
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
