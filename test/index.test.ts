// The package entry point exports every public construct and the composition; the cdk-nag gate is the `gate` subpath.
import * as api from '../index';

test('every public construct and the composition are exported from the package root', () => {
  const expected = [
    'AgentDataStack', 'AgentDataPlatform', 'DeploymentProfile', 'ViewSource',
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

test('the package root does not load cdk-nag (an optional peer dependency); the gate entry does, when applied', () => {
  // A fresh process: jest's module registry would hide what `require` really loads.
  const { execFileSync } = require('child_process') as typeof import('child_process');
  const probe = [
    "require('ts-node').register({ transpileOnly: true });",
    "const root = require('./index');",
    "const loaded = () => Object.keys(require.cache).some(k => k.includes('/node_modules/cdk-nag/'));",
    "const before = loaded();",
    "const gate = require('./gate');",
    "const afterImport = loaded();",
    "gate.applyValidationGate(new (require('aws-cdk-lib').App)());",
    "console.log(JSON.stringify({ before, afterImport, afterApply: loaded(), rootHasGate: 'applyValidationGate' in root }));",
  ].join('\n');
  const out = execFileSync(process.execPath, ['-e', probe], { cwd: require('path').join(__dirname, '..'), encoding: 'utf8' });
  expect(JSON.parse(out.trim().split('\n').pop()!)).toEqual({ before: false, afterImport: false, afterApply: true, rootHasGate: false });
});
