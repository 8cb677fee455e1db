// Lexical work on Flink SQL text: statement splitting (quotes, comments, statement sets), positions and table-name normalization.
import type { FlinkSqlStatement } from '../flink-sql-types';

/**
 * Splits a SQL text on the semicolons that end statements: not those inside '...' strings,
 * `...` or "..." identifiers, -- line comments or /* block comments *\/, nor those inside an
 * `EXECUTE STATEMENT SET BEGIN ... END` block. Statements holding only comments are dropped.
 */
export function splitFlinkSql(sql: string): FlinkSqlStatement[] {
  const lineStarts = computeLineStarts(sql);
  const statements: FlinkSqlStatement[] = [];
  let start = -1;
  let words: string[] = [];
  let word = '';
  let i = 0;
  const flushWord = () => {
    if (word) {
      words.push(word.toUpperCase());
      word = '';
    }
  };
  const push = (end: number) => {
    if (start >= 0) {
      const text = sql.slice(start, end).replace(/\s+$/, '');
      const pos = positionOf(lineStarts, start);
      statements.push({ index: statements.length + 1, text, offset: start, line: pos.line, column: pos.column, kind: 'other' });
    }
    start = -1;
    words = [];
    word = '';
  };
  while (i < sql.length) {
    const c = sql[i];
    const next = sql[i + 1];
    if (c === '-' && next === '-') {
      flushWord();
      const nl = sql.indexOf('\n', i);
      i = nl < 0 ? sql.length : nl + 1;
      continue;
    }
    if (c === '/' && next === '*') {
      flushWord();
      const close = sql.indexOf('*/', i + 2);
      i = close < 0 ? sql.length : close + 2;
      continue;
    }
    if (c === "'" || c === '`' || c === '"') {
      flushWord();
      if (start < 0) start = i;
      i = skipQuoted(sql, i, c);
      continue;
    }
    if (c === ';') {
      flushWord();
      const inSetBlock = isStatementSetBlock(words) && words[words.length - 1] !== 'END';
      if (!inSetBlock) {
        push(i);
        i++;
        continue;
      }
      i++;
      continue;
    }
    if (/\s/.test(c)) {
      flushWord();
      i++;
      continue;
    }
    if (start < 0) start = i;
    if (/[A-Za-z0-9_]/.test(c)) word += c;
    else flushWord();
    i++;
  }
  flushWord();
  push(sql.length);
  return statements;
}

function isStatementSetBlock(words: string[]): boolean {
  const head = words.slice(0, 4).join(' ');
  return head === 'EXECUTE STATEMENT SET BEGIN' || head.startsWith('STATEMENT SET BEGIN');
}

/** Index after the closing quote (a doubled quote is an escaped quote); end of text when unterminated. */
function skipQuoted(sql: string, i: number, quote: string): number {
  let j = i + 1;
  while (j < sql.length) {
    if (sql[j] === quote) {
      if (sql[j + 1] === quote) {
        j += 2;
        continue;
      }
      return j + 1;
    }
    if (quote === "'" && sql[j] === '\\' && j + 1 < sql.length) {
      // Flink string literals accept backslash escapes in some contexts; never split inside them.
      j += 2;
      continue;
    }
    j++;
  }
  return sql.length;
}

/** The words of a statement outside quotes, comments and parentheses, upper-cased, with their offsets. */
function topLevelWords(text: string): Array<{ word: string; offset: number }> {
  const words: Array<{ word: string; offset: number }> = [];
  let depth = 0;
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (c === '-' && text[i + 1] === '-') {
      const nl = text.indexOf('\n', i);
      i = nl < 0 ? text.length : nl + 1;
    } else if (c === '/' && text[i + 1] === '*') {
      const close = text.indexOf('*/', i + 2);
      i = close < 0 ? text.length : close + 2;
    } else if (c === "'" || c === '`' || c === '"') {
      i = skipQuoted(text, i, c);
    } else if (/[A-Za-z0-9_]/.test(c)) {
      const start = i;
      while (i < text.length && /[A-Za-z0-9_]/.test(text[i])) i++;
      if (depth === 0) words.push({ word: text.slice(start, i).toUpperCase(), offset: start });
    } else {
      if (c === '(') depth++;
      else if (c === ')') depth = Math.max(0, depth - 1);
      i++;
    }
  }
  return words;
}

