// The index handler (lambda/search-index) on real OpenSearch, with the Custom::AgentSearchIndex properties of the synthesized
// example: indexes, aliases, mappings and settings are created as declared, re-runs are no-ops, and the strict mappings accept
// every document the sink writes and reject the ones they should.
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import type { Client } from '@opensearch-project/opensearch';
import { Template } from 'aws-cdk-lib/assertions';
import { defineExampleApp } from '../../bin/example';
import { onEvent } from '../../lambda/search-index/index';
import { searchDocument, writeSearchBatch } from '../../lambda/shared/search-writer';
import { viewIndexSettings, viewMappings } from '../../contract/search-mapping';
import type { StoredRecord } from '../../contract/stored-record';
import type { ViewConfig } from '../../contract/view-config';
import { testApp } from '../helpers/app';
import { deployedSearchIndexes, deployedViews, DeployedSearchIndex, LocalOpenSearch, localSearchClient, startOpenSearch, CfnTemplate } from './harness';

let engine: LocalOpenSearch;
let client: Client;
let indexes: DeployedSearchIndex[];
let views: ViewConfig[];

beforeAll(async () => {
  const template = Template.fromStack(defineExampleApp(testApp(), { profile: 'development' })).toJSON() as CfnTemplate;
  indexes = deployedSearchIndexes(template);
  views = deployedViews(template).filter(v => v.store === 'search');
  engine = await startOpenSearch();
  client = localSearchClient(engine.url);
});

afterAll(async () => {
  await client?.close();
  await engine?.stop();
});

function cfnEvent(requestType: 'Create' | 'Update' | 'Delete', props: Record<string, unknown>, old?: Record<string, unknown>, logicalId = 'l'): CloudFormationCustomResourceEvent {
  return {
    RequestType: requestType, ResourceType: 'Custom::AgentSearchIndex', ResourceProperties: { ServiceToken: 'x', ...props }, OldResourceProperties: old,
    PhysicalResourceId: requestType === 'Create' ? undefined : String(props.Alias),
    ServiceToken: 'x', ResponseURL: 'https://example.invalid', StackId: 's', RequestId: 'r', LogicalResourceId: logicalId,
  } as unknown as CloudFormationCustomResourceEvent;
}

/** The template's properties with `Endpoint` (`Fn::GetAtt` on the domain) resolved to the local node. */
const local = (i: DeployedSearchIndex) => ({ ...i.properties, Endpoint: engine.url });

const body = async <T>(p: Promise<{ body: unknown }>): Promise<T> => (await p).body as T;

