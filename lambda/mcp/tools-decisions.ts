// Decision audit tools: record_decision (append, with the authenticated caller) and get_decision.
import * as z from 'zod';
import { assertDecisionFits, DecisionTooLargeError, jsonBytes, type DecisionInput } from '../../contract/decision-store';
import { GET_DECISION_TOOL, RECORD_DECISION_TOOL } from '../../contract/tool-names';
import type { ViewConfig } from '../../contract/view-config';
import { mayReadDecision } from './decision-access';
import { ToolInputError, withTimeout } from './errors';
import { LIMITS, provenanceInputSchema, provenanceSchema } from './schemas';
import { timeoutOf } from './stores';
import { anyKeySchema, type ToolSpec, viewKey, viewsEnum } from './tool-spec';

const decisionRecordSchema = z.object({
  decisionId: z.string(),
  recordedAt: z.string(),
  agentId: z.string(),
  decision: z.string(),
  rationale: z.string(),
  toolCalls: z.array(z.object({ tool: z.string(), arguments: z.record(z.string(), z.unknown()) })),
  dataReferences: z.array(z.object({ view: z.string(), key: z.record(z.string(), z.unknown()), provenance: provenanceSchema.optional() })),
  caller: z.object({
    kind: z.string(), principal: z.string(), accountId: z.string().optional(), clientId: z.string().optional(), scopes: z.array(z.string()).optional(),
  }).optional().describe('Who called, as the endpoint authenticated them (IAM principal or token subject); agentId is what the agent claims'),
});

const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:@/-]{0,127}$/;
const DECISION_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;

/** Room for what the store adds to the arguments: decisionId (at most 128 characters) and recordedAt. */
const RECORD_OVERHEAD_BYTES = 256;

export function decisionTools(views: readonly ViewConfig[]): ToolSpec[] {
  const names = viewsEnum(views);
  return [
    {
      name: RECORD_DECISION_TOOL,
      title: 'Record a decision',
      description: 'Appends a decision to the audit log: what was decided, why, the tool calls made and the exact data (view, key, provenance as returned by the tools) it relied on. Returns the decision id.',
      inputSchema: z.strictObject({
        agentId: z.string().regex(ID_PATTERN, 'letters, digits and . _ : @ / - (at most 128)').describe('Who decided'),
        decision: z.string().min(1).max(LIMITS.maxDecisionLength),
        rationale: z.string().min(1).max(LIMITS.maxRationaleLength),
        toolCalls: z.array(z.strictObject({
          tool: z.string().regex(/^[A-Za-z0-9_.-]{1,128}$/),
          arguments: z.record(z.string().max(128), z.unknown())
            .refine(a => jsonBytes(a) <= LIMITS.maxToolCallArgumentsBytes, `arguments are at most ${LIMITS.maxToolCallArgumentsBytes} bytes of JSON (UTF-8)`),
        })).max(LIMITS.maxDecisionItems).default([]),
        dataReferences: z.array(z.strictObject({
          view: names,
          key: anyKeySchema,
          provenance: provenanceInputSchema.optional().describe('The provenance object the reading tool returned'),
        })).max(LIMITS.maxDecisionItems).default([]),
      }),
      outputSchema: decisionRecordSchema,
      readOnly: false,
      async run(args, deps, _catalog, caller) {
        const store = deps.decisions!;
        (args.dataReferences as { view: string; key: unknown }[]).forEach((ref, i) => viewKey(views.find(v => v.name === ref.view)!, ref.key, `dataReferences[${i}].key`));
        // The caller is what the endpoint authenticated, never an argument: the strict input schema refuses a 'caller' key.
        // Its token claims stay out of the audit (they can be personal data and say nothing the principal does not).
        const { claims: _claims, ...audited } = caller;
        const input = { ...args, caller: audited } as DecisionInput;
        try {
          // Before anything is written (the estimate allows for what the store adds); the store checks its exact record again.
          assertDecisionFits(input, RECORD_OVERHEAD_BYTES);
          const record = await withTimeout('decision store', timeoutOf(deps, 'decisionsMs'), () => store.record(input));
          return { structured: { ...record }, count: 1, positions: [] };
        } catch (e) {
          if (e instanceof DecisionTooLargeError) throw new ToolInputError(e.message);
          throw e;
        }
      },
    },
    {
      name: GET_DECISION_TOOL,
      title: 'Read a recorded decision',
      description: `Returns a decision recorded with ${RECORD_DECISION_TOOL}, with the data references and provenance it cited. Only decisions recorded by your own identity (as this endpoint authenticated it) are returned; any other id answers found=false.`,
      inputSchema: z.strictObject({ decisionId: z.string().regex(DECISION_ID_PATTERN, `a decision id as returned by ${RECORD_DECISION_TOOL}`) }),
      outputSchema: z.object({ found: z.boolean(), decision: decisionRecordSchema.nullable() }),
      readOnly: true,
      async run(args: { decisionId: string }, deps, _catalog, caller) {
        const store = deps.decisions!;
        const stored = await withTimeout('decision store', timeoutOf(deps, 'decisionsMs'), () => store.get(args.decisionId));
        // Another identity's decision reads exactly like an id never issued: nothing tells the caller it exists.
        const record = stored && mayReadDecision(stored, caller) ? stored : undefined;
        return { structured: { found: !!record, decision: record ?? null }, count: record ? 1 : 0, positions: [] };
      },
    },
  ];
}
