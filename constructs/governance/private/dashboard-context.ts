// What every dashboard section needs from AgentObservability: where to add widgets and alarms, and the objective and thresholds.
import { Token } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type { AgentAlarmThresholds, FreshnessSlo } from '../observability-props';

export interface DashboardContext {
  readonly slo: Required<FreshnessSlo>;
  readonly thresholds: Required<AgentAlarmThresholds>;
  /** A row: a level-2 heading, then the widgets. */
  section(title: string, widgets: cloudwatch.IWidget[]): void;
  /** An alarm notifying the topic on ALARM and OK; `id` gets the suffix `Alarm`. */
  alarm(
    id: string, metric: cloudwatch.IMetric, threshold: number, evaluationPeriods: number, description: string,
    treatMissingData?: cloudwatch.TreatMissingData, comparisonOperator?: cloudwatch.ComparisonOperator,
  ): cloudwatch.Alarm;
  /** The SLO window in one-minute periods. */
  windowPeriods(): number;
}

/** A construct-id fragment from a name: letters and digits, first letter upper-case. Tokens cannot be ids: `fallback`. */
export function idFragment(s: string, fallback: string): string {
  if (Token.isUnresolved(s)) return fallback;
  const cleaned = s.replace(/[^A-Za-z0-9]/g, '');
  return cleaned.charAt(0).toUpperCase() + cleaned.slice(1);
}
