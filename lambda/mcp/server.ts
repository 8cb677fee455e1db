// The MCP server core: registers the generated tools on a fresh McpServer per request and serves both protocol eras statelessly
// (2026-07-28 per-request envelopes and server/discover; 2025-11-25 initialize without sessions) from one factory.
import { randomUUID } from 'crypto';
import {
  createMcpHandler, isLegacyRequest, McpServer, WebStandardStreamableHTTPServerTransport, type AuthInfo, type CallToolResult, type McpHttpHandler,
  type ServerContext,
} from '@modelcontextprotocol/server';
import type { LineageCatalog } from '../../contract/lineage';
import { PROTECTED_RESOURCE_PATH } from '../../contract/mcp-oauth';
import { agentInputSchema } from './arguments';
import { anonymousCaller, callerFromAuthInfo, callerToAuthInfo, type CallerIdentity } from './caller';
import type { McpServerDeps, ServedPosition } from './context';
import { agentMessage, errorKind } from './errors';
import { calledTools, type OAuthResourceServer } from './oauth';
import { buildToolSpecs, ToolSpec } from './tools';

export const SERVER_VERSION = '0.1.0';

/** Upper bound on the elements (array items and object members) of one tool call's arguments. */
const MAX_ARGUMENT_ELEMENTS = 2000;
/** Upper bound on a request body. */
export const MAX_REQUEST_BYTES = 1024 * 1024;
/** At most this many served positions are logged per call. */
const MAX_LOGGED_POSITIONS = 100;

/**
 * Cache hints (MCP 2026-07-28, server/utilities/caching) for the results that carry them. The tool list and the
 * discover result change only when the stack is deployed again, and are the same for every caller: public, 5 minutes.
 * Tool results are not cacheable in the specification; each one states its own age and staleness instead.
 */
export const LIST_CACHE_HINT = { ttlMs: 300_000, cacheScope: 'public' as const };

const specCache = new WeakMap<object, ToolSpec[]>();
const shapeOf = new WeakMap<ToolSpec[], string>();

/** The tool table of these deps, built once per container (exported for tests). */
export function specsFor(deps: McpServerDeps): ToolSpec[] {
  // Tool schemas depend only on the views and on whether a decision store exists: build them once per warm container.
  const cacheKey = deps.views as object;
  const cached = specCache.get(cacheKey);
  const shape = `${!!deps.decisions}|${!!deps.embeddings}`;
  if (cached && shapeOf.get(cached) === shape) return cached;
  const specs = buildToolSpecs(deps);
  specCache.set(cacheKey, specs);
  shapeOf.set(specs, shape);
  return specs;
}

function catalogLoader(deps: McpServerDeps): () => Promise<LineageCatalog | undefined> {
  let loaded: Promise<LineageCatalog | undefined> | undefined;
  return () => {
    if (typeof deps.catalog !== 'function') return Promise.resolve(deps.catalog);
    loaded ??= deps.catalog();
    return loaded;
  };
}

type StandardJsonSchema = { '~standard': { jsonSchema?: Record<'input' | 'output', (options: { target?: string }) => unknown> } };

/**
 * The schema with its JSON Schema conversion memoised. The SDK converts a tool's schemas to JSON Schema per McpServer (on
 * `tools/list`, and for the output schema on every `tools/call`); with a server per request that was a third of a warm
 * lookup's CPU. The schemas never change in a container, so the conversion runs once per schema and target.
 */
function withCachedJsonSchema<T extends object>(schema: T): T {
  const std = (schema as unknown as StandardJsonSchema)['~standard'];
  const convert = std.jsonSchema;
  if (!convert) return schema;
  const memo = new Map<string, unknown>();
  const cached = (io: 'input' | 'output') => (options: { target?: string }) => {
    const key = `${io}|${options?.target ?? ''}`;
    if (!memo.has(key)) memo.set(key, convert[io](options));
    return memo.get(key);
  };
  return { '~standard': { ...std, jsonSchema: { input: cached('input'), output: cached('output') } } } as unknown as T;
}

const toolSchemas = new WeakMap<ToolSpec, { input: unknown; output: unknown }>();

/** The tool's input (agent-readable errors) and output schemas, wrapped once per spec, that is once per container. */
function schemasOf(spec: ToolSpec): { input: unknown; output: unknown } {
  let s = toolSchemas.get(spec);
  if (!s) {
    s = { input: withCachedJsonSchema(agentInputSchema(spec.inputSchema)), output: spec.outputSchema && withCachedJsonSchema(spec.outputSchema) };
    toolSchemas.set(spec, s);
  }
  return s;
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
      instructions: 'Current data kept fresh from the source databases. Call list_sources to see what exists; every answer states the source commit time, source position and age of what it returns, and marks it stale when it is older than the view allows.'
        + (deps.decisions ? ' Record decisions that rely on this data with record_decision, citing the provenance you were given.' : ''),
    },
  );
  const catalog = catalogLoader(deps);
  for (const spec of specsFor(deps)) {
    const schemas = schemasOf(spec);
    server.registerTool(spec.name, {
      title: spec.title,
      description: spec.description,
      inputSchema: schemas.input as any,
      outputSchema: schemas.output as any,
      annotations: { readOnlyHint: spec.readOnly, destructiveHint: false, idempotentHint: spec.readOnly, openWorldHint: false },
    }, (async (args: unknown, ctx: ServerContext) => runTool(spec, args, deps, catalog, callerFromAuthInfo(ctx.http?.authInfo))) as any);
  }
  return server;
}

async function runTool(
  spec: ToolSpec, args: unknown, deps: McpServerDeps, catalog: () => Promise<LineageCatalog | undefined>, caller: CallerIdentity,
): Promise<CallToolResult> {
  const correlationId = randomUUID();
  const started = performance.now();
  try {
    const answer = await spec.run(args, deps, catalog, caller);
    const text = JSON.stringify(answer.structured);
    deps.observer?.onToolCall({
      tool: spec.name, correlationId, outcome: 'ok', latencyMs: performance.now() - started,
      resultBytes: Buffer.byteLength(text), resultCount: answer.count, positions: cap(answer.positions),
    });
    return { content: [{ type: 'text', text }], structuredContent: answer.structured };
  } catch (error) {
    const message = agentMessage(error, correlationId);
    deps.observer?.onToolCall({
      tool: spec.name, correlationId, outcome: 'error', latencyMs: performance.now() - started, resultBytes: 0, resultCount: 0,
      positions: [], errorKind: errorKind(error), errorDetail: errorDetail(error),
    });
    return { content: [{ type: 'text', text: message }], isError: true };
  }
}

/** The internal description of an error, for the log only: the message plus a store's response body, bounded. */
function errorDetail(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const body = (error as { meta?: { body?: unknown } })?.meta?.body;
  const detail = body === undefined ? message : `${message}: ${typeof body === 'string' ? body : JSON.stringify(body)}`;
  return detail.slice(0, 2000);
}

function cap(positions: readonly ServedPosition[]): readonly ServedPosition[] {
  return positions.length > MAX_LOGGED_POSITIONS ? positions.slice(0, MAX_LOGGED_POSITIONS) : positions;
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

  if (options.oauth) {
    for (const tool of calledTools(parsedBody)) {
      const refusal = options.oauth.toolScopeChallenge(tool, caller);
      if (refusal) return refusal;
    }
  }

  const authInfo = callerToAuthInfo(caller);
  try {
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
