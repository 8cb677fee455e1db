// Validation and rendering of a view's row scope (AgentViewProps.rowScope), kept out of view.ts.
import { Token } from 'aws-cdk-lib';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type { RowScopeConfig } from '../../../contract/view-config';

/** The field types a row scope may use: exact scalar values a claim or a mapping can equal. */
export const ROW_SCOPE_TYPES = ['string', 'keyword', 'integer'] as const;

const CLAIM_NAME = /^[A-Za-z0-9_:.\-/]{1,128}$/;

/** What validation needs of the scope declaration (structurally the same as ViewRowScope). */
interface RowScopeProps {
  readonly field: string;
  readonly claim?: string;
  readonly iamRoles?: readonly { readonly role: iam.IRole; readonly value: string }[];
}

export function validateRowScope(where: string, fields: readonly { name: string; type: { name: string } }[], s: RowScopeProps): void {
  const f = fields.find(x => x.name === s.field);
  if (!f) {
    throw new Error(`${where}: rowScope.field '${s.field}' is not among fields [${fields.map(x => x.name).join(', ')}]. Add the column holding each row's tenant (or owner) to fields.`);
  }
  if (!(ROW_SCOPE_TYPES as readonly string[]).includes(f.type.name)) {
    throw new Error(`${where}: rowScope.field '${s.field}' has type ${f.type.name}; a scope field must hold an exact value. Use STRING, KEYWORD or INTEGER.`);
  }
  if (s.claim === undefined && (s.iamRoles ?? []).length === 0) {
    throw new Error(`${where}: rowScope names neither a claim nor iamRoles, so no caller could ever read the view. Set claim (JWT callers, e.g. 'custom:tenant') and/or iamRoles (SigV4 callers).`);
  }
  if (s.claim !== undefined && !Token.isUnresolved(s.claim) && !CLAIM_NAME.test(s.claim)) {
    throw new Error(`${where}: rowScope.claim '${s.claim}' is not a claim name (1-128 letters, digits, '_', ':', '.', '-', '/'). E.g. 'custom:tenant'.`);
  }
  for (const r of s.iamRoles ?? []) {
    if (!Token.isUnresolved(r.value) && (r.value.length === 0 || r.value.length > 512)) {
      throw new Error(`${where}: rowScope.iamRoles has a role with scope value '${r.value}'; give the 1-512 character value its rows carry in '${s.field}'.`);
    }
  }
}

export function rowScopeConfig(s: RowScopeProps): RowScopeConfig {
  return {
    field: s.field,
    ...(s.claim !== undefined ? { claim: s.claim } : {}),
    ...(s.iamRoles?.length ? { iamPrincipals: s.iamRoles.map(r => ({ arn: r.role.roleArn, value: r.value })) } : {}),
  };
}
