// The sink's batch logic, free of Lambda globals: decode each MSK record for every view its topic feeds, write per view, dead-letter what cannot be written, report metrics.
import { decodeRecord, DecodeError, eventRecords, heartbeatSourceTsMs, type MskEvent, type MskEventRecord } from '../shared/envelope';
import { SINK_METRIC_NAMES, type SinkCountMetric } from '../shared/metric-names';
import type { StoredRecord } from '../shared/stored-record';
import type { ViewConfig } from '../shared/view-config';
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

export interface SinkLog {
  info(message: string, extra?: Record<string, unknown>): void;
  warn(message: string, extra?: Record<string, unknown>): void;
}

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
    if (!writers[view.store]) throw new Error(`view '${view.name}' writes to the ${view.store} store, but this sink has no ${view.store} writer configured`);
  }
}

/** `topic-partition: first..last` for the batch log line. */
export function offsetRanges(records: readonly MskEventRecord[]): Record<string, { first: string; last: string; count: number }> {
  const ranges: Record<string, { first: string; last: string; count: number }> = {};
  for (const r of records) {
    const id = `${r.topic}-${r.partition}`;
    const o = String(r.offset);
    const cur = ranges[id];
    if (!cur) ranges[id] = { first: o, last: o, count: 1 };
    else {
      if (BigInt(o) < BigInt(cur.first)) cur.first = o;
      if (BigInt(o) > BigInt(cur.last)) cur.last = o;
      cur.count += 1;
    }
  }
  return ranges;
}

/**
 * Processes one MSK event. Undecodable records and records a writer reports as failed go to the
 * dead-letter destination and the batch continues; a StoreUnavailableError (or a dead-letter write
 * failure) propagates so Lambda retries the whole batch, which the versioned writes make safe.
 */
export async function processBatch(event: MskEvent, deps: SinkDependencies): Promise<BatchSummary> {
  const now = deps.now ?? Date.now;
  const heartbeatPrefix = deps.heartbeatTopicPrefix ?? '__debezium-heartbeat';
  const records = eventRecords(event);
  deps.log.info('batch received', { records: records.length, offsets: offsetRanges(records) });

  const byTopic = new Map<string, ViewConfig[]>();
  for (const v of deps.views) byTopic.set(v.topic, [...(byTopic.get(v.topic) ?? []), v]);

  const letters: DeadLetter[] = [];
  const perView = new Map<string, { view: ViewConfig; records: StoredRecord[]; sources: MskEventRecord[] }>();
  let skipped = 0;
  const nowMs = now();

  for (const rec of records) {
    if (rec.topic.startsWith(heartbeatPrefix)) {
      const ts = heartbeatSourceTsMs(rec);
      if (ts !== undefined) deps.metrics.cdcLag(rec.topic, Math.max(0, nowMs - ts));
      continue;
    }
    const views = byTopic.get(rec.topic);
    if (!views) {
      letters.push(deadLetterOf('-', rec, `no view is fed by topic '${rec.topic}'`, 'decode', nowMs));
      continue;
    }
    for (const view of views) {
      deps.metrics.count(view.name, SINK_METRIC_NAMES.recordsReceived, 1);
      try {
        const outcome = decodeRecord(view, rec, { nowMs });
        if (outcome.kind === 'skip') {
          skipped += 1;
          deps.metrics.count(view.name, SINK_METRIC_NAMES.recordsSkipped, 1);
          continue;
        }
        const entry = perView.get(view.name) ?? { view, records: [], sources: [] };
        entry.records.push(outcome.record);
        entry.sources.push(rec);
        perView.set(view.name, entry);
      } catch (e) {
        if (!(e instanceof DecodeError)) throw e;
        deps.log.warn('undecodable record', { view: view.name, topic: rec.topic, partition: rec.partition, offset: String(rec.offset), error: e.message });
        letters.push(deadLetterOf(view.name, rec, e.message, 'decode', nowMs));
        deps.metrics.count(view.name, SINK_METRIC_NAMES.recordsDeadLettered, 1);
      }
    }
  }

  let written = 0;
  let stale = 0;
  for (const { view, records: batch, sources } of perView.values()) {
    const writer = deps.writers[view.store];
    if (!writer) throw new Error(`view '${view.name}' writes to the ${view.store} store, but this sink has no ${view.store} writer configured`);
    const result = await writer(view, batch);
    written += result.written;
    stale += result.stale;
    deps.metrics.count(view.name, SINK_METRIC_NAMES.recordsWritten, result.written);
    deps.metrics.count(view.name, SINK_METRIC_NAMES.recordsStale, result.stale);
    for (const f of result.failed) {
      const i = batch.indexOf(f.record);
      const src = i >= 0 ? sources[i] : undefined;
      const k = f.record.provenance.kafka;
      letters.push(deadLetterOf(view.name, src ?? { topic: k.topic, partition: k.partition, offset: k.offset }, f.error, 'write', nowMs));
      deps.metrics.count(view.name, SINK_METRIC_NAMES.recordsDeadLettered, 1);
    }
    const writtenAt = now();
    const lags = batch.map(r => writtenAt - r.provenance.commitTimeMs);
    if (lags.length > 0) deps.metrics.freshnessLag(view.name, Math.max(0, ...lags));
  }

  if (letters.length > 0) {
    await deps.deadLetters.send(letters);
    deps.log.warn('records dead-lettered', { count: letters.length });
  }
  const summary = { received: records.length, written, stale, skipped, deadLettered: letters.length };
  deps.log.info('batch done', { ...summary });
  return summary;
}
