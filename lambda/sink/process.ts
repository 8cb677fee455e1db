// The sink's batch logic, free of Lambda globals: decode each MSK record for every view its topic feeds, write per view, dead-letter what cannot be written, report metrics.
import { decodeRecord, DecodeError, eventRecords, SchemaChangeError, heartbeatSourceTsMs, type MskEvent, type MskEventRecord } from '../shared/envelope';
import { SINK_METRIC_NAMES, type SinkCountMetric } from '../../contract/metric-names';
import type { SinkInvocation, StoredRecord } from '../../contract/stored-record';
import type { ViewConfig } from '../../contract/view-config';
import type { StructuredLog } from '../shared/telemetry';
import type { WriteResult } from '../shared/write-result';
import { deadLetterOf, type DeadLetter, type DeadLetterSink } from './dead-letter';

/** Writes one view's decoded records to its store; throws StoreUnavailableError when the store is down. */
export type BatchWriter = (view: ViewConfig, records: StoredRecord[]) => Promise<WriteResult>;

export interface SinkMetrics {
  /** Adds `value` to a per-view count (`RecordsReceived`, `RecordsWritten`, `RecordsStale`, `RecordsSkipped`, `RecordsDeadLettered`). */
  count(view: string, name: SinkCountMetric, value: number): void;
  /** Worst freshness lag of the batch for a view: write time minus source commit time. */
  freshnessLag(view: string, lagMs: number): void;
  /** CDC lag (`CdcLag`) from a Debezium heartbeat: now minus the heartbeat's source time, per heartbeat topic. */
  cdcLag(topic: string, lagMs: number): void;
}

export type { SinkCountMetric };

export type SinkLog = StructuredLog;

export interface SinkDependencies {
  readonly views: readonly ViewConfig[];
  /** Writer per store kind; a view whose store has no writer is a deployment error. */
  readonly writers: { readonly cache?: BatchWriter; readonly search?: BatchWriter };
  readonly deadLetters: DeadLetterSink;
  readonly metrics: SinkMetrics;
  readonly log: SinkLog;
  /** Topics whose records are Debezium heartbeats (`__debezium-heartbeat.<prefix>` by default). */
  readonly heartbeatTopicPrefix?: string;
  readonly now?: () => number;
}

export interface BatchSummary {
  readonly received: number;
  readonly written: number;
  readonly stale: number;
  readonly skipped: number;
  readonly deadLettered: number;
}

/** Fails a deployment whose views need a writer it does not have, at cold start rather than on the first record. */
export function checkWriters(views: readonly ViewConfig[], writers: SinkDependencies['writers']): void {
  for (const view of views) {
    if (!(writers as Record<string, BatchWriter | undefined>)[view.store]) throw new Error(`view '${view.name}' writes to the ${view.store} store, but this sink has no ${view.store} writer configured`);
  }
}

/** `topic-partition: first..last` for the batch log line. */
export function offsetRanges(records: readonly MskEventRecord[]): Record<string, { first: string; last: string; count: number }> {
  const ranges: Record<string, { first: string; last: string; count: number }> = {};
  // Offsets compared as numbers while they are safe integers (always, for MSK's numeric offsets), else as BigInt.
  const less = (a: number | string, b: number | string) => (typeof a === 'number' && typeof b === 'number' && Number.isSafeInteger(a) && Number.isSafeInteger(b)
    ? a < b : BigInt(a) < BigInt(b));
  const bounds = new Map<string, { first: number | string; last: number | string; count: number }>();
  // Records come grouped by partition: the id is spelled and looked up once per run of one partition's records.
  let cur: { first: number | string; last: number | string; count: number } | undefined;
  let curTopic: string | undefined;
  let curPartition: number | undefined;
  for (const r of records) {
    if (cur === undefined || r.topic !== curTopic || r.partition !== curPartition) {
      const id = `${r.topic}-${r.partition}`;
      curTopic = r.topic;
      curPartition = r.partition;
      cur = bounds.get(id);
      if (!cur) {
        bounds.set(id, cur = { first: r.offset, last: r.offset, count: 1 });
        continue;
      }
    }
    if (less(r.offset, cur.first)) cur.first = r.offset;
    if (less(cur.last, r.offset)) cur.last = r.offset;
    cur.count += 1;
  }
  for (const [id, b] of bounds) ranges[id] = { first: String(b.first), last: String(b.last), count: b.count };
  return ranges;
}

