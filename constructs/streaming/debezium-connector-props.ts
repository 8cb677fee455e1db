// The props of DebeziumConnector.
import { Duration } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as logs from 'aws-cdk-lib/aws-logs';
import { ICdcSource } from './cdc-source';
import { ConnectorCapacity } from './connector-capacity';
import { DatabaseTls } from './database-tls';
import { DebeziumPlugin, KafkaConnectVersion } from './debezium-plugin';
import { IAgentStreamingCluster } from './refs';

export interface DebeziumConnectorProps {
  readonly cluster: IAgentStreamingCluster;
  /** The database to capture (the source layer's CdcSourceDatabase adapts to this). */
  readonly source: ICdcSource;
  /** Plugin with the Debezium connector for the same engine. */
  readonly plugin: DebeziumPlugin;
  /** `topic.prefix`: topics are `<prefix>.<schema|database>.<table>`. Letters, digits, `_`, `-`, dots between segments. */
  readonly topicPrefix: string;
  /**
   * Base connector name. A hash of what CloudFormation replaces the connector for (the plugin, the worker configuration,
   * the Kafka Connect version, the description, the brokers, the subnets) is appended: a replacement needs a new name.
   * @default - a name derived from the construct path
   */
  readonly connectorName?: string;
  /**
   * `snapshot.mode`. `when_needed` snapshots when the connector has no offsets (first start, new connector name) and
   * also when its stored position is no longer available: a dropped or invalidated replication slot (PostgreSQL) or a
   * purged binlog (MySQL). The connector then rebuilds every view by a snapshot instead of failing with "no longer
   * available on the server". `initial` snapshots only without offsets.
   * @default 'when_needed'
   */
  readonly snapshotMode?: string;
  /**
   * `heartbeat.interval.ms`: keeps the PostgreSQL slot advancing on idle tables and feeds freshness checks.
   * @default Duration.seconds(10)
   */
  readonly heartbeatInterval?: Duration;
  /**
   * Embed the Connect schema in every JSON key and value (`*.converter.schemas.enable`).
   * @default false (plain JSON payloads, which Flink's `debezium-json` format reads by default)
   */
  readonly schemasEnable?: boolean;
  /**
   * `decimal.handling.mode`.
   * @default 'string' (exact values in JSON; 'precise' emits base64 bytes, 'double' loses precision)
   */
  readonly decimalHandlingMode?: 'precise' | 'double' | 'string';
  /**
   * Emit a tombstone after each delete so compacted topics and key-based stores drop the key.
   * @default true
   */
  readonly tombstonesOnDelete?: boolean;
  /**
   * Partitions of each CDC topic (row order is kept per key).
   * @default 3
   */
  readonly topicPartitions?: number;
  /**
   * Replication factor of the CDC topics and of Kafka Connect's internal config, offset and status topics
   * (`*.storage.replication.factor` in the worker configuration); at most the cluster's broker count.
   * @default - the cluster's default (3 with 3 brokers, 2 with 2) for an AgentStreamingCluster, else 3
   */
  readonly topicReplicationFactor?: number;
  /**
   * Retention of the CDC topics.
   * @default Duration.days(7)
   */
  readonly topicRetention?: Duration;
  /**
   * Declare the CDC, heartbeat and (MySQL) schema-history topics through the cluster's `addTopic` (AWS::MSK::Topic,
   * provisioned clusters only; serverless clusters always use Debezium's `topic.creation.*`).
   * @default true for provisioned clusters
   */
  readonly createTopics?: boolean;
  /**
   * The MSK Connect Kafka Connect runtime. It must run the plugin's Java: Debezium 3.x needs 3.7.x (Java 17);
   * Debezium 2.7.x runs on 3.7.x or 2.7.1 (Java 11).
   * @default KafkaConnectVersion.V3_7_X
   */
  readonly kafkaConnectVersion?: KafkaConnectVersion;
  /**
   * Worker capacity. MySQL requires provisioned capacity with one worker.
   * @default ConnectorCapacity.provisioned() (1 worker, 1 MCU)
   */
  readonly capacity?: ConnectorCapacity;
  /**
   * `poll.interval.ms`: how long Debezium's task waits for change events before it hands a batch to Kafka Connect. At low
   * traffic a change can wait this long before it is produced; lower values mean more, smaller produce requests (and, with the
   * sink's 0 s batching window, more Lambda invocations) when changes trickle in. See docs/PERFORMANCE.md, "Latency defaults".
   * Set it here: `poll.interval.ms` in `extraProperties` is refused.
   * @default Duration.millis(100) (Debezium's own default is 500 ms)
   */
  readonly pollInterval?: Duration;
  /**
   * `max.batch.size`: the most change events Debezium hands Kafka Connect per poll (a backlog drains in batches of this size;
   * it does not delay a change at low traffic). Must stay below Debezium's `max.queue.size` (8192 unless `extraProperties` sets it):
   * checked at synth for this value or its default, so a `max.queue.size` of 2048 or less needs a smaller `maxBatchSize`. Set it
   * here: `max.batch.size` in `extraProperties` is refused.
   * @default 2048 (Debezium's default, stated so the template shows it)
   */
  readonly maxBatchSize?: number;
  /**
   * `producer.linger.ms` in the worker configuration: how long the producer waits to batch; small for freshness. It is a
   * worker setting because MSK Connect lists `producer.linger.ms` among its supported worker properties, while a connector's
   * `producer.override.linger.ms` needs a client override policy that an MSK Connect worker configuration cannot set.
   * @default Duration.millis(5)
   */
  readonly producerLinger?: Duration;
  /**
   * `producer.compression.type` in the worker configuration.
   * @default 'lz4'
   */
  readonly producerCompression?: 'none' | 'gzip' | 'snappy' | 'lz4' | 'zstd';
  /**
   * MySQL `database.server.id` (unique among the database's replicas and binlog clients).
   * @default - a stable number in 5400000-5499999 derived from the construct path
   */
  readonly mysqlServerId?: number;
  /**
   * Extra Debezium / Kafka Connect properties, applied last (escape hatch). Refused at synth: `database.password`, and any key a
   * typed prop writes, which would override that prop silently: `max.batch.size` (use `maxBatchSize`), `poll.interval.ms`
   * (`pollInterval`), `topic.prefix`, `snapshot.mode`, `heartbeat.interval.ms`, `key.converter.schemas.enable` /
   * `value.converter.schemas.enable` (`schemasEnable`), `decimal.handling.mode`, `tombstones.on.delete`,
   * `topic.creation.default.partitions` / `replication.factor` / `retention.ms` (`topicPartitions`, `topicReplicationFactor`,
   * `topicRetention`), the TLS keys `databaseTls` writes (`database.sslmode` and, when verifying, `database.sslrootcert`; MySQL
   * `database.ssl.mode` and, when verifying, `database.ssl.truststore` / `database.ssl.truststore.password`), MySQL
   * `database.server.id` (`mysqlServerId`), MySQL `schema.history.internal.kafka.topic` / `schema.history.internal.consumer.group.id`
   * (named after `topicPrefix`) and, with a source signaling table, `incremental.snapshot.chunk.size` (`incrementalSnapshotChunkSize`)
   * and `predicates.isSignalTable.pattern` (the signal filter's topic, named after `topicPrefix`). Also refused, naming the source
   * field or the cluster to change instead, the keys the connector derives from `source` and `cluster`, which the stack's topics,
   * grants, network rule, replication bootstrap and snapshot signal follow: `database.hostname` (`endpointAddress`), `database.port`
   * (`endpointPort`), `database.user` (`replicationUsername`), `table.include.list` (`tables`), PostgreSQL `database.dbname`
   * (`databaseName`), `publication.name` (`publicationName`) and `slot.name` (`slotName`), MySQL `database.include.list`
   * (`databaseName`), `heartbeat.action.query` when the source gives one (`heartbeatActionQuery`), with a signaling table
   * `signal.data.collection`, `signal.enabled.channels`, `notification.enabled.channels`, `incremental.snapshot.watermarking.strategy`,
   * `transforms.dropSignalTable.type` / `.predicate` and `predicates.isSignalTable.type` (`signal`), and MySQL
   * `schema.history.internal.kafka.bootstrap.servers` (the cluster). `transforms` and `predicates` may be set: their entries run
   * after the signal filter's. `max.queue.size` (Debezium's default 8192) may be set, as a whole number from 2 up that is larger
   * than `maxBatchSize` (default 2048).
   * @default - none
   */
  readonly extraProperties?: Record<string, string>;
  /**
   * Subnets the connector's workers run in.
   * @default - the cluster VPC's private subnets with egress (NAT reaches Secrets Manager); else its isolated subnets plus a Secrets Manager interface endpoint
   */
  readonly vpcSubnets?: ec2.SubnetSelection;
  /**
   * TLS of the database connection. `DatabaseTls.verifyServer(...)` verifies the server certificate against a CA the
   * workers copy from S3 (PostgreSQL `verify-full`, MySQL `verify_identity`); see docs/streaming.md.
   * @default DatabaseTls.encryptedUnverified() (`sslmode=require` / `ssl.mode=required`: encrypted, certificate not verified)
   */
  readonly databaseTls?: DatabaseTls;
  /**
   * `incremental.snapshot.chunk.size`: rows an incremental snapshot (`agent-data-stack resnapshot`, a table added to the source)
   * reads per chunk; larger chunks finish sooner and hold more rows in the worker's memory. Applies when the source has a signaling table.
   * @default 1024 (Debezium's default)
   */
  readonly incrementalSnapshotChunkSize?: number;
  /**
   * Retention of the connector's worker log group.
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;
}
