// `agent-data-stack status`: whether each layer of a deployed stack is healthy, one row per resource or metric.
import { DescribeReplicationGroupsCommand, DescribeServerlessCachesCommand } from '@aws-sdk/client-elasticache';
import { DescribeClusterV2Command } from '@aws-sdk/client-kafka';
import { DescribeConnectorCommand } from '@aws-sdk/client-kafkaconnect';
import { DescribeApplicationCommand } from '@aws-sdk/client-kinesis-analytics-v2';
import { DescribeDomainHealthCommand } from '@aws-sdk/client-opensearch';
import { DEFAULT_AGENT_METRICS_NAMESPACE, SINK_METRIC_NAMES } from '../../contract/metric-names';
import { isCredentialsError, UserError } from '../command';
import type { StatusClients } from './clients';
import { consumerLags, FlinkGroup, flinkGroupsOf } from './consumer-lag';
import { discoverResources } from './discovery';
import { latestMax } from './metrics';

export type LayerName = 'kafka' | 'connector' | 'flink' | 'cache' | 'search' | 'consumer-lag' | 'cdc-lag' | 'freshness';

export interface LayerStatus {
  readonly layer: LayerName;
  readonly resource: string;
  readonly state: string;
  readonly healthy: boolean;
  readonly detail?: string;
}

export interface StatusReport {
  readonly stack: string;
  readonly healthy: boolean;
  readonly checkedAt: string;
  readonly layers: LayerStatus[];
}

export interface StatusOptions {
  /** Freshness objective in milliseconds (p99 of `FreshnessLag`, max of `CdcLag`). @default 5000 */
  readonly freshnessSloMs?: number;
  /**
   * Highest acceptable MSK `EstimatedMaxTimeLag` in seconds; a Flink group the stack's OperationsManifest names is
   * allowed its application's checkpoint interval on top, as its alarm is. @default 30
   */
  readonly maxConsumerLagSeconds?: number;
  /** Namespace of the sink metrics. @default - the stack output ending in `MetricsNamespace`, else 'AgentDataStack' */
  readonly metricsNamespace?: string;
  /** @default () => new Date() */
  readonly clock?: () => Date;
}

// ---------------------------------------------------------------- checks

type Check = () => Promise<LayerStatus>;

/** Runs one check; an API error marks that layer unhealthy instead of stopping the report (credential errors still stop it). */
async function guarded(layer: LayerName, resource: string, check: Check): Promise<LayerStatus> {
  try {
    return await check();
  } catch (e) {
    if (isCredentialsError(e)) throw e;
    return { layer, resource, state: 'ERROR', healthy: false, detail: `${(e as Error).name}: ${(e as Error).message}` };
  }
}

function kafkaCheck(c: StatusClients, arn: string): Check {
  return async () => {
    const out = await c.kafka.send(new DescribeClusterV2Command({ ClusterArn: arn }));
    const info = out.ClusterInfo;
    const state = info?.State ?? 'UNKNOWN';
    return {
      layer: 'kafka', resource: info?.ClusterName ?? arn, state,
      // MAINTENANCE is routine patching: brokers keep serving.
      healthy: state === 'ACTIVE' || state === 'MAINTENANCE',
      detail: info?.StateInfo?.Message,
    };
  };
}

function connectorCheck(c: StatusClients, arn: string): Check {
  return async () => {
    const out = await c.kafkaConnect.send(new DescribeConnectorCommand({ connectorArn: arn }));
    const state = out.connectorState ?? 'UNKNOWN';
    return {
      layer: 'connector', resource: out.connectorName ?? arn, state, healthy: state === 'RUNNING',
      detail: out.stateDescription?.message,
    };
  };
}

function flinkCheck(c: StatusClients, name: string): Check {
  return async () => {
    const out = await c.flink.send(new DescribeApplicationCommand({ ApplicationName: name }));
    const state = out.ApplicationDetail?.ApplicationStatus ?? 'UNKNOWN';
    return { layer: 'flink', resource: name, state, healthy: state === 'RUNNING', detail: out.ApplicationDetail?.RuntimeEnvironment };
  };
}

function serverlessCacheCheck(c: StatusClients, name: string): Check {
  return async () => {
    const out = await c.elastiCache.send(new DescribeServerlessCachesCommand({ ServerlessCacheName: name }));
    const state = out.ServerlessCaches?.[0]?.Status ?? 'UNKNOWN';
    return { layer: 'cache', resource: name, state, healthy: state === 'available' };
  };
}

function replicationGroupCheck(c: StatusClients, id: string): Check {
  return async () => {
    const out = await c.elastiCache.send(new DescribeReplicationGroupsCommand({ ReplicationGroupId: id }));
    const state = out.ReplicationGroups?.[0]?.Status ?? 'UNKNOWN';
    return { layer: 'cache', resource: id, state, healthy: state === 'available' };
  };
}

function searchCheck(c: StatusClients, domain: string): Check {
  return async () => {
    const out = await c.openSearch.send(new DescribeDomainHealthCommand({ DomainName: domain }));
    const health = out.ClusterHealth ?? 'NotAvailable';
    // Yellow means replicas are unassigned: reads and writes still work.
    return {
      layer: 'search', resource: domain, state: `${health} (${out.DomainState ?? 'unknown'})`,
      healthy: health === 'Green' || health === 'Yellow', detail: health === 'Yellow' ? 'replica shards unassigned' : undefined,
    };
  };
}

