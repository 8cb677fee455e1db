// Custom resource isComplete handler: waits for the Flink application to be RUNNING (or stopped on delete) and fails with its own error.
import { KinesisAnalyticsV2Client } from '@aws-sdk/client-kinesis-analytics-v2';
import { isComplete, IsCompleteResult, StarterEvent } from '../flink-starter/starter';

const client = new KinesisAnalyticsV2Client({});

export async function handler(event: StarterEvent): Promise<IsCompleteResult> {
  return isComplete(client, event);
}
