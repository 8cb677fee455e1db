// The consumer-lag check of `status` and `status --doctor`: MSK `EstimatedMaxTimeLag` per consumer group, judged as the
// `ConsumerLag…` alarms judge it (constructs/governance/private/pipeline-sections.ts, consumerLagThresholdSeconds).
// MSK computes consumer lag from committed offsets (https://docs.aws.amazon.com/msk/latest/developerguide/consumer-lag.html)
// and Flink's Kafka source commits offsets only when a checkpoint completes
// (https://nightlies.apache.org/flink/flink-docs-stable/docs/connectors/datastream/kafka/#consumer-offset-committing),
// so the committed lag of a healthy Flink group saws up to its checkpoint interval: a Flink group (named, with its
// application's interval, in the stack's OperationsManifest) is allowed its checkpoint interval + the limit, every other
// group the limit.
//
// One search returns every group's series and the groups are told apart here, by name, so no search has to list (or
// exclude) the Flink groups: the earlier exclusion list outgrew the 1024 characters of one search at about ten Flink
// groups and the sinks' row went unread. The search:
// - `{AWS/Kafka,"Cluster Name","Consumer Group",Topic}`: the metric schema, i.e. only metrics with exactly these dimensions,
//   the set the stack's `ConsumerLag…` alarms read (cluster-base.ts lagMetric) and MSK's Serverless table lists
//   (https://docs.aws.amazon.com/msk/latest/developerguide/serverless-monitoring.html; the provisioned tables,
//   metrics-details.html, print only `Consumer Group, Topic`, but the searches before this one matched on "Cluster Name"
//   too); `EstimatedMaxTimeLag` is a DEFAULT-level metric, the partition-level one is `EstimatedTimeLag`; search
//   syntax, the exact-match escapes (`"`, `\`, `(`, `)`) and its limits (1024 characters; a graph shows 500 time series):
//   https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/search-expression-syntax.html; GetMetricData retrieves
//   as many as 500 metrics a request and reports what it left out in `Messages` and each result's `StatusCode`
//   (https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_GetMetricData.html).
// - no `MAX(...)` around it: one series per group and topic comes back, each labelled with its group by the dynamic label
//   `${PROP('Dim.Consumer Group')}` ("the value of the specified dimension"; "if you use a dynamic label with a search
//   expression, the dynamic label applies to every metric returned by the search":
//   https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/graph-dynamic-labels.html).
// Why not a Metrics Insights `SELECT MAX(EstimatedMaxTimeLag) FROM SCHEMA(...) GROUP BY "Consumer Group"`: it would return
// one series per group, but what each series' `Label` holds is not documented (the Metrics Insights pages define a label
// as a dimension key-value pair; MetricDataResult.Label is "the human-readable label associated with the data":
// https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/cloudwatch-metrics-insights-querylanguage.html,
// https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_MetricDataResult.html), and telling the groups
// apart is the whole point; the dynamic label of a search is documented.
import { CloudWatchClient, GetMetricDataCommand, type MetricDataResult } from '@aws-sdk/client-cloudwatch';
import { consumerLagLimitSeconds, type OperationsManifest } from '../../contract/operations-manifest';

/** A consumer group of a Flink application, as the manifest names it. */
export interface FlinkGroup {
  readonly group: string;
  readonly application: string;
  readonly checkpointIntervalSeconds: number;
}

/** One judged lag: the other groups of a cluster (resource = the cluster) or one Flink group (resource = the group). */
export interface ConsumerLag {
  readonly resource: string;
  /**
   * Latest `EstimatedMaxTimeLag` (s, 1-minute Maximum): the highest of the newest datapoints of the group's topics in the
   * last 10 minutes; for the cluster row, that of its worst group. Undefined when none was published in 10 minutes.
   */
  readonly value?: number;
  /** Seconds above which the lag fails. */
  readonly limit: number;
  /** Why the limit is what it is and, for the cluster row, which group is worst (shown in the row). */
  readonly basis: string;
  /** Set when CloudWatch answered only in part (the reason is also in `basis`): a lag within the limit is not proof. */
  readonly partial?: string;
}

/** The search's dynamic label: each series' `Consumer Group` dimension (a literal `${...}`, not a template). */
const LAG_LABEL = "${PROP('Dim.Consumer Group')}";
/** CloudWatch's limit on the time series one search returns (500 metrics a GetMetricData request; 500 time series a graph). */
const MAX_SERIES = 500;
/** How far back a datapoint counts, and the period of the search (MSK publishes every minute). */
const WINDOW_MINUTES = 10;
const PERIOD_SECONDS = 60;

/** The Flink groups the manifest names with their application's checkpoint interval (none for manifests without them). */
export function flinkGroupsOf(m: OperationsManifest | undefined): FlinkGroup[] {
  return (m?.flink ?? []).flatMap(f => (f.checkpointIntervalMs === undefined ? [] : (f.consumerGroups ?? []).map(group => ({
    group, application: f.applicationName, checkpointIntervalSeconds: f.checkpointIntervalMs! / 1000,
  }))));
}

/** An exact-match search term: `"`, `\`, `(` and `)` escaped with a backslash. */
function exact(value: string): string {
  return `"${value.replace(/["\\()]/g, c => `\\${c}`)}"`;
}

