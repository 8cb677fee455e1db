// Synth-time checks for DebeziumConnector props; each message names the prop, shows the value and says the fix.
import { Duration, Token } from 'aws-cdk-lib';
import * as kafkaconnect from 'aws-cdk-lib/aws-kafkaconnect';
import { CdcEngine, ICdcSource } from '../cdc-source';
import { AgentStreamingCluster } from '../cluster';
import { ConnectorCapacity } from '../connector-capacity';
import type { DebeziumConnectorProps } from '../debezium-connector-props';
import { KafkaConnectVersion } from '../debezium-plugin';
import { SCHEMA_HISTORY_IAM_KEYS, SIGNAL_FILTER, SIGNAL_PREDICATE } from './debezium-properties';

const SNAPSHOT_MODES: Record<CdcEngine, string[]> = {
  postgres: ['initial', 'initial_only', 'no_data', 'when_needed', 'always', 'never', 'recovery', 'configuration_based', 'custom'],
  mysql: ['initial', 'initial_only', 'no_data', 'when_needed', 'always', 'never', 'recovery', 'schema_only_recovery', 'configuration_based', 'custom'],
};
const DECIMAL_MODES = ['precise', 'double', 'string'];
const PG_TABLE = /^[A-Za-z_][A-Za-z0-9_$]*\.[A-Za-z_][A-Za-z0-9_$]*$/;
const MYSQL_TABLE = /^([A-Za-z0-9_$]+\.)?[A-Za-z0-9_$]+$/;
const TOPIC_PREFIX = /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/;
/**
 * MSK Connect names are 1-128 characters (CreateConnector, CreateWorkerConfiguration). The worker configuration is named
 * `<connectorName>-workers-<8 hex>`, the longer of the two names derived from `connectorName`, so 17 characters are taken.
 */
export const MAX_CONNECTOR_NAME_LENGTH = 128 - '-workers-'.length - 8;
/** Debezium's default `max.queue.size`. */
const DEFAULT_MAX_QUEUE_SIZE = 8192;
/** Java's Integer.MAX_VALUE: Debezium reads `max.queue.size` as an int. */
const MAX_INT = 2147483647;

/**
 * Connector keys a typed prop writes, with that prop. debeziumProperties applies extraProperties last, so setting one of these
 * there would override the typed prop (or its default) without a word; the connector refuses it and names the prop instead.
 * Keys written only for one engine, only with certificate verification or only with a signaling table are listed only then.
 * Exported for test/streaming/typed-prop-keys.test.ts, which derives this list from the built connector configuration and compares.
 */
export function typedPropKeys(props: DebeziumConnectorProps, engine: CdcEngine): Record<string, string> {
  const verify = props.databaseTls?.verify ?? false;
  return {
    'topic.prefix': 'topicPrefix',
    'snapshot.mode': 'snapshotMode',
    'heartbeat.interval.ms': 'heartbeatInterval',
    'poll.interval.ms': 'pollInterval',
    'max.batch.size': 'maxBatchSize',
    'key.converter.schemas.enable': 'schemasEnable',
    'value.converter.schemas.enable': 'schemasEnable',
    'decimal.handling.mode': 'decimalHandlingMode',
    'tombstones.on.delete': 'tombstonesOnDelete',
    'topic.creation.default.partitions': 'topicPartitions',
    'topic.creation.default.replication.factor': 'topicReplicationFactor',
    'topic.creation.default.retention.ms': 'topicRetention',
    ...(engine === 'postgres'
      ? { 'database.sslmode': 'databaseTls', ...(verify ? { 'database.sslrootcert': 'databaseTls' } : {}) }
      : {
        'database.server.id': 'mysqlServerId',
        'database.ssl.mode': 'databaseTls',
        ...(verify ? { 'database.ssl.truststore': 'databaseTls', 'database.ssl.truststore.password': 'databaseTls' } : {}),
        // The schema-history topic and group are named after the prefix; the role is granted and the topic declared under that name.
        'schema.history.internal.kafka.topic': 'topicPrefix',
        'schema.history.internal.consumer.group.id': 'topicPrefix',
      }),
    ...(props.source.signal ? {
      'incremental.snapshot.chunk.size': 'incrementalSnapshotChunkSize',
      // The signal filter matches the signaling table's topic, `<topic.prefix>.<table>`.
      [`predicates.${SIGNAL_PREDICATE}.pattern`]: 'topicPrefix',
    } : {}),
  };
}

