// Column-level checks of a Flink SQL program at synth: names resolved against the declared tables, INSERT arity and types.
// Conservative by design: whatever cannot be known here (a UDF's table, a format's schema) is trusted, never guessed.
import type { ParseNode } from './flink-parser';
import {
  ColumnContext, ColumnRuleIds, first, isLiteralText, listOf, NILADIC, OutColumn, partsOf, partsOfList, Relation, rulesOf, Scope, Source,
  suggestion, unquoteIdentifier, WINDOW_COLUMNS,
} from './flink-column-scope';

export type { ColumnContext, ColumnProblem, ColumnRuleIds, FlinkColumnSchema, OutColumn } from './flink-column-scope';
export { COLUMN_RULE_NAMES, unquoteIdentifier } from './flink-column-scope';

/**
 * Analyzes a query (a `queryStatement` node): reports unknown column references and returns its output columns.
 * `outer` holds the scopes of enclosing queries (correlated subqueries); `ctes` the WITH names visible here.
 */
export function analyzeQuery(node: ParseNode, ctx: ColumnContext, outer: Scope[] = [], ctes = new Map<string, Relation>()): Relation {
  const R = ctx.R;
  if (node.ruleIndex === R.selectStatement) return analyzeSelect(node, ctx, outer, ctes);
  let localCtes = ctes;
  let result: Relation | undefined;
  for (const child of rulesOf(node)) {
    if (child.ruleIndex === R.withClause) {
      localCtes = new Map(ctes);
      for (const item of rulesOf(child).filter(c => c.ruleIndex === R.withItem)) {
        const nameNode = first(item, R.withItemName);
        const query = first(item, R.queryStatement);
        if (nameNode && query) localCtes.set(unquoteIdentifier(ctx.text(nameNode)), analyzeQuery(query, ctx, outer, localCtes));
      }
    } else if (child.ruleIndex === R.queryStatement || child.ruleIndex === R.selectStatement) {
      const r = analyzeQuery(child, ctx, outer, localCtes);
      // Set operations (UNION, INTERSECT, EXCEPT) are named and typed by their first branch.
      result ??= r;
    } else if (child.ruleIndex === R.valuesClause) {
      result ??= {};
    }
  }
  return result ?? {};
}

function analyzeSelect(node: ParseNode, ctx: ColumnContext, outer: Scope[], ctes: Map<string, Relation>): Relation {
  const R = ctx.R;
  const from = first(node, R.fromClause);
  const sources: Source[] = [];
  const deferred: ParseNode[] = [];
  if (from) collectSources(from, ctx, outer, ctes, sources, deferred);
  const selectClause = first(node, R.selectClause);
  const items = selectClause ? findItems(selectClause, R) : [];
  const aliases = new Set<string>();
  for (const item of items) {
    const alias = aliasOf(item, ctx);
    if (alias) aliases.add(alias);
  }
  const scope: Scope = { sources, aliases };
  const scopes = [scope, ...outer];
  // References in the FROM clause (join conditions, FOR SYSTEM_TIME AS OF, lateral calls) see every table of the clause.
  for (const d of deferred) checkReferences(d, ctx, scopes, ctes, false);
  for (const child of rulesOf(node)) {
    if (child.ruleIndex === R.fromClause) continue;
    const aliasesAllowed = child.ruleIndex === R.groupByClause || child.ruleIndex === R.havingClause || child.ruleIndex === R.orderByClause;
    checkReferences(child, ctx, scopes, ctes, aliasesAllowed);
  }
  // Output columns.
  const out: OutColumn[] = [];
  const rowtimeSources = new Map<OutColumn, string>();
  for (const item of items) {
    const all = first(item, R.tableAllColumns);
    if (all) {
      const qualifier = ctx.text(all).replace(/\.?\s*\*\s*$/, '').trim();
      const picked = qualifier ? sources.filter(s => s.alias === unquoteIdentifier(qualifier)) : sources;
      if (picked.length === 0 || picked.some(s => !s.columns)) return {};
      out.push(...picked.flatMap(s => s.columns!));
      continue;
    }
    const alias = aliasOf(item, ctx);
    const literal = first(item, R.selectLiteralColumnName);
    const ref = literal ? first(literal, R.columnName) : undefined;
    const refParts = ref && !isLiteralText(ctx.text(ref)) ? partsOf(ref, ctx) : undefined;
    const resolved = refParts ? resolveIn(refParts, scope) : undefined;
    const type = refParts ? resolve(refParts, scopes)?.type : inferType(item, ctx, scopes);
    out.push({ name: alias ?? (refParts ? refParts[refParts.length - 1] : undefined), type, node: item, rowtime: resolved?.column.rowtime });
    if (resolved?.column.rowtime) rowtimeSources.set(out[out.length - 1], `${resolved.source.alias}.${resolved.column.name}`);
  }
  // An interval join keeps both sides' rowtime attributes; it is one when its conditions compare the rowtime columns it passes through.
  let joinedRowtimes: OutColumn[] | undefined;
  const fromDifferentSources = new Set([...rowtimeSources.values()].map(k => k.split('.')[0]));
  if (!first(node, R.groupByClause) && fromDifferentSources.size >= 2) {
    const conditionRefs = new Set<string>();
    const collect = (n: ParseNode) => {
      if (n.ruleIndex === R.queryStatement) return;
      if (n.ruleIndex === R.columnNamePath) {
        const hit = resolveIn(partsOf(n, ctx), scope);
        if (hit) conditionRefs.add(`${hit.source.alias}.${hit.column.name}`);
        return;
      }
      for (const c of rulesOf(n)) collect(c);
    };
    for (const d of deferred) collect(d);
    for (const clause of rulesOf(node)) if (clause.ruleIndex !== R.selectClause && clause.ruleIndex !== R.fromClause) collect(clause);
    const joined = [...rowtimeSources.entries()].filter(([, key]) => conditionRefs.has(key)).map(([c]) => c);
    if (new Set(joined.map(c => rowtimeSources.get(c)!.split('.')[0])).size >= 2) joinedRowtimes = joined;
  }
  return { columns: out, joinedRowtimes };
}

