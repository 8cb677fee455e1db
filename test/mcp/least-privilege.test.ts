// Least privilege on the agent side: the MCP server reads the cache as its own read-only user, the decision audit is append-only
// in IAM (grantee deny and table resource policy), and cache key prefixes cannot overlap across views.
import { Duration } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import { AgentNetwork } from '../../constructs/common/agent-network';
import { DecisionAuditLog, DECISION_MUTATE_ACTIONS } from '../../constructs/governance/decision-audit-log';
import { AgentMcpServer, AgentMcpServerProps } from '../../constructs/mcp';
import { AgentCache, APP_ACCESS_STRING, CacheAuthentication, readerAccessString } from '../../constructs/stores/agent-cache';
import { AgentView, ViewFieldType, ViewStore } from '../../constructs/stores/view';
import { testApp, testStack } from '../helpers/app';
import { formatFindings, gateFindings } from '../helpers/gate';
import { testAgentViews, testViewProps } from './agent-views';

const CACHE_VIEWS: AgentView[] = testAgentViews('agent:').filter(v => v.store === ViewStore.CACHE);
const CACHE_VIEW_PROPS = testViewProps('agent:').filter(v => v.store === ViewStore.CACHE);

function build(overrides: Partial<AgentMcpServerProps> = {}, options: { password?: boolean; gate?: boolean; synth?: boolean } = {}) {
  const app = testApp({ gate: options.gate ?? false });
  const stack = testStack(app);
  const vpc = new AgentNetwork(stack, 'Net').vpc;
  const cache = new AgentCache(stack, 'Cache', {
    vpc, cacheName: 'agent-views', ...(options.password ? { authentication: CacheAuthentication.password() } : {}),
  });
  const audit = new DecisionAuditLog(stack, 'Audit');
  const server = new AgentMcpServer(stack, 'Mcp', { views: CACHE_VIEWS, vpc, cache, decisionAuditLog: audit, ...overrides });
  return { app, stack, cache, audit, server, t: options.synth === false ? undefined as unknown as Template : Template.fromStack(stack) };
}

const MCP_FUNCTION = { Description: 'MCP server: typed tools over the agent data stores' };

function mcpPolicyStatements(t: Template): any[] {
  const fn = Object.values(t.findResources('AWS::Lambda::Function', { Properties: MCP_FUNCTION }))[0] as any;
  const role = fn.Properties.Role['Fn::GetAtt'][0];
  return Object.values(t.findResources('AWS::IAM::Policy'))
    .filter((p: any) => p.Properties.Roles.some((r: any) => r.Ref === role))
    .flatMap((p: any) => p.Properties.PolicyDocument.Statement);
}

