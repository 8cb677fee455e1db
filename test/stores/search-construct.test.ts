// AgentSearch: domain security settings, logs, VPC placement, access policy and FGAC mapping of granted roles, view indexes, metrics, validation and the gate.
import * as path from 'path';
import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as opensearch from 'aws-cdk-lib/aws-opensearchservice';
import { AgentNetwork } from '../../constructs/common/agent-network';
import { AgentFunction } from '../../constructs/common/agent-function';
import { AgentSearch, AgentSearchProps } from '../../constructs/stores/agent-search';
import { AgentView, AgentViewProps, ViewFieldType, ViewStore } from '../../constructs/stores/view';
import { GatePack } from '../../lib/validation-gate';
import { testApp, testStack } from '../helpers/app';
import { formatFindings, gateFindings } from '../helpers/gate';

const NOOP = path.join(__dirname, '..', 'fixtures', 'noop-handler.ts');

const ORDERS_PROPS: AgentViewProps = {
  name: 'orders',
  description: 'Orders by customer',
  store: ViewStore.SEARCH,
  topic: 'cdc.public.orders',
  key: ['order_id'],
  sourceTable: 'public.orders',
  fields: [
    { name: 'order_id', type: ViewFieldType.INTEGER },
    { name: 'customer_id', type: ViewFieldType.KEYWORD },
    { name: 'note', type: ViewFieldType.TEXT },
    { name: 'status', type: ViewFieldType.STRING },
    { name: 'amount', type: ViewFieldType.NUMBER },
    { name: 'paid', type: ViewFieldType.BOOLEAN },
    { name: 'created_at', type: ViewFieldType.TIMESTAMP },
    { name: 'extra', type: ViewFieldType.JSON },
  ],
  search: { index: 'orders', timeField: 'created_at' },
};
export const ORDERS = new AgentView(ORDERS_PROPS);

function build(props: Partial<AgentSearchProps> = {}, gate: boolean | GatePack[] = false) {
  const app = testApp({ gate });
  const stack = testStack(app);
  const vpc = new AgentNetwork(stack, 'Net').vpc;
  const search = new AgentSearch(stack, 'Search', { vpc, ...props });
  search.addView(ORDERS);
  const sink = new AgentFunction(stack, 'Sink', { handlerName: 'noop', entry: NOOP, description: 'sink', vpc });
  const mcp = new AgentFunction(stack, 'Mcp', { handlerName: 'noop', entry: NOOP, description: 'mcp', vpc });
  search.grantWrite(sink, 'orders');
  search.grantRead(mcp, 'orders');
  search.connections.allowDefaultPortFrom(sink);
  return { app, stack, search, sink, mcp, vpc };
}

