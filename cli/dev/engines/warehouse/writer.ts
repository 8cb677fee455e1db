// The warehouse writer job exactly as the construct synthesizes it (package, job.sql, application configuration), run on local
// Flink 1.20 through PyFlink with only the Iceberg catalog options mapped from the Glue catalog to a local JDBC catalog (sqlite).
import { spawnSync } from 'child_process';
import * as path from 'path';
import { Template } from 'aws-cdk-lib/assertions';
import { WAREHOUSE_DATABASE_ENV } from '../../../../contract/warehouse-env';
import type { ViewConfig } from '../../../../contract/view-config';
import { analyzeFlinkSql, appendTableOptions, sqlString } from '../../../../constructs/processing/flink-sql';
import { glueCatalogOptions } from '../../../../constructs/stores/warehouse-schema';
import { cachedMavenGet, cachedVenv, flinkApplication, M2_REPOSITORY, spawnLocalJob, type RunningApplication, type SqlMappingNote } from '../flink';
import { engineAsset } from '../maven';
import type { CfnTemplate } from '../template';
import { expandJsonValue } from '../../../../lambda/shared/views-env';
import { fetchVerified } from '../../../../lambda/artifact-builder/build';

/**
 * The JDBC driver of the local catalog (not part of the package: on AWS the catalog is Glue). Pinned, fetched from Maven Central
 * into ~/.m2 and checked against the published `.sha1` and this SHA-256 by the deploy-time builder's `fetchVerified`.
 */
export const SQLITE_JDBC = {
  path: 'org/xerial/sqlite-jdbc/3.54.1.0/sqlite-jdbc-3.54.1.0.jar',
  sha256: 'f8dce420a6016278497f4f0560f65602b9db858de141b541cf91a4644ebe4639',
};

/** PyFlink 1.20 on Python 3.11 (what Managed Flink's FLINK-1_20 runs), in a virtualenv cached per requirements hash. */
export function pyflink120Python(): string {
  const requirements = engineAsset('warehouse', 'requirements-flink-1.20.txt');
  const python = process.env.PYFLINK_1_20_PYTHON ?? 'python3.11';
  const version = spawnSync(python, ['-c', 'import sys; print("%d.%d" % sys.version_info[:2])'], { encoding: 'utf8' });
  if (version.status !== 0 || version.stdout.trim() !== '3.11') {
    throw new Error(`The warehouse writer runs on PyFlink 1.20, which needs Python 3.11 (Managed Flink 1.20's); '${python}' gave `
      + `${version.stdout.trim() || version.error?.message || version.stderr}. Install python3.11 or set PYFLINK_1_20_PYTHON.`);
  }
  return cachedVenv(python, requirements, 'pyflink-1.20-py311', 30 * 60_000);
}

/**
 * The local JDBC driver JAR (downloaded once into ~/.m2), verified on every call the way the Flink packages' JARs are: the
 * builder's `fetchVerified` against the published `.sha1` and the pinned SHA-256.
 */
export async function sqliteJdbcJar(): Promise<string> {
  const file = path.join(M2_REPOSITORY, SQLITE_JDBC.path);
  const url = `https://repo1.maven.org/maven2/${SQLITE_JDBC.path}`;
  try {
    await fetchVerified(cachedMavenGet, { url, checksumUrl: `${url}.sha1`, sha256: SQLITE_JDBC.sha256, extract: 'none', targetPath: path.basename(file) });
  } catch (e) {
    throw new Error(`${file}: ${(e as Error).message} (Maven Central must be reachable; delete a corrupt file and retry)`, { cause: e });
  }
  return file;
}

/** What the deployed query tool sees: the warehouse views and database from the MCP function's environment. */
export function deployedWarehouse(template: CfnTemplate): { database: string; views: ViewConfig[] } {
  const fn = Object.values(template.Resources).find(r => r.Type === 'AWS::Lambda::Function' && r.Properties?.Environment?.Variables?.[WAREHOUSE_DATABASE_ENV] !== undefined);
  if (!fn) throw new Error(`no function with ${WAREHOUSE_DATABASE_ENV} in the template (no warehouse view?)`);
  const env = fn.Properties!.Environment.Variables;
  const views = (JSON.parse(expandJsonValue(env.AGENT_VIEWS)) as ViewConfig[]).filter(v => v.store === 'warehouse');
  return { database: String(env[WAREHOUSE_DATABASE_ENV]), views };
}

/**
 * The template with one Flink application and its package only: the writer of `view` (the one whose job.sql writes its
 * table), so the shared `unpackApplication` builds and configures that job.
 */
export function writerTemplate(template: CfnTemplate, view: ViewConfig): Template {
  const table = `'catalog-table' = ${sqlString(view.warehouse!.table)}`;
  const isFlinkPackage = (r: CfnTemplate['Resources'][string]) => r.Type === 'Custom::DeployTimeArtifact' && String(r.Properties?.ObjectKey).startsWith('flink/');
  const pkg = Object.values(template.Resources).find(r => isFlinkPackage(r)
    && (r.Properties!.Files as Array<{ path: string; content?: unknown }>).some(f => f.path === 'job.sql' && typeof f.content === 'string' && f.content.includes(table)));
  if (!pkg) throw new Error(`no Flink package whose job.sql writes ${table}`);
  const isApplication = (r: CfnTemplate['Resources'][string]) => r.Type === 'AWS::KinesisAnalyticsV2::Application';
  const fileKey = (r: CfnTemplate['Resources'][string]) => r.Properties?.ApplicationConfiguration?.ApplicationCodeConfiguration?.CodeContent?.S3ContentLocation?.FileKey;
  const resources = Object.fromEntries(Object.entries(template.Resources).filter(([, r]) => (isFlinkPackage(r) ? r === pkg : !isApplication(r) || fileKey(r) === pkg.Properties!.ObjectKey)));
  return Template.fromJSON({ ...template, Resources: resources });
}

