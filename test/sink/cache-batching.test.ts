// The sink's batched cache writes (many rows per script call, delete flags as one string per call, records written in slices
// while the batch is decoded) leave Redis in exactly the state that writing the same records one at a time leaves.
import { Redis } from 'ioredis';
import { CACHE_FIELDS } from '../../contract/stored-record';
import type { ViewConfig } from '../../contract/view-config';
import { createCacheClient, type CacheClient } from '../../lambda/shared/cache-client';
import { ROWS_PER_CALL } from '../../lambda/shared/cache-writer';
import type { MskEventRecord } from '../../lambda/shared/envelope';
import { cacheBatchWriter } from '../../lambda/sink/cache-route';
import { processBatch, WRITE_SLICE_RECORDS, type BatchSummary, type SinkDependencies } from '../../lambda/sink/process';
import { mulberry32 } from '../helpers/random';
import { b64, deletePrefix, mskEvent, productsView, REDIS_PORT, uniquePrefix } from './helpers';

let redis: Redis;
let client: CacheClient;
const prefixes: string[] = [];

beforeAll(async () => {
  redis = new Redis({ port: REDIS_PORT });
  client = createCacheClient({ host: '127.0.0.1', port: REDIS_PORT, tls: false, auth: 'none', serverless: false, clusterMode: false });
  await client.ready();
});
afterAll(async () => {
  for (const p of prefixes) await deletePrefix(redis, p);
  redis.disconnect();
  await client.close();
});

const TOPICS = { plain: 'db.inventory.products', ttl: 'db.inventory.prices' };

/** Two cache views, one with a row TTL and one without, under a key prefix of their own per run. */
function views(run: string): ViewConfig[] {
  const plain = uniquePrefix(`batching-${run}-plain`);
  const ttl = uniquePrefix(`batching-${run}-ttl`);
  prefixes.push(plain, ttl);
  return [
    productsView({ keyPrefix: plain, name: 'plain', topic: TOPICS.plain }),
    { ...productsView({ keyPrefix: ttl, name: 'ttl', topic: TOPICS.ttl }), cache: { keyPrefix: ttl, ttlSeconds: 5000, tombstoneTtlSeconds: 900 } },
  ];
}

function deps(vs: ViewConfig[]): SinkDependencies {
  return {
    views: vs,
    writers: { cache: cacheBatchWriter(client) },
    deadLetters: { send: async l => { throw new Error(`unexpected dead letters: ${l.map(x => x.error).join('; ')}`); } },
    metrics: { count: () => undefined, freshnessLag: () => undefined, cdcLag: () => undefined },
    log: { info: () => undefined, warn: () => undefined },
    // writtenAtMs is part of the stored JSON: both runs stamp the same time.
    now: () => 1_700_000_000_000,
  };
}

/**
 * A seeded stream over few keys of both views: inserts, updates, deletes with and without a before image (the key then
 * comes from the Kafka key), Debezium tombstones, redelivered duplicates and changes older than one already sent.
 */
function stream(seed: number, n: number): MskEventRecord[] {
  const rand = mulberry32(seed);
  const out: MskEventRecord[] = [];
  let lsn = 1000;
  let offset = 0;
  for (let i = 0; i < n; i++) {
    const topic = rand() < 0.5 ? TOPICS.plain : TOPICS.ttl;
    const id = Math.floor(rand() * 40);
    const r = rand();
    // A redelivery of an earlier record, or a change positioned before ones already sent (stale when it arrives).
    if (out.length > 0 && r < 0.1) {
      out.push(out[Math.floor(rand() * out.length)]);
      continue;
    }
    lsn += 1 + Math.floor(rand() * 20);
    const at = r < 0.2 ? lsn - 1 - Math.floor(rand() * Math.min(lsn - 1, 200)) : lsn;
    const source = { lsn: at, ts_ms: at, db: 'd', schema: 'inventory', table: 'products' };
    const op = rand() < 0.25 ? 'd' : (rand() < 0.3 ? 'c' : 'u');
    const value = op === 'd'
      ? { op, before: rand() < 0.5 ? { id } : null, after: null, source }
      : { op, before: null, after: { id, name: `n${at}`, description: rand() < 0.2 ? null : `d${i}`, weight: rand() * 10 }, source };
    out.push({ topic, partition: 0, offset: offset++, key: b64({ id }), value: b64(value) });
    if (op === 'd' && rand() < 0.5) out.push({ topic, partition: 0, offset: offset++, key: b64({ id }), value: null });
  }
  return out;
}

/** Every key under the prefix (prefix removed) with its fields and whether it expires, and roughly when. */
async function state(prefix: string): Promise<Map<string, { fields: Record<string, string>; ttl: string }>> {
  const out = new Map<string, { fields: Record<string, string>; ttl: string }>();
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
    cursor = next;
    for (const k of keys) {
      const ttl = await redis.ttl(k);
      // Seconds elapse between the two runs: compare the TTL to the minute, and exactly when there is none.
      out.set(k.slice(prefix.length), { fields: await redis.hgetall(k), ttl: ttl < 0 ? String(ttl) : `~${Math.round(ttl / 60)}m` });
    }
  } while (cursor !== '0');
  return out;
}

function sum(a: BatchSummary[]): { written: number; stale: number; skipped: number } {
  return a.reduce((s, x) => ({ written: s.written + x.written, stale: s.stale + x.stale, skipped: s.skipped + x.skipped }), { written: 0, stale: 0, skipped: 0 });
}

test.each([20261201, 7, 4242])('a batch mixing views, keys, deletes, tombstones, duplicates and stale changes ends as record-at-a-time writes do (seed %i)', async seed => {
  // Longer than a script call and a write slice, so rows of one key land in different calls.
  const records = stream(seed, 3 * Math.max(ROWS_PER_CALL, WRITE_SLICE_RECORDS.cache ?? 0));
  const batchedViews = views('batched');
  const singleViews = views('single');

  const batched = await processBatch(mskEvent(records), deps(batchedViews));
  const single: BatchSummary[] = [];
  for (const r of records) single.push(await processBatch(mskEvent([r]), deps(singleViews)));

  expect({ written: batched.written, stale: batched.stale, skipped: batched.skipped }).toEqual(sum(single));
  expect(batched.stale).toBeGreaterThan(0);
  for (let v = 0; v < batchedViews.length; v++) {
    const want = await state(singleViews[v].cache!.keyPrefix);
    const got = await state(batchedViews[v].cache!.keyPrefix);
    expect([...want.values()].some(s => JSON.parse(s.fields[CACHE_FIELDS.record]).row === null)).toBe(true);
    expect(got).toEqual(want);
  }
});

test('the sink hands the cache writer slices of exactly one script call (process.ts cannot import the writer: it would load ioredis with the bundle)', () => {
  // A slice larger than a call leaves a partial call waiting for the next slice's rows; a smaller one splits calls.
  expect(WRITE_SLICE_RECORDS.cache).toBe(ROWS_PER_CALL);
});
