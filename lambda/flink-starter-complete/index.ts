// Custom resource isComplete handler: waits for the Flink application to be RUNNING without job restarts (or stopped on delete) and fails with the job's own error.
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { CloudWatchLogsClient, FilterLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { KinesisAnalyticsV2Client } from '@aws-sdk/client-kinesis-analytics-v2';
import { ApplicationLogs, isComplete, IsCompleteResult, StarterEvent } from '../flink-starter/starter';

/** CloudWatch Logs' FilterLogEvents, used only when a job restarted (to quote its own error). */
const logsClient = new CloudWatchLogsClient({});
const logs: ApplicationLogs = { filterLogEvents: input => logsClient.send(new FilterLogEventsCommand(input)) };

const clients = { flink: new KinesisAnalyticsV2Client({}), cloudwatch: new CloudWatchClient({}), logs };

export async function handler(event: StarterEvent): Promise<IsCompleteResult> {
  return isComplete(clients, event);
}
