"""PyFlink SQL runner for Managed Service for Apache Flink: runs a Flink SQL program (DDL, then every INSERT and CREATE TABLE AS in one statement set).

The program comes from the `sql.runner` runtime property group: `statements` (inline SQL) when set, else the
file named by `file` (default `job.sql`, relative to this script). `${name}` placeholders are replaced by the
keys of the `sql.variables` group (bootstrap servers and other deploy-time values), escaped for the quotes they
stand in (see `substitute`), so the packaged SQL file is the same in every environment. `jars` lists further JARs (relative paths, `;`-separated) added to
`pipeline.jars`; the first JAR is named by `jarfile` in `kinesis.analytics.flink.run.options`, which the service
puts on the classpath. Run locally (`IS_LOCAL` set, as AWS's PyFlink samples do), the runner adds `jarfile` to
`pipeline.jars` itself.
"""
import json
import os
import re
import sys

PROPERTIES_FILE = "/etc/flink/application_properties.json"
RUNNER_GROUP = "sql.runner"
RUN_OPTIONS_GROUP = "kinesis.analytics.flink.run.options"
VARIABLES_GROUP = "sql.variables"


def load_properties(path=None):
    """Runtime properties as {group id: {key: value}}; empty when the file does not exist (local runs)."""
    path = path or os.environ.get("FLINK_APPLICATION_PROPERTIES", PROPERTIES_FILE)
    if not os.path.exists(path):
        return {}
    with open(path, "r", encoding="utf-8") as f:
        groups = json.load(f)
    return {g["PropertyGroupId"]: dict(g.get("PropertyMap") or {}) for g in groups}


def _skip_quoted(sql, i, quote):
    j = i + 1
    while j < len(sql):
        if sql[j] == quote:
            if j + 1 < len(sql) and sql[j + 1] == quote:
                j += 2
                continue
            return j + 1
        if quote == "'" and sql[j] == "\\" and j + 1 < len(sql):
            j += 2
            continue
        j += 1
    return len(sql)


def _skip_comment_or_quoted(sql, i):
    """The index after the -- or /* */ comment, or the '...', `...` or "..." text, that starts at i; None when none does."""
    c = sql[i]
    nxt = sql[i + 1] if i + 1 < len(sql) else ""
    if c == "-" and nxt == "-":
        nl = sql.find("\n", i)
        return len(sql) if nl < 0 else nl + 1
    if c == "/" and nxt == "*":
        close = sql.find("*/", i + 2)
        return len(sql) if close < 0 else close + 2
    if c in ("'", "`", '"'):
        return _skip_quoted(sql, i, c)
    return None


def split_statements(sql):
    """Splits on statement-ending semicolons: not in '...', `...`, "...", -- or /* */ comments, nor inside
    EXECUTE STATEMENT SET BEGIN ... END. Comment-only statements are dropped. Same rules as the synth-time splitter."""
    statements = []
    start = -1
    words = []
    word = ""
    i = 0
    n = len(sql)

    def block_open():
        head = " ".join(words[:4])
        return (head == "EXECUTE STATEMENT SET BEGIN" or head.startswith("STATEMENT SET BEGIN")) and (not words or words[-1] != "END")

    while i < n:
        c = sql[i]
        end = _skip_comment_or_quoted(sql, i)
        if end is not None:
            if word:
                words.append(word.upper()); word = ""
            # Quoted text starts a statement; a comment does not.
            if start < 0 and c in ("'", "`", '"'):
                start = i
            i = end
            continue
        if c == ";":
            if word:
                words.append(word.upper()); word = ""
            if not block_open():
                if start >= 0:
                    statements.append(sql[start:i].rstrip())
                start = -1
                words = []
            i += 1
            continue
        if c.isspace():
            if word:
                words.append(word.upper()); word = ""
            i += 1
            continue
        if start < 0:
            start = i
        if c.isalnum() or c == "_":
            word += c
        elif word:
            words.append(word.upper()); word = ""
        i += 1
    if start >= 0 and sql[start:].strip():
        statements.append(sql[start:].rstrip())
    return statements


