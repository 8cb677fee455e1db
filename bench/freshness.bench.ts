// Local commit-to-visible latency: from issuing an autocommit UPDATE in the dev loop's PostgreSQL to the MCP lookup (SDK
// client over HTTP, polled) answering with the new value; beside a PostgreSQL round trip (SELECT 1) on the same connection.
import { Client as McpClient } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { Client } from 'pg';
import { startDevLoop } from '../cli/dev/dev-loop';
import { BenchRow, summarize } from './lib';

const CHANGES = 300;
const BUDGET_MS = 45_000;

export async function freshnessBench(): Promise<BenchRow[]> {
  const loop = await startDevLoop({ port: 0, runId: `bench${process.pid}` });
  const pg = new Client(loop.postgres);
  const mcp = new McpClient({ name: 'bench', version: '1.0.0' });
  try {
    await pg.connect();
    await mcp.connect(new StreamableHTTPClientTransport(new URL(loop.url)));
    const balance = async () => ((await mcp.callTool({ name: 'customer_lookup', arguments: { id: 12345 } })).structuredContent as { row?: { balance?: number } })?.row?.balance;
    const rtt: number[] = [];
    const visible: number[] = [];
    const started = Date.now();
    for (let i = 1; i <= CHANGES && Date.now() - started < BUDGET_MS; i++) {
      const r0 = process.hrtime.bigint();
      await pg.query('SELECT 1');
      rtt.push(Number(process.hrtime.bigint() - r0) / 1e6);
      const t0 = process.hrtime.bigint();
      await pg.query('UPDATE public.customers SET balance = $1 WHERE id = 12345', [i]);
      while ((await balance()) !== i) {
        if (Date.now() - started > BUDGET_MS + 10_000) throw new Error(`change ${i} never became visible`);
      }
      visible.push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
    const v = summarize(visible);
    const r = summarize(rtt);
    return [
      { bench: 'local freshness', metric: `commit -> MCP answer p50 (n=${v.n})`, value: v.p50, unit: 'ms', baselineName: 'PostgreSQL round trip (SELECT 1)', baseline: r.p50 },
      { bench: 'local freshness', metric: `commit -> MCP answer p99 (n=${v.n})`, value: v.p99, unit: 'ms', baselineName: 'PostgreSQL round trip (SELECT 1)', baseline: r.p99 },
    ];
  } finally {
    await mcp.close().catch(() => undefined);
    await pg.end().catch(() => undefined);
    await loop.stop();
  }
}
