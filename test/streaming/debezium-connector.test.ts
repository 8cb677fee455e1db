// DebeziumConnector: full property maps, no secret in the template, least-privilege role, network path, ordering, topics, validation, gate.
import { Annotations, Duration, SecretValue } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import {
  AgentStreamingCluster, CdcEngine, ConnectorCapacity, DatabaseTls, DebeziumConnector, DebeziumConnectorProps, DebeziumPlugin, DebeziumVersion, ICdcSource,
  KafkaConnectVersion,
} from '../../constructs/streaming';
import { GatePack } from '../../lib/validation-gate';
import { testApp, testStack } from '../helpers/app';
import { formatFindings, gateFindings } from '../helpers/gate';
import { fakeSource, network } from './fixtures';

interface BuildOptions {
  engine?: CdcEngine;
  props?: Partial<DebeziumConnectorProps>;
  source?: Partial<ICdcSource>;
  serverless?: boolean;
  gate?: boolean | GatePack[];
  maxAzs?: number;
}

function build(o: BuildOptions = {}) {
  const engine = o.engine ?? 'postgres';
  const app = testApp({ gate: o.gate });
  const stack = testStack(app);
  const vpc = network(stack, o.maxAzs ?? 3);
  const cluster = new AgentStreamingCluster(stack, 'Kafka', { vpc, serverless: o.serverless });
  const source = fakeSource(stack, vpc, engine, o.source);
  const plugin = new DebeziumPlugin(stack, 'Plugin', { engine });
  const connector = new DebeziumConnector(stack, 'Cdc', { cluster, source, plugin, topicPrefix: 'shop', ...o.props });
  return { app, stack, vpc, cluster, source, plugin, connector, t: () => Template.fromStack(stack) };
}

const PASSWORD_REF = {
  'Fn::Join': ['', ['${secretsmanager:', { 'Fn::Join': ['%3A', { 'Fn::Split': [':', { Ref: Match.stringLikeRegexp('^ReplicationSecret') }] }] }, ':password}']],
};
const BOOTSTRAP = { 'Fn::GetAtt': [Match.stringLikeRegexp('^KafkaBootstrapBrokers'), 'BootstrapBrokerStringSaslIam'] };
const IAM_CLIENT = (prefix: string) => ({
  [`${prefix}security.protocol`]: 'SASL_SSL',
  [`${prefix}sasl.mechanism`]: 'AWS_MSK_IAM',
  [`${prefix}sasl.jaas.config`]: 'software.amazon.msk.auth.iam.IAMLoginModule required;',
  [`${prefix}sasl.client.callback.handler.class`]: 'software.amazon.msk.auth.iam.IAMClientCallbackHandler',
});
const COMMON = {
  'tasks.max': '1',
  'database.hostname': 'shop-db.cluster-abc.us-east-1.rds.amazonaws.com',
  'database.user': 'debezium',
  'database.password': PASSWORD_REF,
  'topic.prefix': 'shop',
  'snapshot.mode': 'when_needed',
  'heartbeat.interval.ms': '10000',
  'poll.interval.ms': '100',
  'max.batch.size': '2048',
  'key.converter': 'org.apache.kafka.connect.json.JsonConverter',
  'key.converter.schemas.enable': 'false',
  'value.converter': 'org.apache.kafka.connect.json.JsonConverter',
  'value.converter.schemas.enable': 'false',
  'decimal.handling.mode': 'string',
  'tombstones.on.delete': 'true',
  'topic.creation.default.replication.factor': '3',
  'topic.creation.default.partitions': '3',
  'topic.creation.default.cleanup.policy': 'delete',
  'topic.creation.default.retention.ms': '604800000',
  'config.action.reload': 'none',
};
/** The worker configuration as MSK Connect reads it: the decoded properties-file lines. */
function workerLines(t: Template): Record<string, string> {
  const wc = Object.values(t.findResources('AWS::KafkaConnect::WorkerConfiguration'))[0] as any;
  const content = wc.Properties.PropertiesFileContent['Fn::Base64'];
  const text = typeof content === 'string' ? content
    : content['Fn::Join'][1].map((part: unknown) => (typeof part === 'string' ? part : JSON.stringify(part))).join('');
  return Object.fromEntries(text.split('\n').map((line: string) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]));
}
/** A topic's Configs decoded back from base64 and parsed as the JSON the MSK topic API takes. */
function topicConfigs(topic: any): Record<string, string> {
  return JSON.parse(Buffer.from(topic.Properties.Configs, 'base64').toString('utf8'));
}
function topicNamed(t: Template, name: string): any {
  return Object.values(t.findResources('AWS::MSK::Topic', { Properties: { TopicName: name } }))[0];
}

