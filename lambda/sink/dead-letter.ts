// Dead-letter destinations for records the sink cannot decode or write: an S3 object or an SQS message per record, carrying the full Kafka record and the error.
import type { S3Client } from '@aws-sdk/client-s3';
import type { SQSClient } from '@aws-sdk/client-sqs';
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

export class SqsDeadLetterSink implements DeadLetterSink {
  constructor(private readonly sqs: SQSClient, private readonly queueUrl: string) {}

  async send(letters: readonly DeadLetter[]): Promise<void> {
    const { SendMessageBatchCommand } = sdk.sqs();
    const bodies = letters.map(l => {
      const full = JSON.stringify(l);
      if (Buffer.byteLength(full) <= SQS_MAX_BODY_BYTES) return full;
      return JSON.stringify({ ...l, value: null, valueOmitted: true, valueBytes: l.value ? Buffer.byteLength(l.value) : 0 });
    });
    for (let i = 0; i < bodies.length; i += 10) {
      const chunk = bodies.slice(i, i + 10);
      const out = await this.sqs.send(new SendMessageBatchCommand({
        QueueUrl: this.queueUrl,
        Entries: chunk.map((body, j) => ({ Id: String(i + j), MessageBody: body })),
      }));
      if (out.Failed && out.Failed.length > 0) {
        throw new Error(`dead-letter queue refused ${out.Failed.length} message(s): ${out.Failed.map(f => f.Message ?? f.Code).join('; ')}`);
      }
    }
  }
}
