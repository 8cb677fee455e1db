// ViewStore.WAREHOUSE: declarations render the warehouse config with documented defaults; every invalid declaration fails at synth naming the prop and the fix.
import { AgentView, AgentViewProps, ViewFieldType, ViewStore, ViewTopicFormat } from '../../constructs/stores/view';
import { WarehousePartition } from '../../constructs/stores/warehouse-view';
import { viewToolNames } from '../../contract/tool-names';

const base: AgentViewProps = {
  name: 'order_history',
  description: 'Orders over time',
  topic: 'agentdata.public.orders',
  key: ['id'],
  fields: [
    { name: 'id', type: ViewFieldType.INTEGER },
    { name: 'status', type: ViewFieldType.KEYWORD },
    { name: 'total', type: ViewFieldType.NUMBER },
    { name: 'created_at', type: ViewFieldType.TIMESTAMP },
  ],
  sourceTable: 'public.orders',
  store: ViewStore.WAREHOUSE,
};

describe('defaults', () => {
  test('no partition, no history, no SQL, 1000 rows, the commit time as time field; one _query tool', () => {
    const config = new AgentView(base).toConfig();
    expect(config.store).toBe('warehouse');
    expect(config.warehouse).toEqual({ table: 'order_history', timeField: '_commit_ts', allowSql: false, maxRows: 1000 });
    expect(config.cache).toBeUndefined();
    expect(config.search).toBeUndefined();
    expect(viewToolNames(config)).toEqual(['order_history_query']);
  });

  test('history, partition and SQL as declared; the partition field is the time field', () => {
    const config = new AgentView({
      ...base, key: ['id', 'created_at'],
      warehouse: { history: true, partitionBy: WarehousePartition.day('created_at'), allowSql: true, maxRows: 50 },
    }).toConfig();
    expect(config.warehouse).toEqual({
      table: 'order_history', historyTable: 'order_history_history', partition: { field: 'created_at', transform: 'day' },
      timeField: 'created_at', allowSql: true, maxRows: 50,
    });
  });
});

describe('validation', () => {
  const fails = (props: Partial<AgentViewProps>, message: RegExp) => expect(() => new AgentView({ ...base, ...props })).toThrow(message);

  test('fails when the partition field is not a key column (Iceberg upsert rule)', () => {
    fails({ warehouse: { partitionBy: WarehousePartition.day('created_at') } }, /warehouse\.partitionBy uses 'created_at', which is not in key \[id\].*Add 'created_at' to key/);
  });
  test('fails when the partition field is not declared', () => {
    fails({ warehouse: { partitionBy: WarehousePartition.day('placed_at') } }, /warehouse\.partitionBy field 'placed_at' is not among fields/);
  });
  test('fails when a day partition names a non-timestamp field', () => {
    fails({ key: ['id', 'status'], warehouse: { partitionBy: WarehousePartition.day('status') } }, /day\('status'\) but 'status' has type keyword.*WarehousePartition\.identity\('status'\)/);
  });
  test('fails when an identity partition names a number', () => {
    fails({ key: ['id', 'total'], warehouse: { partitionBy: WarehousePartition.identity('total') } }, /identity\('total'\) of type number/);
  });
  test('fails when timeField is not a TIMESTAMP field', () => {
    fails({ warehouse: { timeField: 'status' } }, /warehouse\.timeField 'status' must be one of fields with type ViewFieldType\.TIMESTAMP/);
  });
  test('fails when history is asked of a transform output', () => {
    fails({ format: ViewTopicFormat.UPSERT_KAFKA, warehouse: { history: true } }, /warehouse\.history is set on a view read from a transform output/);
  });
  test('fails when maxRows is out of range', () => {
    fails({ warehouse: { maxRows: 0 } }, /warehouse\.maxRows is 0; give a whole number from 1 to 10000/);
    fails({ warehouse: { maxRows: 20000 } }, /warehouse\.maxRows is 20000/);
  });
  test('fails when a field uses the reserved _ prefix or upper case', () => {
    fails({ fields: [...base.fields, { name: '_op', type: ViewFieldType.STRING }] }, /field '_op' starts with '_'/);
    fails({ fields: [...base.fields, { name: 'Region', type: ViewFieldType.STRING }] }, /field 'Region' has upper-case letters/);
  });
  test('fails when warehouse options sit on another store, or cache/search options on a warehouse view', () => {
    fails({ store: ViewStore.CACHE, warehouse: {} }, /warehouse options are set on a cache view/);
    fails({ search: {} }, /search options are set on a warehouse view/);
  });
});

describe('row scopes', () => {
  test('a warehouse view with a rowScope fails at synth: the query tool would not enforce it', () => {
    expect(() => new AgentView({ ...base, fields: [...base.fields, { name: 'tenant', type: ViewFieldType.KEYWORD }], rowScope: { field: 'tenant', claim: 'tenant' } }))
      .toThrow(/rowScope is not enforced by the warehouse query tool.*Remove rowScope/);
  });
});
