// record_decision bounds a decision by its UTF-8 size before anything is written: DynamoDB refuses items over 400 KB
// (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Constraints.html), so an oversized decision is a
// tool error naming the limit and what to shorten, not "The store request failed". DynamoDB is mocked (aws-sdk-client-mock).
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { jsonBytes, MAX_DECISION_BYTES, type DecisionStore } from '../../contract/decision-store';
import { InMemoryDecisionStore as DevLoopDecisionStore } from '../../cli/dev/dev-loop';
import type { ViewConfig } from '../../contract/view-config';
import type { CallerIdentity } from '../../lambda/mcp/caller';
import type { McpServerDeps } from '../../lambda/mcp/context';
import { handleHttpRequest } from '../../lambda/mcp/server';
import { DecisionTooLargeError, DynamoDbDecisionStore } from '../../lambda/shared/decision-store-dynamodb';
import { NOW_MS } from './support';

const ddb = mockClient(DynamoDBDocumentClient);
const view: ViewConfig = {
  name: 'customers', description: 'C.', store: 'cache', topic: 't', format: 'debezium', key: ['customer_id'], sourceTable: 'public.customers',
  fields: [{ name: 'customer_id', type: 'integer' }], cache: { keyPrefix: 'unused:', tombstoneTtlSeconds: 3600 },
};
const caller: CallerIdentity = { kind: 'iam', principal: 'arn:aws:iam::111122223333:user/u' } as CallerIdentity;
const store = (newId?: () => string) => new DynamoDbDecisionStore(new DynamoDBClient({ region: 'us-east-1' }), { tableName: 'decisions', newId });

beforeEach(() => {
  ddb.reset();
  ddb.on(PutCommand).resolves({});
});

async function record(args: Record<string, unknown>, decisions: DecisionStore = store()): Promise<any> {
  const deps: McpServerDeps = { views: [view], decisions, now: () => NOW_MS };
  const res = await handleHttpRequest(new Request('https://mcp.example.internal/mcp', {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'record_decision', arguments: args } }),
  }), deps, {}, caller);
  return (await res.json()).result;
}

const base = { agentId: 'a', decision: 'd', rationale: 'r' };

describe('record_decision size', () => {
  test('100 tool calls of about 4 KB each (the reviewer\'s 405,443-byte decision) is a tool error naming the limit; nothing is written', async () => {
    const result = await record({ ...base, toolCalls: Array.from({ length: 100 }, () => ({ tool: 'customers_lookup', arguments: { note: 'z'.repeat(4000) } })) });
    expect(result.isError).toBe(true);
    const text: string = result.content[0].text;
    expect(text).not.toMatch(/store request failed/);
    expect(text).toContain(`${MAX_DECISION_BYTES} bytes`);
    expect(text).toMatch(/400 KB/);
    expect(text).toMatch(/toolCalls/);
    expect(ddb.commandCalls(PutCommand)).toHaveLength(0);
  });

  test('the size is counted in UTF-8 bytes: a rationale of 3-byte characters under the character bound but over the byte bound is refused', async () => {
    // 16,000 characters (the rationale bound) of a 3-byte character: 48,000 bytes, times 8 references' worth of padding below.
    const result = await record({ ...base, rationale: '€'.repeat(16000), toolCalls: Array.from({ length: 100 }, () => ({ tool: 't', arguments: { note: 'z'.repeat(3300) } })) });
    expect(result.isError).toBe(true);
    expect(result.content[0].text).toMatch(/rationale/);
    expect(ddb.commandCalls(PutCommand)).toHaveLength(0);
  });

  test('tool-call arguments are bounded at 4 KB of UTF-8, not 4,096 UTF-16 units', async () => {
    const result = await record({ ...base, toolCalls: [{ tool: 'customers_lookup', arguments: { note: 'é'.repeat(3000) } }] });
    expect(result.isError).toBe(true);
    expect(result.content[0].text).toMatch(/toolCalls\[0\]\.arguments.*4096 bytes of JSON/);
    expect(ddb.commandCalls(PutCommand)).toHaveLength(0);
  });

  test('a decision within the limits is written once', async () => {
    const result = await record({ ...base, toolCalls: Array.from({ length: 50 }, () => ({ tool: 'customers_lookup', arguments: { note: 'z'.repeat(4000) } })) });
    expect(result.isError).not.toBe(true);
    expect(result.structuredContent).toMatchObject({ agentId: 'a', caller: { principal: caller.principal } });
    expect(ddb.commandCalls(PutCommand)).toHaveLength(1);
  });

  test('the store itself refuses an oversized record with a DecisionTooLargeError carrying its size', async () => {
    const err = await store().record({ ...base, toolCalls: [], dataReferences: [], rationale: '€'.repeat(130_000) }).catch(e => e);
    expect(err).toBeInstanceOf(DecisionTooLargeError);
    expect(err.bytes).toBeGreaterThan(MAX_DECISION_BYTES);
    expect(ddb.commandCalls(PutCommand)).toHaveLength(0);
  });

  // The tool's check allows 256 bytes for what the store adds; a store adding more (here a 3,000-character id) is caught
  // by the store's exact check, which answers the same tool error (one DecisionTooLargeError class, matched by instanceof).
  test('a record the store finds oversized after the tool\'s estimate passed is the same tool error; nothing is written', async () => {
    const args = { ...base, rationale: 'r'.repeat(15_000), toolCalls: Array.from({ length: 84 }, () => ({ tool: 'customers_lookup', arguments: { note: 'z'.repeat(4000) } })) };
    const inputBytes = jsonBytes({ ...args, dataReferences: [], caller: { kind: caller.kind, principal: caller.principal } });
    expect(inputBytes + 256).toBeLessThanOrEqual(MAX_DECISION_BYTES);
    expect(inputBytes + 3000).toBeGreaterThan(MAX_DECISION_BYTES);
    const result = await record(args, store(() => 'i'.repeat(3000)));
    expect(result.isError).toBe(true);
    expect(result.content[0].text).toMatch(new RegExp(`above the ${MAX_DECISION_BYTES} bytes a decision may take.*Largest parts: toolCalls`));
    expect(ddb.commandCalls(PutCommand)).toHaveLength(0);
  });

  test('the dev loop\'s in-memory store refuses what the deployed store refuses', async () => {
    const dev = new DevLoopDecisionStore();
    const err = await dev.record({ ...base, toolCalls: [], dataReferences: [], rationale: '€'.repeat(130_000) }).catch(e => e);
    expect(err).toBeInstanceOf(DecisionTooLargeError);
    expect(await dev.listByAgent('a')).toHaveLength(0);
  });
});
