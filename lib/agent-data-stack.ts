// AgentDataStack: composes the layers from one declaration. Composition only: resource details live in constructs/.
import { Stack, StackProps } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { Construct } from 'constructs';
import { AgentNetwork } from '../constructs/common/agent-network';

export interface AgentDataStackProps extends StackProps {
  /** @default - a new VPC with public, private and isolated subnets in two AZs */
  readonly vpc?: ec2.IVpc;
}

export class AgentDataStack extends Stack {
  public readonly vpc: ec2.IVpc;

  constructor(scope: Construct, id: string, props: AgentDataStackProps = {}) {
    super(scope, id, props);
    this.vpc = props.vpc ?? new AgentNetwork(this, 'Network').vpc;
  }
}
