// Security groups whose outbound rules are exactly what their construct declares: never EC2's default allow-all.
import { IResolveContext, Lazy } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { Construct } from 'constructs';

/**
 * The rule CDK itself uses to mean "no outbound traffic": a destination no host can have, on an ICMP type and code
 * that do not exist. Listed inline, it makes CloudFormation create the group without EC2's default allow-all rule.
 */
const NO_TRAFFIC_RULE: ec2.CfnSecurityGroup.EgressProperty = {
  cidrIp: '255.255.255.255/32',
  description: 'Disallow all traffic',
  ipProtocol: 'icmp',
  fromPort: 252,
  toPort: 86,
};

/** The description of the HTTPS rule every AWS-API caller gets; tests and docs refer to it. */
export const AWS_API_EGRESS_DESCRIPTION = 'AWS service APIs over HTTPS (VPC endpoints or the NAT gateway)';

const restricted = new WeakSet<ec2.SecurityGroup>();

/** Everything of `ec2.SecurityGroupProps` except the outbound switches, which this module owns. */
export type RestrictedSecurityGroupProps = Omit<ec2.SecurityGroupProps, 'allowAllOutbound' | 'allowAllIpv6Outbound' | 'disableInlineRules'>;

/**
 * A security group that allows no outbound traffic until a rule is added, and then exactly the rules added.
 *
 * `new ec2.SecurityGroup({ allowAllOutbound: false })` alone is not enough: CDK drops its inline "disallow all"
 * placeholder as soon as any egress rule is added, also when that rule is rendered as a separate
 * `AWS::EC2::SecurityGroupEgress` (any rule whose peer is another security group, or whose port is a token). The
 * group is then declared with no inline egress, and the AWS::EC2::SecurityGroup reference says EC2 adds its
 * allow-all outbound rule to a group created without egress rules. Every group of this library is made here.
 */
export function restrictedSecurityGroup(scope: Construct, id: string, props: RestrictedSecurityGroupProps): ec2.SecurityGroup {
  const group = new ec2.SecurityGroup(scope, id, { ...props, allowAllOutbound: false, allowAllIpv6Outbound: false });
  keepEgressRestricted(group);
  return group;
}

/**
 * Keeps the inline egress list of a group made with `allowAllOutbound: false` non-empty: the group's own inline
 * rules when it has any, otherwise the no-traffic placeholder, so rules added as separate resources never leave the
 * group to EC2's default. For groups aws-cdk-lib creates on our behalf (a function's automatic group).
 */
export function keepEgressRestricted(group: ec2.ISecurityGroup): void {
  if (!(group instanceof ec2.SecurityGroup)) {
    throw new Error(`keepEgressRestricted: ${group.node.path} is an imported security group; only groups created in this app can be restricted.`);
  }
  if (group.allowAllOutbound) {
    throw new Error(`keepEgressRestricted: ${group.node.path} allows all outbound traffic. Create it with restrictedSecurityGroup() (allowAllOutbound: false).`);
  }
  if (restricted.has(group)) return;
  restricted.add(group);
  const cfn = group.node.defaultChild as ec2.CfnSecurityGroup;
  // The L2 hands the L1 its live rule list; read it at synth time, after every addEgressRule() call.
  const declared = cfn.securityGroupEgress;
  cfn.securityGroupEgress = Lazy.uncachedAny({
    produce: (context: IResolveContext) => {
      const rules = context.resolve(declared);
      return Array.isArray(rules) && rules.length > 0 ? declared : [NO_TRAFFIC_RULE];
    },
  });
}

/**
 * Outbound TCP 443 to any IPv4 address: AWS service APIs, reached through the VPC's endpoints (gateway endpoints
 * route S3 and DynamoDB prefixes, interface endpoints are VPC addresses) or the NAT gateway. Nothing else.
 */
export function allowAwsApiEgress(group: ec2.ISecurityGroup, description = AWS_API_EGRESS_DESCRIPTION): void {
  group.addEgressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(443), description);
}
