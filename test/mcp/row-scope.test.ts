// Row scopes end to end: two identities (a JWT caller with a tenant claim, a SigV4 caller whose role is mapped) call every tool of a
// scoped cache view (real Redis) and a scoped search view (the OpenSearch stand-in evaluating term filters, plus the query bodies),
// callers without a scope value are refused, and no tool argument widens the scope.
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { Client as OpenSearchClient } from '@opensearch-project/opensearch';
import { Redis } from 'ioredis';
import { CACHE_FIELDS, cacheKey, paddedVersion, StoredRecord } from '../../contract/stored-record';
import type { RowScopeConfig, ViewConfig } from '../../contract/view-config';
import { callerFromEvent } from '../../lambda/mcp/caller';
import type { McpServerDeps, SearchReader } from '../../lambda/mcp/context';
import { eventToRequest, LocalServer, responseToResult, startLocalServer } from '../../lambda/mcp/http-adapter';
import { principalMatches } from '../../lambda/mcp/row-scope';
import { handleHttpRequest } from '../../lambda/mcp/server';
import { HashingEmbedder } from '../../lambda/shared/embeddings';
import { connectClient, errorText, McpClient, ToolResult } from './harness';
import { InMemoryDecisionStore, NOW_MS, OpenSearchStandIn, record, uniquePrefix } from './support';

const ROLE_B = 'arn:aws:iam::111122223333:role/agents/tenant-b-agent';
const SCOPE: RowScopeConfig = { field: 'tenant_id', claim: 'custom:tenant', iamPrincipals: [{ arn: ROLE_B, value: 'tenant-b' }] };
const COMMIT = NOW_MS - 5_000;

function scopedViews(prefix: string): ViewConfig[] {
  return [
    {
      name: 'accounts', description: 'Accounts of every tenant.', store: 'cache', topic: 'agentdata.public.accounts', format: 'debezium',
      key: ['account_id'], sourceTable: 'public.accounts', rowScope: SCOPE,
      fields: [{ name: 'account_id', type: 'integer' }, { name: 'tenant_id', type: 'keyword' }, { name: 'name', type: 'string' }, { name: 'balance', type: 'number' }],
      cache: { keyPrefix: `${prefix}accounts:`, tombstoneTtlSeconds: 3600 },
    },
    {
      name: 'cases', description: 'Support cases of every tenant.', store: 'search', topic: 'agentdata.public.cases', format: 'debezium',
      key: ['case_id'], sourceTable: 'public.cases', rowScope: SCOPE,
      fields: [
        { name: 'case_id', type: 'keyword' }, { name: 'tenant_id', type: 'keyword' }, { name: 'subject', type: 'text' },
        { name: 'status', type: 'keyword' }, { name: 'created_at', type: 'timestamp' },
      ],
      search: {
        index: 'cases-v1', timeField: 'created_at',
        vector: { field: 'subject_vector', sourceFields: ['subject'], dimension: 16, modelId: 'amazon.titan-embed-text-v2:0', spaceType: 'cosinesimil' },
      },
    },
  ];
}

/** What the function URL (IAM) or the HTTP API (JWT authorizer) puts in the request context after authentication. */
type Authorizer = APIGatewayProxyEventV2['requestContext'] & { authorizer?: unknown };
const IDENTITIES: Record<string, Authorizer['authorizer']> = {
  alice: { jwt: { claims: { iss: 'https://issuer.example.com', sub: 'alice', client_id: 'agent-app', 'custom:tenant': 'tenant-a' }, scopes: ['mcp'] } },
  bob: { iam: { accountId: '111122223333', callerId: 'AROAB:session-1', userArn: 'arn:aws:sts::111122223333:assumed-role/tenant-b-agent/session-1', userId: 'AROAB:session-1' } },
  noClaim: { jwt: { claims: { iss: 'https://issuer.example.com', sub: 'carol', client_id: 'agent-app' }, scopes: ['mcp'] } },
  unmappedRole: { iam: { accountId: '111122223333', callerId: 'AROAC:s', userArn: 'arn:aws:sts::111122223333:assumed-role/other-agent/s', userId: 'AROAC:s' } },
  anonymous: undefined,
};

