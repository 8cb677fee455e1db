// Slot guardrails: max_slot_wal_keep_size from the profile in the source's parameter group, alarms below it, the MySQL binlog
// retention warning, and on a real PostgreSQL a slot past the limit invalidated and replaced by the bootstrap's Update path.
import * as crypto from 'crypto';
import { Duration, Size } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as rds from 'aws-cdk-lib/aws-rds';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Client } from 'pg';
import { AgentNetwork } from '../../constructs/common/agent-network';
import { AgentObservability } from '../../constructs/governance/agent-observability';
import { CdcSourceDatabase, CdcSourceDatabaseProps, SourceEngine } from '../../constructs/source';
import { BootstrapProperties, onEvent } from '../../lambda/replication-bootstrap';
import { DeploymentProfile, profileDefaults } from '../../lib/profiles';
import { testApp, testStack } from '../helpers/app';
import { ADMIN_SECRET_ARN, createEvent, mockSecrets, REPLICATION_SECRET_ARN, updateEvent } from './helpers/events';
import { PrivatePostgres, startPostgres } from './helpers/servers';

const GIB = 1024 ** 3;

function build(props: Partial<CdcSourceDatabaseProps> = {}) {
  const stack = testStack(testApp());
  const vpc = new AgentNetwork(stack, 'Net').vpc;
  const source = new CdcSourceDatabase(stack, 'Source', { vpc, tables: ['public.orders'], ...props });
  return { stack, vpc, source };
}

function keepSizeParameter(stack: ReturnType<typeof build>['stack'], type = 'AWS::RDS::DBParameterGroup'): unknown {
  const groups = Template.fromStack(stack).findResources(type);
  const [group] = Object.values(groups) as Array<{ Properties: { Parameters: Record<string, string> } }>;
  return group.Properties.Parameters.max_slot_wal_keep_size;
}

/** Warnings (or info messages) the construct added (read from its metadata: the test app's context fails synth on unacknowledged warnings). */
function warnings(scope: CdcSourceDatabase, type = 'aws:cdk:warning'): string[] {
  return scope.node.metadata.filter(m => m.type === type).map(m => String(m.data).replace(/ \[ack: .*\]$/, ''));
}
const infos = (scope: CdcSourceDatabase) => warnings(scope, 'aws:cdk:info');

