// Dead letters in an SQS queue (SinkDeadLetter.queue()) are replayed through the sink's processing path into the real Redis; SQS (and Lambda's Invoke, over fetch) mocked with their documented shapes.
import { CloudFormationClient, ListStackResourcesCommand } from '@aws-sdk/client-cloudformation';
import { S3Client } from '@aws-sdk/client-s3';
import {
  ChangeMessageVisibilityBatchCommand, DeleteMessageBatchCommand, ReceiveMessageCommand, SendMessageBatchCommand, SQSClient,
} from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { main, replayDeadLettersCommand } from '../../cli/agent-data-stack';
import { readCacheRecord } from '../../lambda/shared/cache-writer';
import type { MskEvent } from '../../lambda/shared/envelope';
import type { ViewConfig } from '../../contract/view-config';
import { cacheBatchWriter } from '../../lambda/sink/cache-route';
import { deadLetterOf, SqsDeadLetterSink, sqsBody } from '../../lambda/sink/dead-letter';
import { processBatch, type BatchWriter } from '../../lambda/sink/process';
import { replayQueueDeadLetters } from '../../lambda/sink/replay-queue';
import { fixtureRecords, mskEvent, productsView, realCache, uniquePrefix } from './helpers';

const QUEUE = 'https://sqs.us-east-1.amazonaws.com/123456789012/S-SinkDeadLetterQueue-abc';
const sqsMock = mockClient(SQSClient);
const cfnMock = mockClient(CloudFormationClient);
const cache = realCache();
const quiet = { info: () => undefined, warn: () => undefined };
const metrics = { count: () => undefined, freshnessLag: () => undefined, cdcLag: () => undefined };

afterEach(() => {
  replayDeadLettersCommand.clients = undefined;
  jest.restoreAllMocks();
});

function view(name: string): ViewConfig {
  const keyPrefix = uniquePrefix(name);
  cache.prefixes.push(keyPrefix);
  return productsView({ keyPrefix, name, topic: `replayq.${name}.products` });
}

interface QueuedMessage { id: string; body: string; sentMs: number; hiddenUntilMs: number; handle?: string; receives: number }

/**
 * An in-memory standard queue behind the SQS mock, answering as the API reference documents: SendMessageBatch
 * (Successful/Failed), ReceiveMessage (at most MaxNumberOfMessages visible messages, hidden for VisibilityTimeout, a new
 * ReceiptHandle each receive, Attributes.SentTimestamp in epoch ms), DeleteMessageBatch and ChangeMessageVisibilityBatch
 * (per entry Successful, or Failed with Id, SenderFault, Code, Message; only the newest receipt handle is valid).
 */
function fakeQueue() {
  const messages = new Map<string, QueuedMessage>();
  let n = 0;
  sqsMock.reset();
  const add = (body: string, sentMs = Date.now()) => {
    const id = `msg-${++n}`;
    messages.set(id, { id, body, sentMs, hiddenUntilMs: 0, receives: 0 });
    return id;
  };
  const byHandle = (handle?: string) => [...messages.values()].find(m => m.handle === handle);
  const batchResult = (entries: { Id?: string; ReceiptHandle?: string }[], apply: (m: QueuedMessage) => void) => {
    const Successful: { Id: string }[] = [];
    const Failed: { Id: string; SenderFault: boolean; Code: string; Message: string }[] = [];
    for (const e of entries) {
      const m = byHandle(e.ReceiptHandle);
      if (m) {
        apply(m);
        Successful.push({ Id: e.Id! });
      } else Failed.push({ Id: e.Id!, SenderFault: true, Code: 'ReceiptHandleIsInvalid', Message: `The input receipt handle "${e.ReceiptHandle}" is not a valid receipt handle.` });
    }
    return { Successful, Failed };
  };
  sqsMock.on(SendMessageBatchCommand).callsFake(input => ({
    Successful: input.Entries.map((e: { Id: string; MessageBody: string }) => ({ Id: e.Id, MessageId: add(e.MessageBody), MD5OfMessageBody: 'x' })), Failed: [],
  }));
  sqsMock.on(ReceiveMessageCommand).callsFake(input => {
    const now = Date.now();
    const visible = [...messages.values()].filter(m => m.hiddenUntilMs <= now).slice(0, input.MaxNumberOfMessages ?? 1);
    for (const m of visible) {
      m.receives += 1;
      m.handle = `${m.id}#${m.receives}`;
      m.hiddenUntilMs = now + (input.VisibilityTimeout ?? 30) * 1000;
    }
    return { Messages: visible.map(m => ({ MessageId: m.id, ReceiptHandle: m.handle, MD5OfBody: 'x', Body: m.body, Attributes: { SentTimestamp: String(m.sentMs) } })) };
  });
  sqsMock.on(DeleteMessageBatchCommand).callsFake(input => batchResult(input.Entries, m => messages.delete(m.id)));
  sqsMock.on(ChangeMessageVisibilityBatchCommand).callsFake(input => batchResult(input.Entries, m => {
    const e = input.Entries.find((x: { ReceiptHandle: string }) => x.ReceiptHandle === m.handle);
    m.hiddenUntilMs = Date.now() + e.VisibilityTimeout * 1000;
  }));
  const visible = () => [...messages.values()].filter(m => m.hiddenUntilMs <= Date.now());
  return { messages, add, visible };
}

