// AgentSink: one MSK event source mapping per view topic with IAM auth, stable consumer groups and TRIM_HORIZON; dead letters; least-privilege role; metrics; clean gate.
import { randomBytes } from 'crypto';
import { compactJsonValue } from '../../constructs/common/private/environment-size';
import { CfnElement, Duration, Stage } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { AgentNetwork } from '../../constructs/common/agent-network';
import { AgentCache } from '../../constructs/stores/agent-cache';
import { AgentSearch } from '../../constructs/stores/agent-search';
import { AgentSink, AgentSinkProps, SinkDeadLetter } from '../../constructs/stores/agent-sink';
import { AgentView, ViewFieldType, ViewStore, ViewTopicFormat } from '../../constructs/stores/view';
import { GatePack } from '../../lib/validation-gate';
import { testApp, testStack } from '../helpers/app';
import { formatFindings, gateFindings } from '../helpers/gate';
import { FakeCluster, FakeSearch } from './fakes';

const balances = new AgentView({
  name: 'customer_balances', description: 'Balance per customer', topic: 'agentdata.public.accounts', sourceTable: 'public.accounts',
  key: ['customer_id'], fields: [{ name: 'customer_id', type: ViewFieldType.INTEGER }, { name: 'balance', type: ViewFieldType.NUMBER }], store: ViewStore.CACHE,
});
const balancesByName = new AgentView({
  name: 'balances_by_id', description: 'Same topic, second cache view', topic: 'agentdata.public.accounts', sourceTable: 'public.accounts',
  key: ['customer_id'], fields: [{ name: 'customer_id', type: ViewFieldType.INTEGER }], store: ViewStore.CACHE, cache: { keyPrefix: 'bid:' },
});
const orders = new AgentView({
  name: 'recent_orders', description: 'Orders', topic: 'flink.recent_orders', format: ViewTopicFormat.UPSERT_KAFKA, sourceTable: 'recent_orders',
  key: ['order_id'], fields: [{ name: 'order_id', type: ViewFieldType.KEYWORD }, { name: 'placed_at', type: ViewFieldType.TIMESTAMP }], store: ViewStore.SEARCH,
});

function build(props: Partial<AgentSinkProps> = {}, gate: boolean | GatePack[] = false) {
  const app = testApp({ gate });
  const stack = testStack(app);
  const vpc = new AgentNetwork(stack, 'Net').vpc;
  const cluster = new FakeCluster(stack, 'Kafka', vpc);
  const cache = new AgentCache(stack, 'Cache', { vpc, cacheName: 'agent-views' });
  const search = new FakeSearch(stack, 'Search', vpc);
  const sink = new AgentSink(stack, 'Sink', { cluster, cache, search, views: [balances, balancesByName, orders], ...props });
  return { app, stack, sink, cluster, cache, t: () => Template.fromStack(stack) };
}

