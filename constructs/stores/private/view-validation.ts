// The one validation of a view declaration (AgentViewProps): every rule a view must meet, with one message per rule naming the prop and the fix.
import { Token } from 'aws-cdk-lib';
import { indexNameProblem, viewMappings } from '../../../contract/search-mapping';
import { viewNameProblem } from '../../../contract/tool-names';
import type { ViewConfig } from '../../../contract/view-config';
import { AgentViewProps, DEFAULT_EMBEDDING_MODEL, ViewField, ViewFieldType, ViewStore, ViewTopicFormat, ViewVectorOptions } from '../view-props';
import { validateSchemaDeclaration } from '../view-schema';
import { validateWarehouseOptions } from '../warehouse-view';
import { validateRowScope } from './row-scope';

const COLUMN_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;
const TOPIC_NAME = /^[A-Za-z0-9._-]{1,249}$/;

/** The one validation of a view declaration, run once, by the AgentView constructor; nothing downstream re-checks a view. */
export function validateViewProps(p: AgentViewProps): void {
  const where = `AgentView '${p.name}'`;
  const nameProblem = viewNameProblem(p.name);
  if (nameProblem) throw new Error(`AgentView: name '${p.name}' ${nameProblem}. Rename it, e.g. 'customer_balances'.`);
  if (p.store !== ViewStore.CACHE && p.store !== ViewStore.SEARCH && p.store !== ViewStore.WAREHOUSE) {
    throw new Error(`${where}: store '${(p.store as { name?: string } | undefined)?.name ?? String(p.store)}' is unknown. Use ViewStore.CACHE, ViewStore.SEARCH or ViewStore.WAREHOUSE.`);
  }
  if (p.format !== undefined && p.format !== ViewTopicFormat.DEBEZIUM && p.format !== ViewTopicFormat.UPSERT_KAFKA) {
    throw new Error(`${where}: format '${String((p.format as { name?: string }).name)}' is unknown. Use ViewTopicFormat.DEBEZIUM or ViewTopicFormat.UPSERT_KAFKA.`);
  }
  if (!p.description || !p.description.trim()) throw new Error(`${where}: description is empty. Say what the view holds; agents read it.`);
  if (!Token.isUnresolved(p.topic) && !TOPIC_NAME.test(p.topic)) {
    throw new Error(`${where}: topic '${p.topic}' is not a Kafka topic name (letters, digits, '.', '_', '-', at most 249). Use the topic the connector or Flink job writes.`);
  }
  if (!p.sourceTable || !p.sourceTable.trim()) throw new Error(`${where}: sourceTable is empty. Name the table the rows come from (schema.table).`);
  if (p.fields.length === 0) throw new Error(`${where}: fields is empty. List the columns the store keeps, key columns included.`);
  const names = new Set<string>();
  for (const f of p.fields) {
    if (!COLUMN_NAME.test(f.name)) throw new Error(`${where}: field name '${f.name}' is not a column identifier (letters, digits, '_'). Use the column name from the source.`);
    if (names.has(f.name)) throw new Error(`${where}: field '${f.name}' is named twice in fields. Remove the duplicate.`);
    if (!(f.type instanceof ViewFieldType)) throw new Error(`${where}: field '${f.name}' has an unknown type. Use a ViewFieldType constant.`);
    names.add(f.name);
  }
  if (p.key.length === 0) throw new Error(`${where}: key is empty. Give the primary key column(s), e.g. key: ['id'].`);
  if (new Set(p.key).size !== p.key.length) throw new Error(`${where}: key [${p.key.join(', ')}] names a column twice. Remove the duplicate.`);
  for (const k of p.key) {
    if (!names.has(k)) throw new Error(`${where}: key column '${k}' is not among fields [${[...names].join(', ')}]. Add it to fields.`);
    const type = p.fields.find(f => f.name === k)!.type;
    if (type === ViewFieldType.JSON || type === ViewFieldType.TEXT) {
      throw new Error(`${where}: key column '${k}' has type ${type.name}; keys must be scalar exact values. Use STRING, KEYWORD, INTEGER, NUMBER, BOOLEAN or TIMESTAMP.`);
    }
  }
  if (p.maxStaleness !== undefined && !Token.isUnresolved(p.maxStaleness.toMilliseconds({ integral: false })) && p.maxStaleness.toMilliseconds({ integral: false }) < 1000) {
    throw new Error(`${where}: maxStaleness is ${p.maxStaleness.toHumanString()}; it must be at least 1 second (change events take longer than that to reach the store). E.g. Duration.minutes(5), or omit it for no bound.`);
  }
  if (p.rowScope && p.store === ViewStore.WAREHOUSE) {
    throw new Error(`${where}: rowScope is not enforced by the warehouse query tool (its SQL and structured queries read the whole table). `
      + 'Remove rowScope, or serve the scoped rows from a cache or search view.');
  }
  if (p.rowScope) validateRowScope(where, p.fields, p.rowScope);
  validateSchemaDeclaration(where, names, (p.format ?? ViewTopicFormat.DEBEZIUM) === ViewTopicFormat.DEBEZIUM, p.schemaChanges, p.renames);
  if (p.commitTimeField !== undefined) {
    const f = p.fields.find(x => x.name === p.commitTimeField);
    if (!f || f.type !== ViewFieldType.TIMESTAMP) {
      throw new Error(`${where}: commitTimeField '${p.commitTimeField}' must be one of fields with type ViewFieldType.TIMESTAMP.`);
    }
    if ((p.format ?? ViewTopicFormat.DEBEZIUM) !== ViewTopicFormat.UPSERT_KAFKA) {
      throw new Error(`${where}: commitTimeField is for upsert-kafka views; Debezium views take the commit time from the change event's source block. Remove it.`);
    }
  }
  if (p.store !== ViewStore.WAREHOUSE && p.warehouse) {
    throw new Error(`${where}: warehouse options are set on a ${p.store.name} view. Remove them or use store: ViewStore.WAREHOUSE.`);
  }
  if (p.store === ViewStore.WAREHOUSE) {
    if (p.cache || p.search) throw new Error(`${where}: ${p.cache ? 'cache' : 'search'} options are set on a warehouse view. Remove them or use store: ViewStore.${p.cache ? 'CACHE' : 'SEARCH'}.`);
    validateWarehouseOptions(where, p.warehouse ?? {}, p.fields.map(f => ({ name: f.name, type: f.type.name })), p.key, (p.format ?? ViewTopicFormat.DEBEZIUM).name);
  } else if (p.store === ViewStore.CACHE) {
    if (p.search) throw new Error(`${where}: search options are set on a cache view. Remove them or use store: ViewStore.SEARCH.`);
    const c = p.cache ?? {};
    // Redis-style segments (`agent:customers:`): the MCP server's reader ACL (`~<prefix>*`) and its overlap check take them as they are.
    if (c.keyPrefix !== undefined && !/^(?:[A-Za-z0-9_.\-{}]+:)+$/.test(c.keyPrefix)) {
      throw new Error(`${where}: cache.keyPrefix '${c.keyPrefix}' must be letters, digits, '_', '.', '-', '{', '}' in segments that each end with ':'. E.g. '${p.name}:' or 'app:${p.name}:'.`);
    }
    if (c.ttl && !Token.isUnresolved(c.ttl.toSeconds({ integral: false })) && c.ttl.toSeconds({ integral: false }) < 1) {
      throw new Error(`${where}: cache.ttl is ${c.ttl.toHumanString()}; it must be at least 1 second. Omit it to keep rows until they change.`);
    }
    if (c.tombstoneTtl && c.tombstoneTtl.toSeconds({ integral: false }) < 60) {
      throw new Error(`${where}: cache.tombstoneTtl is ${c.tombstoneTtl.toHumanString()}; under a minute lets late updates resurrect deleted rows. Use at least Duration.minutes(1) (default 7 days).`);
    }
  } else {
    if (p.cache) throw new Error(`${where}: cache options are set on a search view. Remove them or use store: ViewStore.CACHE.`);
    const s = p.search ?? {};
    const indexProblem = s.index === undefined ? undefined : indexNameProblem(s.index);
    if (indexProblem) {
      throw new Error(`${where}: search.index '${s.index}' is not a valid OpenSearch index name (it ${indexProblem}). E.g. '${p.name.replace(/_/g, '-')}'.`);
    }
    if (s.timeField !== undefined) {
      const tf = p.fields.find(f => f.name === s.timeField);
      if (!tf) throw new Error(`${where}: search.timeField '${s.timeField}' is not among fields. Add it to fields as a TIMESTAMP.`);
      if (tf.type !== ViewFieldType.TIMESTAMP) throw new Error(`${where}: search.timeField '${s.timeField}' has type ${tf.type.name}; it must be ViewFieldType.TIMESTAMP.`);
    }
    if (s.vector) validateVector(where, p.fields, s.vector);
  }
}

