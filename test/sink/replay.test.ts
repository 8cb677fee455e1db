// Dead letters are replayed into the sink's processing path after a fix: the letters the sink wrote (S3 mocked) are read back and written to the real Redis.
import { CloudFormationClient, ListStackResourcesCommand } from '@aws-sdk/client-cloudformation';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { main, replayDeadLettersCommand } from '../../cli/agent-data-stack';
import { readCacheRecord } from '../../lambda/shared/cache-writer';
import type { MskEvent } from '../../lambda/shared/envelope';
import type { ViewConfig } from '../../contract/view-config';
import { cacheBatchWriter } from '../../lambda/sink/cache-route';
import { S3DeadLetterSink } from '../../lambda/sink/dead-letter';
import { processBatch, type BatchWriter } from '../../lambda/sink/process';
import { replayDeadLetters } from '../../lambda/sink/replay';
import { fixtureRecords, mskEvent, productsView, realCache, uniquePrefix } from './helpers';

const s3Mock = mockClient(S3Client);
const cfnMock = mockClient(CloudFormationClient);
const cache = realCache();
const quiet = { info: () => undefined, warn: () => undefined };
const metrics = { count: () => undefined, freshnessLag: () => undefined, cdcLag: () => undefined };


function view(name: string): ViewConfig {
  const keyPrefix = uniquePrefix(name);
  cache.prefixes.push(keyPrefix);
  return productsView({ keyPrefix, name, topic: `replay.${name}.products` });
}

/** An in-memory bucket behind the S3 mock: PutObject stores, ListObjectsV2 (two keys a page) and GetObject read. */
function fakeBucket(): Map<string, string> {
  const objects = new Map<string, string>();
  s3Mock.reset();
  s3Mock.on(PutObjectCommand).callsFake(input => { objects.set(input.Key, input.Body as string); return {}; });
  s3Mock.on(ListObjectsV2Command).callsFake(input => {
    const keys = [...objects.keys()].filter(k => k.startsWith(input.Prefix ?? '')).sort();
    const start = input.ContinuationToken ? Number(input.ContinuationToken) : 0;
    const page = keys.slice(start, start + 2);
    const more = start + 2 < keys.length;
    return { Contents: page.map(Key => ({ Key })), IsTruncated: more, NextContinuationToken: more ? String(start + 2) : undefined };
  });
  s3Mock.on(GetObjectCommand).callsFake(input => {
    const body = objects.get(input.Key);
    if (body === undefined) throw Object.assign(new Error('NoSuchKey'), { name: 'NoSuchKey' });
    return { Body: { transformToString: async () => body } };
  });
  return objects;
}

/** The sink with a cache that refuses every record (the bug), then the fixed sink against the real Redis. */
async function deadLetterEverything(v: ViewConfig, bucket: string): Promise<void> {
  const broken: BatchWriter = async (_view, records) => ({ written: 0, stale: 0, failed: records.map(record => ({ record, error: 'WRONGTYPE (the bug)' })) });
  const summary = await processBatch(mskEvent(fixtureRecords('postgres-products.jsonl', v.topic)), {
    views: [v], writers: { cache: broken }, deadLetters: new S3DeadLetterSink(new S3Client({}), bucket), metrics, log: quiet,
  });
  expect(summary.deadLettered).toBeGreaterThan(0);
}

function fixedSink(v: ViewConfig): (event: MskEvent) => ReturnType<typeof processBatch> {
  return event => processBatch(event, {
    views: [v], writers: { cache: cacheBatchWriter(cache.client) }, deadLetters: new S3DeadLetterSink(new S3Client({}), 'dlq'), metrics, log: quiet,
  });
}

test('the letters a failing sink wrote are replayed into the store after the fix, and a second replay changes nothing', async () => {
  const v = view('replayed');
  const objects = fakeBucket();
  await deadLetterEverything(v, 'dlq');
  const letters = objects.size;
  expect(await readCacheRecord(cache.redis, v, { id: 110 })).toBeUndefined();

  // The fixture's changes are from 2020: older than any tombstone retention, replayed on purpose (no deletes).
  const first = await replayDeadLetters(new S3Client({}), { bucket: 'dlq', view: v.name, batchSize: 5, maxAgeMs: Infinity, deliver: fixedSink(v) });
  expect(first).toMatchObject({ letters, batches: Math.ceil(letters / 5), deadLettered: 0 });
  expect(first.written).toBeGreaterThan(0);
  // The same final state as a sink that never failed: the last change of product 110 wins.
  expect((await readCacheRecord(cache.redis, v, { id: 110 }))?.row).toMatchObject({ description: 'new water resistent white wind breaker', weight: 0.5 });

  const again = await replayDeadLetters(new S3Client({}), { bucket: 'dlq', view: v.name, maxAgeMs: Infinity, deliver: fixedSink(v) });
  expect(again.written).toBe(0);
  expect(again.stale).toBe(first.written + first.stale);
});

