// Reference interfaces of the agent stores, so sinks and the MCP server can be wired to them without knowing how they were built.
import { IResource } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { IConstruct } from 'constructs';

/** An ElastiCache (Valkey/Redis OSS) store for key lookups. */
export interface IAgentCache extends IResource, ec2.IConnectable {
  /** ARN of the cache (serverless cache or replication group). */
  readonly cacheArn: string;
  readonly endpointAddress: string;
  readonly endpointPort: number;
  /** Grants `elasticache:Connect` (IAM auth) or secret read (RBAC password auth) to a client. */
  grantConnect(grantee: iam.IGrantable): iam.Grant;
  /** Environment variables `lambda/shared` cache clients read to connect (endpoint, port, TLS, auth mode, user, secret). */
  clientEnvironment(): Record<string, string>;
  /**
   * A user of this cache that may only read keys under the given prefixes (the MCP server's). Caches this library creates
   * implement it; a cache without it is read as its application user.
   */
  addReaderUser?(id: string, options: CacheReaderUserOptions): ICacheUser;
  /** Serverless cache name or replication group id. */
  readonly cacheName: string;
  /** Serverless caches publish other metrics (ECPUs, request latency) than node-based ones (engine CPU, per-command latency). */
  readonly serverless: boolean;
  /** Node-based: the node clusters ElastiCache publishes node metrics for (`CacheClusterId`, `<group>-001`, ...). Serverless: empty. */
  readonly nodeClusterIds: string[];
  /** Compute: ECPUs (serverless, Sum) or engine CPU % of one node (node-based, Average). */
  metricCpu(props?: CacheMetricOptions): cloudwatch.Metric;
  /** Memory: bytes stored (serverless, Average) or percent of maxmemory of one node (node-based, Average). */
  metricMemory(props?: CacheMetricOptions): cloudwatch.Metric;
  /** Serverless only (throws for node-based caches): commands throttled at the ECPU limit (Sum). */
  metricThrottledCommands(props?: CacheMetricOptions): cloudwatch.Metric;
  /** Keys evicted for lack of memory (Sum). */
  metricEvictions(props?: CacheMetricOptions): cloudwatch.Metric;
  /** Read latency in microseconds (p99). */
  metricReadLatency(props?: CacheMetricOptions): cloudwatch.Metric;
  /** Write latency in microseconds (p99). */
  metricWriteLatency(props?: CacheMetricOptions): cloudwatch.Metric;
}

export interface CacheReaderUserOptions {
  /** Key prefixes the user may read (the views' `cache.keyPrefix`, each ending in ':'). */
  readonly keyPrefixes: string[];
}

/** One user of a cache: what a client needs to connect as it. */
export interface ICacheUser {
  readonly userId: string;
  readonly userArn: string;
  /** The ACL rules of the user. */
  readonly accessString: string;
  /** `elasticache:Connect` on the cache and this user (IAM), or read of its password secret. */
  grantConnect(grantee: iam.IGrantable): iam.Grant;
  /** The cache's client environment with this user. */
  clientEnvironment(): Record<string, string>;
}

/** Metric options of a cache; node-based caches publish per node cluster. */
export interface CacheMetricOptions extends cloudwatch.MetricOptions {
  /** Node-based only: which node cluster (one of `nodeClusterIds`). @default - the first node cluster (`<group>-001`) */
  readonly nodeClusterId?: string;
}

