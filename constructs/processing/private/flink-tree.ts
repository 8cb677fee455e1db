// Facts read from one statement's parse tree: what it declares, inserts and reads, table schemas and column checks of INSERTs.
import type { FlinkSqlStatement, FlinkStatementKind, FlinkTableDeclaration } from '../flink-sql-types';
import {
  ColumnContext, ColumnRuleIds, COLUMN_RULE_NAMES, FlinkColumnSchema, insertSource, typeFamily, unquoteIdentifier,
} from './flink-columns';
import type { ParseNode, TokenLike } from './flink-parser';
import { normalizeTableName } from './flink-split';

export interface StatementFacts {
  kind: FlinkStatementKind;
  /** CREATE TABLE / CTAS / CREATE VIEW name. */
  declares?: { name: string; node: ParseNode };
  table?: Omit<FlinkTableDeclaration, 'statement'>;
  /** INSERT targets (several in a statement set), with the reads of each and the INSERT (or CTAS) node. */
  inserts: Array<{ target: string; node: ParseNode; reads: Array<{ name: string; node: ParseNode }>; statement?: ParseNode }>;
  /** The query of a view or CTAS, and a view's column list. */
  query?: ParseNode;
  viewColumns?: string[];
  /** The column a CREATE TABLE's WATERMARK is declared for. */
  watermark?: ParseNode;
  /** Reads of a view definition or a LIKE clause. */
  reads: Array<{ name: string; node: ParseNode }>;
}

/**
 * INSERT INTO checks against the sink's declared columns: an explicit column list names written columns, the query gives
 * as many columns as are written (by position, as Flink matches them), and where both types are known they are in a
 * family Flink casts between implicitly.
 */
export function checkInsertColumns(target: string, targetNode: ParseNode, insert: ParseNode, schema: FlinkColumnSchema[] | undefined, ctx: ColumnContext): void {
  const source = insertSource(insert, ctx);
  if (!schema) return;
  const writable = schema.filter(c => c.kind === 'physical' || c.kind === 'metadata');
  const list = rulesOf(insert).find(c => c.ruleIndex === ctx.R.columnNameList);
  let expected = writable;
  if (list) {
    expected = [];
    for (const n of findAll(list, ctx.R.columnName)) {
      const name = unquoteIdentifier(ctx.text(n));
      const col = schema.find(c => c.name === name);
      if (!col || col.kind === 'computed' || col.kind === 'virtual') {
        ctx.report({
          node: n,
          message: col
            ? `INSERT INTO '${target}' (${name}): '${name}' is a ${col.kind === 'computed' ? 'computed' : 'virtual metadata'} column and cannot be written`
            : `INSERT INTO '${target}' (${name}): '${target}' has no column '${name}'; its columns: ${writable.map(c => c.name).join(', ')}`,
        });
        return;
      }
      expected.push(col);
    }
  }
  const describe = `${expected.length} column${expected.length === 1 ? '' : 's'} (${expected.map(c => c.name).join(', ')})`;
  for (const row of source.rows ?? []) {
    if (row.arity !== expected.length) {
      ctx.report({ node: row.node, message: `INSERT INTO '${target}': this VALUES row has ${row.arity} value${row.arity === 1 ? '' : 's'}, but ${list ? 'the column list names' : 'the table has'} ${describe}` });
    }
  }
  const columns = source.columns;
  if (!columns) return;
  if (source.joinedRowtimes && source.joinedRowtimes.length >= 2) {
    const names = source.joinedRowtimes.map(c => c.name ?? '?');
    ctx.report({
      node: source.joinedRowtimes[1].node ?? targetNode,
      message: `INSERT INTO '${target}': the query writes ${names.length} rowtime attributes of an interval join (${names.join(', ')}); `
        + `Flink writes at most one into a table: CAST the others to TIMESTAMP(3) (for example CAST(${names[1]} AS TIMESTAMP(3)))`,
    });
  }
  if (columns.length !== expected.length) {
    ctx.report({
      node: columns[0]?.node ?? targetNode,
      message: `INSERT INTO '${target}': the query gives ${columns.length} column${columns.length === 1 ? '' : 's'}, but ${list ? 'the column list names' : 'the table has'} ${describe}; `
        + 'columns are written by position, so select one expression per column, in order',
    });
    return;
  }
  columns.forEach((c, i) => {
    const sink = expected[i];
    const from = typeFamily(c.type);
    const to = typeFamily(sink.type);
    if (from && to && from !== to) {
      ctx.report({
        node: c.node ?? targetNode,
        message: `INSERT INTO '${target}': query column ${i + 1}${c.name ? ` '${c.name}'` : ''} is ${c.type} (${from}), but sink column '${sink.name}' is ${sink.type} (${to}); `
          + `Flink does not cast ${from} to ${to} implicitly: CAST it, or fix the order of the select list`,
      });
    }
  });
}

