// Custom resource onEvent handler: starts the Flink application after create/update, stops it on delete.
import { KinesisAnalyticsV2Client } from '@aws-sdk/client-kinesis-analytics-v2';
import { onEvent, OnEventResult, StarterEvent } from './starter';

const client = new KinesisAnalyticsV2Client({});

export async function handler(event: StarterEvent): Promise<OnEventResult> {
  return onEvent(client, event);
}
