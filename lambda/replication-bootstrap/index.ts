// Custom resource handler that prepares a PostgreSQL or MySQL database for Debezium: a thin shell over postgres.ts and mysql.ts.
import * as fs from 'fs';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import * as mysql from 'mysql2/promise';
import { Client, ClientConfig } from 'pg';
import {
  applyMysqlSchema, bootstrapMysql, checkMysqlReplicationUser, checkMysqlSettings, cleanupMysql, cleanupMysqlAfterUpdate, markMysqlOwner,
  MysqlBootstrapConfig, mysqlCreateBaseline, mysqlInUseElsewhere, undoMysqlCreate,
} from './mysql';
import {
  bootstrapPostgres, cleanupPostgres, dropPostgresHeartbeatTable, dropPostgresPublication, dropPostgresReplicationUser,
  dropPostgresSlot, markPostgresOwner, PostgresBootstrapConfig, postgresCreateBaseline, postgresInUseElsewhere, undoPostgresCreate,
} from './postgres';
import {
  BootstrapAttributes, BootstrapError, BootstrapProperties, Credentials, type SnapshotSignalRequest, type SnapshotSignalResponse,
} from '../../contract/replication-bootstrap';
import { readCredentials } from './credentials';
import { dropPostgresSignalTable } from './signal';
import { onSignalRequest, onSnapshotSignalEvent, signalSourceFromEnv, type SnapshotSignalEventResponse } from './signal-handler';

export * from '../../contract/replication-bootstrap';
export { readCredentials } from './credentials';

/** TLS for the database connection: verify the server against `ca` (PEM), or `false` for plain TCP (local tests only). */
export type TlsSetting = { readonly ca: string } | false;

export interface BootstrapDeps {
  readonly secrets: SecretsManagerClient;
  readonly tls: TlsSetting;
  /** How long Delete keeps ending the slot's walsender and retrying the drop (Update: waits for the connector to let go). @default 60_000 */
  readonly slotReleaseTimeoutMs?: number;
  readonly pollIntervalMs?: number;
  /** @default 10_000 */
  readonly connectTimeoutMs?: number;
  /** How long a PostgreSQL `ALTER TABLE ... REPLICA IDENTITY` waits for its table lock. @default 10_000 */
  readonly lockTimeoutMs?: number;
  /** Connection attempts when the admin password is refused (re-reading the secret in between). @default 3 */
  readonly authRetries?: number;
  /** @default 10_000 */
  readonly authRetryDelayMs?: number;
}

export interface BootstrapResponse {
  readonly PhysicalResourceId: string;
  readonly Data: BootstrapAttributes;
}

/**
 * Stable while engine, host and port stay: a different host string is a new physical id, and CloudFormation then deletes
 * the old one. That can be the same server under another name (an Aurora instance endpoint and the cluster endpoint, an
 * IP and a DNS name), so Delete decides by the owner marker on the server (`remove`), never by the host string.
 * `owner` (`<stack name>/<logical id>`, ids minted since markers) tells two resources on one server apart: a construct
 * whose logical id changed is a new resource beside the old, which CloudFormation deletes after the new one is created;
 * with the same id, that Delete would find its own id in the marker and drop what the new resource uses.
 */
export function physicalResourceId(p: BootstrapProperties, owner?: string): string {
  return `cdc-bootstrap:${p.Engine}:${p.Host}:${p.Port}${owner ? `:${owner}` : ''}`;
}

/** `<stack name>/<logical id>` of the event's resource. */
function ownerOf(event: CloudFormationCustomResourceEvent): string {
  return `${event.StackId.split('/')[1] ?? event.StackId}/${event.LogicalResourceId}`;
}

/** node-postgres settings; with TLS on, the server certificate is verified against the given CA (RDS `rds.force_ssl=1`). */
export function postgresClientConfig(p: BootstrapProperties, database: string, admin: Credentials, tls: TlsSetting, connectTimeoutMs = 10_000): ClientConfig {
  return {
    host: p.Host,
    port: Number(p.Port),
    database,
    user: admin.username,
    password: admin.password,
    ssl: tls ? { ca: tls.ca, rejectUnauthorized: true } : false,
    connectionTimeoutMillis: connectTimeoutMs,
    application_name: 'cdk-agent-data-stack-bootstrap',
  };
}

