// Scales by itself within declared bounds: MSK broker storage auto scaling (Application Auto Scaling target tracking),
// per-profile bounds for the connector, Flink and the sink's pollers, and the dashboard's headroom row with its alarms.
// AWS: https://docs.aws.amazon.com/msk/latest/developerguide/msk-autoexpand.html,
// https://docs.aws.amazon.com/autoscaling/application/userguide/services-that-can-integrate-msk.html,
// https://docs.aws.amazon.com/lambda/latest/dg/kafka-scaling-modes.html.
import { Match, Template } from 'aws-cdk-lib/assertions';
import { AgentStreamingCluster, AgentStreamingClusterProps } from '../../constructs/streaming';
import { ViewFieldType, ViewStore } from '../../constructs/stores/view';
import { AgentDataStack, ViewSource } from '../../lib/agent-data-stack';
import { clusterPropsWith, DeploymentProfile, PRODUCTION_BROKER_STORAGE_SCALING, profileDefaults } from '../../lib/profiles';
import { TEST_ENV, testApp, testStack } from '../helpers/app';
import { exampleTemplate } from '../helpers/example-template';
import { network } from '../streaming/fixtures';

function cluster(props: Partial<AgentStreamingClusterProps>) {
  const stack = testStack(testApp());
  new AgentStreamingCluster(stack, 'Kafka', { vpc: network(stack, 3), ...props });
  return Template.fromStack(stack);
}

describe('AgentStreamingCluster storageAutoScaling', () => {
  test('registers the broker volume with Application Auto Scaling and tracks KafkaBrokerStorageUtilization, scale-out only', () => {
    const t = cluster({ storageAutoScaling: { maxVolumeSizeGiB: 1000 } });
    t.hasResourceProperties('AWS::ApplicationAutoScaling::ScalableTarget', {
      ServiceNamespace: 'kafka', ScalableDimension: 'kafka:broker-storage:VolumeSize',
      ResourceId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^Kafka'), 'Arn'] }, MinCapacity: 100, MaxCapacity: 1000,
    });
    t.hasResourceProperties('AWS::ApplicationAutoScaling::ScalingPolicy', {
      PolicyType: 'TargetTrackingScaling',
      TargetTrackingScalingPolicyConfiguration: {
        PredefinedMetricSpecification: { PredefinedMetricType: 'KafkaBrokerStorageUtilization' }, TargetValue: 60, DisableScaleIn: true,
      },
    });
  });

  test('the target and the starting size follow the props', () => {
    const t = cluster({ volumeSizeGiB: 200, storageAutoScaling: { maxVolumeSizeGiB: 4000, targetUtilizationPercent: 50 } });
    t.hasResourceProperties('AWS::ApplicationAutoScaling::ScalableTarget', { MinCapacity: 200, MaxCapacity: 4000 });
    t.hasResourceProperties('AWS::ApplicationAutoScaling::ScalingPolicy', { TargetTrackingScalingPolicyConfiguration: Match.objectLike({ TargetValue: 50 }) });
  });

  test('default: no auto scaling (the volume stays at volumeSizeGiB)', () => {
    cluster({}).resourceCountIs('AWS::ApplicationAutoScaling::ScalableTarget', 0);
  });

  test.each([
    ['on MSK Serverless', { serverless: true, storageAutoScaling: { maxVolumeSizeGiB: 1000 } }, /storageAutoScaling applies to provisioned clusters only/],
    ['with a maximum not above the volume', { volumeSizeGiB: 500, storageAutoScaling: { maxVolumeSizeGiB: 500 } }, /maxVolumeSizeGiB is 500; use a whole number above volumeSizeGiB \(500\)/],
    ['with a maximum above 16 TiB', { storageAutoScaling: { maxVolumeSizeGiB: 20000 } }, /maxVolumeSizeGiB is 20000; .* at most 16384/],
    ['with a target outside 10-80 %', { storageAutoScaling: { maxVolumeSizeGiB: 1000, targetUtilizationPercent: 90 } }, /targetUtilizationPercent is 90; MSK accepts 10 to 80/],
  ] as [string, Partial<AgentStreamingClusterProps>, RegExp][])('fails %s', (_name, props, message) => {
    expect(() => cluster(props)).toThrow(message);
  });

  test('metricDataLogsDiskUsed reads one broker\'s KafkaDataLogsDiskUsed', () => {
    const stack = testStack(testApp());
    const c = new AgentStreamingCluster(stack, 'Kafka', { vpc: network(stack, 3), clusterName: 'agent-kafka' });
    const m = c.metricDataLogsDiskUsed(2);
    expect([m.namespace, m.metricName, m.dimensions, m.statistic]).toEqual(['AWS/Kafka', 'KafkaDataLogsDiskUsed', { 'Cluster Name': 'agent-kafka', 'Broker ID': '2' }, 'Maximum']);
  });
});