describe('AgentSearch domain', () => {
  test('encrypts at rest and between nodes, enforces HTTPS with the TLS 1.2 PFS policy, and uses FGAC with the index handler as IAM master', () => {
    const t = Template.fromStack(build().stack);
    t.hasResourceProperties('AWS::OpenSearchService::Domain', {
      EngineVersion: 'OpenSearch_3.7',
      NodeToNodeEncryptionOptions: { Enabled: true },
      EncryptionAtRestOptions: { Enabled: true },
      DomainEndpointOptions: Match.objectLike({ EnforceHTTPS: true, TLSSecurityPolicy: 'Policy-Min-TLS-1-2-PFS-2023-10' }),
      AdvancedSecurityOptions: Match.objectLike({
        Enabled: true,
        InternalUserDatabaseEnabled: false,
        MasterUserOptions: { MasterUserARN: { 'Fn::GetAtt': [Match.stringLikeRegexp('SearchIndexProviderOnEventRole'), 'Arn'] } },
      }),
    });
  });

  test('defaults: 2 r7g data nodes over 2 zones, 3 m7g dedicated masters, 20 GiB gp3, retained', () => {
    const t = Template.fromStack(build().stack);
    t.hasResourceProperties('AWS::OpenSearchService::Domain', {
      ClusterConfig: Match.objectLike({
        InstanceCount: 2,
        InstanceType: 'r7g.large.search',
        ZoneAwarenessEnabled: true,
        ZoneAwarenessConfig: { AvailabilityZoneCount: 2 },
        DedicatedMasterEnabled: true,
        DedicatedMasterCount: 3,
        DedicatedMasterType: 'm7g.large.search',
        MultiAZWithStandbyEnabled: false,
      }),
      EBSOptions: Match.objectLike({ EBSEnabled: true, VolumeSize: 20, VolumeType: 'gp3' }),
    });
    t.hasResource('AWS::OpenSearchService::Domain', { DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
  });

  test('a customer KMS key encrypts at rest when given', () => {
    const app = testApp();
    const stack = testStack(app);
    const key = new kms.Key(stack, 'Key', { enableKeyRotation: true });
    new AgentSearch(stack, 'Search', { vpc: new AgentNetwork(stack, 'Net').vpc, encryptionKey: key, removalPolicy: RemovalPolicy.DESTROY, logRetention: logs.RetentionDays.ONE_YEAR });
    const t = Template.fromStack(stack);
    t.hasResourceProperties('AWS::OpenSearchService::Domain', {
      EncryptionAtRestOptions: { Enabled: true, KmsKeyId: { Ref: Match.stringLikeRegexp('^Key') } },
    });
    t.hasResource('AWS::OpenSearchService::Domain', { DeletionPolicy: 'Delete' });
    t.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 365 });
  });

  test('development shape: one zone, no dedicated masters', () => {
    const t = Template.fromStack(build({ availabilityZoneCount: 1, dedicatedMasterNodes: 0, dataNodes: 1 }).stack);
    t.hasResourceProperties('AWS::OpenSearchService::Domain', {
      ClusterConfig: Match.objectLike({ InstanceCount: 1, ZoneAwarenessEnabled: false, DedicatedMasterEnabled: false }),
      VPCOptions: { SubnetIds: Match.anyValue(), SecurityGroupIds: Match.anyValue() },
    });
    const domain = Object.values(t.findResources('AWS::OpenSearchService::Domain'))[0];
    expect(domain.Properties.VPCOptions.SubnetIds).toHaveLength(1);
  });

  test('sits in the private subnets, one per zone', () => {
    const { stack } = build();
    const t = Template.fromStack(stack);
    const domain = Object.values(t.findResources('AWS::OpenSearchService::Domain'))[0];
    const subnets = domain.Properties.VPCOptions.SubnetIds.map((s: { Ref: string }) => s.Ref);
    expect(subnets).toHaveLength(2);
    for (const s of subnets) expect(s).toMatch(/NetVpcprivateSubnet/);
  });

  test('publishes slow search, slow index, error and audit logs to retained log groups OpenSearch may write to', () => {
    const t = Template.fromStack(build().stack);
    t.hasResourceProperties('AWS::OpenSearchService::Domain', {
      LogPublishingOptions: {
        SEARCH_SLOW_LOGS: { Enabled: true, CloudWatchLogsLogGroupArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('SearchSlowSearchLogs'), 'Arn'] } },
        INDEX_SLOW_LOGS: { Enabled: true, CloudWatchLogsLogGroupArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('SearchSlowIndexLogs'), 'Arn'] } },
        ES_APPLICATION_LOGS: { Enabled: true, CloudWatchLogsLogGroupArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('SearchErrorLogs'), 'Arn'] } },
        AUDIT_LOGS: { Enabled: true, CloudWatchLogsLogGroupArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('SearchAuditLogs'), 'Arn'] } },
      },
    });
    t.hasResource('AWS::Logs::LogGroup', { Properties: { RetentionInDays: 90 }, DeletionPolicy: 'Retain' });
    const policies = t.findResources('AWS::Logs::ResourcePolicy');
    expect(Object.keys(policies)).toHaveLength(1);
    const doc = JSON.stringify(Object.values(policies)[0].Properties.PolicyDocument);
    expect(doc).toContain('es.amazonaws.com');
    expect(doc).toContain('aws:SourceAccount');
    // No AwsCustomResource from the L2 for log policies or access policies.
    t.resourceCountIs('Custom::CloudwatchLogResourcePolicy', 0);
    t.resourceCountIs('Custom::OpenSearchAccessPolicy', 0);
    const domain = Object.values(t.findResources('AWS::OpenSearchService::Domain'))[0];
    expect(domain.DependsOn).toEqual(expect.arrayContaining([expect.stringMatching(/SearchLogsResourcePolicy/)]));
  });

  test('the access policy names the master role and each granted role, on this domain only', () => {
    const t = Template.fromStack(build().stack);
    const domain = Object.values(t.findResources('AWS::OpenSearchService::Domain'))[0];
    const statement = domain.Properties.AccessPolicies.Statement[0];
    expect(statement.Effect).toBe('Allow');
    const principals = JSON.stringify(statement.Principal.AWS);
    expect(principals).toMatch(/SearchIndexProviderOnEventRole/);
    expect(principals).toMatch(/SinkRole/);
    expect(principals).toMatch(/McpRole/);
    expect(JSON.stringify(statement.Resource)).toMatch(/:domain\/a[a-z0-9]+\/\*/);
    expect(JSON.stringify(statement)).not.toMatch(/"\*"/);
  });

  test('grantWrite and grantRead give index-scoped HTTP verbs', () => {
    const t = Template.fromStack(build().stack);
    const statementFor = (rolePattern: string) => {
      const policies = t.findResources('AWS::IAM::Policy', { Properties: { Roles: [{ Ref: Match.stringLikeRegexp(rolePattern) }] } });
      return Object.values(policies).flatMap(p => p.Properties.PolicyDocument.Statement).find((s: { Action: unknown }) => JSON.stringify(s.Action).includes('es:'));
    };
    const write = statementFor('^SinkRole');
    expect([...write.Action].sort()).toEqual(['es:ESHttpDelete', 'es:ESHttpGet', 'es:ESHttpHead', 'es:ESHttpPost', 'es:ESHttpPut']);
    const resources = JSON.stringify(write.Resource);
    expect(resources).toMatch(/\/orders"/);
    expect(resources).toMatch(/\/orders\/\*"/);
    const read = statementFor('^McpRole');
    expect([...read.Action].sort()).toEqual(['es:ESHttpGet', 'es:ESHttpHead', 'es:ESHttpPost']);
  });

  test('FGAC roles map the sink to write and the MCP server to read, on the view alias and its generations', () => {
    const t = Template.fromStack(build().stack);
    const access = Object.values(t.findResources('Custom::AgentSearchAccess'))[0].Properties;
    expect(access.AuditLog).toBe('true');
    const write = access.Roles.find((r: { Name: string }) => r.Name.includes('_write_'));
    const read = access.Roles.find((r: { Name: string }) => r.Name.includes('_read_'));
    expect(write.IndexPatterns).toEqual(['orders', 'orders-v*']);
    expect(write.ClusterPermissions).toEqual(['indices:data/write/bulk', 'indices:data/read/mget']);
    expect(write.AllowedActions).toContain('indices:data/write/index');
    expect(write.AllowedActions).not.toContain('indices:admin/mapping/put');
    expect(JSON.stringify(write.BackendRoles)).toMatch(/SinkRole/);
    expect(JSON.stringify(write.BackendRoles)).not.toMatch(/McpRole/);
    expect(read.AllowedActions).toEqual(['read']);
    expect(JSON.stringify(read.BackendRoles)).toMatch(/McpRole/);
  });

  test('the index handler runs in the VPC and may reach the domain on 443', () => {
    const { stack } = build();
    const t = Template.fromStack(stack);
    t.hasResourceProperties('AWS::Lambda::Function', {
      Description: Match.stringLikeRegexp('^AgentSearch: creates view indexes'),
      VpcConfig: Match.objectLike({ SubnetIds: Match.anyValue() }),
    });
    t.hasResourceProperties('AWS::EC2::SecurityGroupIngress', {
      IpProtocol: 'tcp', FromPort: 443, ToPort: 443,
      SourceSecurityGroupId: { 'Fn::GetAtt': [Match.stringLikeRegexp('SearchIndexProviderOnEventSecurityGroup'), 'GroupId'] },
    });
    t.hasResourceProperties('AWS::EC2::SecurityGroupIngress', {
      FromPort: 443, SourceSecurityGroupId: { 'Fn::GetAtt': [Match.stringLikeRegexp('SinkSecurityGroup'), 'GroupId'] },
    });
  });

  test('the default domain name is valid, derived from the path and stable across synths', () => {
    const first = build().search.domainName;
    expect(first).toMatch(/^a[a-z0-9]{2,27}$/);
    expect(first.length).toBeLessThanOrEqual(28);
    expect(build().search.domainName).toBe(first);
    Template.fromStack(build().stack).hasResourceProperties('AWS::OpenSearchService::Domain', { DomainName: first });
  });

  test('clientEnvironment names the endpoint and region', () => {
    const { stack, search } = build();
    const env = stack.resolve(search.clientEnvironment());
    expect(env.AGENT_SEARCH_REGION).toBe('us-east-1');
    expect(env.AGENT_SEARCH_ENDPOINT).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/^Search/), 'DomainEndpoint'] });
  });

  test('metrics are in AWS/ES with DomainName and ClientId and documented statistics', () => {
    const { stack, search } = build();
    const red = search.metricClusterStatusRed();
    expect(red.namespace).toBe('AWS/ES');
    expect(red.metricName).toBe('ClusterStatus.red');
    expect(red.statistic).toBe('Maximum');
    expect(stack.resolve(red.dimensions)).toEqual({ DomainName: search.domainName, ClientId: '123456789012' });
    expect(search.metricClusterStatusYellow().metricName).toBe('ClusterStatus.yellow');
    expect(search.metricJvmMemoryPressure().statistic).toBe('Maximum');
    expect(search.metricIndexingLatency().statistic).toBe('Average');
    expect(search.metricSearchLatency().metricName).toBe('SearchLatency');
    expect(search.metricFreeStorageSpace().statistic).toBe('Minimum');
    expect(search.metricFreeStorageSpace().period.toSeconds()).toBe(60);
  });

  test('passes the validation gate (production and development shapes)', () => {
    expect(formatFindings(gateFindings(build({}, true).app))).toBe('');
    expect(formatFindings(gateFindings(build({ availabilityZoneCount: 1, dedicatedMasterNodes: 0, dataNodes: 1 }, true).app))).toBe('');
  });

  test('passes the Control Tower controls in a stack of its own, without AgentDataStack: the domain\'s log groups acknowledge their retention and service-key encryption', () => {
    expect(formatFindings(gateFindings(build({}, [GatePack.CONTROL_TOWER]).app))).toBe('');
  });
});