describe('the MCP server reads the cache as its own read-only user', () => {
  test('a second cache user with read commands on the views\' key prefixes only, in the cache\'s user group', () => {
    const { server, t } = build();
    const readerId = server.cacheUser!.userId;
    expect(readerId).toMatch(/^agent-views-r[0-9a-f]{6}$/);
    expect(server.cacheUser!.accessString).toBe('on ~agent:customers:* ~agent:order_items:* -@all +@read -@keyspace -@dangerous +ping +info +cluster|slots +cluster|info');
    t.resourceCountIs('AWS::ElastiCache::User', 2);
    t.hasResourceProperties('AWS::ElastiCache::User', { UserId: readerId, UserName: readerId, AuthenticationMode: { Type: 'iam' }, AccessString: server.cacheUser!.accessString });
    t.hasResourceProperties('AWS::ElastiCache::User', { UserId: 'agent-views-app', AccessString: APP_ACCESS_STRING });
    t.hasResourceProperties('AWS::ElastiCache::UserGroup', { UserIds: ['agent-views-app', readerId] });
  });

  test('the function connects as the reader, and may connect as nobody else', () => {
    const { server, t } = build();
    const readerId = server.cacheUser!.userId;
    t.hasResourceProperties('AWS::Lambda::Function', { ...MCP_FUNCTION, Environment: { Variables: Match.objectLike({ AGENT_CACHE_USER: readerId }) } });
    const connect = mcpPolicyStatements(t).filter(s => [s.Action].flat().includes('elasticache:Connect'));
    expect(connect).toHaveLength(1);
    const resources = JSON.stringify(connect[0].Resource);
    expect(resources).toContain(`user:${readerId}`);
    expect(resources).not.toContain('user:agent-views-app');
  });

  test('with password authentication the reader has its own secret, and the function reads only that one', () => {
    const { server, t } = build({}, { password: true });
    t.resourceCountIs('AWS::SecretsManager::Secret', 2);
    t.hasResourceProperties('AWS::ElastiCache::User', { UserId: server.cacheUser!.userId, AuthenticationMode: { Type: 'password' } });
    const reads = mcpPolicyStatements(t).filter(s => [s.Action].flat().includes('secretsmanager:GetSecretValue'));
    expect(reads).toHaveLength(1);
    expect(JSON.stringify(reads[0].Resource)).toMatch(/CacheReaderr[0-9a-f]{6}Secret/);
  });

  function imported(readerUserId?: string) {
    const app = testApp({ gate: false });
    const stack = testStack(app);
    const vpc = new AgentNetwork(stack, 'Net').vpc;
    const cache = AgentCache.fromCacheAttributes(stack, 'Imported', {
      cacheArn: 'arn:aws:elasticache:us-east-1:123456789012:serverlesscache:old', cacheName: 'old', endpointAddress: 'old.cache', endpointPort: 6379,
      serverless: true, securityGroups: [], userId: 'old-app', readerUserId,
    });
    const server = new AgentMcpServer(stack, 'Mcp', { views: CACHE_VIEWS, vpc, cache });
    return { stack, server, t: Template.fromStack(stack) };
  }

  test('an imported cache with a reader user is read as that user', () => {
    const { server, t } = imported('old-mcp-reader');
    expect(server.cacheUser?.userId).toBe('old-mcp-reader');
    t.hasResourceProperties('AWS::Lambda::Function', { ...MCP_FUNCTION, Environment: { Variables: Match.objectLike({ AGENT_CACHE_USER: 'old-mcp-reader' }) } });
    const connect = mcpPolicyStatements(t).find(s => [s.Action].flat().includes('elasticache:Connect'));
    expect(JSON.stringify(connect.Resource)).toContain('user:old-mcp-reader');
    t.resourceCountIs('AWS::ElastiCache::User', 0);
  });

  test('an imported cache without one is read as its application user, and synth says so with the access string to create', () => {
    const { stack, server, t } = imported();
    expect(server.cacheUser).toBeUndefined();
    t.hasResourceProperties('AWS::Lambda::Function', { ...MCP_FUNCTION, Environment: { Variables: Match.objectLike({ AGENT_CACHE_USER: 'old-app' }) } });
    Annotations.fromStack(stack).hasInfo('/TestStack/Mcp', Match.stringLikeRegexp("connects as the cache's application user, which can write.*'on ~agent:customers:\\* ~agent:order_items:\\* -@all \\+@read.*readerUserId"));
  });

  test('fails when two cache views share a key prefix, or one prefix starts another', () => {
    const same = CACHE_VIEW_PROPS.map(v => new AgentView({ ...v, cache: { ...v.cache, keyPrefix: 'agent:rows:' } }));
    expect(() => build({ views: same })).toThrow(/cache views 'customers' and 'order_items' have the same key prefix 'agent:rows:'.*Give each view its own cache.keyPrefix/);
    const nested = [CACHE_VIEWS[0], new AgentView({ ...CACHE_VIEW_PROPS[1], cache: { ...CACHE_VIEW_PROPS[1].cache, keyPrefix: 'agent:customers:items:' } })];
    expect(() => build({ views: nested })).toThrow(/overlapping key prefixes 'agent:customers:' and 'agent:customers:items:'/);
  });

  test('addReaderUser refuses glob characters, ids that do not fit and duplicates', () => {
    const { cache } = build({}, { synth: false });
    expect(() => cache.addReaderUser('x', { keyPrefixes: ['cust*:'] })).toThrow(/key prefix 'cust\*:' must be .* \(no glob characters\)/);
    expect(() => cache.addReaderUser('toolongid', { keyPrefixes: ['a:'] })).toThrow(/id 'toolongid' must be 1-7 lowercase letters or digits/);
    expect(() => cache.addReaderUser('x', { keyPrefixes: [] })).toThrow(/keyPrefixes is empty/);
    cache.addReaderUser('x', { keyPrefixes: ['a:'] });
    expect(() => cache.addReaderUser('x', { keyPrefixes: ['a:'] })).toThrow(/already exists/);
  });

  test('readerAccessString lists one pattern per prefix', () => {
    expect(readerAccessString(['a:', '{t}b:'])).toBe('on ~a:* ~{t}b:* -@all +@read -@keyspace -@dangerous +ping +info +cluster|slots +cluster|info');
  });

  test('passes the validation gate (cdk-nag and the project rules) with the reader user', () => {
    const { app } = build({}, { gate: true, synth: false });
    expect(formatFindings(gateFindings(app))).toBe('');
  });
});

