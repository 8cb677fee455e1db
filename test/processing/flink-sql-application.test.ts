// FlinkSqlApplication: the application resource, its package, role, network, injected Kafka options, lineage, metrics, defaults, validation and a clean gate.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { CfnParameter, Duration, Lazy, RemovalPolicy, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { AgentNetwork } from '../../constructs/common/agent-network';
import {
  DeliveryGuarantee, EXAMPLE_CUSTOMERS_TOPIC, EXAMPLE_ENRICHED_ORDERS_TOPIC, EXAMPLE_ORDER_ENRICHMENT_SQL, EXAMPLE_ORDERS_TOPIC,
  exampleOrderEnrichmentTables, FlinkJar, FlinkLogLevel, FlinkMetricsLevel, FlinkRuntime, FlinkSqlApplication, FlinkSqlApplicationProps, FlinkTable,
} from '../../constructs/processing';
import { GatePack } from '../../lib/validation-gate';
import { testApp, testStack } from '../helpers/app';
import { formatFindings, gateFindings } from '../helpers/gate';
import { StandInCluster } from './support';

const RUNNER = fs.readFileSync(path.join(__dirname, '..', '..', 'lambda', 'flink-sql-runner', 'main.py'), 'utf8');

function build(props: Partial<FlinkSqlApplicationProps> = {}, gate: boolean | GatePack[] = false, bundle = false) {
  const app = testApp({ gate, bundle });
  const stack = testStack(app);
  const vpc = new AgentNetwork(stack, 'Net').vpc;
  const cluster = new StandInCluster(stack, 'Cluster', vpc);
  const sqlProps = props.sql === undefined && props.sqlFile === undefined ? { sql: EXAMPLE_ORDER_ENRICHMENT_SQL } : {};
  const flink = new FlinkSqlApplication(stack, 'Orders', {
    cluster, applicationName: 'orders-enrichment', tables: exampleOrderEnrichmentTables(), ...sqlProps, ...props,
  });
  return { app, stack, cluster, flink, template: () => Template.fromStack(stack) };
}

function policyStatements(t: Template, roleLogicalIdPattern: RegExp): any[] {
  const policies = t.findResources('AWS::IAM::Policy');
  return Object.values(policies)
    .filter((p: any) => p.Properties.Roles.some((r: any) => roleLogicalIdPattern.test(r.Ref)))
    .flatMap((p: any) => p.Properties.PolicyDocument.Statement);
}