describe('AgentSearch view indexes', () => {
  test('addView creates the index behind its alias with explicit strict mappings and provenance', () => {
    const t = Template.fromStack(build().stack);
    const props = Object.values(t.findResources('Custom::AgentSearchIndex'))[0].Properties;
    expect(props.Alias).toBe('orders');
    expect(props.Index).toBe('orders-v1');
    expect(props.RemoveOnDelete).toBe('false');
    const mappings = JSON.parse(props.Mappings);
    expect(mappings.dynamic).toBe('strict');
    expect(mappings.properties).toMatchObject({
      order_id: { type: 'long' },
      customer_id: { type: 'keyword' },
      note: { type: 'text' },
      status: { type: 'text', fields: { keyword: { type: 'keyword' } } },
      amount: { type: 'double' },
      paid: { type: 'boolean' },
      created_at: { type: 'date' },
      extra: { type: 'object', enabled: false },
      _provenance: { type: 'object', dynamic: 'strict', properties: expect.objectContaining({ commitTimeMs: { type: 'date', format: 'epoch_millis' } }) },
    });
    expect(JSON.parse(props.StaticSettings)).toEqual({ 'index.number_of_shards': 1 });
    expect(JSON.parse(props.DynamicSettings)).toEqual({ 'index.number_of_replicas': 1, 'index.gc_deletes': '86400s' });
  });

  test('each index waits for the FGAC role mappings, so the sink\'s event source mappings (which wait for the indexes) start with the role mapped', () => {
    const t = Template.fromStack(build().stack);
    const [accessId] = Object.keys(t.findResources('Custom::AgentSearchAccess'));
    const index = Object.values(t.findResources('Custom::AgentSearchIndex'))[0];
    expect(index.DependsOn).toEqual(expect.arrayContaining([accessId]));
  });

  test('a reader in another stack (the MCP server\'s shape) is mapped by an access resource in its stack; the domain\'s stack names it nowhere', () => {
    const app = testApp();
    const base = testStack(app, 'Base');
    const vpc = new AgentNetwork(base, 'Net').vpc;
    const search = new AgentSearch(base, 'Search', { vpc });
    search.addView(ORDERS);
    const apps = testStack(app, 'Apps');
    const mcp = new AgentFunction(apps, 'Mcp', { handlerName: 'noop', entry: NOOP, description: 'mcp', vpc });
    expect(search.accessFor(mcp)).toBeUndefined();
    search.grantRead(mcp, 'orders');
    // Before: «DependencyCycle» ... (Base -> Apps/Mcp/Role/Resource.Arn) would create a cyclic reference.
    expect(() => app.synth()).not.toThrow();
    expect(JSON.stringify(Template.fromStack(base).toJSON())).not.toContain('Apps');
    const access = search.accessFor(mcp)!;
    expect(Stack.of(access)).toBe(apps);
    Template.fromStack(apps).hasResourceProperties('Custom::AgentSearchAccess', {
      Roles: [Match.objectLike({ AllowedActions: ['read'], IndexPatterns: ['orders', 'orders-v*'], BackendRoles: [{ 'Fn::GetAtt': [Match.stringLikeRegexp('^McpRole'), 'Arn'] }] })],
    });
    // The role is still allowed through the domain policy by its own identity-based policy (same account).
    Template.fromStack(apps).hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Action: ['es:ESHttpGet', 'es:ESHttpHead', 'es:ESHttpPost'] })]) },
    });
  });

  test('indexFor returns the index addView created for the view, and undefined for a view never added or of another index', () => {
    const { search } = build();
    const index = search.indexFor(ORDERS);
    expect(index?.node.path).toBe('TestStack/Search/Index-orders');
    expect((index!.node.defaultChild as any).cfnResourceType).toBe('Custom::AgentSearchIndex');
    // Another AgentView object with the same declaration is the same view.
    expect(search.indexFor(new AgentView(ORDERS_PROPS))).toBe(index);
    expect(search.indexFor(new AgentView({ ...ORDERS_PROPS, name: 'returns', search: { index: 'returns' } }))).toBeUndefined();
    // The name of an added view but another alias: writes to 'orders-archive' would find no index.
    expect(search.indexFor(new AgentView({ ...ORDERS_PROPS, search: { index: 'orders-archive' } }))).toBeUndefined();
  });

  test('index options: shards, replicas, tombstone retention, opt-in delete', () => {
    const stack = testStack();
    const vpc = new AgentNetwork(stack, 'Net').vpc;
    const search = new AgentSearch(stack, 'Search', { vpc, dataNodes: 4 });
    search.addView(ORDERS, { shards: 3, replicas: 2, deleteTombstoneRetention: Duration.hours(6), removalPolicy: RemovalPolicy.DESTROY });
    const props = Object.values(Template.fromStack(stack).findResources('Custom::AgentSearchIndex'))[0].Properties;
    expect(JSON.parse(props.StaticSettings)).toEqual({ 'index.number_of_shards': 3 });
    expect(JSON.parse(props.DynamicSettings)).toEqual({ 'index.number_of_replicas': 2, 'index.gc_deletes': '21600s' });
    expect(props.RemoveOnDelete).toBe('true');
  });

  test('a single-node domain defaults to no replicas', () => {
    const stack = testStack();
    const vpc = new AgentNetwork(stack, 'Net').vpc;
    new AgentSearch(stack, 'Search', { vpc, dataNodes: 1, availabilityZoneCount: 1, dedicatedMasterNodes: 0 }).addView(ORDERS);
    const props = Object.values(Template.fromStack(stack).findResources('Custom::AgentSearchIndex'))[0].Properties;
    expect(JSON.parse(props.DynamicSettings)['index.number_of_replicas']).toBe(0);
  });
});

