// describe_source, the MCP server's own answer, tells an agent which fields of a view are hashed or masked at the source and which never left it.
import type { McpServerDeps, SearchReader } from '../../lambda/mcp/context';
import { handleHttpRequest } from '../../lambda/mcp/server';
import { buildLineageCatalog } from '../../contract/lineage-graph';
import type { ViewConfig } from '../../contract/view-config';
import { NOW_MS } from '../mcp/support';

const VIEW: ViewConfig = {
  name: 'customers', description: 'Customers by id.', store: 'search', topic: 'agentdata.public.customers', format: 'debezium',
  key: ['id'], sourceTable: 'public.customers',
  fields: [{ name: 'id', type: 'keyword' }, { name: 'email', type: 'keyword' }, { name: 'name', type: 'text' }, { name: 'updated_at', type: 'timestamp' }],
  search: { index: 'customers-v1', timeField: 'updated_at' },
};

const CATALOG = buildLineageCatalog({
  namespace: 'Pii',
  sources: [{
    engine: 'postgres', tables: ['public.customers'], connectorName: 'agentdata-cdc', topicPrefix: 'agentdata', database: 'shop',
    columns: { 'public.customers': { exclude: ['ssn'], hash: ['email'], mask: ['name'] } },
  }],
  views: [{ name: 'customers', store: 'search', topic: VIEW.topic, tools: ['customers_search'], location: 'customers-v1', sink: 'search-sink' }],
});

const EMPTY_SEARCH: SearchReader = {
  search: async () => ({ body: { hits: { total: { value: 0 }, hits: [] }, aggregations: {} } }),
  get: async () => ({ body: { found: false } }),
};

test('describe_source returns the source table with its excluded, hashed and masked columns and a sentence saying what that means', async () => {
  const deps: McpServerDeps = { views: [VIEW], search: EMPTY_SEARCH, catalog: CATALOG, now: () => NOW_MS };
  const res = await handleHttpRequest(new Request('https://mcp.example.internal/mcp', {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'describe_source', arguments: { view: 'customers' } } }),
  }), deps);
  const body = await res.json();
  expect(body.result?.isError).not.toBe(true);
  const table = body.result.structuredContent.upstream.find((n: { kind: string }) => n.kind === 'source-table');
  expect(table).toEqual({
    kind: 'source-table', id: 'source-table:public.customers', name: 'public.customers',
    details: {
      engine: 'postgres', database: 'shop', excludedColumns: 'ssn', hashedColumns: 'email', maskedColumns: 'name',
      personalData: 'ssn excluded at the source (never in Kafka or any store); email hashed at the source (hex SHA-256 of a salt and the value: '
        + 'compare hashes, not values); name masked at the source (asterisks only)',
    },
  });
  // The text an agent reads carries it too.
  expect(JSON.stringify(body.result.content)).toContain('email hashed at the source');
});
