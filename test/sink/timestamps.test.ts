// Timestamp normalization: every encoding Debezium and Flink send for a TIMESTAMP field becomes one ISO-8601 UTC string.
import { coerce } from '../../lambda/shared/envelope';
import { normalizeTimestamp } from '../../contract/timestamps';
import { mulberry32 } from '../helpers/random';

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

/** The normalization without its fast path: the regex, a Date, and toISOString for every SQL or ISO string. */
function viaDate(v: string): unknown {
  const m = /^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2}(?:\.\d+)?)(Z|[+-]\d{2}(?::?\d{2})?)?$/.exec(v.trim());
  if (!m) return v;
  const zone = m[3] === undefined ? 'Z' : m[3].length === 3 ? `${m[3]}:00` : m[3];
  const d = new Date(`${m[1]}T${m[2]}${zone}`);
  return Number.isNaN(d.getTime()) ? v : d.toISOString();
}

test('property: the Date-free path for plain UTC strings gives what Date gives, including out-of-range fields', () => {
  const seed = Number(process.env.TIMESTAMP_PROPERTY_SEED ?? 20261130);
  const rand = mulberry32(seed);
  const int = (n: number) => Math.floor(rand() * n);
  const two = (n: number) => String(n).padStart(2, '0');
  for (let i = 0; i < 20_000; i++) {
    const frac = int(3) === 0 ? '' : `.${Array.from({ length: 1 + int(10) }, () => int(10)).join('')}`;
    const zone = ['Z', '', 'Z', '+01:00', ' ', '-0530'][int(6)];
    const v = `${String(int(10000)).padStart(4, '0')}-${two(int(14))}-${two(int(33))}${int(2) ? 'T' : ' '}${two(int(26))}:${two(int(62))}:${two(int(62))}${frac}${zone}`;
    const got = normalizeTimestamp(v);
    if (got !== viaDate(v)) throw new Error(`seed=${seed} case=${i}: ${JSON.stringify(v)} gave ${String(got)}, Date gives ${String(viaDate(v))} (replay with TIMESTAMP_PROPERTY_SEED=${seed})`);
  }
});

test('the unit ranges docs/stores.md states: right from their first date on, and the documented misreading just before it', () => {
  const ms = (iso: string) => Date.parse(iso);
  // Milliseconds from 1970-01-02; days below that magnitude.
  expect(normalizeTimestamp(ms('1970-01-02T03:46:41Z'))).toBe('1970-01-02T03:46:41.000Z');
  expect(normalizeTimestamp(ms('5138-11-16T09:46:39Z'))).toBe('5138-11-16T09:46:39.000Z');
  expect(normalizeTimestamp(19_000)).toBe('2022-01-08T00:00:00.000Z');
  // Micro- and nanoseconds from 1973-03-03T09:46:40Z (1e8 s), and as far before 1970.
  expect(normalizeTimestamp(ms('1973-03-03T09:46:40Z') * 1000)).toBe('1973-03-03T09:46:40.000Z');
  expect(normalizeTimestamp(ms('1973-03-03T09:46:40Z') * 1e6)).toBe('1973-03-03T09:46:40.000Z');
  expect(normalizeTimestamp(ms('1966-10-31T14:13:20Z') * 1000)).toBe('1966-10-31T14:13:20.000Z');
  // The documented ambiguity: microseconds of 1971-01-01 read as milliseconds, the year 2969.
  expect(normalizeTimestamp(ms('1971-01-01T00:00:00Z') * 1000)).toBe('2969-05-03T00:00:00.000Z');
  expect(normalizeTimestamp(ms('1973-03-03T09:46:39Z') * 1000)).not.toBe('1973-03-03T09:46:39.000Z');
});
