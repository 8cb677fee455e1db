// The package root exports constructs, their props, enum-like classes and the types users need; the helpers the constructs
// share (security groups, handler paths, metric-name and permission constants, SQL rewriting) stay internal.
import * as fs from 'fs';
import * as path from 'path';
import * as api from '../../index';

/** Internals the root exported before the public API was made explicit; none may come back. */
const INTERNAL = [
  'restrictedSecurityGroup', 'allowAwsApiEgress', 'keepEgressRestricted', 'AWS_API_EGRESS_DESCRIPTION', 'PACKAGE_ROOT', 'handlerEntry',
  'AGENT_LAMBDA_RUNTIME', 'acknowledgeProviderFramework', 'cdcParameters', 'MAX_INITIAL_SCHEMA_BYTES', 'encodeTopicConfigs', 'topicConfigs',
  'MSK_IAM_PORT', 'KAFKA_CONNECT_VERSION', 'mavenCentralPluginUrl', 'appendTableOptions', 'knownTableOf', 'sqlString', 'splitFlinkSql',
  'normalizeTableName', 'formatFlinkSqlProblems', 'consumerGroupId', 'SQL_RUNNER_GROUP', 'SQL_VARIABLES_GROUP', 'CDC_EVENTS_DUPLICATE',
  'BOOTSTRAP_SERVERS_VARIABLE', 'FLINK_DEPENDENCIES_JAR', 'MSK_IAM_AUTH_VERSION', 'viewsEnvironment', 'APP_ACCESS_STRING', 'readerAccessString',
  'FGAC_READ', 'FGAC_WRITE', 'SEARCH_ADMIN_ACTIONS', 'SEARCH_READ_ACTIONS', 'SEARCH_WRITE_ACTIONS', 'DECISIONS_BY_AGENT_INDEX',
  'DECISION_MUTATE_ACTIONS', 'LINEAGE_ADVANCED_BYTES', 'LINEAGE_STANDARD_BYTES', 'MAX_LINEAGE_PARAMETERS', 'MAX_STANDARD_PARTS', 'splitUtf8',
  'AGENT_DIMENSIONS', 'AGENT_SERVICES', 'AWS_DIMENSIONS', 'AWS_NAMESPACES', 'DEFAULT_AGENT_METRICS_NAMESPACE', 'MCP_METRICS', 'SINK_METRICS',
  'profileDefaults', 'DEVELOPMENT_SLOT_WAL_KEEP_SIZE', 'PRODUCTION_SLOT_WAL_KEEP_SIZE',
];

test('no internal helper is exported from the package root', () => {
  expect(INTERNAL.filter(name => name in api)).toEqual([]);
});

test('the root names every export explicitly (no `export *`), so an internal cannot leak in with its module', () => {
  const text = fs.readFileSync(path.join(__dirname, '..', '..', 'index.ts'), 'utf8');
  expect(text.match(/export \* from/g) ?? []).toEqual([]);
});

test('the observed constructs\' interfaces and bases are public, so users can observe their own implementations', () => {
  for (const name of ['AgentObservability', 'DebeziumConnectorBase', 'AgentStreamingClusterBase', 'AgentSearchBase', 'AgentCacheBase']) {
    expect(typeof (api as Record<string, unknown>)[name]).toBe('function');
  }
});