function validateVector(where: string, fields: readonly ViewField[], v: ViewVectorOptions): void {
  if (v.sourceFields.length === 0) {
    throw new Error(`${where}: search.vector.sourceFields is empty; name the text columns to embed, e.g. ['description'].`);
  }
  for (const name of v.sourceFields) {
    const f = fields.find(x => x.name === name);
    if (!f) throw new Error(`${where}: search.vector.sourceFields has '${name}', which is not among fields. Add it to fields or remove it.`);
    if (f.type !== ViewFieldType.TEXT && f.type !== ViewFieldType.STRING) {
      throw new Error(`${where}: search.vector.sourceFields has '${name}' of type ${f.type.name}; only TEXT and STRING columns are embedded.`);
    }
  }
  const field = v.field ?? 'embedding';
  if (!COLUMN_NAME.test(field) || fields.some(f => f.name === field)) {
    throw new Error(`${where}: search.vector.field '${field}' must be a new column name (letters, digits, '_'), not one of the view's fields.`);
  }
  const dimension = v.dimension ?? 1024;
  if (!Number.isInteger(dimension) || dimension < 1 || dimension > 16000) {
    throw new Error(`${where}: search.vector.dimension is ${dimension}; use the model's vector length (Titan Text Embeddings v2: 256, 512 or 1024).`);
  }
  // The index's knn_vector dimension must be a length the model returns (its `dimensions` parameter:
  // https://docs.aws.amazon.com/bedrock/latest/userguide/model-parameters-titan-embed-text.html), or every document fails to embed.
  const modelId = v.modelId ?? DEFAULT_EMBEDDING_MODEL;
  // The sink and the MCP server send Titan Text Embeddings V2's request body (inputText, dimensions, normalize,
  // embeddingTypes: lambda/shared/embeddings.ts); another model refuses it, so every document and query would fail to embed.
  if (!Token.isUnresolved(modelId) && !modelId.startsWith('amazon.titan-embed-text-v2')) {
    throw new Error(`${where}: search.vector.modelId '${modelId}' is not supported: the sink and the MCP server embed with Titan Text `
      + `Embeddings V2's request (inputText, dimensions, normalize), which other models refuse. Use ${DEFAULT_EMBEDDING_MODEL}.`);
  }
  if (!Token.isUnresolved(modelId) && ![256, 512, 1024].includes(dimension)) {
    throw new Error(`${where}: search.vector.dimension is ${dimension}, but ${modelId} returns 256, 512 or 1024 values; set one of them.`);
  }
}

/** A search view's index mapping derives from its rendered config (field types, reserved names, the vector field). */
export function validateSearchMapping(config: ViewConfig): void {
  try {
    viewMappings(config);
  } catch (e) {
    throw new Error(`AgentView '${config.name}': ${(e as Error).message.replace(/^view '[^']*': /, '')}. Fix the view's declaration.`, { cause: e });
  }
}

/** Refuses two views with one name among the views one construct serves (a sink, the MCP server, the lineage catalog). */
export function checkUniqueViewNames(who: string, views: readonly { readonly name: string }[]): void {
  const seen = new Set<string>();
  for (const v of views) {
    if (seen.has(v.name)) throw new Error(`${who}: view '${v.name}' is declared twice. Give each view a unique name.`);
    seen.add(v.name);
  }
}