describe('DebeziumConnector (PostgreSQL)', () => {
  test('the full connector property map', () => {
    const { t } = build();
    t().hasResourceProperties('AWS::KafkaConnect::Connector', {
      ConnectorConfiguration: Match.objectEquals({
        ...COMMON,
        'connector.class': 'io.debezium.connector.postgresql.PostgresConnector',
        'database.port': '5432',
        'database.dbname': 'shop',
        'database.sslmode': 'require',
        'table.include.list': 'public.orders,public.customers',
        'plugin.name': 'pgoutput',
        'publication.name': 'agent_publication',
        'publication.autocreate.mode': 'disabled',
        'slot.name': 'agent_slot',
        // Unlimited restarts: a replacement connector waits for the slot the old one holds (test/engines/connector-replacement.test.ts).
        'errors.max.retries': '-1',
        // Debezium's default, set so that the sink's check for it holds (contract/debezium.ts).
        'unavailable.value.placeholder': '__debezium_unavailable_value',
        'heartbeat.action.query': 'INSERT INTO agent_heartbeat (id, ts) VALUES (1, now()) ON CONFLICT (id) DO UPDATE SET ts = now()',
      }),
    });
  });

  test('MSK Connect settings: Kafka Connect 3.7.x, IAM + TLS to the cluster, 1 worker of 1 MCU, worker logs, plugin and worker configuration', () => {
    const { t, connector } = build();
    t().hasResourceProperties('AWS::KafkaConnect::Connector', {
      ConnectorName: connector.connectorName,
      KafkaConnectVersion: '3.7.x',
      Capacity: { ProvisionedCapacity: { McuCount: 1, WorkerCount: 1 } },
      KafkaCluster: { ApacheKafkaCluster: {
        BootstrapServers: BOOTSTRAP,
        Vpc: { SecurityGroups: [{ 'Fn::GetAtt': [Match.stringLikeRegexp('^CdcSecurityGroup'), 'GroupId'] }], Subnets: Match.arrayWith([{ Ref: Match.stringLikeRegexp('privateSubnet1') }]) },
      } },
      KafkaClusterClientAuthentication: { AuthenticationType: 'IAM' },
      KafkaClusterEncryptionInTransit: { EncryptionType: 'TLS' },
      LogDelivery: { WorkerLogDelivery: { CloudWatchLogs: { Enabled: true, LogGroup: { Ref: Match.stringLikeRegexp('^CdcLogs') } } } },
      Plugins: [{ CustomPlugin: {
        CustomPluginArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^Plugin'), 'CustomPluginArn'] },
        Revision: { 'Fn::GetAtt': [Match.stringLikeRegexp('^Plugin'), 'Revision'] },
      } }],
      WorkerConfiguration: {
        WorkerConfigurationArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^CdcWorkerConfiguration'), 'WorkerConfigurationArn'] },
        Revision: { 'Fn::GetAtt': [Match.stringLikeRegexp('^CdcWorkerConfiguration'), 'Revision'] },
      },
    });
    t().hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 30 });
  });

  test('the worker configuration installs the Secrets Manager config provider for this region', () => {
    const { t } = build();
    expect(workerLines(t())).toMatchObject({
      'config.providers': 'secretsmanager',
      'config.providers.secretsmanager.class': 'com.amazonaws.kafka.config.providers.SecretsManagerConfigProvider',
      'config.providers.secretsmanager.param.region': 'us-east-1',
    });
  });

  test('the worker configuration carries the key and value converters MSK Connect requires (JSON, schemas as the connector)', () => {
    expect(workerLines(build().t())).toMatchObject({
      'key.converter': 'org.apache.kafka.connect.json.JsonConverter', 'key.converter.schemas.enable': 'false',
      'value.converter': 'org.apache.kafka.connect.json.JsonConverter', 'value.converter.schemas.enable': 'false',
    });
    expect(workerLines(build({ props: { schemasEnable: true } }).t())).toMatchObject({
      'key.converter.schemas.enable': 'true', 'value.converter.schemas.enable': 'true',
    });
  });

  test('producer linger and compression are worker producer.* settings, never producer.override.* in the connector', () => {
    const { t, connector } = build();
    expect(workerLines(t())).toMatchObject({ 'producer.linger.ms': '5', 'producer.compression.type': 'lz4' });
    expect(Object.keys(connector.connectorConfiguration).filter(k => k.startsWith('producer.override.'))).toEqual([]);
  });

  test('latency defaults (docs/PERFORMANCE.md): Debezium polls every 100 ms, not its own 500 ms; batches of 2048; the producer lingers 5 ms', () => {
    const { t } = build();
    t().hasResourceProperties('AWS::KafkaConnect::Connector', {
      ConnectorConfiguration: Match.objectLike({ 'poll.interval.ms': '100', 'max.batch.size': '2048' }),
    });
    expect(workerLines(t())).toMatchObject({ 'producer.linger.ms': '5' });
  });

  test('pollInterval and maxBatchSize are configurable', () => {
    build({ props: { pollInterval: Duration.millis(250), maxBatchSize: 512 } }).t().hasResourceProperties('AWS::KafkaConnect::Connector', {
      ConnectorConfiguration: Match.objectLike({ 'poll.interval.ms': '250', 'max.batch.size': '512' }),
    });
  });

  test('a larger max.queue.size in extraProperties admits a larger maxBatchSize', () => {
    build({ props: { maxBatchSize: 10_000, extraProperties: { 'max.queue.size': '20000' } } }).t().hasResourceProperties('AWS::KafkaConnect::Connector', {
      ConnectorConfiguration: Match.objectLike({ 'max.batch.size': '10000', 'max.queue.size': '20000' }),
    });
  });

  test('every worker key is one the MSK Connect supported-properties page allows', () => {
    const allowedProducer = ['producer.acks', 'producer.batch.size', 'producer.buffer.memory', 'producer.compression.type', 'producer.enable.idempotence',
      'producer.key.serializer', 'producer.linger.ms', 'producer.max.request.size', 'producer.metadata.max.age.ms', 'producer.metadata.max.idle.ms',
      'producer.partitioner.class', 'producer.reconnect.backoff.max.ms', 'producer.reconnect.backoff.ms', 'producer.request.timeout.ms',
      'producer.retry.backoff.ms', 'producer.value.serializer'];
    const refusedPrefixes = ['access.control.', 'admin.', 'client.', 'connect.', 'inter.worker.', 'internal.', 'listeners.https.', 'metrics.', 'rest.',
      'sasl.', 'security.', 'socket.', 'ssl.', 'topic.tracking.', 'worker.', 'consumer.'];
    const refused = ['bootstrap.servers', 'config.storage.topic', 'connections.max.idle.ms', 'connector.client.config.override.policy', 'group.id',
      'listeners', 'metric.reporters', 'plugin.path', 'receive.buffer.bytes', 'response.http.headers.config', 'scheduled.rebalance.max.delay.ms',
      'send.buffer.bytes', 'status.storage.topic'];
    for (const key of Object.keys(workerLines(build().t()))) {
      if (key.startsWith('producer.')) expect(allowedProducer).toContain(key);
      expect(refused).not.toContain(key);
      expect(refusedPrefixes.filter(prefix => key.startsWith(prefix))).toEqual([]);
    }
  });

  test('no secret value can appear in the template: a known password is nowhere, and no dynamic reference resolves one', () => {
    const secretValue = 'Sup3r-S3cret-Repl1cation-Pw';
    const app = testApp();
    const stack = testStack(app);
    const vpc = network(stack);
    const cluster = new AgentStreamingCluster(stack, 'Kafka', { vpc });
    // An existing secret (so the value is not a template input either), and a decoy that a naive construct might inline.
    const secret = secretsmanager.Secret.fromSecretCompleteArn(stack, 'Existing', 'arn:aws:secretsmanager:us-east-1:123456789012:secret:shop/debezium-AbCdEf');
    void SecretValue.unsafePlainText(secretValue);
    const source = fakeSource(stack, vpc, 'postgres', { replicationSecret: secret });
    const plugin = new DebeziumPlugin(stack, 'Plugin', { engine: 'postgres' });
    const connector = new DebeziumConnector(stack, 'Cdc', { cluster, source, plugin, topicPrefix: 'shop' });
    const template = Template.fromStack(stack);
    const json = JSON.stringify(template.toJSON());
    expect(json).not.toContain(secretValue);
    expect(json).not.toMatch(/\{\{resolve:secretsmanager/);
    // What MSK Connect stores (connector and worker configuration) holds no secret material, only the provider reference.
    const connectorJson = JSON.stringify(template.findResources('AWS::KafkaConnect::Connector'));
    const workerJson = JSON.stringify((Object.values(template.findResources('AWS::KafkaConnect::WorkerConfiguration'))[0] as any).Properties.PropertiesFileContent);
    expect(connectorJson).not.toMatch(/SecretString|resolve:/);
    expect(workerJson).not.toMatch(/SecretString|resolve:|password/);
    expect(stack.resolve(connector.connectorConfiguration['database.password']))
      .toBe('${secretsmanager:arn%3Aaws%3Asecretsmanager%3Aus-east-1%3A123456789012%3Asecret%3Ashop/debezium-AbCdEf:password}');
    for (const [key, value] of Object.entries(connector.connectorConfiguration)) {
      if (/password|secret/i.test(key)) expect(String(stack.resolve(value))).toMatch(/^\$\{secretsmanager:/);
    }
  });

  test('the execution role is trusted only by MSK Connect for this account and connector name', () => {
    const { t, connector } = build();
    t().hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: { Statement: [{
        Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { Service: 'kafkaconnect.amazonaws.com' },
        Condition: {
          StringEquals: { 'aws:SourceAccount': '123456789012' },
          ArnLike: { 'aws:SourceArn': `arn:aws:kafkaconnect:us-east-1:123456789012:connector/${connector.connectorName}/*` },
        },
      }] },
    });
  });

  test('least privilege: named cluster/topic/group ARNs, the one secret, the one plugin object, nothing on *', () => {
    const { t, cluster } = build();
    const policies = t().findResources('AWS::IAM::Policy', { Properties: { Roles: [{ Ref: Match.stringLikeRegexp('^CdcServiceExecutionRole') }] } });
    expect(Object.keys(policies)).toHaveLength(1);
    const statements = (Object.values(policies)[0] as any).Properties.PolicyDocument.Statement;
    const flat = statements.map((s: any) => ({ actions: [s.Action].flat().sort(), resource: JSON.stringify(s.Resource) }));
    const has = (actions: string[], resourcePart: string) => expect(flat).toContainEqual({ actions: actions.sort(), resource: expect.stringContaining(resourcePart) });
    has(['kafka-cluster:Connect', 'kafka-cluster:DescribeCluster', 'kafka-cluster:WriteDataIdempotently'], 'KafkaDE2CE4FA');
    has(['kafka-cluster:DescribeTopic', 'kafka-cluster:WriteData'], `topic/${cluster.clusterName}/`);
    // Exactly the captured tables' topics, never the prefix pattern (a Flink output topic may share it).
    has(['kafka-cluster:DescribeTopic', 'kafka-cluster:WriteData'], '/shop.public.orders');
    expect(JSON.stringify(flat)).not.toContain('/shop.*');
    has(['kafka-cluster:CreateTopic', 'kafka-cluster:DescribeTopic'], '/shop.public.customers');
    has(['kafka-cluster:DescribeTopic', 'kafka-cluster:WriteData'], '/__debezium-heartbeat.shop');
    has(['kafka-cluster:CreateTopic', 'kafka-cluster:DescribeTopic', 'kafka-cluster:ReadData', 'kafka-cluster:WriteData'], '/__amazon_msk_connect_*');
    has(['kafka-cluster:CreateTopic', 'kafka-cluster:DescribeTopic', 'kafka-cluster:ReadData', 'kafka-cluster:WriteData'], '/__msk_connect_*');
    has(['kafka-cluster:AlterGroup', 'kafka-cluster:DescribeGroup'], 'group/');
    has(['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue'], 'ReplicationSecret');
    has(['s3:GetObject', 's3:GetObjectVersion'], 'debezium-plugins/');
    for (const s of statements) expect(s.Resource).not.toEqual('*');
    // PostgreSQL has no schema history, so no consumer-group read on topics.
    expect(flat.some((s: any) => s.resource.includes('__debezium-schema-history'))).toBe(false);
  });

  test('network: connector to brokers on 9098 and to the database on its port, HTTPS out for Secrets Manager, nothing else', () => {
    const { t } = build();
    const sg = { 'Fn::GetAtt': [Match.stringLikeRegexp('^CdcSecurityGroup'), 'GroupId'] };
    t().hasResourceProperties('AWS::EC2::SecurityGroupIngress', {
      IpProtocol: 'tcp', FromPort: 9098, ToPort: 9098, SourceSecurityGroupId: sg,
      GroupId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^KafkaSecurityGroup'), 'GroupId'] },
    });
    t().hasResourceProperties('AWS::EC2::SecurityGroupIngress', {
      IpProtocol: 'tcp', FromPort: 5432, ToPort: 5432, SourceSecurityGroupId: sg,
      GroupId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^DbSecurityGroup'), 'GroupId'] },
    });
    const groups = t().findResources('AWS::EC2::SecurityGroup', { Properties: { GroupDescription: Match.stringLikeRegexp('^Debezium connector') } });
    const egress = (Object.values(groups)[0] as any).Properties.SecurityGroupEgress;
    expect(egress).toHaveLength(1);
    expect(egress[0]).toMatchObject({ CidrIp: '0.0.0.0/0', FromPort: 443, IpProtocol: 'tcp', ToPort: 443 });
    t().hasResourceProperties('AWS::EC2::SecurityGroupEgress', { FromPort: 9098, ToPort: 9098, DestinationSecurityGroupId: Match.anyValue(), GroupId: sg });
    t().hasResourceProperties('AWS::EC2::SecurityGroupEgress', { FromPort: 5432, ToPort: 5432, DestinationSecurityGroupId: Match.anyValue(), GroupId: sg });
    expect(Object.keys(t().findResources('AWS::EC2::VPCEndpoint', { Properties: { VpcEndpointType: 'Interface' } })).length).toBe(0);
  });

  test('without NAT subnets, the connector uses isolated subnets and a Secrets Manager interface endpoint', () => {
    const app = testApp({ gate: true });
    const stack = testStack(app);
    // Without restrictDefaultSecurityGroup's custom resource: its aws-cdk-lib role would be this test's only finding.
    const vpc = new ec2.Vpc(stack, 'Isolated', {
      maxAzs: 3, natGateways: 0, subnetConfiguration: [{ name: 'iso', subnetType: ec2.SubnetType.PRIVATE_ISOLATED }], restrictDefaultSecurityGroup: false,
    });
    vpc.addFlowLog('FlowLog');
    const cluster = new AgentStreamingCluster(stack, 'Kafka', { vpc });
    const source = fakeSource(stack, vpc, 'postgres');
    const plugin = new DebeziumPlugin(stack, 'Plugin', { engine: 'postgres' });
    new DebeziumConnector(stack, 'Cdc', { cluster, source, plugin, topicPrefix: 'shop' });
    expect(formatFindings(gateFindings(app))).toBe('');
    const t = Template.fromStack(stack);
    t.hasResourceProperties('AWS::EC2::VPCEndpoint', { ServiceName: 'com.amazonaws.us-east-1.secretsmanager', VpcEndpointType: 'Interface', PrivateDnsEnabled: true });
    t.hasResourceProperties('AWS::EC2::SecurityGroupIngress', { FromPort: 443, ToPort: 443, SourceSecurityGroupId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^CdcSecurityGroup'), 'GroupId'] } });
  });

  test('grantReadChanges gives a consumer the table topics and its group only', () => {
    const { stack, connector, t } = build();
    const flink = new iam.Role(stack, 'Flink', { assumedBy: new iam.ServicePrincipal('kinesisanalytics.amazonaws.com') });
    connector.grantReadChanges(flink, 'flink-orders');
    const policy = Object.values(t().findResources('AWS::IAM::Policy', { Properties: { Roles: [{ Ref: Match.stringLikeRegexp('^Flink') }] } }))[0] as any;
    const statements = policy.Properties.PolicyDocument.Statement;
    expect(statements.map((st: any) => st.Action)).toEqual([
      ['kafka-cluster:Connect', 'kafka-cluster:DescribeCluster'],
      ['kafka-cluster:DescribeTopic', 'kafka-cluster:ReadData'],
      ['kafka-cluster:AlterGroup', 'kafka-cluster:DescribeGroup'],
    ]);
    expect(JSON.stringify(statements[1].Resource)).toMatch(/\/shop\.\*"\]\]\}$/);
    expect(JSON.stringify(statements[2].Resource)).toMatch(/\/flink-orders"\]\]\}$/);
  });

  test('ordering: the connector waits for the replication bootstrap, the plugin, its role policy and its topics', () => {
    const { t } = build();
    const connector = Object.values(t().findResources('AWS::KafkaConnect::Connector'))[0] as any;
    const deps: string[] = connector.DependsOn;
    expect(deps).toEqual(expect.arrayContaining(['ReplicationBootstrap']));
    expect(deps.some(d => /^Plugin[0-9A-F]{8}$/.test(d))).toBe(true);
    expect(deps.some(d => /^PluginArtifact/.test(d))).toBe(true);
    expect(deps.some(d => /^CdcServiceExecutionRoleDefaultPolicy/.test(d))).toBe(true);
    expect(deps.some(d => /^KafkaTopicshoppublicorders/.test(d))).toBe(true);
    expect(deps.some(d => /^KafkaTopicdebeziumheartbeatshop/.test(d))).toBe(true);
  });

  test('provisioned clusters get AWS::MSK::Topic resources for each table and the heartbeat, made by the cluster\'s addTopic', () => {
    const { t, connector, cluster } = build();
    expect(connector.tableTopics).toEqual(['shop.public.orders', 'shop.public.customers']);
    expect(connector.heartbeatTopic).toBe('__debezium-heartbeat.shop');
    expect(connector.topicPattern).toBe('shop.*');
    t().resourceCountIs('AWS::MSK::Topic', 3);
    // One way to make topics: the cluster's addTopic, ids named by topic (not list position).
    expect(connector.topics.map(topic => topic.node.path)).toEqual([
      'Test/Kafka/Topic-shop.public.orders', 'Test/Kafka/Topic-shop.public.customers', 'Test/Kafka/Topic-__debezium-heartbeat.shop',
    ].map(path => path.replace('Test', cluster.stack.node.id)));
    const clusterArn = { 'Fn::GetAtt': [Match.stringLikeRegexp('^Kafka'), 'Arn'] };
    t().hasResourceProperties('AWS::MSK::Topic', { ClusterArn: clusterArn, TopicName: 'shop.public.orders', PartitionCount: 3, ReplicationFactor: 3 });
    t().hasResourceProperties('AWS::MSK::Topic', { TopicName: 'shop.public.customers', PartitionCount: 3, ReplicationFactor: 3 });
    t().hasResourceProperties('AWS::MSK::Topic', { TopicName: '__debezium-heartbeat.shop', PartitionCount: 1, ReplicationFactor: 3 });
    for (const name of ['shop.public.orders', 'shop.public.customers', '__debezium-heartbeat.shop']) {
      expect(topicConfigs(topicNamed(t(), name))).toEqual({ 'cleanup.policy': 'delete', 'retention.ms': '604800000' });
    }
  });

  test('topic settings, snapshot mode, heartbeat, converters, decimals, tombstones, producer tuning and extra properties are configurable', () => {
    const { t } = build({ props: {
      topicPartitions: 6, topicRetention: Duration.days(3), snapshotMode: 'no_data', heartbeatInterval: Duration.seconds(30),
      schemasEnable: true, decimalHandlingMode: 'precise', tombstonesOnDelete: false, producerLinger: Duration.millis(20),
      producerCompression: 'zstd', maxBatchSize: 4096,
    } });
    t().hasResourceProperties('AWS::KafkaConnect::Connector', { ConnectorConfiguration: Match.objectLike({
      'topic.creation.default.partitions': '6', 'topic.creation.default.retention.ms': '259200000', 'snapshot.mode': 'no_data',
      'heartbeat.interval.ms': '30000', 'key.converter.schemas.enable': 'true', 'value.converter.schemas.enable': 'true',
      'decimal.handling.mode': 'precise', 'tombstones.on.delete': 'false', 'max.batch.size': '4096',
    }) });
    expect(workerLines(t())).toMatchObject({ 'producer.linger.ms': '20', 'producer.compression.type': 'zstd' });
    t().hasResourceProperties('AWS::MSK::Topic', { TopicName: 'shop.public.orders', PartitionCount: 6 });
    expect(topicConfigs(topicNamed(t(), 'shop.public.orders'))).toEqual({ 'cleanup.policy': 'delete', 'retention.ms': '259200000' });
  });

  test('createTopics false leaves topic creation to Debezium', () => {
    build({ props: { createTopics: false } }).t().resourceCountIs('AWS::MSK::Topic', 0);
  });

  test('autoscaling is accepted for PostgreSQL but warns (the gate fails until the warning is acknowledged)', () => {
    const { t, connector } = build({ props: { capacity: ConnectorCapacity.autoScaling({ minWorkers: 1, maxWorkers: 2 }) } });
    expect(() => t()).toThrow(/Debezium PostgreSQL runs a single task/);
    Annotations.of(connector).acknowledgeWarning('cdk-agent-data-stack:debezium-autoscaling', 'test: autoscaling chosen on purpose');
    t().hasResourceProperties('AWS::KafkaConnect::Connector', { Capacity: { AutoScaling: {
      MinWorkerCount: 1, MaxWorkerCount: 2, McuCount: 1, ScaleInPolicy: { CpuUtilizationPercentage: 20 }, ScaleOutPolicy: { CpuUtilizationPercentage: 80 },
    } } });
  });

  test('a new plugin version gives a new plugin and connector name (plugins are immutable)', () => {
    const a = build();
    const app = testApp();
    const stack = testStack(app);
    const vpc = network(stack);
    const cluster = new AgentStreamingCluster(stack, 'Kafka', { vpc });
    const source = fakeSource(stack, vpc, 'postgres');
    const plugin = new DebeziumPlugin(stack, 'Plugin', { engine: 'postgres', version: (require('../../constructs/streaming').DebeziumVersion).of('3.0.7.Final') });
    const b = new DebeziumConnector(stack, 'Cdc', { cluster, source, plugin, topicPrefix: 'shop' });
    expect(b.connectorName).not.toBe(a.connector.connectorName);
    expect(plugin.pluginName).not.toBe(a.plugin.pluginName);
    expect(b.connectorName.replace(/-[0-9a-f]{8}$/, '')).toBe(a.connector.connectorName.replace(/-[0-9a-f]{8}$/, ''));
  });

  /**
   * What CloudFormation replaces the connector for: its create-only properties (the AWS::KafkaConnect::Connector schema's
   * createOnlyProperties, as cfn-lint 1.x bundles it) and the resources they reference, which are replaced themselves when
   * their create-only properties change (the worker configuration's and the custom plugin's are all create-only).
   */
  const CONNECTOR_CREATE_ONLY = ['ConnectorDescription', 'KafkaCluster', 'KafkaClusterClientAuthentication', 'KafkaClusterEncryptionInTransit',
    'KafkaConnectVersion', 'LogDelivery', 'Plugins', 'ServiceExecutionRoleArn', 'WorkerConfiguration', 'NetworkType'];
  function replacementInputs(t: Template): { name: string; inputs: string } {
    const connector = Object.values(t.findResources('AWS::KafkaConnect::Connector'))[0] as any;
    const worker = Object.values(t.findResources('AWS::KafkaConnect::WorkerConfiguration'))[0] as any;
    const plugin = Object.values(t.findResources('AWS::KafkaConnect::CustomPlugin'))[0] as any;
    const createOnly = Object.fromEntries(CONNECTOR_CREATE_ONLY.map(k => [k, connector.Properties[k]]));
    return { name: connector.Properties.ConnectorName, inputs: JSON.stringify({ createOnly, worker: worker.Properties, plugin: plugin.Properties }) };
  }

  test.each<[string, (stack: any) => Partial<DebeziumConnectorProps>]>([
    ['producerLinger', () => ({ producerLinger: Duration.millis(20) })],
    ['producerCompression', () => ({ producerCompression: 'zstd' })],
    ['schemasEnable', () => ({ schemasEnable: true })],
    ['topicReplicationFactor (internal topics)', () => ({ topicReplicationFactor: 2 })],
    ['databaseTls: verifyServer (the documented upgrade from the default)', st => ({
      databaseTls: DatabaseTls.verifyServer({ bucket: s3.Bucket.fromBucketName(st, 'Trust', 'shop-trust'), key: 'rds/global-bundle.pem' }),
    })],
    ['topicPrefix (connector description)', () => ({ topicPrefix: 'shop2' })],
    ['vpcSubnets', () => ({ vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_ISOLATED } })],
  ])('a change that replaces the connector (%s) also renames it: CloudFormation cannot replace a custom-named resource under the same name', (_what, change) => {
    const before = replacementInputs(build().t());
    const app = testApp();
    const stack = testStack(app);
    const vpc = network(stack);
    const cluster = new AgentStreamingCluster(stack, 'Kafka', { vpc });
    const source = fakeSource(stack, vpc, 'postgres');
    const plugin = new DebeziumPlugin(stack, 'Plugin', { engine: 'postgres' });
    new DebeziumConnector(stack, 'Cdc', { cluster, source, plugin, topicPrefix: 'shop', ...change(stack) });
    const after = replacementInputs(Template.fromStack(stack));
    expect(after.inputs).not.toBe(before.inputs);
    expect(after.name).not.toBe(before.name);
  });

  test('a change CloudFormation updates in place (connector configuration, capacity) keeps the name, and so the offsets', () => {
    const before = replacementInputs(build().t());
    const after = replacementInputs(build({ props: { pollInterval: Duration.millis(250), capacity: ConnectorCapacity.provisioned({ workerCount: 2 }) } }).t());
    expect(after.inputs).toBe(before.inputs);
    expect(after.name).toBe(before.name);
    // Same inputs, same name, synth after synth.
    expect(replacementInputs(build().t()).name).toBe(before.name);
  });

  test('passes the validation gate', () => {
    const { app } = build({ gate: true });
    expect(formatFindings(gateFindings(app))).toBe('');
  });

  test('passes the Control Tower controls with the network, cluster and plugin in a stack of their own, without AgentDataStack: every log group acknowledges its retention and service-key encryption', () => {
    const { app } = build({ gate: [GatePack.CONTROL_TOWER] });
    expect(formatFindings(gateFindings(app))).toBe('');
  });
});

describe('DebeziumConnector internal topics agree with the cluster\'s brokers', () => {
  test('3 brokers: Kafka Connect\'s config, offset and status topics are replicated 3 times', () => {
    expect(workerLines(build().t())).toMatchObject({
      'config.storage.replication.factor': '3', 'offset.storage.replication.factor': '3', 'status.storage.replication.factor': '3',
    });
  });

  test('the 2-broker development shape: internal and CDC topics are replicated twice, so the workers can start', () => {
    const { t } = build({ maxAzs: 2 });
    expect(workerLines(t())).toMatchObject({
      'config.storage.replication.factor': '2', 'offset.storage.replication.factor': '2', 'status.storage.replication.factor': '2',
    });
    t().hasResourceProperties('AWS::MSK::Topic', { TopicName: 'shop.public.orders', ReplicationFactor: 2 });
    t().hasResourceProperties('AWS::KafkaConnect::Connector', { ConnectorConfiguration: Match.objectLike({ 'topic.creation.default.replication.factor': '2' }) });
  });

  test('fails when topicReplicationFactor exceeds the cluster\'s brokers, naming the fix', () => {
    expect(() => build({ maxAzs: 2, props: { topicReplicationFactor: 3 } }))
      .toThrow(/topicReplicationFactor 3 exceeds the 2 broker\(s\).*internal config\/offset\/status topics.*Leave topicReplicationFactor unset.*or set it to 2 or less/);
  });
});

describe('DebeziumConnector and the Kafka Connect runtime', () => {
  function withVersion(version: DebeziumVersion, kafkaConnectVersion?: KafkaConnectVersion) {
    const app = testApp();
    const stack = testStack(app);
    const vpc = network(stack);
    const cluster = new AgentStreamingCluster(stack, 'Kafka', { vpc });
    const source = fakeSource(stack, vpc, 'postgres');
    const plugin = new DebeziumPlugin(stack, 'Plugin', { engine: 'postgres', version });
    new DebeziumConnector(stack, 'Cdc', { cluster, source, plugin, topicPrefix: 'shop', kafkaConnectVersion });
    return Template.fromStack(stack);
  }

  test('Debezium 2.7.x deploys on Kafka Connect 2.7.1 (Java 11) and on the default 3.7.x', () => {
    withVersion(DebeziumVersion.V2_7_4, KafkaConnectVersion.V2_7_1).hasResourceProperties('AWS::KafkaConnect::Connector', { KafkaConnectVersion: '2.7.1' });
    withVersion(DebeziumVersion.V2_7_4).hasResourceProperties('AWS::KafkaConnect::Connector', { KafkaConnectVersion: '3.7.x' });
    withVersion(DebeziumVersion.V2_7_4).hasResourceProperties('AWS::KafkaConnect::CustomPlugin', { Description: Match.stringLikeRegexp('2\\.7\\.4\\.Final') });
  });

  test('fails when Debezium 3.x is put on Kafka Connect 2.7.1 (Java 11), naming the fix', () => {
    expect(() => withVersion(DebeziumVersion.V3_1_2, KafkaConnectVersion.V2_7_1))
      .toThrow(/Debezium 3.1.2.Final needs Java 17, but kafkaConnectVersion 2.7.1 runs Java 11.*use KafkaConnectVersion.V3_7_X, or DebeziumVersion.V2_7_4/);
  });
});

describe('DebeziumConnector database TLS', () => {
  function withTls(engine: CdcEngine, tls: (stack: any) => DatabaseTls, maxAzs = 3) {
    const app = testApp();
    const stack = testStack(app);
    const vpc = network(stack, maxAzs);
    const cluster = new AgentStreamingCluster(stack, 'Kafka', { vpc });
    const source = fakeSource(stack, vpc, engine);
    const plugin = new DebeziumPlugin(stack, 'Plugin', { engine });
    const connector = new DebeziumConnector(stack, 'Cdc', { cluster, source, plugin, topicPrefix: 'shop', databaseTls: tls(stack) });
    return { stack, connector, t: Template.fromStack(stack) };
  }
  const trustBucket = (stack: any) => s3.Bucket.fromBucketName(stack, 'Trust', 'shop-trust');

  test('default: encrypted but unverified, and says so (info, not a gate-failing warning)', () => {
    const { connector, t } = build();
    expect(connector.connectorConfiguration['database.sslmode']).toBe('require');
    expect(connector.connectorConfiguration['database.sslrootcert']).toBeUndefined();
    expect(workerLines(t())['config.providers']).toBe('secretsmanager');
  });

  test('PostgreSQL verifyServer: sslmode=verify-full against the PEM bundle the S3 import provider copies to the worker', () => {
    const { connector, t, stack } = withTls('postgres', st => DatabaseTls.verifyServer({ bucket: trustBucket(st), key: 'rds/global-bundle.pem' }));
    expect(stack.resolve(connector.connectorConfiguration['database.sslmode'])).toBe('verify-full');
    expect(stack.resolve(connector.connectorConfiguration['database.sslrootcert'])).toBe('${s3import:us-east-1:shop-trust/rds/global-bundle.pem}');
    expect(workerLines(t)).toMatchObject({
      'config.providers': 'secretsmanager,s3import',
      'config.providers.s3import.class': 'com.amazonaws.kafka.config.providers.S3ImportConfigProvider',
      'config.providers.s3import.param.region': 'us-east-1',
    });
    const policy = JSON.stringify(t.findResources('AWS::IAM::Policy', { Properties: { Roles: [{ Ref: Match.stringLikeRegexp('^CdcServiceExecutionRole') }] } }));
    expect(policy).toContain('"Action":"s3:GetObject"');
    expect(policy).toContain(':s3:::shop-trust/rds/global-bundle.pem');
  });

  test('MySQL verifyServer: ssl.mode=verify_identity with the truststore from S3 and its password from Secrets Manager', () => {
    const { connector, stack } = withTls('mysql', st => DatabaseTls.verifyServer({
      bucket: trustBucket(st), key: 'rds/rds-truststore.p12',
      truststorePassword: secretsmanager.Secret.fromSecretCompleteArn(st, 'TrustPw', 'arn:aws:secretsmanager:us-east-1:123456789012:secret:trust-AbCdEf'),
    }));
    const config = stack.resolve(connector.connectorConfiguration);
    expect(config).toMatchObject({
      'database.ssl.mode': 'verify_identity',
      'database.ssl.truststore': '${s3import:us-east-1:shop-trust/rds/rds-truststore.p12}',
      'database.ssl.truststore.password': '${secretsmanager:arn%3Aaws%3Asecretsmanager%3Aus-east-1%3A123456789012%3Asecret%3Atrust-AbCdEf:password}',
    });
  });

  test('fails when MySQL verification has no truststore password, or the key cannot sit in a config-provider reference', () => {
    expect(() => withTls('mysql', st => DatabaseTls.verifyServer({ bucket: trustBucket(st), key: 'rds/ca.pem' })))
      .toThrow(/verifyServer for MySQL needs truststorePassword/);
    expect(() => withTls('postgres', st => DatabaseTls.verifyServer({ bucket: trustBucket(st), key: 'ca:bundle.pem' })))
      .toThrow(/key 'ca:bundle.pem' cannot be used in a config-provider reference/);
  });
});

describe('DebeziumConnector (MySQL)', () => {
  test('the full connector property map, with IAM settings repeated for the schema-history clients', () => {
    const { t, connector } = build({ engine: 'mysql' });
    const serverId = connector.connectorConfiguration['database.server.id'];
    expect(Number(serverId)).toBeGreaterThanOrEqual(5_400_000);
    expect(Number(serverId)).toBeLessThan(5_500_000);
    t().hasResourceProperties('AWS::KafkaConnect::Connector', {
      ConnectorConfiguration: Match.objectEquals({
        ...COMMON,
        'connector.class': 'io.debezium.connector.mysql.MySqlConnector',
        'database.port': '3306',
        'database.server.id': serverId,
        'database.ssl.mode': 'required',
        'database.include.list': 'shop',
        'table.include.list': 'shop.orders,shop.customers',
        'include.schema.changes': 'false',
        'schema.history.internal.kafka.bootstrap.servers': BOOTSTRAP,
        'schema.history.internal.kafka.topic': '__debezium-schema-history.shop',
        'schema.history.internal.store.only.captured.tables.ddl': 'true',
        ...IAM_CLIENT('schema.history.internal.producer.'),
        ...IAM_CLIENT('schema.history.internal.consumer.'),
        'schema.history.internal.consumer.group.id': '__debezium-schema-history.shop',
      }),
    });
  });

  test('the server id is stable across syntheses and can be set', () => {
    expect(build({ engine: 'mysql' }).connector.connectorConfiguration['database.server.id'])
      .toBe(build({ engine: 'mysql' }).connector.connectorConfiguration['database.server.id']);
    expect(build({ engine: 'mysql', props: { mysqlServerId: 184054 } }).connector.connectorConfiguration['database.server.id']).toBe('184054');
  });

  test('the schema-history topic is single-partition with infinite retention, and the role may read it as its group', () => {
    const { t } = build({ engine: 'mysql' });
    t().hasResourceProperties('AWS::MSK::Topic', { TopicName: '__debezium-schema-history.shop', PartitionCount: 1, ReplicationFactor: 3 });
    expect(topicConfigs(topicNamed(t(), '__debezium-schema-history.shop'))).toEqual({ 'cleanup.policy': 'delete', 'retention.ms': '-1', 'retention.bytes': '-1' });
    const policy = Object.values(t().findResources('AWS::IAM::Policy', { Properties: { Roles: [{ Ref: Match.stringLikeRegexp('^CdcServiceExecutionRole') }] } }))[0] as any;
    const statements = policy.Properties.PolicyDocument.Statement.map((st: any) => ({ actions: [st.Action].flat().join(','), resources: JSON.stringify(st.Resource) }));
    expect(statements).toContainEqual({ actions: 'kafka-cluster:DescribeTopic,kafka-cluster:ReadData', resources: expect.stringMatching(/topic\/.*\/__debezium-schema-history\.shop"/) });
    expect(statements).toContainEqual({ actions: 'kafka-cluster:AlterGroup,kafka-cluster:DescribeGroup', resources: expect.stringMatching(/group\/[^"]*\/",\{[^\]]*\]\}\]\}\]\},"\/__debezium-schema-history\.shop"/) });
  });

  test('MySQL uses port 3306 on the database security group', () => {
    build({ engine: 'mysql' }).t().hasResourceProperties('AWS::EC2::SecurityGroupIngress', {
      FromPort: 3306, ToPort: 3306, GroupId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^DbSecurityGroup'), 'GroupId'] },
    });
  });

  test('fails when MySQL is given autoscaling', () => {
    expect(() => build({ engine: 'mysql', props: { capacity: ConnectorCapacity.autoScaling({ minWorkers: 1, maxWorkers: 2 }) } }))
      .toThrow(/MySQL connector runs a single task; use capacity ConnectorCapacity.provisioned\(\{ workerCount: 1 \}\)/);
  });

  test('fails when MySQL is given more than one worker', () => {
    expect(() => build({ engine: 'mysql', props: { capacity: ConnectorCapacity.provisioned({ workerCount: 2 }) } })).toThrow(/single task/);
  });

  test('fails when a MySQL table is outside the captured database', () => {
    expect(() => build({ engine: 'mysql', source: { tables: ['other.orders'] } })).toThrow(/table 'other.orders' is outside database 'shop'/);
  });

  test('fails when the MySQL server id is out of range', () => {
    expect(() => build({ engine: 'mysql', props: { mysqlServerId: 0 } })).toThrow(/mysqlServerId 0 is invalid/);
  });

  test('passes the validation gate', () => {
    const { app } = build({ engine: 'mysql', gate: true });
    expect(formatFindings(gateFindings(app))).toBe('');
  });
});

