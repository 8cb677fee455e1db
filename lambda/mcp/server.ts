// The MCP server core: registers the generated tools on a fresh McpServer per request and serves both protocol eras statelessly
// (2026-07-28 per-request envelopes and server/discover; 2025-11-25 initialize without sessions) from one factory.
import { randomUUID } from 'crypto';
import {
  createMcpHandler, isLegacyRequest, McpServer, WebStandardStreamableHTTPServerTransport, type AuthInfo, type McpHttpHandler,
  type ServerContext,
} from '@modelcontextprotocol/server';
import { PROTECTED_RESOURCE_PATH } from '../../contract/mcp-oauth';
import { LIST_SOURCES_TOOL, RECORD_DECISION_TOOL } from '../../contract/tool-names';
import { anonymousCaller, callerFromAuthInfo, callerToAuthInfo, type CallerIdentity } from './caller';
import type { McpServerDeps } from './context';
import { directEventCall, directToolCall, MAX_ARGUMENT_ELEMENTS, MAX_REQUEST_BYTES } from './direct-call';
import { errorKind } from './errors';
import { eventToRequest, responseToResult, type FunctionUrlEvent, type FunctionUrlResult } from './http-adapter';
import { calledTools, type OAuthResourceServer } from './oauth';
import { executeTool, schemasOf, toolTableOf } from './tool-table';
import type { ToolSpec } from './tools';

export const SERVER_VERSION = '0.1.0';
export { MAX_REQUEST_BYTES };

/**
 * Protocol revisions the server still negotiates (the SDK's SUPPORTED_PROTOCOL_VERSIONS) in which a server receives
 * JSON-RPC batches. Revision 2025-06-18 removed batching ("Remove support for JSON-RPC batching",
 * https://modelcontextprotocol.io/specification/2025-06-18/changelog); a request without an MCP-Protocol-Version header
 * is 2025-03-26 to the SDK's transport (DEFAULT_NEGOTIATED_PROTOCOL_VERSION), as the header exists only since 2025-06-18.
 */
const BATCH_REVISIONS: ReadonlySet<string> = new Set(['2024-10-07', '2024-11-05', '2025-03-26']);

/**
 * Bytes of JSON one batch's answers may take together: below Lambda's 6 MB synchronous (buffered function URL) response
 * limit with room for one more answer's overshoot checks and the headers. Each answer is bounded on its own
 * (`McpBounds.maxResultBytes`); without this a batch multiplies that bound by its length.
 */
export const MAX_BATCH_RESPONSE_BYTES = 4 * 1024 * 1024;

/**
 * Cache hints (MCP 2026-07-28, server/utilities/caching) for the results that carry them. The tool list and the
 * discover result change only when the stack is deployed again, and are the same for every caller: public, 5 minutes.
 * Tool results are not cacheable in the specification; each one states its own age and staleness instead.
 */
export const LIST_CACHE_HINT = { ttlMs: 300_000, cacheScope: 'public' as const };

/** The tool table of these deps, built once per container (exported for tests). */
export function specsFor(deps: McpServerDeps): ToolSpec[] {
  return toolTableOf(deps).specs;
}

