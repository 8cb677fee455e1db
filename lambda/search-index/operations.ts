// Deploy-time operations on an OpenSearch domain: create or update a view's index behind its alias, and map IAM roles to FGAC roles.
import type { Client } from '@opensearch-project/opensearch';
import { mappingConflict, type FieldMapping } from '../../contract/search-mapping';
import { blockOf, writeBlockFix } from '../shared/search-blocks';

export interface IndexSpec {
  /** The name clients use (an alias). */
  readonly alias: string;
  /** The physical index behind it. */
  readonly index: string;
  readonly mappings: { dynamic: 'strict'; properties: Record<string, FieldMapping> };
  /** Settings only applied when the index is created (shards, k-NN). */
  readonly staticSettings: Record<string, unknown>;
  /** Settings applied at creation and updated in place afterwards. */
  readonly dynamicSettings: Record<string, unknown>;
  /**
   * The CloudFormation resource declaring the index (`<StackId>/<LogicalResourceId>`), listed in the index's `_meta`
   * so a Delete removes only an index no other resource still declares. @default - none recorded
   */
  readonly owner?: string;
}

/**
 * `_meta` key listing the resources that declare the index. Two resources declare one index while a view is renamed
 * (a new logical id: CloudFormation creates the new resource, then deletes the old one in its cleanup phase, or the
 * new one when it rolls back), and only the last one to go may delete it.
 */
export const OWNERS_META = 'agentDataStackOwners';

/** How long an index change waits out a write block (the handler's Lambda has 5 minutes). */
export interface BlockRetryOptions {
  /** Attempts of one change while the index is blocked, first included. @default 6 */
  readonly maxAttempts?: number;
  /** First backoff delay; doubles each attempt. @default 2000 */
  readonly baseDelayMs?: number;
  /** Cap of one delay. @default 30000 */
  readonly maxDelayMs?: number;
  /** Injected in tests. @default setTimeout-based sleep */
  readonly sleep?: (ms: number) => Promise<void>;
}

export interface EnsureIndexResult {
  readonly created: boolean;
  /** Fields added to an existing index's mapping. */
  readonly addedFields: string[];
}

/**
 * Creates the index with its alias, or brings an existing one up to date: new fields are added, changed
 * dynamic settings applied; a field whose mapping differs, or a changed static setting, is refused with the fix.
 * Safe to run any number of times.
 */
export async function ensureIndex(client: Client, spec: IndexSpec, retry: BlockRetryOptions = {}): Promise<EnsureIndexResult> {
  const existing = await resolveAlias(client, spec.alias);
  if (existing === undefined) {
    try {
      await client.indices.create({
        index: spec.index,
        body: {
          settings: { ...spec.staticSettings, ...spec.dynamicSettings },
          mappings: { ...spec.mappings, ...(spec.owner ? { _meta: { [OWNERS_META]: [spec.owner] } } : {}) },
          aliases: { [spec.alias]: { is_write_index: true } },
        },
      } as never);
      return { created: true, addedFields: [] };
    } catch (e) {
      // Someone (a concurrent deployment, or an earlier attempt whose response was lost) created it first.
      if (errorType(e) !== 'resource_already_exists_exception') throw e;
    }
    return updateIndex(client, spec, spec.index, retry);
  }
  return updateIndex(client, spec, existing, retry);
}

/**
 * Runs one change of an existing index, waiting out a write block with backoff: with `read_only_allow_delete` (the flood-stage
 * watermark) OpenSearch refuses mapping and settings changes with 429, and the blocks AWS sets answer 403
 * (https://repost.aws/knowledge-center/opensearch-403-clusterblockexception). A block that outlasts the attempts fails the
 * deployment with the block's name and the fix, instead of a bare HTTP status.
 */
async function whileBlocked<T>(index: string, what: string, retry: BlockRetryOptions, change: () => Promise<T>): Promise<T> {
  const maxAttempts = retry.maxAttempts ?? 6;
  const sleep = retry.sleep ?? ((ms: number) => new Promise<void>(r => setTimeout(r, ms)));
  for (let attempt = 1; ; attempt++) {
    try {
      return await change();
    } catch (e) {
      const block = blockOf(errorType(e), errorText(e));
      if (!block) throw e;
      if (attempt >= maxAttempts) {
        throw new Error(`index '${index}' is blocked (${block}): ${what} was refused ${attempt} times. ${writeBlockFix(block)}; then deploy again.`, { cause: e });
      }
      await sleep(Math.min(retry.maxDelayMs ?? 30_000, (retry.baseDelayMs ?? 2000) * 2 ** (attempt - 1)));
    }
  }
}

