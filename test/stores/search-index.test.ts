// The index custom resource handler against a stand-in domain: index + alias creation, idempotence, compatible and incompatible updates, opt-in delete, FGAC roles.
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import type { Client } from '@opensearch-project/opensearch';
import { createSearchClient } from '../../lambda/shared/search-client';
import { handler, onEvent } from '../../lambda/search-index/index';
import { viewIndexSettings, viewMappings } from '../../contract/search-mapping';
import type { ViewConfig } from '../../contract/view-config';
import { SearchStandIn } from './search-stand-in';

const VIEW: ViewConfig = {
  name: 'orders', description: 'Orders', store: 'search', topic: 't', format: 'debezium', key: ['order_id'], sourceTable: 'public.orders',
  fields: [{ name: 'order_id', type: 'integer' }, { name: 'status', type: 'keyword' }, { name: 'meta', type: 'json' }],
  search: { index: 'orders' },
};

function indexProps(view: ViewConfig, endpoint: string, opts: { shards?: number; gc?: number; remove?: boolean } = {}) {
  const settings = viewIndexSettings({ shards: opts.shards ?? 1, replicas: 1, deleteTombstoneRetentionSeconds: opts.gc ?? 86400 });
  return {
    ServiceToken: 'arn:aws:lambda:us-east-1:123456789012:function:x',
    Endpoint: endpoint,
    Alias: view.search!.index,
    Index: `${view.search!.index}-v1`,
    Mappings: JSON.stringify(viewMappings(view)),
    StaticSettings: JSON.stringify(settings.static),
    DynamicSettings: JSON.stringify(settings.dynamic),
    RemoveOnDelete: String(opts.remove ?? false),
  };
}

function event(requestType: 'Create' | 'Update' | 'Delete', resourceType: string, props: Record<string, unknown>, old?: Record<string, unknown>, logicalId = 'l'): CloudFormationCustomResourceEvent {
  return {
    RequestType: requestType,
    ResourceType: resourceType,
    ResourceProperties: props,
    OldResourceProperties: old,
    PhysicalResourceId: requestType === 'Create' ? undefined : 'orders',
    ServiceToken: 'x', ResponseURL: 'https://example.invalid', StackId: 's', RequestId: 'r', LogicalResourceId: logicalId,
  } as unknown as CloudFormationCustomResourceEvent;
}

let standIn: SearchStandIn;
let url: string;
let client: Client;

beforeEach(async () => {
  standIn = new SearchStandIn();
  url = await standIn.start();
  client = createSearchClient({ endpoint: url, region: 'us-east-1', credentials: async () => ({ accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 's' }) });
});

afterEach(async () => {
  await client.close();
  await standIn.stop();
});

const writes = () => standIn.requests.filter(r => r.method !== 'GET' && r.method !== 'HEAD').map(r => `${r.method} ${r.path}`);

