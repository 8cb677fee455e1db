// Reference interface of the MCP server as other constructs see it: its function, tools and metrics.
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { IConstruct } from 'constructs';

/** The MCP server: what dashboards and alarms read of it. */
export interface IAgentMcpServer extends IConstruct {
  /** The server function (Lambda `Errors`, `Throttles`). */
  readonly function: lambda.IFunction;
  /** Tool names the server offers (dimension `Tool` of its metrics). */
  readonly toolNames: string[];
  /** Calls of one tool. @default - Sum over 5 minutes */
  metricToolCalls(tool: string, props?: cloudwatch.MetricOptions): cloudwatch.Metric;
  /** Calls of one tool that returned an error. @default - Sum over 5 minutes */
  metricToolErrors(tool: string, props?: cloudwatch.MetricOptions): cloudwatch.Metric;
  /** Latency of one tool in milliseconds. @default - p99 over 5 minutes */
  metricToolLatency(tool: string, props?: cloudwatch.MetricOptions): cloudwatch.Metric;
  /** Decisions recorded through `record_decision`; throws when the server offers no decision tools. @default - Sum over 5 minutes */
  metricDecisionsRecorded(props?: cloudwatch.MetricOptions): cloudwatch.Metric;
}