describe('the application resource', () => {
  test('runs the PyFlink runner on Flink 2.2 in streaming mode with checkpoints, snapshots and autoscaling on', () => {
    const { template } = build();
    template().hasResourceProperties('AWS::KinesisAnalyticsV2::Application', {
      ApplicationName: 'orders-enrichment',
      RuntimeEnvironment: 'FLINK-2_2',
      ApplicationMode: 'STREAMING',
      ServiceExecutionRole: { 'Fn::GetAtt': [Match.stringLikeRegexp('^OrdersRole'), 'Arn'] },
      ApplicationConfiguration: Match.objectLike({
        ApplicationCodeConfiguration: {
          CodeContentType: 'ZIPFILE',
          CodeContent: { S3ContentLocation: {
            BucketARN: { 'Fn::GetAtt': [Match.stringLikeRegexp('^OrdersArtifacts'), 'Arn'] },
            FileKey: Match.stringLikeRegexp('^flink/[0-9a-f]{64}\\.zip$'),
            ObjectVersion: { 'Fn::GetAtt': [Match.stringLikeRegexp('^OrdersPackage'), 'ObjectVersion'] },
          } },
        },
        ApplicationSnapshotConfiguration: { SnapshotsEnabled: true },
        FlinkApplicationConfiguration: {
          CheckpointConfiguration: { ConfigurationType: 'CUSTOM', CheckpointingEnabled: true, CheckpointInterval: 60000, MinPauseBetweenCheckpoints: 5000 },
          MonitoringConfiguration: { ConfigurationType: 'CUSTOM', LogLevel: 'INFO', MetricsLevel: 'APPLICATION' },
          ParallelismConfiguration: { ConfigurationType: 'CUSTOM', Parallelism: 1, ParallelismPerKPU: 1, AutoScalingEnabled: true },
        },
        EnvironmentProperties: { PropertyGroups: [
          { PropertyGroupId: 'kinesis.analytics.flink.run.options', PropertyMap: { python: 'main.py', jarfile: 'lib/pyflink-dependencies.jar' } },
          { PropertyGroupId: 'sql.runner', PropertyMap: { file: 'job.sql' } },
          { PropertyGroupId: 'sql.variables', PropertyMap: { 'kafka.bootstrap.servers': 'b-1.agent.kafka.us-east-1.amazonaws.com:9098,b-2.agent.kafka.us-east-1.amazonaws.com:9098' } },
        ] },
      }),
      RunConfiguration: {
        ApplicationRestoreConfiguration: { ApplicationRestoreType: 'RESTORE_FROM_LATEST_SNAPSHOT' },
        FlinkRunConfiguration: { AllowNonRestoredState: false },
      },
    });
  });

  test('by default the name is derived from the construct path and the package goes to a new versioned, access-logged bucket', () => {
    const app = testApp();
    const stack = testStack(app);
    const cluster = new StandInCluster(stack, 'Cluster', new AgentNetwork(stack, 'Net').vpc);
    const flink = new FlinkSqlApplication(stack, 'Orders', { cluster, sql: EXAMPLE_ORDER_ENRICHMENT_SQL, tables: exampleOrderEnrichmentTables() });
    expect(flink.applicationName).toMatch(/^TestStack-Orders-[0-9A-F]{8}$/);
    expect(flink.consumerGroups.orders).toBe(`flink.${flink.applicationName}.orders`);
    const t = Template.fromStack(stack);
    t.resourceCountIs('AWS::S3::Bucket', 2);
    t.hasResourceProperties('AWS::S3::Bucket', {
      VersioningConfiguration: { Status: 'Enabled' },
      LoggingConfiguration: Match.objectLike({ DestinationBucketName: { Ref: Match.stringLikeRegexp('^OrdersArtifactsAccessLogs') } }),
    });
  });

  test('is deleted with the stack by default, after its role policy exists', () => {
    const t = build().template();
    t.hasResource('AWS::KinesisAnalyticsV2::Application', {
      DeletionPolicy: 'Delete', DependsOn: Match.arrayWith([Match.stringLikeRegexp('^OrdersRoleDefaultPolicy')]),
    });
  });

  test('runs in the private subnets of the cluster VPC with its own security group', () => {
    const t = build().template();
    t.hasResourceProperties('AWS::KinesisAnalyticsV2::Application', {
      ApplicationConfiguration: Match.objectLike({ VpcConfigurations: [{
        SubnetIds: [{ Ref: Match.stringLikeRegexp('NetVpcprivateSubnet1') }, { Ref: Match.stringLikeRegexp('NetVpcprivateSubnet2') }],
        SecurityGroupIds: [{ 'Fn::GetAtt': [Match.stringLikeRegexp('^OrdersSecurityGroup'), 'GroupId'] }],
      }] }),
    });
  });

  test('the security group may only reach the brokers on the IAM port, and the brokers admit it', () => {
    const t = build().template();
    t.hasResourceProperties('AWS::EC2::SecurityGroup', {
      GroupDescription: 'Flink application orders-enrichment: egress to the Kafka brokers only',
      // Only CDK's no-traffic placeholder inline: without it EC2 would give the group its default allow-all egress.
      SecurityGroupEgress: [Match.objectLike({ CidrIp: '255.255.255.255/32', IpProtocol: 'icmp' })],
    });
    t.hasResourceProperties('AWS::EC2::SecurityGroupEgress', {
      GroupId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^OrdersSecurityGroup'), 'GroupId'] },
      IpProtocol: 'tcp', FromPort: 9098, ToPort: 9098,
      DestinationSecurityGroupId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^ClusterBrokers'), 'GroupId'] },
    });
    t.hasResourceProperties('AWS::EC2::SecurityGroupIngress', {
      GroupId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^ClusterBrokers'), 'GroupId'] },
      IpProtocol: 'tcp', FromPort: 9098, ToPort: 9098,
      SourceSecurityGroupId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^OrdersSecurityGroup'), 'GroupId'] },
    });
  });

  test('logs to its own log stream with one month retention', () => {
    const t = build().template();
    t.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 30 });
    t.resourceCountIs('AWS::Logs::LogStream', 1);
    t.hasResourceProperties('AWS::KinesisAnalyticsV2::ApplicationCloudWatchLoggingOption', {
      ApplicationName: { Ref: Match.stringLikeRegexp('^Orders') },
      CloudWatchLoggingOption: { LogStreamARN: { 'Fn::Join': ['', [
        'arn:aws:logs:us-east-1:123456789012:log-group:', { Ref: Match.stringLikeRegexp('^OrdersLogs') }, ':log-stream:', { Ref: Match.stringLikeRegexp('^OrdersLogStream') },
      ]] } },
    });
  });

  test('logging off: no log group, stream, logging option or log permissions', () => {
    const t = build({ logging: false }).template();
    t.resourceCountIs('AWS::KinesisAnalyticsV2::ApplicationCloudWatchLoggingOption', 0);
    t.resourceCountIs('AWS::Logs::LogStream', 0);
    const actions = policyStatements(t, /^OrdersRole/).flatMap(s => [s.Action].flat());
    expect(actions.filter(a => a.startsWith('logs:'))).toEqual([]);
  });

  test('explicit parallelism, checkpointing, monitoring and snapshot settings are applied', () => {
    const t = build({
      parallelism: 4, parallelismPerKpu: 2, autoScaling: false, checkpointInterval: Duration.seconds(10),
      minPauseBetweenCheckpoints: Duration.seconds(2), snapshots: false, runtime: FlinkRuntime.FLINK_1_20,
    }).template();
    t.hasResourceProperties('AWS::KinesisAnalyticsV2::Application', {
      RuntimeEnvironment: 'FLINK-1_20',
      ApplicationConfiguration: Match.objectLike({
        ApplicationSnapshotConfiguration: { SnapshotsEnabled: false },
        FlinkApplicationConfiguration: Match.objectLike({
          CheckpointConfiguration: Match.objectLike({ CheckpointInterval: 10000, MinPauseBetweenCheckpoints: 2000 }),
          ParallelismConfiguration: { ConfigurationType: 'CUSTOM', Parallelism: 4, ParallelismPerKPU: 2, AutoScalingEnabled: false },
        }),
        EnvironmentProperties: { PropertyGroups: Match.arrayWith([
          { PropertyGroupId: 'kinesis.analytics.flink.run.options', PropertyMap: { python: 'main.py', jarfile: 'lib/pyflink-dependencies.jar' } },
        ]) },
      }),
      RunConfiguration: Match.objectLike({ ApplicationRestoreConfiguration: { ApplicationRestoreType: 'SKIP_RESTORE_FROM_SNAPSHOT' } }),
    });
  });
});

