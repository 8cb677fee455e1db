// Turns typed connector settings into the Debezium / Kafka Connect property map (pure: no constructs, easy to test).
import { DEBEZIUM_UNAVAILABLE_VALUE } from '../../../contract/debezium';
import { CdcColumnPolicy, CdcEngine } from '../cdc-source';

export interface DebeziumPropertyInput {
  readonly engine: CdcEngine;
  readonly hostname: string;
  readonly port: string;
  readonly databaseName: string;
  readonly username: string;
  /** A config-provider reference, never the password itself. */
  readonly passwordReference: string;
  readonly topicPrefix: string;
  /** Fully qualified captured tables (`schema.table` / `database.table`). */
  readonly qualifiedTables: string[];
  readonly publicationName?: string;
  readonly slotName?: string;
  readonly snapshotMode: string;
  readonly heartbeatIntervalMs: number;
  /** `poll.interval.ms`. */
  readonly pollIntervalMs: number;
  /** `max.batch.size`. */
  readonly maxBatchSize: number;
  readonly heartbeatActionQuery?: string;
  readonly schemasEnable: boolean;
  readonly decimalHandlingMode: string;
  readonly tombstonesOnDelete: boolean;
  readonly topicReplicationFactor: number;
  readonly topicPartitions: number;
  readonly topicRetentionMs: number;
  readonly mysqlServerId?: number;
  readonly bootstrapServers: string;
  readonly schemaHistoryTopic: string;
  readonly schemaHistoryGroup: string;
  /** Server certificate verification: a config-provider reference to the CA file (PostgreSQL PEM, MySQL truststore). */
  readonly tls?: { readonly trustReference: string; readonly truststorePasswordReference?: string };
  /** Personal data: columns excluded, hashed and masked, per captured table (qualified as in `qualifiedTables`). */
  readonly columns?: ColumnPropertyInput;
  /** Incremental snapshots through the source signal channel. */
  readonly signal?: SignalPropertyInput;
  readonly extra: Record<string, string>;
}

export interface SignalPropertyInput {
  /** `signal.data.collection`: `schema.table` / `database.table`. */
  readonly dataCollection: string;
  /** The topic Debezium would write the signaling table's own changes (its watermarks) to: `<topic.prefix>.<dataCollection>`. */
  readonly topic: string;
  /** `incremental.snapshot.chunk.size`: rows read per chunk. */
  readonly chunkSize: number;
}

/** Names of the transform and predicate that drop the signaling table's change events. */
export const SIGNAL_FILTER = 'dropSignalTable';
export const SIGNAL_PREDICATE = 'isSignalTable';

/**
 * Debezium 3.1's incremental snapshot settings: signals read from the signaling table (source channel), chunks of `chunkSize` rows
 * with one watermark row per chunk that is deleted when the chunk closes (`insert_delete`, so the table does not grow), and
 * notifications of each snapshot's progress written to the connector's log (the CloudWatch log group `resnapshot` reads).
 */
export function signalProperties(s: SignalPropertyInput): Record<string, string> {
  return {
    // Debezium captures the signaling table like a captured one and would send its watermark rows to a topic nobody declared or
    // may write (the task fails creating it): Kafka Connect's Filter transform drops them before they reach the producer.
    'transforms': SIGNAL_FILTER,
    [`transforms.${SIGNAL_FILTER}.type`]: 'org.apache.kafka.connect.transforms.Filter',
    [`transforms.${SIGNAL_FILTER}.predicate`]: SIGNAL_PREDICATE,
    'predicates': SIGNAL_PREDICATE,
    [`predicates.${SIGNAL_PREDICATE}.type`]: 'org.apache.kafka.connect.transforms.predicates.TopicNameMatches',
    [`predicates.${SIGNAL_PREDICATE}.pattern`]: s.topic.replace(/[.$]/g, m => `\\${m}`),
    'signal.enabled.channels': 'source',
    'signal.data.collection': s.dataCollection,
    'incremental.snapshot.chunk.size': String(s.chunkSize),
    'incremental.snapshot.watermarking.strategy': 'insert_delete',
    'notification.enabled.channels': 'log',
  };
}

export interface ColumnPropertyInput {
  /** Per qualified table (`schema.table` / `database.table`), its policy. */
  readonly policies: Record<string, CdcColumnPolicy>;
  /** Required when a column is hashed. */
  readonly hashSalt?: string;
}

/** Mask length when `maskChars` is not given. */
export const DEFAULT_MASK_CHARS = 8;
/** Debezium's hash, version 2: SHA-256 over the salt's and the value's bytes (version 1 hashes a Java serialization of the value). */
export const COLUMN_HASH_ALGORITHM = 'SHA-256';

