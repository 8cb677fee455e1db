// Lineage: the catalog for the example pipeline and a chained transform, OpenLineage export against the spec schema, the SSM-backed construct and the loader.
import { GetParametersCommand, SSMClient } from '@aws-sdk/client-ssm';
import { Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import { mockClient } from 'aws-sdk-client-mock';
import { AgentLineageCatalog, AgentLineageCatalogProps, splitUtf8 } from '../../constructs/governance/lineage-catalog';
import { buildLineageCatalog, decisionLineage, LineageDeclaration, toOpenLineage, traceView } from '../../contract/lineage-graph';
import { loadCatalog, loadCatalogFromEnv, parseCatalogLocation, resetCatalogCache } from '../../lambda/shared/lineage-loader';
import { testApp, testStack } from '../helpers/app';
import { formatFindings, gateFindings } from '../helpers/gate';
// ajv 6 (draft-07) is what node_modules holds; the fixture schema is written for it.
const Ajv = require('ajv');
const OPENLINEAGE_SCHEMA = require('./fixtures/openlineage-2-0-2.schema.json');

/** The example app: CDC from PostgreSQL, a Flink join of orders and customers, a cache view of the join, a search view of customers. */
const EXAMPLE: LineageDeclaration = {
  namespace: 'AgentDataStackExample',
  sources: [{ engine: 'postgres', database: 'shop', tables: ['public.orders', 'public.customers'], connectorName: 'agent-cdc', topicPrefix: 'agentdata' }],
  flink: [{
    application: 'orders-enrich', statementIndex: 0,
    sourceTopics: ['agentdata.public.orders', 'agentdata.public.customers'], sourceTables: ['orders', 'customers'],
    sinkTopic: 'orders_enriched', sinkTable: 'orders_enriched',
  }],
  views: [
    { name: 'order_status', store: 'cache', topic: 'orders_enriched', tools: ['order_status_lookup'], location: 'order_status:', sink: 'cache-sink' },
    { name: 'customer_search', store: 'search', topic: 'agentdata.public.customers', tools: ['customer_search_search'], location: 'customers', sink: 'search-sink' },
  ],
};

/** Two steps: orders x customers -> orders_enriched; orders_enriched x payments -> order_risk. */
const CHAINED: LineageDeclaration = {
  namespace: 'Chained',
  sources: [{ engine: 'postgres', tables: ['public.orders', 'public.customers', 'public.payments'], connectorName: 'cdc', topicPrefix: 'db' }],
  flink: [
    { application: 'risk', statementIndex: 1, sourceTopics: ['orders_enriched', 'db.public.payments'], sinkTopic: 'order_risk' },
    { application: 'enrich', statementIndex: 0, sourceTopics: ['db.public.orders', 'db.public.customers'], sinkTopic: 'orders_enriched' },
  ],
  views: [{ name: 'order_risk', store: 'cache', topic: 'order_risk', tools: ['order_risk_lookup', 'get_lineage'] }],
};

describe('buildLineageCatalog', () => {
  test('example: source table -> connector -> topic -> Flink join -> output topic -> sink -> cache prefix -> tool', () => {
    const c = buildLineageCatalog(EXAMPLE);
    expect(c.version).toBe(1);
    expect(c.namespace).toBe('AgentDataStackExample');
    expect(c.edges).toEqual(expect.arrayContaining([
      { from: 'source-table:public.orders', to: 'connector:agent-cdc' },
      { from: 'source-table:public.customers', to: 'connector:agent-cdc' },
      { from: 'connector:agent-cdc', to: 'topic:agentdata.public.orders' },
      { from: 'connector:agent-cdc', to: 'topic:agentdata.public.customers' },
      { from: 'topic:agentdata.public.orders', to: 'flink-statement:orders-enrich#0' },
      { from: 'topic:agentdata.public.customers', to: 'flink-statement:orders-enrich#0' },
      { from: 'flink-statement:orders-enrich#0', to: 'topic:orders_enriched' },
      { from: 'topic:orders_enriched', to: 'sink:cache-sink' },
      { from: 'sink:cache-sink', to: 'store:cache:order_status:' },
      { from: 'store:cache:order_status:', to: 'mcp-tool:order_status_lookup' },
      { from: 'topic:agentdata.public.customers', to: 'sink:search-sink' },
      { from: 'sink:search-sink', to: 'store:search:customers' },
      { from: 'store:search:customers', to: 'mcp-tool:customer_search_search' },
    ]));
    expect(c.edges).toHaveLength(13);
    expect(c.views).toEqual([
      { view: 'customer_search', store: 'search', topic: 'agentdata.public.customers', sourceTables: ['public.customers'], pipeline: [], tools: ['customer_search_search'] },
      { view: 'order_status', store: 'cache', topic: 'orders_enriched', sourceTables: ['public.customers', 'public.orders'], pipeline: ['orders-enrich#0'], tools: ['order_status_lookup'] },
    ]);
    expect(c.nodes.find(n => n.id === 'flink-statement:orders-enrich#0')?.details).toEqual({
      application: 'orders-enrich', statementIndex: '0', sinkTable: 'orders_enriched', sourceTables: 'orders,customers',
    });
    expect(c.nodes.map(n => n.kind)).toEqual(expect.arrayContaining(['source-table', 'connector', 'topic', 'flink-statement', 'sink', 'store', 'mcp-tool']));
  });

  test('chained transforms: the view traces through both statements to all three tables, upstream first', () => {
    const c = buildLineageCatalog(CHAINED);
    expect(c.views[0]).toEqual({
      view: 'order_risk', store: 'cache', topic: 'order_risk',
      sourceTables: ['public.customers', 'public.orders', 'public.payments'],
      pipeline: ['enrich#0', 'risk#1'], tools: ['get_lineage', 'order_risk_lookup'],
    });
  });

  test('traceView lists every node behind a view, source first, without other views\' branches', () => {
    const trace = traceView(buildLineageCatalog(EXAMPLE), 'order_status')!;
    const ids = trace.upstream.map(n => n.id);
    expect(ids[ids.length - 1]).toBe('store:cache:order_status:');
    expect(ids).toEqual(expect.arrayContaining(['source-table:public.orders', 'source-table:public.customers', 'connector:agent-cdc', 'flink-statement:orders-enrich#0', 'sink:cache-sink']));
    expect(ids.indexOf('source-table:public.orders')).toBeLessThan(ids.indexOf('flink-statement:orders-enrich#0'));
    expect(ids).not.toContain('store:search:customers');
    expect(traceView(buildLineageCatalog(EXAMPLE), 'nope')).toBeUndefined();
  });

  test('traceView does not cross a shared connector or sink into another view\'s tables and topics', () => {
    const catalog = buildLineageCatalog({
      namespace: 'shared',
      sources: [{ engine: 'postgres', tables: ['public.tickets', 'public.orders'], connectorName: 'cdc', topicPrefix: 'agentdata' }],
      views: [
        { name: 'tickets', store: 'search', topic: 'agentdata.public.tickets', tools: ['tickets_search'], sink: 'search-sink' },
        { name: 'orders', store: 'search', topic: 'agentdata.public.orders', tools: ['orders_search'], sink: 'search-sink' },
      ],
    });
    expect(traceView(catalog, 'tickets')!.upstream.map(n => n.id)).toEqual([
      'source-table:public.tickets', 'connector:cdc', 'topic:agentdata.public.tickets', 'sink:search-sink', 'store:search:tickets',
    ]);
  });

  test('is deterministic regardless of declaration order (property: 200 seeded shuffles)', () => {
    const seed = 20260101;
    console.log(`lineage order property seed: ${seed}`);
    let state = seed;
    const random = () => ((state = (state * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const shuffle = <T>(xs: T[]) => {
      const out = [...xs];
      for (let i = out.length - 1; i > 0; i--) {
        const j = Math.floor(random() * (i + 1));
        [out[i], out[j]] = [out[j], out[i]];
      }
      return out;
    };
    const decl: LineageDeclaration = { ...CHAINED, views: [...CHAINED.views, { name: 'customers', store: 'search', topic: 'db.public.customers', tools: ['a', 'b'] }] };
    const expected = JSON.stringify(buildLineageCatalog(decl));
    for (let run = 0; run < 200; run++) {
      const shuffled: LineageDeclaration = {
        ...decl,
        sources: decl.sources.map(src => ({ ...src, tables: shuffle(src.tables) })),
        flink: shuffle(decl.flink!).map(st => ({ ...st, sourceTopics: shuffle(st.sourceTopics) })),
        views: shuffle(decl.views).map(v => ({ ...v, tools: shuffle(v.tools) })),
      };
      expect(JSON.stringify(buildLineageCatalog(shuffled))).toBe(expected);
    }
  });

  test('decisionLineage traces every data reference of a decision to its sources', () => {
    const catalog = buildLineageCatalog(EXAMPLE);
    const lineage = decisionLineage({
      decisionId: 'd', recordedAt: '2026-01-01T00:00:00Z', agentId: 'a', decision: 'x', rationale: 'y', toolCalls: [],
      dataReferences: [{ view: 'order_status', key: { order_id: 1 } }, { view: 'renamed_view', key: {} }],
    }, catalog);
    expect(lineage[0].lineage!.entry.sourceTables).toEqual(['public.customers', 'public.orders']);
    expect(lineage[0].lineage!.upstream[0].kind).toBe('source-table');
    expect(lineage[1]).toEqual({ reference: { view: 'renamed_view', key: {} } });
  });

  test('fails when a view reads a topic nothing produces', () => {
    expect(() => buildLineageCatalog({ ...EXAMPLE, views: [{ name: 'v', store: 'cache', topic: 'ghost', tools: [] }] }))
      .toThrow(/view 'v' reads topic 'ghost', which no captured table or Flink statement produces/);
  });
  test('fails when a statement reads a topic nothing produces', () => {
    expect(() => buildLineageCatalog({ ...EXAMPLE, flink: [{ application: 'a', statementIndex: 0, sourceTopics: ['ghost'], sinkTopic: 'x' }] }))
      .toThrow(/a#0 reads topic 'ghost'/);
  });
  test('fails when two producers write one topic', () => {
    expect(() => buildLineageCatalog({ ...EXAMPLE, flink: [{ application: 'a', statementIndex: 0, sourceTopics: ['agentdata.public.orders'], sinkTopic: 'agentdata.public.customers' }] }))
      .toThrow(/topic 'agentdata.public.customers' is written by both a#0 and the CDC connector/);
  });
  test('fails when statements form a cycle', () => {
    expect(() => buildLineageCatalog({
      namespace: 'n', sources: [{ engine: 'mysql', tables: ['db.t'], connectorName: 'c', topicPrefix: 'p' }],
      flink: [
        { application: 'a', statementIndex: 0, sourceTopics: ['t2'], sinkTopic: 't1' },
        { application: 'b', statementIndex: 0, sourceTopics: ['t1'], sinkTopic: 't2' },
      ],
      views: [{ name: 'v', store: 'cache', topic: 't1', tools: [] }],
    })).toThrow(/cycle through topics t1 -> t2 -> t1/);
  });
});

describe('toOpenLineage', () => {
  const ajv = new Ajv({ allErrors: true });
  ajv.addSchema(OPENLINEAGE_SCHEMA, 'ol');
  const validJob = ajv.getSchema('ol#/definitions/JobEvent');
  const validDataset = ajv.getSchema('ol#/definitions/DatasetEvent');

  test('every job and dataset document validates against the OpenLineage schema', () => {
    const { jobs, datasets } = toOpenLineage(buildLineageCatalog(CHAINED), { eventTime: '2026-01-01T00:00:00.000Z' });
    for (const job of jobs) expect([job.job.name, validJob(job), validJob.errors]).toEqual([job.job.name, true, null]);
    for (const ds of datasets) expect([ds.dataset.name, validDataset(ds), validDataset.errors]).toEqual([ds.dataset.name, true, null]);
  });

  test('the schema check rejects a malformed document', () => {
    const { jobs } = toOpenLineage(buildLineageCatalog(CHAINED), { eventTime: '2026-01-01T00:00:00.000Z' });
    expect(validJob({ ...jobs[0], job: { name: 'x' } })).toBe(false);
    expect(validJob({ ...jobs[0], eventTime: 'yesterday' })).toBe(false);
    expect(validDataset({ eventTime: '2026-01-01T00:00:00Z', producer: 'https://x', schemaURL: 'https://x', dataset: { namespace: 'n' } })).toBe(false);
  });

  test('jobs carry the graph: the Flink join reads both CDC topics and writes the joined topic', () => {
    const { jobs, datasets } = toOpenLineage(buildLineageCatalog(EXAMPLE), {
      eventTime: '2026-01-01T00:00:00.000Z', namespaces: { kafka: 'kafka://b-1.agent:9098', postgres: 'postgres://source:5432' },
    });
    const join = jobs.find(j => j.job.name === 'flink-statement:orders-enrich#0')!;
    expect(join.job.namespace).toBe('AgentDataStackExample');
    expect(join.inputs).toEqual([
      { namespace: 'kafka://b-1.agent:9098', name: 'agentdata.public.customers' },
      { namespace: 'kafka://b-1.agent:9098', name: 'agentdata.public.orders' },
    ]);
    expect(join.outputs).toEqual([{ namespace: 'kafka://b-1.agent:9098', name: 'orders_enriched' }]);
    const connector = jobs.find(j => j.job.name === 'connector:agent-cdc')!;
    expect(connector.inputs.map(d => `${d.namespace}/${d.name}`)).toEqual(['postgres://source:5432/shop.public.customers', 'postgres://source:5432/shop.public.orders']);
    expect(jobs.map(j => j.job.name).sort()).toEqual([
      'connector:agent-cdc', 'flink-statement:orders-enrich#0', 'mcp-tool:customer_search_search', 'mcp-tool:order_status_lookup', 'sink:cache-sink', 'sink:search-sink',
    ]);
    expect(datasets).toHaveLength(2 + 3 + 2); // tables, topics, stores
  });
});

function props(overrides: Partial<AgentLineageCatalogProps> = {}): AgentLineageCatalogProps {
  return { sources: EXAMPLE.sources, flink: EXAMPLE.flink, views: EXAMPLE.views, ...overrides };
}

describe('AgentLineageCatalog', () => {
  function build(p = props(), gate = false) {
    const app = testApp({ gate });
    const stack = testStack(app);
    const catalog = new AgentLineageCatalog(stack, 'Lineage', p);
    const role = new iam.Role(stack, 'McpRole', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    catalog.grantRead(role);
    return { app, stack, catalog };
  }

  test('stores the catalog JSON in one Standard-tier parameter, namespaced by the stack name by default', () => {
    const { stack, catalog } = build();
    const t = Template.fromStack(stack);
    t.resourceCountIs('AWS::SSM::Parameter', 1);
    t.hasResourceProperties('AWS::SSM::Parameter', { Type: 'String', Tier: 'Standard', Value: JSON.stringify(catalog.catalog) });
    expect(catalog.catalog.namespace).toBe('TestStack');
  });

  test('grantRead names exactly the catalog parameters', () => {
    const t = Template.fromStack(build().stack);
    t.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: { Statement: [Match.objectLike({
        Action: ['ssm:GetParameter', 'ssm:GetParameters'],
        Resource: { 'Fn::Join': ['', ['arn:aws:ssm:us-east-1:123456789012:parameter/', { Ref: Match.stringLikeRegexp('^Lineage') }]] },
      })] },
    });
  });

  test('environment() names the parameters and the digest', () => {
    const { stack, catalog } = build();
    const env = stack.resolve(catalog.environment());
    expect(env).toEqual({ AGENT_LINEAGE_CATALOG: { 'Fn::Join': ['', ['ssm:', { Ref: expect.stringMatching(/^Lineage/) }, `#${catalog.digest}`]] } });
    expect(catalog.digest).toMatch(/^[0-9a-f]{64}$/);
  });

  function manyViews(n: number) {
    const tables = Array.from({ length: n }, (_, i) => `public.table_with_a_long_name_${i}`);
    return props({
      sources: [{ engine: 'postgres', tables, connectorName: 'cdc', topicPrefix: 'agentdata' }], flink: [],
      views: tables.map((t, i) => ({ name: `view_${i}`, store: 'cache' as const, topic: `agentdata.${t}`, tools: [`view_${i}_lookup`] })),
    });
  }

  async function roundTrip(stack: any, catalog: AgentLineageCatalog, maxBytes: number, tier: string) {
    const params = Object.values(Template.fromStack(stack).findResources('AWS::SSM::Parameter'));
    expect(params.length).toBeGreaterThan(1);
    expect(catalog.parameters).toHaveLength(params.length);
    for (const p of params) {
      expect(Buffer.byteLength(p.Properties.Value)).toBeLessThanOrEqual(maxBytes);
      expect(p.Properties.Tier).toBe(tier);
    }
    const ssm = mockClient(SSMClient);
    const names = params.map((_, i) => `/p/${i}`);
    const stored = new Map(names.map((n, i) => [n, params[i].Properties.Value as string]));
    // Returned out of order on purpose: the loader must order by name.
    ssm.on(GetParametersCommand).callsFake(input => ({ Parameters: input.Names.map((n: string) => ({ Name: n, Value: stored.get(n) })).reverse() }));
    expect(await loadCatalog(new SSMClient({}), { parameterNames: names, digest: catalog.digest })).toEqual(catalog.catalog);
    for (const call of ssm.commandCalls(GetParametersCommand)) expect(call.args[0].input.Names!.length).toBeLessThanOrEqual(10);
    ssm.restore();
  }

  test('a catalog above 4 KB is split into Standard parameters that the loader joins back', async () => {
    const { stack, catalog } = build(manyViews(20));
    await roundTrip(stack, catalog, 4096, 'Standard');
  });

  test('a catalog above 40 KB moves to Advanced parameters, with a warning', async () => {
    const { stack, catalog } = build(manyViews(60));
    expect(catalog.node.metadata.filter(m => m.type === 'aws:cdk:warning').map(m => String(m.data)))
      .toEqual([expect.stringMatching(/59783 bytes.*stored in 8 Advanced-tier parameters.*\[ack: cdk-agent-data-stack:lineage-catalog-advanced\]/)]);
    // The repository treats warnings as errors; a user who accepts the cost acknowledges it.
    Validations.of(catalog).acknowledge({ id: 'Annotation::cdk-agent-data-stack:lineage-catalog-advanced', reason: 'test: large catalog accepted' });
    await roundTrip(stack, catalog, 8192, 'Advanced');
  });

  test('fails when the catalog is above 20 Advanced parameters', () => {
    expect(() => build(manyViews(200))).toThrow(/more than 20 parameters of 8 KB. Split the views across catalogs/);
  });

  test('is deterministic', () => {
    expect(Template.fromStack(build().stack).toJSON()).toEqual(Template.fromStack(build().stack).toJSON());
  });

  test('passes the validation gate', () => {
    const { app } = build(props(), true);
    expect(formatFindings(gateFindings(app))).toBe('');
  });

  test('fails when sources or views are empty', () => {
    expect(() => build(props({ sources: [] }))).toThrow(/sources is empty/);
    expect(() => build(props({ views: [] }))).toThrow(/views is empty/);
  });
  test('fails when a view is declared twice', () => {
    expect(() => build(props({ views: [EXAMPLE.views[0], EXAMPLE.views[0]] }))).toThrow(/view 'order_status' is declared twice/);
  });
  test('fails when a name is a deploy-time token', () => {
    const app = testApp();
    const stack = testStack(app);
    const name = new iam.Role(stack, 'R', { assumedBy: new iam.AccountRootPrincipal() }).roleName;
    expect(() => new AgentLineageCatalog(stack, 'L', props({ sources: [{ ...EXAMPLE.sources[0], connectorName: name }] }))).toThrow(/deploy-time token/);
  });
  test('fails when the declaration is inconsistent (from the builder)', () => {
    expect(() => build(props({ views: [{ name: 'v', store: 'cache', topic: 'ghost', tools: [] }] }))).toThrow(/reads topic 'ghost'/);
  });

  test('splitUtf8 never cuts a multi-byte character', () => {
    const parts = splitUtf8('ab€cd€'.repeat(10), 7);
    expect(parts.join('')).toBe('ab€cd€'.repeat(10));
    for (const p of parts) expect(Buffer.byteLength(p)).toBeLessThanOrEqual(7);
  });
});

describe('lineage loader', () => {
  const ssm = mockClient(SSMClient);
  const catalog = buildLineageCatalog(EXAMPLE);
  const json = JSON.stringify(catalog);
    const digest = require('crypto').createHash('sha256').update(json).digest('hex');
  const env = { AGENT_LINEAGE_CATALOG: `ssm:/a/0,/a/1#${digest}` };

  beforeEach(() => {
    ssm.reset();
    resetCatalogCache();
  });
  afterAll(() => ssm.restore());

  test('loads once per container and serves the cached catalog', async () => {
    ssm.on(GetParametersCommand).resolves({ Parameters: [{ Name: '/a/0', Value: json.slice(0, 100) }, { Name: '/a/1', Value: json.slice(100) }] });
    const client = new SSMClient({});
    expect(await loadCatalogFromEnv(client, env)).toEqual(catalog);
    expect(await loadCatalogFromEnv(client, env)).toEqual(catalog);
    expect(ssm.commandCalls(GetParametersCommand)).toHaveLength(1);
    expect(ssm.commandCalls(GetParametersCommand)[0].args[0].input).toEqual({ Names: ['/a/0', '/a/1'] });
  });

  test('a digest mismatch (catalog mid-update) fails and is not cached', async () => {
    ssm.on(GetParametersCommand)
      .resolvesOnce({ Parameters: [{ Name: '/a/0', Value: json.slice(0, 100) }, { Name: '/a/1', Value: 'stale' }] })
      .resolves({ Parameters: [{ Name: '/a/0', Value: json.slice(0, 100) }, { Name: '/a/1', Value: json.slice(100) }] });
    const client = new SSMClient({});
    await expect(loadCatalogFromEnv(client, env)).rejects.toThrow(/digest mismatch.*retry/);
    expect(await loadCatalogFromEnv(client, env)).toEqual(catalog);
  });

  test('missing parameters say to redeploy', async () => {
    ssm.on(GetParametersCommand).resolves({ Parameters: [], InvalidParameters: ['/a/1'] });
    await expect(loadCatalogFromEnv(new SSMClient({}), env)).rejects.toThrow(/parameters not found: \/a\/1. Redeploy/);
  });

  test('accepts inline JSON and rejects a missing or malformed variable', async () => {
    expect(await loadCatalogFromEnv(new SSMClient({}), { AGENT_LINEAGE_CATALOG: json })).toEqual(catalog);
    expect(() => parseCatalogLocation(undefined)).toThrow(/AGENT_LINEAGE_CATALOG is not set/);
    expect(() => parseCatalogLocation('s3://bucket/key')).toThrow(/must look like 'ssm:/);
  });
});
