// Props of AgentSink: the dead-letter destination, provisioned pollers and the sink's settings.
import { Duration } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type { IAgentStreamingCluster } from '../streaming/refs';
import { IAgentCache, IAgentSearch } from './refs';
import { AgentView } from './view';

/** Where records the sink cannot decode or write go, and where the event source puts batches it gives up on. */
export class SinkDeadLetter {
  /** An S3 bucket: keeps the full record whatever its size. @default - a new encrypted, private bucket */
  public static bucket(bucket?: s3.IBucket): SinkDeadLetter {
    return new SinkDeadLetter('s3', bucket);
  }

  /** An SQS queue: values over 256 KiB are left out of the message. @default - a new encrypted queue */
  public static queue(queue?: sqs.IQueue): SinkDeadLetter {
    return new SinkDeadLetter('sqs', undefined, queue);
  }

  private constructor(public readonly kind: 's3' | 'sqs', public readonly bucket?: s3.IBucket, public readonly queue?: sqs.IQueue) {}
}

export interface ProvisionedPollers {
  /** @default 1 */
  readonly minimum?: number;
  /** @default 10 */
  readonly maximum?: number;
}

export interface AgentSinkProps {
  /** The Kafka cluster holding the views' topics. */
  readonly cluster: IAgentStreamingCluster;
  /** The views this sink writes; one event source mapping per distinct topic. */
  readonly views: AgentView[];
  /** Required when a view uses ViewStore.CACHE. @default - no cache */
  readonly cache?: IAgentCache;
  /** Required when a view uses ViewStore.SEARCH. @default - no search domain */
  readonly search?: IAgentSearch;
  /**
   * Prefix of the Kafka consumer group ids (`<prefix>.<topic>`); fixed at creation, so a stable value keeps
   * committed offsets across deployments.
   * @default - `agent-sink.<unique id of this construct>`
   */
  readonly consumerGroupPrefix?: string;
  /**
   * Records per invocation at most. With the 0 s batching window a batch is what one poll finds, so the size only matters
   * under a backlog, where large batches amortise the one store round trip per batch; the peak memory of the largest
   * batch sets the function's memory (docs/PERFORMANCE.md, "Sink memory").
   * @default 500
   */
  readonly batchSize?: number;
  /**
   * Longest wait to fill a batch, whole seconds (CloudFormation's unit). 0 invokes the function as soon as a poll returns
   * records, which is what AWS prescribes for low-latency Kafka processing; each invocation then carries fewer records at low
   * traffic (more invocations, see docs/PERFORMANCE.md). Lambda's own Kafka default is 500 ms, which CloudFormation cannot
   * express and a mapping cannot return to once the window was set.
   * @default Duration.seconds(0)
   */
  readonly maxBatchingWindow?: Duration;
  /** @default lambda.StartingPosition.TRIM_HORIZON: a new store is built from the whole topic */
  readonly startingPosition?: lambda.StartingPosition;
  /** @default SinkDeadLetter.bucket() */
  readonly deadLetter?: SinkDeadLetter;
  /**
   * How long the dead-letter bucket this construct creates keeps a dead letter (full change records, often personal
   * data) before its lifecycle deletes it. This is not the window to replay in: `agent-data-stack replay-dead-letters`
   * holds back letters older than its `--max-age` (24 h by default), because a row deleted after the letter's change is
   * protected only for the view's tombstone retention (search `deleteTombstoneRetention`, 1 day by default; cache
   * `tombstoneTtl`, 7 days) and an older letter would bring it back. Replay within that retention; re-snapshot the views
   * of older letters (`agent-data-stack resnapshot --view V`). A queue this construct creates keeps letters 14 days.
   * Ignored when `deadLetter` brings its own bucket or queue.
   * @default Duration.days(30)
   */
  readonly deadLetterRetention?: Duration;
  /** Provisioned mode for the event source mappings (throughput, and required for retry limits). @default - on-demand pollers */
  readonly provisionedPollers?: ProvisionedPollers;
  /**
   * Retries of a failing batch before it goes to the dead-letter destination (provisioned mode only).
   * @default - retry until the records expire: a store outage must not discard data
   */
  readonly retryAttempts?: number;
  /** Oldest record the event source still delivers (provisioned mode only, 60 s to 7 days). @default - no limit */
  readonly maxRecordAge?: Duration;
  /**
   * The Debezium heartbeat topic (`DebeziumConnector.heartbeatTopic`, `__debezium-heartbeat.<topicPrefix>`), mapped too
   * so the sink reports `CdcLag` with dimension `Topic` = this topic.
   * @default - no heartbeat topic and no `CdcLag`
   */
  readonly heartbeatTopic?: string;
  /** Heartbeat topics of further connectors (one per additional source database), mapped like `heartbeatTopic`. @default - none */
  readonly additionalHeartbeatTopics?: string[];
  /** CloudWatch namespace of the sink's EMF metrics. @default 'AgentDataStack' */
  readonly metricsNamespace?: string;
  /**
   * `POWERTOOLS_SERVICE_NAME`: the `service` dimension of every metric the sink publishes. Give sinks that should be
   * told apart on dashboards their own name (and pass it to `AgentObservability` as `dimensions: { service }`).
   * @default 'agent-data-stack-sink'
   */
  readonly serviceName?: string;
  /** @default 512 */
  readonly memorySize?: number;
  /** @default Duration.minutes(1) */
  readonly timeout?: Duration;
}