/** The index an alias points to; undefined when neither the alias nor the index exists. */
async function resolveAlias(client: Client, alias: string): Promise<string | undefined> {
  const found = await client.indices.getAlias({ name: alias } as never, { ignore: [404] });
  if (found.statusCode === 404) {
    const asIndex = await client.indices.exists({ index: alias } as never);
    if (asIndex.body === true || asIndex.statusCode === 200) {
      throw new Error(
        `'${alias}' exists as a concrete index, not as an alias (was it created by a write before this stack deployed?). ` +
        `Move its data away and delete it, or give the view another search.index, then deploy again.`,
      );
    }
    return undefined;
  }
  const indexes = Object.keys(found.body as Record<string, unknown>);
  if (indexes.length !== 1) throw new Error(`alias '${alias}' points to ${indexes.length} indexes (${indexes.join(', ')}); a view's alias must point to exactly one`);
  return indexes[0];
}

async function updateIndex(client: Client, spec: IndexSpec, index: string, retry: BlockRetryOptions): Promise<EnsureIndexResult> {
  const mappingResponse = await client.indices.getMapping({ index } as never);
  const current = ((mappingResponse.body as Record<string, { mappings?: IndexMappingsBody }>)[index]?.mappings) ?? {};
  const properties = current.properties ?? {};
  const conflicts: string[] = [];
  const added: Record<string, FieldMapping> = {};
  for (const [name, desired] of Object.entries(spec.mappings.properties)) {
    const have = properties[name];
    if (!have) {
      added[name] = desired;
      continue;
    }
    const conflict = mappingConflict(have, desired);
    if (conflict) conflicts.push(`field '${name}' ${conflict}`);
  }
  if (String(current.dynamic ?? 'true') !== 'strict') conflicts.push(`mapping is dynamic '${String(current.dynamic ?? 'true')}', the view needs 'strict'`);

  const settingsResponse = await client.indices.getSettings({ index, flat_settings: true } as never);
  const settings = (settingsResponse.body as Record<string, { settings?: Record<string, unknown> }>)[index]?.settings ?? {};
  for (const [key, value] of Object.entries(spec.staticSettings)) {
    if (String(settings[key]) !== String(value)) conflicts.push(`static setting '${key}' is ${JSON.stringify(settings[key])}, the view needs ${JSON.stringify(value)}`);
  }
  if (conflicts.length > 0) {
    throw new Error(
      `index '${index}' (alias '${spec.alias}') cannot be changed in place: ${conflicts.join('; ')}. ` +
      `Mapping types and static settings are fixed once an index exists: revert the view change, or give the view ` +
      `a new search.index (a new index is created) and replay its topic to fill it.`,
    );
  }
  if (Object.keys(added).length > 0) {
    await whileBlocked(index, `adding fields ${Object.keys(added).join(', ')}`, retry,
      () => client.indices.putMapping({ index, body: { properties: added } } as never));
  }
  const changed: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(spec.dynamicSettings)) {
    if (String(settings[key]) !== String(value)) changed[key] = value;
  }
  if (Object.keys(changed).length > 0) {
    await whileBlocked(index, `updating settings ${Object.keys(changed).join(', ')}`, retry,
      () => client.indices.putSettings({ index, body: changed } as never));
  }
  const owners = ownersOf(current);
  if (spec.owner && !owners?.includes(spec.owner)) {
    // An index created before owners were recorded (owners undefined) gets its first one here.
    const meta = { ...current._meta, [OWNERS_META]: [...owners ?? [], spec.owner] };
    await whileBlocked(index, 'recording the resource that declares it', retry,
      () => client.indices.putMapping({ index, body: { _meta: meta } } as never));
  }
  return { created: false, addedFields: Object.keys(added) };
}

interface IndexMappingsBody {
  dynamic?: unknown;
  properties?: Record<string, FieldMapping>;
  _meta?: Record<string, unknown>;
}

function ownersOf(mappings: IndexMappingsBody): string[] | undefined {
  const owners = mappings._meta?.[OWNERS_META];
  return Array.isArray(owners) ? owners.map(String) : undefined;
}

/**
 * Deletes the index behind the alias (called only when the user opted in), unless another resource still declares it:
 * then this resource only leaves the index's owners. An index already gone is fine; one with no owners recorded is deleted.
 * Returns whether the index was deleted.
 */