describe('the decision audit is append-only in IAM', () => {
  test('the table\'s resource policy denies every principal updates and deletes of items', () => {
    const { t } = build();
    t.hasResourceProperties('AWS::DynamoDB::GlobalTable', {
      Replicas: [Match.objectLike({
        ResourcePolicy: {
          PolicyDocument: {
            Statement: [{ Sid: 'DecisionAuditAppendOnly', Effect: 'Deny', Principal: { AWS: '*' }, Action: DECISION_MUTATE_ACTIONS, Resource: '*' }],
            Version: '2012-10-17',
          },
        },
      })],
    });
  });

  test('a recorder may put, get and query, and is explicitly denied update, delete, batch write and PartiQL writes', () => {
    const { t } = build();
    const statements = mcpPolicyStatements(t);
    const allow = statements.find(s => s.Effect === 'Allow' && [s.Action].flat().includes('dynamodb:PutItem'));
    expect([allow.Action].flat().sort()).toEqual(['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query']);
    const deny = statements.find(s => s.Sid === 'DecisionAuditAppendOnly');
    expect(deny).toMatchObject({ Effect: 'Deny', Action: DECISION_MUTATE_ACTIONS });
    expect(DECISION_MUTATE_ACTIONS).toEqual(expect.arrayContaining(['dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:BatchWriteItem', 'dynamodb:PartiQLUpdate', 'dynamodb:PartiQLDelete']));
  });

  test('the deny also binds a role that is later granted full write access to the table', () => {
    const { stack, audit } = build({}, { synth: false });
    const role = new iam.Role(stack, 'Analyst', { assumedBy: new iam.AccountRootPrincipal() });
    audit.grantRecord(role);
    (audit as DecisionAuditLog).table.grantReadWriteData(role);
    const t = Template.fromStack(stack);
    t.hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: Match.stringLikeRegexp('^Analyst') }],
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Sid: 'DecisionAuditAppendOnly', Effect: 'Deny' })]) },
    });
  });
});

describe('maxStaleness on a view', () => {
  const base = {
    name: 'customers', description: 'Customers.', topic: 'agentdata.public.customers', key: ['id'],
    fields: [{ name: 'id', type: ViewFieldType.INTEGER }], sourceTable: 'public.customers', store: ViewStore.CACHE,
  };

  test('renders as maxStalenessMs for the MCP server, and is absent by default', () => {
    expect(new AgentView({ ...base, maxStaleness: Duration.minutes(5) }).toConfig().maxStalenessMs).toBe(300_000);
    expect(new AgentView(base).toConfig()).not.toHaveProperty('maxStalenessMs');
  });

  test('fails when maxStaleness is under a second', () => {
    expect(() => new AgentView({ ...base, maxStaleness: Duration.millis(500) })).toThrow(/AgentView 'customers': maxStaleness is 500 millis; it must be at least 1 second/);
  });
});
