// DecisionAuditLog: table settings, append-only grant for the MCP role, defaults, validation and the gate.
import { RemovalPolicy } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { DecisionAuditLog } from '../../constructs/governance/decision-audit-log';
import { testApp, testStack } from '../helpers/app';
import { formatFindings, gateFindings } from '../helpers/gate';

function build(props = {}, gate = false) {
  const app = testApp({ gate });
  const stack = testStack(app);
  const log = new DecisionAuditLog(stack, 'Decisions', props);
  const role = new iam.Role(stack, 'McpRole', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
  log.grantRecord(role);
  return { app, stack, log, role };
}

describe('DecisionAuditLog', () => {
  test('on-demand, point-in-time recovery, encrypted with the AWS managed key by default', () => {
    const t = Template.fromStack(build().stack);
    t.hasResourceProperties('AWS::DynamoDB::GlobalTable', {
      BillingMode: 'PAY_PER_REQUEST',
      SSESpecification: { SSEEnabled: true, SSEType: 'KMS' },
      Replicas: [Match.objectLike({ PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true }, DeletionProtectionEnabled: true })],
      KeySchema: [{ AttributeName: 'decisionId', KeyType: 'HASH' }],
      GlobalSecondaryIndexes: [{
        IndexName: 'byAgent',
        KeySchema: [{ AttributeName: 'agentId', KeyType: 'HASH' }, { AttributeName: 'recordedAt', KeyType: 'RANGE' }],
        Projection: { ProjectionType: 'ALL' },
      }],
    });
  });

  test('is retained by default (an audit log outlives the stack)', () => {
    Template.fromStack(build().stack).hasResource('AWS::DynamoDB::GlobalTable', { DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
  });

  test('removal policy and deletion protection can be relaxed explicitly', () => {
    const t = Template.fromStack(build({ removalPolicy: RemovalPolicy.DESTROY, deletionProtection: false }).stack);
    t.hasResource('AWS::DynamoDB::GlobalTable', { DeletionPolicy: 'Delete' });
    t.hasResourceProperties('AWS::DynamoDB::GlobalTable', { Replicas: [Match.objectLike({ DeletionProtectionEnabled: false })] });
  });

  test('the MCP role may put, get and query only: no update, delete or batch write (those are explicitly denied)', () => {
    const t = Template.fromStack(build().stack);
    const policies = Object.values(t.findResources('AWS::IAM::Policy'));
    const all = policies.flatMap(p => p.Properties.PolicyDocument.Statement);
    const denies = all.filter(s => s.Effect === 'Deny');
    expect(denies).toEqual([expect.objectContaining({ Sid: 'DecisionAuditAppendOnly', Action: expect.arrayContaining(['dynamodb:UpdateItem', 'dynamodb:DeleteItem']) })]);
    const statements = all.filter(s => s.Effect === 'Allow');
    expect(statements).toHaveLength(1);
    expect([...statements[0].Action].sort()).toEqual(['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query']);
    expect(statements[0].Resource).toEqual([
      { 'Fn::GetAtt': [expect.stringMatching(/^Decisions/), 'Arn'] },
      { 'Fn::Join': ['', [{ 'Fn::GetAtt': [expect.stringMatching(/^Decisions/), 'Arn'] }, '/index/byAgent']] },
    ]);
    const allowed = JSON.stringify(statements);
    for (const forbidden of ['UpdateItem', 'DeleteItem', 'BatchWriteItem', 'PartiQL', 'dynamodb:*']) expect(allowed).not.toContain(forbidden);
  });

  test('a customer managed key is used and granted to the recorder', () => {
    const app = testApp();
    const stack = testStack(app);
    const key = new kms.Key(stack, 'Key', { enableKeyRotation: true });
    const log = new DecisionAuditLog(stack, 'Decisions', { encryptionKey: key });
    const role = new iam.Role(stack, 'McpRole', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    log.grantRecord(role);
    const t = Template.fromStack(stack);
    t.hasResourceProperties('AWS::DynamoDB::GlobalTable', {
      SSESpecification: { SSEEnabled: true, SSEType: 'KMS' },
      Replicas: [Match.objectLike({ SSESpecification: { KMSMasterKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^Key'), 'Arn'] } } })],
    });
    t.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Action: Match.arrayWith(['kms:Decrypt', 'kms:Encrypt']) })]) },
    });
  });

  test('environment() names the table for the decision store', () => {
    const { stack, log } = build();
    expect(stack.resolve(log.environment())).toEqual({ AGENT_DECISION_TABLE: { Ref: expect.stringMatching(/^Decisions/) } });
  });

  test('passes the validation gate', () => {
    const { app } = build({}, true);
    expect(formatFindings(gateFindings(app))).toBe('');
  });

  test('fails when the table name is invalid', () => {
    expect(() => build({ tableName: 'no spaces allowed' })).toThrow(/tableName 'no spaces allowed' is not a valid DynamoDB table name/);
  });
});

describe('DecisionAuditLog.fromTableAttributes', () => {
  test('grants the same put/get/query actions on the named table and index', () => {
    const app = testApp();
    const stack = testStack(app);
    const log = DecisionAuditLog.fromTableAttributes(stack, 'Existing', { tableName: 'decisions' });
    const role = new iam.Role(stack, 'McpRole', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    log.grantRecord(role);
    const t = Template.fromStack(stack);
    t.resourceCountIs('AWS::DynamoDB::GlobalTable', 0);
    t.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: { Statement: [Match.objectLike({
        Resource: [
          'arn:aws:dynamodb:us-east-1:123456789012:table/decisions',
          'arn:aws:dynamodb:us-east-1:123456789012:table/decisions/index/byAgent',
        ],
      }), Match.objectLike({ Effect: 'Deny', Resource: 'arn:aws:dynamodb:us-east-1:123456789012:table/decisions' })] },
    });
    expect(log.environment()).toEqual({ AGENT_DECISION_TABLE: 'decisions' });
  });
});
