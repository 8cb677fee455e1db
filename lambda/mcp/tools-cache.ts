// Cache view tools: `<view>_lookup` and `<view>_lookup_many`, under the caller's row scope and the answer's byte budget.
import * as z from 'zod';
import type { StoredRecord } from '../../contract/stored-record';
import { viewToolName } from '../../contract/tool-names';
import type { ViewConfig } from '../../contract/view-config';
import { JsonByteBudget } from './byte-budget';
import type { McpServerDeps } from './context';
import { decodeCursor, encodeCursor, MAX_CURSOR_LENGTH } from './cursor';
import { inScope, rowScopeOf, type RowScope } from './row-scope';
import { answerFreshness, answerFreshnessSchema, keySchema, LIMITS, servedRowSchema } from './schemas';
import { positionOf, readCacheRecord, servedRow } from './stores';
import { describeKey, rowWarning, type ToolSpec, warningSchema } from './tool-spec';

/** Bytes of row JSON an answer carries before it is cut (`McpBounds.maxResultBytes`). */
export const DEFAULT_MAX_RESULT_BYTES = 512 * 1024;

export function maxResultBytes(deps: McpServerDeps): number {
  return deps.bounds?.maxResultBytes ?? DEFAULT_MAX_RESULT_BYTES;
}


/** Out-of-scope rows and tombstones under a scope read as never written: no row, no provenance, nothing to tell them apart. */
function scoped(scope: RowScope | undefined, record: StoredRecord | undefined): StoredRecord | undefined {
  return record && scope && !inScope(scope, record.row) ? undefined : record;
}

export const truncationSchema = {
  truncated: z.boolean().describe('true when the answer stops early because a bound was reached; nextCursor (when set) continues it'),
  nextCursor: z.string().nullable().describe('Pass as the cursor argument, with the same other arguments, for the rest'),
};

export function cacheTools(view: ViewConfig): ToolSpec[] {
  const key = keySchema(view);
  const served = servedRowSchema(view);
  const scopeNote = view.rowScope ? ' Rows are limited to those your identity may read; other rows answer as not found.' : '';
  const lookup: ToolSpec = {
    name: viewToolName(view.name, 'lookup'),
    title: `Look up one ${view.name} row`,
    description: `${view.description} Returns the current row for one key (${describeKey(view)}) from the cache the pipeline keeps up to date, with its provenance and age. found=false with deleted=true means the source deleted it.${scopeNote}`,
    inputSchema: key,
    outputSchema: served.extend({ view: z.string(), warning: warningSchema }),
    readOnly: true,
    async run(args, deps, _catalog, caller) {
      const scope = rowScopeOf(view, caller);
      const record = scoped(scope, await readCacheRecord(deps, view, args));
      const answer = servedRow(view, args, record, deps.now());
      return {
        structured: { view: view.name, ...answer, warning: rowWarning(answer.freshness) },
        count: answer.found ? 1 : 0,
        positions: positionOf(view.name, record?.provenance),
      };
    },
  };
  const manyName = viewToolName(view.name, 'lookup_many');
  const many: ToolSpec = {
    name: manyName,
    title: `Look up several ${view.name} rows`,
    description: `${view.description} Returns the current rows for up to ${LIMITS.maxLookupKeys} keys (${describeKey(view)}) in the order given, each with provenance and age. An answer carries at most about ${Math.round(DEFAULT_MAX_RESULT_BYTES / 1024)} KB of rows: beyond it, truncated=true and nextCursor continues with the remaining keys.${scopeNote}`,
    inputSchema: z.strictObject({
      keys: z.array(key).min(1).max(LIMITS.maxLookupKeys).describe(`1 to ${LIMITS.maxLookupKeys} keys`),
      cursor: z.string().min(1).max(MAX_CURSOR_LENGTH).optional().describe('The nextCursor of the previous answer for the same keys'),
    }),
    outputSchema: z.object({
      view: z.string(), found: z.number().int(), missing: z.number().int(), results: z.array(served), freshness: answerFreshnessSchema,
      ...truncationSchema,
      remainingKeys: z.number().int().describe('Keys not yet answered (0 unless truncated)'),
    }),
    readOnly: true,
    async run(args: { keys: Record<string, unknown>[]; cursor?: string }, deps, _catalog, caller) {
      const scope = rowScopeOf(view, caller);
      const start = args.cursor ? decodeCursor(manyName, args.cursor, { keys: args.keys, scope: scope?.value }, args.keys.length - 1) : 0;
      const keys = args.keys.slice(start);
      // One command per key: a cluster-mode cache spreads keys over slots, so no multi-key command applies.
      const records = (await Promise.all(keys.map(k => readCacheRecord(deps, view, k)))).map(r => scoped(scope, r));
      const now = deps.now();
      // At least one row per answer, so every page makes progress.
      const budget = new JsonByteBudget(maxResultBytes(deps));
      const results = [];
      for (let i = 0; i < keys.length; i++) {
        const r = servedRow(view, keys[i], records[i], now);
        if (!budget.admit(r)) break;
        results.push(r);
      }
      const next = start + results.length;
      const truncated = next < args.keys.length;
      const found = results.filter(r => r.found).length;
      return {
        structured: {
          view: view.name, found, missing: results.length - found, results, freshness: answerFreshness(results.map(r => r.freshness), view),
          truncated,
          nextCursor: truncated ? encodeCursor(manyName, next, { keys: args.keys, scope: scope?.value }) : null,
          remainingKeys: args.keys.length - next,
        },
        count: found,
        positions: records.slice(0, results.length).flatMap(r => positionOf(view.name, r?.provenance)),
      };
    },
  };
  return [lookup, many];
}
