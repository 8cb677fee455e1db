// The sink on real Kafka: Debezium on real PostgreSQL feeds the example's `customer` view through a local Lambda MSK event source
// (the synthesized mapping's group, batch size and window; offsets committed only after a batch succeeds) into processBatch and the
// real Redis. Property: with the poller killed, and batches crashed part-way, at random points, Redis converges to PostgreSQL.
import { randomBytes } from 'crypto';
import { Client } from 'pg';
import { deleteKeys, redisFromUrl } from '../../cli/dev/dev-loop';
import type { CacheClient, CacheConnection } from '../../lambda/shared/cache-client';
import { readCacheRecord } from '../../lambda/shared/cache-writer';
import type { MskEvent, MskEventRecord } from '../../lambda/shared/envelope';
import type { ViewConfig } from '../../contract/view-config';
import { cacheBatchWriter } from '../../lambda/sink/cache-route';
import type { DeadLetter } from '../../lambda/sink/dead-letter';
import type { BatchWriter } from '../../lambda/sink/process';
import { cacheSink, waitFor } from './sink-helpers';
import { mulberry32 } from '../helpers/random';
import { eventSourceFor, LocalMskEventSource, type EventSourceMappingSpec } from '../../cli/dev/engines/msk-event-source';
import { startEnginePipeline, startSourceDatabase, synthesizeExample, type EnginePipeline, type SourceDatabase, type SynthesizedExample } from '../../cli/dev/engines/pipeline';

const SEED = Number(process.env.SINK_KAFKA_SEED ?? 1407);
const CHANGES = Number(process.env.SINK_KAFKA_CHANGES ?? 3000);
/** Changes per second the workload issues (3000 changes: about 25 s of stream with the poller killed every 0.2-2.7 s). */
const CHANGE_RATE = 120;
/** Ids the workload owns (the seed customers are referenced by orders and tickets, so they are never deleted or re-keyed). */
const FIRST_ID = 100_000;

let example: SynthesizedExample;
let source: SourceDatabase;
let pipeline: EnginePipeline;
let cache: CacheClient;
let redis: CacheConnection;
let view: ViewConfig;
let mapping: EventSourceMappingSpec;
const keyPrefix = `test:sinkkafka:${randomBytes(6).toString('hex')}:`;
const pollers: LocalMskEventSource[] = [];

beforeAll(async () => {
  example = synthesizeExample();
  source = await startSourceDatabase();
  pipeline = await startEnginePipeline({ example, source, log: l => process.stdout.write(`engines: ${l}\n`) });
  const declared = example.views.find(v => v.name === 'customer')!;
  view = { ...declared, cache: { ...declared.cache!, keyPrefix: `${keyPrefix}${declared.cache!.keyPrefix}` } };
  mapping = eventSourceFor(example.template, view.topic);
  cache = redisFromUrl('redis://127.0.0.1:6379');
  redis = await cache.ready();
}, 900_000);

afterAll(async () => {
  for (const p of pollers) await p.stop();
  if (redis) await deleteKeys(redis, keyPrefix);
  await cache?.close();
  await pipeline?.stop();
  await source?.stop();
}, 180_000);

/** The sink's own batch code with the cache writer the Lambda uses; dead letters collected for the assertions. */
function sinkHandler(letters: DeadLetter[], writer: BatchWriter, v: ViewConfig = view) {
  return cacheSink({ views: () => [v], writer, letters });
}

function poller(m: EventSourceMappingSpec, handler: (e: MskEvent) => Promise<unknown>, commitBeforeHandler = false): LocalMskEventSource {
  const p = new LocalMskEventSource({ bootstrapServers: pipeline.kafka.bootstrapServers, mapping: m, handler, commitBeforeHandler });
  pollers.push(p);
  return p;
}

const offsetsOf = (e: MskEvent) => Object.values(e.records).flat().map(r => `${r.partition}@${r.offset}`);

test('the event source mapping is read from the template: the customer topic, its consumer group, batch size 500, the template\'s 0 s window', () => {
  expect(mapping).toEqual(expect.objectContaining({
    topics: ['agentdata.public.customers'], consumerGroupId: 'AgentDataStack.sink.agentdata.public.customers', batchSize: 500,
    batchingWindowMs: 0, batchingWindowFromTemplate: true, startingPosition: 'TRIM_HORIZON',
  }));
});

