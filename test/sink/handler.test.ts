// The sink end to end against the real Redis: routing per view, dead letters to S3/SQS that do not stop the batch, a store outage mid-batch
// that fails the handler and a retry that converges, EMF metrics.
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { Redis } from 'ioredis';
import { createCacheClient } from '../../lambda/shared/cache-client';
import { readCacheRecord } from '../../lambda/shared/cache-writer';
import type { ViewConfig } from '../../contract/view-config';
import { StoreUnavailableError } from '../../lambda/shared/write-result';
import { cacheBatchWriter } from '../../lambda/sink/cache-route';
import { S3DeadLetterSink, SqsDeadLetterSink, SQS_MAX_BODY_BYTES, type DeadLetter } from '../../lambda/sink/dead-letter';
import { checkWriters, processBatch, type SinkDependencies, type SinkMetrics } from '../../lambda/sink/process';
import { b64, deletePrefix, fixtureRecords, KillableProxy, mskEvent, productsView, REDIS_PORT, uniquePrefix } from './helpers';

const s3Mock = mockClient(S3Client);
const sqsMock = mockClient(SQSClient);
let redis: Redis;
const prefixes: string[] = [];

beforeAll(() => {
  redis = new Redis({ port: REDIS_PORT });
});
beforeEach(() => {
  s3Mock.reset();
  sqsMock.reset();
});
afterAll(async () => {
  for (const p of prefixes) await deletePrefix(redis, p);
  redis.disconnect();
});

function view(name: string, overrides: Partial<ViewConfig> = {}): ViewConfig {
  const keyPrefix = uniquePrefix(name);
  prefixes.push(keyPrefix);
  return productsView({ keyPrefix, name, ...overrides });
}

class RecordingMetrics implements SinkMetrics {
  readonly counts: Record<string, number> = {};
  readonly lags: Record<string, number> = {};
  readonly heartbeats: Record<string, number> = {};
  count(v: string, name: string, value: number) { this.counts[`${v}.${name}`] = (this.counts[`${v}.${name}`] ?? 0) + value; }
  freshnessLag(v: string, lag: number) { this.lags[v] = lag; }
  cdcLag(topic: string, lag: number) { this.heartbeats[topic] = lag; }
}

const quietLog = { info: () => undefined, warn: () => undefined };

// The client's own connect and command timeouts (5 s): a 1 s command timeout failed a write to the local Redis whenever
// the worker stalled longer than that after sending it (GC, a loaded machine). The outage below fails at once either way.
function localClient(port = REDIS_PORT) {
  return createCacheClient(
    { host: '127.0.0.1', port, tls: false, auth: 'none', serverless: false, clusterMode: false },
    { redisOptions: { retryStrategy: () => 50 } },
  );
}

test('undecodable records reach the S3 dead-letter destination with their Kafka coordinates, and the batch continues', async () => {
  const v = view('dlq');
  const client = localClient();
  const metrics = new RecordingMetrics();
  const good = fixtureRecords('postgres-products.jsonl', v.topic);
  const garbage = { topic: v.topic, partition: 2, offset: 77, timestamp: 5, key: b64({ id: 1 }), value: Buffer.from('{not json').toString('base64') };
  const noKey = { topic: v.topic, partition: 2, offset: 78, key: null, value: b64({ op: 'd', before: null, after: null, source: { lsn: 1 } }) };
  s3Mock.on(PutObjectCommand).resolves({});
  const summary = await processBatch(mskEvent([...good.slice(0, 5), garbage, noKey, ...good.slice(5)]), {
    views: [v], writers: { cache: cacheBatchWriter(client) }, deadLetters: new S3DeadLetterSink(new S3Client({}), 'dlq-bucket'),
    metrics, log: quietLog, now: () => 1596010990000,
  });
  await client.close();
  expect(summary).toEqual({ received: 19, written: 16, stale: 0, skipped: 1, deadLettered: 2 });
  const puts = s3Mock.commandCalls(PutObjectCommand).map(c => c.args[0].input);
  expect(puts.map(p => p.Key).sort()).toEqual([`dead-letter/dlq/${v.topic}/2/77.json`, `dead-letter/dlq/${v.topic}/2/78.json`]);
  const letter = JSON.parse(puts.find(p => p.Key!.endsWith('77.json'))!.Body as string) as DeadLetter;
  expect(letter).toMatchObject({ view: 'dlq', topic: v.topic, partition: 2, offset: '77', key: garbage.key, value: garbage.value, stage: 'decode' });
  expect(letter.error).toMatch(/not JSON/);
  expect((await readCacheRecord(redis, v, { id: 110 }))?.row).toMatchObject({ description: 'new water resistent white wind breaker', weight: 0.5 });
  expect(metrics.counts).toMatchObject({ 'dlq.RecordsReceived': 19, 'dlq.RecordsWritten': 16, 'dlq.RecordsDeadLettered': 2, 'dlq.RecordsSkipped': 1, 'dlq.RecordsStale': 0 });
  expect(metrics.lags.dlq).toBe(1596010990000 - 1596001099434);
});

