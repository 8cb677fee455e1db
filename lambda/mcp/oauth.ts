// The MCP endpoint as an OAuth 2.1 resource server (MCP authorization specification): RFC 9728 metadata at the well-known paths,
// bearer tokens verified before anything else runs, 401/403 with a WWW-Authenticate challenge naming the metadata and the scopes.
import {
  MCP_OAUTH_ENV, PROTECTED_RESOURCE_PATH, protectedResourceMetadataUrl, supportedScopes, type McpOAuthConfig,
} from '../../contract/mcp-oauth';
import { scalarClaims, type CallerIdentity } from './caller';
import { JwtVerifier, TokenError, type JwtVerifierOptions } from './jwt';

/** RFC 6750 section 3 quoted-string: backslash and quote escaped, nothing outside printable ASCII. */
function quoted(value: string): string {
  return `"${value.replace(/[\\"]/g, '\\$&').replace(/[^\x20-\x7e]/g, ' ')}"`;
}

/** The body of every refusal: the OAuth error and its description, nothing about the server behind it. */
function challenge(status: 401 | 403, error: string | undefined, description: string | undefined, scopes: string[], metadataUrl: string): Response {
  const params = [
    ...(error ? [`error=${quoted(error)}`] : []),
    ...(description ? [`error_description=${quoted(description)}`] : []),
    ...(scopes.length ? [`scope=${quoted(scopes.join(' '))}`] : []),
    `resource_metadata=${quoted(metadataUrl)}`,
  ];
  const body = error ? { error, ...(description ? { error_description: description } : {}) } : { error: 'unauthorized', error_description: 'A bearer token is required.' };
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/json', 'www-authenticate': `Bearer ${params.join(', ')}`, 'cache-control': 'no-store' },
  });
}

export class OAuthResourceServer {
  /** Where clients read the RFC 9728 document (the path-suffixed form for the `/mcp` resource). */
  public readonly metadataUrl: string;
  private readonly verifier: JwtVerifier;
  private readonly document: string;

  constructor(private readonly config: McpOAuthConfig, verifierOptions: Partial<JwtVerifierOptions> = {}) {
    this.metadataUrl = protectedResourceMetadataUrl(config.resource);
    this.verifier = new JwtVerifier({ issuer: config.issuer, audience: config.audience, jwksUri: config.jwksUri, ...verifierOptions });
    const scopes = supportedScopes(config);
    // Exactly the RFC 9728 fields a client needs: nothing about views, stores or versions is public.
    this.document = JSON.stringify({
      resource: config.resource,
      authorization_servers: [config.issuer],
      ...(scopes.length ? { scopes_supported: scopes } : {}),
      bearer_methods_supported: ['header'],
    });
  }

  /** The metadata answer for a well-known path, or undefined for any other path. */
  metadataResponse(request: Request): Response | undefined {
    const path = new URL(request.url).pathname;
    if (path !== PROTECTED_RESOURCE_PATH && !path.startsWith(`${PROTECTED_RESOURCE_PATH}/`)) return undefined;
    const resourcePath = new URL(this.config.resource).pathname.replace(/\/$/, '');
    // The root document and the one suffixed with the resource's own path (MCP authorization, "Protected Resource Metadata Discovery").
    if (path !== PROTECTED_RESOURCE_PATH && path !== `${PROTECTED_RESOURCE_PATH}${resourcePath}`) {
      return new Response('{"error":"not_found"}', { status: 404, headers: { 'content-type': 'application/json' } });
    }
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      return new Response('{"error":"method_not_allowed"}', { status: 405, headers: { 'content-type': 'application/json', allow: 'GET' } });
    }
    return new Response(this.document, { status: 200, headers: { 'content-type': 'application/json', 'cache-control': 'max-age=300' } });
  }

  /**
   * Serves the metadata, or authenticates the request: the verified caller, or the refusal to send (401 without or with a bad
   * token, 403 when the token lacks the server's scopes, 503 when the issuer's keys cannot be fetched).
   */
  async authenticate(request: Request): Promise<Response | CallerIdentity> {
    const metadata = this.metadataResponse(request);
    if (metadata) return metadata;
    const required = this.config.scopes ?? [];
    const header = request.headers.get('authorization');
    // RFC 6750 section 3.1: a request without credentials gets the challenge and no error code.
    if (!header) return challenge(401, undefined, undefined, required, this.metadataUrl);
    const match = /^Bearer +([A-Za-z0-9\-._~+/]+=*)$/i.exec(header.trim());
    if (!match) return challenge(401, 'invalid_request', 'Send the access token as: Authorization: Bearer <token>.', required, this.metadataUrl);
    let verified;
    try {
      verified = await this.verifier.verify(match[1]);
    } catch (error) {
      if (error instanceof TokenError && error.kind === 'invalid') return challenge(401, 'invalid_token', error.message, required, this.metadataUrl);
      return new Response(JSON.stringify({ error: 'temporarily_unavailable', error_description: 'The token could not be checked: the issuer\'s keys are unreachable. Retry shortly.' }), {
        status: 503, headers: { 'content-type': 'application/json', 'retry-after': '5' },
      });
    }
    const missing = required.filter(s => !verified.scopes.includes(s));
    if (missing.length) return challenge(403, 'insufficient_scope', `The token lacks the scope${missing.length > 1 ? 's' : ''} ${missing.join(', ')}.`, required, this.metadataUrl);
    const claims = verified.claims;
    const clientId = [claims.client_id, claims.azp, typeof claims.aud === 'string' ? claims.aud : undefined].find(v => typeof v === 'string') as string | undefined;
    return {
      kind: 'jwt',
      principal: `${this.config.issuer}#${typeof claims.sub === 'string' ? claims.sub : clientId ?? 'unknown'}`,
      ...(clientId ? { clientId } : {}),
      ...(verified.scopes.length ? { scopes: verified.scopes } : {}),
      // Row scopes read their value from the verified token's claims (never from headers or arguments).
      claims: scalarClaims(claims),
    };
  }

  /** The 403 scope challenge for a `tools/call` of a tool the caller's scopes do not cover (MCP "Runtime Insufficient Scope Errors"). */
  toolScopeChallenge(toolName: string, caller: CallerIdentity): Response | undefined {
    const needed = this.config.toolScopes?.[toolName];
    if (!needed?.length) return undefined;
    const missing = needed.filter(s => !(caller.scopes ?? []).includes(s));
    if (!missing.length) return undefined;
    // The scopes the request needs in full (the server's and the tool's), so a step-up keeps what the client already has.
    const scopes = [...new Set([...(this.config.scopes ?? []), ...needed])];
    return challenge(403, 'insufficient_scope', `Calling ${toolName} needs the scope${missing.length > 1 ? 's' : ''} ${missing.join(', ')}.`, scopes, this.metadataUrl);
  }
}

/** The resource server the construct configured (JWT mode), or undefined. */
export function oauthFromEnv(env: NodeJS.ProcessEnv = process.env): OAuthResourceServer | undefined {
  const raw = env[MCP_OAUTH_ENV];
  return raw ? new OAuthResourceServer(JSON.parse(raw) as McpOAuthConfig) : undefined;
}

/** The names of the tools a JSON-RPC body (one message or a batch) calls. */
export function calledTools(body: unknown): string[] {
  const messages = Array.isArray(body) ? body : [body];
  return messages.flatMap(m => {
    const msg = m as { method?: unknown; params?: { name?: unknown } } | null;
    return msg && msg.method === 'tools/call' && typeof msg.params?.name === 'string' ? [msg.params.name] : [];
  });
}