/** The source and column a reference names in one scope. */
function resolveIn(parts: string[], scope: Scope): { source: Source; column: OutColumn } | undefined {
  if (parts.length >= 2) {
    const source = scope.sources.find(s => s.alias === parts[0]);
    const column = source?.columns?.find(c => c.name === parts[1]);
    if (source && column) return { source, column };
  }
  for (const source of scope.sources) {
    const column = source.columns?.find(c => c.name === parts[0]);
    if (column) return { source, column };
  }
  return undefined;
}

function findItems(selectClause: ParseNode, R: ColumnRuleIds): ParseNode[] {
  const list = first(selectClause, R.selectList);
  return list ? rulesOf(list).filter(c => c.ruleIndex === R.columnProjectItem) : [];
}

function aliasOf(item: ParseNode, ctx: ColumnContext): string | undefined {
  const R = ctx.R;
  const alias = first(item, R.columnAlias);
  if (alias) {
    const id = first(alias, R.identifier);
    return id ? unquoteIdentifier(ctx.text(id)) : undefined;
  }
  const windowItem = first(item, R.selectWindowItemColumnName);
  const over = windowItem ? first(windowItem, R.overWindowItem) : undefined;
  if (over) {
    const kids = rulesOf(over);
    const last = kids[kids.length - 1];
    if (last?.ruleIndex === R.identifier) return unquoteIdentifier(ctx.text(last));
  }
  return undefined;
}

function collectSources(node: ParseNode, ctx: ColumnContext, outer: Scope[], ctes: Map<string, Relation>, sources: Source[], deferred: ParseNode[]): void {
  const R = ctx.R;
  for (const child of rulesOf(node)) {
    if (child.ruleIndex === R.tableReference) {
      const source = sourceOf(child, ctx, outer, ctes, deferred);
      if (source) sources.push(source);
    } else if (child.ruleIndex === R.windowTVFClause) {
      sources.push(windowSource(child, ctx, ctes, undefined));
    } else if (child.ruleIndex === R.tableExpression || child.ruleIndex === R.fromClause) {
      collectSources(child, ctx, outer, ctes, sources, deferred);
    } else {
      deferred.push(child);
    }
  }
}