/** What the stack declared from each source field that a key derived from it would no longer match. */
const SOURCE_DECLARES = {
  endpointAddress: 'the replication user, its secret and the network rule are for that database',
  endpointPort: 'the connector\'s network rule to the database is opened on that port',
  replicationUsername: 'the replication secret holds that user\'s password',
  tables: 'the stack declares and grants one topic per source table and signals their snapshots',
  databaseName: 'the replication bootstrap prepared that database (MySQL: the topics are named after it)',
  publicationName: 'the replication bootstrap creates that publication',
  slotName: 'the replication bootstrap creates that slot',
  heartbeatActionQuery: 'the replication bootstrap creates the heartbeat table it writes',
  signal: 'the stack\'s snapshot signal writes to that signaling table, Debezium reads it and the connector drops its topic\'s events',
} satisfies Partial<Record<keyof ICdcSource, string>>;
type DerivingSourceField = keyof typeof SOURCE_DECLARES;

/**
 * Connector keys the connector derives from the source, with the source field that decides each. Overriding one in extraProperties
 * would leave what the stack declared from the source (topics created and granted per table, the network rule to its port, the
 * replication bootstrap's publication, slot and heartbeat table, the snapshot signal and the signaling table's filter) out of step with
 * what Debezium does, which shows only when the connector runs; the connector refuses it and names the source field instead.
 * Not listed, because they are refused elsewhere with their own message: `database.password` (the replication secret), the column
 * keys (refused next to declared columns), keys a typed prop writes (typedPropKeys: `incremental.snapshot.chunk.size` and
 * `predicates.isSignalTable.pattern` also follow the signaling table). Not refused: `transforms` and `predicates`, whose
 * extraProperties entries are appended after the signal filter rather than replacing it.
 * Exported for test/streaming/typed-prop-keys.test.ts, which derives this list by building the connector with different sources.
 */
export function sourceDerivedKeys(source: ICdcSource, engine: CdcEngine): Record<string, DerivingSourceField> {
  return {
    'database.hostname': 'endpointAddress',
    'database.port': 'endpointPort',
    'database.user': 'replicationUsername',
    'table.include.list': 'tables',
    ...(engine === 'postgres'
      ? { 'database.dbname': 'databaseName', 'publication.name': 'publicationName', 'slot.name': 'slotName' }
      : { 'database.include.list': 'databaseName' }),
    ...(source.heartbeatActionQuery ? { 'heartbeat.action.query': 'heartbeatActionQuery' } : {}),
    ...(source.signal ? {
      'signal.data.collection': 'signal',
      'signal.enabled.channels': 'signal',
      'notification.enabled.channels': 'signal',
      'incremental.snapshot.watermarking.strategy': 'signal',
      [`transforms.${SIGNAL_FILTER}.type`]: 'signal',
      [`transforms.${SIGNAL_FILTER}.predicate`]: 'signal',
      [`predicates.${SIGNAL_PREDICATE}.type`]: 'signal',
    } : {}),
  } satisfies Record<string, DerivingSourceField>;
}

/**
 * Connector keys the connector derives from the cluster, with the cluster attribute that decides each (MySQL's schema-history
 * clients connect to the brokers themselves). `topic.creation.default.replication.factor` also follows the cluster (its broker
 * count) but is refused as topicReplicationFactor's (typedPropKeys). The schema-history clients' IAM settings are the same for every
 * cluster (the connector only speaks IAM), so they are not listed.
 * Exported for test/streaming/typed-prop-keys.test.ts, which derives this list by building the connector with different clusters.
 */
