// AgentStreamingCluster: secure MSK defaults, CDC configuration, bootstrap lookup, least-privilege grants, metrics, BYO cluster, gate.
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { AgentStreamingCluster, AgentStreamingClusterProps, KafkaVersion } from '../../constructs/streaming';
import { testApp, testStack } from '../helpers/app';
import { formatFindings, gateFindings } from '../helpers/gate';
import { network } from './fixtures';

function build(props: Partial<AgentStreamingClusterProps> = {}, maxAzs = 3, gate = false) {
  const app = testApp({ gate });
  const stack = testStack(app);
  const vpc = network(stack, maxAzs);
  const cluster = new AgentStreamingCluster(stack, 'Kafka', { vpc, ...props });
  return { app, stack, vpc, cluster, t: () => Template.fromStack(stack) };
}

const UUID = { 'Fn::Select': [2, { 'Fn::Split': ['/', { 'Fn::GetAtt': [Match.stringLikeRegexp('^Kafka'), 'Arn'] }] }] };

describe('AgentStreamingCluster (provisioned)', () => {
  test('defaults: Kafka 3.9.x KRaft, one m7g.large broker per private subnet, 100 GiB, IAM only, TLS in transit, per-partition monitoring, broker logs', () => {
    const { t, cluster } = build();
    t().resourceCountIs('AWS::MSK::Cluster', 1);
    t().hasResourceProperties('AWS::MSK::Cluster', {
      ClusterName: cluster.clusterName,
      KafkaVersion: '3.9.x.kraft',
      NumberOfBrokerNodes: 3,
      BrokerNodeGroupInfo: {
        InstanceType: 'kafka.m7g.large',
        ClientSubnets: [
          { Ref: Match.stringLikeRegexp('NetVpcprivateSubnet1') },
          { Ref: Match.stringLikeRegexp('NetVpcprivateSubnet2') },
          { Ref: Match.stringLikeRegexp('NetVpcprivateSubnet3') },
        ],
        SecurityGroups: [{ 'Fn::GetAtt': [Match.stringLikeRegexp('KafkaSecurityGroup'), 'GroupId'] }],
        StorageInfo: { EBSStorageInfo: { VolumeSize: 100 } },
      },
      ClientAuthentication: { Sasl: { Iam: { Enabled: true } }, Unauthenticated: { Enabled: false } },
      EncryptionInfo: { EncryptionInTransit: { ClientBroker: 'TLS', InCluster: true } },
      EnhancedMonitoring: 'PER_TOPIC_PER_PARTITION',
      LoggingInfo: { BrokerLogs: { CloudWatchLogs: { Enabled: true, LogGroup: { Ref: Match.stringLikeRegexp('KafkaBrokerLogs') } } } },
      ConfigurationInfo: {
        Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('KafkaConfiguration'), 'Arn'] },
        Revision: { 'Fn::GetAtt': [Match.stringLikeRegexp('KafkaConfiguration'), 'LatestRevision.Revision'] },
      },
    });
    t().hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 30 });
    expect(cluster.serverless).toBe(false);
    expect(cluster.iamPort).toBe(9098);
  });

  test('the cluster is retained by default and its removal policy is configurable', () => {
    build().t().hasResource('AWS::MSK::Cluster', { DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
    build({ removalPolicy: RemovalPolicy.DESTROY }).t().hasResource('AWS::MSK::Cluster', { DeletionPolicy: 'Delete' });
  });

  test('cluster configuration has the CDC defaults: RF 3, min ISR 2, 7 days retention, no auto topic creation', () => {
    const { t } = build();
    t().hasResourceProperties('AWS::MSK::Configuration', {
      KafkaVersionsList: Match.absent(),
      ServerProperties: [
        'auto.create.topics.enable=false',
        'default.replication.factor=3',
        'min.insync.replicas=2',
        'num.partitions=3',
        'log.retention.ms=604800000',
        'unclean.leader.election.enable=false',
      ].join('\n'),
    });
  });

  test('retention, version, instance type, storage and broker count are configurable', () => {
    const { t } = build({
      retention: Duration.days(14), kafkaVersion: KafkaVersion.V3_8_X, instanceType: 'kafka.m7g.xlarge', volumeSizeGiB: 500, brokerCount: 6,
    });
    t().hasResourceProperties('AWS::MSK::Configuration', { ServerProperties: Match.stringLikeRegexp('log.retention.ms=1209600000') });
    t().hasResourceProperties('AWS::MSK::Cluster', {
      KafkaVersion: '3.8.x', NumberOfBrokerNodes: 6,
      BrokerNodeGroupInfo: Match.objectLike({ InstanceType: 'kafka.m7g.xlarge', StorageInfo: { EBSStorageInfo: { VolumeSize: 500 } } }),
    });
  });

  test('a customer managed key encrypts data at rest', () => {
    const app = testApp();
    const stack = testStack(app);
    const vpc = network(stack);
    const key = new kms.Key(stack, 'Key', { enableKeyRotation: true });
    new AgentStreamingCluster(stack, 'Kafka', { vpc, encryptionKey: key });
    Template.fromStack(stack).hasResourceProperties('AWS::MSK::Cluster', {
      EncryptionInfo: { EncryptionAtRest: { DataVolumeKMSKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^Key'), 'Arn'] } }, EncryptionInTransit: { ClientBroker: 'TLS', InCluster: true } },
    });
  });

  test('broker security group opens nothing to the world; brokers replicate to each other', () => {
    const { t } = build();
    const groups = t().findResources('AWS::EC2::SecurityGroup', { Properties: { GroupDescription: Match.stringLikeRegexp('MSK brokers') } });
    const [logicalId, sg] = Object.entries(groups)[0];
    expect(sg.Properties.SecurityGroupIngress).toBeUndefined();
    t().hasResourceProperties('AWS::EC2::SecurityGroupIngress', {
      GroupId: { 'Fn::GetAtt': [logicalId, 'GroupId'] }, SourceSecurityGroupId: { 'Fn::GetAtt': [logicalId, 'GroupId'] }, FromPort: 0, ToPort: 65535,
    });
  });

  test('bootstrap brokers come from one GetBootstrapBrokers call scoped to the cluster ARN', () => {
    const { t, stack, cluster } = build();
    t().hasResourceProperties('Custom::AWS', { InstallLatestAwsSdk: false });
    const create = JSON.stringify(Object.values(t().findResources('Custom::AWS'))[0].Properties.Create);
    expect(create).toContain('\\"service\\":\\"Kafka\\",\\"action\\":\\"getBootstrapBrokers\\"');
    expect(create).toContain('\\"outputPaths\\":[\\"BootstrapBrokerStringSaslIam\\"]');
    expect(create).toMatch(/ClusterArn.*KafkaDE2CE4FA/);
    t().hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: { Statement: [{ Action: 'kafka:GetBootstrapBrokers', Effect: 'Allow', Resource: { 'Fn::GetAtt': [Match.stringLikeRegexp('^Kafka'), 'Arn'] } }] },
    });
    expect(JSON.stringify(stack.resolve(cluster.bootstrapBrokersSaslIam))).toMatch(/KafkaBootstrapBrokers.*BootstrapBrokerStringSaslIam/);
  });

  test('grants name the cluster, topic and group ARNs (no kafka-cluster action on *)', () => {
    const { stack, cluster, t } = build();
    const reader = new iam.Role(stack, 'Reader', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    const writer = new iam.Role(stack, 'Writer', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    cluster.grantRead(reader, 'shop.*', 'flink-orders');
    cluster.grantWrite(writer, 'views.orders');
    const clusterArn = { 'Fn::GetAtt': [Match.stringLikeRegexp('^Kafka'), 'Arn'] };
    const arn = (type: string, name: string) => ({
      'Fn::Join': ['', [`arn:aws:kafka:us-east-1:123456789012:${type}/${cluster.clusterName}/`, UUID, `/${name}`]],
    });
    t().hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: Match.stringLikeRegexp('^Reader') }],
      PolicyDocument: { Statement: [
        { Effect: 'Allow', Action: ['kafka-cluster:Connect', 'kafka-cluster:DescribeCluster'], Resource: clusterArn },
        { Effect: 'Allow', Action: ['kafka-cluster:DescribeTopic', 'kafka-cluster:ReadData'], Resource: arn('topic', 'shop.*') },
        { Effect: 'Allow', Action: ['kafka-cluster:AlterGroup', 'kafka-cluster:DescribeGroup'], Resource: arn('group', 'flink-orders') },
      ] },
    });
    t().hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: Match.stringLikeRegexp('^Writer') }],
      PolicyDocument: { Statement: [
        { Effect: 'Allow', Action: ['kafka-cluster:Connect', 'kafka-cluster:DescribeCluster', 'kafka-cluster:WriteDataIdempotently'], Resource: clusterArn },
        { Effect: 'Allow', Action: ['kafka-cluster:DescribeTopic', 'kafka-cluster:WriteData'], Resource: arn('topic', 'views.orders') },
      ] },
    });
    for (const policy of Object.values(t().findResources('AWS::IAM::Policy'))) {
      for (const s of (policy as any).Properties.PolicyDocument.Statement) {
        const actions = [s.Action].flat();
        if (actions.some((a: string) => a.startsWith('kafka-cluster:'))) expect(s.Resource).not.toEqual('*');
      }
    }
  });

  test('grantCreateTopic allows create and describe on the topic pattern', () => {
    const { stack, cluster, t } = build();
    const role = new iam.Role(stack, 'Creator', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    cluster.grantCreateTopic(role, 'shop.*');
    t().hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: Match.stringLikeRegexp('^Creator') }],
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Action: ['kafka-cluster:CreateTopic', 'kafka-cluster:DescribeTopic'] })]) },
    });
  });

  test('consumer-lag metrics use AWS/Kafka with the cluster, group and topic dimensions', () => {
    const { stack, cluster } = build();
    const opts = { consumerGroup: 'flink-orders', topic: 'shop.public.orders' };
    for (const [metric, name] of [[cluster.metricMaxOffsetLag(opts), 'MaxOffsetLag'], [cluster.metricSumOffsetLag(opts), 'SumOffsetLag'], [cluster.metricEstimatedMaxTimeLag(opts), 'EstimatedMaxTimeLag']] as const) {
      expect(metric.namespace).toBe('AWS/Kafka');
      expect(metric.metricName).toBe(name);
      expect(metric.statistic).toBe('Maximum');
      expect(metric.period.toSeconds()).toBe(60);
      expect(stack.resolve(metric.dimensions)).toEqual({ 'Cluster Name': cluster.clusterName, 'Consumer Group': 'flink-orders', 'Topic': 'shop.public.orders' });
    }
  });

  test('a 2-AZ VPC gives RF 2 / min ISR 1 with an info note (not a gate-failing warning)', () => {
    const { stack, t } = build({}, 2);
    t().hasResourceProperties('AWS::MSK::Configuration', { ServerProperties: Match.stringLikeRegexp('default.replication.factor=2\nmin.insync.replicas=1') });
    Annotations.fromStack(stack).hasInfo('/TestStack/Kafka', Match.stringLikeRegexp('replication factor 2'));
  });

  test('passes the validation gate', () => {
    const { app } = build({}, 3, true);
    expect(formatFindings(gateFindings(app))).toBe('');
  });

  test('fails when brokerCount is not a multiple of the subnet count', () => {
    expect(() => build({ brokerCount: 4 })).toThrow(/brokerCount is 4 but there are 3 broker subnets; use a multiple of 3/);
  });

  test('fails when the cluster name has invalid characters', () => {
    expect(() => build({ clusterName: 'bad_name!' })).toThrow(/clusterName 'bad_name!' is invalid/);
  });

  test('fails when retention is shorter than an hour', () => {
    expect(() => build({ retention: Duration.minutes(5) })).toThrow(/retention is 5 minutes; keep at least 1 hour/);
  });

  test('fails when the brokers would sit in one AZ', () => {
    const stack = testStack();
    const vpc = network(stack);
    expect(() => new AgentStreamingCluster(stack, 'Kafka', { vpc, vpcSubnets: { subnets: [vpc.privateSubnets[0]] } }))
      .toThrow(/span 1 Availability Zone\(s\); MSK needs 2 or 3/);
  });
});