describe('event source mappings', () => {
  test('one per distinct topic, from TRIM_HORIZON, with a stable consumer group, batch 500, a 0 s batching window, IAM auth (no secrets) and the S3 on-failure destination', () => {
    const { t, sink, stack } = build();
    t().resourceCountIs('AWS::Lambda::EventSourceMapping', 2);
    const bucket = stack.getLogicalId(sink.deadLetterBucket!.node.defaultChild as any);
    for (const topic of ['agentdata.public.accounts', 'flink.recent_orders']) {
      t().hasResourceProperties('AWS::Lambda::EventSourceMapping', {
        Topics: [topic],
        EventSourceArn: 'arn:aws:kafka:us-east-1:123456789012:cluster/agent-kafka/uuid-1',
        StartingPosition: 'TRIM_HORIZON',
        BatchSize: 500,
        // Latency default (docs/PERFORMANCE.md): invoke as soon as a poll returns records, not after Lambda's 500 ms Kafka window.
        MaximumBatchingWindowInSeconds: 0,
        AmazonManagedKafkaEventSourceConfig: { ConsumerGroupId: Match.stringLikeRegexp(`^agent-sink\\.[A-Za-z0-9]+\\.${topic.replace(/\./g, '\\.')}$`) },
        DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [bucket, 'Arn'] } } },
        SourceAccessConfigurations: Match.absent(),
        ProvisionedPollerConfig: Match.absent(),
        MaximumRetryAttempts: Match.absent(),
        MaximumRecordAgeInSeconds: Match.absent(),
      });
    }
  });

  test('the consumer group id is deterministic across synths and can be set', () => {
    const group = (b: ReturnType<typeof build>) => b.stack.resolve(b.sink.eventSourceMappings['flink.recent_orders'].amazonManagedKafkaEventSourceConfig);
    expect(group(build())).toEqual(group(build()));
    expect(group(build({ consumerGroupPrefix: 'prod-sink' }))).toEqual({ consumerGroupId: 'prod-sink.flink.recent_orders' });
    // consumerGroups reports exactly the group each mapping uses, for lag metrics.
    expect(build({ consumerGroupPrefix: 'prod-sink' }).sink.consumerGroups).toEqual({
      'agentdata.public.accounts': 'prod-sink.agentdata.public.accounts', 'flink.recent_orders': 'prod-sink.flink.recent_orders',
    });
  });

  test('group ids are cut at Lambda\'s 200 characters, and two topics whose cut ids are the same fail at synth', () => {
    const view = (name: string, topic: string) => new AgentView({
      name, description: name, topic, sourceTable: 'public.t', key: ['id'], fields: [{ name: 'id', type: ViewFieldType.INTEGER }], store: ViewStore.CACHE,
      cache: { keyPrefix: `${name}:` },
    });
    const prefix = 'p'.repeat(150);
    const common = `agentdata.public.${'a'.repeat(40)}`;
    // A cut id that no other topic shares is kept as it was.
    const one = build({ consumerGroupPrefix: prefix, views: [view('one', `${common}_one`), view('other', 'agentdata.public.other')] }).sink.consumerGroups;
    expect(one[`${common}_one`]).toBe(`${prefix}.${common}_one`.slice(0, 200));
    expect(one[`${common}_one`].length).toBe(200);
    expect(() => build({ consumerGroupPrefix: prefix, views: [view('one', `${common}_one`), view('two', `${common}_two`)] }))
      .toThrow(/topics 'agentdata\.public\.a{40}_one' and 'agentdata\.public\.a{40}_two' get the same consumer group id 'p{150}\.agentdata\.public\.a{32}'.*Give a shorter consumerGroupPrefix/);
  });

  test('mappings are named after their topic, so adding a view leaves the others in place', () => {
    const before = build();
    const after = build({ views: [orders, balances] });
    const id = (b: ReturnType<typeof build>, topic: string) => b.stack.getLogicalId(b.sink.eventSourceMappings[topic]);
    expect(id(after, 'flink.recent_orders')).toBe(id(before, 'flink.recent_orders'));
    expect(id(after, 'agentdata.public.accounts')).toBe(id(before, 'agentdata.public.accounts'));
  });

  test('provisioned pollers, retry and record-age limits and a batching window are applied', () => {
    const { t } = build({ provisionedPollers: { minimum: 2, maximum: 20 }, retryAttempts: 10, maxRecordAge: Duration.hours(6), maxBatchingWindow: Duration.seconds(1), batchSize: 1000 });
    t().hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      ProvisionedPollerConfig: { MinimumPollers: 2, MaximumPollers: 20 }, MaximumRetryAttempts: 10, MaximumRecordAgeInSeconds: 21600,
      MaximumBatchingWindowInSeconds: 1, BatchSize: 1000,
    });
  });

  test('a heartbeat topic gets its own mapping', () => {
    const { t, sink } = build({ heartbeatTopic: '__debezium-heartbeat.agentdata' });
    t().resourceCountIs('AWS::Lambda::EventSourceMapping', 3);
    t().hasResourceProperties('AWS::Lambda::Function', { Environment: { Variables: Match.objectLike({ AGENT_SINK_HEARTBEAT_TOPIC_PREFIX: '__debezium-heartbeat.agentdata' }) } });
    const cdc = sink.metricCdcLag();
    expect({ ns: cdc.namespace, name: cdc.metricName, stat: cdc.statistic, dims: cdc.dimensions })
      .toEqual({ ns: 'AgentDataStack', name: 'CdcLag', stat: 'Maximum', dims: { service: 'agent-data-stack-sink', Topic: '__debezium-heartbeat.agentdata' } });
  });

  test('an SQS dead-letter destination replaces the bucket', () => {
    const { t, sink, stack } = build({ deadLetter: SinkDeadLetter.queue() });
    t().resourceCountIs('AWS::S3::Bucket', 0);
    t().hasResourceProperties('AWS::SQS::Queue', { SqsManagedSseEnabled: true, MessageRetentionPeriod: 1209600 });
    const queue = stack.getLogicalId(sink.deadLetterQueue!.node.defaultChild as any);
    t().hasResourceProperties('AWS::Lambda::EventSourceMapping', { DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [queue, 'Arn'] } } } });
    t().hasResourceProperties('AWS::Lambda::Function', { Environment: { Variables: Match.objectLike({ AGENT_SINK_DLQ_KIND: 'sqs', AGENT_SINK_DLQ_TARGET: { Ref: queue } }) } });
  });
});

