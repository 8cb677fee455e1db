// consumerLags (cli/status/consumer-lag.ts) against a mocked CloudWatch answering GetMetricData in its documented shape
// (https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_GetMetricData.html,
// https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_MetricDataResult.html): the one search's series
// are told apart by group, across pages, and an incomplete answer is said rather than read as healthy.
import { CloudWatchClient, GetMetricDataCommand, type GetMetricDataCommandInput, type MetricDataResult } from '@aws-sdk/client-cloudwatch';
import { mockClient } from 'aws-sdk-client-mock';
import { consumerLags, FlinkGroup, lagSearch } from '../../cli/status/consumer-lag';
import { LAG_END, LagSeries, searchLag } from '../helpers/consumer-lag-search';

const cw = mockClient(CloudWatchClient);
const ARN = 'arn:aws:kafka:us-east-1:123456789012:cluster/agent-kafka/0f1e-2d3c';
const FLINK: FlinkGroup[] = [{ group: 'flink.orders-join.orders', application: 'orders-join', checkpointIntervalSeconds: 60 }];
const lags = (flink: FlinkGroup[] = FLINK, maxLag = 30) => consumerLags(new CloudWatchClient({ region: 'us-east-1' }), ARN, maxLag, flink, LAG_END);

/** The search's results, as `searchLag` evaluates them, in pages of `perPage` results with a NextToken between. */
function answer(series: LagSeries[], perPage = 1000, extra: (r: MetricDataResult[]) => Partial<{ Messages: { Code: string; Value: string }[] }> = () => ({})) {
  cw.on(GetMetricDataCommand).callsFake((input: GetMetricDataCommandInput) => {
    const all = searchLag(input.MetricDataQueries![0], series);
    const start = input.NextToken ? Number(input.NextToken) : 0;
    const page = all.slice(start, start + perPage);
    return { MetricDataResults: page, ...(start + perPage < all.length ? { NextToken: String(start + perPage) } : {}), ...extra(page) };
  });
}

beforeEach(() => cw.reset());
afterAll(() => cw.restore());

describe('consumerLags', () => {
  test('a group is the highest of its topics\' newest datapoints, one of them a minute older', async () => {
    answer([
      { group: 'flink.orders-join.orders', topic: 'a', values: [50, 10] },
      { group: 'flink.orders-join.orders', topic: 'b', values: [70, 95] },
      { group: 'agent-sink.orders', topic: 'agent.orders', values: [41, 2], ageMinutes: 1 },
      { group: 'agent-sink.orders', topic: 'agent.customers', values: [4] },
      { group: 'agent-sink.customers', topic: 'agent.customers', values: [12] },
    ]);
    const [others, orders] = await lags();
    expect(orders).toMatchObject({ resource: 'flink.orders-join.orders', value: 70, limit: 90 });
    expect(others).toMatchObject({ resource: 'agent-kafka', value: 41, limit: 30, basis: 'groups other than the Flink groups; worst agent-sink.orders' });
    expect(others.partial).toBeUndefined();
  });

  test('pages (NextToken) are read to the end and merged per group', async () => {
    answer([
      { group: 'flink.orders-join.orders', topic: 'a', values: [20] },
      { group: 'agent-sink.orders', topic: 'agent.orders', values: [5] },
      { group: 'agent-sink.customers', topic: 'agent.customers', values: [33] },
    ], 1);
    const [others, orders] = await lags();
    expect(cw.commandCalls(GetMetricDataCommand).map(c => c.args[0].input.NextToken)).toEqual([undefined, '1', '2']);
    expect(orders.value).toBe(20);
    expect(others).toMatchObject({ value: 33, basis: 'groups other than the Flink groups; worst agent-sink.customers' });
  });

  test('a later page continues the series already read with older datapoints: they do not replace the newest', async () => {
    const at = (minutesAgo: number) => new Date(LAG_END.getTime() - minutesAgo * 60_000);
    cw.on(GetMetricDataCommand)
      .resolvesOnce({ MetricDataResults: [{ Id: 'lag', Label: 'agent-sink.orders', StatusCode: 'PartialData', Timestamps: [at(0), at(1)], Values: [5, 6] }], NextToken: 'more' })
      .resolvesOnce({ MetricDataResults: [
        { Id: 'lag', Label: 'agent-sink.orders', StatusCode: 'Complete', Timestamps: [at(2), at(3)], Values: [80, 90] },
        { Id: 'lag', Label: 'flink.orders-join.orders', StatusCode: 'Complete', Timestamps: [at(0)], Values: [66] },
      ] });
    const [others, orders] = await lags();
    expect(others).toMatchObject({ value: 5, basis: 'groups other than the Flink groups; worst agent-sink.orders' });
    expect(orders.value).toBe(66);
    expect(others.partial).toBeUndefined();
  });

  test('without Flink groups in the manifest every group is in the cluster row, the worst named', async () => {
    answer([{ group: 'flink.orders-join.orders', topic: 'a', values: [70] }, { group: 'agent-sink.orders', topic: 'agent.orders', values: [5] }]);
    expect(await lags([])).toEqual([{ resource: 'agent-kafka', value: 70, limit: 30, basis: 'worst flink.orders-join.orders' }]);
  });

  test('nothing published: no value, no group named; a Flink group without series has no value either', async () => {
    answer([]);
    expect(await lags()).toEqual([
      { resource: 'agent-kafka', value: undefined, limit: 30, basis: 'groups other than the Flink groups' },
      expect.objectContaining({ resource: 'flink.orders-join.orders', value: undefined, limit: 90 }),
    ]);
  });

  test('a series CloudWatch could not read (Forbidden, InternalError) and request-level messages make every row partial', async () => {
    cw.on(GetMetricDataCommand).resolves({
      MetricDataResults: [
        { Id: 'lag', Label: 'agent-sink.orders', StatusCode: 'Complete', Timestamps: [LAG_END], Values: [3] },
        { Id: 'lag', Label: 'agent-sink.customers', StatusCode: 'Forbidden', Messages: [{ Code: 'Forbidden', Value: 'not authorized' }], Timestamps: [], Values: [] },
        { Id: 'lag', Label: 'agent-sink.billing', StatusCode: 'InternalError', Timestamps: [], Values: [] },
      ],
      Messages: [{ Code: 'MaxMetricsExceeded', Value: 'Maximum number of allowed metrics exceeded' }],
    });
    const rows = await lags();
    const why = 'CloudWatch: Maximum number of allowed metrics exceeded; CloudWatch answered Forbidden: not authorized; CloudWatch answered InternalError';
    expect(rows[0]).toMatchObject({ value: 3, partial: why, basis: `groups other than the Flink groups; worst agent-sink.orders; partial read: ${why}` });
    expect(rows[1].partial).toBe(rows[0].partial);
  });

  test('500 series, the most one search returns, is said to be partial', async () => {
    answer(Array.from({ length: 500 }, (_, i) => ({ group: `agent-sink.g${i}`, topic: 't', values: [1] })));
    const [others] = await lags();
    expect(others.partial).toBe("500 series, CloudWatch's limit for one search: groups beyond it were not read");
  });

  test('the cluster name is an exact-match term, its special characters escaped', () => {
    expect(lagSearch('a"b(c)\\d')).toBe(`SEARCH('{AWS/Kafka,"Cluster Name","Consumer Group",Topic} MetricName="EstimatedMaxTimeLag" "Cluster Name"="a\\"b\\(c\\)\\\\d"', 'Maximum', 60)`);
  });
});
