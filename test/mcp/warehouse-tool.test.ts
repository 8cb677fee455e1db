// <view>_query: structured requests compile to pinned SQL with parameters; the Athena reader (aws-sdk-client-mock,
// documented request/response shapes) polls, caps rows, stops on timeout; answers carry the snapshot.
import { mockClient } from 'aws-sdk-client-mock';
import type { ViewConfig } from '../../contract/view-config';
import { ToolInputError } from '../../lambda/mcp/errors';
import { buildToolSpecs } from '../../lambda/mcp/tools';
import {
  AthenaClient, athenaWarehouseReader, GetQueryExecutionCommand, GetQueryResultsCommand, StartQueryExecutionCommand, StopQueryExecutionCommand,
} from '../../lambda/mcp/warehouse-athena';
import { compileStructured, literal } from '../../lambda/mcp/warehouse-query';

const view: ViewConfig = {
  name: 'order_history', description: 'Orders over time.', store: 'warehouse', topic: 'agentdata.public.orders', format: 'debezium',
  key: ['id'], sourceTable: 'public.orders', maxStalenessMs: 10 * 60_000,
  fields: [
    { name: 'id', type: 'integer' }, { name: 'customer_id', type: 'integer' }, { name: 'status', type: 'keyword' },
    { name: 'total', type: 'number' }, { name: 'created_at', type: 'timestamp' },
  ],
  warehouse: { table: 'order_history', historyTable: 'order_history_history', timeField: 'created_at', allowSql: true, maxRows: 3 },
};

describe('structured mode', () => {
  test('group-by, time bucket, metrics, time range and filters compile to one pinned query with every value a parameter', () => {
    const q = compileStructured(view, 'shop_wh', {
      groupBy: ['status'], timeBucket: 'month', metrics: [{ fn: 'count' }, { fn: 'sum', field: 'total' }],
      timeRange: { from: '2026-01-01', to: '2026-04-01T00:00:00Z' },
      filters: [{ field: 'status', op: 'in', values: ["completed", "it's"] }, { field: 'total', op: 'gt', value: 10 }],
      orderBy: { by: 'sum_total', direction: 'desc' },
    });
    expect(q.template).toBe('SELECT "status", date_trunc(\'month\', "created_at") AS "bucket", count(*) AS "count", sum("total") AS "sum_total" '
      + 'FROM "awsdatacatalog"."shop_wh"."order_history" FOR VERSION AS OF {{SNAPSHOT}} '
      + 'WHERE "created_at" >= from_iso8601_timestamp(?) AND "created_at" < from_iso8601_timestamp(?) AND "status" IN (?, ?) AND "total" > ? '
      + 'GROUP BY "status", date_trunc(\'month\', "created_at") ORDER BY "sum_total" DESC LIMIT 4');
    expect(q.parameters).toEqual(["'2026-01-01T00:00:00.000Z'", "'2026-04-01T00:00:00.000Z'", "'completed'", "'it''s'", '10']);
  });

  test('the history table by change kind; raw rows newest first when nothing is aggregated', () => {
    expect(compileStructured(view, 'db', { table: 'history', groupBy: ['_op'] }).template).toMatch(/SELECT "_op", count\(\*\) AS "count" FROM "awsdatacatalog"."db"."order_history_history"/);
    expect(compileStructured(view, 'db', {}).template).toMatch(/SELECT "id", "customer_id", "status", "total", "created_at", "_commit_ts" FROM .* ORDER BY "created_at" DESC LIMIT 4$/);
  });

  test.each([
    [{ groupBy: ['nope'] }, /groupBy field 'nope' is not a column of order_history/],
    [{ metrics: [{ fn: 'sum' as const, field: 'status' }] }, /metric sum needs a numeric field; 'status' is keyword/],
    [{ filters: [{ field: 'total', op: 'eq' as const, value: 'DROP' }] }, /for 'total' must be a finite number/],
    [{ filters: [{ field: 'id', op: 'eq' as const, value: '1 OR 1=1' }] }, /for 'id' must be an integer/],
    [{ timeRange: { from: "2026-01-01' OR '1'='1" } }, /must be an ISO-8601 date/],
    [{ orderBy: { by: 'secret_column' } }, /orderBy 'secret_column' is not a column of the answer/],
    [{ table: 'history' as const, groupBy: ['_op'], filters: [{ field: '_op', op: 'eq' as const }] }, /op eq needs a value/],
  ])('refuses %o', (req, message) => {
    expect(() => compileStructured(view, 'db', req as any)).toThrow(ToolInputError);
    expect(() => compileStructured(view, 'db', req as any)).toThrow(message);
  });

  test('string values are quoted with quotes doubled; identifiers never come from values', () => {
    expect(literal({ name: 'status', type: 'keyword' }, "x'); DROP TABLE t; --", 'v')).toBe("'x''); DROP TABLE t; --'");
  });
});

