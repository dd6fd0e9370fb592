#!/usr/bin/env python3
"""Differential probe of the Python client's DataFrame API against Polars.

Builds random pipelines (select / with_columns / filter / group_by().agg / join / sort / unique /
head / slice / rename / drop / union) over random tables (ints with NULLs, floats with NaN, inf
and -0.0, Unicode and empty strings, dates, timestamps with a time zone, decimals, booleans,
dictionary strings, lists), runs each through `polaroid serve` and the same pipeline in Polars,
and compares the results (bench/compare.py: values, NULLs, NaN; rows in order when the pipeline
fixes an order) and the schemas (column names, kinds of types).

Each case is a small tree rendered twice as Python source: once over `pd` (polaroid) and once
over `pl` (Polars). Where polaroid follows SQL by design (docs/python.md, "Differences from
Polars"), the Polars side is written to compute the SQL meaning (e.g. `sum` of only NULLs is NULL,
`n_unique` ignores NULL, `max` of floats with NaN is NaN) so that the rest is still compared.

  probe_frames.py [--n N] [--seed S] [--polaroid build-asan/polaroid] [--stop] [-v]
starts its own server on a temporary data root, runs N cases from seed S and prints each
mismatch with both programs (rerun one case: --seed S --case K). tests/server/test_probe_frames.py
runs a fixed-seed sample in `make pytest-server`.
"""

from __future__ import annotations

import argparse
import datetime as dt
import decimal
import math
import random
import sys
import traceback
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

import pyarrow as pa

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "python"))
sys.path.insert(0, str(REPO / "bench"))

import polars as pl  # noqa: E402

import polaroid as pd  # noqa: E402
from compare import compare_tables  # noqa: E402

UTC = dt.timezone.utc

# ---------------------------------------------------------------- random tables

STRINGS = ["", "a", "A", "abc", "ABC", "b", "ß", "Straße", "héllo", "日本語", "🙂x", " pad ", "a b",
           "zz", "x%y", "under_score", "ǅ", "İ", "12", "-3", " 7", "1e3", "0x1F", "+5"]
KINDS_ORDERABLE = {"int", "float", "str", "bool", "date", "ts", "dec"}


def _maybe(rng: random.Random, p: float, v: Any) -> Any:
    return None if rng.random() < p else v


def make_table(rng: random.Random, n: int, *, keys_only: bool = False) -> Tuple[pa.Table, Dict[str, str]]:
    """A table and its columns' kinds. keys_only: a join partner (k, s, d, w, v, i)."""
    pnull = rng.choice([0.0, 0.1, 0.3])
    floats = [0.0, -0.0, 1.5, -2.25, 3.0, 1e300, -1e-300, float("nan"), float("inf"), float("-inf"), 7.0, 0.1]
    cols: Dict[str, Any] = {}
    kinds: Dict[str, str] = {}

    def add(name: str, kind: str, arr: pa.Array) -> None:
        cols[name] = arr
        kinds[name] = kind

    add("k", "int", pa.array([_maybe(rng, pnull, rng.randint(0, 4)) for _ in range(n)], pa.int64()))
    add("s", "str", pa.array([_maybe(rng, pnull, rng.choice(STRINGS[:8])) for _ in range(n)], pa.string()))
    add("i", "int", pa.array([_maybe(rng, pnull, rng.randint(-20, 20)) for _ in range(n)], pa.int64()))
    base = dt.date(2024, 2, 27)
    add("d", "date", pa.array([_maybe(rng, pnull, base + dt.timedelta(days=rng.randint(-400, 400)))
                               for _ in range(n)], pa.date32()))
    if keys_only:
        add("w", "int", pa.array([_maybe(rng, pnull, rng.randint(-5, 5)) for _ in range(n)], pa.int32()))
        add("v", "float", pa.array([_maybe(rng, pnull, rng.choice(floats)) for _ in range(n)], pa.float64()))
        return pa.table(cols), kinds
    add("j", "int", pa.array([_maybe(rng, pnull, rng.randint(-1000, 1000)) for _ in range(n)], pa.int32()))
    add("f", "float", pa.array([_maybe(rng, pnull, rng.choice(floats) if rng.random() < 0.4
                                        else round(rng.uniform(-100, 100), 2)) for _ in range(n)], pa.float64()))
    add("u", "str", pa.array([_maybe(rng, pnull, rng.choice(STRINGS)) for _ in range(n)], pa.string()))
    t0 = dt.datetime(2024, 3, 30, 22, 15, 0, tzinfo=UTC)
    add("ts", "ts", pa.array([_maybe(rng, pnull, t0 + dt.timedelta(seconds=rng.randint(-10**7, 10**7),
                                                                   microseconds=rng.randint(0, 999999)))
                              for _ in range(n)], pa.timestamp("us", tz="UTC")))
    add("dec", "dec", pa.array([_maybe(rng, pnull, decimal.Decimal(rng.randint(-99999, 99999)) / 100)
                                for _ in range(n)], pa.decimal128(10, 2)))
    add("b", "bool", pa.array([_maybe(rng, pnull, rng.random() < 0.5) for _ in range(n)], pa.bool_()))
    add("cat", "str", pa.array([_maybe(rng, pnull, rng.choice(["red", "green", "blue", ""]))
                                for _ in range(n)], pa.string()).dictionary_encode())
    add("l", "list", pa.array([_maybe(rng, pnull, [rng.randint(0, 9) for _ in range(rng.randint(0, 3))])
                               for _ in range(n)], pa.list_(pa.int64())))
    return pa.table(cols), kinds


