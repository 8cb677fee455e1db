// Dashboard rows and alarms of the serving side: sinks, cache, search domain, MCP server and recorded decisions.
import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type { IAgentMcpServer } from '../../mcp/refs';
import type { CacheMetricOptions, IAgentCache, IAgentSearch, IAgentSink } from '../../stores/refs';
import type { ObservedDecisions } from '../observability-props';
import { DashboardContext, idFragment } from './dashboard-context';

const ONE_MINUTE = Duration.minutes(1);
const FIVE_MINUTES = Duration.minutes(5);

/** Freshness lag of one view at the SLO percentile over 1 minute. */
export function freshnessLag(ctx: DashboardContext, sink: IAgentSink, view: string, options: cloudwatch.MetricOptions = {}): cloudwatch.Metric {
  return sink.metricFreshnessLag(view, {
    statistic: cloudwatch.Stats.percentile(ctx.slo.percentile), period: ONE_MINUTE, label: `${view} p${ctx.slo.percentile}`, ...options,
  });
}

export function addSinks(ctx: DashboardContext, sinks: IAgentSink[]): void {
  const widgets: cloudwatch.IWidget[] = [];
  for (const sink of sinks) {
    const perMinute = (statistic: string, label: string) => ({ statistic, period: ONE_MINUTE, label });
    widgets.push(new cloudwatch.GraphWidget({
      title: `${sink.function.functionName}: Kafka offset lag and errors`, width: 8,
      left: [sink.metricOffsetLag(perMinute(cloudwatch.Stats.MAXIMUM, 'OffsetLag'))],
      right: [sink.function.metricErrors(perMinute(cloudwatch.Stats.SUM, 'Errors'))],
    }));
    // The sink counts per view only (dimensions {service, View}): CloudWatch does not sum across dimension sets.
    for (const view of sink.viewNames) {
      const count = (metric: typeof sink.metricRecordsReceived, label: string) =>
        metric.call(sink, view, perMinute(cloudwatch.Stats.SUM, label));
      const dead = count(sink.metricRecordsDeadLettered, 'RecordsDeadLettered');
      widgets.push(new cloudwatch.GraphWidget({
        title: `${view}: records`, width: 8,
        left: [
          count(sink.metricRecordsReceived, 'RecordsReceived'), count(sink.metricRecordsWritten, 'RecordsWritten'),
          count(sink.metricRecordsStale, 'RecordsStale'), count(sink.metricRecordsSkipped, 'RecordsSkipped'), dead,
        ],
      }));
      ctx.alarm(`DeadLettered${idFragment(view, view)}`, dead.with({ period: FIVE_MINUTES }), 0, 1,
        `${view}: records were dead-lettered; they are missing from the store until replayed.`);
    }
    for (const view of sink.viewNames) {
      ctx.alarm(`Freshness${idFragment(view, view)}`, freshnessLag(ctx, sink, view),
        ctx.slo.threshold.toMilliseconds(), ctx.windowPeriods(),
        `${view}: p${ctx.slo.percentile} freshness above ${ctx.slo.threshold.toSeconds()} s for ${ctx.slo.window.toMinutes()} minutes.`);
    }
  }
  ctx.section('5. Sinks', widgets);
}

export function addCache(ctx: DashboardContext, cache: IAgentCache): void {
  const five = (statistic: string, label: string) => ({ statistic, period: FIVE_MINUTES, label });
  if (cache.serverless) {
    ctx.section(`6. Cache ${cache.cacheName} (serverless)`, [
      new cloudwatch.GraphWidget({
        title: 'Cache: ECPUs and throttling', width: 8,
        left: [cache.metricCpu(five(cloudwatch.Stats.SUM, 'ECPUs'))],
        right: [cache.metricThrottledCommands(five(cloudwatch.Stats.SUM, 'Throttled'))],
      }),
      new cloudwatch.GraphWidget({
        title: 'Cache: memory and evictions', width: 8,
        left: [cache.metricMemory(five(cloudwatch.Stats.MAXIMUM, 'Bytes used'))],
        right: [cache.metricEvictions(five(cloudwatch.Stats.SUM, 'Evictions'))],
      }),
      new cloudwatch.GraphWidget({
        title: 'Cache: latency (µs)', width: 8,
        left: [
          cache.metricReadLatency(five(cloudwatch.Stats.percentile(99), 'Read p99')),
          cache.metricWriteLatency(five(cloudwatch.Stats.percentile(99), 'Write p99')),
        ],
      }),
    ]);
    return;
  }
  // Node-based caches publish per node cluster: one line per node.
  const per = (metric: (o: CacheMetricOptions) => cloudwatch.Metric, statistic: string, suffix: string) =>
    cache.nodeClusterIds.map(nodeClusterId => metric({ nodeClusterId, ...five(statistic, `${nodeClusterId} ${suffix}`) }));
  ctx.section(`6. Cache ${cache.cacheName} (node-based)`, [
    new cloudwatch.GraphWidget({ title: 'Cache: engine CPU (%)', width: 8, left: per(o => cache.metricCpu(o), cloudwatch.Stats.MAXIMUM, 'CPU') }),
    new cloudwatch.GraphWidget({
      title: 'Cache: memory (%) and evictions', width: 8,
      left: per(o => cache.metricMemory(o), cloudwatch.Stats.MAXIMUM, 'memory'),
      right: per(o => cache.metricEvictions(o), cloudwatch.Stats.SUM, 'evictions'),
    }),
    new cloudwatch.GraphWidget({
      title: 'Cache: latency (µs, p99)', width: 8,
      left: [
        ...per(o => cache.metricReadLatency(o), cloudwatch.Stats.percentile(99), 'read'),
        ...per(o => cache.metricWriteLatency(o), cloudwatch.Stats.percentile(99), 'write'),
      ],
    }),
  ]);
}

