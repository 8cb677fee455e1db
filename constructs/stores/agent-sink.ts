// AgentSink: the sink Lambda in the VPC with one MSK event source mapping per view topic, a dead-letter destination, least-privilege grants and metrics.
import { Annotations, Duration, Names, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import {
  AGENT_METRIC_DIMENSIONS, AGENT_SERVICE_NAMES, AWS_METRIC_DIMENSIONS, AWS_METRIC_NAMESPACES, DEFAULT_AGENT_METRICS_NAMESPACE, LAMBDA_METRIC_NAMES,
  SINK_METRIC_NAMES,
} from '../../contract/metric-names';
import { AgentFunction } from '../common/agent-function';
import { compactJsonValue } from '../common/private/environment-size';
import { ESM_CLUSTER_ACTIONS, ESM_KAFKA_CLUSTER_ACTIONS, ESM_KAFKA_GROUP_ACTIONS, ESM_KAFKA_TOPIC_ACTIONS, ESM_NETWORK_ACTIONS } from './perms';
import { AgentSearch } from './agent-search';
import { ConsumedTopics, IAgentSink } from './refs';
import { AgentView, ViewStore, viewsEnvironment } from './view';
import { acknowledgeWhenPrepared, denyNonServiceGrants, nagResource } from '../common/nag';
import { accessLogBucketProps, deliverAccessLogsByBucketPolicy } from '../common/private/access-logs';
import { AgentSinkProps, SinkDeadLetter } from './agent-sink-props';
import { acknowledgeBucketControls, validate } from './private/sink-validation';

export * from './agent-sink-props';

/**
 * Default MaximumBatchingWindowInSeconds of the sink's event source mappings: invoke as soon as a poll returns records (AWS's
 * low-latency setting for Kafka event sources, with-kafka-low-latency.html), not after Lambda's 500 ms Kafka default.
 */
export const DEFAULT_SINK_BATCHING_WINDOW = Duration.seconds(0);
/** Default BatchSize: only a backlog fills it with the 0 s window (docs/PERFORMANCE.md, "Latency defaults", "Sink memory"). */
export const DEFAULT_SINK_BATCH_SIZE = 500;

/**
 * Feeds agent stores from Kafka: decodes Debezium and upsert-kafka records, writes each view with versioned,
 * replay-safe writes, dead-letters what it cannot write and fails the batch when a store is down.
 */
export class AgentSink extends Construct implements ec2.IConnectable, iam.IGrantable, IAgentSink {
  public readonly function: AgentFunction;
  /** One per distinct topic, keyed by topic. */
  public readonly eventSourceMappings: Record<string, lambda.CfnEventSourceMapping> = {};
  /** The consumer group of each topic's mapping (topic to group id), for consumer-lag metrics and alarms. */
  public readonly consumerGroups: Record<string, string> = {};
  public readonly deadLetterBucket?: s3.IBucket;
  public readonly deadLetterQueue?: sqs.IQueue;
  /** The KMS key of the dead-letter bucket this construct created. */
  public readonly deadLetterKey?: kms.IKey;
  /** How long the dead-letter bucket this construct created keeps each dead letter. */
  public readonly deadLetterRetention: Duration;
  public readonly metricsNamespace: string;
  /** The `service` dimension of the sink's metrics (its `POWERTOOLS_SERVICE_NAME`). */
  public readonly serviceName: string;
  public readonly views: readonly AgentView[];
  /** The Debezium heartbeat topic the sink maps and publishes `CdcLag` for. */
  public readonly heartbeatTopic?: string;
  public readonly heartbeatTopics: string[];

  constructor(scope: Construct, id: string, props: AgentSinkProps) {
    super(scope, id);
    deliverAccessLogsByBucketPolicy(this);
    validate(props);
    this.views = props.views;
    this.heartbeatTopic = props.heartbeatTopic;
    this.heartbeatTopics = props.heartbeatTopic ? [props.heartbeatTopic, ...props.additionalHeartbeatTopics ?? []] : [];
    this.metricsNamespace = props.metricsNamespace ?? DEFAULT_AGENT_METRICS_NAMESPACE;
    this.serviceName = props.serviceName ?? AGENT_SERVICE_NAMES.sink;
    const cacheViews = props.views.filter(v => v.store === ViewStore.CACHE);
    const searchViews = props.views.filter(v => v.store === ViewStore.SEARCH);

    const deadLetter = props.deadLetter ?? SinkDeadLetter.bucket();
    this.deadLetterRetention = props.deadLetterRetention ?? Duration.days(30);
    let dlqArn: string;
    let dlqEnv: Record<string, string>;
    if (deadLetter.kind === 's3') {
      const bucket = deadLetter.bucket ?? this.createBucket();
      this.deadLetterBucket = bucket;
      dlqArn = bucket.bucketArn;
      dlqEnv = { AGENT_SINK_DLQ_KIND: 's3', AGENT_SINK_DLQ_TARGET: bucket.bucketName };
    } else {
      const queue = deadLetter.queue ?? this.createQueue();
      this.deadLetterQueue = queue;
      dlqArn = queue.queueArn;
      dlqEnv = { AGENT_SINK_DLQ_KIND: 'sqs', AGENT_SINK_DLQ_TARGET: queue.queueUrl };
    }

    // Lambda's 4 KB environment limit is checked once, by AgentFunction at synth, over all the variables together.
    const viewsEnv = compactJsonValue(viewsEnvironment(props.views));
    this.function = new AgentFunction(this, 'Function', {
      handlerName: 'sink',
      description: `Agent store sink: ${props.views.map(v => v.name).join(', ')}`.slice(0, 256),
      vpc: props.cluster.vpc,
      memorySize: props.memorySize ?? 512,
      // Active tracing: each batch is a trace, and its log lines carry the trace id (`xray_trace_id`, lambda/shared/telemetry.ts).
      tracing: lambda.Tracing.ACTIVE,
      timeout: props.timeout ?? Duration.minutes(1),
      environment: {
        AGENT_VIEWS: viewsEnv,
        ...(cacheViews.length > 0 ? props.cache!.clientEnvironment() : {}),
        ...(searchViews.length > 0 ? props.search!.clientEnvironment() : {}),
        ...dlqEnv,
        // With several connectors, every `__debezium-heartbeat.<prefix>` topic is a heartbeat.
        ...(props.heartbeatTopic ? { AGENT_SINK_HEARTBEAT_TOPIC_PREFIX: props.additionalHeartbeatTopics?.length ? '__debezium-heartbeat.' : props.heartbeatTopic } : {}),
        POWERTOOLS_METRICS_NAMESPACE: this.metricsNamespace,
        POWERTOOLS_SERVICE_NAME: this.serviceName,
      },
    });
    const fn = this.function;
    Validations.of(fn).acknowledge({
      id: 'Serverless-LambdaDLQ',
      reason: 'The MSK event source mapping invokes the sink synchronously, where a function dead-letter queue never applies; records it cannot write go to the dead-letter destination, and batches the mapping gives up on go to its on-failure destination (the same bucket or queue).',
    });

    // Stores: network path and data-plane grants. The rules are opened from the function's side (allowToDefaultPort), so
    // a store's security group in another stack gets its ingress rule in this stack, not a reference back to it (a cycle).
    if (cacheViews.length > 0) {
      props.cache!.grantConnect(fn);
      fn.connections.allowToDefaultPort(props.cache!, 'Agent sink writes the cache');
    }
    if (searchViews.length > 0) {
      props.search!.grantWrite(fn, ...searchViews.map(v => v.index!));
      fn.connections.allowToDefaultPort(props.search!, 'Agent sink writes the search domain');
      // Vector views: the sink embeds changed rows before writing them, with exactly the views' models.
      const models = [...new Set(searchViews.map(v => v.toConfig().search?.vector?.modelId).filter((m): m is string => !!m))];
      if (models.length > 0) {
        iam.Grant.addToPrincipal({
          grantee: fn,
          actions: ['bedrock:InvokeModel'],
          resourceArns: models.map(modelId => Stack.of(this).formatArn({ service: 'bedrock', account: '', resource: 'foundation-model', resourceName: modelId })),
        });
      }
    }

    // Dead letters: the function writes single records; the event source writes whole discarded batches.
    if (this.deadLetterBucket) {
      const bucket = this.deadLetterBucket;
      iam.Grant.addToPrincipal({ grantee: fn, actions: ['s3:PutObject'], resourceArns: [bucket.arnForObjects('*')] });
      iam.Grant.addToPrincipal({ grantee: fn, actions: ['s3:ListBucket'], resourceArns: [bucket.bucketArn] });
      // SSE-KMS: the function and its event source mapping (which writes with the function's role) encrypt with the key.
      // S3 asks KMS for a data key per PutObject (https://docs.aws.amazon.com/AmazonS3/latest/userguide/UsingKMSEncryption.html).
      bucket.encryptionKey?.grant(fn, 'kms:GenerateDataKey');
      // Named as the role's template holds it: a bucket of another stack is an import there, known once the app is prepared.
      const role = fn.role!;
      acknowledgeWhenPrepared(role, () => [{
        id: `AwsSolutions-IAM5[Resource::${nagResource(role, bucket.arnForObjects('*'))}]`,
        reason: 'Dead letters are one object per record (sink) or per discarded batch (event source, keys chosen by Lambda), so PutObject must cover the bucket\'s objects; the bucket holds nothing else.',
      }]);
    } else {
      this.deadLetterQueue!.grantSendMessages(fn);
    }

    // The event source mapping polls with the function's role: cluster metadata, and ENIs in the cluster's VPC.
    iam.Grant.addToPrincipal({ grantee: fn, actions: ESM_CLUSTER_ACTIONS, resourceArns: [props.cluster.clusterArn] });
    iam.Grant.addToPrincipal({ grantee: fn, actions: ESM_NETWORK_ACTIONS, resourceArns: ['*'] });
    // Kafka data-plane access the mapping's pollers use (IAM auth): exactly the Lambda guide's list, on named ARNs.
    iam.Grant.addToPrincipal({ grantee: fn, actions: ESM_KAFKA_CLUSTER_ACTIONS, resourceArns: [props.cluster.clusterArn] });

    const prefix = props.consumerGroupPrefix ?? `agent-sink.${Names.uniqueId(this).slice(-24)}`;
    const topics = [...new Set(props.views.map(v => v.topic)), ...(props.heartbeatTopic ? [props.heartbeatTopic, ...props.additionalHeartbeatTopics ?? []] : [])];
    for (const topic of topics) {
      const groupId = `${prefix}.${topic}`.slice(0, 200);
      // Lambda: 'The consumer group ID must be unique among all your Kafka event sources' (at most 200 characters, so cut).
      const sharedWith = Object.keys(this.consumerGroups).find(t => this.consumerGroups[t] === groupId);
      if (sharedWith !== undefined) {
        throw new Error(`AgentSink: topics '${sharedWith}' and '${topic}' get the same consumer group id '${groupId}' (consumerGroupPrefix '${prefix}', a '.' and the topic, `
          + `cut at Lambda's 200 characters), and Lambda refuses a group id another event source mapping uses. Give a shorter consumerGroupPrefix (AgentDataStack: sinkOptions.consumerGroupPrefix).`);
      }
      this.consumerGroups[topic] = groupId;
      iam.Grant.addToPrincipal({ grantee: fn, actions: ESM_KAFKA_TOPIC_ACTIONS, resourceArns: [props.cluster.topicArn(topic)] });
      iam.Grant.addToPrincipal({ grantee: fn, actions: ESM_KAFKA_GROUP_ACTIONS, resourceArns: [props.cluster.groupArn(groupId)] });
      // Named after the topic, so adding or removing a view never replaces another topic's mapping.
      const esm = new lambda.CfnEventSourceMapping(this, `EventSource-${topic}`, {
        functionName: fn.functionName,
        eventSourceArn: props.cluster.clusterArn,
        topics: [topic],
        startingPosition: (props.startingPosition ?? lambda.StartingPosition.TRIM_HORIZON).toString(),
        batchSize: props.batchSize ?? DEFAULT_SINK_BATCH_SIZE,
        maximumBatchingWindowInSeconds: (props.maxBatchingWindow ?? DEFAULT_SINK_BATCHING_WINDOW).toSeconds(),
        amazonManagedKafkaEventSourceConfig: { consumerGroupId: groupId },
        destinationConfig: { onFailure: { destination: dlqArn } },
        provisionedPollerConfig: props.provisionedPollers ? {
          minimumPollers: props.provisionedPollers.minimum ?? 1,
          maximumPollers: props.provisionedPollers.maximum ?? 10,
        } : undefined,
        maximumRetryAttempts: props.retryAttempts,
        maximumRecordAgeInSeconds: props.maxRecordAge?.toSeconds(),
      });
      // The role must carry its Kafka and network permissions before Lambda validates the mapping.
      esm.node.addDependency(fn.role!);
      this.eventSourceMappings[topic] = esm;
    }

    // A search view's index and alias on a domain of this library come from AgentSearch.addView: the mapping waits for
    // the index, and without one every write is refused (the writer sends require_alias=true, so nothing auto-creates it).
    if (props.search instanceof AgentSearch) {
      for (const view of searchViews) {
        const index = props.search.indexFor(view);
        if (index) {
          this.eventSourceMappings[view.topic].node.addDependency(index);
          // In another stack than the domain, the sink's role is mapped by an access resource in this stack: wait for it too.
          const access = props.search.accessFor(fn);
          if (access && Stack.of(access) !== Stack.of(index)) this.eventSourceMappings[view.topic].node.addDependency(access);
        } else {
          Annotations.of(this).addWarningV2('cdk-agent-data-stack:sink-search-view-without-index',
            `AgentSink: search view '${view.name}' has no index on AgentSearch '${props.search.node.path}', so every write to '${view.index}' would fail `
            + `with index_not_found. Call search.addView(view) before creating the sink (AgentDataStack does).`);
        }
      }
    }
  }

  /** The sink function's network identity (e.g. `cluster.connections.allowFrom(sink, port)`). */
  public get connections(): ec2.Connections {
    return this.function.connections;
  }

  /** The sink function's role, for grants the stores' own helpers do not cover. */
  public get grantPrincipal(): iam.IPrincipal {
    return this.function.grantPrincipal;
  }

  /** Consumer lag of the event source mappings in records (AWS/Lambda OffsetLag, Maximum). */
  public metricOffsetLag(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: AWS_METRIC_NAMESPACES.lambda, metricName: LAMBDA_METRIC_NAMES.offsetLag,
      dimensionsMap: { [AWS_METRIC_DIMENSIONS.lambdaFunction]: this.function.functionName },
      statistic: cloudwatch.Stats.MAXIMUM, period: Duration.minutes(1), ...props,
    });
  }

  /** Names of the views this sink writes. */
  public get viewNames(): string[] {
    return this.views.map(v => v.name);
  }

  /** The consumer group of each data topic (the heartbeat topic is read for `CdcLag`, not data: its lag says nothing). */
  public consumedTopics(): ConsumedTopics[] {
    return Object.entries(this.consumerGroups)
      .filter(([topic]) => !this.heartbeatTopics.includes(topic))
      .map(([topic, group]) => ({ group, topics: [topic] }));
  }

  private sinkMetric(metricName: string, view: string, statistic: string, props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: this.metricsNamespace, metricName,
      dimensionsMap: { [AGENT_METRIC_DIMENSIONS.service]: this.serviceName, [AGENT_METRIC_DIMENSIONS.view]: view },
      statistic, period: Duration.minutes(1), ...props,
    });
  }

  /** Records received for a view (Sum). */
  public metricRecordsReceived(view: string, props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.sinkMetric(SINK_METRIC_NAMES.recordsReceived, this.viewName(view), 'Sum', props);
  }

  /** Records applied to the store (Sum). */
  public metricRecordsWritten(view: string, props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.sinkMetric(SINK_METRIC_NAMES.recordsWritten, this.viewName(view), 'Sum', props);
  }

  /** Records skipped because the store held an equal or newer version: replays and reordering (Sum). */
  public metricRecordsStale(view: string, props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.sinkMetric(SINK_METRIC_NAMES.recordsStale, this.viewName(view), 'Sum', props);
  }

  /** Records with nothing to store: Debezium tombstones and schema-change events (Sum). */
  public metricRecordsSkipped(view: string, props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.sinkMetric(SINK_METRIC_NAMES.recordsSkipped, this.viewName(view), 'Sum', props);
  }

  /** Records sent to the dead-letter destination (Sum); alarm on any. */
  public metricRecordsDeadLettered(view: string, props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.sinkMetric(SINK_METRIC_NAMES.recordsDeadLettered, this.viewName(view), 'Sum', props);
  }

  /** Worst write time minus source commit time per batch, milliseconds (Maximum). */
  public metricFreshnessLag(view: string, props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.sinkMetric(SINK_METRIC_NAMES.freshnessLag, this.viewName(view), 'Maximum', props);
  }

  /**
   * CDC lag: now minus the source time of the latest Debezium heartbeat, milliseconds (Maximum), dimension
   * `Topic` = the heartbeat topic (`heartbeatTopic`, or another of `heartbeatTopics`); needs `heartbeatTopic`.
   */
  public metricCdcLag(props?: cloudwatch.MetricOptions, heartbeatTopic?: string): cloudwatch.Metric {
    const topic = heartbeatTopic ?? this.requireHeartbeatTopic();
    if (!this.heartbeatTopics.includes(topic)) {
      throw new Error(`AgentSink: metricCdcLag('${topic}'): this sink maps no such heartbeat topic (heartbeat topics: ${this.heartbeatTopics.join(', ') || 'none'}).`);
    }
    return new cloudwatch.Metric({
      namespace: this.metricsNamespace, metricName: SINK_METRIC_NAMES.cdcLag,
      dimensionsMap: { [AGENT_METRIC_DIMENSIONS.service]: this.serviceName, [AGENT_METRIC_DIMENSIONS.topic]: topic },
      statistic: 'Maximum', period: Duration.minutes(1), ...props,
    });
  }

  private requireHeartbeatTopic(): string {
    if (!this.heartbeatTopic) throw new Error('AgentSink: metricCdcLag needs heartbeatTopic. Pass heartbeatTopic: connector.heartbeatTopic (the Debezium heartbeat topic).');
    return this.heartbeatTopic;
  }

  private viewName(view: string): string {
    if (!this.views.some(v => v.name === view)) {
      throw new Error(`AgentSink: view '${view}' is not written by this sink (views: ${this.views.map(v => v.name).join(', ')}).`);
    }
    return view;
  }

  /**
   * Dead letters are full change records: a customer-managed KMS key, versioning, server access logs to a second
   * bucket, and a lifecycle that deletes them after `deadLetterRetention`.
   */
  private createBucket(): s3.Bucket {
    const retentionDays = this.deadLetterRetention.toDays();
    const key = new kms.Key(this, 'DeadLetterKey', {
      description: `Encrypts the dead letters of ${this.node.path}`,
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    denyNonServiceGrants(key);
    (this as { deadLetterKey?: kms.IKey }).deadLetterKey = key;
    // The server access logs hold requests and object keys (view/topic/partition/offset), never record values.
    const accessLogs = new s3.Bucket(this, 'DeadLetterAccessLogs', accessLogBucketProps(RemovalPolicy.RETAIN));
    Validations.of(accessLogs).acknowledge(
      { id: 'ControlTower-CT.S3.PR.2', reason: 'This is the server access log bucket of the dead-letter bucket; logging a log bucket would need a third bucket, and so on.' },
      { id: 'ControlTower-CT.S3.PR.10', reason: 'S3 server access log delivery writes to SSE-S3 buckets without a key policy for the logging service; the logs hold requests and object keys, never record values.' },
      ...acknowledgeBucketControls('the dead-letter bucket\'s server access logs'),
    );
    const bucket = new s3.Bucket(this, 'DeadLetterBucket', {
      encryption: s3.BucketEncryption.KMS,
      encryptionKey: key,
      bucketKeyEnabled: true,
      versioned: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      serverAccessLogsBucket: accessLogs,
      serverAccessLogsPrefix: 'dead-letters/',
      removalPolicy: RemovalPolicy.RETAIN,
      lifecycleRules: [{
        id: 'ExpireDeadLetters',
        expiration: Duration.days(retentionDays),
        // A retried batch overwrites its letters; old versions go one day later.
        noncurrentVersionExpiration: Duration.days(1),
        abortIncompleteMultipartUploadAfter: Duration.days(1),
      }],
    });
    Validations.of(bucket).acknowledge(...acknowledgeBucketControls('dead letters'));
    return bucket;
  }

  private createQueue(): sqs.Queue {
    const queue = new sqs.Queue(this, 'DeadLetterQueue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    Validations.of(queue).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason: 'This queue is itself the dead-letter destination of the sink; its messages are read by operators, not by a consumer that could fail.',
    });
    return queue;
  }
}