let redis: Redis;
let opensearch: OpenSearchStandIn;
let decisions: InMemoryDecisionStore;
let embedder: HashingEmbedder;
let prefix: string;
const servers: LocalServer[] = [];
const clients: Record<string, McpClient> = {};

async function call(who: string, name: string, args: Record<string, unknown>): Promise<ToolResult> {
  return clients[who].callTool({ name, arguments: args }) as Promise<ToolResult>;
}
const bodies = () => opensearch.requests.filter(r => r.path.includes('_search')).map(r => r.body);
const lastBody = () => bodies()[bodies().length - 1];
const scopeTerm = (tenant: string) => ({ term: { tenant_id: tenant } });

beforeAll(async () => {
  prefix = uniquePrefix();
  const views = scopedViews(prefix);
  redis = new Redis({ host: '127.0.0.1', port: 6379, lazyConnect: true, maxRetriesPerRequest: 1 });
  await redis.connect();
  opensearch = new OpenSearchStandIn();
  opensearch.evaluateFilters = true;
  await opensearch.start();
  decisions = new InMemoryDecisionStore(() => NOW_MS);
  embedder = new HashingEmbedder(16);
  const seedCache = async (rec: StoredRecord) => {
    await redis.hset(cacheKey(views[0].cache!.keyPrefix, ['account_id'], rec.provenance.key), CACHE_FIELDS.version, paddedVersion(rec.provenance.version), CACHE_FIELDS.record, JSON.stringify(rec));
  };
  await seedCache(record('accounts', 'public.accounts', { account_id: '1' }, { account_id: 1, tenant_id: 'tenant-a', name: 'Acme A', balance: 10 }, COMMIT, 3));
  await seedCache(record('accounts', 'public.accounts', { account_id: '2' }, { account_id: 2, tenant_id: 'tenant-b', name: 'Bravo B', balance: 20 }, COMMIT, 4));
  // A deleted row: its tombstone carries no tenant, so under a scope nobody can tell it from a key never written.
  await seedCache(record('accounts', 'public.accounts', { account_id: '3' }, null, COMMIT, 5));
  const cases = views[1];
  const seedCase = (id: string, tenant: string, subject: string, status: string) => opensearch.seed(cases.search!.index, cases.key,
    record('cases', 'public.cases', { case_id: id }, { case_id: id, tenant_id: tenant, subject, status, created_at: '2026-11-26T09:00:00Z' }, COMMIT, 7));
  seedCase('C-1', 'tenant-a', 'Refund not received', 'open');
  seedCase('C-2', 'tenant-b', 'Refund for tenant b', 'open');
  seedCase('C-3', 'tenant-a', 'Login fails', 'closed');
  const deps: McpServerDeps = {
    views, redis, decisions, now: () => NOW_MS, embeddings: embedder, timeouts: { cacheMs: 5000, searchMs: 5000 },
    search: new OpenSearchClient({ node: opensearch.url, maxRetries: 0 }) as unknown as SearchReader,
  };
  for (const [who, authorizer] of Object.entries(IDENTITIES)) {
    const local = await startLocalServer(async event => {
      (event.requestContext as Authorizer).authorizer = authorizer;
      return responseToResult(await handleHttpRequest(eventToRequest(event), deps, {}, callerFromEvent(event)));
    });
    servers.push(local);
    clients[who] = await connectClient(local.url, who === 'bob' ? '2026-07-28' : '2025-11-25');
  }
});

afterAll(async () => {
  for (const c of Object.values(clients)) await c.close();
  for (const s of servers) await s.close();
  await opensearch?.stop();
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length) await redis.del(...keys);
  await redis?.quit();
});

