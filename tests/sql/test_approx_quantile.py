"""approx_quantile / reservoir_quantile (DuckDB's t-digest and reservoir-sample estimates):
polaroid answers with the exact quantile_disc, which is within any error the estimates allow;
checked against DuckDB's estimate (within 2 % of the value range) and against quantile_disc."""
import duckdb
import pyarrow as pa


def run(sql, query):
    r = sql.polaroid([query])
    err = r.stderr.decode(errors="replace")
    assert r.returncode == 0, err
    return pa.ipc.open_stream(pa.py_buffer(r.stdout)).read_all()


DATA = "(SELECT i % 7 AS g, (i * 7919 % 10007) / 10.0 AS x FROM range(50000) t(i))"


def test_approx_quantile_near_duckdb(sql):
    q = (f"SELECT g, approx_quantile(x, 0.1) AS a, approx_quantile(x, 0.5) AS b, "
         f"reservoir_quantile(x, 0.9) AS c, quantile_disc(x, 0.1) AS d10, "
         f"quantile_disc(x, 0.5) AS d50, quantile_disc(x, 0.9) AS d90 FROM {DATA} "
         f"GROUP BY g ORDER BY g")
    got = run(sql, q).to_pylist()
    want = duckdb.sql(q).fetchall()
    assert len(got) == len(want) == 7
    for g, w in zip(got, want):
        assert (g["a"], g["b"], g["c"]) == (g["d10"], g["d50"], g["d90"])  # exact
        for k, i in (("a", 1), ("b", 2), ("c", 3)):
            assert abs(float(g[k]) - float(w[i])) <= 0.02 * 1000.7, (g, w)


def test_approx_quantile_types(sql):
    """The result keeps the argument's type, like DuckDB's; NULLs are skipped; no rows, NULL."""
    got = run(sql, "SELECT approx_quantile(x::INTEGER, 0.5) AS i, approx_quantile(x::DECIMAL(10,2), "
                   "0.5) AS d, approx_quantile(NULLIF(x, 3), 0.5) AS n FROM range(7) t(x)")
    assert got.schema.field("i").type == pa.int32()
    assert got.schema.field("d").type == pa.decimal128(10, 2)
    assert got.to_pylist()[0]["i"] == 3
    empty = run(sql, "SELECT approx_quantile(x, 0.5) AS q FROM range(0) t(x)")
    assert empty.to_pylist() == [{"q": None}]