/** The sink with a cache that refuses every record (the bug) dead-letters the fixture into the queue, a minute before the replay. */
async function deadLetterEverything(v: ViewConfig, queue: ReturnType<typeof fakeQueue>): Promise<number> {
  const before = new Set(queue.messages.keys());
  const broken: BatchWriter = async (_view, records) => ({ written: 0, stale: 0, failed: records.map(record => ({ record, error: 'WRONGTYPE (the bug)' })) });
  const summary = await processBatch(mskEvent(fixtureRecords('postgres-products.jsonl', v.topic)), {
    views: [v], writers: { cache: broken }, deadLetters: new SqsDeadLetterSink(new SQSClient({ region: 'us-east-1' }), QUEUE), metrics, log: quiet,
  });
  for (const m of queue.messages.values()) if (!before.has(m.id)) m.sentMs -= 60_000;
  expect(summary.deadLettered).toBeGreaterThan(0);
  return summary.deadLettered;
}

/** The deployed sink after the fix (`writer` defaults to the real Redis); its own dead letters go to the same queue. */
function sink(v: ViewConfig, writer: BatchWriter = cacheBatchWriter(cache.client)): (event: MskEvent) => ReturnType<typeof processBatch> {
  return event => processBatch(event, {
    views: [v], writers: { cache: writer }, deadLetters: new SqsDeadLetterSink(new SQSClient({ region: 'us-east-1' }), QUEUE), metrics, log: quiet,
  });
}

function stackWithQueue(): void {
  cfnMock.reset();
  cfnMock.on(ListStackResourcesCommand).resolves({ StackResourceSummaries: [
    { LogicalResourceId: 'SinkDeadLetterQueue4F2A9B1C', PhysicalResourceId: QUEUE, ResourceType: 'AWS::SQS::Queue', ResourceStatus: 'CREATE_COMPLETE', LastUpdatedTimestamp: new Date() },
    { LogicalResourceId: 'SinkFunction0A1B2C3D', PhysicalResourceId: 'stack-sink-fn', ResourceType: 'AWS::Lambda::Function', ResourceStatus: 'CREATE_COMPLETE', LastUpdatedTimestamp: new Date() },
  ] });
}