/** An McpServer with every tool the views and stores call for. Create one per request (stateless). */
export function createMcpServer(deps: McpServerDeps): McpServer {
  const server = new McpServer(
    { name: deps.serverName ?? 'cdk-agent-data-stack', version: SERVER_VERSION },
    {
      // The tool set is fixed for a deployment: nothing to listen for (and a buffered function URL cannot hold a listen stream open).
      capabilities: { tools: { listChanged: false } },
      maxToolInputElements: MAX_ARGUMENT_ELEMENTS,
      cacheHints: { 'tools/list': LIST_CACHE_HINT, 'server/discover': LIST_CACHE_HINT },
      instructions: `Current data kept fresh from the source databases. Call ${LIST_SOURCES_TOOL} to see what exists; every answer states the source commit time, source position and age of what it returns, and marks it stale when it is older than the view allows.`
        + (deps.decisions ? ` Record decisions that rely on this data with ${RECORD_DECISION_TOOL}, citing the provenance you were given.` : ''),
    },
  );
  for (const spec of specsFor(deps)) {
    const schemas = schemasOf(spec);
    server.registerTool(spec.name, {
      title: spec.title,
      description: spec.description,
      inputSchema: schemas.input as any,
      // Checked once, in executeTool: the SDK gets the schema's JSON Schema and a pass-through validate.
      outputSchema: schemas.outputForSdk as any,
      annotations: { readOnlyHint: spec.readOnly, destructiveHint: false, idempotentHint: spec.readOnly, openWorldHint: false },
    }, (async (args: unknown, ctx: ServerContext) => {
      const { result, event } = await executeTool(spec, args, deps, callerFromAuthInfo(ctx.http?.authInfo));
      deps.observer?.onToolCall(event);
      return result;
    }) as any);
  }
  return server;
}

/** Static OAuth 2.0 protected-resource metadata (RFC 9728) for local runs; the deployed JWT mode uses `options.oauth`. */
export interface ProtectedResourceMetadata {
  /** The MCP endpoint URL clients call. */
  readonly resource: string;
  /** Issuer URLs of the authorization servers whose tokens the authorizer accepts. */
  readonly authorizationServers: string[];
  readonly scopesSupported?: string[];
}

export { PROTECTED_RESOURCE_PATH };

export interface HttpHandlerOptions {
  /** When set, `GET /.well-known/oauth-protected-resource` answers with it. */
  readonly protectedResource?: ProtectedResourceMetadata;
  /**
   * The OAuth resource server (JWT mode): serves its metadata and refuses a `tools/call` whose tool needs scopes the caller's
   * token lacks. Authenticating the request is the caller's job (`oauth.authenticate`, before the stores are touched).
   */
  readonly oauth?: OAuthResourceServer;
  /**
   * Send every request through the SDK, never the direct path of `direct-call.ts` (tests hold the two answers side by side).
   * @default false
   */
  readonly sdkOnly?: boolean;
}

const handlers = new WeakMap<McpServerDeps, McpHttpHandler>();

/**
 * One SDK handler per deps (per warm container) for 2026-07-28 traffic: it builds a fresh McpServer for each request.
 * 2025-era requests never reach it (see `serveLegacy`).
 */
function modernHandlerFor(deps: McpServerDeps): McpHttpHandler {
  let h = handlers.get(deps);
  if (!h) {
    h = createMcpHandler(() => createMcpServer(deps), {
      legacy: 'reject',
      responseMode: 'auto',
      maxRequestBodySize: MAX_REQUEST_BYTES,
      onerror: error => deps.observer?.onToolCall({
        tool: '(transport)', correlationId: randomUUID(), outcome: 'error', latencyMs: 0, resultBytes: 0, resultCount: 0, positions: [],
        errorKind: errorKind(error), errorDetail: error.message,
      }),
    });
    handlers.set(deps, h);
  }
  return h;
}

function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', ...headers } });
}

function jsonRpcError(status: number, code: number, message: string, headers: Record<string, string> = {}): Response {
  return json(status, { jsonrpc: '2.0', error: { code, message }, id: null }, headers);
}

/**
 * Serves one HTTP request: MCP over Streamable HTTP (POST, stateless, JSON responses) and, optionally,
 * the protected-resource metadata. Every path other than those answers 404, GET/DELETE on the MCP path 405.
 */
