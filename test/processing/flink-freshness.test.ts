// FlinkSqlApplication and the freshness budget of derived views (docs/PERFORMANCE.md, "Latency defaults"): Kafka sinks deliver
// at-least-once by default (exactly-once would hold each result until the checkpoint that covers it), and upsert-kafka's
// buffer merges a key's changes for 20 ms only (enough for a join's DELETE/INSERT pair), so each result is produced within
// 20 ms of being computed.
import { Duration } from 'aws-cdk-lib';
import { Annotations, Match } from 'aws-cdk-lib/assertions';
import { AgentNetwork } from '../../constructs/common/agent-network';
import {
  EXAMPLE_ORDER_ENRICHMENT_SQL, exampleOrderEnrichmentTables, FlinkSqlApplication, FlinkSqlApplicationProps, FlinkTable,
  type UpsertKafkaSinkTableOptions,
} from '../../constructs/processing';
import { testApp, testStack } from '../helpers/app';
import { StandInCluster } from './support';

function build(props: Partial<FlinkSqlApplicationProps> = {}) {
  const stack = testStack(testApp());
  const vpc = new AgentNetwork(stack, 'Net').vpc;
  const cluster = new StandInCluster(stack, 'Cluster', vpc);
  const flink = new FlinkSqlApplication(stack, 'Orders', {
    cluster, applicationName: 'orders-enrichment', tables: exampleOrderEnrichmentTables(), sql: EXAMPLE_ORDER_ENRICHMENT_SQL, ...props,
  });
  return { stack, flink };
}

test('by default the output is written at-least-once, each key\'s changes merged for 20 ms (1000 keys at most)', () => {
  const { stack, flink } = build();
  const output = flink.tables.find(t => t.name === 'orders_enriched')!;
  expect(output.connector).toBe('upsert-kafka');
  expect(output.options['sink.delivery-guarantee']).toBe('at-least-once');
  // Both bounds above zero turn the buffer on (Flink's upsert-kafka options); it keeps the last change per key, so a join's
  // DELETE then INSERT of one key is written as the INSERT alone (test/engines/flink/example-job.test.ts shows it on Flink).
  expect(Object.fromEntries(Object.entries(output.options).filter(([k]) => k.startsWith('sink.buffer-flush.'))))
    .toEqual({ 'sink.buffer-flush.max-rows': '1000', 'sink.buffer-flush.interval': '20 ms' });
  Annotations.fromStack(stack).hasNoWarning('*', Match.anyValue());
});

test('mergeWindow and mergeMaxRows set the buffer; Duration.millis(0) turns it off; bad values are refused at synth', () => {
  const columns = [{ name: 'id', type: 'BIGINT' }];
  const options = (extra: Partial<UpsertKafkaSinkTableOptions>) => {
    const ddl = FlinkTable.upsertKafkaSink({ name: 'o', topic: 't', columns, primaryKey: ['id'], ...extra }).ddl;
    return [...ddl.matchAll(/'(sink\.buffer-flush\.[a-z-]+)' = '([^']*)'/g)].map(m => `${m[1]}=${m[2]}`);
  };
  expect(options({ mergeWindow: Duration.millis(250), mergeMaxRows: 50 })).toEqual(['sink.buffer-flush.max-rows=50', 'sink.buffer-flush.interval=250 ms']);
  expect(options({ mergeWindow: Duration.seconds(1) })).toEqual(['sink.buffer-flush.max-rows=1000', 'sink.buffer-flush.interval=1000 ms']);
  expect(options({ mergeWindow: Duration.millis(0) })).toEqual([]);
  expect(() => options({ mergeWindow: Duration.millis(0), mergeMaxRows: 10 })).toThrow(/mergeMaxRows is set but mergeWindow is 0 \(merging off\)/);
  expect(() => options({ mergeWindow: Duration.minutes(2) })).toThrow(/mergeWindow 2 minutes is invalid; use whole milliseconds from Duration.millis\(0\)/);
  expect(() => options({ mergeWindow: Duration.millis(0.5) })).toThrow(/mergeWindow .* is invalid/);
  expect(() => options({ mergeMaxRows: 0 })).toThrow(/mergeMaxRows 0 is invalid; use a whole number from 1 to 1000000/);
  expect(() => options({ mergeMaxRows: 2.5 })).toThrow(/mergeMaxRows 2.5 is invalid/);
});
