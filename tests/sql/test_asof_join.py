"""ASOF [LEFT] JOIN (ON equalities + one inequality, USING), SEMI JOIN and ANTI JOIN, compared
with DuckDB on generated trades and quotes: several symbols, NULL symbols and timestamps,
duplicate timestamps (ties), quotes before the first trade and after the last, empty sides,
all four inequalities, inner vs LEFT, key types that order (ints, floats, dates, timestamps
with units and time zones, decimals, strings). DuckDB's choice among quotes tied on (sym, ts)
is unspecified, so the quotes' payload is a function of (sym, ts) and the quote id is not
compared (polaroid takes the first tied row; tests/unit/exec/test_asof.c checks that)."""
import datetime
import decimal
import random

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from conftest import sql_str

N_TRADES, N_QUOTES = 3000, 2000


def _tables(seed=7, n_t=N_TRADES, n_q=N_QUOTES):
    rng = random.Random(seed)
    syms = ["AAPL", "MSFT", "GOOG", "IBM", "NVDA"]

    def sym():
        return None if rng.random() < 0.03 else rng.choice(syms)

    def ts(lo, hi):
        return None if rng.random() < 0.03 else rng.randrange(lo, hi)

    trades = {"tid": list(range(n_t)), "sym": [sym() for _ in range(n_t)],
              "ts": [ts(-50, 1100) for _ in range(n_t)]}
    # quotes on a coarser grid than trades: many ties on (sym, ts), none before -40 or after 1040
    q_ts = [None if rng.random() < 0.03 else rng.randrange(-40, 1040, 3) for _ in range(n_q)]
    q_sym = [sym() for _ in range(n_q)]
    bid = [None if t is None or s is None else (hash((s, t)) % 10000) / 100.0
           for s, t in zip(q_sym, q_ts)]
    quotes = {"qid": list(range(n_q)), "sym": q_sym, "ts": q_ts, "bid": bid}
    return trades, quotes


def _conv(vals, kind):
    """Integer timestamps as `kind` values (order preserved)."""
    base_dt = datetime.datetime(2024, 1, 2, 9, 30)
    base_d = datetime.date(2020, 1, 1)
    if kind in ("int64", "int32"):
        return pa.array(vals, getattr(pa, kind)())
    if kind == "double":
        return pa.array([None if v is None else v * 0.25 for v in vals], pa.float64())
    if kind == "decimal":
        return pa.array([None if v is None else decimal.Decimal(v) / 8 for v in vals],
                        pa.decimal128(18, 3))
    if kind == "date":
        return pa.array([None if v is None else base_d + datetime.timedelta(days=v) for v in vals],
                        pa.date32())
    if kind == "ts_us":
        return pa.array([None if v is None else base_dt + datetime.timedelta(milliseconds=v * 7)
                         for v in vals], pa.timestamp("us"))
    if kind == "ts_ms":
        return pa.array([None if v is None else base_dt + datetime.timedelta(milliseconds=v * 7)
                         for v in vals], pa.timestamp("ms"))
    if kind == "ts_tz":
        return pa.array([None if v is None else base_dt + datetime.timedelta(seconds=v * 3)
                         for v in vals], pa.timestamp("us", tz="UTC"))
    if kind == "string":
        return pa.array([None if v is None else f"k{v + 100:05d}" for v in vals], pa.string())
    raise ValueError(kind)


@pytest.fixture(scope="module")
def paths(tmp_path_factory):
    d = tmp_path_factory.mktemp("asof")
    trades, quotes = _tables()
    out = {}
    for kind in ["int64", "int32", "double", "decimal", "date", "ts_us", "ts_ms", "ts_tz", "string"]:
        t = pa.table({"tid": pa.array(trades["tid"], pa.int64()), "sym": trades["sym"],
                      "ts": _conv(trades["ts"], kind)})
        q = pa.table({"qid": pa.array(quotes["qid"], pa.int64()), "sym": quotes["sym"],
                      "ts": _conv(quotes["ts"], kind), "bid": quotes["bid"]})
        for name, tab in (("t", t), ("q", q)):
            p = d / f"{name}_{kind}.parquet"
            pq.write_table(tab, p, row_group_size=700)
            out[f"{name}_{kind}"] = sql_str(str(p))
    return out


