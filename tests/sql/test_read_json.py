"""read_json / read_json_auto / read_ndjson and FROM 'x.json' compared with DuckDB's read_json:
generated files of every shape (scalars, NULL-only keys, missing and late keys, nested objects
and arrays, mixed types read as JSON text, ISO dates/timestamps/times, escapes and surrogate
pairs, top-level arrays and scalars, blank lines, CRLF, files large enough for the parallel
chunked reader, records spanning lines), options, and errors DuckDB raises too. Expected values
come from DuckDB at run time."""
import json
import os

import pytest


def _lines(rows):
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)


def _big(n):
    kinds = ["buy", "sell", None, "hold"]
    rows = []
    for i in range(n):
        r = {"id": i, "px": round(100 + (i * 37 % 1000) / 8.0, 3), "sym": f"S{i % 17}",
             "side": kinds[i % 4], "ok": i % 3 == 0,
             "ts": f"2024-03-{1 + i % 28:02d} {i % 24:02d}:{i % 60:02d}:{(i * 7) % 60:02d}",
             "tags": [f"t{i % 5}"] * (i % 3), "meta": {"n": i % 11, "s": "x" * (i % 4)}}
        if i % 13 == 0:
            r["extra"] = i
        rows.append(r)
    return rows


FILES = {
    "scalars": _lines([{"i": 1, "f": 1.5, "b": True, "s": "x", "n": None, "m": 1},
                       {"i": -7, "f": 2, "b": False, "s": "y\u00e9", "n": None, "m": 2.5},
                       {"i": None, "f": -0.0, "b": None, "s": None, "n": None, "m": None}]),
    "missing_keys": _lines([{"a": 1}, {"a": 2, "z": 9}, {"y": "q", "a": 3}, {}]),
    "nested": _lines([{"a": 1, "b": {"c": [{"d": 1}, {"d": 2, "e": "x"}], "f": None}},
                      {"a": 2, "b": {"c": [], "f": [1.5, None]}},
                      {"a": 3, "b": None},
                      {"a": 4, "b": {"c": None}}]),
    "lists": _lines([{"l": [1, 2, 3], "ll": [[1], [2, 3], []], "ls": ["a", None]},
                     {"l": [], "ll": None, "ls": []},
                     {"l": None, "ll": [[None]], "ls": ["b"]}]),
    "mixed": '{"m": [1, {"x": 2}], "l": [1, "a", 2.5], "s": {"a": 1}, "k": 1}\n'
             '{"m": "a\\"b\\\\c\\n\\u00e9\\/", "l": [true, null], "s": {"a": "x"}, "k": "2"}\n'
             '{"m": 3.0, "l": [[1], {}], "s": 5, "k": null}\n'
             '{"m": [1e3, 1.50, -0, 1E+2, 1e20, 1.5e-7, 2.5E-5, 1e21], "l": null, "s": [], "k": 4}\n'
             '{"m": {"a b": [false, null, {"c": -12.25}]}, "l": [], "s": "s", "k": 5}\n',
    "empty_containers": _lines([{"e": {}, "ea": [], "n": [None]}, {"e": {}, "ea": [], "n": []}]),
    "temporal": _lines([{"d": "2024-01-02", "ts": "2024-01-02 03:04:05", "tt": "2024-01-02T03:04:05",
                         "tz": "2024-01-02T03:04:05Z", "t": "10:11:12", "fr": "2024-01-02 03:04:05.125",
                         "mix": "2024-01-02", "bad": "2024-02-30"},
                        {"d": "1999-12-31", "ts": "1970-01-01 00:00:00", "tt": "2000-02-29T23:59:59",
                         "tz": "2024-01-02 03:04:05+01:30", "t": "1:02", "fr": "2024-01-02 03:04:05.5",
                         "mix": "2024-01-02 03:04:05", "bad": "2024-01-01"},
                        {"d": None, "ts": None, "tt": None, "tz": "2024-06-30T23:00:00.5-05:00",
                         "t": "23:59:59.999999", "fr": None, "mix": None, "bad": None}]),
    "escapes": '{"s": "\\u00e9\\u4e2d\\ud83d\\ude00 tab\\tnl\\nq\\"bs\\\\sl\\/", "r": "raw \u00e9\u4e2d\U0001F600"}\n'
               '{"s": "\\b\\f\\r\\u0001", "r": ""}\n',
    "array": "[\n  {\"a\": 1, \"b\": [1, 2]},\n  {\"a\": 2.5, \"c\": \"2024-01-01T00:00:00\"}\n , {} ]\n",
    "array_empty_then_values": "[]",
    "top_scalars": "1\n2\n\"x\"\nnull\n[1]\n",
    "top_arrays": "[1,2]\n[3]\n[]\n",
    "blank_crlf": '{"a": 1, "b": "x"}\r\n\r\n   \n{"a": 2, "b": "y"}\r\n{"a": 3, "b": "z"}',
    "ints": _lines([{"a": 9223372036854775807, "b": 1}, {"a": -9223372036854775808, "b": 2}]),
    "doubles": _lines([{"a": 1e300, "b": 5e-324}, {"a": -1.7976931348623157e308, "b": 0.1}]),
    "case_keys": '{"k": 1, "K": 2}\n{"k": 3}\n',
    "only_nulls": "null\nnull\n",
}

