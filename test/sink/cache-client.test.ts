// The cache client: IAM token format checked against an independent SigV4 computation, token refresh, and reconnection with a fresh password after the server drops the connection.
import { createHash, createHmac } from 'crypto';
import { Redis } from 'ioredis';
import {
  buildIamAuthToken, cacheSettingsFromEnv, createCacheClient, IamTokenSource, passwordSourceFor, type CachePasswordSource,
} from '../../lambda/shared/cache-client';
import { PrivateRedis } from './helpers';

const CREDS = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY', sessionToken: 'session/token+1=' };
const DATE = new Date(Date.UTC(2026, 0, 2, 3, 4, 5));

/** SigV4 query-string signing written from the AWS documentation, independent of @smithy/signature-v4. */
function expectedSignature(host: string, params: Record<string, string>, date: string, scope: string): string {
  const enc = (s: string) => encodeURIComponent(s).replace(/[!'()*]/g, c => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  const canonicalQuery = Object.keys(params).sort().map(k => `${enc(k)}=${enc(params[k])}`).join('&');
  const canonicalRequest = ['GET', '/', canonicalQuery, `host:${host}`, '', 'host', createHash('sha256').update('').digest('hex')].join('\n');
  const stringToSign = ['AWS4-HMAC-SHA256', date, scope, createHash('sha256').update(canonicalRequest).digest('hex')].join('\n');
  const hmac = (key: Buffer | string, data: string) => createHmac('sha256', key).update(data).digest();
  const [day, region, service] = scope.split('/');
  const kSigning = hmac(hmac(hmac(hmac(`AWS4${CREDS.secretAccessKey}`, day), region), service), 'aws4_request');
  return createHmac('sha256', kSigning).update(stringToSign).digest('hex');
}

describe('IAM auth token', () => {
  test.each([
    [true, 'serverless caches carry ResourceType=ServerlessCache'],
    [false, 'node-based caches do not'],
  ])('serverless=%s: %s; the token is the presigned connect request without its scheme', async serverless => {
    const token = await buildIamAuthToken({ cacheName: 'agent-cache', userId: 'agent-sink', region: 'eu-west-1', serverless, credentials: CREDS, signingDate: DATE });
    expect(token.startsWith('agent-cache/?')).toBe(true);
    expect(token).not.toMatch(/^https?:/);
    const params = Object.fromEntries(new URLSearchParams(token.slice('agent-cache/?'.length)));
    const scope = '20260102/eu-west-1/elasticache/aws4_request';
    expect(params).toMatchObject({
      Action: 'connect',
      User: 'agent-sink',
      'X-Amz-Algorithm': 'AWS4-HMAC-SHA256',
      'X-Amz-Credential': `AKIDEXAMPLE/${scope}`,
      'X-Amz-Date': '20260102T030405Z',
      'X-Amz-Expires': '900',
      'X-Amz-SignedHeaders': 'host',
      'X-Amz-Security-Token': CREDS.sessionToken,
    });
    expect(params.ResourceType).toBe(serverless ? 'ServerlessCache' : undefined);
    const { 'X-Amz-Signature': signature, ...signed } = params;
    expect(signature).toBe(expectedSignature('agent-cache', signed, '20260102T030405Z', scope));
  });

  test('a token source re-signs once the token is within the refresh margin of its 15 minutes', async () => {
    let now = DATE.getTime();
    const source = new IamTokenSource({ cacheName: 'c', userId: 'u', region: 'us-east-1', serverless: true, credentials: CREDS }, 300, () => now);
    const first = await source.password();
    now += 599_000;
    expect(await source.password()).toBe(first);
    now += 1_000; // 10 minutes: 5 minutes of validity left
    const second = await source.password();
    expect(second).not.toBe(first);
    expect(second).toContain('X-Amz-Date=20260102T031405Z');
  });
});

describe('settings from the environment', () => {
  test('reads what AgentCache.clientEnvironment() sets, TLS and IAM on by default', () => {
    expect(cacheSettingsFromEnv({ AGENT_CACHE_ENDPOINT: 'h', AGENT_CACHE_PORT: '6380', AGENT_CACHE_USER: 'u', AGENT_CACHE_NAME: 'n', AGENT_CACHE_SERVERLESS: 'true', AGENT_CACHE_CLUSTER_MODE: 'true' }))
      .toEqual({ host: 'h', port: 6380, tls: true, auth: 'iam', user: 'u', cacheName: 'n', serverless: true, clusterMode: true, secretArn: undefined });
  });

  test('fails clearly without an endpoint or with an unknown auth mode', () => {
    expect(() => cacheSettingsFromEnv({})).toThrow(/AGENT_CACHE_ENDPOINT is not set/);
    expect(() => cacheSettingsFromEnv({ AGENT_CACHE_ENDPOINT: 'h', AGENT_CACHE_AUTH: 'kerberos' })).toThrow(/'kerberos'/);
  });

  test('password auth reads the RBAC password from the secret (JSON or plain)', async () => {
    const settings = cacheSettingsFromEnv({ AGENT_CACHE_ENDPOINT: 'h', AGENT_CACHE_AUTH: 'password', AGENT_CACHE_SECRET_ARN: 'arn:s' });
    const json = await passwordSourceFor(settings, { region: 'r', credentials: async () => CREDS, fetchSecret: async () => JSON.stringify({ username: 'u', password: 'p1' }) });
    expect(await json!.password()).toBe('p1');
    const plain = await passwordSourceFor(settings, { region: 'r', credentials: async () => CREDS, fetchSecret: async () => 'p2' });
    expect(await plain!.password()).toBe('p2');
  });
});

describe('reconnection against a real server', () => {
  const server = new PrivateRedis();
  let admin: Redis;
  beforeAll(async () => {
    await server.start();
    admin = new Redis({ port: server.port });
  });
  afterAll(async () => {
    admin.disconnect();
    await server.stop();
  });

  test('when the server drops the connection, the next command succeeds on a new connection authenticated with the fresh password', async () => {
    // An ACL user standing in for the IAM user: each "token" is a password the server accepts until revoked.
    await admin.call('ACL', 'SETUSER', 'agent-sink', 'on', '>token-1', '~*', '+@all');
    let current = 'token-1';
    const source: CachePasswordSource = { password: async () => current };
    const client = createCacheClient(
      { host: '127.0.0.1', port: server.port, tls: false, auth: 'iam', user: 'agent-sink', serverless: false, clusterMode: false },
      { passwordSource: source },
    );
    try {
      const redis = await client.ready();
      await redis.set('k', 'v1');
      const firstId = await redis.client('ID');
      // The old token expires and a new one is issued; the open connection stays authenticated.
      await admin.call('ACL', 'SETUSER', 'agent-sink', 'resetpass', '>token-2');
      current = 'token-2';
      await client.ready();
      expect(await redis.get('k')).toBe('v1');
      // ElastiCache drops IAM connections after 12 hours: kill it.
      expect(await admin.client('KILL', 'USER', 'agent-sink')).toBe(1);
      expect(await redis.get('k')).toBe('v1');
      expect(await redis.client('ID')).not.toBe(firstId);
      expect(await redis.acl('WHOAMI')).toBe('agent-sink');
    } finally {
      await client.close();
    }
  });

  test('a connection opened with an expired password re-authenticates once a fresh one is available', async () => {
    await admin.call('ACL', 'SETUSER', 'late', 'on', '>fresh', '~*', '+@all');
    let current = 'expired';
    const client = createCacheClient(
      { host: '127.0.0.1', port: server.port, tls: false, auth: 'iam', user: 'late', serverless: false, clusterMode: false },
      { passwordSource: { password: async () => current } },
    );
    try {
      // The function thawed with a token that expired meanwhile: the connection is refused.
      await expect(client.ready().then(r => r.ping())).rejects.toThrow();
      // The next batch refreshes the password; ioredis' reconnection picks it up.
      current = 'fresh';
      const redis = await client.ready();
      expect(await redis.ping()).toBe('PONG');
      expect(await redis.acl('WHOAMI')).toBe('late');
    } finally {
      await client.close();
    }
  });
});
