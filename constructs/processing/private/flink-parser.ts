// Loads dt-sql-parser's Flink grammar at synth time: the shipped CommonJS copy, or in a source checkout the one toolchain/sql-grammar.ts builds.
import * as fs from 'fs';
import * as path from 'path';
import { bundleSqlGrammar, loadSqlGrammar, SqlGrammarEntry } from '../../../toolchain/sql-grammar';
import { PACKAGE_ROOT } from '../../common/agent-function';
import { isSourceCheckout } from '../../common/handler-bundle';

/** The subset of the bundled module this library uses (antlr4ng objects are typed loosely on purpose). */
export interface FlinkParserModule {
  /** dt-sql-parser's `FlinkSQL` class. */
  readonly FlinkSQL: new () => {
    parse(input: string, errorListener: (error: ParseErrorLike) => void): ParseNode;
  };
  /** Rule and token constants of the generated parser. */
  readonly FlinkSqlParser: Record<string, unknown> & { readonly ruleNames: string[] };
}

export interface ParseErrorLike {
  readonly startLine: number;
  readonly startColumn: number;
  readonly endLine: number;
  readonly endColumn: number;
  readonly message: string;
}

/** A node of the antlr4ng parse tree: a rule context (has ruleIndex) or a terminal (has symbol). */
export interface ParseNode {
  readonly ruleIndex?: number;
  readonly children?: ParseNode[] | null;
  readonly start?: TokenLike | null;
  readonly stop?: TokenLike | null;
  readonly symbol?: TokenLike;
}

export interface TokenLike {
  /** Character offset of the first character. */
  readonly start: number;
  /** Character offset of the last character (inclusive). */
  readonly stop: number;
  readonly line: number;
  readonly column: number;
  readonly type: number;
}

/** The Flink grammar's exports this library uses. */
const FLINK_GRAMMAR: SqlGrammarEntry = {
  name: 'flink-parser',
  source: [
    "export { FlinkSQL } from './dist/parser/flink';",
    "export { FlinkSqlParser } from './dist/lib/flink/FlinkSqlParser';",
  ].join('\n'),
};

let loaded: FlinkParserModule | undefined;

/** The shipped copy (`npm run bundle` writes it), used by an installed package so its synth runs no esbuild. */
export const SHIPPED_FLINK_PARSER = 'flink-parser.cjs';

/** dt-sql-parser's Flink grammar as one CommonJS file. */
export function bundleFlinkParser(): Uint8Array {
  return bundleSqlGrammar(FLINK_GRAMMAR);
}

/**
 * Returns the Flink parser module: an installed package's shipped `bundles/flink-parser.cjs`, or (a source checkout)
 * the grammar bundled on first use into the OS temp directory (toolchain/sql-grammar.ts).
 */
export function loadFlinkParser(): FlinkParserModule {
  if (loaded) return loaded;
  const shipped = path.join(PACKAGE_ROOT, 'bundles', SHIPPED_FLINK_PARSER);
  loaded = !isSourceCheckout(PACKAGE_ROOT) && fs.existsSync(shipped) ? require(shipped) as FlinkParserModule : loadSqlGrammar<FlinkParserModule>(FLINK_GRAMMAR);
  return loaded;
}