test('a dead-letter destination that refuses fails the batch instead of dropping the record', async () => {
  const v = view('dlqdown');
  s3Mock.on(PutObjectCommand).rejects(new Error('AccessDenied'));
  const bad = { topic: v.topic, partition: 0, offset: 1, key: null, value: Buffer.from('x').toString('base64') };
  await expect(processBatch(mskEvent([bad]), {
    views: [v], writers: { cache: async () => ({ written: 0, stale: 0, failed: [] }) },
    deadLetters: new S3DeadLetterSink(new S3Client({}), 'b'), metrics: new RecordingMetrics(), log: quietLog,
  })).rejects.toThrow(/AccessDenied/);
});

test('SQS dead letters go in batches of ten, and a value too large for SQS is left out with its size', async () => {
  sqsMock.on(SendMessageBatchCommand).resolves({ Successful: [], Failed: [] });
  const letters: DeadLetter[] = Array.from({ length: 12 }, (_, i) => ({
    view: 'v', topic: 't', partition: 0, offset: String(i), key: null, value: i === 11 ? 'x'.repeat(SQS_MAX_BODY_BYTES) : b64({ i }), error: 'e', stage: 'decode', failedAtMs: 1,
  }));
  await new SqsDeadLetterSink(new SQSClient({}), 'https://sqs.us-east-1.amazonaws.com/123456789012/dlq').send(letters);
  const calls = sqsMock.commandCalls(SendMessageBatchCommand);
  expect(calls.map(c => c.args[0].input.Entries!.length)).toEqual([10, 2]);
  const big = JSON.parse(calls[1].args[0].input.Entries![1].MessageBody!);
  expect(big).toMatchObject({ offset: '11', value: null, valueOmitted: true, valueBytes: SQS_MAX_BODY_BYTES });
  sqsMock.on(SendMessageBatchCommand).resolves({ Failed: [{ Id: '0', Code: 'X', Message: 'too big', SenderFault: true }] });
  await expect(new SqsDeadLetterSink(new SQSClient({}), 'q').send(letters.slice(0, 1))).rejects.toThrow(/refused 1 message/);
});

test('a cache outage in the middle of a batch fails the handler; the retried batch converges', async () => {
  const proxy = new KillableProxy();
  await proxy.start();
  const port = proxy.port;
  const first = view('outage_a');
  const second = view('outage_b', { topic: first.topic });
  const client = localClient(port);
  const records = fixtureRecords('postgres-products.jsonl', first.topic);
  const writer = cacheBatchWriter(client);
  let cut = true;
  const deps: SinkDependencies = {
    views: [first, second],
    writers: {
      // The store goes down after the first view's write of the batch.
      cache: async (v, recs) => {
        const result = await writer(v, recs);
        if (cut) {
          cut = false;
          await proxy.stop();
        }
        return result;
      },
    },
    deadLetters: { send: async () => { throw new Error('no dead letters expected'); } },
    metrics: new RecordingMetrics(),
    log: quietLog,
  };
  try {
    await expect(processBatch(mskEvent(records), deps)).rejects.toBeInstanceOf(StoreUnavailableError);
    expect(await readCacheRecord(redis, first, { id: 110 })).toBeDefined();
    expect(await readCacheRecord(redis, second, { id: 110 })).toBeUndefined();
    // The store recovers; Lambda redelivers the same batch.
    await proxy.start(port);
    const retry = await processBatch(mskEvent(records), deps);
    expect(retry).toMatchObject({ written: 16, stale: 16 });
    for (const v of [first, second]) {
      expect((await readCacheRecord(redis, v, { id: 110 }))?.row).toMatchObject({ description: 'new water resistent white wind breaker', weight: 0.5 });
      expect((await readCacheRecord(redis, v, { id: 111 }))?.row).toBeNull();
    }
  } finally {
    await client.close();
    await proxy.stop();
  }
});