# ---------------------------------------------------------------- expression trees
#
# Nodes are tuples; render(node, eng) gives Python source over M (pd or pl). Kinds: int, float,
# str, bool, date, ts, dec, list.

_PL_TYPES = {"int": "M.Int64", "float": "M.Float64", "str": "M.String", "bool": "M.Boolean",
             "date": "M.Date", "ts": "M.Datetime('us', 'UTC')"}


_PD_TYPES = {"int": "BIGINT", "float": "DOUBLE", "str": "VARCHAR", "bool": "BOOLEAN", "date": "DATE",
             "ts": "TIMESTAMPTZ"}


def _lit_src(v: Any, kind: str, eng: str) -> str:
    if v is None:
        if eng == "pl":
            return f"M.lit(None, dtype={_PL_TYPES[kind]})"
        return f"M.lit(None, dtype={_PD_TYPES[kind]!r})"
    if kind == "float":
        if math.isnan(v):
            return "M.lit(float('nan'))"
        if math.isinf(v):
            return f"M.lit(float('{'inf' if v > 0 else '-inf'}'))"
        return f"M.lit({v!r})"
    if kind == "date":
        return f"M.lit(dt.date({v.year}, {v.month}, {v.day}))"
    if kind == "ts":
        return (f"M.lit(dt.datetime({v.year}, {v.month}, {v.day}, {v.hour}, {v.minute}, {v.second}, "
                f"tzinfo=UTC))")
    return f"M.lit({v!r})"


def render(n: tuple, eng: str) -> str:
    op = n[0]
    r = lambda x: render(x, eng)  # noqa: E731
    if op == "col":
        return f"M.col({n[1]!r})"
    if op == "lit":
        return _lit_src(n[1], n[2], eng)
    if op == "bin":
        if eng == "pl" and n[1] == "//" and n[3][0] == "lit" and n[3][2] == "float":
            # Python's inf // y is NaN ((x - x % y) / y), Polars' floor(inf / y) inf
            return (f"M.when({r(n[2])}.cast(M.Float64).is_infinite()).then(M.lit(float('nan')))"
                    f".otherwise({r(n[2])} // {r(n[3])})")
        return f"({r(n[2])} {n[1]} {r(n[3])})"
    if op == "neg":
        return f"(-{r(n[1])})"
    if op == "not":
        return f"(~{r(n[1])})"
    if op == "m":  # a method with the same name and meaning in both
        args = ", ".join(repr(a) if not isinstance(a, tuple) else r(a) for a in n[3:])
        return f"{r(n[2])}.{n[1]}({args})"
    if op == "between":
        if eng == "pd":
            return f"{r(n[1])}.between({r(n[2])}, {r(n[3])})"
        return f"{r(n[1])}.is_between({r(n[2])}, {r(n[3])})"
    if op == "is_in":
        vals = ", ".join(repr(v) for v in n[2])
        return f"{r(n[1])}.is_in([{vals}])"
    if op == "str":
        fn, a, args = n[1], r(n[2]), n[3:]
        if eng == "pl":
            if fn in ("lower", "upper"):  # polaroid maps a subset of Unicode (docs/python.md)
                return f"{a}.map_elements(_case_{fn}, return_dtype=M.String)"
            if fn == "len_chars":  # polaroid: BIGINT (Polars: UInt32)
                return f"{a}.str.len_chars().cast(M.Int64)"
            if fn == "strip":
                return f"{a}.str.strip_chars()"
            if fn == "replace":
                return f"{a}.str.replace_all({args[0]!r}, {args[1]!r}, literal=True)"
            if fn == "contains":
                return f"{a}.str.contains({args[0]!r}, literal=True)"
            if fn == "concat":  # SQL concat: NULL counts as ''
                return f"M.concat_str([{a}, {r(args[0])}], ignore_nulls=True)"
        if fn == "concat":
            return f"{a}.str.concat({r(args[0])})"
        return f"{a}.str.{fn}({', '.join(repr(x) for x in args)})"
    if op == "dt":
        if eng == "pl":  # polaroid: BIGINT (Polars: Int32 / Int8)
            return f"{r(n[2])}.dt.{n[1]}().cast(M.Int64)"
        return f"{r(n[2])}.dt.{n[1]}()"
    if op == "cast":
        t = n[2]
        if eng == "pd":
            return f"{r(n[1])}.cast({t!r}, strict={n[3]})"
        if t == "BIGINT" and not n[3] and n[4:] == ("str",):  # SQL's text -> integer rules
            return f"{r(n[1])}.map_elements(_sql_text_to_int, return_dtype=M.Int64)"
        if t == "BIGINT" and n[4:] == ("float",):
            return f"{r(n[1])}.round(0, mode='half_to_even').cast(M.Int64, strict={n[3]})"
        plt = {"BIGINT": "M.Int64", "DOUBLE": "M.Float64", "VARCHAR": "M.String", "INTEGER": "M.Int32"}[t]
        return f"{r(n[1])}.cast({plt}, strict={n[3]})"
    if op == "when":
        s = "M"
        for c, v in n[1]:
            s += f".when({r(c)}).then({r(v)})"
        if n[2] is not None:
            s += f".otherwise({r(n[2])})"
        return s
    if op == "round":  # decimals > 0: polaroid rounds the double (0.35 -> 0.3), Polars 0.4
        if eng == "pl":
            return f"{r(n[1])}.round(0, mode='half_away_from_zero')"
        return f"{r(n[1])}.round(0)"
    if op == "truncate":
        if eng == "pd":
            return f"{r(n[1])}.dt.truncate({n[2]!r})"
        return f"{r(n[1])}.dt.truncate({ {'day': '1d', 'hour': '1h', 'month': '1mo', 'minute': '1m'}[n[2]]!r})"
    if op == "strftime":
        return f"{r(n[1])}.dt.strftime({n[2]!r})"
    if op == "fill_null":
        return f"{r(n[1])}.fill_null({r(n[2])})"
    if op == "coalesce":
        return f"M.coalesce({', '.join(r(x) for x in n[1])})"
    if op == "alias":
        return f"{r(n[1])}.alias({n[2]!r})"
    if op == "agg":
        return render_agg(n, eng)
    raise ValueError(op)


