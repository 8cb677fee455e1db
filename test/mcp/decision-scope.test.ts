// get_decision is scoped to the identity that recorded the decision: two authenticated callers, each trying to read the other's
// decisions by id, through the handler as the function URL serves it (the caller comes from the request context, never arguments).
import type { CallerIdentity } from '../../lambda/mcp/caller';
import type { McpServerDeps } from '../../lambda/mcp/context';
import { decisionOwner } from '../../lambda/mcp/decision-access';
import { handleHttpRequest } from '../../lambda/mcp/server';
import { InMemoryDecisionStore, NOW_MS, testViews } from './support';

const ALICE: CallerIdentity = { kind: 'jwt', principal: 'https://issuer.example.com#alice', clientId: 'agent-app', scopes: ['mcp'], claims: { sub: 'alice' } };
const BOB: CallerIdentity = { kind: 'jwt', principal: 'https://issuer.example.com#bob', clientId: 'agent-app', scopes: ['mcp'], claims: { sub: 'bob' } };
const ROLE_SESSION_1: CallerIdentity = { kind: 'iam', principal: 'arn:aws:sts::111122223333:assumed-role/support-agent/session-1', accountId: '111122223333' };
const ROLE_SESSION_2: CallerIdentity = { kind: 'iam', principal: 'arn:aws:sts::111122223333:assumed-role/support-agent/session-2', accountId: '111122223333' };
const OTHER_ROLE: CallerIdentity = { kind: 'iam', principal: 'arn:aws:sts::111122223333:assumed-role/billing-agent/session-1', accountId: '111122223333' };
const ANONYMOUS: CallerIdentity = { kind: 'anonymous', principal: 'anonymous' };

const decisions = new InMemoryDecisionStore(() => NOW_MS);
const deps: McpServerDeps = { views: testViews('decision-scope:').filter(v => v.name === 'customers'), decisions, now: () => NOW_MS };
let rpcId = 0;

async function call(caller: CallerIdentity, name: string, args: Record<string, unknown>): Promise<any> {
  const res = await handleHttpRequest(new Request('https://mcp.local/mcp', {
    method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
    body: JSON.stringify({ jsonrpc: '2.0', id: ++rpcId, method: 'tools/call', params: { name, arguments: args } }),
  }), deps, {}, caller);
  expect(res.status).toBe(200);
  return (await res.json()).result;
}

async function record(caller: CallerIdentity, agentId: string): Promise<string> {
  const res = await call(caller, 'record_decision', { agentId, decision: `decided by ${agentId}`, rationale: 'r' });
  expect(res.isError).toBeFalsy();
  return res.structuredContent.decisionId;
}

test('each identity reads its own decisions; the other identity\'s ids answer found=false, like an id never issued', async () => {
  const alices = await record(ALICE, 'agent-a');
  const bobs = await record(BOB, 'agent-b');
  expect((await call(ALICE, 'get_decision', { decisionId: alices })).structuredContent).toMatchObject({ found: true, decision: { decisionId: alices, agentId: 'agent-a' } });
  expect((await call(BOB, 'get_decision', { decisionId: bobs })).structuredContent).toMatchObject({ found: true, decision: { decisionId: bobs, agentId: 'agent-b' } });

  const never = await call(BOB, 'get_decision', { decisionId: 'dec-999' });
  const crossed = await call(BOB, 'get_decision', { decisionId: alices });
  expect(crossed).toEqual(never);
  expect(crossed.structuredContent).toEqual({ found: false, decision: null });
  expect(JSON.stringify(crossed)).not.toContain('agent-a');
  expect((await call(ALICE, 'get_decision', { decisionId: bobs })).structuredContent).toEqual({ found: false, decision: null });
});

test('the agent id a decision claims grants nothing: recording under another agent\'s id does not open that agent\'s decisions', async () => {
  const alices = await record(ALICE, 'shared-agent');
  await record(BOB, 'shared-agent');
  expect((await call(BOB, 'get_decision', { decisionId: alices })).structuredContent.found).toBe(false);
});

test('no argument widens the scope: a caller, agent or owner argument is refused, not honoured', async () => {
  const alices = await record(ALICE, 'agent-a');
  for (const extra of [{ caller: { kind: 'jwt', principal: ALICE.principal } }, { agentId: 'agent-a' }, { owner: ALICE.principal }]) {
    const res = await call(BOB, 'get_decision', { decisionId: alices, ...extra });
    expect(res.isError).toBe(true);
    expect(JSON.stringify(res)).not.toContain('decided by agent-a');
  }
});

test('IAM: sessions of one role share its decisions, another role reads none of them', async () => {
  const id = await record(ROLE_SESSION_1, 'lambda-agent');
  expect((await call(ROLE_SESSION_2, 'get_decision', { decisionId: id })).structuredContent.found).toBe(true);
  expect((await call(OTHER_ROLE, 'get_decision', { decisionId: id })).structuredContent.found).toBe(false);
  expect((await call(ANONYMOUS, 'get_decision', { decisionId: id })).structuredContent.found).toBe(false);
});

test('an authenticated caller cannot read decisions recorded without authentication, nor the reverse', async () => {
  const anon = await record(ANONYMOUS, 'local-agent');
  const alices = await record(ALICE, 'agent-a');
  expect((await call(ANONYMOUS, 'get_decision', { decisionId: anon })).structuredContent.found).toBe(true);
  expect((await call(ALICE, 'get_decision', { decisionId: anon })).structuredContent.found).toBe(false);
  expect((await call(ANONYMOUS, 'get_decision', { decisionId: alices })).structuredContent.found).toBe(false);
});

test('a decision stored without a caller (recorded before callers were) is readable by nobody through the tool', async () => {
  const legacy = await decisions.record({ agentId: 'old', decision: 'd', rationale: 'r', toolCalls: [], dataReferences: [] });
  for (const who of [ALICE, BOB, ROLE_SESSION_1, ANONYMOUS]) {
    expect((await call(who, 'get_decision', { decisionId: legacy.decisionId })).structuredContent.found).toBe(false);
  }
});

test('owners: an assumed-role session files under its role; users, tokens and anonymous under their exact principal and kind', () => {
  expect(decisionOwner(ROLE_SESSION_1)).toBe('iam-role:arn:aws:sts::111122223333:assumed-role/support-agent');
  expect(decisionOwner(ROLE_SESSION_1)).toBe(decisionOwner(ROLE_SESSION_2));
  expect(decisionOwner({ kind: 'iam', principal: 'arn:aws:iam::111122223333:user/dev' })).toBe('iam:arn:aws:iam::111122223333:user/dev');
  // The same string under another authentication kind is another owner.
  expect(decisionOwner({ kind: 'jwt', principal: 'anonymous' })).not.toBe(decisionOwner(ANONYMOUS));
  expect(decisionOwner({ kind: 'iam', principal: 'arn:aws:sts::111122223333:assumed-role/support-agent' })).not.toBe(decisionOwner(ROLE_SESSION_1));
});
