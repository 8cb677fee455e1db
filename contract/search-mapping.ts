// The OpenSearch index of a search view: its names, explicit mappings and settings, derived from the ViewConfig (used at synth and by the index handler).
import type { SearchVectorConfig, ViewConfig, ViewFieldConfig } from './view-config';

/** Field holding a document's provenance; mapped explicitly so agents can filter on source, op and commit time. */
export const PROVENANCE_FIELD = '_provenance';

/** Version suffix of the physical index behind a view's alias (`<alias>-v1`). Bumping it means a new index and a replay. */
export const INDEX_GENERATION = 1;

/** The physical index a view's alias points to. */
export function physicalIndexName(alias: string, generation = INDEX_GENERATION): string {
  return `${alias}-v${generation}`;
}

/** Index names OpenSearch accepts: lowercase, no reserved characters, not starting with `_`, `-` or `+`, at most 255 bytes. */
export function indexNameProblem(name: string): string | undefined {
  if (name.length === 0) return 'is empty';
  if (name !== name.toLowerCase()) return 'has uppercase letters';
  if (/^[-_+.]/.test(name)) return "starts with '-', '_', '+' or '.'";
  if (/[\\/*?"<>| ,#:]/.test(name)) return 'contains one of \\ / * ? " < > | space , # :';
  if (Buffer.byteLength(name, 'utf8') > 200) return 'is longer than 200 bytes';
  return undefined;
}

export type FieldMapping = Record<string, unknown>;

/** How a view field type is indexed. */
export function fieldMapping(field: ViewFieldConfig): FieldMapping {
  switch (field.type) {
    case 'text':
      return { type: 'text' };
    case 'keyword':
      return { type: 'keyword', ignore_above: 1024 };
    case 'string':
      // Searchable as text and exact-matchable through `<field>.keyword`, like OpenSearch's own string default.
      return { type: 'text', fields: { keyword: { type: 'keyword', ignore_above: 256 } } };
    case 'integer':
      return { type: 'long' };
    case 'number':
      return { type: 'double' };
    case 'boolean':
      return { type: 'boolean' };
    case 'timestamp':
      return { type: 'date', format: 'strict_date_optional_time||epoch_millis' };
    case 'json':
      // Kept in _source and returned to agents, never indexed: arbitrary JSON would otherwise explode the mapping.
      return { type: 'object', enabled: false };
    default:
      throw new Error(`field '${(field as ViewFieldConfig).name}' has unknown type '${(field as ViewFieldConfig).type}'`);
  }
}

/** The `_provenance` object: filterable identifiers and times, opaque positions. */
export const PROVENANCE_MAPPING: FieldMapping = {
  type: 'object',
  dynamic: 'strict',
  properties: {
    sourceDatabase: { type: 'keyword' },
    sourceTable: { type: 'keyword' },
    key: { type: 'object', enabled: false },
    commitTimeMs: { type: 'date', format: 'epoch_millis' },
    position: { type: 'object', enabled: false },
    // 63-bit integers exceed JavaScript's safe range: kept as a string, compared by OpenSearch's external version instead.
    version: { type: 'keyword' },
    op: { type: 'keyword' },
    kafka: { type: 'object', enabled: false },
    writtenAtMs: { type: 'date', format: 'epoch_millis' },
    // The sink invocation that wrote the document: searchable, to find every document one batch wrote.
    writer: { type: 'object', properties: { requestId: { type: 'keyword' }, traceId: { type: 'keyword' } } },
  },
};

export interface IndexMappings {
  readonly dynamic: 'strict';
  readonly properties: Record<string, FieldMapping>;
}

/** Explicit mappings of a view's index: one property per declared field plus `_provenance`; unknown fields are rejected. */
export function viewMappings(view: ViewConfig): IndexMappings {
  const properties: Record<string, FieldMapping> = {};
  for (const field of view.fields) {
    if (field.name === PROVENANCE_FIELD) throw new Error(`view '${view.name}': field name '${PROVENANCE_FIELD}' is reserved for provenance`);
    properties[field.name] = fieldMapping(field);
  }
  properties[PROVENANCE_FIELD] = PROVENANCE_MAPPING;
  const vector = view.search?.vector;
  if (vector) {
    const problem = vectorConfigProblem(view, vector);
    if (problem) throw new Error(`view '${view.name}': search.vector ${problem}`);
    properties[vector.field] = vectorMapping(vector);
  }
  return { dynamic: 'strict', properties };
}

/** HNSW graph parameters: OpenSearch's defaults for `m`, a higher `ef_construction` for recall on small indexes. */
export const HNSW_PARAMETERS = { m: 16, ef_construction: 128 } as const;

/**
 * A `knn_vector` field with an HNSW graph on the Faiss engine (the k-NN plugin's default engine, supports all
 * three space types and efficient filtering during k-NN search).
 */
export function vectorMapping(vector: SearchVectorConfig): FieldMapping {
  return {
    type: 'knn_vector',
    dimension: vector.dimension,
    method: { name: 'hnsw', engine: 'faiss', space_type: vector.spaceType, parameters: { ...HNSW_PARAMETERS } },
  };
}

/** Why a vector config cannot work for the view, or undefined. */
export function vectorConfigProblem(view: ViewConfig, vector: SearchVectorConfig): string | undefined {
  const fields = new Map(view.fields.map(f => [f.name, f]));
  if (!/^[a-z][a-z0-9_]*$/.test(vector.field)) return `field '${vector.field}' must be snake_case (lowercase letters, digits, '_')`;
  if (fields.has(vector.field)) return `field '${vector.field}' is also a view field; give the vector its own name (e.g. '${vector.field}_embedding')`;
  if (vector.sourceFields.length === 0) return 'sourceFields is empty; name the text columns to embed';
  for (const f of vector.sourceFields) {
    const field = fields.get(f);
    if (!field) return `sourceField '${f}' is not a view field`;
    if (!['text', 'string', 'keyword'].includes(field.type)) return `sourceField '${f}' has type '${field.type}'; embed text, string or keyword columns`;
  }
  if (!Number.isInteger(vector.dimension) || vector.dimension < 1 || vector.dimension > 16000) return `dimension ${vector.dimension} must be an integer between 1 and 16000`;
  if (!['cosinesimil', 'innerproduct', 'l2'].includes(vector.spaceType)) return `spaceType '${vector.spaceType}' must be cosinesimil, innerproduct or l2`;
  if (!vector.modelId) return 'modelId is empty';
  return undefined;
}

export interface IndexSettingsOptions {
  /** Seconds OpenSearch keeps the version of a deleted document (`index.gc_deletes`). */
  readonly deleteTombstoneRetentionSeconds: number;
  readonly shards: number;
  readonly replicas: number;
}

/** Static settings are only applied at creation; dynamic ones (`gc_deletes`, replicas) are updated in place. */
export function viewIndexSettings(options: IndexSettingsOptions, view?: ViewConfig): { static: Record<string, unknown>; dynamic: Record<string, unknown> } {
  return {
    // `index.knn` is static: a vector added to an existing index without it needs a new index.
    static: { 'index.number_of_shards': options.shards, ...(view?.search?.vector ? { 'index.knn': true } : {}) },
    dynamic: {
      'index.number_of_replicas': options.replicas,
      'index.gc_deletes': `${options.deleteTombstoneRetentionSeconds}s`,
    },
  };
}

/**
 * Describes why an existing field mapping cannot become the desired one, or undefined when they are compatible.
 * Compatible means equal after ignoring keys OpenSearch adds itself; anything else needs a new index.
 */
export function mappingConflict(existing: FieldMapping, desired: FieldMapping): string | undefined {
  const e = normalize(desired.type === 'knn_vector' ? vectorEssentials(existing) : existing);
  const d = normalize(desired.type === 'knn_vector' ? vectorEssentials(desired) : desired);
  return JSON.stringify(e) === JSON.stringify(d) ? undefined : `is mapped as ${JSON.stringify(existing)}, the view needs ${JSON.stringify(desired)}`;
}

/** What makes two k-NN fields the same; OpenSearch may echo extra defaults (mode, data type) or move `space_type` up. */
function vectorEssentials(m: FieldMapping): FieldMapping {
  const method = (m.method ?? {}) as Record<string, unknown>;
  return {
    type: m.type,
    dimension: Number(m.dimension),
    name: method.name,
    engine: method.engine,
    space_type: method.space_type ?? m.space_type,
  };
}

/** The `date` format OpenSearch applies when none is given; GET _mapping leaves it out. */
const DEFAULT_DATE_FORMAT = 'strict_date_optional_time||epoch_millis';

function normalize(m: unknown): unknown {
  if (Array.isArray(m)) return m.map(normalize);
  if (m === null || typeof m !== 'object') return m;
  const out: Record<string, unknown> = {};
  const obj = m as Record<string, unknown>;
  // OpenSearch omits, when returning mappings, `type: object` for objects with properties and a `date`'s `format` when it is
  // the default (`strict_date_optional_time||epoch_millis`, the format timestamp fields declare).
  const keys = Object.keys(obj).filter(k => !(k === 'type' && obj[k] === 'object' && 'properties' in obj)
    && !(k === 'format' && obj.type === 'date' && obj[k] === DEFAULT_DATE_FORMAT)).sort();
  for (const k of keys) out[k] = normalize(obj[k]);
  return out;
}