_SET_RE = re.compile(r"^\s*SET\s+'((?:[^']|'')*)'\s*=\s*'((?:[^']|'')*)'\s*$", re.IGNORECASE | re.DOTALL)
_SET_BLOCK_RE = re.compile(r"^\s*(?:EXECUTE\s+)?STATEMENT\s+SET\s+BEGIN\s+(.*)\bEND\s*$", re.IGNORECASE | re.DOTALL)


def top_level_words(statement):
    """The statement's words outside quotes, comments and parentheses, upper-cased, in order."""
    words = []
    word = ""
    depth = 0
    i = 0
    n = len(statement)
    while i < n:
        c = statement[i]
        boundary = not (c.isalnum() or c == "_")
        if boundary and word:
            if depth == 0:
                words.append(word.upper())
            word = ""
        end = _skip_comment_or_quoted(statement, i)
        if end is not None:
            i = end
        else:
            if c == "(":
                depth += 1
            elif c == ")":
                depth = max(0, depth - 1)
            elif not boundary:
                word += c
            i += 1
    if word and depth == 0:
        words.append(word.upper())
    return words


def _creates_table_as(words):
    """CREATE [OR REPLACE] [TEMPORARY] TABLE ... AS <query> (CTAS/RTAS): the AS outside the column list and options."""
    rest = words[1:] if words[:1] == ["CREATE"] else words if words[:1] == ["REPLACE"] else None
    if rest is None:
        return False
    if rest[:2] == ["OR", "REPLACE"]:
        rest = rest[2:]
    elif rest[:1] == ["REPLACE"]:
        rest = rest[1:]
    if rest[:1] == ["TEMPORARY"]:
        rest = rest[1:]
    return rest[:1] == ["TABLE"] and "AS" in rest[2:]


def classify(statement):
    """'set', 'insert', 'statement-set' or 'ddl' (everything else runs with execute_sql before the INSERTs).

    'insert' is every statement that writes: INSERT INTO/OVERWRITE, EXECUTE INSERT and CREATE TABLE ... AS SELECT.
    They all go into the one statement set (Flink's StatementSet.addInsertSql takes the last two as well), since
    execute_sql would submit each as a job of its own.
    """
    words = top_level_words(statement)
    if words[:1] == ["SET"] and _SET_RE.match(statement):
        return "set"
    if words[:1] == ["INSERT"] or words[:2] == ["EXECUTE", "INSERT"] or _creates_table_as(words):
        return "insert"
    if _SET_BLOCK_RE.match(statement):
        return "statement-set"
    return "ddl"


_PLACEHOLDER_RE = re.compile(r"\$\{([A-Za-z0-9_.\-]+)\}")


def _fill(quoted, quote, variables):
    """The quoted text (quotes included) with its placeholders replaced, each value's quote character doubled."""
    def repl(m):
        name = m.group(1)
        if name not in variables:
            return m.group(0)
        value = variables[name]
        if quote == "'" and "\\" in value:
            raise ValueError("sql.variables '%s' holds a backslash and stands in a '...' string; the statement splitter reads "
                             "a backslash there as an escape, so the program would split differently. Give the value "
                             "without backslashes" % name)
        return value.replace(quote, quote * 2)
    return _PLACEHOLDER_RE.sub(repl, quoted)


def _refuse_unquoted(code, variables):
    for m in _PLACEHOLDER_RE.finditer(code):
        if m.group(1) in variables:
            raise ValueError("sql.variables '%s' is used outside quotes, where its value would be SQL text; put the "
                             "placeholder inside a '...' string (a table option value) or a `...` identifier" % m.group(1))


