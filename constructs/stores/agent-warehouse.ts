// The analytical store: Apache Iceberg tables in the AWS Glue Data Catalog on an encrypted S3 bucket, written by a Managed Flink job, read through a bounded Athena workgroup.
import { ArnFormat, Duration, Names, RemovalPolicy, Size, Stack, Token, Validations } from 'aws-cdk-lib';
import * as athena from 'aws-cdk-lib/aws-athena';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as glue from 'aws-cdk-lib/aws-glue';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import { Construct } from 'constructs';
import { AGENT_METRIC_DIMENSIONS, AGENT_SERVICE_NAMES, DEFAULT_AGENT_METRICS_NAMESPACE, WAREHOUSE_METRIC_NAMES } from '../../contract/metric-names';
import { VIEWS_ENV, type ViewConfig } from '../../contract/view-config';
import { WAREHOUSE_DATABASE_ENV, WAREHOUSE_QUERY_TIMEOUT_ENV, WAREHOUSE_WORKGROUP_ENV } from '../../contract/warehouse-env';
import { AgentFunction } from '../common/agent-function';
import { ArtifactBucket } from '../common/deploy-time-artifact';
import { acknowledgeWhenPrepared, denyNonServiceGrants, nagResource } from '../common/nag';
import { FlinkSqlApplication, FlinkSqlApplicationProps } from '../processing/flink-sql-application';
import { FlinkRuntime } from '../processing/flink-runtime';
import type { IAgentStreamingCluster } from '../streaming/refs';
import type { AgentView } from './view';
import { ViewStore } from './view';
import { currentTableShape, historyTableShape, IcebergTableShape, WAREHOUSE_LOCATION_VARIABLE, warehouseWriterSql } from './warehouse-schema';
import { icebergWriterJar } from './warehouse-jars';
import {
  WAREHOUSE_ATHENA_QUERY_ACTIONS, WAREHOUSE_BUCKET_ACTIONS, WAREHOUSE_GLUE_READ_ACTIONS, WAREHOUSE_GLUE_WRITE_ACTIONS,
  WAREHOUSE_KEY_WRITE_ACTIONS, WAREHOUSE_OBJECT_READ_ACTIONS, WAREHOUSE_OBJECT_WRITE_ACTIONS, WAREHOUSE_OPTIMIZER_LOG_ACTIONS,
} from './warehouse-perms';

/** Writer options a warehouse passes through to each view's FlinkSqlApplication. */
export type WarehouseWriterOptions = Omit<FlinkSqlApplicationProps, 'cluster' | 'sql' | 'sqlFile' | 'tables' | 'runtime' | 'dependencies' | 'connectors' | 'sqlVariables' | 'checkpointInterval' | 'artifactBucket'>;

export interface AgentWarehouseProps {
  /** The cluster whose topics feed the views. */
  readonly cluster: IAgentStreamingCluster;
  /** Views with `store: ViewStore.WAREHOUSE`; each gets its tables and a writer job. */
  readonly views: AgentView[];
  /** Glue database name (lower case, digits, '_'). @default - a unique name derived from the construct path */
  readonly databaseName?: string;
  /** Key of the data bucket and the query results. @default - a new KMS key with rotation */
  readonly encryptionKey?: kms.IKey;
  /** Removal policy of the data bucket, the key, the database and the tables. @default RemovalPolicy.RETAIN */
  readonly removalPolicy?: RemovalPolicy;
  /** Athena stops a query of the workgroup that scans more than this. @default Size.gibibytes(1) */
  readonly bytesScannedCutoff?: Size;
  /**
   * The query tool stops waiting for one Athena query (and stops it) after this. A call runs two in sequence (the
   * snapshot lookup, then the answer), so keep twice this under the MCP function's timeout (30 s by default).
   * @default Duration.seconds(12)
   */
  readonly queryTimeout?: Duration;
  /**
   * How often the writer commits an Iceberg snapshot (its checkpoint interval): the warehouse's latency, and the
   * number of small files before compaction. @default Duration.minutes(1)
   */
  readonly commitInterval?: Duration;
  /** Snapshots older than this are expired by the retention optimizer. @default Duration.days(5) */
  readonly snapshotRetention?: Duration;
  /**
   * How old the newest committed snapshot of a view may get before its freshness alarm fires.
   * @default - the view's maxStaleness, else 15 minutes
   */
  readonly freshnessThreshold?: Duration;
  /** Further options of each writer job. @default - FlinkSqlApplication's defaults */
  readonly writerOptions?: WarehouseWriterOptions;
}

