// The dashboard's headroom row: how much of each declared capacity bound is in use (broker storage, connector workers,
// Flink KPUs, sink pollers), drawn from the constructs' own metric*() methods, with an alarm before the bound.
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';

/** One bounded capacity and the metrics that show how much of it is used. */
export interface ObservedHeadroom {
  /** Short id (letters and digits) for the alarm: `Headroom<id>`. */
  readonly id: string;
  /** What is bounded, e.g. 'Kafka broker storage (% of volume, grows to 1000 GiB)'. */
  readonly title: string;
  /** Use, in the bound's unit; from the constructs' `metric*()` methods. */
  readonly metrics: cloudwatch.IMetric[];
  /** The declared bound, drawn as a line. */
  readonly bound: number;
  /** Label of the bound line, e.g. 'max 8 KPUs'. */
  readonly boundLabel: string;
  /** Alarm when the largest of the metrics stays above this for `alarmEvaluationPeriods` periods. @default - no alarm */
  readonly alarmAbove?: number;
  /**
   * How many consecutive periods (all of them breaching) before the alarm fires. A metric sampled rarely needs fewer: the
   * hourly `KPUs` sample alarms on 1. @default 3
   */
  readonly alarmEvaluationPeriods?: number;
  /** What the alarm means and what to do. @default - none (required with alarmAbove) */
  readonly alarmDescription?: string;
}

/** The graph of one headroom entry. */
export function headroomWidget(h: ObservedHeadroom): cloudwatch.GraphWidget {
  return new cloudwatch.GraphWidget({
    title: h.title, width: 6, left: h.metrics,
    leftAnnotations: [
      { value: h.bound, label: h.boundLabel, color: cloudwatch.Color.RED },
      ...(h.alarmAbove !== undefined && h.alarmAbove !== h.bound ? [{ value: h.alarmAbove, label: 'alarm', color: cloudwatch.Color.ORANGE }] : []),
    ],
  });
}

/** The value the headroom alarm watches: the one metric, or the largest of several (e.g. one per broker). */
export function headroomAlarmMetric(h: ObservedHeadroom): cloudwatch.IMetric {
  if (h.metrics.length === 1) return h.metrics[0];
  const usingMetrics: Record<string, cloudwatch.IMetric> = {};
  h.metrics.forEach((m, i) => { usingMetrics[`m${i}`] = m; });
  return new cloudwatch.MathExpression({
    expression: `MAX([${Object.keys(usingMetrics).join(', ')}])`, usingMetrics, label: `${h.title}: largest`,
    period: h.metrics[0].toMetricConfig().metricStat?.period,
  });
}

export function validateHeadroom(headroom: ObservedHeadroom[]): void {
  const ids = new Set<string>();
  for (const h of headroom) {
    if (!/^[A-Za-z0-9]+$/.test(h.id) || ids.has(h.id)) {
      throw new Error(`AgentObservability: headroom id '${h.id}' must be unique letters and digits (it names the alarm Headroom${h.id}).`);
    }
    ids.add(h.id);
    if (h.metrics.length === 0) throw new Error(`AgentObservability: headroom '${h.id}' has no metrics. Pass the constructs' metric*() of what is bounded.`);
    if (h.alarmAbove !== undefined && !h.alarmDescription) {
      throw new Error(`AgentObservability: headroom '${h.id}' sets alarmAbove without alarmDescription; say what the alarm means and what to do.`);
    }
    const periods = h.alarmEvaluationPeriods;
    if (periods !== undefined && !(Number.isInteger(periods) && periods >= 1)) {
      throw new Error(`AgentObservability: headroom '${h.id}' alarmEvaluationPeriods is ${periods}; give a whole number of periods, at least 1.`);
    }
  }
}
