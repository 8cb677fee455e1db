// The tool set of a view is derived in one function (contract/tool-names.ts): the construct names it at synth (lineage,
// per-tool metrics) and the server registers it at run time. For every store kind, with and without row scopes, embeddings and
// a decision store, the server's own tools/list answers exactly the contract's names, both directions and in order.
import { allToolNames, CATALOG_TOOLS, DECISION_TOOLS, viewToolNames } from '../../contract/tool-names';
import type { ViewConfig } from '../../contract/view-config';
import type { McpServerDeps } from '../../lambda/mcp/context';
import type { FunctionUrlEvent } from '../../lambda/mcp/http-adapter';
import { serveFunctionUrlEvent } from '../../lambda/mcp/server';
import { HashingEmbedder } from '../../lambda/shared/embeddings';
import { InMemoryDecisionStore, NOW_MS, testViews } from './support';

const [customers, orderItems, tickets] = testViews('tool-names:');
const warehouse: ViewConfig = {
  name: 'order_history', description: 'Orders over time.', store: 'warehouse', topic: 'agentdata.public.orders', format: 'debezium',
  key: ['id'], sourceTable: 'public.orders',
  fields: [{ name: 'id', type: 'integer' }, { name: 'status', type: 'keyword' }, { name: 'total', type: 'number' }, { name: 'created_at', type: 'timestamp' }],
  warehouse: { table: 'order_history', historyTable: 'order_history_history', timeField: 'created_at', allowSql: true, maxRows: 100 },
};

/** One view of each shape the contract tells apart. */
const VIEWS: Record<string, ViewConfig> = {
  'cache': customers,
  'cache, composite key': orderItems,
  'cache, row-scoped': { ...customers, name: 'accounts', rowScope: { field: 'tier', claim: 'tier' } },
  'search with vector': tickets,
  'search with vector, row-scoped': { ...tickets, name: 'tenant_tickets', rowScope: { field: 'customer_id', claim: 'customer' } },
  'search without vector': { ...tickets, name: 'plain_tickets', search: { ...tickets.search!, vector: undefined } },
  'search with nothing to aggregate': {
    ...tickets, name: 'notes', key: ['body'], search: { index: 'notes-v1' },
    fields: [{ name: 'body', type: 'text' }, { name: 'meta', type: 'json' }],
  },
  'warehouse': warehouse,
  'warehouse, structured only, no history': { ...warehouse, name: 'order_totals', warehouse: { table: 'order_totals', allowSql: false, maxRows: 10 } },
  'warehouse, row-scoped': { ...warehouse, name: 'tenant_orders', warehouse: { ...warehouse.warehouse!, table: 'tenant_orders', historyTable: undefined }, rowScope: { field: 'status', claim: 'status' } },
};

function listEvent(): FunctionUrlEvent {
  return {
    version: '2.0', routeKey: '$default', rawPath: '/mcp', rawQueryString: '',
    headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', host: 'mcp.local' },
    requestContext: { domainName: 'mcp.local', http: { method: 'POST', path: '/mcp' }, requestId: 'r' } as FunctionUrlEvent['requestContext'],
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: {} }), isBase64Encoded: false,
  };
}

/** The names the server itself lists: its tools/list answer, through the handler the Lambda runs. */
async function listedNames(views: readonly ViewConfig[], withEmbeddings: boolean, withDecisions: boolean): Promise<string[]> {
  const deps: McpServerDeps = {
    views, now: () => NOW_MS,
    ...(withEmbeddings ? { embeddings: new HashingEmbedder(16) } : {}),
    ...(withDecisions ? { decisions: new InMemoryDecisionStore(() => NOW_MS) } : {}),
  };
  const res = await serveFunctionUrlEvent(listEvent(), deps);
  expect(res.statusCode).toBe(200);
  return (JSON.parse(res.body!).result.tools as { name: string }[]).map(t => t.name);
}

/** Registered but not in the contract, and in the contract but not registered. */
function difference(listed: readonly string[], contract: readonly string[]): { notInContract: string[]; notRegistered: string[] } {
  return { notInContract: listed.filter(n => !contract.includes(n)), notRegistered: contract.filter(n => !listed.includes(n)) };
}

const CASES = Object.entries(VIEWS).flatMap(([shape, view]) => [true, false].flatMap(withEmbeddings =>
  [true, false].map(withDecisions => [shape, withEmbeddings ? 'with' : 'without', withDecisions ? 'with' : 'without', view, withEmbeddings, withDecisions] as const)));

describe('the server registers exactly the tools viewToolNames names', () => {
  test.each(CASES)('%s view, %s embeddings, %s decisions', async (_shape, _e, _d, view, withEmbeddings, withDecisions) => {
    const listed = await listedNames([view], withEmbeddings, withDecisions);
    const contract = [...viewToolNames(view, withEmbeddings), ...CATALOG_TOOLS, ...(withDecisions ? DECISION_TOOLS : [])];
    expect(difference(listed, contract)).toEqual({ notInContract: [], notRegistered: [] });
    expect(listed).toEqual(contract);
  });

  test('every view of every kind together: the server lists what AgentMcpServer names at synth (allToolNames)', async () => {
    const views = Object.values(VIEWS);
    const listed = await listedNames(views, true, true);
    const contract = allToolNames(views, true);
    expect(difference(listed, contract)).toEqual({ notInContract: [], notRegistered: [] });
    expect(listed).toEqual(contract);
    // Each view's tools are its own: no view's names are derived from another's.
    for (const view of views) expect(listed.filter(n => viewToolNames(view).includes(n))).toEqual(viewToolNames(view));
  });

  test('the shapes cover every store kind and every tool kind', () => {
    const views = Object.values(VIEWS);
    expect(new Set(views.map(v => v.store))).toEqual(new Set(['cache', 'search', 'warehouse']));
    const suffixes = new Set(views.flatMap(v => viewToolNames(v).map(n => n.slice(v.name.length + 1))));
    expect(suffixes).toEqual(new Set(['lookup', 'lookup_many', 'search', 'aggregate', 'similar', 'query']));
  });
});
