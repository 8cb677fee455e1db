// The SQS dead-letter destination against a mock queue that enforces SendMessageBatch's limits (at most 10 entries, and the
// sum of the entries' sizes at most the size of one message): every letter is sent exactly once, in order, in calls the
// queue accepts; a batch the queue refuses, wholly or in part, fails the send.
import { BatchRequestTooLong, SendMessageBatchCommand, SQSClient, TooManyEntriesInBatchRequest, type SendMessageBatchRequestEntry } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { sqsBatches, sqsEntryBytes, SqsDeadLetterSink, SQS_MAX_BODY_BYTES, type DeadLetter } from '../../lambda/sink/dead-letter';

const sqsMock = mockClient(SQSClient);
const QUEUE = 'https://sqs.us-east-1.amazonaws.com/123456789012/dlq';
/** The limit the sink holds to: 256 KiB a message, and the same for the sum of one request's messages. */
const LIMIT = 256 * 1024;

/** What SQS counts for an entry, measured here independently of the sink: the body and each attribute's name, type and value, in UTF-8. */
function entryBytes(e: SendMessageBatchRequestEntry): number {
  let n = Buffer.byteLength(e.MessageBody ?? '', 'utf8');
  for (const [name, a] of Object.entries(e.MessageAttributes ?? {})) {
    n += Buffer.byteLength(name, 'utf8') + Buffer.byteLength(a.DataType ?? '', 'utf8');
    n += a.StringValue !== undefined ? Buffer.byteLength(a.StringValue, 'utf8') : (a.BinaryValue?.length ?? 0);
  }
  return n;
}

/** The mock queue: refuses a request over either limit as SQS does, and records what it accepted. */
function enforcingQueue(): SendMessageBatchRequestEntry[][] {
  const accepted: SendMessageBatchRequestEntry[][] = [];
  sqsMock.on(SendMessageBatchCommand).callsFake(input => {
    const entries: SendMessageBatchRequestEntry[] = input.Entries ?? [];
    if (entries.length > 10) {
      throw new TooManyEntriesInBatchRequest({ message: `Maximum number of entries per request are 10. You have sent ${entries.length}.`, $metadata: { httpStatusCode: 400 } });
    }
    const total = entries.reduce((n, e) => n + entryBytes(e), 0);
    if (total > LIMIT) {
      throw new BatchRequestTooLong({ message: `Batch requests cannot be longer than ${LIMIT} bytes. You have sent ${total} bytes.`, $metadata: { httpStatusCode: 400 } });
    }
    accepted.push(entries);
    return { Successful: entries.map(e => ({ Id: e.Id!, MessageId: `m-${e.Id}`, MD5OfMessageBody: 'x' })), Failed: [] };
  });
  return accepted;
}

function letter(offset: number, value: string | null, error = 'e'): DeadLetter {
  return { view: 'v', topic: 't', partition: 0, offset: String(offset), key: null, value, error, stage: 'decode', failedAtMs: 1 };
}

/** A letter whose JSON body is `bytes` long (ASCII value). */
function letterOfBodyBytes(offset: number, bytes: number): DeadLetter {
  const empty = Buffer.byteLength(JSON.stringify(letter(offset, '')));
  return letter(offset, 'x'.repeat(bytes - empty));
}

const offsetsOf = (calls: SendMessageBatchRequestEntry[][]) => calls.map(c => c.map(e => (JSON.parse(e.MessageBody!) as DeadLetter).offset));
const send = (letters: DeadLetter[]) => new SqsDeadLetterSink(new SQSClient({}), QUEUE).send(letters);

beforeEach(() => sqsMock.reset());

test('the sink holds to the documented per-message size', () => {
  expect(SQS_MAX_BODY_BYTES).toBe(LIMIT);
});

test('many small letters go ten to a call', async () => {
  const accepted = enforcingQueue();
  const letters = Array.from({ length: 25 }, (_, i) => letter(i, Buffer.from(`{"i":${i}}`).toString('base64')));
  await send(letters);
  expect(accepted.map(c => c.length)).toEqual([10, 10, 5]);
  expect(offsetsOf(accepted).flat()).toEqual(letters.map(l => l.offset));
});

test('two letters of 133 KB each, which fit one message each but not one request together, go in two calls', async () => {
  const accepted = enforcingQueue();
  await send([letter(1, 'a'.repeat(133 * 1024)), letter(2, 'b'.repeat(133 * 1024))]);
  expect(offsetsOf(accepted)).toEqual([['1'], ['2']]);
  expect(accepted.flat().every(e => (JSON.parse(e.MessageBody!) as DeadLetter).value!.length === 133 * 1024)).toBe(true);
});

test('letters of mixed sizes: no call over either limit, the order kept, every letter sent exactly once', async () => {
  const accepted = enforcingQueue();
  const kb = [100, 5, 200, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 60, 250, 30, 30, 30, 30, 30, 30, 30, 30, 30, 0.1, 120, 130, 7];
  const letters = kb.map((k, i) => letter(i, 'v'.repeat(Math.round(k * 1024))));
  await send(letters);
  for (const call of accepted) {
    expect(call.length).toBeLessThanOrEqual(10);
    expect(call.reduce((n, e) => n + entryBytes(e), 0)).toBeLessThanOrEqual(LIMIT);
    expect(new Set(call.map(e => e.Id)).size).toBe(call.length);
  }
  expect(offsetsOf(accepted).flat()).toEqual(letters.map(l => l.offset));
  expect(accepted.flat().map(e => (JSON.parse(e.MessageBody!) as DeadLetter).value!.length)).toEqual(letters.map(l => l.value!.length));
  expect(accepted.map(c => c.length)).toEqual([2, 10, 2, 1, 8, 3, 2]);
});