test('search views go to the search writer; records it reports failed are dead-lettered with stage write and their Kafka record', async () => {
  const v = view('orders_search', { store: 'search', cache: undefined, search: { index: 'orders' }, format: 'upsert-kafka', topic: 'flink.orders' });
  const recs = [1, 2, 3].map(i => ({ topic: 'flink.orders', partition: 1, offset: 10 + i, timestamp: 1, key: b64({ id: i }), value: b64({ id: i, name: `o${i}` }) }));
  const seen: string[] = [];
  const letters: DeadLetter[] = [];
  const metrics = new RecordingMetrics();
  const summary = await processBatch(mskEvent(recs), {
    views: [v],
    writers: {
      cache: async () => { throw new Error('cache must not be used'); },
      search: async (_view, records) => {
        seen.push(...records.map(r => r.provenance.version));
        return { written: 1, stale: 1, failed: [{ record: records[2], error: 'mapper_parsing_exception' }] };
      },
    },
    deadLetters: { send: async l => { letters.push(...l); } },
    metrics, log: quietLog,
  });
  expect(seen).toEqual(['11', '12', '13']);
  expect(summary).toMatchObject({ written: 1, stale: 1, deadLettered: 1 });
  expect(letters).toEqual([expect.objectContaining({
    view: 'orders_search', topic: 'flink.orders', partition: 1, offset: '13', key: recs[2].key, value: recs[2].value, stage: 'write', error: 'mapper_parsing_exception',
  })]);
  expect(metrics.counts['orders_search.RecordsDeadLettered']).toBe(1);
});

test('RecordsDeadLettered counts letters once they are persisted: a batch that fails before sending them, and its retry, count each letter once', async () => {
  const search = view('orders_search', { store: 'search', cache: undefined, search: { index: 'orders' }, format: 'upsert-kafka', topic: 'flink.orders' });
  const cached = view('orders_cache', { format: 'upsert-kafka', topic: 'flink.orders.cache' });
  const recs = [
    { topic: 'flink.orders', partition: 0, offset: 1, timestamp: 1, key: b64({ id: 1 }), value: b64({ id: 1, name: 'o1' }) },
    // Undecodable (a decode-stage letter) and refused by the search writer (a write-stage letter).
    { topic: 'flink.orders', partition: 0, offset: 2, timestamp: 1, key: b64({ id: 2 }), value: Buffer.from('{not json').toString('base64') },
    { topic: 'flink.orders', partition: 0, offset: 3, timestamp: 1, key: b64({ id: 3 }), value: b64({ id: 3, name: 'o3' }) },
    { topic: 'flink.orders.cache', partition: 0, offset: 1, timestamp: 1, key: b64({ id: 1 }), value: b64({ id: 1, name: 'c1' }) },
  ];
  const metrics = new RecordingMetrics();
  const letters: DeadLetter[] = [];
  let cacheUp = false;
  let dlqUp = false;
  const deps: SinkDependencies = {
    views: [search, cached],
    writers: {
      search: async (_v, records) => ({ written: records.length - 1, stale: 0, failed: [{ record: records[records.length - 1], error: 'mapper_parsing_exception' }] }),
      cache: async (_v, records) => {
        if (!cacheUp) throw new StoreUnavailableError('cache down');
        return { written: records.length, stale: 0, failed: [] };
      },
    },
    deadLetters: { send: async l => { if (!dlqUp) throw new Error('queue down'); letters.push(...l); } },
    metrics, log: quietLog,
  };
  // First delivery: the cache is down, the batch fails before any letter is sent.
  await expect(processBatch(mskEvent(recs), deps)).rejects.toThrow('cache down');
  expect(metrics.counts['orders_search.RecordsDeadLettered']).toBeUndefined();
  // Second delivery: the cache is back, the dead-letter destination refuses: still nothing counted.
  cacheUp = true;
  await expect(processBatch(mskEvent(recs), deps)).rejects.toThrow('queue down');
  expect(metrics.counts['orders_search.RecordsDeadLettered']).toBeUndefined();
  // Third delivery: both letters are persisted and counted once.
  dlqUp = true;
  const summary = await processBatch(mskEvent(recs), deps);
  expect(summary).toMatchObject({ deadLettered: 2 });
  expect(letters.map(l => [l.offset, l.stage])).toEqual([['2', 'decode'], ['3', 'write']]);
  expect(metrics.counts['orders_search.RecordsDeadLettered']).toBe(2);
  expect(metrics.counts['orders_cache.RecordsDeadLettered']).toBeUndefined();
  // Received is a count of deliveries: three.
  expect(metrics.counts['orders_search.RecordsReceived']).toBe(9);
});

