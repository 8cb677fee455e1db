// The warm path of a 2025-era `tools/call` of a read-only tool, answered from the container's tool table without an McpServer,
// a transport or Web Request/Response objects per call; byte for byte the answer the SDK path gives (test/mcp/direct-call.test.ts
// holds them side by side). Everything it does not recognise, and every refusal before the tool runs, goes to the SDK path instead;
// once the tool has run the direct path answers, also when the output does not validate (with the SDK's own tool error).
import { isJsonContentType, SUPPORTED_PROTOCOL_VERSIONS, type CallToolResult } from '@modelcontextprotocol/server';
import type { CallerIdentity } from './caller';
import type { McpServerDeps } from './context';
import type { FunctionUrlEvent } from './http-adapter';
import { executeTool, schemasOf, toolTableOf, validated } from './tool-table';

/** Upper bound on the elements (array items and object members) of one tool call's arguments (the SDK's `maxToolInputElements`). */
export const MAX_ARGUMENT_ELEMENTS = 2000;
/** Upper bound on a request body. */
export const MAX_REQUEST_BYTES = 1024 * 1024;

/** An HTTP answer of the direct path. */
export interface DirectAnswer {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: string;
}

type HeaderOf = (name: string) => string | null | undefined;

const CALL_PARAMS = new Set(['name', 'arguments']);

interface EligibleCall { readonly id: string | number; readonly name: string; readonly args: unknown }

/**
 * The call when this request is one the direct path answers exactly as the SDK's stateless 2025-era transport would: a single
 * JSON-RPC request for `tools/call` with only `name` and `arguments`, no 2026-07-28 envelope (`_meta`), no session, headers the
 * transport accepts and a protocol-version header (if any) it serves.
 */
function eligibleCall(header: HeaderOf, message: unknown): EligibleCall | undefined {
  if (message === null || typeof message !== 'object' || Array.isArray(message)) return undefined;
  const m = message as Record<string, unknown>;
  if (m.jsonrpc !== '2.0' || m.method !== 'tools/call') return undefined;
  const id = m.id;
  if (!(typeof id === 'string' || (typeof id === 'number' && Number.isInteger(id)))) return undefined;
  for (const key in m) if (key !== 'jsonrpc' && key !== 'id' && key !== 'method' && key !== 'params') return undefined;
  const params = m.params as Record<string, unknown> | undefined;
  if (params === null || typeof params !== 'object' || Array.isArray(params)) return undefined;
  for (const key in params) if (!CALL_PARAMS.has(key)) return undefined;
  if (typeof params.name !== 'string') return undefined;
  const args = params.arguments;
  if (args !== undefined && (args === null || typeof args !== 'object' || Array.isArray(args))) return undefined;

  const accept = header('accept');
  if (!accept?.includes('application/json') || !accept.includes('text/event-stream')) return undefined;
  if (!isJsonContentType(header('content-type') ?? '')) return undefined;
  if (header('mcp-session-id') != null) return undefined;
  const version = header('mcp-protocol-version');
  if (version != null && !SUPPORTED_PROTOCOL_VERSIONS.includes(version.trim())) return undefined;
  return { id, name: params.name, args };
}

/** The SDK's element count of tool arguments, stopping past `max`. */
function elementCount(value: unknown, max: number): number {
  let count = 0;
  const stack = [value];
  while (stack.length > 0) {
    const node = stack.pop();
    if (node === null || typeof node !== 'object') continue;
    const children = Array.isArray(node) ? node : Object.values(node as Record<string, unknown>);
    for (const child of children) {
      if (++count > max) return count;
      if (child !== null && typeof child === 'object') stack.push(child);
    }
  }
  return count;
}

/**
 * Answers a parsed request body directly, or returns undefined for the SDK path. Only read-only tools. Every case that returns
 * undefined does so before the tool runs; once it has run this answers, and output that does not validate gets the SDK path's
 * answer (a tool error result), so one request never runs its tool, and reads the stores, more than once.
 */
export async function directToolCall(header: HeaderOf, message: unknown, deps: McpServerDeps, caller: CallerIdentity): Promise<DirectAnswer | undefined> {
  const call = eligibleCall(header, message);
  if (!call) return undefined;
  const spec = toolTableOf(deps).byName.get(call.name);
  if (!spec?.readOnly) return undefined;
  if (elementCount(call.args, MAX_ARGUMENT_ELEMENTS) > MAX_ARGUMENT_ELEMENTS) return undefined;
  const schemas = schemasOf(spec);
  const input = await validated(schemas.input, call.args ?? {});
  if (input.issues) return undefined;
  // executeTool validates the output too: output that does not validate comes back as the SDK's tool error, counted as an error.
  const { result, event } = await executeTool(spec, input.value, deps, caller);
  deps.observer?.onToolCall(event);
  return { status: 200, headers: { 'content-type': 'application/json' }, body: responseBody(result, call.id) };
}

/**
 * The JSON-RPC response as the SDK serialises it (`{"result":...,"jsonrpc":"2.0","id":...}`). A successful result's text block
 * is `JSON.stringify(structuredContent)` (tool-table.ts), so that text is reused as the structured content's serialisation
 * rather than serialising the rows a second time.
 */
function responseBody(result: CallToolResult, id: string | number): string {
  const text = (result.content[0] as { text?: string } | undefined)?.text;
  if (result.isError || result.content.length !== 1 || typeof text !== 'string' || Object.keys(result).length !== 2) {
    return JSON.stringify({ result, jsonrpc: '2.0', id });
  }
  return `{"result":{"content":[{"type":"text","text":${JSON.stringify(text)}}],"structuredContent":${text}},"jsonrpc":"2.0","id":${JSON.stringify(id)}}`;
}

/** A function URL event's header, by lower-case name (Lambda delivers lower-case names; others are looked up case-insensitively). */
function eventHeaders(event: FunctionUrlEvent): HeaderOf {
  const headers = event.headers ?? {};
  return name => {
    const direct = headers[name];
    if (direct !== undefined) return direct;
    for (const key in headers) if (key.toLowerCase() === name) return headers[key];
    return undefined;
  };
}

/** The direct answer to a function URL event, or undefined when the event needs the full HTTP handler. */
export async function directEventCall(event: FunctionUrlEvent, deps: McpServerDeps, caller: CallerIdentity): Promise<DirectAnswer | undefined> {
  if (event.requestContext?.http?.method !== 'POST') return undefined;
  const path = event.rawPath || '/';
  if ((path !== '/mcp' && path !== '/') || typeof event.body !== 'string') return undefined;
  const text = event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString('utf8') : event.body;
  if (text.length > MAX_REQUEST_BYTES / 4 && Buffer.byteLength(text) > MAX_REQUEST_BYTES) return undefined;
  let message: unknown;
  try {
    message = JSON.parse(text);
  } catch {
    return undefined;
  }
  return directToolCall(eventHeaders(event), message, deps, caller);
}
