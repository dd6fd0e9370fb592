"""Column expressions: ``pd.col("a") * 2 > pd.lit(10)``.

An :class:`Expr` is an immutable wrapper of a ``polaroid.v1.Expr`` protobuf tree plus the output
name it gets when selected (Polars' rule: the name of its leftmost column, ``"literal"`` for a
literal, the alias when one is given). Operators and methods map to the engine's canonical function
names (include/polaroid/expr.h): ``+`` is ``add``, ``==`` is ``eq``, ``&`` is ``and``, ``~`` is
``not``; aggregations (``sum``, ``mean``, ``n_unique``...) become ``AggCall`` nodes. Nothing here
talks to a server.
"""

from __future__ import annotations

import datetime as _dt
import decimal as _decimal
from typing import Any, Iterable, Optional, Sequence, Union

from ._proto import polaroid_pb2 as pb
from ._pb import new as _pbnew

__all__ = ["Expr", "col", "lit", "sql_expr", "count", "len_", "all_horizontal", "any_horizontal",
           "when", "coalesce", "to_expr"]

IntoExpr = Union["Expr", str, int, float, bool, None, bytes, _dt.date, _dt.datetime, _dt.timedelta]

_EPOCH_DATE = _dt.date(1970, 1, 1)
_EPOCH_DT = _dt.datetime(1970, 1, 1)


