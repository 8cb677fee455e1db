// AgentDataStack: one declaration to the whole stack. Resources per profile, every cross-layer wire, bring-your-own modes, validation.
import { Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as rds from 'aws-cdk-lib/aws-rds';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { defineExampleApp } from '../../bin/example';
import { AgentStreamingCluster } from '../../constructs/streaming/cluster';
import { AgentCache } from '../../constructs/stores/agent-cache';
import { SourceEngine } from '../../constructs/source/engine';
import { ViewFieldType, ViewStore } from '../../constructs/stores/view';
import { EXAMPLE_ORDER_ENRICHMENT_SQL, EXAMPLE_TRANSFORM_NAME, exampleOrderEnrichmentTables } from '../../constructs/processing/example';
import { AgentDataPlatform, AgentDataStack, AgentDataStackProps, ViewSource } from '../../lib/agent-data-stack';
import { DeploymentProfile } from '../../lib/profiles';
import { TEST_ENV, testApp } from '../helpers/app';
import { exampleTemplate } from '../helpers/example-template';
import { formatFindings, gateFindings } from '../helpers/gate';
import { readViewsEnv } from '../../lambda/shared/views-env';

const CUSTOMERS_TOPIC = 'agentdata.public.customers';
const ORDERS_TOPIC = 'agentdata.public.orders';
const ENRICHED_TOPIC = 'agentdata.flink.orders_enriched';
const HEARTBEAT_TOPIC = '__debezium-heartbeat.agentdata';
const TICKETS_TOPIC = 'agentdata.public.support_tickets';

const KAFKA_ARN = 'arn:aws:kafka:us-east-1:123456789012:cluster/shared-kafka/0a1b2c3d-4e5f-6789-abcd-ef0123456789-1';
/** The example's template from the shared cache; its construct tree is built only for the tests that read `stack`. */
function example(profile: 'development' | 'production'): { stack: AgentDataStack; t: Template } {
  let stack: AgentDataStack | undefined;
  return {
    get stack() { return stack ??= defineExampleApp(testApp(), { profile }); },
    t: exampleTemplate(profile),
  };
}

/** The ingress rules that let `fromSg` reach `toSg` on `port`, whichever side declared them. */
function ingress(t: Template, toLogicalId: RegExp, fromLogicalId: RegExp, port: number | 'database'): unknown[] {
  const refOf = (v: any) => v?.['Fn::GetAtt']?.[0] ?? v?.Ref ?? '';
  const portMatches = (r: any) => port === 'database'
    // The database port is the instance's Endpoint.Port attribute (a token).
    ? JSON.stringify(r.Properties.FromPort).includes('Endpoint.Port')
    : r.Properties.FromPort <= port && r.Properties.ToPort >= port;
  return Object.values(t.findResources('AWS::EC2::SecurityGroupIngress')).filter((r: any) =>
    toLogicalId.test(refOf(r.Properties.GroupId)) && fromLogicalId.test(refOf(r.Properties.SourceSecurityGroupId)) && portMatches(r));
}

describe('the example declaration, both profiles', () => {
  test.each(['development', 'production'] as const)('%s: one of each layer\'s resources', (profile) => {
    const { t } = example(profile);
    t.resourceCountIs('AWS::RDS::DBInstance', 1);
    t.resourceCountIs('Custom::CdcReplicationBootstrap', 1);
    t.resourceCountIs('AWS::MSK::Cluster', 1);
    t.resourceCountIs('AWS::KafkaConnect::CustomPlugin', 1);
    t.resourceCountIs('AWS::KafkaConnect::Connector', 1);
    // The order-enrichment transform and the order_history warehouse writer.
    t.resourceCountIs('AWS::KinesisAnalyticsV2::Application', 2);
    t.resourceCountIs('AWS::Athena::WorkGroup', 1);
    t.resourceCountIs('AWS::ElastiCache::ServerlessCache', 1);
    t.resourceCountIs('AWS::OpenSearchService::Domain', 1);
    t.resourceCountIs('AWS::DynamoDB::GlobalTable', 1);
    t.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
    // Three CDC topics, the heartbeat topic and the Flink output topic, each declared once.
    t.resourceCountIs('AWS::MSK::Topic', 5);
    t.hasResourceProperties('AWS::MSK::Topic', { TopicName: ENRICHED_TOPIC });
  });

  test('development is small and disposable', () => {
    const { t } = example('development');
    t.hasResourceProperties('AWS::RDS::DBInstance', { MultiAZ: false, DeletionProtection: false, DBInstanceClass: 'db.t4g.micro' });
    t.hasResource('AWS::RDS::DBInstance', { DeletionPolicy: 'Delete' });
    t.hasResourceProperties('AWS::MSK::Cluster', {
      NumberOfBrokerNodes: 2, BrokerNodeGroupInfo: Match.objectLike({ InstanceType: 'kafka.t3.small' }),
    });
    t.hasResourceProperties('AWS::OpenSearchService::Domain', {
      ClusterConfig: Match.objectLike({ InstanceCount: 1, DedicatedMasterEnabled: false, ZoneAwarenessEnabled: false }),
    });
    t.resourceCountIs('AWS::EC2::NatGateway', 1);
    t.hasResourceProperties('AWS::KinesisAnalyticsV2::Application', {
      ApplicationConfiguration: Match.objectLike({
        FlinkApplicationConfiguration: Match.objectLike({ ParallelismConfiguration: Match.objectLike({ Parallelism: 1, AutoScalingEnabled: false }) }),
      }),
    });
  });

  test('production is multi-AZ, protected and retained', () => {
    const { t } = example('production');
    t.hasResourceProperties('AWS::RDS::DBInstance', { MultiAZ: true, DeletionProtection: true });
    t.hasResource('AWS::RDS::DBInstance', { DeletionPolicy: 'Retain' });
    t.hasResource('AWS::MSK::Cluster', { DeletionPolicy: 'Retain' });
    t.hasResourceProperties('AWS::MSK::Cluster', { NumberOfBrokerNodes: 3 });
    t.hasResourceProperties('AWS::OpenSearchService::Domain', {
      ClusterConfig: Match.objectLike({ InstanceCount: 3, DedicatedMasterEnabled: true, DedicatedMasterCount: 3, ZoneAwarenessEnabled: true }),
    });
    t.resourceCountIs('AWS::EC2::NatGateway', 3);
    t.hasResource('AWS::DynamoDB::GlobalTable', { DeletionPolicy: 'Retain' });
    t.hasResourceProperties('AWS::CloudWatch::Alarm', { AlarmActions: Match.arrayWith([{ Ref: Match.stringLikeRegexp('^ObservabilityAlarmTopic') }]) });
  });

  test('the stack defaults to the production profile', () => {
    const app = testApp();
    const stack = new AgentDataStack(app, 'Defaults', minimalProps());
    expect(stack.profile).toBe(DeploymentProfile.PRODUCTION);
  });
});

describe('derived from the one declaration', () => {
  test('the connector captures exactly the source tables, and the bootstrap gives full row images to the declared tables and the transform\'s', () => {
    const { t } = example('development');
    t.hasResourceProperties('AWS::KafkaConnect::Connector', {
      ConnectorConfiguration: Match.objectLike({ 'table.include.list': 'public.customers,public.orders,public.support_tickets', 'topic.prefix': 'agentdata' }),
    });
    t.hasResourceProperties('Custom::CdcReplicationBootstrap', {
      Tables: ['public.customers', 'public.orders', 'public.support_tickets'],
      // The example's fullRowImageTables (ticket bodies can be TOASTed), then the tables the Flink transform reads.
      FullRowImageTables: Match.arrayEquals(['public.support_tickets', 'public.orders', 'public.customers']),
    });
  });

  test('a declared fullRowImageTables table the transform also reads is listed once; without a declaration only the transform\'s are', () => {
    const build = (fullRowImageTables?: string[]) => {
      const app = testApp();
      const source = { ...minimalProps().source, tables: ['public.customers', 'public.orders'], ...(fullRowImageTables ? { fullRowImageTables } : {}) };
      const stack = new AgentDataStack(app, 'Full', {
        ...minimalProps(), source,
        transforms: [{ name: EXAMPLE_TRANSFORM_NAME, sql: EXAMPLE_ORDER_ENRICHMENT_SQL, tables: exampleOrderEnrichmentTables() }],
      });
      return stack.sources[0].source.fullRowImageTables;
    };
    expect(build(['public.customers'])).toEqual(['public.customers', 'public.orders']);
    expect(build()).toEqual(['public.orders', 'public.customers']);
  });

  test('each view\'s topic has one event source mapping on the cluster, plus the heartbeat topic', () => {
    const { t } = example('development');
    const mappings = Object.values(t.findResources('AWS::Lambda::EventSourceMapping')) as any[];
    expect(mappings.map(m => m.Properties.Topics[0]).sort()).toEqual([HEARTBEAT_TOPIC, ENRICHED_TOPIC, CUSTOMERS_TOPIC, TICKETS_TOPIC].sort());
    for (const m of mappings) {
      expect(JSON.stringify(m.Properties.EventSourceArn)).toMatch(/^\{"Fn::GetAtt":\["Kafka[0-9A-F]+","Arn"\]\}$/);
      expect(m.Properties.StartingPosition).toBe('TRIM_HORIZON');
      expect(m.Properties.AmazonManagedKafkaEventSourceConfig.ConsumerGroupId).toBe(`AgentDataStack.sink.${m.Properties.Topics[0]}`);
    }
  });

  test('the views the sink writes and the MCP server serves are the same, with derived topics and formats', () => {
    const { t } = example('development');
    const fns = Object.values(t.findResources('AWS::Lambda::Function')) as any[];
    const sink = fns.find(f => /sink/i.test(f.Properties.Description ?? ''));
    const mcp = fns.find(f => /^MCP server/.test(f.Properties.Description ?? ''));
    const sinkViews = readViewsEnv(sink.Properties.Environment.Variables.AGENT_VIEWS);
    const mcpViews = readViewsEnv(mcp.Properties.Environment.Variables.AGENT_VIEWS);
    // The MCP server serves the sink's views plus the warehouse view, which its own Flink writer fills.
    expect(mcpViews.filter((v: any) => v.store !== 'warehouse')).toEqual(sinkViews);
    expect(mcpViews.filter((v: any) => v.store === 'warehouse').map((v: any) => [v.name, v.topic, v.format, v.sourceTable]))
      .toEqual([['order_history', 'agentdata.public.orders', 'debezium', 'public.orders']]);
    expect(mcp.Properties.Environment.Variables.AGENT_WAREHOUSE_DATABASE).toMatch(/^agentdatastack_warehouse_/);
    expect(sinkViews.map((v: any) => [v.name, v.topic, v.format, v.sourceTable])).toEqual([
      ['customer', CUSTOMERS_TOPIC, 'debezium', 'public.customers'],
      ['orders', ENRICHED_TOPIC, 'upsert-kafka', 'orders_enriched'],
      ['tickets', TICKETS_TOPIC, 'debezium', 'public.support_tickets'],
    ]);
    // Both point at the same stores.
    for (const fn of [sink, mcp]) {
      expect(JSON.stringify(fn.Properties.Environment.Variables.AGENT_CACHE_ENDPOINT)).toMatch(/^\{"Fn::GetAtt":\["Cache[0-9A-F]+","Endpoint.Address"\]\}$/);
      expect(JSON.stringify(fn.Properties.Environment.Variables.AGENT_SEARCH_ENDPOINT)).toMatch(/Search.*DomainEndpoint/);
    }
    expect(JSON.stringify(mcp.Properties.Environment.Variables.AGENT_DECISION_TABLE)).toMatch(/^\{"Ref":"Decisions[A-Za-z0-9]+"\}$/);
    expect(JSON.stringify(mcp.Properties.Environment.Variables.AGENT_LINEAGE_CATALOG)).toMatch(/ssm:/);
  });

  test('security groups open exactly the pairs that talk', () => {
    const { t } = example('development');
    // Connector to database and to brokers; Flink to brokers; sink and MCP to cache and search.
    expect(ingress(t, /^SourceSecurityGroup/, /^CdcSecurityGroup/, 'database').length).toBeGreaterThan(0);
    expect(ingress(t, /^KafkaSecurityGroup/, /^CdcSecurityGroup/, 9098).length).toBeGreaterThan(0);
    expect(ingress(t, /^KafkaSecurityGroup/, /^TransformorderenrichmentSecurityGroup/, 9098).length).toBeGreaterThan(0);
    expect(ingress(t, /^CacheSecurityGroup/, /^SinkFunctionSecurityGroup/, 6379).length).toBeGreaterThan(0);
    expect(ingress(t, /^CacheSecurityGroup/, /^McpFunctionSecurityGroup/, 6379).length).toBeGreaterThan(0);
    expect(ingress(t, /^SearchSecurityGroup/, /^SinkFunctionSecurityGroup/, 443).length).toBeGreaterThan(0);
    expect(ingress(t, /^SearchSecurityGroup/, /^McpFunctionSecurityGroup/, 443).length).toBeGreaterThan(0);
    // Nothing reaches the database but the connector, the bootstrap and the admin secret's rotation function.
    const dbIngress = Object.values(t.findResources('AWS::EC2::SecurityGroupIngress')).filter((r: any) =>
      /^SourceSecurityGroup/.test(r.Properties.GroupId?.['Fn::GetAtt']?.[0] ?? ''));
    const sources = dbIngress.map((r: any) => r.Properties.SourceSecurityGroupId?.['Fn::GetAtt']?.[0] ?? r.Properties.CidrIp);
    expect(sources.length).toBe(3);
    for (const s of sources) expect(s).toMatch(/^(CdcSecurityGroup|SourceBootstrapProviderOnEvent|SourceRotationSingleUser)/);
    // No security group accepts traffic from anywhere.
    for (const sg of Object.values(t.findResources('AWS::EC2::SecurityGroup')) as any[]) {
      for (const rule of sg.Properties.SecurityGroupIngress ?? []) expect(rule.CidrIp).not.toBe('0.0.0.0/0');
    }
  });

  test('the sink reads only its own topics and groups, and the MCP role cannot touch Kafka', () => {
    const { t } = example('development');
    const statementsOf = (rolePattern: RegExp) => Object.values(t.findResources('AWS::IAM::Policy'))
      .filter((p: any) => p.Properties.Roles.some((r: any) => rolePattern.test(r.Ref)))
      .flatMap((p: any) => p.Properties.PolicyDocument.Statement);
    const sink = statementsOf(/^SinkFunctionRole/);
    const read = sink.filter((s: any) => [s.Action].flat().includes('kafka-cluster:ReadData'));
    const topics = JSON.stringify(read.map((s: any) => s.Resource));
    for (const topic of [CUSTOMERS_TOPIC, ENRICHED_TOPIC, TICKETS_TOPIC, HEARTBEAT_TOPIC]) expect(topics).toContain(`/${topic}`);
    expect(topics).not.toContain(`/${ORDERS_TOPIC}"`);
    expect(topics).not.toMatch(/\/\*"/);
    const mcp = statementsOf(/^McpFunctionRole/);
    expect(JSON.stringify(mcp)).not.toContain('kafka-cluster:');
  });

  test('deploy order: connector after the bootstrap and plugin; Flink after the connector and its output topic; mappings after topics and indexes', () => {
    const { t } = example('development');
    const resources = t.toJSON().Resources as Record<string, any>;
    const idOf = (type: string, filter: (r: any) => boolean = () => true) =>
      Object.entries(resources).find(([, r]) => r.Type === type && filter(r))![0];
    const deps = (id: string) => [resources[id].DependsOn ?? []].flat();
    const connector = idOf('AWS::KafkaConnect::Connector');
    expect(deps(connector)).toEqual(expect.arrayContaining([idOf('Custom::CdcReplicationBootstrap'), idOf('AWS::KafkaConnect::CustomPlugin')]));
    const flink = idOf('AWS::KinesisAnalyticsV2::Application');
    expect(deps(flink)).toEqual(expect.arrayContaining([connector, idOf('AWS::MSK::Topic', r => r.Properties.TopicName === ENRICHED_TOPIC)]));
    const index = Object.keys(resources).find(id => /^SearchIndexorders/.test(id))!;
    for (const [id, r] of Object.entries(resources)) {
      if (r.Type !== 'AWS::Lambda::EventSourceMapping') continue;
      expect(deps(id)).toEqual(expect.arrayContaining([index, idOf('AWS::MSK::Topic', x => x.Properties.TopicName === r.Properties.Topics[0])]));
    }
  });

  test('the tickets view is searchable by meaning: knn mapping, Bedrock for sink and MCP through the runtime endpoint, a similar tool', () => {
    const { stack, t } = example('development');
    expect(stack.mcp.toolNames).toContain('tickets_similar');
    const endpoints = Object.values(t.findResources('AWS::EC2::VPCEndpoint')) as any[];
    expect(endpoints.filter(e => JSON.stringify(e.Properties.ServiceName).includes('bedrock-runtime') && e.Properties.PrivateDnsEnabled)).toHaveLength(1);
    const bedrock = Object.values(t.findResources('AWS::IAM::Policy')).flatMap((p: any) =>
      p.Properties.PolicyDocument.Statement.filter((s: any) => [s.Action].flat().includes('bedrock:InvokeModel')).map((s: any) => [p.Properties.Roles[0].Ref, s.Resource]));
    const roles = new Set(bedrock.map(([role]) => String(role).replace(/[0-9A-F]{8}$/, '')));
    expect(roles).toEqual(new Set(['SinkFunctionRole', 'McpFunctionRole']));
    for (const [, resource] of bedrock) {
      expect(JSON.stringify(resource)).toContain('foundation-model/amazon.titan-embed-text-v2:0');
    }
    expect(ingress(t, /^SearchBedrockRuntime/, /^SinkFunctionSecurityGroup/, 443).length + ingress(t, /^SearchBedrockRuntime/, /^McpFunctionSecurityGroup/, 443).length)
      .toBe(2);
  });

  test('the dashboard watches consumer lag of the Flink groups and of every sink group but the heartbeat\'s', () => {
    const { stack } = example('development');
    const body = JSON.stringify(stack.resolve((stack.observability.dashboard.node.defaultChild as any).dashboardBody));
    const flinkGroups = Object.values(stack.transforms['order-enrichment'].consumerGroups);
    expect(flinkGroups.length).toBe(2);
    for (const group of ['AgentDataStack.sink.agentdata.public.customers', 'AgentDataStack.sink.agentdata.flink.orders_enriched', ...flinkGroups]) {
      expect(body).toContain(group);
    }
    expect(body).not.toContain(`AgentDataStack.sink.${HEARTBEAT_TOPIC}`);
  });

  test('outputs name the endpoint, dashboard, cluster, stores and lineage catalog', () => {
    const { t } = example('development');
    const outputs = Object.keys(t.toJSON().Outputs);
    expect(outputs).toEqual(expect.arrayContaining([
      'McpEndpointUrl', 'DashboardUrl', 'KafkaClusterArn', 'ConnectorArn', 'CacheArn', 'CacheEndpoint',
      'SearchDomainArn', 'SearchEndpoint', 'LineageCatalog', 'DecisionAuditTable', 'FlinkApplicationArnorderenrichment',
    ]));
  });

  test('the lineage catalog links each view to its source tables through the transform', () => {
    const { stack } = example('development');
    const orders = stack.lineage.catalog.views.find(v => v.view === 'orders')!;
    expect(orders.sourceTables.sort()).toEqual(['public.customers', 'public.orders']);
    expect(orders.pipeline.length).toBe(1);
    expect([...orders.tools].sort()).toEqual(['orders_aggregate', 'orders_search']);
    const customer = stack.lineage.catalog.views.find(v => v.view === 'customer')!;
    expect(customer.sourceTables).toEqual(['public.customers']);
    expect(customer.pipeline).toEqual([]);
  });
});

function minimalProps(overrides: Partial<AgentDataStackProps> = {}): AgentDataStackProps {
  return {
    env: TEST_ENV,
    source: { tables: ['public.customers'] },
    views: [{
      name: 'customer', description: 'Customers by id', from: ViewSource.table('public.customers'), store: ViewStore.CACHE, key: ['id'],
      fields: [{ name: 'id', type: ViewFieldType.INTEGER }, { name: 'name', type: ViewFieldType.STRING }],
    }],
    ...overrides,
  };
}

describe('bring your own', () => {
  function platformInExistingStack(gate = false) {
    const app = testApp({ gate });
    const stack = new Stack(app, 'Existing', { env: TEST_ENV });
    const imports = ((scope: Stack) => {
      const vpc = ec2.Vpc.fromVpcAttributes(scope, 'ImportedVpc', {
        vpcId: 'vpc-0123456789abcdef0', availabilityZones: ['us-east-1a', 'us-east-1b'],
        privateSubnetIds: ['subnet-0aaaaaaaaaaaaaaa1', 'subnet-0aaaaaaaaaaaaaaa2'], privateSubnetRouteTableIds: ['rtb-0aaaaaaaaaaaaaaa1', 'rtb-0aaaaaaaaaaaaaaa2'],
      });
      return {
        vpc,
        existingCluster: AgentStreamingCluster.fromClusterAttributes(scope, 'ImportedKafka', {
          clusterArn: KAFKA_ARN,
          securityGroup: ec2.SecurityGroup.fromSecurityGroupId(scope, 'KafkaSg', 'sg-0123456789abcdef1'),
          bootstrapBrokersSaslIam: 'b-1.shared.kafka.us-east-1.amazonaws.com:9098', vpc,
        }),
        existingCache: AgentCache.fromCacheAttributes(scope, 'ImportedCache', {
          cacheArn: 'arn:aws:elasticache:us-east-1:123456789012:serverlesscache:shared-cache', cacheName: 'shared-cache',
          endpointAddress: 'shared-cache.serverless.use1.cache.amazonaws.com', endpointPort: 6379, serverless: true,
          securityGroups: [ec2.SecurityGroup.fromSecurityGroupId(scope, 'CacheSg', 'sg-0123456789abcdef3')], userId: 'agent-app',
        }),
        source: {
          tables: ['public.customers'], databaseName: 'legacy',
          existingInstance: rds.DatabaseInstance.fromDatabaseInstanceAttributes(scope, 'Db', {
            instanceIdentifier: 'legacy', instanceEndpointAddress: 'legacy.abc.us-east-1.rds.amazonaws.com', port: 5432,
            securityGroups: [ec2.SecurityGroup.fromSecurityGroupId(scope, 'DbSg', 'sg-0123456789abcdef2')],
          }),
          existingAdminSecret: secretsmanager.Secret.fromSecretCompleteArn(scope, 'Admin', 'arn:aws:secretsmanager:us-east-1:123456789012:secret:legacy-AbCdEf'),
        },
      };
    })(stack);
    const { env: _env, ...declaration } = minimalProps({ profile: DeploymentProfile.DEVELOPMENT, ...imports });
    new AgentDataPlatform(stack, 'Data', declaration);
    return { app, stack };
  }

  test('in an existing stack: imported VPC, database, cluster and cache are used and nothing of their kind is created', () => {
    const { stack } = platformInExistingStack();
    const t = Template.fromStack(stack);
    for (const type of ['AWS::EC2::VPC', 'AWS::RDS::DBInstance', 'AWS::MSK::Cluster', 'AWS::ElastiCache::ServerlessCache', 'AWS::OpenSearchService::Domain']) {
      t.resourceCountIs(type, 0);
    }
    t.resourceCountIs('AWS::KafkaConnect::Connector', 1);
    // The imported cluster's topics are the connector's (provisioned: AWS::MSK::Topic); nothing else creates cluster resources.
    t.hasResourceProperties('AWS::Lambda::EventSourceMapping', { EventSourceArn: KAFKA_ARN });
    t.hasResourceProperties('Custom::CdcReplicationBootstrap', { Host: 'legacy.abc.us-east-1.rds.amazonaws.com' });
    t.hasResourceProperties('AWS::EC2::SecurityGroupIngress', { GroupId: 'sg-0123456789abcdef3', FromPort: 6379 });
    t.hasResourceProperties('AWS::EC2::SecurityGroupIngress', { GroupId: 'sg-0123456789abcdef2', FromPort: 5432 });
  });

  test('in an existing stack, the platform passes the validation gate', () => {
    const { app } = platformInExistingStack(true);
    expect(formatFindings(gateFindings(app))).toBe('');
  });

  test('in an environment-agnostic host stack (two AZs), the production profile fits the search domain to the VPC', () => {
    const app = testApp();
    const host = new Stack(app, 'Host');
    const { env: _env, ...declaration } = minimalProps({
      views: [{
        name: 'orders', description: 'Orders', from: ViewSource.table('public.customers'), store: ViewStore.SEARCH, key: ['id'],
        fields: [{ name: 'id', type: ViewFieldType.INTEGER }],
      }],
    });
    new AgentDataPlatform(host, 'Data', declaration);
    Template.fromStack(host).hasResourceProperties('AWS::OpenSearchService::Domain', {
      ClusterConfig: Match.objectLike({ InstanceCount: 2, ZoneAwarenessConfig: { AvailabilityZoneCount: 2 } }),
    });
  });

  test('in an existing stack: the sinks\' consumer groups are <stack>.<id>.sink.<topic>, made valid when the id is not', () => {
    const customersGroup = (id: string) => {
      const host = new Stack(testApp(), 'Host', { stackName: 'Host' });
      const { env: _env, ...declaration } = minimalProps();
      new AgentDataPlatform(host, id, declaration);
      return Object.values(Template.fromStack(host).findResources('AWS::Lambda::EventSourceMapping'))
        .filter((m: any) => m.Properties.Topics[0] === 'agentdata.public.customers')
        .map((m: any) => m.Properties.AmazonManagedKafkaEventSourceConfig.ConsumerGroupId as string);
    };
    // A valid prefix is kept as it always was (a new one replaces the mappings and starts new consumer groups).
    expect(customersGroup('Data')).toEqual(['Host.Data.sink.agentdata.public.customers']);
    // A construct id with a space, or a prefix over AgentSink's 150 characters: synth refused the derived prefix.
    for (const id of ['Agent Data', 'P'.repeat(150)]) {
      const [group] = customersGroup(id);
      const prefix = group.slice(0, -'.agentdata.public.customers'.length);
      expect(prefix).toMatch(/^[A-Za-z0-9._-]{1,150}$/);
      expect(prefix).toMatch(/-[0-9a-f]{8}\.sink$/);
      expect(group.length).toBeLessThanOrEqual(200);
    }
    expect(customersGroup('Agent Data')).toEqual([expect.stringMatching(/^Host\.Agent-Data-[0-9a-f]{8}\.sink\.agentdata\.public\.customers$/)]);
    expect(customersGroup('Agent Data')).not.toEqual(customersGroup('Agent-Data'));
  });

  test('an Aurora source in the development profile gets Aurora\'s smallest class', () => {
    const stack = new AgentDataStack(testApp(), 'Aurora', minimalProps({
      profile: DeploymentProfile.DEVELOPMENT, source: { tables: ['public.customers'], engine: SourceEngine.auroraPostgres() },
    }));
    Template.fromStack(stack).hasResourceProperties('AWS::RDS::DBInstance', { DBInstanceClass: 'db.t4g.medium' });
  });

  test('with no search view there is no search domain, and with no transform no Flink application', () => {
    const stack = new AgentDataStack(testApp(), 'Small', minimalProps({ profile: DeploymentProfile.DEVELOPMENT }));
    const t = Template.fromStack(stack);
    t.resourceCountIs('AWS::OpenSearchService::Domain', 0);
    t.resourceCountIs('AWS::KinesisAnalyticsV2::Application', 0);
    t.resourceCountIs('AWS::ElastiCache::ServerlessCache', 1);
  });
});

describe('validation', () => {
  const transformProps = (): Partial<AgentDataStackProps> => ({
    source: { tables: ['public.customers', 'public.orders'] },
    transforms: [{ name: 'order-enrichment', sql: EXAMPLE_ORDER_ENRICHMENT_SQL, tables: exampleOrderEnrichmentTables() }],
  });
  const cases: [string, Partial<AgentDataStackProps>, RegExp][] = [
    ['views is empty', { views: [] }, /views is empty/],
    ['a view reads a table that is not captured', {
      views: [{ ...minimalProps().views[0], from: ViewSource.table('public.accounts') }],
    }, /view 'customer' reads table 'public.accounts', which is not in source.tables \[public.customers\]/],
    ['a view reads an undeclared transform', {
      views: [{ ...minimalProps().views[0], from: ViewSource.transform('nope', 'x') }],
    }, /view 'customer' reads transform 'nope', which is not declared/],
    ['a transform name is not an identifier', { transforms: [{ name: 'bad name', sql: 'x' }] }, /transform name 'bad name' must start with a letter/],
    ['a transform is declared twice', {
      ...transformProps(), transforms: [...transformProps().transforms!, ...transformProps().transforms!],
    }, /transform 'order-enrichment' is declared twice/],
    ['a transform reads a topic no captured table produces', {
      ...transformProps(), source: { tables: ['public.customers'] },
    }, /transform 'order-enrichment' reads topic 'agentdata.public.orders' \(table orders\), which no captured table produces/],
    ['transforms run against a serverless cluster', {
      ...transformProps(), clusterOptions: { serverless: true },
    }, /transforms need a provisioned MSK cluster/],
    ['a view reads a transform table no INSERT writes', {
      ...transformProps(), views: [{ ...minimalProps().views[0], from: ViewSource.transform('order-enrichment', 'customers') }],
    }, /reads 'customers' of transform 'order-enrichment', which no INSERT of that transform writes/],
  ];
  test.each(cases)('fails when %s', (_, overrides, message) => {
    expect(() => new AgentDataStack(testApp(), 'Invalid', minimalProps(overrides))).toThrow(message);
  });
});

describe('snapshots (beside the assertions above)', () => {
  test.each(['development', 'production'] as const)('%s template', (profile) => {
    expect(example(profile).t.toJSON()).toMatchSnapshot();
  });
});