describe('AgentSearch validation', () => {
  function domain(props: Partial<AgentSearchProps> = {}) {
    const stack = testStack();
    const vpc = new AgentNetwork(stack, 'Net').vpc;
    return new AgentSearch(stack, 'Search', { vpc, ...props });
  }
  test('fails when availabilityZoneCount is not 1, 2 or 3', () => expect(() => domain({ availabilityZoneCount: 4 })).toThrow(/availabilityZoneCount is 4; use 2 or 3/));
  test('fails when data nodes do not divide over the zones', () => expect(() => domain({ dataNodes: 3 })).toThrow(/dataNodes is 3 with availabilityZoneCount 2/));
  test('fails when dataNodes is not positive', () => expect(() => domain({ dataNodes: 0 })).toThrow(/dataNodes is 0/));
  test('fails when dedicated masters are not 0, 3 or 5', () => expect(() => domain({ dedicatedMasterNodes: 2 })).toThrow(/dedicatedMasterNodes is 2; use 3 or 5/));
  test('fails when domainName is invalid', () => expect(() => domain({ domainName: 'Bad_Name' })).toThrow(/domainName 'Bad_Name' is invalid/));
  test('fails when volumeSize is under 10 GiB', () => expect(() => domain({ volumeSize: 5 })).toThrow(/volumeSize is 5/));
  test('fails when the subnets span fewer zones than asked', () => {
    expect(() => domain({ availabilityZoneCount: 3, dataNodes: 3 })).toThrow(/availabilityZoneCount is 3 but vpcSubnets selects subnets in 2/);
  });
  test('fails when a view is not a search view', () => {
    expect(() => domain().addView(new AgentView({ ...ORDERS_PROPS, store: ViewStore.CACHE, search: undefined }))).toThrow(/store is 'cache'/);
  });
  test('a view\'s own rules are checked once, when its AgentView is created, before any domain sees it', () => {
    const fails = (props: Partial<AgentViewProps>, message: RegExp) => expect(() => new AgentView({ ...ORDERS_PROPS, ...props })).toThrow(message);
    fails({ search: { index: 'Orders' } }, /search.index 'Orders' is not a valid OpenSearch index name \(it has uppercase letters\)/);
    fails({ fields: [...ORDERS_PROPS.fields, { name: 'note', type: ViewFieldType.KEYWORD }] }, /field 'note' is named twice/);
    fails({ key: [] }, /key is empty/);
    fails({ key: ['nope'] }, /key column 'nope' is not among fields/);
    fails({ search: { index: 'orders', timeField: 'when' } }, /search.timeField 'when' is not among fields/);
    fails({ fields: [...ORDERS_PROPS.fields, { name: '_provenance', type: ViewFieldType.JSON }] }, /AgentView 'orders': field name '_provenance' is reserved for provenance/);
  });
  test('fails when a view or index is added twice', () => {
    const d = domain();
    d.addView(ORDERS);
    expect(() => d.addView(ORDERS)).toThrow(/already added/);
    expect(() => d.addView(new AgentView({ ...ORDERS_PROPS, name: 'orders2' }))).toThrow(/search.index 'orders' is already used/);
  });
  test('fails when replicas need more nodes than the domain has', () => {
    expect(() => domain().addView(ORDERS, { replicas: 2 })).toThrow(/replicas is 2 but the domain has 2 data node/);
  });
  test('fails when the tombstone retention is under a minute', () => {
    expect(() => domain().addView(ORDERS, { deleteTombstoneRetention: Duration.seconds(10) })).toThrow(/deleteTombstoneRetention is 10s/);
  });
  test('fails when a grant names no index, or an invalid one', () => {
    const d = domain();
    const role = new iam.Role(Stack.of(d), 'R', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    expect(() => d.grantRead(role)).toThrow(/grantRead: no index given/);
    expect(() => d.grantWrite(role, 'a*')).toThrow(/index 'a\*' contains/);
  });
});

describe('AgentSearch.fromDomainAttributes', () => {
  test('grants IAM on the imported domain and exposes its coordinates', () => {
    const stack = testStack();
    const sg = ec2.SecurityGroup.fromSecurityGroupId(stack, 'Sg', 'sg-12345');
    const imported = AgentSearch.fromDomainAttributes(stack, 'Imported', {
      domainArn: 'arn:aws:es:us-east-1:123456789012:domain/existing',
      domainEndpoint: 'vpc-existing.us-east-1.es.amazonaws.com',
      securityGroups: [sg],
    });
    const role = new iam.Role(stack, 'R', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    imported.grantRead(role, 'orders');
    Template.fromStack(stack).hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: { Statement: [Match.objectLike({
        Action: ['es:ESHttpGet', 'es:ESHttpHead', 'es:ESHttpPost'],
        Resource: ['arn:aws:es:us-east-1:123456789012:domain/existing/orders', 'arn:aws:es:us-east-1:123456789012:domain/existing/orders/*'],
      })] },
    });
    expect(imported.clientEnvironment()).toEqual({ AGENT_SEARCH_ENDPOINT: 'vpc-existing.us-east-1.es.amazonaws.com', AGENT_SEARCH_REGION: 'us-east-1' });
    expect(imported.connections.securityGroups).toHaveLength(1);
  });
});

