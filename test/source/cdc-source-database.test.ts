// CdcSourceDatabase: CDC parameters per engine, security defaults, removal policies, the bootstrap wiring, imported mode, metrics, validation.
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as rds from 'aws-cdk-lib/aws-rds';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { AgentNetwork } from '../../constructs/common/agent-network';
import { CdcSourceDatabase, CdcSourceDatabaseProps, SourceEngine, SourceEngineFamily, SourceSchema } from '../../constructs/source';
import { testApp, testStack } from '../helpers/app';
import { formatFindings, gateFindings } from '../helpers/gate';
import { DeploymentProfile, profileDefaults } from '../../lib/profiles';

function build(props: Partial<CdcSourceDatabaseProps> = {}, gate = false) {
  const app = testApp({ gate });
  const stack = testStack(app);
  const vpc = new AgentNetwork(stack, 'Net').vpc;
  const source = new CdcSourceDatabase(stack, 'Source', { vpc, tables: ['public.orders', 'public.customers'], ...props });
  return { app, stack, vpc, source, template: () => Template.fromStack(stack) };
}

const MYSQL_TABLES = { tables: ['agentdata.orders'] };

describe('CdcSourceDatabase on RDS for PostgreSQL (default)', () => {
  const { template, source, stack } = build();
  const t = template();

  test('engine defaults to PostgreSQL 17 on a Multi-AZ db.m7g.large with gp3 storage autoscaling 100 -> 1000 GiB', () => {
    expect(source.engine.family).toBe(SourceEngineFamily.POSTGRESQL);
    t.hasResourceProperties('AWS::RDS::DBInstance', {
      Engine: 'postgres', EngineVersion: '17', DBInstanceClass: 'db.m7g.large', MultiAZ: true,
      StorageType: 'gp3', AllocatedStorage: '100', MaxAllocatedStorage: 1000,
    });
  });

  test('the parameter group turns on logical replication, slots, WAL senders and forced TLS', () => {
    t.hasResourceProperties('AWS::RDS::DBParameterGroup', {
      Family: 'postgres17',
      Parameters: { 'rds.logical_replication': '1', 'rds.force_ssl': '1', 'max_replication_slots': '10', 'max_wal_senders': '10' },
    });
    t.hasResourceProperties('AWS::RDS::DBInstance', { DBParameterGroupName: { Ref: Match.stringLikeRegexp('SourceParameters') } });
  });

  test('secure by default: encrypted, private, isolated subnets, deletion protection, backups, logs, Performance Insights, IAM auth, current CA', () => {
    t.hasResourceProperties('AWS::RDS::DBInstance', {
      StorageEncrypted: true, PubliclyAccessible: false, DeletionProtection: true, BackupRetentionPeriod: 7,
      EnableCloudwatchLogsExports: ['postgresql', 'upgrade'], EnablePerformanceInsights: true,
      EnableIAMDatabaseAuthentication: true, CACertificateIdentifier: 'rds-ca-rsa2048-g1', AutoMinorVersionUpgrade: true,
      KmsKeyId: Match.absent(),
    });
    t.hasResourceProperties('AWS::RDS::DBSubnetGroup', {
      SubnetIds: [{ Ref: Match.stringLikeRegexp('isolatedSubnet1') }, { Ref: Match.stringLikeRegexp('isolatedSubnet2') }],
    });
    t.hasResourceProperties('Custom::LogRetention', { RetentionInDays: 30 });
  });

  test('database and admin secret are retained when removed from the stack', () => {
    t.hasResource('AWS::RDS::DBInstance', { DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
    t.hasResource('AWS::SecretsManager::Secret', {
      DeletionPolicy: 'Retain',
      Properties: { GenerateSecretString: Match.objectLike({ SecretStringTemplate: '{"username":"cdc_admin"}' }) },
    });
  });

  test('the admin secret rotates every 30 days', () => {
    t.hasResourceProperties('AWS::SecretsManager::RotationSchedule', { RotationRules: { ScheduleExpression: 'rate(30 days)' } });
  });

  test('its own security group allows nothing by default and admits the bootstrap on the database port', () => {
    t.hasResourceProperties('AWS::EC2::SecurityGroup', {
      GroupDescription: 'CDC source database TestStack/Source',
      SecurityGroupEgress: [Match.objectLike({ CidrIp: '255.255.255.255/32' })],
    });
    t.hasResourceProperties('AWS::EC2::SecurityGroupIngress', {
      Description: 'Replication bootstrap', IpProtocol: 'tcp',
      FromPort: { 'Fn::GetAtt': [Match.stringLikeRegexp('^Source'), 'Endpoint.Port'] },
      GroupId: { 'Fn::GetAtt': [Match.stringLikeRegexp('SourceSecurityGroup'), 'GroupId'] },
      SourceSecurityGroupId: { 'Fn::GetAtt': [Match.stringLikeRegexp('SourceBootstrapProviderOnEventSecurityGroup'), 'GroupId'] },
    });
    expect(source.connections.securityGroups).toHaveLength(1);
  });

  test('the replication secret holds a generated alphanumeric password and the connection details', () => {
    t.hasResourceProperties('AWS::SecretsManager::Secret', {
      Description: 'Debezium replication user of TestStack/Source',
      GenerateSecretString: {
        ExcludePunctuation: true, GenerateStringKey: 'password', PasswordLength: 32,
        SecretStringTemplate: { 'Fn::Join': ['', Match.arrayWith([Match.stringLikeRegexp('"username":"debezium","engine":"postgresql","host":"')])] },
      },
    });
  });

  test('the bootstrap custom resource gets the database, secrets, tables, publication and slot', () => {
    t.hasResourceProperties('Custom::CdcReplicationBootstrap', {
      Engine: 'postgresql',
      Host: { 'Fn::GetAtt': [Match.stringLikeRegexp('^Source'), 'Endpoint.Address'] },
      Port: { 'Fn::GetAtt': [Match.stringLikeRegexp('^Source'), 'Endpoint.Port'] },
      Database: 'agentdata',
      AdminSecretArn: { Ref: Match.stringLikeRegexp('SourceSecretAttachment') },
      ReplicationSecretArn: { Ref: Match.stringLikeRegexp('SourceReplicationSecret') },
      ReplicationUsername: 'debezium',
      Tables: ['public.orders', 'public.customers'],
      HeartbeatTable: 'public.debezium_heartbeat',
      PublicationName: 'agent_data_publication',
      SlotName: 'agent_data_slot',
      BinlogRetentionHours: Match.absent(),
    });
  });

  test('the bootstrap runs after the database and its ingress rule exist', () => {
    const resources = t.findResources('Custom::CdcReplicationBootstrap');
    const dependsOn: string[] = Object.values(resources)[0].DependsOn;
    expect(dependsOn).toEqual(expect.arrayContaining([
      expect.stringMatching(/^Source[0-9A-F]{8}$/),
      expect.stringMatching(/SourceSecurityGroupfromTestStackSourceBootstrapProviderOnEvent/),
    ]));
  });

  test('the bootstrap function runs in the VPC\'s private subnets, verifies TLS against the runtime CA bundle, and reads only the two secrets', () => {
    t.hasResourceProperties('AWS::Lambda::Function', {
      Description: Match.stringLikeRegexp('^Prepares the CDC source database'),
      Environment: { Variables: Match.objectLike({ DB_TLS_CA_FILE: '/var/runtime/ca-cert.pem' }) },
      VpcConfig: { SubnetIds: [{ Ref: Match.stringLikeRegexp('privateSubnet1') }, { Ref: Match.stringLikeRegexp('privateSubnet2') }], SecurityGroupIds: Match.anyValue() },
      Timeout: 300,
    });
    t.hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: Match.stringLikeRegexp('SourceBootstrapProviderOnEventRole') }],
      PolicyDocument: { Statement: Match.arrayWith([{
        Action: ['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue'], Effect: 'Allow',
        Resource: [{ Ref: Match.stringLikeRegexp('SourceReplicationSecret') }, { Ref: Match.stringLikeRegexp('SourceSecretAttachment') }],
      }]) },
    });
  });

  test('publication, slot and heartbeat table are bootstrap attributes, so consumers run after it', () => {
    const resolve = (v: string) => stack.resolve(v);
    expect(resolve(source.publicationName)).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/SourceReplicationBootstrap/), 'PublicationName'] });
    expect(resolve(source.slotName)).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/SourceReplicationBootstrap/), 'SlotName'] });
    expect(resolve(source.heartbeatTable)).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/SourceReplicationBootstrap/), 'HeartbeatTable'] });
    expect(resolve(source.heartbeatActionQuery)).toEqual({ 'Fn::Join': ['', [
      'INSERT INTO ', { 'Fn::GetAtt': [expect.stringMatching(/SourceReplicationBootstrap/), 'HeartbeatTable'] },
      ' (id, ts) VALUES (1, now()) ON CONFLICT (id) DO UPDATE SET ts = EXCLUDED.ts',
    ]] });
    expect(source.capturedTables).toEqual(['public.orders', 'public.customers']);
    expect(source.databaseName).toBe('agentdata');
    expect(source.replicationUsername).toBe('debezium');
  });

  test('metrics come from AWS/RDS with the instance dimension and documented statistics', () => {
    const id = { Ref: expect.stringMatching(/^Source[0-9A-F]{8}$/) };
    const lag = source.metricOldestReplicationSlotLag();
    expect(lag.namespace).toBe('AWS/RDS');
    expect(lag.metricName).toBe('OldestReplicationSlotLag');
    expect(lag.statistic).toBe('Maximum');
    expect(stack.resolve(lag.dimensions)).toEqual({ DBInstanceIdentifier: id });
    expect(source.metricReplicationSlotDiskUsage().metricName).toBe('ReplicationSlotDiskUsage');
    expect(source.metricTransactionLogsDiskUsage().metricName).toBe('TransactionLogsDiskUsage');
    expect(source.metricCPUUtilization().statistic).toBe('Average');
    expect(source.metricDatabaseConnections().metricName).toBe('DatabaseConnections');
    expect(source.metricFreeStorageSpace().statistic).toBe('Minimum');
    expect(() => source.metricBinLogDiskUsage()).toThrow(/metricBinLogDiskUsage\(\) applies to mysql sources; this source is RDS for PostgreSQL 17/);
  });

  test('grantReadReplicationSecret gives a consumer read access to the replication secret only', () => {
    const { stack, source } = build();
    const role = new iam.Role(stack, 'Consumer', { assumedBy: new iam.ServicePrincipal('kafkaconnect.amazonaws.com') });
    source.grantReadReplicationSecret(role);
    Template.fromStack(stack).hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: Match.stringLikeRegexp('Consumer') }],
      PolicyDocument: { Statement: [{
        Action: ['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue'], Effect: 'Allow', Resource: { Ref: Match.stringLikeRegexp('SourceReplicationSecret') },
      }] },
    });
  });
});