describe('two identities, every tool of a scoped cache view (real Redis)', () => {
  test('accounts_lookup: each caller reads its own row; the other tenant\'s row answers exactly as a key never written', async () => {
    const own = await call('alice', 'accounts_lookup', { account_id: 1 });
    expect(own.structuredContent).toMatchObject({ found: true, row: { tenant_id: 'tenant-a', name: 'Acme A' } });
    const other = await call('alice', 'accounts_lookup', { account_id: 2 });
    const never = await call('alice', 'accounts_lookup', { account_id: 999 });
    expect(other.structuredContent).toEqual({ ...never.structuredContent, key: { account_id: 2 } });
    expect(other.structuredContent).toMatchObject({ found: false, deleted: false, row: null, provenance: null, freshness: null });
    expect((await call('bob', 'accounts_lookup', { account_id: 2 })).structuredContent).toMatchObject({ found: true, row: { tenant_id: 'tenant-b' } });
    expect((await call('bob', 'accounts_lookup', { account_id: 1 })).structuredContent).toMatchObject({ found: false, row: null, provenance: null });
  });

  test('a tombstone under a scope reads as not found, without the deleted row\'s provenance', async () => {
    const res = await call('alice', 'accounts_lookup', { account_id: 3 });
    expect(res.structuredContent).toMatchObject({ found: false, deleted: false, provenance: null });
  });

  test('accounts_lookup_many: only the caller\'s rows are found, in the order asked', async () => {
    const a = await call('alice', 'accounts_lookup_many', { keys: [{ account_id: 2 }, { account_id: 1 }, { account_id: 3 }] });
    expect(a.structuredContent).toMatchObject({ found: 1, missing: 2, truncated: false, nextCursor: null });
    expect(a.structuredContent.results.map((r: any) => [r.key.account_id, r.found, r.row?.tenant_id ?? null])).toEqual([[2, false, null], [1, true, 'tenant-a'], [3, false, null]]);
    const b = await call('bob', 'accounts_lookup_many', { keys: [{ account_id: 1 }, { account_id: 2 }] });
    expect(b.structuredContent.results.map((r: any) => r.found)).toEqual([false, true]);
  });

  test('get_lineage traces only rows in scope, for cache and search views', async () => {
    expect((await call('alice', 'get_lineage', { view: 'accounts', key: { account_id: 1 } })).structuredContent).toMatchObject({ found: true, provenance: { version: '3' } });
    expect((await call('alice', 'get_lineage', { view: 'accounts', key: { account_id: 2 } })).structuredContent).toMatchObject({ found: false, provenance: null, freshness: null });
    expect((await call('bob', 'get_lineage', { view: 'cases', key: { case_id: 'C-2' } })).structuredContent).toMatchObject({ found: true });
    expect((await call('bob', 'get_lineage', { view: 'cases', key: { case_id: 'C-1' } })).structuredContent).toMatchObject({ found: false, provenance: null });
  });
});

describe('two identities, every tool of a scoped search view', () => {
  test('cases_search: the scope is a filter the domain applies beside the agent\'s criteria', async () => {
    const a = await call('alice', 'cases_search', { text: 'refund' });
    expect(lastBody().query.bool.filter).toEqual([scopeTerm('tenant-a')]);
    expect(a.structuredContent.hits.map((h: any) => h.row.case_id).sort()).toEqual(['C-1', 'C-3']);
    const b = await call('bob', 'cases_search', {});
    expect(lastBody().query).toEqual({ bool: { filter: [scopeTerm('tenant-b')] } });
    expect(b.structuredContent.hits.map((h: any) => h.row.case_id)).toEqual(['C-2']);
    expect(b.structuredContent.total).toBe(1);
  });

  test('cases_aggregate: terms, histogram and stats all run over the caller\'s rows only', async () => {
    for (const aggregation of [{ type: 'terms', field: 'status' }, { type: 'date_histogram', field: 'created_at', interval: 'day' }]) {
      await call('alice', 'cases_aggregate', { aggregation });
      expect(lastBody().query).toEqual({ bool: { filter: [scopeTerm('tenant-a')] } });
      await call('bob', 'cases_aggregate', { aggregation, filters: { status: 'open' } });
      expect(lastBody().query.bool.filter).toEqual([scopeTerm('tenant-b'), { term: { status: 'open' } }]);
    }
  });

  test('cases_similar: the k-NN filter carries the scope, so neighbours come from the caller\'s rows', async () => {
    const a = await call('alice', 'cases_similar', { text: 'refund please', k: 5 });
    expect(lastBody().query.knn.subject_vector.filter).toEqual({ bool: { filter: [scopeTerm('tenant-a')] } });
    expect(a.structuredContent.hits.every((h: any) => h.row.tenant_id === 'tenant-a')).toBe(true);
    await call('bob', 'cases_similar', { text: 'refund please', k: 5, filters: { status: 'open' } });
    expect(lastBody().query.knn.subject_vector.filter.bool.filter).toEqual([scopeTerm('tenant-b'), { term: { status: 'open' } }]);
  });

  test('describe_source counts and dates the caller\'s documents only', async () => {
    const a = await call('alice', 'describe_source', { view: 'cases' });
    expect(lastBody().query).toEqual({ bool: { filter: [scopeTerm('tenant-a')] } });
    expect(a.structuredContent).toMatchObject({ documents: 2, rowScope: { field: 'tenant_id' } });
    expect((await call('bob', 'describe_source', { view: 'cases' })).structuredContent.documents).toBe(1);
  });
});

