// The package entry point exports every public construct, the composition and the validation gate.
import * as api from '../index';

test('every public construct and the composition are exported from the package root', () => {
  const expected = [
    'AgentDataStack', 'AgentDataPlatform', 'DeploymentProfile', 'ViewSource', 'applyValidationGate', 'createGatedApp',
    'AgentFunction', 'AgentProvider', 'AgentNetwork', 'DeployTimeArtifact', 'ArtifactBucket',
    'CdcSourceDatabase', 'SourceEngine',
    'AgentStreamingCluster', 'KafkaVersion', 'DebeziumPlugin', 'DebeziumConnector', 'ConnectorCapacity',
    'FlinkSqlApplication', 'FlinkTable', 'FlinkRuntime', 'validateFlinkSql',
    'AgentView', 'ViewStore', 'ViewFieldType', 'ViewTopicFormat', 'AgentCache', 'CacheAuthentication', 'AgentSearch', 'AgentSink', 'SinkDeadLetter',
    'AgentMcpServer', 'McpAuthorization',
    'AgentObservability', 'AgentLineageCatalog', 'DecisionAuditLog', 'toOpenLineage',
  ];
  const missing = expected.filter(name => typeof (api as Record<string, unknown>)[name] === 'undefined');
  expect(missing).toEqual([]);
});
