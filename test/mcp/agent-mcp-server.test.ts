// AgentMcpServer: secure endpoint by default, JWT option, VPC placement, least-privilege role, environment, metrics, validation and a clean gate.
import { randomBytes } from 'crypto';
import { compactJsonValue } from '../../constructs/common/private/environment-size';
import { Validations } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import { AgentNetwork } from '../../constructs/common/agent-network';
import { AgentMcpServer, AgentMcpServerProps, McpAuthorization } from '../../constructs/mcp';
import { AgentView, ViewStore } from '../../constructs/stores/view';
import { GatePack } from '../../lib/validation-gate';
import { testApp, testStack } from '../helpers/app';
import { formatFindings, gateFindings } from '../helpers/gate';
import { DecisionAuditLog } from '../../constructs/governance';
import { FakeCache, FakeCatalog, FakeSearch } from './fakes';
import { testAgentViews, testViewProps } from './agent-views';
import { testViews } from './support';

const VIEWS: AgentView[] = testAgentViews('agent:');

// The handler tests embed 16 values (HashingEmbedder, fast); a construct's Titan v2 view needs 256, 512 or 1024.
test('the construct tests\' AgentViews render the ViewConfigs the handler tests read (plus the default schema policy; 256-value vectors)', () => {
  expect(VIEWS.map(v => v.toConfig())).toEqual(testViews('agent:').map(v => ({
    ...v, schemaPolicy: { onMissingField: 'dead-letter', onTypeMismatch: 'dead-letter' },
    ...(v.search?.vector ? { search: { ...v.search, vector: { ...v.search.vector, dimension: 256 } } } : {}),
  })));
});

function build(overrides: Partial<AgentMcpServerProps> = {}, gate: boolean | GatePack[] = false) {
  const app = testApp({ gate });
  const stack = testStack(app);
  const vpc = new AgentNetwork(stack, 'Net').vpc;
  const cache = new FakeCache(stack, 'Cache', vpc);
  const search = new FakeSearch(stack, 'Search', vpc);
  const audit = new DecisionAuditLog(stack, 'Audit');
  const catalog = new FakeCatalog(stack, 'Catalog');
  const server = new AgentMcpServer(stack, 'Mcp', {
    views: VIEWS, vpc, cache, search, decisionAuditLog: audit, lineageCatalog: catalog, ...overrides,
  });
  return { app, stack, vpc, server, cache, search, audit, catalog };
}

const MCP_FUNCTION = { Description: 'MCP server: typed tools over the agent data stores' };

