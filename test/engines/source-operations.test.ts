// Running for months, on the real engines: a stack that declares personal data (excluded, hashed and masked columns) runs the synthesized
// Debezium configuration on Kafka Connect against a private PostgreSQL; no topic record carries an excluded value, and hashed or masked
// columns arrive only hashed or masked. Then the connector stops, its slot falls past max_slot_wal_keep_size and is invalidated, and the
// runbook's recovery (a changed slotRecoveryVersion: the bootstrap's Update drops the invalidated slot; Debezium, still retrying it,
// re-snapshots with snapshot.mode when_needed into a new slot) brings every row back, including a change made while the slot was lost,
// with no manual SQL and no connector change.
import { createHash } from 'crypto';
import * as fs from 'fs';
import { Template } from 'aws-cdk-lib/assertions';
import { ViewFieldType, ViewStore } from '../../constructs/stores/view';
import { onEvent } from '../../lambda/replication-bootstrap';
import { AgentDataStack, AgentDataStackProps, ViewSource } from '../../lib/agent-data-stack';
import { DeploymentProfile } from '../../lib/profiles';
import { testApp } from '../helpers/app';
import { updateEvent } from '../source/helpers/events';
import { bootstrapProperties, CfnTemplate, deployedConnector, deployedViews, TopicReader, type ReadRecord } from './harness';
import { startEnginePipeline, startSourceDatabase, type EnginePipeline, type SourceDatabase } from '../../cli/dev/engines/pipeline';

const SALT = 'engineSalt-7f3a9c1e5b2d8046';
const SSNS = ['900-12-3456', '900-12-3457', '900-12-3458', '900-55-0001'];
const EMAILS = ['ada@example.com', 'grace@example.com', 'alan@example.com', 'hedy@example.com', 'ada.l@example.com'];
const sha256 = (value: string) => createHash('sha256').update(SALT + value).digest('hex');

/** The stack a user would write: customers captured with ssn excluded, email hashed and name masked. */
function synthesize(extra: { slotRecoveryVersion?: string } = {}): CfnTemplate {
  const props: AgentDataStackProps = {
    profile: DeploymentProfile.DEVELOPMENT,
    source: {
      tables: ['public.customers'], databaseName: 'shop', ...extra,
      columns: { 'public.customers': { exclude: ['ssn'], hash: ['email'], mask: ['name'], maskChars: 6 } },
      columnHashSalt: SALT,
    },
    views: [{
      name: 'customer', description: 'A customer by id.', from: ViewSource.table('public.customers'), store: ViewStore.CACHE, key: ['id'],
      fields: [{ name: 'id', type: ViewFieldType.INTEGER }, { name: 'email', type: ViewFieldType.KEYWORD }, { name: 'tier', type: ViewFieldType.KEYWORD }],
    }],
  };
  return Template.fromStack(new AgentDataStack(testApp(), 'AgentDataStack', props)).toJSON() as CfnTemplate;
}

let template: CfnTemplate;
let source: SourceDatabase;
let pipeline: EnginePipeline;
let reader: TopicReader;
const figures: Record<string, number | string> = {};

beforeAll(async () => {
  template = synthesize();
  source = await startSourceDatabase();
  // The personal data the declaration keeps out of Kafka.
  await source.admin.query('ALTER TABLE public.customers ADD COLUMN ssn text');
  await source.admin.query(`UPDATE public.customers SET ssn = '900-12-' || (id - 8889)::text`);
  pipeline = await startEnginePipeline({ example: { template, views: deployedViews(template) }, source, log: l => process.stdout.write(`engines: ${l}\n`) });
  // Every topic but the broker's own offsets: table topics, heartbeats, Kafka Connect's config, offset and status topics.
  reader = new TopicReader(pipeline.kafka.bootstrapServers, '(?!__consumer_offsets).*');
  await reader.start();
}, 900_000);

afterAll(async () => {
  await reader?.stop();
  await pipeline?.stop();
  await source?.stop();
  process.stdout.write(`engines: source operations figures ${JSON.stringify(figures)}\n`);
}, 180_000);

const decode = (b64: string | null) => (b64 === null ? '' : Buffer.from(b64, 'base64').toString('utf8'));
type Envelope = { op: string; before: Record<string, unknown> | null; after: Record<string, unknown> | null; source: { lsn?: number } };
const customerChanges = (records: ReadRecord[], from = 0) => records.slice(from)
  .filter(r => r.topic === 'agentdata.public.customers' && r.value !== null)
  .map(r => JSON.parse(decode(r.value)) as Envelope);

