// Synth-time checks for CdcSourceDatabase props; each message names the prop, shows the value and says the fix.
import { Duration, Token } from 'aws-cdk-lib';
import { SourceEngine, SourceEngineFamily } from '../engine';

const PG_IDENT = /^[A-Za-z_][A-Za-z0-9_$]{0,62}$/;
const MYSQL_IDENT = /^[A-Za-z0-9_$]{1,64}$/;
/** Lower-case only, so the name means the same quoted or unquoted (it is used unquoted in the heartbeat query). */
const LOWER_QUALIFIED = /^[a-z_][a-z0-9_]{0,62}\.[a-z_][a-z0-9_]{0,62}$/;
/** PostgreSQL replication slot names: lower-case letters, digits and underscores. */
const SLOT_NAME = /^[a-z0-9_]{1,63}$/;

function fail(message: string): never {
  throw new Error(`CdcSourceDatabase: ${message}`);
}

export function isQualifiedTableName(family: SourceEngineFamily, name: string): boolean {
  const parts = name.split('.');
  if (parts.length !== 2) return false;
  const ident = family === SourceEngineFamily.POSTGRESQL ? PG_IDENT : MYSQL_IDENT;
  return parts.every(p => ident.test(p));
}

export function validateTables(engine: SourceEngine, tables: string[]): void {
  if (tables.length === 0) {
    fail(`tables is empty. List the tables Debezium captures, e.g. tables: ['${engine.family === SourceEngineFamily.POSTGRESQL ? 'public.orders' : 'shop.orders'}'].`);
  }
  const form = engine.family === SourceEngineFamily.POSTGRESQL ? 'schema.table' : 'database.table';
  const bad = tables.filter(t => !Token.isUnresolved(t) && !isQualifiedTableName(engine.family, t));
  if (bad.length) {
    fail(`tables has ${bad.map(t => `'${t}'`).join(', ')}, which ${bad.length > 1 ? 'are' : 'is'} not '${form}' for ${engine}. `
      + `Write each table as ${form} with plain identifiers (letters, digits, _ and $; PostgreSQL names are case-sensitive), e.g. '${engine.family === SourceEngineFamily.POSTGRESQL ? 'public.orders' : 'shop.orders'}'.`);
  }
  const seen = new Set<string>();
  const dupes = tables.filter(t => (seen.has(t) ? true : (seen.add(t), false)));
  if (dupes.length) fail(`tables lists ${dupes.map(t => `'${t}'`).join(', ')} more than once. List each table once.`);
}

export function validateFullRowImageTables(tables: string[], fullRowImageTables: string[]): void {
  const captured = new Set(tables);
  const unknown = fullRowImageTables.filter(t => !Token.isUnresolved(t) && !captured.has(t));
  if (unknown.length) {
    fail(`fullRowImageTables has ${unknown.map(t => `'${t}'`).join(', ')}, which ${unknown.length > 1 ? 'are' : 'is'} not in tables. `
      + `fullRowImageTables only applies to captured tables: add ${unknown.length > 1 ? 'them' : 'it'} to tables too, or remove ${unknown.length > 1 ? 'them' : 'it'} from fullRowImageTables (names must match exactly).`);
  }
  const seen = new Set<string>();
  const dupes = fullRowImageTables.filter(t => (seen.has(t) ? true : (seen.add(t), false)));
  if (dupes.length) fail(`fullRowImageTables lists ${dupes.map(t => `'${t}'`).join(', ')} more than once. List each table once.`);
}

export function validateEngine(engine: SourceEngine): void {
  const major = parseFloat(engine.majorVersion);
  if (engine.family === SourceEngineFamily.POSTGRESQL && major < 10) {
    fail(`engine is ${engine}, which has no pgoutput logical decoding plugin (PostgreSQL 10 or later). Use SourceEngine.${engine.isAurora ? 'auroraPostgres' : 'postgres'}() with version 13 or later.`);
  }
  if (engine.family === SourceEngineFamily.MYSQL && major < 8) {
    fail(`engine is ${engine}, which Debezium 3 does not support for binlog capture (MySQL 8.0 or later; Aurora MySQL 3 or later). Use SourceEngine.${engine.isAurora ? 'auroraMysql' : 'mysql'}() with a MySQL 8 version.`);
  }
}