describe('function', () => {
  test('runs in the cluster VPC with the views, the store clients and the dead-letter target in its environment', () => {
    const { t, sink, stack } = build();
    const bucket = stack.getLogicalId(sink.deadLetterBucket!.node.defaultChild as any);
    t().hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs24.x', MemorySize: 512, Timeout: 60,
      VpcConfig: Match.objectLike({ SubnetIds: Match.anyValue() }),
      Environment: { Variables: Match.objectLike({
        AGENT_VIEWS: compactJsonValue(JSON.stringify([balances.toConfig(), balancesByName.toConfig(), orders.toConfig()])),
        AGENT_CACHE_AUTH: 'iam', AGENT_CACHE_USER: 'agent-views-app', AGENT_SEARCH_ENDPOINT: 'vpc-agent-search.us-east-1.es.amazonaws.com',
        AGENT_SINK_DLQ_KIND: 's3', AGENT_SINK_DLQ_TARGET: { Ref: bucket },
        POWERTOOLS_METRICS_NAMESPACE: 'AgentDataStack', POWERTOOLS_SERVICE_NAME: 'agent-data-stack-sink',
      }) },
    });
  });

  test('the cache and the search domain admit the sink on their ports', () => {
    const { t } = build();
    t().hasResourceProperties('AWS::EC2::SecurityGroupIngress', { FromPort: 6379, ToPort: 6379, Description: 'Agent sink writes the cache' });
    t().hasResourceProperties('AWS::EC2::SecurityGroupIngress', { FromPort: 443, ToPort: 443, Description: 'Agent sink writes the search domain' });
  });

  test('the role holds exactly the grants the sink needs, each on a named resource', () => {
    const { t } = build();
    const policies = t().findResources('AWS::IAM::Policy', { Properties: { Roles: [{ Ref: Match.stringLikeRegexp('SinkFunctionRole') }] } });
    const statements = Object.values(policies).flatMap((p: any) => p.Properties.PolicyDocument.Statement);
    const byAction = (a: string) => statements.filter((s: any) => [s.Action].flat().includes(a));
    expect(byAction('elasticache:Connect')[0].Resource).toEqual(expect.arrayContaining([
      'arn:aws:elasticache:us-east-1:123456789012:user:agent-views-app', { 'Fn::GetAtt': [expect.stringMatching(/^Cache/), 'ARN'] },
    ]));
    expect(byAction('s3:PutObject')[0]).toMatchObject({ Action: 's3:PutObject', Resource: { 'Fn::Join': ['', [{ 'Fn::GetAtt': [expect.stringMatching(/SinkDeadLetterBucket/), 'Arn'] }, '/*']] } });
    expect(byAction('kafka-cluster:ReadData').flatMap((s: any) => [s.Resource].flat()).sort()).toEqual([
      'arn:aws:kafka:us-east-1:123456789012:topic/agent-kafka/uuid-1/agentdata.public.accounts',
      'arn:aws:kafka:us-east-1:123456789012:topic/agent-kafka/uuid-1/flink.recent_orders',
    ]);
    expect(byAction('kafka:GetBootstrapBrokers')[0]).toMatchObject({ Action: expect.arrayContaining(['kafka:DescribeClusterV2', 'kafka:GetBootstrapBrokers']), Resource: 'arn:aws:kafka:us-east-1:123456789012:cluster/agent-kafka/uuid-1' });
    expect(byAction('es:ESHttpPost')[0].Resource).toEqual('arn:aws:es:us-east-1:123456789012:domain/agent-search/recent-orders');
    expect(byAction('s3:PutObject').length).toBe(1);
    expect(byAction('s3:ListBucket')[0].Resource).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/SinkDeadLetterBucket/), 'Arn'] });
    // Wildcards only where AWS offers no resource-level permission (ENI management, X-Ray segments).
    const wildcard = statements.filter((s: any) => s.Resource === '*').flatMap((s: any) => [s.Action].flat());
    expect(wildcard.filter((a: string) => !a.startsWith('ec2:')).sort()).toEqual(['xray:PutTelemetryRecords', 'xray:PutTraceSegments']);
  });

  test('a vector search view lets the sink invoke exactly its embedding model, and no view means no Bedrock access', () => {
    const tickets = new AgentView({
      name: 'tickets', description: 'Support tickets', topic: 'agentdata.public.tickets', sourceTable: 'public.tickets', key: ['id'],
      fields: [{ name: 'id', type: ViewFieldType.INTEGER }, { name: 'body', type: ViewFieldType.TEXT }], store: ViewStore.SEARCH,
      search: { vector: { sourceFields: ['body'] } },
    });
    const statementsOf = (t: Template) => Object.values(t.findResources('AWS::IAM::Policy', { Properties: { Roles: [{ Ref: Match.stringLikeRegexp('SinkFunctionRole') }] } }))
      .flatMap((p: any) => p.Properties.PolicyDocument.Statement);
    const withVector = statementsOf(build({ views: [balances, tickets] }).t()).filter((s: any) => [s.Action].flat().includes('bedrock:InvokeModel'));
    expect(withVector).toHaveLength(1);
    expect(withVector[0].Resource).toBe('arn:aws:bedrock:us-east-1::foundation-model/amazon.titan-embed-text-v2:0');
    const without = statementsOf(build().t()).filter((s: any) => [s.Action].flat().includes('bedrock:InvokeModel'));
    expect(without).toHaveLength(0);
  });

  test('the sink is connectable and grantable through its function', () => {
    const { sink } = build();
    expect(sink.connections).toBe(sink.function.connections);
    expect(sink.grantPrincipal).toBe(sink.function.grantPrincipal);
  });

  test('the mappings wait for the role\'s policy', () => {
    const { t } = build();
    const esms = t().findResources('AWS::Lambda::EventSourceMapping');
    for (const esm of Object.values(esms)) expect((esm as any).DependsOn).toEqual(expect.arrayContaining([expect.stringMatching(/SinkFunctionRole/)]));
  });

  test('the default dead-letter bucket is private, encrypted, TLS-only and retained', () => {
    const { t } = build();
    t().hasResourceProperties('AWS::S3::Bucket', {
      BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
      PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
    });
    t().hasResource('AWS::S3::Bucket', { DeletionPolicy: 'Retain' });
    t().hasResourceProperties('AWS::S3::BucketPolicy', { PolicyDocument: { Statement: [Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })] } });
  });
});