describe('max_slot_wal_keep_size', () => {
  test('a new RDS for PostgreSQL database gets 50 GiB (51200 MB, the RDS unit) by default', () => {
    const { stack, source } = build();
    expect(keepSizeParameter(stack)).toBe('51200');
    expect(source.maxSlotWalKeepSizeBytes).toBe(50 * GIB);
  });

  test('the profiles set it: development 4 GiB (a fifth of its 20 GiB volume), production 50 GiB', () => {
    const dev = profileDefaults(DeploymentProfile.DEVELOPMENT).source;
    const prod = profileDefaults(DeploymentProfile.PRODUCTION).source;
    expect(dev.maxSlotWalKeepSize?.toGibibytes()).toBe(4);
    expect(prod.maxSlotWalKeepSize?.toGibibytes()).toBe(50);
    const { stack } = build(dev);
    expect(keepSizeParameter(stack)).toBe('4096');
    // Not for Aurora, MySQL or an existing database: the profile leaves it out there.
    for (const context of [{ aurora: true }, { mysql: true }, { existingDatabase: true }]) {
      expect(profileDefaults(DeploymentProfile.DEVELOPMENT, context).source.maxSlotWalKeepSize).toBeUndefined();
      expect(profileDefaults(DeploymentProfile.PRODUCTION, context).source.maxSlotWalKeepSize).toBeUndefined();
    }
  });

  test('Aurora PostgreSQL: not in the cluster parameter group; a value (e.g. from spread profile defaults) is ignored with an info message', () => {
    const { stack, source } = build({ engine: SourceEngine.auroraPostgres() });
    expect(keepSizeParameter(stack, 'AWS::RDS::DBClusterParameterGroup')).toBeUndefined();
    expect(source.maxSlotWalKeepSizeBytes).toBeUndefined();
    const set = build({ engine: SourceEngine.auroraPostgres(), maxSlotWalKeepSize: Size.gibibytes(10) });
    expect(keepSizeParameter(set.stack, 'AWS::RDS::DBClusterParameterGroup')).toBeUndefined();
    expect(infos(set.source)).toEqual([expect.stringMatching(/^maxSlotWalKeepSize is ignored: Aurora PostgreSQL 17 keeps WAL in its cluster storage.*Remove maxSlotWalKeepSize/)]);
  });

  test('MySQL and existing databases: ignored with an info message naming where to set it instead', () => {
    const mysql = build({ engine: SourceEngine.mysql(), tables: ['agentdata.orders'], maxSlotWalKeepSize: Size.gibibytes(10) });
    expect(infos(mysql.source)).toEqual([expect.stringMatching(/^maxSlotWalKeepSize is ignored: RDS for MySQL 8.4 has replication slots only on PostgreSQL/)]);
    const stack = testStack(testApp());
    const vpc = new AgentNetwork(stack, 'Net').vpc;
    const existingInstance = rds.DatabaseInstance.fromDatabaseInstanceAttributes(stack, 'Db', {
      instanceIdentifier: 'db', instanceEndpointAddress: 'db.example.com', port: 5432, securityGroups: [],
    });
    const existingAdminSecret = secretsmanager.Secret.fromSecretNameV2(stack, 'Admin', 'admin');
    const existing = new CdcSourceDatabase(stack, 'Source', {
      vpc, tables: ['public.orders'], existingInstance, existingAdminSecret, databaseName: 'shop', maxSlotWalKeepSize: Size.gibibytes(10),
    });
    expect(existing.maxSlotWalKeepSizeBytes).toBeUndefined();
    expect(infos(existing)).toEqual([expect.stringMatching(/not created by this construct.*set max_slot_wal_keep_size in the existing database's parameter group/)]);
  });

  test('fails below 1 GiB, above maxAllocatedStorage, or in fractions of a MiB', () => {
    expect(() => build({ maxSlotWalKeepSize: Size.mebibytes(512) })).toThrow(/maxSlotWalKeepSize is 512 MiB; use a whole number of MiB from 1 GiB/);
    expect(() => build({ maxSlotWalKeepSize: Size.gibibytes(200), maxAllocatedStorage: 100 })).toThrow(/up to maxAllocatedStorage \(100 GiB\)/);
    expect(() => build({ maxSlotWalKeepSize: Size.kibibytes(1024 * 1024 + 512) })).toThrow(/maxSlotWalKeepSize is 1024.5 MiB/);
  });

  test('the source alarms fire before the limit: slot lag at half of it, WAL disk at three quarters (when below their defaults)', () => {
    const { stack, source } = build({ maxSlotWalKeepSize: Size.mebibytes(1536) });
    new AgentObservability(stack, 'Obs', { source });
    const t = Template.fromStack(stack);
    t.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'OldestReplicationSlotLag', Threshold: 768 * 1024 ** 2 });
    t.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'TransactionLogsDiskUsage', Threshold: 1152 * 1024 ** 2 });
  });

  test('with the development profile the WAL disk alarm fires at 3 GiB, before the 4 GiB limit (not at 10 GiB)', () => {
    const { stack, source } = build(profileDefaults(DeploymentProfile.DEVELOPMENT).source);
    new AgentObservability(stack, 'Obs', { source });
    const t = Template.fromStack(stack);
    t.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'TransactionLogsDiskUsage', Threshold: 3 * GIB });
    t.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'OldestReplicationSlotLag', Threshold: GIB });
  });
});

describe('slotRecoveryVersion', () => {
  test('reaches the bootstrap as SlotRecoveryVersion (a property change, so CloudFormation runs its Update)', () => {
    const { stack } = build({ slotRecoveryVersion: '2026-11-30' });
    Template.fromStack(stack).hasResourceProperties('Custom::CdcReplicationBootstrap', { SlotRecoveryVersion: '2026-11-30', SlotName: 'agent_data_slot' });
  });
  test('fails for MySQL, which has no slot', () => {
    expect(() => build({ engine: SourceEngine.mysql(), tables: ['agentdata.orders'], slotRecoveryVersion: '1' }))
      .toThrow(/slotRecoveryVersion is set but RDS for MySQL 8.4 has no replication slot/);
  });
});

describe('MySQL binlog retention against the connector lag', () => {
  test('a retention under 24 hours warns that a stopped connector loses its position', () => {
    const { source } = build({ engine: SourceEngine.mysql(), tables: ['agentdata.orders'], binlogRetention: Duration.hours(6) });
    expect(warnings(source)).toEqual([expect.stringMatching(/^binlogRetention is 6 hours: a connector stopped for longer.*re-snapshot every table.*Duration\.hours\(24\)/)]);
  });

  test('the default 7 days does not warn', () => {
    const { source } = build({ engine: SourceEngine.mysql(), tables: ['agentdata.orders'] });
    expect(warnings(source).filter(w => w.includes('binlogRetention'))).toEqual([]);
  });
});

