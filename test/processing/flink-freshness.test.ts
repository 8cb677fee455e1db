// FlinkSqlApplication and the freshness budget of derived views (docs/PERFORMANCE.md, "Latency defaults"): Kafka sinks deliver
// at-least-once by default (exactly-once would hold each result until the checkpoint that covers it), with upsert-kafka's
// buffer flush off, so each result is produced when it is computed.
import { Annotations, Match } from 'aws-cdk-lib/assertions';
import { AgentNetwork } from '../../constructs/common/agent-network';
import {
  EXAMPLE_ORDER_ENRICHMENT_SQL, exampleOrderEnrichmentTables, FlinkSqlApplication, FlinkSqlApplicationProps,
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

test('by default the output is written at-least-once, with no upsert-kafka buffering', () => {
  const { stack, flink } = build();
  const output = flink.tables.find(t => t.name === 'orders_enriched')!;
  expect(output.connector).toBe('upsert-kafka');
  expect(output.options['sink.delivery-guarantee']).toBe('at-least-once');
  // Flink's upsert-kafka default: buffer-flush off, so each change is produced when it is computed.
  expect(Object.keys(output.options).filter(k => k.startsWith('sink.buffer-flush.'))).toEqual([]);
  Annotations.fromStack(stack).hasNoWarning('*', Match.anyValue());
});