/** A column's fully qualified name as a Debezium column-list regular expression (dots and `$` are literal). */
function columnPattern(table: string, column: string): string {
  return `${table}.${column}`.replace(/[.$]/g, m => `\\${m}`);
}

/**
 * Debezium's column properties for the declared personal data: `column.exclude.list`, one
 * `column.mask.hash.v2.SHA-256.with.salt.<salt>` list, and one `column.mask.with.<n>.chars` list per mask length.
 */
export function columnProperties(c: ColumnPropertyInput): Record<string, string> {
  const out: Record<string, string> = {};
  const exclude: string[] = [];
  const hash: string[] = [];
  const masks = new Map<number, string[]>();
  for (const table of Object.keys(c.policies).sort()) {
    const p = c.policies[table];
    exclude.push(...(p.exclude ?? []).map(col => columnPattern(table, col)));
    hash.push(...(p.hash ?? []).map(col => columnPattern(table, col)));
    if ((p.mask ?? []).length > 0) {
      const n = p.maskChars ?? DEFAULT_MASK_CHARS;
      masks.set(n, [...(masks.get(n) ?? []), ...p.mask!.map(col => columnPattern(table, col))]);
    }
  }
  if (exclude.length) out['column.exclude.list'] = exclude.join(',');
  if (hash.length) {
    if (!c.hashSalt) throw new Error('debeziumProperties: hashed columns need a salt.');
    out[`column.mask.hash.v2.${COLUMN_HASH_ALGORITHM}.with.salt.${c.hashSalt}`] = hash.join(',');
  }
  for (const n of [...masks.keys()].sort((a, b) => a - b)) out[`column.mask.with.${n}.chars`] = masks.get(n)!.join(',');
  return out;
}

export const CONNECTOR_CLASS: Record<CdcEngine, string> = {
  postgres: 'io.debezium.connector.postgresql.PostgresConnector',
  mysql: 'io.debezium.connector.mysql.MySqlConnector',
};

/** SASL/IAM client settings MSK needs; Debezium's schema-history clients do not inherit the worker's. */
const IAM_CLIENT: Readonly<Record<string, string>> = {
  'security.protocol': 'SASL_SSL',
  'sasl.mechanism': 'AWS_MSK_IAM',
  'sasl.jaas.config': 'software.amazon.msk.auth.iam.IAMLoginModule required;',
  'sasl.client.callback.handler.class': 'software.amazon.msk.auth.iam.IAMClientCallbackHandler',
};

/** The MySQL schema-history clients' IAM keys (`schema.history.internal.{producer,consumer}.<IAM setting>`). */
export const SCHEMA_HISTORY_IAM_KEYS: readonly string[] = ['producer', 'consumer']
  .flatMap(client => Object.keys(IAM_CLIENT).map(k => `schema.history.internal.${client}.${k}`));

