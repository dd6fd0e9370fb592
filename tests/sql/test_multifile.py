"""Reads of several files whose schemas differ, compared with DuckDB: without union_by_name a
later Parquet file's columns are matched to the first file's by name (other order, extra
columns ignored, values cast to the first file's types; a missing column is an error naming
the file); union_by_name=true unions the columns of all files by name (first-seen order,
missing ones NULL, types widened) for Parquet, CSV and JSON, also under hive partitions."""
from decimal import Decimal

import pyarrow as pa
import pyarrow.feather as feather
import pyarrow.parquet as pq
import pytest

from compare import compare_tables

PARQUET = {
    "p1": {"a": pa.array([1, 7], pa.int32()), "b": ["x", "x7"]},
    "p2": {"b": ["y"], "a": pa.array([2], pa.int32())},                                  # other order
    "p3": {"a": pa.array([3], pa.int32()), "b": ["z"], "c": pa.array([5], pa.int32())},  # extra column
    "p4": {"a": pa.array([4], pa.int32())},                                              # b missing
    "p5": {"a": pa.array([5], pa.int64()), "b": ["w"]},                                  # wider type
    "p6": {"a": ["v"], "b": ["w"]},                                                      # VARCHAR a
    "p7": {"a": pa.array([1.5, 2.5]), "b": ["w", "u"]},                                  # DOUBLE a
    "p8": {"A": pa.array([8], pa.int32()), "B": ["upper"]},                              # other case
    "p9": {"a": pa.array([9], pa.date32()), "b": ["d"]},                                 # DATE a
    "d1": {"a": pa.array([1], pa.int16()), "d": pa.array([Decimal("2.5")], pa.decimal128(4, 1))},
    "d2": {"a": pa.array([2], pa.int64()), "d": pa.array([Decimal("1.125")], pa.decimal128(10, 3))},
}


@pytest.fixture
def files(tmp_path):
    for name, cols in PARQUET.items():
        t = pa.table(cols)
        pq.write_table(t, str(tmp_path / f"{name}.parquet"))
        feather.write_feather(t, str(tmp_path / f"{name}.arrow"), compression="uncompressed")
    csv = {"c1": "a,b\n1,x\n", "c2": "b,a\ny,2\n", "c3": "a,b,c\n3,z,5\n", "c4": "a\n4\n",
           "c6": "a,b\nv,w\n", "c7": "a,b\n1.5,w\n"}
    for name, text in csv.items():
        (tmp_path / f"{name}.csv").write_text(text)
    js = {"j1": '{"a": 1, "b": "x"}\n', "j2": '{"b": "y", "c": [1, 2]}\n', "j3": '{"a": 2.5}\n'}
    for name, text in js.items():
        (tmp_path / f"{name}.json").write_text(text)
    for g, name in [(1, "p1"), (2, "p3"), (3, "p4")]:
        d = tmp_path / "hive" / f"g={g}"
        d.mkdir(parents=True)
        pq.write_table(pa.table(PARQUET[name]), str(d / "f.parquet"))
    return tmp_path


def flist(tmp, names, ext):
    return "[" + ", ".join(f"'{tmp}/{n}.{ext}'" for n in names) + "]"


BY_NAME_OK = [["p1", "p2"], ["p1", "p3"], ["p4", "p1"], ["p1", "p5"], ["p5", "p1"], ["p6", "p1"],
              ["p1", "p7"], ["p7", "p1"], ["p1", "p8"], ["d1", "d2"], ["d2", "d1"], ["p1", "p1"],
              ["p1", "p2", "p3", "p5"]]
BY_NAME_ERR = [["p3", "p1"], ["p1", "p4"], ["p1", "p6"]]


def ids(lists):
    return ["_".join(x) for x in lists]


@pytest.mark.parametrize("names", BY_NAME_OK, ids=ids(BY_NAME_OK))
def test_parquet_first_schema(sql, files, names):
    sql.check(f"SELECT *, typeof(COLUMNS(*)) FROM read_parquet({flist(files, names, 'parquet')})")


@pytest.mark.parametrize("names", BY_NAME_ERR, ids=ids(BY_NAME_ERR))
def test_parquet_first_schema_error(sql, files, names):
    err = sql.error([f"SELECT * FROM read_parquet({flist(files, names, 'parquet')})"])
    if names[1] == "p6":  # a value that does not cast: the message names the value, not the file
        assert "'v'" in err, err
    else:
        assert f"{names[1]}.parquet" in err, err