export function clusterDerivedKeys(engine: CdcEngine): Record<string, string> {
  return engine === 'mysql' ? { 'schema.history.internal.kafka.bootstrap.servers': 'bootstrapBrokersSaslIam' } : {};
}

/**
 * Connector keys set to one value whatever the props, source and cluster, with why no other value works in this stack. Another
 * value would not fail at synth or deploy but when the connector runs (a class the plugin does not hold, records the sinks cannot
 * decode, a publication the replication user may not create, a topic the role may not write), so the connector refuses it.
 * Not listed, because another value is a valid choice: `topic.creation.default.cleanup.policy` (only for topics Debezium creates
 * itself, with createTopics: false) and MySQL's `schema.history.internal.store.only.captured.tables.ddl`.
 * Exported for test/streaming/typed-prop-keys.test.ts, which derives this list as the keys no prop, source field or cluster changes.
 */
export function engineFixedKeys(engine: CdcEngine): Record<string, string> {
  const json = 'the sinks and the Flink job read the JSON of Kafka Connect\'s JsonConverter; schemasEnable chooses whether it carries schemas';
  const iam = 'the schema-history clients reach the cluster with IAM, the client authentication the connector\'s role is granted';
  return {
    'connector.class': `the plugin holds the Debezium ${engine} connector, chosen by the source's engine`,
    'tasks.max': 'Debezium\'s PostgreSQL and MySQL connectors run a single task; capacity sizes the workers',
    'key.converter': json,
    'value.converter': json,
    'config.action.reload': 'MSK Connect restarts a connector whose configuration uses a config provider, as the replication password does, unless it is none',
    ...(engine === 'postgres'
      ? {
        'plugin.name': 'the replication bootstrap creates a publication, which Debezium reads through pgoutput',
        'publication.autocreate.mode': 'the replication bootstrap creates the publication for the source\'s tables and keeps it in step with them',
        'unavailable.value.placeholder': 'the sinks recognize Debezium\'s default placeholder for an unchanged TOASTed value and dead-letter the record rather than store it',
        'errors.max.retries': 'a replacement connector runs beside the old one until CloudFormation\'s cleanup deletes it and only then gets the slot; with a finite number of retries its task fails first',
      }
      : {
        'include.schema.changes': 'schema change events would go to a topic named after topicPrefix, which the connector\'s role may not write',
        ...Object.fromEntries(SCHEMA_HISTORY_IAM_KEYS.map(k => [k, iam])),
      }),
  };
}

