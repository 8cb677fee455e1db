// Local change capture for the dev loop: reads a PostgreSQL logical replication slot (pgoutput) and emits the change events Debezium's PostgreSQL connector would.
import { Client, ClientConfig } from 'pg';
import { LogicalReplicationService, PgoutputPlugin, Pgoutput } from 'pg-logical-replication';

/** A Kafka record as the sink sees it: topic, partition, offset, key and value (JSON, value null for a tombstone). */
export interface CapturedRecord {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
  readonly timestamp: number;
  readonly key: Record<string, unknown>;
  readonly value: DebeziumEnvelope | null;
}

/** Debezium's change event envelope with schemas disabled (JSON converter, `schemas.enable=false`). */
export interface DebeziumEnvelope {
  readonly before: Record<string, unknown> | null;
  readonly after: Record<string, unknown> | null;
  readonly source: {
    readonly version: string;
    readonly connector: 'postgresql';
    readonly name: string;
    readonly ts_ms: number;
    readonly snapshot: 'true' | 'false' | 'last';
    readonly db: string;
    readonly schema: string;
    readonly table: string;
    readonly txId: number | null;
    readonly lsn: number;
    readonly xmin: null;
  };
  readonly op: 'r' | 'c' | 'u' | 'd';
  readonly ts_ms: number;
  readonly transaction: null;
}

export interface PgCaptureOptions {
  readonly connection: ClientConfig;
  /** Topic prefix, as Debezium's `topic.prefix`; topics are `<prefix>.<schema>.<table>`. */
  readonly topicPrefix: string;
  /** Captured tables as `schema.table`; each must have a primary key. */
  readonly tables: string[];
  readonly slotName: string;
  readonly publicationName: string;
  /** Receives every record in source order; the stream waits for the returned promise (backpressure). */
  readonly onRecords: (records: CapturedRecord[]) => Promise<void>;
  /** Debezium emits a tombstone after each delete by default (`tombstones.on.delete=true`). @default true */
  readonly tombstonesOnDelete?: boolean;
}

/** Version string placed in `source.version`, marking events as produced by the local emulation. */
export const LOCAL_CONNECTOR_VERSION = 'cdk-agent-data-stack-dev';

/** Parses a PostgreSQL LSN (`16/B374D848`) into the 64-bit integer Debezium puts in `source.lsn`. */
export function lsnToNumber(lsn: string): number {
  const m = /^([0-9A-Fa-f]+)\/([0-9A-Fa-f]+)$/.exec(lsn);
  if (!m) throw new Error(`not a PostgreSQL LSN: '${lsn}'`);
  return Number((BigInt(`0x${m[1]}`) << 32n) + BigInt(`0x${m[2]}`));
}

/**
 * Captures changes of `tables` from a PostgreSQL with `wal_level=logical`: creates the publication and a
 * pgoutput slot, emits a snapshot (`op: r`) at the slot's consistent point, then streams commits.
 */
export class PgChangeCapture {
  private readonly offsets = new Map<string, number>();
  private service?: LogicalReplicationService;
  private txn?: { xid: number; commitTimeMs: number };
  private pending: CapturedRecord[] = [];
  private database = '';
  private keyColumns = new Map<string, string[]>();

  constructor(private readonly options: PgCaptureOptions) {
    for (const t of options.tables) {
      if (!/^[A-Za-z_][\w$]*\.[A-Za-z_][\w$]*$/.test(t)) throw new Error(`table '${t}' must be written as schema.table`);
    }
  }

