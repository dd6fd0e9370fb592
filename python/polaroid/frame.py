"""The lazy DataFrame proxy.

A :class:`DataFrame` is a ``polaroid.v1.Relation`` tree built locally, plus the connection that
runs it. Its Polars-style methods (select, filter, with_columns, group_by().agg(), join, sort,
unique, head, limit, slice, rename, drop) return new DataFrames without talking to the server;
``collect()`` and the other terminal methods send the whole plan in one request.

Plan building is independent of the transport: the terminal methods call the connection's
``_df_*`` methods (the sync :class:`polaroid.Client` implements them), so other clients (the async
one) can build on the same DataFrame and hand ``df.plan`` to their own calls.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Dict, Iterable, Iterator, List, Optional, Sequence, Tuple, Union

from ._proto import polaroid_pb2 as pb
from ._pb import extend as _pbextend, new as _pbnew
from .expr import Expr, as_exprs, col, to_expr

if TYPE_CHECKING:  # pragma: no cover
    import pyarrow as pa

__all__ = ["DataFrame", "GroupBy"]

_JOIN_TYPES = {
    "inner": pb.Join.JOIN_INNER,
    "left": pb.Join.JOIN_LEFT,
    "right": pb.Join.JOIN_RIGHT,
    "full": pb.Join.JOIN_FULL,
    "outer": pb.Join.JOIN_FULL,
    "semi": pb.Join.JOIN_SEMI,
    "anti": pb.Join.JOIN_ANTI,
    "cross": pb.Join.JOIN_CROSS,
    "asof": pb.Join.JOIN_ASOF,
    "asof_left": pb.Join.JOIN_ASOF_LEFT,
}

_ASOF_OPS = {">=": pb.Join.ASOF_GE, ">": pb.Join.ASOF_GT, "<=": pb.Join.ASOF_LE, "<": pb.Join.ASOF_LT}

_FORMATS = {
    None: pb.ReadFiles.FORMAT_AUTO,
    "auto": pb.ReadFiles.FORMAT_AUTO,
    "parquet": pb.ReadFiles.FORMAT_PARQUET,
    "csv": pb.ReadFiles.FORMAT_CSV,
    "ipc": pb.ReadFiles.FORMAT_IPC,
    "arrow": pb.ReadFiles.FORMAT_IPC,
    "feather": pb.ReadFiles.FORMAT_IPC,
}


def _names(items: Any, what: str) -> List[str]:
    if items is None:
        return []
    if isinstance(items, str):
        return [items]
    out = []
    for it in items:
        if isinstance(it, (list, tuple)):
            out.extend(_names(it, what))
        elif isinstance(it, str):
            out.append(it)
        elif isinstance(it, Expr) and it.proto.WhichOneof("kind") == "column":
            out.append(it.proto.column.name)
        else:
            raise TypeError(f"{what}: expected column names, got {type(it).__name__}")
    return out


def _has_agg(e: pb.Expr) -> bool:
    k = e.WhichOneof("kind")
    if k == "agg":
        return True
    if k == "call":
        return any(_has_agg(a) for a in e.call.args)
    if k == "cast":
        return _has_agg(e.cast.expr)
    return False


def _flatten(items: Sequence[Any]) -> List[Any]:
    out: List[Any] = []
    for it in items:
        if isinstance(it, (list, tuple)):
            out.extend(_flatten(it))
        else:
            out.append(it)
    return out


class DataFrame:
    """A lazy query on a polaroid server. Methods build the plan; ``collect()`` runs it."""

    __slots__ = ("_rel", "_client", "_deps", "__weakref__")

    def __init__(self, relation: pb.Relation, client: Any = None, deps: Tuple[Any, ...] = ()) -> None:
        self._rel = relation
        self._client = client
        self._deps = deps  # objects that must outlive this frame (handles it reads)

    # ------------------------------------------------------------ plan access
    @property
    def relation(self) -> pb.Relation:
        return self._rel

    @property
    def plan(self) -> pb.Plan:
        """The ``polaroid.v1.Plan`` this DataFrame sends."""
        return _pbnew(pb.Plan, root=self._rel)

    @property
    def client(self) -> Any:
        if self._client is None:
            from .client import get_default

            self._client = get_default()
        return self._client

    def _derive(self, rel: pb.Relation, *others: "DataFrame") -> "DataFrame":
        deps = self._deps
        client = self._client
        for o in others:
            if o._deps:
                deps = deps + o._deps
            if client is None:
                client = o._client
            elif o._client is not None and o._client is not client:
                raise ValueError("cannot combine DataFrames of two different connections")
        return DataFrame(rel, client, deps)

    # ------------------------------------------------------------ lazy operations
    def select(self, *exprs: Any, **named: Any) -> "DataFrame":
        """Columns or expressions: ``df.select("a", pd.col("b") * 2, c=pd.col("x").abs())``.
        Strings are column names (use ``pd.sql_expr`` for SQL text)."""
        items = as_exprs(exprs, named)
        if not items:
            raise ValueError("select needs at least one column or expression")
        if all(_has_agg(ne.expr) for ne in items):
            # Polars' df.select(pl.col("x").sum(), ...): one row of aggregates
            return self._derive(_pbnew(pb.Relation, aggregate=_pbnew(pb.Aggregate, input=self._rel, aggs=items)))
        return self._derive(_pbnew(pb.Relation, select=_pbnew(pb.Select, input=self._rel, exprs=items)))

    def filter(self, *predicates: Any) -> "DataFrame":
        """Rows where every predicate is true: an Expr, or SQL text such as ``"col1 > 100"``."""
        preds = [to_expr(p, sql_strings=True) for p in _flatten(predicates)]
        if not preds:
            raise ValueError("filter needs a predicate")
        p = preds[0]
        for q in preds[1:]:
            p = p & q
        return self._derive(_pbnew(pb.Relation, filter=_pbnew(pb.Filter, input=self._rel, predicate=p.proto)))

    where = filter

    def with_columns(self, *exprs: Any, **named: Any) -> "DataFrame":
        """Adds columns, or replaces same-named ones in place."""
        items = as_exprs(exprs, named)
        if not items:
            return self
        return self._derive(_pbnew(pb.Relation, with_columns=_pbnew(pb.WithColumns, input=self._rel, exprs=items)))

    with_column = with_columns

    def group_by(self, *keys: Any, maintain_order: bool = False) -> "GroupBy":
        """``df.group_by("sym").agg(pd.col("px").mean())``; output: keys, then aggregates.
        The order of the groups is unspecified (sort the result when it matters)."""
        return GroupBy(self, as_exprs(keys, {}))

    groupby = group_by

    def agg(self, *aggs: Any, **named: Any) -> "DataFrame":
        """Aggregates over the whole frame (one row)."""
        return GroupBy(self, []).agg(*aggs, **named)

    def join(
        self,
        other: "DataFrame",
        on: Union[str, Sequence[str], None] = None,
        how: str = "inner",
        *,
        left_on: Any = None,
        right_on: Any = None,
        suffix: str = "_right",
        nulls_equal: bool = False,
        asof_op: str = ">=",
    ) -> "DataFrame":
        """Joins with another DataFrame of the same connection. ``how``: inner, left, right,
        full (outer), semi, anti, cross, asof, asof_left. Key columns named by ``on`` appear
        once. As-of joins: the last key is compared with ``asof_op`` (left OP right: ">=" takes
        the latest right row at or before the left one; ">", "<=", "<"), the others are
        equalities; ties go to the first right row."""
        if not isinstance(other, DataFrame):
            raise TypeError(f"join: expected a polaroid DataFrame, got {type(other).__name__}")
        t = _JOIN_TYPES.get(how)
        if t is None:
            raise ValueError(f"join: unknown how={how!r} (one of {', '.join(_JOIN_TYPES)})")
        op = _ASOF_OPS.get(asof_op)
        if op is None:
            raise ValueError(f"join: unknown asof_op={asof_op!r} (one of {', '.join(_ASOF_OPS)})")
        j = _pbnew(pb.Join, left=self._rel, right=other._rel, type=t, suffix=suffix, null_equal=nulls_equal,
                   asof_op=op)
        if how == "cross":
            if on is not None or left_on is not None or right_on is not None:
                raise ValueError("join: a cross join takes no keys")
        elif on is not None:
            if left_on is not None or right_on is not None:
                raise ValueError("join: give either on or left_on/right_on")
            j.on.extend(_names(on, "join on"))
        else:
            if left_on is None or right_on is None:
                raise ValueError("join: give on, or both left_on and right_on")
            lo = [to_expr(x) for x in _flatten([left_on])]
            ro = [to_expr(x) for x in _flatten([right_on])]
            if len(lo) != len(ro):
                raise ValueError("join: left_on and right_on need the same number of keys")
            _pbextend(j.left_on, (e.proto for e in lo))
            _pbextend(j.right_on, (e.proto for e in ro))
        return self._derive(_pbnew(pb.Relation, join=j), other)

    def cross_join(self, other: "DataFrame") -> "DataFrame":
        return self.join(other, how="cross")

    def sort(
        self,
        by: Any,
        *more_by: Any,
        descending: Union[bool, Sequence[bool]] = False,
        nulls_last: Union[None, bool, Sequence[Optional[bool]]] = None,
    ) -> "DataFrame":
        """Sorts by columns or expressions. ``nulls_last``: None = SQL's default (NULLs last
        ascending, first descending), True/False to force; both also take one value per key."""
        keys = [to_expr(k) for k in _flatten([by, *more_by])]
        if not keys:
            raise ValueError("sort needs at least one key")
        n = len(keys)
        desc = list(descending) if isinstance(descending, (list, tuple)) else [descending] * n
        nl = list(nulls_last) if isinstance(nulls_last, (list, tuple)) else [nulls_last] * n
        if len(desc) != n or len(nl) != n:
            raise ValueError("sort: descending and nulls_last need one value per key")
        sk = []
        for k, d, z in zip(keys, desc, nl):
            nulls = (pb.SortKey.NULLS_DEFAULT if z is None
                     else pb.SortKey.NULLS_LAST if z else pb.SortKey.NULLS_FIRST)
            sk.append(_pbnew(pb.SortKey, expr=k.proto, descending=bool(d), nulls=nulls))
        return self._derive(_pbnew(pb.Relation, sort=_pbnew(pb.Sort, input=self._rel, keys=sk)))

    def unique(self, subset: Union[str, Sequence[str], None] = None, *, keep: str = "first",
               maintain_order: bool = True) -> "DataFrame":
        """Distinct rows; with ``subset``, one row per distinct subset (the first in input
        order; ``keep`` must be "first" or "any")."""
        if keep not in ("first", "any"):
            raise ValueError("unique: keep must be 'first' or 'any'")
        return self._derive(_pbnew(pb.Relation, distinct=_pbnew(pb.Distinct, input=self._rel,
                                                              subset=_names(subset, "unique"))))

    distinct = unique

    def slice(self, offset: int, length: Optional[int] = None) -> "DataFrame":
        """Rows ``offset`` to ``offset + length`` (all when length is None)."""
        offset = int(offset)
        if offset < 0:
            raise ValueError("slice: a negative offset needs the row count; use len(df) - k")
        lim = -1 if length is None else int(length)
        if lim < -1:
            raise ValueError("slice: length must be >= 0")
        return self._derive(_pbnew(pb.Relation, limit=_pbnew(pb.Limit, input=self._rel, offset=offset, limit=lim)))

    def limit(self, n: int = 5) -> "DataFrame":
        n = int(n)
        if n < 0:
            raise ValueError("limit: n must be >= 0")
        return self.slice(0, n)

    def head(self, n: int = 5) -> "DataFrame":
        return self.limit(n)

    def rename(self, mapping: Dict[str, str]) -> "DataFrame":
        if not isinstance(mapping, dict):
            raise TypeError("rename takes a dict {old: new}")
        return self._derive(_pbnew(pb.Relation, rename=_pbnew(pb.Rename, input=self._rel,
                                                         old_names=list(mapping.keys()),
                                                         new_names=list(mapping.values()))))

    def drop(self, *columns: Any) -> "DataFrame":
        names = _names(columns, "drop")
        if not names:
            return self
        return self._derive(_pbnew(pb.Relation, drop=_pbnew(pb.Drop, input=self._rel, columns=names)))

    def union(self, *others: "DataFrame", distinct: bool = False) -> "DataFrame":
        """Rows of this frame then the others' (by position; UNION ALL unless distinct)."""
        rels = [self._rel] + [o._rel for o in others]
        return self._derive(_pbnew(pb.Relation, union=_pbnew(pb.Union, inputs=rels, distinct=distinct)), *others)

    def lazy(self) -> "DataFrame":
        return self

    # ------------------------------------------------------------ terminal: results
    def collect(self, *, timeout: Optional[float] = None,
                keep_dictionaries: Optional[bool] = None) -> "pa.Table":
        """Runs the plan; the result as a pyarrow Table. ``keep_dictionaries``: dictionary
        columns as Arrow dictionaries (default: the client's setting, off)."""
        return self.client._df_collect(self, timeout=timeout, keep_dictionaries=keep_dictionaries)

    def to_arrow(self, *, timeout: Optional[float] = None) -> "pa.Table":
        return self.collect(timeout=timeout)

    def to_pandas(self, **kwargs: Any) -> Any:
        """The result as a pandas DataFrame (``pyarrow.Table.to_pandas`` arguments apply)."""
        return self.collect().to_pandas(**kwargs)

    def to_polars(self) -> Any:
        """The result as a Polars DataFrame (zero-copy where the types allow)."""
        import polars

        return polars.from_arrow(self.collect())

    def to_numpy(self, *, as_dict: bool = False) -> Any:
        """The result as NumPy: by default a 2-D array (rows x columns) with the common dtype of
        the columns (object when they are mixed, e.g. numbers and strings); with
        ``as_dict=True`` a dict of column name -> 1-D array of its own dtype (zero-copy for
        numeric columns without NULLs)."""
        import numpy as np

        t = self.collect()
        cols = {name: t.column(i).to_numpy() for i, name in enumerate(t.column_names)}
        if as_dict:
            return cols
        if not cols:
            return np.empty((t.num_rows, 0))
        return np.column_stack(list(cols.values()))

    def iter_batches(self, *, max_message_bytes: int = 0, timeout: Optional[float] = None,
                     keep_dictionaries: Optional[bool] = None) -> Iterator["pa.RecordBatch"]:
        """Streams the result's RecordBatches as the server produces them. Closing the iterator
        early (break, ``.close()``) cancels the query on the server."""
        return self.client._df_iter_batches(self, max_message_bytes=max_message_bytes,
                                            timeout=timeout, keep_dictionaries=keep_dictionaries)

    def to_reader(self, *, timeout: Optional[float] = None) -> "pa.RecordBatchReader":
        """A pyarrow RecordBatchReader over the streamed result."""
        return self.client._df_reader(self, timeout=timeout)

    def __arrow_c_stream__(self, requested_schema: Any = None) -> Any:
        """The Arrow PyCapsule stream interface: ``pyarrow.table(df)``, ``polars.DataFrame(df)``
        and DuckDB read the result as it streams from the server."""
        return self.to_reader().__arrow_c_stream__(requested_schema)

    # ------------------------------------------------------------ terminal: metadata
    @property
    def schema(self) -> "pa.Schema":
        """The result's schema (the Schema call; the plan is not run)."""
        return self.client._df_schema(self)

    @property
    def columns(self) -> List[str]:
        return list(self.schema.names)

    @property
    def dtypes(self) -> List["pa.DataType"]:
        return list(self.schema.types)

    @property
    def width(self) -> int:
        return len(self.schema)

    @property
    def shape(self) -> Tuple[int, int]:
        return (len(self), self.width)

    def count_rows(self, *, timeout: Optional[float] = None) -> int:
        """The number of rows (a count(*) query)."""
        return self.client._df_count(self, timeout=timeout)

    def __len__(self) -> int:
        # len() must return an int at once: a client that cannot (the asyncio one) says what to
        # use instead rather than handing back a coroutine
        hook = getattr(self.client, "_df_len", None)
        if hook is not None:
            return hook(self)
        return self.count_rows()

    def height(self) -> int:  # pragma: no cover - Polars' name (a property there)
        return self.count_rows()

    def explain(self, optimized: bool = True, analyze: bool = False) -> str:
        """The plan as text: logical (optimized=False), optimized, or run with per-operator rows
        and times (analyze=True)."""
        return self.client._df_explain(self, optimized=optimized, analyze=analyze)

    def describe(self) -> "pa.Table":
        """Summary statistics per column: a table with a "statistic" column (count, null_count,
        mean, std, min, max) and one text column per input column."""
        return self.client._df_describe(self)

    # ------------------------------------------------------------ terminal: writes
    def write_parquet(self, path: str, *, compression: Optional[str] = None,
                      row_group_size: Optional[int] = None, overwrite: bool = True) -> Any:
        """Runs the plan and writes the result on the server, under its data root."""
        return self.client._df_write(self, path, "parquet", compression=compression,
                                     row_group_size=row_group_size, overwrite=overwrite)

    def write_csv(self, path: str, *, overwrite: bool = True) -> Any:
        return self.client._df_write(self, path, "csv", overwrite=overwrite)

    def write_ipc(self, path: str, *, compression: Optional[str] = None, overwrite: bool = True) -> Any:
        return self.client._df_write(self, path, "ipc", compression=compression, overwrite=overwrite)

    # ------------------------------------------------------------ handles
    def cache(self, *, ttl: Optional[float] = None) -> "DataFrame":
        """Runs the plan now and keeps the result on the server behind a handle; the returned
        DataFrame reads it. The client renews the handle while any DataFrame built on it is
        alive, and drops it when the last one is garbage collected (or on ``unpersist``)."""
        return self.client._df_persist(self, materialize=True, ttl=ttl)

    def persist(self, *, materialize: bool = True, ttl: Optional[float] = None) -> "DataFrame":
        """Stores this DataFrame behind a handle: materialised (as ``cache``) or, with
        ``materialize=False``, as a lazy plan the server keeps."""
        return self.client._df_persist(self, materialize=materialize, ttl=ttl)

    @property
    def handle(self) -> Any:
        """The Handle this frame reads directly (a cached frame), or None."""
        if self._rel.WhichOneof("rel") == "handle":
            for d in self._deps:
                if getattr(d, "id", None) == self._rel.handle.id:
                    return d
        return None

    def unpersist(self) -> None:
        """Drops the handle this cached frame reads (frames built on it stop working)."""
        h = self.handle
        if h is not None:
            h.drop()

    # ------------------------------------------------------------ display
    def __repr__(self) -> str:
        client = self._client
        if client is None:
            try:
                client = self.client
            except Exception:  # pragma: no cover
                client = None
        if client is None or not hasattr(client, "_df_preview"):
            return f"<polaroid.DataFrame {self._rel.WhichOneof('rel')}>"
        try:
            return client._df_preview(self)
        except Exception as e:  # repr must not raise
            return f"<polaroid.DataFrame (error: {e})>"

    def __bool__(self) -> bool:
        raise TypeError("the truth value of a polaroid DataFrame is ambiguous")

    def __getitem__(self, item: Any) -> "DataFrame":
        if isinstance(item, str):
            return self.select(item)
        if isinstance(item, (list, tuple)):
            return self.select(*item)
        if isinstance(item, slice):
            if item.step not in (None, 1):
                raise ValueError("slices with a step are not supported")
            start = item.start or 0
            if item.stop is None:
                return self.slice(start)
            return self.slice(start, max(0, item.stop - start))
        raise TypeError(f"cannot index a DataFrame with {type(item).__name__}")