def render_agg(n: tuple, eng: str) -> str:
    _, fn, arg, flt, kind = n[:5]
    if fn == "len":
        return "M.len_()" if eng == "pd" else "M.len().cast(M.Int64)"
    a = render(arg, eng)
    if eng == "pd":
        if fn == "quantile":
            s = f"{a}.quantile({n[5]!r})"
        elif fn in ("std", "var"):
            s = f"{a}.{fn}(ddof={n[5]})"
        else:
            s = f"{a}.{fn}()"
        if flt is not None:
            s += f".filter({render(flt, eng)})"
        return s
    if flt is not None:
        a = f"{a}.filter({render(flt, eng)})"
    if fn == "sum":  # SQL: NULL when there is no non-NULL value
        return f"M.when({a}.count() > 0).then({a}.sum())"
    if fn == "implode":  # SQL list(): NULL over no rows
        return f"M.when({a}.len() > 0).then({a}.implode())"
    if fn == "n_unique":  # SQL count(DISTINCT): NULL is not a value
        return f"{a}.drop_nulls().n_unique().cast(M.Int64)"
    if fn == "max" and kind == "float":  # SQL: NaN is the largest double
        return f"{a}.nan_max()"
    if fn in ("quantile", "median"):  # next to an infinity: DuckDB's -inf (Polars NaN)
        q = n[5] if fn == "quantile" else 0.5
        return (f"{a}.map_batches(lambda s: M.Series([_sql_quantile(s, {q!r})], dtype=M.Float64), "
                f"returns_scalar=True, return_dtype=M.Float64)")
    if fn == "count":  # polaroid: BIGINT (Polars: UInt32)
        return f"{a}.count().cast(M.Int64)"
    if fn in ("std", "var"):  # SQL: the population deviation of one value is 0, even of inf
        return (f"{a}.map_batches(lambda s: M.Series([_sql_var(s, {fn!r}, {n[5]})], dtype=M.Float64), "
                f"returns_scalar=True, return_dtype=M.Float64)")
    return f"{a}.{fn}()"


