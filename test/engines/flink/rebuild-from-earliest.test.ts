// Rebuilding a view computed by Flink, on the real engines: the example's order-enrichment job (the synthesized package on a PyFlink 2.2
// mini-cluster, fed by the synthesized Debezium connector) runs, changes flow, the job is stopped and a new run of the same package starts
// without state, as `agent-data-stack resnapshot --view` starts it on Managed Flink (SKIP_RESTORE_FROM_SNAPSHOT): its sources start from
// their declared scan.startup.mode (earliest-offset) and the recomputed output, read as the compacted upsert topic the sink reads, is the
// same as before (intermediate results on the way are recorded as a figure, not asserted).
import * as fs from 'fs';
import { Template } from 'aws-cdk-lib/assertions';
import { EXAMPLE_ENRICHED_ORDERS_TOPIC, EXAMPLE_TRANSFORM_NAME } from '../../../constructs/processing';
import { TopicReader, type ReadRecord } from '../../../cli/dev/engines/kafka';
import { startEnginePipeline, startSourceDatabase, synthesizeExample, type EnginePipeline, type SourceDatabase } from '../../../cli/dev/engines/pipeline';
import { pyflinkPython, requireTool, rootCause, startApplication, transformApplicationId, unpackForLocalBroker, type RunningApplication } from './engine';

const STEP_TIMEOUT_MS = 300_000;

let source: SourceDatabase;
let pipeline: EnginePipeline;
let packageDir: string;
let python: string;
let job: RunningApplication | undefined;
let reader: TopicReader;
let jobSql: string;
const figures: Record<string, number | string> = {};

const decode = (b64: string | null) => (b64 === null ? null : JSON.parse(Buffer.from(b64, 'base64').toString('utf8')));
/** The topic as the compacted upsert table the sink reads: last value per key (null = deleted). */
function latest(records: ReadRecord[]): Map<number, unknown> {
  const out = new Map<number, unknown>();
  for (const r of records) out.set(decode(r.key).order_id, decode(r.value));
  return out;
}

async function waitFor(what: string, predicate: (records: ReadRecord[]) => boolean): Promise<void> {
  try {
    await reader.waitFor(what, predicate, STEP_TIMEOUT_MS);
  } catch (e) {
    throw new Error(`${(e as Error).message}\nflink: ${rootCause(job?.output() ?? '') ?? job?.output().slice(-3000)}`, { cause: e });
  }
}

beforeAll(async () => {
  requireTool('java', ['-version'], 'a Java 17 runtime, e.g. apt-get install openjdk-17-jre-headless');
  requireTool('mvn', ['-v'], 'Apache Maven, e.g. apt-get install maven');
  python = pyflinkPython();
  const example = synthesizeExample();
  source = await startSourceDatabase();
  pipeline = await startEnginePipeline({ example, source, log: l => process.stdout.write(`engines: ${l}\n`) });
  ({ dir: packageDir, sql: jobSql } = await unpackForLocalBroker(Template.fromJSON(example.template), pipeline.kafka.bootstrapServers,
    { application: transformApplicationId(EXAMPLE_TRANSFORM_NAME) }));
  reader = new TopicReader(pipeline.kafka.bootstrapServers, EXAMPLE_ENRICHED_ORDERS_TOPIC.replace(/\./g, '\\.'));
  await reader.start();
}, 30 * 60_000);

afterAll(async () => {
  await job?.stop();
  await reader?.stop();
  await pipeline?.stop();
  await source?.stop();
  if (packageDir) fs.rmSync(packageDir, { recursive: true, force: true });
  process.stdout.write(`engines: rebuild from earliest figures ${JSON.stringify(figures)}\n`);
}, 180_000);

test('the job\'s CDC source tables declare earliest-offset, the position a start without state reads from', () => {
  const sources = jobSql.split(/CREATE\s+TABLE/i).slice(1)
    .map(t => [/'topic'\s*=\s*'([^']+)'/.exec(t)?.[1], /'scan\.startup\.mode'\s*=\s*'([^']+)'/.exec(t)?.[1]]);
  expect(sources).toEqual(expect.arrayContaining([['agentdata.public.orders', 'earliest-offset'], ['agentdata.public.customers', 'earliest-offset']]));
});

test('a new run of the job without state recomputes the view identically from the retained topics, then keeps streaming', async () => {
  job = startApplication(python, packageDir);
  await waitFor('first run: snapshot enriched', rs => latest(rs).has(1) && latest(rs).has(3));
  await source.admin.query("INSERT INTO public.orders (id, customer_id, status, total) VALUES (100, 12347, 'completed', 5.50)");
  await source.admin.query("UPDATE public.customers SET name = 'Alan M. Turing', tier = 'gold' WHERE id = 12347");
  await source.admin.query("UPDATE public.orders SET status = 'cancelled' WHERE id = 1");
  await source.admin.query("UPDATE public.orders SET status = 'completed' WHERE id = 2");
  await waitFor('first run: every change through', rs => {
    const s = latest(rs);
    return (s.get(100) as { customer_name?: string } | null)?.customer_name === 'Alan M. Turing' && s.get(1) === null && s.has(2);
  });
  // Settle: nothing more is coming from the first run.
  await new Promise(r => setTimeout(r, 5_000));
  const before = latest(reader.records);
  figures['first run records'] = reader.records.length;
  await job.stop();
  job = undefined;

  // The rebuild: the same package, a new job without state.
  const mark = reader.records.length;
  const started = Date.now();
  job = startApplication(python, packageDir);
  const rebuiltEqual = (rs: ReadRecord[]) => {
    const rebuilt = latest(rs.slice(mark));
    return [...before].every(([k, v]) => JSON.stringify(rebuilt.get(k) ?? null) === JSON.stringify(v)) && [...rebuilt.keys()].every(k => before.has(k));
  };
  await waitFor('the rebuilt output equal to the first run\'s', rebuiltEqual);
  figures['restart to rebuilt (ms)'] = Date.now() - started;
  await new Promise(r => setTimeout(r, 5_000));
  const rebuild = reader.records.slice(mark);
  figures['rebuild records'] = rebuild.length;
  expect(rebuiltEqual(reader.records)).toBe(true);
  // The whole topic, as the sink and a compacted topic see it: the same state as before the rebuild.
  expect(latest(reader.records)).toEqual(before);
  // What order 100 went through during the rebuild (an older result could be emitted before the final one).
  const history100 = rebuild.filter(r => decode(r.key).order_id === 100).map(r => (decode(r.value) as { customer_name?: string } | null)?.customer_name ?? null);
  figures['order 100 during the rebuild'] = JSON.stringify(history100);
  expect(history100[history100.length - 1]).toBe('Alan M. Turing');

  // The rebuilt job streams live changes.
  await source.admin.query('UPDATE public.orders SET total = 7.75 WHERE id = 100');
  await waitFor('a live change after the rebuild', rs => (latest(rs).get(100) as { total?: number } | null)?.total === 7.75);
});
