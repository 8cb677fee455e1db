// Row scopes at synth: AgentView validates and renders them, AgentMcpServer refuses scopes no caller of its authorization could satisfy.
import * as iam from 'aws-cdk-lib/aws-iam';
import { Template } from 'aws-cdk-lib/assertions';
import { AgentNetwork } from '../../constructs/common/agent-network';
import { AgentMcpServer, AgentMcpServerProps, McpAuthorization } from '../../constructs/mcp';
import { AgentView, AgentViewProps, ViewFieldType, ViewRowScope, ViewStore } from '../../constructs/stores/view';
import { testApp, testStack } from '../helpers/app';
import { FakeCache } from './fakes';

const base: AgentViewProps = {
  name: 'accounts',
  description: 'Accounts of every tenant',
  topic: 'agentdata.public.accounts',
  key: ['account_id'],
  fields: [
    { name: 'account_id', type: ViewFieldType.INTEGER },
    { name: 'tenant_id', type: ViewFieldType.KEYWORD },
    { name: 'balance', type: ViewFieldType.NUMBER },
    { name: 'profile', type: ViewFieldType.JSON },
  ],
  sourceTable: 'public.accounts',
  store: ViewStore.CACHE,
};

describe('AgentView rowScope', () => {
  test('renders the field, the claim and each role ARN with its value', () => {
    const stack = testStack(testApp());
    const role = iam.Role.fromRoleArn(stack, 'B', 'arn:aws:iam::111122223333:role/agents/tenant-b-agent');
    const c = new AgentView({ ...base, rowScope: { field: 'tenant_id', claim: 'custom:tenant', iamRoles: [{ role, value: 'tenant-b' }] } }).toConfig();
    expect(c.rowScope).toEqual({ field: 'tenant_id', claim: 'custom:tenant', iamPrincipals: [{ arn: 'arn:aws:iam::111122223333:role/agents/tenant-b-agent', value: 'tenant-b' }] });
  });

  test('is absent by default: every caller reads every row', () => {
    expect(new AgentView(base).toConfig().rowScope).toBeUndefined();
  });

  test.each([
    ['the field is not declared', { field: 'tenant', claim: 'custom:tenant' }, /rowScope.field 'tenant' is not among fields \[account_id, tenant_id, balance, profile\]/],
    ['the field is a number', { field: 'balance', claim: 'custom:tenant' }, /rowScope.field 'balance' has type number; .* Use STRING, KEYWORD or INTEGER/],
    ['the field is json', { field: 'profile', claim: 'custom:tenant' }, /rowScope.field 'profile' has type json/],
    ['neither a claim nor roles are given', { field: 'tenant_id' }, /rowScope names neither a claim nor iamRoles, so no caller could ever read the view/],
    ['the claim is not a claim name', { field: 'tenant_id', claim: 'custom tenant' }, /rowScope.claim 'custom tenant' is not a claim name/],
  ])('fails when %s', (_, rowScope, message) => {
    expect(() => new AgentView({ ...base, rowScope })).toThrow(message);
  });

  test('fails when a role maps to an empty value', () => {
    const stack = testStack(testApp());
    const role = iam.Role.fromRoleArn(stack, 'B', 'arn:aws:iam::111122223333:role/b');
    expect(() => new AgentView({ ...base, rowScope: { field: 'tenant_id', iamRoles: [{ role, value: '' }] } })).toThrow(/iamRoles has a role with scope value ''/);
  });
});

describe('AgentMcpServer and row scopes', () => {
  const ROLE = 'arn:aws:iam::111122223333:role/b';
  /** A server over `base` scoped by `rowScope`, given the stack to import the role into. */
  function build(rowScope: (role: iam.IRole) => ViewRowScope, overrides: Partial<AgentMcpServerProps> = {}) {
    const stack = testStack(testApp());
    const vpc = new AgentNetwork(stack, 'Net').vpc;
    const view = new AgentView({ ...base, rowScope: rowScope(iam.Role.fromRoleArn(stack, 'B', ROLE)) });
    const server = new AgentMcpServer(stack, 'Mcp', { views: [view], vpc, cache: new FakeCache(stack, 'Cache', vpc), ...overrides });
    return { stack, server };
  }

  test('a scope with roles deploys behind IAM, and the function reads it from AGENT_VIEWS', () => {
    const { stack } = build(role => ({ field: 'tenant_id', iamRoles: [{ role, value: 'b' }] }));
    const fn = Object.values(Template.fromStack(stack).findResources('AWS::Lambda::Function')).find((r: any) => r.Properties.Environment?.Variables?.AGENT_VIEWS) as any;
    expect(JSON.parse(fn.Properties.Environment.Variables.AGENT_VIEWS)[0].rowScope).toEqual({ field: 'tenant_id', iamPrincipals: [{ arn: ROLE, value: 'b' }] });
  });

  test('a role created in the same stack renders as its ARN in the environment', () => {
    const stack = testStack(testApp());
    const vpc = new AgentNetwork(stack, 'Net').vpc;
    const role = new iam.Role(stack, 'AgentRole', { assumedBy: new iam.AccountRootPrincipal() });
    const view = new AgentView({ ...base, rowScope: { field: 'tenant_id', iamRoles: [{ role, value: 'tenant-a' }] } });
    new AgentMcpServer(stack, 'Mcp', { views: [view], vpc, cache: new FakeCache(stack, 'Cache', vpc) });
    const fn = Object.values(Template.fromStack(stack).findResources('AWS::Lambda::Function')).find((r: any) => r.Properties.Environment?.Variables?.AGENT_VIEWS) as any;
    expect(JSON.stringify(fn.Properties.Environment.Variables.AGENT_VIEWS)).toMatch(/AgentRole[0-9A-F]+","Arn"/);
  });

  // The scope's own rules (a declared exact field) are AgentView's, tested above; the server checks what its authorization needs.
  test.each([
    ['authorization is anonymous', () => ({ field: 'tenant_id', claim: 'custom:tenant' }), { authorization: McpAuthorization.anonymous() }, /authorization is anonymous: no caller has an identity/],
    ['authorization is jwt and no claim is named', (role: iam.IRole) => ({ field: 'tenant_id', iamRoles: [{ role, value: 'b' }] }),
      { authorization: McpAuthorization.jwt({ issuer: 'https://issuer.example.com', audience: ['a'] }) }, /has no claim, but authorization is jwt/],
    ['authorization is iam and no role is mapped', () => ({ field: 'tenant_id', claim: 'custom:tenant' }), {}, /maps no IAM roles, but authorization is iam/],
  ])('fails when %s', (_, rowScope, overrides, message) => {
    expect(() => build(rowScope, overrides as Partial<AgentMcpServerProps>)).toThrow(message);
  });
});
