// A stand-in for CloudWatch's evaluation of the consumer-lag search `status` and `status --doctor` send:
// SEARCH('{AWS/Kafka,"Cluster Name","Consumer Group",Topic} MetricName="EstimatedMaxTimeLag" "Cluster Name"="c"', 'Maximum', 60)
// with the dynamic label ${PROP('Dim.Consumer Group')}, over `AWS/Kafka` series with the dimensions MSK publishes them with
// (Cluster Name, Consumer Group, Topic: https://docs.aws.amazon.com/msk/latest/developerguide/consumer-lag.html). Each
// matching series comes back as its own MetricDataResult under the query's Id, labelled with its group
// (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/graph-dynamic-labels.html: the dynamic label applies to
// every metric the search returns; https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_MetricDataResult.html).
// Anything else in the expression or label throws, so a test cannot pass on a query this stand-in does not understand.
import type { MetricDataQuery, MetricDataResult } from '@aws-sdk/client-cloudwatch';

/** One `EstimatedMaxTimeLag` series (seconds, newest first, one a minute). */
export interface LagSeries {
  readonly group: string;
  readonly topic: string;
  readonly values: number[];
  /** @default 'agent-kafka' */
  readonly cluster?: string;
  /** Minutes between the request's EndTime and the newest value. @default 0 */
  readonly ageMinutes?: number;
}

/** The end of the window the tests' clock asks for. */
export const LAG_END = new Date('2026-01-01T00:10:00Z');

/** The results CloudWatch returns for one consumer-lag query: one per matching series, newest first. */
export function searchLag(query: MetricDataQuery, lag: LagSeries[], end: Date = LAG_END): MetricDataResult[] {
  const search = /^SEARCH\('(.*)', 'Maximum', 60\)$/.exec(query.Expression ?? '')?.[1];
  if (search === undefined) throw new Error(`not a SEARCH(...) of 60 s Maximum: ${query.Expression}`);
  if (query.Label !== "${PROP('Dim.Consumer Group')}") throw new Error(`not labelled with the group: ${query.Label}`);
  const m = /^\{AWS\/Kafka,"Cluster Name","Consumer Group",Topic\} MetricName="EstimatedMaxTimeLag" "Cluster Name"="((?:[^"\\]|\\.)+)"$/.exec(search);
  if (!m) throw new Error(`terms this stand-in does not evaluate: ${search}`);
  const cluster = m[1].replace(/\\(.)/g, '$1');
  return lag.filter(l => (l.cluster ?? 'agent-kafka') === cluster).map(l => ({
    Id: query.Id, Label: l.group, StatusCode: 'Complete',
    Timestamps: l.values.map((_, i) => new Date(end.getTime() - ((l.ageMinutes ?? 0) + i) * 60_000)),
    Values: l.values,
  }));
}
