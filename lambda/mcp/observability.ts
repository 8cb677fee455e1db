// The logger and EMF metrics behind the tool-call observer: one log line and three metrics per call, and `DecisionsRecorded` per recorded decision.
import { AGENT_METRIC_DIMENSIONS, MCP_METRIC_NAMES, RECORD_DECISION_TOOL } from '../../contract/metric-names';
import type { MetricsPublisher, StructuredLog } from '../shared/telemetry';
import type { ToolCallEvent, ToolCallObserver } from './context';


export { MCP_METRIC_NAMES };

/**
 * Per call: `ToolCalls`, `ToolErrors` (0 or 1) and `ToolLatency` with dimensions {service, Tool}. A successful
 * `record_decision` also publishes `DecisionsRecorded` = 1 with {service} only, in its own EMF document (Powertools
 * dimensions apply to every metric of a flush).
 */
export function toolCallObserver(logger: StructuredLog, metrics: MetricsPublisher): ToolCallObserver {
  return {
    onToolCall(e: ToolCallEvent) {
      const fields = {
        tool: e.tool, correlationId: e.correlationId, outcome: e.outcome, latencyMs: Math.round(e.latencyMs),
        resultBytes: e.resultBytes, resultCount: e.resultCount, positions: e.positions,
      };
      if (e.outcome === 'ok') logger.info('tool call', fields);
      else logger.warn('tool call failed', { ...fields, errorKind: e.errorKind, errorDetail: e.errorDetail });
      metrics.addDimension(AGENT_METRIC_DIMENSIONS.tool, e.tool);
      metrics.addMetric(MCP_METRIC_NAMES.toolCalls, 'Count', 1);
      metrics.addMetric(MCP_METRIC_NAMES.toolErrors, 'Count', e.outcome === 'error' ? 1 : 0);
      metrics.addMetric(MCP_METRIC_NAMES.toolLatency, 'Milliseconds', e.latencyMs);
      metrics.publishStoredMetrics();
      if (e.tool === RECORD_DECISION_TOOL && e.outcome === 'ok') {
        metrics.addMetric(MCP_METRIC_NAMES.decisionsRecorded, 'Count', 1);
        metrics.publishStoredMetrics();
      }
    },
  };
}
