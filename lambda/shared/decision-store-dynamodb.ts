// DecisionStore on DynamoDB: append-only puts (attribute_not_exists), consistent gets, and newest-first queries by agent on the byAgent index.
import { randomUUID } from 'crypto';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import {
  assertDecisionFits, DECISION_TABLE_ENV, DecisionTooLargeError, MAX_DECISION_BYTES, type DecisionInput, type DecisionRecord, type DecisionStore,
} from '../../contract/decision-store';

/** Name of the index on (agentId, recordedAt); matches the DecisionAuditLog construct. */
export const BY_AGENT_INDEX = 'byAgent';
/** DynamoDB's item limit is 400 KB; stay clear of it with a readable error instead of a ValidationException. */
export { DecisionTooLargeError, MAX_DECISION_BYTES };
const DEFAULT_LIST_LIMIT = 50;
const MAX_LIST_LIMIT = 200;

export interface DynamoDbDecisionStoreOptions {
  readonly tableName: string;
  /** @default () => new Date() */
  readonly clock?: () => Date;
  /** @default crypto.randomUUID */
  readonly newId?: () => string;
}

export class DecisionConflictError extends Error {}

export class DynamoDbDecisionStore implements DecisionStore {
  private readonly doc: DynamoDBDocumentClient;
  private readonly tableName: string;
  private readonly clock: () => Date;
  private readonly newId: () => string;

  constructor(client: DynamoDBClient, options: DynamoDbDecisionStoreOptions) {
    this.doc = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
    this.tableName = options.tableName;
    this.clock = options.clock ?? (() => new Date());
    this.newId = options.newId ?? randomUUID;
  }

  public async record(input: DecisionInput): Promise<DecisionRecord> {
    for (const field of ['agentId', 'decision', 'rationale'] as const) {
      if (typeof input[field] !== 'string' || input[field].length === 0) throw new Error(`record_decision: ${field} must be a non-empty string`);
    }
    const record: DecisionRecord = {
      decisionId: this.newId(),
      recordedAt: this.clock().toISOString(),
      agentId: input.agentId,
      decision: input.decision,
      rationale: input.rationale,
      toolCalls: input.toolCalls ?? [],
      dataReferences: input.dataReferences ?? [],
      ...(input.caller ? { caller: input.caller } : {}),
    };
    // Refused before the put: DynamoDB would answer an oversized item with a ValidationException.
    assertDecisionFits(record);
    try {
      await this.doc.send(new PutCommand({
        TableName: this.tableName,
        Item: record,
        // Append-only: a put never replaces an existing decision.
        ConditionExpression: 'attribute_not_exists(decisionId)',
      }));
    } catch (e) {
      if ((e as { name?: string }).name === 'ConditionalCheckFailedException') {
        throw new DecisionConflictError(`record_decision: decision ${record.decisionId} already exists; decisions are never overwritten`);
      }
      throw e;
    }
    return record;
  }

  public async get(decisionId: string): Promise<DecisionRecord | undefined> {
    const out = await this.doc.send(new GetCommand({ TableName: this.tableName, Key: { decisionId }, ConsistentRead: true }));
    return out.Item as DecisionRecord | undefined;
  }

  public async listByAgent(agentId: string, options: { readonly sinceIso?: string; readonly limit?: number } = {}): Promise<DecisionRecord[]> {
    const limit = Math.min(Math.max(1, Math.floor(options.limit ?? DEFAULT_LIST_LIMIT)), MAX_LIST_LIMIT);
    const since = options.sinceIso;
    const out = await this.doc.send(new QueryCommand({
      TableName: this.tableName,
      IndexName: BY_AGENT_INDEX,
      KeyConditionExpression: since ? '#a = :a AND #t >= :since' : '#a = :a',
      ExpressionAttributeNames: since ? { '#a': 'agentId', '#t': 'recordedAt' } : { '#a': 'agentId' },
      ExpressionAttributeValues: since ? { ':a': agentId, ':since': since } : { ':a': agentId },
      ScanIndexForward: false,
      Limit: limit,
    }));
    return (out.Items ?? []) as DecisionRecord[];
  }
}

/** A store for the table named by `AGENT_DECISION_TABLE`. */
export function decisionStoreFromEnv(client: DynamoDBClient, env: Record<string, string | undefined> = process.env): DynamoDbDecisionStore {
  const tableName = env[DECISION_TABLE_ENV];
  if (!tableName) throw new Error(`${DECISION_TABLE_ENV} is not set: the function was deployed without the decision audit table (DecisionAuditLog.environment()).`);
  return new DynamoDbDecisionStore(client, { tableName });
}
