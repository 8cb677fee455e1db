// A Flink SQL job on Managed Service for Apache Flink: validated at synth, packaged with a PyFlink runner and its connector JARs, wired to MSK with IAM, started by the deploy.
import { createHash } from 'crypto';
import * as fs from 'fs';
import { Annotations, ArnFormat, CustomResource, Duration, Fn, Names, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kda from 'aws-cdk-lib/aws-kinesisanalyticsv2';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { AgentProvider } from '../common/agent-provider';
import { restrictedSecurityGroup } from '../common/security-group';
import { ArtifactBucket, DeployTimeArtifact } from '../common/deploy-time-artifact';
import { acknowledgeLogGroup, acknowledgeWhenPrepared, nagResource } from '../common/nag';
import { privateSubnetsWithEgressElseIsolated } from '../common/subnets';
import type { IAgentStreamingCluster } from '../streaming/refs';
import type { FlinkTableDeclaration } from './flink-sql';
import { DeliveryGuarantee, FlinkJar, FlinkRuntime } from './flink-runtime';
import { FlinkLineageDeclarationShape, FlinkSqlApplicationProps, FlinkSqlLineage } from './flink-sql-application-props';
import {
  applicationConfiguration, DEFAULT_CHECKPOINT_INTERVAL, FlinkLogging, FlinkNetwork, restartingConfiguration,
} from './private/flink-application-config';
import {
  CompiledFlinkProgram, compileFlinkProgram, consumerGroupId, DEFAULT_SOAK_PERIOD, DEFAULT_START_TIMEOUT, packageSources, readSql, runnerPath,
  topicsOf, validateProps,
} from './private/flink-program';
import type { FlinkConsumedTopics, IFlinkApplication } from './refs';
import { FLINK_STARTER_PROVIDER_TIMEOUT_SECONDS } from '../../contract/flink-starter';
import { AWS_METRIC_DIMENSIONS, AWS_METRIC_NAMESPACES, FLINK_METRIC_NAMES } from '../../contract/metric-names';
import {
  FLINK_LOG_DESCRIBE_GROUPS_ACTIONS, FLINK_LOG_GROUP_ACTIONS, FLINK_LOG_STREAM_ACTIONS, FLINK_STARTER_ACTIONS, FLINK_STARTER_LOG_ACTIONS,
  FLINK_STARTER_METRIC_ACTIONS, FLINK_VPC_ACTIONS,
} from './perms';

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
  /** The configured checkpoint interval (`checkpointInterval`, 60 s by default): Kafka offsets are committed on each completed checkpoint. */
  public readonly checkpointInterval: Duration;
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
    const label = `FlinkSqlApplication '${this.node.path}'`;
    const userSql = readSql(label, props);
    validateProps(label, props);

    this.runtime = props.runtime ?? FlinkRuntime.FLINK_2_2;
    this.checkpointInterval = props.checkpointInterval ?? DEFAULT_CHECKPOINT_INTERVAL;
    this.applicationName = props.applicationName ?? Names.uniqueResourceName(this, { maxLength: 100, separator: '-' });
    this.applicationArn = Stack.of(this).formatArn({ service: 'kinesisanalytics', resource: 'application', resourceName: this.applicationName });
    const guarantee = props.deliveryGuarantee ?? DeliveryGuarantee.AT_LEAST_ONCE;

    const program = compileFlinkProgram(label, props, userSql, this.applicationName, guarantee);
    this.consumerGroups = program.consumerGroups;
    this.packagedSql = program.packagedSql;
    this.tables = program.tables;
    this.lineage = program.lineage;

    // One JAR by default (AWS documents `jarfile` as the single Java dependency of a Python application): the
    // Kafka connector, kafka-clients and the MSK IAM library merged without relocation (see FlinkRuntime.kafkaIamJar).
    const dependencies = props.dependencies ?? [this.runtime.kafkaIamJar()];
    const bucket = props.artifactBucket ?? new ArtifactBucket(this, 'Artifacts').bucket;
    this.artifact = this.createPackage(bucket, dependencies);
    this.role = this.createRole();
    this.grantPrincipal = this.role;
    this.artifact.grantRead(this.role);
    this.grantKafka(props.cluster, program, guarantee);
    const network = this.createNetwork(props);
    this.connections = network.connections;
    const logging = (props.logging ?? true) ? this.createLogging(props) : undefined;
    this.logGroup = logging?.logGroup;
    this.application = this.createApplication(props, bucket, dependencies, network);
    const loggingOption = logging && new kda.CfnApplicationCloudWatchLoggingOption(this, 'Logging', {
      applicationName: this.application.ref,
      cloudWatchLoggingOption: { logStreamArn: logging.streamArn },
    });
    if (props.autoStart ?? true) this.addStarter(props, loggingOption, logging?.logStream);
  }

  /** The package: runner, program and JARs, built at deploy time. */
  private createPackage(bucket: s3.IBucket, dependencies: FlinkJar[]): DeployTimeArtifact {
    return new DeployTimeArtifact(this, 'Package', {
      bucket,
      objectKeyPrefix: 'flink/',
      sources: dependencies.flatMap(d => packageSources(d)),
      files: [
        { path: 'main.py', content: fs.readFileSync(runnerPath(), 'utf8') },
        { path: 'job.sql', content: this.packagedSql },
      ],
    });
  }

  /** The service execution role, assumable by Managed Service for Apache Flink for this application only. */
  private createRole(): iam.Role {
    return new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('kinesisanalytics.amazonaws.com').withConditions({
        StringEquals: { 'aws:SourceAccount': Stack.of(this).account },
        ArnEquals: { 'aws:SourceArn': this.applicationArn },
      }),
      description: `Service execution role of the Flink application ${this.applicationName}`.slice(0, 1000),
    });
  }

  /** Read grants for the topics the program reads (as its consumer groups), write grants for the ones it writes. */
  private grantKafka(cluster: IAgentStreamingCluster, program: CompiledFlinkProgram, guarantee: DeliveryGuarantee): void {
    const stack = Stack.of(this);
    for (const t of program.kafkaTables) {
      const topics = topicsOf(t);
      const patterns = topics.length > 0 ? topics : ['*'];
      const writes = program.sinkTables.has(t.name.toLowerCase());
      if (topics.length === 0) {
        Annotations.of(this).addWarningV2('cdk-agent-data-stack:flink-topic-pattern',
          `table '${t.name}' reads a 'topic-pattern'; IAM cannot express a regular expression, so the role may read every topic of the cluster. Prefer 'topic' with a ';'-separated list.`);
      }
      for (const topic of patterns) {
        if (this.consumerGroups[t.name]) cluster.grantRead(this.role, topic, this.consumerGroups[t.name]);
        if (writes) cluster.grantWrite(this.role, topic);
      }
      if (writes && guarantee === DeliveryGuarantee.EXACTLY_ONCE) {
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
        // Named as the role's template holds the cluster ARN (an import when the cluster is in another stack).
        acknowledgeWhenPrepared(this.role, () => [{
          id: `AwsSolutions-IAM5[Resource::${nagResource(this.role, transactionalIdArn)}]`,
          reason: `Kafka's exactly-once sink names each transaction with the table's transactional id prefix and a suffix Flink chooses per subtask and checkpoint; MSK IAM authorizes transactional ids by pattern, here that prefix on one cluster (name and UUID).`,
        }]);
      }
    }
  }

  /** Security groups (egress to the brokers only), subnets, and the EC2 actions the service needs for the ENIs. */
  private createNetwork(props: FlinkSqlApplicationProps): FlinkNetwork {
    const cluster = props.cluster;
    const securityGroups = props.securityGroups ?? [restrictedSecurityGroup(this, 'SecurityGroup', {
      vpc: cluster.vpc,
      description: `Flink application ${this.applicationName}: egress to the Kafka brokers only`,
    })];
    const connections = new ec2.Connections({ securityGroups });
    connections.allowTo(cluster, ec2.Port.tcp(cluster.iamPort), `Flink application ${this.applicationName} to Kafka (IAM)`);
    const subnets = cluster.vpc.selectSubnets(props.vpcSubnets ?? privateSubnetsWithEgressElseIsolated(cluster.vpc));
    this.role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: FLINK_VPC_ACTIONS, resources: ['*'] }));
    Validations.of(this.role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: 'Managed Service for Apache Flink creates and describes the ENIs of a VPC application with its role; these EC2 actions do not support resource-level permissions for resources that do not exist yet.',
    });
    return { connections, securityGroups, subnets };
  }

  /** The application's log group and stream, and the role's permission to write them. */
  private createLogging(props: FlinkSqlApplicationProps): FlinkLogging {
    const stack = Stack.of(this);
    const logGroup = new logs.LogGroup(this, 'Logs', {
      retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    acknowledgeLogGroup(logGroup);
    const logStream = new logs.LogStream(this, 'LogStream', { logGroup, removalPolicy: RemovalPolicy.DESTROY });
    const streamArn = stack.formatArn({
      service: 'logs',
      resource: 'log-group',
      resourceName: `${logGroup.logGroupName}:log-stream:${logStream.logStreamName}`,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
    this.role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: FLINK_LOG_STREAM_ACTIONS, resources: [streamArn] }));
    this.role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: FLINK_LOG_GROUP_ACTIONS, resources: [logGroup.logGroupArn] }));
    const describeGroupsArn = stack.formatArn({ service: 'logs', resource: 'log-group', resourceName: '*', arnFormat: ArnFormat.COLON_RESOURCE_NAME });
    this.role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: FLINK_LOG_DESCRIBE_GROUPS_ACTIONS, resources: [describeGroupsArn] }));
    Validations.of(this.role).acknowledge({
      id: `AwsSolutions-IAM5[Resource::${nagResource(stack, describeGroupsArn)}]`,
      reason: 'logs:DescribeLogGroups has no resource-level permission below log-group:*; the service calls it to validate the logging option.',
    });
    return { logGroup, logStream, streamArn };
  }

  /** The `AWS::KinesisAnalyticsV2::Application`, created after the role's policy the service validates it with. */
  private createApplication(props: FlinkSqlApplicationProps, bucket: s3.IBucket, dependencies: FlinkJar[], network: FlinkNetwork): kda.CfnApplication {
    const application = new kda.CfnApplication(this, 'Resource', {
      applicationName: this.applicationName,
      applicationDescription: `Flink SQL: ${this.lineage.map(l => `${l.sources.map(s => s.table).join('+')} -> ${l.sink.table}`).join('; ')}`.slice(0, 1024),
      runtimeEnvironment: this.runtime.name,
      applicationMode: 'STREAMING',
      serviceExecutionRole: this.role.roleArn,
      applicationConfiguration: applicationConfiguration(props, {
        bucket, objectKey: this.artifact.objectKey, objectVersion: this.artifact.objectVersion, dependencies, ...network,
      }),
      runConfiguration: {
        // Used by CloudFormation when it updates a running application.
        applicationRestoreConfiguration: {
          applicationRestoreType: (props.snapshots ?? true) ? 'RESTORE_FROM_LATEST_SNAPSHOT' : 'SKIP_RESTORE_FROM_SNAPSHOT',
        },
        flinkRunConfiguration: { allowNonRestoredState: props.allowNonRestoredState ?? false },
      },
    });
    application.applyRemovalPolicy(props.removalPolicy ?? RemovalPolicy.DESTROY);
    const policy = this.role.node.tryFindChild('DefaultPolicy');
    if (policy) application.node.addDependency(policy);
    return application;
  }

  /** Start after create, restart after update, stop before delete; the soak watches restarts after a start. */
  private addStarter(props: FlinkSqlApplicationProps, loggingOption?: kda.CfnApplicationCloudWatchLoggingOption, logStream?: logs.LogStream): void {
    const provider = FlinkSqlApplication.starter(this);
    const isCompleteFn = provider.isCompleteFunction!;
    for (const fn of [provider.onEventFunction, isCompleteFn]) {
      iam.Grant.addToPrincipal({ grantee: fn, actions: FLINK_STARTER_ACTIONS, resourceArns: [this.applicationArn] });
    }
    // The soak reads the restart metric and, when the job restarted, the job's exception from its log stream.
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
        TimeoutSeconds: String((props.startTimeout ?? DEFAULT_START_TIMEOUT).toSeconds()),
        StopOnDelete: String((props.removalPolicy ?? RemovalPolicy.DESTROY) !== RemovalPolicy.RETAIN),
        AllowNonRestoredState: String(props.allowNonRestoredState ?? false),
        // Only when off, so stacks with the default get no Update of the starter for it.
        ...(props.snapshots === false ? { Snapshots: 'false' } : {}),
        SoakSeconds: String((props.soakPeriod ?? DEFAULT_SOAK_PERIOD).toSeconds()),
        RestartsMetric: this.metricRestarts().metricName,
        ...(this.logGroup && logStream ? { LogGroupName: this.logGroup.logGroupName, LogStreamName: logStream.logStreamName } : {}),
        // Kept as it was so a starter deployed before `Configuration` compares like for like on its first Update.
        ConfigurationHash: createHash('sha256').update(JSON.stringify({
          key: this.artifact.objectKey,
          runtime: this.runtime.name,
          parallelism: [props.parallelism, props.parallelismPerKpu, props.autoScaling],
        })).digest('hex'),
        Configuration: restartingConfiguration(this, this.runtime.name,
          this.application.applicationConfiguration as kda.CfnApplication.ApplicationConfigurationProperty),
      },
    });
    starter.node.addDependency(this.application);
    if (loggingOption) starter.node.addDependency(loggingOption);
    for (const fn of [provider.onEventFunction, isCompleteFn]) {
      const fnPolicy = fn.role?.node.tryFindChild('DefaultPolicy');
      if (fnPolicy) starter.node.addDependency(fnPolicy);
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

  /**
   * KPUs in use (`KPUs`), including the orchestration KPU Managed Flink adds to every application. Statistic: Maximum over
   * 1 hour: the service publishes one sample per billing period (one hour) and says to read it with MAX or AVG over at least
   * an hour (https://docs.aws.amazon.com/managed-flink/latest/java/metrics-dimensions.html); a shorter period is mostly empty.
   */
  public metricKpus(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(FLINK_METRIC_NAMES.kpus, { statistic: cloudwatch.Stats.MAXIMUM, period: Duration.hours(1), ...props });
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
      totalTimeout: Duration.seconds(FLINK_STARTER_PROVIDER_TIMEOUT_SECONDS),
    });
  }
}

export * from './flink-sql-application-props';
export { consumerGroupId } from './private/flink-program';
