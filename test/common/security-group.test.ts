// restrictedSecurityGroup and the groups AgentFunction and AgentProvider make: egress is exactly what was declared.
import * as path from 'path';
import { CustomResource } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { AgentFunction } from '../../constructs/common/agent-function';
import { AgentProvider } from '../../constructs/common/agent-provider';
import { AWS_API_EGRESS_DESCRIPTION, allowAwsApiEgress, keepEgressRestricted, restrictedSecurityGroup } from '../../constructs/common/security-group';
import { testStack } from '../helpers/app';

const NOOP = path.join(__dirname, '..', 'fixtures', 'noop-handler.ts');
const NO_TRAFFIC = { CidrIp: '255.255.255.255/32', Description: 'Disallow all traffic', IpProtocol: 'icmp', FromPort: 252, ToPort: 86 };
const HTTPS_ANYWHERE = { CidrIp: '0.0.0.0/0', Description: AWS_API_EGRESS_DESCRIPTION, IpProtocol: 'tcp', FromPort: 443, ToPort: 443 };

function setup() {
  const stack = testStack();
  const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 1 });
  return { stack, vpc };
}

function group(t: Template, logicalIdPrefix: string): any {
  const found = Object.entries(t.findResources('AWS::EC2::SecurityGroup')).filter(([id]) => id.startsWith(logicalIdPrefix));
  expect(found).toHaveLength(1);
  return found[0][1].Properties;
}

describe('restrictedSecurityGroup', () => {
  test('a group whose only rule is to another group keeps the no-traffic rule inline (EC2 would otherwise allow all)', () => {
    const { stack, vpc } = setup();
    const peer = restrictedSecurityGroup(stack, 'Peer', { vpc, description: 'peer' });
    const sg = restrictedSecurityGroup(stack, 'Client', { vpc, description: 'client' });
    sg.connections.allowTo(peer, ec2.Port.tcp(9098), 'to the peer');
    const t = Template.fromStack(stack);
    expect(group(t, 'Client').SecurityGroupEgress).toEqual([NO_TRAFFIC]);
    t.hasResourceProperties('AWS::EC2::SecurityGroupEgress', {
      GroupId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^Client'), 'GroupId'] },
      DestinationSecurityGroupId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^Peer'), 'GroupId'] }, FromPort: 9098, ToPort: 9098,
    });
  });

  test('a plain ec2.SecurityGroup with allowAllOutbound false loses its inline egress in the same case (the defect this fixes)', () => {
    const { stack, vpc } = setup();
    const peer = new ec2.SecurityGroup(stack, 'Peer', { vpc, allowAllOutbound: false });
    const sg = new ec2.SecurityGroup(stack, 'Client', { vpc, allowAllOutbound: false });
    sg.connections.allowTo(peer, ec2.Port.tcp(9098));
    expect(group(Template.fromStack(stack), 'Client').SecurityGroupEgress).toBeUndefined();
  });

  test('inline rules replace the placeholder; a group without rules keeps it', () => {
    const { stack, vpc } = setup();
    const https = restrictedSecurityGroup(stack, 'Https', { vpc, description: 'https' });
    allowAwsApiEgress(https);
    restrictedSecurityGroup(stack, 'Closed', { vpc, description: 'closed' });
    const t = Template.fromStack(stack);
    expect(group(t, 'Https').SecurityGroupEgress).toEqual([HTTPS_ANYWHERE]);
    expect(group(t, 'Closed').SecurityGroupEgress).toEqual([NO_TRAFFIC]);
  });

  test('fails when asked to restrict a group that allows all outbound traffic, or an imported one', () => {
    const { stack, vpc } = setup();
    const open = new ec2.SecurityGroup(stack, 'Open', { vpc });
    expect(() => keepEgressRestricted(open)).toThrow(/Open allows all outbound traffic\. Create it with restrictedSecurityGroup\(\)/);
    const imported = ec2.SecurityGroup.fromSecurityGroupId(stack, 'Imported', 'sg-0123456789abcdef0');
    expect(() => keepEgressRestricted(imported)).toThrow(/Imported is an imported security group/);
  });
});

describe('functions in a VPC', () => {
  test('AgentFunction gets its own group with only HTTPS to AWS APIs, plus the store ports its construct opens', () => {
    const { stack, vpc } = setup();
    const fn = new AgentFunction(stack, 'Fn', { handlerName: 'noop', entry: NOOP, description: 'probe', vpc });
    const store = restrictedSecurityGroup(stack, 'Store', { vpc, description: 'store' });
    store.connections.allowFrom(fn, ec2.Port.tcp(6379));
    const t = Template.fromStack(stack);
    expect(group(t, 'FnSecurityGroup').SecurityGroupEgress).toEqual([HTTPS_ANYWHERE]);
    t.hasResourceProperties('AWS::EC2::SecurityGroupEgress', {
      GroupId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^FnSecurityGroup'), 'GroupId'] }, FromPort: 6379, ToPort: 6379,
    });
  });

  test('AgentFunction keeps the groups it is given and creates none', () => {
    const { stack, vpc } = setup();
    const given = new ec2.SecurityGroup(stack, 'Given', { vpc });
    new AgentFunction(stack, 'Fn', { handlerName: 'noop', entry: NOOP, description: 'probe', vpc, securityGroups: [given] });
    Template.fromStack(stack).resourceCountIs('AWS::EC2::SecurityGroup', 1);
  });

  test('AgentProvider: the framework functions share one group with only HTTPS; no group in the stack allows all traffic', () => {
    const { stack, vpc } = setup();
    const provider = new AgentProvider(stack, 'Probe', {
      handlerName: 'noop', entry: NOOP, description: 'probe', vpc, isCompleteHandlerName: 'noop', isCompleteEntry: NOOP,
    });
    new CustomResource(stack, 'Res', { serviceToken: provider.serviceToken });
    const t = Template.fromStack(stack);
    expect(group(t, 'ProbeFrameworkSecurityGroup').SecurityGroupEgress).toEqual([HTTPS_ANYWHERE]);
    for (const [id, sg] of Object.entries(t.findResources('AWS::EC2::SecurityGroup'))) {
      expect({ id, inlineRules: sg.Properties.SecurityGroupEgress?.length ?? 0 }).not.toEqual({ id, inlineRules: 0 });
      expect({ id, egress: sg.Properties.SecurityGroupEgress }).not.toEqual({ id, egress: expect.arrayContaining([expect.objectContaining({ IpProtocol: '-1' })]) });
    }
    const frameworkFunctions = Object.values(t.findResources('AWS::Lambda::Function'))
      .filter((f: any) => JSON.stringify(f.Properties.Description ?? '').includes('AWS CDK resource provider framework'));
    expect(frameworkFunctions.length).toBeGreaterThan(0);
    for (const f of frameworkFunctions) {
      expect(f.Properties.VpcConfig.SecurityGroupIds).toEqual([{ 'Fn::GetAtt': [expect.stringMatching(/^ProbeFrameworkSecurityGroup/), 'GroupId'] }]);
    }
  });
});