OPS = [">=", ">", "<=", "<"]
COLS = "t.tid, t.sym, t.ts, q.sym AS qsym, q.ts AS qts, q.bid"


@pytest.mark.parametrize("kind", ["ASOF JOIN", "ASOF LEFT JOIN"])
@pytest.mark.parametrize("op", OPS)
def test_ops(sql, paths, kind, op):
    sql.check(f"SELECT {COLS} FROM {paths['t_int64']} t {kind} {paths['q_int64']} q "
              f"ON t.sym = q.sym AND t.ts {op} q.ts")


@pytest.mark.parametrize("op", OPS)
def test_inequality_written_right_to_left(sql, paths, op):
    flip = {">=": "<=", ">": "<", "<=": ">=", "<": ">"}[op]
    sql.check(f"SELECT {COLS} FROM {paths['t_int64']} t ASOF LEFT JOIN {paths['q_int64']} q "
              f"ON q.ts {flip} t.ts AND q.sym = t.sym")


@pytest.mark.parametrize("key", ["int32", "double", "decimal", "date", "ts_us", "ts_ms", "ts_tz",
                                 "string"])
@pytest.mark.parametrize("op", [">=", "<"])
def test_key_types(sql, paths, key, op):
    sql.check(f"SELECT {COLS} FROM {paths['t_' + key]} t ASOF LEFT JOIN {paths['q_' + key]} q "
              f"ON t.sym = q.sym AND t.ts {op} q.ts")


def test_mixed_widths(sql, paths):
    """INT32 trades against INT64 quotes, timestamps in ms against us: a common type."""
    sql.check(f"SELECT {COLS} FROM {paths['t_int32']} t ASOF JOIN {paths['q_int64']} q "
              f"ON t.sym = q.sym AND t.ts >= q.ts")
    sql.check(f"SELECT {COLS} FROM {paths['t_ts_ms']} t ASOF LEFT JOIN {paths['q_ts_us']} q "
              f"ON t.sym = q.sym AND t.ts > q.ts")


@pytest.mark.parametrize("kind", ["ASOF JOIN", "ASOF LEFT JOIN"])
def test_using(sql, paths, kind):
    sql.check(f"SELECT * EXCLUDE (qid) FROM {paths['t_ts_us']} t {kind} {paths['q_ts_us']} q "
              "USING (sym, ts)")


def test_no_equality(sql, paths):
    """Only the inequality: the latest quote of any symbol; the tied quotes' bids differ by
    symbol, so only the timestamps are compared."""
    sql.check(f"SELECT t.tid, t.ts, q.ts FROM {paths['t_int64']} t ASOF LEFT JOIN "
              f"{paths['q_int64']} q ON t.ts >= q.ts")


def test_two_equalities(sql, paths):
    """Ties are on (sym, g, ts) here: the tie-independent columns are compared."""
    sql.check(f"SELECT t.tid, q.sym, q.ts, q.bid FROM {paths['t_int64']} t ASOF LEFT JOIN "
              f"(SELECT *, qid % 3 AS g FROM {paths['q_int64']}) q "
              "ON t.sym = q.sym AND t.tid % 3 = q.g AND t.ts <= q.ts")


def test_expression_keys(sql, paths):
    """Expressions over one side each (DuckDB plans these another way, so its answer comes from
    the same join over precomputed columns)."""
    expected = sql.duckdb([f"SELECT t.tid, q.sym, q.ts, q.bid FROM (SELECT *, ts + 5 AS ts5, "
                           f"lower(sym) AS ls FROM {paths['t_int64']}) t ASOF JOIN "
                           f"{paths['q_int64']} q ON t.ls = lower(q.sym) AND t.ts5 >= q.ts"])
    r = sql.polaroid([f"SELECT t.tid, q.sym, q.ts, q.bid FROM {paths['t_int64']} t ASOF JOIN "
                      f"{paths['q_int64']} q ON lower(t.sym) = lower(q.sym) AND t.ts + 5 >= q.ts"])
    assert r.returncode == 0, r.stderr.decode()
    got = pa.ipc.open_stream(pa.py_buffer(r.stdout)).read_all()
    key = [("tid", "ascending")]
    assert got.sort_by(key).to_pylist() == expected.sort_by(key).to_pylist()


