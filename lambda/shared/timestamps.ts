// Normalizes the timestamp encodings that reach the sink into ISO-8601 UTC strings, so both stores and agents see one form.

const DAY_MS = 86_400_000;

/**
 * Debezium (default `time.precision.mode`) sends TIMESTAMP as epoch milliseconds, micro- or nanoseconds depending on
 * the column's precision, DATE as days since the epoch, and TIMESTAMPTZ as an ISO string; Flink's JSON format writes
 * `2020-12-30 12:13:14.123Z` unless told to use ISO-8601. The magnitude tells the unit apart for any date between
 * 1970-01-02 and the year 5138.
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
  if (typeof v === 'string') {
    // SQL style 'YYYY-MM-DD HH:MM:SS[.fff][Z|±hh:mm]' (Flink JSON 'SQL', PostgreSQL text): make it ISO-8601.
    const m = /^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2}(?:\.\d+)?)(Z|[+-]\d{2}(?::?\d{2})?)?$/.exec(v.trim());
    if (!m) return v;
    const zone = m[3] === undefined ? 'Z' : m[3].length === 3 ? `${m[3]}:00` : m[3];
    const d = new Date(`${m[1]}T${m[2]}${zone}`);
    return Number.isNaN(d.getTime()) ? v : d.toISOString();
  }
  return v;
}
