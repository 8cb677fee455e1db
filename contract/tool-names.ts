// Tool names the MCP server offers for a set of views: dependency-free, so the construct can name per-tool metrics at synth.
import { RECORD_DECISION_TOOL } from './metric-names';
import type { ViewConfig, ViewFieldType } from './view-config';

/** Field types a `<view>_aggregate` can use; a search view with none of them gets no aggregate tool. */
export const AGGREGATABLE_TYPES: readonly ViewFieldType[] = ['keyword', 'string', 'integer', 'boolean', 'timestamp', 'number'];

/**
 * Tool names SHOULD be 1 to 64 characters (MCP specification 2025-11-25, "Tool names", from SEP-986:
 * https://modelcontextprotocol.io/specification/2025-11-25/server/tools#tool-names).
 */
export const MAX_TOOL_NAME_LENGTH = 64;
/**
 * A view's name: snake_case, at most 48 characters. Its longest tool (`<view>_lookup_many`, 12 more) stays within
 * MAX_TOOL_NAME_LENGTH with room to spare for the prefixes some clients add (`mcp__<server>__`). The one rule: the
 * construct-side view (AgentView) validates names with it, and nothing else re-checks them.
 */
export const MAX_VIEW_NAME_LENGTH = 48;

/** Why `name` cannot be a view name, or undefined when it can. */
export function viewNameProblem(name: string): string | undefined {
  if (!/^[a-z][a-z0-9_]*$/.test(name)) return "is not snake_case (lowercase letters, digits, '_', starting with a letter)";
  if (name.length > MAX_VIEW_NAME_LENGTH) return `is ${name.length} characters, more than ${MAX_VIEW_NAME_LENGTH} (its tool names must stay within ${MAX_TOOL_NAME_LENGTH})`;
  return undefined;
}

/** The catalog tools, offered whenever a view exists. */
export const LIST_SOURCES_TOOL = 'list_sources';
export const DESCRIBE_SOURCE_TOOL = 'describe_source';
export const GET_LINEAGE_TOOL = 'get_lineage';
export const CATALOG_TOOLS = [LIST_SOURCES_TOOL, DESCRIBE_SOURCE_TOOL, GET_LINEAGE_TOOL] as const;

/** The decision audit tools, offered with a decision store. */
export { RECORD_DECISION_TOOL };
export const GET_DECISION_TOOL = 'get_decision';
export const DECISION_TOOLS = [RECORD_DECISION_TOOL, GET_DECISION_TOOL] as const;

/** What a view's tool does; the suffix of its name. */
export type ViewToolKind = 'lookup' | 'lookup_many' | 'search' | 'aggregate' | 'similar' | 'query';

/** The name of a view's tool of one kind, `<view>_<kind>`: the one place a view tool's name is spelled. */
export function viewToolName(view: string, kind: ViewToolKind): string {
  return `${view}_${kind}`;
}

type ToolView = Pick<ViewConfig, 'name' | 'store' | 'fields' | 'search'>;

/**
 * The kinds of tool a view has, in the order the server registers them; `<view>_similar` needs a vector config and a query
 * embedder (the Lambda shell always has one). The construct (lineage, per-tool metrics) and the server (which tools it
 * builds) both ask this function.
 */
export function viewToolKinds(view: ToolView, withEmbeddings = true): ViewToolKind[] {
  if (view.store === 'cache') return ['lookup', 'lookup_many'];
  if (view.store === 'warehouse') return ['query'];
  const kinds: ViewToolKind[] = ['search'];
  if (view.fields.some(f => AGGREGATABLE_TYPES.includes(f.type))) kinds.push('aggregate');
  if (view.search?.vector && withEmbeddings) kinds.push('similar');
  return kinds;
}

/** A view's tool names, in the order the server registers them. */
export function viewToolNames(view: ToolView, withEmbeddings = true): string[] {
  return viewToolKinds(view, withEmbeddings).map(kind => viewToolName(view.name, kind));
}

/** Every tool, in the order the server registers them. */
export function allToolNames(views: readonly ToolView[], withDecisions: boolean): string[] {
  if (views.length === 0) return [];
  return [...views.flatMap(v => viewToolNames(v)), ...CATALOG_TOOLS, ...(withDecisions ? DECISION_TOOLS : [])];
}