describe('AgentSearch bundling', () => {
  test('the index handler bundles with esbuild (OpenSearch client and SigV4 signer included, AWS SDK external)', () => {
    const app = testApp({ bundle: true });
    const stack = testStack(app);
    const vpc = new AgentNetwork(stack, 'Net').vpc;
    new AgentSearch(stack, 'Search', { vpc }).addView(ORDERS);
    const assembly = app.synth();
    const template = assembly.getStackByName(stack.stackName).template;
    const fn = Object.values(template.Resources as Record<string, any>).find(r => r.Type === 'AWS::Lambda::Function' && String(r.Properties.Description).startsWith('AgentSearch:'));
    const hash = String(fn.Properties.Code.S3Key).replace(/\.zip$/, '');
    const assetDir = require('path').join(assembly.directory, `asset.${hash}`);
    const code = require('fs').readFileSync(require('path').join(assetDir, 'index.js'), 'utf8');
    expect(code).toContain('_plugins/_security/api');
    expect(code).toMatch(/require\("@aws-sdk\/credential-provider-node"\)/);
  });
});

describe('AgentSearch vector views', () => {
  const TICKETS_PROPS: AgentViewProps = {
    name: 'tickets', description: 'Support tickets', store: ViewStore.SEARCH, topic: 'cdc.public.tickets', key: ['ticket_id'], sourceTable: 'public.tickets',
    fields: [
      { name: 'ticket_id', type: ViewFieldType.INTEGER }, { name: 'subject', type: ViewFieldType.TEXT }, { name: 'body', type: ViewFieldType.TEXT },
      { name: 'status', type: ViewFieldType.KEYWORD },
    ],
    search: {
      index: 'tickets',
      vector: { field: 'body_embedding', sourceFields: ['subject', 'body'], dimension: 1024, modelId: 'amazon.titan-embed-text-v2:0', spaceType: 'innerproduct' },
    },
  };
  const TICKETS = new AgentView(TICKETS_PROPS);

  function buildVector(props: Partial<AgentSearchProps> = {}, gate = false) {
    const app = testApp({ gate });
    const stack = testStack(app);
    const vpc = new AgentNetwork(stack, 'Net').vpc;
    const search = new AgentSearch(stack, 'Search', { vpc, ...props });
    search.addView(TICKETS);
    const sink = new AgentFunction(stack, 'Sink', { handlerName: 'noop', entry: NOOP, description: 'sink', vpc });
    search.grantWrite(sink, 'tickets');
    search.grantEmbed(sink);
    return { app, stack, search, sink };
  }

  test('the index maps a knn_vector (HNSW on faiss, the view space type) and enables k-NN', () => {
    const t = Template.fromStack(buildVector().stack);
    const props = Object.values(t.findResources('Custom::AgentSearchIndex'))[0].Properties;
    expect(JSON.parse(props.Mappings).properties.body_embedding).toEqual({
      type: 'knn_vector', dimension: 1024,
      method: { name: 'hnsw', engine: 'faiss', space_type: 'innerproduct', parameters: { m: 16, ef_construction: 128 } },
    });
    expect(JSON.parse(props.StaticSettings)).toEqual({ 'index.number_of_shards': 1, 'index.knn': true });
  });

  test('views without vectors do not enable k-NN', () => {
    const t = Template.fromStack(build().stack);
    const props = Object.values(t.findResources('Custom::AgentSearchIndex'))[0].Properties;
    expect(JSON.parse(props.StaticSettings)).not.toHaveProperty(['index.knn']);
    expect(Object.keys(t.findResources('AWS::EC2::VPCEndpoint', { Properties: { VpcEndpointType: 'Interface' } })).length).toBe(0);
  });

  test('grantEmbed allows bedrock:InvokeModel on the one foundation model ARN', () => {
    const t = Template.fromStack(buildVector().stack);
    const statements = Object.values(t.findResources('AWS::IAM::Policy', { Properties: { Roles: [{ Ref: Match.stringLikeRegexp('^SinkRole') }] } }))
      .flatMap(p => p.Properties.PolicyDocument.Statement);
    const invoke = statements.filter((s: { Action: unknown }) => JSON.stringify(s.Action).includes('bedrock:'));
    expect(invoke).toHaveLength(1);
    expect(invoke[0].Action).toBe('bedrock:InvokeModel');
    expect(invoke[0].Resource).toBe('arn:aws:bedrock:us-east-1::foundation-model/amazon.titan-embed-text-v2:0');
  });

  test('a Bedrock runtime interface endpoint with private DNS is created, reachable from the embedding grantees only', () => {
    const t = Template.fromStack(buildVector().stack);
    expect(Object.keys(t.findResources('AWS::EC2::VPCEndpoint', { Properties: { VpcEndpointType: 'Interface' } })).length).toBe(1);
    t.hasResourceProperties('AWS::EC2::VPCEndpoint', {
      ServiceName: 'com.amazonaws.us-east-1.bedrock-runtime', VpcEndpointType: 'Interface', PrivateDnsEnabled: true,
    });
    const endpointSg = Object.entries(t.findResources('AWS::EC2::SecurityGroup')).find(([id]) => id.startsWith('SearchBedrockRuntimeEndpointSecurityGroup'))!;
    expect(endpointSg[1].Properties.SecurityGroupIngress).toBeUndefined();
    t.hasResourceProperties('AWS::EC2::SecurityGroupIngress', {
      FromPort: 443, ToPort: 443,
      GroupId: { 'Fn::GetAtt': [endpointSg[0], 'GroupId'] },
      SourceSecurityGroupId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^SinkSecurityGroup'), 'GroupId'] },
    });
  });

  test('grantEmbed to a function of another stack opens the Bedrock endpoint from that stack: no dependency cycle, the domain\'s stack names it nowhere', () => {
    const app = testApp();
    const base = testStack(app, 'Base');
    const vpc = new AgentNetwork(base, 'Net').vpc;
    const search = new AgentSearch(base, 'Search', { vpc });
    search.addView(TICKETS);
    const apps = testStack(app, 'Apps');
    const mcp = new AgentFunction(apps, 'Mcp', { handlerName: 'noop', entry: NOOP, description: 'mcp', vpc });
    search.grantEmbed(mcp);
    // Before: «DependencyCycle» ... (Base -> Apps/Mcp/SecurityGroup/Resource.GroupId) would create a cyclic reference.
    expect(() => app.synth()).not.toThrow();
    expect(JSON.stringify(Template.fromStack(base).toJSON())).not.toContain('Apps');
    const rules = Object.values(Template.fromStack(apps).findResources('AWS::EC2::SecurityGroupIngress', { Properties: { Description: 'Bedrock runtime for embeddings' } }));
    expect(rules).toHaveLength(1);
    expect(rules[0].Properties).toMatchObject({ FromPort: 443, ToPort: 443, SourceSecurityGroupId: { 'Fn::GetAtt': [expect.stringMatching(/^McpSecurityGroup/), 'GroupId'] } });
    // The endpoint's security group of Base, read through a cross-stack reference.
    expect(JSON.stringify(rules[0].Properties.GroupId)).toMatch(/Fn::ImportValue|Fn::GetStackOutput/);
  });

  test('bedrockRuntimeEndpoint: false leaves the VPC alone', () => {
    const t = Template.fromStack(buildVector({ bedrockRuntimeEndpoint: false }).stack);
    expect(Object.keys(t.findResources('AWS::EC2::VPCEndpoint', { Properties: { VpcEndpointType: 'Interface' } })).length).toBe(0);
  });

  test('grantInvokeEmbeddingModel works on imported domains and checks the model id', () => {
    const stack = testStack();
    const imported = AgentSearch.fromDomainAttributes(stack, 'Imported', { domainArn: 'arn:aws:es:us-east-1:123456789012:domain/existing', domainEndpoint: 'e' });
    const role = new iam.Role(stack, 'R', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    (imported as AgentSearch).grantInvokeEmbeddingModel(role, 'amazon.titan-embed-text-v2:0');
    Template.fromStack(stack).hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: { Statement: [Match.objectLike({ Action: 'bedrock:InvokeModel' })] },
    });
    expect(() => (imported as AgentSearch).grantInvokeEmbeddingModel(role, 'arn:aws:bedrock:*')).toThrow(/is not a Bedrock foundation model id/);
  });

  test('passes the validation gate with a vector view', () => {
    expect(formatFindings(gateFindings(buildVector({}, true).app))).toBe('');
  });

  describe('fails when', () => {
    // The vector rules are the view's: AgentView checks them once, when it is created.
    const add = (vector: Record<string, unknown>) => () => new AgentView({
      ...TICKETS_PROPS, search: { index: 'tickets', vector: { ...TICKETS_PROPS.search!.vector!, ...vector } as never },
    });
    test('the vector field is also a view field', () => expect(add({ field: 'body' })).toThrow(/AgentView 'tickets': search.vector.field 'body' must be a new column name/));
    test('a source field is not a view field', () => expect(add({ sourceFields: ['nope'] })).toThrow(/sourceFields has 'nope', which is not among fields/));
    test('a source field is not text', () => expect(add({ sourceFields: ['ticket_id'] })).toThrow(/sourceFields has 'ticket_id' of type integer/));
    test('there are no source fields', () => expect(add({ sourceFields: [] })).toThrow(/sourceFields is empty/));
    test('the dimension is invalid', () => expect(add({ dimension: 0 })).toThrow(/search.vector.dimension is 0/));
    // Titan Text Embeddings v2 returns 256, 512 or 1024 values; any other dimension made every sink write of the view fail at run time.
    test('the dimension is not one Titan Text Embeddings v2 returns', () => {
      expect(add({ dimension: 1536 })).toThrow(/AgentView 'tickets': search.vector.dimension is 1536, but amazon.titan-embed-text-v2:0 returns 256, 512 or 1024 values/);
      expect(add({ dimension: 512 })).not.toThrow();
    });
    // lambda/shared/embeddings.ts sends Titan Text Embeddings V2's request body; Titan v1 and Cohere refuse it at run time.
    test('the model is not Titan Text Embeddings V2', () => {
      for (const modelId of ['amazon.titan-embed-text-v1', 'cohere.embed-english-v3']) {
        expect(add({ modelId, dimension: 1024 })).toThrow(new RegExp(`AgentView 'tickets': search.vector.modelId '${modelId}' is not supported.*Use amazon.titan-embed-text-v2:0`));
      }
      expect(add({ modelId: 'amazon.titan-embed-text-v2:0', dimension: 1024 })).not.toThrow();
    });
    test('the space type is unknown', () => expect(add({ spaceType: 'hamming' })).toThrow(/AgentView 'tickets': .*spaceType 'hamming'/));
    // The k-NN plugin's Faiss engine (the mapping's) takes cosinesimil from 2.19 (opensearch-project/k-NN#2376); older domains refuse the index at deploy.
    test('a cosinesimil vector view is added to a domain older than OpenSearch 2.19', () => {
      const stack = testStack();
      const vpc = new AgentNetwork(stack, 'Net').vpc;
      const cosine = new AgentView({ ...TICKETS_PROPS, search: { index: 'tickets', vector: { ...TICKETS_PROPS.search!.vector!, spaceType: 'cosinesimil' } } });
      const old = new AgentSearch(stack, 'Old', { vpc, engineVersion: opensearch.EngineVersion.OPENSEARCH_2_17 });
      expect(() => old.addView(cosine)).toThrow(/AgentSearch.addView\('tickets'\): search.vector.spaceType 'cosinesimil' needs OpenSearch 2.19 or later on the Faiss engine, but engineVersion is OpenSearch_2.17/);
      expect(() => old.addView(TICKETS)).not.toThrow();
      expect(() => new AgentSearch(stack, 'New', { vpc, engineVersion: opensearch.EngineVersion.OPENSEARCH_2_19 }).addView(cosine)).not.toThrow();
      const es = new AgentSearch(stack, 'Es', { vpc, engineVersion: opensearch.EngineVersion.ELASTICSEARCH_7_10 });
      expect(() => es.addView(TICKETS)).toThrow(/AgentSearch.addView\('tickets'\): search.vector needs an OpenSearch engine \(the Faiss k-NN engine\), but engineVersion is Elasticsearch_7.10/);
    });
    test('grantEmbed is called before any vector view', () => {
      const stack = testStack();
      const search = new AgentSearch(stack, 'Search', { vpc: new AgentNetwork(stack, 'Net').vpc });
      const role = new iam.Role(stack, 'R', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
      expect(() => search.grantEmbed(role)).toThrow(/no view with search.vector was added yet/);
    });
  });
});
