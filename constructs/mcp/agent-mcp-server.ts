// AgentMcpServer: the MCP server on Lambda, in the VPC next to the stores, behind an IAM-authenticated function URL or a JWT-authorized HTTP API.
import { Annotations, Duration, Names, Stack, Token, Validations } from 'aws-cdk-lib';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import type { ViewConfig } from '../../contract/view-config';
import { checkUniqueViewNames } from '../stores/private/view-validation';
import type { AgentView } from '../stores/view';
import { allToolNames } from '../../contract/tool-names';
import { MCP_OAUTH_ENV, type McpOAuthConfig } from '../../contract/mcp-oauth';
import {
  AGENT_METRIC_DIMENSIONS, AGENT_SERVICE_NAMES, DEFAULT_AGENT_METRICS_NAMESPACE, MCP_METRIC_NAMES, RECORD_DECISION_TOOL,
} from '../../contract/metric-names';
import { AgentFunction } from '../common/agent-function';
import { acknowledgeLogGroup } from '../common/nag';
import { compactJsonValue } from '../common/private/environment-size';
import type { IDecisionAuditLog } from '../governance/decision-audit-log';
import { readerAccessString } from '../stores/agent-cache';
import type { IAgentCache, IAgentSearch, ICacheUser } from '../stores/refs';
import { EMBED_QUERY_ACTIONS } from './perms';
import { McpAuthorization } from './mcp-authorization';
import type { IAgentMcpServer } from './refs';
import { acknowledgeGrantWildcards } from './private/acknowledge-wildcards';
import { validateRowScopes } from './private/row-scopes';

/** Where the MCP server reads the lineage catalog (the governance layer implements it). */
export interface ILineageCatalogSource {
  grantRead(grantee: iam.IGrantable): iam.Grant;
  /** Environment variables locating the catalog (`AGENT_LINEAGE_CATALOG`: inline JSON, `s3://bucket/key` or `ssm:<name>`). */
  environment(): Record<string, string>;
}

export interface AgentMcpServerProps {
  /** The views the server exposes as tools: the same AgentViews the sinks write (validated when they were created). */
  readonly views: AgentView[];
  /** The VPC the stores are in; the function runs in it. */
  readonly vpc: ec2.IVpc;
  /** @default - private subnets with egress, else isolated subnets */
  readonly vpcSubnets?: ec2.SubnetSelection;
  /** The cache serving cache views. Required when a cache view is declared. @default - no cache */
  readonly cache?: IAgentCache;
  /** The search domain serving search views. Required when a search view is declared. @default - no search domain */
  readonly search?: IAgentSearch;
  /** The decision audit log. @default - no decision tools are offered */
  readonly decisionAuditLog?: IDecisionAuditLog;
  /** The lineage catalog. @default - lineage answers carry the view configuration and stored provenance only */
  readonly lineageCatalog?: ILineageCatalogSource;
  /** @default McpAuthorization.iam() */
  readonly authorization?: McpAuthorization;
  /** @default 512 (more memory is more CPU: JSON and schema work dominate a call) */
  readonly memorySize?: number;
  /** @default Duration.seconds(30) */
  readonly timeout?: Duration;
  /**
   * Caps concurrent executions, so an agent loop cannot exhaust the account's concurrency or the stores' connections.
   * `AgentDataStack` sets it from the deployment profile (production: 50; development: none, see docs/mcp.md).
   * @default - no reserved concurrency
   */
  readonly reservedConcurrentExecutions?: number;
  /** @default logs.RetentionDays.ONE_MONTH */
  readonly logRetention?: logs.RetentionDays;
  /** CloudWatch namespace of the per-tool metrics and `DecisionsRecorded`. @default 'AgentDataStack' */
  readonly metricsNamespace?: string;
  /**
   * `POWERTOOLS_SERVICE_NAME`: the `service` dimension of every metric the server publishes. Give servers that should be
   * told apart on dashboards their own name (and pass it to `AgentObservability` as `dimensions: { service }`).
   * @default 'agent-data-stack-mcp'
   */
  readonly serviceName?: string;
}