export function debeziumProperties(i: DebeziumPropertyInput): Record<string, string> {
  const common: Record<string, string> = {
    'connector.class': CONNECTOR_CLASS[i.engine],
    'tasks.max': '1',
    'database.hostname': i.hostname,
    'database.port': i.port,
    'database.user': i.username,
    'database.password': i.passwordReference,
    'topic.prefix': i.topicPrefix,
    'table.include.list': i.qualifiedTables.join(','),
    'snapshot.mode': i.snapshotMode,
    'heartbeat.interval.ms': String(i.heartbeatIntervalMs),
    // Freshness: an idle task waits at most this long for a change before it hands Kafka Connect a batch (docs/PERFORMANCE.md).
    'poll.interval.ms': String(i.pollIntervalMs),
    'max.batch.size': String(i.maxBatchSize),
    'key.converter': 'org.apache.kafka.connect.json.JsonConverter',
    'key.converter.schemas.enable': String(i.schemasEnable),
    'value.converter': 'org.apache.kafka.connect.json.JsonConverter',
    'value.converter.schemas.enable': String(i.schemasEnable),
    'decimal.handling.mode': i.decimalHandlingMode,
    'tombstones.on.delete': String(i.tombstonesOnDelete),
    'topic.creation.default.replication.factor': String(i.topicReplicationFactor),
    'topic.creation.default.partitions': String(i.topicPartitions),
    'topic.creation.default.cleanup.policy': 'delete',
    'topic.creation.default.retention.ms': String(i.topicRetentionMs),
    // MSK Connect restarts connectors that use config providers unless told not to (AWS docs).
    'config.action.reload': 'none',
    ...(i.heartbeatActionQuery ? { 'heartbeat.action.query': i.heartbeatActionQuery } : {}),
  };
  const engineSpecific: Record<string, string> = i.engine === 'postgres'
    ? {
      'database.dbname': i.databaseName,
      ...(i.tls
        ? { 'database.sslmode': 'verify-full', 'database.sslrootcert': i.tls.trustReference }
        : { 'database.sslmode': 'require' }),
      'plugin.name': 'pgoutput',
      'publication.name': i.publicationName!,
      'publication.autocreate.mode': 'disabled',
      'slot.name': i.slotName!,
      // Debezium's default (unlimited), set so extraProperties cannot make it finite: a replacement connector, created before
      // CloudFormation deletes the old one, finds the slot in use, fails its stream start after slot.max.retries x slot.retry.delay.ms
      // (6 x 10 s) and, through these retries, restarts until the old connector lets go of the slot (docs/streaming.md).
      'errors.max.retries': '-1',
      // Debezium's default, set so the sink's check for it (contract/debezium.ts) cannot be bypassed through extraProperties.
      'unavailable.value.placeholder': DEBEZIUM_UNAVAILABLE_VALUE,
    }
    : {
      'database.server.id': String(i.mysqlServerId),
      ...(i.tls
        ? {
          'database.ssl.mode': 'verify_identity',
          'database.ssl.truststore': i.tls.trustReference,
          'database.ssl.truststore.password': i.tls.truststorePasswordReference!,
        }
        : { 'database.ssl.mode': 'required' }),
      'database.include.list': i.databaseName,
      'include.schema.changes': 'false',
      'schema.history.internal.kafka.bootstrap.servers': i.bootstrapServers,
      'schema.history.internal.kafka.topic': i.schemaHistoryTopic,
      'schema.history.internal.store.only.captured.tables.ddl': 'true',
      ...prefixed('schema.history.internal.producer.', IAM_CLIENT),
      ...prefixed('schema.history.internal.consumer.', IAM_CLIENT),
      'schema.history.internal.consumer.group.id': i.schemaHistoryGroup,
    };
  const out: Record<string, string> = { ...common, ...engineSpecific, ...(i.columns ? columnProperties(i.columns) : {}), ...(i.signal ? signalProperties(i.signal) : {}), ...i.extra };
  // Transforms or predicates of extraProperties come after the signal filter, which stays first.
  if (i.signal) {
    for (const [key, own] of [['transforms', SIGNAL_FILTER], ['predicates', SIGNAL_PREDICATE]] as const) {
      const theirs = (i.extra[key] ?? '').split(',').map(x => x.trim()).filter(x => x && x !== own);
      out[key] = [own, ...theirs].join(',');
    }
  }
  return out;
}

function prefixed(prefix: string, props: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(props).map(([k, v]) => [`${prefix}${k}`, v]));
}

export interface WorkerPropertyInput {
  readonly region: string;
  readonly schemasEnable: boolean;
  readonly producerLingerMs: number;
  readonly producerCompression: string;
  /** Replication factor of Kafka Connect's config, offset and status topics. */
  readonly internalTopicReplicationFactor: number;
  /** Add the S3 import config provider (copies a CA file from S3 to the worker). */
  readonly s3Import?: boolean;
}

/**
 * The MSK Connect worker configuration, one `key=value` per line. Only keys the MSK Connect "Supported worker
 * configuration properties" page allows: the converters it requires, its listed `producer.` keys (producer settings in
 * the connector would need `producer.override.*`, which depends on an override policy MSK Connect does not let you set),
 * the internal topics' replication factors (not on its unsupported list) and the Secrets Manager config provider.
 */
export function workerProperties(i: WorkerPropertyInput): string {
  return [
    'key.converter=org.apache.kafka.connect.json.JsonConverter',
    `key.converter.schemas.enable=${i.schemasEnable}`,
    'value.converter=org.apache.kafka.connect.json.JsonConverter',
    `value.converter.schemas.enable=${i.schemasEnable}`,
    `producer.linger.ms=${i.producerLingerMs}`,
    `producer.compression.type=${i.producerCompression}`,
    `config.storage.replication.factor=${i.internalTopicReplicationFactor}`,
    `offset.storage.replication.factor=${i.internalTopicReplicationFactor}`,
    `status.storage.replication.factor=${i.internalTopicReplicationFactor}`,
    i.s3Import ? 'config.providers=secretsmanager,s3import' : 'config.providers=secretsmanager',
    'config.providers.secretsmanager.class=com.amazonaws.kafka.config.providers.SecretsManagerConfigProvider',
    `config.providers.secretsmanager.param.region=${i.region}`,
    ...(i.s3Import ? [
      'config.providers.s3import.class=com.amazonaws.kafka.config.providers.S3ImportConfigProvider',
      `config.providers.s3import.param.region=${i.region}`,
    ] : []),
  ].join('\n');
}
