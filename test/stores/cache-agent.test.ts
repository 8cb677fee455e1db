// AgentCache: serverless and node-based Valkey with TLS, encryption, IAM or RBAC-password auth, private subnets, grants, metrics; clean under the validation gate.
import { RemovalPolicy } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { AgentNetwork } from '../../constructs/common/agent-network';
import { AgentCache, AgentCacheProps, APP_ACCESS_STRING, CacheAuthentication } from '../../constructs/stores/agent-cache';
import { testApp, testStack } from '../helpers/app';
import { formatFindings, gateFindings } from '../helpers/gate';

function build(props: Partial<AgentCacheProps> = {}, gate = false) {
  const app = testApp({ gate });
  const stack = testStack(app);
  const vpc = new AgentNetwork(stack, 'Net').vpc;
  const cache = new AgentCache(stack, 'Cache', { vpc, cacheName: 'agent-views', ...props });
  return { app, stack, vpc, cache, t: () => Template.fromStack(stack) };
}

describe('serverless (default)', () => {
  test('a Valkey serverless cache in the private subnets with its own security group, IAM user group and snapshots', () => {
    const { t } = build();
    t().resourceCountIs('AWS::ElastiCache::ServerlessCache', 1);
    t().resourceCountIs('AWS::ElastiCache::ReplicationGroup', 0);
    t().hasResourceProperties('AWS::ElastiCache::ServerlessCache', {
      ServerlessCacheName: 'agent-views',
      Engine: 'valkey',
      MajorEngineVersion: '8',
      UserGroupId: 'agent-views-users',
      SnapshotRetentionLimit: 1,
      SubnetIds: [{ Ref: Match.stringLikeRegexp('NetVpcprivateSubnet1') }, { Ref: Match.stringLikeRegexp('NetVpcprivateSubnet2') }],
      SecurityGroupIds: [{ 'Fn::GetAtt': [Match.stringLikeRegexp('CacheSecurityGroup'), 'GroupId'] }],
      KmsKeyId: Match.absent(),
      CacheUsageLimits: Match.absent(),
    });
  });

  test('IAM auth by default: the user name equals its id, and the Valkey user group holds only that authenticating user', () => {
    const { t, cache } = build();
    t().hasResourceProperties('AWS::ElastiCache::User', {
      Engine: 'valkey', UserId: 'agent-views-app', UserName: 'agent-views-app', AuthenticationMode: { Type: 'iam' }, AccessString: APP_ACCESS_STRING,
    });
    // Valkey groups may hold only users that authenticate; no `no-password-required` default user is created.
    t().resourceCountIs('AWS::ElastiCache::User', 1);
    t().hasResourceProperties('AWS::ElastiCache::UserGroup', { Engine: 'valkey', UserGroupId: 'agent-views-users', UserIds: ['agent-views-app'] });
    expect(cache.authentication.mode).toBe('iam');
    expect(cache.serverless).toBe(true);
  });

  test('the cache is retained on stack deletion by default', () => {
    const { t } = build();
    t().hasResource('AWS::ElastiCache::ServerlessCache', { DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
  });

  test('the security group admits nobody until a client is allowed, and has no egress', () => {
    const { stack } = build();
    Template.fromStack(stack).hasResourceProperties('AWS::EC2::SecurityGroup', {
      GroupDescription: Match.stringLikeRegexp('ElastiCache agent-views'),
      SecurityGroupIngress: Match.absent(),
      SecurityGroupEgress: [Match.objectLike({ CidrIp: '255.255.255.255/32', Description: 'Disallow all traffic' })],
    });
    const { cache: c2, stack: s2, vpc: v2 } = build();
    const client = new ec2.SecurityGroup(s2, 'Client', { vpc: v2 });
    c2.connections.allowDefaultPortFrom(client);
    Template.fromStack(s2).hasResourceProperties('AWS::EC2::SecurityGroupIngress', {
      FromPort: 6379, ToPort: 6379, IpProtocol: 'tcp', GroupId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^CacheSecurityGroup'), 'GroupId'] },
    });
  });

  test('a customer KMS key and usage limits are applied', () => {
    const { stack, vpc } = build();
    const key = new kms.Key(stack, 'Key', { enableKeyRotation: true });
    new AgentCache(stack, 'Other', { vpc, cacheName: 'other', encryptionKey: key, serverlessLimits: { maxDataStorageGb: 10, maxEcpuPerSecond: 5000 } });
    Template.fromStack(stack).hasResourceProperties('AWS::ElastiCache::ServerlessCache', {
      ServerlessCacheName: 'other',
      KmsKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('Key'), 'Arn'] },
      CacheUsageLimits: { DataStorage: { Maximum: 10, Unit: 'GB' }, ECPUPerSecond: { Maximum: 5000 } },
    });
  });

  test('grantConnect allows elasticache:Connect on exactly the cache and the user', () => {
    const { stack, cache } = build();
    const role = new iam.Role(stack, 'Client', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    cache.grantConnect(role);
    Template.fromStack(stack).hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: { Statement: [{
        Effect: 'Allow',
        Action: 'elasticache:Connect',
        Resource: [
          'arn:aws:elasticache:us-east-1:123456789012:user:agent-views-app',
          { 'Fn::GetAtt': [stack.getLogicalId(cache.serverlessCache!), 'ARN'] },
        ],
      }] },
    });
  });

  test('clientEnvironment tells the client how to connect', () => {
    const { stack, cache } = build();
    const env = stack.resolve(cache.clientEnvironment());
    expect(env).toMatchObject({
      AGENT_CACHE_ENDPOINT: { 'Fn::GetAtt': [stack.getLogicalId(cache.serverlessCache!), 'Endpoint.Address'] },
      AGENT_CACHE_PORT: '6379', AGENT_CACHE_TLS: 'true', AGENT_CACHE_AUTH: 'iam', AGENT_CACHE_USER: 'agent-views-app',
      AGENT_CACHE_NAME: 'agent-views', AGENT_CACHE_SERVERLESS: 'true', AGENT_CACHE_CLUSTER_MODE: 'true',
    });
    expect(env.AGENT_CACHE_SECRET_ARN).toBeUndefined();
  });

  test('metrics use the serverless names and the clusterId dimension', () => {
    const { stack, cache } = build();
    const m = (x: ReturnType<typeof cache.metricCpu>) => ({ name: x.metricName, stat: x.statistic, dims: stack.resolve(x.dimensions) });
    expect(m(cache.metricCpu())).toEqual({ name: 'ElastiCacheProcessingUnits', stat: 'Sum', dims: { clusterId: 'agent-views' } });
    expect(m(cache.metricMemory()).name).toBe('BytesUsedForCache');
    expect(m(cache.metricEvictions())).toMatchObject({ name: 'Evictions', stat: 'Sum' });
    expect(m(cache.metricReadLatency())).toMatchObject({ name: 'SuccessfulReadRequestLatency', stat: 'p99' });
    expect(m(cache.metricWriteLatency()).name).toBe('SuccessfulWriteRequestLatency');
    expect(cache.metricCpu().namespace).toBe('AWS/ElastiCache');
  });

  test('a default name is derived from the construct path and is valid', () => {
    const app = testApp();
    const stack = testStack(app);
    const vpc = new AgentNetwork(stack, 'Net').vpc;
    const cache = new AgentCache(stack, 'Cache', { vpc });
    expect(cache.cacheName).toMatch(/^[a-z][a-z0-9-]{0,31}$/);
    const { Construct } = require('constructs');
    const deep = new AgentCache(new Construct(new Construct(stack, 'AVeryLongApplicationLayerName'), 'StoresForTheAgents'), 'ViewsCache', { vpc });
    expect(deep.cacheName).toMatch(/^[a-z](?!.*--)[a-z0-9-]{0,31}$/);
    expect(deep.cacheName).not.toBe(cache.cacheName);
  });

  test('passes the validation gate', () => {
    const { app } = build({}, true);
    expect(formatFindings(gateFindings(app))).toBe('');
  });
});

