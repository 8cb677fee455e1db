// A stand-in OpenSearch domain on 127.0.0.1: records every request and answers the REST calls our code makes with real-shaped responses.
// Documents follow OpenSearch's external versioning (including delete tombstones), aliases, strict mappings and the security plugin API.
import * as http from 'http';
import type { AddressInfo } from 'net';

export interface RecordedRequest {
  readonly method: string;
  readonly path: string;
  readonly query: URLSearchParams;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: string;
}

export interface StoredDoc {
  version: bigint;
  source: Record<string, unknown> | null;
}

interface IndexState {
  mappings: { dynamic?: string; properties: Record<string, unknown>; _meta?: Record<string, unknown> };
  settings: Record<string, string>;
  docs: Map<string, StoredDoc>;
}

export interface CannedResponse {
  readonly status: number;
  readonly body: unknown;
}

/** Replaces the next `_bulk` response entirely (whole-request failures). */
export type BulkFault = CannedResponse | 'drop-connection';

export class SearchStandIn {
  readonly requests: RecordedRequest[] = [];
  readonly indexes = new Map<string, IndexState>();
  readonly aliases = new Map<string, string>();
  readonly roles = new Map<string, unknown>();
  readonly roleMappings = new Map<string, unknown>();
  auditConfig: unknown;
  /** Consumed one per `_bulk` call before the bulk is applied. */
  readonly bulkFaults: BulkFault[] = [];
  /** Consumed one per `_mget` call instead of answering it. */
  readonly mgetFaults: CannedResponse[] = [];
  /** Per document id: statuses (429, 503, 400...) its next bulk items answer instead of being applied. */
  readonly itemFaults = new Map<string, number[]>();
  private server?: http.Server;

  async start(): Promise<string> {
    this.server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', c => chunks.push(c));
      req.on('end', () => {
        const url = new URL(req.url ?? '/', 'http://127.0.0.1');
        const rec: RecordedRequest = { method: req.method ?? 'GET', path: url.pathname, query: url.searchParams, headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
        this.requests.push(rec);
        if (url.pathname.endsWith('/_bulk') && this.bulkFaults.length > 0) {
          const fault = this.bulkFaults.shift()!;
          if (fault === 'drop-connection') {
            req.socket.destroy();
            return;
          }
          return send(res, fault.status, fault.body);
        }
        let out: CannedResponse;
        try {
          out = this.route(rec);
        } catch (e) {
          out = { status: 500, body: { error: { type: 'stand_in_exception', reason: String(e) }, status: 500 } };
        }
        send(res, out.status, out.body, rec.method === 'HEAD');
      });
    });
    await new Promise<void>(resolve => this.server!.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    if (!this.server) return;
    this.server.closeAllConnections();
    await new Promise<void>(resolve => this.server!.close(() => resolve()));
  }

  bulkRequests(): RecordedRequest[] {
    return this.requests.filter(r => r.path.endsWith('/_bulk'));
  }

  /** Live documents of an alias or index (tombstones excluded). */
  live(name: string): Map<string, Record<string, unknown>> {
    const state = this.indexes.get(this.aliases.get(name) ?? name);
    const out = new Map<string, Record<string, unknown>>();
    for (const [id, doc] of state?.docs ?? []) if (doc.source) out.set(id, doc.source);
    return out;
  }

  /** Creates an index and alias directly (tests that need an existing index). */
  seedIndex(index: string, alias: string | undefined, mappings: IndexState['mappings'], settings: Record<string, string> = {}): void {
    this.indexes.set(index, { mappings, settings: { 'index.number_of_shards': '1', 'index.number_of_replicas': '1', ...settings }, docs: new Map() });
    if (alias) this.aliases.set(alias, index);
  }