const athena = mockClient(AthenaClient);
beforeEach(() => athena.reset());

/** GetQueryResults as the Athena API reference shows it: the first row of a SELECT holds the column labels. */
function results(columns: Array<[string, string]>, rows: string[][], NextToken?: string) {
  return {
    ResultSet: {
      ResultSetMetadata: { ColumnInfo: columns.map(([Name, Type]) => ({ CatalogName: 'hive', Name, Label: Name, Type })) },
      Rows: [{ Data: columns.map(([n]) => ({ VarCharValue: n })) }, ...rows.map(r => ({ Data: r.map(v => ({ VarCharValue: v })) }))],
    },
    ...(NextToken ? { NextToken } : {}),
  };
}
const succeeded = (id: string) => ({ QueryExecution: { QueryExecutionId: id, Status: { State: 'SUCCEEDED' as const }, Statistics: { DataScannedInBytes: 2048, EngineExecutionTimeInMillis: 321 } } });

describe('Athena reader', () => {
  const options = { workgroup: 'agent-wg', database: 'shop_wh', timeoutMs: 5000, sleep: async () => undefined };

  test('starts in the workgroup and database with parameters, polls until SUCCEEDED, converts types and caps rows', async () => {
    athena.on(StartQueryExecutionCommand).resolves({ QueryExecutionId: 'q-1' });
    athena.on(GetQueryExecutionCommand).resolvesOnce({ QueryExecution: { QueryExecutionId: 'q-1', Status: { State: 'RUNNING' as const } } }).resolves(succeeded('q-1'));
    athena.on(GetQueryResultsCommand).resolves(results([['status', 'varchar'], ['count', 'bigint'], ['avg_total', 'double']],
      [['completed', '2', '27.5'], ['pending', '1', '310.5'], ['cancelled', '4', '1.5'], ['x', '9', '0']]));
    const reader = athenaWarehouseReader(new AthenaClient({ region: 'eu-west-1' }), options);
    const out = await reader.run('SELECT 1', ["'completed'"], 3);
    expect(athena.commandCalls(StartQueryExecutionCommand)[0].args[0].input).toEqual({
      QueryString: 'SELECT 1', WorkGroup: 'agent-wg', QueryExecutionContext: { Catalog: 'AwsDataCatalog', Database: 'shop_wh' }, ExecutionParameters: ["'completed'"],
    });
    expect(athena.commandCalls(GetQueryExecutionCommand)).toHaveLength(2);
    expect(out.rows).toEqual([{ status: 'completed', count: 2, avg_total: 27.5 }, { status: 'pending', count: 1, avg_total: 310.5 }, { status: 'cancelled', count: 4, avg_total: 1.5 }]);
    expect(out.truncated).toBe(true);
    expect(out.scannedBytes).toBe(2048);
  });

  test('a query past the deadline is stopped and reported as a timeout', async () => {
    let t = 0;
    athena.on(StartQueryExecutionCommand).resolves({ QueryExecutionId: 'q-2' });
    athena.on(GetQueryExecutionCommand).resolves({ QueryExecution: { QueryExecutionId: 'q-2', Status: { State: 'RUNNING' as const } } });
    athena.on(StopQueryExecutionCommand).resolves({});
    const reader = athenaWarehouseReader(new AthenaClient({ region: 'eu-west-1' }), { ...options, timeoutMs: 1000, now: () => t, sleep: async ms => { t += ms; } });
    await expect(reader.run('SELECT 1', [], 10)).rejects.toThrow(/warehouse did not answer within 1000 ms/);
    expect(athena.commandCalls(StopQueryExecutionCommand)[0].args[0].input).toEqual({ QueryExecutionId: 'q-2' });
  });

  test('the workgroup\'s bytes-scanned cutoff becomes advice for the agent', async () => {
    athena.on(StartQueryExecutionCommand).resolves({ QueryExecutionId: 'q-3' });
    athena.on(GetQueryExecutionCommand).resolves({ QueryExecution: { QueryExecutionId: 'q-3', Status: { State: 'CANCELLED' as const, StateChangeReason: 'Query cancelled! : Bytes scanned limit was exceeded' } } });
    const reader = athenaWarehouseReader(new AthenaClient({ region: 'eu-west-1' }), options);
    await expect(reader.run('SELECT 1', [], 10)).rejects.toThrow(/scan more data than this warehouse allows per query; narrow the time range/);
  });
});

