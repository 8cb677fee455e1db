// Commit-to-visible on the real engines with the synthesized latency settings: PostgreSQL -> Debezium on Kafka Connect (the template's
// poll.interval.ms, max.batch.size and worker producer.linger.ms) -> Kafka -> a local Lambda MSK event source (the template's BatchSize
// and MaximumBatchingWindowInSeconds) -> the sink's processBatch -> Redis. Prints p50/p99 per change for docs/PERFORMANCE.md; asserts
// only correctness: every change becomes visible, and the changes of one row become visible in commit order (never older over newer).
import { randomBytes } from 'crypto';
import { Client } from 'pg';
import { deleteKeys, redisFromUrl } from '../../cli/dev/dev-loop';
import { eventSourceFor, LocalMskEventSource, type EventSourceMappingSpec } from '../../cli/dev/engines/msk-event-source';
import {
  effectiveConnectorSetting, startEnginePipeline, startSourceDatabase, synthesizeExample, type EnginePipeline, type SourceDatabase, type SynthesizedExample,
} from '../../cli/dev/engines/pipeline';
import { deployedConnector, parseProperties, resolveValue } from '../../cli/dev/engines/template';
import type { CacheClient, CacheConnection } from '../../lambda/shared/cache-client';
import { readCacheRecord } from '../../lambda/shared/cache-writer';
import type { MskEvent } from '../../lambda/shared/envelope';
import type { ViewConfig } from '../../contract/view-config';
import { cacheBatchWriter } from '../../lambda/sink/cache-route';
import { cacheSink } from './sink-helpers';

/** Changes timed, one per row, at CHANGE_RATE per second: low traffic, each change alone in flight most of the time. */
const CHANGES = Number(process.env.COMMIT_TO_VISIBLE_CHANGES ?? 100);
const CHANGE_RATE = 4;
/** Back-to-back updates of one row for the order check. */
const HOT_UPDATES = 40;
const FIRST_ID = 400_001;
const HOT_ID = 399_999;

let example: SynthesizedExample;
let source: SourceDatabase;
let pipeline: EnginePipeline;
let cache: CacheClient;
let redis: CacheConnection;
let view: ViewConfig;
let mapping: EventSourceMappingSpec;
let poller: LocalMskEventSource;
const batches: Array<{ at: number; records: number }> = [];
const keyPrefix = `test:c2v:${randomBytes(6).toString('hex')}:`;
const sleep = (ms: number) => new Promise(r => setTimeout(r, ms));

beforeAll(async () => {
  example = synthesizeExample();
  source = await startSourceDatabase();
  // The rows exist before the connector starts, so its snapshot carries them and the timed changes are all updates.
  await source.admin.query(`INSERT INTO public.customers (id, name, email, tier, balance)
    SELECT g, 'Timed ' || g, 'timed' || g || '@example.com', 'standard', 0 FROM generate_series(${HOT_ID}, ${FIRST_ID + CHANGES - 1}) g`);
  pipeline = await startEnginePipeline({ example, source, log: l => process.stdout.write(`engines: ${l}\n`) });
  const declared = example.views.find(v => v.name === 'customer')!;
  view = { ...declared, cache: { ...declared.cache!, keyPrefix: `${keyPrefix}${declared.cache!.keyPrefix}` } };
  mapping = eventSourceFor(example.template, view.topic);
  cache = redisFromUrl('redis://127.0.0.1:6379');
  redis = await cache.ready();
  const sink = cacheSink({ views: () => [view], writer: cacheBatchWriter(cache) });
  poller = new LocalMskEventSource({
    bootstrapServers: pipeline.kafka.bootstrapServers, mapping,
    handler: async (event: MskEvent) => {
      const summary = await sink(event);
      batches.push({ at: Date.now(), records: summary.received });
    },
  });
  await poller.start();
}, 900_000);

afterAll(async () => {
  await poller?.stop();
  if (redis) await deleteKeys(redis, keyPrefix);
  await cache?.close();
  await pipeline?.stop();
  await source?.stop();
}, 180_000);