export class AgentMcpServer extends Construct implements iam.IGrantable, ec2.IConnectable, IAgentMcpServer {
  /** The function serving MCP. */
  public readonly function: AgentFunction;
  /** The MCP endpoint URL (ends in `/mcp`). */
  public readonly url: string;
  /** The function URL, when the endpoint is a function URL. */
  public readonly functionUrl?: lambda.FunctionUrl;
  /** The HTTP API, when JWT authorization is used. */
  public readonly httpApi?: apigwv2.HttpApi;
  /**
   * The read-only cache user the server connects as (read commands on its cache views' key prefixes only), when the cache
   * can create one (caches this library creates can); otherwise the server connects as the cache's application user.
   */
  public readonly cacheUser?: ICacheUser;
  /** Every tool the server offers, in registration order. */
  public readonly toolNames: string[];
  public readonly grantPrincipal: iam.IPrincipal;
  public readonly connections: ec2.Connections;
  /** CloudWatch namespace of the server's metrics. */
  public readonly metricsNamespace: string;
  /** The `service` dimension of the server's metrics (its `POWERTOOLS_SERVICE_NAME`). */
  public readonly serviceName: string;

  constructor(scope: Construct, id: string, props: AgentMcpServerProps) {
    super(scope, id);
    const views = props.views.map(v => v.toConfig());
    validate(props, views);
    const authorization = props.authorization ?? McpAuthorization.iam();
    this.metricsNamespace = props.metricsNamespace ?? DEFAULT_AGENT_METRICS_NAMESPACE;
    this.serviceName = props.serviceName ?? AGENT_SERVICE_NAMES.mcp;
    this.toolNames = allToolNames(views, !!props.decisionAuditLog);
    const cachePrefixes = views.filter(v => v.store === 'cache').map(v => v.cache!.keyPrefix);
    // The agent side reads as its own user; the sink keeps the writer. A short hash of this construct's path keeps the user id unique per server.
    this.cacheUser = props.cache && cachePrefixes.length > 0
      ? props.cache.addReaderUser?.(`r${this.node.addr.slice(0, 6)}`, { keyPrefixes: cachePrefixes })
      : undefined;
    if (props.cache && cachePrefixes.length > 0 && !this.cacheUser) {
      // Not a warning: an imported cache is a supported setup, and its owner decides which users exist.
      Annotations.of(this).addInfo(`AgentMcpServer: the cache has no read-only user to give the MCP server, so it connects as the cache's application user, which can write. For an imported cache, create a user with the access string '${readerAccessString(cachePrefixes)}' and pass its id as readerUserId.`);
    }

    this.function = new AgentFunction(this, 'Function', {
      handlerName: 'mcp',
      description: 'MCP server: typed tools over the agent data stores',
      vpc: props.vpc,
      vpcSubnets: props.vpcSubnets,
      memorySize: props.memorySize ?? 512,
      // Active tracing: each tool call is a trace, and its log lines carry the trace id (`xray_trace_id`, lambda/shared/telemetry.ts).
      tracing: lambda.Tracing.ACTIVE,
      timeout: props.timeout ?? Duration.seconds(30),
      reservedConcurrentExecutions: props.reservedConcurrentExecutions,
      logRetention: props.logRetention,
      environment: {
        AGENT_VIEWS: compactJsonValue(JSON.stringify(views)),
        POWERTOOLS_SERVICE_NAME: this.serviceName,
        POWERTOOLS_METRICS_NAMESPACE: this.metricsNamespace,
        AGENT_MCP_SERVER_NAME: Names.uniqueResourceName(this, { maxLength: 64 }),
        ...(this.cacheUser ? this.cacheUser.clientEnvironment() : props.cache?.clientEnvironment()),
        ...props.search?.clientEnvironment(),
        ...props.lineageCatalog?.environment(),
        ...(props.decisionAuditLog ? props.decisionAuditLog.environment() : {}),
      },
    });
    Validations.of(this.function).acknowledge({
      id: 'Serverless-LambdaDLQ',
      reason: 'The MCP server is invoked synchronously (API Gateway or its function URL) and answers the agent with the error; a function dead-letter queue applies only to asynchronous invocations.',
    });
    this.grantPrincipal = this.function.grantPrincipal;
    this.connections = this.function.connections;

    // Opened from the function's side, so a store's security group in another stack gets its ingress rule in this stack
    // instead of a reference back to it, which would make the two stacks depend on each other.
    if (props.cache) {
      acknowledgeGrantWildcards(this, (this.cacheUser ?? props.cache).grantConnect(this.function),
        'Cache connect as granted by the cache construct, scoped to its cache and the MCP server\'s read-only user.');
      this.function.connections.allowTo(props.cache, ec2.Port.tcp(props.cache.endpointPort), 'MCP server reads the cache');
    }
    if (props.search) {
      const indexes = views.filter(v => v.store === 'search').map(v => v.search!.index);
      acknowledgeGrantWildcards(this, props.search.grantRead(this.function, ...indexes),
        'OpenSearch read on the documents of the declared view indexes only: document and _search paths sit under <index>/ and cannot be enumerated at deploy time.');
      this.function.connections.allowTo(props.search, ec2.Port.tcp(443), 'MCP server queries the search domain');
    }
    const models = [...new Set(views.flatMap(v => (v.search?.vector ? [v.search.vector.modelId] : [])))];
    if (models.length > 0) {
      // <view>_similar embeds the query text with the model the sink embedded the documents with.
      iam.Grant.addToPrincipal({
        grantee: this.function,
        actions: EMBED_QUERY_ACTIONS,
        resourceArns: models.map(modelId => Stack.of(this).formatArn({ service: 'bedrock', account: '', resource: 'foundation-model', resourceName: modelId })),
      });
    }
    if (props.decisionAuditLog) {
      acknowledgeGrantWildcards(this, props.decisionAuditLog.grantRecord(this.function),
        'Decision audit append/read as granted by the audit log construct: its table and that table\'s own indexes only.');
    }
    if (props.lineageCatalog) {
      acknowledgeGrantWildcards(this, props.lineageCatalog.grantRead(this.function),
        'Read of the lineage catalog as granted by the catalog construct, scoped to its own location.');
    }

    if (authorization.kind === 'jwt') {
      const jwt = authorization.jwt!;
      const accessLogs = new logs.LogGroup(this, 'AccessLogs', { retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH });
      acknowledgeLogGroup(accessLogs);
      this.httpApi = new apigwv2.HttpApi(this, 'HttpApi', {
        description: 'MCP endpoint (JWT-authorized)',
        createDefaultStage: false,
      });
      new apigwv2.HttpStage(this, 'DefaultStage', {
        httpApi: this.httpApi,
        autoDeploy: true,
        stageName: '$default',
        accessLogSettings: { destination: new apigwv2.LogGroupLogDestination(accessLogs) },
        throttle: { rateLimit: 50, burstLimit: 100 },
      });
      const integration = new HttpLambdaIntegration('Integration', this.function, {
        payloadFormatVersion: apigwv2.PayloadFormatVersion.VERSION_2_0,
      });
      // No API Gateway authorizer: its 401 cannot name the RFC 9728 metadata, which the MCP authorization specification asks of a
      // 401. The function checks the token before it touches a store (lambda/mcp/oauth.ts); the stage throttle bounds what
      // unauthenticated traffic can cost.
      const mcpRoutes = this.httpApi.addRoutes({
        path: '/mcp', methods: [apigwv2.HttpMethod.POST, apigwv2.HttpMethod.GET, apigwv2.HttpMethod.DELETE], integration,
      });
      const invokePermission = {
        id: 'ControlTower-CT.LAMBDA.PR.2',
        reason: 'False positive: the route\'s permission names apigateway.amazonaws.com with SourceArn set to this HTTP API\'s execute-api ARN for the route (a Fn::Join of the API id), which the control\'s check reads as neither a string nor a local reference.',
      };
      for (const route of mcpRoutes) {
        const reason = 'The function is the OAuth resource server: it verifies the bearer token (signature against the issuer\'s JWKS, issuer, audience, expiry, scopes) before any store is reached, and answers 401/403 with the WWW-Authenticate challenge an HTTP API JWT authorizer cannot send.';
        Validations.of(route).acknowledge({ id: 'AwsSolutions-APIG4', reason }, { id: 'ControlTower-CT.APIGATEWAY.PR.5', reason }, invokePermission);
      }
      // RFC 9728 metadata must be readable without a token: clients fetch it to learn where to get one.
      for (const path of ['/.well-known/oauth-protected-resource', '/.well-known/oauth-protected-resource/mcp']) {
        const routes = this.httpApi.addRoutes({ path, methods: [apigwv2.HttpMethod.GET], integration });
        for (const route of routes) {
          const reason = 'OAuth protected-resource metadata (RFC 9728, MCP authorization spec) is public by design: it tells clients which authorization server issues tokens. It returns static JSON and reaches no store.';
          Validations.of(route).acknowledge({ id: 'AwsSolutions-APIG4', reason }, { id: 'ControlTower-CT.APIGATEWAY.PR.5', reason }, invokePermission);
        }
      }
      this.url = `${this.httpApi.apiEndpoint}/mcp`;
      const config: McpOAuthConfig = {
        resource: this.url,
        issuer: jwt.issuer,
        audience: jwt.audience ?? [this.url],
        ...(jwt.scopes?.length ? { scopes: jwt.scopes } : {}),
        ...(jwt.toolScopes ? { toolScopes: jwt.toolScopes } : {}),
        ...(jwt.jwksUri ? { jwksUri: jwt.jwksUri } : {}),
      };
      this.function.addEnvironment(MCP_OAUTH_ENV, Stack.of(this).toJsonString(config));
    } else {
      if (authorization.kind === 'none') {
        Annotations.of(this).addWarningV2('cdk-agent-data-stack:mcp-anonymous',
          'AgentMcpServer: authorization is McpAuthorization.anonymous(): anyone who learns the URL can read every view. Use McpAuthorization.iam() or McpAuthorization.jwt() outside throwaway demos.');
      }
      this.functionUrl = this.function.addFunctionUrl({
        authType: authorization.kind === 'none' ? lambda.FunctionUrlAuthType.NONE : lambda.FunctionUrlAuthType.AWS_IAM,
        invokeMode: lambda.InvokeMode.BUFFERED,
      });
      this.url = `${this.functionUrl.url}mcp`;
    }
  }