describe('a slot past max_slot_wal_keep_size on a real PostgreSQL', () => {
  const REPLICATION = { username: 'cdc_replication', password: 'Repl-' + crypto.randomBytes(8).toString('hex') };
  let server: PrivatePostgres;
  let secrets: ReturnType<typeof mockSecrets>;
  let admin: Client;

  beforeAll(async () => {
    server = await startPostgres('logical');
    secrets = mockSecrets({ username: server.user, password: server.password }, REPLICATION);
    const root = new Client({ host: '127.0.0.1', port: server.port, database: 'postgres', user: server.user, password: server.password });
    await root.connect();
    await root.query('CREATE DATABASE slots');
    await root.end();
    admin = new Client({ host: '127.0.0.1', port: server.port, database: 'slots', user: server.user, password: server.password });
    await admin.connect();
    await admin.query('CREATE TABLE public.orders (id int PRIMARY KEY, total numeric)');
  });
  afterAll(async () => {
    await admin?.end();
    secrets?.mock.restore();
    await server?.stop();
  });

  const props = (slotName: string): BootstrapProperties => ({
    Engine: 'postgresql', Host: '127.0.0.1', Port: String(server.port), Database: 'slots',
    AdminSecretArn: ADMIN_SECRET_ARN, ReplicationSecretArn: REPLICATION_SECRET_ARN, ReplicationUsername: REPLICATION.username,
    Tables: ['public.orders'], HeartbeatTable: 'public.debezium_heartbeat', PublicationName: 'agent_cdc', SlotName: slotName,
  });
  const slots = async () => (await admin.query<{ slot_name: string; wal_status: string | null; active: boolean }>(
    'SELECT slot_name, wal_status, active FROM pg_replication_slots WHERE database = $1 ORDER BY slot_name', ['slots'])).rows;

  test('is invalidated (wal_status lost), and a changed slotRecoveryVersion makes the bootstrap drop it so a new one starts cleanly, with no manual SQL', async () => {
    const deps = { secrets: secrets.client, tls: false as const, slotReleaseTimeoutMs: 5_000, pollIntervalMs: 100 };
    const created = await onEvent(createEvent(props('agent_cdc_slot')), deps);
    // The slot Debezium creates on its first start, as the replication user.
    const repl = new Client({ host: '127.0.0.1', port: server.port, database: 'slots', ...{ user: REPLICATION.username, password: REPLICATION.password } });
    await repl.connect();
    await repl.query(`SELECT pg_create_logical_replication_slot('agent_cdc_slot', 'pgoutput')`);
    await repl.end();
    expect(await slots()).toEqual([{ slot_name: 'agent_cdc_slot', wal_status: 'reserved', active: false }]);

    // The connector stops reading while writes go on past the limit (1 MB here, 4 GiB / 50 GiB on RDS): the checkpoint invalidates the slot.
    await admin.query(`ALTER SYSTEM SET max_slot_wal_keep_size = '1MB'`);
    await admin.query('SELECT pg_reload_conf()');
    for (let i = 0; i < 3; i++) {
      await admin.query('INSERT INTO public.orders SELECT g, g FROM generate_series($1::int, $1::int + 999) g', [i * 1000]);
      await admin.query('SELECT pg_switch_wal()');
    }
    await admin.query('CHECKPOINT');
    expect(await slots()).toEqual([{ slot_name: 'agent_cdc_slot', wal_status: 'lost', active: false }]);
    const decode = admin.query(`SELECT * FROM pg_logical_slot_peek_binary_changes('agent_cdc_slot', NULL, 1, 'proto_version', '1', 'publication_names', 'agent_cdc')`);
    await expect(decode).rejects.toThrow(/can no longer (get changes from|access) replication slot "agent_cdc_slot"/);

    // The runbook: change source.slotRecoveryVersion and deploy. CloudFormation updates the bootstrap, which drops the invalidated slot.
    // It does not wait for the slot (nothing holds it): with a poll interval and a release timeout of 10 minutes, any wait would
    // outlast jest's test timeout. That holds on any machine, where a bound on the update's wall-clock time did not.
    const patient = { ...deps, slotReleaseTimeoutMs: 600_000, pollIntervalMs: 600_000 };
    const t0 = Date.now();
    const updated = await onEvent(updateEvent(created.PhysicalResourceId, { ...props('agent_cdc_slot'), SlotRecoveryVersion: '1' }, props('agent_cdc_slot')), patient);
    const updateMs = Date.now() - t0;
    expect(updated.Data.SlotName).toBe('agent_cdc_slot');
    expect(await slots()).toEqual([]);
    // Debezium (still retrying the slot) finds it gone, re-snapshots (snapshot.mode when_needed) and creates it again, at the current WAL.
    const repl2 = new Client({ host: '127.0.0.1', port: server.port, database: 'slots', user: REPLICATION.username, password: REPLICATION.password });
    await repl2.connect();
    await repl2.query(`SELECT pg_create_logical_replication_slot('agent_cdc_slot', 'pgoutput')`);
    await repl2.end();
    expect(await slots()).toEqual([{ slot_name: 'agent_cdc_slot', wal_status: 'reserved', active: false }]);
    // A healthy slot is never touched by an Update.
    await onEvent(updateEvent(created.PhysicalResourceId, { ...props('agent_cdc_slot'), SlotRecoveryVersion: '2' }, props('agent_cdc_slot')), deps);
    expect(await slots()).toEqual([{ slot_name: 'agent_cdc_slot', wal_status: 'reserved', active: false }]);
    console.log(JSON.stringify({ figure: 'bootstrap Update dropping an invalidated slot', ms: updateMs }));
  });
});
