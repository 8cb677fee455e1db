// Public API of the governance layer.
export * from './agent-observability';
export * from './decision-audit-log';
export * from './lineage-catalog';
export * from './metric-names';
