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
 * clear of its per-attribute type overhead. record_decision checks it before writing, and each store again (assertDecisionFits).
 */
export const MAX_DECISION_BYTES = 350 * 1024;

/** UTF-8 bytes of a value's JSON (what MAX_DECISION_BYTES and the per-field bounds count). */
export function jsonBytes(value: unknown): number {
  return Buffer.byteLength(JSON.stringify(value) ?? '', 'utf8');
}

/** A decision whose record would pass MAX_DECISION_BYTES; its message names the limit and the parts to shorten, largest first. */
export class DecisionTooLargeError extends Error {
  constructor(public readonly bytes: number, parts: readonly string[], public readonly limit: number = MAX_DECISION_BYTES) {
    super(`The decision is ${bytes} bytes of UTF-8 JSON, above the ${limit} bytes a decision may take (the audit log is a DynamoDB `
      + `table, whose items are at most 400 KB). Largest parts: ${parts.join(', ')}. Shorten them: cite fewer tool calls or only the `
      + 'arguments that mattered, and a shorter rationale; nothing was recorded.');
    this.name = 'DecisionTooLargeError';
  }
}

/**
 * Throws DecisionTooLargeError when `decision` (a record, or the input plus `overheadBytes` for what the store will add) is
 * over MAX_DECISION_BYTES. Each field is bounded, their sum is not: record_decision checks the input before anything is
 * written, and every store checks the record it is about to write.
 */
export function assertDecisionFits(decision: DecisionInput | DecisionRecord, overheadBytes = 0): void {
  const bytes = jsonBytes(decision) + overheadBytes;
  if (bytes <= MAX_DECISION_BYTES) return;
  const parts = (['toolCalls', 'dataReferences', 'rationale', 'decision'] as const)
    .map(name => ({ name, bytes: jsonBytes(decision[name]) }))
    .sort((a, b) => b.bytes - a.bytes)
    .map(p => `${p.name} ${p.bytes} bytes`);
  throw new DecisionTooLargeError(bytes, parts);
}

/** Environment variable naming the DynamoDB table of the decision audit log (set by governance's DecisionAuditLog). */
export const DECISION_TABLE_ENV = 'AGENT_DECISION_TABLE';