test('a heartbeat record reports CDC lag and is not treated as data', async () => {
  const metrics = new RecordingMetrics();
  const summary = await processBatch(mskEvent([{ topic: '__debezium-heartbeat.agentdata', partition: 0, offset: 1, key: null, value: b64({ ts_ms: 1000 }) }]), {
    views: [view('hb')], writers: { cache: async () => { throw new Error('must not write'); } },
    deadLetters: { send: async () => { throw new Error('must not dead-letter'); } }, metrics, log: quietLog, now: () => 4000,
  });
  expect(summary.deadLettered).toBe(0);
  expect(metrics.heartbeats).toEqual({ '__debezium-heartbeat.agentdata': 3000 });
});

test('a sink deployed with search views but no search writer refuses to start', () => {
  expect(() => checkWriters([view('s', { store: 'search', cache: undefined, search: { index: 'i' } })], { cache: async () => ({ written: 0, stale: 0, failed: [] }) }))
    .toThrow(/view 's' writes to the search store, but this sink has no search writer/);
});

describe('handler (the Lambda entry point)', () => {
  const saved = { ...process.env };
  afterEach(() => {
    process.env = { ...saved };
  });

  test('wires views, cache and dead letters from its environment and emits EMF per view', async () => {
    const v = view('entry');
    Object.assign(process.env, {
      AGENT_VIEWS: JSON.stringify([v]),
      AGENT_CACHE_ENDPOINT: '127.0.0.1', AGENT_CACHE_PORT: String(REDIS_PORT), AGENT_CACHE_TLS: 'false', AGENT_CACHE_AUTH: 'none',
      AGENT_SINK_DLQ_KIND: 's3', AGENT_SINK_DLQ_TARGET: 'bucket',
      POWERTOOLS_METRICS_NAMESPACE: 'AgentDataStack', POWERTOOLS_SERVICE_NAME: 'sink', AWS_REGION: 'us-east-1',
    });
    const out: string[] = [];
    const spy = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: any) => { out.push(String(chunk)); return true; });
    let mod: typeof import('../../lambda/sink/index');
    jest.isolateModules(() => { mod = require('../../lambda/sink/index'); });
    try {
      const summary = await mod!.handler(mskEvent(fixtureRecords('postgres-products.jsonl', v.topic)));
      expect(summary).toMatchObject({ written: 16, skipped: 1, deadLettered: 0 });
    } finally {
      spy.mockRestore();
      await mod!.close();
    }
    const emf = out.flatMap(l => l.split('\n')).filter(l => l.includes('"_aws"')).map(l => JSON.parse(l));
    const doc = emf.find(d => d.View === 'entry');
    expect(doc).toBeDefined();
    expect(doc._aws.CloudWatchMetrics[0]).toMatchObject({ Namespace: 'AgentDataStack', Dimensions: [['service', 'View']] });
    expect(doc.service).toBe('sink');
    expect(doc).toMatchObject({ RecordsReceived: 17, RecordsWritten: 16, RecordsStale: 0, RecordsSkipped: 1 });
    expect(typeof doc.FreshnessLag).toBe('number');
    const logs = out.filter(l => l.includes('batch received'));
    expect(logs.length).toBeGreaterThan(0);
    expect(JSON.parse(logs[0])).toMatchObject({ offsets: { [`${v.topic}-0`]: { first: '0', last: '16', count: 17 } } });
    expect((await readCacheRecord(redis, v, { id: 106 }))?.row).toMatchObject({ description: '18oz carpenter hammer' });
  });
});