/**
 * Records per write call, by store, for stores whose writes pipeline on one connection (the cache): a view's records
 * are written in slices as they are decoded, so the store applies one slice while the sink decodes the next; the
 * cache's slice is the writer's rows per call (`ROWS_PER_CALL`). Stores not listed (search: one bulk request is
 * cheaper than several) get all of a view's records in one call.
 */
export const WRITE_SLICE_RECORDS: { readonly [store in ViewConfig['store']]?: number } = { cache: 50 };

/** The view of a dead letter whose topic feeds no view. */
const NO_VIEW = '-';

/** Lets writes started so far reach their sockets before decoding goes on. */
const yieldToIo = () => new Promise<void>(resolve => setImmediate(resolve));

interface ViewBatch {
  readonly view: ViewConfig;
  readonly slice: number;
  /** Decoded records not yet handed to the writer, and the Kafka records they came from. */
  records: StoredRecord[];
  sources: MskEventRecord[];
  oldestCommitMs: number;
  written: number;
  stale: number;
}

type SliceOutcome = { readonly result: WriteResult; readonly sources: MskEventRecord[]; readonly records: StoredRecord[] } | { readonly error: unknown };

/**
 * Processes one MSK event. Undecodable records and records a writer reports as failed go to the
 * dead-letter destination and the batch continues; a StoreUnavailableError (or a dead-letter write
 * failure) propagates so Lambda retries the whole batch, which the versioned writes make safe.
 * `invocation` (the Lambda request id and X-Ray trace id) is stamped on every record as `provenance.writer`.
 */
