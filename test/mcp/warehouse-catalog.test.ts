// The catalog tools on the example app's views, which include a warehouse view (order_history): list_sources and
// describe_source answer it through the SDK's output validation, and get_lineage says plainly what it cannot trace there.
import type { ViewConfig } from '../../contract/view-config';
import type { McpServerDeps } from '../../lambda/mcp/context';
import { handleHttpRequest } from '../../lambda/mcp/server';
import { type CfnTemplate, resolveValue } from '../../cli/dev/engines/template';
import { readViewsEnv } from '../../lambda/shared/views-env';
import { exampleTemplate } from '../helpers/example-template';
import { NOW_MS } from './support';

let views: ViewConfig[];

beforeAll(() => {
  // The views the example's MCP function is given (AGENT_VIEWS), as its Lambda shell reads them.
  const template = exampleTemplate('development').toJSON() as CfnTemplate;
  const mcp = Object.entries(template.Resources).filter(([id, r]) => r.Type === 'AWS::Lambda::Function' && id.startsWith('McpFunction'));
  expect(mcp).toHaveLength(1);
  views = readViewsEnv(resolveValue(template, mcp[0][1].Properties!.Environment.Variables.AGENT_VIEWS, {}));
}, 300_000);

const EMPTY_SEARCH: NonNullable<McpServerDeps['search']> = {
  search: async () => ({ body: { hits: { total: { value: 0 }, hits: [] }, aggregations: {} } }),
  get: async () => ({ body: { found: false } }),
};

/** A cache that holds no row. */
const EMPTY_CACHE = { hgetall: async () => ({}) } as unknown as McpServerDeps['redis'];

async function call(name: string, args: Record<string, unknown>): Promise<any> {
  const deps: McpServerDeps = { views, search: EMPTY_SEARCH, redis: EMPTY_CACHE, now: () => NOW_MS };
  const res = await handleHttpRequest(new Request('https://mcp.example.internal/mcp', {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name, arguments: args } }),
  }), deps);
  return res.json();
}

describe('catalog tools with a warehouse view', () => {
  test('the example declares a warehouse view', () => {
    expect(views.filter(v => v.store === 'warehouse').map(v => v.name)).toEqual(['order_history']);
  });

  test('list_sources lists every example view, the warehouse view with store warehouse', async () => {
    const body = await call('list_sources', {});
    expect(body.error).toBeUndefined();
    expect(body.result.isError).not.toBe(true);
    const sources = body.result.structuredContent.sources;
    expect(sources.map((s: any) => s.view)).toEqual(views.map(v => v.name));
    const wh = sources.find((s: any) => s.view === 'order_history');
    expect(wh).toMatchObject({ store: 'warehouse', key: ['id'], tools: ['order_history_query'] });
  });

  test('describe_source describes the warehouse view', async () => {
    const body = await call('describe_source', { view: 'order_history' });
    expect(body.error).toBeUndefined();
    expect(body.result.isError).not.toBe(true);
    expect(body.result.structuredContent).toMatchObject({ view: 'order_history', store: 'warehouse', storeFreshness: null, documents: null });
  });

  test('get_lineage on a warehouse view is an argument error that names what to call instead, not a missing search index', async () => {
    const body = await call('get_lineage', { view: 'order_history', key: { id: 1 } });
    expect(body.result.isError).toBe(true);
    const text: string = body.result.content[0].text;
    expect(text).not.toMatch(/search index/);
    expect(text).toMatch(/order_history_query/);
    expect(text).toMatch(/describe_source/);
  });

  test('get_lineage still traces the cache and search views', async () => {
    for (const [view, key] of [['customer', { id: 1 }], ['tickets', { id: 1 }]] as const) {
      const body = await call('get_lineage', { view, key });
      expect(body.result.isError).not.toBe(true);
      expect(body.result.structuredContent).toMatchObject({ view, found: false });
    }
  });
});
