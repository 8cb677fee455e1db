// Who may read a recorded decision: the identity that recorded it, as the endpoint authenticated both calls (never an argument).
import type { DecisionCaller, DecisionRecord } from '../../contract/decision-store';
import type { CallerIdentity } from './caller';

/**
 * The owner a decision is filed under. An STS assumed-role session (`arn:<p>:sts::<acct>:assumed-role/<role>/<session>`)
 * counts as its role: a Lambda or ECS agent gets a new session name with new credentials and must still read what it recorded.
 * Everything else (IAM users, `<iss>#<sub>` of a token, `anonymous`) is its exact principal, under its authentication kind.
 */
export function decisionOwner(caller: Pick<DecisionCaller, 'kind' | 'principal'>): string {
  if (caller.kind === 'iam') {
    const session = /^(arn:[^:]+:sts::\d{12}:assumed-role\/[^/]+)\/[^/]+$/.exec(caller.principal);
    if (session) return `iam-role:${session[1]}`;
  }
  return `${caller.kind}:${caller.principal}`;
}

/**
 * Whether `caller` may read `record`: only decisions the same identity recorded. A decision recorded without a caller (before
 * callers were recorded) has no owner to match and is readable by nobody through the tool.
 */
export function mayReadDecision(record: DecisionRecord, caller: CallerIdentity): boolean {
  return !!record.caller && decisionOwner(record.caller) === decisionOwner(caller);
}