describe('CdcSourceDatabase on other engines', () => {
  test('Aurora PostgreSQL: logical replication in the cluster parameter group, a writer and a reader', () => {
    const { template, source, stack } = build({ engine: SourceEngine.auroraPostgres() });
    const t = template();
    t.hasResourceProperties('AWS::RDS::DBClusterParameterGroup', {
      Family: 'aurora-postgresql17',
      Parameters: { 'rds.logical_replication': '1', 'rds.force_ssl': '1', 'max_replication_slots': '10', 'max_wal_senders': '10' },
    });
    t.hasResourceProperties('AWS::RDS::DBCluster', {
      Engine: 'aurora-postgresql', EngineVersion: '17.9', StorageEncrypted: true, DeletionProtection: true, BackupRetentionPeriod: 7,
      EnableCloudwatchLogsExports: ['postgresql'], EnableIAMDatabaseAuthentication: true, DatabaseName: 'agentdata',
    });
    t.hasResource('AWS::RDS::DBCluster', { DeletionPolicy: 'Retain' });
    t.resourceCountIs('AWS::RDS::DBInstance', 2);
    t.hasResourceProperties('AWS::RDS::DBInstance', { DBInstanceClass: 'db.r7g.large', PubliclyAccessible: false, EnablePerformanceInsights: true });
    // Aurora lists no slot-lag metric: the writer's TransactionLogsDiskUsage (WAL kept for logical replication), on the writer role.
    expect(source.metricOldestReplicationSlotLag().metricName).toBe('TransactionLogsDiskUsage');
    expect(stack.resolve(source.metricOldestReplicationSlotLag().dimensions)).toEqual({ DBClusterIdentifier: { Ref: expect.stringMatching(/^Source[0-9A-F]{8}$/) }, Role: 'WRITER' });
  });

  test('RDS for MySQL: row binlog with full images and TLS only; binlog retention passed to the bootstrap', () => {
    const { template, source } = build({ engine: SourceEngine.mysql(), ...MYSQL_TABLES });
    const t = template();
    t.hasResourceProperties('AWS::RDS::DBParameterGroup', {
      Family: 'mysql8.4', Parameters: { binlog_format: 'ROW', binlog_row_image: 'FULL', require_secure_transport: 'ON' },
    });
    t.hasResourceProperties('AWS::RDS::DBInstance', {
      Engine: 'mysql', EngineVersion: '8.4.10', BackupRetentionPeriod: 7, EnableCloudwatchLogsExports: ['error', 'slowquery', 'general', 'audit'],
    });
    t.hasResourceProperties('Custom::CdcReplicationBootstrap', {
      Engine: 'mysql', BinlogRetentionHours: '168', HeartbeatTable: 'agentdata.debezium_heartbeat',
      PublicationName: Match.absent(), SlotName: Match.absent(),
    });
    expect(source.publicationName).toBe('');
    expect(source.slotName).toBe('');
    expect(source.metricBinLogDiskUsage().metricName).toBe('BinLogDiskUsage');
    expect(() => source.metricOldestReplicationSlotLag()).toThrow(/applies to postgresql sources/);
  });

  test('Aurora MySQL: binlog_format on the cluster parameter group', () => {
    const { template } = build({ engine: SourceEngine.auroraMysql(), ...MYSQL_TABLES });
    const t = template();
    t.hasResourceProperties('AWS::RDS::DBClusterParameterGroup', {
      Family: 'aurora-mysql8.0', Parameters: { binlog_format: 'ROW', binlog_row_image: 'FULL', require_secure_transport: 'ON' },
    });
    t.hasResourceProperties('AWS::RDS::DBCluster', { Engine: 'aurora-mysql', EngineVersion: '8.0.mysql_aurora.3.12.0', EnableCloudwatchLogsExports: ['error', 'slowquery', 'general', 'audit'] });
  });

  test('multiAz: false gives a single instance (RDS) or no reader (Aurora)', () => {
    build({ multiAz: false }).template().hasResourceProperties('AWS::RDS::DBInstance', { MultiAZ: false });
    build({ engine: SourceEngine.auroraPostgres(), multiAz: false }).template().resourceCountIs('AWS::RDS::DBInstance', 1);
  });
});

