// Running for months, on the real engines (Kafka, Kafka Connect with Debezium 3.1.2, a private PostgreSQL, the sink into Redis):
// `resnapshot`'s signal (the bootstrap function's real signal path) runs an incremental snapshot while updates keep streaming, and the
// cache ends equal to PostgreSQL: chunk reads never overwrite a newer change, also when a chunk's reads are delivered again after
// everything (a redelivery). Then ALTER TABLE add, rename, drop and type change while changes flow, each with its declared outcome.
import { randomBytes } from 'crypto';
import * as fs from 'fs';
import { Template } from 'aws-cdk-lib/assertions';
import { Client } from 'pg';
import { deleteKeys, redisFromUrl } from '../../cli/dev/dev-loop';
import { parseNotification, type SnapshotNotification } from '../../cli/resnapshot';
import { ViewFieldType, ViewStore } from '../../constructs/stores/view';
import type { ViewConfig } from '../../contract/view-config';
import { sendSnapshotSignal } from '../../lambda/replication-bootstrap/signal-handler';
import type { CacheClient, CacheConnection } from '../../lambda/shared/cache-client';
import { readCacheRecord } from '../../lambda/shared/cache-writer';
import type { MskEvent, MskEventRecord } from '../../lambda/shared/envelope';
import { cacheBatchWriter } from '../../lambda/sink/cache-route';
import type { DeadLetter } from '../../lambda/sink/dead-letter';
import type { BatchSummary } from '../../lambda/sink/process';
import { cacheSink, waitFor } from './sink-helpers';
import { AgentDataStack, ViewSource } from '../../lib/agent-data-stack';
import { DeploymentProfile } from '../../lib/profiles';
import { testApp } from '../helpers/app';
import { bootstrapProperties, deployedConnector, deployedViews, type CfnTemplate } from './harness';
import { eventSourceFor, LocalMskEventSource } from '../../cli/dev/engines/msk-event-source';
import { startEnginePipeline, startSourceDatabase, type EnginePipeline, type SourceDatabase } from '../../cli/dev/engines/pipeline';

const ROWS = 1500;
const FIRST_ID = 300_000;
const CHUNK = 100;
const TOPIC = 'agentdata.public.customers';

function synthesize(): CfnTemplate {
  return Template.fromStack(new AgentDataStack(testApp(), 'AgentDataStack', {
    profile: DeploymentProfile.DEVELOPMENT,
    source: { tables: ['public.customers'], databaseName: 'shop' },
    connectorOptions: { incrementalSnapshotChunkSize: CHUNK },
    views: [{
      name: 'customer', description: 'A customer by id.', from: ViewSource.table('public.customers'), store: ViewStore.CACHE, key: ['id'],
      fields: [{ name: 'id', type: ViewFieldType.INTEGER }, { name: 'tier', type: ViewFieldType.KEYWORD }, { name: 'balance', type: ViewFieldType.NUMBER }],
      renames: { level: 'tier' },
    }],
  })).toJSON() as CfnTemplate;
}

let template: CfnTemplate;
let source: SourceDatabase;
let pipeline: EnginePipeline;
let cache: CacheClient;
let redis: CacheConnection;
let poller: LocalMskEventSource;
let views: ViewConfig[];
const keyPrefix = `test:resnap:${randomBytes(6).toString('hex')}:`;
const delivered: MskEventRecord[] = [];
const letters: DeadLetter[] = [];
const figures: Record<string, number | string> = {};

/** The deployed view, and the views the schema cases add on the same topic (each declares the fields its case is about). */
function caseViews(deployed: ViewConfig): ViewConfig[] {
  const prefixed = (v: ViewConfig): ViewConfig => ({ ...v, cache: { ...v.cache!, keyPrefix: `${keyPrefix}${v.name}:` } });
  const policy = deployed.schemaPolicy!;
  const field = (name: string, type: ViewConfig['fields'][number]['type']) => ({ name, type });
  return [
    prefixed(deployed),
    prefixed({ ...deployed, name: 'names_only', fields: [field('id', 'integer'), field('name', 'string')], schemaPolicy: { ...policy, renames: undefined } }),
    prefixed({ ...deployed, name: 'tier_undeclared_rename', fields: [field('id', 'integer'), field('tier', 'keyword')], schemaPolicy: { ...policy, renames: undefined } }),
    prefixed({ ...deployed, name: 'emails', fields: [field('id', 'integer'), field('email', 'keyword')], schemaPolicy: { ...policy, renames: undefined } }),
  ];
}