describe('the package', () => {
  test('ships ONE JAR, merged at deploy time from the pinned Kafka connector, kafka-clients and aws-msk-iam-auth, each verified twice', () => {
    const { template, flink } = build();
    const maven = (g: string, a: string, v: string) => `https://repo1.maven.org/maven2/${g.replace(/\./g, '/')}/${a}/${v}/${a}-${v}.jar`;
    const sources = FlinkRuntime.FLINK_2_2.kafkaIamBundle!.map(pin => {
      const [coordinates, sha256] = pin.split(' ');
      const [g, a, v] = coordinates.split(':');
      return { url: maven(g, a, v), checksumUrl: `${maven(g, a, v)}.sha1`, sha256, extract: 'merge-jar', targetPath: 'lib/pyflink-dependencies.jar' };
    });
    template().hasResourceProperties('Custom::DeployTimeArtifact', {
      ObjectKey: Match.stringLikeRegexp('^flink/'),
      Sources: sources,
      Files: [{ path: 'main.py', content: RUNNER }, { path: 'job.sql', content: flink.packagedSql }],
    });
    // The unshaded connector (its factories serve 'kafka' and 'upsert-kafka'), one kafka-clients, the IAM library and its SDK.
    expect(sources.slice(0, 3).map(s => s.url.split('/').pop())).toEqual(['flink-connector-kafka-4.0.0-2.0.jar', 'kafka-clients-3.9.0.jar', 'aws-msk-iam-auth-2.2.0.jar']);
    expect(sources.map(s => s.url)).toEqual(expect.arrayContaining([maven('software.amazon.awssdk', 'sts', '2.26.8'), maven('software.amazon.awssdk', 'auth', '2.26.8')]));
    expect(sources.some(s => /flink-sql-connector-kafka/.test(s.url))).toBe(false);
    expect(new Set(sources.map(s => s.sha256)).size).toBe(sources.length);
    // The only Java dependency entry: jarfile, no pipeline.jars.
    template().hasResourceProperties('AWS::KinesisAnalyticsV2::Application', { ApplicationConfiguration: Match.objectLike({ EnvironmentProperties: { PropertyGroups: Match.arrayWith([
      { PropertyGroupId: 'kinesis.analytics.flink.run.options', PropertyMap: { python: 'main.py', jarfile: 'lib/pyflink-dependencies.jar' } },
      { PropertyGroupId: 'sql.runner', PropertyMap: { file: 'job.sql' } },
    ]) } }) });
  });

  test('FLINK_1_20 merges its own pinned bundle (connector 3.3.0-1.20, kafka-clients 3.4.0)', () => {
    const t = build({ runtime: FlinkRuntime.FLINK_1_20 }).template();
    const artifact = Object.values(t.findResources('Custom::DeployTimeArtifact')).find((r: any) => r.Properties.ObjectKey.startsWith('flink/')) as any;
    const names = artifact.Properties.Sources.map((s: any) => s.url.split('/').pop());
    expect(names.slice(0, 3)).toEqual(['flink-connector-kafka-3.3.0-1.20.jar', 'kafka-clients-3.4.0.jar', 'aws-msk-iam-auth-2.2.0.jar']);
    expect(artifact.Properties.Sources.every((s: any) => s.extract === 'merge-jar' && s.targetPath === 'lib/pyflink-dependencies.jar' && /^[0-9a-f]{64}$/.test(s.sha256))).toBe(true);
  });

  test('FlinkJar.merge and mergeFromMavenCentral validate their parts; a runtime without a pinned bundle needs dependencies', () => {
    expect(() => FlinkJar.merge('x.jar', [])).toThrow(/parts is empty/);
    const merged = FlinkJar.mergeFromMavenCentral('x.jar', [`a.b:c:1.0 ${'a'.repeat(64)}`]);
    expect(() => FlinkJar.merge('y.jar', [merged])).toThrow(/part 'x.jar' is itself merged/);
    expect(() => FlinkJar.mergeFromMavenCentral('x.jar', ['a.b:c:1.0'])).toThrow(/'a.b:c:1.0' is not 'groupId:artifactId:version sha256'/);
    expect(() => build({ runtime: FlinkRuntime.of('FLINK-2_3', '5.0.0-2.2') })).toThrow(/runtime FLINK-2_3 has no pinned Kafka\/IAM bundle and dependencies is not set; give dependencies/);
    const t = build({ runtime: FlinkRuntime.of('FLINK-2_3', '5.0.0-2.2', [`a.b:c:1.0 ${'c'.repeat(64)}`]) }).template();
    t.hasResourceProperties('Custom::DeployTimeArtifact', { Sources: [Match.objectLike({ sha256: 'c'.repeat(64), extract: 'merge-jar', targetPath: 'lib/pyflink-dependencies.jar' })] });
  });

  test('custom dependencies: the first is the jarfile, a pinned sha256 travels with it, the rest go to pipeline.jars', () => {
    const jdbc = FlinkJar.fromMavenCentral('org.apache.flink', 'flink-connector-jdbc', '3.2.0-1.19', { sha256: 'a'.repeat(64) });
    const t = build({ dependencies: [FlinkJar.fromUrl({ url: 'https://example.com/uber.jar', fileName: 'uber.jar', sha256: 'b'.repeat(64) }), jdbc], connectors: ['jdbc'] }).template();
    t.hasResourceProperties('Custom::DeployTimeArtifact', { Sources: [
      { url: 'https://example.com/uber.jar', sha256: 'b'.repeat(64), extract: 'none', targetPath: 'lib/uber.jar' },
      Match.objectLike({ sha256: 'a'.repeat(64), targetPath: 'lib/flink-connector-jdbc-3.2.0-1.19.jar' }),
    ] });
    t.hasResourceProperties('AWS::KinesisAnalyticsV2::Application', { ApplicationConfiguration: Match.objectLike({ EnvironmentProperties: { PropertyGroups: Match.arrayWith([
      { PropertyGroupId: 'kinesis.analytics.flink.run.options', PropertyMap: { python: 'main.py', jarfile: 'lib/uber.jar' } },
      { PropertyGroupId: 'sql.runner', PropertyMap: { file: 'job.sql', jars: 'lib/flink-connector-jdbc-3.2.0-1.19.jar' } },
    ]) } }) });
  });

  test('a given artifact bucket is used instead of a new one', () => {
    const app = testApp();
    const stack = testStack(app);
    const vpc = new AgentNetwork(stack, 'Net').vpc;
    const bucket = new (require('aws-cdk-lib/aws-s3').Bucket)(stack, 'Shared');
    new FlinkSqlApplication(stack, 'Orders', { cluster: new StandInCluster(stack, 'Cluster', vpc), sql: EXAMPLE_ORDER_ENRICHMENT_SQL, tables: exampleOrderEnrichmentTables(), artifactBucket: bucket });
    const t = Template.fromStack(stack);
    t.resourceCountIs('AWS::S3::Bucket', 1);
    t.hasResourceProperties('AWS::KinesisAnalyticsV2::Application', { ApplicationConfiguration: Match.objectLike({ ApplicationCodeConfiguration: Match.objectLike({
      CodeContent: { S3ContentLocation: Match.objectLike({ BucketARN: { 'Fn::GetAtt': [Match.stringLikeRegexp('^Shared'), 'Arn'] } }) },
    }) }) });
  });
});