describe('initialSchema', () => {
  const SQL = 'CREATE TABLE IF NOT EXISTS public.orders (id bigint PRIMARY KEY);\nCREATE TABLE IF NOT EXISTS public.customers (id bigint PRIMARY KEY);\n';
  const sha = (sql: string) => crypto.createHash('sha256').update(sql).digest('hex');

  test('defaults to none: the bootstrap gets no schema and the tables must exist', () => {
    build().template().hasResourceProperties('Custom::CdcReplicationBootstrap', { InitialSchemaSql: Match.absent(), InitialSchemaSha256: Match.absent() });
  });

  test('travels to the bootstrap as the SQL and its SHA-256, so a changed schema changes the properties (an Update)', () => {
    build({ initialSchema: SourceSchema.fromSql(SQL) }).template().hasResourceProperties('Custom::CdcReplicationBootstrap', {
      InitialSchemaSql: SQL, InitialSchemaSha256: sha(SQL),
    });
    const changed = SQL + 'CREATE INDEX IF NOT EXISTS orders_id ON public.orders (id);\n';
    build({ initialSchema: SourceSchema.fromSql(changed) }).template().hasResourceProperties('Custom::CdcReplicationBootstrap', {
      InitialSchemaSha256: sha(changed),
    });
  });

  test('fromFile reads the file at synth time', () => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'schema-')), 'schema.sql');
    fs.writeFileSync(file, SQL);
    expect(SourceSchema.fromFile(file)).toMatchObject({ sql: SQL, sha256: sha(SQL), origin: file });
    expect(() => SourceSchema.fromFile(file + '.missing')).toThrow(/schema\.sql\.missing does not exist/);
  });

  test('fails when the SQL is empty or larger than the bootstrap takes', () => {
    expect(() => SourceSchema.fromSql('  \n')).toThrow(/inline SQL is empty/);
    expect(() => SourceSchema.fromSql('-- x\n'.repeat(10_000))).toThrow(/inline SQL is 50000 bytes; the bootstrap takes at most 32768 bytes.*migration tool/);
  });

  test('fails on an existing database unless applyInitialSchemaToExistingDatabase is set', () => {
    const make = (apply?: boolean) => {
      const app = testApp();
      const stack = testStack(app);
      const vpc = new AgentNetwork(stack, 'Net').vpc;
      const instance = rds.DatabaseInstance.fromDatabaseInstanceAttributes(stack, 'E', {
        instanceIdentifier: 'x', instanceEndpointAddress: 'x.example', port: 5432, securityGroups: [],
      });
      const secret = secretsmanager.Secret.fromSecretCompleteArn(stack, 'S', 'arn:aws:secretsmanager:us-east-1:123456789012:secret:a-AbCdEf');
      new CdcSourceDatabase(stack, 'Source', {
        vpc, tables: ['public.orders'], existingInstance: instance, existingAdminSecret: secret, databaseName: 'legacy',
        initialSchema: SourceSchema.fromSql(SQL), applyInitialSchemaToExistingDatabase: apply,
      });
      return Template.fromStack(stack);
    };
    expect(() => make()).toThrow(/initialSchema \(inline SQL\) is set on an existing database\..*set applyInitialSchemaToExistingDatabase: true to run it there, or drop initialSchema/);
    make(true).hasResourceProperties('Custom::CdcReplicationBootstrap', { InitialSchemaSql: SQL });
  });
});