def test_parquet_missing_column_message(sql, files):
    err = sql.error([f"SELECT * FROM read_parquet({flist(files, ['p1', 'p4'], 'parquet')})"],
                    "column \"b\"", "missing", "union_by_name")
    assert "p4.parquet" in err, err


UNION_OK = BY_NAME_OK + BY_NAME_ERR[:2] + [["p4", "p3", "p8"], ["p3", "p1", "p6", "p7"]]


@pytest.mark.parametrize("names", UNION_OK, ids=ids(UNION_OK))
def test_parquet_union_by_name(sql, files, names):
    sql.check(f"SELECT *, typeof(COLUMNS(*)) FROM read_parquet({flist(files, names, 'parquet')}, "
              "union_by_name=true)")


def test_parquet_union_by_name_no_common_type(sql, files):
    sql.error([f"SELECT * FROM read_parquet({flist(files, ['p1', 'p9'], 'parquet')}, union_by_name=true)"],
              "column \"a\"", "p9.parquet")


QUERIES = [
    ("filter", "SELECT b, c FROM read_parquet({l}, union_by_name=true) WHERE a > 1"),
    ("agg", "SELECT b IS NULL, count(*), sum(a) FROM read_parquet({l}, union_by_name=true) GROUP BY ALL"),
    ("count", "SELECT count(*) FROM read_parquet({l}, union_by_name=true)"),
    ("glob", "SELECT * FROM read_parquet('{t}/p[1-4].parquet', union_by_name=true)"),
    ("first_glob", "SELECT a FROM read_parquet('{t}/p[1-3].parquet') WHERE b <> 'x'"),
    ("quoted_glob", "SELECT * FROM '{t}/p[1-3].parquet'"),
    ("hive", "SELECT * FROM read_parquet('{t}/hive/*/*.parquet', union_by_name=true)"),
    ("hive_filter", "SELECT a, c, g FROM read_parquet('{t}/hive/*/*.parquet', union_by_name=true) "
                    "WHERE g >= 2"),
    ("hive_first", "SELECT * FROM read_parquet('{t}/hive/g=[12]/*.parquet')"),
]


@pytest.mark.parametrize("name,query", QUERIES, ids=[q[0] for q in QUERIES])
def test_multifile_queries(sql, files, name, query):
    sql.check(query.format(l=flist(files, ["p4", "p1", "p3"], "parquet"), t=files))


CSV_UNION = [["c1", "c2"], ["c1", "c3"], ["c3", "c1"], ["c1", "c4"], ["c4", "c1"], ["c1", "c6"],
             ["c6", "c1"], ["c1", "c7"], ["c7", "c1"]]


@pytest.mark.parametrize("names", CSV_UNION, ids=ids(CSV_UNION))
def test_csv_union_by_name(sql, files, names):
    sql.check(f"SELECT *, typeof(COLUMNS(*)) FROM read_csv({flist(files, names, 'csv')}, union_by_name=true)")


JSON_UNION = [["j1", "j2"], ["j2", "j1"], ["j1", "j3"], ["j3", "j2", "j1"]]


@pytest.mark.parametrize("names", JSON_UNION, ids=ids(JSON_UNION))
def test_json_union_by_name(sql, files, names):
    sql.check(f"SELECT *, typeof(COLUMNS(*)) FROM read_json({flist(files, names, 'json')}, union_by_name=true)")


IPC = BY_NAME_OK[:8] + [["p3", "p1"], ["p1", "p4"]]


@pytest.mark.parametrize("names", IPC, ids=ids(IPC))
@pytest.mark.parametrize("by_name", [False, True], ids=["first", "union"])
def test_ipc(sql, files, names, by_name):
    """Arrow IPC files read like the Parquet files of the same tables (DuckDB reads those)."""
    opt = ", union_by_name=true" if by_name else ""
    q = "SELECT *, typeof(COLUMNS(*)) FROM {f}({l}" + opt + ")"
    want_q = q.format(f="read_parquet", l=flist(files, names, "parquet"))
    got_q = q.format(f="read_ipc", l=flist(files, names, "arrow"))
    try:
        want = sql.duckdb([want_q])
    except Exception:
        r = sql.polaroid([got_q], fmt="csv")
        assert r.returncode == 1, r.stderr.decode()
        assert f"{names[1]}.arrow" in r.stderr.decode(), r.stderr.decode()
        return
    r = sql.polaroid([got_q])
    assert r.returncode == 0, r.stderr.decode()
    got = pa.ipc.open_stream(pa.py_buffer(r.stdout)).read_all()
    d = compare_tables(want, got, ordered=False, rtol=1e-9, atol=1e-12)
    assert d is None, f"{d}\n{want}\n{got}"


