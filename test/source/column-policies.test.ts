// Personal data declared next to the captured tables: validation at synth, Debezium's column properties in the connector,
// views that declare an excluded field refused, and the lineage (what describe_source returns) saying which fields are hashed or masked.
import { Template } from 'aws-cdk-lib/assertions';
import { AgentNetwork } from '../../constructs/common/agent-network';
import { CdcSourceDatabase, CdcSourceDatabaseProps, SourceEngine } from '../../constructs/source';
import { ViewFieldType, ViewStore } from '../../constructs/stores/view';
import { AgentStreamingCluster, DebeziumConnector, DebeziumPlugin } from '../../constructs/streaming';
import { traceView } from '../../contract/lineage-graph';
import { AgentDataStack, AgentDataStackProps, ViewSource } from '../../lib/agent-data-stack';
import { DeploymentProfile } from '../../lib/profiles';
import { testApp, testStack } from '../helpers/app';

const SALT = 'k7Qm2v9XbR4tLz8pW1nY5cHs';
const HASH_KEY = `column.mask.hash.v2.SHA-256.with.salt.${SALT}`;

function source(props: Partial<CdcSourceDatabaseProps> = {}) {
  const stack = testStack(testApp());
  const vpc = new AgentNetwork(stack, 'Net').vpc;
  const db = new CdcSourceDatabase(stack, 'Source', { vpc, tables: ['public.customers', 'public.orders'], ...props });
  return { stack, vpc, db };
}

function withConnector(props: Partial<CdcSourceDatabaseProps> = {}) {
  const { stack, vpc, db } = source(props);
  const cluster = new AgentStreamingCluster(stack, 'Kafka', { vpc });
  const plugin = new DebeziumPlugin(stack, 'Plugin', { engine: db.toCdcSource().engine });
  const connector = new DebeziumConnector(stack, 'Cdc', { cluster, source: db.toCdcSource(), plugin, topicPrefix: 'shop' });
  return { stack, db, connector, t: () => Template.fromStack(stack) };
}

