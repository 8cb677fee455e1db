// The SQL side of a FlinkSqlApplication, without constructs: reading and validating the program, Kafka options, consumer groups and lineage.
import * as fs from 'fs';
import * as path from 'path';
import { Duration, Token } from 'aws-cdk-lib';
import {
  FLINK_STARTER_DEADLINE_SECONDS, FLINK_STARTER_METRIC_GRACE_SECONDS, FLINK_STARTER_PROVIDER_TIMEOUT_SECONDS,
} from '../../../contract/flink-starter';
import { PACKAGE_ROOT } from '../../common/agent-function';
import type { ArtifactSource } from '../../common/deploy-time-artifact';
import {
  analyzeFlinkSql, appendTableOptions, DEFAULT_FLINK_CONNECTORS, FlinkSqlAnalysis, FlinkTableDeclaration, knownTableOf,
  formatFlinkSqlProblems, FlinkSqlError,
} from '../flink-sql';
import { DeliveryGuarantee, FlinkJar } from '../flink-runtime';
import {
  BOOTSTRAP_SERVERS_VARIABLE, CDC_EVENTS_DUPLICATE, FlinkLineageTable, FlinkSqlApplicationProps, FlinkSqlLineage,
} from '../flink-sql-application-props';

/** `startTimeout` and `soakPeriod` when the props give none. */
export const DEFAULT_START_TIMEOUT = Duration.minutes(20);
export const DEFAULT_SOAK_PERIOD = Duration.minutes(3);

/** A stable, ASCII consumer group id (also the transactional id prefix) for one table of one application. */
export function consumerGroupId(applicationName: string, table: string): string {
  return `flink.${applicationName}.${table}`.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 200);
}

/** The deploy-time artifact sources of one dependency: the file itself, or every part of a merged JAR. */
export function packageSources(jar: FlinkJar): ArtifactSource[] {
  const targetPath = `lib/${jar.props.fileName}`;
  if (!jar.props.parts) return [{ url: jar.props.url, sha256: jar.props.sha256, checksumUrl: jar.props.checksumUrl, targetPath }];
  return jar.props.parts.map(p => ({
    url: p.url, sha256: p.sha256, checksumUrl: p.checksumUrl, extract: 'merge-jar' as const, targetPath,
    ...(p.classes ? { classes: p.classes } : {}),
    ...(p.relocations ? { relocations: p.relocations } : {}),
  }));
}

export function runnerPath(): string {
  return path.join(PACKAGE_ROOT, 'lambda', 'flink-sql-runner', 'main.py');
}

export function optionOf(table: FlinkTableDeclaration, key: string): string | undefined {
  const k = Object.keys(table.options).find(o => o.toLowerCase() === key);
  return k === undefined ? undefined : table.options[k];
}

export function topicsOf(table: FlinkTableDeclaration): string[] {
  const topic = optionOf(table, 'topic');
  return topic ? topic.split(';').map(t => t.trim()).filter(t => t.length > 0) : [];
}

export function throwOnProblems(sql: string, analysis: FlinkSqlAnalysis, label: string): void {
  if (analysis.problems.length > 0) throw new FlinkSqlError(formatFlinkSqlProblems(sql, analysis.problems, label), analysis.problems);
}

export function readSql(label: string, props: FlinkSqlApplicationProps): string {
  if ((props.sql === undefined) === (props.sqlFile === undefined)) {
    throw new Error(`${label}: give exactly one of sql (the program text) or sqlFile (a .sql path); got ${props.sql === undefined ? 'neither' : 'both'}.`);
  }
  if (props.sql !== undefined) {
    if (Token.isUnresolved(props.sql)) throw new Error(`${label}: sql contains a token; the program must be known at synth to be validated. Pass deploy-time values through table options instead.`);
    return props.sql;
  }
  const file = props.sqlFile!;
  if (!file.endsWith('.sql')) throw new Error(`${label}: sqlFile is '${file}'; give a path ending in .sql.`);
  if (!fs.existsSync(file)) throw new Error(`${label}: sqlFile '${file}' does not exist (resolved to ${path.resolve(file)}).`);
  return fs.readFileSync(file, 'utf8');
}

