// What the Debezium connector configuration and the sink agree on about Debezium's change events.

/**
 * Debezium's `unavailable.value.placeholder` (its default, which the connector sets explicitly and extraProperties may not
 * change): what the PostgreSQL connector sends in `after` for a TOASTed column an UPDATE left unchanged when the table's
 * replica identity is not FULL, since PostgreSQL does not write such a value to the WAL. The sink refuses a record that
 * carries it in a declared field rather than store the placeholder over the real value.
 * https://debezium.io/documentation/reference/stable/connectors/postgresql.html#postgresql-toasted-values
 */
export const DEBEZIUM_UNAVAILABLE_VALUE = '__debezium_unavailable_value';

/** `btoa` rather than Buffer: contract/ imports nothing, not even Node's modules (test/architecture/layers.test.ts). */
const UNAVAILABLE_BASE64 = btoa(DEBEZIUM_UNAVAILABLE_VALUE);

/**
 * Whether a field's value is the placeholder in one of the forms the JSON converter writes it: the string (text, JSON and
 * other string-typed columns), the base64 of its UTF-8 bytes (binary columns), or the one element of an array (array columns).
 */
export function isDebeziumUnavailableValue(v: unknown): boolean {
  if (typeof v === 'string') return v === DEBEZIUM_UNAVAILABLE_VALUE || v === UNAVAILABLE_BASE64;
  return Array.isArray(v) && v.length === 1 && (v[0] === DEBEZIUM_UNAVAILABLE_VALUE || v[0] === UNAVAILABLE_BASE64);
}