const DATABASE_NAME = /^[a-z0-9_]{1,255}$/;

/**
 * Warehouse views as Iceberg tables: a Glue database and, per view, the current-state table (upserted by key,
 * deletes applied), optionally a change-history table, Glue table optimizers (compaction, snapshot retention,
 * orphan files), a Managed Flink writer, and one Athena workgroup with a bytes-scanned cutoff and encrypted results.
 */
export class AgentWarehouse extends Construct {
  public readonly databaseName: string;
  public readonly bucket: s3.Bucket;
  public readonly encryptionKey: kms.IKey;
  public readonly workgroup: athena.CfnWorkGroup;
  public readonly workgroupName: string;
  /** The writer job of each view, by view name. */
  public readonly writers: Record<string, FlinkSqlApplication> = {};
  /** Every Iceberg table, by table name. */
  public readonly tables: Record<string, glue.CfnTable> = {};
  public readonly views: ViewConfig[];
  public readonly queryTimeout: Duration;
  /** The scheduled probe publishing `WarehouseSnapshotAge` per view every 5 minutes. */
  public readonly freshnessProbe: AgentFunction;
  /** One alarm per view: the newest snapshot is older than the threshold, or no reading arrived. */
  public readonly freshnessAlarms: Record<string, cloudwatch.Alarm> = {};
  private readonly tableArns: string[] = [];