test('agent-data-stack replay-dead-letters --stack S --view V replays only that view\'s letters, found through the stack', async () => {
  const v = view('cliview');
  const other = view('otherview');
  fakeBucket();
  await deadLetterEverything(v, 'stack-dlq');
  await deadLetterEverything(other, 'stack-dlq');
  cfnMock.reset();
  cfnMock.on(ListStackResourcesCommand).resolves({ StackResourceSummaries: [
    { LogicalResourceId: 'SinkDeadLetterBucketA1B2C3D4', PhysicalResourceId: 'stack-dlq', ResourceType: 'AWS::S3::Bucket', ResourceStatus: 'CREATE_COMPLETE', LastUpdatedTimestamp: new Date() },
    { LogicalResourceId: 'SinkFunction0A1B2C3D', PhysicalResourceId: 'stack-sink-fn', ResourceType: 'AWS::Lambda::Function', ResourceStatus: 'CREATE_COMPLETE', LastUpdatedTimestamp: new Date() },
  ] });
  const delivered: string[] = [];
  replayDeadLettersCommand.clients = {
    cloudformation: new CloudFormationClient({ region: 'us-east-1' }), s3: new S3Client({ region: 'us-east-1' }),
    deliver: fn => event => { delivered.push(fn); return fixedSink(v)(event); },
  };
  const out: string[] = [];
  try {
    const code = await main(['replay-dead-letters', '--stack', 'S', '--view', v.name, '--max-age', '1000000'], { stdout: t => out.push(t), stderr: t => out.push(t), env: { AWS_REGION: 'us-east-1' } });
    expect(out.join('\n')).toMatch(/^Replayed (\d+) of \1 dead letter\(s\) from s3:\/\/stack-dlq through stack-sink-fn .* 0 dead-lettered again\.$/);
    expect(code).toBe(0);
  } finally {
    replayDeadLettersCommand.clients = undefined;
  }
  expect(new Set(delivered)).toEqual(new Set(['stack-sink-fn']));
  expect(s3Mock.commandCalls(ListObjectsV2Command).every(c => c.args[0].input.Prefix === `dead-letter/${v.name}/`)).toBe(true);
  expect(await readCacheRecord(cache.redis, v, { id: 110 })).toBeDefined();
  expect(await readCacheRecord(cache.redis, other, { id: 110 })).toBeUndefined();
});

test('a stack without a sink dead-letter bucket or queue is a usage error naming the fix', async () => {
  cfnMock.reset();
  cfnMock.on(ListStackResourcesCommand).resolves({ StackResourceSummaries: [] });
  replayDeadLettersCommand.clients = { cloudformation: new CloudFormationClient({ region: 'us-east-1' }), s3: new S3Client({ region: 'us-east-1' }) };
  const err: string[] = [];
  try {
    expect(await main(['replay-dead-letters', '--stack', 'S'], { stdout: () => undefined, stderr: t => err.push(t), env: {} })).toBe(2);
  } finally {
    replayDeadLettersCommand.clients = undefined;
  }
  expect(err.join('')).toMatch(/Stack 'S' has no dead-letter bucket or queue of a sink 'Sink' .* Pass --bucket B \(or --queue URL\) and --function F/);
});