export function validateHeartbeatTable(engine: SourceEngine, heartbeatTable: string, tables: string[]): void {
  if (Token.isUnresolved(heartbeatTable)) return;
  if (!LOWER_QUALIFIED.test(heartbeatTable)) {
    fail(`heartbeatTable is '${heartbeatTable}'; it must be ${engine.family === SourceEngineFamily.POSTGRESQL ? 'schema.table' : 'database.table'} in lower-case letters, digits and _, e.g. 'public.debezium_heartbeat'.`);
  }
  if (tables.includes(heartbeatTable)) {
    fail(`heartbeatTable '${heartbeatTable}' is also in tables. The bootstrap creates and owns the heartbeat table; remove it from tables or choose another heartbeatTable.`);
  }
}

/** The signaling table: like the heartbeat table, a plain lower-case name the bootstrap owns, apart from the captured tables. */
export function validateSignalTable(engine: SourceEngine, signalTable: string, tables: string[], heartbeatTable: string): void {
  if (Token.isUnresolved(signalTable)) return;
  if (!LOWER_QUALIFIED.test(signalTable)) {
    fail(`signalTable is '${signalTable}'; it must be ${engine.family === SourceEngineFamily.POSTGRESQL ? 'schema.table' : 'database.table'} in lower-case letters, digits and _, e.g. 'public.debezium_signal'.`);
  }
  if (tables.includes(signalTable) || signalTable === heartbeatTable) {
    fail(`signalTable '${signalTable}' is also ${signalTable === heartbeatTable ? 'the heartbeatTable' : 'in tables'}. The bootstrap creates and owns the signaling table; choose another signalTable, e.g. 'public.debezium_signal'.`);
  }
}

export function validateName(prop: string, value: string, pattern: RegExp, rule: string): void {
  if (!Token.isUnresolved(value) && !pattern.test(value)) fail(`${prop} is '${value}'; it must be ${rule}.`);
}

export function validateNames(engine: SourceEngine, names: { publicationName: string; slotName: string; replicationUsername: string; databaseName: string }): void {
  validateName('publicationName', names.publicationName, SLOT_NAME, '1-63 lower-case letters, digits or _');
  validateName('slotName', names.slotName, SLOT_NAME, '1-63 lower-case letters, digits or _ (PostgreSQL replication slot names)');
  const userMax = engine.family === SourceEngineFamily.MYSQL ? 32 : 63;
  validateName('replicationUsername', names.replicationUsername, new RegExp(`^[a-z_][a-z0-9_]{0,${userMax - 1}}$`),
    `a lower-case identifier of at most ${userMax} characters (letters, digits, _)`);
  validateName('databaseName', names.databaseName, /^[A-Za-z][A-Za-z0-9_]{0,62}$/, 'a letter followed by letters, digits or _ (at most 63 characters)');
}

export function validateDurations(engine: SourceEngine, backupRetention: Duration, binlogRetention: Duration): void {
  if (!backupRetention.isUnresolved() && backupRetention.toDays({ integral: false }) < 1) {
    fail(`backupRetention is ${backupRetention.toHumanString()}; automated backups must be kept at least 1 day (RDS MySQL only writes the binlog when backups are on, and point-in-time recovery needs them). Set backupRetention to Duration.days(1) or more.`);
  }
  if (engine.family !== SourceEngineFamily.MYSQL || binlogRetention.isUnresolved()) return;
  const hours = binlogRetention.toHours({ integral: false });
  const max = engine.isAurora ? 2160 : 168;
  if (hours < 1 || hours > max || !Number.isInteger(hours)) {
    fail(`binlogRetention is ${binlogRetention.toHumanString()}; ${engine} accepts whole hours from 1 to ${max} for 'binlog retention hours'. Choose a value in that range.`);
  }
}
