// Test doubles for the MCP server tests: an in-memory decision store, a recording OpenSearch stand-in, views and seeded rows.
import { randomBytes } from 'crypto';
import * as http from 'http';
import type { AddressInfo } from 'net';
import { assertDecisionFits, type DecisionInput, type DecisionRecord, type DecisionStore } from '../../contract/decision-store';
import type { LineageCatalog } from '../../contract/lineage';
import { buildLineageCatalog } from '../../contract/lineage-graph';
import { documentId, Provenance, StoredRecord } from '../../contract/stored-record';
import type { ViewConfig } from '../../contract/view-config';
import type { McpServerDeps } from '../../lambda/mcp/context';
import { handleHttpRequest } from '../../lambda/mcp/server';

export class InMemoryDecisionStore implements DecisionStore {
  readonly records = new Map<string, DecisionRecord>();
  private seq = 0;
  constructor(private readonly clock: () => number) {}
  async record(input: DecisionInput): Promise<DecisionRecord> {
    const record: DecisionRecord = { ...input, decisionId: `dec-${++this.seq}`, recordedAt: new Date(this.clock()).toISOString() };
    assertDecisionFits(record);
    if (this.records.has(record.decisionId)) throw new Error('duplicate decision id');
    this.records.set(record.decisionId, record);
    return record;
  }
  async get(decisionId: string): Promise<DecisionRecord | undefined> {
    return this.records.get(decisionId);
  }
  async listByAgent(agentId: string): Promise<DecisionRecord[]> {
    return [...this.records.values()].filter(r => r.agentId === agentId);
  }
}

export const NOW_MS = Date.parse('2026-11-27T12:00:00.000Z');

export function testViews(prefix: string): ViewConfig[] {
  return [
    {
      name: 'customers', description: 'Customers with their current tier and contact details.', store: 'cache',
      topic: 'agentdata.public.customers', format: 'debezium', key: ['customer_id'], sourceTable: 'public.customers',
      fields: [
        { name: 'customer_id', type: 'integer' }, { name: 'email', type: 'string' }, { name: 'name', type: 'string' },
        { name: 'tier', type: 'keyword', description: 'bronze, silver or gold' }, { name: 'updated_at', type: 'timestamp' },
      ],
      cache: { keyPrefix: `${prefix}customers:`, tombstoneTtlSeconds: 3600, ttlSeconds: 86400 },
      maxStalenessMs: 600_000,
    },
    {
      name: 'order_items', description: 'Order lines.', store: 'cache', topic: 'agentdata.public.order_items', format: 'debezium',
      key: ['order_id', 'sku'], sourceTable: 'public.order_items',
      fields: [{ name: 'order_id', type: 'integer' }, { name: 'sku', type: 'string' }, { name: 'qty', type: 'integer' }],
      cache: { keyPrefix: `${prefix}order_items:`, tombstoneTtlSeconds: 3600 },
    },
    {
      name: 'tickets', description: 'Support tickets.', store: 'search', topic: 'agentdata.public.tickets', format: 'debezium',
      key: ['ticket_id'], sourceTable: 'public.tickets',
      fields: [
        { name: 'ticket_id', type: 'keyword' }, { name: 'customer_id', type: 'integer' }, { name: 'subject', type: 'text' },
        { name: 'body', type: 'text' }, { name: 'status', type: 'keyword' }, { name: 'priority', type: 'integer' },
        { name: 'amount', type: 'number' }, { name: 'created_at', type: 'timestamp' }, { name: 'meta', type: 'json' },
        { name: 'requester', type: 'string' },
      ],
      maxStalenessMs: 60_000,
      search: {
        index: 'tickets-v1', timeField: 'created_at',
        vector: { field: 'text_vector_v1', sourceFields: ['subject', 'body'], dimension: 16, modelId: 'amazon.titan-embed-text-v2:0', spaceType: 'cosinesimil' },
      },
    },
  ];
}

export function provenance(table: string, key: Record<string, unknown>, commitTimeMs: number, version: number, op = 'u'): Provenance {
  return {
    sourceDatabase: 'agentdata', sourceTable: table, key, commitTimeMs,
    position: { kind: 'postgres', lsn: `0/${(version * 16).toString(16).toUpperCase()}`, txId: 700 + version },
    version: String(version), op,
    kafka: { topic: `agentdata.${table}`, partition: 0, offset: String(version) },
    writtenAtMs: commitTimeMs + 150,
  };
}

export function record(view: string, table: string, key: Record<string, unknown>, row: Record<string, unknown> | null, commitTimeMs: number, version: number): StoredRecord {
  return { view, row, provenance: provenance(table, key, commitTimeMs, version, row ? 'u' : 'd') };
}

/** The catalog AgentLineageCatalog builds for the customers view (the one implementation, contract/lineage-graph.ts). */
export const catalog: LineageCatalog = buildLineageCatalog({
  namespace: 'TestStack',
  sources: [{ engine: 'postgres', tables: ['public.customers'], connectorName: 'agentdata', topicPrefix: 'agentdata' }],
  views: [{ name: 'customers', store: 'cache', topic: 'agentdata.public.customers', tools: ['customers_lookup'], location: 'customers:', sink: 'cache-sink' }],
});