describe('hostile arguments cannot widen the scope', () => {
  test('a filter on the scope field is ANDed with the caller\'s scope: asking for another tenant returns nothing', async () => {
    const one = await call('alice', 'cases_search', { filters: { tenant_id: 'tenant-b' } });
    expect(lastBody().query.bool.filter).toEqual([scopeTerm('tenant-a'), { term: { tenant_id: 'tenant-b' } }]);
    expect(one.structuredContent.hits).toEqual([]);
    const many = await call('alice', 'cases_search', { filters: { tenant_id: ['tenant-a', 'tenant-b'] } });
    expect(many.structuredContent.hits.map((h: any) => h.row.tenant_id)).toEqual(['tenant-a', 'tenant-a']);
    const agg = await call('alice', 'cases_aggregate', { aggregation: { type: 'terms', field: 'tenant_id' }, filters: { tenant_id: 'tenant-b' } });
    expect(agg.isError).toBeFalsy();
    expect(lastBody().query.bool.filter[0]).toEqual(scopeTerm('tenant-a'));
    await call('alice', 'cases_similar', { text: 'refund', filters: { tenant_id: 'tenant-b' } });
    expect(lastBody().query.knn.subject_vector.filter.bool.filter[0]).toEqual(scopeTerm('tenant-a'));
  });

  test.each([
    ['accounts_lookup', { account_id: 2, tenant_id: 'tenant-b' }],
    ['accounts_lookup_many', { keys: [{ account_id: 2 }], tenant_id: 'tenant-b' }],
    ['accounts_lookup_many', { keys: [{ account_id: 2, tenant_id: 'tenant-b' }] }],
    ['cases_search', { rowScope: { field: 'tenant_id', value: 'tenant-b' } }],
    ['cases_search', { tenant_id: 'tenant-b' }],
    ['cases_aggregate', { aggregation: { type: 'stats', field: 'created_at' }, scope: 'tenant-b' }],
    ['cases_similar', { text: 'refund', caller: { kind: 'iam', principal: ROLE_B } }],
    ['get_lineage', { view: 'accounts', key: { account_id: 2 }, tenant_id: 'tenant-b' }],
  ])('%s refuses the extra argument in %j', async (tool, args) => {
    const res = await call('alice', tool, args);
    expect(res.isError).toBe(true);
    expect(errorText(res)).not.toMatch(/Bravo B|tenant-b'/);
  });

  test('free text naming another tenant still searches only the caller\'s rows', async () => {
    const res = await call('alice', 'cases_search', { text: 'tenant b' });
    expect(res.structuredContent.hits.every((h: any) => h.row.tenant_id === 'tenant-a')).toBe(true);
  });

  test('a cursor issued to one tenant is refused when another replays it', async () => {
    const page = await call('alice', 'cases_search', { size: 1 });
    expect(page.structuredContent).toMatchObject({ truncated: true, nextCursor: expect.any(String) });
    const replay = await call('bob', 'cases_search', { size: 1, cursor: page.structuredContent.nextCursor });
    expect(replay.isError).toBe(true);
    expect(errorText(replay)).toMatch(/^cursor_invalid: argument 'cursor' was issued for different arguments/);
    const next = await call('alice', 'cases_search', { size: 1, cursor: page.structuredContent.nextCursor });
    expect(next.structuredContent.hits.map((h: any) => h.row.tenant_id)).toEqual(['tenant-a']);
    expect(next.structuredContent.hits[0].id).not.toBe(page.structuredContent.hits[0].id);
  });
});

describe('callers without a scope value get a structured refusal, never all rows', () => {
  const viewTools: [string, Record<string, unknown>][] = [
    ['accounts_lookup', { account_id: 1 }], ['accounts_lookup_many', { keys: [{ account_id: 1 }] }],
    ['cases_search', {}], ['cases_aggregate', { aggregation: { type: 'terms', field: 'status' } }], ['cases_similar', { text: 'refund' }],
    ['get_lineage', { view: 'accounts', key: { account_id: 1 } }], ['describe_source', { view: 'cases' }],
  ];
  test.each(['noClaim', 'unmappedRole', 'anonymous'])('%s: every tool reading the views answers row_scope_missing', async who => {
    const before = opensearch.requests.length;
    for (const [tool, args] of viewTools) {
      const res = await call(who, tool, args);
      expect(res.isError).toBe(true);
      expect(errorText(res)).toMatch(/^row_scope_missing: View '(accounts|cases)' serves each caller only the rows whose 'tenant_id' matches/);
      expect(errorText(res)).not.toMatch(/Acme|tenant-a|tenant-b/);
    }
    // Refused before any store is asked.
    expect(opensearch.requests.length).toBe(before);
  });

  test('the refusal says why and who the server thinks is calling', async () => {
    expect(errorText(await call('noClaim', 'accounts_lookup', { account_id: 1 })))
      .toMatch(/your token carries no claim 'custom:tenant' \(caller: jwt https:\/\/issuer\.example\.com#carol\)/);
    expect(errorText(await call('unmappedRole', 'cases_search', {}))).toMatch(/your IAM principal is not mapped to a scope value/);
    expect(errorText(await call('anonymous', 'cases_search', {}))).toMatch(/the request is not authenticated \(caller: anonymous anonymous\)/);
  });

  test('list_sources still answers: it shows the scope field, no rows', async () => {
    const res = await call('anonymous', 'list_sources', {});
    expect(res.structuredContent.sources.map((s: any) => s.rowScope)).toEqual([{ field: 'tenant_id' }, { field: 'tenant_id' }]);
  });
});

describe('identity resolution', () => {
  test('a role ARN (with a path) matches its sessions in its own account and partition only', () => {
    expect(principalMatches(ROLE_B, 'arn:aws:sts::111122223333:assumed-role/tenant-b-agent/any-session')).toBe(true);
    expect(principalMatches(ROLE_B, 'arn:aws:sts::999999999999:assumed-role/tenant-b-agent/s')).toBe(false);
    expect(principalMatches(ROLE_B, 'arn:aws-cn:sts::111122223333:assumed-role/tenant-b-agent/s')).toBe(false);
    expect(principalMatches(ROLE_B, 'arn:aws:sts::111122223333:assumed-role/tenant-b-agent-2/s')).toBe(false);
    expect(principalMatches('arn:aws:iam::111122223333:user/dev', 'arn:aws:iam::111122223333:user/dev')).toBe(true);
    expect(principalMatches('arn:aws:iam::111122223333:user/dev', 'arn:aws:iam::111122223333:user/dev2')).toBe(false);
  });

  test('the decision audit records the authenticated caller without its token claims', async () => {
    const res = await call('alice', 'record_decision', { agentId: 'agent-1', decision: 'refund', rationale: 'policy' });
    expect(res.isError).toBeFalsy();
    const stored = decisions.records.get(res.structuredContent.decisionId)!;
    expect(stored.caller).toEqual({ kind: 'jwt', principal: 'https://issuer.example.com#alice', clientId: 'agent-app', scopes: ['mcp'] });
  });
});
