// AgentCache: ElastiCache for Valkey (serverless by default, or a node-based replication group) with TLS, encryption at rest and IAM or RBAC-password authentication.
import { ArnFormat, Lazy, Names, RemovalPolicy, Stack, Token, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elasticache from 'aws-cdk-lib/aws-elasticache';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { restrictedSecurityGroup } from '../common/security-group';
import { CacheReaderUserOptions, IAgentCache, ICacheUser } from './refs';
import { privateSubnetsWithEgressElseIsolated } from '../common/subnets';
import { AgentCacheBase } from './agent-cache-base';
import { AgentCacheProps, CacheAttributes, CacheAuthentication, ServerlessCacheLimits } from './agent-cache-props';

export { AgentCacheBase } from './agent-cache-base';
export * from './agent-cache-props';

/**
 * What the application user may do: every key and command except the @dangerous category (FLUSHALL, KEYS,
 * CONFIG, CLIENT KILL, ...); INFO is allowed back because clients run it as a ready check.
 */
export const APP_ACCESS_STRING = 'on ~* +@all -@dangerous +info';

/**
 * What a reader user may do: read commands (without key enumeration or @dangerous ones) on the given key prefixes only, plus
 * what clients run to connect: PING, INFO (the ready check of a node-based cache's client) and the two CLUSTER
 * subcommands a cluster-mode client needs to find the slots (serverless caches speak cluster mode).
 */
export function readerAccessString(keyPrefixes: readonly string[]): string {
  return `on ${keyPrefixes.map(p => `~${p}*`).join(' ')} -@all +@read -@keyspace -@dangerous +ping +info +cluster|slots +cluster|info`;
}

/** Key prefixes the ACL takes literally: no glob characters (`*`, `?`, `[`, `]`, `\`) and ending in ':'. */
const READER_PREFIX = /^[A-Za-z0-9_.\-{}:]+:$/;

const CACHE_NAME = /^[a-z](?!.*--)[a-z0-9-]{0,39}$/;

/**
 * An ElastiCache for Valkey cache for the agent views: serverless by default (TLS always on), or a Multi-AZ
 * replication group. Authentication is always on, IAM by default.
 */
export class AgentCache extends AgentCacheBase {
  /** Imports an existing cache. */
  public static fromCacheAttributes(scope: Construct, id: string, attrs: CacheAttributes): IAgentCache & AgentCacheBase {
    class Import extends AgentCacheBase {
      public readonly cacheArn = attrs.cacheArn;
      public readonly cacheName = attrs.cacheName;
      public readonly endpointAddress = attrs.endpointAddress;
      public readonly endpointPort = attrs.endpointPort;
      public readonly serverless = attrs.serverless;
      public readonly authentication = attrs.authentication ?? CacheAuthentication.iam();
      public readonly userId = attrs.userId;
      public readonly connections = new ec2.Connections({ securityGroups: attrs.securityGroups, defaultPort: ec2.Port.tcp(attrs.endpointPort) });
      public readonly nodeClusterIds = attrs.serverless ? [] : (attrs.nodeClusterIds ?? [`${attrs.cacheName}-001`]);
      protected readonly clusterMode = attrs.clusterMode ?? attrs.serverless;
      public readonly addReaderUser = attrs.readerUserId
        ? (_id: string, options: CacheReaderUserOptions) => this.existingUser(attrs.readerUserId!, readerAccessString(options.keyPrefixes), attrs.readerSecret)
        : undefined;
    }
    return new Import(scope, id);
  }

  public readonly cacheArn: string;
  public readonly cacheName: string;
  public readonly endpointAddress: string;
  public readonly endpointPort: number;
  public readonly connections: ec2.Connections;
  public readonly serverless: boolean;
  public readonly authentication: CacheAuthentication;
  public readonly userId: string;
  public readonly nodeClusterIds: string[];
  /** The RBAC password secret (password authentication). */
  public readonly secret?: secretsmanager.ISecret;
  /** The serverless cache, when serverless. */
  public readonly serverlessCache?: elasticache.CfnServerlessCache;
  /** The replication group, when node-based. */
  public readonly replicationGroup?: elasticache.CfnReplicationGroup;
  protected readonly clusterMode: boolean;
  private readonly groupUserIds: string[] = [];
  private readonly userGroup: elasticache.CfnUserGroup;

  constructor(scope: Construct, id: string, props: AgentCacheProps) {
    super(scope, id);
    const cacheName = props.cacheName ?? Names.uniqueResourceName(this, { maxLength: 32, separator: '-' }).toLowerCase().replace(/[^a-z0-9-]/g, '').replace(/-+/g, '-').replace(/^[^a-z]+/, '').replace(/-$/, '');
    validate(props, cacheName);

    this.cacheName = cacheName;
    this.serverless = props.nodeBased === undefined;
    this.clusterMode = this.serverless;
    // A replication group without cluster mode names its node clusters <group>-001, -002, ... (one per node).
    this.nodeClusterIds = this.serverless ? [] : Array.from({ length: 1 + (props.nodeBased?.replicas ?? 1) }, (_, i) => `${cacheName}-${String(i + 1).padStart(3, '0')}`);
    const port = this.serverless ? 6379 : (props.nodeBased?.port ?? 6379);
    this.endpointPort = port;
    const securityGroups = props.securityGroups ?? [restrictedSecurityGroup(this, 'SecurityGroup', {
      vpc: props.vpc,
      description: `ElastiCache ${cacheName}: inbound only from granted clients`,
    })];
    this.connections = new ec2.Connections({ securityGroups, defaultPort: ec2.Port.tcp(port) });
    const subnets = props.vpc.selectSubnets(props.vpcSubnets ?? privateSubnetsWithEgressElseIsolated(props.vpc));
    if (subnets.hasPublic) {
      throw new Error(`AgentCache: vpcSubnets selects public subnets; a cache must not be reachable from the internet. Select private subnets.`);
    }

    // Users: the one clients connect as, and the 'default' user every user group must hold, switched off.
    this.authentication = props.authentication ?? CacheAuthentication.iam();
    const engine = 'valkey';
    this.userId = `${cacheName}-app`.slice(0, 40);
    let user: elasticache.CfnUser;
    if (this.authentication.mode === 'iam') {
      user = new elasticache.CfnUser(this, 'User', {
        engine, userId: this.userId, userName: this.userId, authenticationMode: { Type: 'iam' }, accessString: APP_ACCESS_STRING,
      });
    } else {
      const secret = this.authentication.secret ?? new secretsmanager.Secret(this, 'Secret', {
        description: `RBAC password of ElastiCache user ${this.userId}`,
        generateSecretString: {
          secretStringTemplate: JSON.stringify({ username: this.userId }),
          generateStringKey: 'password',
          excludePunctuation: true,
          passwordLength: 64,
        },
        removalPolicy: RemovalPolicy.DESTROY,
      });
      if (!this.authentication.secret) {
        Validations.of(secret).acknowledge({
          id: 'AwsSolutions-SMG4',
          reason: 'ElastiCache RBAC passwords rotate by adding a second password to the user (ModifyUser), which this construct does not automate; IAM authentication (the default) needs no secret.',
        });
      }
      this.secret = secret;
      this.authentication = CacheAuthentication.password({ secret });
      user = new elasticache.CfnUser(this, 'User', {
        engine, userId: this.userId, userName: this.userId, accessString: APP_ACCESS_STRING,
        authenticationMode: { Type: 'password', Passwords: [secret.secretValueFromJson('password').unsafeUnwrap()] },
      });
    }
    // A Valkey user group needs no `default` user (and may hold only users that authenticate): attaching the group
    // disables the unauthenticated default user (ElastiCache User Guide, "RBAC with Valkey").
    this.groupUserIds.push(user.userId);
    const userGroup = new elasticache.CfnUserGroup(this, 'UserGroup', {
      engine, userGroupId: `${cacheName}-users`.slice(0, 40), userIds: Lazy.list({ produce: () => this.groupUserIds }),
    });
    userGroup.addResourceDependency(user);
    this.userGroup = userGroup;

    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    if (this.serverless) {
      const cache = new elasticache.CfnServerlessCache(this, 'Resource', {
        serverlessCacheName: cacheName,
        engine,
        majorEngineVersion: '8',
        description: 'Agent views (cdk-agent-data-stack)',
        subnetIds: subnets.subnetIds,
        securityGroupIds: securityGroups.map(sg => sg.securityGroupId),
        kmsKeyId: props.encryptionKey?.keyArn,
        userGroupId: userGroup.userGroupId,
        snapshotRetentionLimit: props.snapshotRetentionLimit ?? 1,
        cacheUsageLimits: limits(props.serverlessLimits),
      });
      cache.addResourceDependency(userGroup);
      cache.applyRemovalPolicy(removalPolicy);
      this.serverlessCache = cache;
      this.cacheArn = cache.attrArn;
      this.endpointAddress = cache.attrEndpointAddress;
    } else {
      const nb = props.nodeBased!;
      const replicas = nb.replicas ?? 1;
      const subnetGroup = new elasticache.CfnSubnetGroup(this, 'SubnetGroup', {
        description: `Subnets of ElastiCache ${cacheName}`,
        subnetIds: subnets.subnetIds,
      });
      const group = new elasticache.CfnReplicationGroup(this, 'Resource', {
        replicationGroupId: cacheName,
        replicationGroupDescription: 'Agent views (cdk-agent-data-stack)',
        engine,
        engineVersion: nb.engineVersion ?? '8.0',
        cacheNodeType: nb.nodeType ?? 'cache.r7g.large',
        numCacheClusters: 1 + replicas,
        automaticFailoverEnabled: replicas > 0,
        multiAzEnabled: replicas > 0,
        port,
        cacheSubnetGroupName: subnetGroup.ref,
        securityGroupIds: securityGroups.map(sg => sg.securityGroupId),
        transitEncryptionEnabled: true,
        transitEncryptionMode: 'required',
        atRestEncryptionEnabled: true,
        kmsKeyId: props.encryptionKey?.keyArn,
        userGroupIds: [userGroup.userGroupId],
        snapshotRetentionLimit: props.snapshotRetentionLimit ?? 1,
        autoMinorVersionUpgrade: true,
      });
      group.addResourceDependency(userGroup);
      group.applyRemovalPolicy(removalPolicy);
      this.replicationGroup = group;
      this.cacheArn = Stack.of(this).formatArn({ service: 'elasticache', resource: 'replicationgroup', resourceName: cacheName, arnFormat: ArnFormat.COLON_RESOURCE_NAME });
      this.endpointAddress = group.attrPrimaryEndPointAddress;
      Validations.of(group).acknowledge({
        id: 'AwsSolutions-AEC6',
        reason: 'Authentication is on through an RBAC user group (IAM or Secrets Manager password users, default user disabled), which supersedes the single AUTH token this rule looks for.',
      });
    }
  }

  /**
   * A user that may only read keys under `keyPrefixes` (`readerAccessString`), authenticated like the application
   * user (IAM, or its own password secret), added to the cache's user group. `id` makes its user id
   * (`<cacheName>-<id>`, at most 40 characters) and must be unique on this cache.
   */
  public addReaderUser(id: string, options: CacheReaderUserOptions): ICacheUser {
    const userId = `${this.cacheName}-${id}`;
    if (!/^[a-z0-9]{1,7}$/.test(id) || userId.length > 40) {
      throw new Error(`AgentCache.addReaderUser: id '${id}' must be 1-7 lowercase letters or digits so that '${this.cacheName}-<id>' fits ElastiCache's 40-character user ids.`);
    }
    if (this.groupUserIds.includes(userId)) throw new Error(`AgentCache.addReaderUser: a user '${userId}' already exists on this cache. Pass another id.`);
    if (options.keyPrefixes.length === 0) throw new Error(`AgentCache.addReaderUser: keyPrefixes is empty for '${userId}'. Pass the key prefixes of the views it reads.`);
    for (const p of options.keyPrefixes) {
      if (!READER_PREFIX.test(p)) throw new Error(`AgentCache.addReaderUser: key prefix '${p}' must be letters, digits, '_', '.', '-', '{', '}', ':' ending in ':' (no glob characters), e.g. 'customers:'.`);
    }
    const accessString = readerAccessString(options.keyPrefixes);
    const scope = new Construct(this, `Reader${id}`);
    let secret: secretsmanager.ISecret | undefined;
    let user: elasticache.CfnUser;
    if (this.authentication.mode === 'iam') {
      user = new elasticache.CfnUser(scope, 'User', { engine: 'valkey', userId, userName: userId, authenticationMode: { Type: 'iam' }, accessString });
    } else {
      const generated = new secretsmanager.Secret(scope, 'Secret', {
        description: `RBAC password of ElastiCache read-only user ${userId}`,
        generateSecretString: { secretStringTemplate: JSON.stringify({ username: userId }), generateStringKey: 'password', excludePunctuation: true, passwordLength: 64 },
        removalPolicy: RemovalPolicy.DESTROY,
      });
      Validations.of(generated).acknowledge({
        id: 'AwsSolutions-SMG4',
        reason: 'ElastiCache RBAC passwords rotate by adding a second password to the user (ModifyUser), which this construct does not automate; IAM authentication (the default) needs no secret.',
      });
      secret = generated;
      user = new elasticache.CfnUser(scope, 'User', {
        engine: 'valkey', userId, userName: userId, accessString,
        authenticationMode: { Type: 'password', Passwords: [generated.secretValueFromJson('password').unsafeUnwrap()] },
      });
    }
    this.groupUserIds.push(userId);
    this.userGroup.addResourceDependency(user);
    return this.existingUser(userId, accessString, secret);
  }
}

function limits(l: ServerlessCacheLimits | undefined): elasticache.CfnServerlessCache.CacheUsageLimitsProperty | undefined {
  if (!l || (l.maxDataStorageGb === undefined && l.maxEcpuPerSecond === undefined)) return undefined;
  return {
    ...(l.maxDataStorageGb !== undefined ? { dataStorage: { maximum: l.maxDataStorageGb, unit: 'GB' } } : {}),
    ...(l.maxEcpuPerSecond !== undefined ? { ecpuPerSecond: { maximum: l.maxEcpuPerSecond } } : {}),
  };
}

function validate(props: AgentCacheProps, cacheName: string): void {
  if (!Token.isUnresolved(cacheName) && !CACHE_NAME.test(cacheName)) {
    throw new Error(`AgentCache: cacheName '${cacheName}' is invalid; use 1-40 lowercase letters, digits and single hyphens, starting with a letter (e.g. 'agent-views').`);
  }
  if (!Token.isUnresolved(cacheName) && cacheName.length > 32) {
    // user ids are '<cacheName>-default' and must fit ElastiCache's 40 characters
    throw new Error(`AgentCache: cacheName '${cacheName}' is ${cacheName.length} characters; at most 32 leave room for its user ids ('<cacheName>-default'). Shorten it.`);
  }
  const nb = props.nodeBased;
  if (nb) {
    if (props.serverlessLimits) throw new Error('AgentCache: serverlessLimits is set with nodeBased; limits apply to serverless caches only. Remove one of them.');
    if (nb.replicas !== undefined && (!Number.isInteger(nb.replicas) || nb.replicas < 0 || nb.replicas > 5)) {
      throw new Error(`AgentCache: nodeBased.replicas is ${nb.replicas}; use an integer from 0 to 5 (1 or more for Multi-AZ failover).`);
    }
    if (nb.port !== undefined && (!Number.isInteger(nb.port) || nb.port < 1024 || nb.port > 65535)) {
      throw new Error(`AgentCache: nodeBased.port is ${nb.port}; use a port from 1024 to 65535.`);
    }
    if (nb.engineVersion !== undefined && !/^(7\.2|[89])(\.\d+)?$/.test(nb.engineVersion)) {
      throw new Error(`AgentCache: nodeBased.engineVersion is '${nb.engineVersion}'; IAM authentication on Valkey needs 7.2 or later (e.g. '8.0').`);
    }
  }
  const n = props.snapshotRetentionLimit;
  if (n !== undefined && (!Number.isInteger(n) || n < 0 || n > 35)) {
    throw new Error(`AgentCache: snapshotRetentionLimit is ${n}; use an integer from 0 to 35.`);
  }
}
