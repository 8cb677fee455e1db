// Schema changes in the sink's decode path: an added column is ignored, a declared rename keeps filling its field, a dropped or retyped
// declared column dead-letters the record with the reason (never a silent null), and views without a policy keep the lenient behaviour.
import type { ViewConfig } from '../../contract/view-config';
import { decodeRecord, SchemaChangeError } from '../../lambda/shared/envelope';
import { conforms } from '../../lambda/shared/schema-policy';
import type { DeadLetter } from '../../lambda/sink/dead-letter';
import { processBatch } from '../../lambda/sink/process';
import type { StoredRecord } from '../../contract/stored-record';
import { b64, mskEvent, productsView } from './helpers';

const NOW = 1_700_000_000_000;
const strict: ViewConfig = productsView({ keyPrefix: 'x:', schemaPolicy: { onMissingField: 'dead-letter', onTypeMismatch: 'dead-letter', renames: { label: 'name' } } });
const lenient: ViewConfig = productsView({ keyPrefix: 'x:' });
const full = { id: 7, name: 'hammer', description: 'heavy', weight: 1.5 };

function change(after: Record<string, unknown>, op = 'u', lsn = 100) {
  return { topic: strict.topic, partition: 0, offset: lsn, key: b64({ id: 7 }), value: b64({ before: null, after, op, source: { lsn, ts_ms: 1, db: 'd', schema: 'inventory', table: 'products' } }) };
}
const rowOf = (view: ViewConfig, after: Record<string, unknown>) => {
  const out = decodeRecord(view, change(after), { nowMs: NOW });
  if (out.kind !== 'write') throw new Error('expected a write');
  return out.record.row;
};

test('a column added upstream is ignored until a field declares it', () => {
  expect(rowOf(strict, { ...full, color: 'red' })).toEqual(full);
});

test('a declared rename fills the field from the new column name; events with the old name still do', () => {
  const { name, ...rest } = full;
  expect(rowOf(strict, { ...rest, label: name })).toEqual(full);
  expect(rowOf(strict, full)).toEqual(full);
});

test('a dropped declared column dead-letters the record with the reason, never a silent null', () => {
  const { description: _dropped, ...rest } = full;
  expect(() => rowOf(strict, rest)).toThrow(SchemaChangeError);
  expect(() => rowOf(strict, rest)).toThrow(/declared field 'description' is not in the row of inventory.products: the column was dropped or renamed upstream/);
  // A rename that is not declared is a missing field too, and the message names the declared renames it also looked for.
  const { name: _renamed, ...noName } = full;
  expect(() => rowOf(strict, { ...noName, title: 'hammer' })).toThrow(/'name' .*nor its declared renames 'label'/);
});

test('a null value of a column that exists is a value, not a schema change', () => {
  expect(rowOf(strict, { ...full, description: null })).toEqual({ ...full, description: null });
});

test('a declared field whose values changed type dead-letters the record with both types in the reason', () => {
  expect(() => rowOf(strict, { ...full, weight: 'n/a' })).toThrow(/field 'weight' is declared number but inventory.products sent string "n\/a": the column's type changed/);
  expect(() => rowOf(strict, { ...full, id: 7, name: { first: 'h' } })).toThrow(/field 'name' is declared string/);
  // Encodings that still mean the declared type are coerced, not refused: a NUMERIC sent as a string (decimal.handling.mode=string).
  expect(rowOf(strict, { ...full, weight: '2.25' })).toEqual({ ...full, weight: 2.25 });
});

test('deletes are not judged: their row is gone', () => {
  const out = decodeRecord(strict, { ...change({}), value: b64({ before: { id: 7 }, after: null, op: 'd', source: { lsn: 101, ts_ms: 1, db: 'd', schema: 'inventory', table: 'products' } }) }, { nowMs: NOW });
  expect(out).toMatchObject({ kind: 'write', record: { row: null } });
});

test('views without a policy (configurations that predate it) keep null for a missing field and the value as sent', () => {
  const { description: _d, ...rest } = full;
  expect(rowOf(lenient, { ...rest, weight: 'n/a' })).toEqual({ ...rest, description: null, weight: 'n/a' });
});

test.each([
  ['integer', 5, true], ['integer', '123456789012345678901', true], ['integer', 1.5, false], ['integer', 'abc', false],
  ['number', 1.5, true], ['number', '', false], ['boolean', true, true], ['boolean', 'yes', false],
  ['string', 'x', true], ['keyword', ['a'], false], ['timestamp', '2026-01-01T00:00:00.000Z', true], ['timestamp', 'soon', false],
  ['json', { a: 1 }, true], ['text', null, true],
] as const)('%s conforms to %p: %p', (type, value, ok) => {
  expect(conforms(type, value)).toBe(ok);
});

test('the sink dead-letters schema changes with stage "schema" and the reason, writes the rest, and counts them for the DeadLettered alarm', async () => {
  const letters: DeadLetter[] = [];
  const written: StoredRecord[] = [];
  const counts: Record<string, number> = {};
  const { description: _d, ...dropped } = full;
  const summary = await processBatch(mskEvent([change(full, 'u', 1), change(dropped, 'u', 2), change({ ...full, weight: 'heavy' }, 'u', 3)]), {
    views: [strict],
    writers: { cache: async (_v, recs) => { written.push(...recs); return { written: recs.length, stale: 0, failed: [] }; } },
    deadLetters: { send: async l => { letters.push(...l); } },
    metrics: { count: (view, name, n) => { counts[`${view}/${name}`] = (counts[`${view}/${name}`] ?? 0) + n; }, freshnessLag: () => undefined, cdcLag: () => undefined },
    log: { info: () => undefined, warn: () => undefined },
  });
  expect(summary).toMatchObject({ received: 3, written: 1, deadLettered: 2 });
  expect(written.map(r => r.provenance.kafka.offset)).toEqual(['1']);
  expect(letters.map(l => [l.offset, l.stage])).toEqual([['2', 'schema'], ['3', 'schema']]);
  expect(letters[0].error).toMatch(/declared field 'description'/);
  expect(letters[1].error).toMatch(/field 'weight' is declared number/);
  expect(counts['products/RecordsDeadLettered']).toBe(2);
});