/** mysql2 settings; with TLS on, the server certificate is verified against the given CA (`require_secure_transport=ON`). */
export function mysqlConnectionOptions(p: BootstrapProperties, admin: Credentials, tls: TlsSetting, connectTimeoutMs = 10_000): mysql.ConnectionOptions {
  return {
    host: p.Host,
    port: Number(p.Port),
    user: admin.username,
    password: admin.password,
    ssl: tls ? { ca: tls.ca, rejectUnauthorized: true } : undefined,
    connectTimeout: connectTimeoutMs,
    multipleStatements: false,
  };
}

/** Whether `initialSchema` runs: on Create (and a move to another server), and on an Update that changed the SQL. */
function schemaToRun(p: BootstrapProperties, old: BootstrapProperties | undefined): string | undefined {
  if (!p.InitialSchemaSql) return undefined;
  if (old && old.InitialSchemaSql && old.InitialSchemaSha256 === p.InitialSchemaSha256 && old.Database === p.Database) return undefined;
  return p.InitialSchemaSql;
}

function postgresConfig(p: BootstrapProperties, replication: Credentials, lockTimeoutMs?: number, initialSchemaSql?: string): PostgresBootstrapConfig {
  return {
    initialSchemaSql,
    database: p.Database,
    tables: p.Tables,
    fullRowImageTables: p.FullRowImageTables ?? [],
    lockTimeoutMs,
    heartbeatTable: p.HeartbeatTable,
    ...(p.SignalTable ? { signalTable: p.SignalTable } : {}),
    publicationName: p.PublicationName ?? '',
    slotName: p.SlotName ?? '',
    replication,
  };
}

function mysqlConfig(p: BootstrapProperties, replication: Credentials): MysqlBootstrapConfig {
  return {
    tables: p.Tables,
    heartbeatTable: p.HeartbeatTable,
    ...(p.SignalTable ? { signalTable: p.SignalTable } : {}),
    replication,
    binlogRetentionHours: Number(p.BinlogRetentionHours ?? '168'),
  };
}

/** PostgreSQL 28P01 / MySQL 1045: the password was refused. */
function isAuthFailure(e: unknown): boolean {
  const err = e as { code?: string; errno?: number };
  return err.code === '28P01' || err.errno === 1045;
}

/**
 * Connects with the admin secret, re-reading it after an authentication failure: a first rotation of the
 * admin secret can be switching passwords while the bootstrap runs.
 */
async function connectWithAdmin<C>(deps: BootstrapDeps, adminSecretArn: string, admin: Credentials, open: (admin: Credentials) => Promise<C>): Promise<C> {
  const attempts = deps.authRetries ?? 3;
  let credentials = admin;
  for (let attempt = 1; ; attempt++) {
    try {
      return await open(credentials);
    } catch (e) {
      if (!isAuthFailure(e) || attempt >= attempts) throw e;
      await new Promise(resolve => setTimeout(resolve, deps.authRetryDelayMs ?? 10_000));
      credentials = await readCredentials(deps.secrets, adminSecretArn);
    }
  }
}