function sink(event: MskEvent): Promise<BatchSummary> {
  return cacheSink({ views: () => views, writer: cacheBatchWriter(cache), letters, delivered })(event);
}

const envelope = (r: MskEventRecord) => (r.value ? JSON.parse(Buffer.from(r.value, 'base64').toString('utf8')) : null) as
  { op: string; after: Record<string, unknown> | null; source: { snapshot?: string; lsn: number } } | null;

async function cached(viewName: string, id: number): Promise<Record<string, unknown> | null | undefined> {
  return (await readCacheRecord(redis, views.find(v => v.name === viewName)!, { id }))?.row;
}

beforeAll(async () => {
  template = synthesize();
  source = await startSourceDatabase();
  await source.admin.query(`INSERT INTO public.customers (id, name, email, tier, balance)
    SELECT g, 'Customer ' || g, 'c' || g || '@example.com', 'standard', 10 FROM generate_series(${FIRST_ID}, ${FIRST_ID + ROWS - 1}) g`);
  pipeline = await startEnginePipeline({ example: { template, views: deployedViews(template) }, source, log: l => process.stdout.write(`engines: ${l}\n`) });
  views = caseViews(deployedViews(template).find(v => v.name === 'customer')!);
  cache = redisFromUrl('redis://127.0.0.1:6379');
  redis = await cache.ready();
  poller = new LocalMskEventSource({ bootstrapServers: pipeline.kafka.bootstrapServers, mapping: eventSourceFor(template, TOPIC), handler: sink });
  await poller.start();
  await waitFor('the initial snapshot in the cache', async () => (await cached('customer', FIRST_ID + ROWS - 1)) !== undefined, 240_000);
}, 900_000);

afterAll(async () => {
  await poller?.stop();
  if (redis) await deleteKeys(redis, keyPrefix);
  await cache?.close();
  await pipeline?.stop();
  await source?.stop();
  process.stdout.write(`engines: resnapshot and schema change figures ${JSON.stringify(figures)}\n`);
}, 180_000);

test('the synthesized connector reads signals from the bootstrap\'s signaling table and logs notifications', () => {
  expect(deployedConnector(template).connectorConfiguration).toEqual(expect.objectContaining({
    'signal.data.collection': 'public.debezium_signal', 'incremental.snapshot.chunk.size': String(CHUNK), 'notification.enabled.channels': 'log',
  }));
});