export interface RecordedRequest {
  readonly method: string;
  readonly path: string;
  readonly body: any;
  readonly headers: Record<string, unknown>;
}

/** A local node:http stand-in for an OpenSearch domain: answers _search and GET _doc from seeded documents and records every request. */
export class OpenSearchStandIn {
  readonly requests: RecordedRequest[] = [];
  readonly docs = new Map<string, Map<string, Record<string, unknown>>>();
  /** Next responses to force (status + body), for failure tests. */
  failNext: { status: number; body: string } | undefined;
  delayNextMs = 0;
  aggregations: Record<string, unknown> = {};
  /** When set, `_search` keeps only documents matching the `term`/`terms` clauses of the query's filters (row-scope tests). */
  evaluateFilters = false;
  private server?: http.Server;
  url = '';

  seed(index: string, keyColumns: string[], rec: StoredRecord): void {
    const m = this.docs.get(index) ?? new Map();
    m.set(documentId(keyColumns, rec.provenance.key), { ...rec.row, _provenance: rec.provenance });
    this.docs.set(index, m);
  }

  async start(): Promise<void> {
    this.server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', c => chunks.push(c));
      req.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        const url = new URL(req.url ?? '/', 'http://x');
        this.requests.push({ method: req.method ?? '', path: url.pathname + url.search, body: text ? JSON.parse(text) : undefined, headers: { ...req.headers } });
        const reply = () => this.reply(req.method ?? '', url, text ? JSON.parse(text) : undefined, res);
        const delay = this.delayNextMs;
        this.delayNextMs = 0;
        if (delay > 0) setTimeout(reply, delay); else reply();
      });
    });
    await new Promise<void>(r => this.server!.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  private reply(method: string, url: URL, body: any, res: http.ServerResponse): void {
    const send = (status: number, payload: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' }).end(typeof payload === 'string' ? payload : JSON.stringify(payload));
    };
    if (this.failNext) {
      const f = this.failNext;
      this.failNext = undefined;
      return send(f.status, f.body);
    }
    const parts = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
    const index = parts[0];
    const docs = this.docs.get(index) ?? new Map();
    if (method === 'GET' && parts[1] === '_doc') {
      const doc = docs.get(parts[2]);
      return doc ? send(200, { _index: index, _id: parts[2], found: true, _source: doc }) : send(404, { _index: index, _id: parts[2], found: false });
    }
    if (parts[1] === '_search') {
      const all = [...docs.entries()].filter(([, d]) => !this.evaluateFilters || matchesFilters(d, body?.query));
      const size = body?.size ?? 10;
      const from = body?.from ?? 0;
      return send(200, {
        took: 1, timed_out: false,
        hits: {
          total: { value: all.length, relation: 'eq' },
          hits: all.slice(from, from + size).map(([id, d]) => ({ _index: index, _id: id, _score: 1.5, _source: d })),
        },
        ...(body?.aggs ? { aggregations: this.aggregations } : {}),
      });
    }
    return send(404, { error: 'no handler' });
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>(r => this.server!.close(() => r()));
  }
}

/** The filter clauses of a bool query or of a k-NN query's filter. */
function filterClauses(query: any): any[] {
  if (!query) return [];
  if (query.bool) return [...(query.bool.filter ?? [])];
  if (query.knn) return Object.values(query.knn).flatMap((k: any) => filterClauses(k.filter));
  return [];
}

/** `term` and `terms` clauses (on a field or its `.keyword` sub-field) against a document; other clauses are not evaluated. */
function matchesFilters(doc: Record<string, unknown>, query: any): boolean {
  return filterClauses(query).every(c => {
    const [kind, spec] = Object.entries(c)[0] as [string, Record<string, unknown>];
    const [path, value] = Object.entries(spec)[0];
    const actual = String(doc[path.replace(/\.keyword$/, '')]);
    if (kind === 'term') return actual === String(value);
    if (kind === 'terms') return (value as unknown[]).map(String).includes(actual);
    return true;
  });
}

export function uniquePrefix(): string {
  return `mcp-test-${randomBytes(6).toString('hex')}:`;
}

/** Calls one tool through the MCP HTTP handler and returns its structured answer; a tool error fails the test. */
export async function callTool(deps: McpServerDeps, name: string, args: Record<string, unknown>): Promise<any> {
  const res = await handleHttpRequest(new Request('https://mcp.example.internal/mcp', {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name, arguments: args } }),
  }), deps);
  const body = await res.json();
  expect(body.result?.isError).not.toBe(true);
  return body.result.structuredContent;
}

/** Lambda's limit on a synchronous (buffered) response: https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html */
export const LAMBDA_SYNC_RESPONSE_LIMIT = 6 * 1024 * 1024;

/** A warehouse view of orders that allows SQL, with a free-text note to make rows large. */
export const WAREHOUSE_ORDERS_VIEW = {
  name: 'order_history', description: 'Orders.', store: 'warehouse', topic: 't', format: 'debezium', key: ['id'], sourceTable: 'public.orders',
  fields: [{ name: 'id', type: 'integer' }, { name: 'note', type: 'string' }],
  warehouse: { table: 'order_history', allowSql: true, maxRows: 10_000 },
} as unknown as ViewConfig;
