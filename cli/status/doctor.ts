// `agent-data-stack status --doctor`: the checks that say what breaks a pipeline, each with the runbook step that fixes it.
// Request and response shapes: MSK Connect DescribeConnector (https://docs.aws.amazon.com/MSKC/latest/mskc/API_DescribeConnector.html),
// Managed Flink DescribeApplication (https://docs.aws.amazon.com/managed-flink/latest/apiv2/API_DescribeApplication.html),
// CloudWatch GetMetricData (https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_GetMetricData.html).
import { DescribeConnectorCommand } from '@aws-sdk/client-kafkaconnect';
import { DescribeApplicationCommand } from '@aws-sdk/client-kinesis-analytics-v2';
import {
  AGENT_METRIC_DIMENSIONS, AWS_METRIC_DIMENSIONS, AWS_METRIC_NAMESPACES, SINK_METRIC_NAMES,
} from '../../contract/metric-names';
import type { ManifestMetric, ManifestSource, OperationsManifest } from '../../contract/operations-manifest';
import { isCredentialsError, UserError } from '../command';
import type { StatusClients } from './clients';
import { consumerLags, FlinkGroup, flinkGroupsOf } from './consumer-lag';
import { discoverResources } from './discovery';
import { metricValues } from './metrics';

export type DoctorStatus = 'ok' | 'warn' | 'fail';

export interface DoctorCheck {
  /** What is checked: 'slot-lag', 'wal-headroom', 'binlog', 'connector', 'connector-tasks', 'cdc-lag', 'flink', 'flink-restarts', 'consumer-lag', 'freshness', 'dead-letters', 'manifest'. */
  readonly check: string;
  /** The source, connector, application, cluster or view it is about. */
  readonly resource: string;
  readonly status: DoctorStatus;
  /** The measured value and the limit it was compared with. */
  readonly value: string;
  /** The runbook section (docs/OPERATIONS.md#...) and the step that fixes a failure. */
  readonly runbook: string;
  readonly fix: string;
}

export interface DoctorReport {
  readonly stack: string;
  /** False when any check failed (warnings do not fail). */
  readonly healthy: boolean;
  readonly checkedAt: string;
  readonly checks: DoctorCheck[];
}

export interface DoctorOptions {
  /**
   * Highest acceptable MSK `EstimatedMaxTimeLag` in seconds; a Flink group the manifest names is allowed its
   * application's checkpoint interval on top, as its alarm is. @default 30
   */
  readonly maxConsumerLagSeconds?: number;
  /** Freshness objective for views without `maxStaleness`. @default - the manifest's, else 5000 ms */
  readonly freshnessSloMs?: number;
  /** @default () => new Date() */
  readonly clock?: () => Date;
}

const OPS = 'docs/OPERATIONS.md#';
/** Runbook section and step per check. test/governance/doctor.test.ts checks every anchor exists in docs/OPERATIONS.md. */
export const DOCTOR_RUNBOOK: Record<string, { readonly anchor: string; readonly fix: string }> = {
  'slot-lag': {
    anchor: 'replication-slot-lag-and-wal-growth-postgresql--binlog-growth-mysql',
    fix: 'Step 1: is the connector running? Step 2: which slot holds WAL (pg_replication_slots); drop a foreign inactive slot.',
  },
  'wal-headroom': {
    anchor: 'replication-slot-lag-and-wal-growth-postgresql--binlog-growth-mysql',
    fix: 'Step 4: free storage is below what the slot may still hold; raise allocated storage or lower maxSlotWalKeepSize before the disk fills.',
  },
  'binlog': {
    anchor: 'replication-slot-lag-and-wal-growth-postgresql--binlog-growth-mysql',
    fix: 'MySQL paragraph: bring the connector back within binlogRetention, or it re-snapshots (snapshotMode when_needed).',
  },
  'connector': {
    anchor: 'connector-restart-and-re-snapshot',
    fix: 'Read the worker log group for the reason, fix it, then replace the connector (new connectorOptions.connectorName) and deploy.',
  },
  'connector-tasks': {
    anchor: 'connector-restart-and-re-snapshot',
    fix: 'A task is in error: read the worker log group; a lost slot is fixed by slotRecoveryVersion, anything else by a new connector name.',
  },
  'cdc-lag': {
    anchor: 'replication-slot-invalidated-postgresql',
    fix: 'No recent heartbeat at the sinks: check the connector log for "Cannot obtain valid replication slot" (then: new slotRecoveryVersion, deploy).',
  },
  'flink': {
    anchor: 'flink-job-failed-or-falling-behind',
    fix: 'Step 1: the exception is in the application log group (FlinkSqlApplication.logGroup); fix the SQL or tables and deploy.',
  },
  'flink-restarts': {
    anchor: 'flink-job-failed-or-falling-behind',
    fix: 'Step 1: the job restarts while the application shows RUNNING; read the exception in its log group.',
  },
  'consumer-lag': {
    anchor: 'when-the-workload-grows',
    fix: 'A consumer falls behind: raise the bound of the layer that is at its limit (Flink parallelism, sink pollers), see the table. A Flink group past its checkpoint interval + the limit: also check that its checkpoints complete (FlinkCheckpoints alarm).',
  },
  'freshness': {
    anchor: 'how-stale-is-what-agents-see',
    fix: 'Follow CdcLag and consumer lag to the layer that is late; a view alone behind points at its Flink job or its sink.',
  },
  'dead-letters': {
    anchor: 'rebuilding-a-store-by-replaying-kafka',
    fix: 'Step 5: read the error in the dead letters, fix the cause, then `agent-data-stack replay-dead-letters --view VIEW`.',
  },
  'manifest': {
    anchor: 'status---doctor',
    fix: 'The stack has no OperationsManifest output (deployed with an older version): deploy this version for per-source and per-view checks.',
  },
};