test('the synthesized connector configuration carries the declared exclusion, hash and mask', () => {
  const config = deployedConnector(template).connectorConfiguration as Record<string, unknown>;
  expect(config).toEqual(expect.objectContaining({
    'column.exclude.list': 'public\\.customers\\.ssn',
    [`column.mask.hash.v2.SHA-256.with.salt.${SALT}`]: 'public\\.customers\\.email',
    'column.mask.with.6.chars': 'public\\.customers\\.name',
    'snapshot.mode': 'when_needed',
  }));
});

test('an excluded column\'s value is in no topic record; hashed and masked columns arrive only hashed and masked', async () => {
  await reader.waitFor('the snapshot of 3 customers', rs => customerChanges(rs).filter(c => c.op === 'r').length >= 3, 120_000);
  await source.admin.query(`INSERT INTO public.customers (id, name, email, tier, balance, ssn) VALUES (12348, 'Hedy Lamarr', 'hedy@example.com', 'gold', 5, '900-55-0001')`);
  await source.admin.query(`UPDATE public.customers SET email = 'ada.l@example.com', ssn = '900-12-3456' WHERE id = 12345`);
  await reader.waitFor('the insert and the update', rs => customerChanges(rs).filter(c => c.op === 'c' || c.op === 'u').length >= 2, 60_000);

  const changes = customerChanges(reader.records);
  const rows = changes.flatMap(c => [c.before, c.after]).filter((r): r is Record<string, unknown> => r !== null);
  // The excluded column is not even a field, in any before or after image.
  expect(rows.every(r => !('ssn' in r))).toBe(true);
  // Hashed: the hex SHA-256 of salt + value (Debezium's hash v2), never the address itself.
  const afters = changes.filter(c => c.after).map(c => c.after!);
  expect(afters.map(a => a.email).sort()).toEqual(['ada@example.com', 'grace@example.com', 'alan@example.com', 'hedy@example.com', 'ada.l@example.com'].map(sha256).sort());
  // Masked: asterisks of the declared length.
  expect(new Set(afters.map(a => a.name))).toEqual(new Set(['******']));

  // Across every record of every topic (keys and values, Kafka Connect's internal topics included): no SSN, no e-mail address, no name.
  const everything = reader.records.map(r => `${decode(r.key)}\n${decode(r.value)}`).join('\n');
  expect(reader.records.length).toBeGreaterThan(5);
  for (const secret of [...SSNS, ...EMAILS, 'Ada Lovelace', 'Hedy Lamarr']) expect(everything).not.toContain(secret);
  figures.records = reader.records.length;
  figures.topics = [...new Set(reader.records.map(r => r.topic))].join(',');
});

async function slots() {
  return (await source.admin.query<{ slot_name: string; wal_status: string; active: boolean }>(
    'SELECT slot_name, wal_status, active FROM pg_replication_slots ORDER BY slot_name')).rows;
}