test('letters whose batch would exceed Lambda\'s 6 MB Invoke payload are delivered in smaller batches, none lost', async () => {
  const objects = fakeBucket();
  // 100 letters of a ~100 KB document the search domain refused: 100 to a batch (the default) would be ~13 MB as JSON.
  const value = Buffer.from(JSON.stringify({ after: { id: 1, body: 'x'.repeat(100_000) } })).toString('base64');
  for (let offset = 0; offset < 100; offset++) {
    objects.set(`dead-letter/big/t/0/${offset}.json`, JSON.stringify({
      view: 'big', topic: 't', partition: 0, offset: String(offset), timestamp: Date.now(), key: null, value, error: 'too large', stage: 'write', failedAtMs: Date.now(),
    }));
  }
  const delivered: string[] = [];
  // Lambda's synchronous Invoke refuses a request over 6,291,456 bytes (RequestEntityTooLargeException, HTTP 413).
  const lambda = async (event: MskEvent) => {
    const bytes = Buffer.byteLength(JSON.stringify(event));
    if (bytes > 6_291_456) throw new Error(`Lambda Invoke returned HTTP 413: Request must be smaller than 6291456 bytes for the InvokeFunction operation (${bytes})`);
    const records = Object.values(event.records).flat();
    delivered.push(...records.map(r => String(r.offset)));
    return { received: records.length, written: records.length, stale: 0, skipped: 0, deadLettered: 0 };
  };
  const summary = await replayDeadLetters(new S3Client({}), { bucket: 'dlq', view: 'big', deliver: lambda });
  expect(summary).toMatchObject({ letters: 100, written: 100 });
  expect(summary.batches).toBeGreaterThan(2);
  expect(new Set(delivered).size).toBe(100);
});

test('a letter older than the tombstone retention is held back, not replayed: the row deleted since stays deleted', async () => {
  const v = { ...view('tombstoned'), cache: { keyPrefix: uniquePrefix('tombstoned'), tombstoneTtlSeconds: 1 } };
  cache.prefixes.push(v.cache.keyPrefix);
  const objects = fakeBucket();
  const records = fixtureRecords('postgres-products.jsonl', v.topic);
  // Product 111's create and update (offsets 12 and 14) are dead-lettered by the bug; its delete (offset 15) is written later.
  const lettered = (r: { offset: number | string }) => r.offset === 12 || r.offset === 14;
  const broken: BatchWriter = async (_view, recs) => ({ written: 0, stale: 0, failed: recs.map(record => ({ record, error: 'WRONGTYPE (the bug)' })) });
  await processBatch(mskEvent(records.filter(lettered)), { views: [v], writers: { cache: broken }, deadLetters: new S3DeadLetterSink(new S3Client({}), 'dlq'), metrics, log: quiet });
  expect(objects.size).toBe(2);
  await fixedSink(v)(mskEvent(records.filter(r => !lettered(r))));
  expect((await readCacheRecord(cache.redis, v, { id: 111 }))?.row).toBeNull();
  // The delete's tombstone expires (the view's tombstoneTtl; 1 day for a search view by default) before anyone replays.
  await new Promise(resolve => setTimeout(resolve, 1_200));
  expect(await readCacheRecord(cache.redis, v, { id: 111 })).toBeUndefined();

  const held = await replayDeadLetters(new S3Client({}), { bucket: 'dlq', view: v.name, deliver: fixedSink(v) });
  expect(held).toMatchObject({ letters: 2, tooOld: 2, tooOldViews: [v.name], batches: 0, written: 0 });
  expect(await readCacheRecord(cache.redis, v, { id: 111 })).toBeUndefined();
});

test('replay-dead-letters exits 1 when letters were held back as too old, naming resnapshot and --max-age', async () => {
  const v = view('tooold');
  fakeBucket();
  await deadLetterEverything(v, 'old-dlq');
  const out: string[] = [];
  replayDeadLettersCommand.clients = { cloudformation: new CloudFormationClient({ region: 'us-east-1' }), s3: new S3Client({ region: 'us-east-1' }), deliver: () => fixedSink(v) };
  try {
    expect(await main(['replay-dead-letters', '--bucket', 'old-dlq', '--function', 'fn', '--view', v.name], { stdout: t => out.push(t), stderr: t => out.push(t), env: { AWS_REGION: 'us-east-1' } })).toBe(1);
  } finally {
    replayDeadLettersCommand.clients = undefined;
  }
  expect(out.join('\n')).toMatch(new RegExp(`\\d+ letter\\(s\\) of view\\(s\\) ${v.name} are older than 24 h and were not replayed.*agent-data-stack resnapshot --view ${v.name}.*--max-age`, 's'));
  expect(await readCacheRecord(cache.redis, v, { id: 110 })).toBeUndefined();
});