describe('replication password changes', () => {
  test('replicationPasswordVersion reaches the bootstrap, so changing it is a property change (an Update that re-applies the password)', () => {
    build().template().hasResourceProperties('Custom::CdcReplicationBootstrap', { ReplicationPasswordVersion: Match.absent() });
    const v1 = build({ replicationPasswordVersion: '1' }).template().findResources('Custom::CdcReplicationBootstrap');
    const v2 = build({ replicationPasswordVersion: '2' }).template().findResources('Custom::CdcReplicationBootstrap');
    expect(Object.values(v1)[0].Properties.ReplicationPasswordVersion).toBe('1');
    expect(Object.values(v2)[0].Properties.ReplicationPasswordVersion).toBe('2');
  });

  test('the SMG4 acknowledgement says how the password is changed, not that redeploying re-applies it', () => {
    const { source } = build();
    const acks = JSON.stringify(source.replicationSecret.node.metadata);
    expect(acks).toMatch(/change\s+replicationPasswordVersion/);
    expect(acks).not.toMatch(/redeploying/);
  });
});

describe('Performance Insights per engine and instance class', () => {
  const T4G_MICRO = ec2.InstanceType.of(ec2.InstanceClass.T4G, ec2.InstanceSize.MICRO);
  const T4G_SMALL = ec2.InstanceType.of(ec2.InstanceClass.T4G, ec2.InstanceSize.SMALL);
  const T4G_MEDIUM = ec2.InstanceType.of(ec2.InstanceClass.T4G, ec2.InstanceSize.MEDIUM);
  const T3_MEDIUM = ec2.InstanceType.of(ec2.InstanceClass.T3, ec2.InstanceSize.MEDIUM);

  /** Whether each DB instance has Performance Insights on, and the construct's warnings (acknowledged so the strict synth passes). */
  function piOf(props: Partial<CdcSourceDatabaseProps>) {
    const { template, source } = build(props);
    const warnings = source.node.metadata.filter(m => m.type === 'aws:cdk:warning').map(m => String(m.data));
    if (warnings.length) {
      Validations.of(source).acknowledge({ id: 'Annotation::cdk-agent-data-stack:source-performance-insights-off', reason: 'test: reading the template' });
    }
    const t = template();
    const instances = Object.values(t.findResources('AWS::RDS::DBInstance')).map(r => r.Properties.EnablePerformanceInsights);
    return { instances, warnings, t };
  }

  test('the warning fails this repository\'s strict synth until acted on (a bigger class, performanceInsights: false, or an acknowledgement)', () => {
    const { stack } = build({ engine: SourceEngine.mysql(), instanceType: T4G_MICRO, ...MYSQL_TABLES });
    expect(() => Template.fromStack(stack)).toThrow(/Performance Insights is off for this database/);
  });

  test.each([
    ['RDS for MySQL', T4G_MICRO], ['RDS for MySQL', T4G_SMALL],
  ])('%s on %s: off, with a warning naming the AWS page and the fix', (_, instanceType) => {
    const { instances, warnings, t } = piOf({ engine: SourceEngine.mysql(), instanceType, ...MYSQL_TABLES });
    expect(instances).toEqual([false]);
    t.hasResourceProperties('AWS::RDS::DBInstance', { PerformanceInsightsKMSKeyId: Match.absent(), PerformanceInsightsRetentionPeriod: Match.absent() });
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(new RegExp(`RDS for MySQL does not support Performance Insights on db\\.${instanceType.toString().replace('.', '\\.')}`));
    expect(warnings[0]).toMatch(/USER_DatabaseInsights\.Engines\.html/);
    expect(warnings[0]).toMatch(/Choose instanceType db\.t4g\.medium or larger to keep it on/);
  });

  test('RDS for MySQL on db.t4g.medium and the default db.m7g.large keeps it on', () => {
    expect(piOf({ engine: SourceEngine.mysql(), instanceType: T4G_MEDIUM, ...MYSQL_TABLES })).toMatchObject({ instances: [true], warnings: [] });
    expect(piOf({ engine: SourceEngine.mysql(), ...MYSQL_TABLES })).toMatchObject({ instances: [true], warnings: [] });
  });

  test('RDS for PostgreSQL keeps it on even on db.t4g.micro (no instance class restriction)', () => {
    expect(piOf({ instanceType: T4G_MICRO })).toMatchObject({ instances: [true], warnings: [] });
  });

  test('Aurora MySQL: off on any db.t3, on for db.t4g.medium; Aurora PostgreSQL stays on', () => {
    const t3 = piOf({ engine: SourceEngine.auroraMysql(), instanceType: T3_MEDIUM, ...MYSQL_TABLES });
    expect(t3.instances).toEqual([false, false]);
    expect(t3.warnings[0]).toMatch(/Aurora MySQL does not support Performance Insights on db\.t3\.medium/);
    t3.t.hasResourceProperties('AWS::RDS::DBCluster', { PerformanceInsightsEnabled: false });
    // Aurora MySQL offers no db.t4g.micro/small; db.t3.small exists and is refused too.
    expect(piOf({ engine: SourceEngine.auroraMysql(), instanceType: ec2.InstanceType.of(ec2.InstanceClass.T3, ec2.InstanceSize.SMALL), ...MYSQL_TABLES }).instances).toEqual([false, false]);
    expect(piOf({ engine: SourceEngine.auroraMysql(), instanceType: T4G_MEDIUM, ...MYSQL_TABLES })).toMatchObject({ instances: [true, true], warnings: [] });
    expect(piOf({ engine: SourceEngine.auroraPostgres(), instanceType: T4G_MEDIUM })).toMatchObject({ instances: [true, true], warnings: [] });
  });

  test('the development profile on RDS for MySQL (db.t4g.micro) deploys without Performance Insights; on PostgreSQL it keeps it', () => {
    const dev = profileDefaults(DeploymentProfile.DEVELOPMENT).source;
    expect(dev.instanceType!.toString()).toBe('t4g.micro');
    expect(piOf({ ...dev, engine: SourceEngine.mysql(), ...MYSQL_TABLES }).instances).toEqual([false]);
    expect(piOf({ ...dev }).instances).toEqual([true]);
  });

  test('performanceInsights: true on a class that refuses it fails at synth, naming the fix', () => {
    expect(() => build({ engine: SourceEngine.mysql(), instanceType: T4G_MICRO, performanceInsights: true, ...MYSQL_TABLES }))
      .toThrow(/performanceInsights is true but RDS for MySQL does not support Performance Insights on db\.t4g\.micro .*Choose instanceType db\.t4g\.medium or larger, or set performanceInsights: false/);
  });

  test('performanceInsights: false turns it off without a warning, on any engine', () => {
    expect(piOf({ engine: SourceEngine.mysql(), instanceType: T4G_MICRO, performanceInsights: false, ...MYSQL_TABLES }))
      .toMatchObject({ instances: [false], warnings: [] });
    expect(piOf({ performanceInsights: false })).toMatchObject({ instances: [false], warnings: [] });
  });

  test('under the validation gate the warning is the only finding, and performanceInsights: false clears it', () => {
    const warned = gateFindings(build({ engine: SourceEngine.mysql(), instanceType: T4G_MICRO, ...MYSQL_TABLES }, true).app);
    expect(warned.map(f => f.rule)).toEqual(['Annotation::cdk-agent-data-stack:source-performance-insights-off']);
    const confirmed = build({ engine: SourceEngine.mysql(), instanceType: T4G_MICRO, performanceInsights: false, ...MYSQL_TABLES }, true);
    expect(formatFindings(gateFindings(confirmed.app))).toBe('');
  });
});