@pytest.mark.parametrize("side", ["left", "right", "both"])
@pytest.mark.parametrize("kind", ["ASOF JOIN", "ASOF LEFT JOIN"])
def test_empty_sides(sql, paths, side, kind):
    t = f"(SELECT * FROM {paths['t_int64']} WHERE tid < 0)" if side in ("left", "both") else paths["t_int64"]
    q = f"(SELECT * FROM {paths['q_int64']} WHERE qid < 0)" if side in ("right", "both") else paths["q_int64"]
    sql.check(f"SELECT {COLS} FROM {t} t {kind} {q} q ON t.sym = q.sym AND t.ts >= q.ts")


def test_where_on_both_sides(sql, paths):
    """A WHERE on the right side filters the join's output, never the quotes searched."""
    sql.check(f"SELECT {COLS} FROM {paths['t_int64']} t ASOF LEFT JOIN {paths['q_int64']} q "
              "ON t.sym = q.sym AND t.ts >= q.ts WHERE t.tid % 2 = 0 AND (q.bid > 30 OR q.bid IS NULL)")


def test_aggregate_over_asof(sql, paths):
    sql.check(f"SELECT t.sym, count(*) AS n, count(q.bid) AS nb, round(sum(q.bid), 2) AS s FROM "
              f"{paths['t_ts_tz']} t ASOF LEFT JOIN {paths['q_ts_tz']} q ON t.sym = q.sym AND "
              "t.ts >= q.ts GROUP BY ALL ORDER BY ALL", ordered=True)


def test_small_literal_tables(sql):
    t = ("(VALUES (1, 'a', 10), (2, 'a', 20), (3, 'b', 15), (4, NULL, 5), (5, 'a', NULL), "
         "(6, 'a', 1)) t(id, sym, ts)")
    q = ("(VALUES (100, 'a', 10), (102, 'a', 5), (103, 'b', 15), (105, NULL, 1), (106, 'a', NULL))"
         " q(qid, sym, ts)")
    for op in OPS:
        sql.check(f"SELECT * FROM {t} ASOF LEFT JOIN {q} ON t.sym = q.sym AND t.ts {op} q.ts")


@pytest.mark.parametrize("cond", ["t.sym = q.sym", "t.sym = q.sym AND t.ts = q.ts"])
def test_error_missing_inequality(sql, paths, cond):
    sql.error([f"SELECT * FROM {paths['t_int64']} t ASOF JOIN {paths['q_int64']} q ON {cond}"],
              "missing ASOF JOIN inequality")


def test_error_two_inequalities(sql, paths):
    sql.error([f"SELECT * FROM {paths['t_int64']} t ASOF JOIN {paths['q_int64']} q "
               "ON t.ts >= q.ts AND t.tid >= q.qid"], "multiple ASOF JOIN inequalities")


def test_using_one_column(sql, paths):
    """USING (sym) alone: sym is the inequality (t.sym >= q.sym), as in DuckDB."""
    sql.check(f"SELECT t.tid, sym FROM {paths['t_int64']} t ASOF LEFT JOIN {paths['q_int64']} q "
              "USING (sym)")


def test_error_position(sql, paths):
    """The error points at the user's text (line 2 holds the second inequality)."""
    err = sql.error([f"SELECT *\nFROM {paths['t_int64']} t ASOF JOIN {paths['q_int64']} q\n"
                     "  ON t.ts >= q.ts AND t.tid > q.qid"], "multiple ASOF JOIN inequalities")
    assert "3:" in err or "line 3" in err, err


def test_asof_words_elsewhere(sql, paths):
    """ASOF / SEMI / ANTI inside strings, comments and quoted names stay as they are."""
    sql.check("SELECT 'a ASOF JOIN b' AS s, \"asof\", \"semi\" FROM (VALUES (1, 2)) "
              "v(\"asof\", \"semi\") /* t ANTI JOIN q */ -- semi join\n")
    sql.check(f"SELECT t.tid, q.ts FROM {paths['t_int64']} t /* asof */ ASOF -- x\n JOIN "
              f"{paths['q_int64']} q ON t.sym = q.sym AND t.ts >= q.ts")


