// AgentSearch: an OpenSearch Service domain for agents' search views, locked down (VPC, encryption, HTTPS, FGAC) with one explicitly mapped index per view.
import * as crypto from 'crypto';
import { Arn, ArnFormat, CustomResource, Duration, Lazy, Names, RemovalPolicy, Resource, Stack, Token, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as opensearch from 'aws-cdk-lib/aws-opensearchservice';
import { Construct, IConstruct } from 'constructs';
import { AgentProvider } from '../common/agent-provider';
import { restrictedSecurityGroup } from '../common/security-group';
import type { ViewConfig } from '../../contract/view-config';
import { indexNameProblem, physicalIndexName, viewIndexSettings, viewMappings } from '../../contract/search-mapping';
import { SEARCH_ENV } from '../../contract/search-env';
import { AWS_METRIC_DIMENSIONS, AWS_METRIC_NAMESPACES, OPENSEARCH_METRIC_NAMES } from '../../contract/metric-names';
import { IAgentSearch } from './refs';
import { FGAC_READ, FGAC_WRITE, SEARCH_ADMIN_ACTIONS, SEARCH_READ_ACTIONS, SEARCH_WRITE_ACTIONS } from './search-perms';
import { nagResource } from '../common/nag';
import { privateSubnetsWithEgressElseIsolated } from '../common/subnets';

/** Attributes of a domain created elsewhere. */
export interface AgentSearchAttributes {
  /** ARN of the domain (`arn:aws:es:<region>:<account>:domain/<name>`). */
  readonly domainArn: string;
  /** Endpoint hostname (no scheme). */
  readonly domainEndpoint: string;
  /** Security groups of the domain's VPC endpoint, so callers can be allowed in. @default - none: `connections` cannot open ports */
  readonly securityGroups?: ec2.ISecurityGroup[];
}

/** Reads, writes and metrics shared by new and imported domains. */
export abstract class AgentSearchBase extends Resource implements IAgentSearch {
  public abstract readonly domainArn: string;
  public abstract readonly domainEndpoint: string;
  /** The domain name (the last part of the ARN). */
  public abstract readonly domainName: string;
  public abstract readonly connections: ec2.Connections;

  /**
   * Lets a principal search and get documents of the given indexes (aliases): IAM `es:ESHttpGet/Head/Post` on
   * `<domainArn>/<index>` and `<domainArn>/<index>/*`. On a domain this stack created, the principal is also
   * named in the domain access policy and mapped to a read-only FGAC role for these indexes.
   */
  public grantRead(grantee: iam.IGrantable, ...indexes: string[]): iam.Grant {
    return this.grantIndexes('read', grantee, SEARCH_READ_ACTIONS, indexes);
  }

  /**
   * Lets a principal bulk-index, delete and multi-get documents of the given indexes: IAM
   * `es:ESHttpGet/Head/Post/Put/Delete` on the indexes, and (on a domain this stack created) a write FGAC role.
   */
  public grantWrite(grantee: iam.IGrantable, ...indexes: string[]): iam.Grant {
    return this.grantIndexes('write', grantee, SEARCH_WRITE_ACTIONS, indexes);
  }

  /** `AGENT_SEARCH_ENDPOINT` and `AGENT_SEARCH_REGION`, read by `lambda/shared/search-client`. */
  public clientEnvironment(): Record<string, string> {
    return {
      [SEARCH_ENV.endpoint]: this.domainEndpoint,
      [SEARCH_ENV.region]: Arn.split(this.domainArn, ArnFormat.SLASH_RESOURCE_NAME).region ?? Stack.of(this).region,
    };
  }

  /** A metric of this domain in `AWS/ES`, dimensioned by DomainName and ClientId (the account). @default - Average over 1 minute */
  public metric(metricName: string, props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: AWS_METRIC_NAMESPACES.openSearch,
      metricName,
      // The domain's account: the stack's for a created domain, the ARN's for an imported one (environmentFromArn).
      dimensionsMap: { [AWS_METRIC_DIMENSIONS.domainName]: this.domainName, [AWS_METRIC_DIMENSIONS.clientId]: this.env.account },
      period: Duration.minutes(1),
      statistic: cloudwatch.Stats.AVERAGE,
      ...props,
    });
  }

  /** 1 when at least one primary shard is unassigned (data is missing from searches). @default - Maximum over 1 minute */
  public metricClusterStatusRed(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(OPENSEARCH_METRIC_NAMES.clusterStatusRed, { statistic: cloudwatch.Stats.MAXIMUM, ...props });
  }

  /** 1 when a replica shard is unassigned (one node loss away from red). @default - Maximum over 1 minute */
  public metricClusterStatusYellow(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(OPENSEARCH_METRIC_NAMES.clusterStatusYellow, { statistic: cloudwatch.Stats.MAXIMUM, ...props });
  }

  /** 1 when the domain blocks writes (storage or memory pressure): search views stop updating. @default - Maximum over 1 minute */
  public metricClusterIndexWritesBlocked(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(OPENSEARCH_METRIC_NAMES.clusterIndexWritesBlocked, { statistic: cloudwatch.Stats.MAXIMUM, ...props });
  }

  /** Percentage of JVM heap in use on data nodes; sustained > 80% precedes 429 rejections. @default - Maximum over 1 minute */
  public metricJvmMemoryPressure(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(OPENSEARCH_METRIC_NAMES.jvmMemoryPressure, { statistic: cloudwatch.Stats.MAXIMUM, ...props });
  }

  /** Milliseconds per indexing operation on shards. @default - Average over 1 minute */
  public metricIndexingLatency(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(OPENSEARCH_METRIC_NAMES.indexingLatency, { statistic: cloudwatch.Stats.AVERAGE, ...props });
  }

  /** Milliseconds per search on shards. @default - Average over 1 minute */
  public metricSearchLatency(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(OPENSEARCH_METRIC_NAMES.searchLatency, { statistic: cloudwatch.Stats.AVERAGE, ...props });
  }

  /** Free storage in MiB on the fullest data node. @default - Minimum over 1 minute */
  public metricFreeStorageSpace(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(OPENSEARCH_METRIC_NAMES.freeStorageSpace, { statistic: cloudwatch.Stats.MINIMUM, ...props });
  }

  /**
   * Lets a principal call `bedrock:InvokeModel` on one foundation model (the embedding model of a vector view),
   * named by ARN in this stack's region; no other model.
   */
  public grantInvokeEmbeddingModel(grantee: iam.IGrantable, modelId: string): iam.Grant {
    if (!Token.isUnresolved(modelId) && !/^[a-z0-9][a-z0-9.-]*(:[0-9a-z.-]+)?$/.test(modelId)) {
      throw new Error(`AgentSearch.grantInvokeEmbeddingModel: modelId '${modelId}' is not a Bedrock foundation model id (e.g. 'amazon.titan-embed-text-v2:0').`);
    }
    return iam.Grant.addToPrincipal({
      grantee,
      actions: ['bedrock:InvokeModel'],
      resourceArns: [foundationModelArn(this, modelId)],
    });
  }

  /** Called for every grant so a domain this stack owns can name the principal in its access policy and FGAC roles. */
  protected onGrant(_kind: 'read' | 'write', _principal: iam.IPrincipal, _indexes: string[]): void {
    // Imported domains: their owner maps principals to FGAC roles.
  }

  private grantIndexes(kind: 'read' | 'write', grantee: iam.IGrantable, actions: string[], indexes: string[]): iam.Grant {
    if (indexes.length === 0) {
      throw new Error(`AgentSearch.grant${kind === 'read' ? 'Read' : 'Write'}: no index given. Pass the view indexes the principal needs, e.g. grant${kind === 'read' ? 'Read' : 'Write'}(fn, 'orders').`);
    }
    for (const index of indexes) {
      const problem = Token.isUnresolved(index) ? undefined : indexNameProblem(index);
      if (problem) throw new Error(`AgentSearch.grant${kind === 'read' ? 'Read' : 'Write'}: index '${index}' ${problem}. Use the view's search.index.`);
    }
    const resourceArns = indexes.flatMap(i => [`${this.domainArn}/${i}`, `${this.domainArn}/${i}/*`]);
    const grant = iam.Grant.addToPrincipal({ grantee, actions, resourceArns });
    acknowledgeIndexWildcards(grantee.grantPrincipal, this.domainArn, indexes);
    this.onGrant(kind, grantee.grantPrincipal, indexes);
    return grant;
  }
}

