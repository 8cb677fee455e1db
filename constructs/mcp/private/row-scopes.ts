// Synth-time checks that every row-scoped view can be read by the callers the endpoint's authorization admits.
import { Token } from 'aws-cdk-lib';
import type { ViewConfig } from '../../../contract/view-config';

/**
 * A row scope needs a source of scope values the authorization mode provides (a claim for JWT, roles for IAM); otherwise
 * every call would be refused at runtime, which is a deployment mistake better caught here. The scope's own rules (a
 * declared exact field) belong to the view and are checked once, by AgentView.
 */
export function validateRowScopes(views: readonly ViewConfig[], authorization: 'iam' | 'jwt' | 'none'): void {
  for (const v of views) {
    const s = v.rowScope;
    if (!s) continue;
    const where = `AgentMcpServer: view '${v.name}' rowScope`;
    if (authorization === 'none') {
      throw new Error(`${where} scopes rows to the caller's identity, but authorization is anonymous: no caller has an identity, so every call would be refused. Use McpAuthorization.iam() or McpAuthorization.jwt().`);
    }
    if (authorization === 'jwt' && (s.claim === undefined || (!Token.isUnresolved(s.claim) && s.claim.length === 0))) {
      throw new Error(`${where} has no claim, but authorization is jwt: every token caller would be refused. Set rowScope.claim to the token claim holding the caller's scope value, e.g. 'custom:tenant'.`);
    }
    if (authorization === 'iam' && (s.iamPrincipals ?? []).length === 0) {
      throw new Error(`${where} maps no IAM roles, but authorization is iam: every SigV4 caller would be refused. Set rowScope.iamRoles to the roles agents assume, each with its scope value.`);
    }
  }
}
