// SinkMetrics over Powertools for AWS Lambda (EMF): counts and lags buffered per view and flushed once per batch with a `View` dimension.
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { SinkCountMetric, SinkMetrics } from './process';

/** Metric names the sink emits (AgentSink's metric*() methods read the same names). */
export const SINK_METRIC_NAMES = {
  received: 'RecordsReceived',
  written: 'RecordsWritten',
  stale: 'RecordsStale',
  skipped: 'RecordsSkipped',
  deadLettered: 'RecordsDeadLettered',
  freshnessLag: 'FreshnessLag',
  heartbeatLag: 'HeartbeatLag',
} as const;

/**
 * Buffers per-view values and publishes one EMF document per view (dimension `View`) and per heartbeat
 * topic (dimension `Topic`), since Powertools dimensions apply to every metric of a flush.
 */
export class PowertoolsSinkMetrics implements SinkMetrics {
  private readonly counts = new Map<string, Map<SinkCountMetric, number>>();
  private readonly lags = new Map<string, number>();
  private readonly heartbeats = new Map<string, number>();

  constructor(private readonly metrics: Metrics) {}

  count(view: string, name: SinkCountMetric, value: number): void {
    const m = this.counts.get(view) ?? new Map<SinkCountMetric, number>();
    m.set(name, (m.get(name) ?? 0) + value);
    this.counts.set(view, m);
  }

  freshnessLag(view: string, lagMs: number): void {
    this.lags.set(view, Math.max(this.lags.get(view) ?? 0, lagMs));
  }

  heartbeatLag(topic: string, lagMs: number): void {
    this.heartbeats.set(topic, Math.max(this.heartbeats.get(topic) ?? 0, lagMs));
  }

  /** Emits everything buffered; call once per invocation, also when the batch failed. */
  flush(): void {
    const views = new Set([...this.counts.keys(), ...this.lags.keys()]);
    for (const view of views) {
      this.metrics.addDimension('View', view);
      for (const [name, value] of this.counts.get(view) ?? []) this.metrics.addMetric(name, MetricUnit.Count, value);
      const lag = this.lags.get(view);
      if (lag !== undefined) this.metrics.addMetric(SINK_METRIC_NAMES.freshnessLag, MetricUnit.Milliseconds, lag);
      this.metrics.publishStoredMetrics();
    }
    for (const [topic, lag] of this.heartbeats) {
      this.metrics.addDimension('Topic', topic);
      this.metrics.addMetric(SINK_METRIC_NAMES.heartbeatLag, MetricUnit.Milliseconds, lag);
      this.metrics.publishStoredMetrics();
    }
    this.counts.clear();
    this.lags.clear();
    this.heartbeats.clear();
  }
}