export async function handleHttpRequest(
  request: Request, deps: McpServerDeps, options: HttpHandlerOptions = {}, caller: CallerIdentity = anonymousCaller(),
): Promise<Response> {
  const url = new URL(request.url);
  const metadata = options.oauth?.metadataResponse(request);
  if (metadata) return metadata;
  if (url.pathname === PROTECTED_RESOURCE_PATH || url.pathname.startsWith(`${PROTECTED_RESOURCE_PATH}/`)) {
    if (!options.protectedResource || request.method !== 'GET') return json(404, { error: 'not_found' });
    const m = options.protectedResource;
    return json(200, {
      resource: m.resource,
      authorization_servers: m.authorizationServers,
      bearer_methods_supported: ['header'],
      ...(m.scopesSupported ? { scopes_supported: m.scopesSupported } : {}),
    }, { 'cache-control': 'max-age=300' });
  }
  if (url.pathname !== '/' && url.pathname !== '/mcp') return json(404, { error: 'not_found' });
  if (request.method !== 'POST') {
    // Stateless: there is no session to resume and no server-initiated stream to open.
    return jsonRpcError(405, -32000, 'Method not allowed: this MCP server is stateless and accepts POST only.', { allow: 'POST' });
  }
  const declared = Number(request.headers.get('content-length') ?? '0');
  if (declared > MAX_REQUEST_BYTES) return jsonRpcError(413, -32600, `Request body exceeds ${MAX_REQUEST_BYTES} bytes.`);

  const text = await request.text();
  if (Buffer.byteLength(text) > MAX_REQUEST_BYTES) return jsonRpcError(413, -32600, `Request body exceeds ${MAX_REQUEST_BYTES} bytes.`);
  let parsedBody: unknown;
  try {
    parsedBody = JSON.parse(text);
  } catch {
    return jsonRpcError(400, -32700, 'Parse error: the body is not JSON.');
  }
  if (parsedBody === null || typeof parsedBody !== 'object' || (Array.isArray(parsedBody) && parsedBody.length === 0)) {
    return jsonRpcError(400, -32600, 'Invalid Request: expected a JSON-RPC message object.');
  }

  let batchVersion: string | undefined;
  if (Array.isArray(parsedBody)) {
    // The header a 2025-06-18+ client must send on every request after initialize; absent, the SDK assumes 2025-03-26.
    batchVersion = request.headers.get('mcp-protocol-version')?.trim() || '2025-03-26';
    const modern = await Promise.all(parsedBody.map(m => isLegacyRequest(request, m, { maxRequestBodySize: MAX_REQUEST_BYTES }).then(legacy => !legacy, () => true)));
    if (!BATCH_REVISIONS.has(batchVersion) || modern.some(Boolean)) {
      return jsonRpcError(400, -32600, `Invalid Request: JSON-RPC batches are not part of MCP since revision 2025-06-18 (this request is ${modern.some(Boolean) ? 'a 2026-07-28 request' : `MCP-Protocol-Version ${batchVersion}`}); send each request on its own.`);
    }
    if (parsedBody.some(m => (m as { method?: unknown } | null)?.method === 'initialize')) {
      return jsonRpcError(400, -32600, 'Invalid Request: initialize must not be part of a JSON-RPC batch (MCP 2025-03-26, lifecycle); send it on its own.');
    }
  }

  if (options.oauth) {
    for (const tool of calledTools(parsedBody)) {
      const refusal = options.oauth.toolScopeChallenge(tool, caller);
      if (refusal) return refusal;
    }
  }

  const authInfo = callerToAuthInfo(caller);
  try {
    if (Array.isArray(parsedBody)) return await serveBatch(request, parsedBody, deps, authInfo);
    const direct = options.sdkOnly ? undefined : await directToolCall(name => request.headers.get(name), parsedBody, deps, caller);
    if (direct) return new Response(direct.body, { status: direct.status, headers: direct.headers });
    // The SDK's own era classification: a request carrying the 2026-07-28 `_meta` envelope is modern, anything else is 2025-era.
    if (await isLegacyRequest(request, parsedBody, { maxRequestBodySize: MAX_REQUEST_BYTES })) return await serveLegacy(request, parsedBody, deps, authInfo);
    return await modernHandlerFor(deps).fetch(request, { parsedBody, authInfo });
  } catch (error) {
    deps.observer?.onToolCall({
      tool: '(transport)', correlationId: randomUUID(), outcome: 'error', latencyMs: 0, resultBytes: 0, resultCount: 0, positions: [],
      errorKind: errorKind(error), errorDetail: error instanceof Error ? error.message : String(error),
    });
    return jsonRpcError(500, -32603, 'Internal error.');
  }
}