export interface AgentSearchProps {
  /** The VPC the domain's endpoint is placed in. */
  readonly vpc: ec2.IVpc;
  /**
   * Subnets for the domain's endpoint; the domain uses one per Availability Zone.
   * @default - the VPC's private subnets with egress, else its isolated subnets
   */
  readonly vpcSubnets?: ec2.SubnetSelection;
  /** @default - one new security group (no inbound rules until `connections.allowDefaultPortFrom(...)`) */
  readonly securityGroups?: ec2.ISecurityGroup[];
  /** @default opensearch.EngineVersion.OPENSEARCH_3_7 (the newest version aws-cdk-lib 2.276 knows) */
  readonly engineVersion?: opensearch.EngineVersion;
  /**
   * Domain name (3-28 lowercase letters, digits, hyphens). Changing it replaces the domain.
   * @default - derived from the construct path, so the access policy can name the domain without a circular reference
   */
  readonly domainName?: string;
  /** @default 2 (one per Availability Zone with the default zone awareness) */
  readonly dataNodes?: number;
  /** @default 'r7g.large.search' (Graviton, memory-optimized: k-NN graphs and aggregations live in memory) */
  readonly dataNodeInstanceType?: string;
  /**
   * Availability Zones the data nodes and replicas spread over: 2 or 3 enables zone awareness; 1 disables it (development).
   * @default 2
   */
  readonly availabilityZoneCount?: number;
  /**
   * Dedicated master nodes: 3 or 5, or 0 for none (development; data nodes then also manage the cluster).
   * @default 3
   */
  readonly dedicatedMasterNodes?: number;
  /** @default 'm7g.large.search' */
  readonly masterNodeInstanceType?: string;
  /** GiB of gp3 storage per data node. @default 20 */
  readonly volumeSize?: number;
  /** @default - encryption at rest with the AWS managed key `aws/es` */
  readonly encryptionKey?: kms.IKey;
  /** Retention of the slow, application (error) and audit log groups. @default logs.RetentionDays.THREE_MONTHS */
  readonly logRetention?: logs.RetentionDays;
  /** What happens to the domain (and its data) when it leaves the stack. @default RemovalPolicy.RETAIN */
  readonly removalPolicy?: RemovalPolicy;
  /**
   * Create an interface VPC endpoint for Bedrock runtime (private DNS) in the domain's subnets when the first view
   * with vector fields is added, so sinks and the MCP server embed text without a NAT. Set false when the VPC
   * already has one (two endpoints with private DNS for one service cannot coexist).
   * @default true
   */
  readonly bedrockRuntimeEndpoint?: boolean;
}

