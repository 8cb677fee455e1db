// Loads dt-sql-parser's Trino grammar (Athena engine v3 is Trino): in the Lambda from the bundle's second entry, under Node and Jest built once to a temp CommonJS file.
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

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

const ENTRY = [
  "export { TrinoSQL } from './dist/parser/trino';",
  "export { TrinoSqlParser } from './dist/lib/trino/TrinoSqlParser';",
].join('\n');

let loaded: TrinoParserModule | undefined;

/** The Trino parser module. */
export function loadTrinoParser(): TrinoParserModule {
  if (loaded) return loaded;
  // In the Lambda the grammar is the bundle's second entry, `trino-parser.js` beside `index.js` (a computed path, so
  // esbuild leaves it out of index.js); from sources (Node, Jest) plain Node cannot require dt-sql-parser's ES modules.
  const shipped = path.join(__dirname, 'trino-parser.js');
  loaded = fs.existsSync(shipped) ? require(shipped) as TrinoParserModule : buildWithEsbuild();
  return loaded;
}

function buildWithEsbuild(): TrinoParserModule {
  const pkgJson = require.resolve('dt-sql-parser/package.json');
  const root = path.dirname(pkgJson);
  const version: string = JSON.parse(fs.readFileSync(pkgJson, 'utf8')).version;
  const key = crypto.createHash('sha256').update(`${version}\n${root}\n${ENTRY}`).digest('hex').slice(0, 12);
  const cacheDir = path.join(os.tmpdir(), 'cdk-agent-data-stack');
  const bundle = path.join(cacheDir, `trino-parser-${version}-${key}.cjs`);
  if (!fs.existsSync(bundle)) {
    fs.mkdirSync(cacheDir, { recursive: true });
    // A computed name keeps esbuild from trying to bundle esbuild itself into the Lambda.
    const esbuild = require(['es', 'build'].join('')) as typeof import('esbuild');
    const result = esbuild.buildSync({
      stdin: { contents: ENTRY, resolveDir: root, sourcefile: 'trino-parser-entry.js', loader: 'js' },
      bundle: true, platform: 'node', format: 'cjs', target: 'node20', write: false, logLevel: 'silent',
    });
    if (result.errors.length > 0) throw new Error(`cannot bundle dt-sql-parser ${version}: ${result.errors.map(e => e.text).join('; ')}`);
    const tmp = `${bundle}.${process.pid}.${Date.now()}.tmp`;
    fs.writeFileSync(tmp, result.outputFiles[0].text);
    fs.renameSync(tmp, bundle);
  }
  return require(bundle) as TrinoParserModule;
}
