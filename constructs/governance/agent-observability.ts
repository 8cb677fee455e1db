// AgentObservability: one dashboard in data-flow order (source -> CDC -> Kafka -> Flink -> sinks -> stores -> MCP -> decisions) and the alarms that say agents are about to see stale data.
import { Duration, Stack, Token } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { RECORD_DECISION_TOOL } from '../../contract/metric-names';
import { denyNonServiceGrants } from '../common/nag';
import type { IAgentSink } from '../stores/refs';
import type { AgentAlarmThresholds, AgentObservabilityProps, FreshnessSlo } from './observability-props';
import { headroomAlarmMetric, headroomWidget, validateHeadroom, type ObservedHeadroom } from './headroom';
import { DashboardContext } from './private/dashboard-context';
import { addConnector, addFlink, addKafka, addSource, WatchedGroup } from './private/pipeline-sections';
import { addCache, addDecisions, addMcp, addSearch, addSinks, freshnessLag } from './private/store-sections';

export type { AgentAlarmThresholds, AgentObservabilityProps, FreshnessSlo, ObservedDecisions } from './observability-props';

const GIB = 1024 ** 3;
const FIVE_MINUTES = Duration.minutes(5);

/**
 * The end-to-end view of the stack. Every widget and alarm is built from the observed constructs' own `metric*()`
 * methods, so the metric names and dimensions are the ones each construct knows its service publishes.
 */
export class AgentObservability extends Construct {
  public readonly dashboard: cloudwatch.Dashboard;
  /** Topic every alarm notifies (on ALARM and on OK). */
  public readonly alarmTopic: sns.ITopic;
  /** Every alarm created, in data-flow order. */
  public readonly alarms: cloudwatch.Alarm[] = [];

  private readonly slo: Required<FreshnessSlo>;
  private readonly thresholds: Required<AgentAlarmThresholds>;

  constructor(scope: Construct, id: string, props: AgentObservabilityProps) {
    super(scope, id);
    validate(props);
    this.slo = {
      threshold: props.freshnessSlo?.threshold ?? Duration.seconds(5),
      percentile: props.freshnessSlo?.percentile ?? 99,
      window: props.freshnessSlo?.window ?? FIVE_MINUTES,
    };
    // Both source alarms must fire before PostgreSQL invalidates the slot at max_slot_wal_keep_size.
    const keep = props.source?.maxSlotWalKeepSizeBytes;
    this.thresholds = {
      replicationSlotLagBytes: props.thresholds?.replicationSlotLagBytes ?? (keep ? Math.min(GIB, Math.floor(keep / 2)) : GIB),
      logDiskUsageBytes: props.thresholds?.logDiskUsageBytes ?? (keep ? Math.min(10 * GIB, Math.floor(keep * 0.75)) : 10 * GIB),
      consumerLag: props.thresholds?.consumerLag ?? Duration.seconds(30),
      failedCheckpoints: props.thresholds?.failedCheckpoints ?? 1,
      mcpErrorRatePercent: props.thresholds?.mcpErrorRatePercent ?? 5,
      decisionSilence: props.thresholds?.decisionSilence ?? Duration.hours(1),
    };

    this.alarmTopic = props.alarmTopic ?? this.createTopic();
    this.dashboard = new cloudwatch.Dashboard(this, 'Resource', {
      dashboardName: props.dashboardName,
      defaultInterval: Duration.hours(3),
    });

    const ctx = this.context();
    const sinks = props.sinks ?? [];
    this.addSummary(sinks);
    if (props.headroom?.length) this.addHeadroom(ctx, props.headroom);
    if (props.source) addSource(ctx, props.source);
    if (props.connector) addConnector(ctx, props.connector, sinks);
    for (const extra of props.additionalSources ?? []) {
      addSource(ctx, extra.source, extra.name);
      addConnector(ctx, extra.connector, sinks, extra.name);
    }
    if (props.kafka) addKafka(ctx, props.kafka, watchedGroups(props));
    for (const app of props.flink ?? []) addFlink(ctx, app);
    if (sinks.length > 0) addSinks(ctx, sinks);
    if (props.cache) addCache(ctx, props.cache);
    if (props.search) addSearch(ctx, props.search);
    if (props.mcp) addMcp(ctx, props.mcp);
    if (props.mcp && props.decisions) addDecisions(ctx, props.mcp, props.decisions);
  }

