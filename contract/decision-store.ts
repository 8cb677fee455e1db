// The decision audit contract: what record_decision stores and get_decision returns; the DynamoDB implementation lives beside it.
import type { Provenance } from './stored-record';

/** A piece of data a decision relied on: the view, the key and the exact source position it had. */
export interface DecisionDataReference {
  readonly view: string;
  readonly key: Record<string, unknown>;
  /** Provenance as returned by the tool that served the data. */
  readonly provenance?: Provenance;
}

/** Who recorded a decision, as the MCP endpoint authenticated them (never taken from the tool arguments). */
export interface DecisionCaller {
  /** `iam` (SigV4-signed function URL request), `jwt` (an OAuth bearer token the MCP function verified) or `anonymous`. */
  readonly kind: string;
  /** IAM principal ARN, or `<issuer>#<subject>` of the token. */
  readonly principal: string;
  readonly accountId?: string;
  readonly clientId?: string;
  readonly scopes?: string[];
}

export interface DecisionInput {
  /** The agent id the caller claims; `caller` is who actually authenticated. */
  readonly agentId: string;
  readonly decision: string;
  readonly rationale: string;
  /** Tool calls the agent made, by name and (bounded) arguments. */
  readonly toolCalls: { readonly tool: string; readonly arguments: Record<string, unknown> }[];
  readonly dataReferences: DecisionDataReference[];
  /** The authenticated caller, set by the server. */
  readonly caller?: DecisionCaller;
}

export interface DecisionRecord extends DecisionInput {
  readonly decisionId: string;
  /** ISO-8601, set by the server. */
  readonly recordedAt: string;
}

export interface DecisionStore {
  /** Appends a decision; never overwrites an existing id. */
  record(input: DecisionInput): Promise<DecisionRecord>;
  get(decisionId: string): Promise<DecisionRecord | undefined>;
  listByAgent(agentId: string, options?: { readonly sinceIso?: string; readonly limit?: number }): Promise<DecisionRecord[]>;
}

/**
 * Largest decision record, in UTF-8 bytes of its JSON: DynamoDB refuses items over 400 KB (attribute names and values
 * counted in UTF-8; https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Constraints.html), and 50 KiB stay
 * clear of its per-attribute type overhead. record_decision checks it before writing; the DynamoDB store again.
 */
export const MAX_DECISION_BYTES = 350 * 1024;

/** UTF-8 bytes of a value's JSON (what MAX_DECISION_BYTES and the per-field bounds count). */
export function jsonBytes(value: unknown): number {
  return Buffer.byteLength(JSON.stringify(value) ?? '', 'utf8');
}

/** Environment variable naming the DynamoDB table of the decision audit log (set by governance's DecisionAuditLog). */
export const DECISION_TABLE_ENV = 'AGENT_DECISION_TABLE';