describe('metrics', () => {
  test('OffsetLag per function and the sink\'s EMF metrics per view', () => {
    const { sink, stack } = build();
    const lag = sink.metricOffsetLag();
    expect({ ns: lag.namespace, name: lag.metricName, stat: lag.statistic }).toEqual({ ns: 'AWS/Lambda', name: 'OffsetLag', stat: 'Maximum' });
    expect(stack.resolve(lag.dimensions)).toEqual({ FunctionName: { Ref: stack.getLogicalId(sink.function.node.defaultChild as any) } });
    const fresh = sink.metricFreshnessLag('customer_balances');
    expect({ ns: fresh.namespace, name: fresh.metricName, stat: fresh.statistic, dims: fresh.dimensions })
      .toEqual({ ns: 'AgentDataStack', name: 'FreshnessLag', stat: 'Maximum', dims: { service: 'agent-data-stack-sink', View: 'customer_balances' } });
    expect(sink.metricRecordsWritten('recent_orders').statistic).toBe('Sum');
    expect(sink.metricRecordsStale('recent_orders').metricName).toBe('RecordsStale');
    expect(sink.metricRecordsDeadLettered('recent_orders').metricName).toBe('RecordsDeadLettered');
    expect(sink.metricRecordsReceived('recent_orders').metricName).toBe('RecordsReceived');
    expect(sink.metricRecordsSkipped('recent_orders').metricName).toBe('RecordsSkipped');
    expect(() => sink.metricFreshnessLag('nope')).toThrow(/view 'nope' is not written by this sink/);
    expect(() => sink.metricCdcLag()).toThrow(/needs heartbeatTopic/);
  });

  test('serviceName sets the service dimension of the function and of every metric', () => {
    const { t, sink } = build({ serviceName: 'orders-sink', metricsNamespace: 'Team/Agents' });
    t().hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ POWERTOOLS_SERVICE_NAME: 'orders-sink', POWERTOOLS_METRICS_NAMESPACE: 'Team/Agents' }) },
    });
    expect(sink.metricRecordsWritten('recent_orders').dimensions).toEqual({ service: 'orders-sink', View: 'recent_orders' });
    expect(sink.metricRecordsWritten('recent_orders').namespace).toBe('Team/Agents');
  });
});

