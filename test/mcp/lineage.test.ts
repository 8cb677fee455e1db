// describe_source and get_lineage report a view's upstream through the one lineage implementation (contract/lineage-graph.ts):
// two search views on one sink share the sink node, and neither may report the other's topic or table.
import { buildLineageCatalog, traceView } from '../../contract/lineage-graph';
import type { SearchReader } from '../../lambda/mcp/context';
import type { ViewConfig } from '../../contract/view-config';
import { callTool, NOW_MS } from './support';

function searchView(name: string, table: string): ViewConfig {
  return {
    name, description: `${name} from ${table}.`, store: 'search', topic: `agentdata.${table}`, format: 'debezium',
    key: ['id'], sourceTable: table,
    fields: [{ name: 'id', type: 'keyword' }, { name: 'subject', type: 'text' }, { name: 'created_at', type: 'timestamp' }],
    search: { index: `${name}-v1`, timeField: 'created_at' },
  };
}

const VIEWS = [searchView('tickets', 'public.tickets'), searchView('orders', 'public.orders')];

/** What AgentDataStack declares: one connector, both views on the one search sink. */
const CATALOG = buildLineageCatalog({
  namespace: 'TwoSearchViews',
  sources: [{ engine: 'postgres', tables: ['public.tickets', 'public.orders'], connectorName: 'agentdata-cdc', topicPrefix: 'agentdata', database: 'shop' }],
  views: VIEWS.map(v => ({ name: v.name, store: 'search' as const, topic: v.topic, tools: [`${v.name}_search`], location: v.search!.index, sink: 'search-sink' })),
});

/** An index that holds nothing: the lineage answer does not depend on the documents. */
const EMPTY_SEARCH: SearchReader = {
  search: async () => ({ body: { hits: { total: { value: 0 }, hits: [] }, aggregations: {} } }),
  get: async () => ({ body: { found: false } }),
};

const call = (name: string, args: Record<string, unknown>) => callTool({ views: VIEWS, search: EMPTY_SEARCH, catalog: CATALOG, now: () => NOW_MS }, name, args);

describe('lineage answers of the MCP server', () => {
  test('the two views share the sink node in the catalog (the case the walk must not cross)', () => {
    const sink = CATALOG.nodes.filter(n => n.kind === 'sink');
    expect(sink.map(n => n.id)).toEqual(['sink:search-sink']);
    expect(CATALOG.edges.filter(e => e.to === 'sink:search-sink').map(e => e.from).sort())
      .toEqual(['topic:agentdata.public.orders', 'topic:agentdata.public.tickets']);
  });

  test.each([
    ['describe_source', { view: 'tickets' }],
    ['get_lineage', { view: 'tickets', key: { id: 'T-1' } }],
  ])('%s reports only the view\'s own branch, exactly what traceView returns', async (tool, args) => {
    const answer = await call(tool, args);
    const ids: string[] = answer.upstream.map((n: any) => n.id);
    expect(ids).toEqual(traceView(CATALOG, 'tickets')!.upstream.map(n => n.id));
    expect(ids).toEqual([
      'source-table:public.tickets', 'connector:agentdata-cdc', 'topic:agentdata.public.tickets', 'sink:search-sink', 'store:search:tickets-v1',
    ]);
    expect(ids).not.toContain('topic:agentdata.public.orders');
    expect(ids).not.toContain('source-table:public.orders');
  });

  test('the other view gets its own branch', async () => {
    const ids: string[] = (await call('describe_source', { view: 'orders' })).upstream.map((n: any) => n.id);
    expect(ids).toContain('topic:agentdata.public.orders');
    expect(ids).not.toContain('topic:agentdata.public.tickets');
  });
});