describe('Custom::AgentSearchIndex from the synthesized example', () => {
  test('the example declares the orders and tickets indexes (tickets with a faiss k-NN vector)', () => {
    expect(indexes.map(i => `${i.properties.Alias} -> ${i.properties.Index}`).sort()).toEqual(['orders -> orders-v1', 'tickets -> tickets-v1']);
    expect(indexes.find(i => i.properties.Alias === 'tickets')!.properties.Mappings).toContain('"engine":"faiss"');
  });

  test('Create makes every index with its write alias, explicit mappings and settings, as declared', async () => {
    for (const i of indexes) {
      const res = await onEvent(client, cfnEvent('Create', local(i)));
      expect(res).toEqual({ PhysicalResourceId: i.properties.Alias, Data: { Index: i.properties.Index, Alias: i.properties.Alias, Created: 'true', AddedFields: '' } });
      const aliases = await body<Record<string, { aliases: Record<string, { is_write_index?: boolean }> }>>(client.indices.getAlias({ name: i.properties.Alias } as never));
      expect(aliases).toEqual({ [i.properties.Index]: { aliases: { [i.properties.Alias]: { is_write_index: true } } } });
      const mapping = await body<Record<string, { mappings: Record<string, any> }>>(client.indices.getMapping({ index: i.properties.Index } as never));
      const declared = JSON.parse(i.properties.Mappings);
      expect(mapping[i.properties.Index].mappings.dynamic).toBe('strict');
      expect(Object.keys(mapping[i.properties.Index].mappings.properties).sort()).toEqual(Object.keys(declared.properties).sort());
      const settings = await body<Record<string, { settings: Record<string, string> }>>(client.indices.getSettings({ index: i.properties.Index, flat_settings: true } as never));
      const want = { ...JSON.parse(i.properties.StaticSettings), ...JSON.parse(i.properties.DynamicSettings) } as Record<string, unknown>;
      for (const [k, v] of Object.entries(want)) expect([k, settings[i.properties.Index].settings[k]]).toEqual([k, String(v)]);
    }
  });

  test('Create again and an Update with the same properties change nothing (the real mappings read back as compatible)', async () => {
    for (const i of indexes) {
      expect((await onEvent(client, cfnEvent('Create', local(i)))).Data).toMatchObject({ Created: 'false', AddedFields: '' });
      expect((await onEvent(client, cfnEvent('Update', local(i), local(i)))).Data).toMatchObject({ Created: 'false', AddedFields: '' });
    }
  });

  test('an Update adding a field adds it in place; changing a field type or a static setting is refused with the fix', async () => {
    const orders = indexes.find(i => i.properties.Alias === 'orders')!;
    const mappings = JSON.parse(orders.properties.Mappings);
    const added = { ...orders.properties, Mappings: JSON.stringify({ ...mappings, properties: { ...mappings.properties, channel: { type: 'keyword', ignore_above: 1024 } } }) };
    expect((await onEvent(client, cfnEvent('Update', { ...added, Endpoint: engine.url }, local(orders)))).Data).toMatchObject({ AddedFields: 'channel' });
    const retyped = { ...added, Endpoint: engine.url, Mappings: JSON.stringify({ ...mappings, properties: { ...mappings.properties, total: { type: 'keyword' } } }) };
    await expect(onEvent(client, cfnEvent('Update', retyped, local(orders)))).rejects.toThrow(/index 'orders-v1' \(alias 'orders'\) cannot be changed in place: field 'total' is mapped as .*"double".* give the view a new search.index/);
    const reshard = { ...added, Endpoint: engine.url, StaticSettings: JSON.stringify({ 'index.number_of_shards': 2 }) };
    await expect(onEvent(client, cfnEvent('Update', reshard, local(orders)))).rejects.toThrow(/static setting 'index.number_of_shards' is "1", the view needs 2/);
  });

  test('an Update while the index has read_only_allow_delete (flood stage) waits out the block; a block that stays fails naming it and the fix', async () => {
    const orders = indexes.find(i => i.properties.Alias === 'orders')!;
    const dynamic = JSON.parse(orders.properties.DynamicSettings) as Record<string, unknown>;
    const changed = (seconds: number) => ({ ...local(orders), DynamicSettings: JSON.stringify({ ...dynamic, 'index.gc_deletes': `${seconds}s` }) });
    const block = (on: boolean) => client.indices.putSettings({ index: orders.properties.Index, body: { 'index.blocks.read_only_allow_delete': on ? true : null } } as never);
    await block(true);
    try {
      const delays: number[] = [];
      // The block lifts during the second wait (OpenSearch releases it once disk usage falls below the high watermark).
      const res = await onEvent(client, cfnEvent('Update', changed(7200), local(orders)), {
        sleep: async ms => { delays.push(ms); if (delays.length === 2) await block(false); },
      });
      expect(res.Data).toMatchObject({ Created: 'false' });
      expect(delays).toEqual([2000, 4000]);
      const settings = await body<Record<string, { settings: Record<string, string> }>>(client.indices.getSettings({ index: orders.properties.Index, flat_settings: true } as never));
      expect(settings[orders.properties.Index].settings['index.gc_deletes']).toBe('7200s');

      await block(true);
      await expect(onEvent(client, cfnEvent('Update', changed(3600), changed(7200)), { maxAttempts: 3, sleep: async () => undefined }))
        .rejects.toThrow(/index 'orders-v1' is blocked \(index\.blocks\.read_only_allow_delete\): updating settings index\.gc_deletes was refused 3 times\. .*free storage or scale the domain.*PUT <index>\/_settings \{"index\.blocks\.read_only_allow_delete": null\}; then deploy again/);
    } finally {
      await block(false);
    }
  });

  test('a concrete index squatting on the alias name (auto-created by a write without require_alias) is refused with the fix', async () => {
    await client.index({ index: 'squatter', id: '1', body: { x: 1 } } as never);
    const props = { ...local(indexes[0]), Alias: 'squatter', Index: 'squatter-v1' };
    await expect(onEvent(client, cfnEvent('Create', props))).rejects.toThrow(/'squatter' exists as a concrete index, not as an alias/);
    await client.indices.delete({ index: 'squatter' } as never);
  });
});