FILENAME = [
    ("parquet", "SELECT * FROM read_parquet({l}, filename=true)"),
    ("parquet_named", "SELECT * FROM read_parquet({l}, filename='src') WHERE a > 1"),
    ("parquet_union", "SELECT * FROM read_parquet({l3}, filename=true, union_by_name=true)"),
    ("parquet_glob", "SELECT filename, count(*) FROM read_parquet('{t}/p[1-3].parquet', filename=true) GROUP BY ALL"),
    ("parquet_hive", "SELECT * FROM read_parquet('{t}/hive/*/*.parquet', filename=true, union_by_name=true)"),
    ("parquet_hive_filter", "SELECT a, filename, g FROM read_parquet('{t}/hive/*/*.parquet', filename=true, "
                            "union_by_name=true) WHERE g = 1"),
    ("json", "SELECT * FROM read_json(['{t}/j1.json', '{t}/j3.json'], filename=true, union_by_name=true)"),
    ("json_one", "SELECT * FROM read_json('{t}/j1.json', filename=true)"),
    ("csv_union", "SELECT * FROM read_csv(['{t}/c1.csv', '{t}/c3.csv'], filename=true, union_by_name=true)"),
]


@pytest.mark.parametrize("name,query", FILENAME, ids=[q[0] for q in FILENAME])
def test_filename(sql, files, name, query):
    sql.check(query.format(l=flist(files, ["p1", "p2"], "parquet"), l3=flist(files, ["p1", "p3"], "parquet"),
                           t=files))


def test_filename_ipc(sql, files):
    """Arrow IPC: the same as the Parquet files of the same tables give in DuckDB."""
    want = sql.duckdb([f"SELECT a, b, filename FROM read_parquet({flist(files, ['p1', 'p2'], 'parquet')}, "
                       "filename=true)"])
    r = sql.polaroid([f"SELECT a, b, replace(filename, '.arrow', '.parquet') AS filename "
                      f"FROM read_ipc({flist(files, ['p1', 'p2'], 'arrow')}, filename=true)"])
    assert r.returncode == 0, r.stderr.decode()
    got = pa.ipc.open_stream(pa.py_buffer(r.stdout)).read_all()
    assert compare_tables(want, got, ordered=False) is None, f"{want}\n{got}"


# ---------------------------------------------------------------- COPY ... TO 'dir' (PARTITION_BY)

import os  # noqa: E402
import re  # noqa: E402

import duckdb  # noqa: E402
import pyarrow.dataset as pads  # noqa: E402

SRC = ("SELECT range AS i, range % 3 AS g, 'x' || range AS s, "
       "CASE WHEN range % 4 = 0 THEN NULL WHEN range % 4 = 1 THEN 'a b/c' ELSE 'é=%?' END AS k, "
       "DATE '2024-01-01' + CAST(range % 2 AS INTEGER) AS d FROM range(20)")

COPIES = [
    ("one_key", "parquet", "PARTITION_BY (g)", 1),
    ("two_keys", "parquet", "PARTITION_BY (k, d)", 2),
    ("three_keys", "parquet", "PARTITION_BY (g, k, d)", 3),
    ("csv", "csv", "PARTITION_BY g", 1),
    ("csv_keys", "csv", "PARTITION_BY (k, g)", 2),
    ("write_keys", "parquet", "PARTITION_BY (g), WRITE_PARTITION_COLUMNS", 1),
    ("pattern", "parquet", "PARTITION_BY (g), FILENAME_PATTERN 'part_{i}'", 1),
    ("pattern_no_i", "csv", "PARTITION_BY (g), FILENAME_PATTERN 'abc'", 1),
]


def esc(text):
    """text as sql.polaroid formats it back (braces kept)."""
    return text.replace("{", "{{").replace("}", "}}")


def arrow(rel):
    return rel.to_arrow_table() if hasattr(rel, "to_arrow_table") else rel.fetch_arrow_table()


def tree(root):
    return sorted(os.path.relpath(os.path.join(r, f), root) for r, _, fs in os.walk(root) for f in fs)


