// Props of AgentCache: authentication, node-based and serverless options, and the attributes of an imported cache.
import { RemovalPolicy } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { type CacheAuthMode } from '../../contract/cache-env';

/** How clients authenticate to the cache. */
export class CacheAuthentication {
  /** IAM authentication: an ElastiCache user with IAM auth; clients sign short-lived tokens (`grantConnect`). */
  public static iam(): CacheAuthentication {
    return new CacheAuthentication('iam');
  }

  /**
   * An RBAC user whose password lives in Secrets Manager (`grantConnect` grants reading it).
   * The secret must be JSON with a `password` key (16-128 characters, no spaces, '"', '/' or '@').
   */
  public static password(options: { readonly secret?: secretsmanager.ISecret } = {}): CacheAuthentication {
    return new CacheAuthentication('password', options.secret);
  }

  private constructor(public readonly mode: Exclude<CacheAuthMode, 'none'>, public readonly secret?: secretsmanager.ISecret) {}
}

export interface NodeBasedCacheOptions {
  /** @default 'cache.r7g.large' */
  readonly nodeType?: string;
  /** Read replicas next to the primary; at least 1 gives Multi-AZ automatic failover. @default 1 */
  readonly replicas?: number;
  /** @default '8.0' */
  readonly engineVersion?: string;
  /** @default 6379 */
  readonly port?: number;
}

export interface ServerlessCacheLimits {
  /** @default - no limit */
  readonly maxDataStorageGb?: number;
  /** @default - no limit */
  readonly maxEcpuPerSecond?: number;
}

export interface AgentCacheProps {
  readonly vpc: ec2.IVpc;
  /** @default - the VPC's private subnets with egress, else its isolated subnets */
  readonly vpcSubnets?: ec2.SubnetSelection;
  /** @default - a new security group with no inbound rules (use `connections.allowDefaultPortFrom`) and no outbound rules */
  readonly securityGroups?: ec2.ISecurityGroup[];
  /**
   * Serverless cache name or replication group id (1-40 lowercase letters, digits, hyphens); also the host of IAM auth tokens.
   * @default - derived from the construct path
   */
  readonly cacheName?: string;
  /** @default CacheAuthentication.iam() */
  readonly authentication?: CacheAuthentication;
  /** Customer managed key for encryption at rest. @default - an AWS owned key (encryption at rest is always on) */
  readonly encryptionKey?: kms.IKey;
  /** Run a node-based replication group instead of a serverless cache. @default - a serverless cache */
  readonly nodeBased?: NodeBasedCacheOptions;
  /** Serverless only: caps on storage and ECPUs. @default - no limits */
  readonly serverlessLimits?: ServerlessCacheLimits;
  /** Daily snapshots kept. @default 1 */
  readonly snapshotRetentionLimit?: number;
  /** The cache holds derived data (rebuildable from the topics); RETAIN still guards against accidental loss. @default RemovalPolicy.RETAIN */
  readonly removalPolicy?: RemovalPolicy;
}

export interface CacheAttributes {
  readonly cacheArn: string;
  /** Serverless cache name or replication group id. */
  readonly cacheName: string;
  readonly endpointAddress: string;
  readonly endpointPort: number;
  readonly serverless: boolean;
  readonly securityGroups: ec2.ISecurityGroup[];
  /** IAM auth: the user id clients connect as. Password auth: the RBAC user name. */
  readonly userId: string;
  /** @default CacheAuthentication.iam() */
  readonly authentication?: CacheAuthentication;
  /** @default - true for serverless caches, false otherwise */
  readonly clusterMode?: boolean;
  /**
   * Node-based caches: the node clusters of the replication group (`<group>-001`, `<group>-002`, ...), which ElastiCache
   * publishes node metrics for. Ignored for serverless caches.
   * @default - [`<cacheName>-001`], the first node cluster
   */
  readonly nodeClusterIds?: string[];  /**
   * An existing user of this cache that may only read (create it with the cache's authentication and the access string
   * `AgentMcpServer` prints in its synth info message when this is not set); the MCP server connects as it. Password authentication: its secret.
   * @default - no reader user: the MCP server connects as `userId`
   */
  readonly readerUserId?: string;
  /** The RBAC password secret of `readerUserId` (password authentication). @default - none (IAM authentication) */
  readonly readerSecret?: secretsmanager.ISecret;
}