interface RuleIds extends ColumnRuleIds {
  columnOptionDefinition: number; metadataColumnDefinition: number; computedColumnDefinition: number; watermarkDefinition: number;
  simpleCreateTable: number; createTableAsSelect: number; createView: number; createFunction: number;
  insertSimpleStatement: number; insertMulStatement: number; queryStatement: number; setStatement: number;
  explainStatement: number; showStatement: number; describeStatement: number;
  tablePath: number; tablePathCreate: number; viewPathCreate: number; withItemName: number; tablePrimary: number;
  windowTVFParam: number; tableProperty: number; tablePropertyKey: number; tablePropertyValue: number;
  tablePropertyList: number; tableConstraint: number; columnNameList: number; columnName: number; columnNameCreate: number;
  likeDefinition: number; uid: number; columnConstraint: number; physicalColumnDefinition: number;
}

export function ruleIds(P: Record<string, unknown>): RuleIds {
  const names: string[] = [
    'simpleCreateTable', 'createTableAsSelect', 'createView', 'createFunction', 'insertSimpleStatement', 'insertMulStatement',
    'queryStatement', 'setStatement', 'explainStatement', 'showStatement', 'describeStatement', 'tablePath', 'tablePathCreate',
    'viewPathCreate', 'withItemName', 'tablePrimary', 'windowTVFParam', 'tableProperty', 'tablePropertyKey', 'tablePropertyValue',
    'tablePropertyList', 'tableConstraint', 'columnNameList', 'columnName', 'columnNameCreate', 'likeDefinition', 'uid',
    'columnConstraint', 'physicalColumnDefinition', 'columnOptionDefinition', 'metadataColumnDefinition', 'computedColumnDefinition',
    'watermarkDefinition',
  ];
  const ids: Record<string, number> = {};
  for (const n of [...names, ...COLUMN_RULE_NAMES]) {
    const v = P[`RULE_${n}`];
    if (typeof v !== 'number') throw new Error(`cdk-agent-data-stack: the installed dt-sql-parser has no Flink rule '${n}'; install dt-sql-parser 4.x`);
    ids[n] = v;
  }
  return ids as unknown as RuleIds;
}

function rulesOf(node: ParseNode): ParseNode[] {
  return (node.children ?? []).filter(c => c.ruleIndex !== undefined);
}

function findFirst(node: ParseNode, rules: number[]): ParseNode | undefined {
  if (node.ruleIndex !== undefined && rules.includes(node.ruleIndex)) return node;
  for (const c of rulesOf(node)) {
    const hit = findFirst(c, rules);
    if (hit) return hit;
  }
  return undefined;
}

function findAll(node: ParseNode, rule: number, out: ParseNode[] = []): ParseNode[] {
  if (node.ruleIndex === rule) out.push(node);
  for (const c of rulesOf(node)) findAll(c, rule, out);
  return out;
}

export function textOf(node: ParseNode, stmt: FlinkSqlStatement): string {
  if (node.symbol) return stmt.text.slice(node.symbol.start, node.symbol.stop + 1);
  const start = node.start?.start ?? 0;
  const stop = node.stop?.stop ?? start - 1;
  return stmt.text.slice(start, stop + 1);
}

function firstTerminal(node: ParseNode): TokenLike | undefined {
  if (node.symbol) return node.symbol;
  for (const c of node.children ?? []) {
    const t = firstTerminal(c);
    if (t) return t;
  }
  return undefined;
}

function unquoteSqlString(text: string): string {
  const t = text.trim();
  if (t.length >= 2 && t.startsWith("'") && t.endsWith("'")) return t.slice(1, -1).replace(/''/g, "'");
  if (t.length >= 2 && t.startsWith('`') && t.endsWith('`')) return t.slice(1, -1).replace(/``/g, '`');
  return t;
}

