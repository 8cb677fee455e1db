// A Flink SQL job on Managed Service for Apache Flink: validated at synth, packaged with a PyFlink runner and its connector JARs, wired to MSK with IAM, started by the deploy.
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { ArnFormat, CustomResource, Duration, Names, RemovalPolicy, Stack, Token, Validations, Annotations, Fn } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kda from 'aws-cdk-lib/aws-kinesisanalyticsv2';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { PACKAGE_ROOT } from '../common/agent-function';
import { AgentProvider } from '../common/agent-provider';
import { restrictedSecurityGroup } from '../common/security-group';
import { ArtifactBucket, ArtifactSource, DeployTimeArtifact } from '../common/deploy-time-artifact';
import { nagResource } from '../common/nag';
import type { IAgentStreamingCluster } from '../streaming/refs';
import {
  analyzeFlinkSql, appendTableOptions, DEFAULT_FLINK_CONNECTORS, FlinkSqlAnalysis, FlinkTableDeclaration, knownTableOf,
  formatFlinkSqlProblems, FlinkSqlError,
} from './flink-sql';
import { DeliveryGuarantee, FlinkJar, FlinkRuntime } from './flink-runtime';
import { FlinkTable } from './flink-tables';
import type { FlinkConsumedTopics, IFlinkApplication } from './refs';
import { AWS_METRIC_DIMENSIONS, AWS_METRIC_NAMESPACES, FLINK_METRIC_NAMES } from '../../contract/metric-names';
import {
  FLINK_LOG_DESCRIBE_GROUPS_ACTIONS, FLINK_LOG_GROUP_ACTIONS, FLINK_LOG_STREAM_ACTIONS, FLINK_STARTER_ACTIONS, FLINK_STARTER_LOG_ACTIONS,
  FLINK_STARTER_METRIC_ACTIONS, FLINK_VPC_ACTIONS,
} from './perms';

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
   * How long a deploy waits for RUNNING before failing. At most 25 minutes (the provider's own limit is 30).
   * @default Duration.minutes(20)
   */
  readonly startTimeout?: Duration;
  /**
   * How long the job must run without a single restart (CloudWatch `numRestarts`, `fullRestarts` on Flink 1.x)
   * before a deploy succeeds. Managed Service for Apache Flink reports RUNNING while the job restarts in a loop;
   * with a soak the deploy fails with the job's first logged exception instead. `Duration.seconds(0)` succeeds
   * on RUNNING alone. At most 15 minutes, and `startTimeout` plus the soak at most 27 minutes (the provider stops at 30).
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

/**
 * Runs a Flink SQL program on Managed Service for Apache Flink.
 *
 * The SQL is parsed with a Flink grammar at synth; syntax errors (statement, line, column) and semantic errors
 * (undeclared tables, unknown connectors, no INSERT) fail synthesis. Kafka tables get the cluster's bootstrap
 * servers, IAM SASL settings, a stable consumer group per source and the sink delivery guarantee, unless the
 * SQL sets those options itself.
 */
export class FlinkSqlApplication extends Construct implements ec2.IConnectable, iam.IGrantable, IFlinkApplication {
  public readonly applicationName: string;
  public readonly applicationArn: string;
  public readonly runtime: FlinkRuntime;
  public readonly role: iam.Role;
  public readonly grantPrincipal: iam.IPrincipal;
  public readonly connections: ec2.Connections;
  /** Per INSERT: source tables -> sink table, with topics. */
  public readonly lineage: FlinkSqlLineage[];
  /** Every table of the program (helper-declared and SQL-declared), options as packaged. */
  public readonly tables: FlinkTableDeclaration[];
  /** The program as packaged (`job.sql`), with `${kafka.bootstrap.servers}` resolved at run time. */
  public readonly packagedSql: string;
  /** Consumer group id of each Kafka source table. */
  public readonly consumerGroups: Record<string, string>;
  public readonly artifact: DeployTimeArtifact;
  public readonly logGroup?: logs.LogGroup;
  public readonly application: kda.CfnApplication;

  constructor(scope: Construct, id: string, props: FlinkSqlApplicationProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const label = `FlinkSqlApplication '${this.node.path}'`;
    const userSql = readSql(label, props);
    validateProps(label, props);

    this.runtime = props.runtime ?? FlinkRuntime.FLINK_2_2;
    this.applicationName = props.applicationName ?? Names.uniqueResourceName(this, { maxLength: 100, separator: '-' });
    this.applicationArn = stack.formatArn({ service: 'kinesisanalytics', resource: 'application', resourceName: this.applicationName });
    const guarantee = props.deliveryGuarantee ?? DeliveryGuarantee.AT_LEAST_ONCE;
    const helperTables = props.tables ?? [];
    const connectors = [...DEFAULT_FLINK_CONNECTORS, ...(props.connectors ?? [])];

    // 1. The user's SQL, with errors positioned in the user's own text.
    const userAnalysis = analyzeFlinkSql(userSql, { knownTables: helperTables.map(t => knownTableOf(t.ddl)), connectors });
    const sqlLabel = `${label} (${props.sqlFile ?? 'sql'})`;
    throwOnProblems(userSql, userAnalysis, sqlLabel);

    // 2. The whole program (helper tables first), for options and the package.
    // Debezium on Kafka Connect delivers changes at least once; with this flag Flink de-duplicates them by primary key.
    const cdcSettings = helperTables.some(t => t.kind === 'cdc-source') && !/table\.exec\.source\.cdc-events-duplicate/i.test(userSql)
      ? [`SET '${CDC_EVENTS_DUPLICATE}' = 'true';`]
      : [];
    const program = [...cdcSettings, ...helperTables.map(t => t.ddl), userSql].join('\n');
    const programAnalysis = analyzeFlinkSql(program, { connectors });
    throwOnProblems(program, programAnalysis, `${label} (generated program; report this as a bug)`);
    const kafkaTables = programAnalysis.tables.filter(t => t.connector === 'kafka' || t.connector === 'upsert-kafka');
    const missingTopic = kafkaTables.filter(t => !optionOf(t, 'topic') && !optionOf(t, 'topic-pattern'));
    if (missingTopic.length > 0) {
      throw new Error(`${label}: table(s) ${missingTopic.map(t => `'${t.name}'`).join(', ')} use a Kafka connector without a 'topic' option; add 'topic' = '<name>' to their WITH clause.`);
    }
    const sources = new Set(userAnalysis.lineage.flatMap(l => l.sources.map(s => s.toLowerCase())));
    const sinks = new Set(userAnalysis.lineage.map(l => l.sink.toLowerCase()));
    this.consumerGroups = {};
    const additions = kafkaTables.map(t => {
      const options: Record<string, string> = {
        'properties.bootstrap.servers': `\${${BOOTSTRAP_SERVERS_VARIABLE}}`,
        'properties.security.protocol': 'SASL_SSL',
        'properties.sasl.mechanism': 'AWS_MSK_IAM',
        'properties.sasl.jaas.config': 'software.amazon.msk.auth.iam.IAMLoginModule required;',
        'properties.sasl.client.callback.handler.class': 'software.amazon.msk.auth.iam.IAMClientCallbackHandler',
      };
      if (sources.has(t.name.toLowerCase())) {
        const group = optionOf(t, 'properties.group.id') ?? consumerGroupId(this.applicationName, t.name);
        this.consumerGroups[t.name] = group;
        options['properties.group.id'] = group;
        // Only used when the group has no committed offset and the table says 'group-offsets'.
        options['properties.auto.offset.reset'] = 'earliest';
      }
      if (sinks.has(t.name.toLowerCase())) {
        options['sink.delivery-guarantee'] = guarantee.value;
        if (guarantee === DeliveryGuarantee.EXACTLY_ONCE) options['sink.transactional-id-prefix'] = consumerGroupId(this.applicationName, t.name);
      }
      return { table: t, options };
    });
    this.packagedSql = appendTableOptions(program, additions);
    const finalAnalysis = analyzeFlinkSql(this.packagedSql, { connectors });
    throwOnProblems(this.packagedSql, finalAnalysis, `${label} (packaged program; report this as a bug)`);
    this.tables = finalAnalysis.tables;

    const byName = new Map(this.tables.map(t => [t.name.toLowerCase(), t]));
    const lineageTable = (name: string): FlinkLineageTable => {
      const t = byName.get(name.toLowerCase());
      return { table: name, connector: t?.connector, topics: t ? topicsOf(t) : [] };
    };
    this.lineage = userAnalysis.lineage.map(l => ({
      id: `${this.applicationName}#${l.statement - 1}`,
      statement: l.statement,
      statementIndex: l.statement - 1,
      sink: lineageTable(l.sink),
      sources: l.sources.map(lineageTable),
    }));

    // 3. The package: runner, program and JARs, built at deploy time.
    // One JAR by default (AWS documents `jarfile` as the single Java dependency of a Python application): the
    // Kafka connector, kafka-clients and the MSK IAM library merged without relocation (see FlinkRuntime.kafkaIamJar).
    const dependencies = props.dependencies ?? [this.runtime.kafkaIamJar()];
    const bucket = props.artifactBucket ?? new ArtifactBucket(this, 'Artifacts').bucket;
    this.artifact = new DeployTimeArtifact(this, 'Package', {
      bucket,
      objectKeyPrefix: 'flink/',
      sources: dependencies.flatMap(d => packageSources(d)),
      files: [
        { path: 'main.py', content: fs.readFileSync(runnerPath(), 'utf8') },
        { path: 'job.sql', content: this.packagedSql },
      ],
    });

    // 4. Role, network, logs.
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('kinesisanalytics.amazonaws.com').withConditions({
        StringEquals: { 'aws:SourceAccount': stack.account },
        ArnEquals: { 'aws:SourceArn': this.applicationArn },
      }),
      description: `Service execution role of the Flink application ${this.applicationName}`.slice(0, 1000),
    });
    this.grantPrincipal = this.role;
    this.artifact.grantRead(this.role);
    const cluster = props.cluster;
    for (const t of kafkaTables) {
      const topics = topicsOf(t);
      const patterns = topics.length > 0 ? topics : ['*'];
      if (topics.length === 0) {
        Annotations.of(this).addWarningV2('cdk-agent-data-stack:flink-topic-pattern',
          `table '${t.name}' reads a 'topic-pattern'; IAM cannot express a regular expression, so the role may read every topic of the cluster. Prefer 'topic' with a ';'-separated list.`);
      }
      for (const topic of patterns) {
        if (this.consumerGroups[t.name]) cluster.grantRead(this.role, topic, this.consumerGroups[t.name]);
        if (sinks.has(t.name.toLowerCase())) cluster.grantWrite(this.role, topic);
      }
      if (sinks.has(t.name.toLowerCase()) && guarantee === DeliveryGuarantee.EXACTLY_ONCE) {
        // arn:...:cluster/<name>/<uuid> -> arn:...:transactional-id/<name>/<uuid>/<prefix>*
        const arnParts = Fn.split('/', cluster.clusterArn);
        const transactionalIdArn = stack.formatArn({
          service: 'kafka',
          resource: 'transactional-id',
          resourceName: `${Fn.select(1, arnParts)}/${Fn.select(2, arnParts)}/${consumerGroupId(this.applicationName, t.name)}*`,
        });
        this.role.addToPrincipalPolicy(new iam.PolicyStatement({
          actions: ['kafka-cluster:DescribeTransactionalId', 'kafka-cluster:AlterTransactionalId'],
          resources: [transactionalIdArn],
        }));
      }
    }

    const securityGroups = props.securityGroups ?? [restrictedSecurityGroup(this, 'SecurityGroup', {
      vpc: cluster.vpc,
      description: `Flink application ${this.applicationName}: egress to the Kafka brokers only`,
    })];
    this.connections = new ec2.Connections({ securityGroups });
    this.connections.allowTo(cluster, ec2.Port.tcp(cluster.iamPort), `Flink application ${this.applicationName} to Kafka (IAM)`);
    const subnetType = cluster.vpc.privateSubnets.length > 0 ? ec2.SubnetType.PRIVATE_WITH_EGRESS : ec2.SubnetType.PRIVATE_ISOLATED;
    const subnets = cluster.vpc.selectSubnets(props.vpcSubnets ?? { subnetType });
    this.role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: FLINK_VPC_ACTIONS, resources: ['*'] }));
    Validations.of(this.role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: 'Managed Service for Apache Flink creates and describes the ENIs of a VPC application with its role; these EC2 actions do not support resource-level permissions for resources that do not exist yet.',
    });

    let loggingStreamArn: string | undefined;
    let logStream: logs.LogStream | undefined;
    if (props.logging ?? true) {
      this.logGroup = new logs.LogGroup(this, 'Logs', {
        retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
        removalPolicy: RemovalPolicy.DESTROY,
      });
      const stream = logStream = new logs.LogStream(this, 'LogStream', { logGroup: this.logGroup, removalPolicy: RemovalPolicy.DESTROY });
      loggingStreamArn = stack.formatArn({
        service: 'logs',
        resource: 'log-group',
        resourceName: `${this.logGroup.logGroupName}:log-stream:${stream.logStreamName}`,
        arnFormat: ArnFormat.COLON_RESOURCE_NAME,
      });
      this.role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: FLINK_LOG_STREAM_ACTIONS, resources: [loggingStreamArn] }));
      this.role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: FLINK_LOG_GROUP_ACTIONS, resources: [this.logGroup.logGroupArn] }));
      this.role.addToPrincipalPolicy(new iam.PolicyStatement({
        actions: FLINK_LOG_DESCRIBE_GROUPS_ACTIONS,
        resources: [stack.formatArn({ service: 'logs', resource: 'log-group', resourceName: '*', arnFormat: ArnFormat.COLON_RESOURCE_NAME })],
      }));
      const describeGroupsArn = stack.formatArn({ service: 'logs', resource: 'log-group', resourceName: '*', arnFormat: ArnFormat.COLON_RESOURCE_NAME });
      Validations.of(this.role).acknowledge({
        id: `AwsSolutions-IAM5[Resource::${nagResource(stack, describeGroupsArn)}]`,
        reason: 'logs:DescribeLogGroups has no resource-level permission below log-group:*; the service calls it to validate the logging option.',
      });
    }

    // 5. The application.
    const checkpointInterval = props.checkpointInterval ?? Duration.seconds(60);
    const minPause = props.minPauseBetweenCheckpoints ?? Duration.seconds(5);
    this.application = new kda.CfnApplication(this, 'Resource', {
      applicationName: this.applicationName,
      applicationDescription: `Flink SQL: ${this.lineage.map(l => `${l.sources.map(s => s.table).join('+')} -> ${l.sink.table}`).join('; ')}`.slice(0, 1024),
      runtimeEnvironment: this.runtime.name,
      applicationMode: 'STREAMING',
      serviceExecutionRole: this.role.roleArn,
      applicationConfiguration: {
        applicationCodeConfiguration: {
          codeContentType: 'ZIPFILE',
          codeContent: { s3ContentLocation: { bucketArn: bucket.bucketArn, fileKey: this.artifact.objectKey, objectVersion: this.artifact.objectVersion } },
        },
        environmentProperties: {
          propertyGroups: [
            {
              propertyGroupId: 'kinesis.analytics.flink.run.options',
              propertyMap: { python: 'main.py', jarfile: `lib/${dependencies[0].props.fileName}` },
            },
            {
              propertyGroupId: SQL_RUNNER_GROUP,
              propertyMap: {
                file: 'job.sql',
                ...(dependencies.length > 1 ? { jars: dependencies.slice(1).map(d => `lib/${d.props.fileName}`).join(';') } : {}),
              },
            },
            { propertyGroupId: SQL_VARIABLES_GROUP, propertyMap: { [BOOTSTRAP_SERVERS_VARIABLE]: cluster.bootstrapBrokersSaslIam } },
          ],
        },
        flinkApplicationConfiguration: {
          checkpointConfiguration: {
            configurationType: 'CUSTOM',
            checkpointingEnabled: true,
            checkpointInterval: checkpointInterval.toMilliseconds(),
            minPauseBetweenCheckpoints: minPause.toMilliseconds(),
          },
          monitoringConfiguration: {
            configurationType: 'CUSTOM',
            logLevel: props.logLevel ?? FlinkLogLevel.INFO,
            metricsLevel: props.metricsLevel ?? FlinkMetricsLevel.APPLICATION,
          },
          parallelismConfiguration: {
            configurationType: 'CUSTOM',
            parallelism: props.parallelism ?? 1,
            parallelismPerKpu: props.parallelismPerKpu ?? 1,
            autoScalingEnabled: props.autoScaling ?? true,
          },
        },
        applicationSnapshotConfiguration: { snapshotsEnabled: props.snapshots ?? true },
        vpcConfigurations: [{ subnetIds: subnets.subnetIds, securityGroupIds: securityGroups.map(sg => sg.securityGroupId) }],
      },
      runConfiguration: {
        // Used by CloudFormation when it updates a running application.
        applicationRestoreConfiguration: {
          applicationRestoreType: (props.snapshots ?? true) ? 'RESTORE_FROM_LATEST_SNAPSHOT' : 'SKIP_RESTORE_FROM_SNAPSHOT',
        },
        flinkRunConfiguration: { allowNonRestoredState: props.allowNonRestoredState ?? false },
      },
    });
    this.application.applyRemovalPolicy(props.removalPolicy ?? RemovalPolicy.DESTROY);
    // The role's policy must exist before the service validates the application.
    const policy = this.role.node.tryFindChild('DefaultPolicy');
    if (policy) this.application.node.addDependency(policy);

    let loggingOption: kda.CfnApplicationCloudWatchLoggingOption | undefined;
    if (loggingStreamArn) {
      loggingOption = new kda.CfnApplicationCloudWatchLoggingOption(this, 'Logging', {
        applicationName: this.application.ref,
        cloudWatchLoggingOption: { logStreamArn: loggingStreamArn },
      });
    }

    // 6. Start after create, restart after update, stop before delete.
    if (props.autoStart ?? true) {
      const provider = FlinkSqlApplication.starter(this);
      for (const fn of [provider.onEventFunction, provider.isCompleteFunction!]) {
        iam.Grant.addToPrincipal({ grantee: fn, actions: FLINK_STARTER_ACTIONS, resourceArns: [this.applicationArn] });
      }
      // The soak reads the restart metric and, when the job restarted, the job's exception from its log stream.
      const isCompleteFn = provider.isCompleteFunction!;
      iam.Grant.addToPrincipal({ grantee: isCompleteFn, actions: FLINK_STARTER_METRIC_ACTIONS, resourceArns: ['*'] });
      if (this.logGroup) iam.Grant.addToPrincipal({ grantee: isCompleteFn, actions: FLINK_STARTER_LOG_ACTIONS, resourceArns: [this.logGroup.logGroupArn] });
      if (isCompleteFn.role) {
        Validations.of(isCompleteFn.role).acknowledge({
          id: 'AwsSolutions-IAM5[Resource::*]',
          reason: 'cloudwatch:GetMetricData has no resource-level permissions; the starter reads the AWS/KinesisAnalytics restart metric of the applications it starts.',
        });
      }
      const starter = new CustomResource(this, 'Starter', {
        serviceToken: provider.serviceToken,
        resourceType: 'Custom::FlinkApplicationStarter',
        properties: {
          ApplicationName: this.application.ref,
          TimeoutSeconds: String((props.startTimeout ?? Duration.minutes(20)).toSeconds()),
          StopOnDelete: String((props.removalPolicy ?? RemovalPolicy.DESTROY) !== RemovalPolicy.RETAIN),
          AllowNonRestoredState: String(props.allowNonRestoredState ?? false),
          SoakSeconds: String((props.soakPeriod ?? Duration.minutes(3)).toSeconds()),
          RestartsMetric: this.metricRestarts().metricName,
          ...(this.logGroup && logStream ? { LogGroupName: this.logGroup.logGroupName, LogStreamName: logStream.logStreamName } : {}),
          ConfigurationHash: createHash('sha256').update(JSON.stringify({
            key: this.artifact.objectKey,
            runtime: this.runtime.name,
            parallelism: [props.parallelism, props.parallelismPerKpu, props.autoScaling],
          })).digest('hex'),
        },
      });
      starter.node.addDependency(this.application);
      if (loggingOption) starter.node.addDependency(loggingOption);
      for (const fn of [provider.onEventFunction, provider.isCompleteFunction!]) {
        const fnPolicy = fn.role?.node.tryFindChild('DefaultPolicy');
        if (fnPolicy) starter.node.addDependency(fnPolicy);
      }
    }
  }

  /**
   * The INSERTs that read and write Kafka topics, in the shape the governance layer's lineage catalog takes
   * (`FlinkLineageDeclaration`: application, 0-based statementIndex, source/sink topics and tables).
   * INSERTs into non-Kafka sinks (print, filesystem...) have no topic and are left out.
   */
  public lineageDeclarations(): FlinkLineageDeclarationShape[] {
    return this.lineage
      .filter(l => l.sink.topics.length > 0)
      .map(l => ({
        application: this.applicationName,
        statementIndex: l.statementIndex,
        sourceTopics: [...new Set(l.sources.flatMap(s => s.topics))],
        sourceTables: l.sources.map(s => s.table),
        sinkTopic: l.sink.topics[0],
        sinkTable: l.sink.table,
      }));
  }

  /** The consumer group of each Kafka source table and the topics it reads (MSK publishes lag per group and topic). */
  public consumedTopics(): FlinkConsumedTopics[] {
    return Object.entries(this.consumerGroups).map(([table, group]) => ({
      group, topics: this.tables.filter(t => t.name === table && t.options.topic).map(t => t.options.topic),
    }));
  }

  /** A metric of this application in `AWS/KinesisAnalytics` (dimension `Application`). */
  public metric(metricName: string, props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: AWS_METRIC_NAMESPACES.flink,
      metricName,
      dimensionsMap: { [AWS_METRIC_DIMENSIONS.flinkApplication]: this.applicationName },
      period: Duration.minutes(1),
      ...props,
    });
  }

  /** Job restarts: `numRestarts` on Flink 2.x, `fullRestarts` on 1.x. Statistic: Maximum. */
  public metricRestarts(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    const name = this.flink2 ? FLINK_METRIC_NAMES.numRestarts : FLINK_METRIC_NAMES.fullRestarts;
    return this.metric(name, { statistic: cloudwatch.Stats.MAXIMUM, ...props });
  }

  /** Time spent restarting: `restartingTime` on Flink 2.x, `downtime` on 1.x (ms). Statistic: Maximum. */
  public metricDowntime(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    const name = this.flink2 ? FLINK_METRIC_NAMES.restartingTime : FLINK_METRIC_NAMES.downtime;
    return this.metric(name, { statistic: cloudwatch.Stats.MAXIMUM, ...props });
  }

  /** Time running without interruption: `runningTime` on Flink 2.x, `uptime` on 1.x (ms). Statistic: Minimum. */
  public metricUptime(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    const name = this.flink2 ? FLINK_METRIC_NAMES.runningTime : FLINK_METRIC_NAMES.uptime;
    return this.metric(name, { statistic: cloudwatch.Stats.MINIMUM, ...props });
  }

  /** `numberOfFailedCheckpoints`. Statistic: Maximum. */
  public metricFailedCheckpoints(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(FLINK_METRIC_NAMES.numberOfFailedCheckpoints, { statistic: cloudwatch.Stats.MAXIMUM, ...props });
  }

  /** `lastCheckpointDuration` (ms). Statistic: Maximum. */
  public metricLastCheckpointDuration(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(FLINK_METRIC_NAMES.lastCheckpointDuration, { statistic: cloudwatch.Stats.MAXIMUM, ...props });
  }

  /** Kafka source lag in records (`records_lag_max`, the Kafka connector's metric as the service publishes it). Statistic: Maximum. */
  public metricRecordsLag(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(FLINK_METRIC_NAMES.recordsLagMax, { statistic: cloudwatch.Stats.MAXIMUM, ...props });
  }

  /** KPUs in use (`KPUs`). Statistic: Maximum. */
  public metricKpus(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(FLINK_METRIC_NAMES.kpus, { statistic: cloudwatch.Stats.MAXIMUM, ...props });
  }

  /** Flink 2.x renamed the restart and availability metrics. */
  private get flink2(): boolean {
    return this.runtime.majorVersion >= 2;
  }

  /** One start/stop provider per stack, shared by every application in it. */
  private static starter(scope: Construct): AgentProvider {
    return AgentProvider.singleton(scope, 'CdkAgentDataStackFlinkStarter', {
      handlerName: 'flink-starter',
      isCompleteHandlerName: 'flink-starter-complete',
      description: 'cdk-agent-data-stack Flink application starter (start after create/update, stop on delete)',
      timeout: Duration.seconds(60),
      queryInterval: Duration.seconds(15),
      totalTimeout: Duration.minutes(30),
    });
  }
}

