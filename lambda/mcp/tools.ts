// The tool set generated from the declared views: lookups, search, aggregations, the catalog, lineage and the decision audit.
import type { McpServerDeps } from './context';
import { cacheTools } from './tools-cache';
import { catalogTools } from './tools-catalog';
import { decisionTools } from './tools-decisions';
import { searchTools } from './tools-search';
import type { ToolSpec } from './tool-spec';
import { warehouseTools } from './warehouse-tool';

export type { ToolAnswer, ToolSpec } from './tool-spec';

/** Every tool for the given views and the stores present. */
export function buildToolSpecs(deps: Pick<McpServerDeps, 'views' | 'decisions' | 'embeddings'>): ToolSpec[] {
  const specs: ToolSpec[] = [];
  const withEmbeddings = !!deps.embeddings;
  for (const view of deps.views) {
    specs.push(...(view.store === 'warehouse' ? warehouseTools(view, deps.views) : view.store === 'cache' ? cacheTools(view) : searchTools(view, withEmbeddings)));
  }
  if (deps.views.length > 0) specs.push(...catalogTools(deps.views, withEmbeddings));
  if (deps.decisions && deps.views.length > 0) specs.push(...decisionTools(deps.views));
  return specs;
}