describe('injected Kafka options', () => {
  test('every Kafka table gets the bootstrap placeholder and IAM SASL settings; sources a stable group, sinks at-least-once', () => {
    const { flink } = build();
    const byName = Object.fromEntries(flink.tables.map(t => [t.name, t.options]));
    const iam = {
      'properties.bootstrap.servers': '${kafka.bootstrap.servers}',
      'properties.security.protocol': 'SASL_SSL',
      'properties.sasl.mechanism': 'AWS_MSK_IAM',
      'properties.sasl.jaas.config': 'software.amazon.msk.auth.iam.IAMLoginModule required;',
      'properties.sasl.client.callback.handler.class': 'software.amazon.msk.auth.iam.IAMClientCallbackHandler',
    };
    expect(byName.orders).toEqual({
      'connector': 'kafka', 'topic': EXAMPLE_ORDERS_TOPIC, 'format': 'debezium-json', 'debezium-json.schema-include': 'false',
      'scan.startup.mode': 'earliest-offset', ...iam,
      'properties.group.id': 'flink.orders-enrichment.orders', 'properties.auto.offset.reset': 'earliest',
    });
    expect(byName.customers['properties.group.id']).toBe('flink.orders-enrichment.customers');
    expect(byName.orders_enriched).toEqual({
      'connector': 'upsert-kafka', 'topic': EXAMPLE_ENRICHED_ORDERS_TOPIC, 'key.format': 'json', 'value.format': 'json', ...iam,
      // ISO-8601 timestamps: what OpenSearch date fields and the sink read (Flink's JSON default is 'yyyy-MM-dd HH:mm:ss').
      'key.json.timestamp-format.standard': 'ISO-8601', 'value.json.timestamp-format.standard': 'ISO-8601',
      'sink.delivery-guarantee': 'at-least-once',
      // A key's changes merged for 20 ms: a join's DELETE then INSERT of one order is written as the INSERT alone.
      'sink.buffer-flush.max-rows': '1000', 'sink.buffer-flush.interval': '20 ms',
    });
    expect(flink.consumerGroups).toEqual({ orders: 'flink.orders-enrichment.orders', customers: 'flink.orders-enrichment.customers' });
  });

  test('the CDC source tables carry commit timestamp, source table and offset metadata columns', () => {
    const orders = build().flink.tables.find(t => t.name === 'orders')!;
    expect(orders.columns).toEqual(['id', 'customer_id', 'status', 'total', 'cdc_commit_ts', 'cdc_source_table', 'cdc_kafka_offset']);
    expect(orders.primaryKey).toEqual(['id']);
    const ddl = exampleOrderEnrichmentTables()[0].ddl;
    expect(ddl).toContain("`cdc_commit_ts` TIMESTAMP_LTZ(3) METADATA FROM 'value.source.timestamp' VIRTUAL");
    expect(ddl).toContain("`cdc_source_table` STRING METADATA FROM 'value.source.table' VIRTUAL");
    expect(ddl).toContain("`cdc_kafka_offset` BIGINT METADATA FROM 'offset' VIRTUAL");
  });

  test('CDC source helpers switch on duplicate-tolerant CDC processing, unless the SQL sets it', () => {
    expect(build().flink.packagedSql.startsWith("SET 'table.exec.source.cdc-events-duplicate' = 'true';\nCREATE TABLE `orders`")).toBe(true);
    const own = build({ sql: `SET 'table.exec.source.cdc-events-duplicate' = 'false';\n${EXAMPLE_ORDER_ENRICHMENT_SQL}` }).flink.packagedSql;
    expect(own.match(/cdc-events-duplicate/g)).toHaveLength(1);
    const plain = "CREATE TABLE s (id INT) WITH ('connector' = 'datagen');\nCREATE TABLE d (id INT) WITH ('connector' = 'print');\nINSERT INTO d SELECT id FROM s;";
    expect(build({ sql: plain, tables: [] }).flink.packagedSql).not.toMatch(/cdc-events-duplicate/);
  });

  test('a user\'s explicit option always wins', () => {
    const sql = `CREATE TABLE src (id BIGINT) WITH ('connector' = 'kafka', 'topic' = 'in', 'format' = 'json',
  'properties.group.id' = 'legacy-group', 'properties.bootstrap.servers' = 'other:9098', 'PROPERTIES.SECURITY.PROTOCOL' = 'SASL_SSL');
CREATE TABLE dst (id BIGINT) WITH ('connector' = 'kafka', 'topic' = 'out', 'format' = 'json', 'sink.delivery-guarantee' = 'exactly-once', 'sink.transactional-id-prefix' = 'tx');
INSERT INTO dst SELECT id FROM src;`;
    const { flink, template } = build({ sql, tables: [] });
    const src = flink.tables.find(t => t.name === 'src')!.options;
    expect(src['properties.group.id']).toBe('legacy-group');
    expect(src['properties.bootstrap.servers']).toBe('other:9098');
    expect(Object.keys(src).filter(k => k.toLowerCase() === 'properties.security.protocol')).toEqual(['PROPERTIES.SECURITY.PROTOCOL']);
    expect(flink.tables.find(t => t.name === 'dst')!.options['sink.delivery-guarantee']).toBe('exactly-once');
    // IAM follows the group actually used.
    const resources = policyStatements(template(), /^OrdersRole/).flatMap(s => [s.Resource].flat());
    expect(resources).toContain('arn:aws:kafka:us-east-1:123456789012:group/agent-cluster/1111-2222/legacy-group');
  });

  test('exactly-once sinks get a transactional id prefix and may use transactional ids with that prefix only', () => {
    const { flink, template } = build({ deliveryGuarantee: DeliveryGuarantee.EXACTLY_ONCE });
    expect(flink.tables.find(t => t.name === 'orders_enriched')!.options).toMatchObject({
      'sink.delivery-guarantee': 'exactly-once', 'sink.transactional-id-prefix': 'flink.orders-enrichment.orders_enriched',
    });
    const statement = policyStatements(template(), /^OrdersRole/).find(s => [s.Action].flat().includes('kafka-cluster:AlterTransactionalId'));
    expect(statement.Action).toEqual(['kafka-cluster:AlterTransactionalId', 'kafka-cluster:DescribeTransactionalId']);
    expect(JSON.stringify(statement.Resource)).toMatch(/transactional-id\/.*flink\.orders-enrichment\.orders_enriched\*/);
  });
});

