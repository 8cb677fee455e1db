// The warehouse views on `dev --engines`: a local Iceberg catalog (sqlite JDBC catalog, files in a temp dir) with the tables the
// Glue tables declare, the synthesized Iceberg writer job per warehouse view on Flink 1.20 (PyFlink mini-cluster, only the Kafka
// IAM and Glue catalog options mapped), and the `<view>_query` tool reading the local table (PyIceberg/DuckDB).
import * as fs from 'fs';
import * as path from 'path';
import type { ViewConfig } from '../../../../contract/view-config';
import { stopInOrder, type StopStep } from '../../stop-in-order';
import type { EngineContext, EngineExtension, StartedExtension } from '../extensions';
import { assertStarted, cachedMavenGet, type RunningApplication, unpackForLocalBroker } from '../flink';
import { startLocalWarehouse, type LocalWarehouse } from './engine';
import { deployedWarehouse, mapIcebergCatalogForLocal, pyflink120Python, serviceSettings, sqliteJdbcJar, startWriter, writerTemplate } from './writer';

export interface WarehouseExtensionOptions {
  /**
   * Run each warehouse view's Iceberg writer job (PyFlink 1.20, about 90 s to start on 2 cores and another JVM). Without it the
   * tables exist but stay empty: `<view>_query` answers, with no rows and no snapshot.
   * @default true
   */
  readonly writer?: boolean;
}

/** The extension `dev --engines` runs by default (ENGINE_EXTENSIONS). */
export function warehouseExtension(options: WarehouseExtensionOptions = {}): EngineExtension {
  const writer = options.writer ?? true;
  return {
    name: writer
      ? 'warehouse: local Iceberg catalog and the Iceberg writer job (PyFlink 1.20 mini-cluster; first run: pip install apache-flink 1.20)'
      : 'warehouse: local Iceberg catalog (writer job off: --no-warehouse-writer)',
    start: context => startWarehouse(context, writer),
  };
}

async function startWarehouse(context: EngineContext, writer: boolean): Promise<StartedExtension> {
  const { database, views } = deployedWarehouse(context.template);
  const steps: StopStep[] = [];
  // Drained by the first stop: a second call has nothing left to undo.
  const stop = () => stopInOrder(steps.splice(0), { log: line => context.log(`  ${line}`) });
  try {
    // The Python environments first: the slow part of a first run, before anything needs stopping.
    const python = writer ? pyflink120Python() : undefined;
    const jdbc = writer ? await sqliteJdbcJar() : undefined;
    const wh: LocalWarehouse = startLocalWarehouse(views, database);
    steps.push({ what: `local Iceberg catalog ${wh.dir}`, run: () => wh.close() });
    context.log(`  Iceberg tables ${views.flatMap(v => [v.warehouse!.table, ...(v.warehouse!.historyTable ? [v.warehouse!.historyTable] : [])]).join(', ')} in ${wh.dir}`);
    if (writer) {
      for (const view of views) {
        await startViewWriter(context, view, wh, python!, jdbc!, steps);
      }
    }
    return { views, mcpDeps: { warehouse: wh.reader }, stop };
  } catch (e) {
    await stop().catch(() => undefined);
    throw e;
  }
}

async function startViewWriter(context: EngineContext, view: ViewConfig, wh: LocalWarehouse, python: string, jdbc: string,
  steps: StopStep[]): Promise<void> {
  const template = writerTemplate(context.template, view);
  const kafka = await unpackForLocalBroker(template, context.pipeline.kafka.bootstrapServers, { get: cachedMavenGet });
  const dir = kafka.dir;
  steps.push({ what: `${view.name} writer package dir`, run: () => fs.rmSync(dir, { recursive: true, force: true }) });
  const jobSql = path.join(dir, 'job.sql');
  const catalog = mapIcebergCatalogForLocal(kafka.sql, wh.catalog);
  fs.writeFileSync(jobSql, catalog.sql);
  const settings = serviceSettings(template);
  // The JDBC driver goes on the JVM classpath (DriverManager only hands a driver to callers whose loader sees it); Hadoop does not:
  // the package carries it, with Flink's HadoopUtils relocated as on Managed Flink.
  const job: RunningApplication = startWriter(python, dir, settings, [jdbc]);
  steps.push({ what: `${view.name} writer job`, run: () => job.stop() });
  await assertStarted(job, `the ${view.name} writer job`);
  context.log(`  ${view.name} writer: commits every ${settings['execution.checkpointing.interval'] ?? '(no checkpointing)'} (the application's checkpoint interval)`);
}
