// The metric names the governance layer reads, re-exported from the one metric-name module (contract/metric-names.ts) that
// the emitting functions and the constructs' metric*() methods use too; nothing is spelled here.
export {
  AGENT_METRIC_DIMENSIONS as AGENT_DIMENSIONS, AGENT_SERVICE_NAMES as AGENT_SERVICES, AWS_METRIC_DIMENSIONS as AWS_DIMENSIONS,
  AWS_METRIC_NAMESPACES as AWS_NAMESPACES, DEFAULT_AGENT_METRICS_NAMESPACE, MCP_METRIC_NAMES as MCP_METRICS, SINK_METRIC_NAMES as SINK_METRICS,
} from '../../contract/metric-names';