/**
 * The offset of TEMPORARY in `CREATE [OR REPLACE] TEMPORARY TABLE ... AS <query>`, which Flink refuses ("CREATE TABLE AS
 * SELECT syntax does not support to create temporary table yet"), or undefined for any other statement.
 */
export function temporaryTableAsOffset(text: string): number | undefined {
  const words = topLevelWords(text);
  let k = words[0]?.word === 'CREATE' ? 1 : 0;
  if (k === 0) return undefined;
  if (words[k]?.word === 'OR' && words[k + 1]?.word === 'REPLACE') k += 2;
  if (words[k]?.word !== 'TEMPORARY' || words[k + 1]?.word !== 'TABLE') return undefined;
  return words.slice(k + 2).some(w => w.word === 'AS') ? words[k].offset : undefined;
}

export function computeLineStarts(text: string): number[] {
  const starts = [0];
  for (let i = 0; i < text.length; i++) if (text[i] === '\n') starts.push(i + 1);
  return starts;
}

export function positionOf(lineStarts: number[], offset: number): { line: number; column: number } {
  let lo = 0;
  let hi = lineStarts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (lineStarts[mid] <= offset) lo = mid;
    else hi = mid - 1;
  }
  return { line: lo + 1, column: offset - lineStarts[lo] + 1 };
}

// ---------------------------------------------------------------------------------------------
// Analysis
// ---------------------------------------------------------------------------------------------

/** Normalizes a table path: backticks removed, `default_catalog.default_database.` dropped. */
export function normalizeTableName(path: string): string {
  const parts: string[] = [];
  let current = '';
  let quoted = false;
  for (let i = 0; i < path.length; i++) {
    const c = path[i];
    if (c === '`') {
      if (quoted && path[i + 1] === '`') {
        current += '`';
        i++;
      } else {
        quoted = !quoted;
      }
    } else if (c === '.' && !quoted) {
      parts.push(current);
      current = '';
    } else if (quoted || !/\s/.test(c)) {
      current += c;
    }
  }
  parts.push(current);
  if (parts.length === 3 && parts[0] === 'default_catalog') parts.shift();
  if (parts.length === 2 && parts[0] === 'default_database') parts.shift();
  return parts.join('.');
}

interface LexicalScan {
  /** An open quote or comment that never closes. */
  unterminated?: { offset: number; what: string; quote: string; close: string };
  /** Offset of a `)` with no open `(`. */
  unmatchedClose?: number;
  /** Offset of the innermost `(` still open at the end of the statement. */
  unclosedOpen?: number;
}

/** Finds unterminated strings, quoted identifiers and comments, and unbalanced parentheses, outside strings and comments. */
export function scanLexical(text: string): LexicalScan {
  const open: number[] = [];
  let unmatchedClose: number | undefined;
  const QUOTES: Record<string, string> = { "'": 'string literal', '`': 'quoted identifier', '"': 'quoted identifier' };
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '-' && text[i + 1] === '-') {
      const nl = text.indexOf('\n', i);
      if (nl < 0) break;
      i = nl;
    } else if (c === '/' && text[i + 1] === '*') {
      const close = text.indexOf('*/', i + 2);
      if (close < 0) return { unterminated: { offset: i, what: 'comment', quote: '/*', close: '*/' } };
      i = close + 1;
    } else if (QUOTES[c]) {
      const end = skipQuoted(text, i, c);
      if (end >= text.length && !closesAt(text, i, c)) return { unterminated: { offset: i, what: QUOTES[c], quote: c, close: c } };
      i = end - 1;
    } else if (c === '(') {
      open.push(i);
    } else if (c === ')') {
      if (open.length === 0) unmatchedClose ??= i;
      else open.pop();
    }
  }
  return { unmatchedClose, unclosedOpen: open.length > 0 ? open[open.length - 1] : undefined };
}

/** Whether the quoted text opened at `i` is closed by the last character of `text`. */
function closesAt(text: string, i: number, quote: string): boolean {
  let j = i + 1;
  while (j < text.length) {
    if (text[j] === quote) {
      if (text[j + 1] === quote) {
        j += 2;
        continue;
      }
      return true;
    }
    if (quote === "'" && text[j] === '\\' && j + 1 < text.length) {
      j += 2;
      continue;
    }
    j++;
  }
  return false;
}
