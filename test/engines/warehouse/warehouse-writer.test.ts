// The warehouse view end to end on real engines: PostgreSQL -> Debezium (the synthesized connector) -> Kafka -> the synthesized
// Iceberg writer job on Flink 1.20 (PyFlink mini-cluster, its own package and job.sql, only the Kafka IAM options and the Glue
// catalog options mapped) -> Iceberg tables in a local JDBC catalog -> the order_history_query tool (structured and SQL modes).
import * as fs from 'fs';
import * as path from 'path';
import { startEnginePipeline, startSourceDatabase, synthesizeExample, type EnginePipeline, type SourceDatabase } from '../../../cli/dev/engines/pipeline';
import { cachedMavenGet, requireTool, rootCause, unpackForLocalBroker, type RunningApplication, type SqlMappingNote } from '../../../cli/dev/engines/flink';
import type { ViewConfig } from '../../../contract/view-config';
import { buildToolSpecs } from '../../../lambda/mcp/tools';
import { startLocalWarehouse, type LocalWarehouse } from './engine';
import { deployedWarehouse, mapIcebergCatalogForLocal, pyflink120Python, serviceSettings, sqliteJdbcJar, startWriter, writerTemplate } from './writer';

let source: SourceDatabase;
let pipeline: EnginePipeline;
let wh: LocalWarehouse;
let job: RunningApplication;
let packageDir: string;
let view: ViewConfig;
let commitIntervalMs: number;
let notes: SqlMappingNote[] = [];
const figures: Record<string, number> = {};

type Row = Record<string, unknown>;
const tool = () => buildToolSpecs({ views: [view] }).find(t => t.name === 'order_history_query')!;
const deps = () => ({ views: [view], warehouse: wh.reader, now: () => Date.now() }) as any;
const run = async (args: Record<string, unknown>) => (await tool().run(args, deps(), async () => undefined, {} as any)).structured as any;
const current = async (): Promise<{ rows: Row[]; provenance: Array<{ snapshotId: string; committedAt: string }> }> =>
  run({ sql: 'SELECT id, customer_id, status, total, created_at FROM order_history ORDER BY id' });

/** Polls the tool's SQL mode until `ok` holds; returns the answer and the time it first held. */
async function waitForAnswer(what: string, ok: (rows: Row[]) => boolean, timeoutMs: number) {
  const t0 = Date.now();
  let last: unknown;
  while (Date.now() - t0 < timeoutMs) {
    const exited = await Promise.race([job.exited.then(() => true), new Promise<boolean>(r => setTimeout(() => r(false), 0))]);
    if (exited) throw new Error(`${what}: the writer job exited: ${rootCause(job.output()) ?? job.output().slice(-4000)}`);
    const snapshot = await wh.reader.latestSnapshot(view.warehouse!.table);
    if (snapshot) {
      const answer = await current();
      last = answer.rows;
      if (ok(answer.rows)) return { answer, seenAt: Date.now() };
    }
    await new Promise(r => setTimeout(r, 2000));
  }
  const log = job.flinkLog();
  throw new Error(`${what}: not visible within ${timeoutMs} ms; last answer ${JSON.stringify(last)}\nflink: ${rootCause(job.output()) ?? job.output().slice(-2000)}`
    + `\nflink log: ${rootCause(log) ?? ''}\n${log.split('\n').filter(l => /Exception|ERROR/.test(l)).slice(-15).join('\n')}`);
}

beforeAll(async () => {
  requireTool('java', ['-version'], 'a Java 17 runtime, e.g. apt-get install openjdk-17-jre-headless');
  const python = pyflink120Python();
  const jdbc = await sqliteJdbcJar();
  const t0 = Date.now();
  const example = synthesizeExample();
  const deployed = deployedWarehouse(example.template);
  view = deployed.views.find(v => v.name === 'order_history')!;
  wh = startLocalWarehouse(deployed.views, deployed.database);
  source = await startSourceDatabase();
  pipeline = await startEnginePipeline({ example, source, log: l => process.stdout.write(`engines: ${l}\n`) });
  figures['PostgreSQL, Kafka, Connect, connector RUNNING, tables created (ms)'] = Date.now() - t0;
  const writer = writerTemplate(example.template, view);
  const kafka = await unpackForLocalBroker(writer, pipeline.kafka.bootstrapServers, { get: cachedMavenGet });
  packageDir = kafka.dir;
  const jobSql = path.join(packageDir, 'job.sql');
  const catalog = mapIcebergCatalogForLocal(kafka.sql, wh.catalog);
  fs.writeFileSync(jobSql, catalog.sql);
  notes = [...kafka.notes, ...catalog.notes];
  console.log(`writer job.sql mapped:\n${notes.map(n => `  ${n.table}: ${n.property} ${n.from ?? '(absent)'} -> ${n.to ?? '(removed)'} [${n.rule}]`).join('\n')}`);
  const settings = serviceSettings(writer);
  commitIntervalMs = parseInt(settings['execution.checkpointing.interval'], 10);
  console.log(`service settings applied locally: ${JSON.stringify(settings)}`);
  // DriverManager only hands a driver to callers whose class loader sees it: the driver goes on the JVM classpath. Hadoop does
  // not: the package's merged JAR alone must serve Iceberg's catalog factory (its relocated HadoopUtils), as on Managed Flink.
  job = startWriter(python, packageDir, settings, [jdbc]);
}, 40 * 60_000);