/** A stable, ASCII consumer group id (also the transactional id prefix) for one table of one application. */
export function consumerGroupId(applicationName: string, table: string): string {
  return `flink.${applicationName}.${table}`.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 200);
}


/** The deploy-time artifact sources of one dependency: the file itself, or every part of a merged JAR. */
function packageSources(jar: FlinkJar): ArtifactSource[] {
  const targetPath = `lib/${jar.props.fileName}`;
  if (!jar.props.parts) return [{ url: jar.props.url, sha256: jar.props.sha256, checksumUrl: jar.props.checksumUrl, targetPath }];
  return jar.props.parts.map(p => ({ url: p.url, sha256: p.sha256, checksumUrl: p.checksumUrl, extract: 'merge-jar' as const, targetPath }));
}

function runnerPath(): string {
  return path.join(PACKAGE_ROOT, 'lambda', 'flink-sql-runner', 'main.py');
}

function optionOf(table: FlinkTableDeclaration, key: string): string | undefined {
  const k = Object.keys(table.options).find(o => o.toLowerCase() === key);
  return k === undefined ? undefined : table.options[k];
}

function topicsOf(table: FlinkTableDeclaration): string[] {
  const topic = optionOf(table, 'topic');
  return topic ? topic.split(';').map(t => t.trim()).filter(t => t.length > 0) : [];
}