function sourceOf(ref: ParseNode, ctx: ColumnContext, outer: Scope[], ctes: Map<string, Relation>, deferred: ParseNode[]): Source | undefined {
  const R = ctx.R;
  const primary = first(ref, R.tablePrimary);
  const aliasNode = first(ref, R.tableAlias);
  const aliasId = aliasNode ? first(aliasNode, R.identifier) : undefined;
  const alias = aliasId ? unquoteIdentifier(ctx.text(aliasId)) : undefined;
  const renamed = aliasNode ? first(aliasNode, R.identifierList) : undefined;
  let source: Source | undefined;
  if (primary) {
    const path = first(primary, R.tablePath);
    const subquery = first(primary, R.atomExpressionTable);
    const tvf = first(primary, R.windowTVFClause);
    for (const c of rulesOf(primary)) if (c !== path && c !== subquery && c !== tvf) deferred.push(c);
    if (path) {
      const name = ctx.tableName(path);
      const cte = ctes.get(name);
      const columns = cte ? cte.columns : ctx.table(name);
      source = { alias: alias ?? name.split('.').pop()!, columns };
    } else if (subquery) {
      const query = first(subquery, R.queryStatement);
      source = { alias: alias ?? '', columns: query ? analyzeQuery(query, ctx, outer, ctes).columns : undefined };
    } else if (tvf) {
      source = windowSource(tvf, ctx, ctes, alias);
    } else {
      source = { alias: alias ?? '' };
    }
  }
  if (!source) return undefined;
  if (renamed) {
    const names = partsOfList(renamed, ctx);
    return { alias: source.alias, columns: names.map((n, i) => ({ name: n, type: source!.columns?.[i]?.type })) };
  }
  return source;
}

/** `TABLE(TUMBLE(TABLE t, DESCRIPTOR(ts), ...))`: the input table's columns plus window_start, window_end, window_time. */
function windowSource(tvf: ParseNode, ctx: ColumnContext, ctes: Map<string, Relation>, alias: string | undefined): Source {
  const R = ctx.R;
  let input: OutColumn[] | undefined;
  const params: ParseNode[] = [];
  const walk = (n: ParseNode) => {
    if (n.ruleIndex === R.windowTVFParam) params.push(n);
    else for (const c of rulesOf(n)) walk(c);
  };
  walk(tvf);
  let inputName = '';
  for (const p of params) {
    const t = first(p, R.timeAttrColumn);
    if (t) {
      inputName = ctx.tableName(t);
      input = ctes.get(inputName)?.columns ?? ctx.table(inputName);
    }
  }
  const columns = input ? [...input, ...WINDOW_COLUMNS] : undefined;
  // DESCRIPTOR(col) names a column of the input table.
  for (const p of params) {
    const d = first(p, R.columnDescriptor);
    const col = d ? first(d, R.columnName) : undefined;
    if (col && input) checkOne(col, partsOf(col, ctx), [{ sources: [{ alias: inputName, columns: input }], aliases: new Set() }], ctx, false);
  }
  return { alias: alias ?? '', columns };
}

/** Checks every column reference under `node`, except in nested queries (checked with this scope as their outer scope). */
function checkReferences(node: ParseNode, ctx: ColumnContext, scopes: Scope[], ctes: Map<string, Relation>, aliasesAllowed: boolean): void {
  const R = ctx.R;
  if (node.ruleIndex === R.queryStatement) {
    analyzeQuery(node, ctx, scopes, ctes);
    return;
  }
  if (node.ruleIndex === R.columnNamePath || node.ruleIndex === R.columnName) {
    const text = ctx.text(node);
    if (!isLiteralText(text) && text.trim() !== '') checkOne(node, partsOf(node, ctx), scopes, ctx, aliasesAllowed);
    return;
  }
  if (node.ruleIndex === R.tableAllColumns) {
    const qualifier = ctx.text(node).replace(/\.?\s*\*\s*$/, '').trim();
    if (qualifier && !scopes[0].sources.some(s => s.alias === unquoteIdentifier(qualifier))) {
      ctx.report({ node, message: `'${qualifier}.*': no table in the FROM clause is named or aliased '${unquoteIdentifier(qualifier)}'${suggestion(unquoteIdentifier(qualifier), scopes[0].sources.map(s => s.alias).filter(Boolean))}` });
    }
    return;
  }
  for (const c of rulesOf(node)) checkReferences(c, ctx, scopes, ctes, aliasesAllowed);
}

function resolve(parts: string[], scopes: Scope[]): OutColumn | undefined {
  for (const scope of scopes) {
    if (parts.length >= 2) {
      const source = scope.sources.find(s => s.alias === parts[0]);
      if (source) return source.columns?.find(c => c.name === parts[1]);
    }
    for (const s of scope.sources) {
      const c = s.columns?.find(col => col.name === parts[0]);
      if (c) return c;
    }
  }
  return undefined;
}