class ExprGen:
    """Random typed expressions over a frame's columns."""

    def __init__(self, rng: random.Random, kinds: Dict[str, str]) -> None:
        self.rng = rng
        self.kinds = kinds

    def cols(self, kind: str) -> List[str]:
        return [c for c, k in self.kinds.items() if k == kind]

    def lit(self, kind: str) -> tuple:
        r = self.rng
        if r.random() < 0.03:
            return ("lit", None, kind)
        if kind == "int":
            return ("lit", r.randint(-10, 10), kind)
        if kind == "float":
            return ("lit", r.choice([0.5, -1.25, 2.0, 0.0, -0.0, float("nan"), float("inf"), 3.75]), kind)
        if kind == "str":
            return ("lit", r.choice(STRINGS), kind)
        if kind == "bool":
            return ("lit", r.random() < 0.5, kind)
        if kind == "date":
            return ("lit", dt.date(2024, 2, 27) + dt.timedelta(days=r.randint(-300, 300)), kind)
        if kind == "ts":
            return ("lit", dt.datetime(2024, 3, 30, 22, 15, tzinfo=UTC) + dt.timedelta(hours=r.randint(-2000, 2000)), kind)
        raise ValueError(kind)

    def leaf(self, kind: str) -> tuple:
        cs = self.cols(kind)
        if cs and self.rng.random() < 0.8:
            return ("col", self.rng.choice(cs))
        if kind in ("dec", "list"):
            return ("col", self.rng.choice(cs)) if cs else self.lit("int")
        return self.lit(kind)

    def has(self, kind: str) -> bool:
        return bool(self.cols(kind))

    def gen(self, kind: str, depth: int = 2) -> tuple:
        r = self.rng
        if depth <= 0 or r.random() < 0.3:
            return self.leaf(kind)
        d = depth - 1
        if kind == "int":
            c = r.randint(0, 11)
            if c <= 3:
                return ("bin", r.choice(["+", "-", "*"]), self.gen("int", d), self.gen("int", d))
            if c == 4:
                return ("bin", r.choice(["//", "%"]), self.gen("int", d), ("lit", r.choice([-3, 2, 5, 7]), "int"))
            if c == 5:
                return ("neg", self.gen("int", d))
            if c == 6:
                return ("m", "abs", self.gen("int", d))
            if c == 7 and self.has("str"):
                return ("str", "len_chars", self.gen("str", d))
            if c == 8 and (self.has("date") or self.has("ts")):
                src = r.choice([k for k in ("date", "ts") if self.has(k)])
                part = r.choice(["year", "month", "day"] + (["hour", "minute", "second"] if src == "ts" else []))
                return ("dt", part, self.gen(src, d))
            if c == 9:
                return self.when("int", d)
            if c == 10:
                if r.random() < 0.5:
                    return ("coalesce", [self.gen("int", d), self.gen("int", d), self.lit("int")])
                return ("fill_null", self.gen("int", d), self.lit("int"))
            if self.has("str") and r.random() < 0.5:  # TRY_CAST of text
                return ("cast", self.gen("str", d), "BIGINT", False, "str")
            if r.random() < 0.5:  # TRY_CAST of a double: nearest, halves to even
                return ("cast", self.gen("float", d), "BIGINT", False, "float")
            return ("cast", self.gen("bool", d), "BIGINT", True)
        if kind == "float":
            c = r.randint(0, 9)
            if c <= 2:
                return ("bin", r.choice(["+", "-", "*", "/"]), self.gen(r.choice(["float", "int"]), d),
                        self.gen("float", d))
            if c == 3:
                if r.random() < 0.3:  # Python's floor // and % of doubles
                    return ("bin", r.choice(["//", "%"]), self.gen(r.choice(["float", "int"]), d),
                            ("lit", r.choice([-2.5, 0.75, 3.0]), "float"))
                return ("bin", "/", self.gen("int", d), self.gen("int", d))
            if c == 4:
                return ("m", r.choice(["abs", "floor", "ceil", "sqrt"]), self.gen("float", d))
            if c == 5:
                return ("round", self.gen("float", d))
            if c == 6:
                return ("cast", self.gen("int", d), "DOUBLE", True)
            if c == 7:
                return self.when("float", d)
            if c == 8:
                return ("neg", self.gen("float", d))
            return ("fill_null", self.gen("float", d), self.lit("float"))
        if kind == "str":
            c = r.randint(0, 8)
            if c == 0:
                return ("str", r.choice(["lower", "upper"]), self.gen("str", d))
            if c == 1:
                return ("str", "strip", self.gen("str", d))
            if c == 2:
                return ("str", "replace", self.gen("str", d), r.choice(["a", "ß", "", "b"]) or "a",
                        r.choice(["", "X", "éé"]))
            if c == 3:
                if r.random() < 0.3:
                    return ("str", "slice", self.gen("str", d), r.randint(-4, 3))
                return ("str", "slice", self.gen("str", d), r.randint(-4, 3), r.randint(0, 4))
            if c == 4:
                return ("str", "concat", self.gen("str", d), self.gen("str", d))
            if c == 5:
                if self.has("ts") and r.random() < 0.3:
                    return ("strftime", self.gen("ts", d), r.choice(["%Y-%m-%d", "%H:%M:%S", "%Y/%m/%d %H"]))
                return ("cast", self.gen("int", d), "VARCHAR", True)
            if c == 6:
                return self.when("str", d)
            if c == 7:
                return ("fill_null", self.gen("str", d), self.lit("str"))
            return self.leaf("str")
        if kind == "bool":
            c = r.randint(0, 9)
            if c <= 2:
                k = r.choice([k for k in ("int", "float", "str", "date", "ts", "bool") if self.has(k)] or ["int"])
                return ("bin", r.choice(["==", "!=", "<", "<=", ">", ">="]), self.gen(k, d), self.gen(k, d))
            if c == 3:
                if r.random() < 0.3:
                    k = r.choice([k for k in ("int", "str", "float") if self.has(k)] or ["int"])
                    return ("m", "eq_missing", self.gen(k, d), self.gen(k, d))
                return ("bin", r.choice(["&", "|"]), self.gen("bool", d), self.gen("bool", d))
            if c == 4:
                return ("not", self.gen("bool", d))
            if c == 5:
                k = r.choice(list(self.kinds.values()))
                return ("m", r.choice(["is_null", "is_not_null"]), self.gen(k, 0) if k not in ("list",) else self.leaf(k))
            if c == 6:
                return ("is_in", self.leaf("int"), sorted({r.randint(-5, 5) for _ in range(3)}))
            if c == 7:
                lo = r.randint(-10, 5)
                return ("between", self.gen("int", d), ("lit", lo, "int"), ("lit", lo + r.randint(0, 10), "int"))
            if c == 8 and self.has("str"):
                return ("str", r.choice(["contains", "starts_with", "ends_with"]), self.gen("str", d),
                        r.choice(["a", "", "ß", "日", "b", "A"]))
            return self.leaf("bool")
        if kind in ("date", "ts"):
            if r.random() < 0.3:
                return self.when(kind, d)
            if kind == "ts" and self.has("ts") and r.random() < 0.3:
                return ("truncate", self.gen("ts", d), r.choice(["day", "hour", "month", "minute"]))
            return self.leaf(kind)
        return self.leaf(kind)

    def when(self, kind: str, d: int) -> tuple:
        r = self.rng
        branches = [(self.gen("bool", d), self.gen(kind, d)) for _ in range(r.randint(1, 2))]
        other = self.gen(kind, d) if r.random() < 0.8 else None
        return ("when", branches, other)

    def agg(self, ordered: bool) -> Tuple[tuple, str]:
        """An aggregation and its result kind (first, last and implode only over a fixed order)."""
        r = self.rng
        kinds = sorted(k for k in set(self.kinds.values()) if k != "list")
        if not kinds:
            return ("agg", "len", None, None, "int"), "int"
        kind = r.choice(kinds)
        arg = ("col", r.choice(self.cols(kind)))
        fns = {"int": ["sum", "mean", "min", "max", "count", "n_unique", "first", "last", "median", "std", "var",
                       "quantile", "implode"],
               "float": ["sum", "mean", "min", "max", "count", "n_unique", "median", "std", "var", "quantile",
                         "first", "last"],
               "str": ["min", "max", "count", "n_unique", "first", "last", "implode"],
               "bool": ["count", "n_unique", "first", "last", "min", "max"],
               "date": ["min", "max", "count", "first", "last", "n_unique"],
               "ts": ["min", "max", "count", "first", "last"],
               "dec": ["sum", "min", "max", "count", "first"]}[kind]
        if not ordered:
            fns = [x for x in fns if x not in ("first", "last", "implode")]
        fn = r.choice(fns + ["len"])
        flt = self.gen("bool", 1) if r.random() < 0.15 and fn != "len" else None
        extra: List[Any] = []
        if fn == "quantile":
            extra = [r.choice([0.0, 0.25, 0.5, 0.9, 1.0])]
        if fn in ("std", "var"):
            extra = [r.choice([0, 1])]
        out_kind = {"count": "int", "n_unique": "int", "len": "int", "mean": "float", "median": "float",
                    "std": "float", "var": "float", "quantile": "float", "implode": "list"}.get(fn, kind)
        return ("agg", fn, arg, flt, kind, *extra), out_kind


