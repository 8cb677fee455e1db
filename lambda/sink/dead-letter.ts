// Dead-letter destinations for records the sink cannot decode or write: an S3 object or an SQS message per record, carrying the full Kafka record and the error.
import type { S3Client } from '@aws-sdk/client-s3';
import type { SendMessageBatchRequestEntry, SQSClient } from '@aws-sdk/client-sqs';
import type { MskEventRecord } from '../shared/envelope';

/**
 * The AWS SDK clients, loaded on first use rather than when the bundle loads (most batches have no dead letters, and a
 * deployment uses one of the two). `require`, not `import()`: the SDK stays external to the bundle and is resolved
 * through NODE_PATH, where the Lambda runtime provides it; a dynamic `import()` of an external package is resolved
 * as an ES module, which ignores NODE_PATH.
 */
export const sdk = {
  s3: () => require('@aws-sdk/client-s3') as typeof import('@aws-sdk/client-s3'),
  sqs: () => require('@aws-sdk/client-sqs') as typeof import('@aws-sdk/client-sqs'),
};

export interface DeadLetter {
  readonly view: string;
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
  readonly timestamp?: number;
  /** Base64 as delivered by the event source (null when the record had none). */
  readonly key: string | null;
  readonly value: string | null;
  readonly error: string;
  /**
   * `decode` (the record cannot be understood), `schema` (the row no longer matches the view's declared fields: a column was
   * dropped, renamed or retyped upstream) or `write` (the store refused it after retries).
   */
  readonly stage: 'decode' | 'schema' | 'write';
  readonly failedAtMs: number;
}

export interface DeadLetterSink {
  /** Persists every letter or throws: the caller fails the batch rather than lose a record. */
  send(letters: readonly DeadLetter[]): Promise<void>;
}

export function deadLetterOf(view: string, rec: MskEventRecord, error: string, stage: DeadLetter['stage'], nowMs: number): DeadLetter {
  return {
    view,
    topic: rec.topic,
    partition: rec.partition,
    offset: String(rec.offset),
    timestamp: rec.timestamp,
    key: rec.key ?? null,
    value: rec.value ?? null,
    error,
    stage,
    failedAtMs: nowMs,
  };
}

/** One object per record under `<prefix><view>/<topic>/<partition>/<offset>.json`: a retried batch overwrites, never duplicates. */
export class S3DeadLetterSink implements DeadLetterSink {
  constructor(private readonly s3: S3Client, private readonly bucket: string, private readonly prefix = 'dead-letter/') {}

  async send(letters: readonly DeadLetter[]): Promise<void> {
    // Loaded on the first dead letter, not at cold start: most batches have none.
    const { PutObjectCommand } = sdk.s3();
    await Promise.all(letters.map(l => this.s3.send(new PutObjectCommand({
      Bucket: this.bucket,
      Key: `${this.prefix}${encodeURIComponent(l.view)}/${encodeURIComponent(l.topic)}/${l.partition}/${l.offset}.json`,
      Body: JSON.stringify(l),
      ContentType: 'application/json',
    }))));
  }
}

/** SQS bodies are limited to 256 KiB: a value that does not fit is left out (the S3 destination keeps everything). */
export const SQS_MAX_BODY_BYTES = 256 * 1024;

/**
 * SendMessageBatch takes at most 10 entries, and the sum of their sizes may not exceed the size of one message: more fails the
 * whole request with BatchRequestTooLong. 256 KiB is the older limit (SQS now allows up to 1 MiB) and fits both.
 * https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_SendMessageBatch.html
 */
export const SQS_MAX_BATCH_ENTRIES = 10;
export const SQS_MAX_BATCH_BYTES = SQS_MAX_BODY_BYTES;

/** The size SQS counts for an entry: its body and each message attribute's name, data type and value, in UTF-8 bytes. */
export function sqsEntryBytes(entry: SendMessageBatchRequestEntry): number {
  let bytes = Buffer.byteLength(entry.MessageBody ?? '', 'utf8');
  for (const [name, attr] of Object.entries(entry.MessageAttributes ?? {})) {
    bytes += Buffer.byteLength(name, 'utf8') + Buffer.byteLength(attr.DataType ?? '', 'utf8');
    bytes += attr.StringValue !== undefined ? Buffer.byteLength(attr.StringValue, 'utf8') : (attr.BinaryValue?.length ?? 0);
  }
  return bytes;
}

/**
 * Consecutive runs of `entries`, in order, each with at most `maxEntries` entries whose sizes sum to at most `maxBytes`: an
 * entry that does not fit the current run starts the next, so an entry at the limit goes alone.
 */
export function sqsBatches<T extends SendMessageBatchRequestEntry>(
  entries: readonly T[], maxEntries = SQS_MAX_BATCH_ENTRIES, maxBytes = SQS_MAX_BATCH_BYTES,
): T[][] {
  const batches: T[][] = [];
  let current: T[] = [];
  let bytes = 0;
  for (const entry of entries) {
    const size = sqsEntryBytes(entry);
    if (current.length > 0 && (current.length >= maxEntries || bytes + size > maxBytes)) {
      batches.push(current);
      current = [];
      bytes = 0;
    }
    current.push(entry);
    bytes += size;
  }
  if (current.length > 0) batches.push(current);
  return batches;
}

export class SqsDeadLetterSink implements DeadLetterSink {
  constructor(private readonly sqs: SQSClient, private readonly queueUrl: string) {}

  async send(letters: readonly DeadLetter[]): Promise<void> {
    const { SendMessageBatchCommand } = sdk.sqs();
    const entries = letters.map((l, i) => ({ Id: String(i), MessageBody: sqsBody(l) }));
    for (const batch of sqsBatches(entries)) {
      const out = await this.sqs.send(new SendMessageBatchCommand({ QueueUrl: this.queueUrl, Entries: batch }));
      if (out.Failed && out.Failed.length > 0) {
        throw new Error(`dead-letter queue refused ${out.Failed.length} message(s): ${out.Failed.map(f => f.Message ?? f.Code).join('; ')}`);
      }
    }
  }
}

/** The longest error message an SQS letter keeps once its value and key are left out (the rest is cut, marked). */
export const SQS_MAX_ERROR_CHARS = 16 * 1024;

/**
 * The letter as JSON, within SQS_MAX_BODY_BYTES: whole when it fits; else without its value (`valueOmitted`, `valueBytes`);
 * else without its key too (`keyOmitted`, `keyBytes`); else with its error message cut to SQS_MAX_ERROR_CHARS. A letter SQS
 * refuses would fail the batch on every retry, blocking the partition. The coordinates (topic, partition, offset) always
 * stay, so the record can be read again from Kafka while it is retained.
 */
export function sqsBody(l: DeadLetter): string {
  const full = JSON.stringify(l);
  if (Buffer.byteLength(full) <= SQS_MAX_BODY_BYTES) return full;
  const noValue = { ...l, value: null, valueOmitted: true, valueBytes: l.value ? Buffer.byteLength(l.value) : 0 };
  const withoutValue = JSON.stringify(noValue);
  if (Buffer.byteLength(withoutValue) <= SQS_MAX_BODY_BYTES) return withoutValue;
  const noKey = { ...noValue, key: null, keyOmitted: true, keyBytes: l.key ? Buffer.byteLength(l.key) : 0 };
  const withoutKey = JSON.stringify(noKey);
  if (Buffer.byteLength(withoutKey) <= SQS_MAX_BODY_BYTES) return withoutKey;
  return JSON.stringify({ ...noKey, error: `${l.error.slice(0, SQS_MAX_ERROR_CHARS)}... (cut from ${l.error.length} characters)` });
}
