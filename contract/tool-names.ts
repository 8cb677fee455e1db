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

export const CATALOG_TOOLS = ['list_sources', 'describe_source', 'get_lineage'] as const;
export const DECISION_TOOLS = [RECORD_DECISION_TOOL, 'get_decision'] as const;

/** A view's tools; `<view>_similar` needs a vector config and a query embedder (the Lambda shell always has one). */
export function viewToolNames(view: Pick<ViewConfig, 'name' | 'store' | 'fields' | 'search'>, withEmbeddings = true): string[] {
  if (view.store === 'cache') return [`${view.name}_lookup`, `${view.name}_lookup_many`];
  if (view.store === 'warehouse') return [warehouseQueryToolName(view.name)];
  const names = [`${view.name}_search`];
  if (view.fields.some(f => AGGREGATABLE_TYPES.includes(f.type))) names.push(`${view.name}_aggregate`);
  if (view.search?.vector && withEmbeddings) names.push(`${view.name}_similar`);
  return names;
}

/** Every tool, in the order the server registers them. */
export function allToolNames(views: readonly Pick<ViewConfig, 'name' | 'store' | 'fields' | 'search'>[], withDecisions: boolean): string[] {
  if (views.length === 0) return [];
  return [...views.flatMap(v => viewToolNames(v)), ...CATALOG_TOOLS, ...(withDecisions ? DECISION_TOOLS : [])];
}

/** The one tool of a warehouse view: a bounded analytical query through Athena. */
export function warehouseQueryToolName(view: string): string {
  return `${view}_query`;
}