# ---------------------------------------------------------------- pipelines


class Frame:
    """Source text per engine, the columns' kinds, and whether the row order is fixed."""

    def __init__(self, pd_src: str, pl_src: str, kinds: Dict[str, str], ordered: bool) -> None:
        self.src = {"pd": pd_src, "pl": pl_src}
        self.kinds = dict(kinds)
        self.ordered = ordered

    def then(self, pd_tail: str, pl_tail: Optional[str] = None, kinds: Optional[Dict[str, str]] = None,
             ordered: Optional[bool] = None) -> "Frame":
        return Frame(self.src["pd"] + pd_tail, self.src["pl"] + (pl_tail if pl_tail is not None else pd_tail),
                     self.kinds if kinds is None else kinds, self.ordered if ordered is None else ordered)


class Case:
    def __init__(self, seed: int, index: int) -> None:
        self.seed, self.index = seed, index
        self.rng = random.Random(seed * 1_000_003 + index)
        self.fresh = 0

    def name(self) -> str:
        self.fresh += 1
        return f"e{self.fresh}"

    # one operation on f
    def step(self, f: Frame, other: Frame) -> Frame:
        r = self.rng
        g = ExprGen(r, f.kinds)
        ops = ["select", "with_columns", "filter", "filter", "group_by", "join", "sort", "unique",
               "head", "rename", "drop", "union", "agg_select"]
        op = r.choice(ops)
        if op == "select":
            items, kinds, used = [], {}, set()
            for _ in range(r.randint(1, 4)):
                if r.random() < 0.4:
                    c = r.choice(list(f.kinds))
                    if c in used:
                        continue
                    used.add(c)
                    items.append(("col", c))
                    kinds[c] = f.kinds[c]
                else:
                    k = r.choice(["int", "float", "str", "bool"])
                    nm = self.name()
                    items.append(("alias", g.gen(k), nm))
                    kinds[nm] = k
            if "'col'" not in repr(items) and "('col'," not in repr(items):
                # Polars' select of literals only is one row (polaroid: one per input row)
                c = r.choice(list(f.kinds))
                items.append(("col", c))
                kinds[c] = f.kinds[c]
            src = lambda e: ", ".join(render(x, e) for x in items)  # noqa: E731
            return f.then(f".select({src('pd')})", f".select({src('pl')})", kinds)
        if op == "with_columns":
            items, kinds = [], dict(f.kinds)
            for _ in range(r.randint(1, 3)):
                k = r.choice(["int", "float", "str", "bool", "date"])
                same = [c for c, kk in f.kinds.items() if kk == k and c not in ("k",)]
                nm = r.choice(same) if same and r.random() < 0.4 else self.name()
                if nm in [x[2] for x in items]:
                    continue
                items.append(("alias", g.gen(k), nm))
                kinds[nm] = k
            src = lambda e: ", ".join(render(x, e) for x in items)  # noqa: E731
            return f.then(f".with_columns({src('pd')})", f".with_columns({src('pl')})", kinds)
        if op == "filter":
            p = g.gen("bool", 3)
            return f.then(f".filter({render(p, 'pd')})", f".filter({render(p, 'pl')})")
        if op in ("group_by", "agg_select"):
            keys = [] if op == "agg_select" else r.sample(
                [c for c, k in f.kinds.items() if k in ("int", "str", "bool", "date", "dec", "float", "ts")],
                k=min(r.randint(1, 2), len([c for c, k in f.kinds.items() if k in ("int", "str", "bool", "date", "dec", "float", "ts")])))
            if op == "group_by" and not keys:
                return f
            aggs, kinds = [], {k: f.kinds[k] for k in keys}
            for _ in range(r.randint(1, 4)):
                a, ok = g.agg(f.ordered)
                nm = self.name()
                aggs.append(("alias", a, nm))
                kinds[nm] = ok
            asrc = lambda e: ", ".join(render(x, e) for x in aggs)  # noqa: E731
            if op == "agg_select":
                return f.then(f".select({asrc('pd')})", f".select({asrc('pl')})", kinds, ordered=True)
            ksrc = ", ".join(repr(k) for k in keys)
            return f.then(f".group_by({ksrc}).agg({asrc('pd')})", f".group_by({ksrc}).agg({asrc('pl')})",
                          kinds, ordered=False)
        if op == "join":
            how = r.choice(["inner", "left", "right", "full", "semi", "anti", "cross", "inner", "left"])
            shared = [c for c in ("k", "s", "i", "d") if c in f.kinds and c in other.kinds
                      and f.kinds[c] == other.kinds[c]]
            if how == "cross":
                o = other.then(".head(4)", ordered=other.ordered) if other.ordered else other
                if not other.ordered:
                    return f
                kinds = dict(f.kinds)
                for c, k in o.kinds.items():
                    kinds[c + "_r" if c in f.kinds else c] = k
                return f.then(f".join({o.src['pd']}, how='cross', suffix='_r')",
                              f".join({o.src['pl']}, how='cross', suffix='_r')", kinds, ordered=False)
            if r.random() < 0.3 and how in ("inner", "left", "right", "full"):
                # left_on/right_on: a left int column against a right int column of another name
                lk = r.choice([c for c, k in f.kinds.items() if k == "int"] or [None])
                rk = r.choice([c for c, k in other.kinds.items() if k == "int"] or [None])
                if lk is None or rk is None:
                    return f
                suffix = r.choice(["_right", "_r"])
                left_cols = {c: k for c, k in f.kinds.items() if not (how == "right" and c == lk)}
                kinds = dict(left_cols)
                for c, k in other.kinds.items():
                    if c == rk and how in ("inner", "left"):
                        continue
                    kinds[c + suffix if c in left_cols else c] = k
                tail = f", left_on={lk!r}, right_on={rk!r}, how={how!r}, suffix={suffix!r})"
                return f.then(f".join({other.src['pd']}{tail}", f".join({other.src['pl']}{tail}", kinds, ordered=False)
            if not shared:
                return f
            on = r.sample(shared, k=r.randint(1, min(2, len(shared))))
            ne = r.random() < 0.2
            suffix = r.choice(["_right", "_r", "_x"])
            kinds = dict(f.kinds)
            if how not in ("semi", "anti"):
                for c, k in other.kinds.items():
                    if c in on:
                        continue
                    kinds[c + suffix if c in f.kinds else c] = k
                if how == "right":  # Polars: left's non-key columns, then the right's columns
                    kinds = {c: k for c, k in f.kinds.items() if c not in on}
                    for c, k in other.kinds.items():
                        kinds[c + suffix if c in f.kinds and c not in on else c] = k
            onsrc = repr(on)
            extra = ", coalesce=True" if how == "full" else ""
            return f.then(f".join({other.src['pd']}, on={onsrc}, how={how!r}, suffix={suffix!r}, nulls_equal={ne})",
                          f".join({other.src['pl']}, on={onsrc}, how={how!r}, suffix={suffix!r}, nulls_equal={ne}{extra})",
                          kinds, ordered=False)
        if op == "sort":
            orderable = [c for c, k in f.kinds.items() if k in KINDS_ORDERABLE]
            if not orderable:
                return f
            first = r.sample(orderable, k=min(len(orderable), r.randint(1, 3)))
            keys = first + [c for c in orderable if c not in first]  # a total order: ties are equal rows
            desc = [r.random() < 0.4 for _ in first] + [False] * (len(keys) - len(first))
            nl = [r.choice([None, True, False]) for _ in first] + [True] * (len(keys) - len(first))
            pl_nl = [(not d) if z is None else z for d, z in zip(desc, nl)]
            ordered = len(orderable) == len(f.kinds)
            return f.then(f".sort({keys!r}, descending={desc!r}, nulls_last={nl!r})",
                          f".sort({keys!r}, descending={desc!r}, nulls_last={pl_nl!r}, maintain_order=True)",
                          ordered=ordered)
        if op == "unique":
            if f.ordered and r.random() < 0.6:
                cand = [c for c, k in f.kinds.items() if k in KINDS_ORDERABLE]
                if cand:
                    sub = r.sample(cand, k=min(len(cand), r.randint(1, 2)))
                    return f.then(f".unique({sub!r})", f".unique({sub!r}, keep='first', maintain_order=True)",
                                  ordered=False)
            if "list" in f.kinds.values():
                return f
            return f.then(".unique()", ordered=False)
        if op == "head":
            if not f.ordered:
                return f
            if r.random() < 0.5:
                n = r.randint(0, 8)
                return f.then(f".head({n})")
            off, ln = r.randint(0, 10), r.choice([None, 0, 3, 10])
            return f.then(f".slice({off}, {ln})")
        if op == "rename":
            c = r.choice(list(f.kinds))
            nm = self.name()
            kinds = {(nm if x == c else x): k for x, k in f.kinds.items()}
            return f.then(f".rename({{{c!r}: {nm!r}}})", kinds=kinds)
        if op == "drop":
            if len(f.kinds) < 2:
                return f
            c = r.choice(list(f.kinds))
            kinds = {x: k for x, k in f.kinds.items() if x != c}
            return f.then(f".drop({c!r})", kinds=kinds)
        if op == "union":
            p = g.gen("bool", 2)
            pd_src = f"M.concat([{f.src['pd']}, {f.src['pd']}.filter({render(p, 'pd')})])"
            pl_src = f"M.concat([{f.src['pl']}, {f.src['pl']}.filter({render(p, 'pl')})])"
            return Frame(pd_src, pl_src, f.kinds, f.ordered)
        raise AssertionError(op)

    def build(self, kinds0: Dict[str, str], kinds1: Dict[str, str]) -> Frame:
        r = self.rng
        f = Frame("df0", "df0", kinds0, True)
        other = Frame("df1", "df1", kinds1, True)
        if r.random() < 0.3:  # a filter on the join partner too
            p = ExprGen(r, kinds1).gen("bool", 2)
            other = other.then(f".filter({render(p, 'pd')})", f".filter({render(p, 'pl')})")
        for _ in range(r.randint(1, 4)):
            f = self.step(f, other)
        return f