describe('DebeziumConnector on MSK Serverless and on an existing cluster', () => {
  test('serverless: no AWS::MSK::Topic, Debezium topic.creation with replication 3', () => {
    const { t } = build({ serverless: true });
    t().resourceCountIs('AWS::MSK::Topic', 0);
    t().hasResourceProperties('AWS::KafkaConnect::Connector', { ConnectorConfiguration: Match.objectLike({ 'topic.creation.default.replication.factor': '3' }) });
  });

  test('fails when serverless is given a replication factor other than 3', () => {
    expect(() => build({ serverless: true, props: { topicReplicationFactor: 2 } })).toThrow(/topicReplicationFactor 2 is invalid.*Serverless requires 3/);
  });

  test('bring your own cluster: bootstrap string, security group rule and ARNs come from the attributes', () => {
    const app = testApp({ gate: true });
    const stack = testStack(app);
    const vpc = network(stack);
    const brokerSg = ec2.SecurityGroup.fromSecurityGroupId(stack, 'BrokerSg', 'sg-0123456789abcdef0');
    const cluster = AgentStreamingCluster.fromClusterAttributes(stack, 'Existing', {
      clusterArn: 'arn:aws:kafka:us-east-1:123456789012:cluster/existing-cdc/0b1c2d3e-aaaa-bbbb-cccc-1234567890ab-7',
      securityGroup: brokerSg, bootstrapBrokersSaslIam: 'b-1.existing:9098,b-2.existing:9098', vpc,
    });
    const source = fakeSource(stack, vpc, 'postgres');
    const plugin = new DebeziumPlugin(stack, 'Plugin', { engine: 'postgres' });
    new DebeziumConnector(stack, 'Cdc', { cluster, source, plugin, topicPrefix: 'shop' });
    const t = Template.fromStack(stack);
    t.resourceCountIs('AWS::MSK::Cluster', 0);
    t.hasResourceProperties('AWS::KafkaConnect::Connector', { KafkaCluster: { ApacheKafkaCluster: Match.objectLike({ BootstrapServers: 'b-1.existing:9098,b-2.existing:9098' }) } });
    t.hasResourceProperties('AWS::EC2::SecurityGroupIngress', { GroupId: 'sg-0123456789abcdef0', FromPort: 9098, ToPort: 9098 });
    t.hasResourceProperties('AWS::MSK::Topic', { ClusterArn: 'arn:aws:kafka:us-east-1:123456789012:cluster/existing-cdc/0b1c2d3e-aaaa-bbbb-cccc-1234567890ab-7', TopicName: 'shop.public.orders' });
    expect(JSON.stringify(t.findResources('AWS::IAM::Policy'))).toContain('topic/existing-cdc/0b1c2d3e-aaaa-bbbb-cccc-1234567890ab-7/shop.public.orders');
    expect(formatFindings(gateFindings(app))).toBe('');
  });

  test('a cluster and a database in another stack: the ingress rules are created in the connector\'s stack, with no dependency cycle', () => {
    const app = testApp();
    const base = testStack(app, 'Base');
    const vpc = network(base);
    const cluster = new AgentStreamingCluster(base, 'Kafka', { vpc });
    const source = fakeSource(base, vpc, 'postgres');
    const apps = testStack(app, 'Apps');
    new DebeziumConnector(apps, 'Cdc', { cluster, source, plugin: new DebeziumPlugin(apps, 'Plugin', { engine: 'postgres' }), topicPrefix: 'shop' });
    expect(() => app.synth()).not.toThrow();
    const connectorSg = { 'Fn::GetAtt': [Match.stringLikeRegexp('^CdcSecurityGroup'), 'GroupId'] };
    const t = Template.fromStack(apps);
    t.hasResourceProperties('AWS::EC2::SecurityGroupIngress', { FromPort: 9098, SourceSecurityGroupId: connectorSg });
    t.hasResourceProperties('AWS::EC2::SecurityGroupIngress', { FromPort: 5432, SourceSecurityGroupId: connectorSg });
    // Nothing in the cluster's stack refers to the connector's stack.
    expect(JSON.stringify(Template.fromStack(base).toJSON())).not.toContain('Apps');
  });
});

