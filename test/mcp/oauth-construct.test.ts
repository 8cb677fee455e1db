// AgentMcpServer in JWT mode: the HTTP API routes carry no API Gateway authorizer (the function is the resource server), the
// OAuth configuration the function reads, Cognito as the issuer, and a validation rule per option.
import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import { AgentNetwork } from '../../constructs/common/agent-network';
import { DecisionAuditLog } from '../../constructs/governance';
import { AgentMcpServer, McpAuthorization } from '../../constructs/mcp';
import { testApp, testStack } from '../helpers/app';
import { FakeCache, FakeSearch } from './fakes';
import { testAgentViews } from './agent-views';

function build(authorization: (stack: Stack) => McpAuthorization) {
  const stack = testStack(testApp({ gate: false }));
  const vpc = new AgentNetwork(stack, 'Net').vpc;
  new AgentMcpServer(stack, 'Mcp', {
    views: testAgentViews('agent:'), vpc, cache: new FakeCache(stack, 'Cache', vpc), search: new FakeSearch(stack, 'Search', vpc),
    decisionAuditLog: new DecisionAuditLog(stack, 'Audit'), authorization: authorization(stack),
  });
  return { stack, template: Template.fromStack(stack) };
}

/** The resolved AGENT_MCP_OAUTH value: a string, or the Fn::Join CloudFormation builds around the API endpoint token. */
function oauthEnv(template: Template): string {
  const fns = Object.values(template.findResources('AWS::Lambda::Function')) as any[];
  const fn = fns.find(f => f.Properties.Environment?.Variables?.AGENT_MCP_OAUTH);
  return JSON.stringify(fn.Properties.Environment.Variables.AGENT_MCP_OAUTH);
}

describe('JWT mode: the function is the OAuth resource server', () => {
  test('every route reaches the function without an API Gateway authorizer, so the function answers 401 with its challenge', () => {
    const { template } = build(() => McpAuthorization.jwt({ issuer: 'https://issuer.example.com', scopes: ['agent-data/read'] }));
    template.resourceCountIs('AWS::ApiGatewayV2::Authorizer', 0);
    for (const key of ['POST /mcp', 'GET /mcp', 'DELETE /mcp', 'GET /.well-known/oauth-protected-resource', 'GET /.well-known/oauth-protected-resource/mcp']) {
      template.hasResourceProperties('AWS::ApiGatewayV2::Route', { RouteKey: key, AuthorizationType: 'NONE' });
    }
    template.resourceCountIs('AWS::ApiGatewayV2::Route', 5);
    // The stage throttle bounds what unauthenticated traffic can cost.
    template.hasResourceProperties('AWS::ApiGatewayV2::Stage', { DefaultRouteSettings: { ThrottlingRateLimit: 50, ThrottlingBurstLimit: 100 } });
  });

  test('the audience defaults to the MCP endpoint URL (RFC 8707) and the resource is that URL', () => {
    const env = oauthEnv(build(() => McpAuthorization.jwt({ issuer: 'https://issuer.example.com' })).template);
    expect(env).toMatch(/\\"resource\\":\\"",\{"Fn::GetAtt":\["McpHttpApi[0-9A-F]+","ApiEndpoint"\]\},"\/mcp\\"/);
    expect(env).toMatch(/\\"audience\\":\[\\"",\{"Fn::GetAtt":\["McpHttpApi[0-9A-F]+","ApiEndpoint"\]\},"\/mcp\\"\]/);
    expect(env).toContain('\\"issuer\\":\\"https://issuer.example.com\\"');
  });

  test('scopes, per-tool scopes and an explicit JWKS URL reach the function', () => {
    const env = oauthEnv(build(() => McpAuthorization.jwt({
      issuer: 'https://issuer.example.com', audience: ['client-a'], scopes: ['agent-data/read'],
      toolScopes: { record_decision: ['agent-data/write'] }, jwksUri: 'https://issuer.example.com/keys',
    })).template);
    expect(env).toContain('\\"audience\\":[\\"client-a\\"]');
    expect(env).toContain('\\"scopes\\":[\\"agent-data/read\\"]');
    expect(env).toContain('\\"toolScopes\\":{\\"record_decision\\":[\\"agent-data/write\\"]}');
    expect(env).toContain('\\"jwksUri\\":\\"https://issuer.example.com/keys\\"');
  });

  test('Cognito: the user pool\'s issuer URL and its app clients as the audience', () => {
    const env = oauthEnv(build(stack => {
      const pool = new cognito.UserPool(stack, 'Pool');
      const client = pool.addClient('Agent');
      return McpAuthorization.cognito({ userPool: pool, clients: [client], scopes: ['agent-data/read'] });
    }).template);
    expect(env).toMatch(/\\"issuer\\":\\"https:\/\/cognito-idp\.us-east-1\.",\{"Ref":"AWS::URLSuffix"\},"\/",\{"Ref":"Pool[0-9A-F]+"\}/);
    expect(env).toMatch(/\\"audience\\":\[\\"",\{"Ref":"PoolAgent[0-9A-F]+"\}/);
  });
});

describe('JWT mode validation', () => {
  const jwt = (o: Partial<Parameters<typeof McpAuthorization.jwt>[0]>) => () => build(() => McpAuthorization.jwt({ issuer: 'https://issuer.example.com', ...o }));
  test('fails when toolScopes names a tool the server does not offer', () => {
    expect(jwt({ toolScopes: { orders_lookup: ['x'] } })).toThrow(/toolScopes names 'orders_lookup', which the server does not offer. Use one of: customers_lookup/);
  });
  test('fails when a toolScopes entry is empty', () => {
    expect(jwt({ toolScopes: { customers_lookup: [] } })).toThrow(/toolScopes\['customers_lookup'\] is empty/);
  });
  test('fails when a scope is not an OAuth scope token', () => {
    expect(jwt({ scopes: ['agent data'] })).toThrow(/scope 'agent data' is not an OAuth scope token/);
    expect(jwt({ toolScopes: { customers_lookup: ['a"b'] } })).toThrow(/scope 'a"b' is not an OAuth scope token/);
  });
  test('fails when jwksUri is not https', () => {
    expect(jwt({ jwksUri: 'http://issuer.example.com/keys' })).toThrow(/jwksUri 'http:\/\/issuer.example.com\/keys' is not an https URL/);
  });
});
