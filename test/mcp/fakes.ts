// Minimal IAgentCache / IAgentSearch / decision log / catalog implementations for construct tests (the real ones live in other layers).
import { Resource, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import { Construct } from 'constructs';
import type { IAgentCache, IAgentSearch } from '../../constructs/stores/refs';
import type { ILineageCatalogSource } from '../../constructs/mcp';
import { SearchMetricsStandIn } from '../helpers/metric-stand-ins';

export class FakeCache extends Resource implements IAgentCache {
  readonly cacheArn: string;
  readonly endpointAddress = 'cache.example.internal';
  readonly endpointPort = 6379;
  readonly cacheName = 'agent-cache';
  readonly serverless = true;
  readonly nodeClusterIds: string[] = [];
  readonly connections: ec2.Connections;
  constructor(scope: Construct, id: string, vpc: ec2.IVpc) {
    super(scope, id);
    this.cacheArn = Stack.of(this).formatArn({ service: 'elasticache', resource: 'serverlesscache', resourceName: 'agent-cache', arnFormat: 'colon-resource-name' as any });
    this.connections = new ec2.Connections({ securityGroups: [new ec2.SecurityGroup(this, 'Sg', { vpc, description: 'cache' })] });
  }
  grantConnect(grantee: iam.IGrantable): iam.Grant {
    return iam.Grant.addToPrincipal({ grantee, actions: ['elasticache:Connect'], resourceArns: [this.cacheArn] });
  }
  clientEnvironment(): Record<string, string> {
    return { AGENT_CACHE_ENDPOINT: this.endpointAddress, AGENT_CACHE_PORT: '6379', AGENT_CACHE_AUTH: 'iam', AGENT_CACHE_USER: 'mcp', AGENT_CACHE_NAME: 'agent-cache' };
  }
  private metric(metricName: string, props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return new cloudwatch.Metric({ namespace: 'AWS/ElastiCache', metricName, dimensionsMap: { clusterId: this.cacheName }, ...props });
  }
  metricCpu(props?: cloudwatch.MetricOptions) { return this.metric('ElastiCacheProcessingUnits', props); }
  metricMemory(props?: cloudwatch.MetricOptions) { return this.metric('BytesUsedForCache', props); }
  metricThrottledCommands(props?: cloudwatch.MetricOptions) { return this.metric('ThrottledCmds', props); }
  metricEvictions(props?: cloudwatch.MetricOptions) { return this.metric('Evictions', props); }
  metricReadLatency(props?: cloudwatch.MetricOptions) { return this.metric('SuccessfulReadRequestLatency', props); }
  metricWriteLatency(props?: cloudwatch.MetricOptions) { return this.metric('SuccessfulWriteRequestLatency', props); }
}

export class FakeSearch extends SearchMetricsStandIn implements IAgentSearch {
  readonly domainArn: string;
  readonly domainEndpoint = 'search.example.internal';
  readonly connections: ec2.Connections;
  constructor(scope: Construct, id: string, vpc: ec2.IVpc) {
    super(scope, id);
    this.domainArn = Stack.of(this).formatArn({ service: 'es', resource: 'domain', resourceName: 'agent-search' });
    this.connections = new ec2.Connections({ securityGroups: [new ec2.SecurityGroup(this, 'Sg', { vpc, description: 'search' })] });
  }
  grantRead(grantee: iam.IGrantable, ...indexes: string[]): iam.Grant {
    return iam.Grant.addToPrincipal({ grantee, actions: ['es:ESHttpGet', 'es:ESHttpPost'], resourceArns: indexes.flatMap(i => [`${this.domainArn}/${i}`, `${this.domainArn}/${i}/*`]) });
  }
  grantWrite(grantee: iam.IGrantable, ...indexes: string[]): iam.Grant {
    return iam.Grant.addToPrincipal({ grantee, actions: ['es:ESHttpPost', 'es:ESHttpPut'], resourceArns: indexes.map(i => `${this.domainArn}/${i}/*`) });
  }
  clientEnvironment(): Record<string, string> {
    return { AGENT_SEARCH_ENDPOINT: this.domainEndpoint };
  }
}


export class FakeCatalog extends Construct implements ILineageCatalogSource {
  readonly parameter: ssm.StringParameter;
  constructor(scope: Construct, id: string) {
    super(scope, id);
    this.parameter = new ssm.StringParameter(this, 'Param', { stringValue: '{"version":1,"namespace":"x","nodes":[],"edges":[],"views":[]}' });
  }
  grantRead(grantee: iam.IGrantable): iam.Grant {
    return this.parameter.grantRead(grantee);
  }
  environment(): Record<string, string> {
    return { AGENT_LINEAGE_CATALOG: `ssm:${this.parameter.parameterName}` };
  }
}