  /** Sets up publication and slot, emits the snapshot and starts streaming. Resolves once streaming has begun. */
  async start(): Promise<void> {
    const admin = new Client(this.options.connection);
    await admin.connect();
    try {
      this.database = (await admin.query('SELECT current_database() AS db')).rows[0].db;
      const tableList = this.options.tables.map(quoteTable).join(', ');
      const exists = await admin.query('SELECT 1 FROM pg_publication WHERE pubname = $1', [this.options.publicationName]);
      if (exists.rowCount === 0) {
        await admin.query(`CREATE PUBLICATION ${quoteIdent(this.options.publicationName)} FOR TABLE ${tableList}`);
      }
      for (const t of this.options.tables) this.keyColumns.set(t, await primaryKey(admin, t));
    } finally {
      await admin.end();
    }
    // The snapshot must see exactly the data before the slot's consistent point: export it from the slot's creation.
    const repl = new Client({ ...this.options.connection, replication: 'database' } as ClientConfig);
    await repl.connect();
    const snap = new Client(this.options.connection);
    await snap.connect();
    try {
      const created = await repl.query(
        `CREATE_REPLICATION_SLOT ${quoteIdent(this.options.slotName)} LOGICAL pgoutput EXPORT_SNAPSHOT`,
      );
      const { consistent_point: consistentPoint, snapshot_name: snapshotName } = created.rows[0];
      await snap.query('BEGIN ISOLATION LEVEL REPEATABLE READ');
      await snap.query(`SET TRANSACTION SNAPSHOT '${snapshotName.replace(/'/g, "''")}'`);
      const snapshotLsn = lsnToNumber(consistentPoint);
      const now = Date.now();
      for (const table of this.options.tables) {
        const result = await snap.query(`SELECT * FROM ${quoteTable(table)}`);
        const types = new Map(result.fields.map(f => [f.name, f.dataTypeID]));
        const records = result.rows.map(row => this.record(table, 'r', null, normalizeRow(row, types), snapshotLsn, now, null));
        if (records.length > 0) await this.options.onRecords(records);
      }
      await snap.query('COMMIT');
    } finally {
      await snap.end();
      await repl.end();
    }
    this.service = new LogicalReplicationService(this.options.connection, {
      acknowledge: { auto: true, timeoutSeconds: 10 },
      flowControl: { enabled: true },
    });
    this.service.on('data', (lsn: string, msg: Pgoutput.Message) => this.onMessage(lsn, msg));
    const plugin = new PgoutputPlugin({ protoVersion: 1, publicationNames: [this.options.publicationName] });
    const started = new Promise<void>(resolve => this.service!.once('start', () => resolve()));
    this.service.subscribe(plugin, this.options.slotName).catch(() => undefined);
    await started;
  }

  /** Stops streaming and drops the slot (and the publication), so no WAL is retained after the dev loop ends. */
  async stop(): Promise<void> {
    if (this.service) {
      await this.service.destroy();
      this.service = undefined;
    }
    const admin = new Client(this.options.connection);
    await admin.connect();
    try {
      for (let i = 0; i < 50; i++) {
        const r = await admin.query('SELECT active FROM pg_replication_slots WHERE slot_name = $1', [this.options.slotName]);
        if (r.rowCount === 0) break;
        if (!r.rows[0].active) {
          await admin.query('SELECT pg_drop_replication_slot($1)', [this.options.slotName]);
          break;
        }
        await new Promise(res => setTimeout(res, 100));
      }
      await admin.query(`DROP PUBLICATION IF EXISTS ${quoteIdent(this.options.publicationName)}`);
    } finally {
      await admin.end();
    }
  }

  private async onMessage(lsn: string, msg: Pgoutput.Message): Promise<void> {
    switch (msg.tag) {
      case 'begin':
        this.txn = { xid: msg.xid, commitTimeMs: Number(msg.commitTime as unknown as bigint) / 1000 };
        this.pending = [];
        return;
      case 'insert':
      case 'update':
      case 'delete': {
        const table = `${msg.relation.schema}.${msg.relation.name}`;
        if (!this.keyColumns.has(table)) return;
        const position = lsnToNumber(lsn);
        const types = new Map(msg.relation.columns.map(c => [c.name, c.typeOid]));
        const commitTime = Math.floor(this.txn?.commitTimeMs ?? Date.now());
        const txId = this.txn?.xid ?? null;
        if (msg.tag === 'insert') {
          this.pending.push(this.record(table, 'c', null, normalizeRow(msg.new, types), position, commitTime, txId));
        } else if (msg.tag === 'update') {
          const after = normalizeRow(msg.new, types);
          // pgoutput sends the old image only when it is needed: the whole row ('O') under REPLICA IDENTITY FULL, the
          // old key ('K') under the default identity when the key changed, nothing otherwise.
          const old = msg.old ?? msg.key;
          const before = old ? normalizeRow(old as Record<string, unknown>, types) : null;
          if (before && !this.sameKey(table, before, after)) {
            // A primary-key change. Debezium's PostgreSQL connector ("Primary key updates",
            // https://debezium.io/documentation/reference/stable/connectors/postgresql.html#postgresql-primary-key-updates)
            // sends, in place of an update, a delete for the old key (followed by its tombstone) and a create for the new
            // key, both at the update's position (RelationalChangeRecordEmitter.emitUpdateRecord). Without this the old
            // key would keep serving the row.
            this.pushDelete(table, before, position, commitTime, txId);
            this.pending.push(this.record(table, 'c', null, after, position, commitTime, txId));
          } else {
            this.pending.push(this.record(table, 'u', before, after, position, commitTime, txId));
          }
        } else {
          this.pushDelete(table, normalizeRow((msg.old ?? msg.key ?? {}) as Record<string, unknown>, types), position, commitTime, txId);
        }
        return;
      }
      case 'commit': {
        const batch = this.pending;
        this.pending = [];
        this.txn = undefined;
        if (batch.length > 0) await this.options.onRecords(batch);
        return;
      }
      default:
        return;
    }
  }

