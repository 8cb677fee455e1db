// AgentView: declarations render to ViewConfig with documented defaults, and every invalid declaration fails at synth with a message naming the fix.
import { Duration } from 'aws-cdk-lib';
import { AgentView, AgentViewProps, viewsEnvironment, ViewFieldType, ViewStore, ViewTopicFormat } from '../../constructs/stores/view';
import { VIEW_STORE_NAMES } from '../../contract/view-config';

const base: AgentViewProps = {
  name: 'customer_balances',
  description: 'Current balance per customer',
  topic: 'agentdata.public.accounts',
  key: ['customer_id'],
  fields: [
    { name: 'customer_id', type: ViewFieldType.INTEGER, description: 'Customer number' },
    { name: 'balance', type: ViewFieldType.NUMBER },
    { name: 'updated_at', type: ViewFieldType.TIMESTAMP },
  ],
  sourceTable: 'public.accounts',
  store: ViewStore.CACHE,
};

describe('defaults', () => {
  test('a cache view: Debezium format, key prefix `<name>:`, no row TTL, 7-day tombstones', () => {
    expect(new AgentView(base).toConfig()).toEqual({
      name: 'customer_balances',
      description: 'Current balance per customer',
      store: 'cache',
      topic: 'agentdata.public.accounts',
      format: 'debezium',
      key: ['customer_id'],
      fields: [
        { name: 'customer_id', type: 'integer', description: 'Customer number' },
        { name: 'balance', type: 'number' },
        { name: 'updated_at', type: 'timestamp' },
      ],
      sourceTable: 'public.accounts',
      cache: { keyPrefix: 'customer_balances:', tombstoneTtlSeconds: 604800 },
      schemaPolicy: { onMissingField: 'dead-letter', onTypeMismatch: 'dead-letter' },
    });
  });

  test('a search view: index named after the view with hyphens', () => {
    const v = new AgentView({ ...base, store: ViewStore.SEARCH, search: { timeField: 'updated_at' } });
    expect(v.toConfig().search).toEqual({ index: 'customer-balances', timeField: 'updated_at' });
    expect(v.toConfig().cache).toBeUndefined();
    expect(v.index).toBe('customer-balances');
    expect(v.keyPrefix).toBeUndefined();
  });

  test('explicit options are carried through', () => {
    const c = new AgentView({
      ...base, format: ViewTopicFormat.UPSERT_KAFKA, cache: { keyPrefix: 'bal:', ttl: Duration.hours(1), tombstoneTtl: Duration.days(1) },
    }).toConfig();
    expect(c.format).toBe('upsert-kafka');
    expect(c.cache).toEqual({ keyPrefix: 'bal:', ttlSeconds: 3600, tombstoneTtlSeconds: 86400 });
  });

  test('a key prefix may have Redis-style segments (the MCP server\'s reader ACL and overlap check take them as they are)', () => {
    expect(new AgentView({ ...base, cache: { keyPrefix: 'app:balances:' } }).toConfig().cache?.keyPrefix).toBe('app:balances:');
  });

  test('the store names are the contract\'s: every ViewStore constant is one of VIEW_STORE_NAMES, each name has one', () => {
    expect([ViewStore.CACHE, ViewStore.SEARCH, ViewStore.WAREHOUSE].map(s => s.name)).toEqual([...VIEW_STORE_NAMES]);
  });

  test('a vector field defaults to Titan Text Embeddings v2, 1024 dimensions, cosine, field `embedding`', () => {
    const fields = [...base.fields, { name: 'note', type: ViewFieldType.TEXT }];
    const v = new AgentView({ ...base, fields, store: ViewStore.SEARCH, search: { vector: { sourceFields: ['note'] } } });
    expect(v.toConfig().search?.vector).toEqual({
      field: 'embedding', sourceFields: ['note'], dimension: 1024, modelId: 'amazon.titan-embed-text-v2:0', spaceType: 'cosinesimil',
    });
  });

  test('commitTimeField is carried into the runtime config of an upsert-kafka view', () => {
    const c = new AgentView({ ...base, format: ViewTopicFormat.UPSERT_KAFKA, commitTimeField: 'updated_at' }).toConfig();
    expect(c.commitTimeField).toBe('updated_at');
    expect(new AgentView(base).toConfig().commitTimeField).toBeUndefined();
  });

  test('viewsEnvironment renders the AGENT_VIEWS array', () => {
    expect(JSON.parse(viewsEnvironment([new AgentView(base)]))).toEqual([new AgentView(base).toConfig()]);
  });
});