describe('search views on an AgentSearch of this library', () => {
  function withSearch(added?: AgentView) {
    const app = testApp();
    const stack = testStack(app);
    const vpc = new AgentNetwork(stack, 'Net').vpc;
    const search = new AgentSearch(stack, 'Search', { vpc });
    const index = added ? search.addView(added) : undefined;
    const sink = new AgentSink(stack, 'Sink', { cluster: new FakeCluster(stack, 'Kafka', vpc), search, views: [orders] });
    return { stack, sink, index, search };
  }

  test('the view\'s mapping waits for the index addView declared (search.indexFor), and nothing is reported', () => {
    const { stack, sink, index, search } = withSearch(orders);
    expect(search.indexFor(orders)).toBe(index);
    const mapping = Template.fromStack(stack).toJSON().Resources[stack.getLogicalId(sink.eventSourceMappings['flink.recent_orders'])];
    expect(mapping.DependsOn).toContain(stack.getLogicalId(index!.node.defaultChild as any));
    Annotations.fromStack(stack).hasNoWarning('/TestStack/Sink', Match.anyValue());
  });

  test('a view of the same name but another search.index has no index: the mapping does not wait for the other view\'s index, and the sink warns', () => {
    const archived = new AgentView({
      name: 'recent_orders', description: 'Orders', topic: 'flink.recent_orders', format: ViewTopicFormat.UPSERT_KAFKA, sourceTable: 'recent_orders',
      key: ['order_id'], fields: [{ name: 'order_id', type: ViewFieldType.KEYWORD }], store: ViewStore.SEARCH, search: { index: 'orders-archive' },
    });
    const { stack, sink, index } = withSearch(archived);
    // The strict synth fails on the warning, so the dependency is read from the construct tree.
    expect(sink.eventSourceMappings['flink.recent_orders'].node.dependencies).not.toContain(index);
    expect(() => Stage.of(stack)!.synth()).toThrow(/AgentSink: search view 'recent_orders' has no index on AgentSearch 'TestStack\/Search', so every write to 'recent-orders' would fail/);
  });

  test('warns, naming the view and the fix, when the view has no index on the domain (a warning fails a synth with strict validation)', () => {
    const { stack } = withSearch();
    expect(() => Stage.of(stack)!.synth()).toThrow(/AgentSink: search view 'recent_orders' has no index on AgentSearch 'TestStack\/Search'.*index_not_found\. Call search\.addView\(view\) before creating the sink/);
  });
});

test('passes the validation gate', () => {
  const { app } = build({}, true);
  expect(formatFindings(gateFindings(app))).toBe('');
});

test('stores and cluster in another stack: the ingress rules are created in the sink\'s stack, with no dependency cycle', () => {
  const app = testApp();
  const base = testStack(app, 'Base');
  const vpc = new AgentNetwork(base, 'Net').vpc;
  const cluster = new FakeCluster(base, 'Kafka', vpc);
  const cache = new AgentCache(base, 'Cache', { vpc, cacheName: 'agent-views' });
  const search = new FakeSearch(base, 'Search', vpc);
  const apps = testStack(app, 'Apps');
  new AgentSink(apps, 'Sink', { cluster, cache, search, views: [balances, orders] });
  expect(() => app.synth()).not.toThrow();
  const sinkSg = { 'Fn::GetAtt': [Match.stringLikeRegexp('^SinkFunctionSecurityGroup'), 'GroupId'] };
  const t = Template.fromStack(apps);
  t.hasResourceProperties('AWS::EC2::SecurityGroupIngress', { FromPort: 6379, SourceSecurityGroupId: sinkSg, Description: 'Agent sink writes the cache' });
  t.hasResourceProperties('AWS::EC2::SecurityGroupIngress', { FromPort: 443, SourceSecurityGroupId: sinkSg, Description: 'Agent sink writes the search domain' });
  // Nothing in the stores' stack refers to the sink's stack.
  expect(JSON.stringify(Template.fromStack(base).toJSON())).not.toContain('Apps');
});

