// SourceSchema: SQL the replication bootstrap runs to create the captured tables of a new database.
import * as crypto from 'crypto';
import * as fs from 'fs';

/**
 * Largest schema the bootstrap accepts. The SQL travels as a custom resource property: it counts against the
 * template size, and CloudFormation hands the whole request to the provider function in one invocation.
 */
export const MAX_INITIAL_SCHEMA_BYTES = 32 * 1024;

/**
 * SQL that creates the tables a `CdcSourceDatabase` captures (and, if wanted, seed rows), run by the replication
 * bootstrap before it checks the tables. It must be idempotent (`CREATE TABLE IF NOT EXISTS`,
 * `INSERT ... ON CONFLICT DO NOTHING` / `INSERT IGNORE`): a retried Create runs it again.
 */
export class SourceSchema {
  /** SQL read from a file at synth time (UTF-8). */
  public static fromFile(path: string): SourceSchema {
    if (!fs.existsSync(path)) throw new Error(`SourceSchema.fromFile: ${path} does not exist. Pass the path of the SQL file that creates the captured tables.`);
    return new SourceSchema(fs.readFileSync(path, 'utf8'), path);
  }

  /** SQL given inline. */
  public static fromSql(sql: string): SourceSchema {
    return new SourceSchema(sql, 'inline SQL');
  }

  /** The SQL. */
  public readonly sql: string;
  /** SHA-256 (hex) of the SQL: a changed schema changes the bootstrap's properties, so CloudFormation runs an Update. */
  public readonly sha256: string;
  /** Where the SQL came from, for messages. */
  public readonly origin: string;

  private constructor(sql: string, origin: string) {
    if (sql.trim().length === 0) throw new Error(`SourceSchema: ${origin} is empty. Give the SQL that creates the captured tables.`);
    const bytes = Buffer.byteLength(sql, 'utf8');
    if (bytes > MAX_INITIAL_SCHEMA_BYTES) {
      throw new Error(`SourceSchema: ${origin} is ${bytes} bytes; the bootstrap takes at most ${MAX_INITIAL_SCHEMA_BYTES} bytes, since the SQL travels in the CloudFormation template. `
        + 'Keep only the DDL of the captured tables here and load larger schemas or data with your migration tool before deploying.');
    }
    this.sql = sql;
    this.sha256 = crypto.createHash('sha256').update(sql, 'utf8').digest('hex');
    this.origin = origin;
  }
}