describe('validation', () => {
  const cases: [string, Partial<AgentViewProps> | (() => AgentViewProps), RegExp][] = [
    ['the name is not snake_case', { name: 'CustomerBalances' }, /name 'CustomerBalances' is not snake_case/],
    ['the store is unknown', { store: { name: 'redis' } as unknown as ViewStore }, /store 'redis' is unknown. Use ViewStore.CACHE, ViewStore.SEARCH or ViewStore.WAREHOUSE/],
    ['the format is unknown', { format: { name: 'avro' } as unknown as ViewTopicFormat }, /format 'avro' is unknown/],
    ['the key is empty', { key: [] }, /key is empty/],
    ['a key column is not among the fields', { key: ['id'] }, /key column 'id' is not among fields \[customer_id, balance, updated_at\]/],
    ['a key column is named twice', { key: ['customer_id', 'customer_id'] }, /names a column twice/],
    ['a key column is free text', { key: ['customer_id', 'note'], fields: [...base.fields, { name: 'note', type: ViewFieldType.TEXT }] }, /key column 'note' has type text/],
    ['a field is named twice', { fields: [...base.fields, { name: 'balance', type: ViewFieldType.STRING }] }, /field 'balance' is named twice/],
    ['a field name is not an identifier', { fields: [...base.fields, { name: 'bad-name', type: ViewFieldType.STRING }] }, /field name 'bad-name' is not a column identifier/],
    ['fields are empty', { fields: [], key: ['customer_id'] }, /fields is empty/],
    ['the topic is not a Kafka topic name', { topic: 'orders topic' }, /topic 'orders topic' is not a Kafka topic name/],
    ['the description is empty', { description: ' ' }, /description is empty/],
    ['the source table is empty', { sourceTable: '' }, /sourceTable is empty/],
    ['the key prefix does not end with a colon', { cache: { keyPrefix: 'bal' } }, /cache.keyPrefix 'bal' must .* end with ':'/],
    ['the key prefix has an empty segment', { cache: { keyPrefix: 'app::bal:' } }, /cache.keyPrefix 'app::bal:' must .* in segments that each end with ':'/],
    ['the tombstone TTL is under a minute', { cache: { tombstoneTtl: Duration.seconds(30) } }, /tombstoneTtl is 30 seconds/],
    ['search options are set on a cache view', { search: { index: 'x' } }, /search options are set on a cache view/],
    ['cache options are set on a search view', { store: ViewStore.SEARCH, cache: {} }, /cache options are set on a search view/],
    ['the index name is invalid', { store: ViewStore.SEARCH, search: { index: 'Balances' } }, /search.index 'Balances' is not a valid OpenSearch index name/],
    ['the time field is not a field', { store: ViewStore.SEARCH, search: { timeField: 'created' } }, /timeField 'created' is not among fields/],
    ['the time field is not a timestamp', { store: ViewStore.SEARCH, search: { timeField: 'balance' } }, /timeField 'balance' has type number/],
    ['commitTimeField is not a timestamp field', { format: ViewTopicFormat.UPSERT_KAFKA, commitTimeField: 'balance' }, /commitTimeField 'balance' must be one of fields with type ViewFieldType.TIMESTAMP/],
    ['commitTimeField is set on a Debezium view', { commitTimeField: 'updated_at' }, /commitTimeField is for upsert-kafka views/],
    ['the vector embeds no columns', { store: ViewStore.SEARCH, search: { vector: { sourceFields: [] } } }, /vector.sourceFields is empty/],
    ['the vector embeds an unknown column', { store: ViewStore.SEARCH, search: { vector: { sourceFields: ['note'] } } }, /sourceFields has 'note', which is not among fields/],
    ['the vector embeds a number', { store: ViewStore.SEARCH, search: { vector: { sourceFields: ['balance'] } } }, /'balance' of type number; only TEXT and STRING/],
    ['the vector field shadows a column', { store: ViewStore.SEARCH, fields: [...base.fields, { name: 'note', type: ViewFieldType.TEXT }], search: { vector: { sourceFields: ['note'], field: 'balance' } } }, /vector.field 'balance' must be a new column name/],
    ['the vector dimension is not positive', { store: ViewStore.SEARCH, fields: [...base.fields, { name: 'note', type: ViewFieldType.TEXT }], search: { vector: { sourceFields: ['note'], dimension: 0 } } }, /vector.dimension is 0/],
  ];
  test.each(cases)('fails when %s', (_, overrides, message) => {
    expect(() => new AgentView({ ...base, ...(overrides as Partial<AgentViewProps>) })).toThrow(message);
  });

  test('fails when two views share a name', () => {
    expect(() => viewsEnvironment([new AgentView(base), new AgentView(base)])).toThrow(/'customer_balances' is declared twice/);
  });
});