describe('Custom::AgentSearchIndex', () => {
  test('Create makes the versioned index with explicit mappings, settings and the write alias', async () => {
    const res = await onEvent(client, event('Create', 'Custom::AgentSearchIndex', indexProps(VIEW, url)));
    expect(res).toEqual({ PhysicalResourceId: 'orders', Data: { Index: 'orders-v1', Alias: 'orders', Created: 'true', AddedFields: '' } });
    const create = standIn.requests.find(r => r.method === 'PUT' && r.path === '/orders-v1')!;
    expect(create.headers.authorization).toMatch(/^AWS4-HMAC-SHA256 .*\/us-east-1\/es\/aws4_request/);
    expect(JSON.parse(create.body)).toEqual({
      settings: { 'index.number_of_shards': 1, 'index.number_of_replicas': 1, 'index.gc_deletes': '86400s' },
      // `_meta` names the CloudFormation resource declaring the index (StackId/LogicalResourceId), for Delete.
      mappings: { ...viewMappings(VIEW), _meta: { agentDataStackOwners: ['s/l'] } },
      aliases: { orders: { is_write_index: true } },
    });
  });

  test('Create twice is safe and changes nothing the second time', async () => {
    await onEvent(client, event('Create', 'Custom::AgentSearchIndex', indexProps(VIEW, url)));
    const before = writes().length;
    const res = await onEvent(client, event('Create', 'Custom::AgentSearchIndex', indexProps(VIEW, url)));
    expect(res.Data).toMatchObject({ Created: 'false', AddedFields: '' });
    expect(writes().length).toBe(before);
  });

  test('mappings as OpenSearch returns them (objects without type) compare equal', async () => {
    const mappings = JSON.parse(JSON.stringify(viewMappings(VIEW)));
    delete mappings.properties._provenance.type;
    standIn.seedIndex('orders-v1', 'orders', { ...mappings, _meta: { agentDataStackOwners: ['s/l'] } }, { 'index.gc_deletes': '86400s' });
    const res = await onEvent(client, event('Update', 'Custom::AgentSearchIndex', indexProps(VIEW, url), indexProps(VIEW, url)));
    expect(res.Data).toMatchObject({ Created: 'false', AddedFields: '' });
    expect(writes()).toEqual([]);
  });

  test('Update adds new fields in place and updates dynamic settings', async () => {
    await onEvent(client, event('Create', 'Custom::AgentSearchIndex', indexProps(VIEW, url)));
    const wider: ViewConfig = { ...VIEW, fields: [...VIEW.fields, { name: 'note', type: 'text' }] };
    const res = await onEvent(client, event('Update', 'Custom::AgentSearchIndex', indexProps(wider, url, { gc: 3600 }), indexProps(VIEW, url)));
    expect(res.Data).toMatchObject({ Created: 'false', AddedFields: 'note' });
    const putMapping = standIn.requests.find(r => r.method !== 'GET' && r.path === '/orders-v1/_mapping')!;
    expect(JSON.parse(putMapping.body)).toEqual({ properties: { note: { type: 'text' } } });
    const putSettings = standIn.requests.find(r => r.method === 'PUT' && r.path === '/orders-v1/_settings')!;
    expect(JSON.parse(putSettings.body)).toEqual({ 'index.gc_deletes': '3600s' });
  });

  test('Update refuses a changed field type with the fix in the message', async () => {
    await onEvent(client, event('Create', 'Custom::AgentSearchIndex', indexProps(VIEW, url)));
    const changed: ViewConfig = { ...VIEW, fields: [{ name: 'order_id', type: 'integer' }, { name: 'status', type: 'text' }, { name: 'meta', type: 'json' }] };
    await expect(onEvent(client, event('Update', 'Custom::AgentSearchIndex', indexProps(changed, url), indexProps(VIEW, url))))
      .rejects.toThrow(/index 'orders-v1' \(alias 'orders'\) cannot be changed in place: field 'status' is mapped as .*keyword.*, the view needs .*text.*give the view a new search.index/);
    expect(writes().filter(w => w.includes('_mapping'))).toEqual([]);
  });

  test('Update refuses a changed static setting (shards)', async () => {
    await onEvent(client, event('Create', 'Custom::AgentSearchIndex', indexProps(VIEW, url)));
    await expect(onEvent(client, event('Update', 'Custom::AgentSearchIndex', indexProps(VIEW, url, { shards: 3 }), indexProps(VIEW, url))))
      .rejects.toThrow(/static setting 'index.number_of_shards' is "1", the view needs 3/);
  });

  test('refuses an index that a write created by dynamic mapping (the alias name is a concrete index)', async () => {
    standIn.seedIndex('orders', undefined, { properties: {} });
    await expect(onEvent(client, event('Create', 'Custom::AgentSearchIndex', indexProps(VIEW, url))))
      .rejects.toThrow(/'orders' exists as a concrete index, not as an alias/);
  });

  test('refuses an existing index whose mapping is not strict', async () => {
    standIn.seedIndex('orders-v1', 'orders', { properties: viewMappings(VIEW).properties }, { 'index.gc_deletes': '86400s' });
    await expect(onEvent(client, event('Create', 'Custom::AgentSearchIndex', indexProps(VIEW, url)))).rejects.toThrow(/mapping is dynamic 'true', the view needs 'strict'/);
  });

  test('Delete keeps the index unless the removal policy opted in', async () => {
    await onEvent(client, event('Create', 'Custom::AgentSearchIndex', indexProps(VIEW, url)));
    expect(await onEvent(client, event('Delete', 'Custom::AgentSearchIndex', indexProps(VIEW, url)))).toEqual({ PhysicalResourceId: 'orders' });
    expect(standIn.indexes.has('orders-v1')).toBe(true);
    await onEvent(client, event('Delete', 'Custom::AgentSearchIndex', indexProps(VIEW, url, { remove: true })));
    expect(standIn.indexes.has('orders-v1')).toBe(false);
    // Deleting what is already gone succeeds.
    await onEvent(client, event('Delete', 'Custom::AgentSearchIndex', indexProps(VIEW, url, { remove: true })));
  });

  test('renaming a view (new logical id, same index) with removalPolicy DESTROY keeps the index: the old resource\'s Delete only gives up its claim', async () => {
    const props = indexProps(VIEW, url, { remove: true });
    // CloudFormation creates the resource under its new logical id, then deletes the old one in the cleanup phase.
    await onEvent(client, event('Create', 'Custom::AgentSearchIndex', props, undefined, 'IndexOrders'));
    await onEvent(client, event('Create', 'Custom::AgentSearchIndex', props, undefined, 'IndexOrdersRenamed'));
    await onEvent(client, event('Delete', 'Custom::AgentSearchIndex', props, undefined, 'IndexOrders'));
    expect(standIn.indexes.has('orders-v1')).toBe(true);
    expect(standIn.aliases.get('orders')).toBe('orders-v1');
    // A rollback of the rename deletes the new resource instead: the old one still holds the index.
    await onEvent(client, event('Create', 'Custom::AgentSearchIndex', props, undefined, 'IndexOrders'));
    await onEvent(client, event('Delete', 'Custom::AgentSearchIndex', props, undefined, 'IndexOrdersRenamed'));
    expect(standIn.indexes.has('orders-v1')).toBe(true);
    // The last resource holding it deletes it, as the removal policy asked.
    await onEvent(client, event('Delete', 'Custom::AgentSearchIndex', props, undefined, 'IndexOrders'));
    expect(standIn.indexes.has('orders-v1')).toBe(false);
  });

  test('the Lambda entry point signs with the default credential chain and the function region', async () => {
    const saved = { ...process.env };
    Object.assign(process.env, { AWS_REGION: 'eu-west-1', AWS_ACCESS_KEY_ID: 'AKIDENV', AWS_SECRET_ACCESS_KEY: 'secret', AWS_SESSION_TOKEN: 'tok' });
    try {
      const res = await handler(event('Create', 'Custom::AgentSearchIndex', indexProps(VIEW, url)));
      expect(res.PhysicalResourceId).toBe('orders');
      expect(standIn.requests[0].headers.authorization).toMatch(/Credential=AKIDENV\/\d{8}\/eu-west-1\/es\/aws4_request/);
    } finally {
      process.env = saved;
    }
  });
});