  /** Lets a principal call the function URL (SigV4-signed requests). Only for `McpAuthorization.iam()`. */
  public grantInvokeUrl(grantee: iam.IGrantable): iam.Grant {
    if (!this.functionUrl || this.httpApi) {
      throw new Error('AgentMcpServer.grantInvokeUrl: the endpoint is not an IAM function URL (authorization is jwt). Grant access through the JWT issuer instead.');
    }
    return this.function.grantInvokeUrl(grantee);
  }

  /** Calls of one tool. @default - sum over 5 minutes */
  public metricToolCalls(tool: string, props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.toolMetric(MCP_METRIC_NAMES.toolCalls, tool, { statistic: 'Sum', ...props });
  }

  /** Calls of one tool that returned an error (bad input, store failure, timeout). @default - sum over 5 minutes */
  public metricToolErrors(tool: string, props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.toolMetric(MCP_METRIC_NAMES.toolErrors, tool, { statistic: 'Sum', ...props });
  }

  /** Latency of one tool in milliseconds, measured inside the handler. @default - p99 over 5 minutes */
  public metricToolLatency(tool: string, props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.toolMetric(MCP_METRIC_NAMES.toolLatency, tool, { statistic: 'p99', ...props });
  }

  /** Decisions recorded through `record_decision` (dimension `service` only). Needs `decisionAuditLog`. @default - sum over 5 minutes */
  public metricDecisionsRecorded(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    if (!this.toolNames.includes(RECORD_DECISION_TOOL)) {
      throw new Error('AgentMcpServer.metricDecisionsRecorded: the server offers no decision tools. Pass decisionAuditLog to record decisions.');
    }
    return new cloudwatch.Metric({
      namespace: this.metricsNamespace,
      metricName: MCP_METRIC_NAMES.decisionsRecorded,
      dimensionsMap: { [AGENT_METRIC_DIMENSIONS.service]: this.serviceName },
      statistic: 'Sum',
      period: Duration.minutes(5),
      ...props,
    });
  }

