// Views declared on the stack: where each view's rows come from (a captured table or a transform's output) and the
// AgentView the stack derives from it (topic, format and source table follow from the source).
import { AgentView, AgentViewProps, ViewStore, ViewTopicFormat } from '../constructs/stores/view';
import { cdcTopicOf, PlannedSource, sourceOfTable } from './sources';

/** Where a view's rows come from. */
export class ViewSource {
  /**
   * A captured table (`schema.table` / `database.table`): the view reads its Debezium topic. With `additionalSources`,
   * `source` names the source when more than one captures a table of that name.
   * @param source the source's name ('Source' for the primary `source`) @default - the one source capturing the table
   */
  public static table(table: string, source?: string): ViewSource {
    return new ViewSource('table', table, undefined, source);
  }

  /** An `upsert-kafka` output table of a transform: the view reads that table's topic. */
  public static transform(transform: string, table: string): ViewSource {
    return new ViewSource('transform', table, transform);
  }

  private constructor(
    public readonly kind: 'table' | 'transform', public readonly table: string, public readonly transform?: string, public readonly source?: string,
  ) {}
}

/** A view as declared on the stack: everything an AgentView needs except what the stack derives (topic, format, source table). */
export interface AgentViewDeclaration extends Omit<AgentViewProps, 'topic' | 'format' | 'sourceTable'> {
  readonly from: ViewSource;
}

/** A transform output table a view may read: its topic and the Flink connector that writes it. */
export interface TransformOutput {
  readonly transform: string;
  readonly topic: string;
  readonly connector: string;
}

/** The AgentViews of the declarations: each is validated once, by AgentView, after its source is resolved here. */
export function resolveViews(views: readonly AgentViewDeclaration[], planned: PlannedSource[], outputTopics: ReadonlyMap<string, TransformOutput>): AgentView[] {
  return views.map(v => {
    const { from, ...rest } = v;
    if (from.kind === 'table') {
      const src = sourceOfTable(planned, v.name, from.table, from.source);
      const excluded = (src.declaration.columns?.[from.table]?.exclude ?? []).filter(c => v.key.includes(c) || v.fields.some(f => f.name === c));
      if (excluded.length > 0) {
        throw new Error(`AgentDataStack: view '${v.name}' declares ${excluded.map(c => `'${c}'`).join(', ')}, which source.columns['${from.table}'] excludes at the source: `
          + 'the value never reaches Kafka, so the view would only ever hold nulls. Remove the field from the view, or hash or mask the column instead of excluding it.');
      }
      return new AgentView({ ...rest, topic: cdcTopicOf(src, from.table), format: ViewTopicFormat.DEBEZIUM, sourceTable: from.table });
    }
    const out = outputTopics.get(`${from.transform}/${from.table}`);
    if (!out) {
      throw new Error(`AgentDataStack: view '${v.name}' reads '${from.table}' of transform '${from.transform}', which no INSERT of that transform writes. `
        + `Transform outputs: ${[...outputTopics.keys()].join(', ') || 'none'}.`);
    }
    if (out.connector !== 'upsert-kafka') {
      throw new Error(`AgentDataStack: view '${v.name}' reads '${from.table}', a '${out.connector}' table; sinks read upsert-kafka outputs (keyed, null = delete). Declare it with FlinkTable.upsertKafkaSink.`);
    }
    return new AgentView({ ...rest, topic: out.topic, format: ViewTopicFormat.UPSERT_KAFKA, sourceTable: from.table });
  });
}

/**
 * Warehouse views read Debezium topics through debezium-json too (updates and deletes need the before-image), so their
 * PostgreSQL tables get REPLICA IDENTITY FULL like the tables a transform reads: adds them to `tables` (source name to tables).
 */
export function addWarehouseTables(views: readonly AgentViewDeclaration[], planned: PlannedSource[], tables: Map<string, string[]>): void {
  for (const v of views) {
    if (v.store !== ViewStore.WAREHOUSE || v.from.kind !== 'table') continue;
    const src = sourceOfTable(planned, v.name, v.from.table, v.from.source);
    tables.set(src.name, [...new Set([...(tables.get(src.name) ?? []), v.from.table])]);
  }
}
