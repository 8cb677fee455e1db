// A view's schema change policy: what the sink does when the upstream table stops matching the declared fields, and declared renames.
import type { ViewSchemaPolicy } from '../../contract/view-config';

/**
 * What the sink does with a Debezium change event whose row no longer matches the view's declared fields (an upstream
 * `ALTER TABLE`). Columns added upstream are ignored by every policy until a field declares them; a column renamed
 * upstream keeps feeding its field when the rename is declared (`AgentViewProps.renames`).
 */
export class SchemaChangePolicy {
  /**
   * A declared field missing from the row (column dropped, or renamed without a declared rename) or a value that is not of its
   * declared type (column retyped) sends the record to the dead-letter destination with the reason, and the view's
   * `DeadLettered` alarm fires. Nothing is stored with a silent null; after fixing the declaration, replay the dead letters.
   */
  public static readonly DEAD_LETTER = new SchemaChangePolicy('dead-letter', 'dead-letter');
  /** A missing field is stored as null and a mistyped value as sent: the behaviour before policies, for views that must never stop. */
  public static readonly TOLERATE = new SchemaChangePolicy('null', 'keep');

  private constructor(
    public readonly onMissingField: ViewSchemaPolicy['onMissingField'],
    public readonly onTypeMismatch: ViewSchemaPolicy['onTypeMismatch'],
  ) {}
}

const COLUMN_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;

/** Checks `renames` against the declared fields; each message names the entry and says the fix. */
export function validateSchemaDeclaration(where: string, fieldNames: ReadonlySet<string>, debezium: boolean,
  policy: SchemaChangePolicy | undefined, renames: Record<string, string> | undefined): void {
  if (policy !== undefined && policy !== SchemaChangePolicy.DEAD_LETTER && policy !== SchemaChangePolicy.TOLERATE) {
    throw new Error(`${where}: schemaChanges is unknown. Use SchemaChangePolicy.DEAD_LETTER or SchemaChangePolicy.TOLERATE.`);
  }
  if (!debezium && (policy !== undefined || renames !== undefined)) {
    throw new Error(`${where}: schemaChanges and renames apply to Debezium views (rows of a source table); an upsert-kafka view's columns are the Flink job's output. Remove them.`);
  }
  for (const [upstream, field] of Object.entries(renames ?? {})) {
    if (!COLUMN_NAME.test(upstream)) throw new Error(`${where}: renames has '${upstream}', which is not a column name (letters, digits, '_'). Write the column's new upstream name.`);
    if (!fieldNames.has(field)) {
      throw new Error(`${where}: renames maps '${upstream}' to '${field}', which is not among fields [${[...fieldNames].join(', ')}]. Map the new column name to the declared field it replaces, e.g. renames: { ${upstream}: '<field>' }.`);
    }
    if (fieldNames.has(upstream)) {
      throw new Error(`${where}: renames has '${upstream}', which is itself a declared field, so the rename would be ambiguous. Remove the entry or the field.`);
    }
  }
}

/** The runtime form of the policy (Debezium views only). */
export function schemaPolicyConfig(policy: SchemaChangePolicy, renames: Record<string, string> | undefined): ViewSchemaPolicy {
  return {
    onMissingField: policy.onMissingField,
    onTypeMismatch: policy.onTypeMismatch,
    ...(renames && Object.keys(renames).length > 0 ? { renames: { ...renames } } : {}),
  };
}
