// AgentFunction and AgentProvider: runtime, architecture, scoped logging permissions and a clean gate.
import { CustomResource } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { AgentNetwork } from '../../constructs/common/agent-network';
import { AgentProvider } from '../../constructs/common/agent-provider';
import { handlerEntry } from '../../constructs/common/agent-function';
import { testApp, testStack } from '../helpers/app';
import * as path from 'path';

const NOOP = path.join(__dirname, '..', 'fixtures', 'noop-handler.ts');
import { formatFindings, gateFindings } from '../helpers/gate';

describe('AgentProvider', () => {
  function build(gate = false) {
    const app = testApp({ gate });
    const stack = testStack(app);
    const vpc = new AgentNetwork(stack, 'Net').vpc;
    const provider = new AgentProvider(stack, 'Probe', {
      handlerName: 'noop', entry: NOOP, description: 'probe', vpc, isCompleteHandlerName: 'noop', isCompleteEntry: NOOP,
    });
    new CustomResource(stack, 'Res', { serviceToken: provider.serviceToken });
    return { app, stack };
  }

  test('handler functions run Node.js 24 on arm64 with JSON logs to a log group with retention', () => {
    const t = Template.fromStack(build().stack);
    t.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs24.x', Architectures: ['arm64'], LoggingConfig: Match.objectLike({ LogFormat: 'JSON' }),
    });
    t.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 30 });
  });

  test('log permissions name the function\'s own log group, not a wildcard', () => {
    const t = Template.fromStack(build().stack);
    t.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({
        Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        Resource: { 'Fn::GetAtt': [Match.stringLikeRegexp('ProbeOnEventLogs'), 'Arn'] },
      })]) },
    });
  });

  test('no AWS-managed policy is attached to our handler roles', () => {
    const t = Template.fromStack(build().stack);
    const roles = t.findResources('AWS::IAM::Role', { Properties: { Description: Match.stringLikeRegexp('^Execution role for') } });
    expect(Object.keys(roles).length).toBe(2);
    for (const role of Object.values(roles)) expect(role.Properties.ManagedPolicyArns).toBeUndefined();
  });

  test('passes the validation gate', () => {
    const { app } = build(true);
    expect(formatFindings(gateFindings(app))).toBe('');
  });

  test('fails with a clear message when a handler does not exist', () => {
    expect(() => handlerEntry('no-such-handler')).toThrow(/handler 'no-such-handler' not found/);
  });
});

describe('AgentNetwork', () => {
  test('refuses a single-AZ network', () => {
    const stack = testStack();
    expect(() => new AgentNetwork(stack, 'Net', { maxAzs: 1 })).toThrow(/maxAzs is 1.*at least 2/);
  });

  test('has flow logs and a locked-down default security group', () => {
    const stack = testStack();
    new AgentNetwork(stack, 'Net');
    const t = Template.fromStack(stack);
    t.hasResourceProperties('AWS::EC2::FlowLog', { TrafficType: 'ALL', LogDestinationType: 'cloud-watch-logs' });
    t.resourceCountIs('Custom::VpcRestrictDefaultSG', 1);
    // Free gateway endpoints keep S3 and DynamoDB traffic inside the VPC.
    const gateways = Object.values(t.findResources('AWS::EC2::VPCEndpoint', { Properties: { VpcEndpointType: 'Gateway' } })) as any[];
    expect(gateways.map(g => JSON.stringify(g.Properties.ServiceName).match(/\.(s3|dynamodb)"/)?.[1]).sort()).toEqual(['dynamodb', 's3']);
  });
});