  private route(r: RecordedRequest): CannedResponse {
    const parts = r.path.split('/').filter(Boolean).map(decodeURIComponent);
    if (parts[0] === '_plugins' && parts[1] === '_security' && parts[2] === 'api') return this.security(r, parts.slice(3));
    if (parts[0] === '_alias' && parts.length === 2 && r.method === 'GET') {
      const index = this.aliases.get(parts[1]);
      if (!index) return { status: 404, body: { error: `alias [${parts[1]}] missing`, status: 404 } };
      return { status: 200, body: { [index]: { aliases: { [parts[1]]: {} } } } };
    }
    const [name, op] = parts;
    if (op === '_bulk' && (r.method === 'PUT' || r.method === 'POST')) return this.bulk(name, r);
    if (op === '_mget' && (r.method === 'POST' || r.method === 'GET')) return this.mgetFaults.shift() ?? this.mget(name, r);
    const index = this.aliases.get(name) ?? name;
    const state = this.indexes.get(index);
    if (parts.length === 1) {
      if (r.method === 'HEAD') return { status: state ? 200 : 404, body: '' };
      if (r.method === 'PUT') {
        if (this.indexes.has(name)) return { status: 400, body: { error: { type: 'resource_already_exists_exception', reason: `index [${name}/abc] already exists` }, status: 400 } };
        const body = JSON.parse(r.body || '{}');
        const settings: Record<string, string> = {};
        for (const [k, v] of Object.entries(body.settings ?? {})) settings[k.startsWith('index.') ? k : `index.${k}`] = String(v);
        this.indexes.set(name, { mappings: body.mappings ?? { properties: {} }, settings, docs: new Map() });
        for (const alias of Object.keys(body.aliases ?? {})) this.aliases.set(alias, name);
        return { status: 200, body: { acknowledged: true, shards_acknowledged: true, index: name } };
      }
      if (r.method === 'DELETE') {
        if (!state) return { status: 404, body: { error: { type: 'index_not_found_exception', reason: `no such index [${name}]` }, status: 404 } };
        this.indexes.delete(index);
        for (const [a, i] of this.aliases) if (i === index) this.aliases.delete(a);
        return { status: 200, body: { acknowledged: true } };
      }
    }
    if (!state) return { status: 404, body: { error: { type: 'index_not_found_exception', reason: `no such index [${name}]` }, status: 404 } };
    if (op === '_mapping' && r.method === 'GET') return { status: 200, body: { [index]: { mappings: state.mappings } } };
    if (op === '_mapping' && (r.method === 'PUT' || r.method === 'POST')) {
      const body = JSON.parse(r.body);
      Object.assign(state.mappings.properties, body.properties ?? {});
      // OpenSearch replaces `_meta` as a whole.
      if (body._meta !== undefined) state.mappings._meta = body._meta;
      return { status: 200, body: { acknowledged: true } };
    }
    if (op === '_settings' && r.method === 'GET') return { status: 200, body: { [index]: { settings: { ...state.settings } } } };
    if (op === '_settings' && r.method === 'PUT') {
      for (const [k, v] of Object.entries(JSON.parse(r.body))) state.settings[k] = String(v);
      return { status: 200, body: { acknowledged: true } };
    }
    return { status: 400, body: { error: { type: 'illegal_argument_exception', reason: `stand-in does not serve ${r.method} ${r.path}` }, status: 400 } };
  }

  private security(r: RecordedRequest, parts: string[]): CannedResponse {
    const [kind, name] = parts;
    if (kind === 'audit' && name === 'config' && r.method === 'PUT') {
      this.auditConfig = JSON.parse(r.body);
      return { status: 200, body: { status: 'OK', message: "'config' updated." } };
    }
    const store = kind === 'roles' ? this.roles : kind === 'rolesmapping' ? this.roleMappings : undefined;
    if (!store || !name) return { status: 400, body: { status: 'BAD_REQUEST', message: 'unsupported' } };
    if (r.method === 'PUT') {
      const created = !store.has(name);
      store.set(name, JSON.parse(r.body));
      return { status: created ? 201 : 200, body: { status: created ? 'CREATED' : 'OK', message: `'${name}' ${created ? 'created' : 'updated'}.` } };
    }
    if (r.method === 'DELETE') {
      if (!store.delete(name)) return { status: 404, body: { status: 'NOT_FOUND', message: `'${name}' not found.` } };
      return { status: 200, body: { status: 'OK', message: `'${name}' deleted.` } };
    }
    return { status: 400, body: { status: 'BAD_REQUEST', message: 'unsupported' } };
  }

