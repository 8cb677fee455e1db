// Freshness per view on the real engines (`npm run bench -- views`): commit in PostgreSQL to visible through MCP, p50/p99, for each
// of the example's three views as `dev --engines` runs them: the direct cache view (Debezium -> sink -> Redis), the Flink-derived
// search view (Debezium -> Flink join -> sink -> OpenSearch) and the vector view (Debezium -> sink with embeddings -> OpenSearch
// k-NN). Beside each, a baseline of the same run: the local loop (no engines) and the engines' own cache view. Nothing is asserted.
import { Client as McpClient } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { Client } from 'pg';
import { startEngineStack } from '../cli/dev/engines/stack';
import { freshnessBench } from './freshness.bench';
import { BenchRow, summarize } from './lib';

/** Changes per view; issued at RATE per second, each to a row with no change of it in flight. */
const CHANGES = Number(process.env.VIEWS_BENCH_CHANGES ?? 60);
const RATE = 4;
const DEADLINE_MS = 180_000;

const log = (line: string) => process.stderr.write(`bench views: ${line}\n`);
const sleep = (ms: number) => new Promise(r => setTimeout(r, ms));

type Structured = Record<string, any>;

/** One view's probe: `change(i)` commits the i-th change and returns what `visible` must see. */
interface ViewProbe<T> {
  readonly name: string;
  readonly path: string;
  change(pg: Client, i: number): Promise<T>;
  visible(call: (tool: string, args: Record<string, unknown>) => Promise<Structured>, want: T): Promise<boolean>;
}

export interface ViewsBenchOptions {
  /** Rows of the local freshness bench already run in this `npm run bench` (else it is run here). */
  readonly localFreshness?: BenchRow[];
}

export async function viewsBench(options: ViewsBenchOptions = {}): Promise<BenchRow[]> {
  const local = options.localFreshness?.length ? options.localFreshness : await freshnessBench();
  const localP50 = local.find(r => r.metric.includes('p50'))!;
  const localP99 = local.find(r => r.metric.includes('p99'))!;
  const stack = await startEngineStack({ log });
  const pg = new Client({ connectionString: stack.postgresUrl });
  const mcp = new McpClient({ name: 'bench-views', version: '1.0.0' });
  try {
    await pg.connect();
    await mcp.connect(new StreamableHTTPClientTransport(new URL(stack.url)));
    const call = async (tool: string, args: Record<string, unknown>) => {
      const res = await mcp.callTool({ name: tool, arguments: args }) as { isError?: boolean; structuredContent?: Structured; content: Array<{ text?: string }> };
      if (res.isError) throw new Error(`${tool}: ${res.content.map(c => c.text).join(' ')}`);
      return res.structuredContent!;
    };
    // Rows the probes change: customers, completed orders (joined by Flink) and tickets, all present before timing starts.
    const ROWS = 40;
    await pg.query(`INSERT INTO public.customers (id, name, email) SELECT g, 'Bench ' || g, 'b' || g || '@example.com' FROM generate_series(300001, ${300000 + ROWS}) g`);
    await pg.query(`INSERT INTO public.orders (id, customer_id, status, total) SELECT g, 300001 + (g % ${ROWS}), 'completed', 1 FROM generate_series(400001, ${400000 + ROWS}) g`);
    await pg.query(`INSERT INTO public.support_tickets (id, customer_id, subject, body) SELECT g, 300001, 'bench ticket ' || g, 'nothing yet' FROM generate_series(500001, ${500000 + ROWS}) g`);
    const last = { customer: 300000 + ROWS, order: 400000 + ROWS, ticket: 500000 + ROWS };
    for (const deadline = Date.now() + DEADLINE_MS; ;) {
      const ready = (await call('customer_lookup', { id: last.customer })).found
        && (await call('orders_search', { filters: { order_id: last.order } })).hits.length === 1
        && (await call('tickets_search', { filters: { id: last.ticket } })).hits.length === 1;
      if (ready) break;
      if (Date.now() > deadline) throw new Error('the bench rows never reached all three views');
      await sleep(500);
    }

    const probes: Array<ViewProbe<any>> = [
      {
        name: 'customer', path: 'cache: Debezium -> sink -> Redis, customer_lookup',
        change: async (c, i) => {
          const id = 300001 + (i % ROWS);
          await c.query('UPDATE public.customers SET balance = $2 WHERE id = $1', [id, 1000 + i]);
          return { id, balance: 1000 + i };
        },
        visible: async (tool, w) => (await tool('customer_lookup', { id: w.id })).row?.balance === w.balance,
      },
      {
        name: 'orders', path: 'search via Flink: Debezium -> Flink join -> sink -> OpenSearch, orders_search',
        change: async (c, i) => {
          const id = 400001 + (i % ROWS);
          await c.query('UPDATE public.orders SET total = $2 WHERE id = $1', [id, 100 + i]);
          return { id, total: 100 + i };
        },
        visible: async (tool, w) => (await tool('orders_search', { filters: { order_id: w.id } })).hits[0]?.row?.total === w.total,
      },
      {
        name: 'tickets', path: 'vectors: Debezium -> sink with embeddings -> OpenSearch k-NN, tickets_similar',
        change: async (c, i) => {
          const id = 500001 + (i % ROWS);
          const body = `bench change ${i} ${['alpha', 'bravo', 'charlie', 'delta', 'echo'][i % 5]} refund delivery ${i * 7919}`;
          await c.query('UPDATE public.support_tickets SET body = $2 WHERE id = $1', [id, body]);
          return { id, body };
        },
        visible: async (tool, w) => {
          const hit = (await tool('tickets_similar', { text: w.body, k: 1, filters: { id: w.id } })).hits[0];
          return hit?.row?.body === w.body;
        },
      },
    ];

    const results = new Map<string, ReturnType<typeof summarize> & { cycle: number }>();
    for (const probe of probes) {
      const r = await measure(pg, probe, call);
      results.set(probe.name, r);
      log(`${probe.name}: p50 ${r.p50.toFixed(0)} ms, p99 ${r.p99.toFixed(0)} ms (n=${r.n}), detection cycle p50 ${r.cycle.toFixed(1)} ms`);
    }
    const cache = results.get('customer')!;
    const rows: BenchRow[] = [];
    for (const probe of probes) {
      const r = results.get(probe.name)!;
      rows.push(
        { bench: 'views freshness', metric: `${probe.name} (${probe.path}) commit -> MCP p50 (n=${r.n})`, value: r.p50, unit: 'ms', baselineName: 'local loop (no engines) p50, same run', baseline: localP50.value },
        { bench: 'views freshness', metric: `${probe.name} commit -> MCP p99 (n=${r.n})`, value: r.p99, unit: 'ms', baselineName: 'local loop (no engines) p99, same run', baseline: localP99.value },
      );
      if (probe.name !== 'customer') {
        rows.push(
          { bench: 'views freshness', metric: `${probe.name} commit -> MCP p50`, value: r.p50, unit: 'ms', baselineName: 'customer (cache view on the engines) p50, same run', baseline: cache.p50 },
          { bench: 'views freshness', metric: `${probe.name} commit -> MCP p99`, value: r.p99, unit: 'ms', baselineName: 'customer (cache view on the engines) p99, same run', baseline: cache.p99 },
        );
      }
      rows.push({ bench: 'views freshness', metric: `${probe.name} detection resolution: polling cycle p50`, value: r.cycle, unit: 'ms', baselineName: `${probe.name} commit -> MCP p50`, baseline: r.p50 });
    }
    const startup = stack.timings.filter(t => !t.component.includes('alongside')).reduce((n, t) => n + t.ms, 0);
    rows.push({ bench: 'views freshness', metric: 'dev --engines start-up to ready (warm caches)', value: startup, unit: 'ms', baselineName: 'Kafka, Connect and the connector RUNNING', baseline: stack.timings.find(t => t.component.startsWith('Kafka'))?.ms ?? NaN });
    return rows;
  } finally {
    await mcp.close().catch(() => undefined);
    await pg.end().catch(() => undefined);
    await stack.stop().catch(e => log(`stop: ${(e as Error).message}`));
  }
}