@pytest.mark.parametrize("name,fmt,opts,depth", COPIES, ids=[c[0] for c in COPIES])
def test_copy_partitioned(sql, tmp_path, name, fmt, opts, depth):
    ours, theirs = tmp_path / "ours", tmp_path / "theirs"
    stmt = "COPY ({q}) TO '{d}' (FORMAT {f}, {o})"
    r = sql.polaroid([esc(stmt.format(q=SRC, d=ours, f=fmt, o=opts))], fmt="csv")
    assert r.returncode == 0, r.stderr.decode()
    duckdb.connect().execute(stmt.format(q=SRC, d=theirs, f=fmt, o=opts))
    assert tree(ours) == tree(theirs)
    glob = "/".join(["*"] * depth) + "/*." + fmt
    read = "SELECT * FROM read_{f}('{d}/{g}', hive_partitioning=true)"
    con = duckdb.connect()
    want = arrow(con.sql(read.format(f=fmt, d=theirs, g=glob)))
    got = arrow(con.sql(read.format(f=fmt, d=ours, g=glob)))
    assert compare_tables(want, got, ordered=False) is None
    if fmt == "parquet" and "WRITE_PARTITION" not in opts:  # pyarrow reads the directory as DuckDB's
        pw = pads.dataset(str(theirs), format="parquet", partitioning="hive").to_table()
        pg = pads.dataset(str(ours), format="parquet", partitioning="hive").to_table()
        assert compare_tables(pw, pg, ordered=False) is None
    # polaroid reads it back as DuckDB does
    sql.check(read.format(f=fmt, d=ours, g=glob))


def test_copy_partitioned_uuid(sql, tmp_path):
    r = sql.polaroid([f"COPY ({SRC}) TO '{tmp_path}/o' (FORMAT parquet, PARTITION_BY (g), "
                      "FILENAME_PATTERN 'f_{{uuid}}')"], fmt="csv")
    assert r.returncode == 0, r.stderr.decode()
    files = tree(tmp_path / "o")
    assert len(files) == 3, files
    for f in files:
        assert re.fullmatch(r"g=[012]/f_[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}\.parquet", f), f
    sql.check(f"SELECT * FROM read_parquet('{tmp_path}/o/*/*.parquet')")


@pytest.mark.parametrize("opt", ["", ", OVERWRITE_OR_IGNORE", ", OVERWRITE"], ids=["refused", "or_ignore", "overwrite"])
def test_copy_partitioned_overwrite(sql, tmp_path, opt):
    first = "COPY (SELECT range AS i, range % 3 AS g FROM range(9)) TO '{d}' (FORMAT csv, PARTITION_BY (g))"
    again = "COPY (SELECT 100 + range AS i, 2 + range % 2 AS g FROM range(4)) TO '{d}' (FORMAT csv, PARTITION_BY (g)" + opt + ")"
    ours, theirs = tmp_path / "ours", tmp_path / "theirs"
    con = duckdb.connect()
    con.execute(first.format(d=theirs))
    r = sql.polaroid([first.format(d=ours), again.format(d=ours)], fmt="csv")
    if not opt:
        with pytest.raises(Exception):
            con.execute(again.format(d=theirs))
        assert r.returncode == 1 and "not empty" in r.stderr.decode(), r.stderr.decode()
        assert "OVERWRITE" in r.stderr.decode()
        return
    con.execute(again.format(d=theirs))
    assert r.returncode == 0, r.stderr.decode()
    assert tree(ours) == tree(theirs)
    read = "SELECT * FROM read_csv('{d}/*/*.csv')"
    assert compare_tables(arrow(con.sql(read.format(d=theirs))), arrow(con.sql(read.format(d=ours))), ordered=False) is None


def test_copy_partitioned_errors(sql, tmp_path):
    sql.error([f"COPY (SELECT 1 AS i, 2 AS g) TO '{tmp_path}/a' (FORMAT csv, PARTITION_BY (g, x))"], "\"x\"")
    sql.error([f"COPY (SELECT 1 AS i, 2 AS g) TO '{tmp_path}/b' (FORMAT csv, PARTITION_BY (g, i))"],
              "WRITE_PARTITION_COLUMNS")
    (tmp_path / "f").write_text("x")
    r = sql.polaroid([f"COPY (SELECT 1 AS i, 2 AS g) TO '{tmp_path}/f' (FORMAT csv, PARTITION_BY (g))"], fmt="csv")
    assert r.returncode == 1 and "directory" in r.stderr.decode(), r.stderr.decode()
