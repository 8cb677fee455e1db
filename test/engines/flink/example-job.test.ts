// The example's order-enrichment job on the real engines: PostgreSQL -> Debezium (Kafka Connect 3.7, the synthesized connector)
// -> Kafka (KRaft) -> Flink 2.2 (PyFlink mini-cluster, parallelism 1, the synthesized package: job.sql, application properties
// and the merged Kafka/MSK IAM JAR, with only the IAM SASL options mapped to PLAINTEXT) -> `orders_enriched` upserts and tombstones.
import * as fs from 'fs';
import { Template } from 'aws-cdk-lib/assertions';
import { EXAMPLE_ENRICHED_ORDERS_TOPIC, EXAMPLE_TRANSFORM_NAME } from '../../../constructs/processing';
import { TopicReader, type ReadRecord } from '../../../cli/dev/engines/kafka';
import { startEnginePipeline, startSourceDatabase, synthesizeExample, type EnginePipeline, type SourceDatabase } from '../../../cli/dev/engines/pipeline';
import { pyflinkPython, requireTool, rootCause, startApplication, transformApplicationId, unpackForLocalBroker, type RunningApplication, type SqlMappingNote } from './engine';

const STEP_TIMEOUT_MS = 180_000;

let source: SourceDatabase;
let pipeline: EnginePipeline;
let packageDir: string;
let job: RunningApplication;
let reader: TopicReader;
let notes: SqlMappingNote[];
const timings: Record<string, number> = {};

interface Enriched {
  order_id: number;
  customer_id: number;
  customer_name: string;
  customer_tier: string;
  total: number;
  source_commit_ts: string;
}

const decode = (b64: string | null) => (b64 === null ? null : JSON.parse(Buffer.from(b64, 'base64').toString('utf8')));

/** The topic as a compacted upsert table: last value per key (null = deleted). */
function latest(records: ReadRecord[]): Map<number, Enriched | null> {
  const out = new Map<number, Enriched | null>();
  for (const r of records) out.set(decode(r.key).order_id, decode(r.value));
  return out;
}

async function waitFor(what: string, predicate: (state: Map<number, Enriched | null>, records: ReadRecord[]) => boolean): Promise<Map<number, Enriched | null>> {
  const t0 = Date.now();
  try {
    await reader.waitFor(what, records => predicate(latest(records), records), STEP_TIMEOUT_MS);
  } catch (e) {
    throw new Error(`${(e as Error).message}\nflink: ${rootCause(job.output()) ?? job.output().slice(-3000)}`, { cause: e });
  }
  timings[what] = Date.now() - t0;
  return latest(reader.records);
}

beforeAll(async () => {
  requireTool('java', ['-version'], 'a Java 17 runtime, e.g. apt-get install openjdk-17-jre-headless');
  requireTool('mvn', ['-v'], 'Apache Maven, e.g. apt-get install maven');
  const python = pyflinkPython();
  const t0 = Date.now();
  const example = synthesizeExample();
  source = await startSourceDatabase();
  pipeline = await startEnginePipeline({ example, source, log: l => process.stdout.write(`engines: ${l}\n`) });
  timings['PostgreSQL, Kafka, Kafka Connect and the connector RUNNING'] = Date.now() - t0;
  const t1 = Date.now();
  ({ dir: packageDir, notes } = await unpackForLocalBroker(Template.fromJSON(example.template), pipeline.kafka.bootstrapServers,
    { application: transformApplicationId(EXAMPLE_TRANSFORM_NAME) }));
  console.log(`job.sql mapped for the local broker:\n${notes.map(n => `  ${n.table}: ${n.property} ${n.from} -> ${n.to ?? '(removed)'} [${n.rule}]`).join('\n')}`);
  timings['package built (merged JAR)'] = Date.now() - t1;
  reader = new TopicReader(pipeline.kafka.bootstrapServers, EXAMPLE_ENRICHED_ORDERS_TOPIC.replace(/\./g, '\\.'));
  await reader.start();
  job = startApplication(python, packageDir);
}, 30 * 60_000);

afterAll(async () => {
  await job?.stop();
  await reader?.stop();
  await pipeline?.stop();
  await source?.stop();
  if (packageDir) fs.rmSync(packageDir, { recursive: true, force: true });
  console.log(`timings (ms): ${JSON.stringify(timings)}`);
}, 180_000);

test('only the IAM SASL options of the three Kafka tables were mapped (security.protocol to PLAINTEXT, sasl.* removed)', () => {
  expect(notes.map(n => `${n.table} ${n.property} -> ${n.to ?? '-'}`).sort()).toEqual(['customers', 'orders', 'orders_enriched'].flatMap(t => [
    `${t} properties.sasl.client.callback.handler.class -> -`, `${t} properties.sasl.jaas.config -> -`, `${t} properties.sasl.mechanism -> -`,
    `${t} properties.security.protocol -> PLAINTEXT`,
  ]).sort());
});