describe('the role', () => {
  test('is assumed by the service for this application and account only', () => {
    build().template().hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: { Statement: [{
        Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { Service: 'kinesisanalytics.amazonaws.com' },
        Condition: {
          StringEquals: { 'aws:SourceAccount': '123456789012' },
          ArnEquals: { 'aws:SourceArn': 'arn:aws:kinesisanalytics:us-east-1:123456789012:application/orders-enrichment' },
        },
      }] },
    });
  });

  test('reads the source topics as its own groups, writes the sink topic, reads its package object, writes its log stream', () => {
    const statements = policyStatements(build().template(), /^OrdersRole/);
    const find = (action: string) => statements.filter(s => [s.Action].flat().includes(action));
    expect(find('kafka-cluster:ReadData').flatMap(s => [s.Resource].flat()).sort()).toEqual([
      `arn:aws:kafka:us-east-1:123456789012:topic/agent-cluster/1111-2222/${EXAMPLE_CUSTOMERS_TOPIC}`,
      `arn:aws:kafka:us-east-1:123456789012:topic/agent-cluster/1111-2222/${EXAMPLE_ORDERS_TOPIC}`,
    ]);
    expect(find('kafka-cluster:AlterGroup').flatMap(s => [s.Resource].flat()).sort()).toEqual([
      'arn:aws:kafka:us-east-1:123456789012:group/agent-cluster/1111-2222/flink.orders-enrichment.customers',
      'arn:aws:kafka:us-east-1:123456789012:group/agent-cluster/1111-2222/flink.orders-enrichment.orders',
    ]);
    expect(find('kafka-cluster:WriteData').flatMap(s => [s.Resource].flat())).toEqual([
      `arn:aws:kafka:us-east-1:123456789012:topic/agent-cluster/1111-2222/${EXAMPLE_ENRICHED_ORDERS_TOPIC}`,
    ]);
    expect(find('s3:GetObject')).toEqual([{
      Action: ['s3:GetObject', 's3:GetObjectVersion'], Effect: 'Allow',
      Resource: { 'Fn::Join': ['', [{ 'Fn::GetAtt': [expect.stringMatching(/^OrdersArtifacts/), 'Arn'] }, expect.stringMatching(/^\/flink\/[0-9a-f]{64}\.zip$/)]] },
    }]);
    expect(find('logs:PutLogEvents')[0].Resource['Fn::Join'][1]).toEqual(expect.arrayContaining([{ Ref: expect.stringMatching(/^OrdersLogStream/) }]));
    // No Kafka or S3 wildcard anywhere.
    for (const s of statements.filter(x => [x.Action].flat().some((a: string) => a.startsWith('kafka-cluster:') || a.startsWith('s3:')))) {
      expect(JSON.stringify(s.Resource)).not.toMatch(/\/\*"|"\*"/);
    }
  });

  test('the only wildcard statements are the ENI and DescribeLogGroups actions that have no resource-level permissions', () => {
    const wild = policyStatements(build().template(), /^OrdersRole/).filter(s => JSON.stringify(s.Resource).includes('*'));
    expect(wild.map(s => s.Resource)).toEqual(['*', 'arn:aws:logs:us-east-1:123456789012:log-group:*']);
    expect(wild[0].Action).toEqual(expect.arrayContaining(['ec2:CreateNetworkInterface', 'ec2:DescribeVpcs', 'ec2:DeleteNetworkInterface']));
  });
});