/** A search view with every field type, its index created by the handler from viewMappings (as the construct declares it). */
const ALL_TYPES: ViewConfig = {
  name: 'everything', description: 'Every field type', store: 'search', topic: 'agentdata.public.everything', format: 'debezium',
  key: ['id'], sourceTable: 'public.everything',
  fields: [
    { name: 'id', type: 'integer' }, { name: 'price', type: 'number' }, { name: 'active', type: 'boolean' }, { name: 'tier', type: 'keyword' },
    { name: 'note', type: 'text' }, { name: 'name', type: 'string' }, { name: 'changed_at', type: 'timestamp' }, { name: 'attrs', type: 'json' },
  ],
  search: { index: 'everything' },
};

function stored(view: ViewConfig, id: number, version: number, row: Record<string, unknown> | null): StoredRecord {
  return {
    view: view.name, row,
    provenance: {
      sourceDatabase: 'shop', sourceTable: view.sourceTable ?? 'public.x', key: { [view.key[0]]: id }, commitTimeMs: 1_764_000_000_000 + version,
      position: { kind: 'postgres', lsn: `0/${version.toString(16)}`, txId: 700 + version }, version: String(version), op: row ? 'u' : 'd',
      kafka: { topic: view.topic, partition: 0, offset: String(version) }, writtenAtMs: 1_764_000_000_500 + version,
    },
  };
}