export function validateProps(label: string, props: FlinkSqlApplicationProps): void {
  const positive = (name: string, v: number | undefined) => {
    if (v !== undefined && !Token.isUnresolved(v) && (!Number.isInteger(v) || v < 1)) {
      throw new Error(`${label}: ${name} is ${v}; give a whole number of at least 1.`);
    }
  };
  positive('parallelism', props.parallelism);
  positive('parallelismPerKpu', props.parallelismPerKpu);
  if (props.applicationName !== undefined && !Token.isUnresolved(props.applicationName) && !/^[A-Za-z0-9_.-]{1,128}$/.test(props.applicationName)) {
    throw new Error(`${label}: applicationName is '${props.applicationName}'; use 1-128 characters from [A-Za-z0-9_.-].`);
  }
  if (props.applicationName !== undefined && Token.isUnresolved(props.applicationName)) {
    throw new Error(`${label}: applicationName is a token; give a literal name (consumer group ids are derived from it and must be stable).`);
  }
  if (props.checkpointInterval && props.checkpointInterval.toMilliseconds() < 1000) {
    throw new Error(`${label}: checkpointInterval is ${props.checkpointInterval.toMilliseconds()} ms; give at least 1 second.`);
  }
  if (props.startTimeout && (props.startTimeout.toSeconds() < 60 || props.startTimeout.toSeconds() > 1500)) {
    throw new Error(`${label}: startTimeout is ${props.startTimeout.toSeconds()} s; give between 1 and 25 minutes (the custom resource provider stops waiting at 30).`);
  }
  const soak = props.soakPeriod?.toSeconds() ?? DEFAULT_SOAK_PERIOD.toSeconds();
  if (soak > 900) throw new Error(`${label}: soakPeriod is ${soak} s; give at most 15 minutes (Duration.seconds(0) turns the soak off).`);
  // With a soak the starter's longest wait is startTimeout + soak + the grace for the restart metric; it must end before
  // the provider's limit, or the deploy fails with the provider's generic timeout instead of the starter's own error.
  const start = props.startTimeout?.toSeconds() ?? DEFAULT_START_TIMEOUT.toSeconds();
  const longest = start + (soak > 0 ? soak + FLINK_STARTER_METRIC_GRACE_SECONDS : 0);
  if (longest > FLINK_STARTER_DEADLINE_SECONDS) {
    throw new Error(`${label}: startTimeout (${start} s) + soakPeriod (${soak} s) + the ${FLINK_STARTER_METRIC_GRACE_SECONDS} s the starter then waits for the `
      + `restart metric is ${longest} s, past the ${FLINK_STARTER_DEADLINE_SECONDS} s within which the starter must fail with its own error (the custom `
      + `resource provider stops at ${FLINK_STARTER_PROVIDER_TIMEOUT_SECONDS / 60} minutes with a generic timeout). Give startTimeout at most `
      + `${FLINK_STARTER_DEADLINE_SECONDS - soak - FLINK_STARTER_METRIC_GRACE_SECONDS} s, or a shorter soakPeriod (Duration.seconds(0) turns the soak off).`);
  }
  if (!props.dependencies && props.runtime && !props.runtime.kafkaIamBundle) {
    throw new Error(`${label}: runtime ${props.runtime.name} has no pinned Kafka/IAM bundle and dependencies is not set; give dependencies (for example [FlinkJar.mergeFromMavenCentral('${'pyflink-dependencies.jar'}', pins)]) or FlinkRuntime.of(name, version, pins).`);
  }
  for (const [name, value] of Object.entries(props.sqlVariables ?? {})) {
    // The runner doubles quotes, so a ' is safe; a backslash is not: in a '...' string both splitters read it as an escape.
    // Token values are checked by the runner at start.
    if (!Token.isUnresolved(value) && value.includes('\\')) {
      throw new Error(`${label}: sqlVariables '${name}' is '${value}'; a value with a backslash cannot be substituted into a '...' string (the runner's statement splitter reads a backslash there as an escape, so the program would split differently). Give the value without backslashes.`);
    }
  }
  if (props.dependencies && props.dependencies.length === 0) {
    throw new Error(`${label}: dependencies is empty; the runner needs at least the Kafka SQL connector JAR (or omit the prop for the defaults).`);
  }
  const names = (props.tables ?? []).map(t => t.name.toLowerCase());
  const dup = names.find((n, i) => names.indexOf(n) !== i);
  if (dup) throw new Error(`${label}: tables declares '${dup}' twice; give each helper table a distinct name.`);
}

/** The program as packaged, with what the construct wires from it. */
export interface CompiledFlinkProgram {
  /** The program with Kafka (MSK IAM), consumer-group and delivery options added to its tables. */
  readonly packagedSql: string;
  /** Tables of the packaged program. */
  readonly tables: FlinkTableDeclaration[];
  /** Kafka and upsert-kafka tables of the program. */
  readonly kafkaTables: FlinkTableDeclaration[];
  /** Lower-cased names of the tables the program writes. */
  readonly sinkTables: ReadonlySet<string>;
  /** Consumer group of each Kafka table the program reads. */
  readonly consumerGroups: Record<string, string>;
  readonly lineage: FlinkSqlLineage[];
}