class Expr:
    """A column expression. Build with :func:`col`, :func:`lit`, operators and methods."""

    __slots__ = ("_pb", "_name")

    def __init__(self, proto: pb.Expr, name: Optional[str] = None) -> None:
        self._pb = proto
        self._name = name

    # ------------------------------------------------------------ construction helpers
    @staticmethod
    def sql(text: str) -> "Expr":
        """A SQL expression parsed by the server: ``Expr.sql("price * 2 > 100")``."""
        if not isinstance(text, str):
            raise TypeError(f"Expr.sql takes a string, got {type(text).__name__}")
        return Expr(_pbnew(pb.Expr, sql=text), None)

    @property
    def proto(self) -> pb.Expr:
        """The protobuf tree (a copy is not made: do not modify it)."""
        return self._pb

    @property
    def output_name(self) -> Optional[str]:
        """The column name this expression gets when selected (None: the server's default)."""
        return self._name

    def to_named(self) -> pb.NamedExpr:
        return _pbnew(pb.NamedExpr, expr=self._pb, name=self._name or "")

    # ------------------------------------------------------------ naming
    def alias(self, name: str) -> "Expr":
        """The same expression under another output name."""
        return Expr(self._pb, name)

    def name_(self) -> Optional[str]:  # pragma: no cover - convenience
        return self._name

    # ------------------------------------------------------------ calls
    def _call(self, fn: str, *others: Any) -> "Expr":
        args = [self._pb] + [to_expr(o, literal_strings=True)._pb for o in others]
        return Expr(_pbnew(pb.Expr, call=_pbnew(pb.Call, function=fn, args=args)), self._name)

    def _rcall(self, fn: str, other: Any) -> "Expr":
        o = to_expr(other, literal_strings=True)
        return Expr(_pbnew(pb.Expr, call=_pbnew(pb.Call, function=fn, args=[o._pb, self._pb])), o._name)

    # arithmetic
    def __add__(self, o: Any) -> "Expr":
        return self._call("add", o)

    def __radd__(self, o: Any) -> "Expr":
        return self._rcall("add", o)

    def __sub__(self, o: Any) -> "Expr":
        return self._call("sub", o)

    def __rsub__(self, o: Any) -> "Expr":
        return self._rcall("sub", o)

    def __mul__(self, o: Any) -> "Expr":
        return self._call("mul", o)

    def __rmul__(self, o: Any) -> "Expr":
        return self._rcall("mul", o)

    def __truediv__(self, o: Any) -> "Expr":
        return self._call("div", o)

    def __rtruediv__(self, o: Any) -> "Expr":
        return self._rcall("div", o)

    # // and % round toward -infinity as in Python and Polars (-7 // 2 == -4, -7 % 2 == 1);
    # the engine's int_div and mod (SQL's // and %) truncate toward zero
    def __floordiv__(self, o: Any) -> "Expr":
        return Expr(_floor_div(self._pb, to_expr(o, literal_strings=True)._pb), self._name)

    def __rfloordiv__(self, o: Any) -> "Expr":
        e = to_expr(o, literal_strings=True)
        return Expr(_floor_div(e._pb, self._pb), e._name)

    def __mod__(self, o: Any) -> "Expr":
        return Expr(_floor_mod(self._pb, to_expr(o, literal_strings=True)._pb), self._name)

    def __rmod__(self, o: Any) -> "Expr":
        e = to_expr(o, literal_strings=True)
        return Expr(_floor_mod(e._pb, self._pb), e._name)

    def __pow__(self, o: Any) -> "Expr":
        return self._call("pow", o)

    def __rpow__(self, o: Any) -> "Expr":
        return self._rcall("pow", o)

    def __neg__(self) -> "Expr":
        return self._call("neg")

    def __pos__(self) -> "Expr":
        return self

    def __abs__(self) -> "Expr":
        return self._call("abs")

    # comparison
    def __eq__(self, o: Any) -> "Expr":  # type: ignore[override]
        return self._call("eq", o)

    def __ne__(self, o: Any) -> "Expr":  # type: ignore[override]
        return self._call("ne", o)

    def __lt__(self, o: Any) -> "Expr":
        return self._call("lt", o)

    def __le__(self, o: Any) -> "Expr":
        return self._call("le", o)

    def __gt__(self, o: Any) -> "Expr":
        return self._call("gt", o)

    def __ge__(self, o: Any) -> "Expr":
        return self._call("ge", o)

    __hash__ = object.__hash__

    def __bool__(self) -> bool:
        raise TypeError(
            "the truth value of a polaroid Expr is ambiguous: use & | ~ instead of and/or/not, "
            "and compare DataFrames' results, not expressions")

    # boolean logic
    def __and__(self, o: Any) -> "Expr":
        return self._call("and", o)

    def __rand__(self, o: Any) -> "Expr":
        return self._rcall("and", o)

    def __or__(self, o: Any) -> "Expr":
        return self._call("or", o)

    def __ror__(self, o: Any) -> "Expr":
        return self._rcall("or", o)

    def __invert__(self) -> "Expr":
        return self._call("not")

    def not_(self) -> "Expr":
        return self._call("not")

    def eq(self, o: Any) -> "Expr":
        return self._call("eq", o)

    def ne(self, o: Any) -> "Expr":
        return self._call("ne", o)

    def eq_missing(self, o: Any) -> "Expr":
        """Equality where NULL equals NULL (SQL IS NOT DISTINCT FROM)."""
        return self._call("is_not_distinct_from", o)

    # predicates
    def is_null(self) -> "Expr":
        return self._call("is_null")

    def is_not_null(self) -> "Expr":
        return self._call("is_not_null")

    def is_in(self, values: Iterable[Any]) -> "Expr":
        """SQL ``IN``: ``pd.col("sym").is_in(["A", "B"])``."""
        if isinstance(values, (str, bytes)):
            raise TypeError("is_in takes a collection of values, not a single string")
        vals = list(values)
        if not vals:
            raise ValueError("is_in needs at least one value")
        return self._call("in", *vals)

    def between(self, low: Any, high: Any) -> "Expr":
        """``low <= self <= high`` (both ends included, as SQL BETWEEN)."""
        return self._call("between", low, high)

    def like(self, pattern: str) -> "Expr":
        return self._call("like", pattern)

    def ilike(self, pattern: str) -> "Expr":
        return self._call("ilike", pattern)

    # misc scalar functions
    def cast(self, dtype: Any, strict: bool = True) -> "Expr":
        """Cast to a SQL type name ("BIGINT", "DOUBLE", "VARCHAR", "TIMESTAMP", "DECIMAL(18,3)")
        or a pyarrow DataType; ``strict=False`` gives NULL where the cast fails (TRY_CAST)."""
        return Expr(_pbnew(pb.Expr, cast=_pbnew(pb.Cast, expr=self._pb, type=_type_name(dtype), try_cast=not strict)),
                    self._name)

    def fill_null(self, value: Any) -> "Expr":
        return self._call("coalesce", value)

    def abs(self) -> "Expr":
        return self._call("abs")

    def round(self, decimals: int = 0) -> "Expr":
        return self._call("round", int(decimals))

    def sqrt(self) -> "Expr":
        return self._call("sqrt")

    def log(self) -> "Expr":
        return self._call("ln")

    def exp(self) -> "Expr":
        return self._call("exp")

    def floor(self) -> "Expr":
        return self._call("floor")

    def ceil(self) -> "Expr":
        return self._call("ceil")

    @property
    def str(self) -> "StrNamespace":
        """String functions: ``pd.col("s").str.lower()``."""
        return StrNamespace(self)

    @property
    def dt(self) -> "DtNamespace":
        """Date/time parts: ``pd.col("ts").dt.year()``."""
        return DtNamespace(self)

    # ------------------------------------------------------------ aggregations
    def _agg(self, fn: str, distinct: bool = False, *extra: Any) -> "Expr":
        args = [self._pb] + [to_expr(o, literal_strings=True)._pb for o in extra]
        return Expr(_pbnew(pb.Expr, agg=_pbnew(pb.AggCall, function=fn, args=args, distinct=distinct)), self._name)

    def sum(self) -> "Expr":
        return self._agg("sum")

    def mean(self) -> "Expr":
        return self._agg("avg")

    avg = mean

    def min(self) -> "Expr":
        return self._agg("min")

    def max(self) -> "Expr":
        return self._agg("max")

    def count(self) -> "Expr":
        """Number of non-NULL values."""
        return self._agg("count")

    def n_unique(self) -> "Expr":
        """Number of distinct non-NULL values (SQL count(DISTINCT x))."""
        return self._agg("count", True)

    def first(self) -> "Expr":
        return self._agg("first")

    def last(self) -> "Expr":
        return self._agg("last")

    def median(self) -> "Expr":
        return self._agg("median")

    def std(self, ddof: int = 1) -> "Expr":
        """Standard deviation: sample (ddof=1, the default) or population (ddof=0)."""
        return self._agg(_ddof("stddev", ddof))

    def var(self, ddof: int = 1) -> "Expr":
        return self._agg(_ddof("var", ddof))

    def quantile(self, q: float) -> "Expr":
        return self._agg("quantile_cont", False, float(q))

    def any_value(self) -> "Expr":
        return self._agg("any_value")

    def implode(self) -> "Expr":
        """The values as one list per group, NULLs included (Polars' implode; SQL list(x))."""
        return self._agg("list")

    def agg(self, fn: str, *extra: Any, distinct: bool = False) -> "Expr":
        """Any aggregate function by name (``"bool_and"``, ``"string_agg"``...)."""
        return self._agg(fn, distinct, *extra)

    def filter(self, predicate: Any) -> "Expr":
        """For an aggregation: ``pd.col("x").sum().filter(pd.col("y") > 0)`` (SQL FILTER)."""
        if not self._pb.HasField("agg"):
            raise TypeError("Expr.filter applies to an aggregation (sum, count, ...)")
        agg = pb.AggCall()
        agg.CopyFrom(self._pb.agg)
        agg.filter.CopyFrom(to_expr(predicate, sql_strings=True)._pb)
        return Expr(_pbnew(pb.Expr, agg=agg), self._name)

    # ------------------------------------------------------------ display
    def __repr__(self) -> str:
        return f"<polaroid.Expr {render(self._pb)}{f' AS {self._name}' if self._name else ''}>"


