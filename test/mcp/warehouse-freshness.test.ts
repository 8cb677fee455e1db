// The warehouse freshness probe: the newest snapshot of each warehouse view's current table, read through Athena (mocked), as an age in ms; no snapshot, no reading.
import { mockClient } from 'aws-sdk-client-mock';
import type { ViewConfig } from '../../contract/view-config';
import { AthenaClient, athenaWarehouseReader, GetQueryExecutionCommand, GetQueryResultsCommand, StartQueryExecutionCommand } from '../../lambda/mcp/warehouse-athena';
import { measureFreshness } from '../../lambda/warehouse-freshness';

const athena = mockClient(AthenaClient);
const view = (name: string, store: ViewConfig['store']): ViewConfig => ({
  name, description: 'x', store, topic: 't', format: 'debezium', key: ['id'], sourceTable: 'public.t', fields: [{ name: 'id', type: 'integer' }],
  ...(store === 'warehouse' ? { warehouse: { table: name, allowSql: false, maxRows: 10 } } : {}),
});

test('one reading per warehouse view from "<table>$snapshots"; a table without snapshots gives no age', async () => {
  const queries: string[] = [];
  athena.on(StartQueryExecutionCommand).callsFake(input => {
    queries.push(input.QueryString);
    return { QueryExecutionId: `q-${queries.length}` };
  });
  athena.on(GetQueryExecutionCommand).callsFake(input => ({ QueryExecution: { QueryExecutionId: input.QueryExecutionId, Status: { State: 'SUCCEEDED' } } }));
  const header = { Data: [{ VarCharValue: 'snapshot_id' }, { VarCharValue: 'committed_ms' }] };
  const meta = { ColumnInfo: [{ Name: 'snapshot_id', Type: 'varchar' }, { Name: 'committed_ms', Type: 'double' }] };
  athena.on(GetQueryResultsCommand, { QueryExecutionId: 'q-1' }).resolves({ ResultSet: { ResultSetMetadata: meta, Rows: [header, { Data: [{ VarCharValue: '99' }, { VarCharValue: '1.7645508E12' }] }] } });
  athena.on(GetQueryResultsCommand, { QueryExecutionId: 'q-2' }).resolves({ ResultSet: { ResultSetMetadata: meta, Rows: [header] } });
  const reader = athenaWarehouseReader(new AthenaClient({ region: 'eu-west-1' }), { workgroup: 'wg', database: 'db', timeoutMs: 1000, sleep: async () => undefined });
  const readings = await measureFreshness([view('order_history', 'warehouse'), view('customer', 'cache'), view('payments', 'warehouse')], reader, () => 1764550800000 + 90_000);
  expect(readings).toEqual([{ view: 'order_history', table: 'order_history', ageMs: 90_000, snapshotId: '99' }, { view: 'payments', table: 'payments' }]);
  expect(queries[0]).toMatch(/"db"\."order_history\$snapshots"/);
});

test('a view whose lookup fails gives no age and the other views are still measured (the probe did not throw)', async () => {
  athena.reset();
  athena.on(StartQueryExecutionCommand).callsFake(input => ({ QueryExecutionId: /"broken\$snapshots"/.test(input.QueryString) ? 'q-broken' : 'q-ok' }));
  athena.on(GetQueryExecutionCommand, { QueryExecutionId: 'q-broken' }).resolves({
    QueryExecution: { Status: { State: 'FAILED', StateChangeReason: 'HIVE_METASTORE_ERROR: Table broken not found', AthenaError: { ErrorCategory: 1 } } },
  });
  athena.on(GetQueryExecutionCommand, { QueryExecutionId: 'q-ok' }).resolves({ QueryExecution: { Status: { State: 'SUCCEEDED' } } });
  const meta = { ColumnInfo: [{ Name: 'snapshot_id', Type: 'varchar' }, { Name: 'committed_ms', Type: 'double' }] };
  athena.on(GetQueryResultsCommand, { QueryExecutionId: 'q-ok' }).resolves({
    ResultSet: { ResultSetMetadata: meta, Rows: [{ Data: [{ VarCharValue: 'snapshot_id' }, { VarCharValue: 'committed_ms' }] }, { Data: [{ VarCharValue: '7' }, { VarCharValue: '1764550800000' }] }] },
  });
  const reader = athenaWarehouseReader(new AthenaClient({ region: 'eu-west-1' }), { workgroup: 'wg', database: 'db', timeoutMs: 1000, sleep: async () => undefined });
  const readings = await measureFreshness([view('broken', 'warehouse'), view('order_history', 'warehouse')], reader, () => 1764550800000 + 60_000);
  expect(readings).toEqual([
    { view: 'broken', table: 'broken', error: expect.stringMatching(/AthenaQueryFailed: .*HIVE_METASTORE_ERROR/) },
    { view: 'order_history', table: 'order_history', ageMs: 60_000, snapshotId: '7' },
  ]);
});