test('snapshot, insert, updates on both tables and deletes become the right upserts and tombstones, with source_commit_ts carried', async () => {
  const t0 = Date.now();
  // Snapshot: the completed seed orders 1 and 3, enriched.
  let state = await waitFor('snapshot enriched', s => s.get(1)?.customer_name === 'Ada Lovelace' && s.get(3)?.customer_name === 'Grace Hopper');
  timings['job start to first enriched rows'] = Date.now() - t0;
  expect(state.get(1)).toMatchObject({ order_id: 1, customer_id: 12345, customer_name: 'Ada Lovelace', customer_tier: 'gold', total: 42 });
  expect(state.get(3)).toMatchObject({ order_id: 3, customer_id: 12346, customer_name: 'Grace Hopper', customer_tier: 'platinum', total: 12.99 });
  expect(state.has(2)).toBe(false); // pending: filtered out
  expect(Number.isNaN(Date.parse(state.get(1)!.source_commit_ts))).toBe(false);

  // Insert a completed order: one upsert, its commit time carried.
  const before = Date.now();
  await source.admin.query("INSERT INTO public.orders (id, customer_id, status, total) VALUES (100, 12347, 'completed', 5.50)");
  const after = Date.now();
  state = await waitFor('insert enriched', s => s.get(100)?.customer_name === 'Alan Turing');
  expect(state.get(100)).toMatchObject({ customer_id: 12347, customer_tier: 'standard', total: 5.5 });
  const committed = Date.parse(state.get(100)!.source_commit_ts);
  expect(state.get(100)!.source_commit_ts).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
  expect(committed).toBeGreaterThanOrEqual(before - 1000);
  expect(committed).toBeLessThanOrEqual(after + 1000);

  // A customer update re-emits the order with the new name and tier; the order's own commit time stays.
  await source.admin.query("UPDATE public.customers SET name = 'Alan M. Turing', tier = 'gold' WHERE id = 12347");
  state = await waitFor('customer update re-enriched', s => s.get(100)?.customer_name === 'Alan M. Turing');
  // The same instant: Flink's ISO-8601 form drops trailing zeros of the fraction ('…50.85Z' for '…50.850Z').
  expect(state.get(100)).toMatchObject({ customer_tier: 'gold', total: 5.5 });
  expect(Date.parse(state.get(100)!.source_commit_ts)).toBe(committed);

  // An order update within the filter is an upsert with the new commit time.
  const beforeTotal = Date.now();
  await source.admin.query('UPDATE public.orders SET total = 6.25 WHERE id = 100');
  state = await waitFor('order update', s => s.get(100)?.total === 6.25);
  expect(Date.parse(state.get(100)!.source_commit_ts)).toBeGreaterThanOrEqual(beforeTotal - 1000);

  // Leaving the filter (status no longer completed) and a delete each end in a tombstone.
  await source.admin.query("UPDATE public.orders SET status = 'cancelled' WHERE id = 1");
  await source.admin.query('DELETE FROM public.orders WHERE id = 3');
  await waitFor('tombstones', s => s.get(1) === null && s.get(3) === null);
  const history = (id: number) => reader.records.filter(r => decode(r.key).order_id === id).map(r => (r.value === null ? null : decode(r.value).customer_name));
  expect(history(1)).toEqual(['Ada Lovelace', null]);
  expect(history(3)).toEqual(['Grace Hopper', null]);
  // Flink's regular join emits an update of a joined row as DELETE then INSERT. Without the sink's merge buffer upsert-kafka
  // wrote the DELETE as a tombstone, so each update reached the topic as a tombstone then the new value
  // (['Alan Turing', null, 'Alan M. Turing', null, 'Alan M. Turing'] before the buffer; a reader between the two saw the order
  // missing). FlinkTable.upsertKafkaSink's 20 ms merge (sink.buffer-flush.*) writes the pair as the new value alone most of the
  // time, not always: the buffer flushes on a timer, and a flush between the two halves still writes the tombstone (seen in one
  // of five runs here). The values, in order, are the same either way.
  expect(history(100).filter(v => v !== null)).toEqual(['Alan Turing', 'Alan M. Turing', 'Alan M. Turing']);
  console.log(`order 100 on the topic: ${JSON.stringify(history(100))}`);
  // A pending order that becomes completed appears.
  await source.admin.query("UPDATE public.orders SET status = 'completed' WHERE id = 2");
  state = await waitFor('pending to completed', s => s.get(2)?.total === 310.5);
  expect(state.get(2)).toMatchObject({ customer_name: 'Ada Lovelace', customer_tier: 'gold' });
  expect(state.get(100)).toMatchObject({ customer_name: 'Alan M. Turing' });
  expect(history(2)).toEqual(['Ada Lovelace']);
  timings['all changes through'] = Date.now() - t0;
});
