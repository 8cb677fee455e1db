// Replays dead letters from the SQS queue SqsDeadLetterSink writes (SinkDeadLetter.queue()) through the sink, deleting each message only once the sink took it.
import {
  ChangeMessageVisibilityBatchCommand, DeleteMessageBatchCommand, ReceiveMessageCommand, type Message, type SQSClient,
} from '@aws-sdk/client-sqs';
import type { DeadLetter } from './dead-letter';
import { addBatchSummary, deadLetterEvent, isTooOld, replayBatches, replayCutoffMs, type ReplayCommonOptions, type ReplaySummary } from './replay';

/** `view`, `maxAgeMs` and the rest as for the bucket; letters not replayed are left in the queue. */
export interface QueueReplayOptions extends ReplayCommonOptions {
  readonly queueUrl: string;
  /**
   * The longest one delivery can take (the sink function's timeout), seconds: received messages stay hidden this long plus
   * a minute, and are hidden again before a delivery that might outlast that.
   * @default 900 (Lambda's largest timeout, so it covers any sink)
   */
  readonly sinkTimeoutSeconds?: number;
  /** ReceiveMessage's long-poll wait, seconds (above 0, so every SQS server is asked and an empty answer means empty). @default 1 */
  readonly waitTimeSeconds?: number;
}

/** A letter left in the queue, with what identifies its record. */
export interface LeftLetter {
  readonly messageId: string;
  readonly view: string;
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
}

export interface QueueReplaySummary extends ReplaySummary {
  /** Messages deleted after the sink took their letters. */
  readonly deleted: number;
  /** Letters whose value or key SQS could not carry (`valueOmitted`/`keyOmitted`): never re-driven, left in the queue. */
  readonly cut: LeftLetter[];
  /** Messages sent after the replay began (letters the sink dead-lettered again, or new failures): left for a later run. */
  readonly sentAfterStart: number;
  /** Messages of other views than `view`, left. */
  readonly otherViews: number;
  /** Messages that are not a dead letter (no topic/offset), left: their ids. */
  readonly unreadable: string[];
  /** Replayed messages DeleteMessageBatch did not delete (its `Failed` list): they stay, and a later replay re-drives them harmlessly. */
  readonly notDeleted: { readonly messageId: string; readonly code: string; readonly message?: string }[];
  /** The first delivery that failed (the sink's error): the run stopped there and its messages were not deleted. */
  readonly failure?: string;
  /** Messages left in the queue for the failure: the failed batch and everything received but not yet delivered. */
  readonly leftByFailure: number;
}

/** SQS's largest batch (DeleteMessageBatch, ChangeMessageVisibilityBatch) and ReceiveMessage's largest MaxNumberOfMessages. */
const SQS_BATCH = 10;
/** Time allowed, beyond the sink's timeout, for the calls around one delivery (visibility change, delete). */
const MARGIN_SECONDS = 60;

interface Received {
  readonly message: Message;
  /** When the message becomes visible again unless deleted (ms), as far as this run knows. */
  hiddenUntilMs: number;
}

/** The letter a message carries, and whether SQS's size limit cut its value or key out. */
function parseLetter(body: string | undefined): (DeadLetter & { valueOmitted?: boolean; keyOmitted?: boolean }) | undefined {
  try {
    const l = JSON.parse(body ?? '') as DeadLetter & { valueOmitted?: boolean; keyOmitted?: boolean };
    return l && typeof l.topic === 'string' && l.offset !== undefined && typeof l.view === 'string' ? l : undefined;
  } catch {
    return undefined;
  }
}

function chunks<T>(items: readonly T[], size = SQS_BATCH): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/**
 * Receives the queue's letters, delivers them to the sink in byte-bounded batches, and deletes a batch's messages only
 * after the sink returned for it (a record the sink fails again is sent by the sink as a new message). It stops at
 * messages sent after it began (SentTimestamp), so letters dead-lettered again are not replayed in a loop. Messages it
 * leaves (sent later, cut for size, too old, other views, after a failed delivery) stay hidden until the run ends, so it
 * does not receive them twice, and are then made visible again (ChangeMessageVisibility to 0).
 *
 * SentTimestamp is SQS's clock and the start is this machine's: with this clock ahead, a letter dead-lettered again
 * within the skew is replayed once more (harmless, the store keeps the newest version), never in a loop.
 */
