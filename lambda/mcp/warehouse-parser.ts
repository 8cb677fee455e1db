// Loads dt-sql-parser's Trino grammar (Athena engine v3 is Trino): in the Lambda from the bundle's second entry, under Node and Jest built once by toolchain/sql-grammar.ts.
import * as fs from 'fs';
import * as path from 'path';
import { loadSqlGrammar, SqlGrammarEntry } from '../../toolchain/sql-grammar';

/** A node of the antlr4ng parse tree: a rule context (has ruleIndex) or a terminal (has symbol). */
export interface SqlNode {
  readonly ruleIndex?: number;
  readonly children?: SqlNode[] | null;
  readonly start?: { readonly start: number } | null;
  readonly stop?: { readonly stop: number } | null;
  readonly symbol?: { readonly start: number; readonly stop: number; readonly text?: string };
}

export interface SqlSyntaxError {
  readonly startLine: number;
  readonly startColumn: number;
  readonly message: string;
}

export interface TrinoParserModule {
  readonly TrinoSQL: new () => { parse(input: string, errorListener: (error: SqlSyntaxError) => void): SqlNode };
  readonly TrinoSqlParser: { readonly ruleNames: string[] };
}

/** The Trino grammar's exports the SQL guard uses. */
const TRINO_GRAMMAR: SqlGrammarEntry = {
  name: 'trino-parser',
  source: [
    "export { TrinoSQL } from './dist/parser/trino';",
    "export { TrinoSqlParser } from './dist/lib/trino/TrinoSqlParser';",
  ].join('\n'),
};

let loaded: TrinoParserModule | undefined;

/** The Trino parser module. */
export function loadTrinoParser(): TrinoParserModule {
  if (loaded) return loaded;
  // In the Lambda the grammar is the bundle's second entry, `trino-parser.js` beside `index.js` (a computed path, so
  // esbuild leaves it out of index.js); from sources (Node, Jest) plain Node cannot require dt-sql-parser's ES modules.
  const shipped = path.join(__dirname, 'trino-parser.js');
  loaded = fs.existsSync(shipped) ? require(shipped) as TrinoParserModule : loadSqlGrammar<TrinoParserModule>(TRINO_GRAMMAR);
  return loaded;
}