test('an incremental snapshot interleaved with live updates leaves the cache equal to PostgreSQL; its reads delivered again change nothing', async () => {
  const props = bootstrapProperties(template, { bootstrapServers: pipeline.kafka.bootstrapServers, databaseHost: '127.0.0.1', databasePort: source.db.port });
  const signalSource = {
    Engine: props.Engine, Host: '127.0.0.1', Port: String(source.db.port), Database: props.Database,
    ReplicationSecretArn: props.ReplicationSecretArn, SignalTable: props.SignalTable!, Tables: props.Tables,
  };
  const logStart = fs.statSync(pipeline.connect.jvm.logFile).size;
  const mark = delivered.length;
  // A transaction that updates a row before the snapshot reads it and commits after the snapshot is done: its change streams last.
  const straddler = new Client({ ...source.db.connection });
  await straddler.connect();
  await straddler.query('BEGIN');
  await straddler.query(`UPDATE public.customers SET tier = 'straddler', balance = 1 WHERE id = ${FIRST_ID + 7}`);

  let live = 0;
  let stop = false;
  const writer = new Client({ ...source.db.connection });
  await writer.connect();
  const updates = (async () => {
    while (!stop) {
      const id = FIRST_ID + ((live * 7919) % ROWS);
      live += 1;
      await writer.query(`UPDATE public.customers SET tier = $1, balance = balance + 1 WHERE id = $2`, [`live-${live}`, id]);
      await new Promise(r => setTimeout(r, 5));
    }
  })();

  const started = Date.now();
  // Whatever fails below, the straddler's transaction ends: left open, it would hold its row lock and make the next test's
  // ALTER TABLE wait for ever (and every query queued behind that ALTER with it).
  const finish = async () => {
    stop = true;
    await updates;
    if (!straddlerDone) await straddler.query('ROLLBACK').catch(() => undefined);
    await straddler.end().catch(() => undefined);
    await writer.end().catch(() => undefined);
  };
  let straddlerDone = false;
  let signalId = '';
  const notifications: SnapshotNotification[] = [];
  try {
    signalId = (await sendSnapshotSignal(signalSource, { tables: ['public.customers'] }, { secrets: pipeline.secrets, tls: false })).SignalId;
    await waitFor('Debezium\'s COMPLETED notification for the signal', () => {
      notifications.splice(0, notifications.length, ...fs.readFileSync(pipeline.connect.jvm.logFile, 'utf8').slice(logStart).split('\n')
        .map(parseNotification).filter((n): n is SnapshotNotification => n !== undefined && n.id === signalId));
      return notifications.some(n => n.type === 'COMPLETED');
    }, 300_000);
    figures['incremental snapshot (ms)'] = Date.now() - started;
    stop = true;
    await updates;
    await straddler.query('COMMIT');
    straddlerDone = true;
    await writer.query(`UPDATE public.customers SET tier = 'final' WHERE id = ${FIRST_ID}`);
    figures['live updates during the snapshot'] = live;
  } finally {
    await finish();
  }

  // The notifications resnapshot prints: started, chunk progress, table done, completed, all carrying the signal's id.
  expect(notifications.map(n => n.type)).toEqual(expect.arrayContaining(['STARTED', 'IN_PROGRESS', 'TABLE_SCAN_COMPLETED', 'COMPLETED']));
  expect(notifications.find(n => n.type === 'TABLE_SCAN_COMPLETED')!.additionalData.scanned_collection).toMatch(/public\.customers$/);
  figures.notifications = notifications.map(n => n.type).join(',');

  const rows = async () => (await source.admin.query<{ id: string; tier: string; balance: string }>('SELECT id, tier, balance FROM public.customers ORDER BY id')).rows;
  const expected = await rows();
  await waitFor('the sink caught up with the final update', async () => (await cached('customer', FIRST_ID))?.tier === 'final', 120_000);
  const compare = async () => {
    const wrong: string[] = [];
    for (const r of expected) {
      const c = await cached('customer', Number(r.id));
      if (c?.tier !== r.tier || c?.balance !== Number(r.balance)) wrong.push(`${r.id}: cache ${JSON.stringify(c)} vs ${r.tier}/${r.balance}`);
    }
    return wrong;
  };
  // The topic has several partitions: the final update's partition being drained says nothing of the others. Converged means every
  // row equal; a chunk read that overwrote a newer change stays wrong, so this still fails (with the rows) when ordering breaks.
  let wrong: string[] = [];
  await waitFor('every row in the cache equal to PostgreSQL', async () => (wrong = await compare()).length === 0, 120_000).catch(() => undefined);
  expect(wrong).toEqual([]);

  // The snapshot really interleaved: live changes sit between its first and last chunk reads in the topic.
  const after = delivered.slice(mark);
  const reads = after.filter(r => envelope(r)?.op === 'r' && envelope(r)?.source.snapshot === 'incremental');
  // Rows changed while their chunk was open are dropped from it (Debezium's window deduplication): the live change stands for them.
  figures['rows read by the snapshot'] = new Set(reads.map(r => envelope(r)!.after!.id)).size;
  expect(figures['rows read by the snapshot']).toBeGreaterThan(expected.length / 2);
  const firstRead = after.indexOf(reads[0]);
  const lastRead = after.indexOf(reads[reads.length - 1]);
  const interleaved = after.slice(firstRead, lastRead).filter(r => envelope(r)?.op === 'u').length;
  figures['live changes between the first and last chunk read'] = interleaved;
  expect(interleaved).toBeGreaterThan(0);

  // A redelivery of every chunk read after all the live changes: each is ranked below the newer change it would overwrite.
  const replay = await cacheSink({ views: () => [views[0]], writer: cacheBatchWriter(cache), letters: [] })({ records: { [`${TOPIC}-0`]: reads } });
  figures['replayed chunk reads'] = JSON.stringify(replay);
  expect(replay).toMatchObject({ received: reads.length, written: 0, deadLettered: 0, stale: reads.length });
  expect(await compare()).toEqual([]);
  // The chunk reads were applied the first time (not dead-lettered): most rows now hold a chunk read's version.
  const readVersions = new Set(reads.map(r => {
    const seq = JSON.parse((envelope(r)!.source as unknown as { sequence: string }).sequence) as string[];
    return String(BigInt(seq[0]) - 1n);
  }));
  let fromChunks = 0;
  for (const r of expected) {
    const stored = await readCacheRecord(redis, views[0], { id: Number(r.id) });
    if (stored && readVersions.has(stored.provenance.version)) fromChunks += 1;
  }
  figures['rows whose stored version is a chunk read'] = fromChunks;
  expect(fromChunks).toBeGreaterThan(expected.length / 2);
  // The transaction open across the chunks: its change is in the cache, although its LSN is below the chunk read's position.
  expect((await cached('customer', FIRST_ID + 7))?.tier).toBe('straddler');
});