/** Per-view index options for `AgentSearch.addView`. */
export interface SearchViewIndexOptions {
  /** @default 1 (a view's data is small; one shard up to ~30 GB) */
  readonly shards?: number;
  /** @default - 1 when the domain has two or more data nodes, else 0 */
  readonly replicas?: number;
  /**
   * How long OpenSearch remembers the version of a deleted document (`index.gc_deletes`). A write older than
   * a delete is refused only within this window, so keep it above the sink's retry horizon (maximum record age).
   * @default Duration.days(1)
   */
  readonly deleteTombstoneRetention?: Duration;
  /** RETAIN keeps the index when the view is removed from the stack; DESTROY deletes it. @default RemovalPolicy.RETAIN */
  readonly removalPolicy?: RemovalPolicy;
}

interface GrantRecord {
  readonly kind: 'read' | 'write';
  readonly principal: iam.IPrincipal;
  readonly indexes: string[];
}

/**
 * An OpenSearch Service domain in private subnets with node-to-node encryption, encryption at rest, HTTPS only
 * (TLS 1.2+ with forward secrecy), fine-grained access control with IAM principals, and slow, error and audit logs
 * in CloudWatch. Each search view gets an explicitly mapped index at deploy time (`addView`).
 */
export class AgentSearch extends AgentSearchBase {
  /** Imports a domain created elsewhere (its FGAC role mappings are its owner's job). */
  public static fromDomainAttributes(scope: Construct, id: string, attrs: AgentSearchAttributes): IAgentSearch {
    class Imported extends AgentSearchBase {
      public readonly domainArn = attrs.domainArn;
      public readonly domainEndpoint = attrs.domainEndpoint;
      public readonly domainName = Arn.split(attrs.domainArn, ArnFormat.SLASH_RESOURCE_NAME).resourceName ?? '';
      public readonly connections = new ec2.Connections({ securityGroups: attrs.securityGroups, defaultPort: ec2.Port.tcp(443) });
    }
    return new Imported(scope, id, { environmentFromArn: attrs.domainArn });
  }