describe('strict mappings on the real engine', () => {
  beforeAll(async () => {
    const settings = viewIndexSettings({ shards: 1, replicas: 0, deleteTombstoneRetentionSeconds: 86400 }, ALL_TYPES);
    await onEvent(client, cfnEvent('Create', {
      Endpoint: engine.url, Alias: 'everything', Index: 'everything-v1', Mappings: JSON.stringify(viewMappings(ALL_TYPES)),
      StaticSettings: JSON.stringify(settings.static), DynamicSettings: JSON.stringify(settings.dynamic), RemoveOnDelete: 'true',
    }));
  });

  test('accept every value shape the sink writes for each field type (Debezium JSON with decimal.handling.mode=string)', async () => {
    const rows: Array<Record<string, unknown>> = [
      { id: 1, price: 12.5, active: true, tier: 'gold', note: 'plain text', name: 'Ada', changed_at: 1_764_000_000_123, attrs: { a: [1, 2], b: { c: null } } },
      // decimal as a string, ZonedTimestamp with microseconds, json column as a JSON string (io.debezium.data.Json)
      { id: 2, price: '12.50', active: false, tier: 'x'.repeat(2000), note: '', name: 'Bob', changed_at: '2026-11-27T12:00:00.123456Z', attrs: '{"a":1}' },
      // MicroTimestamp (converted to millis by the writer), nulls everywhere, a json array
      { id: 3, price: null, active: null, tier: null, note: null, name: null, changed_at: 1_764_000_000_123_456, attrs: [1, 'two'] },
      // NanoTimestamp, a date-only string, scalar json
      { id: 4, price: -0.001, changed_at: Number('1764000000123456789'), attrs: 42 },
      { id: 5, changed_at: '2026-11-27' },
    ];
    const result = await writeSearchBatch(client, ALL_TYPES, rows.map((r, i) => stored(ALL_TYPES, Number(r.id), 10 + i, r)), { maxAttempts: 1 });
    expect(result).toEqual({ written: rows.length, stale: 0, failed: [] });
    // The example's own views too: one document per view with every declared field.
    for (const view of views) {
      const row: Record<string, unknown> = {};
      for (const f of view.fields) row[f.name] = f.type === 'integer' ? 7 : f.type === 'number' ? 9.99 : f.type === 'timestamp' ? '2026-11-27T12:00:00Z' : 'gold';
      const doc = searchDocument(view, stored(view, 7, 1, row));
      const res = await body<{ result: string }>(client.index({ index: view.search!.index, id: '"7"', body: doc, version: 1, version_type: 'external', require_alias: true } as never));
      expect(res.result).toBe('created');
    }
  });

  test('reject undeclared fields, undeclared provenance fields and values of the wrong type, each as a per-item 400 that is not retried', async () => {
    const undeclared: ViewConfig = { ...ALL_TYPES, fields: [...ALL_TYPES.fields, { name: 'secret', type: 'keyword' }] };
    const r1 = await writeSearchBatch(client, undeclared, [stored(undeclared, 20, 1, { id: 20, secret: 'x' })], { maxAttempts: 3, sleep: async () => undefined });
    expect(r1.failed.map(f => f.error)).toEqual([expect.stringMatching(/^HTTP 400: strict_dynamic_mapping_exception: mapping set to strict, dynamic introduction of \[secret\] within \[_doc\] is not allowed/)]);
    const r2 = await writeSearchBatch(client, ALL_TYPES, [stored(ALL_TYPES, 21, 1, { id: 'twenty-one' }), stored(ALL_TYPES, 22, 1, { id: 22, changed_at: 'yesterday' }), stored(ALL_TYPES, 23, 1, { id: 23, active: 'maybe' })], { maxAttempts: 3, sleep: async () => undefined });
    expect(r2.written).toBe(0);
    expect(r2.failed.map(f => f.error)).toEqual([
      expect.stringMatching(/^HTTP 400: mapper_parsing_exception: failed to parse field \[id\] of type \[long\]/),
      expect.stringMatching(/^HTTP 400: mapper_parsing_exception: failed to parse field \[changed_at\] of type \[date\]/),
      expect.stringMatching(/^HTTP 400: mapper_parsing_exception: failed to parse field \[active\] of type \[boolean\]/),
    ]);
    const badProvenance = stored(ALL_TYPES, 24, 1, { id: 24 });
    (badProvenance.provenance as unknown as Record<string, unknown>).extra = 'x';
    const r3 = await writeSearchBatch(client, ALL_TYPES, [badProvenance], { maxAttempts: 3, sleep: async () => undefined });
    expect(r3.failed.map(f => f.error)).toEqual([expect.stringMatching(/strict_dynamic_mapping_exception: mapping set to strict, dynamic introduction of \[extra\] within \[_provenance\] is not allowed/)]);
  });

  test('a view renamed with RemoveOnDelete: the old resource\'s Delete keeps the index the new resource declares, with its documents', async () => {
    const props = { ...local(indexes.find(i => i.properties.Alias === 'orders')!), Alias: 'renamed', Index: 'renamed-v1', RemoveOnDelete: 'true' };
    await onEvent(client, cfnEvent('Create', props, undefined, 'IndexOrders'));
    await client.index({ index: 'renamed', id: '1', body: { order_id: 1 }, refresh: true } as never);
    // The rename: CloudFormation creates the resource under its new logical id, then deletes the old one.
    expect((await onEvent(client, cfnEvent('Create', props, undefined, 'IndexOrdersRenamed'))).Data).toMatchObject({ Created: 'false' });
    await onEvent(client, cfnEvent('Delete', props, undefined, 'IndexOrders'));
    expect((await client.count({ index: 'renamed' } as never)).body).toMatchObject({ count: 1 });
    const mapping = await body<Record<string, { mappings: { _meta?: unknown } }>>(client.indices.getMapping({ index: 'renamed-v1' } as never));
    expect(mapping['renamed-v1'].mappings._meta).toEqual({ agentDataStackOwners: ['s/IndexOrdersRenamed'] });
    // The last resource declaring it deletes it.
    await onEvent(client, cfnEvent('Delete', props, undefined, 'IndexOrdersRenamed'));
    expect((await client.indices.exists({ index: 'renamed-v1' } as never)).body).toBe(false);
  });

  test('Delete with RemoveOnDelete removes the index and its alias; a second Delete succeeds', async () => {
    const props = { Endpoint: engine.url, Alias: 'everything', Index: 'everything-v1', Mappings: '{}', StaticSettings: '{}', DynamicSettings: '{}', RemoveOnDelete: 'true' };
    await onEvent(client, cfnEvent('Delete', props));
    expect((await client.indices.exists({ index: 'everything-v1' } as never)).body).toBe(false);
    expect((await client.indices.existsAlias({ name: 'everything' } as never)).body).toBe(false);
    await expect(onEvent(client, cfnEvent('Delete', props))).resolves.toEqual({ PhysicalResourceId: 'everything' });
  });
});
