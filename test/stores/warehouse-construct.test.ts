// AgentWarehouse: Glue database and Iceberg tables from the view, optimizers, the Athena workgroup's limits, the writer job, and IAM naming the tables and the workgroup.
import { App, Duration, Size, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import { AgentWarehouse, AgentWarehouseProps } from '../../constructs/stores/agent-warehouse';
import { AgentView, AgentViewProps, ViewFieldType, ViewStore } from '../../constructs/stores/view';
import { WarehousePartition } from '../../constructs/stores/warehouse-view';
import { StandInCluster } from '../processing/support';

const viewProps: AgentViewProps = {
  name: 'order_history',
  description: 'Orders over time',
  topic: 'agentdata.public.orders',
  key: ['id'],
  fields: [
    { name: 'id', type: ViewFieldType.INTEGER },
    { name: 'status', type: ViewFieldType.KEYWORD },
    { name: 'total', type: ViewFieldType.NUMBER },
    { name: 'created_at', type: ViewFieldType.TIMESTAMP },
  ],
  sourceTable: 'public.orders',
  store: ViewStore.WAREHOUSE,
  warehouse: { history: true },
};

function build(props: Partial<AgentWarehouseProps> = {}, view: Partial<AgentViewProps> = {}) {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new Stack(app, 'S', { env: { account: '111111111111', region: 'eu-west-1' } });
  const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 0 });
  const cluster = new StandInCluster(stack, 'Kafka', vpc);
  const warehouse = new AgentWarehouse(stack, 'Warehouse', { cluster, views: [new AgentView({ ...viewProps, ...view })], ...props });
  const reader = new iam.Role(stack, 'Reader', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
  warehouse.grantQuery(reader);
  return { stack, warehouse, template: Template.fromStack(stack) };
}

