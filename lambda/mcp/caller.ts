// Who is calling, as the endpoint authenticated it: the IAM principal of a SigV4-signed function URL request, the subject of a
// JWT the HTTP API authorizer accepted, or nobody (anonymous URL, local runs). Recorded beside the agent id a decision claims.
import type { AuthInfo } from '@modelcontextprotocol/server';
import type { FunctionUrlEvent } from './http-adapter';

export interface CallerIdentity {
  /** How the endpoint authenticated the caller. */
  readonly kind: 'iam' | 'jwt' | 'anonymous';
  /** IAM: the principal ARN (`userArn`); JWT: `<iss>#<sub>`; anonymous: `anonymous`. */
  readonly principal: string;
  /** IAM: the account id. */
  readonly accountId?: string;
  /** JWT: the OAuth client the token was issued to (`client_id`, or `azp`, or `aud`). */
  readonly clientId?: string;
  /** JWT: the token's scopes. */
  readonly scopes?: string[];
  /**
   * JWT: the token's top-level string and number claims as strings (row scopes read their value from one). Not recorded in
   * the decision audit.
   */
  readonly claims?: Readonly<Record<string, string>>;
}

export function anonymousCaller(): CallerIdentity {
  return { kind: 'anonymous', principal: 'anonymous' };
}

interface IamAuthorizer { accountId?: string; userArn?: string; callerId?: string; userId?: string }
interface JwtAuthorizer { claims?: Record<string, unknown>; scopes?: string[] | null }

/**
 * The caller of a function URL (`AWS_IAM`: `requestContext.authorizer.iam`) or HTTP API (JWT authorizer:
 * `requestContext.authorizer.jwt.claims`, for APIs set up that way by hand; JWT mode verifies tokens in `oauth.ts`) event. Only what Lambda and API Gateway put in the request context counts:
 * headers are the caller's to forge.
 */
export function callerFromEvent(event: FunctionUrlEvent): CallerIdentity {
  const authorizer = (event.requestContext as { authorizer?: { iam?: IamAuthorizer; jwt?: JwtAuthorizer } } | undefined)?.authorizer;
  const iam = authorizer?.iam;
  if (iam && (iam.userArn || iam.callerId)) {
    return { kind: 'iam', principal: String(iam.userArn ?? iam.callerId), ...(iam.accountId ? { accountId: String(iam.accountId) } : {}) };
  }
  const claims = authorizer?.jwt?.claims;
  if (claims && typeof claims.sub === 'string') {
    const clientId = [claims.client_id, claims.azp, claims.aud].find(v => typeof v === 'string') as string | undefined;
    const scopes = authorizer?.jwt?.scopes ?? (typeof claims.scope === 'string' ? claims.scope.split(' ').filter(Boolean) : undefined);
    return {
      kind: 'jwt',
      principal: `${typeof claims.iss === 'string' ? claims.iss : ''}#${claims.sub}`,
      ...(clientId ? { clientId } : {}),
      ...(scopes?.length ? { scopes } : {}),
      claims: scalarClaims(claims),
    };
  }
  return anonymousCaller();
}

/** Claims with a string or finite number value; objects and arrays have no single value a row scope could match. */
export function scalarClaims(claims: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(claims)) {
    if (typeof value === 'string' || (typeof value === 'number' && Number.isFinite(value))) out[name] = String(value);
  }
  return out;
}

const CALLER_KEY = 'agentDataStackCaller';

/** The caller carried to tool handlers as the SDK's pass-through AuthInfo (the SDK never derives it from headers). */
export function callerToAuthInfo(caller: CallerIdentity): AuthInfo {
  return { token: '', clientId: caller.clientId ?? caller.principal, scopes: caller.scopes ?? [], extra: { [CALLER_KEY]: caller } };
}

export function callerFromAuthInfo(authInfo: AuthInfo | undefined): CallerIdentity {
  const c = authInfo?.extra?.[CALLER_KEY] as CallerIdentity | undefined;
  return c && typeof c.principal === 'string' ? c : anonymousCaller();
}