describe('defaults', () => {
  test('a function URL with AWS_IAM auth, never anonymous', () => {
    const t = Template.fromStack(build().stack);
    t.resourceCountIs('AWS::Lambda::Url', 1);
    t.hasResourceProperties('AWS::Lambda::Url', { AuthType: 'AWS_IAM', InvokeMode: 'BUFFERED' });
    t.resourceCountIs('AWS::ApiGatewayV2::Api', 0);
    t.resourcePropertiesCountIs('AWS::Lambda::Permission', { Principal: '*' }, 0);
  });

  test('Node.js 24 on arm64, 512 MB, 30 s, in the VPC\'s private subnets with its own security group', () => {
    const { stack, vpc } = build();
    const t = Template.fromStack(stack);
    const subnets = vpc.selectSubnets({ subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS }).subnetIds.map(id => stack.resolve(id));
    t.hasResourceProperties('AWS::Lambda::Function', {
      ...MCP_FUNCTION, Runtime: 'nodejs24.x', Architectures: ['arm64'], MemorySize: 512, Timeout: 30,
      VpcConfig: { SubnetIds: subnets, SecurityGroupIds: [{ 'Fn::GetAtt': [Match.stringLikeRegexp('^McpFunctionSecurityGroup'), 'GroupId'] }] },
    });
  });

  test('log retention one month, no reserved concurrency unless asked', () => {
    const t = Template.fromStack(build().stack);
    const fn = Object.values(t.findResources('AWS::Lambda::Function', { Properties: MCP_FUNCTION }))[0] as any;
    expect(fn.Properties.ReservedConcurrentExecutions).toBeUndefined();
    t.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 30 });
    const capped = Template.fromStack(build({ reservedConcurrentExecutions: 20, memorySize: 1024 }).stack);
    capped.hasResourceProperties('AWS::Lambda::Function', { ...MCP_FUNCTION, ReservedConcurrentExecutions: 20, MemorySize: 1024 });
  });

  test('the environment carries the views, the stores\' client settings, the catalog location and the decision table', () => {
    const t = Template.fromStack(build().stack);
    t.hasResourceProperties('AWS::Lambda::Function', {
      ...MCP_FUNCTION,
      Environment: { Variables: Match.objectLike({
        AGENT_VIEWS: compactJsonValue(JSON.stringify(VIEWS.map(v => v.toConfig()))),
        AGENT_CACHE_ENDPOINT: 'cache.example.internal', AGENT_CACHE_AUTH: 'iam',
        AGENT_SEARCH_ENDPOINT: 'search.example.internal',
        AGENT_LINEAGE_CATALOG: { 'Fn::Join': ['', ['ssm:', { Ref: Match.stringLikeRegexp('^CatalogParam') }]] },
        AGENT_DECISION_TABLE: { Ref: Match.stringLikeRegexp('^Audit') },
        POWERTOOLS_METRICS_NAMESPACE: 'AgentDataStack',
        POWERTOOLS_SERVICE_NAME: 'agent-data-stack-mcp',
        AGENT_MCP_SERVER_NAME: Match.stringLikeRegexp('Mcp'),
      }) },
    });
  });

  test('the role holds exactly: logs, VPC ENIs, cache connect, search reads on the view indexes, decision append/read (and a deny of every other item write), catalog read', () => {
    const { stack } = build();
    const t = Template.fromStack(stack);
    const policies = t.findResources('AWS::IAM::Policy', { Properties: { Roles: [{ Ref: Match.stringLikeRegexp('^McpFunctionRole') }] } });
    const statements = Object.values(policies).flatMap((p: any) => p.Properties.PolicyDocument.Statement);
    const actions = statements.map((s: any) => [s.Action].flat().sort().join(',')).sort();
    expect(actions).toEqual([
      'bedrock:InvokeModel',
      'dynamodb:BatchWriteItem,dynamodb:DeleteItem,dynamodb:PartiQLDelete,dynamodb:PartiQLUpdate,dynamodb:UpdateItem',
      'dynamodb:GetItem,dynamodb:PutItem,dynamodb:Query',
      'ec2:AssignPrivateIpAddresses,ec2:CreateNetworkInterface,ec2:DeleteNetworkInterface,ec2:DescribeNetworkInterfaces,ec2:DescribeSubnets,ec2:UnassignPrivateIpAddresses,xray:PutTelemetryRecords,xray:PutTraceSegments',
      'elasticache:Connect',
      'es:ESHttpGet,es:ESHttpPost',
      'logs:CreateLogStream,logs:PutLogEvents',
      'ssm:DescribeParameters,ssm:GetParameter,ssm:GetParameterHistory,ssm:GetParameters',
    ]);
    const bedrock = statements.find((s: any) => s.Action === 'bedrock:InvokeModel');
    expect(bedrock.Resource).toBe('arn:aws:bedrock:us-east-1::foundation-model/amazon.titan-embed-text-v2:0');
    const esStatement = statements.find((s: any) => [s.Action].flat().includes('es:ESHttpGet'));
    expect(JSON.stringify(esStatement.Resource)).toContain('domain/agent-search/tickets-v1');
    for (const s of statements) {
      if (s.Resource === '*') expect([s.Action].flat()).toContain('ec2:CreateNetworkInterface');
    }
    expect(statements.filter((s: any) => s.Effect === 'Deny').map((s: any) => s.Sid)).toEqual(['DecisionAuditAppendOnly']);
    const role = Object.values(t.findResources('AWS::IAM::Role', { Properties: { Description: Match.stringLikeRegexp('MCP server') } }))[0] as any;
    expect(role.Properties.ManagedPolicyArns).toBeUndefined();
  });

  test('the cache and search security groups admit the function on their ports', () => {
    const t = Template.fromStack(build().stack);
    t.hasResourceProperties('AWS::EC2::SecurityGroupIngress', {
      IpProtocol: 'tcp', FromPort: 6379, ToPort: 6379,
      GroupId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^CacheSg'), 'GroupId'] },
      SourceSecurityGroupId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^McpFunctionSecurityGroup'), 'GroupId'] },
    });
    t.hasResourceProperties('AWS::EC2::SecurityGroupIngress', {
      IpProtocol: 'tcp', FromPort: 443, ToPort: 443,
      GroupId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^SearchSg'), 'GroupId'] },
    });
  });

  test('url points at the /mcp path of the function URL; toolNames lists every tool', () => {
    const { stack, server } = build();
    expect(JSON.stringify(stack.resolve(server.url))).toMatch(/FunctionUrl.*"mcp"/);
    expect(server.toolNames).toEqual([
      'customers_lookup', 'customers_lookup_many', 'order_items_lookup', 'order_items_lookup_many', 'tickets_search', 'tickets_aggregate', 'tickets_similar',
      'list_sources', 'describe_source', 'get_lineage', 'record_decision', 'get_decision',
    ]);
  });

  test('without a decision audit log, no decision tools and no decision table variable', () => {
    const app = testApp();
    const stack = testStack(app);
    const vpc = new AgentNetwork(stack, 'Net').vpc;
    const server = new AgentMcpServer(stack, 'Mcp', { views: VIEWS, vpc, cache: new FakeCache(stack, 'Cache', vpc), search: new FakeSearch(stack, 'Search', vpc) });
    expect(server.toolNames).not.toContain('record_decision');
    const fn = Object.values(Template.fromStack(stack).findResources('AWS::Lambda::Function', { Properties: MCP_FUNCTION }))[0] as any;
    expect(fn.Properties.Environment.Variables.AGENT_DECISION_TABLE).toBeUndefined();
    expect(fn.Properties.Environment.Variables.AGENT_LINEAGE_CATALOG).toBeUndefined();
  });
});