/** The search for every `EstimatedMaxTimeLag` series (one per group and topic) of one cluster. */
export function lagSearch(cluster: string): string {
  const search = `{AWS/Kafka,"Cluster Name","Consumer Group",Topic} MetricName="EstimatedMaxTimeLag" "Cluster Name"=${exact(cluster)}`;
  return `SEARCH('${search}', 'Maximum', ${PERIOD_SECONDS})`;
}

/**
 * Per group, the highest of its series' (topics') newest datapoints. Newest first (ScanBy TimestampDescending), a page
 * after the first continues series already seen with older datapoints, so a group already read is not read again there
 * (a topic of it first seen on a later page would be missed; 500 series of 10 minutes, 5,000 datapoints, fit the first
 * page: GetMetricData returns up to 100,800 datapoints a call, API_GetMetricData.html).
 */
class GroupLatest {
  private readonly byGroup = new Map<string, number>();

  addPage(results: MetricDataResult[]): void {
    const page = new Map<string, number>();
    for (const r of results) {
      const values = r.Values ?? [];
      if (values.length === 0) continue;
      // Timestamps[i] belongs to Values[i] (API_MetricDataResult); without them, the first value is the newest.
      const times = values.map((_, i) => r.Timestamps?.[i]?.getTime() ?? -i);
      const newest = times.indexOf(Math.max(...times));
      const group = r.Label ?? '';
      page.set(group, Math.max(page.get(group) ?? -Infinity, values[newest]));
    }
    for (const [group, value] of page) if (!this.byGroup.has(group)) this.byGroup.set(group, value);
  }

  get(group: string): number | undefined {
    return this.byGroup.get(group);
  }

  /** The group (other than `exclude`) with the highest latest lag. */
  worst(exclude: Set<string>): { group: string; value: number } | undefined {
    let worst: { group: string; value: number } | undefined;
    for (const [group, value] of this.byGroup) {
      if (!exclude.has(group) && (!worst || value > worst.value)) worst = { group, value };
    }
    return worst;
  }
}

/** Every page of the search's answer, merged per group; with the reasons the answer is incomplete, if it is. */
async function readLag(cw: CloudWatchClient, cluster: string, now: Date): Promise<{ latest: GroupLatest; partial: string[] }> {
  const latest = new GroupLatest();
  const partial = new Set<string>();
  let token: string | undefined;
  let series = 0;
  do {
    const out = await cw.send(new GetMetricDataCommand({
      StartTime: new Date(now.getTime() - WINDOW_MINUTES * 60_000), EndTime: now, ScanBy: 'TimestampDescending', NextToken: token,
      MetricDataQueries: [{ Id: 'lag', Expression: lagSearch(cluster), Label: LAG_LABEL, ReturnData: true }],
    }));
    // A message here is about the whole request, e.g. "Maximum number of allowed metrics exceeded" (API_GetMetricData).
    for (const m of out.Messages ?? []) partial.add(`CloudWatch: ${m.Value ?? m.Code}`);
    latest.addPage(out.MetricDataResults ?? []);
    for (const r of out.MetricDataResults ?? []) {
      // PartialData: more datapoints follow with NextToken; InternalError or Forbidden: this series' data is missing.
      if (r.StatusCode === 'InternalError' || r.StatusCode === 'Forbidden') {
        partial.add(`CloudWatch answered ${r.StatusCode}${(r.Messages ?? []).map(m => `: ${m.Value ?? m.Code}`).join('')}`);
      }
    }
    // Later pages continue the same series with older datapoints, so the most series on one page is how many were found.
    series = Math.max(series, (out.MetricDataResults ?? []).length);
    token = out.NextToken;
  } while (token);
  if (series >= MAX_SERIES) partial.add(`${series} series, CloudWatch's limit for one search: groups beyond it were not read`);
  return { latest, partial: [...partial] };
}

/**
 * The consumer lag of one MSK cluster: one row for every group that is not a Flink group of the manifest (the sinks'; on
 * a stack without Flink groups in its manifest, every group), holding the worst of them against `maxLag` and naming it;
 * and one row per Flink group against its application's checkpoint interval + `maxLag`.
 */
export async function consumerLags(cw: CloudWatchClient, clusterArn: string, maxLag: number, flink: FlinkGroup[], now: Date): Promise<ConsumerLag[]> {
  const cluster = clusterArn.split('/')[1];
  const { latest, partial } = await readLag(cw, cluster, now);
  const incomplete = partial.length > 0 ? partial.join('; ') : undefined;
  const note = incomplete ? { partial: incomplete } : {};
  const basis = (...parts: (string | undefined)[]) => [...parts, incomplete && `partial read: ${incomplete}`].filter(p => p).join('; ');
  const worst = latest.worst(new Set(flink.map(f => f.group)));
  return [
    {
      resource: cluster, value: worst?.value, limit: maxLag, ...note,
      basis: basis(flink.length > 0 ? 'groups other than the Flink groups' : undefined, worst && `worst ${worst.group}`),
    },
    ...flink.map(f => ({
      resource: f.group, value: latest.get(f.group), limit: consumerLagLimitSeconds(maxLag, f.checkpointIntervalSeconds), ...note,
      basis: basis(`${f.application} checkpoint interval ${f.checkpointIntervalSeconds} s + ${maxLag} s: Flink commits offsets only when a checkpoint completes`),
    })),
  ];
}
