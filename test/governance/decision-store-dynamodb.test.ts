// DynamoDbDecisionStore against a mocked DynamoDB: append-only puts, consistent gets, newest-first agent queries.
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { DecisionConflictError, DynamoDbDecisionStore, MAX_DECISION_BYTES, decisionStoreFromEnv } from '../../lambda/shared/decision-store-dynamodb';
import type { DecisionInput } from '../../contract/decision-store';

const ddb = mockClient(DynamoDBDocumentClient);
const FIXED = new Date('2026-01-02T03:04:05.678Z');
const INPUT: DecisionInput = {
  agentId: 'agent-7',
  decision: 'refund order 42',
  rationale: 'order arrived late',
  toolCalls: [{ tool: 'orders_by_id_lookup', arguments: { order_id: 42 } }],
  dataReferences: [{ view: 'orders_by_id', key: { order_id: 42 }, provenance: undefined }],
};

function store() {
  return new DynamoDbDecisionStore(new DynamoDBClient({ region: 'us-east-1' }), { tableName: 'decisions', clock: () => FIXED, newId: () => 'd-1' });
}

beforeEach(() => ddb.reset());

describe('DynamoDbDecisionStore', () => {
  test('record puts the decision with attribute_not_exists and returns it with id and time', async () => {
    ddb.on(PutCommand).resolves({});
    const rec = await store().record(INPUT);
    expect(rec).toEqual({ ...INPUT, decisionId: 'd-1', recordedAt: '2026-01-02T03:04:05.678Z' });
    const calls = ddb.commandCalls(PutCommand);
    expect(calls).toHaveLength(1);
    expect(calls[0].args[0].input).toEqual({
      TableName: 'decisions', Item: rec, ConditionExpression: 'attribute_not_exists(decisionId)',
    });
  });

  test('record stores the authenticated caller beside the agent id it claims', async () => {
    ddb.on(PutCommand).resolves({});
    const caller = { kind: 'iam', principal: 'arn:aws:sts::123456789012:assumed-role/support-agent/session-1', accountId: '123456789012' };
    const rec = await store().record({ ...INPUT, caller });
    expect(rec).toMatchObject({ agentId: 'agent-7', caller });
    expect(ddb.commandCalls(PutCommand)[0].args[0].input.Item).toMatchObject({ agentId: 'agent-7', caller });
  });

  test('record never overwrites: a condition failure becomes a DecisionConflictError', async () => {
    ddb.on(PutCommand).rejects(new ConditionalCheckFailedException({ message: 'exists', $metadata: {} }));
    await expect(store().record(INPUT)).rejects.toThrow(DecisionConflictError);
  });

  test('record passes other errors through', async () => {
    ddb.on(PutCommand).rejects(new Error('throttled'));
    await expect(store().record(INPUT)).rejects.toThrow('throttled');
  });

  test('record refuses empty fields and oversized decisions before calling DynamoDB', async () => {
    await expect(store().record({ ...INPUT, agentId: '' })).rejects.toThrow(/agentId must be a non-empty string/);
    await expect(store().record({ ...INPUT, rationale: 'x'.repeat(MAX_DECISION_BYTES) })).rejects.toThrow(/above the 358400 bytes a decision may take/);
    expect(ddb.commandCalls(PutCommand)).toHaveLength(0);
  });

  test('record generates a fresh UUID per decision by default', async () => {
    ddb.on(PutCommand).resolves({});
    const s = new DynamoDbDecisionStore(new DynamoDBClient({ region: 'us-east-1' }), { tableName: 'decisions' });
    const a = await s.record(INPUT);
    const b = await s.record(INPUT);
    expect(a.decisionId).toMatch(/^[0-9a-f-]{36}$/);
    expect(a.decisionId).not.toBe(b.decisionId);
  });

  test('get reads consistently by decision id', async () => {
    ddb.on(GetCommand, { TableName: 'decisions', Key: { decisionId: 'd-1' }, ConsistentRead: true }).resolves({ Item: { decisionId: 'd-1', agentId: 'a' } });
    expect(await store().get('d-1')).toEqual({ decisionId: 'd-1', agentId: 'a' });
    ddb.on(GetCommand, { Key: { decisionId: 'none' } }).resolves({});
    expect(await store().get('none')).toBeUndefined();
  });

  test('listByAgent queries the byAgent index newest first, from a time, with a bounded limit', async () => {
    ddb.on(QueryCommand).resolves({ Items: [{ decisionId: 'd-2' }, { decisionId: 'd-1' }] });
    expect(await store().listByAgent('agent-7', { sinceIso: '2026-01-01T00:00:00Z', limit: 5000 })).toEqual([{ decisionId: 'd-2' }, { decisionId: 'd-1' }]);
    expect(ddb.commandCalls(QueryCommand)[0].args[0].input).toEqual({
      TableName: 'decisions', IndexName: 'byAgent',
      KeyConditionExpression: '#a = :a AND #t >= :since',
      ExpressionAttributeNames: { '#a': 'agentId', '#t': 'recordedAt' },
      ExpressionAttributeValues: { ':a': 'agent-7', ':since': '2026-01-01T00:00:00Z' },
      ScanIndexForward: false, Limit: 200,
    });
  });

  test('listByAgent without a start time uses only the agent key and limit 50', async () => {
    ddb.on(QueryCommand).resolves({});
    expect(await store().listByAgent('agent-7')).toEqual([]);
    expect(ddb.commandCalls(QueryCommand)[0].args[0].input).toMatchObject({ KeyConditionExpression: '#a = :a', Limit: 50 });
  });

  test('decisionStoreFromEnv reads the table name, and says what is missing', () => {
    const client = new DynamoDBClient({ region: 'us-east-1' });
    expect(decisionStoreFromEnv(client, { AGENT_DECISION_TABLE: 't' })).toBeInstanceOf(DynamoDbDecisionStore);
    expect(() => decisionStoreFromEnv(client, {})).toThrow(/AGENT_DECISION_TABLE is not set/);
  });
});