  /** Freshness lag of one view (milliseconds, source commit to store write) at the SLO percentile over 1 minute. */
  public metricFreshnessLag(sink: IAgentSink, view: string, options: cloudwatch.MetricOptions = {}): cloudwatch.Metric {
    return freshnessLag(this.context(), sink, view, options);
  }

  private addSummary(sinks: IAgentSink[]): void {
    const freshness = sinks.flatMap(sink => sink.viewNames.map(view => this.metricFreshnessLag(sink, view)));
    const widgets: cloudwatch.IWidget[] = [new cloudwatch.TextWidget({
      markdown: `# How stale is what agents see?\nFreshness objective: p${this.slo.percentile} below ${this.slo.threshold.toSeconds()} s. `
        + 'Rows below follow the data: source database, CDC connector, Kafka, Flink, sinks, stores, MCP server, decisions.',
      width: 24, height: 2,
    })];
    if (freshness.length > 0) {
      widgets.push(new cloudwatch.GraphWidget({
        title: `Freshness lag per view (ms, p${this.slo.percentile})`, left: freshness, width: 24, height: 6,
        leftAnnotations: [{ value: this.slo.threshold.toMilliseconds(), label: 'SLO', color: cloudwatch.Color.RED }],
      }));
    }
    this.dashboard.addWidgets(...widgets);
  }

  private addHeadroom(ctx: DashboardContext, headroom: ObservedHeadroom[]): void {
    validateHeadroom(headroom);
    ctx.section('Headroom: use against the declared bounds', headroom.map(headroomWidget));
    for (const h of headroom.filter(x => x.alarmAbove !== undefined)) {
      ctx.alarm(`Headroom${h.id}`, headroomAlarmMetric(h), h.alarmAbove!, h.alarmEvaluationPeriods ?? 3, h.alarmDescription!);
    }
  }

  private context(): DashboardContext {
    return {
      slo: this.slo,
      thresholds: this.thresholds,
      section: (title, widgets) => {
        this.dashboard.addWidgets(new cloudwatch.TextWidget({ markdown: `## ${title}`, width: 24, height: 1 }));
        this.dashboard.addWidgets(...widgets);
      },
      alarm: (...args) => this.alarm(...args),
      windowPeriods: () => Math.max(1, Math.round(this.slo.window.toSeconds() / 60)),
    };
  }

  private alarm(
    id: string, metric: cloudwatch.IMetric, threshold: number, evaluationPeriods: number, description: string,
    treatMissingData = cloudwatch.TreatMissingData.NOT_BREACHING,
    comparisonOperator = cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
  ): cloudwatch.Alarm {
    const alarm = new cloudwatch.Alarm(this, `${id}Alarm`, {
      metric: withoutLabel(metric), threshold, evaluationPeriods, datapointsToAlarm: evaluationPeriods, comparisonOperator, treatMissingData,
      alarmDescription: description,
    });
    alarm.addAlarmAction(new actions.SnsAction(this.alarmTopic));
    alarm.addOkAction(new actions.SnsAction(this.alarmTopic));
    this.alarms.push(alarm);
    return alarm;
  }

  private createTopic(): sns.Topic {
    const key = new kms.Key(this, 'AlarmTopicKey', {
      enableKeyRotation: true,
      description: 'Encrypts the agent data stack alarm topic',
    });
    denyNonServiceGrants(key);
    // CloudWatch publishes to an encrypted topic only when the key lets it (the AWS managed SNS key does not).
    key.addToResourcePolicy(new iam.PolicyStatement({
      principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
      actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
      resources: ['*'],
      conditions: { StringEquals: { 'aws:SourceAccount': Stack.of(this).account } },
    }));
    return new sns.Topic(this, 'AlarmTopic', { masterKey: key, enforceSSL: true, displayName: 'Agent data stack alarms' });
  }
}

/** The consumer groups whose lag is watched: each Flink application's, then each sink's (data topics only). */
function watchedGroups(props: AgentObservabilityProps): WatchedGroup[] {
  return [
    ...(props.flink ?? []).flatMap(app => app.consumedTopics().map(c => ({
      ...c, role: 'flink' as const, ownerId: app.node.id, checkpointInterval: app.checkpointInterval,
    }))),
    ...(props.sinks ?? []).flatMap(sink => sink.consumedTopics().map(c => ({ ...c, role: 'sink' as const, ownerId: sink.node.id }))),
  ].filter(g => g.topics.length > 0);
}

