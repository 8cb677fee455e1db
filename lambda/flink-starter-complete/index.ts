// Custom resource isComplete handler: waits for the Flink application to be RUNNING without job restarts (or stopped on delete) and fails with the job's own error.
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { KinesisAnalyticsV2Client } from '@aws-sdk/client-kinesis-analytics-v2';
import { ApplicationLogs, isComplete, IsCompleteResult, StarterEvent } from '../flink-starter/starter';

/**
 * CloudWatch Logs' FilterLogEvents through the AWS SDK v3 client the Lambda Node.js runtime provides
 * (`@aws-sdk/*` is left out of the bundle); loaded on first use, only when a job restarted.
 */
const logs: ApplicationLogs = {
  async filterLogEvents(input) {
    const sdk = require('@aws-sdk/client-cloudwatch-logs');
    const client = logsClient ?? (logsClient = new sdk.CloudWatchLogsClient({}) as LogsClient);
    return client.send(new sdk.FilterLogEventsCommand(input));
  },
};
type LogsClient = { send(command: unknown): Promise<{ events?: Array<{ timestamp?: number; message?: string }>; nextToken?: string }> };
let logsClient: LogsClient | undefined;

const clients = { flink: new KinesisAnalyticsV2Client({}), cloudwatch: new CloudWatchClient({}), logs };

export async function handler(event: StarterEvent): Promise<IsCompleteResult> {
  return isComplete(clients, event);
}
