// <view>_query on real Iceberg files: the example's order_history tables as the construct declares them, two commits
// (inserts, then an update and a delete), and the tool's structured and SQL modes run by DuckDB at the pinned snapshot.
import { defineExampleApp } from '../../../bin/example';
import { App } from 'aws-cdk-lib';
import type { ViewConfig } from '../../../contract/view-config';
import { buildToolSpecs } from '../../../lambda/mcp/tools';
import { startLocalWarehouse, LocalWarehouse } from './engine';

const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
const stack = defineExampleApp(app, { profile: 'development' });
const view: ViewConfig = stack.views.find(v => v.name === 'order_history')!.toConfig();
const tool = buildToolSpecs({ views: [view] }).find(t => t.name === 'order_history_query')!;

let wh: LocalWarehouse;
let first: { snapshotId: string };
let second: { snapshotId: string; committedAtMs: number };
beforeAll(() => {
  wh = startLocalWarehouse([view]);
  const t = (s: string) => Date.parse(s);
  first = wh.commit('order_history', [
    { op: 'r', row: { id: 1, customer_id: 12345, status: 'completed', total: 42, created_at: t('2026-10-03T10:00:00Z'), _commit_ts: t('2026-11-30T09:00:00Z') } },
    { op: 'r', row: { id: 2, customer_id: 12345, status: 'pending', total: 310.5, created_at: t('2026-11-12T10:00:00Z'), _commit_ts: t('2026-11-30T09:00:00Z') } },
    { op: 'r', row: { id: 3, customer_id: 12346, status: 'completed', total: 12.99, created_at: t('2026-11-20T10:00:00Z'), _commit_ts: t('2026-11-30T09:00:00Z') } },
  ]);
  second = wh.commit('order_history', [
    { op: 'u', row: { id: 2, customer_id: 12345, status: 'completed', total: 310.5, created_at: t('2026-11-12T10:00:00Z'), _commit_ts: t('2026-11-30T09:01:00Z') } },
    { op: 'd', row: { id: 3 } },
  ]);
}, 10 * 60_000);
afterAll(() => wh?.close());

const deps = () => ({ views: [view], warehouse: wh.reader, now: () => second.committedAtMs + 5_000 }) as any;
const run = (args: Record<string, unknown>) => tool.run(args, deps(), async () => undefined, {} as any);

test('structured: per status and month, the update and the delete applied, pinned to the newest snapshot', async () => {
  const out = await run({ groupBy: ['status'], timeBucket: 'month', metrics: [{ fn: 'count' }, { fn: 'sum', field: 'total' }], orderBy: { by: 'bucket' } });
  const s = out.structured as any;
  expect(s.rows.map((r: any) => [r.status, String(r.bucket).slice(0, 7), r.count, r.sum_total])).toEqual([
    ['completed', '2026-10', 1, 42], ['completed', '2026-11', 1, 310.5],
  ]);
  expect(s.provenance).toEqual([{ table: 'order_history', snapshotId: second.snapshotId, committedAt: new Date(second.committedAtMs).toISOString(), ageMs: 5000 }]);
  expect(s.stale).toBe(false);
});

test('structured: a time range and a filter, values as parameters (a quote in a value is data, not SQL)', async () => {
  const out = await run({ timeRange: { from: '2026-11-01' }, filters: [{ field: 'status', op: 'in', values: ['completed', "x' OR '1'='1"] }] });
  expect((out.structured as any).rows.map((r: any) => r.id)).toEqual([2]);
});

test('sql mode: one SELECT over the view, pinned; a hostile statement refused before anything runs', async () => {
  const out = await run({ sql: 'SELECT customer_id, count(*) AS orders, round(sum(total), 2) AS revenue FROM order_history GROUP BY customer_id ORDER BY customer_id' });
  expect((out.structured as any).rows).toEqual([{ customer_id: 12345, orders: 2, revenue: 352.5 }]);
  expect((out.structured as any).sql).toContain(`FOR VERSION AS OF ${second.snapshotId}`);
  await expect(run({ sql: 'SELECT * FROM order_history; DELETE FROM order_history' })).rejects.toThrow(/2 statements/);
});

test('pinning is real: the same SQL at the first snapshot still sees the deleted order', async () => {
  const sql = `SELECT id FROM "awsdatacatalog"."${wh.database}"."order_history" FOR VERSION AS OF ${first.snapshotId} ORDER BY id`;
  const res = await wh.reader.run(sql, [], 10);
  expect(res.rows.map(r => r.id)).toEqual([1, 2, 3]);
});