def _fn(name: str, *args: pb.Expr) -> pb.Expr:
    return _pbnew(pb.Expr, call=_pbnew(pb.Call, function=name, args=list(args)))


def _floor_mod(a: pb.Expr, b: pb.Expr) -> pb.Expr:
    """Python's a % b (the sign of b) from the engine's truncating mod: r = a mod b, plus b
    when r is not 0 and its sign differs from b's. Integers stay integers."""
    zero = _pbnew(pb.Expr, literal=pb.Literal(int64_value=0))
    r = _fn("mod", a, b)
    fix = _fn("and", _fn("ne", r, zero), _fn("ne", _fn("lt", r, zero), _fn("lt", b, zero)))
    return _fn("case", fix, _fn("add", r, b), r)


def _floor_div(a: pb.Expr, b: pb.Expr) -> pb.Expr:
    """Python's a // b: (a - a % b) divided by b is exact for integers (the engine's int_div of
    floats is a plain division, so round(.., 0) takes a float quotient to its integer)."""
    q = _fn("int_div", _fn("sub", a, _floor_mod(a, b)), b)
    return _fn("round", q, _pbnew(pb.Expr, literal=pb.Literal(int64_value=0)))


def _ddof(base: str, ddof: int) -> str:
    if ddof == 1:
        return f"{base}_samp" if base == "var" else "stddev_samp"
    if ddof == 0:
        return f"{base}_pop" if base == "var" else "stddev_pop"
    raise ValueError(f"ddof must be 0 or 1, got {ddof}")


