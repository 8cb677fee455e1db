// The MCP bundle's cold start and memory in fresh Node.js processes: require plus the first customer_lookup against the local
// Redis (what a lazily loaded module cannot hide), and peak RSS after serving the largest answer the server gives
// (customer_lookup_many of 100 large rows, which the server's result cap truncates to about 1 MB), beside an empty handler.
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Redis } from 'ioredis';
import { CACHE_FIELDS, cacheKey, paddedVersion } from '../contract/stored-record';
import { benchPrefix, bundleHandler, childEnv, customerView, deletePrefix, localCacheEnv, PEAK_RSS_MIB_JS, REDIS_URL } from './fixtures';
import { BenchRow, summarize } from './lib';

const ROOT = path.join(__dirname, '..');
const RUNS = 5;
/** 100 rows of this size would make a 5.7 MB answer; the server cuts it at its 512 KiB result cap (about 1 MB with the JSON twice). */
const LARGE_ROW_BYTES = 28 * 1024;

function functionUrlEvent(body: unknown): string {
  return JSON.stringify({
    version: '2.0', routeKey: '$default', rawPath: '/mcp', rawQueryString: '',
    headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', host: 'bench.lambda-url.local' },
    requestContext: { domainName: 'bench.lambda-url.local', http: { method: 'POST', path: '/mcp' }, requestId: 'bench' },
    body: JSON.stringify(body), isBase64Encoded: false,
  });
}

interface ChildFigures { requireMs: number; firstCallMs: number; rssAfterLoadMiB: number; maxRssMiB: number; responseBytes: number }

/** Runs `file`'s handler once on `event` in a new process; resource usage is read after the answer (peak RSS: PEAK_RSS_MIB_JS). */
function runChild(file: string, event: string | undefined, env: Record<string, string>): ChildFigures {
  const script = `const t0=process.hrtime.bigint();const m=require(${JSON.stringify(file)});const t1=process.hrtime.bigint();`
    + 'const rss=process.memoryUsage().rss;'
    + `Promise.resolve(${event ? `m.handler(${event})` : 'undefined'}).then(async r=>{const t2=process.hrtime.bigint();`
    + 'if(r&&r.statusCode!==200)throw new Error("status "+r.statusCode+": "+String(r.body).slice(0,300));'
    + `const out={requireMs:Number(t1-t0)/1e6,firstCallMs:Number(t2-t1)/1e6,rssAfterLoadMiB:rss/1048576,maxRssMiB:${PEAK_RSS_MIB_JS},responseBytes:r?Buffer.byteLength(r.body):0};`
    + 'if(m.close)await m.close();process.stdout.write("\\n"+JSON.stringify(out))}).catch(e=>{console.error(e);process.exit(1)})';
  const out = execFileSync(process.execPath, ['-e', script], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: childEnv({ POWERTOOLS_LOG_LEVEL: 'SILENT', ...env }),
  });
  return JSON.parse(out.toString().trim().split('\n').pop()!);
}

export async function mcpColdBench(): Promise<BenchRow[]> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-mcp-cold-'));
  const prefix = benchPrefix('mcp-cold');
  const view = customerView(prefix);
  const redis = new Redis(REDIS_URL);
  try {
    const mcp = path.join(dir, 'mcp.js');
    const empty = path.join(dir, 'empty.js');
    bundleHandler(path.join(ROOT, 'lambda/mcp/index.ts'), mcp);
    bundleHandler({ contents: 'export const handler = async () => ({ statusCode: 200, body: "" });' }, empty);

    const now = Date.now();
    const pipeline = redis.pipeline();
    for (let id = 1; id <= 100; id++) {
      const row = { id, name: `Customer ${id}`, email: `c${id}@example.com`, tier: 'gold', balance: id, updated_at: '2026-11-28T00:00:00Z', notes: 'x'.repeat(LARGE_ROW_BYTES) };
      const provenance = {
        sourceDatabase: 'shop', sourceTable: 'public.customers', key: { id }, commitTimeMs: now - 1000, op: 'u', version: String(5000 + id),
        position: { kind: 'postgres', lsn: `0/${(5000 + id).toString(16)}`, txId: 1 }, kafka: { topic: view.topic, partition: 0, offset: String(id) }, writtenAtMs: now - 900,
      };
      pipeline.hset(cacheKey(view.cache!.keyPrefix, view.key, { id }), CACHE_FIELDS.version, paddedVersion(String(5000 + id)),
        CACHE_FIELDS.record, JSON.stringify({ view: view.name, row, provenance }));
    }
    await pipeline.exec();
    // `notes` is served only if declared.
    const views = [{ ...view, fields: [...view.fields, { name: 'notes', type: 'string' }] }];
    const env = {
      AGENT_VIEWS: JSON.stringify(views), ...localCacheEnv(), POWERTOOLS_SERVICE_NAME: 'bench', POWERTOOLS_METRICS_NAMESPACE: 'Bench',
    };
    const lookup = functionUrlEvent({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'customer_lookup', arguments: { id: 1 } } });
    const many = functionUrlEvent({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'customer_lookup_many', arguments: { keys: Array.from({ length: 100 }, (_, i) => ({ id: i + 1 })) } } });

    const emptyRuns: ChildFigures[] = [];
    const firstLookup: ChildFigures[] = [];
    const largest: ChildFigures[] = [];
    for (let i = 0; i < RUNS; i++) {
      emptyRuns.push(runChild(empty, undefined, {}));
      firstLookup.push(runChild(mcp, lookup, env));
      largest.push(runChild(mcp, many, env));
    }
    const p50 = (xs: number[]) => summarize(xs).p50;
    const emptyRequire = p50(emptyRuns.map(r => r.requireMs));
    const emptyRss = p50(emptyRuns.map(r => r.maxRssMiB));
    return [
      { bench: 'MCP cold start', metric: `require + first customer_lookup (real Redis), p50 of ${RUNS}`, value: p50(firstLookup.map(r => r.requireMs + r.firstCallMs)), unit: 'ms', baselineName: 'empty handler require', baseline: emptyRequire },
      { bench: 'MCP cold start', metric: `of which first customer_lookup (store connection, tool table), p50 of ${RUNS}`, value: p50(firstLookup.map(r => r.firstCallMs)), unit: 'ms', baselineName: 'empty handler require', baseline: emptyRequire },
      { bench: 'MCP memory', metric: `RSS after require, p50 of ${RUNS}`, value: p50(firstLookup.map(r => r.rssAfterLoadMiB)), unit: 'MiB', baselineName: 'empty handler peak RSS', baseline: emptyRss },
      { bench: 'MCP memory', metric: `peak RSS, first customer_lookup, p50 of ${RUNS}`, value: p50(firstLookup.map(r => r.maxRssMiB)), unit: 'MiB', baselineName: 'empty handler peak RSS', baseline: emptyRss },
      { bench: 'MCP memory', metric: `peak RSS, customer_lookup_many of 100 x ${LARGE_ROW_BYTES / 1024} KiB rows (${(largest[0].responseBytes / 1e6).toFixed(1)} MB answer), p50 of ${RUNS}`, value: p50(largest.map(r => r.maxRssMiB)), unit: 'MiB', baselineName: 'empty handler peak RSS', baseline: emptyRss },
    ];
  } finally {
    await deletePrefix(redis, prefix);
    redis.disconnect();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
