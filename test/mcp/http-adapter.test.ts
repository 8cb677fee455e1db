// The function URL <-> Web Request/Response adapter, and the bundled handler (esbuild, as deployed).
import * as fs from 'fs';
import * as path from 'path';
import { Template } from 'aws-cdk-lib/assertions';
import { AgentNetwork } from '../../constructs/common/agent-network';
import { AgentMcpServer } from '../../constructs/mcp';
import { eventToRequest, FunctionUrlEvent, responseToResult } from '../../lambda/mcp/http-adapter';
import { flattenForNag as flattenReference } from '../../constructs/common/nag';
import { testApp, testStack } from '../helpers/app';
import { FakeCache, FakeSearch } from './fakes';
import { testAgentViews } from './agent-views';

function baseEvent(overrides: Partial<FunctionUrlEvent> = {}): FunctionUrlEvent {
  return {
    version: '2.0', routeKey: '$default', rawPath: '/mcp', rawQueryString: 'a=1&b=two',
    headers: { 'content-type': 'application/json', 'x-custom': 'v' },
    requestContext: {
      accountId: '1', apiId: 'x', domainName: 'x.lambda-url.eu-west-1.on.aws', domainPrefix: 'x',
      http: { method: 'POST', path: '/mcp', protocol: 'HTTP/1.1', sourceIp: '1.2.3.4', userAgent: 'u' },
      requestId: 'r', routeKey: '$default', stage: '$default', time: 't', timeEpoch: 0,
    },
    isBase64Encoded: false,
    ...overrides,
  };
}

describe('eventToRequest', () => {
  test('keeps method, URL with query, headers and a plain body', async () => {
    const req = eventToRequest(baseEvent({ body: '{"x":1}', cookies: ['a=1', 'b=2'] }));
    expect(req.method).toBe('POST');
    expect(req.url).toBe('https://x.lambda-url.eu-west-1.on.aws/mcp?a=1&b=two');
    expect(req.headers.get('x-custom')).toBe('v');
    expect(req.headers.get('cookie')).toBe('a=1; b=2');
    expect(await req.text()).toBe('{"x":1}');
  });

  test('decodes a base64 body', async () => {
    const req = eventToRequest(baseEvent({ body: Buffer.from('héllo').toString('base64'), isBase64Encoded: true }));
    expect(await req.text()).toBe('héllo');
  });

  test('a GET carries no body', async () => {
    const e = baseEvent({ body: 'ignored' });
    e.requestContext.http.method = 'GET';
    expect(eventToRequest(e).body).toBeNull();
  });
});

describe('responseToResult', () => {
  test('JSON stays text; headers and cookies are kept', async () => {
    const headers = new Headers({ 'content-type': 'application/json', 'x-a': '1' });
    headers.append('set-cookie', 'c=1');
    const r = await responseToResult(new Response('{"ok":true}', { status: 201, headers }));
    expect(r).toEqual({ statusCode: 201, headers: { 'content-type': 'application/json', 'x-a': '1' }, cookies: ['c=1'], body: '{"ok":true}', isBase64Encoded: false });
  });

  test('binary bodies are base64', async () => {
    const r = await responseToResult(new Response(new Uint8Array([0, 255, 1]), { headers: { 'content-type': 'application/octet-stream' } }));
    expect(r.isBase64Encoded).toBe(true);
    expect(Buffer.from(r.body!, 'base64')).toEqual(Buffer.from([0, 255, 1]));
  });

  test('an empty 202 is an empty text body', async () => {
    const r = await responseToResult(new Response(null, { status: 202 }));
    expect(r).toMatchObject({ statusCode: 202, body: '', isBase64Encoded: false });
  });
});

describe('nag finding ids', () => {
  test('tokens are flattened the way cdk-nag names findings', () => {
    expect(flattenReference({ 'Fn::Join': ['', [{ 'Fn::GetAtt': ['Domain', 'Arn'] }, '/idx/*']] })).toBe('<Domain.Arn>/idx/*');
    expect(flattenReference({ 'Fn::Join': [':', ['arn', { Ref: 'AWS::Partition' }, 's3']] })).toBe('arn:<AWS::Partition>:s3');
    expect(flattenReference('a${x}')).toBe('a<x>');
  });
});

describe('bundled handler', () => {
  test('esbuild bundles lambda/mcp minified, with no AWS SDK v2 and no SDK v3 inlined', () => {
    const app = testApp({ bundle: true });
    const stack = testStack(app);
    const vpc = new AgentNetwork(stack, 'Net').vpc;
    new AgentMcpServer(stack, 'Mcp', { views: testAgentViews('agent:'), vpc, cache: new FakeCache(stack, 'Cache', vpc), search: new FakeSearch(stack, 'Search', vpc) });
    const assembly = app.synth();
    const fn = Object.values(Template.fromStack(stack).findResources('AWS::Lambda::Function'))
      .find((r: any) => r.Properties.Description?.startsWith('MCP server')) as any;
    const hash = String(fn.Properties.Code.S3Key).replace(/\.zip$/, '');
    const code = fs.readFileSync(path.join(assembly.directory, `asset.${hash}`, 'index.js'), 'utf8');
    expect(code).toContain('tools/call');
    expect(code).not.toMatch(/require\("aws-sdk"\)/);
    // The runtime provides the AWS SDK v3: it stays external, required by name.
    expect(code).toMatch(/require\("@aws-sdk\/client-ssm"\)/);
    expect(code).toMatch(/require\("@aws-sdk\/client-dynamodb"\)/);
    expect(code).not.toMatch(/\n {4}const /); // minified: no indented source
    expect(Buffer.byteLength(code)).toBeLessThan(2 * 1024 * 1024); // 1.6 MB today: MCP SDK, zod, ioredis, OpenSearch client, Powertools
  });
});