CASES = [
    ("scalars", "scalars", "SELECT * FROM read_json({p})"),
    ("missing_keys", "missing_keys", "SELECT * FROM read_json({p})"),
    ("nested", "nested", "SELECT * FROM read_json({p})"),
    ("lists", "lists", "SELECT * FROM read_json({p})"),
    ("list_unnest", "lists", "SELECT unnest(l) AS x FROM read_json({p})"),
    ("mixed", "mixed", "SELECT * FROM read_json({p})"),
    ("empty_containers", "empty_containers", "SELECT * FROM read_json({p})"),
    ("temporal", "temporal", "SELECT * FROM read_json({p})"),
    ("escapes", "escapes", "SELECT * FROM read_json({p})"),
    ("array", "array", "SELECT * FROM read_json({p})"),
    ("array_explicit", "array", "SELECT * FROM read_json({p}, format='array')"),
    ("top_scalars", "top_scalars", "SELECT * FROM read_json({p})"),
    ("top_arrays", "top_arrays", "SELECT * FROM read_json({p})"),
    ("blank_crlf", "blank_crlf", "SELECT * FROM read_json({p})"),
    ("ints", "ints", "SELECT * FROM read_json({p})"),
    ("doubles", "doubles", "SELECT * FROM read_json({p})"),
    ("case_keys", "case_keys", "SELECT * FROM read_json({p})"),
    ("records_false", "missing_keys", "SELECT * FROM read_json({p}, records=false)"),
    ("records_true", "missing_keys", "SELECT * FROM read_json({p}, records=true)"),
    ("ndjson", "scalars", "SELECT * FROM read_ndjson({p})"),
    ("json_auto", "nested", "SELECT * FROM read_json_auto({p}, format='newline_delimited')"),
    ("from_file", "scalars", "SELECT * FROM {p}"),
    ("projection_filter", "scalars", "SELECT s, i FROM read_json({p}) WHERE i > -10"),
    ("limit", "missing_keys", "SELECT * FROM read_json({p}) LIMIT 2"),
    ("aggregate", "big", "SELECT sym, count(*), sum(px), min(ts), max(id), count(extra), "
                         "count(meta) FROM read_json({p}) GROUP BY sym"),
    ("big", "big", "SELECT * FROM read_json({p})"),
    ("big_pretty", "big_pretty", "SELECT * FROM read_json({p})"),
    ("big_threads1", "big", "SELECT count(*), sum(id), count(side) FROM read_json({p})"),
    ("sample_size", "missing_keys", "SELECT * FROM read_json({p}, sample_size=3)"),
    ("columns", "missing_keys", "SELECT * FROM read_json({p}, columns={y: 'VARCHAR', a: 'INTEGER'})"),
    ("columns_nested", "nested", "SELECT * FROM read_json({p}, columns={'b': 'VARCHAR', a: 'DOUBLE'})"),
    ("columns_types", "temporal", "SELECT * FROM read_json({p}, columns={d: 'DATE', ts: 'TIMESTAMP', "
                                  "tz: 'TIMESTAMPTZ', t: 'TIME', bad: 'VARCHAR', fr: 'TIMESTAMP'})"),
]


def _write(d, name):
    if name == "big":
        text = _lines(_big(60000))
    elif name == "big_pretty":
        text = "".join(json.dumps(r, indent=2) + "\n" for r in _big(20000))
    else:
        text = FILES[name]
    path = os.path.join(str(d), name + ".json")
    with open(path, "w", encoding="utf-8", newline="") as fh:
        fh.write(text)
    return path