  constructor(scope: Construct, id: string, props: AgentWarehouseProps) {
    super(scope, id);
    const stack = Stack.of(this);
    validate(props);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    this.views = props.views.map(v => v.toConfig());
    this.queryTimeout = props.queryTimeout ?? Duration.seconds(12);
    this.databaseName = props.databaseName ?? Names.uniqueResourceName(this, { maxLength: 200, separator: '_' }).toLowerCase().replace(/[^a-z0-9_]/g, '_');

    if (props.encryptionKey) {
      this.encryptionKey = props.encryptionKey;
    } else {
      const key = new kms.Key(this, 'Key', { enableKeyRotation: true, removalPolicy, description: `Iceberg tables and Athena results of ${this.node.path}` });
      denyNonServiceGrants(key);
      this.encryptionKey = key;
    }
    const logs = new ArtifactBucket(this, 'Logs', { removalPolicy }).bucket;
    this.bucket = new s3.Bucket(this, 'Data', {
      encryption: s3.BucketEncryption.KMS, encryptionKey: this.encryptionKey, bucketKeyEnabled: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL, enforceSSL: true, removalPolicy,
      serverAccessLogsBucket: logs, serverAccessLogsPrefix: 'warehouse/',
      // Iceberg keeps its own versions (snapshots); results of queries are read once by the tool.
      lifecycleRules: [{ prefix: 'athena-results/', expiration: Duration.days(7) }, { abortIncompleteMultipartUploadAfter: Duration.days(1) }],
    });
    Validations.of(this.bucket).acknowledge(
      { id: 'ControlTower-CT.S3.PR.4', reason: 'Iceberg commits are read through the Glue catalog; nothing reacts to single data files.' },
      { id: 'ControlTower-CT.S3.PR.9', reason: 'Object Lock would block compaction, snapshot expiry and orphan-file deletion, which rewrite and delete data files.' },
      { id: 'ControlTower-CT.S3.PR.11', reason: 'Iceberg snapshots are the versions of the tables; S3 versioning would keep every compacted-away file.' },
    );

    const database = new glue.CfnDatabase(this, 'Database', {
      catalogId: stack.account,
      databaseInput: { name: this.databaseName, description: 'cdk-agent-data-stack warehouse views (Apache Iceberg)', locationUri: this.bucket.s3UrlForObject('tables') },
    });
    database.applyRemovalPolicy(removalPolicy);

    const optimizerRole = new iam.Role(this, 'OptimizerRole', {
      assumedBy: new iam.ServicePrincipal('glue.amazonaws.com').withConditions({ StringEquals: { 'aws:SourceAccount': stack.account } }),
      description: 'Glue table optimizers of the warehouse tables (compaction, snapshot retention, orphan files)',
    });
    const artifacts = new ArtifactBucket(this, 'Artifacts').bucket;

    for (const view of this.views) {
      const shapes = [currentTableShape(view), historyTableShape(view)].filter((s): s is IcebergTableShape => s !== undefined);
      for (const shape of shapes) {
        const table = this.addTable(database, shape, removalPolicy);
        this.addOptimizers(table, shape.name, optimizerRole, props.snapshotRetention ?? Duration.days(5));
      }
      const writer = new FlinkSqlApplication(this, `Writer-${view.name}`, {
        ...props.writerOptions,
        cluster: props.cluster,
        sql: warehouseWriterSql(view, { database: this.databaseName }),
        runtime: FlinkRuntime.FLINK_1_20,
        dependencies: [icebergWriterJar()],
        connectors: ['iceberg'],
        sqlVariables: { [WAREHOUSE_LOCATION_VARIABLE]: this.bucket.s3UrlForObject('tables') },
        checkpointInterval: props.commitInterval ?? Duration.minutes(1),
        artifactBucket: artifacts,
      });
      for (const shape of shapes) writer.application.node.addDependency(this.tables[shape.name]);
      // Glue and S3 are reached over HTTPS (interface/gateway endpoints or NAT); the brokers rule stays the writer's own.
      writer.connections.allowToAnyIpv4(ec2.Port.tcp(443), 'Iceberg writer to the Glue catalog and S3');
      this.grantWrite(writer, shapes.map(s => s.name));
      this.writers[view.name] = writer;
    }
    this.grantOptimizer(optimizerRole);

    this.workgroupName = Names.uniqueResourceName(this, { maxLength: 128, separator: '-' });
    this.workgroup = new athena.CfnWorkGroup(this, 'Workgroup', {
      name: this.workgroupName,
      description: 'Agent queries of the warehouse views: bytes-scanned cutoff, encrypted results, settings enforced',
      state: 'ENABLED',
      recursiveDeleteOption: true,
      workGroupConfiguration: {
        enforceWorkGroupConfiguration: true,
        publishCloudWatchMetricsEnabled: true,
        bytesScannedCutoffPerQuery: (props.bytesScannedCutoff ?? Size.gibibytes(1)).toBytes(),
        engineVersion: { selectedEngineVersion: 'Athena engine version 3' },
        resultConfiguration: {
          outputLocation: this.bucket.s3UrlForObject('athena-results/'),
          encryptionConfiguration: { encryptionOption: 'SSE_KMS', kmsKey: this.encryptionKey.keyArn },
          expectedBucketOwner: stack.account,
        },
      },
    });

    // Freshness: a probe reads each current-state table's newest snapshot through the workgroup every 5 minutes.
    this.freshnessProbe = new AgentFunction(this, 'FreshnessProbe', {
      handlerName: 'warehouse-freshness',
      description: 'cdk-agent-data-stack warehouse freshness probe (age of the newest Iceberg snapshot per view)',
      vpc: props.cluster.vpc,
      timeout: Duration.minutes(2),
      tracing: lambda.Tracing.ACTIVE,
      environment: {
        ...this.environment(), [VIEWS_ENV]: JSON.stringify(this.views),
        POWERTOOLS_SERVICE_NAME: AGENT_SERVICE_NAMES.warehouseFreshness, POWERTOOLS_METRICS_NAMESPACE: DEFAULT_AGENT_METRICS_NAMESPACE,
      },
    });
    this.grantQuery(this.freshnessProbe);
    Validations.of(this.freshnessProbe).acknowledge({
      id: 'Serverless-LambdaDLQ',
      reason: 'A failed probe run is simply the next run 5 minutes later; a run that publishes nothing leaves the freshness alarm without data, which it treats as breaching, so nothing is lost that a dead-letter queue would keep.',
    });
    // EventBridge Scheduler invokes the probe with its own role (no resource policy on the function).
    const schedulerRole = new iam.Role(this, 'FreshnessSchedulerRole', {
      assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com').withConditions({ StringEquals: { 'aws:SourceAccount': stack.account } }),
      description: 'EventBridge Scheduler role invoking the warehouse freshness probe',
    });
    iam.Grant.addToPrincipal({ grantee: schedulerRole, actions: ['lambda:InvokeFunction'], resourceArns: [this.freshnessProbe.functionArn] });
    new scheduler.CfnSchedule(this, 'FreshnessSchedule', {
      description: 'Warehouse freshness probe',
      scheduleExpression: 'rate(5 minutes)',
      flexibleTimeWindow: { mode: 'OFF' },
      target: { arn: this.freshnessProbe.functionArn, roleArn: schedulerRole.roleArn, retryPolicy: { maximumRetryAttempts: 0 } },
    });
    for (const view of this.views) {
      const threshold = props.freshnessThreshold?.toMilliseconds() ?? view.maxStalenessMs ?? Duration.minutes(15).toMilliseconds();
      this.freshnessAlarms[view.name] = new cloudwatch.Alarm(this, `Freshness-${view.name}`, {
        // Twice the probe's rate: a run's reading is stamped when it publishes, after its Athena queries, so runs 5 minutes
        // apart can leave a 5-minute period without a reading, which breaching-on-missing would turn into a false alarm;
        // every 10-minute period holds at least one run.
        metric: this.metricSnapshotAge(view.name, { period: Duration.minutes(10) }),
        threshold, evaluationPeriods: 1, comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        // No reading means the probe failed or the writer never committed: both are stale data.
        treatMissingData: cloudwatch.TreatMissingData.BREACHING,
        alarmDescription: `${view.name}: the newest Iceberg snapshot is older than ${Math.round(threshold / 1000)} s (the writer is behind or stopped), or no reading arrived.`,
      });
    }
  }

