// A view's schema change policy: the documented default (dead-letter), renames rendered for the sink, and each invalid declaration refused at synth.
import { AgentView, AgentViewProps, SchemaChangePolicy, ViewFieldType, ViewStore, ViewTopicFormat } from '../../constructs/stores/view';

const base: AgentViewProps = {
  name: 'customer',
  description: 'A customer by id',
  topic: 'agentdata.public.customers',
  key: ['id'],
  fields: [{ name: 'id', type: ViewFieldType.INTEGER }, { name: 'tier', type: ViewFieldType.KEYWORD }],
  sourceTable: 'public.customers',
  store: ViewStore.CACHE,
};

test('default: a Debezium view dead-letters a missing or mistyped declared field', () => {
  expect(new AgentView(base).toConfig().schemaPolicy).toEqual({ onMissingField: 'dead-letter', onTypeMismatch: 'dead-letter' });
});

test('declared renames and the tolerant policy reach the sink', () => {
  const v = new AgentView({ ...base, renames: { customer_tier: 'tier' }, schemaChanges: SchemaChangePolicy.TOLERATE });
  expect(v.toConfig().schemaPolicy).toEqual({ onMissingField: 'null', onTypeMismatch: 'keep', renames: { customer_tier: 'tier' } });
});

test('upsert-kafka views carry no policy (their columns are the Flink job\'s output)', () => {
  expect(new AgentView({ ...base, format: ViewTopicFormat.UPSERT_KAFKA }).toConfig().schemaPolicy).toBeUndefined();
});

test('fails when a rename targets a field that is not declared', () => {
  expect(() => new AgentView({ ...base, renames: { level: 'rank' } })).toThrow(/renames maps 'level' to 'rank', which is not among fields \[id, tier\]/);
});

test('fails when a rename\'s upstream name is itself a declared field', () => {
  expect(() => new AgentView({ ...base, renames: { id: 'tier' } })).toThrow(/renames has 'id', which is itself a declared field/);
});

test('fails when a rename\'s upstream name is not a column name', () => {
  expect(() => new AgentView({ ...base, renames: { 'new-name': 'tier' } })).toThrow(/renames has 'new-name', which is not a column name/);
});

test('fails when renames or a policy are set on an upsert-kafka view', () => {
  expect(() => new AgentView({ ...base, format: ViewTopicFormat.UPSERT_KAFKA, renames: { level: 'tier' } })).toThrow(/apply to Debezium views/);
  expect(() => new AgentView({ ...base, format: ViewTopicFormat.UPSERT_KAFKA, schemaChanges: SchemaChangePolicy.DEAD_LETTER })).toThrow(/apply to Debezium views/);
});
