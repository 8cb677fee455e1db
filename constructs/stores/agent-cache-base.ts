// Grants, client environment and metrics shared by created and imported caches (AgentCacheBase).
import { ArnFormat, Duration, Resource, Stack, Token } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { CACHE_CONNECT_ACTIONS } from './perms';
import { CacheMetricOptions, IAgentCache, ICacheUser } from './refs';
import { AWS_METRIC_DIMENSIONS, AWS_METRIC_NAMESPACES, ELASTICACHE_METRIC_NAMES as M } from '../../contract/metric-names';
import type { CacheAuthentication } from './agent-cache-props';
import { CACHE_ENV } from '../../contract/cache-env';

/** Environment variable names of `clientEnvironment()`, shared with the client that reads them. */
const ENV = CACHE_ENV;

/** Grants, environment and metrics shared by created and imported caches. */
export abstract class AgentCacheBase extends Resource implements IAgentCache {
  public abstract readonly cacheArn: string;
  public abstract readonly cacheName: string;
  public abstract readonly endpointAddress: string;
  public abstract readonly endpointPort: number;
  public abstract readonly connections: ec2.Connections;
  public abstract readonly serverless: boolean;
  public abstract readonly authentication: CacheAuthentication;
  /** IAM: the user id (= user name) clients authenticate as; password: the RBAC user name. */
  public abstract readonly userId: string;
  public abstract readonly nodeClusterIds: string[];
  protected abstract readonly clusterMode: boolean;

  /** ARN of the ElastiCache user clients connect as. */
  public get userArn(): string {
    return Stack.of(this).formatArn({ service: 'elasticache', resource: 'user', resourceName: this.userId, arnFormat: ArnFormat.COLON_RESOURCE_NAME });
  }

  public grantConnect(grantee: iam.IGrantable): iam.Grant {
    if (this.authentication.mode === 'password') {
      return this.authentication.secret!.grantRead(grantee);
    }
    return iam.Grant.addToPrincipal({ grantee, actions: CACHE_CONNECT_ACTIONS, resourceArns: [this.cacheArn, this.userArn] });
  }

  public clientEnvironment(): Record<string, string> {
    return {
      [ENV.endpoint]: this.endpointAddress,
      [ENV.port]: Token.isUnresolved(this.endpointPort) ? Token.asString(this.endpointPort) : String(this.endpointPort),
      [ENV.tls]: 'true',
      [ENV.auth]: this.authentication.mode,
      [ENV.user]: this.userId,
      [ENV.cacheName]: this.cacheName,
      [ENV.serverless]: String(this.serverless),
      [ENV.clusterMode]: String(this.clusterMode),
      ...(this.authentication.secret ? { [ENV.secretArn]: this.authentication.secret.secretArn } : {}),
    };
  }

  /** A user of this cache as clients see it: its grant and its client environment. */
  protected existingUser(userId: string, accessString: string, secret?: secretsmanager.ISecret): ICacheUser {
    const cacheArn = this.cacheArn;
    const cacheEnvironment = () => this.clientEnvironment();
    const userArn = Stack.of(this).formatArn({ service: 'elasticache', resource: 'user', resourceName: userId, arnFormat: ArnFormat.COLON_RESOURCE_NAME });
    return {
      userId,
      userArn,
      accessString,
      grantConnect(grantee: iam.IGrantable): iam.Grant {
        if (secret) return secret.grantRead(grantee);
        return iam.Grant.addToPrincipal({ grantee, actions: CACHE_CONNECT_ACTIONS, resourceArns: [cacheArn, userArn] });
      },
      clientEnvironment(): Record<string, string> {
        return { ...cacheEnvironment(), [ENV.user]: userId, ...(secret ? { [ENV.secretArn]: secret.secretArn } : {}) };
      },
    };
  }

  /**
   * A metric of this cache in AWS/ElastiCache: serverless caches publish under `clusterId`, node-based ones per node
   * cluster under `CacheClusterId` (`nodeClusterId`, default the first of `nodeClusterIds`).
   */
  public metric(metricName: string, props: CacheMetricOptions = {}): cloudwatch.Metric {
    const { nodeClusterId, ...options } = props;
    if (this.serverless && nodeClusterId !== undefined) {
      throw new Error(`AgentCache: nodeClusterId '${nodeClusterId}' given for serverless cache '${this.cacheName}'; serverless caches publish per cache. Omit it.`);
    }
    return new cloudwatch.Metric({
      namespace: AWS_METRIC_NAMESPACES.elastiCache,
      metricName,
      dimensionsMap: this.serverless
        ? { [AWS_METRIC_DIMENSIONS.serverlessCache]: this.cacheName }
        : { [AWS_METRIC_DIMENSIONS.cacheCluster]: nodeClusterId ?? this.nodeClusterIds[0] },
      period: Duration.minutes(1),
      ...options,
    });
  }

  /** Compute: ECPUs consumed (serverless, Sum) or EngineCPUUtilization of one node (node-based, Average %). */
  public metricCpu(props?: CacheMetricOptions): cloudwatch.Metric {
    return this.serverless
      ? this.metric(M.processingUnits, { statistic: 'Sum', ...props })
      : this.metric(M.engineCpuUtilization, { statistic: 'Average', ...props });
  }

  /** Memory: BytesUsedForCache (serverless, Average bytes) or DatabaseMemoryUsagePercentage of one node (node-based, Average %). */
  public metricMemory(props?: CacheMetricOptions): cloudwatch.Metric {
    return this.serverless
      ? this.metric(M.bytesUsedForCache, { statistic: 'Average', ...props })
      : this.metric(M.databaseMemoryUsagePercentage, { statistic: 'Average', ...props });
  }

  /** Serverless only: commands throttled because the cache reached its ECPU limit (Sum). Node-based caches publish none: throws. */
  public metricThrottledCommands(props?: CacheMetricOptions): cloudwatch.Metric {
    if (!this.serverless) {
      throw new Error(`AgentCache: metricThrottledCommands() applies to serverless caches; '${this.cacheName}' is node-based (ElastiCache publishes ThrottledCmds for serverless caches only).`);
    }
    return this.metric(M.throttledCmds, { statistic: 'Sum', ...props });
  }

  /** Keys evicted for lack of memory (Sum); anything above zero means the cache no longer holds the full view. */
  public metricEvictions(props?: CacheMetricOptions): cloudwatch.Metric {
    return this.metric(M.evictions, { statistic: 'Sum', ...props });
  }

  /** Read latency in microseconds (p99): SuccessfulReadRequestLatency (serverless) or GetTypeCmdsLatency (node-based). */
  public metricReadLatency(props?: CacheMetricOptions): cloudwatch.Metric {
    return this.metric(this.serverless ? M.successfulReadRequestLatency : M.getTypeCmdsLatency, { statistic: 'p99', ...props });
  }

  /** Write latency in microseconds (p99): SuccessfulWriteRequestLatency (serverless) or EvalBasedCmdsLatency (node-based; the sink writes through a script). */
  public metricWriteLatency(props?: CacheMetricOptions): cloudwatch.Metric {
    return this.metric(this.serverless ? M.successfulWriteRequestLatency : M.evalBasedCmdsLatency, { statistic: 'p99', ...props });
  }
}
