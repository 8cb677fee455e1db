// The OAuth resource-server configuration AgentMcpServer (JWT mode) hands the MCP function, and the paths it serves (dependency-free).

/** Environment variable carrying the JSON `McpOAuthConfig`. */
export const MCP_OAUTH_ENV = 'AGENT_MCP_OAUTH';

/** RFC 9728 well-known path of the protected-resource metadata. */
export const PROTECTED_RESOURCE_PATH = '/.well-known/oauth-protected-resource';

/** What the function needs to act as an OAuth 2.1 resource server (MCP authorization specification). */
export interface McpOAuthConfig {
  /** The MCP endpoint URL: the RFC 9728 `resource` and the default accepted audience (RFC 8707). */
  readonly resource: string;
  /** The issuer (`iss`) tokens must carry; also the one authorization server advertised. */
  readonly issuer: string;
  /** Accepted `aud` values (or, for tokens without `aud` such as Cognito access tokens, `client_id` values). */
  readonly audience: string[];
  /** Scopes every request needs. */
  readonly scopes?: string[];
  /** Extra scopes a `tools/call` of the named tool needs. */
  readonly toolScopes?: Record<string, string[]>;
  /** Where the signing keys are; without it they are discovered from the issuer's metadata. */
  readonly jwksUri?: string;
}

/** The well-known metadata URL for a resource: `/.well-known/oauth-protected-resource` inserted before its path (RFC 9728 section 3.1). */
export function protectedResourceMetadataUrl(resource: string): string {
  const url = new URL(resource);
  const path = url.pathname === '/' ? '' : url.pathname.replace(/\/$/, '');
  return `${url.origin}${PROTECTED_RESOURCE_PATH}${path}`;
}

/** Every scope the server understands: the RFC 9728 `scopes_supported`. */
export function supportedScopes(config: Pick<McpOAuthConfig, 'scopes' | 'toolScopes'>): string[] {
  return [...new Set([...(config.scopes ?? []), ...Object.values(config.toolScopes ?? {}).flat()])];
}