const GIB = 1024 ** 3;

function row(check: string, resource: string, status: DoctorStatus, value: string): DoctorCheck {
  const rb = DOCTOR_RUNBOOK[check];
  return { check, resource, status, value, runbook: `${OPS}${rb.anchor}`, fix: rb.fix };
}

/** An API error fails that check instead of stopping the report (credential errors still stop it). */
async function guarded(check: string, resource: string, run: () => Promise<DoctorCheck[]>): Promise<DoctorCheck[]> {
  try {
    return await run();
  } catch (e) {
    if (isCredentialsError(e)) throw e;
    return [row(check, resource, 'fail', `${(e as Error).name}: ${(e as Error).message}`)];
  }
}

export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = bytes;
  let i = 0;
  while (Math.abs(v) >= 1024 && i < units.length - 1) { v /= 1024; i++; }
  return `${Math.round(v * 10) / 10} ${units[i]}`;
}

function sourceChecks(c: StatusClients, s: ManifestSource, now: Date): Promise<DoctorCheck[]> {
  return guarded(s.engine === 'postgres' ? 'slot-lag' : 'binlog', s.name, async () => {
    const out: DoctorCheck[] = [];
    const latest = async (m: ManifestMetric | undefined, stat: string) => (m ? (await metricValues(c.cloudWatch, m, stat, now, 15, 300))[0] : undefined);
    const free = await latest(s.freeStorage, 'Minimum');
    if (s.engine === 'mysql') {
      const size = await latest(s.binLogDiskUsage, 'Maximum');
      out.push(row('binlog', s.name, size === undefined ? 'warn' : 'ok',
        size === undefined ? 'no binlog size published in 15 minutes' : `${formatBytes(size)} of binlog kept (retention-bound, not by the connector)`));
      return out;
    }
    const lag = await latest(s.slotLag, 'Maximum');
    const keep = s.slotWalKeepBytes;
    // The same limit as the ReplicationSlotLag alarm: 1 GiB, or half of max_slot_wal_keep_size when that is lower.
    const limit = keep ? Math.min(GIB, Math.floor(keep / 2)) : GIB;
    if (lag === undefined) {
      out.push(row('slot-lag', s.name, 'warn', 'no slot lag published in 15 minutes (none until the connector creates its slot)'));
    } else {
      out.push(row('slot-lag', s.name, lag > limit ? 'fail' : 'ok', `${formatBytes(lag)} held by the oldest slot; limit ${formatBytes(limit)}`));
    }
    const held = lag ?? 0;
    if (keep) {
      const left = Math.max(0, keep - held);
      const diskFirst = free !== undefined && free < left;
      out.push(row('wal-headroom', s.name, diskFirst ? 'fail' : 'ok',
        `${formatBytes(left)} more WAL before max_slot_wal_keep_size (${formatBytes(keep)}) invalidates the slot`
        + (free === undefined ? '' : `; ${formatBytes(free)} free storage${diskFirst ? ': the disk fills first' : ''}`)));
    } else {
      out.push(row('wal-headroom', s.name, 'warn',
        `no max_slot_wal_keep_size: a stuck slot holds WAL until the disk is full${free === undefined ? '' : ` (${formatBytes(free)} free)`}`));
    }
    return out;
  });
}

