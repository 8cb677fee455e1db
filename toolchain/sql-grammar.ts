// dt-sql-parser's grammars as CommonJS Node can require (the package ships ES modules), cached per package version.
// Used at synth (Flink SQL) and when the MCP server runs from sources (Trino SQL).
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

/** A grammar to bundle: a file name stem and the ES module source re-exporting what its loader needs. */
export interface SqlGrammarEntry {
  /** Stem of the bundled file, e.g. 'flink-parser'. */
  readonly name: string;
  /** Module source resolved inside dt-sql-parser, e.g. `export { FlinkSQL } from './dist/parser/flink';`. */
  readonly source: string;
}

function parserPackage(): { root: string; version: string } {
  const pkgJson = require.resolve('dt-sql-parser/package.json');
  return { root: path.dirname(pkgJson), version: JSON.parse(fs.readFileSync(pkgJson, 'utf8')).version };
}

/** The grammar as one CommonJS file (esbuild, synchronous so construct constructors can validate SQL). */
export function bundleSqlGrammar(grammar: SqlGrammarEntry): Uint8Array {
  const { root, version } = parserPackage();
  // esbuild is a dependency of this package; a computed name keeps esbuild from bundling itself into a Lambda that imports this module.
  const esbuild = require(['es', 'build'].join('')) as typeof import('esbuild');
  const result = esbuild.buildSync({
    stdin: { contents: grammar.source, resolveDir: root, sourcefile: `${grammar.name}-entry.js`, loader: 'js' },
    bundle: true, platform: 'node', format: 'cjs', target: 'node20', write: false, logLevel: 'silent',
  });
  if (result.errors.length > 0) {
    throw new Error(`cdk-agent-data-stack: cannot bundle dt-sql-parser ${version}: ${result.errors.map(e => e.text).join('; ')}`);
  }
  return result.outputFiles[0].contents;
}

/**
 * Requires the grammar from `<tmp>/cdk-agent-data-stack/<name>-<version>-<hash>.cjs`, built on first use. The file is
 * written to a temporary name and renamed, so concurrent synths and test workers never read a half-written bundle.
 */
export function loadSqlGrammar<T>(grammar: SqlGrammarEntry): T {
  const { root, version } = parserPackage();
  const key = crypto.createHash('sha256').update(`${version}\n${root}\n${grammar.source}`).digest('hex').slice(0, 12);
  const cacheDir = path.join(os.tmpdir(), 'cdk-agent-data-stack');
  const bundle = path.join(cacheDir, `${grammar.name}-${version}-${key}.cjs`);
  if (!fs.existsSync(bundle)) {
    fs.mkdirSync(cacheDir, { recursive: true });
    const tmp = `${bundle}.${process.pid}.${crypto.randomBytes(4).toString('hex')}.tmp`;
    fs.writeFileSync(tmp, bundleSqlGrammar(grammar));
    fs.renameSync(tmp, bundle);
  }
  return require(bundle) as T;
}
