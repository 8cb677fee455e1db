// The VPC the stack runs in when the caller brings none: private subnets for everything, flow logs on.
import { RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { acknowledgeDeployTimeFunctions, acknowledgeLogGroup } from './nag';

export interface AgentNetworkProps {
  /** @default 2 (MSK and multi-AZ stores need at least two; production profiles use 3) */
  readonly maxAzs?: number;
  /** NAT gateways for outbound access (MSK Connect's plugin-free setup and deploy-time downloads need it). @default 1 */
  readonly natGateways?: number;
  /** @default ec2.IpAddresses.cidr('10.40.0.0/16') */
  readonly ipAddresses?: ec2.IIpAddresses;
}

export class AgentNetwork extends Construct {
  public readonly vpc: ec2.Vpc;

  constructor(scope: Construct, id: string, props: AgentNetworkProps = {}) {
    super(scope, id);
    const maxAzs = props.maxAzs ?? 2;
    if (maxAzs < 2) {
      throw new Error(`AgentNetwork: maxAzs is ${maxAzs}; MSK and RDS subnet groups need at least 2 Availability Zones. Set maxAzs to 2 or more.`);
    }
    this.vpc = new ec2.Vpc(this, 'Vpc', {
      ipAddresses: props.ipAddresses ?? ec2.IpAddresses.cidr('10.40.0.0/16'),
      maxAzs,
      natGateways: props.natGateways ?? 1,
      subnetConfiguration: [
        { name: 'public', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24 },
        { name: 'private', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS, cidrMask: 20 },
        { name: 'isolated', subnetType: ec2.SubnetType.PRIVATE_ISOLATED, cidrMask: 24 },
      ],
      restrictDefaultSecurityGroup: true,
    });
    for (const subnet of this.vpc.publicSubnets) {
      Validations.of(subnet).acknowledge({
        id: 'ControlTower-CT.EC2.PR.11',
        reason: 'Public subnets hold only the NAT gateways (with their Elastic IPs); every function, broker, store and database is placed in the private or isolated subnets.',
      });
    }
    // restrictDefaultSecurityGroup is a custom resource aws-cdk-lib builds as raw CfnResources (a stack singleton).
    const restrictProvider = Stack.of(this).node.tryFindChild('Custom::VpcRestrictDefaultSGCustomResourceProvider');
    if (restrictProvider) {
      Validations.of(restrictProvider).acknowledge({
        id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
        reason: 'aws-cdk-lib\'s restrictDefaultSecurityGroup handler role carries the AWS-managed basic execution role (log writes only); its other permissions are the two ingress/egress revokes on this VPC\'s default security group.',
      });
      acknowledgeDeployTimeFunctions(restrictProvider, 'aws-cdk-lib\'s restrictDefaultSecurityGroup handler (removes the default security group\'s rules at deploy time)');
    }
    const flowLogs = new logs.LogGroup(this, 'FlowLogs', {
      retention: logs.RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    acknowledgeLogGroup(flowLogs);
    this.vpc.addFlowLog('FlowLog', {
      destination: ec2.FlowLogDestination.toCloudWatchLogs(flowLogs),
      trafficType: ec2.FlowLogTrafficType.ALL,
    });
    // Gateway endpoints cost nothing and keep S3 (dead letters, artifacts) and DynamoDB (decision audit) traffic off
    // the NAT gateway and inside the VPC.
    this.vpc.addGatewayEndpoint('S3', { service: ec2.GatewayVpcEndpointAwsService.S3 });
    this.vpc.addGatewayEndpoint('DynamoDb', { service: ec2.GatewayVpcEndpointAwsService.DYNAMODB });
  }
}