def _lit(path):
    return "'" + path.replace("'", "''") + "'"


@pytest.mark.parametrize("name,file,query", CASES, ids=[c[0] for c in CASES])
def test_read_json(sql, name, file, query):
    path = _write(sql.tmp, file)
    q = query.replace("{p}", _lit(path)).replace("{", "{{").replace("}", "}}")
    extra = ("--threads", "1") if name.endswith("threads1") else ()
    sql.check(q, ordered=False, extra=extra)


@pytest.mark.parametrize("ext", ["jsonl", "ndjson"])
def test_read_json_extension(sql, ext):
    path = os.path.join(str(sql.tmp), "t." + ext)
    with open(path, "w") as fh:
        fh.write(FILES["nested"])
    sql.check("SELECT * FROM " + _lit(path))


def test_read_json_files(sql):
    a = _write(sql.tmp, "missing_keys")
    b = _write(sql.tmp, "scalars")
    sql.check(f"SELECT a, i, s FROM read_json([{_lit(a)}, {_lit(b)}])")
    sql.check("SELECT count(*), sum(a) FROM read_json(" + _lit(os.path.join(str(sql.tmp), "m*.json")) + ")")


def test_read_json_round_trip(sql):
    """COPY ... TO a .json file (JSON lines) and read back, in each engine."""
    out = os.path.join(str(sql.tmp), "rt.json")
    sql.check(f"SELECT * FROM read_json({_lit(out)})",
              setup=[f"COPY (SELECT i, i * 1.5 AS f, 'x' || i AS s, i % 2 = 0 AS b, "
                     f"CASE WHEN i % 3 = 0 THEN NULL ELSE i END AS n, [i, i + 1] AS l, "
                     f"DATE '2024-01-01' + i::INTEGER AS d "
                     f"FROM range(100) t(i)) TO {_lit(out)} (FORMAT json)"])


ERRORS = [
    ("truncated", '{"a": 1}\n{"a": 2\n', ()),
    ("bad_literal", '{"a": tru}\n', ()),
    ("lone_surrogate", '{"a": "\\ud800"}\n', ("surrogate",)),
    ("bad_escape", '{"a": "\\q"}\n', ("escape",)),
    ("control_char", '{"a": "x\ty"}\n', ("control character",)),
    ("duplicate_key", '{"a": 1, "a": 2}\n', ("duplicate key",)),
    ("trailing_comma", '[{"a": 1},]', ()),
    ("garbage_after_array", '[{"a": 1}] x', ()),
    ("unclosed_array", '[{"a": 1}', ()),
]


@pytest.mark.parametrize("name,text,needles", ERRORS, ids=[e[0] for e in ERRORS])
def test_read_json_errors(sql, name, text, needles):
    path = os.path.join(str(sql.tmp), name + ".json")
    with open(path, "w") as fh:
        fh.write(text)
    sql.error([f"SELECT * FROM read_json({_lit(path)})"], name + ".json", *needles)


def test_read_json_invalid_utf8(sql):
    path = os.path.join(str(sql.tmp), "utf.json")
    with open(path, "wb") as fh:
        fh.write(b'{"a": "ok"}\n{"a": "\xff"}\n')
    err = sql.error([f"SELECT * FROM read_json({_lit(path)})"], "utf.json", "invalid UTF-8")
    assert "row 2" in err


def test_read_json_column_type_error(sql):
    path = _write(sql.tmp, "scalars")
    sql.error([f"SELECT * FROM read_json({_lit(path)}, columns={{{{s: 'INTEGER'}}}})"], "scalars.json",
              '"s"', "int32")


def test_read_json_unknown_key(sql):
    """A key the sample did not see is an error in DuckDB too (raise sample_size)."""
    path = _write(sql.tmp, "missing_keys")
    sql.error([f"SELECT * FROM read_json({_lit(path)}, sample_size=1)"], "unknown key", '"z"',
              "sample_size")


def test_copy_from_json(sql):
    """COPY t FROM a JSON file: keys matched to the table's columns by name, with its types."""
    path = _write(sql.tmp, "missing_keys")
    sql.check("SELECT * FROM t", setup=["CREATE TABLE t (z INTEGER, a BIGINT, y VARCHAR)",
                                        f"COPY t FROM {_lit(path)} (FORMAT json)",
                                        f"COPY t (y) FROM {_lit(path)} (FORMAT json)"])
