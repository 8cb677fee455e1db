// The public shapes of a Flink SQL analysis: statements, table declarations, lineage, problems and options.
import type { FlinkColumnSchema } from './private/flink-columns';

/** What a statement does in a job. */
export type FlinkStatementKind =
  | 'create-table'
  | 'create-table-as'
  | 'create-view'
  | 'create-function'
  | 'insert'
  | 'statement-set'
  | 'set'
  | 'query'
  | 'other';

/** One statement of the program, with its position in the whole SQL text. */
export interface FlinkSqlStatement {
  /** 1-based statement number. */
  readonly index: number;
  /** Statement text without the terminating semicolon. */
  readonly text: string;
  /** Offset of the first character in the whole SQL text. */
  readonly offset: number;
  /** 1-based line of the first character. */
  readonly line: number;
  /** 1-based column of the first character. */
  readonly column: number;
  /** Set by the analysis; `other` until the statement has parsed. */
  readonly kind: FlinkStatementKind;
}

/** A `CREATE TABLE` of the program. */
export interface FlinkTableDeclaration {
  /** Normalized name (backticks removed, default catalog/database prefix dropped). */
  readonly name: string;
  /** Statement number declaring it. */
  readonly statement: number;
  /** `connector` option, lower-cased; undefined when absent. */
  readonly connector?: string;
  /** WITH options as written (keys as written, values unquoted). */
  readonly options: Record<string, string>;
  readonly columns: string[];
  /** Every column with its kind and declared type; undefined when the table copies another one's (`LIKE`). */
  readonly schema?: FlinkColumnSchema[];
  readonly primaryKey: string[];
  /** Offset in the SQL text of the `)` closing the WITH list (where options can be appended). */
  readonly optionsCloseOffset?: number;
}

/** Which tables feed which sink, per INSERT (views expanded to the tables they read). */
export interface FlinkSqlLineageEntry {
  /** Statement number of the INSERT (or CREATE TABLE AS). */
  readonly statement: number;
  readonly sink: string;
  readonly sources: string[];
}

export interface FlinkSqlProblem {
  readonly kind: 'syntax' | 'semantic';
  /** Statement number (0 for program-wide problems). */
  readonly statement: number;
  /** 1-based line and column in the whole SQL text. */
  readonly line: number;
  readonly column: number;
  readonly message: string;
}

export interface FlinkSqlAnalysis {
  readonly statements: FlinkSqlStatement[];
  readonly tables: FlinkTableDeclaration[];
  readonly views: string[];
  readonly lineage: FlinkSqlLineageEntry[];
  readonly problems: FlinkSqlProblem[];
}

/** A table declared outside the SQL text, with its columns when they are known. */
export interface FlinkKnownTable {
  readonly name: string;
  /** @default - the columns are not known, so references to them are not checked */
  readonly columns?: FlinkColumnSchema[];
}

export interface FlinkSqlAnalysisOptions {
  /**
   * Tables declared outside this SQL text (CDC source helpers, catalogs); reads and INSERTs may name them, and their
   * columns (when given) are checked like those of a CREATE TABLE. @default - none
   */
  readonly knownTables?: Array<string | FlinkKnownTable>;
  /**
   * Connector names the runtime can load. Names listed here beyond the defaults also count as formats (a JAR added
   * through FlinkSqlApplication's `dependencies` is declared through its `connectors` prop, whichever it provides).
   * @default DEFAULT_FLINK_CONNECTORS
   */
  readonly connectors?: string[];
  /** Format names the runtime can load, beyond DEFAULT_FLINK_FORMATS. @default - none */
  readonly formats?: string[];
}

/** Connectors in the Flink distribution, plus the Kafka connectors this library packages. */
export const DEFAULT_FLINK_CONNECTORS: readonly string[] = ['kafka', 'upsert-kafka', 'datagen', 'print', 'blackhole', 'filesystem'];

/** Formats the Flink runtime ships (flink-json, flink-csv and the raw format of the table runtime). */
export const DEFAULT_FLINK_FORMATS: readonly string[] = ['json', 'csv', 'raw', 'debezium-json', 'canal-json', 'maxwell-json', 'ogg-json'];

/** Thrown when a program fails validation; `problems` holds every error found. */
export class FlinkSqlError extends Error {
  constructor(message: string, public readonly problems: FlinkSqlProblem[]) {
    super(message);
    this.name = 'FlinkSqlError';
  }
}

// ---------------------------------------------------------------------------------------------
// Statement splitting
// ---------------------------------------------------------------------------------------------