describe('node-based', () => {
  test('a Multi-AZ replication group with TLS required, encryption at rest and the IAM user group', () => {
    const { t, cache } = build({ nodeBased: {} });
    t().resourceCountIs('AWS::ElastiCache::ServerlessCache', 0);
    t().hasResourceProperties('AWS::ElastiCache::ReplicationGroup', {
      ReplicationGroupId: 'agent-views',
      Engine: 'valkey',
      EngineVersion: '8.0',
      CacheNodeType: 'cache.r7g.large',
      NumCacheClusters: 2,
      AutomaticFailoverEnabled: true,
      MultiAZEnabled: true,
      Port: 6379,
      TransitEncryptionEnabled: true,
      TransitEncryptionMode: 'required',
      AtRestEncryptionEnabled: true,
      UserGroupIds: ['agent-views-users'],
      SnapshotRetentionLimit: 1,
      CacheSubnetGroupName: { Ref: Match.stringLikeRegexp('CacheSubnetGroup') },
    });
    t().hasResourceProperties('AWS::ElastiCache::SubnetGroup', {
      SubnetIds: [{ Ref: Match.stringLikeRegexp('NetVpcprivateSubnet1') }, { Ref: Match.stringLikeRegexp('NetVpcprivateSubnet2') }],
    });
    t().hasResource('AWS::ElastiCache::ReplicationGroup', { DeletionPolicy: 'Retain' });
    expect(cache.serverless).toBe(false);
  });

  test('node metrics are per node cluster: one per node, <group>-001 first', () => {
    const { stack, cache } = build({ nodeBased: { replicas: 2 } });
    expect(cache.nodeClusterIds).toEqual(['agent-views-001', 'agent-views-002', 'agent-views-003']);
    expect(stack.resolve(cache.metricCpu({ nodeClusterId: 'agent-views-003' }).dimensions)).toEqual({ CacheClusterId: 'agent-views-003' });
    expect(stack.resolve(cache.metricEvictions().dimensions)).toEqual({ CacheClusterId: 'agent-views-001' });
    const serverless = build({});
    expect(serverless.cache.nodeClusterIds).toEqual([]);
    expect(() => serverless.cache.metricCpu({ nodeClusterId: 'x-001' })).toThrow(/nodeClusterId 'x-001' given for serverless cache/);
    expect(serverless.cache.metricThrottledCommands().metricName).toBe('ThrottledCmds');
    expect(() => cache.metricThrottledCommands()).toThrow(/applies to serverless caches; 'agent-views' is node-based/);
  });

  test('ARN, environment and metrics follow the replication group', () => {
    const { stack, cache } = build({ nodeBased: { replicas: 0, port: 6390 }, removalPolicy: RemovalPolicy.DESTROY });
    expect(stack.resolve(cache.cacheArn)).toBe('arn:aws:elasticache:us-east-1:123456789012:replicationgroup:agent-views');
    expect(stack.resolve(cache.clientEnvironment())).toMatchObject({ AGENT_CACHE_PORT: '6390', AGENT_CACHE_SERVERLESS: 'false', AGENT_CACHE_CLUSTER_MODE: 'false' });
    expect(stack.resolve(cache.metricCpu().dimensions)).toEqual({ CacheClusterId: 'agent-views-001' });
    expect(cache.metricCpu().metricName).toBe('EngineCPUUtilization');
    expect(cache.metricMemory().metricName).toBe('DatabaseMemoryUsagePercentage');
    expect(cache.metricReadLatency().metricName).toBe('GetTypeCmdsLatency');
    expect(cache.metricWriteLatency().metricName).toBe('EvalBasedCmdsLatency');
    Template.fromStack(stack).hasResourceProperties('AWS::ElastiCache::ReplicationGroup', { NumCacheClusters: 1, AutomaticFailoverEnabled: false, MultiAZEnabled: false, Port: 6390 });
  });

  test('passes the validation gate', () => {
    const { app } = build({ nodeBased: {} }, true);
    expect(formatFindings(gateFindings(app))).toBe('');
  });
});

