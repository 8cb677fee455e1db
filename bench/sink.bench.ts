// Sink throughput into the real Redis: Debezium events through processBatch (the Lambda's batch code) in batches of 100
// and 500, beside a raw ioredis pipeline of equivalent HSETs (the two alternate in rounds) and, when installed, redis-benchmark at the same pipeline depth.
import { execFileSync } from 'child_process';
import { Redis } from 'ioredis';
import { toMskEvent, redisFromUrl } from '../cli/dev/dev-loop';
import { CACHE_FIELDS, cacheKey, paddedVersion } from '../contract/stored-record';
import { cacheBatchWriter } from '../lambda/sink/cache-route';
import { processBatch, type SinkDependencies } from '../lambda/sink/process';
import { benchPrefix, customerChange, customerView, deletePrefix, REDIS_URL } from './fixtures';
import { BenchRow } from './lib';

const TOTAL = 60_000;
/** Alternating rounds of sink and baseline; TOTAL / ROUNDS must be a multiple of every batch size. */
const ROUNDS = 15;
/**
 * Records each side writes before the measured rounds, in its own batches (a multiple of every batch size): enough
 * for V8 to optimize both loops. With one batch of warm-up the sink's first round ran at about a third of its later
 * rounds' speed (its decoder, serializer and writer are more code to optimize than a pipeline of HSETs), so 20,000
 * records measured mostly warm-up.
 */
const WARM_UP_RECORDS = 2_000;

function hasRedisBenchmark(): boolean {
  try {
    execFileSync('redis-benchmark', ['--version'], { stdio: 'pipe' });
    return true;
  } catch {
    return false;
  }
}

/** Requests per second redis-benchmark reports for `command` on one connection with pipeline depth `depth`. */
function redisBenchmark(url: URL, depth: number, command: string[]): number {
  const out = execFileSync('redis-benchmark', [
    '-h', url.hostname, '-p', url.port || '6379', '-c', '1', '-n', String(TOTAL), '-P', String(depth), '-r', '1000000', '--csv', ...command,
  ], { stdio: 'pipe' }).toString().trim().split('\n');
  // `"<command>","rps","avg",...,"max"`: the command may hold quotes and commas, the seven figures after it do not.
  const fields = out[out.length - 1].split(',');
  return Number(fields[fields.length - 7].replace(/"/g, ''));
}

export async function sinkBench(): Promise<BenchRow[]> {
  const cache = redisFromUrl(REDIS_URL);
  const redis = (await cache.ready()) as Redis;
  const rows: BenchRow[] = [];
  const prefixes: string[] = [];
  try {
    for (const batchSize of [100, 500]) {
      const prefix = benchPrefix(`sink${batchSize}`);
      prefixes.push(prefix);
      const view = customerView(prefix);
      const deps: SinkDependencies = {
        views: [view], writers: { cache: cacheBatchWriter(cache) },
        deadLetters: { send: async l => { throw new Error(`unexpected dead letters: ${l.map(x => x.error).join('; ')}`); } },
        metrics: { count: () => undefined, freshnessLag: () => undefined, cdcLag: () => undefined },
        log: { info: () => undefined, warn: () => undefined },
      };
      const events = [];
      for (let start = 0; start < TOTAL; start += batchSize) {
        const records = [];
        for (let i = start; i < start + batchSize; i++) records.push(customerChange(i + 1, 1_000_000 + i * 100, i));
        events.push(toMskEvent(records));
      }
      // Warm up on keys outside the measured set (this loads the write script): WARM_UP_RECORDS records in batches of
      // batchSize, as the baseline warms up with as many HSETs in pipelines of batchSize below. The figure is the
      // throughput of a warm function; a cold container's first batch is the bundle bench's "first invocation" row.
      for (let start = 0; start < WARM_UP_RECORDS; start += batchSize) {
        const warmUp = [];
        for (let i = start; i < start + batchSize; i++) warmUp.push(customerChange(-(i + 1), 1 + i, i));
        await processBatch(toMskEvent(warmUp), deps);
      }
      // Same-run baseline: the same number of HSETs (version + record JSON of the same size), pipelined batchSize deep.
      const record = await redis.hget(cacheKey(view.cache!.keyPrefix, view.key, { id: -1 }), CACHE_FIELDS.record);
      const rawPrefix = `${prefix}raw:`;
      const rawBatch = async (start: number) => {
        const p = redis.pipeline();
        for (let i = start; i < start + batchSize; i++) p.hset(`${rawPrefix}${i}`, CACHE_FIELDS.version, paddedVersion(String(Math.abs(i))), CACHE_FIELDS.record, record!);
        await p.exec();
      };
      for (let start = -WARM_UP_RECORDS; start < 0; start += batchSize) await rawBatch(start);
      // The sink and the baseline take turns, a round of each at a time, so a machine whose load changes during the
      // run slows both alike and the ratio stays meaningful.
      let sinkNs = 0n;
      let rawNs = 0n;
      let written = 0;
      const perRound = events.length / ROUNDS;
      for (let round = 0; round < ROUNDS; round++) {
        const t0 = process.hrtime.bigint();
        for (const e of events.slice(round * perRound, (round + 1) * perRound)) written += (await processBatch(e, deps)).written;
        const t1 = process.hrtime.bigint();
        for (let start = round * perRound * batchSize; start < (round + 1) * perRound * batchSize; start += batchSize) await rawBatch(start);
        sinkNs += t1 - t0;
        rawNs += process.hrtime.bigint() - t1;
      }
      if (written !== TOTAL) throw new Error(`sink wrote ${written} of ${TOTAL}`);
      const sinkSeconds = Number(sinkNs) / 1e9;
      const rawSeconds = Number(rawNs) / 1e9;
      const sinkRate = TOTAL / sinkSeconds;
      rows.push({ bench: 'sink -> Redis', metric: `records/s, batch ${batchSize} (${TOTAL} records)`, value: sinkRate, unit: 'rec/s', baselineName: `ioredis pipeline of HSET, depth ${batchSize}`, baseline: TOTAL / rawSeconds });
      if (hasRedisBenchmark()) {
        const rps = redisBenchmark(new URL(REDIS_URL), batchSize, ['HSET', `${prefix}rb:__rand_int__`, CACHE_FIELDS.version, '00000000000000000001', CACHE_FIELDS.record, record!]);
        rows.push({ bench: 'sink -> Redis', metric: `records/s, batch ${batchSize}`, value: sinkRate, unit: 'rec/s', baselineName: `redis-benchmark HSET -c 1 -P ${batchSize}`, baseline: rps });
      }
    }
  } finally {
    for (const p of prefixes) await deletePrefix(redis, p);
    await cache.close();
  }
  return rows;
}