/** The local catalog the writer commits to and the reader reads: Iceberg's JdbcCatalog on PyIceberg's sqlite catalog file. */
export interface LocalCatalog {
  /** PyIceberg's SqlCatalog name (the `catalog_name` column both implementations key rows by). */
  readonly name: string;
  /** `jdbc:sqlite:` URL of the catalog database. */
  readonly uri: string;
  /** `file://` warehouse root. */
  readonly warehouse: string;
}

/**
 * Maps the packaged program's Iceberg tables from the Glue catalog to the local one: per `connector = 'iceberg'` table, exactly
 * the construct's Glue catalog options (`glueCatalogOptions()`: catalog-name, catalog-impl, io-impl, warehouse) are replaced and
 * `uri` is added. Database, table, upsert mode and everything else stay as synthesized; each edit is returned as a note.
 */
export function mapIcebergCatalogForLocal(sql: string, local: LocalCatalog): { sql: string; notes: SqlMappingNote[] } {
  const glue = glueCatalogOptions();
  const target: Record<string, string> = {
    'catalog-name': local.name, 'catalog-impl': 'org.apache.iceberg.jdbc.JdbcCatalog', 'io-impl': 'org.apache.iceberg.hadoop.HadoopFileIO', 'warehouse': local.warehouse,
  };
  const tables = analyzeFlinkSql(sql).tables.filter(t => t.connector === 'iceberg');
  if (tables.length === 0) throw new Error('mapIcebergCatalogForLocal: the program has no iceberg table');
  const notes: SqlMappingNote[] = [];
  for (const t of tables) {
    for (const [key, value] of Object.entries(glue)) {
      if (t.options[key] !== value) throw new Error(`mapIcebergCatalogForLocal: ${t.name} has ${key} = ${t.options[key]}, not the Glue catalog's ${value}`);
      notes.push({ table: t.name, property: key, from: value, to: target[key], rule: 'Glue catalog to local JDBC catalog' });
    }
    notes.push({ table: t.name, property: 'uri', from: undefined, to: local.uri, rule: 'Glue catalog to local JDBC catalog' });
  }
  let out = sql;
  for (const [key, value] of Object.entries(glue)) {
    const item = `${sqlString(key)} = ${sqlString(value)}`;
    const count = out.split(item).length - 1;
    if (count !== tables.length) throw new Error(`mapIcebergCatalogForLocal: ${item} written ${count} times for ${tables.length} iceberg tables`);
    out = out.split(item).join(`${sqlString(key)} = ${sqlString(target[key])}`);
  }
  out = appendTableOptions(out, analyzeFlinkSql(out).tables.filter(t => t.connector === 'iceberg').map(table => ({ table, options: { uri: local.uri } })));
  return { sql: out, notes };
}

/**
 * The Flink configuration Managed Flink applies from the application's FlinkApplicationConfiguration (checkpointing, parallelism),
 * as local settings. DEFAULT checkpointing is the service's 60 s interval and 5 s minimum pause.
 */
export function serviceSettings(template: Template, application?: string): Record<string, string> {
  const app = flinkApplication(template, application).application;
  const flink = app.Properties.ApplicationConfiguration.FlinkApplicationConfiguration ?? {};
  const cp = flink.CheckpointConfiguration ?? {};
  const custom = cp.ConfigurationType === 'CUSTOM';
  const settings: Record<string, string> = { 'parallelism.default': String(flink.ParallelismConfiguration?.Parallelism ?? 1) };
  if (!custom || cp.CheckpointingEnabled !== false) {
    settings['execution.checkpointing.interval'] = `${custom ? cp.CheckpointInterval ?? 60_000 : 60_000} ms`;
    settings['execution.checkpointing.min-pause'] = `${custom ? cp.MinPauseBetweenCheckpoints ?? 5000 : 5000} ms`;
  }
  return settings;
}

/**
 * Starts the package's own runner program (main.py's functions, through local_writer.py) as a local job with the service's
 * settings, the package's own JARs only (`pipeline.jars`), and `systemClasspath` on the JVM's own classpath (PyFlink's gateway
 * reads HADOOP_CLASSPATH; only the local JDBC driver goes there, never Hadoop); small heap, one slot, logs in the package folder.
 */
export function startWriter(python: string, dir: string, settings: Record<string, string>, systemClasspath: string[] = []): RunningApplication {
  return spawnLocalJob(python, [engineAsset('warehouse', 'local_writer.py'), dir], dir, {
    FLINK_LOCAL_SETTINGS: JSON.stringify(settings),
    HADOOP_CLASSPATH: systemClasspath.join(path.delimiter),
  }, '640m');
}
