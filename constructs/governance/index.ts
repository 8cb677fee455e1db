// Public API of the governance layer.
export * from './agent-observability';
export * from './decision-audit-log';
export * from './lineage-catalog';
export type {
  FlinkLineageDeclaration, LineageSourceDeclaration, ViewLineageDeclaration, OpenLineageOptions, OpenLineageJobEvent, OpenLineageDatasetEvent,
} from '../../contract/lineage-graph';
export { toOpenLineage, traceView, buildLineageCatalog } from '../../contract/lineage-graph';
