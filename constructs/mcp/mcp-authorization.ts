// How clients authenticate to the MCP endpoint: SigV4 on a function URL, OAuth bearer tokens (any OIDC issuer, or Cognito), or nobody.
import { Stack } from 'aws-cdk-lib';
import type * as cognito from 'aws-cdk-lib/aws-cognito';

export interface McpJwtAuthorizationOptions {
  /** OIDC issuer URL (for Cognito: `https://cognito-idp.<region>.amazonaws.com/<pool id>`): the `iss` tokens carry. */
  readonly issuer: string;
  /**
   * Accepted audiences: a token's `aud` must name one of them, or, when it has no `aud` (Cognito access tokens), its `client_id`.
   * @default - the MCP endpoint URL only: the RFC 8707 resource indicator MCP clients send, which resource-aware issuers put in `aud`
   */
  readonly audience?: string[];
  /** Scopes every request's token must carry (advertised in the metadata's `scopes_supported`). @default - any valid token from the issuer */
  readonly scopes?: string[];
  /**
   * Extra scopes a `tools/call` of a tool needs, by tool name (e.g. `{ record_decision: ['agent-data/write'] }`); a token without them
   * gets 403 `insufficient_scope` naming them, so the client can step up. @default - every tool needs only `scopes`
   */
  readonly toolScopes?: Record<string, string[]>;
  /** The issuer's JSON Web Key Set URL. @default - discovered from `<issuer>/.well-known/openid-configuration` (or RFC 8414 metadata) */
  readonly jwksUri?: string;
}

export interface McpCognitoAuthorizationOptions {
  /** The user pool whose access tokens are accepted. */
  readonly userPool: cognito.IUserPool;
  /** App clients whose tokens are accepted (Cognito access tokens name their client in `client_id`). */
  readonly clients: cognito.IUserPoolClient[];
  /** @default - any valid access token of those clients */
  readonly scopes?: string[];
  /** @default - every tool needs only `scopes` */
  readonly toolScopes?: Record<string, string[]>;
}

/** How clients authenticate to the MCP endpoint. */
export class McpAuthorization {
  /** A Lambda function URL with `AWS_IAM` auth: callers sign requests with SigV4 and need `lambda:InvokeFunctionUrl`. */
  public static iam(): McpAuthorization {
    return new McpAuthorization('iam');
  }

  /**
   * OAuth 2.1 (MCP authorization specification): an API Gateway HTTP API in front of a function that is the resource server. It
   * serves the RFC 9728 metadata, verifies each bearer token (signature against the issuer's keys, issuer, audience, expiry,
   * scopes) and refuses with 401/403 and a `WWW-Authenticate` challenge naming the metadata.
   */
  public static jwt(options: McpJwtAuthorizationOptions): McpAuthorization {
    return new McpAuthorization('jwt', options);
  }

  /** `jwt()` for a Cognito user pool: its issuer, and its app clients as the accepted audience. */
  public static cognito(options: McpCognitoAuthorizationOptions): McpAuthorization {
    return McpAuthorization.jwt({
      issuer: `https://cognito-idp.${options.userPool.env.region}.${Stack.of(options.userPool).urlSuffix}/${options.userPool.userPoolId}`,
      audience: options.clients.map(c => c.userPoolClientId),
      scopes: options.scopes,
      toolScopes: options.toolScopes,
    });
  }

  /** A function URL anyone on the internet can call. Only for throwaway demos; synth warns. */
  public static anonymous(): McpAuthorization {
    return new McpAuthorization('none');
  }

  private constructor(public readonly kind: 'iam' | 'jwt' | 'none', public readonly jwt?: McpJwtAuthorizationOptions) {}
}