test('sizes are counted in UTF-8 bytes, not characters', async () => {
  const accepted = enforcingQueue();
  // 70,000 characters of 'é' is 140,000 bytes: two such letters are 140,000 characters but 280,000 bytes.
  await send([letter(1, null, 'é'.repeat(70_000)), letter(2, null, 'é'.repeat(70_000))]);
  expect(offsetsOf(accepted)).toEqual([['1'], ['2']]);
});

test('a letter at the per-message limit goes alone, whole', async () => {
  const accepted = enforcingQueue();
  const atLimit = letterOfBodyBytes(2, SQS_MAX_BODY_BYTES);
  expect(Buffer.byteLength(JSON.stringify(atLimit))).toBe(SQS_MAX_BODY_BYTES);
  await send([letter(1, 'c2hvcnQ='), atLimit, letter(3, 'c2hvcnQ=')]);
  expect(offsetsOf(accepted)).toEqual([['1'], ['2'], ['3']]);
  expect(JSON.parse(accepted[1][0].MessageBody!)).toEqual(atLimit);
});

test('a letter one byte over the per-message limit keeps its coordinates and leaves the value out, with its size', async () => {
  const accepted = enforcingQueue();
  const over = letterOfBodyBytes(2, SQS_MAX_BODY_BYTES + 1);
  await send([letter(1, 'c2hvcnQ='), over]);
  expect(offsetsOf(accepted)).toEqual([['1', '2']]);
  expect(JSON.parse(accepted[0][1].MessageBody!)).toMatchObject({ offset: '2', value: null, valueOmitted: true, valueBytes: over.value!.length });
});

test('entries the queue reports as Failed fail the send, and the letters after them are not sent', async () => {
  let calls = 0;
  sqsMock.on(SendMessageBatchCommand).callsFake(input => {
    calls++;
    const [first, ...rest] = input.Entries as SendMessageBatchRequestEntry[];
    return { Successful: rest.map(e => ({ Id: e.Id!, MessageId: 'm', MD5OfMessageBody: 'x' })), Failed: [{ Id: first.Id!, Code: 'InternalError', SenderFault: false, Message: 'try again' }] };
  });
  const letters = Array.from({ length: 15 }, (_, i) => letter(i, 'eA=='));
  await expect(send(letters)).rejects.toThrow(/dead-letter queue refused 1 message\(s\): try again/);
  expect(calls).toBe(1);
});

test('a request the queue refuses fails the send rather than dropping the letters', async () => {
  sqsMock.on(SendMessageBatchCommand).rejects(new BatchRequestTooLong({ message: 'too long', $metadata: {} }));
  await expect(send([letter(1, 'eA==')])).rejects.toThrow(/too long/);
});

test('message attributes count toward an entry\'s size: name, data type and value', () => {
  const withAttrs: SendMessageBatchRequestEntry = {
    Id: '0', MessageBody: 'é', MessageAttributes: { stage: { DataType: 'String', StringValue: 'décode' }, raw: { DataType: 'Binary', BinaryValue: new Uint8Array(5) } },
  };
  expect(sqsEntryBytes(withAttrs)).toBe(2 + (5 + 6 + 7) + (3 + 6 + 5));
  expect(sqsEntryBytes(withAttrs)).toBe(entryBytes(withAttrs));
  const half = { Id: 'a', MessageBody: 'x'.repeat(LIMIT / 2 - 10), MessageAttributes: { pad: { DataType: 'String', StringValue: 'x'.repeat(20) } } };
  expect(sqsBatches([half, { ...half, Id: 'b' }]).map(b => b.map(e => e.Id))).toEqual([['a'], ['b']]);
  expect(sqsBatches([{ ...half, MessageAttributes: undefined }, { ...half, Id: 'b', MessageAttributes: undefined }]).map(b => b.length)).toEqual([2]);
});

test('a letter too large even without its value leaves its key out, then cuts its error, so SQS takes it and the batch is not retried forever', async () => {
  const accepted = enforcingQueue();
  const bigKey = { ...letter(1, 'v'.repeat(200_000)), key: 'k'.repeat(300_000) };
  const bigError = { ...letter(2, 'v'.repeat(200_000), 'x'.repeat(400_000)), key: 'k'.repeat(300_000) };
  const small = letter(3, 'fits');
  await send([bigKey, bigError, small]);
  const bodies = accepted.flat().map(e => JSON.parse(e.MessageBody!));
  expect(bodies.map(b => b.offset)).toEqual(['1', '2', '3']);
  expect(bodies[0]).toMatchObject({ topic: 't', partition: 0, value: null, valueOmitted: true, valueBytes: 200_000, key: null, keyOmitted: true, keyBytes: 300_000, error: 'e' });
  expect(bodies[1]).toMatchObject({ key: null, keyOmitted: true, valueOmitted: true });
  expect(bodies[1].error).toMatch(/^x{16384}\.\.\. \(cut from 400000 characters\)$/);
  expect(bodies[2]).toEqual(small);
  for (const e of accepted.flat()) expect(entryBytes(e)).toBeLessThanOrEqual(LIMIT);
});
