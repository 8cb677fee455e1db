// The Flink SQL analysis kept between calls and between synths. Parsing a program with dt-sql-parser's Flink grammar is most
// of a construct tree's time (about 1.4 s for the example's two programs, each analysed three times); the analysis is a pure
// function of the SQL text, the options and the analysing code, so it is kept under a hash of all three: in this process, and
// in the library's cache directory (`CDK_AGENT_GATE_CACHE=off` turns that off, as it does the gate's).
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { gateCacheDir, keptJsonEntry, synthCacheEnabled } from '../../common/synth-cache';
import { PACKAGE_ROOT } from '../../common/agent-function';
import type { FlinkSqlAnalysis, FlinkSqlAnalysisOptions } from '../flink-sql-types';
import { SHIPPED_FLINK_PARSER } from './flink-parser';

/** The modules whose code decides an analysis (next to this file and one folder up), in whichever form is running. */
const ANALYSIS_MODULES = [
  '../flink-sql', '../flink-sql-types', 'flink-columns', 'flink-column-scope', 'flink-parser', 'flink-split', 'flink-tree', 'flink-analysis-cache',
];

let fingerprint: string | undefined;

/**
 * A hash of the code that analyses: the analysis modules' text (`.ts` in a checkout, `.js` in the package) and the grammar's
 * identity (dt-sql-parser's version where it is installed, the shipped grammar bundle's size). Computed once per process.
 */
export function analysisFingerprint(): string {
  if (fingerprint) return fingerprint;
  const hash = crypto.createHash('sha256').update('flink-analysis/1\n');
  for (const m of ANALYSIS_MODULES) {
    for (const ext of ['.ts', '.js']) {
      const file = path.join(__dirname, `${m}${ext}`);
      if (fs.existsSync(file)) hash.update(`${m}${ext}\n`).update(fs.readFileSync(file));
    }
  }
  try {
    hash.update(`dt-sql-parser@${JSON.parse(fs.readFileSync(require.resolve('dt-sql-parser/package.json'), 'utf8')).version}\n`);
  } catch {
    hash.update('dt-sql-parser@-\n');
  }
  const shipped = path.join(PACKAGE_ROOT, 'bundles', SHIPPED_FLINK_PARSER);
  if (fs.existsSync(shipped)) hash.update(`shipped ${fs.statSync(shipped).size}\n`);
  fingerprint = hash.digest('hex');
  return fingerprint;
}

/** Analyses kept in this process, as JSON (each caller gets its own copy), most recent last. */
const inProcess = new Map<string, string>();
const IN_PROCESS_ENTRIES = 64;

/** The cache file of an analysis key. */
export function analysisCacheFile(key: string): string {
  return path.join(gateCacheDir(), 'flink-sql', `${key}.json`);
}

/** The key of an analysis: the program, the options and the analysing code. */
export function analysisKey(sql: string, options: FlinkSqlAnalysisOptions): string {
  return crypto.createHash('sha256').update(analysisFingerprint()).update('\n').update(JSON.stringify([sql, options])).digest('hex').slice(0, 32);
}

/** `analyze()`'s result for this program and options, kept in this process and in the cache directory. */
export function keptAnalysis(sql: string, options: FlinkSqlAnalysisOptions, analyze: () => FlinkSqlAnalysis): FlinkSqlAnalysis {
  const key = analysisKey(sql, options);
  const json = inProcess.get(key);
  if (json !== undefined) {
    inProcess.delete(key);
    inProcess.set(key, json);
    return JSON.parse(json) as FlinkSqlAnalysis;
  }
  // The value read (or computed) goes to this caller, its text to the map: one parse on a disk hit, none on a miss.
  const { value, text } = keptJsonEntry(synthCacheEnabled() ? analysisCacheFile(key) : undefined, analyze);
  if (inProcess.size >= IN_PROCESS_ENTRIES) inProcess.delete(inProcess.keys().next().value!);
  inProcess.set(key, text);
  return value;
}

/** Forgets the analyses kept in this process (tests). */
export function clearKeptAnalyses(): void {
  inProcess.clear();
}