async function withPostgres<T>(p: BootstrapProperties, database: string, admin: Credentials, deps: BootstrapDeps, fn: (c: Client) => Promise<T>): Promise<T> {
  const client = await connectWithAdmin(deps, p.AdminSecretArn, admin, async creds => {
    const c = new Client(postgresClientConfig(p, database, creds, deps.tls, deps.connectTimeoutMs));
    try {
      await c.connect();
    } catch (e) {
      await c.end().catch(() => undefined);
      throw e;
    }
    return c;
  });
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

async function withMysql<T>(
  p: BootstrapProperties, admin: Credentials, deps: BootstrapDeps, fn: (c: mysql.Connection) => Promise<T>, extra: mysql.ConnectionOptions = {},
): Promise<T> {
  const conn = await connectWithAdmin(deps, p.AdminSecretArn, admin,
    creds => mysql.createConnection({ ...mysqlConnectionOptions(p, creds, deps.tls, deps.connectTimeoutMs), ...extra }));
  try {
    return await fn(conn);
  } finally {
    await conn.end();
  }
}

function attributes(p: BootstrapProperties, binlogRetentionConfigured: boolean): BootstrapAttributes {
  return {
    ReplicationSecretArn: p.ReplicationSecretArn,
    ReplicationUsername: p.ReplicationUsername,
    HeartbeatTable: p.HeartbeatTable,
    PublicationName: p.Engine === 'postgresql' ? (p.PublicationName ?? '') : '',
    SlotName: p.Engine === 'postgresql' ? (p.SlotName ?? '') : '',
    BinlogRetentionConfigured: String(binlogRetentionConfigured),
  };
}

/**
 * A Create's steps: if one fails, `undo` (given for a Create, and an Update that moves to another server) removes what the
 * run created, and the original error is rethrown. The provider framework answers the Delete of a failed Create itself,
 * so nothing else would remove it.
 */
async function undoingOnFailure<T>(undo: (() => Promise<void>) | undefined, steps: () => Promise<T>): Promise<T> {
  try {
    return await steps();
  } catch (e) {
    if (undo) {
      await undo().catch(undoError => console.warn(JSON.stringify({
        message: 'could not remove what the failed create made', error: String((undoError as Error).message),
      })));
    }
    throw e;
  }
}

/**
 * Sets the database up for `p` and writes the owner marker naming `id`, the physical id the Create or Update returns.
 * Every Update writes it, so a stack from before markers gets it on its next Update; an Update that changes the host
 * string is such an Update, and CloudFormation sends the cleanup Delete of the old id only after it returned,
 * when the marker on the server already names the new id.
 */
async function createOrUpdate(p: BootstrapProperties, old: BootstrapProperties | undefined, id: string, deps: BootstrapDeps): Promise<boolean> {
  const admin = await readCredentials(deps.secrets, p.AdminSecretArn);
  const replication = await readCredentials(deps.secrets, p.ReplicationSecretArn);
  if (replication.username !== p.ReplicationUsername) {
    throw new BootstrapError(`The replication secret's username '${replication.username}' differs from ReplicationUsername '${p.ReplicationUsername}'.`);
  }
  const oldReplication: Credentials | undefined = old ? { username: old.ReplicationUsername, password: '' } : undefined;

  if (p.Engine === 'postgresql') {
    const config = postgresConfig(p, replication, deps.lockTimeoutMs, schemaToRun(p, old));
    const sameDatabase = old !== undefined && old.Database === p.Database;
    // Replica identities are only undone in the same database: after a database move the old tables are no longer ours to manage.
    // A role the previous configuration already used is ours even without the marker (created by an older bootstrap).
    const adoptRole = old !== undefined && old.ReplicationUsername === p.ReplicationUsername;
    // The old heartbeat and signaling tables count as previous tables: their grants, and USAGE on their schemas, are
    // revoked when the new settings no longer use them (left, they made the role impossible to drop).
    const previousTables = sameDatabase ? [...old.Tables, old.HeartbeatTable, ...(old.SignalTable ? [old.SignalTable] : [])] : [];
    await withPostgres(p, p.Database, admin, deps, async c => {
      const baseline = old === undefined ? await postgresCreateBaseline(c, config) : undefined;
      await undoingOnFailure(baseline && (() => undoPostgresCreate(c, config, baseline)), async () => {
        await bootstrapPostgres(c, config, previousTables, sameDatabase ? (old.FullRowImageTables ?? []) : [], adoptRole);
        await markPostgresOwner(c, config, id);
      });
    });
    if (old && oldReplication) {
      const before = postgresConfig(old, oldReplication);
      const userChanged = before.replication.username !== config.replication.username;
      if (!sameDatabase) {
        // The old database keeps nothing of ours; the role is cluster-wide, so it stays when only the database moved.
        await withPostgres(old, old.Database, admin, deps, c => cleanupPostgres(c, before, { ...cleanupTiming(deps), dropUser: userChanged }));
      } else {
        await withPostgres(p, p.Database, admin, deps, async c => {
          if (before.publicationName !== config.publicationName) await dropPostgresPublication(c, before.publicationName);
          if (before.slotName !== config.slotName) await dropPostgresSlot(c, before, cleanupTiming(deps));
          if (userChanged) await dropPostgresReplicationUser(c, before, true);
          // The old heartbeat and signaling tables, unless the new settings still name them.
          const inUse = new Set([...config.tables, config.heartbeatTable, ...(config.signalTable ? [config.signalTable] : [])]);
          if (!inUse.has(before.heartbeatTable)) await dropPostgresHeartbeatTable(c, before.heartbeatTable);
          if (before.signalTable && before.signalTable !== before.heartbeatTable && !inUse.has(before.signalTable)) {
            await dropPostgresSignalTable(c, before.signalTable);
          }
        });
      }
    }
    return false;
  }

  const config = mysqlConfig(p, replication);
  const schema = schemaToRun(p, old);
  if (schema) {
    // Its own connection: only the schema script may hold several statements.
    await withMysql(p, admin, deps, async c => {
      await checkMysqlSettings(c);
      await checkMysqlReplicationUser(c, config.replication.username);
      await applyMysqlSchema(c, p.Database, schema);
    }, { multipleStatements: true });
  }
  const result = await withMysql(p, admin, deps, async c => {
    const baseline = old === undefined ? await mysqlCreateBaseline(c, config) : undefined;
    const r = await undoingOnFailure(baseline && (() => undoMysqlCreate(c, config, baseline)), async () => {
      const bootstrapped = await bootstrapMysql(c, config, old ? old.Tables : []);
      await markMysqlOwner(c, config, id);
      return bootstrapped;
    });
    if (old && oldReplication) {
      // Only what the new configuration no longer uses.
      await cleanupMysqlAfterUpdate(c, mysqlConfig(old, oldReplication), config);
    }
    return r;
  });
  return result.binlogRetentionConfigured;
}

function cleanupTiming(deps: BootstrapDeps) {
  return { slotReleaseTimeoutMs: deps.slotReleaseTimeoutMs, pollIntervalMs: deps.pollIntervalMs };
}

function isHostGone(e: unknown): boolean {
  return (e as { code?: string }).code === 'ENOTFOUND';
}

/** Delete found the server set up for another physical id: what that resource uses is left. */
function warnOwnedElsewhere(p: BootstrapProperties, id: string, elsewhere: { owners: string[]; kept: string[] }): void {
  if (elsewhere.owners.length === 0) return;
  console.warn(JSON.stringify({
    message: 'the database server is set up for another physical id (the same server under another host name, or a rolled-back update): '
      + 'Delete leaves what that resource uses',
    physicalResourceId: id, ownerPhysicalResourceIds: elsewhere.owners, host: p.Host, kept: elsewhere.kept,
  }));
}

/**
 * Delete of `id`: drops what Create and Update set up, except what the owner marker of another physical id on the server
 * names. Without any marker (a resource an older release created, never updated since) everything is dropped, as before
 * markers: the Update that changes a host string writes one first (`createOrUpdate`).
 */
async function remove(p: BootstrapProperties, id: string, deps: BootstrapDeps): Promise<void> {
  const admin = await readCredentials(deps.secrets, p.AdminSecretArn);
  const replication: Credentials = { username: p.ReplicationUsername, password: '' };
  try {
    if (p.Engine === 'postgresql') {
      const config = postgresConfig(p, replication);
      await withPostgres(p, p.Database, admin, deps, async c => {
        const elsewhere = await postgresInUseElsewhere(c, config, id);
        warnOwnedElsewhere(p, id, elsewhere);
        await cleanupPostgres(c, config, { ...cleanupTiming(deps), terminateActive: true }, elsewhere.inUse);
      });
    } else {
      const config = mysqlConfig(p, replication);
      await withMysql(p, admin, deps, async c => {
        const elsewhere = await mysqlInUseElsewhere(c, config, id);
        warnOwnedElsewhere(p, id, elsewhere);
        await cleanupMysql(c, config, elsewhere.inUse);
      });
    }
  } catch (e) {
    // A database that no longer resolves was deleted (or replaced) already: nothing of ours is left on it.
    if (isHostGone(e)) {
      console.warn(JSON.stringify({ message: 'database host no longer resolves; nothing to clean up', host: p.Host }));
      return;
    }
    throw e;
  }
}

/** Normalises CloudFormation's string-typed properties. */
function properties(raw: Record<string, unknown>): BootstrapProperties {
  const p = raw as unknown as BootstrapProperties;
  return { ...p, Tables: [...(p.Tables ?? [])], FullRowImageTables: [...(p.FullRowImageTables ?? [])], Port: String(p.Port) };
}

export async function onEvent(event: CloudFormationCustomResourceEvent, deps: BootstrapDeps): Promise<BootstrapResponse> {
  const p = properties(event.ResourceProperties);
  switch (event.RequestType) {
    case 'Create': {
      const id = physicalResourceId(p, ownerOf(event));
      const configured = await createOrUpdate(p, undefined, id, deps);
      return { PhysicalResourceId: id, Data: attributes(p, configured) };
    }
    case 'Update': {
      const old = properties(event.OldResourceProperties);
      // Another host string is a new resource: set it up from scratch; CloudFormation then deletes the old id, which on
      // the same server (another name for it) drops nothing this Update uses, since the marker now names the new id.
      // The same host keeps its id, also one minted before ids named their owner.
      const sameServer = event.PhysicalResourceId === physicalResourceId(p, ownerOf(event)) || event.PhysicalResourceId === physicalResourceId(p);
      const id = sameServer ? event.PhysicalResourceId : physicalResourceId(p, ownerOf(event));
      const configured = await createOrUpdate(p, sameServer ? old : undefined, id, deps);
      return { PhysicalResourceId: id, Data: attributes(p, configured) };
    }
    case 'Delete': {
      // A Create that failed before returning an id has nothing to clean up.
      if (event.PhysicalResourceId.startsWith('cdc-bootstrap:')) await remove(p, event.PhysicalResourceId, deps);
      return { PhysicalResourceId: event.PhysicalResourceId, Data: attributes(p, false) };
    }
  }
}

let cached: BootstrapDeps | undefined;

function lambdaDeps(): BootstrapDeps {
  const caFile = process.env.DB_TLS_CA_FILE;
  if (!caFile) throw new Error('DB_TLS_CA_FILE is not set: the bootstrap only connects with verified TLS.');
  cached ??= { secrets: new SecretsManagerClient({}), tls: { ca: fs.readFileSync(caFile, 'utf8') } };
  return cached;
}

/**
 * CloudFormation events of Custom::CdcReplicationBootstrap and Custom::CdcSnapshotSignal, and direct invocations carrying an
 * `Action` (`agent-data-stack resnapshot`: an execute-snapshot signal for captured tables).
 */
export async function handler(event: CloudFormationCustomResourceEvent | SnapshotSignalRequest): Promise<BootstrapResponse | SnapshotSignalEventResponse | SnapshotSignalResponse> {
  if ('Action' in event) {
    console.log(JSON.stringify({ action: event.Action, tables: event.Tables }));
    return onSignalRequest(event, signalSourceFromEnv(process.env), lambdaDeps());
  }
  console.log(JSON.stringify({ requestType: event.RequestType, logicalResourceId: event.LogicalResourceId, physicalResourceId: (event as { PhysicalResourceId?: string }).PhysicalResourceId }));
  if (event.ResourceType === 'Custom::CdcSnapshotSignal') return onSnapshotSignalEvent(event, signalSourceFromEnv(process.env), lambdaDeps());
  return onEvent(event, lambdaDeps());
}
