// Tool names the MCP server offers for a set of views: dependency-free, so the construct can name per-tool metrics at synth.
import { RECORD_DECISION_TOOL } from './metric-names';
import type { ViewConfig, ViewFieldType } from './view-config';

/** Field types a `<view>_aggregate` can use; a search view with none of them gets no aggregate tool. */
export const AGGREGATABLE_TYPES: readonly ViewFieldType[] = ['keyword', 'string', 'integer', 'boolean', 'timestamp', 'number'];

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
