// `agent-data-stack connect`: a local stdio MCP server that relays every JSON-RPC message to the deployed endpoint as a
// SigV4-signed HTTP POST (default AWS credential chain), so any stdio MCP client can reach an IAM-authenticated function URL.
import { Sha256 } from '@aws-crypto/sha256-js';
import type { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@smithy/types';
import * as readline from 'readline';
import type { Readable, Writable } from 'stream';

/** Output of the stack holding the MCP endpoint URL (`AgentDataPlatform` names it `McpEndpointUrl`, prefixed when nested). */
export const MCP_URL_OUTPUT = /McpEndpointUrl/;

export class ConnectError extends Error {}

/** The MCP endpoint URL from a stack's outputs: the one output whose key contains `McpEndpointUrl`, or the one named by `outputKey`. */
export async function endpointFromStack(cfn: CloudFormationClient, stackName: string, outputKey?: string): Promise<string> {
  const { DescribeStacksCommand } = await import('@aws-sdk/client-cloudformation');
  let outputs;
  try {
    outputs = (await cfn.send(new DescribeStacksCommand({ StackName: stackName }))).Stacks?.[0]?.Outputs ?? [];
  } catch (e) {
    if (/does not exist/.test(String((e as Error).message))) {
      throw new ConnectError(`Stack '${stackName}' does not exist in this account and region. Pass --stack NAME (or --url), or set AWS_REGION / AWS_PROFILE to where it is deployed.`);
    }
    throw e;
  }
  const candidates = outputs.filter(o => (outputKey ? o.OutputKey === outputKey : MCP_URL_OUTPUT.test(o.OutputKey ?? '')) && o.OutputValue);
  if (candidates.length === 1) return candidates[0].OutputValue!;
  const keys = outputs.map(o => o.OutputKey).join(', ') || 'none';
  if (candidates.length === 0) {
    throw new ConnectError(`Stack '${stackName}' has no ${outputKey ? `output '${outputKey}'` : 'MCP endpoint output (a key containing McpEndpointUrl)'}; its outputs are: ${keys}. Pass --output KEY or --url URL.`);
  }
  throw new ConnectError(`Stack '${stackName}' has several MCP endpoint outputs (${candidates.map(o => o.OutputKey).join(', ')}). Pass --output KEY to choose one.`);
}

/** The region a function URL (`<id>.lambda-url.<region>.on.aws`) or API Gateway URL lives in. */
export function regionOfUrl(url: URL): string | undefined {
  return /\.lambda-url\.([a-z0-9-]+)\.on\.aws$/.exec(url.hostname)?.[1] ?? /\.execute-api\.([a-z0-9-]+)\.amazonaws\.com$/.exec(url.hostname)?.[1];
}

export interface ProxyOptions {
  readonly url: URL;
  readonly region: string;
  readonly credentials: AwsCredentialIdentity | AwsCredentialIdentityProvider;
  /** SigV4 service name. @default 'lambda' (function URLs with AWS_IAM auth) */
  readonly service?: string;
  readonly input: Readable;
  readonly output: Writable;
  /** Diagnostics (never stdout: stdout carries the protocol). */
  readonly log: (line: string) => void;
  /** @default globalThis.fetch */
  readonly fetch?: typeof fetch;
  /** Per-request timeout. @default 60000 */
  readonly timeoutMs?: number;
}

const PROTOCOL_VERSION_META_KEY = 'io.modelcontextprotocol/protocolVersion';
const NAME_SOURCE: Record<string, string> = { 'tools/call': 'name', 'prompts/get': 'name', 'resources/read': 'uri' };

interface JsonRpcMessage {
  jsonrpc?: string;
  id?: string | number | null;
  method?: string;
  params?: Record<string, any>;
  result?: Record<string, any>;
  error?: unknown;
}

/** `Mcp-Name` values outside printable ASCII travel base64-wrapped (Streamable HTTP, 2026-07-28). */
function headerValue(s: string): string {
  const plain = s.length > 0 && s === s.trim() && /^[\t\x20-\x7e]*$/.test(s) && !(s.startsWith('=?base64?') && s.endsWith('?='));
  return plain ? s : `=?base64?${Buffer.from(s, 'utf8').toString('base64')}?=`;
}

/**
 * Relays newline-delimited JSON-RPC from `input` to the endpoint and the answers back to `output`, one POST per message,
 * in order. Stateless on both sides: it keeps only the protocol version a 2025-era `initialize` negotiated, to send it as
 * `MCP-Protocol-Version` on the requests that follow (2026-07-28 requests carry theirs in `_meta`). Resolves when input ends.
 */
export async function runProxy(o: ProxyOptions): Promise<void> {
  const signer = new SignatureV4({ service: o.service ?? 'lambda', region: o.region, credentials: o.credentials, sha256: Sha256 });
  const doFetch = o.fetch ?? fetch;
  let negotiated: string | undefined;
  const write = (message: unknown) => o.output.write(`${JSON.stringify(message)}\n`);

  const send = async (line: string): Promise<void> => {
    let message: JsonRpcMessage;
    try {
      message = JSON.parse(line);
    } catch {
      write({ jsonrpc: '2.0', id: null, error: { code: -32700, message: 'Parse error: a line on stdin is not JSON.' } });
      return;
    }
    const isRequest = typeof message.method === 'string' && message.id !== undefined && message.id !== null;
    const headers: Record<string, string> = {
      'host': o.url.host,
      'content-type': 'application/json',
      'accept': 'application/json, text/event-stream',
    };
    const envelope = message.params?._meta?.[PROTOCOL_VERSION_META_KEY];
    if (typeof envelope === 'string' && typeof message.method === 'string') {
      headers['mcp-protocol-version'] = envelope;
      headers['mcp-method'] = message.method;
      const name = message.params?.[NAME_SOURCE[message.method]];
      if (typeof name === 'string') headers['mcp-name'] = headerValue(name);
    } else if (negotiated) {
      headers['mcp-protocol-version'] = negotiated;
    }
    const request = new HttpRequest({
      method: 'POST', protocol: o.url.protocol, hostname: o.url.hostname, port: o.url.port ? Number(o.url.port) : undefined,
      path: o.url.pathname, headers, body: line,
    });
    let response: Response;
    try {
      const signed = await signer.sign(request);
      // fetch sets Host from the URL itself (the same value that was signed).
      const { host: _host, ...sent } = signed.headers as Record<string, string>;
      response = await doFetch(o.url, { method: 'POST', headers: sent, body: line, signal: AbortSignal.timeout(o.timeoutMs ?? 60_000) });
    } catch (e) {
      o.log(`agent-data-stack connect: ${describeFailure(e)}`);
      if (isRequest) write({ jsonrpc: '2.0', id: message.id, error: { code: -32000, message: `The MCP endpoint could not be reached: ${describeFailure(e)}` } });
      return;
    }
    const text = await response.text();
    if (!response.ok && response.status !== 202) {
      const parsed = parseJson(text) as JsonRpcMessage | undefined;
      if (parsed?.jsonrpc === '2.0' && parsed.error) {
        // The MCP server's own JSON-RPC error (bad version, too large): pass it through under the request's id.
        if (isRequest) write({ ...parsed, id: message.id });
        return;
      }
      const hint = response.status === 403 || response.status === 401
        ? ' Check that your AWS identity may call the function URL (lambda:InvokeFunctionUrl, e.g. AgentMcpServer.grantInvokeUrl) and that the region is right.'
        : '';
      const detail = `HTTP ${response.status}${text ? `: ${text.slice(0, 300)}` : ''}`;
      o.log(`agent-data-stack connect: ${message.method ?? 'message'} refused (${detail}).${hint}`);
      if (isRequest) write({ jsonrpc: '2.0', id: message.id, error: { code: -32000, message: `The MCP endpoint refused the request (${detail}).${hint}` } });
      return;
    }
    for (const answer of messagesOf(text, response.headers.get('content-type') ?? '')) {
      if (message.method === 'initialize' && typeof (answer as JsonRpcMessage).result?.protocolVersion === 'string') {
        negotiated = (answer as JsonRpcMessage).result!.protocolVersion;
      }
      write(answer);
    }
  };

  const lines = readline.createInterface({ input: o.input, crlfDelay: Infinity });
  // One at a time, in order: a client may send a notification right after a request and expects them applied in that order.
  let chain = Promise.resolve();
  for await (const line of lines) {
    if (!line.trim()) continue;
    chain = chain.then(() => send(line));
  }
  await chain;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** The JSON-RPC messages in a response body: one JSON object (or batch), or the `data:` events of an SSE stream. */
export function messagesOf(body: string, contentType: string): unknown[] {
  if (!body.trim()) return [];
  if (/text\/event-stream/.test(contentType)) {
    const out: unknown[] = [];
    for (const event of body.split(/\r?\n\r?\n/)) {
      const data = event.split(/\r?\n/).filter(l => l.startsWith('data:')).map(l => l.slice(5).replace(/^ /, '')).join('\n');
      const parsed = data ? parseJson(data) : undefined;
      if (parsed !== undefined) out.push(parsed);
    }
    return out;
  }
  const parsed = parseJson(body);
  return parsed === undefined ? [] : Array.isArray(parsed) ? parsed : [parsed];
}

function describeFailure(e: unknown): string {
  const err = e as { name?: string; message?: string; cause?: { code?: string } };
  if (err?.name === 'TimeoutError') return 'the request timed out';
  return `${err?.name ?? 'Error'}: ${err?.cause?.code ?? err?.message ?? String(e)}`;
}