export async function processBatch(event: MskEvent, deps: SinkDependencies, invocation?: SinkInvocation): Promise<BatchSummary> {
  const now = deps.now ?? Date.now;
  const heartbeatPrefix = deps.heartbeatTopicPrefix ?? '__debezium-heartbeat';
  const records = eventRecords(event);
  deps.log.info('batch received', { records: records.length, offsets: offsetRanges(records) });

  const byTopic = new Map<string, ViewConfig[]>();
  for (const v of deps.views) byTopic.set(v.topic, [...(byTopic.get(v.topic) ?? []), v]);

  const letters: DeadLetter[] = [];
  const perView = new Map<string, ViewBatch>();
  // Decode-phase counts per view, reported once per batch (also when the batch fails later) rather than per record.
  // Dead letters are counted from `letters` once they are persisted, so a failed batch and its retry count each once.
  const decodeCounts = new Map<string, { received: number; skipped: number }>();
  const countsOf = (view: string) => {
    let c = decodeCounts.get(view);
    if (!c) decodeCounts.set(view, c = { received: 0, skipped: 0 });
    return c;
  };
  let skipped = 0;
  const nowMs = now();
  const decodeOptions = { nowMs, writer: invocation };

  const writerOf = (view: ViewConfig): BatchWriter => {
    const writer = (deps.writers as Record<string, BatchWriter | undefined>)[view.store];
    if (!writer) throw new Error(`view '${view.name}' writes to the ${view.store} store, but this sink has no ${view.store} writer configured`);
    return writer;
  };
  const outcomes = new Map<ViewBatch, Promise<SliceOutcome>[]>();
  /** Hands the view's pending records to its writer; the outcome is settled at once so a failure waits for the end of the batch. */
  const startWrite = (vb: ViewBatch) => {
    const recs = vb.records;
    const srcs = vb.sources;
    vb.records = [];
    vb.sources = [];
    const outcome = writerOf(vb.view)(vb.view, recs).then(
      result => ({ result, records: recs, sources: srcs }),
      (error: unknown) => ({ error }),
    );
    outcomes.set(vb, [...(outcomes.get(vb) ?? []), outcome]);
  };

  // A batch's records come in runs of one topic: its heartbeat test and views are looked up once per run.
  let runTopic: string | undefined;
  let runHeartbeat = false;
  let runViews: ViewConfig[] | undefined;
  try {
    for (const rec of records) {
      if (rec.topic !== runTopic) {
        runTopic = rec.topic;
        runHeartbeat = rec.topic.startsWith(heartbeatPrefix);
        runViews = byTopic.get(rec.topic);
      }
      if (runHeartbeat) {
        const ts = heartbeatSourceTsMs(rec);
        if (ts !== undefined) deps.metrics.cdcLag(rec.topic, Math.max(0, nowMs - ts));
        continue;
      }
      const views = runViews;
      if (!views) {
        letters.push(deadLetterOf(NO_VIEW, rec, `no view is fed by topic '${rec.topic}'`, 'decode', nowMs));
        continue;
      }
      for (const view of views) {
        const counts = countsOf(view.name);
        counts.received += 1;
        let outcome;
        try {
          outcome = decodeRecord(view, rec, decodeOptions);
        } catch (e) {
          if (!(e instanceof DecodeError) && !(e instanceof SchemaChangeError)) throw e;
          // A schema change is not a bad record: the upstream table no longer matches the declared fields (the view's policy).
          const schema = e instanceof SchemaChangeError;
          deps.log.warn(schema ? 'record does not match the view\'s declared fields (schema change)' : 'undecodable record', {
            view: view.name, topic: rec.topic, partition: rec.partition, offset: String(rec.offset), error: e.message,
            ...(schema ? { field: e.field, change: e.change } : {}),
          });
          letters.push(deadLetterOf(view.name, rec, e.message, schema ? 'schema' : 'decode', nowMs));
          continue;
        }
        if (outcome.kind === 'skip') {
          skipped += 1;
          counts.skipped += 1;
          continue;
        }
        let vb = perView.get(view.name);
        if (!vb) {
          vb = { view, slice: WRITE_SLICE_RECORDS[view.store] ?? Infinity, records: [], sources: [], oldestCommitMs: Infinity, written: 0, stale: 0 };
          perView.set(view.name, vb);
        }
        vb.records.push(outcome.record);
        vb.sources.push(rec);
        if (outcome.record.provenance.commitTimeMs < vb.oldestCommitMs) vb.oldestCommitMs = outcome.record.provenance.commitTimeMs;
        if (vb.records.length >= vb.slice) {
          startWrite(vb);
          await yieldToIo();
        }
      }
    }
  } finally {
    for (const [view, c] of decodeCounts) {
      deps.metrics.count(view, SINK_METRIC_NAMES.recordsReceived, c.received);
      if (c.skipped > 0) deps.metrics.count(view, SINK_METRIC_NAMES.recordsSkipped, c.skipped);
    }
  }

  const settle = async (vb: ViewBatch) => {
    const pending = outcomes.get(vb) ?? [];
    outcomes.delete(vb);
    let failure: SliceOutcome | undefined;
    for (const o of await Promise.all(pending)) {
      if ('error' in o) {
        failure ??= o;
        continue;
      }
      vb.written += o.result.written;
      vb.stale += o.result.stale;
      for (const f of o.result.failed) {
        const i = o.records.indexOf(f.record);
        const src = i >= 0 ? o.sources[i] : undefined;
        const k = f.record.provenance.kafka;
        letters.push(deadLetterOf(vb.view.name, src ?? { topic: k.topic, partition: k.partition, offset: k.offset }, f.error, 'write', nowMs));
      }
    }
    if (failure && 'error' in failure) throw failure.error;
  };

  // Slices already on their way are waited for first (an outage surfaces before anything else is sent); then each
  // view's remaining records are written, one view after the other.
  const inFlight = await Promise.allSettled([...perView.values()].map(settle));
  const firstFailure = inFlight.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (firstFailure) throw firstFailure.reason;
  let written = 0;
  let stale = 0;
  for (const vb of perView.values()) {
    if (vb.records.length > 0) {
      startWrite(vb);
      await settle(vb);
    }
    written += vb.written;
    stale += vb.stale;
    deps.metrics.count(vb.view.name, SINK_METRIC_NAMES.recordsWritten, vb.written);
    deps.metrics.count(vb.view.name, SINK_METRIC_NAMES.recordsStale, vb.stale);
    deps.metrics.freshnessLag(vb.view.name, Math.max(0, now() - vb.oldestCommitMs));
  }

  if (letters.length > 0) {
    await deps.deadLetters.send(letters);
    // Letters of records no view is fed by (view '-') have no view to count under; the log line counts every letter.
    const lettersPerView = new Map<string, number>();
    for (const l of letters) if (l.view !== NO_VIEW) lettersPerView.set(l.view, (lettersPerView.get(l.view) ?? 0) + 1);
    for (const [view, n] of lettersPerView) deps.metrics.count(view, SINK_METRIC_NAMES.recordsDeadLettered, n);
    deps.log.warn('records dead-lettered', { count: letters.length });
  }
  const summary = { received: records.length, written, stale, skipped, deadLettered: letters.length };
  deps.log.info('batch done', { ...summary });
  return summary;
}