describe('CdcSourceDatabase options', () => {
  test('a customer managed key encrypts storage, Performance Insights and both secrets', () => {
    const app = testApp();
    const stack = testStack(app);
    const vpc = new AgentNetwork(stack, 'Net').vpc;
    const key = new kms.Key(stack, 'Key', { enableKeyRotation: true });
    new CdcSourceDatabase(stack, 'Source', { vpc, tables: ['public.orders'], encryptionKey: key });
    const t = Template.fromStack(stack);
    const keyArn = { 'Fn::GetAtt': [Match.stringLikeRegexp('^Key'), 'Arn'] };
    t.hasResourceProperties('AWS::RDS::DBInstance', { StorageEncrypted: true, KmsKeyId: keyArn, PerformanceInsightsKMSKeyId: keyArn });
    t.resourcePropertiesCountIs('AWS::SecretsManager::Secret', { KmsKeyId: keyArn }, 2);
  });

  test('removalPolicy DESTROY is the disposable opt-in: no deletion protection, database and secret deleted', () => {
    const t = build({ removalPolicy: RemovalPolicy.DESTROY }).template();
    t.hasResourceProperties('AWS::RDS::DBInstance', { DeletionProtection: false });
    t.hasResource('AWS::RDS::DBInstance', { DeletionPolicy: 'Delete' });
    t.hasResource('AWS::SecretsManager::Secret', {
      DeletionPolicy: 'Delete', Properties: { GenerateSecretString: Match.objectLike({ SecretStringTemplate: '{"username":"cdc_admin"}' }) },
    });
  });

  test('removalPolicy SNAPSHOT keeps deletion protection and retains the admin secret', () => {
    const t = build({ removalPolicy: RemovalPolicy.SNAPSHOT }).template();
    t.hasResource('AWS::RDS::DBInstance', { DeletionPolicy: 'Snapshot', Properties: Match.objectLike({ DeletionProtection: true }) });
    t.hasResource('AWS::SecretsManager::Secret', {
      DeletionPolicy: 'Retain', Properties: { GenerateSecretString: Match.objectLike({ SecretStringTemplate: '{"username":"cdc_admin"}' }) },
    });
  });

  test('names, slots, retention, rotation and sizing are configurable', () => {
    const t = build({
      publicationName: 'pub', slotName: 'slot', replicationUsername: 'cdc', heartbeatTable: 'ops.heartbeat', databaseName: 'app',
      maxReplicationSlots: 4, adminRotationInterval: Duration.days(7), backupRetention: Duration.days(14), adminUsername: 'owner',
      instanceType: ec2.InstanceType.of(ec2.InstanceClass.R7G, ec2.InstanceSize.XLARGE), allocatedStorage: 200, maxAllocatedStorage: 2000,
    }).template();
    t.hasResourceProperties('Custom::CdcReplicationBootstrap', {
      PublicationName: 'pub', SlotName: 'slot', ReplicationUsername: 'cdc', HeartbeatTable: 'ops.heartbeat', Database: 'app',
    });
    t.hasResourceProperties('AWS::RDS::DBParameterGroup', { Parameters: Match.objectLike({ max_replication_slots: '4', max_wal_senders: '4' }) });
    t.hasResourceProperties('AWS::SecretsManager::RotationSchedule', { RotationRules: { ScheduleExpression: 'rate(7 days)' } });
    t.hasResourceProperties('AWS::RDS::DBInstance', {
      BackupRetentionPeriod: 14, DBName: 'app', DBInstanceClass: 'db.r7g.xlarge', AllocatedStorage: '200', MaxAllocatedStorage: 2000,
    });
  });

  test('a MySQL binlogRetention becomes whole hours for the bootstrap', () => {
    build({ engine: SourceEngine.mysql(), ...MYSQL_TABLES, binlogRetention: Duration.hours(72) }).template()
      .hasResourceProperties('Custom::CdcReplicationBootstrap', { BinlogRetentionHours: '72' });
  });

  test('fullRowImageTables defaults to none: the bootstrap gets no FullRowImageTables, so tables keep REPLICA IDENTITY DEFAULT', () => {
    const { template, source } = build();
    template().hasResourceProperties('Custom::CdcReplicationBootstrap', { Tables: ['public.orders', 'public.customers'], FullRowImageTables: Match.absent() });
    expect(source.fullRowImageTables).toEqual([]);
  });

  test('fullRowImageTables is passed to the PostgreSQL bootstrap as FullRowImageTables', () => {
    const { template, source } = build({ fullRowImageTables: ['public.customers'] });
    template().hasResourceProperties('Custom::CdcReplicationBootstrap', {
      Engine: 'postgresql', Tables: ['public.orders', 'public.customers'], FullRowImageTables: ['public.customers'],
    });
    expect(source.fullRowImageTables).toEqual(['public.customers']);
  });

  test('fullRowImageTables is accepted on MySQL and changes nothing (binlog_row_image=FULL already carries old rows)', () => {
    const { template, source } = build({ engine: SourceEngine.mysql(), ...MYSQL_TABLES, fullRowImageTables: ['agentdata.orders'] });
    template().hasResourceProperties('Custom::CdcReplicationBootstrap', { Engine: 'mysql', FullRowImageTables: Match.absent() });
    expect(source.fullRowImageTables).toEqual(['agentdata.orders']);
  });
});

