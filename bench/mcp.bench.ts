// MCP `customer_lookup` through the full handler, warm: the function URL event path the Lambda shell runs
// (`serveFunctionUrlEvent`: a 2025-era tools/call of a read tool is answered from the event by the direct path, anything else
// goes event -> Web Request -> stateless MCP server -> result), and the same over local HTTP with the MCP SDK client; beside a
// raw HGETALL (the one command the lookup sends) through the same ioredis client.
import { Client as McpClient } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { redisFromUrl, toMskEvent } from '../cli/dev/dev-loop';
import type { McpServerDeps } from '../lambda/mcp/context';
import { startLocalServer, type FunctionUrlEvent, type FunctionUrlResult } from '../lambda/mcp/http-adapter';
import { serveFunctionUrlEvent } from '../lambda/mcp/server';
import { cacheKey } from '../contract/stored-record';
import { cacheBatchWriter } from '../lambda/sink/cache-route';
import { processBatch } from '../lambda/sink/process';
import { benchPrefix, customerChange, customerView, deletePrefix, REDIS_URL } from './fixtures';
import { BenchRow, summarize } from './lib';

const WARMUP = 200;
const ITERATIONS = 2000;

function lookupEvent(id: number): FunctionUrlEvent {
  const body = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'customer_lookup', arguments: { id } } });
  return {
    version: '2.0', routeKey: '$default', rawPath: '/mcp', rawQueryString: '',
    headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', host: 'bench.lambda-url.local' },
    requestContext: {
      accountId: 'bench', apiId: 'bench', domainName: 'bench.lambda-url.local', domainPrefix: 'bench',
      http: { method: 'POST', path: '/mcp', protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'bench' },
      requestId: 'bench', routeKey: '$default', stage: '$default', time: '', timeEpoch: 0,
    },
    body, isBase64Encoded: false,
  };
}

async function sample(n: number, fn: () => Promise<unknown>): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = process.hrtime.bigint();
    await fn();
    out.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  return out;
}

export async function mcpBench(): Promise<BenchRow[]> {
  const prefix = benchPrefix('mcp');
  const view = customerView(prefix);
  const cache = redisFromUrl(REDIS_URL);
  const redis = await cache.ready();
  const server = { close: async () => undefined } as { close(): Promise<void> };
  let client: McpClient | undefined;
  try {
    await processBatch(toMskEvent([customerChange(12345, 5000, 0)]), {
      views: [view], writers: { cache: cacheBatchWriter(cache) }, deadLetters: { send: async () => undefined },
      metrics: { count: () => undefined, freshnessLag: () => undefined, cdcLag: () => undefined }, log: { info: () => undefined, warn: () => undefined },
    });
    const deps: McpServerDeps = { views: [view], redis, now: () => Date.now() };
    const handler = (e: FunctionUrlEvent): Promise<FunctionUrlResult> => serveFunctionUrlEvent(e, deps);
    const event = lookupEvent(12345);
    const check = await handler(event);
    if (!String(check.body).includes('"found":true')) throw new Error(`lookup did not find the row: ${check.body}`);
    const key = cacheKey(view.cache!.keyPrefix, view.key, { id: 12345 });

    await sample(WARMUP, () => handler(event));
    await sample(WARMUP, () => redis.hgetall(key));
    // Interleave the two so drift on a shared machine hits both alike.
    const viaHandler: number[] = [];
    const raw: number[] = [];
    // CPU time of this process per call, beside wall time: on a shared machine wall time mostly measures the scheduler.
    const cpu = { handler: 0, raw: 0 };
    const cpuOf = async (fn: () => Promise<unknown>) => {
      const c0 = process.cpuUsage();
      await fn();
      const c = process.cpuUsage(c0);
      return (c.user + c.system) / 1000;
    };
    for (let i = 0; i < ITERATIONS / 100; i++) {
      cpu.handler += await cpuOf(async () => viaHandler.push(...await sample(100, () => handler(event))));
      cpu.raw += await cpuOf(async () => raw.push(...await sample(100, () => redis.hgetall(key))));
    }

    const local = await startLocalServer(handler, { port: 0 });
    server.close = () => local.close();
    client = new McpClient({ name: 'bench', version: '1.0.0' });
    await client.connect(new StreamableHTTPClientTransport(new URL(`${local.url}/mcp`)));
    const call = () => client!.callTool({ name: 'customer_lookup', arguments: { id: 12345 } });
    await sample(WARMUP, call);
    const viaHttp = await sample(ITERATIONS / 2, call);

    const h = summarize(viaHandler);
    const r = summarize(raw);
    const x = summarize(viaHttp);
    return [
      { bench: 'MCP lookup (warm)', metric: `p50, function URL event -> handler (n=${h.n})`, value: h.p50, unit: 'ms', baselineName: 'raw HGETALL, same client', baseline: r.p50 },
      { bench: 'MCP lookup (warm)', metric: `p99, function URL event -> handler (n=${h.n})`, value: h.p99, unit: 'ms', baselineName: 'raw HGETALL, same client', baseline: r.p99 },
      { bench: 'MCP lookup (warm)', metric: `CPU per call, function URL event -> handler (n=${h.n})`, value: cpu.handler / h.n, unit: 'ms', baselineName: 'raw HGETALL CPU per call', baseline: cpu.raw / r.n },
      { bench: 'MCP lookup (warm)', metric: `p50, SDK client over local HTTP (n=${x.n})`, value: x.p50, unit: 'ms', baselineName: 'raw HGETALL, same client', baseline: r.p50 },
      { bench: 'MCP lookup (warm)', metric: `p99, SDK client over local HTTP (n=${x.n})`, value: x.p99, unit: 'ms', baselineName: 'raw HGETALL, same client', baseline: r.p99 },
    ];
  } finally {
    await client?.close().catch(() => undefined);
    await server.close();
    await deletePrefix(redis as never, prefix);
    await cache.close();
  }
}