class StrNamespace:
    __slots__ = ("_e",)

    def __init__(self, e: Expr) -> None:
        self._e = e

    def lower(self) -> Expr:
        return self._e._call("lower")

    def upper(self) -> Expr:
        return self._e._call("upper")

    def len_chars(self) -> Expr:
        return self._e._call("length")

    len = len_chars

    def contains(self, substring: str) -> Expr:
        """Contains ``substring`` literally (no regex)."""
        return self._e._call("contains", substring)

    def starts_with(self, prefix: str) -> Expr:
        return self._e._call("starts_with", prefix)

    def ends_with(self, suffix: str) -> Expr:
        return self._e._call("ends_with", suffix)

    def strip(self) -> Expr:
        return self._e._call("trim")

    def replace(self, old: str, new: str) -> Expr:
        """Replaces every occurrence of ``old`` (literal) with ``new``."""
        return self._e._call("replace", old, new)

    def slice(self, offset: int, length: Optional[int] = None) -> Expr:
        """Substring from 0-based ``offset``; a negative offset counts from the end (-1: the
        last character), as in Polars. SQL substr is 1-based and counts -1 from the end too."""
        offset = int(offset)
        start = offset + 1 if offset >= 0 else offset
        if length is None:
            return self._e._call("substr", start)
        length = int(length)
        if length < 0:
            raise ValueError(f"str.slice: length must be >= 0, got {length}")
        return self._e._call("substr", start, length)

    def concat(self, *others: Any) -> Expr:
        return self._e._call("concat", *others)


class DtNamespace:
    __slots__ = ("_e",)

    def __init__(self, e: Expr) -> None:
        self._e = e

    def _part(self, part: str) -> Expr:
        return self._e._call(part)

    def year(self) -> Expr:
        return self._part("year")

    def month(self) -> Expr:
        return self._part("month")

    def day(self) -> Expr:
        return self._part("day")

    def hour(self) -> Expr:
        return self._part("hour")

    def minute(self) -> Expr:
        return self._part("minute")

    def second(self) -> Expr:
        return self._part("second")

    def truncate(self, unit: str) -> Expr:
        """``date_trunc(unit, self)``: unit "day", "hour", "minute"..."""
        return Expr(_pbnew(pb.Expr, call=_pbnew(pb.Call, function="date_trunc",
                                         args=[lit(unit)._pb, self._e._pb])), self._e._name)

    def strftime(self, fmt: str) -> Expr:
        return self._e._call("strftime", fmt)


# ---------------------------------------------------------------- constructors


def col(name: str) -> Expr:
    """A column by name; ``"table.column"`` is not split (use ``qualifier=`` via :func:`column`)."""
    if not isinstance(name, str):
        raise TypeError(f"col takes a column name, got {type(name).__name__}")
    return Expr(_pbnew(pb.Expr, column=pb.ColumnRef(name=name)), name)


def column(name: str, qualifier: str = "") -> Expr:
    return Expr(_pbnew(pb.Expr, column=pb.ColumnRef(name=name, qualifier=qualifier)), name)


def sql_expr(text: str) -> Expr:
    """A SQL expression text parsed by the server (``pd.sql_expr("a + b > 3")``)."""
    return Expr.sql(text)


def count() -> Expr:
    """count(*): the number of rows (of each group)."""
    return Expr(_pbnew(pb.Expr, agg=_pbnew(pb.AggCall, function="count")), "count")


def len_() -> Expr:
    """count(*) named "len" (Polars' ``pl.len()``)."""
    return Expr(_pbnew(pb.Expr, agg=_pbnew(pb.AggCall, function="count")), "len")


