// JWT mode end to end: the Lambda shell (lambda/mcp/index.ts) as an OAuth resource server against a real local issuer (RSA and EC
// keys generated here, discovery and JWKS over node:http) and the real Redis: metadata shape, 401/403 challenges, audience,
// expiry, issuer, signature and scope checks, per-tool scopes, and real MCP clients reading the challenge and the metadata.
import { generateKeyPairSync, sign, type KeyObject } from 'crypto';
import * as http from 'http';
import type { AddressInfo } from 'net';
import { Redis } from 'ioredis';
import { Client as McpClient } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { discoverOAuthProtectedResourceMetadata, extractWWWAuthenticateParams } from '@modelcontextprotocol/sdk/client/auth.js';
import { CACHE_FIELDS, cacheKey, paddedVersion } from '../../contract/stored-record';
import { startLocalServer, type FunctionUrlEvent, type FunctionUrlResult, type LocalServer } from '../../lambda/mcp/http-adapter';
import { OAuthResourceServer } from '../../lambda/mcp/oauth';
import type { ViewConfig } from '../../contract/view-config';
import { record, testViews, uniquePrefix } from './support';

const prefix = uniquePrefix();
const customers = testViews(prefix).filter(v => v.name === 'customers')[0];
/** A row-scoped copy of the view: JWT callers see only rows whose `tenant_id` equals their verified `custom:tenant` claim. */
const scopedAccounts: ViewConfig = {
  ...customers, name: 'accounts', key: ['account_id'], sourceTable: 'public.accounts', topic: 'agentdata.public.accounts',
  fields: [{ name: 'account_id', type: 'integer' }, { name: 'tenant_id', type: 'keyword' }, { name: 'name', type: 'string' }],
  cache: { keyPrefix: `${prefix}accounts:`, tombstoneTtlSeconds: 3600 },
  rowScope: { field: 'tenant_id', claim: 'custom:tenant' },
};
const views = [customers, scopedAccounts];
const redis = new Redis({ host: '127.0.0.1', port: 6379, lazyConnect: true });
const saved = { ...process.env };

const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const attacker = generateKeyPairSync('rsa', { modulusLength: 2048 });
let jwks: Record<string, unknown>[] = [];
const issuerRequests: string[] = [];
let issuerServer: http.Server;
let issuer = '';
let mcp: LocalServer;
let resource = '';
let shell: { handler: (e: FunctionUrlEvent) => Promise<FunctionUrlResult>; close: () => Promise<void> };
const READ = 'agent-data/read';
const LINEAGE = 'agent-data/lineage';

function b64(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

function jwt(claims: Record<string, unknown>, opts: { key?: KeyObject; kid?: string; alg?: string } = {}): string {
  const alg = opts.alg ?? 'RS256';
  const head = b64({ alg, typ: 'JWT', kid: opts.kid ?? 'rsa-1' });
  const body = b64(claims);
  const data = Buffer.from(`${head}.${body}`);
  if (alg === 'none') return `${head}.${body}.`;
  const signature = alg === 'ES256'
    ? sign('sha256', data, { key: opts.key ?? ec.privateKey, dsaEncoding: 'ieee-p1363' })
    : sign('sha256', data, opts.key ?? rsa.privateKey);
  return `${head}.${body}.${signature.toString('base64url')}`;
}

function claims(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const now = Math.floor(Date.now() / 1000);
  return { iss: issuer, sub: 'user-1', aud: resource, exp: now + 300, iat: now, scope: READ, client_id: 'mcp-client', ...overrides };
}

async function post(body: unknown, token?: string): Promise<Response> {
  return fetch(resource, {
    method: 'POST',
    headers: {
      'content-type': 'application/json', accept: 'application/json, text/event-stream',
      ...(token !== undefined ? { authorization: `Bearer ${token}` } : {}),
    },
    body: JSON.stringify(body),
  });
}

const LIST = { jsonrpc: '2.0', id: 1, method: 'tools/list', params: {} };
const lookup = (name = 'customers_lookup', args: Record<string, unknown> = { customer_id: 42 }) => ({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name, arguments: args } });

let writeSpy: jest.SpyInstance;

