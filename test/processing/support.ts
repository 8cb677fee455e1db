// A stand-in IAgentStreamingCluster (the streaming layer builds the real one) with real, scoped grants, so application tests see actual policies.
import { Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import type { IAgentStreamingCluster } from '../../constructs/streaming/refs';
import { ClusterMetricsStandIn } from '../helpers/metric-stand-ins';

export class StandInCluster extends ClusterMetricsStandIn implements IAgentStreamingCluster {
  public readonly clusterName = 'agent-cluster';
  public readonly clusterArn: string;
  public readonly serverless = false;
  public readonly bootstrapBrokersSaslIam = 'b-1.agent.kafka.us-east-1.amazonaws.com:9098,b-2.agent.kafka.us-east-1.amazonaws.com:9098';
  public readonly iamPort = 9098;
  public readonly connections: ec2.Connections;

  constructor(scope: Construct, id: string, public readonly vpc: ec2.IVpc) {
    super(scope, id);
    this.clusterArn = Stack.of(this).formatArn({ service: 'kafka', resource: 'cluster', resourceName: `${this.clusterName}/1111-2222` });
    const sg = new ec2.SecurityGroup(this, 'Brokers', { vpc, description: 'brokers', allowAllOutbound: false });
    this.connections = new ec2.Connections({ securityGroups: [sg], defaultPort: ec2.Port.tcp(this.iamPort) });
  }

  public topicArn(topic: string): string {
    return Stack.of(this).formatArn({ service: 'kafka', resource: 'topic', resourceName: `${this.clusterName}/1111-2222/${topic}` });
  }

  public groupArn(group: string): string {
    return Stack.of(this).formatArn({ service: 'kafka', resource: 'group', resourceName: `${this.clusterName}/1111-2222/${group}` });
  }

  public grantConnect(grantee: iam.IGrantable): iam.Grant {
    return iam.Grant.addToPrincipal({ grantee, actions: ['kafka-cluster:Connect', 'kafka-cluster:DescribeCluster'], resourceArns: [this.clusterArn] });
  }

  public grantRead(grantee: iam.IGrantable, topic: string, group: string): iam.Grant {
    this.grantConnect(grantee);
    iam.Grant.addToPrincipal({ grantee, actions: ['kafka-cluster:DescribeGroup', 'kafka-cluster:AlterGroup'], resourceArns: [this.groupArn(group)] });
    return iam.Grant.addToPrincipal({ grantee, actions: ['kafka-cluster:DescribeTopic', 'kafka-cluster:ReadData'], resourceArns: [this.topicArn(topic)] });
  }

  public grantWrite(grantee: iam.IGrantable, topic: string): iam.Grant {
    this.grantConnect(grantee);
    return iam.Grant.addToPrincipal({ grantee, actions: ['kafka-cluster:DescribeTopic', 'kafka-cluster:WriteData'], resourceArns: [this.topicArn(topic)] });
  }

  public grantCreateTopic(grantee: iam.IGrantable, topic: string): iam.Grant {
    this.grantConnect(grantee);
    return iam.Grant.addToPrincipal({ grantee, actions: ['kafka-cluster:CreateTopic'], resourceArns: [this.topicArn(topic)] });
  }
}