describe('password authentication', () => {
  test('an RBAC user whose password comes from a generated secret; grantConnect reads the secret', () => {
    const { stack, cache } = build({ authentication: CacheAuthentication.password() });
    const role = new iam.Role(stack, 'Client', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    cache.grantConnect(role);
    const t = () => Template.fromStack(stack);
    t().hasResourceProperties('AWS::SecretsManager::Secret', {
      GenerateSecretString: { SecretStringTemplate: '{"username":"agent-views-app"}', GenerateStringKey: 'password', ExcludePunctuation: true, PasswordLength: 64 },
    });
    t().hasResourceProperties('AWS::ElastiCache::User', {
      UserName: 'agent-views-app',
      AuthenticationMode: { Type: 'password', Passwords: [{ 'Fn::Join': ['', Match.arrayWith([Match.stringLikeRegexp('resolve:secretsmanager')])] }] },
    });
    t().hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: { Statement: [Match.objectLike({ Action: ['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue'] })] },
    });
    expect(stack.resolve(cache.clientEnvironment())).toMatchObject({ AGENT_CACHE_AUTH: 'password', AGENT_CACHE_SECRET_ARN: { Ref: stack.getLogicalId(cache.secret!.node.defaultChild as any) } });
  });

  test('passes the validation gate', () => {
    const { app } = build({ authentication: CacheAuthentication.password() }, true);
    expect(formatFindings(gateFindings(app))).toBe('');
  });
});