async function balanceOf(id: number): Promise<number | undefined> {
  const stored = await readCacheRecord(redis, view, { id });
  const balance = (stored?.row as { balance?: unknown } | null | undefined)?.balance;
  return balance === undefined || balance === null ? undefined : Number(balance);
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

test('every change committed at low traffic becomes visible in Redis, and one row\'s changes become visible in commit order', async () => {
  // The settings the run uses, each read from the synthesized template (or, where the template leaves one out, the engine's default).
  const pollInterval = await effectiveConnectorSetting(pipeline, 'poll.interval.ms');
  const maxBatchSize = await effectiveConnectorSetting(pipeline, 'max.batch.size');
  const worker = parseProperties(Buffer.from(resolveValue(example.template, { 'Fn::Base64': deployedConnector(example.template).workerPropertiesContent }, {}), 'base64').toString('utf8'));
  const settings = `poll.interval.ms=${pollInterval.value} (${pollInterval.fromTemplate ? 'template' : 'Debezium default'}), `
    + `max.batch.size=${maxBatchSize.value} (${maxBatchSize.fromTemplate ? 'template' : 'Debezium default'}), producer.linger.ms=${worker['producer.linger.ms'] ?? 'Kafka default'}; `
    + `event source BatchSize=${mapping.batchSize}, MaximumBatchingWindowInSeconds=${mapping.batchingWindowFromTemplate ? mapping.batchingWindowMs / 1000 : "unset (Lambda's 500 ms)"}`;
  process.stdout.write(`commit-to-visible settings: ${settings}\n`);

  // The snapshot has reached Redis before anything is timed.
  for (const deadline = Date.now() + 180_000; (await balanceOf(FIRST_ID + CHANGES - 1)) === undefined;) {
    if (Date.now() > deadline) throw new Error(`the snapshot never reached Redis (event source: ${JSON.stringify(poller.stats)}, last handler error: ${poller.lastHandlerError?.message})`);
    await sleep(200);
  }

  const pg = new Client(source.db.connection);
  await pg.connect();
  try {
    // 1. Latency: one update per row, CHANGE_RATE a second; a loop reads every in-flight row until its new balance shows.
    const inFlight = new Map<number, { value: number; t0: bigint }>();
    const visibleMs: number[] = [];
    let issuing = true;
    const batchesBefore = batches.length;
    const watcher = (async () => {
      const started = Date.now();
      while (issuing || inFlight.size > 0) {
        if (Date.now() - started > 300_000) {
          throw new Error(`not visible after 300 s: rows ${[...inFlight.keys()].join(', ')} (event source: ${JSON.stringify(poller.stats)}, last handler error: ${poller.lastHandlerError?.message})`);
        }
        await Promise.all([...inFlight].map(async ([id, want]) => {
          if ((await balanceOf(id)) === want.value) {
            visibleMs.push(Number(process.hrtime.bigint() - want.t0) / 1e6);
            inFlight.delete(id);
          }
        }));
        await sleep(2);
      }
    })();
    const start = Date.now();
    try {
      for (let i = 0; i < CHANGES; i++) {
        await sleep(Math.max(0, start + (i * 1000) / CHANGE_RATE - Date.now()));
        const id = FIRST_ID + i;
        const value = 1000 + i;
        const t0 = process.hrtime.bigint();
        await pg.query('UPDATE public.customers SET balance = $2 WHERE id = $1', [id, value]);
        // Timed from the commit's acknowledgement (autocommit: the UPDATE's reply is the commit).
        inFlight.set(id, { value, t0 });
      }
    } finally {
      issuing = false;
    }
    await watcher;
    expect(visibleMs).toHaveLength(CHANGES);
    const sorted = [...visibleMs].sort((a, b) => a - b);
    const invocations = batches.length - batchesBefore;
    process.stdout.write(`commit-to-visible (n=${CHANGES}, ${CHANGE_RATE}/s): p50 ${percentile(sorted, 50).toFixed(0)} ms, p99 ${percentile(sorted, 99).toFixed(0)} ms, `
      + `max ${sorted[sorted.length - 1].toFixed(0)} ms, mean ${(sorted.reduce((a, b) => a + b, 0) / sorted.length).toFixed(0)} ms; `
      + `${invocations} sink invocations for ${CHANGES} changes (${(CHANGES / Math.max(1, invocations)).toFixed(2)} records each)\n`);

    // 2. Order: back-to-back commits to one row; Redis may skip values a batch overwrote, but never shows an older one after a newer.
    const seen: number[] = [];
    let done = false;
    const orderWatcher = (async () => {
      const started = Date.now();
      while (!done || seen[seen.length - 1] !== HOT_UPDATES) {
        if (Date.now() - started > 300_000) throw new Error(`row ${HOT_ID} never showed its last update; seen ${seen.join(', ')}`);
        const b = await balanceOf(HOT_ID);
        if (b !== undefined && b !== seen[seen.length - 1]) seen.push(b);
        await sleep(1);
      }
    })();
    try {
      for (let v = 1; v <= HOT_UPDATES; v++) await pg.query('UPDATE public.customers SET balance = $2 WHERE id = $1', [HOT_ID, v]);
    } finally {
      done = true;
    }
    await orderWatcher;
    process.stdout.write(`order: row ${HOT_ID} showed ${seen.length} of ${HOT_UPDATES} back-to-back values: ${seen.join(', ')}\n`);
    const afterSnapshot = seen.filter(v => v !== 0);
    expect(afterSnapshot).toEqual([...afterSnapshot].sort((a, b) => a - b));
    expect(new Set(afterSnapshot).size).toBe(afterSnapshot.length);
    expect(afterSnapshot[afterSnapshot.length - 1]).toBe(HOT_UPDATES);
    expect(poller.stats.failures).toBe(0);
  } finally {
    await pg.end();
  }
}, 900_000);