export async function replayQueueDeadLetters(sqs: SQSClient, options: QueueReplayOptions): Promise<QueueReplaySummary> {
  const now = options.now ?? Date.now;
  const startMs = now();
  const oldest = replayCutoffMs(options);
  const batchSize = options.batchSize ?? 100;
  const hiddenSeconds = (options.sinkTimeoutSeconds ?? 900) + MARGIN_SECONDS;
  const total = { letters: 0, batches: 0, received: 0, written: 0, stale: 0, skipped: 0, deadLettered: 0, tooOld: 0, deleted: 0, sentAfterStart: 0, otherViews: 0, leftByFailure: 0 };
  const tooOldViews = new Set<string>();
  const cut: LeftLetter[] = [];
  const unreadable: string[] = [];
  const notDeleted: QueueReplaySummary['notDeleted'] = [];
  /** Messages to make visible again when the run ends, by id (the newest receipt handle). */
  const left = new Map<string, string>();
  const seen = new Set<string>();
  let pending: { letter: DeadLetter; received: Received }[] = [];
  let failure: string | undefined;

  const flush = async () => {
    const byLetter = new Map(pending.map(p => [p.letter, p.received]));
    const batches = replayBatches(pending.map(p => p.letter), batchSize, options.maxBatchBytes);
    pending = [];
    for (const batch of batches) {
      const received = batch.map(l => byLetter.get(l)!);
      if (failure !== undefined) {
        for (const r of received) left.set(r.message.MessageId!, r.message.ReceiptHandle!);
        total.leftByFailure += received.length;
        continue;
      }
      await keepHidden(received);
      try {
        addBatchSummary(total, await options.deliver(deadLetterEvent(batch)));
      } catch (e) {
        failure = (e as Error).message;
        for (const r of received) left.set(r.message.MessageId!, r.message.ReceiptHandle!);
        total.leftByFailure += received.length;
        continue;
      }
      await deleteMessages(received.map(r => r.message));
    }
  };

  // A delivery may take the sink's whole timeout: a message that could become visible before it ends is hidden again, so
  // nobody else receives it meanwhile and its receipt handle stays the one that deletes it.
  const keepHidden = async (received: Received[]) => {
    const needed = now() + (hiddenSeconds - MARGIN_SECONDS / 2) * 1000;
    const short = received.filter(r => r.hiddenUntilMs < needed);
    for (const chunk of chunks(short)) {
      const out = await sqs.send(new ChangeMessageVisibilityBatchCommand({
        QueueUrl: options.queueUrl,
        Entries: chunk.map((r, i) => ({ Id: String(i), ReceiptHandle: r.message.ReceiptHandle, VisibilityTimeout: hiddenSeconds })),
      }));
      const failed = new Set((out.Failed ?? []).map(f => f.Id));
      chunk.forEach((r, i) => { if (!failed.has(String(i))) r.hiddenUntilMs = now() + hiddenSeconds * 1000; });
    }
  };

  const deleteMessages = async (messages: Message[]) => {
    for (const chunk of chunks(messages)) {
      const out = await sqs.send(new DeleteMessageBatchCommand({
        QueueUrl: options.queueUrl, Entries: chunk.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle })),
      }));
      total.deleted += out.Successful?.length ?? 0;
      for (const f of out.Failed ?? []) {
        notDeleted.push({ messageId: chunk[Number(f.Id)]?.MessageId ?? f.Id ?? '?', code: f.Code ?? 'unknown', message: f.Message });
      }
    }
  };

  try {
    while (failure === undefined) {
      const out = await sqs.send(new ReceiveMessageCommand({
        QueueUrl: options.queueUrl, MaxNumberOfMessages: SQS_BATCH, WaitTimeSeconds: options.waitTimeSeconds ?? 1,
        VisibilityTimeout: hiddenSeconds, MessageSystemAttributeNames: ['SentTimestamp'],
      }));
      const receivedAt = now();
      let fresh = 0;
      for (const message of out.Messages ?? []) {
        const id = message.MessageId!;
        // Received again (its visibility ran out during a long run): only its newest receipt handle can release it.
        if (seen.has(id)) {
          if (left.has(id)) left.set(id, message.ReceiptHandle!);
          continue;
        }
        seen.add(id);
        fresh += 1;
        const leave = () => left.set(id, message.ReceiptHandle!);
        const sent = Number(message.Attributes?.SentTimestamp);
        if (!Number.isFinite(sent) || sent >= startMs) {
          total.sentAfterStart += 1;
          leave();
          continue;
        }
        const letter = parseLetter(message.Body);
        if (!letter) {
          unreadable.push(id);
          leave();
          continue;
        }
        if (options.view !== undefined && letter.view !== options.view) {
          total.otherViews += 1;
          leave();
          continue;
        }
        total.letters += 1;
        // Without its value the sink would read the record as a delete, without its key it would write another row.
        if (letter.valueOmitted || letter.keyOmitted) {
          cut.push({ messageId: id, view: letter.view, topic: letter.topic, partition: letter.partition, offset: letter.offset });
          leave();
          continue;
        }
        if (isTooOld(letter, oldest)) {
          total.tooOld += 1;
          tooOldViews.add(letter.view);
          leave();
          continue;
        }
        pending.push({ letter, received: { message, hiddenUntilMs: receivedAt + hiddenSeconds * 1000 } });
      }
      if (pending.length >= batchSize) await flush();
      // An empty long poll means the queue has nothing visible; only messages seen before means nothing new is coming.
      if (fresh === 0) break;
    }
    if (pending.length > 0) await flush();
  } finally {
    await release(sqs, options.queueUrl, [...left.values()]);
  }
  return { ...total, tooOldViews: [...tooOldViews].sort(), cut, unreadable, notDeleted, ...(failure !== undefined ? { failure } : {}) };
}

/**
 * Makes left messages visible again now rather than after their visibility timeout. Best effort: a message this misses
 * becomes visible when its timeout ends anyway.
 */
async function release(sqs: SQSClient, queueUrl: string, receiptHandles: string[]): Promise<void> {
  for (const chunk of chunks(receiptHandles)) {
    try {
      await sqs.send(new ChangeMessageVisibilityBatchCommand({
        QueueUrl: queueUrl, Entries: chunk.map((ReceiptHandle, i) => ({ Id: String(i), ReceiptHandle, VisibilityTimeout: 0 })),
      }));
    } catch {
      // Visible again at the end of the visibility timeout.
    }
  }
}
