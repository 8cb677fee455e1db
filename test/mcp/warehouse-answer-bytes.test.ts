// <view>_query answers stop adding rows at the per-answer byte budget the other tools use (McpBounds.maxResultBytes,
// 512 KB by default): the JSON goes out twice (text and structuredContent), and a response past Lambda's 6 MB
// synchronous payload limit fails the invocation.
import { mockClient } from 'aws-sdk-client-mock';
import { handleHttpRequest } from '../../lambda/mcp/server';
import { DEFAULT_MAX_RESULT_BYTES } from '../../lambda/mcp/tools-cache';
import { AthenaClient, athenaWarehouseReader, GetQueryExecutionCommand, GetQueryResultsCommand, StartQueryExecutionCommand, type WarehouseReader } from '../../lambda/mcp/warehouse-athena';
import { LAMBDA_SYNC_RESPONSE_LIMIT, NOW_MS, WAREHOUSE_ORDERS_VIEW } from './support';

const NOW = NOW_MS;
const view = WAREHOUSE_ORDERS_VIEW;
const note = 'x'.repeat(4000);

/** A fake reader that returns as many 4 KB rows as the tool allows. */
function fakeReader(): WarehouseReader & { asked: number[] } {
  const asked: number[] = [];
  return {
    database: 'db', asked,
    async latestSnapshot() { return { snapshotId: '123', committedAtMs: NOW - 1000 }; },
    async run(_sql, _p, maxRows) {
      asked.push(maxRows);
      return { queryExecutionId: 'q', columns: [{ name: 'id', type: 'integer' }, { name: 'note', type: 'varchar' }], rows: Array.from({ length: maxRows }, (_, i) => ({ id: i, note })), truncated: false, scannedBytes: 1, engineMs: 1 };
    },
  };
}

async function call(deps: unknown, args: unknown) {
  const req = new Request('https://x.example/mcp', {
    method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': '2025-11-25' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'order_history_query', arguments: args } }),
  });
  const res = await handleHttpRequest(req, deps as any, {});
  const text = await res.text();
  return { bytes: Buffer.byteLength(text), body: JSON.parse(text) };
}

test.each([
  ['structured', { limit: 10_000 }],
  ['sql', { sql: 'SELECT * FROM order_history' }],
])('%s mode: 10,000 rows of 4 KB are cut at the byte budget, with truncated and the row count, far below the Lambda limit', async (_, args) => {
  const { bytes, body } = await call({ views: [view], warehouse: fakeReader(), now: () => NOW }, args);
  expect(body.result.isError).toBeFalsy();
  const s = body.result.structuredContent;
  expect(s.truncated).toBe(true);
  expect(s.rowCount).toBe(s.rows.length);
  expect(s.rows.length).toBeGreaterThan(100);
  expect(Buffer.byteLength(JSON.stringify(s.rows))).toBeLessThanOrEqual(DEFAULT_MAX_RESULT_BYTES);
  expect(s.limitNote).toMatch(/byte/);
  expect(bytes).toBeLessThan(3 * DEFAULT_MAX_RESULT_BYTES);
  expect(bytes).toBeLessThan(LAMBDA_SYNC_RESPONSE_LIMIT);
});

test('maxResultBytes bounds the answer; a single row past it is still served (progress), small answers are untouched', async () => {
  const { body } = await call({ views: [view], warehouse: fakeReader(), now: () => NOW, bounds: { maxResultBytes: 10_000 } }, { limit: 50 });
  expect(body.result.structuredContent).toMatchObject({ rowCount: 2, truncated: true });
  const one = await call({ views: [view], warehouse: fakeReader(), now: () => NOW, bounds: { maxResultBytes: 100 } }, { limit: 5 });
  expect(one.body.result.structuredContent).toMatchObject({ rowCount: 1, truncated: true });
  const small = await call({ views: [view], warehouse: fakeReader(), now: () => NOW }, { limit: 3 });
  expect(small.body.result.structuredContent).toMatchObject({ rowCount: 3, truncated: false, limitNote: null });
});

test('the Athena reader stops reading pages once the rows pass the byte budget', async () => {
  const athena = mockClient(AthenaClient);
  try {
    athena.on(StartQueryExecutionCommand).resolves({ QueryExecutionId: 'q' });
    athena.on(GetQueryExecutionCommand).resolves({ QueryExecution: { QueryExecutionId: 'q', Status: { State: 'SUCCEEDED' } } });
    const page = (first: boolean) => ({
      ResultSet: {
        ResultSetMetadata: { ColumnInfo: [{ Name: 'id', Type: 'integer' }, { Name: 'note', Type: 'varchar' }] },
        Rows: [...(first ? [{ Data: [{ VarCharValue: 'id' }, { VarCharValue: 'note' }] }] : []), ...Array.from({ length: 1000 }, (_, i) => ({ Data: [{ VarCharValue: String(i) }, { VarCharValue: note }] }))],
      },
      NextToken: 'more',
    });
    athena.on(GetQueryResultsCommand).callsFake(input => page(!input.NextToken));
    const reader = athenaWarehouseReader(new AthenaClient({ region: 'eu-west-1' }), { workgroup: 'wg', database: 'db', timeoutMs: 5000, sleep: async () => undefined });
    const out = await reader.run('SELECT 1', [], 10_000, 200_000);
    expect(out.truncated).toBe(true);
    expect(out.rows.length).toBeLessThan(60);
    expect(Buffer.byteLength(JSON.stringify(out.rows))).toBeLessThanOrEqual(200_000);
    expect(athena.commandCalls(GetQueryResultsCommand)).toHaveLength(1);
  } finally {
    athena.restore();
  }
});
