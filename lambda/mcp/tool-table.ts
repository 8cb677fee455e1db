// The container's tool table: the tool specs, their wrapped schemas and the lineage catalog, built once per deps (per warm
// container) and shared by the SDK path and the direct path; and the one place a tool runs and its call event is made.
import { randomUUID } from 'crypto';
import type { CallToolResult } from '@modelcontextprotocol/server';
import type { LineageCatalog } from '../../contract/lineage';
import { agentInputSchema } from './arguments';
import type { CallerIdentity } from './caller';
import type { McpServerDeps, ServedPosition, ToolCallEvent } from './context';
import { agentMessage, errorKind } from './errors';
import { buildToolSpecs, ToolSpec } from './tools';

/** At most this many served positions are logged per call. */
const MAX_LOGGED_POSITIONS = 100;

/** The tools of one deps, in list order and by name. */
export interface ToolTable {
  readonly specs: ToolSpec[];
  readonly byName: ReadonlyMap<string, ToolSpec>;
}

const tables = new WeakMap<object, { shape: string; table: ToolTable }>();

/** The tool table of these deps, built once per container. */
export function toolTableOf(deps: McpServerDeps): ToolTable {
  // Tool schemas depend only on the views and on whether a decision store and an embedder exist.
  const cacheKey = deps.views as object;
  const shape = `${!!deps.decisions}|${!!deps.embeddings}`;
  const cached = tables.get(cacheKey);
  if (cached && cached.shape === shape) return cached.table;
  const specs = buildToolSpecs(deps);
  const table = { specs, byName: new Map(specs.map(s => [s.name, s])) };
  tables.set(cacheKey, { shape, table });
  return table;
}

type StandardJsonSchema = { '~standard': { jsonSchema?: Record<'input' | 'output', (options: { target?: string }) => unknown> } };

/**
 * The schema with its JSON Schema conversion memoised. The SDK converts a tool's schemas to JSON Schema per McpServer (on
 * `tools/list`, and for the output schema on every `tools/call` it serves); the schemas never change in a container, so the
 * conversion runs once per schema and target.
 */
function withCachedJsonSchema<T extends object>(schema: T): T {
  const std = (schema as unknown as StandardJsonSchema)['~standard'];
  const convert = std.jsonSchema;
  if (!convert) return schema;
  const memo = new Map<string, unknown>();
  const cached = (io: 'input' | 'output') => (options: { target?: string }) => {
    const key = `${io}|${options?.target ?? ''}`;
    if (!memo.has(key)) memo.set(key, convert[io](options));
    return memo.get(key);
  };
  return { '~standard': { ...std, jsonSchema: { input: cached('input'), output: cached('output') } } } as unknown as T;
}

/** A Standard Schema (what the SDK validates tool input and output with). */
export interface StandardSchema {
  readonly '~standard': {
    validate(value: unknown): { value?: unknown; issues?: readonly unknown[] } | Promise<{ value?: unknown; issues?: readonly unknown[] }>;
  };
}

interface ToolSchemas {
  readonly input: StandardSchema;
  readonly output: StandardSchema;
  /**
   * The output schema as the SDK's McpServer gets it: the same JSON Schema for `tools/list`, and a `validate` that
   * passes the value through, because `executeTool` has already checked it (the SDK would check it a second time).
   */
  readonly outputForSdk: StandardSchema;
}

const toolSchemas = new WeakMap<ToolSpec, ToolSchemas>();

/** The tool's input (agent-readable errors) and output schemas, wrapped once per spec, that is once per container. */
export function schemasOf(spec: ToolSpec): ToolSchemas {
  let s = toolSchemas.get(spec);
  if (!s) {
    const output = withCachedJsonSchema(spec.outputSchema) as unknown as StandardSchema;
    s = {
      input: withCachedJsonSchema(agentInputSchema(spec.inputSchema)) as unknown as StandardSchema,
      output,
      outputForSdk: { '~standard': { ...output['~standard'], validate: (value: unknown) => ({ value }) } },
    };
    toolSchemas.set(spec, s);
  }
  return s;
}

const catalogs = new WeakMap<McpServerDeps, () => Promise<LineageCatalog | undefined>>();

/**
 * The lineage catalog of these deps, loaded at most once per container (the catalog changes only with a deployment, which
 * brings new containers). A load that found nothing or failed is tried again by the next call that needs it.
 */
