// The consumer-lag check of `status` and `status --doctor`: MSK `EstimatedMaxTimeLag` per cluster, judged as the
// `ConsumerLag…` alarms judge it (constructs/governance/private/pipeline-sections.ts, consumerLagThresholdSeconds).
// MSK computes consumer lag from committed offsets (https://docs.aws.amazon.com/msk/latest/developerguide/consumer-lag.html)
// and Flink's Kafka source commits offsets only when a checkpoint completes
// (https://nightlies.apache.org/flink/flink-docs-stable/docs/connectors/datastream/kafka/#consumer-offset-committing),
// so the committed lag of a healthy Flink group saws up to its checkpoint interval: a Flink group (named, with its
// application's interval, in the stack's OperationsManifest) is allowed its checkpoint interval + the limit, every other
// group the limit. Search syntax (exact match, NOT, 1024 characters):
// https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/search-expression-syntax.html.
import { CloudWatchClient, GetMetricDataCommand, type MetricDataQuery } from '@aws-sdk/client-cloudwatch';
import { consumerLagLimitSeconds, type OperationsManifest } from '../../contract/operations-manifest';
import { latestMax } from './metrics';

/** A consumer group of a Flink application, as the manifest names it. */
export interface FlinkGroup {
  readonly group: string;
  readonly application: string;
  readonly checkpointIntervalSeconds: number;
}

/** One judged lag: the other groups of a cluster (resource = the cluster) or one Flink group (resource = the group). */
export interface ConsumerLag {
  readonly resource: string;
  /** Latest `EstimatedMaxTimeLag` (s, Maximum over the group's topics and partitions); undefined when none in 10 minutes. */
  readonly value?: number;
  /** Seconds above which the lag fails. */
  readonly limit: number;
  /** Why the limit is what it is, for the row ('' for the plain limit on a stack without Flink groups). */
  readonly basis: string;
  /** Set when the lag could not be asked for (the row warns with this reason instead of judging). */
  readonly skipped?: string;
}

const LAG_SEARCH = 'Namespace="AWS/Kafka" MetricName="EstimatedMaxTimeLag"';
/** CloudWatch's limit on a search expression's query. */
const MAX_SEARCH_CHARS = 1024;
/** Search expressions per GetMetricData request (a graph takes 100; stay well below). */
const QUERIES_PER_REQUEST = 50;

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

/**
 * The search for every group of the cluster but the Flink groups, each excluded by exact name; undefined when that does
 * not fit in one search. (A partial-match `NOT "Consumer Group"=flink` would be shorter but also drops sink groups whose
 * name holds the token, such as the sink's group of a `…flink.orders_enriched` topic.)
 */
function othersSearch(cluster: string, flink: FlinkGroup[]): string | undefined {
  const search = `${LAG_SEARCH} "Cluster Name"=${exact(cluster)}${flink.map(f => ` NOT "Consumer Group"=${exact(f.group)}`).join('')}`;
  return search.length <= MAX_SEARCH_CHARS ? search : undefined;
}

/**
 * The consumer lag of one MSK cluster. Without Flink groups in the manifest (an older stack, or no Flink application):
 * one row for the whole cluster against `maxLag`, as before. With them: one row for every other group (the sinks')
 * against `maxLag`, and one per Flink group against its application's checkpoint interval + `maxLag`.
 */
export async function consumerLags(cw: CloudWatchClient, clusterArn: string, maxLag: number, flink: FlinkGroup[], now: Date): Promise<ConsumerLag[]> {
  const cluster = clusterArn.split('/')[1];
  if (flink.length === 0) {
    const value = await latestMax(cw, `${LAG_SEARCH} "Cluster Name"="${cluster}"`, 'Maximum', now);
    return [{ resource: cluster, value, limit: maxLag, basis: '' }];
  }
  const others = othersSearch(cluster, flink);
  const searches = [
    ...(others ? [{ id: 'others', search: others }] : []),
    ...flink.map((f, i) => ({ id: `flink${i}`, search: `${LAG_SEARCH} "Cluster Name"=${exact(cluster)} "Consumer Group"=${exact(f.group)}` })),
  ];
  const latest = new Map<string, number>();
  for (let i = 0; i < searches.length; i += QUERIES_PER_REQUEST) {
    const queries: MetricDataQuery[] = searches.slice(i, i + QUERIES_PER_REQUEST).map(s => ({
      Id: s.id, Expression: `MAX(SEARCH('${s.search}', 'Maximum', 60))`, ReturnData: true,
    }));
    let token: string | undefined;
    do {
      const out = await cw.send(new GetMetricDataCommand({
        StartTime: new Date(now.getTime() - 10 * 60_000), EndTime: now, ScanBy: 'TimestampDescending', MetricDataQueries: queries, NextToken: token,
      }));
      // Newest first: the first value seen for an id is its latest (later pages hold older values).
      for (const r of out.MetricDataResults ?? []) {
        if (r.Id && !latest.has(r.Id) && (r.Values ?? []).length > 0) latest.set(r.Id, r.Values![0]);
      }
      token = out.NextToken;
    } while (token);
  }
  return [
    {
      resource: cluster, value: latest.get('others'), limit: maxLag, basis: 'groups other than the Flink groups',
      ...(others ? {} : { skipped: `excluding ${flink.length} Flink groups by name does not fit in one CloudWatch search (${MAX_SEARCH_CHARS} characters); see the sink groups' ConsumerLag alarms` }),
    },
    ...flink.map((f, i) => ({
      resource: f.group, value: latest.get(`flink${i}`), limit: consumerLagLimitSeconds(maxLag, f.checkpointIntervalSeconds),
      basis: `${f.application} checkpoint interval ${f.checkpointIntervalSeconds} s + ${maxLag} s: Flink commits offsets only when a checkpoint completes`,
    })),
  ];
}
