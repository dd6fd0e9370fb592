"""read_csv options that decide how rows are read, as in DuckDB: dateformat / timestampformat
(strptime specifiers, for inference and for DATE / TIMESTAMP columns given), ignore_errors
(rows with a wrong field count or a value not of its column's type are skipped),
filename=true / filename='name' (a column with each row's file, also over globs and lists).
Expected values from DuckDB at run time (names and types included); the runner formats the
SQL, so braces are doubled."""
import pytest

from conftest import fill_paths, write_text_files

FILES = {
    "df": "d,t,i\n05/01/2024,05/01/2024 10:30:00,1\n31/12/2023,31/12/2023 23:59:59,2\n,,3\n",
    "dbad": "d\n05/01/2024\nxx\n07/01/2024\n",
    "bad": ("a,b,c\n1,x,2024-01-02\nbad,y,2024-01-03\n3,z\n4,w,2024-01-05,extra\n"
            "5,\"q\",notadate\n6,v,2024-01-07\n7,,\n"),
    "bad_nulls": "a,b\n1,\n,x\noops,\n2,y\n,\n",
    "quoted_nulls": 'a,b,c\n"",1,""\n,2,\nx,3,4\n"NA",4,NA\n',
    # 30000 rows (several parse chunks): every 7th has a field too many, every 11th a bad integer
    "bad_big": "i,s\n" + "".join(f"{r},x,extra\n" if r % 7 == 3 else f"x{r},\n" if r % 11 == 5
                                  else f"{r},\n" if r % 5 == 0 else f"{r},t{r % 3}\n"
                                  for r in range(30000)),
}


@pytest.fixture
def files(tmp_path):
    out = write_text_files(tmp_path, FILES, "csv")
    g = tmp_path / "g"
    g.mkdir()
    (g / "p1.csv").write_text("a,b\n1,x\n2,y\n")
    (g / "p2.csv").write_text("a,b\n3,z\n")
    out["glob"] = str(g / "*.csv")
    out["p1"] = str(g / "p1.csv")
    out["p2"] = str(g / "p2.csv")
    return out


CASES = [
    ("formats", "SELECT typeof(d), typeof(t), * FROM read_csv('<df>', dateformat='%d/%m/%Y', timestampformat='%d/%m/%Y %H:%M:%S')"),
    ("dateformat_given_type", "SELECT * FROM read_csv('<df>', types={{'d': 'DATE'}}, dateformat='%d/%m/%Y', timestampformat='%d/%m/%Y %H:%M:%S')"),
    ("timestampformat_given_type", "SELECT * FROM read_csv('<df>', types={{'t': 'TIMESTAMP'}}, dateformat='%d/%m/%Y', timestampformat='%d/%m/%Y %H:%M:%S')"),
    ("dateformat_ignore_errors", "SELECT * FROM read_csv('<dbad>', types={{'d': 'DATE'}}, dateformat='%d/%m/%Y', ignore_errors=true)"),
    ("ignore_errors_sniffed", "SELECT * FROM read_csv('<bad>', ignore_errors=true)"),
    ("ignore_errors_types", "SELECT * FROM read_csv('<bad>', ignore_errors=true, types={{'a': 'INT', 'c': 'DATE'}})"),
    ("ignore_errors_columns", "SELECT * FROM read_csv('<bad>', ignore_errors=true, columns={{'a': 'INT', 'b': 'VARCHAR', 'c': 'DATE'}})"),
    ("ignore_errors_all_varchar", "SELECT * FROM read_csv('<bad>', ignore_errors=true, all_varchar=true)"),
    ("ignore_errors_count", "SELECT count(*), count(a), count(c) FROM read_csv('<bad>', ignore_errors=true, types={{'a': 'INT', 'c': 'DATE'}})"),
    ("ignore_errors_nulls", "SELECT count(*), count(a), count(b) FROM read_csv('<bad_nulls>', ignore_errors=true, types={{'a': 'INT'}})"),
    ("quoted_nulls_true", "SELECT a IS NULL, * FROM read_csv('<quoted_nulls>', allow_quoted_nulls=true)"),
    ("quoted_nulls_false", "SELECT a IS NULL, * FROM read_csv('<quoted_nulls>', allow_quoted_nulls=false)"),
    ("quoted_nulls_nullstr", "SELECT a IS NULL, a, b FROM read_csv('<quoted_nulls>', allow_quoted_nulls=true, nullstr='NA')"),
    ("quoted_nulls_nullstr_false", "SELECT a IS NULL, a, b FROM read_csv('<quoted_nulls>', allow_quoted_nulls=false, nullstr='NA')"),
    ("ignore_errors_null_rows", "SELECT * FROM read_csv('<bad_nulls>', ignore_errors=true, types={{'a': 'INT'}})"),
    ("filename_glob", "SELECT * FROM read_csv('<glob>', filename=true)"),
    ("filename_group", "SELECT filename, count(*) FROM read_csv('<glob>', filename=true) GROUP BY ALL ORDER BY 1"),
    ("filename_list_no_header", "SELECT * FROM read_csv(['<p1>', '<p2>'], filename=true, header=false)"),
    ("filename_named", "SELECT * FROM read_csv('<p1>', filename='fn')"),
    ("filename_unused", "SELECT a FROM read_csv('<p1>', filename=true)"),
    ("filename_only", "SELECT filename FROM read_csv('<glob>', filename=true)"),
    ("filename_false", "SELECT * FROM read_csv('<p1>', filename=false)"),
]


@pytest.mark.parametrize("name,query", CASES, ids=[c[0] for c in CASES])
def test_read_csv_rows(sql, files, name, query):
    sql.check(fill_paths(query, files))


def test_read_csv_rows_errors(sql, files):
    dbad, df = files["dbad"], files["df"]
    sql.error([f"SELECT * FROM read_csv('{dbad}', types={{{{'d': 'DATE'}}}}, dateformat='%d/%m/%Y')"],
              "xx", "dbad.csv", "row 3")
    sql.error([f"SELECT * FROM read_csv('{df}', dateformat='%Q')"], "%Q")


# ignore_errors under a projection: polaroid skips the same rows as a read of every column (the
# columns left out are still checked against their types), so count(*) is the row count of
# SELECT *. DuckDB checks only the columns it reads (its count(*) keeps rows whose bad value is in
# a column left out), so the reference is DuckDB's full read, materialised first.
PROJECTIONS = [
    ("small", "<bad>", "{{'a': 'INT', 'c': 'DATE'}}", "count(*), count(b)"),
    ("small_star", "<bad>", "{{'a': 'INT', 'c': 'DATE'}}", "count(*)"),
    ("big", "<bad_big>", "{{'i': 'BIGINT'}}", "count(*), count(s), min(s), max(s)"),
]


@pytest.mark.parametrize("name,path,types,aggs", PROJECTIONS, ids=[p[0] for p in PROJECTIONS])
def test_ignore_errors_projection(sql, files, name, path, types, aggs):
    src = fill_paths(f"read_csv('{path}', ignore_errors=true, types={types})", files)
    expected = sql.duckdb([f"CREATE TABLE full_read AS SELECT * FROM {src}",
                           f"SELECT {aggs} FROM full_read"])
    r = sql.polaroid([f"SELECT {aggs} FROM {src}"], fmt="csv")
    assert r.returncode == 0, r.stderr.decode(errors="replace")
    got = r.stdout.decode().strip().splitlines()[1].split(",")
    want = [str(v) for v in expected.to_pylist()[0].values()]
    assert got == want, (got, want)