function throwOnProblems(sql: string, analysis: FlinkSqlAnalysis, label: string): void {
  if (analysis.problems.length > 0) throw new FlinkSqlError(formatFlinkSqlProblems(sql, analysis.problems, label), analysis.problems);
}

function readSql(label: string, props: FlinkSqlApplicationProps): string {
  if ((props.sql === undefined) === (props.sqlFile === undefined)) {
    throw new Error(`${label}: give exactly one of sql (the program text) or sqlFile (a .sql path); got ${props.sql === undefined ? 'neither' : 'both'}.`);
  }
  if (props.sql !== undefined) {
    if (Token.isUnresolved(props.sql)) throw new Error(`${label}: sql contains a token; the program must be known at synth to be validated. Pass deploy-time values through table options instead.`);
    return props.sql;
  }
  const file = props.sqlFile!;
  if (!file.endsWith('.sql')) throw new Error(`${label}: sqlFile is '${file}'; give a path ending in .sql.`);
  if (!fs.existsSync(file)) throw new Error(`${label}: sqlFile '${file}' does not exist (resolved to ${path.resolve(file)}).`);
  return fs.readFileSync(file, 'utf8');
}

function validateProps(label: string, props: FlinkSqlApplicationProps): void {
  const positive = (name: string, v: number | undefined) => {
    if (v !== undefined && !Token.isUnresolved(v) && (!Number.isInteger(v) || v < 1)) {
      throw new Error(`${label}: ${name} is ${v}; give a whole number of at least 1.`);
    }
  };
  positive('parallelism', props.parallelism);
  positive('parallelismPerKpu', props.parallelismPerKpu);
  if (props.applicationName !== undefined && !Token.isUnresolved(props.applicationName) && !/^[A-Za-z0-9_.-]{1,128}$/.test(props.applicationName)) {
    throw new Error(`${label}: applicationName is '${props.applicationName}'; use 1-128 characters from [A-Za-z0-9_.-].`);
  }
  if (props.applicationName !== undefined && Token.isUnresolved(props.applicationName)) {
    throw new Error(`${label}: applicationName is a token; give a literal name (consumer group ids are derived from it and must be stable).`);
  }
  if (props.checkpointInterval && props.checkpointInterval.toMilliseconds() < 1000) {
    throw new Error(`${label}: checkpointInterval is ${props.checkpointInterval.toMilliseconds()} ms; give at least 1 second.`);
  }
  if (props.startTimeout && (props.startTimeout.toSeconds() < 60 || props.startTimeout.toSeconds() > 1500)) {
    throw new Error(`${label}: startTimeout is ${props.startTimeout.toSeconds()} s; give between 1 and 25 minutes (the custom resource provider stops waiting at 30).`);
  }
  if (props.soakPeriod) {
    const soak = props.soakPeriod.toSeconds();
    const start = props.startTimeout?.toSeconds() ?? 1200;
    if (soak > 900) throw new Error(`${label}: soakPeriod is ${soak} s; give at most 15 minutes (Duration.seconds(0) turns the soak off).`);
    if (start + soak > 1620) {
      throw new Error(`${label}: startTimeout (${start} s) plus soakPeriod (${soak} s) is ${start + soak} s; keep the sum within 27 minutes (the custom resource provider stops waiting at 30), e.g. a shorter startTimeout.`);
    }
  }
  if (!props.dependencies && props.runtime && !props.runtime.kafkaIamBundle) {
    throw new Error(`${label}: runtime ${props.runtime.name} has no pinned Kafka/IAM bundle and dependencies is not set; give dependencies (for example [FlinkJar.mergeFromMavenCentral('${'pyflink-dependencies.jar'}', pins)]) or FlinkRuntime.of(name, version, pins).`);
  }
  if (props.dependencies && props.dependencies.length === 0) {
    throw new Error(`${label}: dependencies is empty; the runner needs at least the Kafka SQL connector JAR (or omit the prop for the defaults).`);
  }
  const names = (props.tables ?? []).map(t => t.name.toLowerCase());
  const dup = names.find((n, i) => names.indexOf(n) !== i);
  if (dup) throw new Error(`${label}: tables declares '${dup}' twice; give each helper table a distinct name.`);
}