export function statementFacts(tree: ParseNode, stmt: FlinkSqlStatement, R: RuleIds): StatementFacts {
  const head = findFirst(tree, [
    R.simpleCreateTable, R.createTableAsSelect, R.createView, R.createFunction, R.insertMulStatement,
    R.insertSimpleStatement, R.setStatement, R.explainStatement, R.showStatement, R.describeStatement, R.queryStatement,
  ]);
  const facts: StatementFacts = { kind: 'other', inserts: [], reads: [] };
  if (!head) return facts;
  const name = (n: ParseNode) => normalizeTableName(textOf(n, stmt));
  const readsIn = (scope: ParseNode): Array<{ name: string; node: ParseNode }> => {
    const ctes = new Set(findAll(scope, R.withItemName).map(n => name(n).toLowerCase()));
    const reads: Array<{ name: string; node: ParseNode }> = [];
    for (const primary of findAll(scope, R.tablePrimary)) {
      const path = rulesOf(primary).find(c => c.ruleIndex === R.tablePath);
      if (path) reads.push({ name: name(path), node: path });
    }
    for (const param of findAll(scope, R.windowTVFParam)) {
      const t = firstTerminal(param);
      const uid = findFirst(param, [R.uid]);
      if (t && uid && stmt.text.slice(t.start, t.stop + 1).toUpperCase() === 'TABLE') reads.push({ name: name(uid), node: uid });
    }
    return reads.filter(r => !ctes.has(r.name.toLowerCase()));
  };
  switch (head.ruleIndex) {
    case R.simpleCreateTable:
    case R.createTableAsSelect: {
      const pathNode = findFirst(head, [R.tablePathCreate])!;
      const tableName = name(pathNode);
      facts.kind = head.ruleIndex === R.simpleCreateTable ? 'create-table' : 'create-table-as';
      facts.declares = { name: tableName, node: pathNode };
      const options: Record<string, string> = {};
      const list = findFirst(head, [R.tablePropertyList]);
      for (const prop of list ? rulesOf(list).filter(c => c.ruleIndex === R.tableProperty) : []) {
        const key = rulesOf(prop).find(c => c.ruleIndex === R.tablePropertyKey);
        const value = rulesOf(prop).find(c => c.ruleIndex === R.tablePropertyValue);
        if (key) options[unquoteSqlString(textOf(key, stmt))] = value ? unquoteSqlString(textOf(value, stmt)) : '';
      }
      const connectorKey = Object.keys(options).find(k => k.toLowerCase() === 'connector');
      const columns = findAll(head, R.columnNameCreate).map(n => unquoteSqlString(textOf(n, stmt)));
      const constraint = findFirst(head, [R.tableConstraint]);
      let primaryKey = constraint ? findAll(constraint, R.columnName).map(n => unquoteSqlString(textOf(n, stmt))) : [];
      if (primaryKey.length === 0) {
        // Column-level `id INT PRIMARY KEY NOT ENFORCED`.
        for (const col of findAll(head, R.physicalColumnDefinition)) {
          const cc = findFirst(col, [R.columnConstraint]);
          if (cc && /PRIMARY\s+KEY/i.test(textOf(cc, stmt))) {
            const cn = findFirst(col, [R.columnNameCreate]);
            if (cn) primaryKey = [unquoteSqlString(textOf(cn, stmt))];
          }
        }
      }
      const like = findFirst(head, [R.likeDefinition]);
      facts.table = {
        name: tableName,
        connector: connectorKey ? options[connectorKey].toLowerCase() : undefined,
        options,
        columns,
        schema: facts.kind === 'create-table' && !like ? tableSchema(head, stmt, R) : undefined,
        primaryKey,
        optionsCloseOffset: list?.stop ? stmt.offset + list.stop.start : undefined,
      };
      const watermark = findFirst(head, [R.watermarkDefinition]);
      facts.watermark = watermark ? rulesOf(watermark).find(c => c.ruleIndex === R.columnName) : undefined;
      if (like) {
        const base = findFirst(like, [R.tablePath]);
        if (base) facts.reads.push({ name: name(base), node: base });
      }
      if (facts.kind === 'create-table-as') {
        const query = findFirst(head, [R.queryStatement]);
        facts.query = query;
        facts.inserts.push({ target: tableName, node: pathNode, reads: query ? readsIn(query) : [] });
      }
      return facts;
    }
    case R.createView: {
      const pathNode = findFirst(head, [R.viewPathCreate])!;
      facts.kind = 'create-view';
      facts.declares = { name: name(pathNode), node: pathNode };
      facts.reads = readsIn(head);
      facts.query = findFirst(head, [R.queryStatement]);
      const list = rulesOf(head).find(c => c.ruleIndex === R.columnNameList);
      if (list) facts.viewColumns = findAll(list, R.columnName).map(n => unquoteIdentifier(textOf(n, stmt)));
      return facts;
    }
    case R.createFunction:
      facts.kind = 'create-function';
      return facts;
    case R.insertMulStatement:
    case R.insertSimpleStatement: {
      facts.kind = head.ruleIndex === R.insertMulStatement ? 'statement-set' : 'insert';
      for (const ins of findAll(head, R.insertSimpleStatement)) {
        const target = rulesOf(ins).find(c => c.ruleIndex === R.tablePath)!;
        facts.inserts.push({ target: name(target), node: target, reads: readsIn(ins), statement: ins });
      }
      return facts;
    }
    case R.setStatement:
      facts.kind = 'set';
      return facts;
    default:
      facts.kind = 'query';
      return facts;
  }
}

