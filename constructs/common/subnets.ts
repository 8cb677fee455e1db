// The one subnet rule of the library: private subnets with egress where the VPC has them, else its isolated subnets.
import * as ec2 from 'aws-cdk-lib/aws-ec2';

/**
 * Where a construct places its network interfaces by default: the VPC's private subnets with egress (NAT) when it has
 * any, else its isolated subnets (then AWS APIs are reached through interface endpoints).
 */
export function privateSubnetsWithEgressElseIsolated(vpc: ec2.IVpc): ec2.SubnetSelection {
  return { subnetType: hasEgressSubnets(vpc) ? ec2.SubnetType.PRIVATE_WITH_EGRESS : ec2.SubnetType.PRIVATE_ISOLATED };
}

/** Whether the VPC has private subnets with egress (`IVpc.privateSubnets` holds only those). */
export function hasEgressSubnets(vpc: ec2.IVpc): boolean {
  return vpc.privateSubnets.length > 0;
}