beforeAll(async () => {
  // The shell's EMF metric lines go to stdout; keep the test output readable.
  writeSpy = jest.spyOn(process.stdout, 'write').mockImplementation(() => true);
  await redis.connect();
  const rec = record('customers', 'public.customers', { customer_id: '42' }, { customer_id: 42, name: 'Ada' }, Date.now() - 1000, 17);
  await redis.hset(cacheKey(views[0].cache!.keyPrefix, views[0].key, { customer_id: 42 }), CACHE_FIELDS.version, paddedVersion('17'), CACHE_FIELDS.record, JSON.stringify(rec));
  for (const [id, tenant, name] of [[1, 'tenant-a', 'Acme'], [2, 'tenant-b', 'Globex']] as const) {
    const row = record('accounts', 'public.accounts', { account_id: String(id) }, { account_id: id, tenant_id: tenant, name }, Date.now() - 1000, 20 + id);
    await redis.hset(cacheKey(scopedAccounts.cache!.keyPrefix, scopedAccounts.key, { account_id: id }), CACHE_FIELDS.version, paddedVersion(String(20 + id)), CACHE_FIELDS.record, JSON.stringify(row));
  }

  jwks = [
    { ...rsa.publicKey.export({ format: 'jwk' }), kid: 'rsa-1', use: 'sig', alg: 'RS256' },
    { ...ec.publicKey.export({ format: 'jwk' }), kid: 'ec-1', use: 'sig', alg: 'ES256' },
  ];
  issuerServer = http.createServer((req, res) => {
    issuerRequests.push(req.url ?? '');
    const send = (body: unknown) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    if (req.url === '/tenant/.well-known/openid-configuration') send({ issuer, jwks_uri: `${issuer}/keys`, authorization_endpoint: `${issuer}/authorize`, token_endpoint: `${issuer}/token` });
    else if (req.url === '/tenant/keys') send({ keys: jwks });
    else res.writeHead(404).end();
  });
  await new Promise<void>(resolve => issuerServer.listen(0, '127.0.0.1', resolve));
  issuer = `http://127.0.0.1:${(issuerServer.address() as AddressInfo).port}/tenant`;

  // The resource URL is the local server's, so the environment is written once its port is known, then the shell is loaded.
  let delegate: (e: FunctionUrlEvent) => Promise<FunctionUrlResult> = async () => ({ statusCode: 503 });
  mcp = await startLocalServer(e => delegate(e));
  resource = `${mcp.url}/mcp`;
  Object.assign(process.env, {
    AGENT_VIEWS: JSON.stringify(views),
    AGENT_CACHE_ENDPOINT: '127.0.0.1', AGENT_CACHE_PORT: '6379', AGENT_CACHE_AUTH: 'none', AGENT_CACHE_TLS: 'false',
    AWS_REGION: 'us-east-1', POWERTOOLS_SERVICE_NAME: 'mcp-oauth-test', POWERTOOLS_METRICS_NAMESPACE: 'Test/Mcp', POWERTOOLS_LOG_LEVEL: 'SILENT',
    AGENT_MCP_OAUTH: JSON.stringify({
      resource, issuer, audience: [resource, 'cognito-app-client'], scopes: [READ], toolScopes: { get_lineage: [LINEAGE] },
    }),
  });
  delete process.env.AGENT_DECISION_TABLE;
  delete process.env.AGENT_LINEAGE_CATALOG;
  shell = require('../../lambda/mcp/index');
  delegate = shell.handler;
});

afterAll(async () => {
  await shell?.close();
  await mcp?.close();
  await new Promise(resolve => issuerServer?.close(resolve));
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length) await redis.del(...keys);
  await redis.quit();
  writeSpy?.mockRestore();
  process.env = saved;
});