# ---------------------------------------------------------------- running and comparing


def _kind_of(t: pa.DataType) -> str:
    if pa.types.is_dictionary(t):
        return _kind_of(t.value_type)
    if pa.types.is_integer(t):
        return "int"
    if pa.types.is_floating(t):
        return "float"
    if pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_string_view(t):
        return "str"
    if pa.types.is_boolean(t):
        return "bool"
    if pa.types.is_date(t):
        return "date"
    if pa.types.is_timestamp(t):
        return "ts" + ("tz" if t.tz else "")
    if pa.types.is_decimal(t):
        return "dec"
    if pa.types.is_list(t) or pa.types.is_large_list(t) or pa.types.is_list_view(t):
        return "list"
    if pa.types.is_null(t):
        return "null"
    return str(t)


TYPE_DIFFS: Dict[Tuple[str, str], int] = {}  # (polaroid type, Polars type) -> columns seen
TYPE_EXAMPLES: Dict[Tuple[str, str], str] = {}


def _norm_type(t: pa.DataType) -> pa.DataType:
    """Types up to layout: dictionaries as their values, string views and large strings as
    strings, large lists as lists."""
    if pa.types.is_dictionary(t):
        return _norm_type(t.value_type)
    if pa.types.is_large_string(t) or pa.types.is_string_view(t):
        return pa.string()
    if pa.types.is_list(t) or pa.types.is_large_list(t) or pa.types.is_list_view(t):
        return pa.list_(_norm_type(t.value_type))
    return t


