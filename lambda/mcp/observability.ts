// The Powertools logger and metrics behind the tool-call observer: one log line and three metrics per call.
import type { Logger } from '@aws-lambda-powertools/logger';
import { MetricUnit, type Metrics } from '@aws-lambda-powertools/metrics';
import type { ToolCallEvent, ToolCallObserver } from './context';

/** Metric names the construct's `metric*()` methods read (dimensions: `service`, `tool`). */
export const METRIC_NAMES = { calls: 'ToolCalls', errors: 'ToolErrors', latency: 'ToolLatency' } as const;
export const TOOL_DIMENSION = 'tool';

export function powertoolsObserver(logger: Logger, metrics: Metrics): ToolCallObserver {
  return {
    onToolCall(e: ToolCallEvent) {
      const fields = {
        tool: e.tool, correlationId: e.correlationId, outcome: e.outcome, latencyMs: Math.round(e.latencyMs),
        resultBytes: e.resultBytes, resultCount: e.resultCount, positions: e.positions,
      };
      if (e.outcome === 'ok') logger.info('tool call', fields);
      else logger.warn('tool call failed', { ...fields, errorKind: e.errorKind, errorDetail: e.errorDetail });
      metrics.addDimension(TOOL_DIMENSION, e.tool);
      metrics.addMetric(METRIC_NAMES.calls, MetricUnit.Count, 1);
      metrics.addMetric(METRIC_NAMES.errors, MetricUnit.Count, e.outcome === 'error' ? 1 : 0);
      metrics.addMetric(METRIC_NAMES.latency, MetricUnit.Milliseconds, e.latencyMs);
      metrics.publishStoredMetrics();
    },
  };
}
