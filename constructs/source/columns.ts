// Personal data per captured table: which columns are excluded, hashed or masked before a record leaves the database's connector.
import { createHash } from 'crypto';
import { Token } from 'aws-cdk-lib';
import type { CdcColumnPolicy } from '../streaming/cdc-source';
import { SourceEngine, SourceEngineFamily } from './engine';

/**
 * What happens to the personal data of one captured table, declared next to it in `CdcSourceDatabaseProps.columns`.
 * Debezium applies it in the connector, so an excluded column's value is in no topic, store or dead letter, and a
 * hashed or masked column is only ever seen hashed or masked downstream.
 */
export type SourceColumnPolicy = CdcColumnPolicy;

const PG_COLUMN = /^[A-Za-z_][A-Za-z0-9_$]{0,62}$/;
const MYSQL_COLUMN = /^[A-Za-z0-9_$]{1,64}$/;
/** The salt is the tail of a property name (`column.mask.hash.v2.SHA-256.with.salt.<salt>`): plain characters only. */
export const HASH_SALT = /^[A-Za-z0-9_-]{16,128}$/;
const MAX_MASK_CHARS = 255;

function fail(message: string): never {
  throw new Error(`CdcSourceDatabase: ${message}`);
}

/** Validates `columns` against the captured tables; each message names the table and column and says the fix. */
export function validateColumnPolicies(engine: SourceEngine, tables: string[], columns: Record<string, SourceColumnPolicy>, salt: string | undefined): void {
  const ident = engine.family === SourceEngineFamily.POSTGRESQL ? PG_COLUMN : MYSQL_COLUMN;
  for (const [table, policy] of Object.entries(columns)) {
    if (!tables.includes(table)) {
      fail(`columns names table '${table}', which is not in tables [${tables.join(', ')}]. Declare column policies only for captured tables (names must match exactly), or capture '${table}'.`);
    }
    const seen = new Map<string, string>();
    for (const kind of ['exclude', 'hash', 'mask'] as const) {
      for (const column of policy[kind] ?? []) {
        if (Token.isUnresolved(column) || !ident.test(column)) {
          fail(`columns['${table}'].${kind} has '${column}', which is not a plain column name (letters, digits, _ and $). Write the column name as it is in the table.`);
        }
        const other = seen.get(column);
        if (other) {
          fail(`columns['${table}'] lists '${column}' under both ${other} and ${kind}. A column is either excluded, hashed or masked: keep it in one list.`);
        }
        seen.set(column, kind);
      }
    }
    if (policy.maskChars !== undefined && (!Number.isInteger(policy.maskChars) || policy.maskChars < 1 || policy.maskChars > MAX_MASK_CHARS)) {
      fail(`columns['${table}'].maskChars is ${policy.maskChars}; use a whole number from 1 to ${MAX_MASK_CHARS}.`);
    }
    if (policy.maskChars !== undefined && (policy.mask ?? []).length === 0) {
      fail(`columns['${table}'].maskChars is set but mask lists no column. List the columns to mask, or drop maskChars.`);
    }
  }
  if (salt !== undefined && !Token.isUnresolved(salt) && !HASH_SALT.test(salt)) {
    fail(`columnHashSalt is ${salt.length} characters${/^[A-Za-z0-9_-]*$/.test(salt) ? '' : ', not all of them letters, digits, _ or -'}; it must be 16-128 letters, digits, _ or - `
      + '(Debezium reads it from a property name). Generate one, e.g. `openssl rand -hex 24`.');
  }
}

/** Columns of `table` excluded / hashed / masked by `columns`. */
export function columnsOf(columns: Record<string, SourceColumnPolicy>, table: string, kind: 'exclude' | 'hash' | 'mask'): string[] {
  return [...(columns[table]?.[kind] ?? [])];
}

/**
 * The salt used when hashed columns are declared without `columnHashSalt`: derived from the construct's address, so it
 * is stable across synths and distinct per stack and construct. It is visible in the template like any salt would be.
 */
export function defaultHashSalt(constructAddress: string): string {
  return createHash('sha256').update(`cdk-agent-data-stack/column-hash/${constructAddress}`).digest('hex').slice(0, 32);
}