/**
 * Validates the user's SQL (errors positioned in the user's own text), prepends the helper tables, adds the Kafka
 * options each table needs and validates the result again.
 */
export function compileFlinkProgram(
  label: string, props: FlinkSqlApplicationProps, userSql: string, applicationName: string, guarantee: DeliveryGuarantee,
): CompiledFlinkProgram {
  const helperTables = props.tables ?? [];
  const connectors = [...DEFAULT_FLINK_CONNECTORS, ...(props.connectors ?? [])];

  // 1. The user's SQL, with errors positioned in the user's own text.
  const userAnalysis = analyzeFlinkSql(userSql, { knownTables: helperTables.map(t => knownTableOf(t.ddl)), connectors });
  const sqlLabel = `${label} (${props.sqlFile ?? 'sql'})`;
  throwOnProblems(userSql, userAnalysis, sqlLabel);

  // 2. The whole program (helper tables first), for options and the package.
  // Debezium on Kafka Connect delivers changes at least once; with this flag Flink de-duplicates them by primary key.
  const cdcSettings = helperTables.some(t => t.kind === 'cdc-source') && !/table\.exec\.source\.cdc-events-duplicate/i.test(userSql)
    ? [`SET '${CDC_EVENTS_DUPLICATE}' = 'true';`]
    : [];
  const program = [...cdcSettings, ...helperTables.map(t => t.ddl), userSql].join('\n');
  const programAnalysis = analyzeFlinkSql(program, { connectors });
  throwOnProblems(program, programAnalysis, `${label} (generated program; report this as a bug)`);
  const kafkaTables = programAnalysis.tables.filter(t => t.connector === 'kafka' || t.connector === 'upsert-kafka');
  const missingTopic = kafkaTables.filter(t => !optionOf(t, 'topic') && !optionOf(t, 'topic-pattern'));
  if (missingTopic.length > 0) {
    throw new Error(`${label}: table(s) ${missingTopic.map(t => `'${t.name}'`).join(', ')} use a Kafka connector without a 'topic' option; add 'topic' = '<name>' to their WITH clause.`);
  }
  const sources = new Set(userAnalysis.lineage.flatMap(l => l.sources.map(s => s.toLowerCase())));
  const sinkTables = new Set(userAnalysis.lineage.map(l => l.sink.toLowerCase()));
  const consumerGroups: Record<string, string> = {};
  const additions = kafkaTables.map(t => {
    const options: Record<string, string> = {
      'properties.bootstrap.servers': `\${${BOOTSTRAP_SERVERS_VARIABLE}}`,
      'properties.security.protocol': 'SASL_SSL',
      'properties.sasl.mechanism': 'AWS_MSK_IAM',
      'properties.sasl.jaas.config': 'software.amazon.msk.auth.iam.IAMLoginModule required;',
      'properties.sasl.client.callback.handler.class': 'software.amazon.msk.auth.iam.IAMClientCallbackHandler',
    };
    if (sources.has(t.name.toLowerCase())) {
      const group = optionOf(t, 'properties.group.id') ?? consumerGroupId(applicationName, t.name);
      consumerGroups[t.name] = group;
      options['properties.group.id'] = group;
      // Only used when the group has no committed offset and the table says 'group-offsets'.
      options['properties.auto.offset.reset'] = 'earliest';
    }
    if (sinkTables.has(t.name.toLowerCase())) {
      options['sink.delivery-guarantee'] = guarantee.value;
      if (guarantee === DeliveryGuarantee.EXACTLY_ONCE) options['sink.transactional-id-prefix'] = consumerGroupId(applicationName, t.name);
    }
    return { table: t, options };
  });
  const packagedSql = appendTableOptions(program, additions);
  const finalAnalysis = analyzeFlinkSql(packagedSql, { connectors });
  throwOnProblems(packagedSql, finalAnalysis, `${label} (packaged program; report this as a bug)`);
  const tables = finalAnalysis.tables;

  const byName = new Map(tables.map(t => [t.name.toLowerCase(), t]));
  const lineageTable = (name: string): FlinkLineageTable => {
    const t = byName.get(name.toLowerCase());
    return { table: name, connector: t?.connector, topics: t ? topicsOf(t) : [] };
  };
  const lineage = userAnalysis.lineage.map(l => ({
    id: `${applicationName}#${l.statement - 1}`,
    statement: l.statement,
    statementIndex: l.statement - 1,
    sink: lineageTable(l.sink),
    sources: l.sources.map(lineageTable),
  }));
  return { packagedSql, tables, kafkaTables, sinkTables, consumerGroups, lineage };
}