test('ALTER TABLE while changes flow: added column ignored, declared rename followed, undeclared rename and drop dead-lettered, type change dead-lettered', async () => {
  const q = (sql: string) => source.admin.query(sql);
  // A schema change that cannot get its lock fails here with the reason, instead of waiting for ever.
  await q(`SET lock_timeout = '30s'`);
  const id = 12345;
  const letterMark = letters.length;
  const waitCached = (view: string, pred: (r: Record<string, unknown> | null | undefined) => boolean, what: string) =>
    waitFor(what, async () => pred(await cached(view, id)), 60_000);

  // Added column: ignored until declared; every view keeps writing.
  await q('ALTER TABLE public.customers ADD COLUMN note text');
  await q(`UPDATE public.customers SET note = 'vip', name = 'Ada L.' WHERE id = ${id}`);
  await waitCached('names_only', r => r?.name === 'Ada L.', 'the row after ADD COLUMN');
  expect(await cached('names_only', id)).toEqual({ id, name: 'Ada L.' });

  // Rename: the declared mapping keeps tier filled from the new column; a view without it dead-letters.
  await q('ALTER TABLE public.customers RENAME COLUMN tier TO level');
  await q(`UPDATE public.customers SET level = 'diamond' WHERE id = ${id}`);
  await waitCached('customer', r => r?.tier === 'diamond', 'the renamed column in the declared view');
  await waitFor('the undeclared rename dead-lettered', () => letters.slice(letterMark).some(l => l.view === 'tier_undeclared_rename'), 60_000);
  const renamed = letters.slice(letterMark).find(l => l.view === 'tier_undeclared_rename')!;
  expect(renamed).toMatchObject({ stage: 'schema', error: expect.stringMatching(/declared field 'tier' is not in the row of public.customers: the column was dropped or renamed upstream/) });
  expect((await cached('tier_undeclared_rename', id))?.tier).not.toBeNull();

  // Drop: the view declaring the column dead-letters with the reason; the store keeps the last good row, never a null.
  await q('ALTER TABLE public.customers DROP COLUMN email');
  await q(`UPDATE public.customers SET name = 'Ada Lovelace' WHERE id = ${id}`);
  await waitFor('the dropped column dead-lettered', () => letters.slice(letterMark).some(l => l.view === 'emails'), 60_000);
  expect(letters.slice(letterMark).find(l => l.view === 'emails')).toMatchObject({ stage: 'schema', error: expect.stringMatching(/declared field 'email'/) });
  expect((await cached('emails', id))?.email).toBe('ada@example.com');

  // Type change: numbers that still read as numbers are written; a value that is not dead-letters with both types.
  await q('ALTER TABLE public.customers ALTER COLUMN balance TYPE text USING balance::text');
  await q(`UPDATE public.customers SET balance = '99.50' WHERE id = ${id}`);
  await waitCached('customer', r => r?.balance === 99.5, 'a numeric text value still written as a number');
  await q(`UPDATE public.customers SET balance = 'unknown' WHERE id = ${id}`);
  await waitFor('the retyped value dead-lettered', () => letters.slice(letterMark).some(l => l.view === 'customer'), 60_000);
  expect(letters.slice(letterMark).find(l => l.view === 'customer')).toMatchObject({
    stage: 'schema', error: expect.stringMatching(/field 'balance' is declared number but public.customers sent string "unknown": the column's type changed/),
  });
  expect((await cached('customer', id))?.balance).toBe(99.5);
  figures['schema dead letters'] = letters.slice(letterMark).length;
  figures['schema dead letters by view'] = JSON.stringify(letters.slice(letterMark).reduce<Record<string, number>>((a, l) => ({ ...a, [l.view]: (a[l.view] ?? 0) + 1 }), {}));
  // Nothing but schema changes was dead-lettered.
  figures['other dead letters'] = JSON.stringify(letters.filter(l => l.stage !== 'schema').slice(0, 3).map(l => ({ view: l.view, stage: l.stage, error: l.error, offset: l.offset })));
  expect(letters.filter(l => l.stage !== 'schema')).toEqual([]);
});