async function waitUntil(what: string, predicate: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs / 1000}s`);
    await new Promise(r => setTimeout(r, 250));
  }
}

async function connectCall(method: string, path: string, body?: unknown): Promise<void> {
  const res = await fetch(`${pipeline.connect.url}${path}`, {
    method, headers: { 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (res.status >= 300) throw new Error(`${method} ${path}: HTTP ${res.status} ${await res.text()}`);
}

test('a slot past max_slot_wal_keep_size is invalidated; a changed slotRecoveryVersion recovers it: new slot, every row re-snapshotted, no manual SQL', async () => {
  const name = pipeline.connectorName;
  // The connector stops (Kafka Connect's stop: tasks shut down, as when a connector fails or its workers are gone); its walsender lets the slot go.
  await connectCall('PUT', `/connectors/${encodeURIComponent(name)}/stop`);
  await waitUntil('the slot released', async () => (await slots()).every(s => !s.active), 60_000);
  expect((await slots()).map(s => s.slot_name)).toEqual(['agent_data_slot']);

  // Writes go on past the limit (1 MB here; the profiles set 4 GiB / 50 GiB on RDS); a checkpoint invalidates the slot.
  await source.admin.query(`ALTER SYSTEM SET max_slot_wal_keep_size = '1MB'`);
  await source.admin.query('SELECT pg_reload_conf()');
  await source.admin.query(`UPDATE public.customers SET tier = 'platinum' WHERE id = 12347`);
  for (let i = 0; i < 3; i++) {
    await source.admin.query('SELECT pg_switch_wal()');
    await source.admin.query(`UPDATE public.debezium_heartbeat SET ts = now()`);
  }
  await source.admin.query('CHECKPOINT');
  expect(await slots()).toEqual([{ slot_name: 'agent_data_slot', wal_status: 'lost', active: false }]);
  await source.admin.query('ALTER SYSTEM RESET max_slot_wal_keep_size');
  await source.admin.query('SELECT pg_reload_conf()');

  // As deployed, the connector cannot go on. Debezium 3.1 does not fail on an invalidated slot (its restart_lsn is null): the task's
  // start retries reading the slot every 2 s, 900 times, logging a warning (the connector's CloudWatch log group on MSK Connect), and
  // sends no heartbeat meanwhile, so CdcLag is the alarm that fires.
  const logStart = fs.statSync(pipeline.connect.jvm.logFile).size;
  await connectCall('PUT', `/connectors/${encodeURIComponent(name)}/resume`);
  const symptom = /WARN (Cannot obtain valid replication slot 'agent_data_slot'[^\n]*?\[during attempt \d+ out of \d+)/;
  let reason: string | undefined;
  await waitUntil('Debezium\'s invalidated-slot warning in the worker log', async () => {
    reason = symptom.exec(fs.readFileSync(pipeline.connect.jvm.logFile, 'utf8').slice(logStart))?.[1];
    return reason !== undefined;
  }, 120_000);
  figures.symptom = reason!;
  const heartbeatsBefore = reader.records.filter(r => r.topic.startsWith('__debezium-heartbeat.')).length;
  await new Promise(r => setTimeout(r, 15_000));
  expect(reader.records.filter(r => r.topic.startsWith('__debezium-heartbeat.')).length).toBe(heartbeatsBefore);
  figures['connector status while stuck'] = JSON.stringify((await pipeline.connect.rest.status(name))?.tasks.map(t => t.state));
  expect(await slots()).toEqual([{ slot_name: 'agent_data_slot', wal_status: 'lost', active: false }]);

  // The runbook: change source.slotRecoveryVersion and deploy. CloudFormation updates the bootstrap (the only resource whose properties
  // changed), which drops the invalidated slot. The connector is not touched.
  const refs = { bootstrapServers: pipeline.kafka.bootstrapServers, databaseHost: '127.0.0.1', databasePort: source.db.port };
  const recovered = synthesize({ slotRecoveryVersion: '1' });
  expect(deployedConnector(recovered).connectorConfiguration).toEqual(deployedConnector(template).connectorConfiguration);
  const before = bootstrapProperties(template, refs);
  const after = bootstrapProperties(recovered, refs);
  expect(after.SlotRecoveryVersion).toBe('1');
  const physicalId = `cdc-bootstrap:postgresql:127.0.0.1:${source.db.port}`;
  // The pipeline's local Secrets Manager serves the same secrets the Create used.
  const secrets = pipeline.secrets;
  const mark = reader.records.length;
  const recovery = Date.now();
  await onEvent(updateEvent(physicalId, after, before), { secrets, tls: false, slotReleaseTimeoutMs: 30_000, pollIntervalMs: 200 });
  figures['bootstrap Update (ms)'] = Date.now() - recovery;
  await pipeline.connect.rest.waitRunning(name, 120_000);

  // Debezium finds its stored position gone (no such slot), snapshots again (when_needed), and streams from its new slot.
  await reader.waitFor('the re-snapshot of every customer', rs => customerChanges(rs, mark).filter(c => c.op === 'r').length >= 4, 180_000);
  figures['recovery: update to re-snapshot complete (ms)'] = Date.now() - recovery;
  const snap = customerChanges(reader.records, mark).filter(c => c.op === 'r').map(c => c.after!);
  expect(snap.map(r => r.id).sort()).toEqual([12345, 12346, 12347, 12348]);
  // The change made while the slot was lost was never streamed; the snapshot brings it back.
  expect(snap.find(r => r.id === 12347)!.tier).toBe('platinum');
  expect(snap.every(r => !('ssn' in r))).toBe(true);
  // One slot, the same name, healthy and in use: nothing left behind retaining WAL. In use once streaming starts, which follows
  // the snapshot's last record by a moment (on a loaded machine, after this line first runs): waited for, not assumed.
  await waitUntil('the new slot in use by the connector', async () => (await slots()).some(s => s.active), 60_000);
  expect(await slots()).toEqual([{ slot_name: 'agent_data_slot', wal_status: 'reserved', active: true }]);

  await source.admin.query(`UPDATE public.customers SET tier = 'standard' WHERE id = 12346`);
  await reader.waitFor('a live change from the new slot', rs => customerChanges(rs, mark).some(c => c.op === 'u' && c.after?.id === 12346 && c.after.tier === 'standard'), 60_000);
});
