// The AWS SDK clients `status` and `status --doctor` read through (tests pass aws-sdk-client-mock'ed ones).
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { ElastiCacheClient } from '@aws-sdk/client-elasticache';
import { KafkaClient } from '@aws-sdk/client-kafka';
import { KafkaConnectClient } from '@aws-sdk/client-kafkaconnect';
import { KinesisAnalyticsV2Client } from '@aws-sdk/client-kinesis-analytics-v2';
import { OpenSearchClient } from '@aws-sdk/client-opensearch';

export interface StatusClients {
  readonly cloudformation: CloudFormationClient;
  readonly kafka: KafkaClient;
  readonly kafkaConnect: KafkaConnectClient;
  readonly flink: KinesisAnalyticsV2Client;
  readonly elastiCache: ElastiCacheClient;
  readonly openSearch: OpenSearchClient;
  readonly cloudWatch: CloudWatchClient;
}

export function defaultClients(): StatusClients {
  return {
    cloudformation: new CloudFormationClient({}), kafka: new KafkaClient({}), kafkaConnect: new KafkaConnectClient({}),
    flink: new KinesisAnalyticsV2Client({}), elastiCache: new ElastiCacheClient({}), openSearch: new OpenSearchClient({}), cloudWatch: new CloudWatchClient({}),
  };
}