describe('AgentStreamingCluster (serverless)', () => {
  test('creates an MSK Serverless cluster with IAM auth in the private subnets', () => {
    const { t, cluster } = build({ serverless: true });
    t().resourceCountIs('AWS::MSK::Cluster', 0);
    t().resourceCountIs('AWS::MSK::Configuration', 0);
    t().hasResourceProperties('AWS::MSK::ServerlessCluster', {
      ClientAuthentication: { Sasl: { Iam: { Enabled: true } } },
      VpcConfigs: [{ SubnetIds: Match.arrayWith([{ Ref: Match.stringLikeRegexp('NetVpcprivateSubnet1') }]), SecurityGroups: [Match.anyValue()] }],
    });
    t().resourceCountIs('Custom::AWS', 1);
    expect(cluster.serverless).toBe(true);
    expect(cluster.defaultReplicationFactor).toBe(3);
  });

  test('fails when provisioned-only props are given', () => {
    expect(() => build({ serverless: true, instanceType: 'kafka.m7g.large' })).toThrow(/instanceType applies to provisioned clusters only/);
  });

  test('passes the validation gate', () => {
    const { app } = build({ serverless: true }, 3, true);
    expect(formatFindings(gateFindings(app))).toBe('');
  });
});

describe('AgentStreamingCluster.fromClusterAttributes (bring your own)', () => {
  const ARN = 'arn:aws:kafka:us-east-1:123456789012:cluster/existing-cdc/0b1c2d3e-aaaa-bbbb-cccc-1234567890ab-7';

  test('parses the name and UUID from a literal ARN and grants on it', () => {
    const app = testApp();
    const stack = testStack(app);
    const vpc = network(stack);
    const sg = ec2.SecurityGroup.fromSecurityGroupId(stack, 'BrokerSg', 'sg-0123456789abcdef0');
    const cluster = AgentStreamingCluster.fromClusterAttributes(stack, 'Existing', {
      clusterArn: ARN, securityGroup: sg, bootstrapBrokersSaslIam: 'b-1.existing:9098,b-2.existing:9098', vpc,
    });
    expect(cluster.clusterName).toBe('existing-cdc');
    expect(cluster.serverless).toBe(false);
    expect(stack.resolve(cluster.topicArn('shop.*'))).toBe('arn:aws:kafka:us-east-1:123456789012:topic/existing-cdc/0b1c2d3e-aaaa-bbbb-cccc-1234567890ab-7/shop.*');
    expect(stack.resolve(cluster.groupArn('flink-*'))).toBe('arn:aws:kafka:us-east-1:123456789012:group/existing-cdc/0b1c2d3e-aaaa-bbbb-cccc-1234567890ab-7/flink-*');
    const role = new iam.Role(stack, 'R', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    cluster.grantConnect(role);
    Template.fromStack(stack).hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: { Statement: [{ Effect: 'Allow', Action: ['kafka-cluster:Connect', 'kafka-cluster:DescribeCluster'], Resource: ARN }] },
    });
    Template.fromStack(stack).resourceCountIs('AWS::MSK::Cluster', 0);
  });

  test('fails when the ARN is not an MSK cluster ARN', () => {
    const stack = testStack();
    const vpc = network(stack);
    const sg = ec2.SecurityGroup.fromSecurityGroupId(stack, 'BrokerSg', 'sg-0123456789abcdef0');
    expect(() => AgentStreamingCluster.fromClusterAttributes(stack, 'X', {
      clusterArn: 'arn:aws:s3:::bucket', securityGroup: sg, bootstrapBrokersSaslIam: 'b:9098', vpc,
    })).toThrow(/is not an MSK cluster ARN/);
  });

  test('fails when the ARN is a token and no name is given', () => {
    const stack = testStack();
    const vpc = network(stack);
    const sg = ec2.SecurityGroup.fromSecurityGroupId(stack, 'BrokerSg', 'sg-0123456789abcdef0');
    expect(() => AgentStreamingCluster.fromClusterAttributes(stack, 'X', {
      clusterArn: new (require('aws-cdk-lib').CfnParameter)(stack, 'Arn').valueAsString, securityGroup: sg, bootstrapBrokersSaslIam: 'b:9098', vpc,
    })).toThrow(/clusterArn is a token.*pass clusterName/);
  });
});