describe('start, restart and stop', () => {
  test('a custom resource starts the application after it and its logging option exist, waiting up to 20 minutes', () => {
    const t = build().template();
    t.hasResource('Custom::FlinkApplicationStarter', {
      Properties: Match.objectLike({
        ApplicationName: { Ref: Match.stringLikeRegexp('^Orders') },
        TimeoutSeconds: '1200', StopOnDelete: 'true', ConfigurationHash: Match.stringLikeRegexp('^[0-9a-f]{64}$'),
      }),
      DependsOn: Match.arrayWith([Match.stringLikeRegexp('^OrdersLogging'), Match.stringLikeRegexp('^OrdersA9')]),
    });
  });

  test('the start/stop functions may call the service on this application only', () => {
    const t = build().template();
    for (const fn of [/^CdkAgentDataStackFlinkStarterOnEventRole/, /^CdkAgentDataStackFlinkStarterIsCompleteRole/]) {
      const statement = policyStatements(t, fn).find(s => [s.Action].flat().includes('kinesisanalytics:StartApplication'));
      expect(statement.Action).toEqual([
        'kinesisanalytics:DescribeApplication', 'kinesisanalytics:DescribeApplicationOperation', 'kinesisanalytics:ListApplicationOperations',
        'kinesisanalytics:ListApplicationSnapshots', 'kinesisanalytics:StartApplication', 'kinesisanalytics:StopApplication',
      ]);
      expect(statement.Resource).toBe('arn:aws:kinesisanalytics:us-east-1:123456789012:application/orders-enrichment');
    }
  });

  test('one provider serves every application in the stack', () => {
    const { stack, cluster } = build();
    new FlinkSqlApplication(stack, 'Second', { cluster, sql: EXAMPLE_ORDER_ENRICHMENT_SQL, tables: exampleOrderEnrichmentTables() });
    const t = Template.fromStack(stack);
    t.resourceCountIs('Custom::FlinkApplicationStarter', 2);
    expect(Object.keys(t.findResources('AWS::Lambda::Function', { Properties: { Description: Match.stringLikeRegexp('Flink application starter') } }))).toHaveLength(2);
  });

  test('the deploy waits for a 3-minute soak without job restarts, reading the restart metric and the job\'s own log stream', () => {
    const t = build().template();
    t.hasResourceProperties('Custom::FlinkApplicationStarter', {
      SoakSeconds: '180', RestartsMetric: 'numRestarts', AllowNonRestoredState: 'false',
      LogGroupName: { Ref: Match.stringLikeRegexp('^OrdersLogs') }, LogStreamName: { Ref: Match.stringLikeRegexp('^OrdersLogStream') },
    });
    const statements = policyStatements(t, /^CdkAgentDataStackFlinkStarterIsCompleteRole/);
    expect(statements).toEqual(expect.arrayContaining([
      { Action: 'cloudwatch:GetMetricData', Effect: 'Allow', Resource: '*' },
      { Action: 'logs:FilterLogEvents', Effect: 'Allow', Resource: { 'Fn::GetAtt': [expect.stringMatching(/^OrdersLogs/), 'Arn'] } },
    ]));
    // Flink 1.x names the counter fullRestarts; without logging there is no stream to read.
    const old = build({ runtime: FlinkRuntime.FLINK_1_20, logging: false, soakPeriod: Duration.seconds(0) }).template();
    old.hasResourceProperties('Custom::FlinkApplicationStarter', { SoakSeconds: '0', RestartsMetric: 'fullRestarts', LogGroupName: Match.absent(), LogStreamName: Match.absent() });
  });

  test('every change that restarts the job through UpdateApplication changes the starter\'s properties, so the deploy soaks it', () => {
    const starterProps = (props: Partial<FlinkSqlApplicationProps> = {}) =>
      Object.values(build(props).template().findResources('Custom::FlinkApplicationStarter'))[0].Properties;
    const base = starterProps({ sqlVariables: { 'out.path': 's3://a/x' } });
    expect(starterProps({ sqlVariables: { 'out.path': 's3://a/x' } })).toEqual(base);
    for (const change of [
      { sqlVariables: { 'out.path': 's3://a/y' } },
      { sqlVariables: { 'out.path': 's3://a/x' }, checkpointInterval: Duration.seconds(30) },
      { sqlVariables: { 'out.path': 's3://a/x' }, minPauseBetweenCheckpoints: Duration.seconds(10) },
      { sqlVariables: { 'out.path': 's3://a/x' }, logLevel: FlinkLogLevel.WARN },
      { sqlVariables: { 'out.path': 's3://a/x' }, metricsLevel: FlinkMetricsLevel.OPERATOR },
    ]) {
      const changed = starterProps(change);
      expect(changed.Configuration).not.toEqual(base.Configuration);
      // Neither changes the package or the parallelism: only Configuration tells the starter the job was restarted.
      expect(changed.ConfigurationHash).toBe(base.ConfigurationHash);
    }
  });

  test('the starter\'s Configuration keeps tokens as CloudFormation expressions: the same on every synth, resolved (and changed) at deploy', () => {
    const tokenVariable = () => {
      const app = testApp();
      const stack = testStack(app);
      const cluster = new StandInCluster(stack, 'Cluster', new AgentNetwork(stack, 'Net').vpc);
      const bucket = new CfnParameter(stack, 'OutputBucket');
      new FlinkSqlApplication(stack, 'Orders', {
        cluster, applicationName: 'orders-enrichment', tables: exampleOrderEnrichmentTables(), sql: EXAMPLE_ORDER_ENRICHMENT_SQL,
        sqlVariables: { 'out.path': `s3://${bucket.valueAsString}/out` },
      });
      return JSON.stringify(Object.values(Template.fromStack(stack).findResources('Custom::FlinkApplicationStarter'))[0].Properties.Configuration);
    };
    const first = tokenVariable();
    expect(tokenVariable()).toBe(first);
    // CloudFormation resolves these on each deploy: a new bucket name or package version changes the value it compares.
    expect(first).toContain('{"Ref":"OutputBucket"}');
    expect(first).toMatch(/\{"Fn::GetAtt":\["OrdersPackage[0-9A-F]+","ObjectVersion"\]\}/);
  });

  test('allowNonRestoredState reaches both the application\'s run configuration (CloudFormation updates) and the starter', () => {
    const t = build({ allowNonRestoredState: true }).template();
    t.hasResourceProperties('AWS::KinesisAnalyticsV2::Application', { RunConfiguration: {
      ApplicationRestoreConfiguration: { ApplicationRestoreType: 'RESTORE_FROM_LATEST_SNAPSHOT' },
      FlinkRunConfiguration: { AllowNonRestoredState: true },
    } });
    t.hasResourceProperties('Custom::FlinkApplicationStarter', { AllowNonRestoredState: 'true' });
  });

  test('snapshots: false reaches the starter, so a stopped application is started without restoring an older snapshot', () => {
    build({ snapshots: false }).template().hasResourceProperties('Custom::FlinkApplicationStarter', { Snapshots: 'false' });
    build().template().hasResourceProperties('Custom::FlinkApplicationStarter', { Snapshots: Match.absent() });
  });

  test('fails when soakPeriod is over 15 minutes or any wait of the starter would outlast the provider (its own error must come first)', () => {
    expect(() => build({ soakPeriod: Duration.minutes(16) })).toThrow(/soakPeriod is 960 s; give at most 15 minutes/);
    // startTimeout + soak + the 5 minutes the starter waits for the restart metric must end by 28 minutes (the provider stops at 30).
    expect(() => build({ soakPeriod: Duration.minutes(10) })).toThrow(
      /startTimeout \(1200 s\) \+ soakPeriod \(600 s\) \+ the 300 s the starter then waits for the restart metric is 2100 s, past the 1680 s .* provider stops at 30 minutes .*Give startTimeout at most 780 s, or a shorter soakPeriod/);
    expect(() => build({ soakPeriod: Duration.minutes(10), startTimeout: Duration.minutes(15) })).toThrow(/is 1800 s, past the 1680 s/);
    expect(() => build({ soakPeriod: Duration.minutes(10), startTimeout: Duration.seconds(780) })).not.toThrow();
    // The default soak (3 minutes) counts too; without a soak there is no metric wait.
    expect(() => build({ startTimeout: Duration.minutes(25) })).toThrow(/startTimeout \(1500 s\) \+ soakPeriod \(180 s\) .* Give startTimeout at most 1200 s/);
    expect(() => build({ startTimeout: Duration.minutes(25), soakPeriod: Duration.seconds(0) })).not.toThrow();
    expect(() => build()).not.toThrow();
  });

  test('autoStart false leaves the application stopped; RETAIN keeps it running on delete', () => {
    build({ autoStart: false }).template().resourceCountIs('Custom::FlinkApplicationStarter', 0);
    const t = build({ removalPolicy: RemovalPolicy.RETAIN, startTimeout: Duration.minutes(5) }).template();
    t.hasResourceProperties('Custom::FlinkApplicationStarter', { StopOnDelete: 'false', TimeoutSeconds: '300' });
    t.hasResource('AWS::KinesisAnalyticsV2::Application', { DeletionPolicy: 'Retain' });
  });
});