/**
 * A 2025-era request (initialize, tools/list, tools/call without the per-request envelope): the same server factory over the
 * stateless Streamable HTTP transport with JSON responses (the SDK's built-in legacy fallback answers with SSE streams).
 */
async function serveLegacy(request: Request, parsedBody: unknown, deps: McpServerDeps, authInfo: AuthInfo): Promise<Response> {
  const server = createMcpServer(deps);
  const transport = new WebStandardStreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
  try {
    await server.connect(transport);
    return await transport.handleRequest(request, { parsedBody, authInfo });
  } finally {
    await server.close().catch(() => undefined);
  }
}

/**
 * A batch of a revision that has them (2024-11-05, 2025-03-26): each message is served on its own, in order, by the same
 * stateless legacy path, and answers are collected while they fit in MAX_BATCH_RESPONSE_BYTES together. The request
 * whose answer would pass it, and every request after it (which is then not run), gets a JSON-RPC error saying so.
 */
async function serveBatch(request: Request, messages: unknown[], deps: McpServerDeps, authInfo: AuthInfo): Promise<Response> {
  const answers: string[] = [];
  let bytes = 2; // the array's brackets
  let full = false;
  for (const message of messages) {
    const id = (message as { id?: unknown } | null)?.id;
    const isRequest = message !== null && typeof message === 'object' && 'method' in message && id !== undefined;
    if (full) {
      if (isRequest) answers.push(JSON.stringify({ jsonrpc: '2.0', id, error: { code: -32000, message: batchFullMessage() } }));
      continue;
    }
    const response = await serveLegacy(request, message, deps, authInfo);
    const text = await response.text();
    if (!text) continue; // a notification or a response: no answer
    const size = Buffer.byteLength(text) + (answers.length > 0 ? 1 : 0);
    if (bytes + size > MAX_BATCH_RESPONSE_BYTES) {
      full = true;
      answers.push(JSON.stringify({ jsonrpc: '2.0', id: id ?? null, error: { code: -32000, message: batchFullMessage() } }));
      continue;
    }
    bytes += size;
    answers.push(text);
  }
  if (answers.length === 0) return new Response(null, { status: 202 });
  return new Response(`[${answers.join(',')}]`, { status: 200, headers: { 'content-type': 'application/json' } });
}

function batchFullMessage(): string {
  return `Not answered: this JSON-RPC batch's answers reached ${MAX_BATCH_RESPONSE_BYTES} bytes, the most one response carries (Lambda's synchronous response limit is 6 MB); send this request again on its own.`;
}

/**
 * Serves one function URL event, as the Lambda shell does: a warm `tools/call` the direct path recognises is answered from
 * the event itself; everything else (and JWT mode, which authenticates a Web Request first) goes through `handleHttpRequest`.
 */
export async function serveFunctionUrlEvent(
  event: FunctionUrlEvent, deps: McpServerDeps, options: HttpHandlerOptions = {}, caller: CallerIdentity = anonymousCaller(), request?: Request,
): Promise<FunctionUrlResult> {
  const tryDirect = !(request || options.oauth || options.sdkOnly);
  const direct = tryDirect ? await directEventCall(event, deps, caller) : undefined;
  if (direct) return { statusCode: direct.status, headers: direct.headers, body: direct.body, isBase64Encoded: false };
  // The direct path has already declined this event (before running any tool): handleHttpRequest need not try it again.
  return responseToResult(await handleHttpRequest(request ?? eventToRequest(event), deps, tryDirect ? { ...options, sdkOnly: true } : options, caller));
}