  public readonly domain: opensearch.Domain;
  public readonly domainArn: string;
  public readonly domainEndpoint: string;
  public readonly domainName: string;
  public readonly connections: ec2.Connections;
  /** The FGAC master user: the execution role of the index handler, the only principal allowed to change security config. */
  public readonly adminRole: iam.IRole;
  /** Views with an index on this domain, in the order added. */
  public readonly views: ViewConfig[] = [];
  /** The Bedrock runtime interface endpoint, once a vector view was added (and `bedrockRuntimeEndpoint` is not false). */
  public bedrockRuntimeEndpoint?: ec2.InterfaceVpcEndpoint;

  private readonly provider: AgentProvider;
  private readonly accessPolicy: iam.PolicyDocument;
  private readonly accessStatement: iam.PolicyStatement;
  private readonly grants: GrantRecord[] = [];
  private readonly dataNodes: number;
  private readonly vpc: ec2.IVpc;
  private readonly domainSubnets: ec2.ISubnet[];
  private readonly createBedrockEndpoint: boolean;
  private readonly embedGrantees: iam.IGrantable[] = [];

  constructor(scope: Construct, id: string, props: AgentSearchProps) {
    super(scope, id);
    const azCount = props.availabilityZoneCount ?? 2;
    const dataNodes = props.dataNodes ?? 2;
    const masters = props.dedicatedMasterNodes ?? 3;
    validateProps(props, azCount, dataNodes, masters);
    this.dataNodes = dataNodes;

    const stack = Stack.of(this);
    this.domainName = props.domainName ?? defaultDomainName(this);
    this.domainArn = stack.formatArn({ service: 'es', resource: 'domain', resourceName: this.domainName });

    const subnetSelection = props.vpcSubnets ?? privateSubnetsWithEgressElseIsolated(props.vpc);
    const selected = props.vpc.selectSubnets(subnetSelection);
    const perAz = new Map<string, ec2.ISubnet>();
    selected.subnets.forEach(s => { if (!perAz.has(s.availabilityZone)) perAz.set(s.availabilityZone, s); });
    if (perAz.size < azCount) {
      throw new Error(`AgentSearch: availabilityZoneCount is ${azCount} but vpcSubnets selects subnets in ${perAz.size} Availability Zone(s). Select subnets in ${azCount} zones or lower availabilityZoneCount.`);
    }
    const domainSubnets = [...perAz.values()].slice(0, azCount);
    this.vpc = props.vpc;
    this.domainSubnets = domainSubnets;
    this.createBedrockEndpoint = props.bedrockRuntimeEndpoint ?? true;

    // The index handler runs as the FGAC master user: it creates indexes and maps roles through the security API.
    this.provider = new AgentProvider(this, 'IndexProvider', {
      handlerName: 'search-index',
      description: 'AgentSearch: creates view indexes with explicit mappings and maps IAM roles to OpenSearch FGAC roles',
      vpc: props.vpc,
      vpcSubnets: { subnets: domainSubnets },
      timeout: Duration.minutes(5),
    });
    this.adminRole = this.provider.onEventFunction.role!;

    const logRetention = props.logRetention ?? logs.RetentionDays.THREE_MONTHS;
    const logGroup = (name: string) => new logs.LogGroup(this, name, { retention: logRetention, removalPolicy: RemovalPolicy.RETAIN });
    const slowSearchLogs = logGroup('SlowSearchLogs');
    const slowIndexLogs = logGroup('SlowIndexLogs');
    const appLogs = logGroup('ErrorLogs');
    const auditLogs = logGroup('AuditLogs');
    // A native resource policy instead of the L2's AwsCustomResource: OpenSearch may write only to these groups, for this account.
    const logPolicy = new logs.CfnResourcePolicy(this, 'LogsResourcePolicy', {
      policyName: `${this.domainName}-opensearch-logs`,
      policyDocument: stack.toJsonString(new iam.PolicyDocument({
        statements: [new iam.PolicyStatement({
          principals: [new iam.ServicePrincipal('es.amazonaws.com')],
          actions: ['logs:PutLogEvents', 'logs:CreateLogStream'],
          resources: [slowSearchLogs, slowIndexLogs, appLogs, auditLogs].map(g => g.logGroupArn),
          conditions: { StringEquals: { 'aws:SourceAccount': stack.account } },
        })],
      }).toJSON()),
    });

    this.accessStatement = new iam.PolicyStatement({
      actions: SEARCH_ADMIN_ACTIONS,
      principals: [new iam.ArnPrincipal(this.adminRole.roleArn)],
      resources: [`${this.domainArn}/*`],
    });
    this.accessPolicy = new iam.PolicyDocument({ statements: [this.accessStatement] });

    this.domain = new opensearch.Domain(this, 'Resource', {
      version: props.engineVersion ?? opensearch.EngineVersion.OPENSEARCH_3_7,
      domainName: this.domainName,
      vpc: props.vpc,
      vpcSubnets: [{ subnets: domainSubnets }],
      securityGroups: props.securityGroups ?? [restrictedSecurityGroup(this, 'SecurityGroup', {
        vpc: props.vpc, description: `OpenSearch domain ${this.domainName}: inbound only from granted clients`,
      })],
      capacity: {
        dataNodes,
        dataNodeInstanceType: props.dataNodeInstanceType ?? 'r7g.large.search',
        masterNodes: masters > 0 ? masters : undefined,
        masterNodeInstanceType: masters > 0 ? (props.masterNodeInstanceType ?? 'm7g.large.search') : undefined,
        multiAzWithStandbyEnabled: false,
      },
      zoneAwareness: azCount > 1 ? { enabled: true, availabilityZoneCount: azCount } : { enabled: false },
      ebs: { volumeSize: props.volumeSize ?? 20, volumeType: ec2.EbsDeviceVolumeType.GP3 },
      nodeToNodeEncryption: true,
      encryptionAtRest: { enabled: true, kmsKey: props.encryptionKey },
      enforceHttps: true,
      tlsSecurityPolicy: opensearch.TLSSecurityPolicy.TLS_1_2_PFS,
      fineGrainedAccessControl: { masterUserArn: this.adminRole.roleArn },
      logging: {
        slowSearchLogEnabled: true,
        slowSearchLogGroup: slowSearchLogs,
        slowIndexLogEnabled: true,
        slowIndexLogGroup: slowIndexLogs,
        appLogEnabled: true,
        appLogGroup: appLogs,
        auditLogEnabled: true,
        auditLogGroup: auditLogs,
      },
      suppressLogsResourcePolicy: true,
      enableVersionUpgrade: true,
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
    });
    this.domain.node.addDependency(logPolicy);
    // Native access policy (the L2's `accessPolicies` would add an AwsCustomResource): it names each granted role.
    (this.domain.node.defaultChild as opensearch.CfnDomain).accessPolicies = this.accessPolicy;
    this.domainEndpoint = this.domain.domainEndpoint;
    this.connections = this.domain.connections;
    this.connections.allowDefaultPortFrom(this.provider.onEventFunction, 'AgentSearch index handler (FGAC master user)');

    this.adminRole.addToPrincipalPolicy(new iam.PolicyStatement({
      actions: SEARCH_ADMIN_ACTIONS,
      resources: [`${this.domainArn}/*`],
    }));
    Validations.of(this.adminRole).acknowledge({
      id: `AwsSolutions-IAM5[Resource::${nagResource(this, this.domainArn)}/*]`,
      reason: 'The FGAC master user creates indexes and calls the security plugin API (_plugins/_security/...): every path of this one domain.',
    });

    new CustomResource(this, 'Access', {
      serviceToken: this.provider.serviceToken,
      resourceType: 'Custom::AgentSearchAccess',
      properties: {
        Endpoint: this.domainEndpoint,
        AuditLog: 'true',
        Roles: Lazy.any({ produce: () => this.fgacRoles() }, { omitEmptyArray: false }),
      },
    }).node.addDependency(this.domain);

    Validations.of(this.domain).acknowledge({
      id: 'AwsSolutions-OS3',
      reason: 'The domain has no public endpoint (VPC only): security groups, an access policy naming IAM roles, and FGAC restrict access; IP allowlists are the control for public domains.',
    });
    if (masters === 0) {
      Validations.of(this.domain).acknowledge({ id: 'AwsSolutions-OS4', reason: 'dedicatedMasterNodes is 0 (a development profile chose it); production profiles keep the default of 3.' });
    }
    if (azCount < 2) {
      Validations.of(this.domain).acknowledge({ id: 'AwsSolutions-OS7', reason: 'availabilityZoneCount is 1 (a development profile chose it); production profiles keep the default of 2 or more.' });
    }
    if (azCount < 2 || this.dataNodes < 3) {
      Validations.of(this.domain).acknowledge({
        id: 'ControlTower-CT.OPENSEARCH.PR.14',
        reason: `${this.dataNodes} data node(s) over ${azCount} Availability Zone(s), as the caller (the development profile) chose for cost: the index is rebuilt from the Kafka topics if a node is lost.`,
      });
    }
    Validations.of(this.domain).acknowledge({
      id: 'ControlTower-CT.OPENSEARCH.PR.16',
      reason: 'False positive: the domain enforces HTTPS with Policy-Min-TLS-1-2-PFS-2023-10 (TLS 1.2 or later with forward secrecy), stricter than the Policy-Min-TLS-1-2-2019-07 the rule accepts.',
    });
  }