test('an AgentSearch in another stack maps the sink\'s role from the sink\'s stack, with no dependency cycle, and the event source mapping waits for it', () => {
  const app = testApp();
  const base = testStack(app, 'Base');
  const vpc = new AgentNetwork(base, 'Net').vpc;
  const cluster = new FakeCluster(base, 'Kafka', vpc);
  const search = new AgentSearch(base, 'Search', { vpc });
  search.addView(orders);
  const baseSink = new AgentSink(base, 'BaseSink', { cluster, search, views: [orders] });
  const apps = testStack(app, 'Apps');
  const sink = new AgentSink(apps, 'Sink', { cluster, search, views: [orders] });
  // Before, the domain's own access resource named the Apps role: «DependencyCycle» 'Apps' depends on 'Base' ... (Base -> Apps/Sink/FunctionRole/Resource.Arn).
  expect(() => app.synth()).not.toThrow();
  const b = Template.fromStack(base).toJSON();
  expect(JSON.stringify(b)).not.toContain('Apps');
  const baseRole = { 'Fn::GetAtt': [base.getLogicalId(baseSink.function.role!.node.defaultChild as CfnElement), 'Arn'] };
  const baseRoles = Object.values<{ Type: string; Properties: { Roles: { Name: string; BackendRoles: unknown[] }[] } }>(b.Resources)
    .find(r => r.Type === 'Custom::AgentSearchAccess')!.Properties.Roles;
  expect(baseRoles.map(r => r.BackendRoles)).toEqual([[baseRole]]);
  const t = Template.fromStack(apps);
  const appsRole = { 'Fn::GetAtt': [apps.getLogicalId(sink.function.role!.node.defaultChild as CfnElement), 'Arn'] };
  t.resourceCountIs('Custom::AgentSearchAccess', 1);
  const access = t.findResources('Custom::AgentSearchAccess');
  const [accessId] = Object.keys(access);
  const appsRoles = access[accessId].Properties.Roles as { Name: string; IndexPatterns: string[]; BackendRoles: unknown[] }[];
  expect(appsRoles).toEqual([expect.objectContaining({ IndexPatterns: ['recent-orders', 'recent-orders-v*'], BackendRoles: [appsRole] })]);
  // Each access resource owns its FGAC roles: the sink stack's role name is not the domain stack's.
  expect(appsRoles[0].Name).not.toBe(baseRoles[0].Name);
  expect(access[accessId].Properties.AuditLog).toBeUndefined();
  const mapping = t.toJSON().Resources[apps.getLogicalId(sink.eventSourceMappings['flink.recent_orders'])];
  expect(mapping.DependsOn).toContain(accessId);
  // The same-stack sink still waits for the index only (which waits for the domain's access resource).
  const baseMapping = b.Resources[base.getLogicalId(baseSink.eventSourceMappings['flink.recent_orders'])];
  expect(baseMapping.DependsOn.filter((d: string) => d.startsWith('SearchAccess'))).toEqual([]);
});

test('passes the Control Tower controls in a stack of its own, without AgentDataStack: its log groups acknowledge their retention and service-key encryption', () => {
  const { app } = build({}, [GatePack.CONTROL_TOWER]);
  expect(formatFindings(gateFindings(app))).toBe('');
});

test('passes the validation gate with an SQS dead-letter queue and provisioned pollers', () => {
  const { app } = build({ deadLetter: SinkDeadLetter.queue(), provisionedPollers: {} }, true);
  expect(formatFindings(gateFindings(app))).toBe('');
});