export function validateConnectorProps(props: DebeziumConnectorProps, engine: CdcEngine, snapshotMode: string, decimalMode: string, capacity: ConnectorCapacity,
  partitions: number, replication: number, heartbeat: Duration, maxBatchSize: number): void {
  const { source, plugin } = props;
  if (engine !== 'postgres' && engine !== 'mysql') {
    throw new Error(`DebeziumConnector: source engine '${engine}' is not supported; use a 'postgres' or 'mysql' source.`);
  }
  if (plugin.engine !== engine) {
    throw new Error(`DebeziumConnector: plugin holds the Debezium ${plugin.engine} connector but the source engine is '${engine}'; create the DebeziumPlugin with engine '${engine}'.`);
  }
  const connect = props.kafkaConnectVersion ?? KafkaConnectVersion.V3_7_X;
  if (!Token.isUnresolved(plugin.version.version) && !plugin.version.kafkaConnectVersions.includes(connect)) {
    throw new Error(`DebeziumConnector: Debezium ${plugin.version.version} needs Java ${plugin.version.javaVersion}, but kafkaConnectVersion ${connect.version} runs Java ${connect.javaVersion} on MSK Connect; use KafkaConnectVersion.V3_7_X, or DebeziumVersion.V2_7_4 on Kafka Connect ${connect.version}.`);
  }
  const name = props.connectorName;
  if (name !== undefined && !Token.isUnresolved(name) && (name.length === 0 || name.length > MAX_CONNECTOR_NAME_LENGTH)) {
    throw new Error(`DebeziumConnector: connectorName '${name}' is ${name.length} characters; give 1-${MAX_CONNECTOR_NAME_LENGTH}. `
      + `The connector is named '<connectorName>-<8 hex>' and its worker configuration '<connectorName>-workers-<8 hex>', and MSK Connect names are at most 128 characters.`);
  }
  if (!TOPIC_PREFIX.test(props.topicPrefix) || props.topicPrefix.length > 200) {
    throw new Error(`DebeziumConnector: topicPrefix '${props.topicPrefix}' is invalid; use letters, digits, '_' and '-', with single dots between segments (e.g. 'shop.cdc').`);
  }
  if (source.tables.length === 0) {
    throw new Error('DebeziumConnector: the source has no tables; list at least one table to capture.');
  }
  for (const table of source.tables) {
    if (Token.isUnresolved(table)) throw new Error('DebeziumConnector: table names must be literals (they name topics at synth).');
    if (engine === 'postgres' && !PG_TABLE.test(table)) {
      throw new Error(`DebeziumConnector: table '${table}' is not in PostgreSQL 'schema.table' form (e.g. 'public.orders').`);
    }
    if (engine === 'mysql') {
      if (!MYSQL_TABLE.test(table)) throw new Error(`DebeziumConnector: table '${table}' is not in MySQL 'table' or 'database.table' form.`);
      if (table.includes('.') && !Token.isUnresolved(source.databaseName) && table.split('.')[0] !== source.databaseName) {
        throw new Error(`DebeziumConnector: table '${table}' is outside database '${source.databaseName}'; the connector captures one database.`);
      }
    }
  }
  if (engine === 'postgres' && (!source.publicationName || !source.slotName)) {
    throw new Error('DebeziumConnector: a PostgreSQL source needs publicationName and slotName (created by the replication bootstrap, since publication.autocreate.mode is disabled).');
  }
  if (!SNAPSHOT_MODES[engine].includes(snapshotMode)) {
    throw new Error(`DebeziumConnector: snapshotMode '${snapshotMode}' is not a Debezium ${engine} snapshot mode; use one of ${SNAPSHOT_MODES[engine].join(', ')}.`);
  }
  if (!DECIMAL_MODES.includes(decimalMode)) {
    throw new Error(`DebeziumConnector: decimalHandlingMode '${decimalMode}' is invalid; use precise, double or string.`);
  }
  if (engine === 'mysql') {
    const provisioned = capacity.config.provisionedCapacity as kafkaconnect.CfnConnector.ProvisionedCapacityProperty | undefined;
    if (capacity.isAutoScaling || !provisioned || provisioned.workerCount !== 1) {
      throw new Error('DebeziumConnector: the Debezium MySQL connector runs a single task; use capacity ConnectorCapacity.provisioned({ workerCount: 1 }) (autoscaling or more workers is refused).');
    }
  }
  if (props.mysqlServerId !== undefined && (!Number.isInteger(props.mysqlServerId) || props.mysqlServerId < 1 || props.mysqlServerId > 4294967295)) {
    throw new Error(`DebeziumConnector: mysqlServerId ${props.mysqlServerId} is invalid; use an integer from 1 to 4294967295 unique among the database's replicas.`);
  }
  if (!Number.isInteger(partitions) || partitions < 1) {
    throw new Error(`DebeziumConnector: topicPartitions ${partitions} is invalid; use 1 or more.`);
  }
  if (!Number.isInteger(replication) || replication < 1 || (props.cluster.serverless && replication !== 3)) {
    throw new Error(`DebeziumConnector: topicReplicationFactor ${replication} is invalid; use 1-3 (MSK Serverless requires 3).`);
  }
  const brokers = props.cluster instanceof AgentStreamingCluster ? props.cluster.brokerCount : undefined;
  if (brokers !== undefined && !Token.isUnresolved(brokers) && replication > brokers) {
    throw new Error(`DebeziumConnector: topicReplicationFactor ${replication} exceeds the ${brokers} broker(s) of the cluster, so the CDC topics and Kafka Connect's internal config/offset/status topics could not be created. Leave topicReplicationFactor unset (it follows the cluster: ${Math.min(3, brokers)}) or set it to ${brokers} or less, or give the cluster 3 brokers (a 3-AZ VPC).`);
  }
  const chunk = props.incrementalSnapshotChunkSize;
  if (chunk !== undefined && (!Number.isInteger(chunk) || chunk < 1 || chunk > 100_000)) {
    throw new Error(`DebeziumConnector: incrementalSnapshotChunkSize ${chunk} is invalid; use a whole number of rows from 1 to 100000 (Debezium's default is 1024).`);
  }
  // One pass over extraProperties: a key a typed prop writes, one derived from the source or the cluster, or one fixed, is refused.
  const typedKeys = typedPropKeys(props, engine);
  const sourceKeys = sourceDerivedKeys(source, engine);
  const clusterKeys = clusterDerivedKeys(engine);
  const fixedKeys = engineFixedKeys(engine);
  for (const key of Object.keys(props.extraProperties ?? {})) {
    if (Object.hasOwn(typedKeys, key)) {
      const prop = typedKeys[key];
      throw new Error(`DebeziumConnector: extraProperties sets ${key}, which the typed prop ${prop} writes (extraProperties would override it silently); set ${prop} instead.`);
    }
    if (Object.hasOwn(sourceKeys, key)) {
      const field = sourceKeys[key];
      throw new Error(`DebeziumConnector: extraProperties sets ${key}, which the connector derives from the source's ${field} (extraProperties would override it silently, and ${SOURCE_DECLARES[field]}); change the source's ${field} instead.`);
    }
    if (Object.hasOwn(clusterKeys, key)) {
      throw new Error(`DebeziumConnector: extraProperties sets ${key}, which the connector derives from the cluster's ${clusterKeys[key]} (extraProperties would override it silently, and the connector's role, network rule and topics are for that cluster); change the connector's cluster instead.`);
    }
    if (Object.hasOwn(fixedKeys, key)) {
      throw new Error(`DebeziumConnector: extraProperties sets ${key}, which the connector fixes (${fixedKeys[key]}); remove it from extraProperties.`);
    }
  }
  const poll = props.pollInterval;
  if (poll && !Token.isUnresolved(poll.toMilliseconds({ integral: false }))) {
    const ms = poll.toMilliseconds({ integral: false });
    if (!Number.isInteger(ms) || ms < 1 || ms > 60_000) {
      throw new Error(`DebeziumConnector: pollInterval ${poll.toHumanString()} is invalid; use whole milliseconds from Duration.millis(1) to Duration.seconds(60) (the default is 100 ms).`);
    }
  }
  // Debezium refuses a max.queue.size not above max.batch.size: check the values the connector will run with, defaults included.
  const queueSetting = props.extraProperties?.['max.queue.size'];
  let queue: number | undefined = DEFAULT_MAX_QUEUE_SIZE;
  if (queueSetting !== undefined) {
    if (Token.isUnresolved(queueSetting)) {
      queue = undefined;
    } else {
      queue = /^\d+$/.test(queueSetting.trim()) ? Number(queueSetting.trim()) : NaN;
      if (!Number.isInteger(queue) || queue < 2 || queue > MAX_INT) {
        throw new Error(`DebeziumConnector: extraProperties max.queue.size '${queueSetting}' is invalid; use a whole number from 2 to ${MAX_INT} above maxBatchSize${Token.isUnresolved(maxBatchSize) ? '' : ` (${maxBatchSize})`}, or leave it unset (Debezium's default is ${DEFAULT_MAX_QUEUE_SIZE}).`);
      }
    }
  }
  if (Token.isUnresolved(maxBatchSize)) {
    // A token batch size is checked by Debezium at deploy.
  } else if (props.maxBatchSize !== undefined) {
    if (!Number.isInteger(maxBatchSize) || maxBatchSize < 1 || (queue !== undefined && maxBatchSize >= queue)) {
      throw new Error(`DebeziumConnector: maxBatchSize ${maxBatchSize} is invalid; use a whole number from 1 to ${(queue ?? DEFAULT_MAX_QUEUE_SIZE) - 1} (Debezium needs max.queue.size, ${queueSetting ?? `default ${DEFAULT_MAX_QUEUE_SIZE}`}, to be larger).`);
    }
  } else if (queue !== undefined && maxBatchSize >= queue) {
    // Only a max.queue.size in extraProperties can be at or below the default batch size.
    throw new Error(`DebeziumConnector: extraProperties max.queue.size ${queueSetting} is not larger than maxBatchSize ${maxBatchSize} (the default); Debezium needs max.queue.size > max.batch.size: raise max.queue.size above ${maxBatchSize} or set maxBatchSize below ${queue}.`);
  }
  if (heartbeat.toMilliseconds() < 1000) {
    throw new Error(`DebeziumConnector: heartbeatInterval ${heartbeat.toHumanString()} is below 1 second; use Duration.seconds(1) or more.`);
  }
  const trust = props.databaseTls?.trust;
  if (trust) {
    if (!Token.isUnresolved(trust.key) && !/^[A-Za-z0-9!_.*'()/-]+$/.test(trust.key)) {
      throw new Error(`DebeziumConnector: databaseTls key '${trust.key}' cannot be used in a config-provider reference; use letters, digits and / . _ - ! * ' ( ) only (no ':' or '}').`);
    }
    if (engine === 'mysql' && !trust.truststorePassword) {
      throw new Error('DebeziumConnector: databaseTls.verifyServer for MySQL needs truststorePassword (a secret whose JSON key "password" opens the JKS/PKCS12 truststore at key); MySQL Connector/J does not read PEM bundles.');
    }
    if (engine === 'postgres' && trust.truststorePassword) {
      throw new Error('DebeziumConnector: databaseTls.truststorePassword is for MySQL truststores; PostgreSQL reads the PEM bundle at key directly. Remove truststorePassword.');
    }
    if (!props.vpcSubnets && props.cluster.vpc.privateSubnets.length === 0) {
      throw new Error('DebeziumConnector: databaseTls.verifyServer makes the workers copy the CA from S3, but they run in isolated subnets reached only through a Secrets Manager endpoint; give vpcSubnets with NAT egress (the S3 gateway endpoint alone is not opened to them).');
    }
  }
  const policies = source.columns ?? {};
  for (const key of Object.keys(props.extraProperties ?? {})) {
    if (key === 'database.password') {
      throw new Error('DebeziumConnector: extraProperties sets database.password; the password comes from the source\'s replication secret through the config provider and cannot be overridden.');
    }
    if (Object.keys(policies).length > 0 && /^column\.(exclude\.list|include\.list|mask\.)/.test(key)) {
      throw new Error(`DebeziumConnector: extraProperties sets ${key}, but the source declares column policies (columns), which set Debezium's column properties; `
        + 'declare exclusions, hashes and masks in the source\'s columns instead.');
    }
  }
  for (const [table, policy] of Object.entries(policies)) {
    if (!source.tables.includes(table)) {
      throw new Error(`DebeziumConnector: the source declares columns for '${table}', which is not a captured table; declare column policies for captured tables only.`);
    }
    if ((policy.hash ?? []).length > 0 && !source.columnHashSalt) {
      throw new Error(`DebeziumConnector: the source hashes columns of '${table}' but gives no columnHashSalt; set one (16-128 letters, digits, _ or -).`);
    }
  }
}