describe('Custom::AgentSearchAccess', () => {
  const role = (name: string, arn: string) => ({
    Name: name, ClusterPermissions: ['indices:data/write/bulk'], IndexPatterns: ['orders', 'orders-v*'], AllowedActions: ['indices:data/write/index'], BackendRoles: [arn],
  });

  test('Create puts each FGAC role and maps it to the IAM role ARNs, and turns the audit log on', async () => {
    await onEvent(client, event('Create', 'Custom::AgentSearchAccess', { Endpoint: url, AuditLog: 'true', Roles: [role('agent_write', 'arn:aws:iam::123456789012:role/sink')] }));
    expect(standIn.roles.get('agent_write')).toMatchObject({
      cluster_permissions: ['indices:data/write/bulk'],
      index_permissions: [{ index_patterns: ['orders', 'orders-v*'], allowed_actions: ['indices:data/write/index'] }],
    });
    expect(standIn.roleMappings.get('agent_write')).toMatchObject({ backend_roles: ['arn:aws:iam::123456789012:role/sink'] });
    expect(writes()).toEqual([
      'PUT /_plugins/_security/api/roles/agent_write',
      'PUT /_plugins/_security/api/rolesmapping/agent_write',
      'PUT /_plugins/_security/api/audit/config',
    ]);
    expect(standIn.auditConfig).toMatchObject({ enabled: true, audit: { enable_rest: true, log_request_body: false } });
  });

  test('Update replaces roles and removes the ones no longer granted', async () => {
    await onEvent(client, event('Create', 'Custom::AgentSearchAccess', { Endpoint: url, Roles: [role('a', 'arn:1'), role('b', 'arn:2')] }));
    await onEvent(client, event('Update', 'Custom::AgentSearchAccess', { Endpoint: url, Roles: [role('a', 'arn:3')] }, { Endpoint: url, Roles: [role('a', 'arn:1'), role('b', 'arn:2')] }));
    expect([...standIn.roles.keys()]).toEqual(['a']);
    expect(standIn.roleMappings.get('a')).toMatchObject({ backend_roles: ['arn:3'] });
    expect(standIn.roleMappings.has('b')).toBe(false);
  });

  test('Delete removes the roles; roles already gone are fine', async () => {
    await onEvent(client, event('Create', 'Custom::AgentSearchAccess', { Endpoint: url, Roles: [role('a', 'arn:1')] }));
    standIn.roleMappings.delete('a');
    await onEvent(client, event('Delete', 'Custom::AgentSearchAccess', { Endpoint: url, Roles: [role('a', 'arn:1')] }));
    expect(standIn.roles.size).toBe(0);
  });

  // AgentSearch's own access resource (domain stack) and one in a grantee's stack name disjoint FGAC roles: neither
  // resource's Update nor Delete may rewrite or remove a mapping the other made.
  describe('two access resources (the domain\'s stack and a grantee\'s stack) on one domain', () => {
    const domainStack = { Endpoint: url, AuditLog: 'true', Roles: [role('agent_d_write_base', 'arn:base-sink')] };
    const appsStack = { Endpoint: url, Roles: [role('agent_d_write_apps', 'arn:apps-sink'), role('agent_d_read_apps', 'arn:apps-mcp')] };
    const mapped = () => Object.fromEntries([...standIn.roleMappings.entries()].map(([k, v]) => [k, (v as { backend_roles: string[] }).backend_roles]));

    beforeEach(async () => {
      await onEvent(client, event('Create', 'Custom::AgentSearchAccess', domainStack, undefined, 'SearchAccess'));
      await onEvent(client, event('Create', 'Custom::AgentSearchAccess', appsStack, undefined, 'AgentSearchAccessBaseSearch'));
    });

    test('both create their mappings side by side', () => {
      expect(mapped()).toEqual({ agent_d_write_base: ['arn:base-sink'], agent_d_write_apps: ['arn:apps-sink'], agent_d_read_apps: ['arn:apps-mcp'] });
    });

    test('an Update of one (a role dropped, another remapped) leaves the other\'s mappings', async () => {
      const next = { Endpoint: url, Roles: [role('agent_d_write_apps', 'arn:apps-sink2')] };
      await onEvent(client, event('Update', 'Custom::AgentSearchAccess', next, appsStack, 'AgentSearchAccessBaseSearch'));
      expect(mapped()).toEqual({ agent_d_write_base: ['arn:base-sink'], agent_d_write_apps: ['arn:apps-sink2'] });
      const redeploy = { ...domainStack, Roles: [role('agent_d_write_base', 'arn:base-sink'), role('agent_d_read_base', 'arn:base-mcp')] };
      await onEvent(client, event('Update', 'Custom::AgentSearchAccess', redeploy, domainStack, 'SearchAccess'));
      expect(mapped()).toEqual({ agent_d_write_base: ['arn:base-sink'], agent_d_read_base: ['arn:base-mcp'], agent_d_write_apps: ['arn:apps-sink2'] });
    });

    test('a Delete of either removes only its own roles and mappings', async () => {
      await onEvent(client, event('Delete', 'Custom::AgentSearchAccess', appsStack, undefined, 'AgentSearchAccessBaseSearch'));
      expect(mapped()).toEqual({ agent_d_write_base: ['arn:base-sink'] });
      expect([...standIn.roles.keys()]).toEqual(['agent_d_write_base']);
      await onEvent(client, event('Create', 'Custom::AgentSearchAccess', appsStack, undefined, 'AgentSearchAccessBaseSearch'));
      await onEvent(client, event('Delete', 'Custom::AgentSearchAccess', domainStack, undefined, 'SearchAccess'));
      expect(mapped()).toEqual({ agent_d_write_apps: ['arn:apps-sink'], agent_d_read_apps: ['arn:apps-mcp'] });
    });
  });

  test('an unknown resource type fails', async () => {
    await expect(onEvent(client, event('Create', 'Custom::Other', { Endpoint: url }))).rejects.toThrow(/unsupported resource type Custom::Other/);
  });
});