  /**
   * Creates the view's index at deploy time: `<search.index>-v1` with explicit mappings derived from its fields
   * (`dynamic: strict`, plus `_provenance`), behind the alias `<search.index>` that sinks and the MCP server use.
   * Redeploying adds new fields; an incompatible change fails the deployment with the fix.
   */
  public addView(view: ViewConfig, options: SearchViewIndexOptions = {}): CustomResource {
    validateView(view, this.views);
    const shards = options.shards ?? 1;
    const replicas = options.replicas ?? (this.dataNodes >= 2 ? 1 : 0);
    if (!Number.isInteger(shards) || shards < 1) throw new Error(`AgentSearch.addView('${view.name}'): shards is ${shards}; use a positive integer.`);
    if (!Number.isInteger(replicas) || replicas < 0 || replicas >= this.dataNodes) {
      throw new Error(`AgentSearch.addView('${view.name}'): replicas is ${replicas} but the domain has ${this.dataNodes} data node(s); replicas must be between 0 and ${this.dataNodes - 1}.`);
    }
    const retention = options.deleteTombstoneRetention ?? Duration.days(1);
    const retentionSeconds = retention.toSeconds();
    if (retentionSeconds < 60) throw new Error(`AgentSearch.addView('${view.name}'): deleteTombstoneRetention is ${retentionSeconds}s; use at least 60 seconds (OpenSearch's default) and more than the sink's maximum record age.`);
    const alias = view.search!.index;
    const settings = viewIndexSettings({ shards, replicas, deleteTombstoneRetentionSeconds: retentionSeconds }, view);
    this.views.push(view);
    if (view.search!.vector) this.ensureBedrockEndpoint();
    const resource = new CustomResource(this, `Index-${view.name}`, {
      serviceToken: this.provider.serviceToken,
      resourceType: 'Custom::AgentSearchIndex',
      properties: {
        Endpoint: this.domainEndpoint,
        Alias: alias,
        Index: physicalIndexName(alias),
        Mappings: JSON.stringify(viewMappings(view)),
        StaticSettings: JSON.stringify(settings.static),
        DynamicSettings: JSON.stringify(settings.dynamic),
        RemoveOnDelete: String((options.removalPolicy ?? RemovalPolicy.RETAIN) === RemovalPolicy.DESTROY),
      },
    });
    resource.node.addDependency(this.domain);
    return resource;
  }