def coalesce(*exprs: Any) -> Expr:
    es = [to_expr(e) for e in exprs]
    if not es:
        raise ValueError("coalesce needs at least one expression")
    return Expr(_pbnew(pb.Expr, call=_pbnew(pb.Call, function="coalesce", args=[e._pb for e in es])), es[0]._name)


def all_horizontal(*exprs: Any) -> Expr:
    es = [to_expr(e, sql_strings=False) for e in exprs]
    out = es[0]
    for e in es[1:]:
        out = out & e
    return out


def any_horizontal(*exprs: Any) -> Expr:
    es = [to_expr(e, sql_strings=False) for e in exprs]
    out = es[0]
    for e in es[1:]:
        out = out | e
    return out


class _When:
    def __init__(self, branches: list, cond: Any) -> None:
        self._branches = branches
        self._cond = cond

    def then(self, value: Any) -> "_Then":
        return _Then(self._branches + [(to_expr(self._cond, sql_strings=True),
                                        to_expr(value, literal_strings=True))])


class _Then(Expr):
    __slots__ = ("_branches",)

    def __init__(self, branches: list, otherwise: Any = None, has_else: bool = False) -> None:
        args = []
        for c, v in branches:
            args.append(c._pb)
            args.append(v._pb)
        if has_else:
            args.append(to_expr(otherwise, literal_strings=True)._pb)
        super().__init__(_pbnew(pb.Expr, call=_pbnew(pb.Call, function="case", args=args)), branches[0][1]._name)
        self._branches = branches

    def when(self, cond: Any) -> _When:
        return _When(self._branches, cond)

    def otherwise(self, value: Any) -> Expr:
        return Expr(_Then(self._branches, value, True)._pb, self._branches[0][1]._name)


def when(cond: Any) -> _When:
    """``pd.when(cond).then(a).when(cond2).then(b).otherwise(c)`` (SQL CASE)."""
    return _When([], cond)


# ---------------------------------------------------------------- literals


def lit(value: Any, dtype: Any = None) -> Expr:
    """A literal; with ``dtype`` cast to that type (SQL type name or pyarrow type)."""
    e = Expr(_pbnew(pb.Expr, literal=_literal(value)), "literal")
    if dtype is not None:
        e = e.cast(dtype)
    return e


def _literal(v: Any) -> pb.Literal:
    if v is None:
        return pb.Literal(is_null=True)
    if hasattr(v, "item") and not isinstance(v, (str, bytes)) and type(v).__module__ == "numpy":
        v = v.item()  # numpy scalar
    if isinstance(v, bool):
        return pb.Literal(bool_value=v)
    if isinstance(v, int):
        if not -(2**63) <= v < 2**63:
            raise OverflowError(f"integer literal {v} does not fit in int64")
        return pb.Literal(int64_value=v)
    if isinstance(v, float):
        return pb.Literal(float64_value=v)
    if isinstance(v, str):
        return pb.Literal(string_value=v)
    if isinstance(v, (bytes, bytearray, memoryview)):
        return pb.Literal(binary_value=bytes(v))
    if isinstance(v, _dt.datetime):
        if v.tzinfo is not None:
            v = v.astimezone(_dt.timezone.utc).replace(tzinfo=None)
        d = v - _EPOCH_DT
        return pb.Literal(timestamp_us=(d.days * 86400 + d.seconds) * 1_000_000 + d.microseconds)
    if isinstance(v, _dt.date):
        return pb.Literal(date_days=(v - _EPOCH_DATE).days)
    if isinstance(v, _dt.timedelta):
        ns = (v.days * 86400 + v.seconds) * 1_000_000_000 + v.microseconds * 1000
        return pb.Literal(interval_value=pb.Interval(nanos=ns))
    if isinstance(v, _decimal.Decimal):
        raise TypeError("decimal literals: use pd.lit(str(value), dtype='DECIMAL(p,s)')")
    raise TypeError(f"cannot make a polaroid literal from {type(v).__name__}")


