// The CDC connector's role writes exactly its own topics (tables, heartbeat, MySQL schema history), never `<prefix>.*`,
// and a captured table whose topic would be a transform's output topic is refused at synth.
import { Template } from 'aws-cdk-lib/assertions';
import { defineExampleApp } from '../../bin/example';
import { EXAMPLE_ENRICHED_ORDERS_TOPIC, EXAMPLE_ORDER_ENRICHMENT_SQL, exampleOrderEnrichmentTables } from '../../constructs/processing/example';
import { ViewFieldType, ViewStore } from '../../constructs/stores/view';
import { AgentDataStack, ViewSource } from '../../lib/agent-data-stack';
import { DeploymentProfile } from '../../lib/profiles';
import { testApp } from '../helpers/app';

/** Every topic ARN the role may write (kafka-cluster:WriteData), as the resolved template strings. */
function writableTopics(stack: AgentDataStack): string[] {
  const t = Template.fromStack(stack);
  const role = stack.getLogicalId(stack.connector.role.node.defaultChild as any);
  return Object.values(t.findResources('AWS::IAM::Policy'))
    .filter((p: any) => JSON.stringify(p.Properties.Roles).includes(role))
    .flatMap((p: any) => p.Properties.PolicyDocument.Statement)
    .filter((s: any) => [s.Action].flat().includes('kafka-cluster:WriteData'))
    .flatMap((s: any) => [s.Resource].flat())
    .map((r: unknown) => JSON.stringify(r));
}

test('the connector may write its table, heartbeat topics and nothing else: not the Flink output topic that shares its prefix', () => {
  const stack = defineExampleApp(testApp(), { profile: 'development' });
  // The topic part of each ARN (after the cluster uuid).
  const topics = writableTopics(stack).map(r => /\/([^/"]+)"\]\]\}$/.exec(r)![1]).sort();
  expect(topics).toEqual([
    ...stack.connector.tableTopics, stack.connector.heartbeatTopic,
    // MSK Connect's own offset, config and status topics (both documented prefixes).
    '__amazon_msk_connect_*', '__msk_connect_*',
  ].sort());
  expect(topics).not.toContain('agentdata.*');
  expect(topics).not.toContain(EXAMPLE_ENRICHED_ORDERS_TOPIC);
});

test('fails when a captured table\'s topic is a transform\'s output topic', () => {
  const app = testApp();
  expect(() => new AgentDataStack(app, 'Collide', {
    profile: DeploymentProfile.of('development'),
    // `flink.orders_enriched` captured under prefix `agentdata` is topic agentdata.flink.orders_enriched: the transform's output.
    source: { tables: ['public.customers', 'public.orders', 'flink.orders_enriched'], databaseName: 'shop' },
    transforms: [{ name: 'order-enrichment', sql: EXAMPLE_ORDER_ENRICHMENT_SQL, tables: exampleOrderEnrichmentTables() }],
    views: [{
      name: 'orders', description: 'Orders', from: ViewSource.transform('order-enrichment', 'orders_enriched'), store: ViewStore.CACHE,
      key: ['order_id'], fields: [{ name: 'order_id', type: ViewFieldType.INTEGER }],
    }],
  })).toThrow(/transform 'order-enrichment' writes topic 'agentdata\.flink\.orders_enriched' \(table orders_enriched\), which the CDC connector also writes .* Give the transform's output table another 'topic'/);
});