describe('Custom::AgentSearchIndex with a vector field', () => {
  const VECTOR_VIEW: ViewConfig = {
    ...VIEW,
    fields: [...VIEW.fields, { name: 'note', type: 'text' }],
    search: { index: 'orders', vector: { field: 'note_embedding', sourceFields: ['note'], dimension: 256, modelId: 'amazon.titan-embed-text-v2:0', spaceType: 'cosinesimil' } },
  };
  function vectorProps(view: ViewConfig) {
    const settings = viewIndexSettings({ shards: 1, replicas: 1, deleteTombstoneRetentionSeconds: 86400 }, view);
    return { ...indexProps(view, url), StaticSettings: JSON.stringify(settings.static) };
  }

  test('creates the index with index.knn and the knn_vector mapping; a redeploy changes nothing', async () => {
    await onEvent(client, event('Create', 'Custom::AgentSearchIndex', vectorProps(VECTOR_VIEW)));
    const create = JSON.parse(standIn.requests.find(r => r.method === 'PUT' && r.path === '/orders-v1')!.body);
    expect(create.settings['index.knn']).toBe(true);
    expect(create.mappings.properties.note_embedding).toMatchObject({ type: 'knn_vector', dimension: 256, method: { engine: 'faiss', space_type: 'cosinesimil' } });
    const before = writes().length;
    await onEvent(client, event('Update', 'Custom::AgentSearchIndex', vectorProps(VECTOR_VIEW), vectorProps(VECTOR_VIEW)));
    expect(writes().length).toBe(before);
  });

  test('a vector echoed back with space_type at the top level and extra defaults is the same field', async () => {
    const mappings = viewMappings(VECTOR_VIEW) as unknown as { properties: Record<string, Record<string, unknown>> };
    mappings.properties.note_embedding = { type: 'knn_vector', dimension: 256, space_type: 'cosinesimil', mode: 'in_memory', method: { name: 'hnsw', engine: 'faiss', parameters: { m: 16, ef_construction: 128 } } };
    standIn.seedIndex('orders-v1', 'orders', mappings as never, { 'index.knn': 'true', 'index.gc_deletes': '86400s' });
    const res = await onEvent(client, event('Update', 'Custom::AgentSearchIndex', vectorProps(VECTOR_VIEW), vectorProps(VECTOR_VIEW)));
    expect(res.Data).toMatchObject({ AddedFields: '' });
  });

  test('adding a vector to an index created without k-NN is refused (index.knn is static)', async () => {
    const plain: ViewConfig = { ...VECTOR_VIEW, search: { index: 'orders' } };
    await onEvent(client, event('Create', 'Custom::AgentSearchIndex', vectorProps(plain)));
    await expect(onEvent(client, event('Update', 'Custom::AgentSearchIndex', vectorProps(VECTOR_VIEW), vectorProps(plain))))
      .rejects.toThrow(/static setting 'index.knn' is undefined, the view needs true/);
  });

  test('changing the vector dimension in place is refused', async () => {
    await onEvent(client, event('Create', 'Custom::AgentSearchIndex', vectorProps(VECTOR_VIEW)));
    const wider = { ...VECTOR_VIEW, search: { ...VECTOR_VIEW.search!, vector: { ...VECTOR_VIEW.search!.vector!, dimension: 512 } } };
    await expect(onEvent(client, event('Update', 'Custom::AgentSearchIndex', vectorProps(wider), vectorProps(VECTOR_VIEW))))
      .rejects.toThrow(/field 'note_embedding' is mapped as/);
  });
});