test('stores in another stack: the ingress rules are created in the MCP server\'s stack, with no dependency cycle', () => {
  const app = testApp();
  const base = testStack(app, 'Base');
  const vpc = new AgentNetwork(base, 'Net').vpc;
  const cache = new FakeCache(base, 'Cache', vpc);
  const search = new FakeSearch(base, 'Search', vpc);
  const apps = testStack(app, 'Apps');
  new AgentMcpServer(apps, 'Mcp', { views: VIEWS, vpc, cache, search });
  expect(() => app.synth()).not.toThrow();
  const mcpSg = { 'Fn::GetAtt': [Match.stringLikeRegexp('^McpFunctionSecurityGroup'), 'GroupId'] };
  const t = Template.fromStack(apps);
  t.hasResourceProperties('AWS::EC2::SecurityGroupIngress', { FromPort: 6379, SourceSecurityGroupId: mcpSg, Description: 'MCP server reads the cache' });
  t.hasResourceProperties('AWS::EC2::SecurityGroupIngress', { FromPort: 443, SourceSecurityGroupId: mcpSg, Description: 'MCP server queries the search domain' });
  // Nothing in the stores' stack refers to the server's stack.
  expect(JSON.stringify(Template.fromStack(base).toJSON())).not.toContain('Apps');
});

