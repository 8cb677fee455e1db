// The lineage catalog: built at synth from the declaration and the parsed Flink SQL, read by the MCP server (list_sources, get_lineage).
import type { ViewStoreName } from './view-config';

export type LineageNodeKind = 'source-table' | 'connector' | 'topic' | 'flink-statement' | 'sink' | 'store' | 'mcp-tool';

export interface LineageNode {
  readonly kind: LineageNodeKind;
  /** Unique within the catalog, e.g. `topic:agentdata.public.customers`. */
  readonly id: string;
  readonly name: string;
  readonly details?: Record<string, string>;
}

export interface LineageEdge {
  readonly from: string;
  readonly to: string;
}

export interface LineageViewEntry {
  readonly view: string;
  readonly store: ViewStoreName;
  /** Source tables whose changes feed this view (through Flink where a transform sits between). */
  readonly sourceTables: string[];
  /** The topic the sink reads. */
  readonly topic: string;
  /** Flink statements on the path, if any (`<application>#<n>`). */
  readonly pipeline: string[];
  readonly tools: string[];
}

export interface LineageCatalog {
  readonly version: 1;
  /** Stack or application that produced the catalog. */
  readonly namespace: string;
  readonly nodes: LineageNode[];
  readonly edges: LineageEdge[];
  readonly views: LineageViewEntry[];
}

/** Environment variable naming where the MCP server finds the catalog (see governance's catalog construct). */
export const LINEAGE_CATALOG_ENV = 'AGENT_LINEAGE_CATALOG';
