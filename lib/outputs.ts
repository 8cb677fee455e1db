// The stack outputs of the agent data stack: endpoints, ARNs and where to look (dashboard, lineage, metrics).
import { CfnOutput, Stack } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { LINEAGE_CATALOG_ENV } from '../contract/lineage';
import type { IAgentDataResources } from './agent-data-props';

export function addOutputs(scope: Construct, r: IAgentDataResources): void {
  const out = (id: string, value: string, description: string) => new CfnOutput(scope, id, { value, description });
  out('McpEndpointUrl', r.mcp.url, 'MCP endpoint (Streamable HTTP); IAM-authenticated unless mcpOptions.authorization says otherwise');
  out('DashboardUrl', `https://console.aws.amazon.com/cloudwatch/home?region=${Stack.of(scope).region}#dashboards:name=${r.observability.dashboard.dashboardName}`,
    'End-to-end lag dashboard');
  out('KafkaClusterArn', r.cluster.clusterArn, 'Amazon MSK cluster');
  out('ConnectorArn', r.connector.connectorArn, 'Debezium connector on MSK Connect');
  out('SourceEndpoint', r.source.endpointAddress, 'Source database writer endpoint');
  for (const s of r.sources.slice(1)) {
    const suffix = s.name.replace(/[^A-Za-z0-9]/g, '');
    out(`ConnectorArn${suffix}`, s.connector.connectorArn, `Debezium connector of source ${s.name}`);
    out(`SourceEndpoint${suffix}`, s.source.endpointAddress, `Writer endpoint of source ${s.name}`);
  }
  out('LineageCatalog', r.lineage.environment()[LINEAGE_CATALOG_ENV], 'Lineage catalog location (SSM parameters and digest)');
  out('DecisionAuditTable', r.decisionAuditLog.tableArn, 'Decision audit DynamoDB table');
  for (const [name, app] of Object.entries(r.transforms)) out(`FlinkApplicationArn${name.replace(/[^A-Za-z0-9]/g, '')}`, app.applicationArn, `Flink SQL application ${name}`);
  if (r.cache) {
    out('CacheArn', r.cache.cacheArn, 'ElastiCache (Valkey) cache');
    out('CacheEndpoint', r.cache.endpointAddress, 'Cache endpoint (TLS)');
  }
  if (r.search) {
    out('SearchDomainArn', r.search.domainArn, 'OpenSearch Service domain');
    out('SearchEndpoint', r.search.domainEndpoint, 'Search domain endpoint (HTTPS)');
  }
  out('SinkMetricsNamespace', r.sink.metricsNamespace, 'CloudWatch namespace of the sink metrics');
}