async function run(args: string[], deliver?: (fn: string) => (event: MskEvent) => ReturnType<typeof processBatch>): Promise<{ code: number; out: string; err: string }> {
  replayDeadLettersCommand.clients = {
    cloudformation: new CloudFormationClient({ region: 'us-east-1' }), s3: new S3Client({ region: 'us-east-1' }), sqs: new SQSClient({ region: 'us-east-1' }),
    ...(deliver ? { deliver } : {}),
  };
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(['replay-dead-letters', ...args], { stdout: t => out.push(t), stderr: t => err.push(t), env: { AWS_REGION: 'us-east-1' } });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

const offsetsOf = (event: MskEvent) => Object.values(event.records).flat().map(r => String(r.offset));

test('replay-dead-letters --stack S replays the queue\'s letters into the store and deletes each message after its batch, leaving other views\' letters', async () => {
  const v = view('queued');
  const other = view('queuedother');
  const queue = fakeQueue();
  const letters = await deadLetterEverything(v, queue);
  await deadLetterEverything(other, queue);
  stackWithQueue();
  const delivered: string[] = [];
  // The fixture's changes are from 2020: older than any tombstone retention, replayed on purpose (no deletes in it for 110).
  const { code, out, err } = await run(['--stack', 'S', '--view', v.name, '--batch-size', '5', '--max-age', '1000000'],
    fn => event => { delivered.push(fn, ...offsetsOf(event)); return sink(v)(event); });

  expect(err).toBe('');
  expect(out).toMatch(new RegExp(`^Replayed ${letters} of ${letters} dead letter\\(s\\) from ${QUEUE.replace(/[./]/g, '\\$&')} through stack-sink-fn in ${Math.ceil(letters / 5)} batch\\(es\\): .* 0 dead-lettered again; ${letters} message\\(s\\) deleted\\.`));
  expect(out).toMatch(/Left in the queue: 0 message\(s\) sent after the replay began .*, \d+ of other views\./);
  expect(code).toBe(0);
  expect(delivered.filter(d => d === 'stack-sink-fn')).toHaveLength(Math.ceil(letters / 5));
  expect((await readCacheRecord(cache.redis, v, { id: 110 }))?.row).toMatchObject({ description: 'new water resistent white wind breaker', weight: 0.5 });
  expect(await readCacheRecord(cache.redis, other, { id: 110 })).toBeUndefined();
  // Only the other view's letters remain, visible again for the next run.
  expect([...queue.messages.values()].every(m => JSON.parse(m.body).view === other.name)).toBe(true);
  expect(queue.visible()).toHaveLength(queue.messages.size);
  // Received up to 10 at a time with a short long-poll, hidden for the sink's timeout (900 s by default) and a minute.
  for (const c of sqsMock.commandCalls(ReceiveMessageCommand)) {
    expect(c.args[0].input).toMatchObject({ QueueUrl: QUEUE, MaxNumberOfMessages: 10, WaitTimeSeconds: 1, VisibilityTimeout: 960, MessageSystemAttributeNames: ['SentTimestamp'] });
  }
  expect(sqsMock.commandCalls(DeleteMessageBatchCommand).every(c => c.args[0].input.Entries!.length <= 10)).toBe(true);
});

test('letters the sink dead-letters again, and any message sent after the replay began, are neither replayed nor deleted', async () => {
  const v = view('again');
  const queue = fakeQueue();
  const letters = await deadLetterEverything(v, queue);
  const original = new Set(queue.messages.keys());
  const stillBroken: BatchWriter = async (_view, records) => ({ written: 0, stale: 0, failed: records.map(record => ({ record, error: 'WRONGTYPE (not fixed)' })) });
  const delivered: string[] = [];
  let newFailure: string | undefined;
  const summary = await replayQueueDeadLetters(new SQSClient({ region: 'us-east-1' }), {
    queueUrl: QUEUE, batchSize: 4, maxAgeMs: Infinity,
    deliver: async event => {
      delivered.push(...offsetsOf(event));
      if (delivered.length > 3 * letters) throw new Error('replayed in a loop');
      // A new failure of the live sink arrives while the replay runs.
      newFailure ??= queue.add(sqsBody(deadLetterOf(v.name, { topic: v.topic, partition: 0, offset: 999, timestamp: Date.now(), key: null, value: null }, 'new', 'write', Date.now())));
      return sink(v, stillBroken)(event);
    },
  });

  // Each original letter went through the sink once; the copies it sent back (after the start) were not received as letters.
  expect(delivered).toHaveLength(letters);
  expect(new Set(delivered).size).toBe(letters);
  expect(summary).toMatchObject({ letters, deadLettered: letters, deleted: letters, sentAfterStart: letters + 1 });
  expect([...queue.messages.keys()].some(id => original.has(id))).toBe(false);
  expect(queue.messages.size).toBe(letters + 1);
  expect(queue.messages.has(newFailure!)).toBe(true);
  expect(queue.visible()).toHaveLength(letters + 1);
  const deletedHandles = sqsMock.commandCalls(DeleteMessageBatchCommand).flatMap(c => c.args[0].input.Entries!.map(e => e.ReceiptHandle!.split('#')[0]));
  expect(deletedHandles.every(id => original.has(id))).toBe(true);
});

test('letters that lost their value or key to the SQS size limit are left in the queue and reported with resnapshot, never re-driven', async () => {
  const v = view('cut');
  const queue = fakeQueue();
  const letters = await deadLetterEverything(v, queue);
  const big = (offset: number, key: string | null, value: string) => sqsBody(deadLetterOf(v.name,
    { topic: v.topic, partition: 0, offset, timestamp: Date.now(), key, value }, 'document too large', 'write', Date.now()));
  const valueCut = queue.add(big(500, Buffer.from('{"id":500}').toString('base64'), 'x'.repeat(300_000)), Date.now() - 60_000);
  const keyCut = queue.add(big(501, 'k'.repeat(300_000), 'v'), Date.now() - 60_000);
  // The event source mapping's record of a batch it gave up on: an SQS destination gets the batch's coordinates, not its records.
  const batchRecord = queue.add(JSON.stringify({ requestContext: { condition: 'RetryAttemptsExhausted' }, KafkaBatchInfo: { topic: v.topic, partition: 0, startOffset: 600, endOffset: 610 } }), Date.now() - 60_000);
  expect(JSON.parse(queue.messages.get(valueCut)!.body)).toMatchObject({ value: null, valueOmitted: true });
  expect(JSON.parse(queue.messages.get(keyCut)!.body)).toMatchObject({ key: null, keyOmitted: true });
  const delivered: string[] = [];
  const { code, out, err } = await run(['--queue', QUEUE, '--function', 'fn', '--view', v.name, '--max-age', '1000000'],
    () => event => { delivered.push(...offsetsOf(event)); return sink(v)(event); });

  expect(code).toBe(1);
  expect(out).toMatch(new RegExp(`^Replayed ${letters} of ${letters + 2} dead letter\\(s\\) .*; ${letters} message\\(s\\) deleted\\.`));
  expect(err).toMatch(new RegExp(`2 letter\\(s\\) of view\\(s\\) ${v.name} lost their value or key to SQS's 256 KiB message limit and were not replayed .*`
    + `agent-data-stack resnapshot --view ${v.name}; then delete the messages \\(${v.topic}/0@500 message ${valueCut}, ${v.topic}/0@501 message ${keyCut}\\)`));
  expect(err).toMatch(new RegExp(`1 message\\(s\\) are not letters written by the sink .*: ${batchRecord}\\. A record of a whole batch the event source mapping gave up on`));
  expect(delivered).not.toContain('500');
  expect(delivered).not.toContain('501');
  expect([...queue.messages.keys()].sort()).toEqual([valueCut, keyCut, batchRecord].sort());
  expect(queue.visible()).toHaveLength(3);
});

test('a batch the deployed sink fails (Invoke answers 200 with X-Amz-Function-Error) deletes nothing and exits 2 with the sink\'s error', async () => {
  const v = view('failing');
  const queue = fakeQueue();
  const letters = await deadLetterEverything(v, queue);
  const before = [...queue.messages.keys()];
  stackWithQueue();
  const env = { AWS_ACCESS_KEY_ID: process.env.AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY: process.env.AWS_SECRET_ACCESS_KEY };
  Object.assign(process.env, { AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE', AWS_SECRET_ACCESS_KEY: 'secret' });
  const invoked: string[] = [];
  // Lambda's documented answer to a RequestResponse Invoke whose function failed: HTTP 200, X-Amz-Function-Error, the error as payload.
  jest.spyOn(global, 'fetch').mockImplementation(async input => {
    invoked.push(String(input));
    return new Response(JSON.stringify({ errorType: 'ReplyError', errorMessage: 'WRONGTYPE Operation against a key holding the wrong kind of value', trace: [] }),
      { status: 200, headers: { 'X-Amz-Function-Error': 'Unhandled', 'X-Amz-Executed-Version': '$LATEST', 'Content-Type': 'application/json' } });
  });
  let result: Awaited<ReturnType<typeof run>>;
  try {
    result = await run(['--stack', 'S', '--max-age', '1000000']);
  } finally {
    for (const [k, val] of Object.entries(env)) if (val === undefined) delete process.env[k]; else process.env[k] = val;
  }

  expect(result.code).toBe(2);
  expect(invoked).toEqual(['https://lambda.us-east-1.amazonaws.com/2015-03-31/functions/stack-sink-fn/invocations']);
  expect(result.err).toMatch(new RegExp(`The sink failed the replayed batch .*WRONGTYPE.* \\(${letters} letter\\(s\\) of that batch and after were left in the queue, none of them deleted\\)`));
  expect(result.out).toMatch(/^Replayed 0 of \d+ dead letter\(s\) .* 0 message\(s\) deleted\./);
  expect(sqsMock.commandCalls(DeleteMessageBatchCommand)).toHaveLength(0);
  expect([...queue.messages.keys()]).toEqual(before);
  expect(queue.visible()).toHaveLength(before.length);
});

test('messages DeleteMessageBatch reports as Failed are named, stay in the queue, and the command exits 1', async () => {
  const v = view('undeleted');
  const queue = fakeQueue();
  const letters = await deadLetterEverything(v, queue);
  const stuck = [...queue.messages.keys()][1];
  sqsMock.on(DeleteMessageBatchCommand).callsFake(input => {
    const Successful: { Id: string }[] = [];
    const Failed: { Id: string; SenderFault: boolean; Code: string; Message: string }[] = [];
    for (const e of input.Entries as { Id: string; ReceiptHandle: string }[]) {
      const id = e.ReceiptHandle.split('#')[0];
      if (id === stuck) Failed.push({ Id: e.Id, SenderFault: false, Code: 'InternalError', Message: 'We encountered an internal error. Please try again.' });
      else {
        queue.messages.delete(id);
        Successful.push({ Id: e.Id });
      }
    }
    return { Successful, Failed };
  });
  const { code, out, err } = await run(['--queue', QUEUE, '--function', 'fn', '--max-age', '1000000'], () => sink(v));

  expect(code).toBe(1);
  expect(out).toMatch(new RegExp(`^Replayed ${letters} of ${letters} .*; ${letters - 1} message\\(s\\) deleted\\.`));
  expect(err).toMatch(new RegExp(`1 replayed message\\(s\\) were not deleted \\(DeleteMessageBatch: ${stuck} InternalError: We encountered an internal error\\. Please try again\\.\\): they stay in the queue\\. Run the command again`));
  expect([...queue.messages.keys()]).toEqual([stuck]);
  expect(await readCacheRecord(cache.redis, v, { id: 110 })).toBeDefined();
});

test('queue letters older than --max-age are left in the queue like bucket letters, naming resnapshot and --max-age', async () => {
  const v = view('queueold');
  const queue = fakeQueue();
  const letters = await deadLetterEverything(v, queue);
  const { code, err } = await run(['--queue', QUEUE, '--function', 'fn', '--view', v.name], () => sink(v));

  expect(code).toBe(1);
  expect(err).toMatch(new RegExp(`${letters} letter\\(s\\) of view\\(s\\) ${v.name} are older than 24 h and were not replayed \\(left in the queue\\).*agent-data-stack resnapshot --view ${v.name}.*--max-age`, 's'));
  expect(queue.messages.size).toBe(letters);
  expect(sqsMock.commandCalls(DeleteMessageBatchCommand)).toHaveLength(0);
  expect(await readCacheRecord(cache.redis, v, { id: 110 })).toBeUndefined();
});

test('a batch that waited past its visibility is hidden again (ChangeMessageVisibility) before the sink is invoked for it', async () => {
  const v = view('slow');
  const queue = fakeQueue();
  await deadLetterEverything(v, queue);
  let clock = Date.now();
  const hidden: number[] = [];
  const summary = await replayQueueDeadLetters(new SQSClient({ region: 'us-east-1' }), {
    queueUrl: QUEUE, batchSize: 100, maxBatchBytes: 2_000, maxAgeMs: Infinity, sinkTimeoutSeconds: 30, now: () => clock,
    deliver: async event => {
      hidden.push(sqsMock.commandCalls(ChangeMessageVisibilityBatchCommand).length);
      clock += 40_000; // each delivery takes 40 s of the 90 s the messages were hidden for
      return sink(v)(event);
    },
  });
  expect(summary.batches).toBeGreaterThan(2);
  // The first batch fits its first 90 s; later ones are re-hidden for the sink's 30 s and the minute before their delivery.
  expect(hidden[0]).toBe(0);
  expect(hidden[hidden.length - 1]).toBeGreaterThan(0);
  expect(sqsMock.commandCalls(ChangeMessageVisibilityBatchCommand).every(c => c.args[0].input.Entries!.every(e => e.VisibilityTimeout === 90))).toBe(true);
});