export function catalogOf(deps: McpServerDeps): () => Promise<LineageCatalog | undefined> {
  let load = catalogs.get(deps);
  if (!load) {
    let loaded: Promise<LineageCatalog | undefined> | undefined;
    load = () => {
      const source = deps.catalog;
      if (typeof source !== 'function') return Promise.resolve(source);
      loaded ??= source().then(
        catalog => { if (catalog === undefined) loaded = undefined; return catalog; },
        error => { loaded = undefined; throw error; },
      );
      return loaded;
    };
    catalogs.set(deps, load);
  }
  return load;
}

type Issue = { readonly message?: unknown; readonly path?: readonly unknown[] };

/** A value checked against a Standard Schema: the parsed value, or the issues. */
export async function validated(schema: StandardSchema, value: unknown): Promise<{ value: unknown; issues?: undefined } | { issues: readonly Issue[] }> {
  const result = await schema['~standard'].validate(value);
  return result.issues && result.issues.length > 0 ? { issues: result.issues as readonly Issue[] } : { value: result.value };
}

/** An issue as the SDK's `validateStandardSchema` formats it: `path.to.field: message`, or the message alone at the root. */
function formatIssue(issue: Issue): string {
  if (!issue.path?.length) return String(issue.message);
  return `${issue.path.map(p => String(typeof p === 'object' && p !== null ? (p as { key: unknown }).key : p)).join('.')}: ${String(issue.message)}`;
}

/**
 * The message of the SDK's McpServer `validateToolOutput` for output that does not validate (its `tools/call` handler answers
 * with it as a tool error result, `createToolError`, not as a JSON-RPC error); undefined for valid output.
 */
async function outputRefusal(schema: StandardSchema, structured: unknown, tool: string): Promise<string | undefined> {
  if (structured === undefined) return `Output validation error: Tool ${tool} has an output schema but no structured content was provided`;
  const output = await validated(schema, structured);
  if (!output.issues) return undefined;
  return `Output validation error: Invalid structured content for tool ${tool}: ${output.issues.map(formatIssue).join(', ')}`;
}

/** Runs one tool: the result the client gets and the call event for the observer (emitted by the caller, once). */
export async function executeTool(
  spec: ToolSpec, args: unknown, deps: McpServerDeps, caller: CallerIdentity,
): Promise<{ result: CallToolResult; event: ToolCallEvent }> {
  const correlationId = randomUUID();
  const started = performance.now();
  try {
    const answer = await spec.run(args, deps, catalogOf(deps), caller);
    // The output is checked here, for both paths, so output that does not validate (a stored row that no longer fits the
    // view's fields) is a tool error in the call event and the ToolErrors metric, not only in the agent's answer. The SDK
    // skips its own check for an error result, and answers this one with the same text it would have given.
    const refusal = await outputRefusal(schemasOf(spec).output, answer.structured, spec.name);
    if (refusal !== undefined) {
      return {
        result: { content: [{ type: 'text', text: refusal }], isError: true },
        event: {
          tool: spec.name, correlationId, outcome: 'error', latencyMs: performance.now() - started, resultBytes: 0, resultCount: 0,
          positions: [], errorKind: 'OutputValidation', errorDetail: refusal.slice(0, 2000),
        },
      };
    }
    const text = JSON.stringify(answer.structured);
    return {
      result: { content: [{ type: 'text', text }], structuredContent: answer.structured },
      event: {
        tool: spec.name, correlationId, outcome: 'ok', latencyMs: performance.now() - started,
        resultBytes: Buffer.byteLength(text), resultCount: answer.count, positions: cap(answer.positions),
      },
    };
  } catch (error) {
    return {
      result: { content: [{ type: 'text', text: agentMessage(error, correlationId) }], isError: true },
      event: {
        tool: spec.name, correlationId, outcome: 'error', latencyMs: performance.now() - started, resultBytes: 0, resultCount: 0,
        positions: [], errorKind: errorKind(error), errorDetail: errorDetail(error),
      },
    };
  }
}

/** The internal description of an error, for the log only: the message plus a store's response body, bounded. */
function errorDetail(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const body = (error as { meta?: { body?: unknown } })?.meta?.body;
  const detail = body === undefined ? message : `${message}: ${typeof body === 'string' ? body : JSON.stringify(body)}`;
  return detail.slice(0, 2000);
}

function cap(positions: readonly ServedPosition[]): readonly ServedPosition[] {
  return positions.length > MAX_LOGGED_POSITIONS ? positions.slice(0, MAX_LOGGED_POSITIONS) : positions;
}