describe('imported', () => {
  test('fromCacheAttributes grants and connects like a created cache', () => {
    const { stack, vpc } = build();
    const sg = new ec2.SecurityGroup(stack, 'Sg', { vpc });
    const imported = AgentCache.fromCacheAttributes(stack, 'Imported', {
      cacheArn: 'arn:aws:elasticache:us-east-1:123456789012:serverlesscache:legacy', cacheName: 'legacy',
      endpointAddress: 'legacy.serverless.use1.cache.amazonaws.com', endpointPort: 6379, serverless: true, securityGroups: [sg], userId: 'legacy-app',
    });
    const role = new iam.Role(stack, 'Client', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    imported.grantConnect(role);
    Template.fromStack(stack).hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: { Statement: [Match.objectLike({
        Action: 'elasticache:Connect',
        Resource: ['arn:aws:elasticache:us-east-1:123456789012:serverlesscache:legacy', 'arn:aws:elasticache:us-east-1:123456789012:user:legacy-app'],
      })] },
    });
    expect(imported.clientEnvironment()).toMatchObject({ AGENT_CACHE_ENDPOINT: 'legacy.serverless.use1.cache.amazonaws.com', AGENT_CACHE_CLUSTER_MODE: 'true', AGENT_CACHE_USER: 'legacy-app' });
  });
});

describe('validation', () => {
  test.each([
    ['the cache name has uppercase letters', { cacheName: 'Agent' }, /cacheName 'Agent' is invalid/],
    ['the cache name is too long for its user ids', { cacheName: 'a'.repeat(33) }, /at most 32/],
    ['serverless limits are set on a node-based cache', { nodeBased: {}, serverlessLimits: { maxEcpuPerSecond: 1 } }, /serverlessLimits is set with nodeBased/],
    ['replicas are out of range', { nodeBased: { replicas: 6 } }, /nodeBased.replicas is 6/],
    ['the port is privileged', { nodeBased: { port: 80 } }, /nodeBased.port is 80/],
    ['the engine version predates IAM auth', { nodeBased: { engineVersion: '7.0' } }, /engineVersion is '7.0'/],
    ['snapshot retention is out of range', { snapshotRetentionLimit: 36 }, /snapshotRetentionLimit is 36/],
  ])('fails when %s', (_, props, message) => {
    expect(() => build(props as Partial<AgentCacheProps>)).toThrow(message);
  });

  test('fails when the subnets are public', () => {
    expect(() => build({ vpcSubnets: { subnetType: ec2.SubnetType.PUBLIC } })).toThrow(/selects public subnets/);
  });
});