  /**
   * Lets a principal embed text with the models of this domain's vector views: `bedrock:InvokeModel` on each
   * model's foundation-model ARN, and HTTPS to the Bedrock runtime endpoint when the grantee is connectable.
   * Call it for the sink (documents) and the MCP server (queries), after adding the vector views.
   */
  public grantEmbed(grantee: iam.IGrantable): iam.Grant {
    const models = [...new Set(this.views.map(v => v.search?.vector?.modelId).filter((m): m is string => !!m))];
    if (models.length === 0) {
      throw new Error('AgentSearch.grantEmbed: no view with search.vector was added yet. Add the vector views first, then grant.');
    }
    this.embedGrantees.push(grantee);
    if (this.bedrockRuntimeEndpoint && isConnectable(grantee)) {
      this.bedrockRuntimeEndpoint.connections.allowDefaultPortFrom(grantee, 'Bedrock runtime for embeddings');
    }
    return iam.Grant.addToPrincipal({ grantee, actions: ['bedrock:InvokeModel'], resourceArns: models.map(m => foundationModelArn(this, m)) });
  }

  private ensureBedrockEndpoint(): void {
    if (this.bedrockRuntimeEndpoint || !this.createBedrockEndpoint) return;
    this.bedrockRuntimeEndpoint = new ec2.InterfaceVpcEndpoint(this, 'BedrockRuntimeEndpoint', {
      vpc: this.vpc,
      service: ec2.InterfaceVpcEndpointAwsService.BEDROCK_RUNTIME,
      subnets: { subnets: this.domainSubnets },
      privateDnsEnabled: true,
      open: false,
      securityGroups: [restrictedSecurityGroup(this, 'BedrockRuntimeEndpointSecurityGroup', { vpc: this.vpc, description: `Bedrock runtime endpoint of ${this.node.path}` })],
    });
    for (const g of this.embedGrantees) {
      if (isConnectable(g)) this.bedrockRuntimeEndpoint.connections.allowDefaultPortFrom(g, 'Bedrock runtime for embeddings');
    }
  }

