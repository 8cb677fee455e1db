// CloudWatch reads shared by `status` and `status --doctor` (GetMetricData, newest datapoint first).
import { CloudWatchClient, GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import type { ManifestMetric } from '../../contract/operations-manifest';

/** Latest value of MAX(SEARCH(...)) over the last 10 minutes, or undefined when nothing was published. */
export async function latestMax(cw: CloudWatchClient, search: string, stat: string, now: Date): Promise<number | undefined> {
  const out = await cw.send(new GetMetricDataCommand({
    StartTime: new Date(now.getTime() - 10 * 60_000),
    EndTime: now,
    ScanBy: 'TimestampDescending',
    MetricDataQueries: [{ Id: 'q', Expression: `MAX(SEARCH('${search}', '${stat}', 60))`, ReturnData: true }],
  }));
  const values = out.MetricDataResults?.[0]?.Values ?? [];
  return values.length > 0 ? values[0] : undefined;
}

/** Datapoints of one metric and statistic over the last `windowMinutes`, newest first (empty when nothing was published). */
export async function metricValues(
  cw: CloudWatchClient, metric: ManifestMetric, stat: string, now: Date, windowMinutes: number, periodSeconds: number,
): Promise<number[]> {
  const out = await cw.send(new GetMetricDataCommand({
    StartTime: new Date(now.getTime() - windowMinutes * 60_000),
    EndTime: now,
    ScanBy: 'TimestampDescending',
    MetricDataQueries: [{
      Id: 'm',
      MetricStat: {
        Metric: {
          Namespace: metric.namespace, MetricName: metric.metricName,
          Dimensions: Object.entries(metric.dimensions).map(([Name, Value]) => ({ Name, Value })),
        },
        Period: periodSeconds, Stat: stat,
      },
      ReturnData: true,
    }],
  }));
  return out.MetricDataResults?.[0]?.Values ?? [];
}
