// AgentSearch: an OpenSearch Service domain for agents' search views, locked down (VPC, encryption, HTTPS, FGAC) with one explicitly mapped index per view.
import { Arn, ArnFormat, CustomResource, Duration, Lazy, Names, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as opensearch from 'aws-cdk-lib/aws-opensearchservice';
import { Construct } from 'constructs';
import { AgentProvider } from '../common/agent-provider';
import { restrictedSecurityGroup } from '../common/security-group';
import type { ViewConfig } from '../../contract/view-config';
import { physicalIndexName, viewIndexSettings, viewMappings } from '../../contract/search-mapping';
import { IAgentSearch } from './refs';
import { AgentSearchAttributes, AgentSearchBase, foundationModelArn } from './agent-search-base';
import { SEARCH_ADMIN_ACTIONS } from './search-perms';
import { acknowledgeLogGroup, nagResource } from '../common/nag';
import { privateSubnetsWithEgressElseIsolated } from '../common/subnets';
import { fgacRoles, grantStack, type GrantRecord } from './private/search-access';
import { acknowledgeDomain } from './private/search-nag';
import { defaultDomainName, isConnectable, validateIndexView, validateProps, vectorEngineProblem } from './private/search-validation';
import type { AgentView } from './view';

export { AgentSearchBase } from './agent-search-base';
export type { AgentSearchAttributes } from './agent-search-base';

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
  private readonly access: CustomResource;
  private readonly accessPolicy: iam.PolicyDocument;
  private readonly accessStatement: iam.PolicyStatement;
  private readonly grants: GrantRecord[] = [];
  private readonly dataNodes: number;
  private readonly engineVersion: opensearch.EngineVersion;
  private readonly vpc: ec2.IVpc;
  private readonly domainSubnets: ec2.ISubnet[];
  private readonly createBedrockEndpoint: boolean;
  private readonly embedGrantees: iam.IGrantable[] = [];
  /** The `Custom::AgentSearchIndex` of each added view, by view name. */
  private readonly indexes = new Map<string, CustomResource>();
  /** Access resources in the stacks of grantees that are not in this domain's stack, with their grants. */
  private readonly stackAccess = new Map<Stack, { resource: CustomResource; grants: GrantRecord[] }>();

  constructor(scope: Construct, id: string, props: AgentSearchProps) {
    super(scope, id);
    const azCount = props.availabilityZoneCount ?? 2;
    const dataNodes = props.dataNodes ?? 2;
    const masters = props.dedicatedMasterNodes ?? 3;
    validateProps(props, azCount, dataNodes, masters);
    this.dataNodes = dataNodes;
    this.engineVersion = props.engineVersion ?? opensearch.EngineVersion.OPENSEARCH_3_7;

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
    const logGroup = (name: string) => {
      const group = new logs.LogGroup(this, name, { retention: logRetention, removalPolicy: RemovalPolicy.RETAIN });
      acknowledgeLogGroup(group);
      return group;
    };
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
      version: this.engineVersion,
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

    this.access = new CustomResource(this, 'Access', {
      serviceToken: this.provider.serviceToken,
      resourceType: 'Custom::AgentSearchAccess',
      properties: {
        Endpoint: this.domainEndpoint,
        AuditLog: 'true',
        Roles: Lazy.any({ produce: () => fgacRoles(this.domainName, this.grants) }, { omitEmptyArray: false }),
      },
    });
    this.access.node.addDependency(this.domain);

    acknowledgeDomain(this.domain, { masters, azCount, dataNodes: this.dataNodes });
  }

  /**
   * Creates the view's index at deploy time: `<search.index>-v1` with explicit mappings derived from its fields
   * (`dynamic: strict`, plus `_provenance`), behind the alias `<search.index>` that sinks and the MCP server use.
   * Redeploying adds new fields; an incompatible change fails the deployment with the fix.
   */
  public addView(agentView: AgentView, options: SearchViewIndexOptions = {}): CustomResource {
    const view = agentView.toConfig();
    validateIndexView(view, this.views);
    const engineProblem = vectorEngineProblem(view, this.engineVersion.version);
    if (engineProblem) throw new Error(`AgentSearch.addView('${view.name}'): ${engineProblem}.`);
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
    // After the role mappings: whatever waits for the index (the sink's event source mappings) then finds its role mapped.
    resource.node.addDependency(this.domain, this.access);
    this.indexes.set(view.name, resource);
    return resource;
  }

  /**
   * The `Custom::AgentSearchIndex` that `addView` created for this view (a view of the same name and `search.index`),
   * which whatever writes the view (the sink's event source mapping) should depend on. Undefined when no such view
   * was added: then the view's alias does not exist and every write to it fails with `index_not_found`.
   */
  public indexFor(view: AgentView): CustomResource | undefined {
    const added = this.views.find(v => v.name === view.name);
    return added && added.search?.index === view.index ? this.indexes.get(view.name) : undefined;
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
    this.openEndpointTo(grantee);
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
    for (const g of this.embedGrantees) this.openEndpointTo(g);
  }

  /**
   * HTTPS from an embedding grantee to the Bedrock runtime endpoint. A grantee of another stack opens it from its own
   * side, so the ingress rule is created in its stack: one in this stack would name its security group, a reference
   * back to the stack that depends on this one (a cycle).
   */
  private openEndpointTo(grantee: iam.IGrantable): void {
    const endpoint = this.bedrockRuntimeEndpoint;
    if (!endpoint || !isConnectable(grantee)) return;
    if (grantStack(grantee.grantPrincipal, Stack.of(this)) === Stack.of(this)) endpoint.connections.allowDefaultPortFrom(grantee, 'Bedrock runtime for embeddings');
    else grantee.connections.allowToDefaultPort(endpoint, 'Bedrock runtime for embeddings');
  }

  /**
   * The `Custom::AgentSearchAccess` resource that maps this grantee's role to its FGAC roles: the domain's own for a
   * grantee in the domain's stack (the view indexes depend on it), else the one in the grantee's stack, which whatever
   * there waits for the grant (the sink's event source mappings) should depend on. Undefined before the first grant
   * to a grantee of that stack.
   */
  public accessFor(grantee: iam.IGrantable): CustomResource | undefined {
    const stack = grantStack(grantee.grantPrincipal, Stack.of(this));
    return stack === Stack.of(this) ? this.access : this.stackAccess.get(stack)?.resource;
  }

  protected onGrant(kind: 'read' | 'write', principal: iam.IPrincipal, indexes: string[]): void {
    const stack = grantStack(principal, Stack.of(this));
    if (stack === Stack.of(this)) {
      this.accessStatement.addPrincipals(principal);
      this.grants.push({ kind, principal, indexes });
      return;
    }
    // A grantee in another stack (which depends on this one): naming its role here (access policy, role mapping)
    // would make this stack depend on it too. Its identity-based policy (the IAM grant) lets it through the domain
    // policy within the account, and its FGAC roles are mapped by an access resource in its own stack.
    let remote = this.stackAccess.get(stack);
    if (!remote) {
      const grants: GrantRecord[] = [];
      const resource = new CustomResource(stack, `AgentSearchAccess${Names.uniqueId(this)}`, {
        serviceToken: this.provider.serviceToken,
        resourceType: 'Custom::AgentSearchAccess',
        properties: {
          Endpoint: this.domainEndpoint,
          Roles: Lazy.any({ produce: () => fgacRoles(this.domainName, grants, stack) }, { omitEmptyArray: false }),
        },
      });
      remote = { resource, grants };
      this.stackAccess.set(stack, remote);
    }
    remote.grants.push({ kind, principal, indexes });
  }
}
