// A stand-in for CloudWatch's evaluation of the consumer-lag searches `status` and `status --doctor` send:
// MAX(SEARCH('Namespace="AWS/Kafka" MetricName="EstimatedMaxTimeLag" "Cluster Name"="c" ["Consumer Group"="g"] [NOT "Consumer Group"="g" ...]', 'Maximum', 60))
// over `AWS/Kafka` series with the dimensions MSK publishes them with (Cluster Name, Consumer Group, Topic:
// https://docs.aws.amazon.com/msk/latest/developerguide/consumer-lag.html). Exact-match terms only
// (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/search-expression-syntax.html); anything else throws,
// so a test cannot pass on a term this stand-in does not understand.

/** One `EstimatedMaxTimeLag` series (seconds, newest first). */
export interface LagSeries {
  readonly group: string;
  readonly topic: string;
  readonly values: number[];
  /** @default 'agent-kafka' */
  readonly cluster?: string;
}

/** The datapoints (newest first) CloudWatch returns for `expression`: per timestamp, the maximum of the matching series. */
export function searchLag(expression: string, lag: LagSeries[]): number[] {
  const search = /^MAX\(SEARCH\('(.*)', 'Maximum', 60\)\)$/.exec(expression)?.[1];
  if (search === undefined) throw new Error(`not a MAX(SEARCH(...)) of 60 s Maximum: ${expression}`);
  const value = '"((?:[^"\\\\]|\\\\.)+)"';
  const unescape = (v: string) => v.replace(/\\(.)/g, '$1');
  let rest = search.replace('Namespace="AWS/Kafka" MetricName="EstimatedMaxTimeLag"', '');
  const cluster = new RegExp(`"Cluster Name"=${value}`).exec(rest);
  if (!cluster) throw new Error(`no exact "Cluster Name" term: ${search}`);
  rest = rest.replace(cluster[0], '');
  const excluded = [...rest.matchAll(new RegExp(`NOT "Consumer Group"=${value}`, 'g'))].map(m => unescape(m[1]));
  rest = rest.replace(new RegExp(`NOT "Consumer Group"=${value}`, 'g'), '');
  const only = new RegExp(`"Consumer Group"=${value}`).exec(rest);
  if (only) rest = rest.replace(only[0], '');
  if (rest.trim() !== '') throw new Error(`terms this stand-in does not evaluate: '${rest.trim()}' in ${search}`);
  const matching = lag.filter(l => (l.cluster ?? 'agent-kafka') === unescape(cluster[1])
    && !excluded.includes(l.group) && (!only || l.group === unescape(only[1])));
  const length = Math.max(0, ...matching.map(l => l.values.length));
  return Array.from({ length }, (_, i) => Math.max(...matching.filter(l => i < l.values.length).map(l => l.values[i])));
}