function cdcLagCheck(c: StatusClients, m: OperationsManifest, s: ManifestSource, sloMs: number, now: Date): Promise<DoctorCheck[]> {
  return guarded('cdc-lag', s.name, async () => {
    const metric = { namespace: m.sinkMetrics.namespace, metricName: SINK_METRIC_NAMES.cdcLag, dimensions: { ...m.sinkMetrics.dimensions, [AGENT_METRIC_DIMENSIONS.topic]: s.heartbeatTopic } };
    const v = (await metricValues(c.cloudWatch, metric, 'Maximum', now, 10, 60))[0];
    // Heartbeats flow without table changes: silence means the path is broken (as the CdcLag alarm treats it).
    if (v === undefined) return [row('cdc-lag', s.name, 'fail', `no heartbeat from ${s.heartbeatTopic} at the sinks in 10 minutes`)];
    return [row('cdc-lag', s.name, v > sloMs ? 'fail' : 'ok', `${Math.round(v)} ms; limit ${sloMs} ms`)];
  });
}

function connectorChecks(c: StatusClients, arn: string, now: Date): Promise<DoctorCheck[]> {
  return guarded('connector', arn, async () => {
    const out = await c.kafkaConnect.send(new DescribeConnectorCommand({ connectorArn: arn }));
    const name = out.connectorName ?? arn;
    const state = out.connectorState ?? 'UNKNOWN';
    // CREATING and UPDATING are a deploy in progress, not a failure.
    const status: DoctorStatus = state === 'RUNNING' ? 'ok' : ['CREATING', 'UPDATING'].includes(state) ? 'warn' : 'fail';
    const rows = [row('connector', name, status, `${state}${out.stateDescription?.message ? `: ${out.stateDescription.message}` : ''}`)];
    const kc = (metricName: string) => ({ namespace: AWS_METRIC_NAMESPACES.kafkaConnect, metricName, dimensions: { [AWS_METRIC_DIMENSIONS.connectorName]: name } });
    const errored = await metricValues(c.cloudWatch, kc('ErroredTaskCount'), 'Maximum', now, 15, 300);
    const running = await metricValues(c.cloudWatch, kc('RunningTaskCount'), 'Minimum', now, 15, 300);
    if (errored.length === 0 && running.length === 0) rows.push(row('connector-tasks', name, 'warn', 'no task metrics in 15 minutes'));
    else {
      const e = Math.max(0, ...errored);
      const r = running.length > 0 ? Math.min(...running) : 0;
      rows.push(row('connector-tasks', name, e > 0 || r < 1 ? 'fail' : 'ok', `${r} running, ${e} errored (15 minutes)`));
    }
    return rows;
  });
}

function flinkChecks(c: StatusClients, name: string, now: Date): Promise<DoctorCheck[]> {
  return guarded('flink', name, async () => {
    const out = await c.flink.send(new DescribeApplicationCommand({ ApplicationName: name }));
    const detail = out.ApplicationDetail;
    const state = detail?.ApplicationStatus ?? 'UNKNOWN';
    const busy = ['STARTING', 'UPDATING', 'AUTOSCALING', 'MAINTENANCE'];
    const rows = [row('flink', name, state === 'RUNNING' ? 'ok' : busy.includes(state) ? 'warn' : 'fail', `${state} (${detail?.RuntimeEnvironment ?? 'unknown runtime'})`)];
    // The application stays RUNNING while its job restarts; Flink 2.2 counts them in numRestarts (fullRestarts is gone).
    const metricName = detail?.RuntimeEnvironment === 'FLINK-1_20' ? 'fullRestarts' : 'numRestarts';
    const values = await metricValues(c.cloudWatch, {
      namespace: AWS_METRIC_NAMESPACES.flink, metricName, dimensions: { [AWS_METRIC_DIMENSIONS.flinkApplication]: name },
    }, 'Maximum', now, 60, 300);
    if (values.length === 0) rows.push(row('flink-restarts', name, state === 'RUNNING' ? 'warn' : 'fail', `no ${metricName} in the last hour`));
    else {
      const restarts = Math.max(...values) - Math.min(...values);
      rows.push(row('flink-restarts', name, restarts > 0 ? 'fail' : 'ok', `${restarts} restart(s) in the last hour (${metricName})`));
    }
    return rows;
  });
}

/** One row for the cluster's groups other than the manifest's Flink groups, and one per Flink group (its own limit). */
function consumerLagCheck(c: StatusClients, clusterArn: string, maxLag: number, flink: FlinkGroup[], now: Date): Promise<DoctorCheck[]> {
  const name = clusterArn.split('/')[1];
  return guarded('consumer-lag', name, async () => (await consumerLags(c.cloudWatch, clusterArn, maxLag, flink, now)).map(l => {
    const basis = l.basis ? ` (${l.basis})` : '';
    // A partial read (l.partial, said in the basis) warns unless what was read already fails.
    if (l.value === undefined) return row('consumer-lag', l.resource, l.partial ? 'warn' : 'ok', `no lag published in 10 minutes${basis}`);
    return row('consumer-lag', l.resource, l.value > l.limit ? 'fail' : l.partial ? 'warn' : 'ok', `${Math.round(l.value)} s; limit ${l.limit} s${basis}`);
  }));
}