describe('CdcSourceDatabase with an existing database', () => {
  function existingInstance(stack: Stack) {
    const sg = ec2.SecurityGroup.fromSecurityGroupId(stack, 'DbSg', 'sg-0123456789abcdef0');
    const instance = rds.DatabaseInstance.fromDatabaseInstanceAttributes(stack, 'Existing', {
      instanceIdentifier: 'legacy-db', instanceEndpointAddress: 'legacy-db.abc.us-east-1.rds.amazonaws.com', port: 5432, securityGroups: [sg],
    });
    const secret = secretsmanager.Secret.fromSecretCompleteArn(stack, 'AdminSecret',
      'arn:aws:secretsmanager:us-east-1:123456789012:secret:legacy-admin-AbCdEf');
    return { instance, secret };
  }

  function buildImported(gate = false) {
    const app = testApp({ gate });
    const stack = testStack(app);
    const vpc = new AgentNetwork(stack, 'Net').vpc;
    const { instance, secret } = existingInstance(stack);
    const source = new CdcSourceDatabase(stack, 'Source', {
      vpc, tables: ['public.orders'], existingInstance: instance, existingAdminSecret: secret, databaseName: 'legacy',
    });
    return { app, stack, source };
  }

  test('creates no database, only the replication secret and the bootstrap against the existing endpoint', () => {
    const { stack, source } = buildImported();
    const t = Template.fromStack(stack);
    t.resourceCountIs('AWS::RDS::DBInstance', 0);
    t.resourceCountIs('AWS::RDS::DBParameterGroup', 0);
    t.resourceCountIs('AWS::SecretsManager::Secret', 1);
    t.hasResourceProperties('Custom::CdcReplicationBootstrap', {
      Host: 'legacy-db.abc.us-east-1.rds.amazonaws.com', Port: '5432', Database: 'legacy',
      AdminSecretArn: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:legacy-admin-AbCdEf',
    });
    t.hasResourceProperties('AWS::EC2::SecurityGroupIngress', {
      GroupId: 'sg-0123456789abcdef0', FromPort: 5432, ToPort: 5432, Description: 'Replication bootstrap',
    });
    t.hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: Match.stringLikeRegexp('SourceBootstrapProviderOnEventRole') }],
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({
        Action: ['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue'],
        Resource: Match.arrayWith(['arn:aws:secretsmanager:us-east-1:123456789012:secret:legacy-admin-AbCdEf']),
      })]) },
    });
    expect(source.endpointAddress).toBe('legacy-db.abc.us-east-1.rds.amazonaws.com');
    expect(stack.resolve(source.metricCPUUtilization().dimensions)).toEqual({ DBInstanceIdentifier: 'legacy-db' });
  });

  test('an existing Aurora cluster is used through its cluster endpoint and cluster dimension', () => {
    const app = testApp();
    const stack = testStack(app);
    const vpc = new AgentNetwork(stack, 'Net').vpc;
    const cluster = rds.DatabaseCluster.fromDatabaseClusterAttributes(stack, 'Existing', {
      clusterIdentifier: 'legacy-cluster', clusterEndpointAddress: 'legacy-cluster.cluster-abc.us-east-1.rds.amazonaws.com', port: 3306,
      securityGroups: [ec2.SecurityGroup.fromSecurityGroupId(stack, 'Sg', 'sg-0fedcba9876543210')],
    });
    const secret = secretsmanager.Secret.fromSecretCompleteArn(stack, 'AdminSecret', 'arn:aws:secretsmanager:us-east-1:123456789012:secret:legacy-AbCdEf');
    const source = new CdcSourceDatabase(stack, 'Source', {
      vpc, engine: SourceEngine.auroraMysql(), tables: ['shop.orders'], existingCluster: cluster, existingAdminSecret: secret, databaseName: 'shop',
    });
    const t = Template.fromStack(stack);
    t.resourceCountIs('AWS::RDS::DBCluster', 0);
    t.hasResourceProperties('Custom::CdcReplicationBootstrap', {
      Engine: 'mysql', Host: 'legacy-cluster.cluster-abc.us-east-1.rds.amazonaws.com', Port: '3306', HeartbeatTable: 'shop.debezium_heartbeat',
    });
    expect(source.metricBinLogDiskUsage().metricName).toBe('SumBinaryLogSize');
    expect(stack.resolve(source.metricBinLogDiskUsage().dimensions)).toEqual({ DBClusterIdentifier: 'legacy-cluster', Role: 'WRITER' });
  });

  test('passes the validation gate', () => {
    const { app } = buildImported(true);
    expect(formatFindings(gateFindings(app))).toBe('');
  });
});