SEMI_T = ("(VALUES (1, 'a', 10), (2, 'a', 20), (3, 'b', 15), (4, NULL, 5), (5, 'c', NULL), "
          "(6, 'a', 1), (7, 'b', 15)) t(id, sym, ts)")
SEMI_Q = ("(VALUES (100, 'a', 10), (101, 'a', 10), (102, 'a', 5), (103, 'b', 15), (105, NULL, 1), "
          "(106, 'a', NULL)) q(qid, sym, ts)")


@pytest.mark.parametrize("kind", ["SEMI", "ANTI"])
@pytest.mark.parametrize("cond", ["ON t.sym = q.sym", "USING (sym)", "ON t.sym = q.sym AND t.ts > q.ts",
                                  "ON t.ts < q.ts", "ON t.sym IS NOT DISTINCT FROM q.sym"])
def test_semi_anti(sql, kind, cond):
    sql.check(f"SELECT * FROM {SEMI_T} {kind} JOIN {SEMI_Q} {cond}")


@pytest.mark.parametrize("kind", ["SEMI", "ANTI"])
def test_semi_anti_generated(sql, paths, kind):
    sql.check(f"SELECT t.* FROM {paths['t_int64']} t {kind} JOIN {paths['q_int64']} q "
              "ON t.sym = q.sym AND t.ts = q.ts")


def test_semi_right_columns_gone(sql):
    sql.error([f"SELECT q.qid FROM {SEMI_T} SEMI JOIN {SEMI_Q} ON t.sym = q.sym"], "qid")


def test_interval_key(sql):
    """Intervals order by length (a month = 30 days), like DuckDB."""
    sql.check("SELECT * FROM (VALUES (1, INTERVAL 1 DAY), (2, INTERVAL 25 HOUR), (3, INTERVAL 30 DAY), "
              "(4, INTERVAL 1 MONTH), (5, INTERVAL 2 HOUR)) t(id, iv) ASOF LEFT JOIN (VALUES (10, "
              "INTERVAL 24 HOUR), (11, INTERVAL 1 MONTH), (12, INTERVAL 29 DAY)) q(qid, iv) "
              "ON t.iv >= q.iv")


@pytest.mark.parametrize("sides", [("t_int64", "q_int64"), ("q_int64", "t_int64")])
def test_positional(sql, paths, sides):
    """Row i beside row i, the shorter side padded with NULLs (multi-row-group files: input
    order is kept across morsels)."""
    a, b = sides
    sql.check(f"SELECT * FROM {paths[a]} POSITIONAL JOIN {paths[b]}", ordered=True)


def test_positional_small(sql):
    sql.check("SELECT * FROM (VALUES (1, 'x'), (2, 'y'), (3, NULL)) a(i, s) POSITIONAL JOIN "
              "(VALUES (10), (20)) b(j)", ordered=True)
    sql.check("SELECT a.i, b.j FROM (SELECT * FROM range(5) r(i) WHERE i < 0) a POSITIONAL JOIN "
              "(VALUES (10), (20)) b(j)", ordered=True)


@pytest.mark.parametrize("join", ["ASOF JOIN", "ASOF LEFT JOIN", "SEMI JOIN", "ANTI JOIN"])
def test_subqueries_without_aliases(sql, join):
    """DuckDB lets FROM subqueries go without an alias; before ASOF / SEMI / ANTI the
    preprocessor took the keyword for an alias and the parser refused the query."""
    sql.check(f"SELECT * FROM (SELECT range % 3 AS a, range AS t FROM range(9)) {join} "
              f"(SELECT range % 2 AS a, range * 2 AS t FROM range(5)) USING (a, t)")


def test_positional_subqueries_without_aliases(sql):
    sql.check("SELECT * FROM (SELECT range AS a FROM range(4)) POSITIONAL JOIN "
              "(SELECT range * 10 AS b FROM range(2))")