  private bulk(target: string, r: RecordedRequest): CannedResponse {
    const lines = r.body.split('\n').filter(l => l.length > 0);
    const items: unknown[] = [];
    const requireAlias = r.query.get('require_alias') === 'true';
    for (let i = 0; i < lines.length; i++) {
      const action = JSON.parse(lines[i]);
      const op = Object.keys(action)[0] as 'index' | 'delete';
      // Versions are read from the raw line: JSON.parse would round a 63-bit version.
      const version = BigInt(/"version":(\d+)/.exec(lines[i])![1]);
      const meta = action[op];
      const source = op === 'index' ? JSON.parse(lines[++i]) : null;
      const id: string = meta._id;
      const indexName = this.aliases.get(target) ?? target;
      const base = { _index: indexName, _id: id };
      const fault = this.itemFaults.get(id)?.shift();
      if (fault !== undefined) {
        const type = fault === 429 ? 'es_rejected_execution_exception' : fault >= 500 ? 'unavailable_shards_exception' : 'mapper_parsing_exception';
        items.push({ [op]: { ...base, status: fault, error: { type, reason: `injected ${fault}` } } });
        continue;
      }
      if (requireAlias && !this.aliases.has(target)) {
        items.push({ [op]: { ...base, _index: target, status: 404, error: { type: 'index_not_found_exception', reason: `no such index [${target}] and [require_alias] request flag is [true] and [${target}] is not an alias` } } });
        continue;
      }
      const state = this.indexes.get(indexName)!;
      if (meta.version_type !== 'external') throw new Error(`stand-in expects external versions, got ${JSON.stringify(meta)}`);
      if (source && state.mappings.dynamic === 'strict') {
        const unknown = Object.keys(source).find(k => !(k in state.mappings.properties));
        if (unknown) {
          items.push({ [op]: { ...base, status: 400, error: { type: 'strict_dynamic_mapping_exception', reason: `mapping set to strict, dynamic introduction of [${unknown}] within [_doc] is not allowed` } } });
          continue;
        }
      }
      const held = state.docs.get(id);
      if (held && held.version >= version) {
        items.push({ [op]: { ...base, status: 409, error: { type: 'version_conflict_engine_exception', reason: `[${id}]: version conflict, current version [${held.version}] is higher or equal to the one provided [${version}]` } } });
        continue;
      }
      state.docs.set(id, { version, source });
      if (op === 'index') {
        const created = !held || held.source === null;
        items.push({ index: { ...base, _version: Number(version), result: created ? 'created' : 'updated', _shards: { total: 2, successful: 2, failed: 0 }, _seq_no: i, _primary_term: 1, status: created ? 201 : 200 } });
      } else {
        const found = !!held && held.source !== null;
        items.push({ delete: { ...base, _version: Number(version), result: found ? 'deleted' : 'not_found', _shards: { total: 2, successful: 2, failed: 0 }, _seq_no: i, _primary_term: 1, status: found ? 200 : 404 } });
      }
    }
    const errors = items.some(it => (Object.values(it as object)[0] as { error?: unknown }).error !== undefined);
    return { status: 200, body: { took: 3, errors, items } };
  }

  private mget(target: string, r: RecordedRequest): CannedResponse {
    const body = JSON.parse(r.body);
    const indexName = this.aliases.get(target) ?? target;
    const state = this.indexes.get(indexName);
    const ids: string[] = body.ids ?? (body.docs ?? []).map((d: { _id: string }) => d._id);
    return {
      status: 200,
      body: {
        docs: ids.map(id => {
          const doc = state?.docs.get(id);
          if (!doc || !doc.source) return { _index: indexName, _id: id, found: false };
          return { _index: indexName, _id: id, _version: Number(doc.version), _seq_no: 0, _primary_term: 1, found: true, _source: doc.source };
        }),
      },
    };
  }
}

function send(res: http.ServerResponse, status: number, body: unknown, head = false): void {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=UTF-8', 'content-length': Buffer.byteLength(text) });
  res.end(head ? undefined : text);
}