  protected onGrant(kind: 'read' | 'write', principal: iam.IPrincipal, indexes: string[]): void {
    this.accessStatement.addPrincipals(principal);
    this.grants.push({ kind, principal, indexes });
  }

  /** One FGAC role per (kind, index set), named from a hash of the indexes so names are stable across deployments. */
  private fgacRoles(): unknown[] {
    const roles = new Map<string, { kind: 'read' | 'write'; indexes: string[]; principals: string[] }>();
    for (const g of this.grants) {
      const indexes = [...new Set(g.indexes)].sort();
      const hash = crypto.createHash('sha256').update(indexes.join(',')).digest('hex').slice(0, 10);
      const name = `agent_${this.domainName}_${g.kind}_${hash}`;
      const role = roles.get(name) ?? { kind: g.kind, indexes, principals: [] };
      role.principals.push(principalArn(g.principal));
      roles.set(name, role);
    }
    return [...roles.entries()].map(([name, r]) => {
      const perms = r.kind === 'read' ? FGAC_READ : FGAC_WRITE;
      return {
        Name: name,
        ClusterPermissions: perms.clusterPermissions,
        // The alias and the generations behind it: the security plugin checks the concrete index a request resolves to.
        IndexPatterns: r.indexes.flatMap(i => [i, `${i}-v*`]),
        AllowedActions: perms.allowedActions,
        BackendRoles: r.principals,
      };
    });
  }
}

function validateProps(props: AgentSearchProps, azCount: number, dataNodes: number, masters: number): void {
  if (![1, 2, 3].includes(azCount)) {
    throw new Error(`AgentSearch: availabilityZoneCount is ${azCount}; use 2 or 3 (zone awareness), or 1 to disable it.`);
  }
  if (!Number.isInteger(dataNodes) || dataNodes < 1) throw new Error(`AgentSearch: dataNodes is ${dataNodes}; use a positive integer.`);
  if (azCount > 1 && dataNodes % azCount !== 0) {
    throw new Error(`AgentSearch: dataNodes is ${dataNodes} with availabilityZoneCount ${azCount}; zone awareness needs a multiple of ${azCount} data nodes.`);
  }
  if (![0, 3, 5].includes(masters)) throw new Error(`AgentSearch: dedicatedMasterNodes is ${masters}; use 3 or 5, or 0 for none.`);
  if (props.domainName !== undefined && !Token.isUnresolved(props.domainName) && !/^[a-z][a-z0-9-]{2,27}$/.test(props.domainName)) {
    throw new Error(`AgentSearch: domainName '${props.domainName}' is invalid; use 3-28 lowercase letters, digits or hyphens, starting with a letter.`);
  }
  if (props.volumeSize !== undefined && (!Number.isInteger(props.volumeSize) || props.volumeSize < 10)) {
    throw new Error(`AgentSearch: volumeSize is ${props.volumeSize}; use an integer of at least 10 (GiB).`);
  }
}

