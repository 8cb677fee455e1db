// SinkMetrics over an EMF publisher (the shared EmfMetrics; Powertools for AWS Lambda's Metrics has the same three methods):
// counts and lags buffered per view and flushed once per batch with a `View` dimension; CDC lag per heartbeat topic.
import { AGENT_METRIC_DIMENSIONS, SINK_METRIC_NAMES } from '../../contract/metric-names';
import type { SinkCountMetric, SinkMetrics } from './process';
import type { MetricsPublisher } from '../shared/telemetry';

export { SINK_METRIC_NAMES };

/**
 * Buffers per-view values and publishes one EMF document per view (dimensions {service, View}) and per heartbeat
 * topic (dimensions {service, Topic}), since an EMF flush's dimensions apply to every metric in it.
 */
export class EmfSinkMetrics implements SinkMetrics {
  private readonly counts = new Map<string, Map<SinkCountMetric, number>>();
  private readonly lags = new Map<string, number>();
  private readonly cdcLags = new Map<string, number>();

  constructor(private readonly metrics: MetricsPublisher) {}

  count(view: string, name: SinkCountMetric, value: number): void {
    const m = this.counts.get(view) ?? new Map<SinkCountMetric, number>();
    m.set(name, (m.get(name) ?? 0) + value);
    this.counts.set(view, m);
  }

  freshnessLag(view: string, lagMs: number): void {
    this.lags.set(view, Math.max(this.lags.get(view) ?? 0, lagMs));
  }

  cdcLag(topic: string, lagMs: number): void {
    this.cdcLags.set(topic, Math.max(this.cdcLags.get(topic) ?? 0, lagMs));
  }

  /** Emits everything buffered; call once per invocation, also when the batch failed. */
  flush(): void {
    const views = new Set([...this.counts.keys(), ...this.lags.keys()]);
    for (const view of views) {
      this.metrics.addDimension(AGENT_METRIC_DIMENSIONS.view, view);
      for (const [name, value] of this.counts.get(view) ?? []) this.metrics.addMetric(name, 'Count', value);
      const lag = this.lags.get(view);
      if (lag !== undefined) this.metrics.addMetric(SINK_METRIC_NAMES.freshnessLag, 'Milliseconds', lag);
      this.metrics.publishStoredMetrics();
    }
    for (const [topic, lag] of this.cdcLags) {
      this.metrics.addDimension(AGENT_METRIC_DIMENSIONS.topic, topic);
      this.metrics.addMetric(SINK_METRIC_NAMES.cdcLag, 'Milliseconds', lag);
      this.metrics.publishStoredMetrics();
    }
    this.counts.clear();
    this.lags.clear();
    this.cdcLags.clear();
  }
}