def to_expr(v: Any, *, sql_strings: bool = False, literal_strings: bool = False) -> Expr:
    """An Expr from an Expr, a column name (str), or a Python value (a literal).

    Strings are column names by default, SQL expression text with ``sql_strings`` (filter) and
    literals with ``literal_strings`` (the right side of an operator: ``col("s") == "x"``)."""
    if isinstance(v, Expr):
        return v
    if isinstance(v, str):
        if sql_strings:
            return Expr.sql(v)
        if literal_strings:
            return lit(v)
        return col(v)
    return lit(v)


def _type_name(dtype: Any) -> str:
    if isinstance(dtype, str):
        return dtype
    try:
        import pyarrow as pa
    except ImportError:  # pragma: no cover
        pa = None
    if pa is not None and isinstance(dtype, pa.DataType):
        t = pa.types
        simple = [
            (t.is_boolean, "BOOLEAN"), (t.is_int8, "TINYINT"), (t.is_int16, "SMALLINT"),
            (t.is_int32, "INTEGER"), (t.is_int64, "BIGINT"), (t.is_uint8, "UTINYINT"),
            (t.is_uint16, "USMALLINT"), (t.is_uint32, "UINTEGER"), (t.is_uint64, "UBIGINT"),
            (t.is_float32, "FLOAT"), (t.is_float64, "DOUBLE"), (t.is_string, "VARCHAR"),
            (t.is_large_string, "VARCHAR"), (t.is_binary, "BLOB"), (t.is_date32, "DATE"),
        ]
        for pred, name in simple:
            if pred(dtype):
                return name
        if t.is_timestamp(dtype):
            return "TIMESTAMPTZ" if dtype.tz else "TIMESTAMP"
        if t.is_decimal(dtype):
            return f"DECIMAL({dtype.precision},{dtype.scale})"
    if dtype is int:
        return "BIGINT"
    if dtype is float:
        return "DOUBLE"
    if dtype is str:
        return "VARCHAR"
    if dtype is bool:
        return "BOOLEAN"
    raise TypeError(f"cannot cast to {dtype!r}: give a SQL type name such as 'BIGINT'")


# ---------------------------------------------------------------- rendering (repr, explain)

_INFIX = {"add": "+", "sub": "-", "mul": "*", "div": "/", "mod": "%", "int_div": "//", "eq": "=",
          "ne": "<>", "lt": "<", "le": "<=", "gt": ">", "ge": ">=", "and": "AND", "or": "OR"}


def render(e: pb.Expr) -> str:
    """SQL-like text of an expression tree (for repr only)."""
    k = e.WhichOneof("kind")
    if k == "column":
        return e.column.name if not e.column.qualifier else f"{e.column.qualifier}.{e.column.name}"
    if k == "literal":
        lv = e.literal
        w = lv.WhichOneof("value")
        if w is None or w == "is_null":
            return "NULL"
        val = getattr(lv, w)
        if w == "string_value":
            return "'" + val.replace("'", "''") + "'"
        return repr(val)
    if k == "sql":
        return f"({e.sql})"
    if k == "cast":
        return f"{'TRY_CAST' if e.cast.try_cast else 'CAST'}({render(e.cast.expr)} AS {e.cast.type})"
    if k == "call":
        fn, args = e.call.function, [render(a) for a in e.call.args]
        if fn in _INFIX and len(args) == 2:
            return f"({args[0]} {_INFIX[fn]} {args[1]})"
        if fn == "not" and len(args) == 1:
            return f"(NOT {args[0]})"
        return f"{fn}({', '.join(args)})"
    if k == "agg":
        a = e.agg
        inner = ", ".join(render(x) for x in a.args) or "*"
        s = f"{a.function}({'DISTINCT ' if a.distinct else ''}{inner})"
        if a.HasField("filter"):
            s += f" FILTER (WHERE {render(a.filter)})"
        return s
    return "?"


def as_exprs(items: Sequence[Any], named: dict, *, sql_strings: bool = False) -> list:
    """NamedExprs from positional items (Expr, column name, or lists of them) and name=expr."""
    out = []
    for it in items:
        if isinstance(it, (list, tuple)):
            out.extend(as_exprs(it, {}, sql_strings=sql_strings))
        else:
            out.append(to_expr(it, sql_strings=sql_strings).to_named())
    for name, it in named.items():
        out.append(to_expr(it, literal_strings=False).alias(name).to_named())
    return out