export async function deleteIndex(client: Client, spec: Pick<IndexSpec, 'alias' | 'index' | 'owner'>, retry: BlockRetryOptions = {}): Promise<boolean> {
  const found = await client.indices.getMapping({ index: spec.index } as never, { ignore: [404] });
  if (found.statusCode === 404) return false;
  const current = (found.body as Record<string, { mappings?: IndexMappingsBody }>)[spec.index]?.mappings ?? {};
  const owners = ownersOf(current);
  const others = owners?.filter(o => o !== spec.owner) ?? [];
  if (others.length > 0) {
    if (others.length < owners!.length) {
      await whileBlocked(spec.index, 'removing this resource from its owners', retry,
        () => client.indices.putMapping({ index: spec.index, body: { _meta: { ...current._meta, [OWNERS_META]: others } } } as never));
    }
    return false;
  }
  await client.indices.delete({ index: spec.index } as never, { ignore: [404] });
  return true;
}

/** An FGAC role this stack owns, and the IAM principals (backend roles) mapped to it. */
export interface AccessRole {
  readonly name: string;
  readonly clusterPermissions: string[];
  readonly indexPatterns: string[];
  readonly allowedActions: string[];
  readonly backendRoles: string[];
}

const SECURITY_API = '/_plugins/_security/api';

/**
 * Creates or replaces each FGAC role and its mapping to IAM role ARNs, then deletes the roles in
 * `previous` that are gone. Requests are signed by the master role, the only principal allowed to call the security API.
 */
export async function applyAccessRoles(client: Client, roles: AccessRole[], previous: AccessRole[] = []): Promise<void> {
  for (const role of roles) {
    await client.transport.request({
      method: 'PUT',
      path: `${SECURITY_API}/roles/${encodeURIComponent(role.name)}`,
      body: {
        description: 'Managed by cdk-agent-data-stack AgentSearch; changes are overwritten on deploy.',
        cluster_permissions: role.clusterPermissions,
        index_permissions: [{ index_patterns: role.indexPatterns, allowed_actions: role.allowedActions }],
      },
    });
    await client.transport.request({
      method: 'PUT',
      path: `${SECURITY_API}/rolesmapping/${encodeURIComponent(role.name)}`,
      body: {
        description: 'Managed by cdk-agent-data-stack AgentSearch.',
        backend_roles: role.backendRoles,
      },
    });
  }
  const keep = new Set(roles.map(r => r.name));
  await deleteAccessRoles(client, previous.filter(r => !keep.has(r.name)));
}

/** Removes mappings and roles; those already gone are fine. */
export async function deleteAccessRoles(client: Client, roles: Pick<AccessRole, 'name'>[]): Promise<void> {
  for (const role of roles) {
    const name = encodeURIComponent(role.name);
    await client.transport.request({ method: 'DELETE', path: `${SECURITY_API}/rolesmapping/${name}` }, { ignore: [404] });
    await client.transport.request({ method: 'DELETE', path: `${SECURITY_API}/roles/${name}` }, { ignore: [404] });
  }
}

/**
 * Turns on the security plugin's audit log (publishing to CloudWatch alone only opens the pipe): authentication
 * failures, privilege denials and security-config changes; document reads and writes stay off (the sinks write constantly).
 */
export async function enableAuditLog(client: Client): Promise<void> {
  await client.transport.request({
    method: 'PUT',
    path: `${SECURITY_API}/audit/config`,
    body: {
      enabled: true,
      audit: {
        enable_rest: true,
        disabled_rest_categories: ['GRANTED_PRIVILEGES', 'AUTHENTICATED'],
        enable_transport: true,
        disabled_transport_categories: ['GRANTED_PRIVILEGES', 'AUTHENTICATED'],
        resolve_bulk_requests: false,
        log_request_body: false,
        resolve_indices: true,
        exclude_sensitive_headers: true,
        ignore_users: [],
        ignore_requests: [],
      },
      compliance: {
        enabled: true,
        internal_config: true,
        external_config: false,
        read_metadata_only: true,
        read_watched_fields: {},
        read_ignore_users: [],
        write_metadata_only: true,
        write_log_diffs: false,
        write_watched_indices: [],
        write_ignore_users: [],
      },
    },
  });
}

function errorText(e: unknown): string {
  const body = (e as { meta?: { body?: unknown } }).meta?.body;
  return `${(e as Error)?.message ?? String(e)} ${body ? JSON.stringify(body) : ''}`;
}

function errorType(e: unknown): string | undefined {
  const body = (e as { meta?: { body?: { error?: { type?: string } } } }).meta?.body;
  return body?.error?.type;
}
