// Row scopes: the rows of a view a caller may read, resolved from what the endpoint authenticated (JWT claim or IAM principal),
// never from tool arguments, and enforced by every tool that reads the view.
import type { RowScopeConfig, ViewConfig } from '../../contract/view-config';
import type { CallerIdentity } from './caller';
import { ToolRefusal } from './errors';
import { exactPath } from './search-query';

/** The rows one caller may read of one view: those whose `field` holds `value`. */
export interface RowScope {
  readonly field: string;
  readonly value: string;
}

export const ROW_SCOPE_MISSING = 'row_scope_missing';

/**
 * An IAM principal entry matches the caller ARN the function URL reports (`requestContext.authorizer.iam.userArn`): equal, or
 * a role ARN (`arn:<p>:iam::<acct>:role/<path/>name`) against any session of it (`arn:<p>:sts::<acct>:assumed-role/<name>/<session>`).
 */
export function principalMatches(entry: string, callerArn: string): boolean {
  if (entry === callerArn) return true;
  const role = /^arn:([^:]+):iam::(\d{12}):role\/(?:.*\/)?([^/]+)$/.exec(entry);
  const session = /^arn:([^:]+):sts::(\d{12}):assumed-role\/([^/]+)\/[^/]+$/.exec(callerArn);
  return !!role && !!session && role[1] === session[1] && role[2] === session[2] && role[3] === session[3];
}

/** The caller's scope value under a view's row scope, or undefined when the caller has none. */
export function scopeValue(scope: RowScopeConfig, caller: CallerIdentity): string | undefined {
  if (caller.kind === 'jwt' && scope.claim) {
    const v = caller.claims?.[scope.claim];
    return v !== undefined && v.length > 0 ? v : undefined;
  }
  if (caller.kind === 'iam') {
    return scope.iamPrincipals?.find(p => principalMatches(p.arn, caller.principal))?.value;
  }
  return undefined;
}

/**
 * The scope a view's tool must apply for this caller: undefined when the view declares no row scope; a refusal (never all rows)
 * when it does and the caller carries no value for it.
 */
export function rowScopeOf(view: ViewConfig, caller: CallerIdentity): RowScope | undefined {
  const scope = view.rowScope;
  if (!scope) return undefined;
  const value = scopeValue(scope, caller);
  if (value === undefined) {
    const source = caller.kind === 'jwt'
      ? (scope.claim ? `your token carries no claim '${scope.claim}'` : 'this view takes no scope from tokens')
      : caller.kind === 'iam' ? 'your IAM principal is not mapped to a scope value' : 'the request is not authenticated';
    throw new ToolRefusal(ROW_SCOPE_MISSING,
      `View '${view.name}' serves each caller only the rows whose '${scope.field}' matches the caller's identity, and ${source} `
      + `(caller: ${caller.kind} ${caller.principal}). No rows are served without a scope value; ask the operator to map your identity.`);
  }
  return { field: scope.field, value };
}

/** Whether a stored row belongs to the scope. A tombstone (no row) carries no scope value and so never does. */
export function inScope(scope: RowScope | undefined, row: Record<string, unknown> | null | undefined): boolean {
  if (!scope) return true;
  if (!row) return false;
  const v = row[scope.field];
  return v !== null && v !== undefined && typeof v !== 'object' && String(v) === scope.value;
}

/** The filter clause every search, aggregation and k-NN query of a scoped view carries beside the agent's criteria. */
export function scopeClause(view: ViewConfig, scope: RowScope): Record<string, unknown> {
  return { term: { [exactPath(view, scope.field)]: scope.value } };
}