describe('profiles: declared bounds', () => {
  test('production grows broker storage to 1000 GiB at 60 %, provisioned pollers 1-10, one 1-MCU connector worker, 8 Flink KPUs', () => {
    const d = profileDefaults(DeploymentProfile.PRODUCTION);
    expect(d.cluster.storageAutoScaling).toEqual({ maxVolumeSizeGiB: 1000, targetUtilizationPercent: 60 });
    expect(d.sink.provisionedPollers).toEqual({ minimum: 1, maximum: 10 });
    expect(d.connector.capacity!.config).toEqual({ provisionedCapacity: { workerCount: 1, mcuCount: 1 } });
    expect(d.flinkMaxKpus).toBe(8);
  });

  test('development: fixed 20 GiB volumes, on-demand pollers, one 1-MCU worker, 1 KPU', () => {
    const d = profileDefaults(DeploymentProfile.DEVELOPMENT);
    expect(d.cluster.storageAutoScaling).toBeUndefined();
    expect(d.sink.provisionedPollers).toBeUndefined();
    expect(d.connector.capacity!.config).toEqual({ provisionedCapacity: { workerCount: 1, mcuCount: 1 } });
    expect(d.flinkMaxKpus).toBe(1);
  });

  test('the profile\'s storage scaling yields to the caller: serverless drops it, a larger volume raises its maximum, an explicit one wins', () => {
    const prod = profileDefaults(DeploymentProfile.PRODUCTION).cluster;
    expect(clusterPropsWith(prod, { serverless: true }).storageAutoScaling).toBeUndefined();
    expect(clusterPropsWith(prod, { volumeSizeGiB: 2000 }).storageAutoScaling).toEqual({ ...PRODUCTION_BROKER_STORAGE_SCALING, maxVolumeSizeGiB: 16384 });
    expect(clusterPropsWith(prod, { volumeSizeGiB: 500 }).storageAutoScaling).toEqual(PRODUCTION_BROKER_STORAGE_SCALING);
    expect(clusterPropsWith(prod, { storageAutoScaling: { maxVolumeSizeGiB: 300 } }).storageAutoScaling).toEqual({ maxVolumeSizeGiB: 300 });
  });
});