describe('the tool', () => {
  const reader = athenaWarehouseReader(new AthenaClient({ region: 'eu-west-1' }), { workgroup: 'agent-wg', database: 'shop_wh', timeoutMs: 5000, sleep: async () => undefined });
  const tool = buildToolSpecs({ views: [view] }).find(t => t.name === 'order_history_query')!;
  const deps = { views: [view], warehouse: reader, now: () => Date.parse('2026-12-01T01:05:00Z') } as any;

  function athenaWith(snapshot: string[] | undefined, main: ReturnType<typeof results>) {
    const starts: string[] = [];
    athena.on(StartQueryExecutionCommand).callsFake(input => {
      starts.push(input.QueryString);
      return { QueryExecutionId: `q-${starts.length}` };
    });
    athena.on(GetQueryExecutionCommand).callsFake(input => succeeded(input.QueryExecutionId));
    athena.on(GetQueryResultsCommand, { QueryExecutionId: 'q-1' }).resolves(results([['snapshot_id', 'varchar'], ['committed_ms', 'double']], snapshot ? [snapshot] : []));
    athena.on(GetQueryResultsCommand, { QueryExecutionId: 'q-2' }).resolves(main);
    return starts;
  }

  test('structured: reads the newest snapshot from "table$snapshots", pins the query to it and reports it', async () => {
    const starts = athenaWith(['8744736658442914487', String(Date.parse('2026-12-01T01:00:00Z'))], results([['status', 'varchar'], ['count', 'bigint']], [['completed', '2']]));
    const out = await tool.run({ groupBy: ['status'] }, deps, async () => undefined, {} as any);
    expect(starts[0]).toMatch(/FROM "awsdatacatalog"."shop_wh"."order_history\$snapshots" ORDER BY committed_at DESC LIMIT 1/);
    expect(starts[1]).toMatch(/FOR VERSION AS OF 8744736658442914487 GROUP BY "status"/);
    expect(out.structured).toMatchObject({
      mode: 'structured', rows: [{ status: 'completed', count: 2 }], truncated: false, stale: false,
      provenance: [{ table: 'order_history', snapshotId: '8744736658442914487', committedAt: '2026-12-01T01:00:00.000Z', ageMs: 300_000 }],
    });
  });

  test('a snapshot older than maxStaleness is flagged', async () => {
    athenaWith(['1', String(Date.parse('2026-12-01T00:00:00Z'))], results([['count', 'bigint']], [['5']]));
    const out = await tool.run({ metrics: [{ fn: 'count' }] }, deps, async () => undefined, {} as any);
    expect(out.structured).toMatchObject({ stale: true, warning: expect.stringMatching(/beyond this view's maxStaleness/) });
  });

  test('sql: guarded, pinned, and refused when mixed with structured fields', async () => {
    const starts = athenaWith(['42', '1764550800000'], results([['n', 'bigint']], [['3']]));
    const out = await tool.run({ sql: 'SELECT count(*) AS n FROM order_history' }, deps, async () => undefined, {} as any);
    expect(starts[1]).toBe('SELECT count ( * ) AS n FROM "awsdatacatalog"."shop_wh"."order_history" FOR VERSION AS OF 42');
    expect(out.structured).toMatchObject({ mode: 'sql', rows: [{ n: 3 }] });
    await expect(tool.run({ sql: 'SELECT 1 FROM order_history', groupBy: ['status'] }, deps, async () => undefined, {} as any)).rejects.toThrow(/either sql or the structured fields/);
    await expect(tool.run({ sql: 'DELETE FROM order_history' }, deps, async () => undefined, {} as any)).rejects.toThrow(ToolInputError);
  });

  test('a table without a committed snapshot answers empty with a warning, without running the query', async () => {
    const starts = athenaWith(undefined, results([], []));
    const out = await tool.run({}, deps, async () => undefined, {} as any);
    expect(starts).toHaveLength(1);
    expect(out.structured).toMatchObject({ rows: [], provenance: [], warning: expect.stringMatching(/no committed snapshot yet/) });
  });
});