function checkOne(node: ParseNode, parts: string[], scopes: Scope[], ctx: ColumnContext, aliasesAllowed: boolean): void {
  const name = parts.join('.');
  if (parts.length === 1 && NILADIC.has(parts[0].toUpperCase())) return;
  for (const scope of scopes) {
    if (parts.length >= 2) {
      const source = scope.sources.find(s => s.alias === parts[0]);
      if (source) {
        if (!source.columns || source.columns.some(c => c.name === parts[1])) return;
        ctx.report({
          node,
          message: `column '${parts[1]}' is not a column of '${parts[0]}'${suggestion(parts[1], source.columns.map(c => c.name!).filter(Boolean))}; its columns: ${listOf(source.columns)}`,
        });
        return;
      }
    }
    // Unqualified (or a ROW column's field: `col.field`).
    if (scope.sources.some(s => !s.columns || s.columns.some(c => c.name === parts[0]))) return;
    if (aliasesAllowed && scope === scopes[0] && scope.aliases.has(parts[0])) return;
  }
  const local = scopes[0];
  if (parts.length >= 2) {
    const aliases = local.sources.map(s => s.alias).filter(Boolean);
    const hint = suggestion(parts[0], aliases);
    ctx.report({
      node,
      message: `'${name}': no table in the FROM clause is named or aliased '${parts[0]}'${hint || (aliases.length > 0 ? `; tables: ${aliases.join(', ')}` : '')}`,
    });
    return;
  }
  const candidates = local.sources.flatMap(s => (s.columns ?? []).map(c => c.name!)).filter(Boolean);
  const tables = local.sources.map(s => s.alias).filter(Boolean);
  ctx.report({
    node,
    message: local.sources.length === 0
      ? `column '${name}' is not known here: the query has no FROM clause`
      : `column '${name}' is not a column of ${tables.length === 1 ? `'${tables[0]}'` : `any table of the FROM clause (${tables.join(', ')})`}${suggestion(name, candidates)}`,
  });
}

/** The type of a select item where it is evident: a column, a CAST, COUNT (literals are left to Flink's literal typing). */
function inferType(item: ParseNode, ctx: ColumnContext, scopes: Scope[]): string | undefined {
  const R = ctx.R;
  const expr = first(item, R.selectExpressionColumnName);
  if (!expr) return undefined;
  const e = first(expr, R.expression);
  if (!e) return undefined;
  // Unwrap expression -> booleanExpression -> valueExpression -> primaryExpression when each has one rule child.
  let n: ParseNode | undefined = e;
  while (n && n.ruleIndex !== R.primaryExpression) {
    const kids = rulesOf(n);
    if (kids.length !== 1 || (n.children ?? []).length !== 1) return undefined;
    n = kids[0];
  }
  if (!n) return undefined;
  const text = ctx.text(n).trim();
  const kids = rulesOf(n);
  if (/^CAST\s*\(/i.test(text) || /^TRY_CAST\s*\(/i.test(text)) {
    const type = kids.find(k => k.ruleIndex === R.columnType);
    return type ? ctx.text(type) : undefined;
  }
  const path = kids.find(k => k.ruleIndex === R.columnNamePath);
  if (path) return resolve(partsOf(path, ctx), scopes)?.type;
  if (/^COUNT\s*\(/i.test(text)) return 'BIGINT';
  return undefined;
}

/** The type family Flink's implicit casts stay within on INSERT; undefined for types not compared here. */
export function typeFamily(type: string | undefined): string | undefined {
  if (!type) return undefined;
  const t = type.trim().toUpperCase().replace(/\s+NOT\s+NULL$/, '');
  if (/^(TINYINT|SMALLINT|INT|INTEGER|BIGINT|DECIMAL|DEC|NUMERIC|FLOAT|DOUBLE|REAL)\b/.test(t)) return 'numeric';
  if (/^(CHAR|VARCHAR|STRING|CHARACTER)\b/.test(t)) return 'character string';
  if (/^BOOLEAN\b/.test(t)) return 'boolean';
  if (/^(BINARY|VARBINARY|BYTES)\b/.test(t)) return 'binary';
  if (/^DATE$/.test(t)) return 'date';
  if (/^TIME\b(?!STAMP)/.test(t)) return 'time';
  if (/^(TIMESTAMP|TIMESTAMP_LTZ)\b/.test(t)) return 'timestamp';
  return undefined;
}

/** Output columns of an INSERT's source (`VALUES` rows or a query). */
export function insertSource(insert: ParseNode, ctx: ColumnContext): Relation & { rows?: Array<{ node: ParseNode; arity: number }> } {
  const R = ctx.R;
  const values = first(insert, R.valuesDefinition);
  if (values) {
    return { rows: rulesOf(values).filter(r => r.ruleIndex === R.valuesRowDefinition).map(r => ({ node: r, arity: rulesOf(r).length })) };
  }
  const query = first(insert, R.queryStatement);
  return query ? analyzeQuery(query, ctx) : {};
}
