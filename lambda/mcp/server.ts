// The MCP server core: registers the generated tools on a fresh McpServer and serves one Streamable HTTP request statelessly.
import { randomUUID } from 'crypto';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { WebStandardStreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { LineageCatalog } from '../shared/lineage';
import type { McpServerDeps, ServedPosition } from './context';
import { agentMessage, errorKind } from './errors';
import { buildToolSpecs, ToolSpec } from './tools';

export const SERVER_VERSION = '0.1.0';

/** Upper bound on the elements (array items and object members) of one tool call's arguments. */
const MAX_ARGUMENT_ELEMENTS = 2000;
/** Upper bound on a request body. */
export const MAX_REQUEST_BYTES = 1024 * 1024;
/** At most this many served positions are logged per call. */
const MAX_LOGGED_POSITIONS = 100;

const specCache = new WeakMap<object, ToolSpec[]>();
const shapeOf = new WeakMap<ToolSpec[], string>();

function specsFor(deps: McpServerDeps): ToolSpec[] {
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

/** An McpServer with every tool the views and stores call for. Create one per request (stateless). */
export function createMcpServer(deps: McpServerDeps): McpServer {
  const server = new McpServer(
    { name: deps.serverName ?? 'cdk-agent-data-stack', version: SERVER_VERSION },
    {
      capabilities: { tools: {} },
      maxToolInputElements: MAX_ARGUMENT_ELEMENTS,
      instructions: 'Current data kept fresh from the source databases. Call list_sources to see what exists; every answer carries provenance and age (ageMs) so you can tell stale data from fresh.'
        + (deps.decisions ? ' Record decisions that rely on this data with record_decision, citing the provenance you were given.' : ''),
    },
  );
  const catalog = catalogLoader(deps);
  for (const spec of specsFor(deps)) {
    server.registerTool(spec.name, {
      title: spec.title,
      description: spec.description,
      inputSchema: spec.inputSchema,
      outputSchema: spec.outputSchema,
      annotations: { readOnlyHint: spec.readOnly, destructiveHint: false, idempotentHint: spec.readOnly, openWorldHint: false },
    }, (async (args: unknown) => runTool(spec, args, deps, catalog)) as any);
  }
  return server;
}

async function runTool(
  spec: ToolSpec, args: unknown, deps: McpServerDeps, catalog: () => Promise<LineageCatalog | undefined>,
): Promise<CallToolResult> {
  const correlationId = randomUUID();
  const started = performance.now();
  try {
    const answer = await spec.run(args, deps, catalog);
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

/** OAuth 2.0 protected-resource metadata (RFC 9728) served when the endpoint sits behind a JWT authorizer. */
export interface ProtectedResourceMetadata {
  /** The MCP endpoint URL clients call. */
  readonly resource: string;
  /** Issuer URLs of the authorization servers whose tokens the authorizer accepts. */
  readonly authorizationServers: string[];
  readonly scopesSupported?: string[];
}

export const PROTECTED_RESOURCE_PATH = '/.well-known/oauth-protected-resource';

export interface HttpHandlerOptions {
  /** When set, `GET /.well-known/oauth-protected-resource` answers with it. */
  readonly protectedResource?: ProtectedResourceMetadata;
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
export async function handleHttpRequest(request: Request, deps: McpServerDeps, options: HttpHandlerOptions = {}): Promise<Response> {
  const url = new URL(request.url);
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

  const server = createMcpServer(deps);
  const transport = new WebStandardStreamableHTTPServerTransport({
    sessionIdGenerator: undefined,
    enableJsonResponse: true,
    maxRequestBodySize: MAX_REQUEST_BYTES,
  });
  try {
    await server.connect(transport);
    return await transport.handleRequest(request, { parsedBody });
  } catch (error) {
    deps.observer?.onToolCall({
      tool: '(transport)', correlationId: randomUUID(), outcome: 'error', latencyMs: 0, resultBytes: 0, resultCount: 0, positions: [],
      errorKind: errorKind(error), errorDetail: error instanceof Error ? error.message : String(error),
    });
    return jsonRpcError(500, -32603, 'Internal error.');
  } finally {
    await server.close().catch(() => undefined);
  }
}