  /** Age of the newest committed snapshot of a view's current-state table (ms). Statistic: Maximum over 5 minutes. */
  public metricSnapshotAge(view: string, props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: DEFAULT_AGENT_METRICS_NAMESPACE, metricName: WAREHOUSE_METRIC_NAMES.snapshotAge,
      dimensionsMap: { [AGENT_METRIC_DIMENSIONS.service]: AGENT_SERVICE_NAMES.warehouseFreshness, [AGENT_METRIC_DIMENSIONS.view]: view },
      statistic: 'Maximum', period: Duration.minutes(5), ...props,
    });
  }

  /** What the query tool reads: database, workgroup, timeout. */
  public environment(): Record<string, string> {
    return {
      [WAREHOUSE_DATABASE_ENV]: this.databaseName,
      [WAREHOUSE_WORKGROUP_ENV]: this.workgroupName,
      [WAREHOUSE_QUERY_TIMEOUT_ENV]: String(this.queryTimeout.toMilliseconds()),
    };
  }

  /** Runs read-only queries of the warehouse tables in the workgroup (and reads its encrypted results). */
  public grantQuery(grantee: iam.IGrantable): iam.Grant {
    const stack = Stack.of(this);
    const workgroupArn = stack.formatArn({ service: 'athena', resource: 'workgroup', resourceName: this.workgroupName });
    const grant = iam.Grant.addToPrincipal({ grantee, actions: WAREHOUSE_ATHENA_QUERY_ACTIONS, resourceArns: [workgroupArn] });
    iam.Grant.addToPrincipal({ grantee, actions: WAREHOUSE_GLUE_READ_ACTIONS, resourceArns: [this.catalogArn(), this.databaseArn(), ...this.tableArns] });
    iam.Grant.addToPrincipal({ grantee, actions: WAREHOUSE_BUCKET_ACTIONS, resourceArns: [this.bucket.bucketArn] });
    iam.Grant.addToPrincipal({ grantee, actions: WAREHOUSE_OBJECT_READ_ACTIONS, resourceArns: this.views.flatMap(v => this.tablePrefixes(v)) });
    iam.Grant.addToPrincipal({ grantee, actions: ['s3:GetObject', 's3:PutObject', 's3:AbortMultipartUpload'], resourceArns: [this.bucket.arnForObjects('athena-results/*')] });
    iam.Grant.addToPrincipal({ grantee, actions: WAREHOUSE_KEY_WRITE_ACTIONS, resourceArns: [this.encryptionKey.keyArn] });
    this.acknowledgeObjects(grantee, [...this.views.flatMap(v => this.tablePrefixes(v)), this.bucket.arnForObjects('athena-results/*')],
      'Athena reads the data and metadata files under each table\'s own prefix (names chosen by Iceberg at commit time) and writes query results under athena-results/ (names chosen by Athena).');
    return grant;
  }

  /** Athena's `ProcessedBytes` of the workgroup's queries. Statistic: Sum. */
  public metricProcessedBytes(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: 'AWS/Athena', metricName: 'ProcessedBytes', dimensionsMap: { WorkGroup: this.workgroupName }, statistic: 'Sum', period: Duration.minutes(5), ...props,
    });
  }

  private addTable(database: glue.CfnDatabase, shape: IcebergTableShape, removalPolicy: RemovalPolicy): glue.CfnTable {
    const table = new glue.CfnTable(this, `Table-${shape.name}`, {
      catalogId: Stack.of(this).account,
      databaseName: this.databaseName,
      tableInput: { name: shape.name, tableType: 'EXTERNAL_TABLE' },
      openTableFormatInput: {
        icebergInput: {
          metadataOperation: 'CREATE',
          version: '2',
          icebergTableInput: {
            location: this.bucket.s3UrlForObject(`tables/${shape.name}`),
            schema: {
              schemaId: 0, type: 'struct',
              fields: shape.columns.map(c => ({ id: c.id, name: c.name, type: c.type, required: c.required, ...(c.doc ? { doc: c.doc } : {}) })),
              ...(shape.identifierFieldIds.length > 0 ? { identifierFieldIds: shape.identifierFieldIds } : {}),
            },
            ...(shape.partition ? {
              partitionSpec: { specId: 0, fields: [{ sourceId: shape.partition.sourceId, transform: shape.partition.transform, name: shape.partition.name, fieldId: 1000 }] },
            } : {}),
            properties: shape.properties,
          },
        },
      },
    });
    table.node.addDependency(database);
    table.applyRemovalPolicy(removalPolicy);
    this.tables[shape.name] = table;
    this.tableArns.push(Stack.of(this).formatArn({ service: 'glue', resource: 'table', resourceName: `${this.databaseName}/${shape.name}` }));
    return table;
  }

  private addOptimizers(table: glue.CfnTable, name: string, role: iam.Role, retention: Duration): void {
    const base = { catalogId: Stack.of(this).account, databaseName: this.databaseName, tableName: name };
    const optimizers: Array<[string, glue.CfnTableOptimizer.TableOptimizerConfigurationProperty]> = [
      ['compaction', { enabled: true, roleArn: role.roleArn }],
      ['retention', {
        enabled: true, roleArn: role.roleArn,
        retentionConfiguration: {
          icebergConfiguration: {
            snapshotRetentionPeriodInDays: Math.max(1, Math.round(retention.toDays({ integral: false }))), numberOfSnapshotsToRetain: 1, cleanExpiredFiles: true,
          },
        },
      }],
      ['orphan_file_deletion', { enabled: true, roleArn: role.roleArn, orphanFileDeletionConfiguration: { icebergConfiguration: { orphanFileRetentionPeriodInDays: 3 } } }],
    ];
    for (const [type, configuration] of optimizers) {
      const optimizer = new glue.CfnTableOptimizer(this, `Optimizer-${name}-${type}`, { ...base, type, tableOptimizerConfiguration: configuration });
      // On the role's whole subtree, so on its DefaultPolicy, which exists only once grantOptimizer() runs after the
      // tables: Glue runs an optimizer with the role as soon as it is created.
      optimizer.node.addDependency(table, role);
    }
  }

  private grantWrite(writer: FlinkSqlApplication, tables: string[]): void {
    const stack = Stack.of(this);
    const arns = tables.map(t => stack.formatArn({ service: 'glue', resource: 'table', resourceName: `${this.databaseName}/${t}` }));
    iam.Grant.addToPrincipal({ grantee: writer, actions: WAREHOUSE_GLUE_WRITE_ACTIONS, resourceArns: [this.catalogArn(), this.databaseArn(), ...arns] });
    iam.Grant.addToPrincipal({ grantee: writer, actions: WAREHOUSE_BUCKET_ACTIONS, resourceArns: [this.bucket.bucketArn] });
    iam.Grant.addToPrincipal({ grantee: writer, actions: WAREHOUSE_OBJECT_WRITE_ACTIONS, resourceArns: tables.map(t => this.bucket.arnForObjects(`tables/${t}/*`)) });
    iam.Grant.addToPrincipal({ grantee: writer, actions: WAREHOUSE_KEY_WRITE_ACTIONS, resourceArns: [this.encryptionKey.keyArn] });
    this.acknowledgeObjects(writer, tables.map(t => this.bucket.arnForObjects(`tables/${t}/*`)),
      'The Iceberg writer creates data, delete and metadata files with generated names under its own tables\' prefixes only.');
  }

  /**
   * cdk-nag IAM5 acknowledgments for object-prefix wildcards, on the grantee's role, naming each ARN as the role's
   * template holds it: for a grantee of another stack the bucket is an import there, known once the app is prepared.
   */
  private acknowledgeObjects(grantee: iam.IGrantable, arns: string[], reason: string): void {
    const principal = grantee.grantPrincipal as unknown as Construct;
    if (!(principal instanceof Construct)) return;
    acknowledgeWhenPrepared(principal, () => arns.map(arn => ({ id: `AwsSolutions-IAM5[Resource::${nagResource(principal, arn)}]`, reason })));
  }

  private grantOptimizer(role: iam.Role): void {
    const stack = Stack.of(this);
    iam.Grant.addToPrincipal({ grantee: role, actions: WAREHOUSE_GLUE_WRITE_ACTIONS, resourceArns: [this.catalogArn(), this.databaseArn(), ...this.tableArns] });
    iam.Grant.addToPrincipal({ grantee: role, actions: WAREHOUSE_BUCKET_ACTIONS, resourceArns: [this.bucket.bucketArn] });
    iam.Grant.addToPrincipal({ grantee: role, actions: WAREHOUSE_OBJECT_WRITE_ACTIONS, resourceArns: [this.bucket.arnForObjects('tables/*')] });
    iam.Grant.addToPrincipal({ grantee: role, actions: WAREHOUSE_KEY_WRITE_ACTIONS, resourceArns: [this.encryptionKey.keyArn] });
    iam.Grant.addToPrincipal({
      grantee: role, actions: WAREHOUSE_OPTIMIZER_LOG_ACTIONS,
      resourceArns: [stack.formatArn({ service: 'logs', resource: 'log-group', resourceName: '/aws-glue/iceberg-*', arnFormat: ArnFormat.COLON_RESOURCE_NAME })],
    });

    const logGroups = stack.formatArn({ service: 'logs', resource: 'log-group', resourceName: '/aws-glue/iceberg-*', arnFormat: ArnFormat.COLON_RESOURCE_NAME });
    this.acknowledgeObjects(role, [this.bucket.arnForObjects('tables/*')], 'Optimizers rewrite and delete data files of every warehouse table (tables/*), with names Iceberg generates.');
    Validations.of(role).acknowledge({
      id: `AwsSolutions-IAM5[Resource::${nagResource(this, logGroups)}]`,
      reason: 'Glue\'s table optimizers write their runs to Glue\'s own /aws-glue/iceberg-* log groups, whose names Glue chooses.',
    });
  }

  private tablePrefixes(view: ViewConfig): string[] {
    return [view.warehouse!.table, view.warehouse!.historyTable].filter((t): t is string => !!t).map(t => this.bucket.arnForObjects(`tables/${t}/*`));
  }

  private catalogArn(): string {
    return Stack.of(this).formatArn({ service: 'glue', resource: 'catalog' });
  }

  private databaseArn(): string {
    return Stack.of(this).formatArn({ service: 'glue', resource: 'database', resourceName: this.databaseName });
  }
}