/**
 * CHANGES changes at RATE per second, each to a row with none of its changes in flight; a loop checks every in-flight change
 * through MCP each cycle until it shows. Returns the commit-to-visible distribution and the loop's cycle time (its resolution).
 */
async function measure<T>(pg: Client, probe: ViewProbe<T>, call: (tool: string, args: Record<string, unknown>) => Promise<Structured>) {
  const inFlight = new Map<number, { want: T; t0: bigint }>();
  const visible: number[] = [];
  const cycles: number[] = [];
  let done = false;
  const started = Date.now();
  const watcher: Promise<void> = (async () => {
    while (!done || inFlight.size > 0) {
      if (Date.now() - started > DEADLINE_MS) throw new Error(`${probe.name}: ${inFlight.size} changes not visible after ${DEADLINE_MS / 1000} s`);
      const c0 = process.hrtime.bigint();
      await Promise.all([...inFlight].map(async ([i, f]) => {
        if (await probe.visible(call, f.want)) {
          visible.push(Number(process.hrtime.bigint() - f.t0) / 1e6);
          inFlight.delete(i);
        }
      }));
      if (inFlight.size > 0) cycles.push(Number(process.hrtime.bigint() - c0) / 1e6);
      else await sleep(5);
    }
  })();
  watcher.catch(() => undefined); // awaited (and its error thrown) below; this only keeps an early failure from being "unhandled"
  try {
    for (let i = 0; i < CHANGES; i++) {
      await sleep(Math.max(0, started + (i * 1000) / RATE - Date.now()));
      // The row of change i is i % ROWS; with RATE 4 and 40 rows a row changes every 10 s, so one change per row is in flight.
      const t0 = process.hrtime.bigint();
      const want = await probe.change(pg, i);
      inFlight.set(i, { want, t0 });
    }
  } finally {
    done = true;
    await watcher;
  }
  return { ...summarize(visible), cycle: summarize(cycles).p50 };
}