/** Columns of a CREATE TABLE with kind and declared type. */
function tableSchema(head: ParseNode, stmt: FlinkSqlStatement, R: RuleIds): FlinkColumnSchema[] {
  const out: FlinkColumnSchema[] = [];
  for (const def of findAll(head, R.columnOptionDefinition)) {
    const col = rulesOf(def)[0];
    if (!col) continue;
    const nameNode = findFirst(col, [R.columnNameCreate]);
    if (!nameNode) continue;
    const name = unquoteIdentifier(textOf(nameNode, stmt));
    const typeNode = rulesOf(col).find(c => c.ruleIndex === R.columnType);
    const type = typeNode ? textOf(typeNode, stmt) : undefined;
    if (col.ruleIndex === R.computedColumnDefinition) out.push({ name, kind: 'computed' });
    else if (col.ruleIndex === R.metadataColumnDefinition) out.push({ name, type, kind: /\bVIRTUAL\s*$/i.test(textOf(col, stmt)) ? 'virtual' : 'metadata' });
    else out.push({ name, type, kind: 'physical' });
  }
  const watermark = findFirst(head, [R.watermarkDefinition]);
  const rowtime = watermark ? rulesOf(watermark).find(c => c.ruleIndex === R.columnName) : undefined;
  const rowtimeName = rowtime ? unquoteIdentifier(textOf(rowtime, stmt)) : undefined;
  return out.map(c => (c.name === rowtimeName ? { ...c, rowtime: true } : c));
}

/**
 * WATERMARK FOR <column>: the column is declared, and is TIMESTAMP(p) or TIMESTAMP_LTZ(p) with p at most 3 (Flink's
 * rule; a bare TIMESTAMP is TIMESTAMP(6)). Computed columns' types are not known here and are left to Flink.
 */
export function watermarkProblem(table: FlinkTableDeclaration): { column?: string; message: string } | undefined {
  const rowtime = table.schema?.find(c => c.rowtime);
  if (!table.schema || !rowtime || !rowtime.type) return undefined;
  const m = /^(TIMESTAMP_LTZ|TIMESTAMP)\s*(?:\(\s*(\d+)\s*\))?(\s+WITHOUT\s+TIME\s+ZONE|\s+WITH\s+LOCAL\s+TIME\s+ZONE)?\s*(NOT\s+NULL)?$/i.exec(rowtime.type.trim());
  const precision = m ? Number(m[2] ?? 6) : undefined;
  if (m && precision! <= 3) return undefined;
  return {
    column: rowtime.name,
    message: m
      ? `WATERMARK FOR '${rowtime.name}' of table '${table.name}': the column is ${rowtime.type}, precision ${precision}; Flink's rowtime attribute must be TIMESTAMP(p) or TIMESTAMP_LTZ(p) with p from 0 to 3: declare it ${m[1].toUpperCase()}(3)`
      : `WATERMARK FOR '${rowtime.name}' of table '${table.name}': the column is ${rowtime.type}; Flink's rowtime attribute must be TIMESTAMP(p) or TIMESTAMP_LTZ(p) with p from 0 to 3`,
  };
}

export function unique<T>(items: T[]): T[] {
  return [...new Set(items)];
}
