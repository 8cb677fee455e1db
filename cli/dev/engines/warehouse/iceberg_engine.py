"""A local stand-in for Glue + Athena over real Iceberg tables: PyIceberg (SQL catalog on sqlite, files in a temp dir)
writes the tables the warehouse construct declares and applies changes (upsert by key, deletes), and DuckDB runs the
query tool's SQL over the exact snapshot the SQL pins with FOR VERSION AS OF. The Flink writer commits to the same
catalog (Iceberg's JdbcCatalog on the same sqlite file). One JSON request on stdin, one JSON answer on stdout.

Snapshots are read merge-on-read by `read_snapshot` (the Iceberg v2 spec's delete rules) rather than PyIceberg's scan:
PyIceberg (0.10 to 0.12) refuses equality deletes, and the Flink writer in upsert mode writes one for every upserted and
deleted key."""
import json
import re
import sys

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
from pyiceberg.catalog.sql import SqlCatalog
from pyiceberg.expressions import And, EqualTo
from pyiceberg.io.pyarrow import schema_to_pyarrow
from pyiceberg.manifest import DataFileContent
from pyiceberg.partitioning import PartitionField, PartitionSpec
from pyiceberg.schema import Schema
from pyiceberg.transforms import DayTransform, HourTransform, IdentityTransform, MonthTransform, YearTransform
from pyiceberg.types import BooleanType, DoubleType, LongType, NestedField, StringType, TimestamptzType

TYPES = {'long': LongType(), 'string': StringType(), 'double': DoubleType(), 'boolean': BooleanType(), 'timestamptz': TimestamptzType()}
TRANSFORMS = {'day': DayTransform(), 'month': MonthTransform(), 'year': YearTransform(), 'hour': HourTransform(), 'identity': IdentityTransform()}
ARROW = {'long': pa.int64(), 'string': pa.string(), 'double': pa.float64(), 'boolean': pa.bool_(), 'timestamptz': pa.timestamp('us', tz='UTC')}


def catalog(directory):
    return SqlCatalog('local', uri=f'sqlite:///{directory}/catalog.db', warehouse=f'file://{directory}')


def create(req):
    cat = catalog(req['dir'])
    cat.create_namespace_if_not_exists(req['database'])
    for shape in req['tables']:
        schema = Schema(*[NestedField(c['id'], c['name'], TYPES[c['type']], required=c['required']) for c in shape['columns']],
                        identifier_field_ids=shape['identifierFieldIds'])
        p = shape.get('partition')
        spec = PartitionSpec(PartitionField(p['sourceId'], 1000, TRANSFORMS[p['transform']], p['name'])) if p else PartitionSpec()
        cat.create_table(f"{req['database']}.{shape['name']}", schema=schema, partition_spec=spec, properties=shape['properties'])
    return {'ok': True}


def arrow_rows(table, rows):
    fields = [(f.name, ARROW[str(f.field_type)], not f.required) for f in table.schema().fields]
    cols = {}
    for name, typ, _ in fields:
        values = [r.get(name) for r in rows]
        if str(typ).startswith('timestamp'):
            values = [None if v is None else pa.scalar(v, type=pa.timestamp('ms', tz='UTC')).cast(typ).as_py() for v in values]
        cols[name] = pa.array(values, type=typ)
    return pa.table(cols, schema=pa.schema([pa.field(n, t, nullable=nl) for n, t, nl in fields]))


def apply(req):
    """One commit: upserts (by the identifier fields) and deletes, as the Flink writer's checkpoint commits them."""
    table = catalog(req['dir']).load_table(f"{req['database']}.{req['table']}")
    key = [table.schema().find_field(i).name for i in table.schema().identifier_field_ids]
    upserts = [c['row'] for c in req['changes'] if c['op'] != 'd']
    deletes = [c['row'] for c in req['changes'] if c['op'] == 'd']
    with table.transaction() as tx:
        for row in deletes:
            exprs = [EqualTo(k, row[k]) for k in key]
            tx.delete(exprs[0] if len(exprs) == 1 else And(*exprs))
    if upserts:
        table = catalog(req['dir']).load_table(f"{req['database']}.{req['table']}")
        table.upsert(arrow_rows(table, upserts), join_cols=key)
    table = catalog(req['dir']).load_table(f"{req['database']}.{req['table']}")
    snap = table.current_snapshot()
    return {'snapshotId': str(snap.snapshot_id), 'committedAtMs': snap.timestamp_ms}