function validate(props: AgentWarehouseProps): void {
  if (props.views.length === 0) throw new Error('AgentWarehouse: views is empty. Give the views with store: ViewStore.WAREHOUSE (or create no warehouse).');
  const other = props.views.filter(v => v.store !== ViewStore.WAREHOUSE);
  if (other.length > 0) throw new Error(`AgentWarehouse: views [${other.map(v => v.name).join(', ')}] are not warehouse views. Pass only views with store: ViewStore.WAREHOUSE.`);
  if (props.databaseName !== undefined && (Token.isUnresolved(props.databaseName) || !DATABASE_NAME.test(props.databaseName))) {
    throw new Error(`AgentWarehouse: databaseName '${props.databaseName}' must be a literal of lower-case letters, digits and '_' (Athena folds names to lower case). E.g. 'agent_warehouse'.`);
  }
  const cutoff = props.bytesScannedCutoff?.toBytes();
  if (cutoff !== undefined && cutoff < 10 * 1024 * 1024) {
    throw new Error(`AgentWarehouse: bytesScannedCutoff is ${cutoff} bytes; Athena's minimum per-query limit is 10 MB. Give at least Size.mebibytes(10).`);
  }
  const timeout = props.queryTimeout?.toSeconds();
  if (timeout !== undefined && (timeout < 1 || timeout > 600)) {
    throw new Error(`AgentWarehouse: queryTimeout is ${timeout} s; give 1 s to 10 minutes, and keep it under the MCP function's timeout.`);
  }
  const commit = props.commitInterval?.toSeconds();
  if (commit !== undefined && commit < 10) {
    throw new Error(`AgentWarehouse: commitInterval is ${commit} s; every commit writes new files and a snapshot, so under 10 s floods the table with small files. Give at least Duration.seconds(10).`);
  }
}