function validateView(view: ViewConfig, existing: ViewConfig[]): void {
  const where = `AgentSearch.addView('${view.name}')`;
  if (view.store !== 'search' || !view.search) throw new Error(`${where}: the view's store is '${view.store}'; only views with store 'search' and a 'search' config have an index.`);
  const problem = indexNameProblem(view.search.index);
  if (problem) throw new Error(`${where}: search.index '${view.search.index}' ${problem}. Use a lowercase name such as '${view.name.toLowerCase().replace(/[^a-z0-9_]/g, '_')}'.`);
  if (view.fields.length === 0) throw new Error(`${where}: fields is empty; declare the columns the index keeps.`);
  const names = new Set<string>();
  for (const f of view.fields) {
    if (names.has(f.name)) throw new Error(`${where}: field '${f.name}' is declared twice; declare each column once.`);
    names.add(f.name);
  }
  if (view.key.length === 0) throw new Error(`${where}: key is empty; name the primary key columns.`);
  for (const k of view.key) if (!names.has(k)) throw new Error(`${where}: key column '${k}' is not in fields; add it to fields.`);
  if (view.search.timeField && !names.has(view.search.timeField)) throw new Error(`${where}: search.timeField '${view.search.timeField}' is not in fields; add it or remove timeField.`);
  if (existing.some(v => v.name === view.name)) throw new Error(`${where}: a view named '${view.name}' was already added to this domain.`);
  if (existing.some(v => v.search?.index === view.search!.index)) throw new Error(`${where}: search.index '${view.search.index}' is already used by another view; give each view its own index.`);
  // Mapping derivation validates field types, reserved names and the vector config.
  try {
    viewMappings(view);
  } catch (e) {
    throw new Error(`${where}: ${(e as Error).message.replace(/^view '[^']*': /, '')}. Fix the view's declaration.`, { cause: e });
  }
}

/** 3-28 chars, lowercase, starting with a letter, unique per construct path and stable across synths. */
function defaultDomainName(scope: IConstruct): string {
  const unique = Names.uniqueResourceName(scope, { maxLength: 64, separator: '' }).toLowerCase().replace(/[^a-z0-9]/g, '');
  const hash = crypto.createHash('sha256').update(scope.node.path).digest('hex').slice(0, 8);
  return `a${unique.slice(0, 18)}${hash}`.slice(0, 28);
}

function principalArn(principal: iam.IPrincipal): string {
  const p = principal as iam.IPrincipal & { roleArn?: string; arn?: string };
  if (p.roleArn) return p.roleArn;
  if (p.arn) return p.arn;
  throw new Error('AgentSearch: a grantee must be an IAM role (or ArnPrincipal) so it can be mapped to an OpenSearch FGAC backend role.');
}

/** The IAM5 finding cdk-nag reports for `<domainArn>/<index>/*` on the grantee's policy, acknowledged where the grant is made. */
function acknowledgeIndexWildcards(principal: iam.IPrincipal, domainArn: string, indexes: string[]): void {
  if (!isConstruct(principal)) return;
  for (const index of indexes) {
    Validations.of(principal).acknowledge({
      id: `AwsSolutions-IAM5[Resource::${nagResource(principal, domainArn)}/${index}/*]`,
      reason: `OpenSearch HTTP paths under one index ('${index}'): _bulk, _search, _mget and _doc/<id>; no other index or domain.`,
    });
  }
}

function isConnectable(x: unknown): x is ec2.IConnectable {
  return typeof x === 'object' && x !== null && 'connections' in x;
}

/** `arn:<partition>:bedrock:<region>::foundation-model/<modelId>` (foundation models have no account). */
function foundationModelArn(scope: IConstruct, modelId: string): string {
  return Stack.of(scope).formatArn({ service: 'bedrock', account: '', resource: 'foundation-model', resourceName: modelId });
}

function isConstruct(x: unknown): x is IConstruct {
  return typeof x === 'object' && x !== null && 'node' in x;
}

