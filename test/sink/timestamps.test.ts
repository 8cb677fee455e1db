// Timestamp normalization: every encoding Debezium and Flink send for a TIMESTAMP field becomes one ISO-8601 UTC string.
import { coerce } from '../../lambda/shared/envelope';
import { normalizeTimestamp } from '../../lambda/shared/timestamps';

const ISO = '2026-11-28T00:18:18.123Z';
const MS = Date.parse(ISO);

test.each([
  ['epoch milliseconds (Debezium TIMESTAMP(1-3))', MS, ISO],
  ['epoch microseconds (Debezium MicroTimestamp, PostgreSQL timestamp)', MS * 1000 + 456, ISO],
  ['epoch nanoseconds (Debezium NanoTimestamp)', MS * 1e6, ISO],
  ['days since the epoch (Debezium Date)', 20420, '2025-11-28T00:00:00.000Z'],
  ['Flink JSON SQL style', '2026-11-28 00:18:18.123Z', ISO],
  ['PostgreSQL text with an offset', '2026-11-28 01:18:18.123+01', ISO],
  ['ISO with an offset', '2026-11-28T01:18:18.123+01:00', ISO],
  ['ISO already', ISO, ISO],
  ['a zone-less SQL timestamp (read as UTC)', '2026-11-28 00:18:18.123', ISO],
])('%s', (_name, input, expected) => {
  expect(normalizeTimestamp(input)).toBe(expected);
  expect(coerce('timestamp', input)).toBe(expected);
});

test('values that are not timestamps pass through unchanged', () => {
  expect(normalizeTimestamp('yesterday')).toBe('yesterday');
  expect(normalizeTimestamp(true)).toBe(true);
  expect(coerce('timestamp', null)).toBeNull();
});