  /** A delete event and, unless `tombstonesOnDelete` is false, the tombstone Debezium sends after it. */
  private pushDelete(table: string, before: Record<string, unknown>, lsn: number, commitTimeMs: number, txId: number | null): void {
    const del = this.record(table, 'd', before, null, lsn, commitTimeMs, txId);
    this.pending.push(del);
    if (this.options.tombstonesOnDelete ?? true) {
      this.pending.push({ ...del, offset: this.nextOffset(del.topic), value: null });
    }
  }

  /** Whether two images of a row have the same primary key (compared as Debezium compares its key structs: by value). */
  private sameKey(table: string, a: Record<string, unknown>, b: Record<string, unknown>): boolean {
    return (this.keyColumns.get(table) ?? []).every(col => JSON.stringify(a[col]) === JSON.stringify(b[col]));
  }

  private record(
    table: string, op: DebeziumEnvelope['op'], before: Record<string, unknown> | null, after: Record<string, unknown> | null,
    lsn: number, commitTimeMs: number, txId: number | null,
  ): CapturedRecord {
    const [schema, name] = table.split('.');
    const topic = `${this.options.topicPrefix}.${schema}.${name}`;
    const image = after ?? before ?? {};
    const key: Record<string, unknown> = {};
    for (const col of this.keyColumns.get(table) ?? []) key[col] = image[col];
    const now = Date.now();
    return {
      topic,
      partition: 0,
      offset: this.nextOffset(topic),
      timestamp: now,
      key,
      value: {
        before,
        after,
        source: {
          version: LOCAL_CONNECTOR_VERSION,
          connector: 'postgresql',
          name: this.options.topicPrefix,
          ts_ms: commitTimeMs,
          snapshot: op === 'r' ? 'true' : 'false',
          db: this.database,
          schema,
          table: name,
          txId,
          lsn,
          xmin: null,
        },
        op,
        ts_ms: now,
        transaction: null,
      },
    };
  }

  private nextOffset(topic: string): number {
    const next = this.offsets.get(topic) ?? 0;
    this.offsets.set(topic, next + 1);
    return next;
  }
}

const INT8_OID = 20;
const TIMESTAMPTZ_OID = 1184;

/**
 * JSON-safe values as Debezium's JSON converter writes them: integer columns (int8 too, which node-pg and pgoutput
 * parse to strings) as numbers, `timestamptz` as an ISO-8601 string (io.debezium.time.ZonedTimestamp), other
 * timestamps as epoch milliseconds. `types` maps column names to type OIDs.
 */
function normalizeRow(row: Record<string, unknown>, types: ReadonlyMap<string, number> = new Map()): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(row)) {
    const oid = types.get(k);
    if (v instanceof Date) out[k] = oid === TIMESTAMPTZ_OID ? v.toISOString() : v.getTime();
    else if (typeof v === 'bigint') out[k] = Number.isSafeInteger(Number(v)) ? Number(v) : v.toString();
    else if (oid === INT8_OID && typeof v === 'string' && /^-?\d+$/.test(v) && Number.isSafeInteger(Number(v))) out[k] = Number(v);
    else out[k] = v;
  }
  return out;
}

async function primaryKey(client: Client, table: string): Promise<string[]> {
  const r = await client.query(
    `SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
     WHERE i.indrelid = $1::regclass AND i.indisprimary ORDER BY array_position(i.indkey, a.attnum)`,
    [quoteTable(table)],
  );
  if (r.rowCount === 0) throw new Error(`table ${table} has no primary key; the dev loop (like Debezium's consumers) keys rows by it`);
  return r.rows.map(row => row.attname as string);
}

function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

function quoteTable(table: string): string {
  return table.split('.').map(quoteIdent).join('.');
}