describe('CdcSourceDatabase passes the validation gate', () => {
  test.each([
    ['RDS for PostgreSQL', SourceEngine.postgres(), ['public.orders']],
    ['Aurora PostgreSQL', SourceEngine.auroraPostgres(), ['public.orders']],
    ['RDS for MySQL', SourceEngine.mysql(), ['agentdata.orders']],
    ['Aurora MySQL', SourceEngine.auroraMysql(), ['agentdata.orders']],
  ])('%s', (_name, engine, tables) => {
    const { app } = build({ engine, tables }, true);
    expect(formatFindings(gateFindings(app))).toBe('');
  });
});

describe('CdcSourceDatabase validation', () => {
  const fails = (props: Partial<CdcSourceDatabaseProps>, message: RegExp) => expect(() => build(props)).toThrow(message);
  const existing = (stack: Stack) => rds.DatabaseInstance.fromDatabaseInstanceAttributes(stack, 'E', {
    instanceIdentifier: 'x', instanceEndpointAddress: 'x.example', port: 5432, securityGroups: [],
  });

  test('fails when tables is empty', () => fails({ tables: [] }, /tables is empty\. List the tables Debezium captures, e\.g\. tables: \['public\.orders'\]/));
  test('fails when a PostgreSQL table is not schema.table', () =>
    fails({ tables: ['orders', 'public.ok', 'a.b.c'] }, /tables has 'orders', 'a\.b\.c', which are not 'schema\.table' for RDS for PostgreSQL 17/));
  test('fails when a MySQL table is not database.table', () =>
    fails({ engine: SourceEngine.mysql(), tables: ['orders'] }, /tables has 'orders', which is not 'database\.table' for RDS for MySQL 8\.4/));
  test('fails when a table name has characters outside plain identifiers', () =>
    fails({ tables: ['public.order-items'] }, /'public\.order-items', which is not 'schema\.table'/));
  test('fails when a fullRowImageTables entry is not in tables', () =>
    fails({ fullRowImageTables: ['public.orders', 'public.order_items'] },
      /fullRowImageTables has 'public\.order_items', which is not in tables\. fullRowImageTables only applies to captured tables: add it to tables too, or remove it from fullRowImageTables/));
  test('fails when a fullRowImageTables entry differs from tables only in case', () =>
    fails({ fullRowImageTables: ['public.Orders'] }, /fullRowImageTables has 'public\.Orders', which is not in tables/));
  test('fails when a fullRowImageTables entry is listed twice', () =>
    fails({ fullRowImageTables: ['public.orders', 'public.orders'] }, /fullRowImageTables lists 'public\.orders' more than once/));
  test('fails when a table is listed twice', () => fails({ tables: ['public.a', 'public.a'] }, /tables lists 'public\.a' more than once/));
  test('fails when the MySQL version has no Debezium 3 binlog support', () =>
    fails({ engine: SourceEngine.mysql(rds.MysqlEngineVersion.VER_5_7), ...MYSQL_TABLES }, /engine is RDS for MySQL 5\.7, which Debezium 3 does not support/));
  test('fails when the Aurora MySQL version is 2 (MySQL 5.7)', () =>
    fails({ engine: SourceEngine.auroraMysql(rds.AuroraMysqlEngineVersion.VER_2_11_1), ...MYSQL_TABLES }, /engine is Aurora MySQL 5\.7/));
  test('fails when the PostgreSQL version has no pgoutput logical decoding', () =>
    fails({ engine: SourceEngine.postgres(rds.PostgresEngineVersion.of('9.6.24', '9.6')) }, /engine is RDS for PostgreSQL 9\.6, which has no pgoutput logical decoding plugin/));
  test('fails when both existingInstance and existingCluster are set', () => {
    const stack = testStack();
    const vpc = new AgentNetwork(stack, 'Net').vpc;
    const cluster = rds.DatabaseCluster.fromDatabaseClusterAttributes(stack, 'C', { clusterIdentifier: 'c' });
    expect(() => new CdcSourceDatabase(stack, 'S', {
      vpc, tables: ['public.a'], existingInstance: existing(stack), existingCluster: cluster, databaseName: 'd',
    })).toThrow(/both existingInstance and existingCluster are set/);
  });
  test('fails when an existing database comes without its admin secret', () => {
    const stack = testStack();
    const vpc = new AgentNetwork(stack, 'Net').vpc;
    expect(() => new CdcSourceDatabase(stack, 'S', { vpc, tables: ['public.a'], existingInstance: existing(stack), databaseName: 'd' }))
      .toThrow(/existingAdminSecret is missing/);
  });
  test('fails when existingAdminSecret comes without an existing database', () => {
    const stack = testStack();
    const vpc = new AgentNetwork(stack, 'Net').vpc;
    const secret = secretsmanager.Secret.fromSecretNameV2(stack, 'S2', 'admin');
    expect(() => new CdcSourceDatabase(stack, 'S', { vpc, tables: ['public.a'], existingAdminSecret: secret }))
      .toThrow(/existingAdminSecret is set without existingInstance or existingCluster/);
  });
  test('fails when an existing database comes without databaseName', () => {
    const stack = testStack();
    const vpc = new AgentNetwork(stack, 'Net').vpc;
    const secret = secretsmanager.Secret.fromSecretNameV2(stack, 'S2', 'admin');
    expect(() => new CdcSourceDatabase(stack, 'S', { vpc, tables: ['public.a'], existingInstance: existing(stack), existingAdminSecret: secret }))
      .toThrow(/databaseName is missing/);
  });
  test('fails when existingInstance is paired with an Aurora engine', () => {
    const stack = testStack();
    const vpc = new AgentNetwork(stack, 'Net').vpc;
    const secret = secretsmanager.Secret.fromSecretNameV2(stack, 'S2', 'admin');
    expect(() => new CdcSourceDatabase(stack, 'S', {
      vpc, engine: SourceEngine.auroraPostgres(), tables: ['public.a'], existingInstance: existing(stack), existingAdminSecret: secret, databaseName: 'd',
    })).toThrow(/existingInstance is set but engine is Aurora PostgreSQL 17\. Use existingCluster/);
  });
  test('fails when existingCluster is paired with an RDS instance engine', () => {
    const stack = testStack();
    const vpc = new AgentNetwork(stack, 'Net').vpc;
    const secret = secretsmanager.Secret.fromSecretNameV2(stack, 'S2', 'admin');
    const cluster = rds.DatabaseCluster.fromDatabaseClusterAttributes(stack, 'C', { clusterIdentifier: 'c' });
    expect(() => new CdcSourceDatabase(stack, 'S', {
      vpc, tables: ['public.a'], existingCluster: cluster, existingAdminSecret: secret, databaseName: 'd',
    })).toThrow(/existingCluster is set but engine is RDS for PostgreSQL 17\. Use SourceEngine\.auroraPostgres\(\)/);
  });
  test('fails when the heartbeat table is also captured', () =>
    fails({ tables: ['public.orders', 'public.debezium_heartbeat'] }, /heartbeatTable 'public\.debezium_heartbeat' is also in tables/));
  test('fails when the heartbeat table is not a lower-case qualified name', () =>
    fails({ heartbeatTable: 'Heartbeat' }, /heartbeatTable is 'Heartbeat'; it must be schema\.table in lower-case/));
  test('fails when slotName is not a valid slot name', () => fails({ slotName: 'Agent-Slot' }, /slotName is 'Agent-Slot'; it must be 1-63 lower-case letters/));
  test('fails when publicationName is not a valid name', () => fails({ publicationName: 'my pub' }, /publicationName is 'my pub'/));
  test('fails when replicationUsername is too long for MySQL', () =>
    fails({ engine: SourceEngine.mysql(), ...MYSQL_TABLES, replicationUsername: 'a'.repeat(33) }, /replicationUsername is 'a{33}'; it must be a lower-case identifier of at most 32 characters/));
  test('fails when replicationUsername is the new database\'s admin user', () =>
    fails({ replicationUsername: 'cdc_admin' }, /replicationUsername is 'cdc_admin', the admin user of the new database\..*choose another replicationUsername/));
  test('fails when databaseName is not an identifier', () => fails({ databaseName: '1db' }, /databaseName is '1db'/));
  test('fails when backups are off', () => fails({ backupRetention: Duration.days(0) }, /backupRetention is 0 days; automated backups must be kept at least 1 day/));
  test('fails when MySQL binlog retention is out of range', () =>
    fails({ engine: SourceEngine.mysql(), ...MYSQL_TABLES, binlogRetention: Duration.hours(200) }, /binlogRetention is 8 days 8 hours; RDS for MySQL 8\.4 accepts whole hours from 1 to 168/));
  test('fails when maxReplicationSlots is below 1', () => fails({ maxReplicationSlots: 0 }, /maxReplicationSlots is 0; Debezium needs at least 1/));
  test('fails when adminUsername is not accepted by RDS', () => fails({ adminUsername: 'Admin-User' }, /adminUsername is 'Admin-User'/));
});