/** An OpenSearch Service domain for search and aggregation. */
export interface IAgentSearch extends IResource, ec2.IConnectable {
  readonly domainArn: string;
  /** Hostname of the domain endpoint (no scheme). */
  readonly domainEndpoint: string;
  /** Lets a principal read (search, get) the given indexes. */
  grantRead(grantee: iam.IGrantable, ...indexes: string[]): iam.Grant;
  /** Lets a principal write (bulk index, delete) the given indexes. */
  grantWrite(grantee: iam.IGrantable, ...indexes: string[]): iam.Grant;
  /** Environment variables `lambda/shared` search clients read (endpoint, region). */
  clientEnvironment(): Record<string, string>;
  /** The domain name (dimension `DomainName` of its metrics). */
  readonly domainName: string;
  /** A metric of this domain in `AWS/ES` (dimensions `DomainName`, `ClientId`). @default - Average over 1 minute */
  metric(metricName: string, props?: cloudwatch.MetricOptions): cloudwatch.Metric;
  /** 1 when a primary shard is unassigned. @default - Maximum over 1 minute */
  metricClusterStatusRed(props?: cloudwatch.MetricOptions): cloudwatch.Metric;
  /** 1 when a replica shard is unassigned. @default - Maximum over 1 minute */
  metricClusterStatusYellow(props?: cloudwatch.MetricOptions): cloudwatch.Metric;
  /** 1 when the domain blocks writes (storage or memory pressure). @default - Maximum over 1 minute */
  metricClusterIndexWritesBlocked(props?: cloudwatch.MetricOptions): cloudwatch.Metric;
  /** Percentage of JVM heap in use on data nodes. @default - Maximum over 1 minute */
  metricJvmMemoryPressure(props?: cloudwatch.MetricOptions): cloudwatch.Metric;
  /** Milliseconds per indexing operation. @default - Average over 1 minute */
  metricIndexingLatency(props?: cloudwatch.MetricOptions): cloudwatch.Metric;
  /** Milliseconds per search. @default - Average over 1 minute */
  metricSearchLatency(props?: cloudwatch.MetricOptions): cloudwatch.Metric;
  /** Free storage in MiB on the fullest data node. @default - Minimum over 1 minute */
  metricFreeStorageSpace(props?: cloudwatch.MetricOptions): cloudwatch.Metric;
}

/** A consumer group and the topics it reads (MSK publishes lag per cluster, group and topic). */
export interface ConsumedTopics {
  readonly group: string;
  readonly topics: string[];
}

/** A sink function and the metrics it publishes per view (what `AgentObservability` reads). */
export interface IAgentSink extends IConstruct {
  /** The sink function (Lambda `Errors`, `OffsetLag` of its Kafka event source mappings). */
  readonly function: lambda.IFunction;
  /** Names of the views the sink writes (dimension `View` of its counters and `FreshnessLag`). */
  readonly viewNames: string[];
  /** The Debezium heartbeat topic the sink maps and publishes `CdcLag` for. @default - none: no `CdcLag` */
  readonly heartbeatTopic?: string;
  /** Every Debezium heartbeat topic the sink maps: `heartbeatTopic` first, then one per further source database. */
  readonly heartbeatTopics: string[];
  /** The consumer group of each data topic the sink reads (the heartbeat topic is not data). */
  consumedTopics(): ConsumedTopics[];
  /** Kafka consumer lag in records (`AWS/Lambda` `OffsetLag`). @default - Maximum over 1 minute */
  metricOffsetLag(props?: cloudwatch.MetricOptions): cloudwatch.Metric;
  /** @default - Sum over 1 minute */
  metricRecordsReceived(view: string, props?: cloudwatch.MetricOptions): cloudwatch.Metric;
  /** @default - Sum over 1 minute */
  metricRecordsWritten(view: string, props?: cloudwatch.MetricOptions): cloudwatch.Metric;
  /** @default - Sum over 1 minute */
  metricRecordsStale(view: string, props?: cloudwatch.MetricOptions): cloudwatch.Metric;
  /** @default - Sum over 1 minute */
  metricRecordsSkipped(view: string, props?: cloudwatch.MetricOptions): cloudwatch.Metric;
  /** @default - Sum over 1 minute */
  metricRecordsDeadLettered(view: string, props?: cloudwatch.MetricOptions): cloudwatch.Metric;
  /** Milliseconds from source commit to store write. @default - Maximum over 1 minute */
  metricFreshnessLag(view: string, props?: cloudwatch.MetricOptions): cloudwatch.Metric;
  /**
   * Milliseconds from the latest heartbeat's source commit to the sink, for one of `heartbeatTopics`.
   * @default - Maximum over 1 minute, of `heartbeatTopic`
   */
  metricCdcLag(props?: cloudwatch.MetricOptions, heartbeatTopic?: string): cloudwatch.Metric;
}
