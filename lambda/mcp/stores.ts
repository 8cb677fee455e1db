// Reads of stored rows in the contract format (contract/stored-record.ts), each under a timeout.
import { CACHE_FIELDS, cacheKey, documentId, Provenance, StoredRecord } from '../../contract/stored-record';
import type { ViewConfig } from '../../contract/view-config';
import type { McpServerDeps, ServedPosition } from './context';
import { ToolInputError, withTimeout } from './errors';
import { freshness, type Freshness } from './schemas';

export const DEFAULT_TIMEOUTS = { cacheMs: 2000, searchMs: 5000, decisionsMs: 5000, embeddingsMs: 5000 } as const;

export function timeoutOf(deps: McpServerDeps, store: keyof typeof DEFAULT_TIMEOUTS): number {
  return deps.timeouts?.[store] ?? DEFAULT_TIMEOUTS[store];
}

/** The row of a cache view for one key, `undefined` when never written. */
export async function readCacheRecord(deps: McpServerDeps, view: ViewConfig, key: Record<string, unknown>): Promise<StoredRecord | undefined> {
  const redis = deps.redis;
  if (!redis || !view.cache) throw new ToolInputError(`View '${view.name}' has no cache configured on this server.`);
  const redisKey = cacheKey(view.cache.keyPrefix, view.key, key);
  const hash = await withTimeout('cache', timeoutOf(deps, 'cacheMs'), () => redis.hgetall(redisKey));
  const raw = hash?.[CACHE_FIELDS.record];
  if (!raw) return undefined;
  return JSON.parse(raw) as StoredRecord;
}

/** The provenance (and row) of a search view's document, `undefined` when absent. */
export async function readSearchRecord(deps: McpServerDeps, view: ViewConfig, key: Record<string, unknown>): Promise<StoredRecord | undefined> {
  const search = deps.search;
  if (!search || !view.search) throw new ToolInputError(`View '${view.name}' has no search index configured on this server.`);
  const index = view.search.index;
  const ms = timeoutOf(deps, 'searchMs');
  const res = await withTimeout('search domain', ms, () => search.get(
    { index, id: documentId(view.key, key), _source_includes: [...view.fields.map(f => f.name), '_provenance'] },
    { requestTimeout: ms, maxRetries: 0, ignore: [404] },
  ));
  const body = res.body as { found?: boolean; _source?: Record<string, unknown> };
  if (!body?.found || !body._source) return undefined;
  const { row, provenance } = splitDocument(body._source);
  return { view: view.name, row, provenance: provenance as Provenance };
}

/** Separates the row fields from `_provenance` in an OpenSearch document. */
export function splitDocument(source: Record<string, unknown>): { row: Record<string, unknown>; provenance: Provenance | null } {
  const { _provenance, ...row } = source;
  return { row, provenance: isProvenance(_provenance) ? _provenance : null };
}

function isProvenance(p: unknown): p is Provenance {
  const x = p as Provenance | undefined;
  return !!x && typeof x === 'object' && typeof x.commitTimeMs === 'number' && typeof x.version === 'string' && !!x.position;
}

export interface ServedRow {
  key: Record<string, unknown>;
  found: boolean;
  deleted: boolean;
  row: Record<string, unknown> | null;
  provenance: Provenance | null;
  freshness: Freshness | null;
}

export function servedRow(view: Pick<ViewConfig, 'maxStalenessMs'>, key: Record<string, unknown>, record: StoredRecord | undefined, nowMs: number): ServedRow {
  if (!record) return { key, found: false, deleted: false, row: null, provenance: null, freshness: null };
  const p = record.provenance;
  return {
    key,
    found: record.row !== null,
    deleted: record.row === null,
    row: record.row,
    provenance: p,
    freshness: p ? freshness(p.commitTimeMs, nowMs, view, p.position) : null,
  };
}

export function positionOf(view: string, p: Provenance | null | undefined): ServedPosition[] {
  return p ? [{ view, key: p.key, version: p.version, position: p.position, commitTimeMs: p.commitTimeMs }] : [];
}
