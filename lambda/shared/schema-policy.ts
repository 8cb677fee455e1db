// A view's declared fields applied to a change event's row: renames, added columns ignored, dropped or retyped columns refused (the view's schema change policy).
import type { ViewConfig, ViewFieldType } from '../../contract/view-config';
import { coerce } from './coerce';

/** A record whose row no longer matches the view's declared fields: it is dead-lettered with this reason, never stored with a silent null. */
export class SchemaChangeError extends Error {
  constructor(
    message: string,
    /** The declared field concerned. */
    public readonly field: string,
    /** `missing`: the column was dropped (or renamed without a declared rename); `type`: its values are no longer of the declared type. */
    public readonly change: 'missing' | 'type',
  ) {
    super(message);
    this.name = 'SchemaChangeError';
  }
}

/** Whether an already coerced value is of the declared type (null always is: nullability is the table's business). */
export function conforms(type: ViewFieldType, v: unknown): boolean {
  if (v === null || v === undefined) return true;
  switch (type) {
    case 'integer':
      // Past 2^53 Debezium's JSON numbers lose digits and coerce keeps digit strings as sent: both are integers.
      return (typeof v === 'number' && Number.isInteger(v)) || (typeof v === 'string' && /^-?\d+$/.test(v));
    case 'number':
      return typeof v === 'number' && Number.isFinite(v);
    case 'boolean':
      return typeof v === 'boolean';
    case 'string':
    case 'text':
    case 'keyword':
      return typeof v === 'string';
    case 'timestamp':
      return typeof v === 'string' && /^\d{4,}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/.test(v);
    case 'json':
      return true;
    default:
      return true;
  }
}

function describe(v: unknown): string {
  const text = JSON.stringify(v) ?? String(v);
  return `${Array.isArray(v) ? 'array' : typeof v} ${text.length > 60 ? `${text.slice(0, 57)}...` : text}`;
}

const NO_ALIASES: ReadonlyMap<string, string[]> = new Map();
const aliasCache = new WeakMap<Readonly<Record<string, string>>, ReadonlyMap<string, string[]>>();

/** Declared field -> the upstream names renamed to it, built once per view's renames rather than once per row. */
function aliasesOf(view: ViewConfig): ReadonlyMap<string, string[]> {
  const renames = view.schemaPolicy?.renames;
  if (!renames) return NO_ALIASES;
  let aliases = aliasCache.get(renames);
  if (!aliases) {
    const built = new Map<string, string[]>();
    for (const [upstream, field] of Object.entries(renames)) built.set(field, [...(built.get(field) ?? []), upstream]);
    aliasCache.set(renames, aliases = built);
  }
  return aliases;
}

/**
 * Keeps the view's declared fields of `row` (columns added upstream are ignored), coerced to their declared types. A declared
 * field missing from `row` is looked up under the upstream names `renames` maps to it. With a policy, a field still missing or a
 * value not of its type throws SchemaChangeError (`dead-letter`), stores null (`null`) or keeps the value as sent (`keep`);
 * without one (configurations that predate it) the lenient choices apply.
 */
export function projectRow(view: ViewConfig, row: Record<string, unknown>): Record<string, unknown> {
  const policy = view.schemaPolicy;
  const aliases = aliasesOf(view);
  const out: Record<string, unknown> = {};
  for (const f of view.fields) {
    const name = f.name in row ? f.name : (aliases.get(f.name) ?? []).find(a => a in row);
    if (name === undefined) {
      if (policy?.onMissingField === 'dead-letter') {
        const renamed = aliases.get(f.name);
        throw new SchemaChangeError(`schema change: declared field '${f.name}' is not in the row of ${view.sourceTable}`
          + `${renamed ? ` (nor its declared renames ${renamed.map(a => `'${a}'`).join(', ')})` : ''}: the column was dropped or renamed upstream. `
          + `Declare the rename (renames: { new_name: '${f.name}' }) or remove the field from the view, then replay the dead letters.`, f.name, 'missing');
      }
      out[f.name] = null;
      continue;
    }
    const value = coerce(f.type, row[name]);
    if (policy?.onTypeMismatch === 'dead-letter' && !conforms(f.type, value)) {
      throw new SchemaChangeError(`schema change: field '${f.name}' is declared ${f.type} but ${view.sourceTable}${name === f.name ? '' : ` (column '${name}')`} `
        + `sent ${describe(row[name])}: the column's type changed upstream. Change the field's type in the view (or the column back), then replay the dead letters.`,
      f.name, 'type');
    }
    out[f.name] = value;
  }
  return out;
}