describe('catalog and tables', () => {
  const { template, warehouse } = build({}, { key: ['id', 'created_at'], warehouse: { history: true, partitionBy: WarehousePartition.day('created_at') } });

  test('a Glue database and an Iceberg v2 current-state table: schema from the fields, key as identifier fields, day partition', () => {
    template.resourceCountIs('AWS::Glue::Database', 1);
    template.hasResourceProperties('AWS::Glue::Table', {
      DatabaseName: warehouse.databaseName,
      TableInput: { Name: 'order_history' },
      OpenTableFormatInput: {
        IcebergInput: {
          MetadataOperation: 'CREATE', Version: '2',
          IcebergTableInput: {
            Schema: {
              Fields: [
                { Id: 1, Name: 'id', Type: 'long', Required: true },
                { Id: 2, Name: 'status', Type: 'string', Required: false },
                { Id: 3, Name: 'total', Type: 'double', Required: false },
                { Id: 4, Name: 'created_at', Type: 'timestamptz', Required: true },
                Match.objectLike({ Id: 5, Name: '_commit_ts', Type: 'timestamptz', Required: false }),
              ],
              IdentifierFieldIds: [1, 4],
            },
            PartitionSpec: { Fields: [{ SourceId: 4, Transform: 'day', Name: 'created_at_day', FieldId: 1000 }] },
            Properties: Match.objectLike({ 'format-version': '2', 'write.upsert.enabled': 'true', 'write.delete.mode': 'merge-on-read' }),
          },
        },
      },
    });
  });

  test('the current-state table makes the writer commit at every checkpoint, so a quiet source does not age its newest snapshot past maxStaleness', () => {
    // Iceberg's Flink committer commits an empty checkpoint only every flink.max-continuous-empty-commits (default 10).
    template.hasResourceProperties('AWS::Glue::Table', {
      TableInput: { Name: 'order_history' },
      OpenTableFormatInput: { IcebergInput: { IcebergTableInput: { Properties: Match.objectLike({ 'flink.max-continuous-empty-commits': '1' }) } } },
    });
  });

  test('the history table: _op and _commit_ts, no identifier fields, partitioned by day of _commit_ts', () => {
    template.hasResourceProperties('AWS::Glue::Table', {
      TableInput: { Name: 'order_history_history' },
      OpenTableFormatInput: { IcebergInput: { IcebergTableInput: {
        Schema: Match.objectLike({ Fields: Match.arrayWith([Match.objectLike({ Name: '_op', Type: 'string', Required: true })]) }),
        PartitionSpec: { Fields: [Match.objectLike({ SourceId: 6, Transform: 'day', Name: '_commit_ts_day' })] },
      } } },
    });
  });

  test('tables, database, data bucket and key are retained by default', () => {
    for (const type of ['AWS::Glue::Table', 'AWS::Glue::Database', 'AWS::KMS::Key']) {
      for (const r of Object.values(template.findResources(type))) expect(r.DeletionPolicy).toBe('Retain');
    }
    template.hasResourceProperties('AWS::S3::Bucket', {
      BucketEncryption: { ServerSideEncryptionConfiguration: [Match.objectLike({ ServerSideEncryptionByDefault: Match.objectLike({ SSEAlgorithm: 'aws:kms' }), BucketKeyEnabled: true })] },
    });
  });

  test('compaction, snapshot retention (5 days) and orphan-file deletion per table', () => {
    template.resourceCountIs('AWS::Glue::TableOptimizer', 6);
    template.hasResourceProperties('AWS::Glue::TableOptimizer', { TableName: 'order_history', Type: 'compaction', TableOptimizerConfiguration: Match.objectLike({ Enabled: true }) });
    template.hasResourceProperties('AWS::Glue::TableOptimizer', {
      TableName: 'order_history', Type: 'retention',
      TableOptimizerConfiguration: Match.objectLike({ RetentionConfiguration: { IcebergConfiguration: { SnapshotRetentionPeriodInDays: 5, NumberOfSnapshotsToRetain: 1, CleanExpiredFiles: true } } }),
    });
    template.hasResourceProperties('AWS::Glue::TableOptimizer', { TableName: 'order_history_history', Type: 'orphan_file_deletion' });
  });

  test('every optimizer waits for its role\'s policy (the grants are added after the tables)', () => {
    const [policy] = Object.keys(template.findResources('AWS::IAM::Policy', { Properties: { Roles: [{ Ref: Match.stringLikeRegexp('^WarehouseOptimizerRole') }] } }));
    expect(policy).toMatch(/^WarehouseOptimizerRoleDefaultPolicy/);
    const optimizers = Object.values(template.findResources('AWS::Glue::TableOptimizer'));
    expect(optimizers).toHaveLength(6);
    for (const o of optimizers) expect(o.DependsOn).toEqual(expect.arrayContaining([policy]));
  });
});

describe('workgroup', () => {
  test('defaults: 1 GiB cutoff, enforced, engine v3, SSE-KMS results with the warehouse key, 12 s per query', () => {
    const { template, warehouse } = build();
    template.hasResourceProperties('AWS::Athena::WorkGroup', {
      WorkGroupConfiguration: Match.objectLike({
        EnforceWorkGroupConfiguration: true,
        BytesScannedCutoffPerQuery: 1024 ** 3,
        EngineVersion: { SelectedEngineVersion: 'Athena engine version 3' },
        ResultConfiguration: Match.objectLike({ EncryptionConfiguration: { EncryptionOption: 'SSE_KMS', KmsKey: Match.anyValue() } }),
      }),
    });
    expect(warehouse.environment().AGENT_WAREHOUSE_QUERY_TIMEOUT_MS).toBe('12000');
  });

  test('a given cutoff and timeout', () => {
    const { template, warehouse } = build({ bytesScannedCutoff: Size.mebibytes(100), queryTimeout: Duration.seconds(10) });
    template.hasResourceProperties('AWS::Athena::WorkGroup', { WorkGroupConfiguration: Match.objectLike({ BytesScannedCutoffPerQuery: 100 * 1024 * 1024 }) });
    expect(warehouse.environment().AGENT_WAREHOUSE_QUERY_TIMEOUT_MS).toBe('10000');
  });
});