describe('lineage and metrics', () => {
  test('lineage lists, per INSERT, the source tables and topics feeding the sink table and topic', () => {
    expect(build().flink.lineage).toEqual([{
      id: 'orders-enrichment#0',
      statement: 1,
      statementIndex: 0,
      sink: { table: 'orders_enriched', connector: 'upsert-kafka', topics: [EXAMPLE_ENRICHED_ORDERS_TOPIC] },
      sources: [
        { table: 'orders', connector: 'kafka', topics: [EXAMPLE_ORDERS_TOPIC] },
        { table: 'customers', connector: 'kafka', topics: [EXAMPLE_CUSTOMERS_TOPIC] },
      ],
    }]);
  });

  test('lineage declarations for the governance catalog cover Kafka-to-Kafka INSERTs, 0-based', () => {
    expect(build().flink.lineageDeclarations()).toEqual([{
      application: 'orders-enrichment', statementIndex: 0,
      sourceTopics: [EXAMPLE_ORDERS_TOPIC, EXAMPLE_CUSTOMERS_TOPIC], sourceTables: ['orders', 'customers'],
      sinkTopic: EXAMPLE_ENRICHED_ORDERS_TOPIC, sinkTable: 'orders_enriched',
    }]);
    const sql = `${EXAMPLE_ORDER_ENRICHMENT_SQL}CREATE TABLE audit (id BIGINT) WITH ('connector' = 'print');\nINSERT INTO audit SELECT id FROM orders;`;
    const flink = build({ sql }).flink;
    expect(flink.lineage.map(l => [l.statementIndex, l.sink.table])).toEqual([[0, 'orders_enriched'], [2, 'audit']]);
    expect(flink.lineageDeclarations().map(d => d.sinkTable)).toEqual(['orders_enriched']);
  });

  test('metrics use AWS/KinesisAnalytics with the Application dimension and the names of each Flink generation', () => {
    const v2 = build().flink;
    const v1 = build({ runtime: FlinkRuntime.FLINK_1_20 }).flink;
    const names = (f: FlinkSqlApplication) => [f.metricRestarts(), f.metricDowntime(), f.metricUptime(), f.metricFailedCheckpoints(), f.metricRecordsLag()]
      .map(m => [m.namespace, m.metricName, m.statistic, m.dimensions]);
    expect(names(v2)).toEqual([
      ['AWS/KinesisAnalytics', 'numRestarts', 'Maximum', { Application: 'orders-enrichment' }],
      ['AWS/KinesisAnalytics', 'restartingTime', 'Maximum', { Application: 'orders-enrichment' }],
      ['AWS/KinesisAnalytics', 'runningTime', 'Minimum', { Application: 'orders-enrichment' }],
      ['AWS/KinesisAnalytics', 'numberOfFailedCheckpoints', 'Maximum', { Application: 'orders-enrichment' }],
      ['AWS/KinesisAnalytics', 'records_lag_max', 'Maximum', { Application: 'orders-enrichment' }],
    ]);
    expect(names(v1).map(n => n[1])).toEqual(['fullRestarts', 'downtime', 'uptime', 'numberOfFailedCheckpoints', 'records_lag_max']);
    expect(v2.metricRestarts({ statistic: 'Sum', period: Duration.minutes(5) }).statistic).toBe('Sum');
  });

  // "This metric receives one sample per billing period (one hour) ... use MAX or AVG over a period of at least one (1) hour"
  // (https://docs.aws.amazon.com/managed-flink/latest/java/metrics-dimensions.html, KPUs).
  test('metricKpus reads the hourly KPUs sample: Maximum over 1 hour', () => {
    const m = build().flink.metricKpus();
    expect([m.namespace, m.metricName, m.statistic, m.period.toSeconds(), m.dimensions])
      .toEqual(['AWS/KinesisAnalytics', 'KPUs', 'Maximum', 3600, { Application: 'orders-enrichment' }]);
    expect(build().flink.metricKpus({ period: Duration.hours(6) }).period.toHours()).toBe(6);
  });

  test('checkpointInterval is the configured one (60 s by default): the consumer-lag alarms of its groups follow it', () => {
    expect(build().flink.checkpointInterval.toSeconds()).toBe(60);
    expect(build({ checkpointInterval: Duration.seconds(10) }).flink.checkpointInterval.toSeconds()).toBe(10);
  });

  test('FlinkRuntime.of names other runtimes; FLINK-2_x metrics follow the 2.x names', () => {
    const r = FlinkRuntime.of('FLINK-2_3', '4.1.0-2.1');
    expect([r.name, r.majorVersion, r.kafkaSqlConnector().props.fileName]).toEqual(['FLINK-2_3', 2, 'flink-sql-connector-kafka-4.1.0-2.1.jar']);
    expect(() => FlinkRuntime.of('flink 2.2', '4.0.0-2.0')).toThrow(/FLINK-<major>_<minor>/);
  });
});

describe('the SQL source', () => {
  test('a .sql file is read at synth', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'flink-sql-'));
    const file = path.join(dir, 'job.sql');
    fs.writeFileSync(file, EXAMPLE_ORDER_ENRICHMENT_SQL);
    expect(build({ sqlFile: file }).flink.lineage[0].sink.table).toBe('orders_enriched');
  });

  test('a syntax error in the example job fails synth with statement, line, column and the offending line', () => {
    const broken = EXAMPLE_ORDER_ENRICHMENT_SQL.replace('JOIN customers AS c ON', 'JOIN customers AS c OM');
    expect(() => build({ sql: broken })).toThrow([
      "FlinkSqlApplication 'TestStack/Orders' (sql): 1 syntax error:",
      "  statement 1, line 11, column 21: 'OM' is not valid at this position",
      '    JOIN customers AS c OM o.customer_id = c.id',
      '                        ^',
    ].join('\n'));
  });

  test('a syntax error in a .sql file names the file', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'flink-sql-'));
    const file = path.join(dir, 'broken.sql');
    fs.writeFileSync(file, EXAMPLE_ORDER_ENRICHMENT_SQL.replace('SELECT\n', 'SELEC\n'));
    expect(() => build({ sqlFile: file })).toThrow(`(${file}): 1 syntax error:\n  statement 1, line 3, column 1: 'SELEC' is not valid at this position`);
  });

  test('a semantic error fails synth too', () => {
    expect(() => build({ sql: EXAMPLE_ORDER_ENRICHMENT_SQL.replace('JOIN customers', 'JOIN customer') }))
      .toThrow(/statement 1, line 11, column 6: table 'customer' is not declared/);
  });
});

