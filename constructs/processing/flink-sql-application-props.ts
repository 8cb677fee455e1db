// Props and public shapes of FlinkSqlApplication: log and metrics levels, runner property groups, lineage shapes.
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import type { IAgentStreamingCluster } from '../streaming/refs';
import type { DeliveryGuarantee, FlinkJar, FlinkRuntime } from './flink-runtime';
import type { FlinkTable } from './flink-tables';

/** `MonitoringConfiguration.LogLevel`. */
export enum FlinkLogLevel {
  DEBUG = 'DEBUG',
  INFO = 'INFO',
  WARN = 'WARN',
  ERROR = 'ERROR',
}

/** `MonitoringConfiguration.MetricsLevel`. */
export enum FlinkMetricsLevel {
  APPLICATION = 'APPLICATION',
  OPERATOR = 'OPERATOR',
  PARALLELISM = 'PARALLELISM',
  TASK = 'TASK',
}

/** The runtime property group the runner reads `${name}` placeholders from. */
export const SQL_VARIABLES_GROUP = 'sql.variables';

/** The runtime property group configuring the runner (program file, extra JARs). */
export const SQL_RUNNER_GROUP = 'sql.runner';

/** Flink option that makes CDC sources tolerate the duplicate change events an at-least-once Debezium pipeline can deliver. */
export const CDC_EVENTS_DUPLICATE = 'table.exec.source.cdc-events-duplicate';

/** Placeholder for the cluster's IAM bootstrap brokers in the packaged SQL. */
export const BOOTSTRAP_SERVERS_VARIABLE = 'kafka.bootstrap.servers';

/** One table on a lineage path. */
export interface FlinkLineageTable {
  readonly table: string;
  /** Connector name, when the table is declared with one. */
  readonly connector?: string;
  /** Kafka topic(s) of kafka/upsert-kafka tables. */
  readonly topics: string[];
}

/** One INSERT of the job: which tables feed which sink. */
export interface FlinkSqlLineage {
  /** `<applicationName>#<statementIndex>`, the name the lineage catalog gives the Flink statement. */
  readonly id: string;
  /** Statement number in the application's SQL as error messages count it (1-based; helper-declared tables not counted). */
  readonly statement: number;
  /** The same position 0-based, as the lineage catalog counts it. */
  readonly statementIndex: number;
  readonly sink: FlinkLineageTable;
  readonly sources: FlinkLineageTable[];
}

/** One Kafka-to-Kafka INSERT, structurally the governance layer's `FlinkLineageDeclaration`. */
export interface FlinkLineageDeclarationShape {
  readonly application: string;
  /** 0-based position of the statement in the application's SQL. */
  readonly statementIndex: number;
  readonly sourceTopics: string[];
  readonly sourceTables: string[];
  readonly sinkTopic: string;
  readonly sinkTable: string;
}

