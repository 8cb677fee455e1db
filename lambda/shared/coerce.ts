// Coercion of the encodings that reach the sink (numeric strings, 'true'/'false', JSON sent as strings, timestamps) to a view field's declared type.
import type { ViewFieldType } from '../../contract/view-config';
import { normalizeTimestamp } from '../../contract/timestamps';

/** The value in the declared type's form when the encoding is unambiguous, else the value as sent (the schema policy judges it). */
export function coerce(type: ViewFieldType, v: unknown): unknown {
  if (v === null || v === undefined) return null;
  switch (type) {
    case 'integer':
      if (typeof v === 'string' && /^-?\d+$/.test(v) && Number.isSafeInteger(Number(v))) return Number(v);
      return v;
    case 'number':
      if (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))) return Number(v);
      return v;
    case 'boolean':
      if (v === 'true' || v === 1) return true;
      if (v === 'false' || v === 0) return false;
      return v;
    case 'string':
    case 'text':
    case 'keyword':
      return typeof v === 'number' || typeof v === 'boolean' ? String(v) : v;
    case 'timestamp':
      return normalizeTimestamp(v);
    case 'json':
      if (typeof v === 'string') {
        try {
          const parsed = JSON.parse(v);
          return parsed !== null && typeof parsed === 'object' ? parsed : v;
        } catch {
          return v;
        }
      }
      return v;
    default:
      return v;
  }
}