afterAll(async () => {
  await job?.stop();
  await pipeline?.stop();
  await source?.stop();
  wh?.close();
  if (packageDir) fs.rmSync(packageDir, { recursive: true, force: true });
  console.log(`figures: ${JSON.stringify(figures, null, 1)}`);
}, 180_000);

test('only the Kafka IAM options and the Glue catalog options of the synthesized job.sql were mapped', () => {
  const iceberg = ['wh_order_history', 'wh_order_history_history'];
  expect(notes.filter(n => n.rule.startsWith('Glue')).map(n => `${n.table} ${n.property}`).sort()).toEqual(
    iceberg.flatMap(t => ['catalog-impl', 'catalog-name', 'io-impl', 'uri', 'warehouse'].map(p => `${t} ${p}`)).sort());
  expect(notes.filter(n => !n.rule.startsWith('Glue')).every(n => n.property === 'properties.security.protocol' || n.property.startsWith('properties.sasl.'))).toBe(true);
});

test('snapshot, insert, update and delete in PostgreSQL reach the Iceberg table and the query tool within the commit interval', async () => {
  const slack = commitIntervalMs * 2 + 120_000;
  const t0 = Date.now();
  // The connector's snapshot of the three seed orders, written by the first checkpoint's commit.
  let seen = await waitForAnswer('snapshot', rows => rows.length === 3, 10 * 60_000);
  figures['job start to snapshot queryable (ms)'] = seen.seenAt - t0;
  expect(seen.answer.rows.map(r => [r.id, r.status, r.total])).toEqual([[1, 'completed', 42], [2, 'pending', 310.5], [3, 'completed', 12.99]]);

  // One transaction: an insert, an update and a delete, committed in PostgreSQL at `committed`.
  await source.admin.query('BEGIN');
  await source.admin.query("INSERT INTO public.orders (id, customer_id, status, total, created_at) VALUES (100, 12347, 'pending', 5.50, '2026-11-15T08:30:00Z')");
  await source.admin.query("UPDATE public.orders SET status = 'completed' WHERE id = 2");
  await source.admin.query('DELETE FROM public.orders WHERE id = 3');
  await source.admin.query('COMMIT');
  const committed = Date.now();
  seen = await waitForAnswer('insert, update and delete', rows => rows.map(r => r.id).join() === '1,2,100' && rows[1].status === 'completed', slack);
  const snap = seen.answer.provenance[0];
  figures['PostgreSQL commit to Iceberg snapshot commit (ms)'] = Date.parse(snap.committedAt) - committed;
  figures['PostgreSQL commit to answer seen by the polling tool (ms)'] = seen.seenAt - committed;
  figures['commit interval (checkpoint interval, ms)'] = commitIntervalMs;
  expect(seen.answer.rows).toEqual([
    { id: 1, customer_id: 12345, status: 'completed', total: 42, created_at: expect.any(String) },
    { id: 2, customer_id: 12345, status: 'completed', total: 310.5, created_at: expect.any(String) },
    { id: 100, customer_id: 12347, status: 'pending', total: 5.5, created_at: expect.stringMatching(/^2026-11-15T08:30:00(\.0+)?(Z|\+00:00)$/) },
  ]);

  // A second commit: the new order updated twice (one key changed twice between checkpoints), the first order deleted.
  await source.admin.query("UPDATE public.orders SET total = 6.25 WHERE id = 100");
  await source.admin.query("UPDATE public.orders SET status = 'completed' WHERE id = 100");
  await source.admin.query('DELETE FROM public.orders WHERE id = 1');
  const committed2 = Date.now();
  seen = await waitForAnswer('updates and a delete', rows => rows.map(r => r.id).join() === '2,100' && rows[1].status === 'completed', slack);
  figures['second change: PostgreSQL commit to Iceberg snapshot commit (ms)'] = Date.parse(seen.answer.provenance[0].committedAt) - committed2;
  expect(seen.answer.rows.map(r => [r.id, r.status, r.total])).toEqual([[2, 'completed', 310.5], [100, 'completed', 6.25]]);

  // Structured mode over the same snapshot: per status, count and revenue; the deleted orders are gone.
  const structured = await run({ groupBy: ['status'], metrics: [{ fn: 'count' }, { fn: 'sum', field: 'total' }], orderBy: { by: 'status' } });
  expect(structured.rows.map((r: Row) => [r.status, r.count, r.sum_total])).toEqual([['completed', 2, 316.75]]);
  expect(structured.provenance[0].snapshotId).toBe(seen.answer.provenance[0].snapshotId);
});

test('the history table holds every change, deletes with their last values', async () => {
  const table = view.warehouse!.historyTable!;
  const snap = await wh.reader.latestSnapshot(table);
  expect(snap).toBeDefined();
  const res = await wh.reader.run(
    `SELECT id, "_op" AS op, status, total FROM "awsdatacatalog"."${wh.database}"."${table}" FOR VERSION AS OF ${snap!.snapshotId} ORDER BY "_commit_ts", id, op`, [], 100);
  const ops = (id: number) => res.rows.filter(r => r.id === id).map(r => `${r.op}:${r.status}:${r.total}`);
  expect(ops(3)).toEqual(['r:completed:12.99', 'd:completed:12.99']);
  expect(ops(1)).toEqual(['r:completed:42', 'd:completed:42']);
  expect(ops(100)).toEqual(['c:pending:5.5', 'u:pending:6.25', 'u:completed:6.25']);
});