describe('validation', () => {
  test('fails when neither or both of sql and sqlFile are given', () => {
    const app = testApp();
    const stack = testStack(app);
    const cluster = new StandInCluster(stack, 'Cluster', new AgentNetwork(stack, 'Net').vpc);
    expect(() => new FlinkSqlApplication(stack, 'A', { cluster })).toThrow(/give exactly one of sql .* or sqlFile .*; got neither/);
    expect(() => new FlinkSqlApplication(stack, 'B', { cluster, sql: 'x', sqlFile: 'y.sql' })).toThrow(/got both/);
  });

  test('fails when sqlFile is missing or not a .sql file', () => {
    expect(() => build({ sqlFile: '/nonexistent/job.sql' })).toThrow(/sqlFile '\/nonexistent\/job.sql' does not exist/);
    expect(() => build({ sqlFile: 'job.txt' })).toThrow(/sqlFile is 'job.txt'; give a path ending in .sql/);
  });

  test('fails when parallelism or parallelismPerKpu is below 1', () => {
    expect(() => build({ parallelism: 0 })).toThrow(/parallelism is 0; give a whole number of at least 1/);
    expect(() => build({ parallelismPerKpu: 1.5 })).toThrow(/parallelismPerKpu is 1.5/);
  });

  test('fails on an invalid application name', () => {
    expect(() => build({ applicationName: 'orders enrichment' })).toThrow(/applicationName is 'orders enrichment'; use 1-128 characters/);
  });

  test('fails when checkpointInterval is under a second or startTimeout is out of range', () => {
    expect(() => build({ checkpointInterval: Duration.millis(500) })).toThrow(/checkpointInterval is 500 ms/);
    expect(() => build({ startTimeout: Duration.minutes(29) })).toThrow(/startTimeout is 1740 s; give between 1 and 25 minutes/);
  });

  test('fails when a sqlVariables value holds a backslash, naming the variable; a quote is escaped by the runner and passes', () => {
    expect(() => build({ sqlVariables: { 'out.path': 'C:\\out' } }))
      .toThrow(/sqlVariables 'out.path' is 'C:\\out'; a value with a backslash cannot be substituted into a '...' string .* Give the value without backslashes/);
    build({ sqlVariables: { 'out.path': "s3://b/o'brien" } }).template().hasResourceProperties('AWS::KinesisAnalyticsV2::Application', {
      ApplicationConfiguration: Match.objectLike({ EnvironmentProperties: { PropertyGroups: Match.arrayWith([
        { PropertyGroupId: 'sql.variables', PropertyMap: Match.objectLike({ 'out.path': "s3://b/o'brien" }) },
      ]) } }),
    });
  });

  test('fails when dependencies is empty', () => {
    expect(() => build({ dependencies: [] })).toThrow(/dependencies is empty/);
  });

  test('fails when two helper tables share a name', () => {
    const [orders] = exampleOrderEnrichmentTables();
    expect(() => build({ tables: [...exampleOrderEnrichmentTables(), orders] })).toThrow(/tables declares 'orders' twice/);
  });

  test('fails when a Kafka table has no topic', () => {
    const sql = "CREATE TABLE s (id INT) WITH ('connector' = 'kafka', 'format' = 'json');\nCREATE TABLE d (id INT) WITH ('connector' = 'print');\nINSERT INTO d SELECT id FROM s;";
    expect(() => build({ sql, tables: [] })).toThrow(/table\(s\) 's' use a Kafka connector without a 'topic' option/);
  });

  test('fails when the SQL is a token', () => {
    expect(() => build({ sql: Lazy.string({ produce: () => 'x' }) })).toThrow(/sql contains a token/);
  });

  test('fails on a bad FlinkJar file name and bad helper table shapes', () => {
    expect(() => FlinkJar.fromUrl({ url: 'https://x/y.jar', fileName: '../y.jar', sha256: 'a'.repeat(64) })).toThrow(/fileName is '..\/y.jar'/);
    expect(() => FlinkTable.debeziumSource({ name: 'o', topic: 't', columns: [{ name: 'id', type: 'INT' }], primaryKey: ['nope'] }))
      .toThrow(/primary key column 'nope' is not one of the columns \(id\)/);
    expect(() => FlinkTable.upsertKafkaSink({ name: 'o-x', topic: 't', columns: [{ name: 'id', type: 'INT' }], primaryKey: ['id'] }))
      .toThrow(/name 'o-x' is not a plain identifier/);
    expect(() => FlinkTable.debeziumSource({ name: 'o', topic: 't', columns: [{ name: 'cdc_commit_ts', type: 'INT' }], primaryKey: ['cdc_commit_ts'] }))
      .toThrow(/metadata column 'cdc_commit_ts' collides/);
    expect(() => FlinkTable.upsertKafkaSink({ name: 'o', topic: 'bad topic', columns: [{ name: 'id', type: 'INT' }], primaryKey: ['id'] }))
      .toThrow(/topic 'bad topic' is not a literal Kafka topic name/);
  });

  test('warns when a table reads a topic-pattern, because IAM then covers every topic (synth fails until acknowledged)', () => {
    const sql = "CREATE TABLE s (id INT) WITH ('connector' = 'kafka', 'topic-pattern' = 'orders\\..*', 'format' = 'json');\nCREATE TABLE d (id INT) WITH ('connector' = 'print');\nINSERT INTO d SELECT id FROM s;";
    const first = build({ sql, tables: [] });
    expect(() => Template.fromStack(first.stack)).toThrow(/table 's' reads a 'topic-pattern'.*every topic of the cluster/);
    const second = build({ sql, tables: [] });
    Validations.of(second.flink).acknowledge({ id: 'Annotation::cdk-agent-data-stack:flink-topic-pattern', reason: 'test: the cluster holds only this job\'s topics' });
    const resources = policyStatements(Template.fromStack(second.stack), /^OrdersRole/).filter(st => [st.Action].flat().includes('kafka-cluster:ReadData')).flatMap(st => [st.Resource].flat());
    expect(resources).toEqual(['arn:aws:kafka:us-east-1:123456789012:topic/agent-cluster/1111-2222/*']);
  });
});

describe('validation gate', () => {
  test('passes cdk-nag and CloudFormation validation with zero findings', () => {
    const { app } = build({}, true);
    expect(formatFindings(gateFindings(app))).toBe('');
  });

  test('passes cdk-nag with exactly-once sinks: the transactional id prefix pattern is acknowledged on the role', () => {
    const { app } = build({ deliveryGuarantee: DeliveryGuarantee.EXACTLY_ONCE }, true);
    expect(formatFindings(gateFindings(app))).toBe('');
  });

  test('passes the Control Tower controls in a stack of its own, without AgentDataStack: the application\'s and the deploy-time handlers\' log groups acknowledge their retention and service-key encryption', () => {
    const { app } = build({}, [GatePack.CONTROL_TOWER]);
    expect(formatFindings(gateFindings(app))).toBe('');
  });

  test('the start/stop handlers bundle with esbuild', () => {
    const { stack } = build({}, false, true);
    const fns = Template.fromStack(stack).findResources('AWS::Lambda::Function', { Properties: { Description: Match.stringLikeRegexp('Flink application starter') } });
    expect(Object.keys(fns)).toHaveLength(2);
    for (const fn of Object.values(fns)) expect((fn as any).Properties.Code.S3Key).toMatch(/^[0-9a-f]{64}\.zip$/);
  });

  test('a VPC without private-with-egress subnets uses the isolated ones', () => {
    const app = testApp();
    const stack = testStack(app);
    const vpc = new ec2.Vpc(stack, 'Isolated', { maxAzs: 2, natGateways: 0, subnetConfiguration: [{ name: 'iso', subnetType: ec2.SubnetType.PRIVATE_ISOLATED }] });
    new FlinkSqlApplication(stack, 'Orders', { cluster: new StandInCluster(stack, 'Cluster', vpc), sql: EXAMPLE_ORDER_ENRICHMENT_SQL, tables: exampleOrderEnrichmentTables() });
    Template.fromStack(stack).hasResourceProperties('AWS::KinesisAnalyticsV2::Application', {
      ApplicationConfiguration: Match.objectLike({ VpcConfigurations: [Match.objectLike({ SubnetIds: [{ Ref: Match.stringLikeRegexp('^IsolatedisoSubnet1') }, { Ref: Match.stringLikeRegexp('^IsolatedisoSubnet2') }] })] }),
    });
  });
});