describe('column policies in the connector configuration', () => {
  test('exclude, hash and mask become column.exclude.list, column.mask.hash.v2.SHA-256.with.salt.<salt> and column.mask.with.<n>.chars', () => {
    const { t, connector } = withConnector({
      columns: {
        'public.customers': { exclude: ['ssn', 'birth_date'], hash: ['email'], mask: ['phone'], maskChars: 4 },
        'public.orders': { hash: ['card_fingerprint'], mask: ['shipping_note'] },
      },
      columnHashSalt: SALT,
    });
    const expected = {
      'column.exclude.list': 'public\\.customers\\.ssn,public\\.customers\\.birth_date',
      [HASH_KEY]: 'public\\.customers\\.email,public\\.orders\\.card_fingerprint',
      'column.mask.with.4.chars': 'public\\.customers\\.phone',
      'column.mask.with.8.chars': 'public\\.orders\\.shipping_note',
    };
    expect(connector.connectorConfiguration).toEqual(expect.objectContaining(expected));
    const [cfn] = Object.values(t().findResources('AWS::KafkaConnect::Connector')) as Array<{ Properties: { ConnectorConfiguration: Record<string, unknown> } }>;
    expect(cfn.Properties.ConnectorConfiguration).toEqual(expect.objectContaining(expected));
  });

  test('without columns the connector has no column properties (templates of existing stacks unchanged)', () => {
    const { connector } = withConnector();
    expect(Object.keys(connector.connectorConfiguration).filter(k => k.startsWith('column.'))).toEqual([]);
  });

  test('hashing without columnHashSalt uses a salt derived from the construct path: stable across synths, distinct per stack', () => {
    const a = withConnector({ columns: { 'public.customers': { hash: ['email'] } } });
    const b = withConnector({ columns: { 'public.customers': { hash: ['email'] } } });
    expect(a.db.columnHashSalt).toMatch(/^[0-9a-f]{32}$/);
    expect(b.db.columnHashSalt).toBe(a.db.columnHashSalt);
    expect(a.connector.connectorConfiguration[`column.mask.hash.v2.SHA-256.with.salt.${a.db.columnHashSalt}`]).toBe('public\\.customers\\.email');
    const stack = testStack(testApp(), 'Other');
    const other = new CdcSourceDatabase(stack, 'Source', {
      vpc: new AgentNetwork(stack, 'Net').vpc, tables: ['public.customers'], columns: { 'public.customers': { hash: ['email'] } },
    });
    expect(other.columnHashSalt).not.toBe(a.db.columnHashSalt);
  });

  test('MySQL column names are database.table.column', () => {
    const { connector } = withConnector({
      engine: SourceEngine.mysql(), databaseName: 'shop', tables: ['shop.customers'], columns: { 'shop.customers': { exclude: ['ssn'] } },
    });
    expect(connector.connectorConfiguration['column.exclude.list']).toBe('shop\\.customers\\.ssn');
  });

  test('fails when extraProperties sets column properties next to declared columns', () => {
    const { stack, vpc, db } = source({ columns: { 'public.customers': { exclude: ['ssn'] } } });
    const cluster = new AgentStreamingCluster(stack, 'Kafka', { vpc });
    const plugin = new DebeziumPlugin(stack, 'Plugin', { engine: 'postgres' });
    expect(() => new DebeziumConnector(stack, 'Cdc', {
      cluster, source: db.toCdcSource(), plugin, topicPrefix: 'shop', extraProperties: { 'column.include.list': 'public.customers.id' },
    })).toThrow(/extraProperties sets column.include.list, but the source declares column policies \(columns\).*declare exclusions, hashes and masks in the source's columns/);
  });
});

describe('column policy validation at synth', () => {
  test('fails for a table that is not captured, naming the captured tables', () => {
    expect(() => source({ columns: { 'public.users': { exclude: ['ssn'] } } }))
      .toThrow(/columns names table 'public.users', which is not in tables \[public.customers, public.orders\].*or capture 'public.users'/);
  });
  test('fails for a column that is not a plain name', () => {
    expect(() => source({ columns: { 'public.customers': { hash: ['e-mail'] } } })).toThrow(/columns\['public.customers'\].hash has 'e-mail', which is not a plain column name/);
  });
  test('fails for a column in two lists', () => {
    expect(() => source({ columns: { 'public.customers': { exclude: ['email'], hash: ['email'] } } }))
      .toThrow(/lists 'email' under both exclude and hash\. A column is either excluded, hashed or masked/);
  });
  test('fails for a mask length out of range, or one without masked columns', () => {
    expect(() => source({ columns: { 'public.customers': { mask: ['phone'], maskChars: 0 } } })).toThrow(/maskChars is 0; use a whole number from 1 to 255/);
    expect(() => source({ columns: { 'public.customers': { maskChars: 4 } } })).toThrow(/maskChars is set but mask lists no column/);
  });
  test('fails for a salt Debezium cannot read from a property name', () => {
    expect(() => source({ columns: { 'public.customers': { hash: ['email'] } }, columnHashSalt: 'short' })).toThrow(/columnHashSalt is 5 characters.*16-128/);
    expect(() => source({ columns: { 'public.customers': { hash: ['email'] } }, columnHashSalt: 'has.dots.in.it.123456' })).toThrow(/columnHashSalt/);
  });
});

function stackProps(columns: CdcSourceDatabaseProps['columns'], fields = ['id', 'name', 'email']): AgentDataStackProps {
  return {
    profile: DeploymentProfile.DEVELOPMENT,
    source: { tables: ['public.customers'], columns, columnHashSalt: SALT },
    views: [{
      name: 'customer', description: 'A customer by id.', from: ViewSource.table('public.customers'), store: ViewStore.CACHE, key: ['id'],
      fields: fields.map(name => ({ name, type: name === 'id' ? ViewFieldType.INTEGER : ViewFieldType.STRING })),
    }],
  };
}

describe('column policies on the AgentDataStack declaration', () => {
  test('a view that declares an excluded field fails at synth with the fix named', () => {
    expect(() => new AgentDataStack(testApp(), 'Excluded', stackProps({ 'public.customers': { exclude: ['email'] } })))
      .toThrow(/view 'customer' declares 'email', which source.columns\['public.customers'\] excludes at the source.*Remove the field from the view, or hash or mask the column/);
  });

  test('hashed fields are allowed, reach the connector, and the lineage (describe_source\'s upstream) says they are hashed and which are excluded', () => {
    const stack = new AgentDataStack(testApp(), 'Hashed', stackProps({ 'public.customers': { exclude: ['ssn'], hash: ['email'], mask: ['name'] } }));
    expect(stack.connector.connectorConfiguration).toEqual(expect.objectContaining({
      'column.exclude.list': 'public\\.customers\\.ssn', [HASH_KEY]: 'public\\.customers\\.email', 'column.mask.with.8.chars': 'public\\.customers\\.name',
    }));
    const upstream = traceView(stack.lineage.catalog, 'customer')!.upstream;
    const table = upstream.find(n => n.kind === 'source-table')!;
    expect(table.details).toEqual(expect.objectContaining({
      excludedColumns: 'ssn', hashedColumns: 'email', maskedColumns: 'name',
      personalData: expect.stringMatching(/ssn excluded at the source \(never in Kafka or any store\); email hashed at the source \(hex SHA-256.*\); name masked/),
    }));
    // The catalog the MCP server reads is the one in the SSM parameters.
    const parameters = Template.fromStack(stack).findResources('AWS::SSM::Parameter');
    const json = Object.values(parameters).map(p => (p as { Properties: { Value: string } }).Properties.Value).join('');
    expect(json).toContain('"hashedColumns":"email"');
  });
});