describe('validation', () => {
  test.each([
    ['views is empty', { views: [] }, /views is empty/],
    ['a view is given twice', { views: [balances, balances] }, /view 'customer_balances' is given twice/],
    ['a cache view has no cache', { cache: undefined }, /\[customer_balances, balances_by_id\] use ViewStore.CACHE but cache is not set/],
    ['a search view has no search domain', { search: undefined }, /\[recent_orders\] use ViewStore.SEARCH but search is not set/],
    ['the batch size is out of range', { batchSize: 20000 }, /batchSize is 20000/],
    ['the batching window is not whole seconds', { maxBatchingWindow: Duration.millis(100) }, /maxBatchingWindow is 100 millis; use whole seconds/],
    ['retry limits are set without provisioned pollers', { retryAttempts: 3 }, /provisioned mode only/],
    ['the record age is out of range', { provisionedPollers: {}, maxRecordAge: Duration.seconds(10) }, /maxRecordAge is 10 seconds/],
    ['the poller maximum is below the minimum', { provisionedPollers: { minimum: 5, maximum: 2 } }, /provisionedPollers.maximum is 2/],
    ['the consumer group prefix has spaces', { consumerGroupPrefix: 'my sink' }, /consumerGroupPrefix 'my sink'/],
    ['the service name is empty', { serviceName: '' }, /serviceName '' is not a CloudWatch dimension value/],
  ])('fails when %s', (_, props, message) => {
    expect(() => build(props as Partial<AgentSinkProps>)).toThrow(message);
  });

  // Incompressible descriptions: the configuration is compacted (gzip+base64) before it is measured.
  const randomViews = (count: number, descriptionBytes: number) => Array.from({ length: count }, (_, i) => new AgentView({
    name: `view_${i}`, description: randomBytes(descriptionBytes).toString('base64'), topic: `t${i}`,
    sourceTable: 'public.t', key: ['id'], fields: [{ name: 'id', type: ViewFieldType.INTEGER }, { name: 'payload', type: ViewFieldType.JSON }],
    store: ViewStore.CACHE,
  }));

  test('fails at synth, naming the function, when the environment does not fit in Lambda\'s 4 KB (one check: AgentFunction\'s)', () => {
    const { app } = build({ views: randomViews(12, 300) });
    expect(() => app.synth()).toThrow(/Sink\/Function: its environment variables take about \d+ bytes.*allows 4096.*Split the views over several sinks/s);
  });

  test('views over 3000 compacted bytes deploy when the whole environment fits (no second, smaller limit)', () => {
    const views = randomViews(7, 300);
    expect(Buffer.byteLength(compactJsonValue(JSON.stringify(views.map(v => v.toConfig()))))).toBeGreaterThan(3000);
    const { app, sink } = build({ views });
    expect(() => app.synth()).not.toThrow();
    expect(Template.fromStack(sink.function.stack).toJSON()).toBeDefined();
  });

  test('an existing queue can be the destination', () => {
    const app = testApp();
    const stack = testStack(app);
    const vpc = new AgentNetwork(stack, 'Net').vpc;
    const queue = new sqs.Queue(stack, 'Mine', { enforceSSL: true });
    const sink = new AgentSink(stack, 'Sink', {
      cluster: new FakeCluster(stack, 'Kafka', vpc), cache: new AgentCache(stack, 'Cache', { vpc, cacheName: 'c' }), views: [balances],
      deadLetter: SinkDeadLetter.queue(queue), startingPosition: lambda.StartingPosition.LATEST,
    });
    expect(sink.deadLetterQueue).toBe(queue);
    Template.fromStack(stack).hasResourceProperties('AWS::Lambda::EventSourceMapping', { StartingPosition: 'LATEST' });
  });
});

test('the sink handler bundles with esbuild', () => {
  const app = testApp({ bundle: true });
  const stack = testStack(app);
  const vpc = new AgentNetwork(stack, 'Net').vpc;
  new AgentSink(stack, 'Sink', { cluster: new FakeCluster(stack, 'Kafka', vpc), cache: new AgentCache(stack, 'Cache', { vpc, cacheName: 'c' }), views: [balances] });
  const assembly = app.synth();
  const fs = require('fs') as typeof import('fs');
  const path = require('path') as typeof import('path');
  const assets = fs.readdirSync(assembly.directory).filter(d => d.startsWith('asset.'));
  const bundles = assets.map(a => path.join(assembly.directory, a, 'index.js')).filter(f => fs.existsSync(f));
  const sink = bundles.map(f => fs.readFileSync(f, 'utf8')).find(code => code.includes('AGENT_SINK_DLQ_KIND'));
  expect(sink).toBeDefined();
  // The AWS SDK comes from the runtime; ioredis and Powertools are bundled.
  expect(sink).not.toMatch(/require\("ioredis"\)/);
  expect(sink).toMatch(/require\("@aws-sdk\/client-s3"\)/);
});