describe('the example stack: bounds and the headroom row', () => {
  const example = exampleTemplate;
  const alarm = (t: Template, id: string) => Object.entries(t.findResources('AWS::CloudWatch::Alarm')).find(([logicalId]) => logicalId.includes(`Headroom${id}Alarm`))?.[1] as any;

  test('production: broker storage auto scaling on the stack\'s cluster, and an alarm at 85 % on the fullest broker', () => {
    const t = example('production');
    t.hasResourceProperties('AWS::ApplicationAutoScaling::ScalableTarget', {
      ServiceNamespace: 'kafka', ScalableDimension: 'kafka:broker-storage:VolumeSize', MinCapacity: 100, MaxCapacity: 1000,
    });
    const a = alarm(t, 'BrokerStorage');
    expect(a.Properties.Threshold).toBe(85);
    const expression = a.Properties.Metrics.find((m: any) => m.Expression);
    expect(expression.Expression).toBe('MAX([m0, m1, m2])');
    expect(a.Properties.Metrics.filter((m: any) => m.MetricStat?.Metric.MetricName === 'KafkaDataLogsDiskUsed')
      .map((m: any) => m.MetricStat.Metric.Dimensions.find((d: any) => d.Name === 'Broker ID').Value).sort()).toEqual(['1', '2', '3']);
    expect(a.Properties.AlarmDescription).toMatch(/maxVolumeSizeGiB/);
  });

  test('production: provisioned pollers on every event source mapping, and the sink concurrency alarm at 80 % of what they drive', () => {
    const t = example('production');
    const esms = Object.values(t.findResources('AWS::Lambda::EventSourceMapping'));
    expect(esms.length).toBeGreaterThan(1);
    for (const esm of esms) expect((esm as any).Properties.ProvisionedPollerConfig).toEqual({ MinimumPollers: 1, MaximumPollers: 10 });
    const a = alarm(t, 'SinkPollers');
    expect(a.Properties).toMatchObject({ MetricName: 'ConcurrentExecutions', Namespace: 'AWS/Lambda', Threshold: Math.floor(esms.length * 10 * 5 * 0.8) });
  });

  test('production: the connector is one 1-MCU worker with a CPU alarm for 3 x 5 minutes', () => {
    const t = example('production');
    t.hasResourceProperties('AWS::KafkaConnect::Connector', { Capacity: { ProvisionedCapacity: { WorkerCount: 1, McuCount: 1 } } });
    expect(alarm(t, 'Connector0').Properties).toMatchObject({
      MetricName: 'CpuUtilization', Namespace: 'AWS/KafkaConnect', Statistic: 'Maximum', Period: 300, EvaluationPeriods: 3, DatapointsToAlarm: 3, Threshold: 80,
    });
  });

  // KPUs: "one sample per billing period (one hour) ... use MAX or AVG over a period of at least one (1) hour. The KPU count
  // includes the orchestration KPU" (https://docs.aws.amazon.com/managed-flink/latest/java/metrics-dimensions.html).
  test('production: the Flink KPU budget alarm reads the hourly KPUs sample once, above the budget of 8 plus the orchestration KPU', () => {
    expect(alarm(example('production'), 'Flink0').Properties).toMatchObject({
      MetricName: 'KPUs', Namespace: 'AWS/KinesisAnalytics', Statistic: 'Maximum', Period: 3600, EvaluationPeriods: 1, DatapointsToAlarm: 1,
      ComparisonOperator: 'GreaterThanThreshold', Threshold: 9, TreatMissingData: 'notBreaching',
    });
  });

  test('the dashboard has the headroom row, right after the summary', () => {
    const body = JSON.stringify(example('production').findResources('AWS::CloudWatch::Dashboard'));
    const headroom = body.indexOf('Headroom: use against the declared bounds');
    expect(headroom).toBeGreaterThan(0);
    expect(headroom).toBeLessThan(body.indexOf('1. Source database'));
    for (const title of ['Kafka broker disk (%): grows by itself to its maximum', 'CPU (%), 1 worker x 1 MCU', 'KPUs incl. orchestration (budget 8 + 1)', 'Sink concurrency vs']) {
      expect(body).toContain(title);
    }
  });

  test('development: fixed volumes with the disk alarm, on-demand pollers (no pollers row), a 1-KPU budget', () => {
    const t = example('development');
    t.resourceCountIs('AWS::ApplicationAutoScaling::ScalableTarget', 0);
    expect(alarm(t, 'BrokerStorage').Properties.AlarmDescription).toMatch(/Raise volumeSizeGiB, set storageAutoScaling/);
    for (const esm of Object.values(t.findResources('AWS::Lambda::EventSourceMapping'))) expect((esm as any).Properties.ProvisionedPollerConfig).toBeUndefined();
    expect(alarm(t, 'SinkPollers')).toBeUndefined();
    // A 1-KPU application reads 2 at full use (its KPU and the orchestration KPU): only a third KPU is over the budget.
    expect(alarm(t, 'Flink0').Properties).toMatchObject({
      MetricName: 'KPUs', Statistic: 'Maximum', Period: 3600, EvaluationPeriods: 1, DatapointsToAlarm: 1, ComparisonOperator: 'GreaterThanThreshold', Threshold: 2,
    });
    expect(alarm(t, 'BrokerStorage').Properties).toMatchObject({ EvaluationPeriods: 3, DatapointsToAlarm: 3 });
  });

  test('production on MSK Serverless (no transforms) leaves storage scaling out instead of failing', () => {
    const stack = new AgentDataStack(testApp(), 'Serverless', {
      env: TEST_ENV, profile: DeploymentProfile.PRODUCTION, clusterOptions: { serverless: true },
      source: { tables: ['public.customers'], databaseName: 'shop' },
      views: [{
        name: 'customer', description: 'Customers by id.', from: ViewSource.table('public.customers'), store: ViewStore.CACHE, key: ['id'],
        fields: [{ name: 'id', type: ViewFieldType.INTEGER }],
      }],
    });
    Template.fromStack(stack).resourceCountIs('AWS::ApplicationAutoScaling::ScalableTarget', 0);
  });
});