class GroupBy:
    """The pending ``group_by``: call ``agg``."""

    __slots__ = ("_df", "_keys")

    def __init__(self, df: DataFrame, keys: list) -> None:
        self._df = df
        self._keys = keys

    def agg(self, *aggs: Any, **named: Any) -> DataFrame:
        items = as_exprs(aggs, named)
        if not items and not self._keys:
            raise ValueError("agg needs at least one aggregation")
        return self._df._derive(_pbnew(pb.Relation, aggregate=_pbnew(pb.Aggregate, input=self._df._rel,
                                                                    keys=self._keys, aggs=items)))

    def len(self, name: str = "len") -> DataFrame:
        """Rows per group (count(*)) as column ``name``."""
        from .expr import len_

        return self.agg(len_().alias(name))

    count = len

    def sum(self, *columns: str) -> DataFrame:  # pragma: no cover - convenience
        return self.agg(*[col(c).sum() for c in columns])


# ---------------------------------------------------------------- sources (no server needed)


def read_files_relation(paths: Union[str, Iterable[str]], fmt: Optional[str],
                        csv: Optional[pb.CsvOptions] = None) -> pb.Relation:
    import os

    if isinstance(paths, (str, os.PathLike)):
        plist = [os.fspath(paths)]
    else:
        plist = [os.fspath(p) for p in paths]
    if not plist:
        raise ValueError("read: no paths given")
    f = _FORMATS.get(fmt)
    if f is None:
        raise ValueError(f"unknown format {fmt!r}")
    rf = _pbnew(pb.ReadFiles, format=f, paths=plist)
    if csv is not None:
        rf.csv.CopyFrom(csv)
    return _pbnew(pb.Relation, read=rf)


def sql_relation(query: str, frames: Dict[str, DataFrame]) -> pb.Relation:
    if not isinstance(query, str):
        raise TypeError("sql takes the query text")
    inputs = []
    for name, df in frames.items():
        if not isinstance(df, DataFrame):
            raise TypeError(f"sql: {name}= must be a polaroid DataFrame, got {type(df).__name__}")
        inputs.append(_pbnew(pb.NamedRelation, name=name, relation=df._rel))
    return _pbnew(pb.Relation, sql=_pbnew(pb.SqlQuery, query=query, inputs=inputs))