/** A labelled metric renders as a one-element metric-math alarm; an unlabelled one as the plain form operators read more easily. */
function withoutLabel(metric: cloudwatch.IMetric): cloudwatch.IMetric {
  if (!(metric instanceof cloudwatch.Metric) || metric.label === undefined) return metric;
  return new cloudwatch.Metric({
    namespace: metric.namespace, metricName: metric.metricName, dimensionsMap: metric.dimensions as Record<string, string>,
    statistic: metric.statistic, period: metric.period, unit: metric.unit,
  });
}

function validate(props: AgentObservabilityProps): void {
  const sections = [
    props.source, props.connector, props.additionalSources?.length, props.headroom?.length, props.kafka, props.flink?.length,
    props.sinks?.length, props.cache, props.search, props.mcp,
  ];
  if (!sections.some(Boolean)) {
    throw new Error('AgentObservability: no section given (source, connector, kafka, flink, sinks, cache, search, mcp are all empty). Pass at least one construct to observe.');
  }
  if (props.decisions && !props.mcp?.toolNames.includes(RECORD_DECISION_TOOL)) {
    throw new Error('AgentObservability: decisions is set but no MCP server with a decision audit log is given; decisions are counted by its record_decision tool. Pass mcp (an AgentMcpServer with decisionAuditLog) or drop decisions.');
  }
  for (const cg of props.kafka ? watchedGroups(props) : []) {
    // MSK does not publish consumer-lag metrics for groups with a colon or non-ASCII characters.
    if (!Token.isUnresolved(cg.group) && (/:/.test(cg.group) || /[^\x20-\x7e]/.test(cg.group))) {
      throw new Error(`AgentObservability: consumer group '${cg.group}' of ${cg.ownerId} contains ':' or non-ASCII characters; MSK publishes no lag metrics for it. Rename the consumer group.`);
    }
  }
  const seenViews = new Set<string>();
  for (const sink of props.sinks ?? []) {
    for (const view of sink.viewNames) {
      if (seenViews.has(view)) throw new Error(`AgentObservability: view '${view}' is written by more than one sink. Each view has one sink; remove the duplicate.`);
      seenViews.add(view);
    }
  }
  if (props.cache && !props.cache.serverless && props.cache.nodeClusterIds.length === 0) {
    throw new Error(`AgentObservability: cache '${props.cache.cacheName}' is node-based but its nodeClusterIds is empty; ElastiCache publishes node metrics per CacheClusterId. Import it with AgentCache.fromCacheAttributes({ nodeClusterIds: ['${props.cache.cacheName}-001', ...] }).`);
  }
  const slo = props.freshnessSlo;
  if (slo?.percentile !== undefined && !(slo.percentile > 0 && slo.percentile < 100)) {
    throw new Error(`AgentObservability: freshnessSlo.percentile is ${slo.percentile}. Use a percentile between 0 and 100, e.g. 99.`);
  }
  if (slo?.window !== undefined && (slo.window.toSeconds() < 60 || slo.window.toSeconds() % 60 !== 0)) {
    throw new Error(`AgentObservability: freshnessSlo.window is ${slo.window.toHumanString()}. Use whole minutes, at least 1.`);
  }
  if (slo?.threshold !== undefined && slo.threshold.toMilliseconds() <= 0) {
    throw new Error('AgentObservability: freshnessSlo.threshold must be above zero, e.g. Duration.seconds(5).');
  }
  // AWS::CloudWatch::Dashboard: DashboardName is 1-255 characters (aws-cdk-lib checks the characters, not the length).
  const dashboardName = props.dashboardName;
  if (dashboardName !== undefined && !Token.isUnresolved(dashboardName) && dashboardName.length > 255) {
    throw new Error(`AgentObservability: dashboardName '${dashboardName}' is ${dashboardName.length} characters; CloudWatch dashboard names are at most 255. Shorten it, or omit it for a generated name.`);
  }
  const failed = props.thresholds?.failedCheckpoints;
  if (failed !== undefined && (!Number.isInteger(failed) || failed < 1)) {
    throw new Error(`AgentObservability: thresholds.failedCheckpoints is ${failed}. Use a whole number of at least 1.`);
  }
}
