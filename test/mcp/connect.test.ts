// `agent-data-stack connect`: real stdio MCP clients of both generations, through the connect command (a child process signing with
// SigV4 from the default credential chain), to a local HTTP server that verifies the signature as a function URL would and runs the handler.
import { Sha256 } from '@aws-crypto/sha256-js';
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import { Client as ModernClient } from '@modelcontextprotocol/client';
import { StdioClientTransport as ModernStdio } from '@modelcontextprotocol/client/stdio';
import { Client as LegacyClient } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport as LegacyStdio } from '@modelcontextprotocol/sdk/client/stdio.js';
import { mockClient } from 'aws-sdk-client-mock';
import * as http from 'http';
import type { AddressInfo } from 'net';
import * as os from 'os';
import * as path from 'path';
import { PassThrough } from 'stream';
import { main, type ConnectCommandIo } from '../../cli/agent-data-stack';
import { endpointFromStack, messagesOf, regionOfUrl } from '../../cli/connect/proxy';
import { callerFromEvent } from '../../lambda/mcp/caller';
import { nodeRequestToEvent, eventToRequest, responseToResult } from '../../lambda/mcp/http-adapter';
import { handleHttpRequest } from '../../lambda/mcp/server';
import { Harness, startHarness, ToolResult } from './harness';

const CREDENTIALS = { accessKeyId: 'AKIDAGENTDATATEST01', secretAccessKey: 'test-secret-key-for-sigv4-verification-only' };
const USER_ARN = 'arn:aws:iam::123456789012:user/agent-dev';
const REPO = path.join(__dirname, '..', '..');

let h: Harness;
let verifier: http.Server;
let url: string;
const seen: { authorization?: string; verified: boolean }[] = [];

/**
 * Verifies a SigV4 `Authorization` header the way a function URL with AWS_IAM auth does: recompute the signature over the
 * signed headers and the body with the key of the named access key id, and compare. Returns why it fails, or undefined.
 */
async function verifySigV4(req: http.IncomingMessage, body: Buffer): Promise<string | undefined> {
  const auth = req.headers.authorization ?? '';
  const m = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, SignedHeaders=([^,]+), Signature=([0-9a-f]{64})$/.exec(auth);
  if (!m) return 'missing or malformed Authorization header';
  const [, keyId, , region, service, signedHeaders, signature] = m;
  if (keyId !== CREDENTIALS.accessKeyId) return 'unknown access key';
  if (region !== 'us-east-1' || service !== 'lambda') return `wrong scope ${region}/${service}`;
  const amzDate = String(req.headers['x-amz-date'] ?? '');
  const date = new Date(amzDate.replace(/^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/, '$1-$2-$3T$4:$5:$6Z'));
  if (!(Math.abs(Date.now() - date.getTime()) < 5 * 60_000)) return 'request time too far from now';
  const headers: Record<string, string> = {};
  for (const name of signedHeaders.split(';')) headers[name] = String(req.headers[name] ?? '');
  const u = new URL(req.url ?? '/', 'http://localhost');
  const signer = new SignatureV4({ service: 'lambda', region: 'us-east-1', credentials: CREDENTIALS, sha256: Sha256 });
  const expected = await signer.sign(new HttpRequest({
    method: req.method, protocol: 'http:', hostname: headers.host.split(':')[0], port: Number(headers.host.split(':')[1]), path: u.pathname, headers, body: body.toString('utf8'),
  }), { signingDate: date });
  const expectedSignature = /Signature=([0-9a-f]{64})/.exec(String(expected.headers.authorization))?.[1];
  return expectedSignature === signature ? undefined : 'signature mismatch';
}