function metricCheck(
  c: StatusClients, layer: LayerName, resource: string, search: string, stat: string, limit: number, unit: string, now: Date,
  missing: { healthy: boolean; detail: string } = { healthy: true, detail: 'nothing published in the last 10 minutes' },
): Check {
  return async () => {
    const value = await latestMax(c.cloudWatch, search, stat, now);
    if (value === undefined) return { layer, resource, state: 'no data', ...missing };
    const rounded = Math.round(value * 10) / 10;
    return { layer, resource, state: `${rounded} ${unit}`, healthy: value <= limit, detail: `limit ${limit} ${unit}` };
  };
}

/** Consumer-lag rows of one cluster: its groups other than the Flink groups, and each Flink group against its own limit. */
async function consumerLagStatus(c: StatusClients, clusterArn: string, maxLag: number, flink: FlinkGroup[], now: Date): Promise<LayerStatus[]> {
  try {
    return (await consumerLags(c.cloudWatch, clusterArn, maxLag, flink, now)).map(l => {
      const basis = l.basis ? ` (${l.basis})` : '';
      if (l.value === undefined) return { layer: 'consumer-lag', resource: l.resource, state: 'no data', healthy: true, detail: `nothing published in the last 10 minutes${basis}` };
      const rounded = Math.round(l.value * 10) / 10;
      return { layer: 'consumer-lag', resource: l.resource, state: `${rounded} s`, healthy: l.value <= l.limit, detail: `limit ${l.limit} s${basis}` };
    });
  } catch (e) {
    if (isCredentialsError(e)) throw e;
    return [{ layer: 'consumer-lag', resource: clusterArn.split('/')[1], state: 'ERROR', healthy: false, detail: `${(e as Error).name}: ${(e as Error).message}` }];
  }
}

/** Checks every resource the stack outputs name, and the lag and freshness CloudWatch reports. */
export async function collectStatus(c: StatusClients, stackName: string, options: StatusOptions = {}): Promise<StatusReport> {
  const now = (options.clock ?? (() => new Date()))();
  const res = await discoverResources(c.cloudformation, stackName);
  const slo = options.freshnessSloMs ?? 5000;
  const maxLag = options.maxConsumerLagSeconds ?? 30;
  const ns = options.metricsNamespace ?? res.metricsNamespace ?? DEFAULT_AGENT_METRICS_NAMESPACE;
  const checks: [LayerName, string, Check][] = [
    ...res.kafkaClusters.map(a => ['kafka', a, kafkaCheck(c, a)] as [LayerName, string, Check]),
    ...res.connectors.map(a => ['connector', a, connectorCheck(c, a)] as [LayerName, string, Check]),
    ...res.flinkApplications.map(n => ['flink', n, flinkCheck(c, n)] as [LayerName, string, Check]),
    ...res.serverlessCaches.map(n => ['cache', n, serverlessCacheCheck(c, n)] as [LayerName, string, Check]),
    ...res.replicationGroups.map(n => ['cache', n, replicationGroupCheck(c, n)] as [LayerName, string, Check]),
    ...res.searchDomains.map(n => ['search', n, searchCheck(c, n)] as [LayerName, string, Check]),
    // Heartbeats flow without table changes, so no CdcLag at all means the path is stuck (the CdcLag alarm treats missing data the same way).
    // With the stack's OperationsManifest, one row per source database (its heartbeat topic); else one for all.
    ...(res.manifest?.sources.length ? res.manifest.sources.map(s => [s.name, `"Topic"="${s.heartbeatTopic}"`]) : [[ns, '']]).map(([resource, topic]) =>
      ['cdc-lag', resource, metricCheck(c, 'cdc-lag', resource, `Namespace="${ns}" MetricName="${SINK_METRIC_NAMES.cdcLag}"${topic ? ` ${topic}` : ''}`, 'Maximum', slo, 'ms', now,
        { healthy: false, detail: 'no heartbeat lag in 10 minutes: the connector, its topic or the sinks are stuck' })] as [LayerName, string, Check]),
    ['freshness', ns, metricCheck(c, 'freshness', ns, `Namespace="${ns}" MetricName="${SINK_METRIC_NAMES.freshnessLag}"`, 'p99', slo, 'ms', now)],
  ];
  const flink = flinkGroupsOf(res.manifest);
  const [layers, lagLayers] = await Promise.all([
    Promise.all(checks.map(([layer, resource, check]) => guarded(layer, resource, check))),
    Promise.all(res.kafkaClusters.map(a => consumerLagStatus(c, a, maxLag, flink, now))),
  ]);
  // Rows in the order they always had: the resources, then consumer lag, then CDC lag and freshness.
  const resourceCount = checks.filter(([layer]) => !['cdc-lag', 'freshness'].includes(layer)).length;
  layers.splice(resourceCount, 0, ...lagLayers.flat());
  if (layers.filter(l => !['cdc-lag', 'freshness'].includes(l.layer)).length === 0) {
    throw new UserError(`Stack '${stackName}' has no outputs naming an MSK cluster, connector, Flink application, cache or OpenSearch domain. Deploy a stack built from cdk-agent-data-stack, or pass --stack NAME.`);
  }
  return { stack: stackName, healthy: layers.every(l => l.healthy), checkedAt: now.toISOString(), layers };
}

// ---------------------------------------------------------------- output

export function formatTable(report: StatusReport): string {
  const rows = [['LAYER', 'RESOURCE', 'STATE', 'HEALTHY', 'DETAIL'], ...report.layers.map(l => [l.layer, l.resource, l.state, l.healthy ? 'yes' : 'NO', l.detail ?? ''])];
  const widths = rows[0].map((_, i) => Math.max(...rows.map(r => r[i].length)));
  const lines = rows.map(r => r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]))).join('  ').trimEnd());
  lines.push('', `${report.stack}: ${report.healthy ? 'healthy' : 'UNHEALTHY'} (${report.layers.filter(l => !l.healthy).length} of ${report.layers.length} checks failing)`);
  return lines.join('\n');
}