describe('addTopic', () => {
  function cluster(props: Partial<import('../../constructs/streaming/cluster').AgentStreamingClusterProps> = {}) {
    const { testStack } = require('../helpers/app');
    const { AgentNetwork } = require('../../constructs/common/agent-network');
    const { AgentStreamingCluster } = require('../../constructs/streaming/cluster');
    const stack = testStack();
    const vpc = new AgentNetwork(stack, 'Net', { maxAzs: 3 }).vpc;
    return { stack, kafka: new AgentStreamingCluster(stack, 'Kafka', { vpc, ...props }) };
  }
  // Decoded back the way the service reads it: base64, then a JSON object of string values.
  const decode = (configs: any) => JSON.parse(Buffer.from(configs, 'base64').toString('utf8'));

  test('declares an AWS::MSK::Topic with the cluster\'s replication factor and time-based retention', () => {
    const { Template } = require('aws-cdk-lib/assertions');
    const { stack, kafka } = cluster();
    kafka.addTopic('Out', { topicName: 'agentdata.flink.orders_enriched' });
    const topic = Object.values(Template.fromStack(stack).findResources('AWS::MSK::Topic'))[0] as any;
    expect(topic.Properties).toMatchObject({ TopicName: 'agentdata.flink.orders_enriched', PartitionCount: 3, ReplicationFactor: 3 });
    expect(decode(topic.Properties.Configs)).toEqual({ 'cleanup.policy': 'delete', 'retention.ms': '604800000' });
  });

  test('a compacted topic keeps the latest record per key instead of expiring by age', () => {
    const { Template } = require('aws-cdk-lib/assertions');
    const { stack, kafka } = cluster();
    kafka.addTopic('Out', { topicName: 'upserts', compacted: true, partitions: 6 });
    const topic = Object.values(Template.fromStack(stack).findResources('AWS::MSK::Topic'))[0] as any;
    expect(topic.Properties.PartitionCount).toBe(6);
    expect(decode(topic.Properties.Configs)).toEqual({ 'cleanup.policy': 'compact' });
  });

  test('Configs is a literal base64 string of a JSON object with string values (the MSK topic API format), never properties lines', () => {
    const { Template } = require('aws-cdk-lib/assertions');
    const { stack, kafka } = cluster();
    kafka.addTopic('History', { topicName: 'history', retainForever: true, partitions: 1 });
    const configs = (Object.values(Template.fromStack(stack).findResources('AWS::MSK::Topic'))[0] as any).Properties.Configs;
    expect(typeof configs).toBe('string');
    expect(Buffer.from(Buffer.from(configs, 'base64').toString('utf8'), 'utf8').toString('base64')).toBe(configs);
    const decoded = decode(configs);
    expect(decoded).toEqual({ 'cleanup.policy': 'delete', 'retention.ms': '-1', 'retention.bytes': '-1' });
    expect(Object.values(decoded).every(v => typeof v === 'string')).toBe(true);
  });

  test('fails when a topic is both compacted and retained forever', () => {
    expect(() => cluster().kafka.addTopic('T', { topicName: 'x', compacted: true, retainForever: true })).toThrow(/compacted and retainForever are both set/);
  });

  test('fails on a serverless cluster and on an invalid topic name', () => {
    expect(() => cluster({ serverless: true }).kafka.addTopic('T', { topicName: 'x' })).toThrow(/MSK Serverless has no AWS::MSK::Topic/);
    expect(() => cluster().kafka.addTopic('T', { topicName: 'bad topic' })).toThrow(/topicName 'bad topic' is not a Kafka topic name/);
  });
});
