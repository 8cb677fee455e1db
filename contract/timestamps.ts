// Normalizes the timestamp encodings that reach the sink into ISO-8601 UTC strings, so both stores and agents see one form.

const DAY_MS = 86_400_000;

const SQL_OR_ISO = /^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2}(?:\.\d+)?)(Z|[+-]\d{2}(?::?\d{2})?)?$/;
/** UTC (or zone-less) values whose every field is in range for any month, with at most nanosecond digits, so the ISO form can be written without a Date. */
const PLAIN_UTC = /^(\d{4})-(0[1-9]|1[0-2])-(0[1-9]|1\d|2[0-8])[ T]([01]\d|2[0-3]):([0-5]\d):([0-5]\d)(?:\.(\d{1,9}))?Z?$/;

/**
 * Debezium (default `time.precision.mode`) sends TIMESTAMP as epoch milliseconds, micro- or nanoseconds depending on
 * the column's precision, DATE as days since the epoch, and TIMESTAMPTZ as an ISO string; Flink's JSON format writes
 * `2020-12-30 12:13:14.123Z` unless told to use ISO-8601. Without schemas in the events the magnitude is all there is to
 * tell the unit by: |v| < 1e8 days, < 1e14 ms, < 1e17 µs, else ns. Right for days at any date, for milliseconds from
 * 1970-01-02 to the year 5138, and for micro- and nanoseconds from 1973-03-03 to the year 5138 (and as far before 1970).
 * A micro- or nanosecond value within about three years of 1970 is read as the next unit down and lands centuries off;
 * docs/stores.md ("Timestamps and commit times") says so and what to do.
 */
export function normalizeTimestamp(v: unknown): unknown {
  if (typeof v === 'number' && Number.isFinite(v)) {
    const abs = Math.abs(v);
    let ms: number;
    if (abs >= 1e17) ms = v / 1e6; // nanoseconds
    else if (abs >= 1e14) ms = v / 1e3; // microseconds
    else if (abs >= 1e8) ms = v; // milliseconds
    else ms = v * DAY_MS; // days (io.debezium.time.Date)
    const d = new Date(Math.trunc(ms));
    return Number.isNaN(d.getTime()) ? v : d.toISOString();
  }
  // An epoch beyond 2^53 the sink's lossless parse kept as digits (nanoseconds): its unit and date as a number's.
  if (typeof v === 'string' && /^-?\d{16,}$/.test(v)) return normalizeTimestamp(Number(v));
  if (typeof v === 'string') {
    // The common case, a UTC timestamp with a day no month lacks (Debezium's ZonedTimestamp, Flink's SQL form): the
    // result is the same fields with the fraction cut to milliseconds, as Date would print it, without parsing a Date.
    const p = PLAIN_UTC.exec(v);
    if (p) return `${p[1]}-${p[2]}-${p[3]}T${p[4]}:${p[5]}:${p[6]}.${p[7] === undefined ? '000' : p[7].length >= 3 ? p[7].slice(0, 3) : p[7].padEnd(3, '0')}Z`;
    // SQL style 'YYYY-MM-DD HH:MM:SS[.fff][Z|±hh:mm]' (Flink JSON 'SQL', PostgreSQL text): make it ISO-8601.
    const m = SQL_OR_ISO.exec(v.trim());
    if (!m) return v;
    const zone = m[3] === undefined ? 'Z' : m[3].length === 3 ? `${m[3]}:00` : m[3];
    const d = new Date(`${m[1]}T${m[2]}${zone}`);
    return Number.isNaN(d.getTime()) ? v : d.toISOString();
  }
  return v;
}