describe('authorization options', () => {
  test('jwt: an HTTP API in front of the function that verifies the token, public protected-resource metadata, no function URL', () => {
    const { stack } = build({ authorization: McpAuthorization.jwt({ issuer: 'https://issuer.example.com', audience: ['agent-client'], scopes: ['mcp/read'] }) });
    const t = Template.fromStack(stack);
    t.resourceCountIs('AWS::Lambda::Url', 0);
    // No API Gateway authorizer: its 401 cannot name the metadata; the function is the resource server (test/mcp/oauth*.test.ts).
    t.resourceCountIs('AWS::ApiGatewayV2::Authorizer', 0);
    t.hasResourceProperties('AWS::ApiGatewayV2::Route', { RouteKey: 'POST /mcp', AuthorizationType: 'NONE' });
    t.hasResourceProperties('AWS::ApiGatewayV2::Route', { RouteKey: 'GET /.well-known/oauth-protected-resource', AuthorizationType: 'NONE' });
    t.hasResourceProperties('AWS::ApiGatewayV2::Route', { RouteKey: 'GET /.well-known/oauth-protected-resource/mcp', AuthorizationType: 'NONE' });
    t.hasResourceProperties('AWS::ApiGatewayV2::Stage', { StageName: '$default', AutoDeploy: true, AccessLogSettings: Match.objectLike({ DestinationArn: Match.anyValue() }) });
    const fn = Object.values(t.findResources('AWS::Lambda::Function', { Properties: MCP_FUNCTION }))[0] as any;
    const config = JSON.stringify(fn.Properties.Environment.Variables.AGENT_MCP_OAUTH);
    expect(config).toContain('https://issuer.example.com');
    expect(config).toContain('agent-client');
    expect(config).toContain('mcp/read');
  });

  test('anonymous only when asked, with a warning that fails synthesis until acknowledged', () => {
    const { stack, server } = build({ authorization: McpAuthorization.anonymous() });
    const warnings = server.node.metadata.filter(m => m.type === 'aws:cdk:warning').map(m => String(m.data));
    expect(warnings).toEqual([expect.stringMatching(/anyone who learns the URL can read every view/)]);
    expect(() => Template.fromStack(stack)).toThrow(/mcp-anonymous/);
    Validations.of(server).acknowledge({ id: 'Annotation::cdk-agent-data-stack:mcp-anonymous', reason: 'test: a throwaway demo' });
    const t = Template.fromStack(stack);
    t.hasResourceProperties('AWS::Lambda::Url', { AuthType: 'NONE' });
    // Since October 2025 a function URL needs both actions in the resource policy.
    t.hasResourceProperties('AWS::Lambda::Permission', { Action: 'lambda:InvokeFunctionUrl', Principal: '*', FunctionUrlAuthType: 'NONE' });
    t.hasResourceProperties('AWS::Lambda::Permission', { Action: 'lambda:InvokeFunction', Principal: '*' });
  });

  test('the default has no anonymous warning', () => {
    const { stack } = build();
    expect(Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp('anonymous'))).toHaveLength(0);
  });

  test('grantInvokeUrl lets a principal call the IAM function URL only', () => {
    const { stack, server } = build();
    const caller = new iam.Role(stack, 'Agent', { assumedBy: new iam.AccountRootPrincipal() });
    server.grantInvokeUrl(caller);
    Template.fromStack(stack).hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: Match.stringLikeRegexp('^Agent') }],
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({
        Action: 'lambda:InvokeFunctionUrl', Condition: { StringEquals: { 'lambda:FunctionUrlAuthType': 'AWS_IAM' } },
      })]) },
    });
  });

  test('fails when grantInvokeUrl is called on a JWT endpoint', () => {
    const { stack, server } = build({ authorization: McpAuthorization.jwt({ issuer: 'https://issuer.example.com', audience: ['a'] }) });
    expect(() => server.grantInvokeUrl(new iam.Role(stack, 'Agent', { assumedBy: new iam.AccountRootPrincipal() }))).toThrow(/not an IAM function URL/);
  });
});

describe('metrics', () => {
  test('per-tool calls, errors and latency in the server\'s namespace with service and tool dimensions', () => {
    const { stack, server } = build();
    const calls = server.metricToolCalls('customers_lookup');
    expect(calls.namespace).toBe('AgentDataStack');
    expect(calls.metricName).toBe('ToolCalls');
    expect(calls.statistic).toBe('Sum');
    expect(stack.resolve(calls.dimensions)).toEqual({ service: 'agent-data-stack-mcp', Tool: 'customers_lookup' });
    expect(server.metricToolErrors('tickets_search').metricName).toBe('ToolErrors');
    expect(server.metricToolLatency('tickets_search').statistic).toBe('p99');
    expect(server.metricToolLatency('tickets_search', { statistic: 'Average' }).statistic).toBe('Average');
  });

  test('decisions recorded in the server\'s namespace with the service dimension only', () => {
    const decisions = build().server.metricDecisionsRecorded();
    expect({ ns: decisions.namespace, name: decisions.metricName, stat: decisions.statistic, dims: decisions.dimensions })
      .toEqual({ ns: 'AgentDataStack', name: 'DecisionsRecorded', stat: 'Sum', dims: { service: 'agent-data-stack-mcp' } });
  });

  test('fails when decisions are asked of a server without a decision audit log', () => {
    expect(() => build({ decisionAuditLog: undefined }).server.metricDecisionsRecorded()).toThrow(/offers no decision tools/);
  });

  test('serviceName sets the service dimension in metrics and environment', () => {
    const { stack, server } = build({ serviceName: 'support-mcp' });
    expect(server.metricToolCalls('list_sources').dimensions).toEqual({ service: 'support-mcp', Tool: 'list_sources' });
    Template.fromStack(stack).hasResourceProperties('AWS::Lambda::Function', {
      ...MCP_FUNCTION, Environment: { Variables: Match.objectLike({ POWERTOOLS_SERVICE_NAME: 'support-mcp' }) },
    });
  });

  test('fails when serviceName is not a dimension value', () => {
    expect(() => build({ serviceName: ' padded ' })).toThrow(/serviceName ' padded ' is not a CloudWatch dimension value/);
  });

  test('fails when a metric names a tool the server does not offer', () => {
    expect(() => build().server.metricToolCalls('customers_delete')).toThrow(/no tool named 'customers_delete'/);
  });

  test('metricsNamespace overrides the namespace in metrics and environment', () => {
    const { stack, server } = build({ metricsNamespace: 'Team/Agents' });
    expect(server.metricToolCalls('list_sources').namespace).toBe('Team/Agents');
    Template.fromStack(stack).hasResourceProperties('AWS::Lambda::Function', {
      ...MCP_FUNCTION, Environment: { Variables: Match.objectLike({ POWERTOOLS_METRICS_NAMESPACE: 'Team/Agents' }) },
    });
  });
});

