// The sink's dead-letter bucket holds full change records: customer-managed KMS key, versioning, server access logs, a declared retention.
import { Duration } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { AgentNetwork } from '../../constructs/common/agent-network';
import { AgentCache } from '../../constructs/stores/agent-cache';
import { AgentSink, AgentSinkProps } from '../../constructs/stores/agent-sink';
import { AgentView, ViewFieldType, ViewStore } from '../../constructs/stores/view';
import { testApp, testStack } from '../helpers/app';
import { FakeCluster } from './fakes';

const balances = new AgentView({
  name: 'customer_balances', description: 'Balance per customer', topic: 'agentdata.public.accounts', sourceTable: 'public.accounts',
  key: ['customer_id'], fields: [{ name: 'customer_id', type: ViewFieldType.INTEGER }], store: ViewStore.CACHE,
});

function build(props: Partial<AgentSinkProps> = {}) {
  const stack = testStack(testApp());
  const vpc = new AgentNetwork(stack, 'Net').vpc;
  const sink = new AgentSink(stack, 'Sink', {
    cluster: new FakeCluster(stack, 'Kafka', vpc), cache: new AgentCache(stack, 'Cache', { vpc, cacheName: 'c' }), views: [balances], ...props,
  });
  return { stack, sink, t: Template.fromStack(stack) };
}

test('dead letters are encrypted with a rotated customer-managed key, versioned, access-logged and TLS-only', () => {
  const { t, stack, sink } = build();
  const key = stack.getLogicalId(sink.deadLetterKey!.node.defaultChild as any);
  const bucket = t.findResources('AWS::S3::Bucket', { Properties: { BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms' } }] } } });
  expect(Object.keys(bucket)).toEqual([stack.getLogicalId(sink.deadLetterBucket!.node.defaultChild as any)]);
  const props = Object.values(bucket)[0].Properties;
  expect(props.BucketEncryption.ServerSideEncryptionConfiguration[0]).toMatchObject({
    BucketKeyEnabled: true, ServerSideEncryptionByDefault: { KMSMasterKeyID: { 'Fn::GetAtt': [key, 'Arn'] } },
  });
  expect(props.VersioningConfiguration).toEqual({ Status: 'Enabled' });
  expect(props.LoggingConfiguration).toEqual({ DestinationBucketName: { Ref: expect.stringMatching(/^SinkDeadLetterAccessLogs/) }, LogFilePrefix: 'dead-letters/' });
  t.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true, KeyPolicy: { Statement: Match.arrayWith([Match.objectLike({
    Sid: 'DenyGrantsExceptForAwsServices', Effect: 'Deny', Action: 'kms:CreateGrant',
    Condition: { BoolIfExists: { 'kms:GrantIsForAWSResource': 'false', 'aws:PrincipalIsAWSService': 'false' } },
  })]) } });
  // The sink (and its event source mapping, which writes with the function's role) may only ask for data keys.
  const policies = Object.values(t.findResources('AWS::IAM::Policy')).flatMap((p: any) => p.Properties.PolicyDocument.Statement);
  expect(policies.filter((s: any) => JSON.stringify(s.Resource).includes(key)).map((s: any) => s.Action)).toEqual(['kms:GenerateDataKey']);
});

test('the lifecycle expires dead letters after deadLetterRetention (30 days by default) and old versions after a day', () => {
  const rule = (t: Template, stack: any, sink: AgentSink) => t.toJSON().Resources[stack.getLogicalId(sink.deadLetterBucket!.node.defaultChild)].Properties.LifecycleConfiguration.Rules;
  const byDefault = build();
  expect(rule(byDefault.t, byDefault.stack, byDefault.sink)).toEqual([{
    Id: 'ExpireDeadLetters', Status: 'Enabled', ExpirationInDays: 30, NoncurrentVersionExpiration: { NoncurrentDays: 1 }, AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 },
  }]);
  expect(byDefault.sink.deadLetterRetention.toDays()).toBe(30);
  const week = build({ deadLetterRetention: Duration.days(7) });
  expect(rule(week.t, week.stack, week.sink)[0].ExpirationInDays).toBe(7);
});

test('fails when deadLetterRetention is not a whole number of days', () => {
  expect(() => build({ deadLetterRetention: Duration.hours(36) })).toThrow(/deadLetterRetention is 1 day 12 hours; S3 lifecycle expiration counts whole days/);
  expect(() => build({ deadLetterRetention: Duration.hours(5) })).toThrow(/deadLetterRetention/);
});