function viewChecks(c: StatusClients, m: OperationsManifest, view: OperationsManifest['views'][number], sloMs: number, now: Date): Promise<DoctorCheck[]> {
  const metric = (metricName: string) => ({
    namespace: m.sinkMetrics.namespace, metricName, dimensions: { ...m.sinkMetrics.dimensions, [AGENT_METRIC_DIMENSIONS.view]: view.name },
  });
  return guarded('freshness', view.name, async () => {
    const limit = view.maxStalenessMs ?? sloMs;
    const why = view.maxStalenessMs !== undefined ? 'maxStaleness' : 'freshness SLO';
    const p99 = (await metricValues(c.cloudWatch, metric(SINK_METRIC_NAMES.freshnessLag), 'p99', now, 10, 60))[0];
    const dead = await metricValues(c.cloudWatch, metric(SINK_METRIC_NAMES.recordsDeadLettered), 'Sum', now, 60, 3600);
    const deadCount = dead.reduce((a, b) => a + b, 0);
    return [
      p99 === undefined
        ? row('freshness', view.name, 'ok', `no writes in 10 minutes; limit ${limit} ms (${why})`)
        : row('freshness', view.name, p99 > limit ? 'fail' : 'ok', `p99 ${Math.round(p99)} ms; limit ${limit} ms (${why})`),
      row('dead-letters', view.name, deadCount > 0 ? 'fail' : 'ok', `${deadCount} in the last hour`),
    ];
  });
}

/** Runs every check the stack's outputs allow; per-source and per-view checks need its `OperationsManifest` output. */
export async function collectDoctorReport(c: StatusClients, stackName: string, options: DoctorOptions = {}): Promise<DoctorReport> {
  const now = (options.clock ?? (() => new Date()))();
  const res = await discoverResources(c.cloudformation, stackName);
  const m = res.manifest;
  if (!m && res.connectors.length === 0 && res.kafkaClusters.length === 0 && res.flinkApplications.length === 0) {
    throw new UserError(`Stack '${stackName}' has no outputs naming an MSK cluster, connector or Flink application, and no OperationsManifest. Deploy a stack built from cdk-agent-data-stack, or pass --stack NAME.`);
  }
  const sloMs = options.freshnessSloMs ?? m?.freshnessSloMs ?? 5000;
  const groups: Promise<DoctorCheck[]>[] = [];
  if (!m) groups.push(Promise.resolve([row('manifest', stackName, 'warn', 'no OperationsManifest output: source, CDC-lag, freshness and dead-letter checks skipped')]));
  for (const s of m?.sources ?? []) groups.push(sourceChecks(c, s, now));
  for (const arn of res.connectors) groups.push(connectorChecks(c, arn, now));
  for (const s of m?.sources ?? []) groups.push(cdcLagCheck(c, m!, s, sloMs, now));
  for (const name of res.flinkApplications) groups.push(flinkChecks(c, name, now));
  for (const arn of res.kafkaClusters) groups.push(consumerLagCheck(c, arn, options.maxConsumerLagSeconds ?? 30, flinkGroupsOf(m), now));
  for (const v of m?.views ?? []) groups.push(viewChecks(c, m!, v, sloMs, now));
  const checks = (await Promise.all(groups)).flat();
  return { stack: stackName, healthy: checks.every(x => x.status !== 'fail'), checkedAt: now.toISOString(), checks };
}

export function formatDoctorTable(report: DoctorReport): string {
  const rows = [['CHECK', 'RESOURCE', 'STATUS', 'VALUE', 'RUNBOOK'],
    ...report.checks.map(x => [x.check, x.resource, x.status.toUpperCase(), x.value, x.runbook])];
  const widths = rows[0].map((_, i) => Math.max(...rows.map(r => r[i].length)));
  const lines = rows.map(r => r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]))).join('  ').trimEnd());
  const todo = report.checks.filter(x => x.status !== 'ok');
  if (todo.length > 0) lines.push('', 'What to do:', ...todo.map(x => `  ${x.status.toUpperCase()} ${x.check} ${x.resource}: ${x.fix} (${x.runbook})`));
  const failing = report.checks.filter(x => x.status === 'fail').length;
  lines.push('', `${report.stack}: ${report.healthy ? 'healthy' : 'UNHEALTHY'} (${failing} of ${report.checks.length} checks failing, ${todo.length - failing} warning)`);
  return lines.join('\n');
}