describe('protected-resource metadata (RFC 9728)', () => {
  const expected = () => ({ resource, authorization_servers: [issuer], scopes_supported: [READ, LINEAGE], bearer_methods_supported: ['header'] });

  test('served without a token at the path-suffixed and the root well-known URL, with exactly the RFC 9728 fields', async () => {
    for (const path of ['/.well-known/oauth-protected-resource/mcp', '/.well-known/oauth-protected-resource']) {
      const res = await fetch(`${mcp.url}${path}`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('application/json');
      expect(await res.json()).toEqual(expected());
    }
  });

  test('other well-known paths are 404 and the document is GET only', async () => {
    expect((await fetch(`${mcp.url}/.well-known/oauth-protected-resource/admin`)).status).toBe(404);
    expect((await fetch(`${mcp.url}/.well-known/oauth-protected-resource/mcp`, { method: 'POST', body: '{}' })).status).toBe(405);
  });

  test('a real MCP client discovers it from the 401 challenge', async () => {
    const res = await post(LIST);
    const params = extractWWWAuthenticateParams(res);
    expect(params.resourceMetadataUrl?.href).toBe(`${mcp.url}/.well-known/oauth-protected-resource/mcp`);
    expect(params.scope).toBe(READ);
    const metadata = await discoverOAuthProtectedResourceMetadata(resource, { resourceMetadataUrl: params.resourceMetadataUrl });
    expect(metadata).toEqual(expected());
    // And by the well-known fallback, without the header.
    expect(await discoverOAuthProtectedResourceMetadata(resource)).toEqual(expected());
  });
});

describe('refusals: 401 with a challenge naming the metadata, nothing else disclosed', () => {
  const metadataUrl = () => `${mcp.url}/.well-known/oauth-protected-resource/mcp`;

  async function expectRefused(res: Response, status: number, error: string | undefined, scope = READ) {
    expect(res.status).toBe(status);
    const header = res.headers.get('www-authenticate') ?? '';
    expect(header).toMatch(/^Bearer /);
    expect(header).toContain(`resource_metadata="${metadataUrl()}"`);
    expect(header).toContain(`scope="${scope}"`);
    if (error) expect(header).toContain(`error="${error}"`);
    else expect(header).not.toContain('error=');
    const text = await res.text();
    // No view, tool, store, version or server name in a refusal.
    expect(text).not.toMatch(/customers|lookup|redis|cache|jsonrpc|cdk-agent-data-stack|mcp-oauth-test/i);
    return text;
  }

  test('no token: 401 without an error code (RFC 6750 section 3.1)', async () => {
    await expectRefused(await post(LIST), 401, undefined);
  });

  test('a token for another audience (RFC 8707) is 401 invalid_token', async () => {
    expect(await expectRefused(await post(LIST, jwt(claims({ aud: 'https://other.example.com/mcp' }))), 401, 'invalid_token')).toMatch(/audience/);
  });

  test('an expired token is 401 invalid_token', async () => {
    expect(await expectRefused(await post(LIST, jwt(claims({ exp: Math.floor(Date.now() / 1000) - 3600 }))), 401, 'invalid_token')).toMatch(/expired/);
  });

  test('a token from another issuer, even signed with the right key, is 401 invalid_token', async () => {
    expect(await expectRefused(await post(LIST, jwt(claims({ iss: 'https://evil.example.com' }))), 401, 'invalid_token')).toMatch(/another issuer/);
  });

  test('a token signed with another key under the issuer\'s key id is 401 invalid_token', async () => {
    expect(await expectRefused(await post(LIST, jwt(claims(), { key: attacker.privateKey })), 401, 'invalid_token')).toMatch(/signature/);
  });

  test('unsigned (alg none), HMAC and malformed tokens are 401', async () => {
    await expectRefused(await post(LIST, jwt(claims(), { alg: 'none' })), 401, 'invalid_token');
    const hs = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64(claims())}.${Buffer.from('x').toString('base64url')}`;
    await expectRefused(await post(LIST, hs), 401, 'invalid_token');
    await expectRefused(await post(LIST, 'not-a-jwt'), 401, 'invalid_token');
  });

  test('an ID token is 401 even with the right audience', async () => {
    await expectRefused(await post(LIST, jwt(claims({ token_use: 'id' }))), 401, 'invalid_token');
  });

  test('a token without the server\'s scope is 403 insufficient_scope naming it', async () => {
    expect(await expectRefused(await post(LIST, jwt(claims({ scope: 'profile' }))), 403, 'insufficient_scope')).toMatch(/agent-data\/read/);
  });

  test('a tool with its own scope is 403 insufficient_scope with the scopes the call needs', async () => {
    const res = await post(lookup('get_lineage', { view: 'customers', key: { customer_id: 42 } }), jwt(claims()));
    await expectRefused(res, 403, 'insufficient_scope', `${READ} ${LINEAGE}`);
    const allowed = await post(lookup('get_lineage', { view: 'customers', key: { customer_id: 42 } }), jwt(claims({ scope: `${READ} ${LINEAGE}` })));
    expect(allowed.status).toBe(200);
    expect(await allowed.text()).toContain('public.customers');
  });
});

describe('accepted tokens', () => {
  test('a valid RS256 token: a real MCP client lists and calls the tools', async () => {
    const client = new McpClient({ name: 'oauth-test', version: '1.0.0' });
    await client.connect(new StreamableHTTPClientTransport(new URL(resource), { requestInit: { headers: { authorization: `Bearer ${jwt(claims())}` } } }));
    try {
      const { tools } = await client.listTools();
      expect(tools.map(t => t.name)).toContain('customers_lookup');
      const result = await client.callTool({ name: 'customers_lookup', arguments: { customer_id: 42 } });
      expect(result.isError).toBeFalsy();
      expect(result.structuredContent).toMatchObject({ found: true, row: { name: 'Ada' } });
    } finally {
      await client.close();
    }
  });

  test('a valid ES256 token is accepted', async () => {
    const res = await post(lookup(), jwt(claims(), { alg: 'ES256', kid: 'ec-1', key: ec.privateKey }));
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('Ada');
  });

  test('a Cognito-style access token (no aud, client_id in the audience) is accepted; another client\'s is not', async () => {
    const ok = await post(LIST, jwt(claims({ aud: undefined, client_id: 'cognito-app-client', token_use: 'access' })));
    expect(ok.status).toBe(200);
    const other = await post(LIST, jwt(claims({ aud: undefined, client_id: 'someone-else' })));
    expect(other.status).toBe(401);
  });

  test('the keys were discovered from the issuer\'s OpenID configuration and fetched once', () => {
    expect(issuerRequests.filter(u => u.endsWith('openid-configuration'))).toHaveLength(1);
    expect(issuerRequests.filter(u => u === '/tenant/keys').length).toBeGreaterThanOrEqual(1);
  });
});

describe('row scopes read the verified token, never the request', () => {
  const call = async (token: string, id: number) => {
    const res = await post(lookup('accounts_lookup', { account_id: id }), token);
    expect(res.status).toBe(200);
    return JSON.parse((await res.text()).replace(/^event: message\ndata: /, '').trim()).result;
  };

  test('each tenant\'s token reads its own rows only; the other tenant\'s row answers as not found', async () => {
    const a = jwt(claims({ 'custom:tenant': 'tenant-a' }));
    const b = jwt(claims({ sub: 'user-2', 'custom:tenant': 'tenant-b' }));
    expect((await call(a, 1)).structuredContent).toMatchObject({ found: true, row: { name: 'Acme' } });
    expect((await call(a, 2)).structuredContent).toMatchObject({ found: false });
    expect((await call(b, 2)).structuredContent).toMatchObject({ found: true, row: { name: 'Globex' } });
    expect((await call(b, 1)).structuredContent).toMatchObject({ found: false });
  });

  test('a valid token without the claim gets row_scope_missing, not every row', async () => {
    const result = await call(jwt(claims()), 1);
    expect(result.isError).toBe(true);
    expect(result.content[0].text).toMatch(/^row_scope_missing:/);
  });
});

describe('key rotation and an unreachable issuer', () => {
  test('a token under a new key id is accepted after the issuer publishes it (refetch on unknown kid)', async () => {
    const next = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const server = new OAuthResourceServer({ resource, issuer, audience: [resource] }, { refetchIntervalSeconds: 0 });
    const request = (token: string) => new Request(resource, { method: 'POST', headers: { authorization: `Bearer ${token}` } });
    expect(await server.authenticate(request(jwt(claims())))).toMatchObject({ kind: 'jwt', principal: `${issuer}#user-1` });
    const rotated = jwt(claims(), { key: next.privateKey, kid: 'rsa-2' });
    expect(((await server.authenticate(request(rotated))) as Response).status).toBe(401);
    jwks = [...jwks, { ...next.publicKey.export({ format: 'jwk' }), kid: 'rsa-2', use: 'sig' }];
    expect(await server.authenticate(request(rotated))).toMatchObject({ kind: 'jwt', scopes: [READ] });
  });

  test('when the issuer cannot be reached the answer is 503, never a pass', async () => {
    let calls = 0;
    const counting: typeof fetch = (...args) => { calls++; return fetch(...args); };
    const server = new OAuthResourceServer({ resource, issuer: 'http://127.0.0.1:9/nowhere', audience: [resource] }, { fetchTimeoutMs: 500, fetch: counting });
    const res = await server.authenticate(new Request(resource, { method: 'POST', headers: { authorization: `Bearer ${jwt(claims({ iss: 'http://127.0.0.1:9/nowhere' }))}` } }));
    expect((res as Response).status).toBe(503);
    // A second request within the back-off answers 503 without calling the issuer again.
    const before = calls;
    expect(before).toBeGreaterThan(0);
    const again = await server.authenticate(new Request(resource, { method: 'POST', headers: { authorization: `Bearer ${jwt(claims({ iss: 'http://127.0.0.1:9/nowhere' }))}` } }));
    expect((again as Response).status).toBe(503);
    expect(calls).toBe(before);
  });
});
