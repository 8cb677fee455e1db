// The bootstrap function's signal path: a direct invocation (`agent-data-stack resnapshot`) and
// Custom::CdcSnapshotSignal (tables added to the declaration) insert execute-snapshot signals as the replication user.
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import * as mysql from 'mysql2/promise';
import { Client } from 'pg';
import {
  BootstrapError, SIGNAL_SOURCE_ENV, type Credentials, type SignalSource, type SnapshotSignalProperties, type SnapshotSignalRequest,
  type SnapshotSignalResponse,
} from '../../contract/replication-bootstrap';
import { readCredentials } from './credentials';
import { addedTables, insertMysqlSnapshotSignal, insertPostgresSnapshotSignal, type SnapshotSignal } from './signal';

export interface SignalDeps {
  readonly secrets: SecretsManagerClient;
  /** Verify the server against `ca` (PEM), or `false` for plain TCP (local tests only). */
  readonly tls: { readonly ca: string } | false;
  /** @default 10_000 */
  readonly connectTimeoutMs?: number;
}

/** The function's signal source, from its environment (set by CdcSourceDatabase). */
export function signalSourceFromEnv(env: NodeJS.ProcessEnv): SignalSource {
  const raw = env[SIGNAL_SOURCE_ENV];
  if (!raw) throw new BootstrapError(`${SIGNAL_SOURCE_ENV} is not set: this bootstrap function was deployed before snapshot signals. Deploy the stack again, then retry.`);
  return JSON.parse(raw) as SignalSource;
}

/** Inserts one `execute-snapshot` signal as the replication user (who may write the signaling table and read the captured tables, nothing else). */
export async function sendSnapshotSignal(source: SignalSource, signal: SnapshotSignal, deps: SignalDeps): Promise<SnapshotSignalResponse> {
  const user: Credentials = await readCredentials(deps.secrets, source.ReplicationSecretArn);
  const timeout = deps.connectTimeoutMs ?? 10_000;
  let id: string;
  if (source.Engine === 'postgresql') {
    const client = new Client({
      host: source.Host, port: Number(source.Port), database: source.Database, user: user.username, password: user.password,
      ssl: deps.tls ? { ca: deps.tls.ca, rejectUnauthorized: true } : false, connectionTimeoutMillis: timeout,
      application_name: 'cdk-agent-data-stack-signal',
    });
    await client.connect();
    try {
      id = await insertPostgresSnapshotSignal(client, source.SignalTable, signal, source.Tables);
    } finally {
      await client.end();
    }
  } else {
    const conn = await mysql.createConnection({
      host: source.Host, port: Number(source.Port), user: user.username, password: user.password,
      ssl: deps.tls ? { ca: deps.tls.ca, rejectUnauthorized: true } : undefined, connectTimeout: timeout,
    });
    try {
      id = await insertMysqlSnapshotSignal(conn, source.SignalTable, signal, source.Tables);
    } finally {
      await conn.end();
    }
  }
  console.log(JSON.stringify({ message: 'execute-snapshot signal inserted', signalId: id, tables: signal.tables, where: signal.where !== undefined }));
  return { SignalId: id, SignalTable: source.SignalTable, Tables: [...signal.tables] };
}

/** A direct invocation: validates the request's shape before anything touches the database. */
export async function onSignalRequest(request: SnapshotSignalRequest, source: SignalSource, deps: SignalDeps): Promise<SnapshotSignalResponse> {
  if (request.Action !== 'execute-snapshot') throw new BootstrapError(`Unknown action '${String(request.Action)}'; the only action is 'execute-snapshot'.`);
  if (!Array.isArray(request.Tables) || request.Tables.some(t => typeof t !== 'string')) throw new BootstrapError('Tables must be a list of captured table names.');
  if (request.Where !== undefined && typeof request.Where !== 'string') throw new BootstrapError('Where must be a SQL condition string.');
  return sendSnapshotSignal(source, { tables: request.Tables, where: request.Where }, deps);
}

export interface SnapshotSignalEventResponse {
  readonly PhysicalResourceId: string;
  readonly Data: { readonly SignalId: string; readonly SnapshotTables: string };
}

/**
 * Custom::CdcSnapshotSignal, created after the connector: on an Update of the same connector whose table list grew, the added
 * tables (and only those) get an incremental snapshot; the connector already runs with the new `table.include.list`, since
 * CloudFormation updated it first. Create (a new connector snapshots every table itself), a changed connector name (a new
 * connector, same) and Delete send nothing.
 */
export async function onSnapshotSignalEvent(event: CloudFormationCustomResourceEvent, source: SignalSource, deps: SignalDeps): Promise<SnapshotSignalEventResponse> {
  const p = event.ResourceProperties as unknown as SnapshotSignalProperties;
  const physicalId = `cdc-snapshot-signal:${p.ConnectorName}`;
  if (event.RequestType !== 'Update') {
    return { PhysicalResourceId: event.RequestType === 'Delete' ? event.PhysicalResourceId : physicalId, Data: { SignalId: '', SnapshotTables: '' } };
  }
  const old = event.OldResourceProperties as unknown as SnapshotSignalProperties;
  const added = old.ConnectorName === p.ConnectorName ? addedTables([...(old.Tables ?? [])], [...(p.Tables ?? [])]) : [];
  if (added.length === 0) return { PhysicalResourceId: physicalId, Data: { SignalId: '', SnapshotTables: '' } };
  // The connector names MySQL tables as database.table; the signal source lists them as declared.
  const declared = added.map(t => source.Tables.find(d => d === t || t.endsWith(`.${d}`)) ?? t);
  const r = await sendSnapshotSignal(source, { tables: declared }, deps);
  return { PhysicalResourceId: physicalId, Data: { SignalId: r.SignalId, SnapshotTables: declared.join(',') } };
}