beforeAll(async () => {
  h = await startHarness();
  verifier = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', c => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      verifySigV4(req, body).then(async problem => {
        seen.push({ authorization: req.headers.authorization, verified: !problem });
        if (problem) {
          res.writeHead(403, { 'content-type': 'application/json' }).end(JSON.stringify({ Message: `Forbidden: ${problem}` }));
          return;
        }
        // What Lambda puts in a function URL event after IAM authentication.
        const event = nodeRequestToEvent(req, body);
        (event.requestContext as any).authorizer = { iam: { accessKey: CREDENTIALS.accessKeyId, accountId: '123456789012', callerId: 'AIDAAGENTDEV', userArn: USER_ARN, userId: 'AIDAAGENTDEV' } };
        const result = await responseToResult(await handleHttpRequest(eventToRequest(event), h.deps, {}, callerFromEvent(event)));
        res.writeHead(result.statusCode ?? 200, result.headers as Record<string, string>).end(result.body ? Buffer.from(result.body, result.isBase64Encoded ? 'base64' : 'utf8') : undefined);
      }).catch(e => res.writeHead(500).end(String(e)));
    });
  });
  await new Promise<void>(r => verifier.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(verifier.address() as AddressInfo).port}/mcp`;
});

afterAll(async () => {
  verifier?.closeAllConnections();
  await new Promise<void>(r => (verifier ? verifier.close(() => r()) : r()));
  await h?.stop();
});

/** The connect command as an agent's MCP configuration runs it: a child process on stdio, credentials from the environment. */
function connectProcess(secret = CREDENTIALS.secretAccessKey) {
  return {
    command: process.execPath,
    args: ['--require', 'ts-node/register/transpile-only', path.join(REPO, 'cli', 'agent-data-stack.ts'), 'connect', '--url', url, '--region', 'us-east-1'],
    cwd: REPO,
    env: {
      PATH: process.env.PATH ?? '', HOME: os.tmpdir(), AWS_ACCESS_KEY_ID: CREDENTIALS.accessKeyId, AWS_SECRET_ACCESS_KEY: secret,
      AWS_EC2_METADATA_DISABLED: 'true', AWS_CONFIG_FILE: '/dev/null', AWS_SHARED_CREDENTIALS_FILE: '/dev/null', TS_NODE_TRANSPILE_ONLY: 'true',
    },
    stderr: 'pipe' as const,
  };
}

describe('a stdio client through connect', () => {
  test('2025-11-25 (v1 SDK): lists and calls tools, every request signed and verified, and a decision records the IAM caller', async () => {
    const client = new LegacyClient({ name: 'claude-code-like', version: '1.0.0' });
    seen.length = 0;
    await client.connect(new LegacyStdio(connectProcess()));
    try {
      const { tools } = await client.listTools();
      expect(tools).toHaveLength(12);
      const res = await client.callTool({ name: 'customers_lookup', arguments: { customer_id: 42 } }) as ToolResult;
      expect(res.structuredContent).toMatchObject({ found: true, row: { name: 'Ada' }, freshness: { position: { kind: 'postgres' } } });
      const rec = await client.callTool({ name: 'record_decision', arguments: { agentId: 'claimed-agent', decision: 'd', rationale: 'r' } }) as ToolResult;
      expect(rec.isError).toBeFalsy();
      expect(rec.structuredContent).toMatchObject({ agentId: 'claimed-agent', caller: { kind: 'iam', principal: USER_ARN, accountId: '123456789012' } });
      expect(h.decisions.records.get(rec.structuredContent.decisionId)?.caller).toEqual({ kind: 'iam', principal: USER_ARN, accountId: '123456789012' });
    } finally {
      await client.close();
    }
    expect(seen.length).toBeGreaterThanOrEqual(4);
    expect(seen.every(s => s.verified && /^AWS4-HMAC-SHA256 Credential=AKIDAGENTDATATEST01\/\d{8}\/us-east-1\/lambda\/aws4_request/.test(s.authorization ?? ''))).toBe(true);
  });

  test('2026-07-28 (v2 SDK, pinned): discovers without initialize and calls tools', async () => {
    const client = new ModernClient({ name: 'modern-agent', version: '1.0.0' }, { versionNegotiation: { mode: { pin: '2026-07-28' } } });
    await client.connect(new ModernStdio(connectProcess()));
    try {
      expect(client.getNegotiatedProtocolVersion()).toBe('2026-07-28');
      const res = await client.callTool({ name: 'customers_lookup', arguments: { customer_id: 43 } }) as ToolResult;
      expect(res.structuredContent).toMatchObject({ found: true, row: { name: 'Bob' }, freshness: { stale: true } });
      const bad = await client.callTool({ name: 'customers_lookup', arguments: {} }) as ToolResult;
      expect(bad.content[0].text).toMatch(/missing required argument 'customer_id' \(integer\)/);
    } finally {
      await client.close();
    }
  });

  test('with a wrong secret key the endpoint refuses, and the client is told what to check', async () => {
    const client = new LegacyClient({ name: 'wrong-key', version: '1.0.0' });
    await expect(client.connect(new LegacyStdio(connectProcess('not-the-secret')))).rejects.toThrow(/refused the request \(HTTP 403.*signature mismatch.*lambda:InvokeFunctionUrl/s);
    await client.close();
  });
});

describe('the endpoint from the stack', () => {
  const cfn = mockClient(CloudFormationClient);
  afterEach(() => cfn.reset());

  test('--stack reads the McpEndpointUrl output (DescribeStacks) and relays stdin to it', async () => {
    cfn.on(DescribeStacksCommand, { StackName: 'AgentDataStack' }).resolves({
      Stacks: [{ StackName: 'AgentDataStack', CreationTime: new Date(), StackStatus: 'CREATE_COMPLETE', Outputs: [
        { OutputKey: 'DashboardUrl', OutputValue: 'https://console.aws.amazon.com/cloudwatch' },
        { OutputKey: 'DataMcpEndpointUrl1A2B3C', OutputValue: url },
      ] }],
    });
    const input = new PassThrough();
    const output = new PassThrough();
    const lines: string[] = [];
    output.on('data', (c: Buffer) => lines.push(...c.toString('utf8').split('\n').filter(Boolean)));
    const errors: string[] = [];
    const io: ConnectCommandIo = {
      stdout: () => undefined, stderr: t => errors.push(t), env: {}, input, output,
      credentials: async () => CREDENTIALS, clients: { cloudformation: new CloudFormationClient({ region: 'us-east-1' }) } as any,
    };
    const running = main(['connect', '--stack', 'AgentDataStack', '--region', 'us-east-1'], io);
    input.write(`${JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 't', version: '1' } } })}\n`);
    input.write(`${JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' })}\n`);
    input.write(`${JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'customers_lookup', arguments: { customer_id: 42 } } })}\n`);
    input.end();
    expect(await running).toBe(0);
    expect(errors.join('\n')).toMatch(/relaying stdio to http:\/\/127\.0\.0\.1:\d+\/mcp/);
    const answers = lines.map(l => JSON.parse(l));
    expect(answers.map(a => a.id)).toEqual([1, 2]);
    expect(answers[0].result.protocolVersion).toBe('2025-11-25');
    expect(answers[1].result.structuredContent.row.name).toBe('Ada');
  });

  test('a stack without the output, or with several, says what to pass', async () => {
    cfn.on(DescribeStacksCommand).resolves({ Stacks: [{ StackName: 'S', CreationTime: new Date(), StackStatus: 'CREATE_COMPLETE', Outputs: [{ OutputKey: 'Other', OutputValue: 'x' }] }] });
    await expect(endpointFromStack(new CloudFormationClient({ region: 'us-east-1' }), 'S')).rejects.toThrow(/no MCP endpoint output .* its outputs are: Other\. Pass --output KEY or --url URL/);
    cfn.on(DescribeStacksCommand).resolves({ Stacks: [{ StackName: 'S', CreationTime: new Date(), StackStatus: 'CREATE_COMPLETE', Outputs: [
      { OutputKey: 'AMcpEndpointUrl', OutputValue: 'https://a' }, { OutputKey: 'BMcpEndpointUrl', OutputValue: 'https://b' },
    ] }] });
    await expect(endpointFromStack(new CloudFormationClient({ region: 'us-east-1' }), 'S')).rejects.toThrow(/several MCP endpoint outputs \(AMcpEndpointUrl, BMcpEndpointUrl\)\. Pass --output KEY/);
    expect(await endpointFromStack(new CloudFormationClient({ region: 'us-east-1' }), 'S', 'BMcpEndpointUrl')).toBe('https://b');
  });

  test('an unknown stack is a usage error (exit 2) naming the fix', async () => {
    cfn.on(DescribeStacksCommand).rejects(Object.assign(new Error('Stack with id Nope does not exist'), { name: 'ValidationError' }));
    const errors: string[] = [];
    const code = await main(['connect', '--stack', 'Nope'], {
      stdout: () => undefined, stderr: t => errors.push(t), env: {}, input: new PassThrough(), output: new PassThrough(),
      clients: { cloudformation: new CloudFormationClient({ region: 'us-east-1' }) } as any,
    } as ConnectCommandIo);
    expect(code).toBe(2);
    expect(errors.join('\n')).toMatch(/Stack 'Nope' does not exist .* Pass --stack NAME \(or --url\)/);
  });
});

describe('helpers', () => {
  test('the region comes from a function URL or API Gateway host', () => {
    expect(regionOfUrl(new URL('https://abcdefghijklmnopqrstuvwxyz012345.lambda-url.eu-west-1.on.aws/mcp'))).toBe('eu-west-1');
    expect(regionOfUrl(new URL('https://a1b2c3.execute-api.ap-southeast-2.amazonaws.com/mcp'))).toBe('ap-southeast-2');
    expect(regionOfUrl(new URL('http://127.0.0.1:8787/mcp'))).toBeUndefined();
  });

  test('answers are read from JSON bodies and from SSE streams', () => {
    expect(messagesOf('{"jsonrpc":"2.0","id":1,"result":{}}', 'application/json')).toEqual([{ jsonrpc: '2.0', id: 1, result: {} }]);
    expect(messagesOf('event: message\ndata: {"jsonrpc":"2.0","id":2,"result":{}}\n\n', 'text/event-stream')).toEqual([{ jsonrpc: '2.0', id: 2, result: {} }]);
    expect(messagesOf('', 'application/json')).toEqual([]);
  });
});
