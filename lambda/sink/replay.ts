// Replays dead letters (the S3 objects S3DeadLetterSink writes) through the sink's processing path, after the cause is fixed.
import { GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import type { MskEvent, MskEventRecord } from '../shared/envelope';
import type { DeadLetter } from './dead-letter';
import type { BatchSummary } from './process';

/** What a replay from the bucket and one from the queue share: which letters, how they are batched, where they go. */
export interface ReplayCommonOptions {
  /** Only this view's letters; the others are left. @default - every view's letters */
  readonly view?: string;
  /** Records per delivered batch. @default 100 */
  readonly batchSize?: number;
  /** Bytes of one delivered batch as JSON. @default REPLAY_MAX_BATCH_BYTES (under Lambda's 6 MB synchronous payload) */
  readonly maxBatchBytes?: number;
  /**
   * Letters of records older than this (Kafka timestamp, else the time they failed) are held back, not delivered: a row
   * deleted after the record's change keeps its delete tombstone only for the view's tombstone retention (cache
   * `tombstoneTtl`, 7 days by default; search `deleteTombstoneRetention`, 1 day by default), so after that the old change
   * would be written as new and bring the deleted row back. Their tables are re-snapshotted instead.
   * @default DEFAULT_REPLAY_MAX_AGE_MS (1 day, the search default)
   */
  readonly maxAgeMs?: number;
  readonly now?: () => number;
  /** Runs one MSK-shaped batch through the sink (the deployed function, or `processBatch` in tests). */
  readonly deliver: (event: MskEvent) => Promise<BatchSummary>;
}

export interface ReplayOptions extends ReplayCommonOptions {
  readonly bucket: string;
  /** Letters under this prefix (`<prefix><view>/...`). @default 'dead-letter/' (S3DeadLetterSink's prefix) */
  readonly prefix?: string;
}

export interface ReplaySummary extends BatchSummary {
  readonly letters: number;
  readonly batches: number;
  /** Letters held back as older than `maxAgeMs`, and their views. */
  readonly tooOld: number;
  readonly tooOldViews: string[];
}

/** The shortest default tombstone retention of the stores (search's `deleteTombstoneRetention`). */
export const DEFAULT_REPLAY_MAX_AGE_MS = 24 * 3600 * 1000;

/**
 * Lambda refuses a synchronous Invoke whose payload exceeds 6 MB (6,291,456 bytes: RequestEntityTooLargeException); a
 * batch is kept 64 KiB under it. https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html
 */
export const REPLAY_MAX_BATCH_BYTES = 6 * 1024 * 1024 - 64 * 1024;

/** The oldest a letter may be to be replayed (ms since the epoch): now less `maxAgeMs`. Shared by the bucket and queue replays. */
export function replayCutoffMs(options: { readonly maxAgeMs?: number; readonly now?: () => number }): number {
  return (options.now ?? Date.now)() - (options.maxAgeMs ?? DEFAULT_REPLAY_MAX_AGE_MS);
}

/** Whether a letter's record (its Kafka timestamp, else the time it failed) is older than the cutoff: see `ReplayOptions.maxAgeMs`. */
export function isTooOld(l: DeadLetter, oldestMs: number): boolean {
  return (l.timestamp ?? l.failedAtMs) < oldestMs;
}

/** Adds one delivered batch's summary to the running totals. */
export function addBatchSummary(total: { batches: number } & { -readonly [K in keyof BatchSummary]: number }, summary: BatchSummary): void {
  total.batches += 1;
  total.received += summary.received;
  total.written += summary.written;
  total.stale += summary.stale;
  total.skipped += summary.skipped;
  total.deadLettered += summary.deadLettered;
}

/**
 * Consecutive runs of `letters` of at most `maxRecords` whose records' JSON (plus their group key) sums to at most `maxBytes`.
 * Records that fail are often the large ones (a document the store refused as too large), so a count alone would overflow.
 */
export function replayBatches(letters: readonly DeadLetter[], maxRecords: number, maxBytes = REPLAY_MAX_BATCH_BYTES): DeadLetter[][] {
  const batches: DeadLetter[][] = [];
  let current: DeadLetter[] = [];
  let bytes = 0;
  for (const l of letters) {
    const size = Buffer.byteLength(JSON.stringify(l)) + Buffer.byteLength(l.topic) + 32;
    if (current.length > 0 && (current.length >= maxRecords || bytes + size > maxBytes)) {
      batches.push(current);
      current = [];
      bytes = 0;
    }
    current.push(l);
    bytes += size;
  }
  if (current.length > 0) batches.push(current);
  return batches;
}

/** Every dead-letter object key under the prefix (and view), page by page. */
export async function listDeadLetterKeys(s3: S3Client, bucket: string, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
    for (const o of page.Contents ?? []) if (o.Key?.endsWith('.json')) keys.push(o.Key);
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return keys;
}

export async function readDeadLetter(s3: S3Client, bucket: string, key: string): Promise<DeadLetter> {
  const out = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  const text = await out.Body?.transformToString('utf8');
  const letter = text ? JSON.parse(text) as DeadLetter : undefined;
  if (!letter || typeof letter.topic !== 'string' || letter.offset === undefined) {
    throw new Error(`s3://${bucket}/${key} is not a dead letter written by the sink (no topic/offset).`);
  }
  return letter;
}

/** The letters as the event source delivered them: grouped by `<topic>-<partition>`, base64 key and value as stored, in offset order. */
export function deadLetterEvent(letters: readonly DeadLetter[]): MskEvent {
  const records: Record<string, MskEventRecord[]> = {};
  const sorted = [...letters].sort((a, b) => a.topic.localeCompare(b.topic) || a.partition - b.partition
    || (BigInt(a.offset) < BigInt(b.offset) ? -1 : BigInt(a.offset) > BigInt(b.offset) ? 1 : 0));
  for (const l of sorted) {
    (records[`${l.topic}-${l.partition}`] ??= []).push({
      topic: l.topic, partition: l.partition, offset: l.offset, timestamp: l.timestamp, key: l.key, value: l.value,
    });
  }
  return { eventSource: 'aws:kafka', records };
}

/**
 * Reads the dead letters and delivers them in batches. Replaying is safe to repeat: the sink's versioned writes keep
 * the newest change (within the tombstone retention: older letters are held back, see `maxAgeMs`), and a letter that
 * fails again is written back to the same key by the sink. Letters are left in the bucket (its lifecycle expires them).
 */
export async function replayDeadLetters(s3: S3Client, options: ReplayOptions): Promise<ReplaySummary> {
  const prefix = `${options.prefix ?? 'dead-letter/'}${options.view !== undefined ? `${encodeURIComponent(options.view)}/` : ''}`;
  const keys = await listDeadLetterKeys(s3, options.bucket, prefix);
  const batchSize = options.batchSize ?? 100;
  const oldest = replayCutoffMs(options);
  const tooOldViews = new Set<string>();
  const total = { letters: keys.length, batches: 0, received: 0, written: 0, stale: 0, skipped: 0, deadLettered: 0, tooOld: 0 };
  for (let i = 0; i < keys.length; i += batchSize) {
    const letters = (await Promise.all(keys.slice(i, i + batchSize).map(k => readDeadLetter(s3, options.bucket, k)))).filter(l => {
      if (!isTooOld(l, oldest)) return true;
      total.tooOld += 1;
      tooOldViews.add(l.view);
      return false;
    });
    for (const batch of replayBatches(letters, batchSize, options.maxBatchBytes)) {
      addBatchSummary(total, await options.deliver(deadLetterEvent(batch)));
    }
  }
  return { ...total, tooOldViews: [...tooOldViews].sort() };
}