test('the poller hands the handler the Lambda MSK event shape, retries a failed batch and redelivers one a crash interrupted', async () => {
  const events: MskEvent[] = [];
  let mode: 'fail' | 'hang' | 'ok' = 'fail';
  let release: (() => void) | undefined;
  const m = { ...mapping, consumerGroupId: `${mapping.consumerGroupId}.shape-${randomBytes(3).toString('hex')}` };
  const p = poller(m, async event => {
    events.push(event);
    if (mode === 'fail') {
      mode = 'hang';
      throw new Error('function error');
    }
    if (mode === 'hang') await new Promise<void>(resolve => { release = resolve; });
  });
  await p.start();
  // The snapshot of the three seed customers: first delivery fails, the retry hangs (the poller is killed under it).
  await waitFor('a failed delivery and its retry', () => events.length >= 2 && release !== undefined, 120_000);
  const [first, retry] = events;
  expect(first.eventSource).toBe('aws:kafka');
  expect(first.eventSourceArn).toMatch(/^arn:aws:kafka:[a-z0-9-]+:\d{12}:cluster\//);
  expect(first.bootstrapServers).toBe(pipeline.kafka.bootstrapServers);
  for (const [id, records] of Object.entries(first.records)) {
    for (const r of records) {
      expect(id).toBe(`${r.topic}-${r.partition}`);
      expect(r).toEqual({
        topic: 'agentdata.public.customers', partition: expect.any(Number), offset: expect.any(Number), timestamp: expect.any(Number),
        timestampType: 'CREATE_TIME', key: expect.stringMatching(/^[A-Za-z0-9+/]+=*$/), value: expect.stringMatching(/^[A-Za-z0-9+/]+=*$/),
        headers: expect.any(Array),
      });
      expect(JSON.parse(Buffer.from(r.key!, 'base64').toString('utf8'))).toEqual({ id: expect.any(Number) });
    }
    const offsets = records.map(r => Number(r.offset));
    expect(offsets).toEqual([...offsets].sort((a, b) => a - b));
  }
  expect(Object.values(first.records).flat().map(r => JSON.parse(Buffer.from(r.key!, 'base64').toString()).id).sort()).toEqual([12345, 12346, 12347]);
  // A failed batch comes again, whole.
  expect(offsetsOf(retry)).toEqual(offsetsOf(first));

  // Killed while the function runs: nothing was committed, so the restarted poller delivers the same records again.
  await p.kill();
  release!();
  mode = 'ok';
  await p.start();
  await waitFor('the redelivery after the kill', () => events.length >= 3, 60_000);
  expect(offsetsOf(events[2])).toEqual(offsetsOf(first));
  await waitFor('the commit', () => p.stats.committedBatches >= 1, 10_000);

  // Committed: a restart does not deliver them again; a new change arrives alone, with its Debezium value.
  await p.stop();
  await p.start();
  await source.admin.query("INSERT INTO public.customers (id, name, email, tier, balance) VALUES (99999, 'Shape', 's@example.com', 'gold', 1.25)");
  await waitFor('the new change', () => events.length >= 4, 60_000);
  const records = Object.values(events[3].records).flat();
  expect(records).toHaveLength(1);
  expect(JSON.parse(Buffer.from(records[0].value!, 'base64').toString('utf8'))).toEqual(expect.objectContaining({
    op: 'c', after: expect.objectContaining({ id: 99999, name: 'Shape', balance: '1.25' }), source: expect.objectContaining({ lsn: expect.any(Number) }),
  }));
  await p.stop();
  await source.admin.query('DELETE FROM public.customers WHERE id = 99999');
}, 300_000);

/** One random change on the customers table (inserts, updates, deletes and primary-key changes of the workload's own ids). */
async function randomChange(db: Client, random: () => number, live: number[], state: { nextId: number }, touched: Set<number>): Promise<void> {
  const pick = () => live[Math.floor(random() * live.length)];
  const at = new Date(Date.UTC(2026, 0, 1) + Math.floor(random() * 1e10)).toISOString();
  const tier = ['standard', 'silver', 'gold', 'platinum'][Math.floor(random() * 4)];
  const balance = (Math.floor(random() * 1_000_000) / 100).toFixed(2);
  const r = random();
  if (live.length < 20 || r < 0.3) {
    const id = state.nextId++;
    await db.query('INSERT INTO public.customers (id, name, email, tier, balance, updated_at) VALUES ($1, $2, $3, $4, $5, $6)',
      [id, `Customer ${id}`, `c${id}@example.com`, tier, balance, at]);
    live.push(id);
    touched.add(id);
  } else if (r < 0.8) {
    const id = pick();
    await db.query('UPDATE public.customers SET tier = $2, balance = $3, updated_at = $4, name = $5 WHERE id = $1', [id, tier, balance, at, `Customer ${id} v${Math.floor(random() * 1000)}`]);
  } else if (r < 0.92) {
    const id = pick();
    await db.query('DELETE FROM public.customers WHERE id = $1', [id]);
    live.splice(live.indexOf(id), 1);
  } else {
    // A primary-key change: Debezium emits a delete (and tombstone) for the old key and a create for the new one.
    const id = pick();
    const next = state.nextId++;
    await db.query('UPDATE public.customers SET id = $2, updated_at = $3 WHERE id = $1', [id, next, at]);
    live.splice(live.indexOf(id), 1, next);
    touched.add(next);
  }
}

/** Every touched row, PostgreSQL against what the MCP server would read from Redis; one line per divergence. */
async function divergences(db: Client, v: ViewConfig, touched: Set<number>): Promise<string[]> {
  const rows = (await db.query('SELECT id::text, name, email, tier, balance::text, updated_at FROM public.customers')).rows as Array<{
    id: string; name: string; email: string; tier: string; balance: string; updated_at: Date;
  }>;
  const inDb = new Map(rows.map(r => [Number(r.id), r]));
  const ids = [...new Set([...touched, ...inDb.keys()])];
  const stored = await Promise.all(ids.map(id => readCacheRecord(redis, v, { id })));
  const out: string[] = [];
  ids.forEach((id, i) => {
    const want = inDb.get(id);
    const row = stored[i]?.row ?? null;
    if (!want) {
      if (row) out.push(`id ${id}: absent in PostgreSQL, live in Redis ${JSON.stringify(row)}`);
      return;
    }
    if (!row) {
      out.push(`id ${id}: ${stored[i] ? 'a tombstone' : 'nothing'} in Redis, PostgreSQL has ${JSON.stringify(want)}`);
      return;
    }
    const same = Number(row.id) === id && row.name === want.name && row.email === want.email && row.tier === want.tier
      && Number(row.balance) === Number(want.balance) && Math.abs(Date.parse(String(row.updated_at)) - want.updated_at.getTime()) <= 1;
    if (!same) out.push(`id ${id}: Redis ${JSON.stringify(row)} != PostgreSQL ${JSON.stringify(want)}`);
  });
  return out;
}

interface ChaosRun {
  readonly divergences: string[];
  readonly letters: DeadLetter[];
  readonly stats: LocalMskEventSource['stats'];
  readonly crashedBatches: number;
  readonly redeliveredRecords: number;
  readonly deliveries: number;
}

/**
 * Runs `changes` random changes while a poller (with `m`'s group, writing under `v`'s prefix) is killed at random points, and one
 * batch in `crashRate` crashes part-way (a random prefix of its records written, then the poller killed before the commit).
 */
async function chaosRun(o: {
  seed: number; changes: number; m: EventSourceMappingSpec; v: ViewConfig; commitBeforeHandler: boolean; touched: Set<number>; live: number[];
  state: { nextId: number };
  /** Batches crashed before chance takes over (the first deliveries): the run crashes at least this many, however few batches it gets. */
  minCrashes?: number;
}): Promise<ChaosRun> {
  const random = mulberry32(o.seed);
  const letters: DeadLetter[] = [];
  const seen = new Map<string, number>();
  let crashed = 0;
  let deliveries = 0;
  let restarting: Promise<void> | undefined;
  const restart = () => {
    restarting ??= (async () => {
      await p.kill();
      await new Promise(r => setTimeout(r, random() * 500));
      await p.start();
    })().finally(() => { restarting = undefined; });
    return restarting;
  };
  const writer = cacheBatchWriter(cache);
  const p: LocalMskEventSource = poller(o.m, async event => {
    deliveries += 1;
    for (const r of Object.values(event.records).flat() as MskEventRecord[]) {
      const k = `${r.partition}@${r.offset}`;
      seen.set(k, (seen.get(k) ?? 0) + 1);
    }
    // Drawn every time, so the seed's sequence does not depend on minCrashes.
    const crash = random() < 0.2 || crashed < (o.minCrashes ?? 0);
    const write: BatchWriter = crash
      ? async (v, records) => {
        // The function dies part-way through its writes: a prefix is in Redis, the rest is not, and nothing is committed.
        await writer(v, records.slice(0, Math.floor(random() * records.length)));
        crashed += 1;
        void restart();
        throw new Error('crashed mid-batch');
      }
      : writer;
    return sinkHandler(letters, write, o.v)(event);
  }, o.commitBeforeHandler);
  await p.start();
  let stopChaos = false;
  const chaos = (async () => {
    while (!stopChaos) {
      await new Promise(r => setTimeout(r, 200 + random() * 2500));
      if (!stopChaos) await restart();
    }
  })();

  const db = new Client({ ...source.db.connection });
  await db.connect();
  try {
    // Paced, so that the kills land all through the stream rather than after it.
    const t0 = Date.now();
    for (let i = 0; i < o.changes; i++) {
      await new Promise(r => setTimeout(r, Math.max(0, t0 + (i * 1000) / CHANGE_RATE - Date.now())));
      await randomChange(db, random, o.live, o.state, o.touched);
    }
    // Keep the chaos going while the backlog drains, then let the poller finish.
    await new Promise(r => setTimeout(r, 3000));
    stopChaos = true;
    await chaos;
    await restarting;
    if (!p.running) await p.start();
    let last: string[] = [];
    const deadline = Date.now() + 240_000;
    for (;;) {
      last = await divergences(db, o.v, o.touched);
      if (last.length === 0 || Date.now() > deadline) break;
      // The negative control stops waiting once the stream is drained: what is lost stays lost.
      if (o.commitBeforeHandler && Date.now() > deadline - 200_000) break;
      await new Promise(r => setTimeout(r, 1000));
    }
    return {
      divergences: last, letters, stats: p.stats, crashedBatches: crashed, deliveries,
      redeliveredRecords: [...seen.values()].filter(n => n > 1).length,
    };
  } finally {
    stopChaos = true;
    await p.stop();
    await db.end();
  }
}

describe('property: killed and restarted at random points, the sink on real Kafka converges to PostgreSQL', () => {
  const touched = new Set<number>([12345, 12346, 12347]);
  const live: number[] = [];
  const state = { nextId: FIRST_ID };

  test(`${CHANGES} random changes (inserts, updates, deletes, primary-key changes), seed ${SEED}: zero divergences in every row`, async () => {
    console.log(`sink-kafka property: seed ${SEED} (replay with SINK_KAFKA_SEED=${SEED}), ${CHANGES} changes`);
    const run = await chaosRun({ seed: SEED, changes: CHANGES, m: mapping, v: view, commitBeforeHandler: false, touched, live, state });
    console.log(`sink-kafka property: ${JSON.stringify({ ...run, divergences: run.divergences.length, letters: run.letters.length })}`);
    expect(run.divergences).toEqual([]);
    expect(run.letters).toEqual([]);
    // The run exercised what it claims: restarts, crashed batches, and records delivered more than once.
    expect(run.stats.kills).toBeGreaterThanOrEqual(5);
    expect(run.crashedBatches).toBeGreaterThanOrEqual(1);
    expect(run.redeliveredRecords).toBeGreaterThan(0);
    expect(touched.size).toBeGreaterThan(CHANGES / 4);
  }, 900_000);

  test('negative control: a poller that commits before the batch succeeds loses changes under the same chaos (the property can fail)', async () => {
    // Its own group and key prefix; it re-reads the whole topic (everything above plus new changes) from the beginning.
    const m = { ...mapping, consumerGroupId: `${mapping.consumerGroupId}.control-${randomBytes(3).toString('hex')}` };
    const v = { ...view, cache: { ...view.cache!, keyPrefix: `${keyPrefix}control:` } };
    // On a loaded machine the poller may get only a few large batches; chance alone then crashes none of them and nothing is lost.
    // The first two deliveries crash, so the control always has a committed-but-unwritten suffix to lose.
    const run = await chaosRun({ seed: SEED + 1, changes: Math.min(CHANGES, 1000), m, v, commitBeforeHandler: true, touched, live, state, minCrashes: 2 });
    console.log(`sink-kafka negative control: ${run.divergences.length} divergences, ${run.crashedBatches} crashed batches, ${run.stats.kills} kills`);
    expect(run.crashedBatches).toBeGreaterThanOrEqual(2);
    expect(run.divergences.length).toBeGreaterThan(0);
  }, 900_000);
});