def snapshot(req):
    table = catalog(req['dir']).load_table(f"{req['database']}.{req['table']}")
    snap = table.current_snapshot()
    return None if snap is None else {'snapshotId': str(snap.snapshot_id), 'committedAtMs': snap.timestamp_ms}


def read_snapshot(table, snapshot_id):
    """The table's rows at a snapshot, merge-on-read as the Iceberg v2 spec defines it (what Athena does): a position
    delete applies to data files of the same or a lower data sequence number, an equality delete to data files of a
    strictly lower one in the same partition (or every partition when the delete file's spec is unpartitioned)."""
    io = table.io
    schema = table.schema()
    target = pa.schema([pa.field(f.name, t, nullable=True) for f, t in zip(schema.fields, schema_to_pyarrow(schema, include_field_ids=False).types)])
    data, positions, equalities = [], [], []
    for manifest in table.snapshot_by_id(snapshot_id).manifests(io):
        for entry in manifest.fetch_manifest_entry(io, discard_deleted=True):
            f = entry.data_file
            bucket = {DataFileContent.DATA: data, DataFileContent.POSITION_DELETES: positions}.get(f.content, equalities)
            bucket.append((entry.sequence_number, f))
    specs = table.specs()
    cache = {}

    def read(path):
        if path not in cache:
            with io.new_input(path).open() as stream:
                cache[path] = pq.read_table(stream)
        return cache[path]

    def same_partition(data_file, delete_file):
        if specs[delete_file.spec_id].is_unpartitioned():
            return True
        return delete_file.spec_id == data_file.spec_id and repr(delete_file.partition) == repr(data_file.partition)

    pieces = []
    for seq, f in data:
        rows = read(f.file_path)
        rows = pa.table([rows.column(n) if n in rows.column_names else pa.nulls(rows.num_rows) for n in target.names], names=target.names).cast(target)
        deleted = set()
        for dseq, d in positions:
            if dseq >= seq:
                pd = read(d.file_path)
                deleted.update(pos for path, pos in zip(pd.column('file_path').to_pylist(), pd.column('pos').to_pylist()) if path == f.file_path)
        if deleted:
            rows = rows.filter(pa.array([i not in deleted for i in range(rows.num_rows)]))
        for dseq, d in equalities:
            if dseq > seq and same_partition(f, d):
                keys = [schema.find_field(i).name for i in d.equality_ids]
                eq = read(d.file_path).select(keys).cast(pa.schema([target.field(k) for k in keys]))
                rows = rows.join(eq.group_by(keys).aggregate([]), keys=keys, join_type='left anti')
        pieces.append(rows.select(target.names))
    return pa.concat_tables(pieces) if pieces else target.empty_table()


PINNED = re.compile(r'"awsdatacatalog"\s*\.\s*"([a-z0-9_]+)"\s*\.\s*"([a-z0-9_]+)"\s+FOR\s+VERSION\s+AS\s+OF\s+(\d+)', re.I)


def query(req):
    """Runs the SQL as Athena would: `?` replaced by the execution parameters (SQL literals), each pinned table read at its snapshot."""
    cat = catalog(req['dir'])
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.execute('CREATE MACRO from_iso8601_timestamp(s) AS CAST(s AS TIMESTAMPTZ)')
    sql = req['sql']
    views = {}

    def pin(m):
        db, name, snap = m.group(1), m.group(2), int(m.group(3))
        view = f'{name}__{snap}'
        if view not in views:
            data = read_snapshot(cat.load_table(f'{db}.{name}'), snap)
            con.register(view, data)
            views[view] = True
        return f'"{view}"'

    sql = PINNED.sub(pin, sql)
    params = list(req.get('parameters', []))
    # The template holds no string literal containing '?', so each '?' is a parameter position.
    out, i = [], 0
    for ch in sql:
        if ch == '?':
            out.append(params[i])
            i += 1
        else:
            out.append(ch)
    cur = con.execute(''.join(out))
    columns = [{'name': d[0], 'type': str(d[1]).lower()} for d in cur.description]
    rows = cur.fetchall()
    def text(v):
        if v is None:
            return None
        if hasattr(v, 'isoformat'):
            return v.isoformat()
        return str(v).lower() if isinstance(v, bool) else str(v)
    return {'columns': columns, 'rows': [[text(v) for v in r] for r in rows]}


if __name__ == '__main__':
    request = json.load(sys.stdin)
    handler = {'create': create, 'apply': apply, 'snapshot': snapshot, 'query': query}[request['action']]
    json.dump(handler(request), sys.stdout)
