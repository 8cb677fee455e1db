// Minimal stand-ins for the streaming cluster and search domain interfaces, so the sink's wiring can be tested without the other layers.
import { Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import type { IAgentSearch } from '../../constructs/stores/refs';
import type { IAgentStreamingCluster } from '../../constructs/streaming/refs';
import { ClusterMetricsStandIn } from '../helpers/metric-stand-ins';
import { SearchMetricsStandIn } from '../helpers/metric-stand-ins';

export class FakeCluster extends ClusterMetricsStandIn implements IAgentStreamingCluster {
  readonly clusterName = 'agent-kafka';
  readonly clusterArn: string;
  readonly serverless = false;
  readonly bootstrapBrokersSaslIam = 'b-1.agent-kafka:9098';
  readonly iamPort = 9098;
  readonly connections: ec2.Connections;

  constructor(scope: Construct, id: string, readonly vpc: ec2.IVpc) {
    super(scope, id);
    this.clusterArn = Stack.of(this).formatArn({ service: 'kafka', resource: 'cluster', resourceName: 'agent-kafka/uuid-1' });
    this.connections = new ec2.Connections({ securityGroups: [new ec2.SecurityGroup(this, 'Sg', { vpc })], defaultPort: ec2.Port.tcp(9098) });
  }

  topicArn(topic: string): string {
    return Stack.of(this).formatArn({ service: 'kafka', resource: 'topic', resourceName: `agent-kafka/uuid-1/${topic}` });
  }

  groupArn(group: string): string {
    return Stack.of(this).formatArn({ service: 'kafka', resource: 'group', resourceName: `agent-kafka/uuid-1/${group}` });
  }

  grantConnect(grantee: iam.IGrantable): iam.Grant {
    return iam.Grant.addToPrincipal({ grantee, actions: ['kafka-cluster:Connect', 'kafka-cluster:DescribeCluster'], resourceArns: [this.clusterArn] });
  }

  grantRead(grantee: iam.IGrantable, topic: string, group: string): iam.Grant {
    this.grantConnect(grantee);
    iam.Grant.addToPrincipal({ grantee, actions: ['kafka-cluster:DescribeTopic', 'kafka-cluster:ReadData'], resourceArns: [this.topicArn(topic)] });
    return iam.Grant.addToPrincipal({ grantee, actions: ['kafka-cluster:AlterGroup', 'kafka-cluster:DescribeGroup'], resourceArns: [this.groupArn(group)] });
  }

  grantWrite(grantee: iam.IGrantable, topic: string): iam.Grant {
    return iam.Grant.addToPrincipal({ grantee, actions: ['kafka-cluster:WriteData'], resourceArns: [this.topicArn(topic)] });
  }

  grantCreateTopic(grantee: iam.IGrantable, topic: string): iam.Grant {
    return iam.Grant.addToPrincipal({ grantee, actions: ['kafka-cluster:CreateTopic'], resourceArns: [this.topicArn(topic)] });
  }
}

export class FakeSearch extends SearchMetricsStandIn implements IAgentSearch {
  readonly domainArn: string;
  readonly domainEndpoint = 'vpc-agent-search.us-east-1.es.amazonaws.com';
  readonly connections: ec2.Connections;

  constructor(scope: Construct, id: string, vpc: ec2.IVpc) {
    super(scope, id);
    this.domainArn = Stack.of(this).formatArn({ service: 'es', resource: 'domain', resourceName: 'agent-search' });
    this.connections = new ec2.Connections({ securityGroups: [new ec2.SecurityGroup(this, 'Sg', { vpc })], defaultPort: ec2.Port.tcp(443) });
  }

  grantRead(grantee: iam.IGrantable, ...indexes: string[]): iam.Grant {
    return iam.Grant.addToPrincipal({ grantee, actions: ['es:ESHttpGet'], resourceArns: indexes.map(i => `${this.domainArn}/${i}`) });
  }

  grantWrite(grantee: iam.IGrantable, ...indexes: string[]): iam.Grant {
    return iam.Grant.addToPrincipal({ grantee, actions: ['es:ESHttpPost'], resourceArns: indexes.map(i => `${this.domainArn}/${i}`) });
  }

  clientEnvironment(): Record<string, string> {
    return { AGENT_SEARCH_ENDPOINT: this.domainEndpoint };
  }
}
