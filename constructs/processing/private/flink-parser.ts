// Loads dt-sql-parser's Flink grammar at synth time: it ships ESM for bundlers, so esbuild turns it into one CommonJS file, cached per package version.
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
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

const ENTRY = [
  "export { FlinkSQL } from './dist/parser/flink';",
  "export { FlinkSqlParser } from './dist/lib/flink/FlinkSqlParser';",
].join('\n');

let loaded: FlinkParserModule | undefined;

/** The shipped copy (`npm run bundle` writes it), used by an installed package so its synth runs no esbuild. */
export const SHIPPED_FLINK_PARSER = 'flink-parser.cjs';

/** dt-sql-parser's Flink grammar as one CommonJS file. */
export function bundleFlinkParser(): Uint8Array {
  const pkgJson = require.resolve('dt-sql-parser/package.json');
  const root = path.dirname(pkgJson);
  const version: string = JSON.parse(fs.readFileSync(pkgJson, 'utf8')).version;
  // esbuild is a dependency of this package (handler bundles of an `entry` use it too).
  const esbuild = require('esbuild') as typeof import('esbuild');
  const result = esbuild.buildSync({
    stdin: { contents: ENTRY, resolveDir: root, sourcefile: 'flink-parser-entry.js', loader: 'js' },
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    write: false,
    logLevel: 'silent',
  });
  if (result.errors.length > 0) {
    throw new Error(`cdk-agent-data-stack: cannot bundle dt-sql-parser ${version}: ${result.errors.map(e => e.text).join('; ')}`);
  }
  return result.outputFiles[0].contents;
}

/**
 * Returns the Flink parser module: an installed package's shipped `bundles/flink-parser.cjs`, or (a source checkout)
 * `flink-parser-<version>-<hash>.cjs` under the OS temp directory, built on first use. The build is synchronous
 * (`esbuild.buildSync`) so construct constructors can validate SQL; the file is written to a temporary name and
 * renamed, so concurrent synths never read a half-written bundle.
 */
export function loadFlinkParser(): FlinkParserModule {
  if (loaded) return loaded;
  const shipped = path.join(PACKAGE_ROOT, 'bundles', SHIPPED_FLINK_PARSER);
  if (!isSourceCheckout(PACKAGE_ROOT) && fs.existsSync(shipped)) {
    loaded = require(shipped) as FlinkParserModule;
    return loaded;
  }
  const pkgJson = require.resolve('dt-sql-parser/package.json');
  const root = path.dirname(pkgJson);
  const version: string = JSON.parse(fs.readFileSync(pkgJson, 'utf8')).version;
  const key = crypto.createHash('sha256').update(`${version}\n${root}\n${ENTRY}`).digest('hex').slice(0, 12);
  const cacheDir = path.join(os.tmpdir(), 'cdk-agent-data-stack');
  const bundle = path.join(cacheDir, `flink-parser-${version}-${key}.cjs`);
  if (!fs.existsSync(bundle)) {
    fs.mkdirSync(cacheDir, { recursive: true });
    const tmp = `${bundle}.${process.pid}.${crypto.randomBytes(4).toString('hex')}.tmp`;
    fs.writeFileSync(tmp, bundleFlinkParser());
    fs.renameSync(tmp, bundle);
  }
  loaded = require(bundle) as FlinkParserModule;
  return loaded;
}