export function addSearch(ctx: DashboardContext, search: IAgentSearch): void {
  const o = (statistic: string, label: string, period = ONE_MINUTE) => ({ statistic, period, label });
  const red = search.metricClusterStatusRed(o(cloudwatch.Stats.MAXIMUM, 'red'));
  const blocked = search.metricClusterIndexWritesBlocked(o(cloudwatch.Stats.MAXIMUM, 'Writes blocked', FIVE_MINUTES));
  const jvm = search.metricJvmMemoryPressure(o(cloudwatch.Stats.MAXIMUM, 'JVM memory pressure %', FIVE_MINUTES));
  ctx.section(`7. Search ${search.domainName}`, [
    new cloudwatch.GraphWidget({
      title: 'Search: cluster status', width: 8,
      left: [red, search.metricClusterStatusYellow(o(cloudwatch.Stats.MAXIMUM, 'yellow')), blocked],
    }),
    new cloudwatch.GraphWidget({ title: 'Search: JVM memory pressure (%)', width: 8, left: [jvm] }),
    new cloudwatch.GraphWidget({
      title: 'Search: latency (ms)', width: 8,
      left: [
        search.metricIndexingLatency(o(cloudwatch.Stats.AVERAGE, 'Indexing')),
        search.metricSearchLatency(o(cloudwatch.Stats.AVERAGE, 'Search')),
      ],
    }),
  ]);
  ctx.alarm('SearchRed', red, 0, 1, 'A primary shard is unassigned: some search views return incomplete results.');
  ctx.alarm('SearchWritesBlocked', blocked, 0, 1, 'The domain blocks writes (storage or memory pressure): search views stop updating.');
  ctx.alarm('SearchJvmPressure', jvm, 80, 3, 'JVM memory pressure above 80% for 15 minutes: the domain is close to blocking writes.');
}

export function addMcp(ctx: DashboardContext, mcp: IAgentMcpServer): void {
  const perTool = (metric: typeof mcp.metricToolCalls, statistic: string, tool: string, period = ONE_MINUTE) =>
    metric.call(mcp, tool, { statistic, period, label: tool });
  const lambdaSum = (label: string) => ({ statistic: cloudwatch.Stats.SUM, period: ONE_MINUTE, label });
  ctx.section('8. MCP server', [
    new cloudwatch.GraphWidget({
      title: 'MCP: calls per tool', width: 8, left: mcp.toolNames.map(t => perTool(mcp.metricToolCalls, cloudwatch.Stats.SUM, t)),
    }),
    new cloudwatch.GraphWidget({
      title: 'MCP: errors per tool', width: 8, left: mcp.toolNames.map(t => perTool(mcp.metricToolErrors, cloudwatch.Stats.SUM, t)),
    }),
    new cloudwatch.GraphWidget({
      title: 'MCP: latency per tool (ms, p99)', width: 8,
      left: mcp.toolNames.map(t => perTool(mcp.metricToolLatency, cloudwatch.Stats.percentile(99), t)),
    }),
    new cloudwatch.GraphWidget({
      title: 'MCP: Lambda errors and throttles', width: 8,
      left: [mcp.function.metricErrors(lambdaSum('Errors')), mcp.function.metricThrottles(lambdaSum('Throttles'))],
    }),
  ]);
  for (const tool of mcp.toolNames) {
    // Each tool gets its own rate: a failing lookup should not hide behind healthy searches, and 10 calls is the least that makes a rate mean something.
    const rate = new cloudwatch.MathExpression({
      expression: 'IF(calls >= 10, 100 * FILL(errors, 0) / calls, 0)',
      usingMetrics: {
        calls: perTool(mcp.metricToolCalls, cloudwatch.Stats.SUM, tool, FIVE_MINUTES),
        errors: perTool(mcp.metricToolErrors, cloudwatch.Stats.SUM, tool, FIVE_MINUTES),
      },
      period: FIVE_MINUTES, label: `${tool} error rate (%)`,
    });
    ctx.alarm(`McpErrorRate${idFragment(tool, tool)}`, rate, ctx.thresholds.mcpErrorRatePercent, 1,
      `MCP tool ${tool}: more than ${ctx.thresholds.mcpErrorRatePercent}% of calls failed in 5 minutes.`);
  }
}

export function addDecisions(ctx: DashboardContext, mcp: IAgentMcpServer, decisions: ObservedDecisions): void {
  const recorded = mcp.metricDecisionsRecorded({ statistic: cloudwatch.Stats.SUM, period: FIVE_MINUTES, label: 'Decisions recorded' });
  ctx.section('9. Agent decisions', [new cloudwatch.GraphWidget({ title: 'Decisions recorded', width: 24, left: [recorded] })]);
  if (decisions.alarmOnSilence === false) return;
  const silence = ctx.thresholds.decisionSilence;
  ctx.alarm('DecisionRate', recorded.with({ period: silence }), 1, 1,
    `No agent decision recorded in ${silence.toHumanString()}: agents are down or cannot reach record_decision.`,
    cloudwatch.TreatMissingData.BREACHING, cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD);
}