describe('validation', () => {
  const cacheOnly = VIEWS.filter(v => v.store === ViewStore.CACHE);
  const customers = testViewProps('agent:')[0];
  test('fails when views is empty', () => {
    expect(() => build({ views: [] })).toThrow(/views is empty/);
  });
  test('fails when a view is declared twice', () => {
    expect(() => build({ views: [cacheOnly[0], cacheOnly[0]] })).toThrow(/AgentMcpServer: view 'customers' is declared twice/);
  });
  test('a view name is checked once, by AgentView, with the one limit the tool names need (48 characters)', () => {
    const name = 'a'.repeat(48);
    expect(new AgentView({ ...customers, name }).toolNames().every(tool => tool.length <= 64)).toBe(true);
    expect(() => new AgentView({ ...customers, name: `${name}b` })).toThrow(/name 'a{48}b' is 49 characters, more than 48/);
    expect(() => new AgentView({ ...customers, name: 'Customers-V2' })).toThrow(/name 'Customers-V2' is not snake_case/);
  });
  test('fails when a cache view has no cache', () => {
    expect(() => build({ cache: undefined })).toThrow(/view 'customers' is a cache view but no cache prop was given/);
  });
  test('fails when a search view has no search domain', () => {
    expect(() => build({ search: undefined })).toThrow(/view 'tickets' is a search view but no search prop was given/);
  });
  test('fails at synth, naming the function, when the environment does not fit the Lambda limit (one check: AgentFunction\'s)', () => {
    // Incompressible: the views are compacted (gzip+base64) before they are measured.
    const big = new AgentView({ ...customers, description: randomBytes(6000).toString('base64') });
    const { app } = build({ views: [big] });
    expect(() => app.synth()).toThrow(/Mcp\/Function: its environment variables take about \d+ bytes.*allows 4096/s);
  });
  test('views over 3000 compacted bytes deploy when the whole environment fits (no second, smaller limit)', () => {
    const big = new AgentView({ ...customers, description: randomBytes(2330).toString('base64') });
    expect(Buffer.byteLength(compactJsonValue(JSON.stringify([big.toConfig()])))).toBeGreaterThan(3000);
    const { app } = build({ views: [big], search: undefined, decisionAuditLog: undefined, lineageCatalog: undefined });
    expect(() => app.synth()).not.toThrow();
  });
  test('fails when the JWT issuer is not https', () => {
    expect(() => build({ authorization: McpAuthorization.jwt({ issuer: 'http://issuer', audience: ['a'] }) })).toThrow(/issuer 'http:\/\/issuer' is not an https URL/);
  });
  test('fails when the JWT audience is empty', () => {
    expect(() => build({ authorization: McpAuthorization.jwt({ issuer: 'https://issuer', audience: [] }) })).toThrow(/audience is empty/);
  });
});

describe('validation gate', () => {
  test('IAM function URL passes cdk-nag and strict CloudFormation validation', () => {
    expect(formatFindings(gateFindings(build({}, true).app))).toBe('');
  });
  test('JWT HTTP API passes cdk-nag and strict CloudFormation validation', () => {
    const { app } = build({ authorization: McpAuthorization.jwt({ issuer: 'https://issuer.example.com', audience: ['a'] }) }, true);
    expect(formatFindings(gateFindings(app))).toBe('');
  });
  test('passes the Control Tower controls in a stack of its own, without AgentDataStack: the function\'s log group acknowledges its retention and service-key encryption', () => {
    expect(formatFindings(gateFindings(build({}, [GatePack.CONTROL_TOWER]).app))).toBe('');
  });
  test('JWT HTTP API passes the Control Tower controls: its log groups, the unauthorized routes (the function checks the token; RFC 9728 metadata is public) and their invoke permissions (SourceArn is a Fn::Join the control cannot read)', () => {
    const { app } = build({ authorization: McpAuthorization.jwt({ issuer: 'https://issuer.example.com', audience: ['a'] }) }, [GatePack.CONTROL_TOWER]);
    expect(formatFindings(gateFindings(app))).toBe('');
  });
});