def _to_arrow_pl(df: "pl.DataFrame") -> pa.Table:
    t = df.to_arrow()
    # string views and large strings: the comparer normalises; lists of views: to plain lists
    fields = []
    for fld in t.schema:
        ty = fld.type
        if pa.types.is_large_list(ty) or pa.types.is_list_view(ty) or pa.types.is_large_list_view(ty):
            fields.append(pa.field(fld.name, pa.list_(ty.value_type)))
        else:
            fields.append(fld)
    try:
        return t.cast(pa.schema(fields))
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return t


def _lists_as_text(t: pa.Table) -> pa.Table:
    """Lists compare by their values' text (Polars' int64 vs polaroid's int64 either way)."""
    cols = []
    for c in t.columns:
        if _kind_of(c.type) == "list":
            vals = [None if v is None else repr([None if x is None else (float(x) if isinstance(x, float) else x)
                                                 for x in v]) for v in c.to_pylist()]
            cols.append(pa.array(vals, pa.string()))
        else:
            cols.append(c)
    return pa.table(cols, names=t.column_names)


class Env:
    """The tables of one case in both engines."""

    def __init__(self, seed: int, index: int, client: Any, root: Optional[Path] = None) -> None:
        rng = random.Random(seed * 7_919 + index)
        n0 = rng.choice([0, 1, 5, 30, 60])
        self.t0, self.k0 = make_table(rng, n0)
        self.t1, self.k1 = make_table(rng, rng.choice([0, 4, 20]), keys_only=True)
        self.source = rng.choice(["arrow", "arrow", "parquet", "cache"]) if root else "arrow"
        if self.source == "parquet":  # a file under the data root: Parquet strings stay dictionaries
            import pyarrow.parquet as pq

            (root / "probe").mkdir(exist_ok=True)
            rel = f"probe/t{seed}_{index}.parquet"
            pq.write_table(self.t0, root / rel, row_group_size=max(1, rng.choice([7, 1000])))
            self.pd0 = client.read_parquet(rel)
        else:
            self.pd0 = pd.from_arrow(self.t0)
            self.pd0._client = client
            if self.source == "cache":  # a materialised handle
                self.pd0 = self.pd0.cache()
        self.pd1 = pd.from_arrow(self.t1)
        self.pd1._client = client
        self.pl0 = pl.from_arrow(self.t0).with_columns(pl.col("cat").cast(pl.String))
        self.pl1 = pl.from_arrow(self.t1)


def _case_char(c: str, up: bool) -> str:
    """polaroid's lower/upper: one-to-one mappings of ASCII, Latin-1, Latin Extended-A, basic
    Greek and Cyrillic letters; other characters unchanged."""
    cp = ord(c)
    if not (cp < 0x80 or 0xC0 <= cp <= 0x17F or 0x391 <= cp <= 0x3C9 or 0x410 <= cp <= 0x44F) \
            or cp in (0x130, 0x131, 0x17F, 0x3C2, 0xD7, 0xF7):
        return c
    m = c.upper() if up else c.lower()
    if len(m) != 1 or len(m.encode()) != len(c.encode()):
        return c
    return m


def _sql_text_to_int(s: str) -> Optional[int]:
    """TRY_CAST(text AS BIGINT) as DuckDB and polaroid: spaces trimmed, a sign, hexadecimal
    0x..., an exponent of an integral value ('1e3'); Polars' cast accepts only digits."""
    t = s.strip()
    for f in (lambda x: int(x, 10), lambda x: int(x, 16) if x.lower().startswith("0x") else None):
        try:
            v = f(t)
            if v is not None:
                return v
        except ValueError:
            pass
    try:
        x = float(t)
    except ValueError:
        return None
    return int(round(x)) if math.isfinite(x) else None


def _sql_var(s: Any, fn: str, ddof: int) -> Optional[float]:
    """Polars' std/var of the non-NULL values, but 0.0 for one value with ddof=0 (SQL's
    var_pop; Polars gives NaN for inf) and NULL for none."""
    v = s.drop_nulls().cast(pl.Float64)
    if len(v) == 0 or len(v) <= ddof:
        return None
    if len(v) == 1:
        return 0.0
    return getattr(v, fn)(ddof=ddof)