  private toolMetric(metricName: string, tool: string, props: cloudwatch.MetricOptions): cloudwatch.Metric {
    if (!this.toolNames.includes(tool)) {
      throw new Error(`AgentMcpServer: no tool named '${tool}'. The server offers: ${this.toolNames.join(', ')}.`);
    }
    return new cloudwatch.Metric({
      namespace: this.metricsNamespace,
      metricName,
      dimensionsMap: { [AGENT_METRIC_DIMENSIONS.service]: this.serviceName, [AGENT_METRIC_DIMENSIONS.tool]: tool },
      period: Duration.minutes(5),
      ...props,
    });
  }
}

function validate(props: AgentMcpServerProps, views: readonly ViewConfig[]): void {
  const service = props.serviceName;
  if (service !== undefined && !Token.isUnresolved(service) && (service.length === 0 || service.length > 1024 || service.trim() !== service)) {
    throw new Error(`AgentMcpServer: serviceName '${service}' is not a CloudWatch dimension value. Use 1-1024 characters without leading or trailing spaces, e.g. 'support-mcp'.`);
  }
  if (views.length === 0) {
    throw new Error('AgentMcpServer: views is empty. Pass at least one view (the same AgentViews the sinks use).');
  }
  // Each view was validated once, when its AgentView was created; the server checks only what depends on its own props.
  checkUniqueViewNames('AgentMcpServer', views);
  for (const v of views) {
    if (v.store === 'cache' && !props.cache) {
      throw new Error(`AgentMcpServer: view '${v.name}' is a cache view but no cache prop was given. Pass cache (an IAgentCache).`);
    }
    if (v.store === 'search' && !props.search) {
      throw new Error(`AgentMcpServer: view '${v.name}' is a search view but no search prop was given. Pass search (an IAgentSearch).`);
    }
  }
  validateKeyPrefixes(views);
  validateRowScopes(views, props.authorization?.kind ?? 'iam');
  const rc = props.reservedConcurrentExecutions;
  if (rc !== undefined && !Token.isUnresolved(rc) && (!Number.isInteger(rc) || rc < 1)) {
    throw new Error(`AgentMcpServer: reservedConcurrentExecutions is ${rc}; it must be a whole number of at least 1 (0 would throttle every call). Omit it for no reservation.`);
  }
  const jwt = props.authorization?.jwt;
  if (jwt) {
    if (!Token.isUnresolved(jwt.issuer) && !/^https:\/\/[^\s]+$/.test(jwt.issuer)) {
      throw new Error(`AgentMcpServer: authorization issuer '${jwt.issuer}' is not an https URL. Pass the OIDC issuer URL (its /.well-known/openid-configuration must be reachable).`);
    }
    if (jwt.audience && jwt.audience.length === 0) {
      throw new Error('AgentMcpServer: authorization audience is empty. Pass the accepted aud (or Cognito client_id) values, or omit audience to accept tokens issued for the MCP endpoint URL (RFC 8707).');
    }
    if (jwt.jwksUri !== undefined && !Token.isUnresolved(jwt.jwksUri) && !/^https:\/\/[^\s]+$/.test(jwt.jwksUri)) {
      throw new Error(`AgentMcpServer: authorization jwksUri '${jwt.jwksUri}' is not an https URL. Pass the issuer's JWKS URL, or omit it to discover it from the issuer.`);
    }
    const tools = allToolNames(views, !!props.decisionAuditLog);
    for (const [tool, scopes] of Object.entries(jwt.toolScopes ?? {})) {
      if (!tools.includes(tool)) {
        throw new Error(`AgentMcpServer: authorization toolScopes names '${tool}', which the server does not offer. Use one of: ${tools.join(', ')}.`);
      }
      if (scopes.length === 0) throw new Error(`AgentMcpServer: authorization toolScopes['${tool}'] is empty. Name the scopes the tool needs, or drop the entry.`);
    }
    for (const scope of [...(jwt.scopes ?? []), ...Object.values(jwt.toolScopes ?? {}).flat()]) {
      // RFC 6749 section 3.3 scope-token: printable ASCII without space, quote or backslash.
      if (!Token.isUnresolved(scope) && !/^[\x21\x23-\x5b\x5d-\x7e]+$/.test(scope)) {
        throw new Error(`AgentMcpServer: authorization scope '${scope}' is not an OAuth scope token (printable ASCII, no space, quote or backslash). Use e.g. 'agent-data/read'.`);
      }
    }
  }
}

/**
 * Cache key prefixes must be unique across views and none may start another (`a:` and `a:b:`): a view would read the
 * other's rows, and the read-only user's `~<prefix>*` patterns would grant one view's keys to the other.
 */
function validateKeyPrefixes(views: readonly ViewConfig[]): void {
  const cached = views.filter(v => v.store === 'cache' && v.cache && !Token.isUnresolved(v.cache.keyPrefix));
  for (const a of cached) {
    for (const b of cached) {
      if (a === b) continue;
      const pa = a.cache!.keyPrefix;
      const pb = b.cache!.keyPrefix;
      if (pb.startsWith(pa)) {
        throw new Error(`AgentMcpServer: cache views '${a.name}' and '${b.name}' have ${pa === pb ? 'the same key prefix' : 'overlapping key prefixes'} '${pa}'${pa === pb ? '' : ` and '${pb}'`}; each view's keys must have a prefix no other view's starts with. Give each view its own cache.keyPrefix, e.g. '${b.name}:'.`);
      }
    }
  }
}
