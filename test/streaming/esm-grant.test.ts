// The sink's MSK event source mapping with IAM auth: exactly the kafka-cluster actions the Lambda guide lists, each on a named ARN of a real cluster.
import { Match, Template } from 'aws-cdk-lib/assertions';
import { AgentNetwork } from '../../constructs/common/agent-network';
import { AgentCache } from '../../constructs/stores/agent-cache';
import { AgentSink } from '../../constructs/stores/agent-sink';
import { AgentView, ViewFieldType, ViewStore } from '../../constructs/stores/view';
import { AgentStreamingCluster } from '../../constructs/streaming';
import { testApp, testStack } from '../helpers/app';

const customers = new AgentView({
  name: 'customers', description: 'Customer by id', topic: 'shop.public.customers', sourceTable: 'public.customers',
  key: ['id'], fields: [{ name: 'id', type: ViewFieldType.INTEGER }, { name: 'name', type: ViewFieldType.STRING }], store: ViewStore.CACHE,
});

function kafkaStatements() {
  const stack = testStack(testApp());
  const vpc = new AgentNetwork(stack, 'Net', { maxAzs: 3 }).vpc;
  const cluster = new AgentStreamingCluster(stack, 'Kafka', { vpc, clusterName: 'cdc' });
  const cache = new AgentCache(stack, 'Cache', { vpc, cacheName: 'agent-views' });
  const sink = new AgentSink(stack, 'Sink', { cluster, cache, views: [customers], consumerGroupPrefix: 'agent-sink' });
  const policies = Template.fromStack(stack).findResources('AWS::IAM::Policy', { Properties: { Roles: [{ Ref: Match.stringLikeRegexp('^SinkFunctionRole') }] } });
  const statements = Object.values(policies).flatMap((p: any) => p.Properties.PolicyDocument.Statement)
    .filter((s: any) => [s.Action].flat().some((a: string) => a.startsWith('kafka-cluster:')));
  return { stack, statements, sink };
}

/** The Kafka data-plane actions of a statement (CDK merges control-plane kafka:* actions on the same ARN into it). */
function kafkaActions(statement: any): string[] {
  return [statement.Action].flat().filter((a: string) => a.startsWith('kafka-cluster:'));
}

/** The resource type of an MSK ARN in a statement: cluster, topic or group (the segment after the service's region/account). */
function resourceKind(resource: unknown): string {
  const text = JSON.stringify(resource);
  const match = text.match(/:(cluster|topic|group)\//);
  if (match) return match[1];
  // The cluster's own ARN is a GetAtt on the AWS::MSK::Cluster.
  if (/"Fn::GetAtt":\["Kafka[0-9A-F]{8}","Arn"\]/.test(text)) return 'cluster';
  return text;
}

test('the event source mapping role gets exactly Connect, DescribeClusterDynamicConfiguration, DescribeTopic, ReadData, DescribeGroup and AlterGroup', () => {
  const { statements } = kafkaStatements();
  const actions = [...new Set(statements.flatMap((s: any) => kafkaActions(s)))].sort();
  expect(actions).toEqual([
    'kafka-cluster:AlterGroup', 'kafka-cluster:Connect', 'kafka-cluster:DescribeClusterDynamicConfiguration',
    'kafka-cluster:DescribeGroup', 'kafka-cluster:DescribeTopic', 'kafka-cluster:ReadData',
  ]);
});

test('each action is granted on its own named resource: cluster, the view topic, the mapping\'s consumer group; nothing on *', () => {
  const { statements, sink } = kafkaStatements();
  const byKind: Record<string, string[]> = {};
  for (const s of statements) {
    for (const resource of [s.Resource].flat()) {
      expect(resource).not.toBe('*');
      const kind = resourceKind(resource);
      byKind[kind] = [...new Set([...(byKind[kind] ?? []), ...kafkaActions(s)])].sort();
      if (kind === 'topic') expect(JSON.stringify(resource)).toMatch(/\/shop\.public\.customers"\]\]\}$/);
      if (kind === 'group') expect(JSON.stringify(resource)).toContain(`/${sink.consumerGroups['shop.public.customers']}"`);
      expect(JSON.stringify(resource)).not.toContain('*');
    }
  }
  expect(byKind).toEqual({
    cluster: ['kafka-cluster:Connect', 'kafka-cluster:DescribeClusterDynamicConfiguration'],
    topic: ['kafka-cluster:DescribeTopic', 'kafka-cluster:ReadData'],
    group: ['kafka-cluster:AlterGroup', 'kafka-cluster:DescribeGroup'],
  });
});