const actionsOf = (s: any): string[] => [].concat(s.Action);

describe('least privilege', () => {
  const { template, stack } = build();
  const policyOf = (roleLogicalPrefix: string) => {
    const policies = Object.values(template.findResources('AWS::IAM::Policy'))
      .filter(p => JSON.stringify(p.Properties.Roles).includes(roleLogicalPrefix));
    return stack.resolve(policies.flatMap(p => p.Properties.PolicyDocument.Statement));
  };

  test('the query grant names the workgroup and the view\'s tables, never * ', () => {
    const statements = policyOf('Reader');
    const athena = statements.find((s: any) => actionsOf(s).includes('athena:StartQueryExecution'));
    expect(JSON.stringify(athena.Resource)).toMatch(/workgroup\//);
    const glue = statements.find((s: any) => actionsOf(s).includes('glue:GetTable'));
    expect(JSON.stringify(glue.Resource)).toMatch(/table\/[a-z0-9_]+\/order_history"/);
    expect(JSON.stringify(glue.Resource)).toMatch(/table\/[a-z0-9_]+\/order_history_history"/);
    for (const s of statements) expect(s.Resource).not.toBe('*');
    expect(statements.some((s: any) => actionsOf(s).some((a: string) => /^glue:(Update|Create|Delete)/.test(a)))).toBe(false);
  });

  test('the writer may update only its own tables and write only under their prefixes', () => {
    const statements = policyOf('WriterorderhistoryRole');
    const glue = statements.find((s: any) => actionsOf(s).includes('glue:UpdateTable'));
    expect(JSON.stringify(glue.Resource)).toMatch(/order_history"/);
    const s3 = statements.find((s: any) => actionsOf(s).includes('s3:PutObject'));
    expect(JSON.stringify(s3.Resource)).toMatch(/tables\/order_history\/\*/);
  });
});

describe('writer', () => {
  const { warehouse, template } = build();
  const writer = warehouse.writers.order_history;

  test('Flink 1.20 (Iceberg has no 2.2 runtime), commits every minute, the Iceberg JAR merged into the one jarfile', () => {
    expect(writer.runtime.name).toBe('FLINK-1_20');
    template.hasResourceProperties('AWS::KinesisAnalyticsV2::Application', {
      RuntimeEnvironment: 'FLINK-1_20',
      ApplicationConfiguration: Match.objectLike({
        FlinkApplicationConfiguration: Match.objectLike({ CheckpointConfiguration: Match.objectLike({ CheckpointInterval: 60000 }) }),
        EnvironmentProperties: { PropertyGroups: Match.arrayWith([Match.objectLike({ PropertyGroupId: 'sql.variables', PropertyMap: Match.objectLike({ 'warehouse.location': Match.anyValue() }) })]) },
      }),
    });
    const sources = JSON.stringify(template.findResources('Custom::DeployTimeArtifact'));
    expect(sources).toMatch(/iceberg-flink-runtime-1\.20-1\.10\.0\.jar/);
    expect(sources).toMatch(/iceberg-aws-bundle-1\.10\.0\.jar/);
    expect(sources).not.toMatch(/awssdk\/sts\/2\.26/);
  });

  test("the merged JAR gets Flink's HadoopUtils from pinned flink-hadoop-fs, relocated out of org.apache.flink, and Hadoop's conf package relocated (declared as data)", () => {
    const [artifact] = Object.values(template.findResources('Custom::DeployTimeArtifact', {
      Properties: { Sources: Match.arrayWith([Match.objectLike({ url: Match.stringLikeRegexp('iceberg-flink-runtime') })]) },
    }));
    const parts = (artifact.Properties.Sources as Array<Record<string, unknown>>).filter(s => s.targetPath === 'lib/pyflink-dependencies.jar');
    expect(parts[parts.length - 1]).toEqual({
      url: 'https://repo1.maven.org/maven2/org/apache/flink/flink-hadoop-fs/1.20.0/flink-hadoop-fs-1.20.0.jar',
      checksumUrl: 'https://repo1.maven.org/maven2/org/apache/flink/flink-hadoop-fs/1.20.0/flink-hadoop-fs-1.20.0.jar.sha1',
      sha256: 'c79fc682f00a9f117779b6199357753330191ba7852cf60b4761238032d37b92',
      extract: 'merge-jar',
      targetPath: 'lib/pyflink-dependencies.jar',
      classes: ['org/apache/flink/runtime/util/HadoopUtils'],
      relocations: [
        { from: 'org/apache/flink/runtime/util/HadoopUtils', to: 'org/apache/iceberg/shaded/org/apache/flink/runtime/util/HadoopUtils' },
        // As AWS's Managed Flink Iceberg sample relocates it (maven-shade pattern org.apache.hadoop.conf).
        { from: 'org/apache/hadoop/conf', to: 'shaded/org/apache/hadoop/conf', package: true },
      ],
    });
    expect(parts.filter(s => s.classes || s.relocations)).toHaveLength(1);
  });

  test('the packaged SQL upserts by key into the Glue Iceberg table and appends every change to the history table', () => {
    const sql = writer.packagedSql;
    expect(sql).toMatch(/'connector' = 'iceberg'[\s\S]*'catalog-impl' = 'org\.apache\.iceberg\.aws\.glue\.GlueCatalog'[\s\S]*'catalog-table' = 'order_history',\n {2}'upsert-enabled' = 'true'/);
    expect(sql).toMatch(/PRIMARY KEY \(`id`\) NOT ENFORCED/);
    expect(sql).toMatch(/INSERT INTO `wh_order_history_history`[\s\S]*COALESCE\(`after`\.`id`, `before`\.`id`\)/);
    expect(sql).toMatch(/'properties\.sasl\.mechanism' = 'AWS_MSK_IAM'/);
  });
});

describe('freshness', () => {
  // The alarm's period is twice the probe's rate: a 5-minute period can hold no reading when a run publishes late (its Athena
  // queries), and missing data is breaching.
  test('a probe every 5 minutes publishes WarehouseSnapshotAge; one alarm per view over 10 minutes at maxStaleness (else 15 min), missing data breaching', () => {
    const { template } = build({}, { maxStaleness: Duration.minutes(10) });
    template.hasResourceProperties('AWS::Scheduler::Schedule', { ScheduleExpression: 'rate(5 minutes)', FlexibleTimeWindow: { Mode: 'OFF' } });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'WarehouseSnapshotAge', Namespace: 'AgentDataStack', Statistic: 'Maximum', Period: 600, EvaluationPeriods: 1, Threshold: 600000,
      TreatMissingData: 'breaching', Dimensions: Match.arrayWith([{ Name: 'View', Value: 'order_history' }]),
    });
    expect(Template.fromStack(build().stack).findResources('AWS::CloudWatch::Alarm', { Properties: { Threshold: 900000 } })).not.toEqual({});
  });
});

describe('validation', () => {
  test.each([
    [{ bytesScannedCutoff: Size.mebibytes(1) }, /bytesScannedCutoff is 1048576 bytes; Athena's minimum per-query limit is 10 MB/],
    [{ queryTimeout: Duration.minutes(20) }, /queryTimeout is 1200 s; give 1 s to 10 minutes/],
    [{ commitInterval: Duration.seconds(2) }, /commitInterval is 2 s/],
    [{ databaseName: 'Agent-Warehouse' }, /databaseName 'Agent-Warehouse' must be a literal of lower-case letters/],
  ])('fails when %o', (props, message) => {
    expect(() => build(props as Partial<AgentWarehouseProps>)).toThrow(message);
  });
  test('fails when a non-warehouse view is passed', () => {
    expect(() => build({}, { store: ViewStore.CACHE, warehouse: undefined })).toThrow(/views \[order_history\] are not warehouse views/);
  });
});