def substitute(sql, variables):
    """Replaces ${name} for each name in variables, escaped for the quotes it stands in: inside '...' a ' is doubled
    (Flink's escape), inside `...` or "..." that quote is doubled, so a value is always the text of that one literal or
    identifier and can neither end it nor add SQL. Placeholders in comments, and ${...} text naming no variable, are
    left as written. Raises ValueError naming the variable for a placeholder outside quotes, and for a value with a
    backslash inside '...' (the splitter's escape). Quotes and comments are found as split_statements finds them."""
    if not variables:
        return sql
    out = []
    code_start = 0
    i = 0
    n = len(sql)
    while i < n:
        c = sql[i]
        end = _skip_comment_or_quoted(sql, i)
        if end is None:
            i += 1
            continue
        _refuse_unquoted(sql[code_start:i], variables)
        out.append(sql[code_start:i])
        out.append(_fill(sql[i:end], c, variables) if c in ("'", "`", '"') else sql[i:end])
        i = code_start = end
    _refuse_unquoted(sql[code_start:], variables)
    out.append(sql[code_start:])
    return "".join(out)


def read_program(properties, base_dir):
    runner = properties.get(RUNNER_GROUP, {})
    if runner.get("statements"):
        sql = runner["statements"]
    else:
        path = runner.get("file", "job.sql")
        if not os.path.isabs(path):
            path = os.path.join(base_dir, path)
        with open(path, "r", encoding="utf-8") as f:
            sql = f.read()
    return substitute(sql, properties.get(VARIABLES_GROUP, {}))


def plan(sql):
    """Orders a program for execution: SET options, DDL in order, then every INSERT, EXECUTE INSERT and CREATE TABLE AS
    (statement-set blocks flattened)."""
    settings, ddl, inserts = [], [], []
    for statement in split_statements(sql):
        kind = classify(statement)
        if kind == "set":
            m = _SET_RE.match(statement)
            settings.append((m.group(1).replace("''", "'"), m.group(2).replace("''", "'")))
        elif kind == "insert":
            inserts.append(statement)
        elif kind == "statement-set":
            inner = _SET_BLOCK_RE.match(statement).group(1)
            inserts.extend(s for s in split_statements(inner) if classify(s) == "insert")
        else:
            ddl.append(statement)
    if not inserts:
        raise ValueError("the SQL program has no INSERT INTO statement (nor CREATE TABLE AS); nothing would run")
    return settings, ddl, inserts


def pipeline_jars(properties, base_dir, local):
    """file:// URIs for `pipeline.jars`: the runner's `jars`, preceded locally by the `jarfile` the service would load."""
    jars = [j.strip() for j in properties.get(RUNNER_GROUP, {}).get("jars", "").split(";") if j.strip()]
    jarfile = properties.get(RUN_OPTIONS_GROUP, {}).get("jarfile", "").strip()
    if local and jarfile:
        jars = [jarfile] + jars
    return ["file://" + (j if os.path.isabs(j) else os.path.join(base_dir, j)) for j in jars]


def statement_set_for(settings, ddl, inserts, jar_uris=(), extra_settings=()):
    """A streaming table environment with the program's settings and DDL applied, and one statement set of its INSERTs."""
    from pyflink.table import EnvironmentSettings, TableEnvironment
    table_env = TableEnvironment.create(EnvironmentSettings.in_streaming_mode())
    config = table_env.get_config()
    if jar_uris:
        config.set("pipeline.jars", ";".join(jar_uris))
    for key, value in list(extra_settings) + list(settings):
        config.set(key, value)
    for statement in ddl:
        table_env.execute_sql(statement)
    statement_set = table_env.create_statement_set()
    for statement in inserts:
        statement_set.add_insert_sql(statement)
    return statement_set


def main(argv=None):
    base_dir = os.path.dirname(os.path.realpath(__file__))
    properties = load_properties()
    settings, ddl, inserts = plan(read_program(properties, base_dir))

    uris = pipeline_jars(properties, base_dir, bool(os.environ.get("IS_LOCAL")))
    statement_set = statement_set_for(settings, ddl, inserts, uris)
    result = statement_set.execute()
    if os.environ.get("IS_LOCAL"):
        # On Managed Service for Apache Flink the job keeps running after main returns; locally, wait for it.
        result.wait()
    print("flink-sql-runner: submitted %d INSERT statement(s) after %d DDL statement(s)" % (len(inserts), len(ddl)), file=sys.stderr)


if __name__ == "__main__":
    main(sys.argv[1:])