export interface FlinkSqlApplicationProps {
  /** The Kafka cluster the job reads and writes (IAM authentication). */
  readonly cluster: IAgentStreamingCluster;
  /**
   * The Flink SQL program: CREATE TABLE statements and at least one INSERT INTO ... SELECT.
   * @default - `sqlFile` is read
   */
  readonly sql?: string;
  /**
   * Path of a `.sql` file holding the program (read at synth).
   * @default - `sql` is used
   */
  readonly sqlFile?: string;
  /**
   * Tables declared for you (CDC sources, upsert-kafka outputs); the SQL may read and write them by name.
   * @default - none
   */
  readonly tables?: FlinkTable[];
  /**
   * Flink runtime.
   * @default FlinkRuntime.FLINK_2_2 (AWS's recommendation for new applications; PyFlink and a Kafka connector exist for it)
   */
  readonly runtime?: FlinkRuntime;
  /**
   * Application name (also the prefix of consumer group ids, so keep it stable).
   * @default - a unique name derived from the construct path
   */
  readonly applicationName?: string;
  /**
   * Versioned, encrypted bucket for the application package.
   * @default - a new `ArtifactBucket`
   */
  readonly artifactBucket?: s3.IBucket;
  /**
   * JARs packaged with the runner. The first becomes the `jarfile` run option, the others are added to `pipeline.jars`
   * (AWS documents only `jarfile`; prefer one JAR, `FlinkJar.merge(...)` builds one at deploy time).
   * @default - `runtime.kafkaIamJar()`: one JAR merged at deploy time from the pinned, checksum-verified
   * flink-connector-kafka, kafka-clients and aws-msk-iam-auth (with its AWS SDK dependencies), no relocation
   */
  readonly dependencies?: FlinkJar[];
  /**
   * Further connector names the packaged JARs provide (for example `jdbc` with its JAR in `dependencies`).
   * @default - none beyond kafka, upsert-kafka and the connectors built into Flink (datagen, print, blackhole, filesystem)
   */
  readonly connectors?: string[];
  /**
   * Delivery guarantee of Kafka sinks, injected as `sink.delivery-guarantee` unless a table sets it.
   * @default DeliveryGuarantee.AT_LEAST_ONCE (results are visible as soon as they are produced; upsert sinks converge on duplicates)
   */
  readonly deliveryGuarantee?: DeliveryGuarantee;
  /**
   * Deploy-time values (tokens allowed) the runner substitutes for `${name}` in the packaged SQL, for example a bucket
   * location in a table option. Place each `${name}` inside a `'...'` string or a `` `...` `` identifier: the runner
   * doubles the quote character in the value, so it stays that one literal. A value may not hold a backslash.
   * @default - only `${kafka.bootstrap.servers}`
   */
  readonly sqlVariables?: Record<string, string>;
  /** @default 1 */
  readonly parallelism?: number;
  /** @default 1 */
  readonly parallelismPerKpu?: number;
  /** @default true */
  readonly autoScaling?: boolean;
  /**
   * Checkpoint interval. Kafka offsets are committed on checkpoints, so it also bounds the staleness of the consumer-lag metrics.
   * @default Duration.seconds(60)
   */
  readonly checkpointInterval?: Duration;
  /** @default Duration.seconds(5) */
  readonly minPauseBetweenCheckpoints?: Duration;
  /**
   * Application snapshots (taken on stop and update, restored on start).
   * @default true
   */
  readonly snapshots?: boolean;
  /**
   * Send the application's logs to CloudWatch Logs.
   * @default true
   */
  readonly logging?: boolean;
  /** @default logs.RetentionDays.ONE_MONTH */
  readonly logRetention?: logs.RetentionDays;
  /** @default FlinkLogLevel.INFO */
  readonly logLevel?: FlinkLogLevel;
  /** @default FlinkMetricsLevel.APPLICATION */
  readonly metricsLevel?: FlinkMetricsLevel;
  /**
   * Subnets of the cluster's VPC the application runs in.
   * @default - private subnets with egress, else isolated subnets
   */
  readonly vpcSubnets?: ec2.SubnetSelection;
  /**
   * Security groups of the application.
   * @default - a new security group whose only egress is the cluster's IAM port
   */
  readonly securityGroups?: ec2.ISecurityGroup[];
  /**
   * Start the application on create, restart it on update (from the latest snapshot), stop it on delete.
   * @default true
   */
  readonly autoStart?: boolean;
  /**
   * How long a deploy waits for RUNNING before failing. At most 25 minutes, and with a soak at most 23 minutes minus
   * `soakPeriod`: after the soak the starter may wait 5 more minutes for the restart metric, and all of it must end by
   * 28 minutes so the starter's own error comes before the provider's 30-minute limit.
   * @default Duration.minutes(20)
   */
  readonly startTimeout?: Duration;
  /**
   * How long the job must run without a single restart (CloudWatch `numRestarts`, `fullRestarts` on Flink 1.x)
   * before a deploy succeeds. Managed Service for Apache Flink reports RUNNING while the job restarts in a loop;
   * with a soak the deploy fails with the job's first logged exception instead. `Duration.seconds(0)` succeeds
   * on RUNNING alone. At most 15 minutes, and `startTimeout` plus the soak at most 23 minutes (the starter may then wait
   * 5 minutes for the metric's datapoints, and must fail with its own error before the provider stops at 30).
   * @default Duration.minutes(3) (three one-minute datapoints of the restart metric)
   */
  readonly soakPeriod?: Duration;
  /**
   * Let a start or update restore a snapshot whose state maps to no operator of the new program
   * (`FlinkRunConfiguration.AllowNonRestoredState`). A changed SQL usually gives Flink's operators new ids,
   * so restoring the previous snapshot fails until this is true; the state of operators that no longer exist is
   * then dropped (an aggregation whose state is dropped restarts from empty while its source resumes from its
   * restored offsets). Decide per change: keep false for configuration changes and SQL changes that keep the
   * stateful operators; set true for a deploy that removes or reshapes them; or set `snapshots: false` to
   * rebuild every result from the sources' startup positions. See docs/processing.md.
   * @default false (a change that would drop state fails the deploy with the job's error)
   */
  readonly allowNonRestoredState?: boolean;
  /**
   * Removal policy of the application. Its state is derived from Kafka topics and is rebuilt on a fresh start.
   * @default RemovalPolicy.DESTROY
   */
  readonly removalPolicy?: RemovalPolicy;
}
