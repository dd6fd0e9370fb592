"""Functions DuckDB users reach for first: regexp_split_to_array / string_split_regex (DuckDB's
split: a match ends a piece, an empty match at the start of the rest a one-character piece,
^ only at the text's start), histogram(x) (a MAP of each value to its count, keys in order),
current_time / uuid() / gen_random_uuid() (properties: their values are the clock's and
random). Expected values from DuckDB at run time."""
import re

import pytest

SPLITS = [
    ("basic", "SELECT regexp_split_to_array('a1b22c', '[0-9]+') AS a, string_split_regex('a1b22c', '\\d+') AS b, "
              "str_split_regex('a,b', ',') AS c"),
    ("edges", "SELECT regexp_split_to_array('abc', '') AS a, regexp_split_to_array('', ',') AS b, "
              "regexp_split_to_array(NULL, ',') AS c, regexp_split_to_array('a,b,', ',') AS d, "
              "regexp_split_to_array(',a', ',') AS e, regexp_split_to_array('abc', 'c') AS f"),
    ("empty_matches", "SELECT regexp_split_to_array('axxb', 'x*') AS a, regexp_split_to_array('abc', 'b*') AS b, "
                      "regexp_split_to_array('abc', 'x*') AS c, regexp_split_to_array('abc', '^') AS d, "
                      "regexp_split_to_array('abc', '$') AS e"),
    ("utf8", "SELECT regexp_split_to_array('aé b', '') AS a, regexp_split_to_array('xéyéz', 'é') AS b"),
    ("options", "SELECT regexp_split_to_array('AbAbA', 'B', 'i') AS a, string_split_regex('AbA', 'B', 'c') AS b"),
    ("columns", "SELECT id, regexp_split_to_array(s, p) AS a FROM (VALUES (1, 'a b  c', ' +'), "
                "(2, 'k=v;x=y', '[=;]'), (3, NULL, ','), (4, '', ' '), (5, 'no match', 'z')) t(id, s, p) ORDER BY id"),
    ("types", "SELECT typeof(regexp_split_to_array('a', 'b')) AS t, len(regexp_split_to_array('a-b-c', '-')) AS n"),
]


@pytest.mark.parametrize("name,query", SPLITS, ids=[c[0] for c in SPLITS])
def test_regexp_split(sql, name, query):
    sql.check(query, ordered=True)


def test_regexp_split_bad_pattern(sql):
    sql.error(["SELECT regexp_split_to_array('x', '(')"], "regular expression")


HIST = "(VALUES (1, 3, 'b'), (1, 1, 'a'), (1, 3, 'b'), (2, NULL, NULL), (2, 7, 'z'), (3, NULL, NULL)) t(g, x, s)"
HISTS = [
    ("ungrouped", f"SELECT histogram(x) AS hx, histogram(s) AS hs FROM {HIST}"),
    ("grouped", f"SELECT g, histogram(x) AS hx, histogram(s) AS hs FROM {HIST} GROUP BY g ORDER BY g"),
    ("type", f"SELECT typeof(histogram(x)) AS a, typeof(histogram(s)) AS b FROM {HIST}"),
    ("empty", f"SELECT histogram(x) AS h FROM {HIST} WHERE g > 5"),
    ("filter", f"SELECT histogram(x) FILTER (WHERE g = 1) AS h FROM {HIST}"),
    ("many", "SELECT histogram(i % 7) AS h, histogram(DATE '2024-01-01' + (i % 3)::INTEGER) AS d "
             "FROM range(10000) r(i)"),
]


@pytest.mark.parametrize("name,query", HISTS, ids=[c[0] for c in HISTS])
def test_histogram(sql, name, query):
    sql.check(query, ordered=True)


def _run(sql, query):
    import pyarrow as pa
    r = sql.polaroid([query])
    assert r.returncode == 0, r.stderr.decode()
    return pa.ipc.open_stream(pa.py_buffer(r.stdout)).read_all().to_pylist()


def test_uuid(sql):
    rows = _run(sql, "SELECT uuid() AS a, gen_random_uuid() AS b, typeof(uuid()) AS t FROM range(200)")
    pat = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
    vals = [r["a"] for r in rows] + [r["b"] for r in rows]
    assert all(pat.match(v) for v in vals), vals[:3]
    assert len(set(vals)) == len(vals)  # random: no repeats
    assert rows[0]["t"] == "VARCHAR"


def test_current_time(sql):
    import datetime
    rows = _run(sql, "SELECT current_time AS t, get_current_time() AS g, typeof(current_time) AS ty, "
                     "current_time = CAST(now() AS TIME) AS same")
    now = datetime.datetime.now(datetime.timezone.utc)
    t = rows[0]["t"]
    secs = lambda x: x.hour * 3600 + x.minute * 60 + x.second
    assert abs(secs(t) - secs(now.time())) < 120 or abs(secs(t) - secs(now.time())) > 86400 - 120
    assert rows[0]["ty"] == "TIME" and rows[0]["same"] is True and rows[0]["g"] == t