describe('DebeziumConnector validation', () => {
  test('fails when connectorName leaves its worker configuration name over MSK Connect\'s 128 characters', () => {
    // 111 + '-workers-<8 hex>' is 128, the longest name MSK Connect takes.
    const longest = build({ props: { connectorName: 'c'.repeat(111) } });
    const names = Object.values(longest.t().findResources('AWS::KafkaConnect::WorkerConfiguration')).map((r: any) => r.Properties.Name as string);
    expect(names.map(n => n.length)).toEqual([128]);
    expect(longest.connector.connectorName.length).toBe(120);
    expect(() => build({ props: { connectorName: 'c'.repeat(112) } }))
      .toThrow(/connectorName 'c{112}' is 112 characters; give 1-111\. .*'<connectorName>-workers-<8 hex>'.*at most 128 characters/);
    expect(() => build({ props: { connectorName: '' } })).toThrow(/connectorName '' is 0 characters; give 1-111/);
  });

  test('fails when topicPrefix has invalid characters', () => {
    expect(() => build({ props: { topicPrefix: 'shop/cdc' } })).toThrow(/topicPrefix 'shop\/cdc' is invalid; use letters, digits/);
    expect(() => build({ props: { topicPrefix: 'shop..cdc' } })).toThrow(/topicPrefix 'shop..cdc' is invalid/);
  });

  test('fails when pollInterval is not whole milliseconds from 1 ms to 60 s', () => {
    expect(() => build({ props: { pollInterval: Duration.millis(0) } })).toThrow(/pollInterval 0 millis is invalid; use whole milliseconds from Duration.millis\(1\) to Duration.seconds\(60\)/);
    expect(() => build({ props: { pollInterval: Duration.minutes(2) } })).toThrow(/pollInterval 2 minutes is invalid/);
    expect(() => build({ props: { pollInterval: Duration.millis(0.5) } })).toThrow(/pollInterval .* is invalid/);
  });

  test('fails when maxBatchSize is not below max.queue.size', () => {
    expect(() => build({ props: { maxBatchSize: 8192 } })).toThrow(/maxBatchSize 8192 is invalid; use a whole number from 1 to 8191 \(Debezium needs max.queue.size, default 8192, to be larger\)/);
    expect(() => build({ props: { maxBatchSize: 0 } })).toThrow(/maxBatchSize 0 is invalid/);
    expect(() => build({ props: { maxBatchSize: 4096, extraProperties: { 'max.queue.size': '4000' } } })).toThrow(/use a whole number from 1 to 3999 \(Debezium needs max.queue.size, 4000, to be larger\)/);
    expect(() => build({ props: { maxBatchSize: 4096, extraProperties: { 'max.queue.size': '16384' } } })).not.toThrow();
  });

  test('fails when the table list is empty', () => {
    expect(() => build({ source: { tables: [] } })).toThrow(/the source has no tables/);
  });

  test('fails when a PostgreSQL table is not schema-qualified', () => {
    expect(() => build({ source: { tables: ['orders'] } })).toThrow(/table 'orders' is not in PostgreSQL 'schema.table' form/);
  });

  test('fails when a table name has characters neither engine accepts', () => {
    expect(() => build({ engine: 'mysql', source: { tables: ['orders;drop'] } })).toThrow(/table 'orders;drop' is not in MySQL/);
  });

  test('fails when the plugin engine does not match the source engine', () => {
    const stack = testStack();
    const vpc = network(stack);
    const cluster = new AgentStreamingCluster(stack, 'Kafka', { vpc });
    const source = fakeSource(stack, vpc, 'postgres');
    const plugin = new DebeziumPlugin(stack, 'Plugin', { engine: 'mysql' });
    expect(() => new DebeziumConnector(stack, 'Cdc', { cluster, source, plugin, topicPrefix: 'shop' }))
      .toThrow(/plugin holds the Debezium mysql connector but the source engine is 'postgres'/);
  });

  test('fails when the source engine is unsupported', () => {
    expect(() => build({ source: { engine: 'oracle' as any } })).toThrow(/engine 'oracle' is not supported/);
  });

  test('fails when a PostgreSQL source lacks its publication or slot', () => {
    expect(() => build({ source: { publicationName: undefined } })).toThrow(/needs publicationName and slotName/);
  });

  test('fails when the snapshot mode is not a Debezium mode', () => {
    expect(() => build({ props: { snapshotMode: 'schema_only_recovery' } })).toThrow(/snapshotMode 'schema_only_recovery' is not a Debezium postgres snapshot mode/);
  });

  test('fails when max.queue.size in extraProperties is not above the default maxBatchSize', () => {
    expect(() => build({ props: { extraProperties: { 'max.queue.size': '100' } } }))
      .toThrow(/DebeziumConnector: extraProperties max.queue.size 100 is not larger than maxBatchSize 2048 \(the default\); Debezium needs max.queue.size > max.batch.size: raise max.queue.size above 2048 or set maxBatchSize below 100/);
    expect(() => build({ props: { extraProperties: { 'max.queue.size': '2048' } } })).toThrow(/max.queue.size 2048 is not larger than maxBatchSize 2048/);
    expect(() => build({ props: { extraProperties: { 'max.queue.size': '2049' } } })).not.toThrow();
  });

  test('fails when max.queue.size in extraProperties is not a whole number of 2 or more', () => {
    for (const queue of ['0', '1', '-5', '4096.5', 'big', '', '1e4']) {
      expect(() => build({ props: { extraProperties: { 'max.queue.size': queue } } }))
        .toThrow(new RegExp(`DebeziumConnector: extraProperties max.queue.size '${queue.replace('.', '\\.')}' is invalid; use a whole number from 2 to 2147483647 above maxBatchSize`));
    }
    expect(() => build({ props: { maxBatchSize: 1, extraProperties: { 'max.queue.size': '2' } } })).not.toThrow();
  });

  test('fails when extraProperties sets a key a typed prop writes, naming the prop', () => {
    const cases: [string, string][] = [
      ['max.batch.size', 'maxBatchSize'], ['poll.interval.ms', 'pollInterval'], ['topic.prefix', 'topicPrefix'], ['snapshot.mode', 'snapshotMode'],
      ['heartbeat.interval.ms', 'heartbeatInterval'], ['key.converter.schemas.enable', 'schemasEnable'], ['value.converter.schemas.enable', 'schemasEnable'],
      ['decimal.handling.mode', 'decimalHandlingMode'], ['tombstones.on.delete', 'tombstonesOnDelete'], ['topic.creation.default.partitions', 'topicPartitions'],
      ['topic.creation.default.replication.factor', 'topicReplicationFactor'], ['topic.creation.default.retention.ms', 'topicRetention'],
      ['database.sslmode', 'databaseTls'],
    ];
    for (const [key, prop] of cases) {
      expect(() => build({ props: { extraProperties: { [key]: '1' } } }))
        .toThrow(new RegExp(`DebeziumConnector: extraProperties sets ${key.replace(/\./g, '\\.')}, which the typed prop ${prop} writes \\(extraProperties would override it silently\\); set ${prop} instead`));
    }
    expect(() => build({ engine: 'mysql', props: { extraProperties: { 'database.server.id': '7' } } })).toThrow(/sets database\.server\.id, which the typed prop mysqlServerId writes/);
    expect(() => build({ engine: 'mysql', props: { extraProperties: { 'database.ssl.mode': 'disabled' } } })).toThrow(/sets database\.ssl\.mode, which the typed prop databaseTls writes/);
    // Keys a typed prop writes only for the other engine, or only with certificate verification, stay open.
    expect(() => build({ props: { extraProperties: { 'database.server.id': '7', 'database.sslrootcert': '/tmp/ca.pem' } } })).not.toThrow();
    // A key named like an Object.prototype member is not mistaken for a typed prop's key.
    expect(() => build({ props: { extraProperties: { constructor: 'x', toString: 'y' } } })).not.toThrow();
  });

  test('fails when extraProperties sets a key the connector derives from the source or the cluster, naming where it comes from', () => {
    expect(() => build({ props: { extraProperties: { 'table.include.list': 'public.orders' } } })).toThrow(
      'DebeziumConnector: extraProperties sets table.include.list, which the connector derives from the source\'s tables (extraProperties would override it silently, '
      + 'and the stack declares and grants one topic per source table and signals their snapshots); change the source\'s tables instead.');
    expect(() => build({ props: { extraProperties: { 'slot.name': 'other' } } })).toThrow(/sets slot\.name, which the connector derives from the source's slotName .*; change the source's slotName instead\.$/);
    expect(() => build({ engine: 'mysql', props: { extraProperties: { 'schema.history.internal.kafka.bootstrap.servers': 'b-1:9098' } } })).toThrow(
      /sets schema\.history\.internal\.kafka\.bootstrap\.servers, which the connector derives from the cluster's bootstrapBrokersSaslIam .*; change the connector's cluster instead\.$/);
    // Keys written only for the other engine stay open (MySQL has no replication slot; the PostgreSQL connector keeps no schema history).
    expect(() => build({ engine: 'mysql', props: { extraProperties: { 'slot.name': 'other' } } })).not.toThrow();
    expect(() => build({ props: { extraProperties: { 'schema.history.internal.kafka.bootstrap.servers': 'b-1:9098' } } })).not.toThrow();
  });

  test('fails when extraProperties tries to set the password', () => {
    expect(() => build({ props: { extraProperties: { 'database.password': 'hunter2' } } })).toThrow(/extraProperties sets database.password/);
  });

  test('fails when the heartbeat interval is below a second', () => {
    expect(() => build({ props: { heartbeatInterval: Duration.millis(100) } })).toThrow(/heartbeatInterval .* is below 1 second/);
  });

  test('fails when topicPartitions is not positive', () => {
    expect(() => build({ props: { topicPartitions: 0 } })).toThrow(/topicPartitions 0 is invalid/);
  });
});