def _sql_quantile(s: Any, q: float) -> Optional[float]:
    """quantile_cont / median as DuckDB: NULLs skipped, NaN the largest value, linear
    interpolation at q * (n - 1) where an infinite neighbour gives lo * (1 - d) + hi * d."""
    v = sorted((float(x) for x in s.to_list() if x is not None), key=lambda x: (math.isnan(x), x))
    if not v:
        return None
    pos = q * (len(v) - 1)
    lo, hi = math.floor(pos), math.ceil(pos)
    a, b, d = v[lo], v[hi], pos - lo
    if lo == hi or a == b:
        return a
    if math.isnan(a) or math.isnan(b):
        return float("nan")
    if math.isinf(a) or math.isinf(b):
        return a * (1 - d) + b * d
    return a + d * (b - a)


def _case_upper(s: str) -> str:
    return "".join(_case_char(c, True) for c in s)


def _case_lower(s: str) -> str:
    return "".join(_case_char(c, False) for c in s)


def _eval(src: str, M: Any, df0: Any, df1: Any) -> Any:
    return eval(src, {"M": M, "df0": df0, "df1": df1, "dt": dt, "UTC": UTC, "float": float,
                      "_case_upper": _case_upper, "_case_lower": _case_lower,
                      "_sql_text_to_int": _sql_text_to_int, "_sql_quantile": _sql_quantile,
                      "_sql_var": _sql_var})


class _PdShim:
    """pd plus Polars-only spellings the probe needs on the polaroid side (none so far)."""

    def __getattr__(self, name: str) -> Any:
        return getattr(pd, name)


PD = _PdShim()


def run_case(seed: int, index: int, client: Any, verbose: bool = False,
             root: Optional[Path] = None) -> Optional[str]:
    """None when polaroid and Polars agree (or both fail), else a report. With root (the
    server's data root) the main table is also read from a Parquet file or a cached handle."""
    env = Env(seed, index, client, root)
    case = Case(seed, index)
    f = case.build(env.k0, env.k1)
    pd_src, pl_src = f.src["pd"], f.src["pl"]
    head = f"seed {seed} case {index} (df0 from {env.source})\n  pd: {pd_src}\n  pl: {pl_src}\n"
    if verbose:
        print(head, end="")
    ref_err = got_err = None
    try:
        ref = _to_arrow_pl(_eval(pl_src, pl, env.pl0, env.pl1))
    except Exception as e:  # noqa: BLE001
        ref, ref_err = None, e
    try:
        got = _eval(pd_src, PD, env.pd0, env.pd1).collect()
    except pd.PolaroidError as e:
        got, got_err = None, e
    except Exception as e:  # noqa: BLE001 - a client-side failure is a finding
        return head + "  polaroid client raised " + "".join(traceback.format_exception_only(type(e), e))
    if ref_err is not None and got_err is not None:
        return None
    if got_err is not None:
        if isinstance(got_err, (pd.InternalError, pd.UnavailableError)):
            return head + f"  polaroid failed badly: {type(got_err).__name__}: {got_err}\n"
        return head + f"  polaroid error, Polars ran: {type(got_err).__name__}: {got_err}\n"
    if ref_err is not None and "doesn't match the DataFrame height" in str(ref_err):
        return None  # Polars' broadcasting of a literal-only column in some plans
    if ref_err is not None:
        return head + f"  Polars error, polaroid ran ({got.num_rows} rows): {type(ref_err).__name__}: " \
                      f"{str(ref_err).splitlines()[0]}\n"
    if got.column_names != ref.column_names:
        return head + f"  columns {got.column_names}, Polars {ref.column_names}\n"
    for gf, rf in zip(got.schema, ref.schema):
        gt, rt = _norm_type(gf.type), _norm_type(rf.type)
        if gt != rt:
            TYPE_DIFFS[(str(gt), str(rt))] = TYPE_DIFFS.get((str(gt), str(rt)), 0) + 1
            TYPE_EXAMPLES.setdefault((str(gt), str(rt)), f"column {gf.name!r} of {pd_src}")
        gk, rk = _kind_of(gf.type), _kind_of(rf.type)
        if gk != rk and "null" not in (gk, rk):
            return head + f"  column {gf.name!r}: type {gf.type}, Polars {rf.type}\n"
    diff = compare_tables(_lists_as_text(ref), _lists_as_text(got), ordered=f.ordered)
    if diff:
        return head + f"  {diff}\n"
    return None


def main(argv: Optional[List[str]] = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=200)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--case", type=int, default=None, help="run only this case of the seed")
    ap.add_argument("--polaroid", default=str(REPO / "build-asan" / "polaroid"))
    ap.add_argument("--stop", action="store_true", help="stop at the first mismatch")
    ap.add_argument("-v", "--verbose", action="store_true")
    a = ap.parse_args(argv)
    import os
    import tempfile

    os.environ["POLAROID"] = a.polaroid
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from conftest import start_server  # noqa: E402

    root = Path(tempfile.mkdtemp(prefix="probe-frames-"))
    srv = start_server(root)
    bad = 0
    try:
        client = pd.connect(srv.address, timeout=60)
        client.wait_ready(30)
        cases = [a.case] if a.case is not None else range(a.n)
        for i in cases:
            msg = run_case(a.seed, i, client, a.verbose, root)
            if not srv.alive():
                print(f"SERVER DIED at seed {a.seed} case {i}\n{srv.stderr_text[-3000:]}")
                return 2
            if msg:
                bad += 1
                print(msg)
                if a.stop:
                    break
        print(f"{bad} mismatches in {len(cases)} cases")
        if TYPE_DIFFS:
            print("column types that differ (polaroid vs Polars; kinds agree):")
            for (g, r), k in sorted(TYPE_DIFFS.items(), key=lambda x: -x[1]):
                print(f"  {k:6d}  {g}  vs  {r}    e.g. {TYPE_EXAMPLES[(g, r)][:300]}")
    finally:
        srv.terminate()
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
